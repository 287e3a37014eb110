#!/usr/bin/env bash
# Rollups on a real server (docs/rollups.md): pg_cron runs the refresh job
# that enable_rollups() schedules; pgbench writes current and late rows and
# deletes while refresh_rollups() runs every second and REPEATABLE READ
# sessions check, on one snapshot, that every materialized quarter hour that
# is not pending equals the raw rows; a second concurrent refresh skips; and
# a dump with rollups on restores complete, triggers included.  Needs the
# throwaway server (pg_cron preloaded, cron.database_name = nz_test,
# cron.use_background_workers = on) with nezuko_analytics installed.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
db=nz_test
dump_db="nz_rollups_dump_$$"
restored_db="nz_rollups_restored_$$"
work="$(mktemp -d)"
chmod 755 "$work"
q() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() {
    q -c "SELECT count(*) FROM nezuko_analytics.disable_rollups()" -c "SELECT nezuko_analytics.unschedule_retention()" \
      -c "DROP EXTENSION IF EXISTS nezuko_analytics" -c "DROP SCHEMA IF EXISTS rollit CASCADE" \
      -c "DROP SCHEMA IF EXISTS rollup_check CASCADE" >/dev/null 2>&1
    psql -qX -d postgres -c "DROP DATABASE IF EXISTS $dump_db" -c "DROP DATABASE IF EXISTS $restored_db" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION nezuko_analytics" -c "CREATE SCHEMA rollit" \
  -c "SELECT count(*) FROM nezuko_analytics.apply_schema('rollit')" -f "$here/test/lib/rollup_checks.sql" >/dev/null 2>&1 || exit 1
q -c "INSERT INTO rollit.verification_log (user_id, group_id, status, latency_ms, cached, \"timestamp\")
      SELECT g, g % 40, (ARRAY['verified', 'restricted', 'error'])[1 + g % 3], CASE WHEN g % 9 = 0 THEN NULL ELSE g % 700 END,
             g % 4 = 0, now() - g * interval '13 seconds'
      FROM generate_series(1, 20000) g" \
  -c "INSERT INTO rollit.api_call_log (method, success, latency_ms, \"timestamp\")
      SELECT (ARRAY['getChatMember', 'restrictChatMember'])[1 + g % 2], g % 6 <> 0, g % 300, now() - g * interval '37 seconds'
      FROM generate_series(1, 5000) g" >/dev/null || exit 1

# 1. enable_rollups() schedules the job; pg_cron runs it.
lines="$(q -c "SELECT * FROM nezuko_analytics.enable_rollups()" 2>/dev/null)"
check_match "enable_rollups schedules the refresh where pg_cron is installed" \
    "scheduled pg_cron job nezuko_analytics_rollups \(every minute" "$lines"
check_eq "the job runs exactly SELECT nezuko_analytics.refresh_rollups() every minute" \
    "* * * * *|SELECT nezuko_analytics.refresh_rollups()" \
    "$(q -c "SELECT schedule || '|' || command FROM cron.job WHERE jobname = 'nezuko_analytics_rollups'")"
q -c "INSERT INTO rollit.verification_log (user_id, group_id, status, latency_ms, \"timestamp\")
      VALUES (1, 1, 'verified', 11, now() - interval '1 hour'), (2, 2, 'error', 12, now() - interval '2 days')" >/dev/null
since="$(q -c "SELECT now()")"
status=""
for _ in $(seq 1 75); do
    status="$(q -c "SELECT status FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                    WHERE j.jobname = 'nezuko_analytics_rollups' AND d.start_time > '$since' AND status IN ('succeeded', 'failed')
                    ORDER BY runid DESC LIMIT 1")"
    [[ -n "$status" ]] && break
    sleep 1
done
check_eq "pg_cron ran the refresh and it succeeded" "succeeded" \
    "${status:-no run within 75 s}$( [[ "$status" == failed ]] && q -c "SELECT ': ' || return_message FROM cron.job_run_details ORDER BY runid DESC LIMIT 1")"
check_eq "after the job: late rows counted, nothing stale, nothing pending below the watermark" "0|0|0|0|0" \
    "$(q -c "SELECT stale_v || '|' || stale_a || '|' || stale_days || '|' || stale_with_pending || '|' || pending_rows FROM rollup_check.checks")"
check_match "rollup_status reports the job's refresh" "^verification_log\|true\|true$" \
    "$(q -c "SELECT source || '|' || (last_refresh > '$since') || '|' || (rollup_rows > 0) FROM nezuko_analytics.rollup_status() WHERE source = 'verification_log'")"
q -c "SELECT cron.unschedule('nezuko_analytics_rollups')" >/dev/null

# 2. Writers, a refresh every second, and checks on one snapshot.
cat >"$work/write.sql" <<'SQL'
\set kind random(1, 4)
\set id random(1, 20000)
\set late random(1, 172800)
INSERT INTO rollit.verification_log (user_id, group_id, status, latency_ms, "timestamp")
SELECT :id, :id % 40, CASE WHEN :kind = 1 THEN 'error' ELSE 'verified' END, :id % 500,
       CASE WHEN :kind <= 2 THEN now() ELSE now() - :late * interval '1 second' END WHERE :kind <= 3;
DELETE FROM rollit.verification_log WHERE id = :id AND :kind = 4;
INSERT INTO rollit.api_call_log (method, success, latency_ms, "timestamp")
VALUES ('getChatMember', :kind <> 1, :id % 300, now() - (:kind - 1) * :late * interval '1 second');
SQL
pgbench -n -c 2 -j 2 -T 10 -f "$work/write.sql" "$db" >"$work/pgbench.log" 2>&1 &
bench=$!
(
    for _ in $(seq 1 10); do
        psql -qXAt -d "$db" -c "SELECT nezuko_analytics.refresh_rollups()" >>"$work/refresh.log" 2>&1
        sleep 1
    done
) &
refresher=$!
: >"$work/snapshots.log"
for _ in $(seq 1 12); do
    psql -qXAt -v ON_ERROR_STOP=1 -d "$db" -c "BEGIN ISOLATION LEVEL REPEATABLE READ" \
         -c "SELECT stale_v + stale_a + stale_days FROM rollup_check.checks" -c "COMMIT" >>"$work/snapshots.log" 2>&1
    sleep 0.5
done
wait "$bench"; bench_rc=$?
wait "$refresher"
written="$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$work/pgbench.log")"
check_eq "pgbench wrote without errors" "0" "$bench_rc"
check_match "pgbench wrote while the refreshes ran" "^[1-9][0-9]*$" "${written:-none}"
check_eq "every refresh succeeded" "" "$(grep -v '^[0-9]*$' "$work/refresh.log" | grep -v skipped)"
check_eq "on every snapshot, no materialized quarter hour that is not pending differs from the raw rows" "0 0 0 0 0 0 0 0 0 0 0 0" \
    "$(tr '\n' ' ' <"$work/snapshots.log" | sed 's/ $//')"
q -c "SELECT nezuko_analytics.refresh_rollups()" >/dev/null
check_eq "after a last refresh nothing is stale or pending below the watermark" "0|0" \
    "$(q -c "SELECT stale_with_pending || '|' || pending_rows FROM rollup_check.checks")"

# 3. Two refreshes at once: the second skips.
psql -qXAt -d "$db" -c "BEGIN" -c "SELECT nezuko_analytics.refresh_rollups()" -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null 2>&1 &
holder=$!
sleep 1
second="$(psql -qXAt -d "$db" -c "SELECT nezuko_analytics.refresh_rollups()" 2>&1)"
wait "$holder"
check_match "a refresh while another runs skips with a NOTICE and returns 0" "another refresh is running.*0$" "$(tr '\n' ' ' <<<"$second" | sed 's/ $//')"

# 4. Dump and restore with rollups on: rows, rollups and triggers come back.
psql -qX -d postgres -c "CREATE DATABASE $dump_db" -c "CREATE DATABASE $restored_db" >/dev/null
d() { psql -qXAt -v ON_ERROR_STOP=1 -d "$dump_db" "$@"; }
r() { psql -qXAt -v ON_ERROR_STOP=1 -d "$restored_db" "$@"; }
d -c "CREATE EXTENSION nezuko_analytics" -c "SELECT count(*) FROM nezuko_analytics.apply_schema()" \
  -f "$here/test/lib/rollup_checks.sql" \
  -c "INSERT INTO verification_log (user_id, group_id, status, latency_ms, \"timestamp\")
      SELECT g, g % 9, 'verified', g % 100, now() - g * interval '41 seconds' FROM generate_series(1, 5000) g" \
  -c "SELECT count(*) FROM nezuko_analytics.enable_rollups()" >/dev/null 2>&1
before="$(d -c "SELECT (SELECT count(*) FROM nezuko_analytics.rollup_verifications) || '|' || (SELECT sum(total) FROM nezuko_analytics.rollup_verifications)")"
pg_dump -Fc -f "$work/dump.pgc" "$dump_db" 2>"$work/dump.err"
pg_restore -d "$restored_db" "$work/dump.pgc" 2>"$work/restore.err"; restore_rc=$?
check_eq "pg_restore of a database with rollups on succeeds" "0:" "$restore_rc:$(head -3 "$work/restore.err")"
check_eq "the rollups come back complete" "$before" \
    "$(r -c "SELECT (SELECT count(*) FROM nezuko_analytics.rollup_verifications) || '|' || (SELECT sum(total) FROM nezuko_analytics.rollup_verifications)")"
check_eq "the eight triggers come back, still dropped with the extension" "8|8" \
    "$(r -c "SELECT count(*) || '|' || count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid AND d.deptype = 'x'))
             FROM pg_trigger t WHERE tgname LIKE 'nezuko_analytics_rollups_%'")"
r -c "INSERT INTO verification_log (user_id, group_id, status, \"timestamp\") VALUES (9, 9, 'error', now() - interval '3 hours')" >/dev/null
check_eq "a late row in the restored database is pending, then counted" "1|0|0" \
    "$(r -c "SELECT count(*) FROM nezuko_analytics.rollup_pending WHERE bucket < now() - interval '1 hour'")|$(r -c "SELECT nezuko_analytics.refresh_rollups() * 0" -c "SELECT stale_with_pending || '|' || pending_rows FROM rollup_check.checks" | tail -1)"
r -c "SET client_min_messages = warning" -c "DROP SCHEMA rollup_check CASCADE" -c "DROP EXTENSION nezuko_analytics" >/dev/null
check_eq "DROP EXTENSION takes the triggers and leaves the bot's rows" "0|5001" \
    "$(r -c "SELECT (SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'nezuko_analytics_rollups_%') || '|' || (SELECT count(*) FROM verification_log)")"

checks_summary rollups
