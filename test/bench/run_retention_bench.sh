#!/usr/bin/env bash
# Retention benchmark: prune() against one plain DELETE, each removing the
# rows older than 90 days (2.5M of 10M by default) while pgbench keeps
# inserting current rows.  Prints total time, WAL written and the p99 and
# worst latency of the inserts that ran during the deletion.  Not a test.
#   bash test/bench/run_retention_bench.sh [VERIFICATION_ROWS]
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$here"
vrows="${1:-10000000}"
rate="${BENCH_INSERT_RATE:-200}"   # inserts per second, from 2 clients

source test/bench/bench_setup.sh
bench_start 54332 postgres 'max_wal_size = 8GB'
q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

q -d postgres -c "CREATE DATABASE nz_prune" >/dev/null
q -d nz_prune -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" >/dev/null 2>&1
q -d nz_prune -c "CREATE TABLE nz_indexes AS SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'" \
  -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP; END\$\$"
echo "generating $vrows verification rows over 120 days ..." >&2
q -d nz_prune -v vrows="$vrows" -v arows=0 -v groups=2000 -v anchor="'$(q -d postgres -c "SELECT now()")'" -f test/data/generate_sample.sql >/dev/null
q -d nz_prune -c "DO \$\$DECLARE r record; BEGIN FOR r IN SELECT * FROM nz_indexes LOOP EXECUTE r.indexdef; END LOOP; END\$\$" -c "VACUUM ANALYZE" -c "CHECKPOINT"
q -d postgres -c "CREATE DATABASE nz_delete TEMPLATE nz_prune" >/dev/null
old_rows="$(q -d nz_prune -c "SELECT count(*) FROM verification_log WHERE \"timestamp\" < now() - interval '90 days'")"

work="$(pg_make_dir)"
cat > "$work/insert.sql" <<'SQL'
\set user_id random(1, 1000000)
INSERT INTO verification_log (user_id, group_id, status, latency_ms, "timestamp") VALUES (:user_id, 7, 'verified', 42, now());
SQL
[[ "$(id -u)" == 0 ]] && chown -R "$PG_OS_USER" "$work"

# measure NAME DB SQL -> one Markdown row
measure() {
    local name="$1" db="$2" sql="$3"
    rm -f "$work"/pgbench_log.*
    (cd "$work" && as_pg pgbench -n -c 2 -j 2 -R "$rate" -T 600 -l -f insert.sql -h "$PGHOST" -p "$PGPORT" -U postgres "$db" >/dev/null 2>&1) &
    local bench=$!
    # The same starting point for both: the first change to each page after a
    # checkpoint writes a full-page image (CREATE DATABASE ... TEMPLATE had
    # just written every page of the copy to WAL).
    q -d "$db" -c "CHECKPOINT" >/dev/null
    sleep 3
    local lsn0 t0 t1 lsn1
    lsn0="$(q -d "$db" -c "SELECT pg_current_wal_lsn()")"
    t0="$(date +%s.%N)"
    q -d "$db" -c "$sql" >/dev/null
    t1="$(date +%s.%N)"
    lsn1="$(q -d "$db" -c "SELECT pg_current_wal_lsn()")"
    sleep 1
    # SIGTERM: a background job of a non-interactive shell ignores SIGINT
    pkill -TERM -f "pgbench -n -c 2 -j 2 -R $rate" || true
    wait $bench || true
    # pgbench -l: client tx latency_us script epoch_s epoch_us (completion time)
    local stats
    stats="$(cat "$work"/pgbench_log.* | awk -v t0="$t0" -v t1="$t1" '{ done = $5 + $6 / 1e6; start = done - $3 / 1e6;
                 if (done >= t0 && start <= t1) print $3 / 1000 }' | sort -n | awk '{ v[NR] = $1 } END {
                 if (NR == 0) { print "0|-|-"; exit }
                 i = int(NR * 0.99); if (i < 1) i = 1; printf "%d|%.1f|%.1f", NR, v[i], v[NR] }')"
    printf '| %s | %.1f | %s | %s | %s | %s |\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
        "$(q -d "$db" -c "SELECT round(pg_wal_lsn_diff('$lsn1', '$lsn0') / 1048576.0)")" \
        "$(cut -d'|' -f1 <<<"$stats")" "$(cut -d'|' -f2 <<<"$stats")" "$(cut -d'|' -f3 <<<"$stats")"
}

echo "Deleting the $old_rows rows older than 90 days of $vrows verification_log rows while pgbench inserts $rate rows/s from 2 clients; $(nproc) cores, PostgreSQL $(q -d postgres -c 'SHOW server_version')."
echo
echo "| method | seconds | WAL MB | inserts during | insert p99 ms | insert worst ms |"
echo "|---|---:|---:|---:|---:|---:|"
measure "CALL nezuko_analytics.prune() (batches of 10,000, COMMIT between)" nz_prune "CALL nezuko_analytics.prune()"
measure "one plain DELETE ... WHERE timestamp < now() - 90 days" nz_delete "DELETE FROM verification_log WHERE \"timestamp\" < now() - interval '90 days'"
rm -rf "$work"
