-- Differential tests: every typed chart function equals its plain-SQL
-- reference (test/reference/charts_reference.sql) on generated data with
-- NULL latencies, empty windows, rows exactly on the window edges, future
-- rows, rows at +-infinity and in the first and last finite years, windows
-- open at either end, several time zones (a DST change included), many
-- groups, groups without a title and latencies up to hours.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA diff;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema('diff');
\set schema diff
\set vrows 30000
\set arows 6000
\set groups 400
\set anchor '''2026-11-20 00:00:00+00'''
\set ECHO none
\i test/data/generate_sample.sql
\set ECHO all
SET search_path = diff, public;
-- Edge rows: exactly on the window edges, in the future, hour-long latencies,
-- all-NULL latencies in one group, a group with no protected_groups row.
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (1, -1000000000001, 'verified', 49, true, '2026-11-13 00:00:00+00'),    -- exactly on since of the 7-day window
    (2, -1000000000001, 'error', 50, false, '2026-11-20 00:00:00+00'),      -- exactly on until: excluded
    (3, -1000000000002, 'restricted', 7200000, false, '2026-11-14 12:00:00+00'), -- 2 hours
    (4, -1000000000002, 'verified', 10800007, true, '2026-11-15 12:00:00+00'),   -- 3 hours
    (5, -1000000000003, 'verified', NULL, false, '2026-11-16 12:00:00+00'),
    (6, 424242, 'verified', 12, false, '2026-11-17 12:00:00+00'),           -- no protected_groups row
    (7, -1000000000004, 'verified', 100, false, '2027-01-01 00:00:00+00'),  -- future row
    (8, -1000000000004, 'pending', 80, false, '2026-11-18 12:00:00+00'),    -- an unknown status
    (9, -1000000000005, 'verified', 0, false, '2026-11-01 05:30:00+00'),    -- around the US DST change
    (10, -1000000000005, 'restricted', 500, false, '2026-11-01 06:30:00+00');
-- Rows at the ends of time: +-infinity and the first and last finite years.
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (11, -1000000000006, 'verified', 33, true, 'infinity'),
    (12, -1000000000006, 'error', 34, false, '-infinity'),
    (13, -1000000000006, 'restricted', 35, true, '4713-01-01 00:00:00+00 BC'),
    (14, -1000000000006, 'verified', 36, false, '294276-01-01 00:00:00+00');
INSERT INTO api_call_log (method, success, latency_ms, "timestamp") VALUES
    ('edgeMethod', true, 7, 'infinity'), ('edgeMethod', false, 8, '-infinity'),
    ('edgeMethod', true, 9, '4713-01-01 00:00:00+00 BC'), ('edgeMethod', true, 10, '294276-01-01 00:00:00+00');
INSERT INTO api_call_log (method, success, latency_ms, "timestamp") VALUES
    ('getChatMember', true, 3600000, '2026-11-14 00:00:00+00'),
    ('rareMethod', NULL, NULL, '2026-11-15 00:00:00+00'),
    ('getChatMember', false, 5, '2026-11-13 00:00:00+00'),
    ('getChatMember', true, 5, '2026-11-20 00:00:00+00');
ANALYZE;
\set ECHO none
\i test/reference/charts_reference.sql
\set ECHO all

-- Rows of the native result not in the reference, and the other way round.
CREATE FUNCTION pg_temp.differences(native text, reference text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM ((%s EXCEPT ALL %s) UNION ALL (%s EXCEPT ALL %s)) d',
                   native, reference, reference, native) INTO n;
    RETURN n;
