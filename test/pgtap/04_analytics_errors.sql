-- The analytics functions' errors carry the right SQLSTATE; the labels the
-- issue asks for (volatility, strictness, parallel safety) are in place.
\ir psql_settings.inc
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA errs;
SELECT plan(22);
SELECT lives_ok($$SELECT nezuko_analytics.apply_schema('errs')$$, 'apply_schema');

SELECT throws_ok($$SELECT * FROM nezuko_analytics.cache_breakdown(NULL)$$, '22004', NULL, 'NULL since: null_value_not_allowed');
SELECT throws_ok($$SELECT * FROM nezuko_analytics.top_groups('2026-02-01', '2026-01-01')$$, '22023', NULL, 'since > until: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM nezuko_analytics.hourly_activity('2026-01-01', '2026-02-01', 'No/Such_Zone')$$, '22023', NULL, 'unknown time zone: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM nezuko_analytics.top_groups('2026-01-01', '2026-02-01', -1)$$, '22023', NULL, 'negative limit: invalid_parameter_value');
SELECT throws_ok($$SELECT * FROM nezuko_analytics.latency_histogram('2026-01-01', '2026-02-01', source => 'x')$$, '22023', NULL, 'unknown source: invalid_parameter_value');
SELECT throws_ok($$SELECT nezuko_analytics.latency_bucket(1, '{3,2}')$$, '22023', NULL, 'bad edges: invalid_parameter_value');
SELECT throws_ok($$SELECT nezuko_analytics.latency_bucket(-1)$$, '22023', NULL, 'negative latency: invalid_parameter_value');
SELECT throws_ok($$SELECT nezuko_analytics.latency_bucket(1, '{1,NULL}')$$, '22004', NULL, 'NULL edge: null_value_not_allowed');
SELECT throws_ok($$SELECT 'nonsense'::nezuko_analytics.latency_dist$$, '22P02', NULL, 'bad text: invalid_text_representation');
SELECT throws_ok($$SELECT 'count=9 sum=0 values=0:1'::nezuko_analytics.latency_dist$$, '22P02', NULL, 'inconsistent text: invalid_text_representation');
SELECT throws_ok($$SELECT nezuko_analytics.latency_dist_from_bytes('\x0105'::bytea)$$, '22P03', NULL, 'truncated bytes: invalid_binary_representation');
SELECT throws_ok($$SELECT nezuko_analytics.percentile('count=1 sum=1 values=1:1', 2)$$, '22003', NULL, 'percentile outside [0,1]: numeric_value_out_of_range');

-- Labels.
SELECT is(provolatile, 'i', 'latency_bucket is IMMUTABLE') FROM pg_proc WHERE oid = 'nezuko_analytics.latency_bucket(integer, integer[])'::regprocedure;
SELECT ok(proisstrict, 'latency_bucket is STRICT') FROM pg_proc WHERE oid = 'nezuko_analytics.latency_bucket(integer, integer[])'::regprocedure;
SELECT is(proparallel, 's', 'latency_bucket is PARALLEL SAFE') FROM pg_proc WHERE oid = 'nezuko_analytics.latency_bucket(integer, integer[])'::regprocedure;
SELECT is(proparallel, 's', 'the latency_dist aggregate is PARALLEL SAFE') FROM pg_proc WHERE oid = 'nezuko_analytics.latency_dist(integer)'::regprocedure;
SELECT isnt(aggcombinefn, 0::regproc, 'latency_dist has a combine function') FROM pg_aggregate WHERE aggfnoid = 'nezuko_analytics.latency_dist(integer)'::regprocedure;
SELECT isnt(aggserialfn, 0::regproc, 'latency_dist has serialize/deserialize') FROM pg_aggregate WHERE aggfnoid = 'nezuko_analytics.latency_dist(integer)'::regprocedure;
SELECT isnt(aggcombinefn, 0::regproc, 'merge(latency_dist) has a combine function') FROM pg_aggregate WHERE aggfnoid = 'nezuko_analytics.merge(nezuko_analytics.latency_dist)'::regprocedure;
SELECT is((SELECT array_agg(DISTINCT provolatile) FROM pg_proc
           WHERE pronamespace = 'nezuko_analytics'::regnamespace
             AND proname IN ('latency_histogram', 'verification_distribution', 'cache_breakdown', 'hourly_activity',
                             'top_groups', 'method_distribution', 'bot_health')), ARRAY['s']::"char"[],
          'the chart functions read tables: STABLE');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'nezuko_analytics'::regnamespace
           AND obj_description(oid, 'pg_proc') IS NULL), 0, 'every function has a COMMENT');

SELECT * FROM finish();
ROLLBACK;
