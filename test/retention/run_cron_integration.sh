#!/usr/bin/env bash
# pg_cron itself runs the retention job: a '* * * * *' schedule, then up to
# 75 s of waiting for cron.job_run_details to show success and the old rows
# gone.  The tables belong to a role that is no superuser, whose trigger
# tries to make it one while the job (scheduled by a superuser) deletes: it
# must run as the owner and gain nothing.  Then a lock_timeout on a locked
# row: logged as that table's error while the other tables still run.  Needs the throwaway server (pg_cron preloaded, cron.database_name =
# nz_test, cron.use_background_workers = on) with nezuko_analytics installed.
set -uo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
source "$here/test/lib/checks.sh"
db=nz_test
q() { psql -qXAt -v ON_ERROR_STOP=1 -d "$db" "$@"; }
cleanup() {
    q -c "SELECT nezuko_analytics.unschedule_retention()" -c "DROP EXTENSION IF EXISTS nezuko_analytics" \
      -c "DROP SCHEMA IF EXISTS cronit CASCADE" -c "DROP FUNCTION IF EXISTS public.nz_escalate(), public.nz_record_run()" \
      -c "DROP TABLE IF EXISTS public.nz_trigger_runs" -c "DROP ROLE IF EXISTS nz_cron_owner" >/dev/null 2>&1
}
trap cleanup EXIT

q -c "CREATE EXTENSION IF NOT EXISTS pg_cron" -c "CREATE EXTENSION nezuko_analytics" -c "CREATE SCHEMA cronit" >/dev/null || exit 1
lines="$(q -c "SELECT * FROM nezuko_analytics.apply_schema('cronit')")"
check_match "apply_schema schedules the job where pg_cron is installed" "scheduled pg_cron job nezuko_analytics_retention" "$lines"
q -c "INSERT INTO cronit.api_call_log (method, \"timestamp\") SELECT 'old', now() - interval '100 days' - g * interval '1 minute' FROM generate_series(1, 500) g" \
  -c "INSERT INTO cronit.api_call_log (method, \"timestamp\") SELECT 'recent', now() - g * interval '1 minute' FROM generate_series(1, 50) g" >/dev/null
# The bot's tables change hands; the owner's triggers record whose rights
# they run with, and one on verification_log tries to make its owner a superuser.
q -c "CREATE ROLE nz_cron_owner" -c "GRANT USAGE ON SCHEMA cronit TO nz_cron_owner" \
  -c "ALTER TABLE cronit.api_call_log OWNER TO nz_cron_owner" \
  -c "ALTER TABLE cronit.verification_log OWNER TO nz_cron_owner" \
  -c "CREATE TABLE public.nz_trigger_runs (ran_as name, superuser boolean)" -c "GRANT INSERT ON public.nz_trigger_runs TO PUBLIC" \
  -c "CREATE FUNCTION public.nz_record_run() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN
        INSERT INTO public.nz_trigger_runs SELECT current_user, rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user;
        RETURN NULL; END\$\$" \
  -c "CREATE FUNCTION public.nz_escalate() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN
        EXECUTE 'ALTER ROLE nz_cron_owner SUPERUSER'; RETURN NULL; END\$\$" \
  -c "ALTER FUNCTION public.nz_record_run() OWNER TO nz_cron_owner" -c "ALTER FUNCTION public.nz_escalate() OWNER TO nz_cron_owner" \
  -c "CREATE TRIGGER nz_record_run AFTER DELETE ON cronit.api_call_log FOR EACH STATEMENT EXECUTE FUNCTION public.nz_record_run()" \
  -c "CREATE TRIGGER nz_escalate AFTER DELETE ON cronit.verification_log FOR EACH STATEMENT EXECUTE FUNCTION public.nz_escalate()" \
  -c "INSERT INTO cronit.verification_log (user_id, group_id, status, \"timestamp\") SELECT g, 1, 'verified', now() - interval '100 days' FROM generate_series(1, 20) g" >/dev/null || exit 1
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
check_eq "the owner's trigger ran as the owner, not as the job's superuser" "nz_cron_owner|false" \
    "$(q -c "SELECT DISTINCT ran_as || '|' || superuser FROM public.nz_trigger_runs")"
check_eq "the trigger that tried to escalate made only its table's batch fail" "error|true" \
    "$(q -c "SELECT status || '|' || (error_message ~ 'superuser') FROM nezuko_analytics.retention_runs WHERE table_name = 'verification_log' ORDER BY started_at DESC LIMIT 1")"
check_eq "the owner is no superuser after the job ran" "f" "$(q -c "SELECT rolsuper FROM pg_roles WHERE rolname = 'nz_cron_owner'")"
removed="$(q -c "SELECT nezuko_analytics.unschedule_retention()")"
check_eq "unschedule_retention removes the job" "t|0" \
    "$removed|$(q -c "SELECT count(*) FROM cron.job WHERE jobname = 'nezuko_analytics_retention'")"


# lock_timeout on a locked row: another session holds one old row; prune()
# logs verification_log's error (55P03) and still prunes api_call_log.
q -c "DROP TRIGGER nz_escalate ON cronit.verification_log" \
  -c "INSERT INTO cronit.api_call_log (method, \"timestamp\") SELECT 'old', now() - interval '100 days' FROM generate_series(1, 30) g" >/dev/null
recent_before="$(q -c "SELECT count(*) FROM cronit.verification_log WHERE \"timestamp\" > now() - interval '90 days'")"
psql -qXAt -d "$db" -c "BEGIN" -c "SELECT 1 FROM cronit.verification_log WHERE \"timestamp\" < now() - interval '90 days' LIMIT 1 FOR UPDATE" \
     -c "SELECT pg_sleep(8)" -c "COMMIT" >/dev/null 2>&1 &
holder=$!
sleep 1
q -c "SET lock_timeout = '500ms'" -c "CALL nezuko_analytics.prune()" >/dev/null 2>&1
check_eq "a lock_timeout is that table's error; the other tables still run" "api_call_log:ok:30 verification_log:error:lock" \
    "$(q -c "SELECT string_agg(table_name || ':' || status || ':' || CASE WHEN status = 'ok' THEN rows_deleted::text ELSE substring(error_message from 'lock') END, ' ' ORDER BY table_name)
             FROM (SELECT DISTINCT ON (table_name) * FROM nezuko_analytics.retention_runs
                   WHERE table_name IN ('api_call_log', 'verification_log') ORDER BY table_name, started_at DESC) r")"
wait "$holder"
check_eq "no row inside the window was lost" "$recent_before" \
    "$(q -c "SELECT count(*) FROM cronit.verification_log WHERE \"timestamp\" > now() - interval '90 days'")"

checks_summary cron
