#!/usr/bin/env bash
# While prune() deletes a large backlog, pgbench keeps inserting current rows
# from two other sessions.  Afterwards no row inside the window is missing and
# every old row is gone.  (Insert latency during a prune is measured by the
# retention benchmark, not asserted here.)
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
source "$here/test/lib/scratch_db.sh"
scratch_db nz_concurrency
q -c "INSERT INTO verification_log (user_id, group_id, status, latency_ms, \"timestamp\")
      SELECT g, g % 50, 'verified', g % 300, now() - interval '91 days' - (g % 86400) * interval '1 second'
      FROM generate_series(1, 300000) g" \
  -c "INSERT INTO verification_log (user_id, group_id, status, latency_ms, \"timestamp\")
      SELECT g, g % 50, 'restricted', g % 300, now() - (g % 86400) * interval '1 second' FROM generate_series(1, 20000) g" \
  -c "VACUUM ANALYZE verification_log" >/dev/null
cat > "$work/insert.sql" <<'SQL'
\set user_id random(1, 1000000)
INSERT INTO verification_log (user_id, group_id, status, latency_ms, "timestamp") VALUES (:user_id, 7, 'verified', 42, now());
SQL

pgbench -n -c 2 -j 2 -T 8 -f "$work/insert.sql" "$db" > "$work/pgbench.log" 2>&1 &
bench=$!
sleep 1
q -c "CALL nezuko_analytics.prune(batch_size => 5000)" > "$work/prune.log" 2>&1; prune_rc=$?
wait $bench; bench_rc=$?
inserted="$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$work/pgbench.log")"

check_eq "prune ran to the end while inserts went on" "0" "$prune_rc"
check_eq "pgbench inserted without errors" "0:0" "$bench_rc:$(sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$work/pgbench.log" | head -1)$([[ -z "$(grep 'failed transactions' "$work/pgbench.log")" ]] && echo 0)"
check_match "pgbench inserted rows during the prune" "^[1-9][0-9]*$" "${inserted:-none}"
check_eq "every row inserted during the prune is there" "${inserted:-none}" "$(q -c "SELECT count(*) FROM verification_log WHERE group_id = 7 AND latency_ms = 42")"
check_eq "every row inside the window is there" "$((20000 + ${inserted:-0}))" "$(q -c "SELECT count(*) FROM verification_log WHERE \"timestamp\" >= now() - interval '90 days'")"
check_eq "every old row is gone" "0" "$(q -c "SELECT count(*) FROM verification_log WHERE \"timestamp\" < now() - interval '90 days'")"
check_match "the run is logged: ok, 300000 rows, in batches" "^ok\|300000\|6[0-9]$" \
    "$(q -c "SELECT status || '|' || rows_deleted || '|' || batches FROM nezuko_analytics.retention_runs WHERE table_name = 'verification_log'")"

checks_summary concurrency
