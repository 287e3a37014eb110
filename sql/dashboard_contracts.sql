-- dashboard() and the 14 get_* contracts.  Each contract is compared as jsonb
-- with the reference implementation of the original (test/reference/
-- contracts_reference.sql), for every period (an unknown one too), in three
-- session time zones; dashboard() section by section with the typed
-- functions and plain SQL in three time zones; one scan of each table.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema();
\set vrows 40000
\set arows 8000
\set groups 300
\set ECHO none
SELECT now() AS anchor \gset
\set anchor '''' :anchor ''''
\i test/data/generate_sample.sql
\i test/reference/contracts_reference.sql
\i test/reference/charts_reference.sql
\set ECHO all
-- Future rows, NULL latencies, a group without a protected_groups row, an unknown status.
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (1, -1000000000001, 'verified', 40, true, now() + interval '2 days'),
    (2, 777, 'verified', NULL, false, now() - interval '1 hour'),
    (3, 777, 'pending', 12, false, now() - interval '2 hours');
INSERT INTO api_call_log (method, success, latency_ms, "timestamp") VALUES
    ('getChatMember', true, 10, now() + interval '1 day'), ('oddMethod', NULL, NULL, now() - interval '3 hours');
ANALYZE;

-- Every contract and every period, in three session time zones.
CREATE TEMP TABLE contract_calls (call text);
INSERT INTO contract_calls VALUES
    ('get_dashboard_stats()'), ('get_verification_distribution()'), ('get_cache_breakdown()'),
    ('get_api_calls_distribution()'), ('get_hourly_activity()'), ('get_members_chart_data()'),
    ('get_groups_status()'), ('get_bot_health()'),
    ('get_top_groups()'), ('get_top_groups(3)'), ('get_top_groups(0)'), ('get_top_groups(-4)'), ('get_top_groups(1000)'),
    ('get_analytics_overview()');
INSERT INTO contract_calls
SELECT format('%s(%L)', f, p)
FROM unnest(ARRAY['get_latency_distribution', 'get_latency_trend', 'get_cache_hit_rate_trend', 'get_verification_trends',
                  'get_analytics_overview']) f,
     unnest(ARRAY['24h', '7d', '30d', '90d', 'bogus']) p;
