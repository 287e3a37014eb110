-- The readers with rollups equal the readers without (docs/rollups.md):
-- dashboard() over 200 random windows (edges on and
-- off quarter hours, open-ended, empty, in the future) in six time zones
-- (UTC, Asia/Kolkata, Asia/Kathmandu, America/St_Johns, Europe/Berlin over
-- its DST change, Australia/Eucla +08:45), compared in one snapshot with
-- nezuko_analytics.use_rollups on and off (and the typed charts, the trend
-- contracts, hourly_activity() and the fixed-window contracts): right after
-- enable_rollups(),
-- with late rows, updates and deletes pending (before any refresh), and
-- after a refresh.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA rr;
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema('rr');
SET client_min_messages = warning;
-- 120 days of rows up to the current hour, and rows at the ends of time, in
-- 1999 and 4713 BC (the build steps over the years between) and in the future
-- (never materialized).
\set schema rr
\set vrows 20000
\set arows 5000
\set groups 60
SELECT date_trunc('hour', now()) AS anchor \gset
\set anchor '''' :anchor ''''
\set ECHO none
\i test/data/generate_sample.sql
\set ECHO all
INSERT INTO rr.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (1, 7, 'verified', 33, true, 'infinity'), (2, 7, 'error', 34, false, '-infinity'),
    (3, 7, 'restricted', 35, true, '1999-12-31 23:59:59+00'), (4, 8, 'verified', 36, false, now() + interval '3 days'),
    (5, 8, 'pending', NULL, false, now() - interval '2 days');
INSERT INTO rr.api_call_log (method, success, latency_ms, "timestamp") VALUES
    ('edgeMethod', true, 7, 'infinity'), ('edgeMethod', NULL, NULL, now() - interval '5 days'),
    ('edgeMethod', true, 8, '4713-01-01 00:00:00+00 BC'),  -- the build steps over the years between
    ('futureMethod', false, 9, now() + interval '1 day');
-- Local days kept for every zone of the test (and the session's, which the
-- contracts use).
SELECT count(*) > 0 AS enabled
FROM nezuko_analytics.enable_rollups(time_zones => ARRAY['Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns',
                                                         'Europe/Berlin', 'Australia/Eucla', current_setting('TimeZone')]);
SELECT time_zones, local_days > 0 AS has_days FROM nezuko_analytics.rollup_status() ORDER BY source;

-- The windows: random edges (half of them on quarter hours) and lengths
-- (0 to 40 days), and the open-ended, empty and future ones; each in every zone.
SELECT setseed(0.42);
CREATE TEMP TABLE windows AS
WITH w AS (
    SELECT i, now() - random() * interval '110 days' AS since, random() * interval '40 days' AS length
    FROM generate_series(1, 194) i)
SELECT i, CASE WHEN i % 2 = 0 THEN date_bin('15 minutes', since, '2000-01-01+00') ELSE since END AS since,
          CASE WHEN i % 2 = 0 THEN date_bin('15 minutes', since + length, '2000-01-01+00')
               WHEN i % 7 = 0 THEN since ELSE since + length END AS until
FROM w
UNION ALL VALUES (195, '-infinity'::timestamptz, 'infinity'::timestamptz),
                 (196, now() - interval '7 days', 'infinity'),
                 (197, '-infinity', now() - interval '30 days'),
                 (198, now() + interval '1 day', now() + interval '9 days'),
                 (199, now() - interval '90 days', now()),
                 (200, date_trunc('day', now()) - interval '7 days', date_trunc('day', now()));
CREATE TEMP TABLE zones(tz) AS
VALUES ('UTC'), ('Asia/Kolkata'), ('Asia/Kathmandu'), ('America/St_Johns'), ('Europe/Berlin'), ('Australia/Eucla');
SELECT count(*) AS windows, count(*) FILTER (WHERE since = until) AS empty,
       count(*) FILTER (WHERE NOT isfinite(since) OR NOT isfinite(until)) AS open_ended,
       count(*) FILTER (WHERE isfinite(since) AND isfinite(until) AND until - since >= interval '1 day') AS a_day_or_more
FROM windows;

