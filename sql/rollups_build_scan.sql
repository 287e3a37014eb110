-- The rollup build's own read (rollup_build_scan(), docs/rollups.md "The
-- build"): the same quarter hours as the build aggregates, row for row, read
-- by one process, by parallel workers of its own (whose runs of pages meet
-- inside quarter hours), by the leader alone when no worker starts, and
-- through the "timestamp" index; with late rows, which open a quarter hour
-- the read had finished already.  rollup_build() takes the sequential scan
-- for most of a table and the index for a small range, and the aggregates
-- where the native path may not read (row-level security).  The same rows
-- one at a time (rollup_verification_rows(), rollup_api_call_rows()), as
-- rollup_materialize() inserts them.  Bad input.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA bs;
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema('bs');

-- 40 days of rows in time order, then 3,000 late rows spread over them (on
-- the table's last pages); NULL latencies, every status, 97 groups.  API
-- calls of three methods, NULL success and latencies, and a late run.
INSERT INTO bs.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 97, (ARRAY['verified', 'restricted', 'error', 'pending'])[1 + i % 4],
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 37) % 900 END, i % 3 = 0,
       timestamptz '2026-10-01 00:00:00+00' + i * interval '17 seconds'
FROM generate_series(1, 200000) i;
INSERT INTO bs.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 5, 'verified', i % 300, false, timestamptz '2026-10-01 00:00:00+00' + (i * 7919 % 200000) * interval '17 seconds'
FROM generate_series(1, 3000) i;
INSERT INTO bs.api_call_log (method, success, latency_ms, "timestamp")
SELECT (ARRAY['getChatMember', 'restrictChatMember', 'sendMessage'])[1 + i % 3],
       CASE WHEN i % 7 = 0 THEN NULL ELSE i % 5 <> 0 END, CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 29) % 700 END,
       timestamptz '2026-10-01 00:00:00+00' + i * interval '23 seconds'
FROM generate_series(1, 100000) i;
INSERT INTO bs.api_call_log (method, success, latency_ms, "timestamp")
SELECT 'getChat', true, i, timestamptz '2026-10-03 00:00:00+00' + i * interval '1 minute' FROM generate_series(1, 500) i;
ANALYZE bs.verification_log, bs.api_call_log;

-- The rows of rollup_build_scan() that the aggregates do not give, and the
-- other way round (as text: equal distributions print alike), and how many.
CREATE FUNCTION pg_temp.verification_differences(lo timestamptz, hi timestamptz, whole boolean,
                                                 OUT quarter_hours bigint, OUT differences bigint)
LANGUAGE sql AS $$
    WITH native AS (SELECT x::text AS r FROM unnest((nezuko_analytics.rollup_build_scan('bs', 'verification_log', lo, hi, whole)).verification) x),
         agg AS (SELECT x::text AS r
                 FROM unnest((SELECT nezuko_analytics.verification_quarter_hours(v."timestamp", v.status::text, v.latency_ms, v.cached, v.group_id::bigint)
                              FROM bs.verification_log v WHERE v."timestamp" >= lo AND v."timestamp" < hi)) x)
    SELECT (SELECT count(*) FROM native),
           (SELECT count(*) FROM ((SELECT r FROM native EXCEPT ALL SELECT r FROM agg) UNION ALL
                                  (SELECT r FROM agg EXCEPT ALL SELECT r FROM native)) d)
$$;
CREATE FUNCTION pg_temp.api_differences(lo timestamptz, hi timestamptz, whole boolean,
                                        OUT quarter_hours bigint, OUT differences bigint)
LANGUAGE sql AS $$
    WITH native AS (SELECT x::text AS r FROM unnest((nezuko_analytics.rollup_build_scan('bs', 'api_call_log', lo, hi, whole)).api) x),
         agg AS (SELECT x::text AS r
                 FROM unnest((SELECT nezuko_analytics.api_quarter_hours(a."timestamp", a.method::text, a.success, a.latency_ms)
                              FROM bs.api_call_log a WHERE a."timestamp" >= lo AND a."timestamp" < hi)) x)
    SELECT (SELECT count(*) FROM native),
           (SELECT count(*) FROM ((SELECT r FROM native EXCEPT ALL SELECT r FROM agg) UNION ALL
                                  (SELECT r FROM agg EXCEPT ALL SELECT r FROM native)) d)
