-- Starting point (a), a fresh database: every table, column type, default and
-- index of the spec, in the schema apply_schema() was given.
\ir psql_settings.inc
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION nezuko_analytics;
\ir spec_expectations.inc
SELECT plan(1 + 4 + 1 + 13 + 13 + 12 + 1 + 7 + 3 + 7);

CREATE SCHEMA fresh;
SELECT is((SELECT count(*) FROM nezuko_analytics.apply_schema('fresh'))::int, 20,
          'apply_schema on a fresh schema reports 20 changes (17 of the schema, 3 retention policies)');
SELECT has_table('fresh'::name, t, 'fresh.' || t || ' exists')
FROM unnest('{protected_groups,enforced_channels,group_channel_links,verification_log}'::name[]) t;
SELECT has_table('fresh'::name, 'api_call_log'::name, 'fresh.api_call_log exists');
SELECT has_column('fresh'::name, tbl, col, format('fresh.%s.%s exists', tbl, col)) FROM expected_columns;
SELECT col_type_is('fresh'::name, tbl, col, col_type, format('fresh.%s.%s is %s', tbl, col, col_type)) FROM expected_columns;
SELECT CASE WHEN col_default IS NULL
            THEN col_hasnt_default('fresh'::name, tbl, col, format('fresh.%s.%s has no default', tbl, col))
            ELSE col_default_is('fresh'::name, tbl, col, col_default, format('fresh.%s.%s defaults to %s', tbl, col, col_default)) END
FROM expected_columns WHERE col <> 'id';
SELECT col_default_is('fresh'::name, 'api_call_log'::name, 'id'::name, 'nextval(''fresh.api_call_log_id_seq''::regclass)',
                      'fresh.api_call_log.id is a serial');
SELECT has_index('fresh'::name, tbl, idx, cols, format('index %s on %s%s', idx, tbl, cols)) FROM expected_indexes;
SELECT col_is_pk('fresh'::name, 'api_call_log'::name, 'id'::name, 'api_call_log.id is the primary key');
SELECT col_not_null('fresh'::name, 'api_call_log'::name, 'method'::name, 'api_call_log.method is NOT NULL');
SELECT col_is_null('fresh'::name, 'verification_log'::name, 'error_type'::name, 'verification_log.error_type is nullable');
SELECT is(nezuko_analytics.bot_schema(), 'fresh'::name, 'apply_schema recorded the target schema');
SELECT is_empty($$SELECT * FROM nezuko_analytics.apply_schema('fresh')$$, 'a second apply_schema changes nothing');
SELECT is((SELECT count(*)::int FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
           WHERE d.deptype = 'e' AND c.relnamespace = 'fresh'::regnamespace), 0,
          'nothing apply_schema made is a member of the extension');
SELECT tables_are('fresh'::name, '{protected_groups,enforced_channels,group_channel_links,verification_log,api_call_log}'::name[],
                  'fresh holds exactly the bot''s four tables and api_call_log');
SELECT is((SELECT count(*)::int FROM nezuko_analytics.schema_changes WHERE change_kind IN ('create_table', 'add_column', 'create_index')), 13,
          'every spec change is recorded for revert_schema');
SELECT is((SELECT count(*)::int FROM nezuko_analytics.revert_schema()), 20, 'revert_schema undoes all 20 changes');
SELECT hasnt_table('fresh'::name, 'api_call_log'::name, 'after revert_schema api_call_log is gone');

SELECT * FROM finish();
ROLLBACK;
