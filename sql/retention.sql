-- Retention: policies, preview, prune on rows on both sides of the cutoff and
-- exactly on it, batches of 1, a max_runtime that stops it partway, the run
-- log, errors, and scheduling with pg_cron (installed in this database).
\set SHOW_CONTEXT never
CREATE EXTENSION pg_cron;
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA ret;
SELECT * FROM nezuko_analytics.apply_schema('ret') WHERE apply_schema !~ '^(created|added)';
SELECT * FROM nezuko_analytics.apply_schema('ret');  -- idempotent: no lines
SELECT * FROM nezuko_analytics.retention_policy ORDER BY table_name;

-- The job: one, named, running exactly CALL nezuko_analytics.prune() here.
SELECT jobname, schedule, command, database = current_database() AS this_database FROM cron.job;
SELECT nezuko_analytics.schedule_retention('*/5 * * * *') = (SELECT jobid FROM cron.job) AS same_job;
SELECT nezuko_analytics.schedule_retention('*/5 * * * *') = (SELECT jobid FROM cron.job) AS same_job_again;
SELECT count(*) AS jobs, min(schedule) AS schedule FROM cron.job;
SELECT nezuko_analytics.schedule_retention('every day at noon');
SELECT nezuko_analytics.schedule_retention('61 * * * *');
SELECT nezuko_analytics.schedule_retention(NULL);
SELECT nezuko_analytics.unschedule_retention() AS removed, nezuko_analytics.unschedule_retention() AS removed_again;
SELECT count(*) AS jobs FROM cron.job;
SELECT nezuko_analytics.schedule_retention() IS NOT NULL AS rescheduled;
SELECT jobname, schedule, command FROM cron.job;

-- Policies: set_retention and its errors.
SELECT * FROM nezuko_analytics.set_retention('api_call_log', '30 days');
SELECT * FROM nezuko_analytics.set_retention('api_call_log', '0 seconds');
SELECT * FROM nezuko_analytics.set_retention('api_call_log', '-1 day');
SELECT * FROM nezuko_analytics.set_retention('protected_groups', '30 days');
UPDATE nezuko_analytics.retention_policy SET keep = '90 days' WHERE table_name = 'api_call_log';
UPDATE nezuko_analytics.retention_policy SET keep = '-1 day' WHERE table_name = 'api_call_log';

-- Rows on both sides of the cutoff (as_of - 90 days) and exactly on it.
\set as_of '''2026-06-01 12:00:00+00'''
INSERT INTO ret.api_call_log (method, "timestamp") VALUES
    ('old', timestamptz :as_of - interval '91 days'),
    ('old', timestamptz :as_of - interval '90 days' - interval '1 microsecond'),
    ('on_cutoff', timestamptz :as_of - interval '90 days'),
    ('new', timestamptz :as_of - interval '90 days' + interval '1 microsecond'),
    ('new', timestamptz :as_of - interval '1 day'),
    ('no_time', NULL);
INSERT INTO ret.verification_log (user_id, group_id, status, "timestamp")
SELECT g, 1, 'verified', timestamptz :as_of - interval '100 days' + g * interval '1 hour' FROM generate_series(1, 480) g;
INSERT INTO nezuko_analytics.retention_runs (started_at, table_name, finished_at, status)
VALUES (timestamptz :as_of - interval '200 days', 'api_call_log', timestamptz :as_of - interval '200 days', 'ok');
INSERT INTO cron.job_run_details (jobid, runid, status, start_time, end_time)
VALUES (0, 900001, 'succeeded', timestamptz :as_of - interval '20 days', timestamptz :as_of - interval '20 days'),
       (0, 900002, 'succeeded', timestamptz :as_of - interval '2 days', timestamptz :as_of - interval '2 days');
SELECT table_name, cutoff, rows_to_delete FROM nezuko_analytics.prune_preview(:as_of) ORDER BY 1;
-- Expected by hand: 2 API rows, 239 verification rows (100 days ago + 1..239 hours
-- is older than 90 days; the 240th hour lands exactly on the cutoff and stays),
-- 1 old run log row, 1 old job run.
SELECT (SELECT count(*) FROM ret.verification_log WHERE "timestamp" < timestamptz :as_of - interval '90 days') AS old_verifications;

-- A max_runtime that stops it partway: the first batch of a run always
-- runs, then the deadline has passed: status partial, the rest left.
CALL nezuko_analytics.prune(batch_size => 1, max_runtime => '1 microsecond', as_of => :as_of);
SELECT table_name, cutoff, rows_deleted, batches, status, error_message FROM nezuko_analytics.retention_runs
WHERE started_at > now() - interval '1 hour' ORDER BY table_name;
SELECT count(*) AS api_rows_left FROM ret.api_call_log;

-- prune() commits its own transactions asynchronously; the caller's setting is untouched.
SHOW synchronous_commit;

-- The next run resumes and finishes, in batches of 1.
DELETE FROM nezuko_analytics.retention_runs WHERE started_at > now() - interval '1 hour';
CALL nezuko_analytics.prune(batch_size => 1, as_of => :as_of);
SELECT table_name, cutoff, rows_deleted, batches, status, error_message FROM nezuko_analytics.retention_runs
WHERE started_at > now() - interval '1 hour' ORDER BY table_name;
SELECT method, "timestamp" FROM ret.api_call_log ORDER BY "timestamp" NULLS LAST;
SELECT count(*) AS verifications_left, min("timestamp") = timestamptz :as_of - interval '90 days' AS oldest_is_on_cutoff
FROM ret.verification_log;
SELECT runid FROM cron.job_run_details WHERE runid >= 900001 ORDER BY 1;
SELECT count(*) AS old_runs_left FROM nezuko_analytics.retention_runs WHERE finished_at < timestamptz :as_of - interval '90 days';
SELECT table_name, rows_to_delete FROM nezuko_analytics.prune_preview(:as_of) ORDER BY 1;

-- An error in one table is logged and the others still run.
DELETE FROM nezuko_analytics.retention_runs WHERE started_at > now() - interval '1 hour';
UPDATE nezuko_analytics.retention_policy SET time_column = 'no_such_column' WHERE table_name = 'verification_log';
CALL nezuko_analytics.prune(as_of => :as_of);
SELECT table_name, status, error_message FROM nezuko_analytics.retention_runs
WHERE started_at > now() - interval '1 hour' ORDER BY table_name;
UPDATE nezuko_analytics.retention_policy SET time_column = 'timestamp' WHERE table_name = 'verification_log';

-- A disabled policy is skipped.
UPDATE nezuko_analytics.retention_policy SET enabled = false WHERE table_name = 'cron.job_run_details';
SELECT table_name FROM nezuko_analytics.prune_preview() ORDER BY 1;

-- Bad input.
CALL nezuko_analytics.prune(batch_size => 0);
CALL nezuko_analytics.prune(max_runtime => '-1 minute');
\set VERBOSITY terse
CALL nezuko_analytics.prune(as_of => now() + interval '1 day');
\set VERBOSITY default
BEGIN;
CALL nezuko_analytics.prune();  -- COMMITs inside: not allowed in an explicit transaction
ROLLBACK;

-- revert_schema() unschedules the job and removes the policies it registered.
SELECT * FROM nezuko_analytics.revert_schema() WHERE revert_schema ~ '(pg_cron|policy)';
SELECT count(*) AS jobs FROM cron.job;
SELECT count(*) AS policies FROM nezuko_analytics.retention_policy;

DROP EXTENSION nezuko_analytics;
DROP SCHEMA ret CASCADE;
DELETE FROM cron.job_run_details WHERE runid >= 900001;
DROP EXTENSION pg_cron;