INSERT INTO contract_calls
SELECT format('get_verification_trends(%L, %L)', p, g)
FROM unnest(ARRAY['24h', '30d']) p, unnest(ARRAY['hour', 'day', 'week', 'fortnight']) g;
INSERT INTO contract_calls VALUES ('get_user_growth()');
INSERT INTO contract_calls
SELECT format('get_user_growth(%L, %L)', p, g)
FROM unnest(ARRAY['7d', '30d', '90d', '24h', 'bogus']) p, unnest(ARRAY['day', 'week', 'fortnight']) g;
CREATE TEMP TABLE contract_results (tz text, call text, same boolean, size int);
CREATE FUNCTION pg_temp.compare_contracts(tz text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE c record; n jsonb; r jsonb;
BEGIN
    PERFORM set_config('TimeZone', tz, true);
    FOR c IN SELECT call FROM contract_calls LOOP
        EXECUTE 'SELECT nezuko_analytics.' || c.call || '::jsonb' INTO n;
        EXECUTE 'SELECT nz_contracts.' || c.call || '::jsonb' INTO r;
        INSERT INTO contract_results VALUES (tz, c.call, n = r,
            CASE jsonb_typeof(n) WHEN 'array' THEN jsonb_array_length(n) ELSE (SELECT count(*) FROM jsonb_object_keys(n)) END);
    END LOOP;
END $$;
BEGIN;
SELECT pg_temp.compare_contracts('UTC'), pg_temp.compare_contracts('Asia/Kolkata'), pg_temp.compare_contracts('America/New_York');
COMMIT;
SELECT call, bool_and(same) AS same_as_reference_in_3_zones, min(size) AS keys_or_items
FROM contract_results GROUP BY call ORDER BY call;

-- Arrays are never null, numbers are 0 on an empty window.
SET TimeZone = 'UTC';
BEGIN;
DELETE FROM verification_log;
DELETE FROM api_call_log;
SELECT nezuko_analytics.get_verification_distribution()::jsonb = nz_contracts.get_verification_distribution()::jsonb AS empty_same,
       nezuko_analytics.get_api_calls_distribution()::text AS api_calls,
       nezuko_analytics.get_top_groups()::text AS top_groups,
       nezuko_analytics.get_latency_trend()::jsonb = nz_contracts.get_latency_trend()::jsonb AS trend_same,
       nezuko_analytics.get_latency_trend()::jsonb -> 'series' AS trend_series,
       nezuko_analytics.get_bot_health()::jsonb = nz_contracts.get_bot_health()::jsonb AS health_same;
SELECT jsonb_pretty(nezuko_analytics.dashboard(now() - interval '7 days', now(), 'UTC') - 'window') AS empty_dashboard;
ROLLBACK;

-- Typed variants reject bad windows and granularities.
SELECT nezuko_analytics.get_latency_distribution('2026-02-01', '2026-01-01');
SELECT nezuko_analytics.get_latency_trend(NULL, now());
SELECT nezuko_analytics.get_verification_trends(now() - interval '1 day', now(), 'fortnight');
SELECT nezuko_analytics.get_analytics_overview(now(), NULL);
SELECT jsonb_array_length(nezuko_analytics.get_verification_trends(now() - interval '3 days', now(), 'hour')::jsonb -> 'series') > 0 AS typed_trend_has_rows;

-- dashboard(): section by section against the typed functions and plain SQL.
CREATE TEMP TABLE dashboard_checks (tz text, section text, same boolean);
CREATE FUNCTION pg_temp.check_dashboard(tz text, since timestamptz, until timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE d jsonb := nezuko_analytics.dashboard(since, until, tz);
BEGIN
    INSERT INTO dashboard_checks VALUES
    (tz, 'verification_distribution', d->'verification_distribution' = (
        SELECT jsonb_build_object('verified', count(*) FILTER (WHERE status = 'verified'),
               'restricted', count(*) FILTER (WHERE status = 'restricted'), 'error', count(*) FILTER (WHERE status = 'error'),
               'total', count(*)) FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until)),
    (tz, 'cache_breakdown', d->'cache_breakdown' = (SELECT to_jsonb(c) FROM nezuko_analytics.cache_breakdown(since, until) c)),
    (tz, 'hourly_activity', d->'hourly_activity' = (SELECT jsonb_agg(to_jsonb(h) ORDER BY h.hour) FROM nezuko_analytics.hourly_activity(since, until, tz) h)),
    (tz, 'hourly_activity (plain SQL)', d->'hourly_activity' = (SELECT jsonb_agg(to_jsonb(h) ORDER BY h.hour) FROM nz_reference.hourly_activity(since, until, tz) h)),
    (tz, 'latency.histogram', d->'latency'->'histogram' = (SELECT jsonb_agg(to_jsonb(h) ORDER BY h.lower_ms) FROM nezuko_analytics.latency_histogram(since, until) h)),
    (tz, 'latency.p50/p95/p99', jsonb_build_array(d->'latency'->'p50_ms', d->'latency'->'p95_ms', d->'latency'->'p99_ms') = (
        SELECT jsonb_agg(round(p::numeric, 2)) FROM unnest((
            SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms)
            FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until)) p)),
    (tz, 'latency.avg_ms', d->'latency'->'avg_ms' = (SELECT to_jsonb(round(avg(latency_ms), 0)) FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until)),
    (tz, 'top_groups', d->'top_groups' = (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.verifications DESC, t.group_id) FROM nezuko_analytics.top_groups(since, until, 10) t)),
    (tz, 'api_calls', d->'api_calls' = (SELECT coalesce(jsonb_agg(jsonb_build_object('method', m.method, 'calls', m.calls, 'failures', m.failures,
                                 'success_rate', m.success_rate, 'percentage', m.percentage, 'avg_latency_ms', m.avg_latency_ms,
                                 'p50_latency_ms', m.p50_latency_ms, 'p95_latency_ms', m.p95_latency_ms) ORDER BY m.calls DESC, m.method), '[]')
                                 FROM nz_reference.method_distribution(since, until) m)),
    (tz, 'bot_health', d->'bot_health' = (SELECT to_jsonb(h) FROM nezuko_analytics.bot_health(since, until) h)),
    (tz, 'daily_trend (plain SQL)', d->'daily_trend' = (
        SELECT coalesce(jsonb_agg(jsonb_build_object('date', to_char(day, 'YYYY-MM-DD'), 'verifications', n,
                   'success_rate', CASE WHEN n = 0 THEN 0 ELSE round(100.0 * ok / n, 1) END,
                   'hit_rate', CASE WHEN n = 0 THEN 0 ELSE round(100.0 * hits / n, 1) END,
                   'avg_latency_ms', avg_latency, 'p95_latency_ms', p95) ORDER BY day), '[]')
        FROM (SELECT date_trunc('day', "timestamp" AT TIME ZONE tz)::date AS day, count(*) AS n,
                     count(*) FILTER (WHERE status = 'verified') AS ok, count(*) FILTER (WHERE cached) AS hits,
                     round(avg(latency_ms), 0) AS avg_latency,
                     round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric, 0) AS p95
              FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until GROUP BY 1) x)),
    (tz, 'totals', (d->'totals'->>'verifications')::bigint = (SELECT count(*) FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until)
                   AND (d->'totals'->>'api_calls')::bigint = (SELECT count(*) FROM api_call_log WHERE "timestamp" >= since AND "timestamp" < until));