-- One reader call with use_rollups on and off in the same snapshot: the two
-- answers (an error as its SQLSTATE and message).
CREATE FUNCTION pg_temp.answer(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    EXECUTE 'SELECT (' || call || ')::text' INTO r;
    RETURN r;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.compare(call text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    on_ text;
    off_ text;
BEGIN
    PERFORM set_config('nezuko_analytics.use_rollups', 'on', true);
    on_ := pg_temp.answer(call);
    PERFORM set_config('nezuko_analytics.use_rollups', 'off', true);
    off_ := pg_temp.answer(call);
    PERFORM set_config('nezuko_analytics.use_rollups', 'on', true);
    RETURN CASE WHEN on_ IS DISTINCT FROM off_ THEN 'differs' WHEN on_ LIKE 'ERROR %' THEN 'same error' ELSE 'same' END;
END $$;
CREATE TEMP TABLE calls AS
SELECT i, tz, format('nezuko_analytics.dashboard(%L, %L, %L)', since, until, tz) AS call FROM windows, zones
UNION ALL
SELECT i, 'UTC', format('nezuko_analytics.%s(%L, %L)', f, since, until)
FROM windows, unnest(ARRAY['get_latency_trend', 'get_cache_hit_rate_trend', 'get_verification_trends',
                           'get_analytics_overview', 'get_latency_distribution']) f
WHERE isfinite(since) AND isfinite(until) AND i % 4 = 0
UNION ALL  -- the typed charts over every fourth window (no zone)
SELECT i, 'UTC', format(c, since, until)
FROM windows, unnest(ARRAY[
    '(SELECT json_agg(x) FROM nezuko_analytics.latency_histogram(%L, %L) x)',
    '(SELECT json_agg(x) FROM nezuko_analytics.latency_histogram(%L, %L, ''{5,20,150,2000,5000}'', ''api_call_log'') x)',
    'nezuko_analytics.latency_percentiles(%L, %L, ''{0,0.25,0.5,0.9,0.99,1}'')',
    'nezuko_analytics.latency_percentiles(%L, %L, ''{0.5,0.95}'', ''api_call_log'')',
    '(SELECT json_agg(x) FROM nezuko_analytics.verification_distribution(%L, %L) x)',
    '(SELECT json_agg(x) FROM nezuko_analytics.top_groups(%L, %L, 7) x)',
    '(SELECT json_agg(x) FROM nezuko_analytics.method_distribution(%L, %L) x)',
    '(SELECT json_agg(x) FROM nezuko_analytics.bot_health(%L, %L) x)']) c
WHERE i % 4 = 1 AND since <= until
UNION ALL  -- hourly_activity() over every fourth window in every zone
SELECT i, tz, format('(SELECT json_agg(h) FROM nezuko_analytics.hourly_activity(%L, %L, %L) h)', since, until, tz)
FROM windows, zones WHERE i % 4 = 0 AND since <= until
UNION ALL  -- the fixed-window contracts (7 days and today, up to now), in two zones
SELECT 0, tz, format('(SELECT nezuko_analytics.%s() FROM set_config(''TimeZone'', %L, true))', f, tz)
FROM unnest(ARRAY['get_dashboard_stats', 'get_verification_distribution', 'get_cache_breakdown', 'get_bot_health',
                  'get_analytics_overview', 'get_top_groups', 'get_api_calls_distribution', 'get_hourly_activity']) f,
     (VALUES ('UTC'), ('Asia/Kolkata')) z(tz);
SELECT count(*) AS calls FROM calls;
-- The rollups are used by most of them (not a comparison of two raw reads),
-- and local days in every zone.
SELECT count(*) FILTER (WHERE p.usable) > 150 AS most_windows_use_rollups
FROM windows, nezuko_analytics.rollup_plan('verification_log', since, until) p;
SELECT z.tz, count(*) FILTER (WHERE cardinality(p.day_starts) > 0) > 100 AS most_windows_use_local_days
FROM windows, zones z, nezuko_analytics.rollup_plan('verification_log', since, until, NULL, z.tz) p
GROUP BY z.tz ORDER BY z.tz;

-- 1. Right after enable_rollups().
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.compare(call) AS outcome, count(*) FROM calls GROUP BY 1 ORDER BY 1;
COMMIT;

-- 2. Late rows (an hour and a month ago), updates of status, latency and
-- time, deletes, in both tables: pending, no refresh.
INSERT INTO rr.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, g % 60, 'restricted', g % 300, g % 2 = 0, now() - interval '1 hour' - g * interval '17 seconds'
FROM generate_series(1, 50) g;
INSERT INTO rr.verification_log (user_id, group_id, status, latency_ms, "timestamp")
SELECT g, 3, 'verified', 5000 + g, now() - interval '30 days' - g * interval '1 minute' FROM generate_series(1, 20) g;
UPDATE rr.verification_log SET status = 'error' WHERE id % 997 = 0;
UPDATE rr.verification_log SET latency_ms = latency_ms + 250 WHERE id % 1009 = 0;
UPDATE rr.verification_log SET "timestamp" = "timestamp" - interval '3 days' WHERE id % 1013 = 0;
DELETE FROM rr.verification_log WHERE id % 1019 = 0;
UPDATE rr.api_call_log SET success = NOT success WHERE id % 101 = 0;
DELETE FROM rr.api_call_log WHERE id % 103 = 0;
SELECT count(DISTINCT bucket) > 20 AS many_pending FROM nezuko_analytics.rollup_pending;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.compare(call) AS outcome, count(*) FROM calls GROUP BY 1 ORDER BY 1;
COMMIT;

-- 3. After a refresh.
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.compare(call) AS outcome, count(*) FROM calls GROUP BY 1 ORDER BY 1;
COMMIT;

-- 4. A negative latency inside a materialized quarter hour: the same error
-- either way (and the window without it still answers).
INSERT INTO rr.verification_log (user_id, group_id, status, latency_ms, "timestamp")
VALUES (9, 9, 'verified', -3, now() - interval '10 days');
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
SET nezuko_analytics.use_rollups = on;
SELECT (nezuko_analytics.dashboard(now() - interval '20 days', now()))->'totals' IS NOT NULL;
SELECT (nezuko_analytics.dashboard(now() - interval '5 days', now()))->'totals' IS NOT NULL AS without_it;
SELECT count(*) AS hours FROM nezuko_analytics.hourly_activity(now() - interval '20 days', now());  -- reads no latency
SET nezuko_analytics.use_rollups = off;
SELECT (nezuko_analytics.dashboard(now() - interval '20 days', now()))->'totals' IS NOT NULL;
RESET nezuko_analytics.use_rollups;
SHOW nezuko_analytics.use_rollups;
SET nezuko_analytics.use_rollups = maybe;

DROP EXTENSION nezuko_analytics;
DROP SCHEMA rr CASCADE;
