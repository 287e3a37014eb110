-- Bad input to the analytics functions: NULL arguments, inverted windows,
-- unknown time zones and sources, limits below 1, bad edges, empty tables,
-- and calls before apply_schema(): the documented result or a clear ERROR.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.cache_breakdown('2026-01-01');   -- before apply_schema()
CREATE SCHEMA bad;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema('bad');

-- Windows.
SELECT * FROM nezuko_analytics.verification_distribution(NULL, now());
SELECT * FROM nezuko_analytics.cache_breakdown('2026-01-01', NULL);
SELECT * FROM nezuko_analytics.hourly_activity('2026-02-01', '2026-01-01');
SELECT * FROM nezuko_analytics.latency_histogram('2026-02-01', '2026-01-01');

-- Time zones, sources, limits, edges.
SELECT * FROM nezuko_analytics.hourly_activity('2026-01-01', '2026-02-01', 'Mars/Olympus_Mons');
SELECT * FROM nezuko_analytics.hourly_activity('2026-01-01', '2026-02-01', NULL);
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', source => 'protected_groups');
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', source => NULL);
SELECT * FROM nezuko_analytics.top_groups('2026-01-01', '2026-02-01', 0);
SELECT * FROM nezuko_analytics.top_groups('2026-01-01', '2026-02-01', -5);
SELECT * FROM nezuko_analytics.top_groups('2026-01-01', '2026-02-01', NULL);
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', '{}');
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', '{100,50}');
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', '{-1,50}');
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', '{50,NULL}');
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', NULL);
SELECT nezuko_analytics.latency_percentiles('2026-01-01', '2026-02-01', source => 'protected_groups');
SELECT nezuko_analytics.latency_percentiles('2026-01-01', '2026-02-01', NULL);
SELECT nezuko_analytics.latency_percentiles('2026-01-01', '2026-02-01', '{0.5,1.5}') AS no_rows_no_check;  -- as percentile_cont
SELECT nezuko_analytics.latency_percentiles('2026-02-01', '2026-01-01');
SELECT nezuko_analytics.latency_bucket(10, '{5,5}');
SELECT nezuko_analytics.latency_bucket(-3);
SELECT nezuko_analytics.latency_bucket(NULL) IS NULL AS null_latency_gives_null;
SELECT nezuko_analytics.latency_bucket(10, '{{1,2},{3,4}}');

-- Empty tables: zeros and every bucket / hour, never an error.
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01');
SELECT * FROM nezuko_analytics.verification_distribution('2026-01-01', '2026-02-01');
SELECT * FROM nezuko_analytics.cache_breakdown('2026-01-01', '2026-02-01');
SELECT count(*) AS hours, sum(verifications) AS verifications FROM nezuko_analytics.hourly_activity('2026-01-01', '2026-02-01', 'Asia/Kolkata');
SELECT * FROM nezuko_analytics.top_groups('2026-01-01', '2026-02-01');
SELECT * FROM nezuko_analytics.method_distribution('2026-01-01', '2026-02-01');
SELECT * FROM nezuko_analytics.bot_health('2026-01-01', '2026-02-01');
SELECT nezuko_analytics.latency_percentiles('2026-01-01', '2026-02-01') IS NULL AS no_latencies_no_percentiles;

-- A negative latency in the data: the histogram says which, the distribution counts it.
INSERT INTO bad.verification_log (user_id, group_id, status, latency_ms, "timestamp")
VALUES (1, 1, 'verified', -7, '2026-01-10 00:00:00+00');
SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01');
SELECT nezuko_analytics.latency_dist(latency_ms) FROM bad.verification_log;
SELECT nezuko_analytics.latency_percentiles('2026-01-01', '2026-02-01', '{0.5,1.5}');

DROP EXTENSION nezuko_analytics;
DROP SCHEMA bad CASCADE;
