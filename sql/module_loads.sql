-- The C++ module loads, and CREATE EXTENSION installs only what the extension owns.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
SELECT nezuko_analytics.version() = extversion AS module_matches_extension
FROM pg_extension WHERE extname = 'nezuko_analytics';

-- Members of the extension: its schema, functions and bookkeeping tables, nothing of the bot.
SELECT pg_describe_object(classid, objid, 0) AS member
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nezuko_analytics')
  AND classid <> 'pg_proc'::regclass
ORDER BY 1;
SELECT count(*) > 0 AS has_functions
FROM pg_proc WHERE pronamespace = 'nezuko_analytics'::regnamespace;

-- The script created no table outside its own schema.
SELECT count(*) AS tables_outside_own_schema
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND d.classid = 'pg_class'::regclass
  AND c.relnamespace <> 'nezuko_analytics'::regnamespace;

-- Bookkeeping tables are marked for pg_dump.
SELECT unnest(extconfig)::regclass AS config_table
FROM pg_extension WHERE extname = 'nezuko_analytics' ORDER BY 1;

-- Every function, table and the schema carry a comment.
SELECT p.oid::regprocedure AS function_without_comment
FROM pg_proc p WHERE p.pronamespace = 'nezuko_analytics'::regnamespace
  AND obj_description(p.oid, 'pg_proc') IS NULL;
SELECT c.oid::regclass AS table_without_comment
FROM pg_class c WHERE c.relnamespace = 'nezuko_analytics'::regnamespace AND c.relkind = 'r'
  AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT obj_description('nezuko_analytics'::regnamespace, 'pg_namespace') IS NOT NULL AS schema_has_comment;

-- The setting nezuko_analytics.small_window_rows has its default twice: in
-- the module, and in small_window_rows(), which reads the setting in a
-- session that has not loaded the module yet.  They agree.
\c
SELECT current_setting('nezuko_analytics.small_window_rows', true) IS NULL AS module_not_loaded_yet;
SELECT nezuko_analytics.small_window_rows() AS default_before_module \gset
SELECT nezuko_analytics.version() IS NOT NULL AS module_loaded;
SELECT current_setting('nezuko_analytics.small_window_rows')::integer = :default_before_module AS defaults_agree,
       :default_before_module > 0 AS default_positive;
SET nezuko_analytics.small_window_rows = 0;
SELECT nezuko_analytics.small_window_rows() AS set_to_zero;
SET nezuko_analytics.small_window_rows = -1;
RESET nezuko_analytics.small_window_rows;

-- Analytics need apply_schema() first: a clear error, not a crash.
SELECT nezuko_analytics.bot_schema();

DROP EXTENSION nezuko_analytics;
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'nezuko_analytics';
