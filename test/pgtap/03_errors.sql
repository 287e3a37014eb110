-- Bad input gets an ERROR with the right SQLSTATE and a message naming the problem.
\ir psql_settings.inc
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION nezuko_analytics;
SELECT plan(7);

SELECT throws_ok($$SELECT nezuko_analytics.bot_schema()$$, '55000',
                 'nezuko_analytics.apply_schema() has not been run in this database',
                 'analytics before apply_schema: object_not_in_prerequisite_state');
SELECT throws_ok($$SELECT * FROM nezuko_analytics.apply_schema('nope')$$, '3F000',
                 'apply_schema: schema "nope" does not exist', 'missing schema: invalid_schema_name');
SELECT throws_ok($$SELECT * FROM nezuko_analytics.apply_schema(NULL)$$, '22004',
                 'apply_schema: target_schema must not be NULL', 'NULL schema: null_value_not_allowed');

CREATE SCHEMA bad;
CREATE TABLE bad.protected_groups (group_id bigint PRIMARY KEY, title text, enabled boolean, member_count text);
SELECT throws_ok($$SELECT * FROM nezuko_analytics.apply_schema('bad')$$, '42804',
                 'apply_schema: column bad.protected_groups.member_count has type text, which nezuko_analytics cannot use',
                 'incompatible column: datatype_mismatch naming table and column');
SELECT hasnt_table('bad'::name, 'api_call_log'::name, 'the failed apply_schema created nothing');

CREATE SCHEMA nocol;
CREATE TABLE nocol.verification_log (id bigserial, group_id bigint, status text, latency_ms int, "timestamp" timestamptz);
SELECT throws_ok($$SELECT * FROM nezuko_analytics.apply_schema('nocol')$$, '42703',
                 'apply_schema: table nocol.verification_log has no column cached (boolean), which nezuko_analytics reads',
                 'missing base column: undefined_column');
SELECT version_is_loaded FROM (SELECT is(nezuko_analytics.version(), (SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics'), 'the C++ module answers version(), the version of the installed extension') AS version_is_loaded) v;

SELECT * FROM finish();
ROLLBACK;
