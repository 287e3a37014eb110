-- ALTER EXTENSION ... UPDATE from 1.0, the version that shipped, gives the
-- same extension as a fresh CREATE EXTENSION of 1.1: the same functions
-- (bodies, settings, comments, privileges), types and tables, all members of
-- the extension; and the bot's data is not touched.
\set SHOW_CONTEXT never
CREATE ROLE anon;
CREATE EXTENSION nezuko_analytics VERSION '1.0';
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema();
INSERT INTO protected_groups (group_id, title, enabled) VALUES (1, 'a', true), (2, NULL, false);
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached) VALUES (1, 1, 'verified', 30, true), (2, 2, 'error', NULL, false);
SELECT nezuko_analytics.get_groups_status() AS groups_1_0, nezuko_analytics.get_cache_breakdown() AS cache_1_0;

ALTER EXTENSION nezuko_analytics UPDATE TO '1.1';
SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics';
SELECT nezuko_analytics.version() AS module_version;
SELECT nezuko_analytics.get_groups_status() AS groups_1_1, nezuko_analytics.get_cache_breakdown() AS cache_1_1;

-- Everything of the extension, as comparable text.
CREATE FUNCTION pg_temp.extension_objects() RETURNS TABLE (kind text, object text, definition text)
LANGUAGE sql STABLE AS $$
    SELECT 'function', p.oid::regprocedure::text,
           concat_ws(' | ', md5(p.prosrc), p.prolang::regproc::text, p.provolatile, p.proparallel, p.prosecdef,
                     p.prorettype::regtype, p.proconfig::text, pg_get_function_arguments(p.oid),
                     obj_description(p.oid, 'pg_proc'), p.proacl::text, p.probin)
    FROM pg_proc p WHERE p.pronamespace = 'nezuko_analytics'::regnamespace
    UNION ALL
    SELECT 'relation', c.oid::regclass::text,
           concat_ws(' | ', c.relkind, obj_description(c.oid, 'pg_class'), c.relacl::text,
                     (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || coalesce(col_description(c.oid, a.attnum), ''), ', ' ORDER BY a.attnum)
                      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
    FROM pg_class c WHERE c.relnamespace = 'nezuko_analytics'::regnamespace
    UNION ALL
    SELECT 'type', t.oid::regtype::text, concat_ws(' | ', t.typtype, obj_description(t.oid, 'pg_type'))
    FROM pg_type t WHERE t.typnamespace = 'nezuko_analytics'::regnamespace AND t.typelem = 0 AND t.typrelid = 0
    UNION ALL
    SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid), ''
    FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'nezuko_analytics') AND d.deptype = 'e'
$$;
CREATE TEMP TABLE upgraded AS SELECT * FROM pg_temp.extension_objects();

DROP EXTENSION nezuko_analytics;
CREATE EXTENSION nezuko_analytics;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema();
CREATE TEMP TABLE fresh AS SELECT * FROM pg_temp.extension_objects();

SELECT count(*) > 150 AS many_objects_compared FROM fresh;
SELECT 'only after the upgrade' AS difference, * FROM (SELECT * FROM upgraded EXCEPT SELECT * FROM fresh) u
UNION ALL
SELECT 'only in a fresh 1.1', * FROM (SELECT * FROM fresh EXCEPT SELECT * FROM upgraded) f
ORDER BY 1, 2, 3;

-- The bot's rows came through both.
SELECT count(*) AS groups, count(title) AS titled FROM protected_groups;
SELECT count(*) AS verifications FROM verification_log;

DROP EXTENSION nezuko_analytics;
DROP TABLE verification_log, group_channel_links, enforced_channels, protected_groups, api_call_log;
DROP ROLE anon;