END $$;
SELECT pg_temp.check_dashboard(tz, now() - interval '90 days', now())
FROM unnest(ARRAY['UTC', 'Asia/Kolkata', 'America/New_York']) tz;
SELECT pg_temp.check_dashboard('Asia/Kathmandu', now() - interval '7 days', now() + interval '7 days');
SELECT section, bool_and(same) AS same_in_every_zone, count(*) AS zones FROM dashboard_checks GROUP BY section ORDER BY section;
SELECT jsonb_object_keys(nezuko_analytics.dashboard(now() - interval '7 days')) AS dashboard_keys ORDER BY 1;

-- One scan of each table (serial, so the leader counts every scan).
SET max_parallel_workers_per_gather = 0;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flush_requested;
BEGIN;
SELECT jsonb_typeof(nezuko_analytics.dashboard(now() - interval '90 days', now(), 'Asia/Kolkata')) AS dashboard;
SELECT relname, seq_scan AS sequential_scans FROM pg_stat_xact_user_tables
WHERE relname IN ('verification_log', 'api_call_log') ORDER BY 1;
COMMIT;

-- The same by EXPLAIN ANALYZE: auto_explain analyzes every statement a call
-- runs (nested ones too) and writes the plans to the server's JSON log, read
-- back here.  dashboard(): each table in one scan node, run once (no nested
-- re-scans); the reference get_dashboard_stats(), for contrast, scans
-- verification_log four times.
LOAD 'auto_explain';
SET auto_explain.log_analyze = on;
SET auto_explain.log_timing = off;
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = json;
SET auto_explain.log_min_duration = 0;  -- the function turns it off while it reads the log
CREATE FUNCTION pg_temp.explained_scans(query text)
RETURNS TABLE (relation text, scan_nodes bigint, loops int, all_scans boolean) LANGUAGE plpgsql AS $$
DECLARE
    log text := pg_current_logfile('jsonlog');
    start bigint := (pg_stat_file(log)).size;
    marker text := 'explained ' || md5(clock_timestamp()::text);
    plans jsonb[];
BEGIN
    EXECUTE query;
    EXECUTE format('SELECT %L', marker);
    PERFORM set_config('auto_explain.log_min_duration', '-1', true);
    FOR attempt IN 1..100 LOOP  -- the logging collector writes asynchronously
        SELECT array_agg((substr(m, strpos(m, '{')))::jsonb) INTO plans
        FROM (SELECT l::jsonb ->> 'message' AS m
              FROM regexp_split_to_table(pg_read_file(log, start, (pg_stat_file(log)).size - start), E'\n') l
              WHERE l LIKE '{%') lines
        WHERE m LIKE 'duration:%plan:%';
        EXIT WHEN EXISTS (SELECT 1 FROM unnest(plans) p WHERE p ->> 'Query Text' LIKE '%' || marker || '%');
        PERFORM pg_sleep(0.1);
    END LOOP;
    RETURN QUERY
        SELECT n ->> 'Relation Name', count(*), max((n ->> 'Actual Loops')::int), bool_and(n ->> 'Node Type' LIKE '%Scan')
        FROM unnest(plans) p, jsonb_path_query(p, 'strict $.** ? (exists (@."Relation Name"))') n
        WHERE n ->> 'Relation Name' IN ('verification_log', 'api_call_log')
        GROUP BY 1 ORDER BY 1;
END $$;
SELECT * FROM pg_temp.explained_scans($$SELECT nezuko_analytics.dashboard(now() - interval '90 days', now(), 'Asia/Kolkata')$$);
SELECT * FROM pg_temp.explained_scans($$SELECT nz_contracts.get_dashboard_stats()$$);
RESET auto_explain.log_min_duration;
RESET max_parallel_workers_per_gather;

-- Bad input.
SELECT nezuko_analytics.dashboard(NULL);
SELECT nezuko_analytics.dashboard('2026-02-01', '2026-01-01');
SELECT nezuko_analytics.dashboard(now() - interval '1 day', now(), 'Not/AZone');
SELECT nezuko_analytics.dashboard(now() - interval '1 day', now(), NULL);

DROP EXTENSION nezuko_analytics;
DROP TABLE protected_groups, enforced_channels, group_channel_links, verification_log, api_call_log CASCADE;
DROP SCHEMA nz_contracts, nz_reference CASCADE;
