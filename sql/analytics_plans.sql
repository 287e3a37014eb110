-- Plans: the aggregates run in parallel (Partial Aggregate under Gather) and
-- give the serial answer; a short window reads verification_log through the
-- timestamp index, not a full scan.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA plans;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema('plans');
\set schema plans
\set vrows 50000
\set arows 5000
\set anchor '''2026-11-20 00:00:00+00'''
\set ECHO none
\i test/data/generate_sample.sql
\set ECHO all
SET search_path = plans, public;

-- Serial answers first.
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial AS
SELECT nezuko_analytics.latency_dist(latency_ms)::text AS dist,
       nezuko_analytics.latency_bucket_counts(latency_ms, '{50,100,200,500}') AS buckets,
       nezuko_analytics.hourly_status_counts("timestamp", status, (SELECT nezuko_analytics.tz_offsets('2026-01-01', '2027-01-01', 'America/St_Johns'))) AS hours
FROM verification_log;

-- Force a parallel plan (as tdigest's tests do).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF)
SELECT nezuko_analytics.latency_dist(latency_ms),
       nezuko_analytics.latency_bucket_counts(latency_ms, '{50,100,200,500}'),
       nezuko_analytics.hourly_status_counts("timestamp", status, (SELECT nezuko_analytics.tz_offsets('2026-01-01', '2027-01-01', 'America/St_Johns')))
FROM verification_log;
SELECT s.dist = p.dist AS latency_dist_same, s.buckets = p.buckets AS buckets_same, s.hours = p.hours AS hours_same
FROM serial s, (SELECT nezuko_analytics.latency_dist(latency_ms)::text AS dist,
                       nezuko_analytics.latency_bucket_counts(latency_ms, '{50,100,200,500}') AS buckets,
                       nezuko_analytics.hourly_status_counts("timestamp", status, (SELECT nezuko_analytics.tz_offsets('2026-01-01', '2027-01-01', 'America/St_Johns'))) AS hours
                FROM verification_log) p;
-- merge() of per-group states, in parallel too.
EXPLAIN (COSTS OFF)
SELECT nezuko_analytics.merge(d) FROM (SELECT group_id, nezuko_analytics.latency_dist(latency_ms) AS d FROM verification_log GROUP BY group_id) g;
SELECT nezuko_analytics.merge(d)::text = (SELECT dist FROM serial) AS merged_same
FROM (SELECT group_id, nezuko_analytics.latency_dist(latency_ms) AS d FROM verification_log GROUP BY group_id) g;
-- Grouped and parallel: percentiles per method equal percentile_cont.
SELECT count(*) AS methods, count(*) FILTER (WHERE n <> r) AS differing
FROM (SELECT method, nezuko_analytics.percentile(nezuko_analytics.latency_dist(latency_ms), 0.95) AS n,
             percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS r
      FROM api_call_log GROUP BY method) m;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;

-- A one-day window: every chart function reads verification_log (and
-- api_call_log) through an index, never with a sequential scan.  Each call
-- runs in a transaction of its own, and pg_stat_xact_user_tables counts that
-- transaction's scans once earlier counts are flushed (the planner's own index
-- probes count as index scans too).
CREATE TEMP TABLE calls(fn text, call text);
INSERT INTO calls VALUES
  ('latency_histogram', 'SELECT * FROM nezuko_analytics.latency_histogram(''2026-11-10'', ''2026-11-11'')'),
  ('latency_histogram api_call_log', 'SELECT * FROM nezuko_analytics.latency_histogram(''2026-11-10'', ''2026-11-11'', source => ''api_call_log'')'),
  ('verification_distribution', 'SELECT * FROM nezuko_analytics.verification_distribution(''2026-11-10'', ''2026-11-11'')'),
  ('cache_breakdown', 'SELECT * FROM nezuko_analytics.cache_breakdown(''2026-11-10'', ''2026-11-11'')'),
  ('hourly_activity', 'SELECT * FROM nezuko_analytics.hourly_activity(''2026-11-10'', ''2026-11-11'', ''Asia/Kolkata'')'),
  ('top_groups', 'SELECT * FROM nezuko_analytics.top_groups(''2026-11-10'', ''2026-11-11'', 5)'),
  ('bot_health', 'SELECT * FROM nezuko_analytics.bot_health(''2026-11-10'', ''2026-11-11'')'),
  ('method_distribution', 'SELECT * FROM nezuko_analytics.method_distribution(''2026-11-10'', ''2026-11-11'')');
CREATE TEMP TABLE observed(fn text, rel text, seq_scans bigint, index_scans bigint);
SELECT q FROM calls, LATERAL (VALUES
    (0, 'SELECT pg_stat_force_next_flush() IS NOT NULL AS flush_requested'),  -- 15 keeps unflushed counts in the xact view
    (1, 'BEGIN'),
    (2, format('DO $$BEGIN PERFORM * FROM (%s) c; END$$', call)),
    (3, format($i$INSERT INTO observed SELECT %L, relname, seq_scan, idx_scan FROM pg_stat_xact_user_tables
                 WHERE schemaname = 'plans' AND relname IN ('verification_log', 'api_call_log')$i$, fn)),
    (4, 'COMMIT')
) v(step, q) ORDER BY fn, step \gexec
SELECT fn, rel, seq_scans, index_scans > 0 AS read_through_index
FROM observed WHERE seq_scans > 0 OR index_scans > 0 ORDER BY fn, rel;
-- Latency figures read a 90-day window through the "timestamp"-led index that
-- holds latency_ms (idx_verification_log_timestamp_latency, index-only), not
-- with a sequential scan; the caller's planner settings are as they were afterwards.
SET max_parallel_workers_per_gather = 0;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flush_requested;
BEGIN;
SELECT nezuko_analytics.latency_percentiles('2026-08-22', '2026-11-20') IS NOT NULL AS percentiles,
       (SELECT count(*) FROM nezuko_analytics.latency_histogram('2026-08-22', '2026-11-20')) AS buckets;
SELECT relname, seq_scan, idx_scan > 0 AS index_scans
FROM pg_stat_xact_user_tables WHERE schemaname = 'plans' AND relname = 'verification_log';
COMMIT;
SHOW enable_seqscan;
SHOW enable_bitmapscan;
RESET max_parallel_workers_per_gather;

-- And a 90-day window of a chart that needs more columns is a sequential (parallel) scan, as it should be.
SET max_parallel_workers_per_gather = 0;
SELECT pg_stat_force_next_flush() IS NOT NULL AS flush_requested;
BEGIN;
SELECT count(*) AS groups FROM nezuko_analytics.top_groups('2026-08-22', '2026-11-20', 5);
SELECT relname, seq_scan > 0 AS sequential_scan FROM pg_stat_xact_user_tables WHERE schemaname = 'plans' AND relname = 'verification_log';
COMMIT;
RESET max_parallel_workers_per_gather;

RESET search_path;
DROP EXTENSION nezuko_analytics;
DROP SCHEMA plans CASCADE;
