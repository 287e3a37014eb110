#!/usr/bin/env bash
# The native reads of the contracts see exactly the rows their snapshot sees
# while other sessions insert and delete.  The table is vacuumed first, so
# its pages are all-visible with free space; pgbench then inserts rows into
# that free space and deletes others, clearing visibility-map bits under the
# readers' feet.  Each check is one REPEATABLE READ transaction comparing the
# native counts with plain queries over the same snapshot: every choice of
# columns (index-only, one index per column, the table's pages), the API
# calls by method and the top groups.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
source "$here/test/lib/scratch_db.sh"
scratch_db nz_native_reads
q -c "INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, \"timestamp\")
      SELECT g, g % 40, (ARRAY['verified', 'verified', 'restricted', 'error'])[g % 4 + 1],
             CASE WHEN g % 13 = 0 THEN NULL ELSE g % 900 END, g % 5 < 2,
             now() - interval '8 days' + g * interval '3 seconds'
      FROM generate_series(1, 200000) g" \
  -c "INSERT INTO api_call_log (method, success, \"timestamp\")
      SELECT 'm' || (g % 6), g % 10 <> 0, now() - interval '8 days' + g * interval '15 seconds' FROM generate_series(1, 40000) g" \
  -c "DELETE FROM verification_log WHERE id % 3 = 0" -c "DELETE FROM api_call_log WHERE id % 3 = 0" \
  -c "VACUUM ANALYZE verification_log, api_call_log" >/dev/null
all_visible="$(q -c "SELECT relallvisible > 0.9 * relpages FROM pg_class WHERE relname = 'verification_log'")"
check_eq "after VACUUM the table's pages are all-visible" "t" "$all_visible"

q -f "$here/test/reference/native_reads_reference.sql" >/dev/null
q <<'SQL' >/dev/null
-- One snapshot, every way of reading: 't' when all agree, 'n' when a native read stepped aside.
CREATE FUNCTION native_agrees(since timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    WITH cols(s, c, l) AS (VALUES (true, false, false), (false, true, false), (true, true, false), (true, true, true)),
    pairs(n, q) AS (
        SELECT to_jsonb(nezuko_analytics.native_verification_counts('public', since, 'infinity', 'infinity', s, c, l))::text,
               to_jsonb(nz_native_reference.query_counts(since, 'infinity', 'infinity', s, c, l))::text FROM cols
        UNION ALL
        SELECT nz_native_reference.native_api(since, 'infinity')::text, nz_native_reference.query_api(since, 'infinity')::text
        UNION ALL
        SELECT nz_native_reference.native_groups(since, 'infinity', 10), nz_native_reference.query_groups(since, 'infinity', 10))
    SELECT CASE WHEN bool_or(n IS NULL)
                  OR (SELECT methods IS NULL FROM nezuko_analytics.native_api_counts('public', since, 'infinity')) THEN 'n'
                WHEN bool_and(n = q) THEN 't' ELSE 'f' END
    FROM pairs $$;
SQL

cat > "$work/churn.sql" <<'SQL'
\set user_id random(10000000, 11000000)
\set age random(0, 600000)
\set victim random(1, 200000)
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
VALUES (:user_id, :user_id % 40, CASE WHEN :user_id % 3 = 0 THEN 'error' ELSE 'verified' END, :user_id % 700, :user_id % 2 = 0,
        now() - :age * interval '1 second');
DELETE FROM verification_log WHERE id = :victim;
INSERT INTO api_call_log (method, success, "timestamp") VALUES ('m' || (:user_id % 6), :user_id % 7 <> 0, now() - :age * interval '1 second');
SQL

pages_before="$(q -c "SELECT pg_relation_size('verification_log') / current_setting('block_size')::int")"
pgbench -n -c 2 -j 2 -T 14 -f "$work/churn.sql" "$db" > "$work/pgbench.log" 2>&1 &
bench=$!
checks=0 agreed=0 stepped_aside=0
while kill -0 "$bench" 2>/dev/null; do
    r="$(q -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT native_agrees(now() - interval '7 days')" -c "COMMIT" 2>&1)"
    checks=$((checks + 1))
    [[ "$r" == t ]] && agreed=$((agreed + 1))
    [[ "$r" == n ]] && stepped_aside=$((stepped_aside + 1))
    [[ "$r" != t && "$r" != n ]] && echo "# check $checks: $r"
done
wait "$bench"; bench_rc=$?
echo "# $checks checks while pgbench ran"
churned="$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$work/pgbench.log")"

check_eq "pgbench inserted and deleted without errors" "0" "$bench_rc"
check_match "pgbench changed rows during the checks" "^[1-9][0-9]*$" "${churned:-none}"
check_match "checks ran while rows changed" "^([1-9][0-9]+)$" "$checks"
check_eq "no native read stepped aside" "0" "$stepped_aside"
check_eq "every check: native reads equal the queries over the same snapshot" "$checks" "$agreed"
check_eq "inserts went into the free space of pages that were all-visible" "t" \
    "$(q -c "SELECT count(*) > 0 FROM verification_log WHERE user_id >= 10000000 AND (ctid::text::point)[0] < $pages_before")"

checks_summary native_reads