END $$;
CREATE FUNCTION pg_temp.row_count(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN EXECUTE format('SELECT count(*) FROM (%s) q', q) INTO n; RETURN n; END $$;

CREATE TEMP TABLE windows(name text, since timestamptz, until timestamptz);
INSERT INTO windows VALUES
    ('7 days', '2026-11-13 00:00:00+00', '2026-11-20 00:00:00+00'),
    ('90 days', '2026-08-22 00:00:00+00', '2026-11-20 00:00:00+00'),
    ('all, future too', '2020-01-01 00:00:00+00', '2030-01-01 00:00:00+00'),
    ('empty (since = until)', '2026-11-13 00:00:00+00', '2026-11-13 00:00:00+00'),
    ('all time', '-infinity', 'infinity'),
    ('open: since 7 days, no end', '2026-11-13 00:00:00+00', 'infinity'),
    ('until 7 days ago, no start', '-infinity', '2026-11-13 00:00:00+00'),
    ('no data (2020)', '2020-01-01 00:00:00+00', '2020-02-01 00:00:00+00');

CREATE TEMP TABLE cases(fn text, native text, reference text);
INSERT INTO cases
SELECT 'latency_histogram', format('SELECT * FROM nezuko_analytics.latency_histogram(%L, %L)', since, until),
       format('SELECT * FROM nz_reference.latency_histogram(%L, %L)', since, until) FROM windows
UNION ALL
SELECT 'latency_histogram(api_call_log)', format('SELECT * FROM nezuko_analytics.latency_histogram(%L, %L, source => ''api_call_log'')', since, until),
       format('SELECT * FROM nz_reference.latency_histogram(%L, %L, ''api_call_log'')', since, until) FROM windows
UNION ALL
SELECT 'verification_distribution', format('SELECT * FROM nezuko_analytics.verification_distribution(%L, %L)', since, until),
       format('SELECT * FROM nz_reference.verification_distribution(%L, %L)', since, until) FROM windows
UNION ALL
SELECT 'cache_breakdown', format('SELECT * FROM nezuko_analytics.cache_breakdown(%L, %L)', since, until),
       format('SELECT * FROM nz_reference.cache_breakdown(%L, %L)', since, until) FROM windows
UNION ALL
SELECT 'hourly_activity ' || tz, format('SELECT * FROM nezuko_analytics.hourly_activity(%L, %L, %L)', since, until, tz),
       format('SELECT * FROM nz_reference.hourly_activity(%L, %L, %L)', since, until, tz)
FROM windows, unnest(ARRAY['UTC', 'Asia/Kolkata', 'America/New_York', 'Asia/Kathmandu']) tz
UNION ALL
SELECT 'top_groups ' || n, format('SELECT * FROM nezuko_analytics.top_groups(%L, %L, %s)', since, until, n),
       format('SELECT * FROM nz_reference.top_groups(%L, %L, %s)', since, until, n)
FROM windows, unnest(ARRAY[1, 10, 1000]) n
UNION ALL
SELECT 'method_distribution', format('SELECT * FROM nezuko_analytics.method_distribution(%L, %L)', since, until),
       format('SELECT * FROM nz_reference.method_distribution(%L, %L)', since, until) FROM windows
UNION ALL
SELECT 'bot_health', format('SELECT * FROM nezuko_analytics.bot_health(%L, %L)', since, until),
       format('SELECT * FROM nz_reference.bot_health(%L, %L)', since, until) FROM windows
UNION ALL
SELECT 'latency_percentiles', format('SELECT nezuko_analytics.latency_percentiles(%L, %L)', since, until),
       format('SELECT nz_reference.latency_percentiles(%L, %L)', since, until) FROM windows
UNION ALL
SELECT 'percentiles', format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), ''{0.5,0.95,0.99}'') FROM verification_log WHERE "timestamp" >= %L AND "timestamp" < %L', since, until),
       format('SELECT nz_reference.latency_percentiles(%L, %L)', since, until) FROM windows;
-- Windows are named in the output through the case's position.
SELECT fn, w.name AS "window",
       pg_temp.row_count(native) AS native_rows,
       pg_temp.differences(native, reference) AS differences
FROM cases c CROSS JOIN LATERAL (SELECT name FROM windows WHERE c.native LIKE '%' || since::text || '%' || until::text || '%' LIMIT 1) w
ORDER BY fn, w.name;

-- Ordering is part of the contract: compare in order too.
SELECT array_agg(method ORDER BY ord) = (SELECT array_agg(method ORDER BY ord) FROM nz_reference.method_distribution('2026-08-22', '2026-11-20') WITH ORDINALITY r(method, a, b, c, d, e, f, g, ord))
       AS method_order_same
FROM nezuko_analytics.method_distribution('2026-08-22', '2026-11-20') WITH ORDINALITY n(method, a, b, c, d, e, f, g, ord);
SELECT array_agg(group_id ORDER BY ord) = (SELECT array_agg(group_id ORDER BY ord) FROM nz_reference.top_groups('2026-08-22', '2026-11-20', 50) WITH ORDINALITY r(group_id, a, b, c, d, ord))
       AS top_groups_order_same
FROM nezuko_analytics.top_groups('2026-08-22', '2026-11-20', 50) WITH ORDINALITY n(group_id, a, b, c, d, ord);

-- Exact percentiles per group, for many p, against percentile_cont: equal for
-- every value below 2^20 ms; the one group holding a 3-hour latency differs
-- where the percentile reaches that value, within the documented 2^-19.
SELECT count(*) AS group_percentiles_compared,
       count(*) FILTER (WHERE native IS DISTINCT FROM reference) AS differing,
       count(*) FILTER (WHERE native IS DISTINCT FROM reference
                          AND (SELECT bool_and(abs(n - r) <= abs(r) * 2 ^ -19)
                               FROM unnest(native, reference) u(n, r))) AS differing_only_by_documented_rounding
FROM (SELECT group_id,
             nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), ARRAY[0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) AS native,
             percentile_cont(ARRAY[0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) WITHIN GROUP (ORDER BY latency_ms) AS reference
      FROM verification_log GROUP BY group_id) g;
-- Daily distributions merged into one equal the distribution of all rows.
SELECT nezuko_analytics.merge(d)::text = (SELECT nezuko_analytics.latency_dist(latency_ms)::text FROM verification_log) AS merged_equals_whole,
       nezuko_analytics.count(nezuko_analytics.merge(d)) = (SELECT count(latency_ms) FROM verification_log) AS counts_agree,
       round(nezuko_analytics.mean(nezuko_analytics.merge(d))::numeric, 6) = round((SELECT avg(latency_ms) FROM verification_log), 6) AS means_agree
FROM (SELECT date_trunc('day', "timestamp"), nezuko_analytics.latency_dist(latency_ms) AS d
      FROM verification_log GROUP BY 1) daily;
-- Large values: the 3-hour latency 10,800,007 ms is kept to 20 significant bits
-- (rounded down to a multiple of 16 ms: 10,800,000), as README documents.
SELECT nezuko_analytics.percentile(nezuko_analytics.latency_dist(latency_ms), 1) AS max_native,
       max(latency_ms) AS max_exact
FROM verification_log;

RESET search_path;
DROP EXTENSION nezuko_analytics;
DROP SCHEMA diff CASCADE;
DROP SCHEMA nz_reference CASCADE;
