-- The refresh's small functions in C (1.19): time_floor() and time_ceil()
-- equal date_bin() with rollup_origin(), on both sides of 2000, on and off
-- the edges, for quarter hours and UTC days, with infinities and NULL passed
-- through and date_bin()'s errors; rollup_pending_runs() makes maximal runs
-- of the pending quarter hours, leaves frozen and unwatermarked ones, and
-- turns a TRUNCATE into one run from the horizon up.
\set SHOW_CONTEXT never
SET TimeZone = 'UTC';
CREATE EXTENSION nezuko_analytics;

-- 20,000 times from 1990 to 2030 (half on a quarter-hour edge), both strides
WITH t AS (
    SELECT CASE WHEN g % 2 = 0 THEN date_bin('15 minutes', x, timestamptz '2000-01-01 00:00+00') ELSE x END AS t
    FROM generate_series(1, 10000) g,
         LATERAL (SELECT timestamptz '1990-01-01 00:00+00' + (hashint4(g)::bigint + 2147483648) * interval '0.29 second' AS x) r),
s AS (SELECT unnest(ARRAY[interval '15 minutes', interval '24 hours']) AS stride)
SELECT count(*) AS times,
       count(*) FILTER (WHERE nezuko_analytics.time_floor(t, stride) = date_bin(stride, t, nezuko_analytics.rollup_origin())) AS floor_equal,
       count(*) FILTER (WHERE nezuko_analytics.time_ceil(t, stride)
                              = CASE WHEN date_bin(stride, t, nezuko_analytics.rollup_origin()) = t THEN t
                                     ELSE date_bin(stride, t, nezuko_analytics.rollup_origin()) + stride END) AS ceil_equal,
       count(*) FILTER (WHERE t < '2000-01-01') > 0 AS some_before_2000,
       count(*) FILTER (WHERE nezuko_analytics.time_floor(t, stride) = t) > 0 AS some_on_edges
FROM t, s;

SELECT nezuko_analytics.time_floor('2026-10-10 07:14:59.999999+00', '15 minutes') AS floor_q,
       nezuko_analytics.time_ceil('2026-10-10 07:14:59.999999+00', '15 minutes') AS ceil_q,
       nezuko_analytics.time_ceil('2026-10-10 07:15+00', '15 minutes') AS ceil_on_edge,
       nezuko_analytics.time_floor('1999-12-31 23:59+00', '24 hours') AS floor_day_before_2000,
       nezuko_analytics.time_floor('infinity', '15 minutes') AS floor_inf,
       nezuko_analytics.time_ceil('-infinity', '15 minutes') AS ceil_minus_inf,
       nezuko_analytics.time_floor(NULL, '15 minutes') IS NULL AS floor_null,
       nezuko_analytics.time_ceil(now(), NULL) IS NULL AS ceil_null_stride;
-- date_bin()'s errors
SELECT nezuko_analytics.time_floor(now(), '1 month');
SELECT nezuko_analytics.time_ceil(now(), '0 minutes');

-- rollup_pending_runs(buckets, horizon, built_from, watermark)
SELECT * FROM nezuko_analytics.rollup_pending_runs(NULL, '-infinity', '2026-10-10', '2026-10-11');
SELECT * FROM nezuko_analytics.rollup_pending_runs('{}', '-infinity', '2026-10-10', '2026-10-11');
-- consecutive ones join, repeats count once, NULL elements stand for nothing
SELECT * FROM nezuko_analytics.rollup_pending_runs(
    ARRAY['2026-10-10 07:30+00', '2026-10-10 07:00+00', NULL, '2026-10-10 07:15+00', '2026-10-10 07:15+00', '2026-10-10 09:00+00']::timestamptz[],
    '-infinity', '2026-10-10', '2026-10-11');
-- frozen (before the horizon) and at or after the watermark: not computed
SELECT * FROM nezuko_analytics.rollup_pending_runs(
    ARRAY['2026-10-10 06:45+00', '2026-10-10 07:00+00', '2026-10-10 07:45+00', '2026-10-10 08:00+00']::timestamptz[],
    '2026-10-10 07:00+00', '2026-10-10', '2026-10-10 08:00+00');
-- a TRUNCATE: one run from the horizon rounded up (or built_from, when later)
SELECT * FROM nezuko_analytics.rollup_pending_runs(ARRAY['-infinity', '2026-10-10 07:00+00']::timestamptz[],
                                                   '2026-10-10 07:10+00', '2026-10-10', '2026-10-10 12:00+00');
SELECT * FROM nezuko_analytics.rollup_pending_runs(ARRAY['-infinity', '2026-10-10 07:00+00']::timestamptz[],
                                                   '-infinity', '2026-10-10 08:00+00', '2026-10-10 12:00+00');
-- bad input
SELECT * FROM nezuko_analytics.rollup_pending_runs('{}', NULL, '2026-10-10', '2026-10-11');
SELECT * FROM nezuko_analytics.rollup_pending_runs('{}', '-infinity', '2026-10-10', NULL);

-- rollup_day_zones(source, zones): every zone for verification_log, the
-- UTC ones alone for api_call_log (NULL elements are no zone), as the SQL
-- function of 1.16 to 1.19 gave them
SELECT nezuko_analytics.rollup_day_zones('verification_log', '{UTC,Asia/Kolkata,America/St_Johns}') AS verification,
       nezuko_analytics.rollup_day_zones('api_call_log', '{UTC,Asia/Kolkata,America/St_Johns}') AS api,
       nezuko_analytics.rollup_day_zones('api_call_log', '{Asia/Kolkata,NULL}') AS api_without_utc,
       nezuko_analytics.rollup_day_zones('api_call_log', '{}') AS api_none,
       nezuko_analytics.rollup_day_zones('verification_log', '{}') AS verification_none,
       nezuko_analytics.rollup_day_zones('api_call_log', NULL) IS NULL AS null_zones,
       nezuko_analytics.rollup_day_zones(NULL, '{UTC}') IS NULL AS null_source;
-- the same as the rule in SQL over every subset of five zones (with NULL and
-- a repeat), for both tables
WITH z(zone) AS (VALUES ('UTC'), ('Asia/Kolkata'), (NULL), ('UTC'), ('Australia/Eucla')),
     subsets AS (SELECT m, ARRAY(SELECT zone FROM (SELECT zone, row_number() OVER () - 1 AS i FROM z) x
                                 WHERE m & (1 << x.i::integer) <> 0 ORDER BY x.i) AS zones
                 FROM generate_series(0, 31) m),
     s(source) AS (VALUES ('verification_log'), ('api_call_log'))
SELECT count(*) AS cases,
       count(*) FILTER (WHERE nezuko_analytics.rollup_day_zones(s.source, subsets.zones)
                              = CASE WHEN s.source = 'api_call_log'
                                     THEN ARRAY(SELECT zz FROM unnest(subsets.zones) zz WHERE zz = 'UTC')
                                     ELSE subsets.zones END) AS equal
FROM subsets, s;

DROP EXTENSION nezuko_analytics;
