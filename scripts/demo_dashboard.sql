-- What the demo prints: the dashboard's charts for the last 7 days, computed
-- by the extension's native functions.
\pset footer off
\echo
\echo 'Bot health, last 7 days'
SELECT * FROM nezuko_analytics.bot_health(now() - interval '7 days');
\echo 'Verification distribution'
SELECT * FROM nezuko_analytics.verification_distribution(now() - interval '7 days');
\echo 'Cache breakdown'
SELECT * FROM nezuko_analytics.cache_breakdown(now() - interval '7 days');
\echo 'Latency distribution, with exact percentiles'
SELECT * FROM nezuko_analytics.latency_histogram(now() - interval '7 days');
SELECT p[1] AS p50_ms, p[2] AS p95_ms, p[3] AS p99_ms
FROM (SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), '{0.5,0.95,0.99}') AS p
      FROM verification_log WHERE "timestamp" >= now() - interval '7 days') s;
\echo 'Top groups'
SELECT * FROM nezuko_analytics.top_groups(now() - interval '7 days', now(), 5);
\echo 'API calls by method'
SELECT method, calls, failures, success_rate, percentage, avg_latency_ms, p95_latency_ms
FROM nezuko_analytics.method_distribution(now() - interval '7 days') LIMIT 6;
\echo 'Hourly activity (UTC), busiest hours'
SELECT label, verifications, restrictions, errors
FROM nezuko_analytics.hourly_activity(now() - interval '7 days') ORDER BY verifications DESC LIMIT 5;
\echo 'The same charts from one call, nezuko_analytics.dashboard() (one scan of each table); its totals, latency and health:'
SELECT jsonb_pretty(jsonb_build_object('totals', d -> 'totals', 'latency', (d -> 'latency') - 'histogram',
                                       'bot_health', d -> 'bot_health', 'daily_trend_days', jsonb_array_length(d -> 'daily_trend')))
       AS dashboard
FROM (SELECT nezuko_analytics.dashboard(now() - interval '7 days', now(), 'UTC') AS d) s;
\echo 'And one of the web app''s contracts, get_verification_distribution():'
SELECT nezuko_analytics.get_verification_distribution();
\echo 'Rollups (docs/rollups.md): exact quarter-hour aggregates, refreshed every minute by pg_cron'
SELECT * FROM nezuko_analytics.enable_rollups() l WHERE l !~ '^created trigger';
SELECT source, materialized_from, watermark, rollup_rows, pg_size_pretty(rollup_bytes) AS size FROM nezuko_analytics.rollup_status();
\echo 'The 90-day dashboard is the same with rollups and without (a late row written now counts at once):'
INSERT INTO verification_log (user_id, group_id, status, latency_ms, "timestamp") VALUES (42, 1, 'verified', 77, now() - interval '30 days');
SELECT (SELECT nezuko_analytics.dashboard(now() - interval '90 days', now(), 'UTC')) =
       (SELECT nezuko_analytics.dashboard(now() - interval '90 days', now(), 'UTC')
        FROM set_config('nezuko_analytics.use_rollups', 'off', false)) AS same_with_and_without_rollups;