$$;

-- One process (no parallel maintenance workers), all of the table and a
-- part off the quarter hours; then the same through the index.
SET max_parallel_maintenance_workers = 0;
SELECT 'one process' AS read, * FROM pg_temp.verification_differences('2026-09-01', '2026-12-01', true)
UNION ALL SELECT 'one process, a part', * FROM pg_temp.verification_differences('2026-10-10 07:05', '2026-10-20 13:20', true)
UNION ALL SELECT 'index, a part', * FROM pg_temp.verification_differences('2026-10-10 07:05', '2026-10-20 13:20', false)
UNION ALL SELECT 'index, empty', * FROM pg_temp.verification_differences('2027-10-10', '2027-10-20', false)
UNION ALL SELECT 'api, one process', * FROM pg_temp.api_differences('2026-09-01', '2026-12-01', true)
UNION ALL SELECT 'api, index, a part', * FROM pg_temp.api_differences('2026-10-02 22:50', '2026-10-04', false);

-- Parallel workers: 2, then 4 (runs of pages that meet inside quarter
-- hours, one holding the late rows); and none started (the leader alone).
SET min_parallel_table_scan_size = 0;
SET max_parallel_maintenance_workers = 2;
SET client_min_messages = debug1;
SELECT (nezuko_analytics.rollup_build_scan('bs', 'verification_log', '2026-09-01', '2026-12-01', true)).verification IS NOT NULL AS read;
SET max_parallel_maintenance_workers = 4;
SELECT (nezuko_analytics.rollup_build_scan('bs', 'verification_log', '2026-09-01', '2026-12-01', true)).verification IS NOT NULL AS read;
SET max_parallel_workers = 0;
SELECT (nezuko_analytics.rollup_build_scan('bs', 'verification_log', '2026-09-01', '2026-12-01', true)).verification IS NOT NULL AS read;
RESET client_min_messages;
SELECT 'no worker started' AS read, * FROM pg_temp.verification_differences('2026-09-01', '2026-12-01', true);
RESET max_parallel_workers;
SELECT '4 workers' AS read, * FROM pg_temp.verification_differences('2026-09-01', '2026-12-01', true)
UNION ALL SELECT '4 workers, a part', * FROM pg_temp.verification_differences('2026-10-10 07:05', '2026-10-20 13:20', true)
UNION ALL SELECT 'api, 4 workers', * FROM pg_temp.api_differences('2026-09-01', '2026-12-01', true);
SET max_parallel_maintenance_workers = 2;
SELECT '2 workers' AS read, * FROM pg_temp.verification_differences('2026-09-01', '2026-12-01', true)
UNION ALL SELECT 'api, 2 workers', * FROM pg_temp.api_differences('2026-09-01', '2026-12-01', true);

-- A table of fewer pages than the runs it is cut into (2 workers, 4 runs
-- each; some runs have no page): the rows of one process.
CREATE SCHEMA tiny;
CREATE TABLE tiny.verification_log (LIKE bs.verification_log INCLUDING DEFAULTS INCLUDING INDEXES);
INSERT INTO tiny.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 7, (ARRAY['verified', 'error'])[1 + i % 2], i % 50, i % 3 = 0, timestamptz '2026-10-01 00:00:00+00' + i * interval '1 minute'
FROM generate_series(1, 300) i;
SELECT pg_relation_size('tiny.verification_log') / current_setting('block_size')::int AS pages;
CREATE TEMP TABLE tiny_parallel (rows text);
SET client_min_messages = debug1;
INSERT INTO tiny_parallel
SELECT (nezuko_analytics.rollup_build_scan('tiny', 'verification_log', '-infinity', 'infinity', true)).verification::text;
RESET client_min_messages;
SET max_parallel_maintenance_workers = 0;
SELECT p.rows = (nezuko_analytics.rollup_build_scan('tiny', 'verification_log', '-infinity', 'infinity', true)).verification::text
       AS workers_equal_one_process,
       cardinality((nezuko_analytics.rollup_build_scan('tiny', 'verification_log', '-infinity', 'infinity', true)).verification) AS quarter_hours
