-- An upgrade from 1.6 with rollups on (docs/versions.md): ALTER EXTENSION
-- UPDATE keeps the triggers and the state, drops the per-day group counts,
-- and marks everything pending, so readers read raw rows until the next
-- refresh computes the quarter hours (with their groups) and the local days
-- again; quarter hours frozen under 1.6 (older than the last prune(), no
-- group counts per quarter hour to take) go.  1.6's build needs 1.6's module,
-- so its rollups are written here as it left them.
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE EXTENSION nezuko_analytics VERSION '1.6';
CREATE SCHEMA up;
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema('up');
INSERT INTO up.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 5, (ARRAY['verified', 'restricted', 'error'])[1 + i % 3], (i * 41) % 800, i % 2 = 0,
       date_trunc('hour', now()) - i * interval '97 seconds'
FROM generate_series(1, 5000) i;
INSERT INTO up.api_call_log (method, success, latency_ms, "timestamp")
SELECT (ARRAY['getChatMember', 'sendMessage'])[1 + i % 2], i % 4 <> 0, (i * 13) % 500,
       date_trunc('hour', now()) - i * interval '131 seconds'
FROM generate_series(1, 3000) i;

-- What 1.6's enable_rollups() and a prune() three days ago left.
SELECT date_trunc('hour', now()) AS top, date_trunc('hour', now()) - interval '3 days' AS frozen \gset
INSERT INTO nezuko_analytics.rollup_state (source, keep, built_from, watermark, frozen_before)
SELECT s, '400 days', date_bin('15 minutes', min("timestamp"), '2000-01-01+00'), :'top', :'frozen'
FROM up.verification_log, unnest(ARRAY['verification_log', 'api_call_log']) s GROUP BY s;
INSERT INTO nezuko_analytics.rollup_verifications
SELECT date_bin('15 minutes', "timestamp", '2000-01-01+00'), count(*), count(*) FILTER (WHERE status = 'verified'),
       count(*) FILTER (WHERE status = 'restricted'), count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE cached),
       count(latency_ms), sum(latency_ms), nezuko_analytics.latency_dist(latency_ms)
FROM up.verification_log GROUP BY 1;
INSERT INTO nezuko_analytics.rollup_verification_groups
SELECT date_bin('1 day', "timestamp", '2000-01-01+00'), group_id, count(*), count(*) FILTER (WHERE status = 'verified')
FROM up.verification_log GROUP BY 1, 2;
INSERT INTO nezuko_analytics.rollup_api_calls
SELECT date_bin('15 minutes', "timestamp", '2000-01-01+00'), method, count(*), count(*) FILTER (WHERE success),
       count(*) FILTER (WHERE NOT success), count(latency_ms), sum(latency_ms), nezuko_analytics.latency_dist(latency_ms)
FROM up.api_call_log GROUP BY 1, 2;
CREATE TRIGGER nezuko_analytics_rollups_insert AFTER INSERT ON up.verification_log REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION nezuko_analytics.rollup_invalidate('verification_log', 'timestamp');

ALTER EXTENSION nezuko_analytics UPDATE;
-- updated to the installed default version (the current one, whichever it is)
SELECT e.extversion = a.default_version AS updated_to_default
FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'nezuko_analytics';
SELECT count(*) FILTER (WHERE bucket < :'frozen') AS frozen_left, count(*) > 0 AS the_rest_kept
FROM nezuko_analytics.rollup_verifications;
SELECT source, built_from >= :'frozen' AS starts_at_the_horizon, time_zones FROM nezuko_analytics.rollup_state ORDER BY 1;
SELECT source, bucket FROM nezuko_analytics.rollup_pending ORDER BY 1;
SELECT to_regclass('nezuko_analytics.rollup_verification_groups') AS group_days_table;

