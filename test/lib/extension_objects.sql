-- Everything an extension created in schema nezuko_analytics, as comparable
-- text: functions (bodies, settings, results, comments, privileges),
-- aggregates' support functions, relations, types and extension membership.
-- One definition for the upgrade checks of both editions: extension_upgrade
-- (pg_regress, the native edition) and the portable suite
-- (test/portable/run_portable_tests.sh).  Needs the schema upgrade_check.
CREATE FUNCTION upgrade_check.extension_objects(ext name DEFAULT 'nezuko_analytics') RETURNS TABLE (kind text, object text, definition text)
LANGUAGE sql STABLE AS $$
    SELECT 'function', p.oid::regprocedure::text,
           concat_ws(' | ', md5(p.prosrc), p.prolang::regproc::text, p.provolatile, p.proparallel, p.prosecdef,
                     p.prorettype::regtype, p.proconfig::text, pg_get_function_arguments(p.oid),
                     pg_get_function_result(p.oid), obj_description(p.oid, 'pg_proc'), p.proacl::text, p.probin)
    FROM pg_proc p WHERE p.pronamespace = to_regnamespace('nezuko_analytics')
    UNION ALL
    SELECT 'aggregate', a.aggfnoid::regprocedure::text,
           concat_ws(' | ', a.aggtransfn::regproc::text, a.aggfinalfn::regproc::text, a.aggcombinefn::regproc::text,
                     a.aggserialfn::regproc::text, a.aggdeserialfn::regproc::text, a.aggtranstype::regtype)
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid WHERE p.pronamespace = to_regnamespace('nezuko_analytics')
    UNION ALL
    SELECT 'relation', c.oid::regclass::text,
           concat_ws(' | ', c.relkind, obj_description(c.oid, 'pg_class'), c.relacl::text,
                     (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || coalesce(col_description(c.oid, a.attnum), ''), ', ' ORDER BY a.attnum)
                      FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
    FROM pg_class c WHERE c.relnamespace = to_regnamespace('nezuko_analytics')
    UNION ALL
    SELECT 'type', t.oid::regtype::text, concat_ws(' | ', t.typtype, obj_description(t.oid, 'pg_type'))
    FROM pg_type t WHERE t.typnamespace = to_regnamespace('nezuko_analytics') AND t.typelem = 0 AND t.typrelid = 0
    UNION ALL
    SELECT 'member', pg_describe_object(d.classid, d.objid, d.objsubid), ''
    FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass
      AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = ext) AND d.deptype = 'e'
$$;