FROM tiny_parallel p;
SET max_parallel_maintenance_workers = 2;
DROP TABLE tiny_parallel;
DROP SCHEMA tiny CASCADE;

-- rollup_build(): most of the table by the sequential scan, a small range
-- through the index (the DEBUG lines say which).
SET client_min_messages = debug1;
SELECT cardinality(verification) > 0 AS built FROM nezuko_analytics.rollup_build('verification_log', '2026-09-01', '2026-12-01');
SELECT cardinality(verification) AS quarter_hours FROM nezuko_analytics.rollup_build('verification_log', '2026-10-10 07:00', '2026-10-10 08:00');
-- Its two ways: its own read (here) and the aggregates it falls back to give
-- the same rows (in order of their quarter hours; the methods of one quarter
-- hour in the order the rows came).
SELECT n.verification::text = a.verification::text AS native_equals_aggregates, cardinality(n.verification) AS quarter_hours
FROM nezuko_analytics.rollup_build('verification_log', '2026-09-01', '2026-12-01') n,
     nezuko_analytics.rollup_build_aggregates('verification_log', '2026-09-01', '2026-12-01') a;
SELECT ARRAY(SELECT x::text FROM unnest(n.api) x ORDER BY 1) = ARRAY(SELECT x::text FROM unnest(a.api) x ORDER BY 1)
       AS native_equals_aggregates, cardinality(n.api) AS quarter_hours
FROM nezuko_analytics.rollup_build('api_call_log', '2026-10-02', '2026-10-04') n,
     nezuko_analytics.rollup_build_aggregates('api_call_log', '2026-10-02', '2026-10-04') a;
RESET client_min_messages;
RESET min_parallel_table_scan_size;
RESET max_parallel_maintenance_workers;

-- The same rows one at a time (rollup_verification_rows(),
-- rollup_api_call_rows(), what rollup_materialize() inserts): equal to
-- rollup_build_scan()'s arrays, in the same order (the methods of a quarter
-- hour come in the order the workers' runs were merged, which may change
-- from one read to the next: compared sorted), by the sequential scan
-- (with and without parallel workers) and through the index, over the whole
-- table, a part off the quarter hours and an empty range.
CREATE FUNCTION pg_temp.rows_equal_arrays(lo timestamptz, hi timestamptz, whole boolean,
                                          OUT quarter_hours bigint, OUT equal boolean)
LANGUAGE sql AS $$
    SELECT cardinality(a.verification) + cardinality(b.api),
           ARRAY(SELECT r::text FROM (SELECT nezuko_analytics.rollup_verification_rows('bs', lo, hi, whole) r) v)
             = ARRAY(SELECT x::text FROM unnest(a.verification) x)
           AND ARRAY(SELECT r::text FROM (SELECT nezuko_analytics.rollup_api_call_rows('bs', lo, hi, whole) r) v ORDER BY 1)
             = ARRAY(SELECT x::text FROM unnest(b.api) x ORDER BY 1)
    FROM nezuko_analytics.rollup_build_scan('bs', 'verification_log', lo, hi, whole) a,
         nezuko_analytics.rollup_build_scan('bs', 'api_call_log', lo, hi, whole) b