-- Before the refresh: raw rows (everything pending); a late row is counted.
INSERT INTO up.verification_log (user_id, group_id, status, latency_ms, "timestamp")
VALUES (1, 1, 'verified', 5, now() - interval '1 day');
CREATE FUNCTION pg_temp.same(since timestamptz, until timestamptz, tz text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    a jsonb;
    b jsonb;
BEGIN
    PERFORM set_config('nezuko_analytics.use_rollups', 'on', true);
    a := nezuko_analytics.dashboard(since, until, tz);
    PERFORM set_config('nezuko_analytics.use_rollups', 'off', true);
    b := nezuko_analytics.dashboard(since, until, tz);
    PERFORM set_config('nezuko_analytics.use_rollups', 'on', true);
    RETURN a = b;
END $$;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.same(now() - interval '6 days', now(), 'UTC') AS all_days, pg_temp.same(now() - interval '2 days', now(), 'Asia/Kolkata') AS two_days;
COMMIT;

-- The refresh computes them again, local days included.
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
SELECT source, local_days > 0 AS has_days, pending_buckets FROM nezuko_analytics.rollup_status() ORDER BY 1;
\set ECHO none
\i test/lib/rollup_checks.sql
\set ECHO all
SELECT * FROM rollup_check.checks;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.same(now() - interval '6 days', now(), 'UTC') AS all_days, pg_temp.same(now() - interval '2 days', now(), 'Asia/Kolkata') AS two_days;
SELECT cardinality((nezuko_analytics.rollup_plan('verification_log', now() - interval '2 days', now(), NULL, 'UTC')).day_starts) > 0
       AS reads_local_days;
COMMIT;

SELECT count(*) > 0 AS disabled FROM nezuko_analytics.disable_rollups();
DROP SCHEMA rollup_check CASCADE;
DROP EXTENSION nezuko_analytics;
DROP SCHEMA up CASCADE;

-- An upgrade from 1.7 whose rollups kept the local days of Etc/UTC beside
-- UTC's (as 1.7's enable_rollups() did where the session's TimeZone was
-- Etc/UTC): after it, one set of days under 'UTC' for every name of UTC
-- (rollup_zone()), and readers in Etc/UTC read them.
CREATE EXTENSION nezuko_analytics VERSION '1.7';
CREATE SCHEMA up;
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema('up');
INSERT INTO up.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 5, (ARRAY['verified', 'restricted', 'error'])[1 + i % 3], (i * 41) % 800, i % 2 = 0,
       date_trunc('hour', now()) - i * interval '97 seconds'
FROM generate_series(1, 5000) i;
INSERT INTO up.api_call_log (method, success, latency_ms, "timestamp")
SELECT (ARRAY['getChatMember', 'sendMessage'])[1 + i % 2], i % 7 <> 0, (i * 13) % 900,
       date_trunc('hour', now()) - i * interval '131 seconds'
FROM generate_series(1, 3000) i;
SELECT count(*) > 0 AS enabled FROM nezuko_analytics.enable_rollups('400 days', ARRAY['Etc/UTC', 'Asia/Kolkata']);
SELECT source, time_zones FROM nezuko_analytics.rollup_state ORDER BY 1;
SELECT DISTINCT source, time_zone FROM nezuko_analytics.rollup_days ORDER BY 1, 2;
ALTER EXTENSION nezuko_analytics UPDATE;
SELECT source, time_zones FROM nezuko_analytics.rollup_state ORDER BY 1;
-- (from 1.16 api_call_log keeps UTC's days alone: the others went)
SELECT DISTINCT source, time_zone FROM nezuko_analytics.rollup_days ORDER BY 1, 2;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.same(now() - interval '6 days', now(), 'Etc/UTC') AS etc_utc_equal,
       cardinality((nezuko_analytics.rollup_plan('verification_log', now() - interval '2 days', now(), NULL, 'Etc/UTC')).day_starts) > 0
       AS etc_utc_reads_utc_days;
COMMIT;
SELECT count(*) > 0 AS disabled FROM nezuko_analytics.disable_rollups();
DROP EXTENSION nezuko_analytics;
DROP SCHEMA up CASCADE;
