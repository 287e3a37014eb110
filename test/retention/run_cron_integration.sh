#!/usr/bin/env bash
# pg_cron itself runs the retention job: a '* * * * *' schedule, then up to
# 75 s of waiting for cron.job_run_details to show success and the old rows
# gone.  Needs the throwaway server (pg_cron preloaded, cron.database_name =
# nz_test, cron.use_background_workers = on) with nezuko_analytics installed.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
db=nz_test
q() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() {
    q -c "SELECT nezuko_analytics.unschedule_retention()" -c "DROP EXTENSION IF EXISTS nezuko_analytics" \
      -c "DROP SCHEMA IF EXISTS cronit CASCADE" >/dev/null 2>&1
}
trap cleanup EXIT

q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION nezuko_analytics" -c "CREATE SCHEMA cronit" >/dev/null || exit 1
lines="$(q -c "SELECT * FROM nezuko_analytics.apply_schema('cronit')")"
check_match "apply_schema schedules the job where pg_cron is installed" "scheduled pg_cron job nezuko_analytics_retention" "$lines"
q -c "INSERT INTO cronit.api_call_log (method, \"timestamp\") SELECT 'old', now() - interval '100 days' - g * interval '1 minute' FROM generate_series(1, 500) g" \
  -c "INSERT INTO cronit.api_call_log (method, \"timestamp\") SELECT 'recent', now() - g * interval '1 minute' FROM generate_series(1, 50) g" >/dev/null
job="$(q -c "SELECT nezuko_analytics.schedule_retention('* * * * *')")"
check_eq "the job runs exactly CALL nezuko_analytics.prune() every minute" "* * * * *|CALL nezuko_analytics.prune()" \
    "$(q -c "SELECT schedule || '|' || command FROM cron.job WHERE jobid = $job")"

status=""
for _ in $(seq 1 75); do
    status="$(q -c "SELECT status FROM cron.job_run_details WHERE jobid = $job AND status IN ('succeeded', 'failed') ORDER BY runid DESC LIMIT 1")"
    [[ -n "$status" ]] && break
    sleep 1
done
check_eq "pg_cron ran the job and it succeeded" "succeeded" \
    "${status:-no run within 75 s}$( [[ "$status" == failed ]] && q -c "SELECT ': ' || return_message FROM cron.job_run_details WHERE jobid = $job ORDER BY runid DESC LIMIT 1")"
check_eq "the old rows are gone, the recent ones kept" "recent:50" \
    "$(q -c "SELECT string_agg(method || ':' || n, ',') FROM (SELECT method, count(*) n FROM cronit.api_call_log GROUP BY method ORDER BY method) s")"
check_eq "the run is logged in retention_runs" "ok:500" \
    "$(q -c "SELECT status || ':' || rows_deleted FROM nezuko_analytics.retention_runs WHERE table_name = 'api_call_log' ORDER BY started_at DESC LIMIT 1")"
removed="$(q -c "SELECT nezuko_analytics.unschedule_retention()")"
check_eq "unschedule_retention removes the job" "t|0" \
    "$removed|$(q -c "SELECT count(*) FROM cron.job WHERE jobname = 'nezuko_analytics_retention'")"

checks_summary cron