$$;
SET min_parallel_table_scan_size = 0;
SET max_parallel_maintenance_workers = 2;
SELECT 'scan, 2 workers' AS read, * FROM pg_temp.rows_equal_arrays('2026-09-01', '2026-12-01', true)
UNION ALL SELECT 'scan, 2 workers, a part', * FROM pg_temp.rows_equal_arrays('2026-10-10 07:05', '2026-10-20 13:20', true)
UNION ALL SELECT 'index, a part', * FROM pg_temp.rows_equal_arrays('2026-10-02 22:50', '2026-10-04', false)
UNION ALL SELECT 'index, empty', * FROM pg_temp.rows_equal_arrays('2027-10-10', '2027-10-20', false);
SET max_parallel_maintenance_workers = 0;
SELECT 'scan, one process' AS read, * FROM pg_temp.rows_equal_arrays('2026-09-01', '2026-12-01', true);
RESET max_parallel_maintenance_workers;
RESET min_parallel_table_scan_size;
-- In FROM too (where the executor stores them first), with LIMIT (the
-- rows not asked for are never made; the builder's memory goes with the
-- statement).
SELECT count(*) AS quarter_hours, min(bucket), max(bucket)
FROM nezuko_analytics.rollup_verification_rows('bs', '2026-10-10 07:00', '2026-10-10 09:00', false);
SELECT bucket, method, calls FROM (SELECT (r).* FROM (SELECT nezuko_analytics.rollup_api_call_rows('bs', '2026-10-02', '2026-10-04', true) r OFFSET 0) u) x
ORDER BY bucket, method LIMIT 3;
SELECT count(*) AS first_rows FROM (SELECT nezuko_analytics.rollup_verification_rows('bs', '2026-09-01', '2026-12-01', true) r LIMIT 2) u;
-- rollup_materialize() inserts these rows; where the build's own read may
-- not read the table (here native reads turned off) it inserts the
-- aggregates' rows: the same table either way.
SELECT nezuko_analytics.rollup_materialize('verification_log', '2026-09-01', '2026-12-01'),
       nezuko_analytics.rollup_materialize('api_call_log', '2026-09-01', '2026-12-01');
CREATE TEMP TABLE materialized_natively AS
SELECT 'v' AS t, r::text AS r FROM nezuko_analytics.rollup_verifications r
UNION ALL SELECT 'a', r::text FROM nezuko_analytics.rollup_api_calls r;
SET nezuko_analytics.native_reads = off;
SELECT nezuko_analytics.rollup_rows_readable('bs', 'verification_log') AS readable_without_native_reads;
SELECT nezuko_analytics.rollup_materialize('verification_log', '2026-09-01', '2026-12-01'),
       nezuko_analytics.rollup_materialize('api_call_log', '2026-09-01', '2026-12-01');
RESET nezuko_analytics.native_reads;
SELECT (SELECT count(*) FROM materialized_natively) AS rows,
       (SELECT count(*) FROM ((SELECT * FROM materialized_natively
                               EXCEPT ALL (SELECT 'v', r::text FROM nezuko_analytics.rollup_verifications r
                                           UNION ALL SELECT 'a', r::text FROM nezuko_analytics.rollup_api_calls r))
                              UNION ALL
                              ((SELECT 'v', r::text FROM nezuko_analytics.rollup_verifications r
                                UNION ALL SELECT 'a', r::text FROM nezuko_analytics.rollup_api_calls r)
                               EXCEPT ALL SELECT * FROM materialized_natively)) d) AS differences;
DELETE FROM nezuko_analytics.rollup_verifications;
DELETE FROM nezuko_analytics.rollup_api_calls;

-- Where the native path may not read (row-level security): the record is
-- NULL, and rollup_build() gives the aggregates' rows
-- (rollup_build_aggregates()); rollup_rows_readable() says so, and the
-- functions that give the rows one at a time refuse.
CREATE ROLE bs_reader;
GRANT USAGE ON SCHEMA bs, nezuko_analytics TO bs_reader;
GRANT SELECT ON bs.verification_log, nezuko_analytics.schema_state TO bs_reader;
GRANT EXECUTE ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_build(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) TO bs_reader;
ALTER TABLE bs.verification_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY everything ON bs.verification_log FOR SELECT TO bs_reader USING (true);
SET ROLE bs_reader;
SELECT nezuko_analytics.rollup_build_scan('bs', 'verification_log', '2026-09-01', '2026-12-01', true) IS NULL AS refused;
SELECT cardinality(verification) AS quarter_hours FROM nezuko_analytics.rollup_build('verification_log', '2026-10-10 07:00', '2026-10-10 08:00');
SELECT nezuko_analytics.rollup_rows_readable('bs', 'verification_log') AS readable;
SELECT count(*) FROM nezuko_analytics.rollup_verification_rows('bs', '2026-10-10 07:00', '2026-10-10 08:00', false);
RESET ROLE;
SELECT nezuko_analytics.rollup_rows_readable('bs', 'verification_log') AS readable_by_the_owner;
ALTER TABLE bs.verification_log DISABLE ROW LEVEL SECURITY;

-- Rows scattered among older pages, as after retention's deletes were
-- vacuumed: every 40th row deleted and the tables vacuumed, then a new
-- day's rows in the room that left (a few to a page), some of them updated
-- and some deleted again.  The read through the index takes a page it
-- points to few rows of row by row (each row as an index scan fetches it,
-- its visible version), the others whole: the aggregates' rows either way.
DELETE FROM bs.verification_log WHERE id % 40 = 0;
DELETE FROM bs.api_call_log WHERE id % 40 = 0;
VACUUM bs.verification_log, bs.api_call_log;
INSERT INTO bs.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 31, (ARRAY['verified', 'restricted', 'error'])[1 + i % 3], CASE WHEN i % 9 = 0 THEN NULL ELSE i % 500 END,
       i % 2 = 0, timestamptz '2026-11-20 00:00:00+00' + i * interval '20 seconds'
FROM generate_series(1, 3000) i;
INSERT INTO bs.api_call_log (method, success, latency_ms, "timestamp")
SELECT (ARRAY['getChatMember', 'sendMessage'])[1 + i % 2], i % 6 <> 0, i % 400, timestamptz '2026-11-20 00:00:00+00' + i * interval '45 seconds'
FROM generate_series(1, 1500) i;
UPDATE bs.verification_log SET latency_ms = latency_ms + 1, status = 'verified' WHERE "timestamp" >= '2026-11-20' AND id % 7 = 0;
DELETE FROM bs.verification_log WHERE "timestamp" >= '2026-11-20' AND id % 11 = 0;
UPDATE bs.api_call_log SET success = NOT success WHERE "timestamp" >= '2026-11-20' AND id % 5 = 0;
SELECT count(DISTINCT (ctid::text::point)[0]) * 4 > count(*) AS at_most_four_to_a_page FROM bs.verification_log WHERE "timestamp" >= '2026-11-20 00:00+00';
SELECT 'index, scattered rows' AS read, * FROM pg_temp.verification_differences('2026-11-20', '2026-11-21', false)
UNION ALL SELECT 'index, scattered, a part', * FROM pg_temp.verification_differences('2026-11-20 03:05', '2026-11-20 09:50', false)
UNION ALL SELECT 'api, index, scattered rows', * FROM pg_temp.api_differences('2026-11-20', '2026-11-21', false);

-- Bad input.
SELECT nezuko_analytics.rollup_build_scan('bs', 'users', '2026-09-01', '2026-12-01', true);
SELECT nezuko_analytics.rollup_build_scan('bs', NULL, '2026-09-01', '2026-12-01', true);
SELECT nezuko_analytics.rollup_build_scan('nowhere', 'verification_log', '2026-09-01', '2026-12-01', true);
SELECT nezuko_analytics.rollup_verification_rows('bs', NULL, '2026-12-01', true);
SELECT nezuko_analytics.rollup_api_call_rows('nowhere', '2026-09-01', '2026-12-01', true);
SELECT nezuko_analytics.rollup_rows_readable('bs', 'users');
SELECT nezuko_analytics.rollup_rows_readable('bs', NULL);

DROP EXTENSION nezuko_analytics;
DROP SCHEMA bs CASCADE;
DROP ROLE bs_reader;
