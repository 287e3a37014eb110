-- Privileges.  The administrative functions are for the owner only (the same
-- on every database); the dashboard's functions are granted to Supabase's API
-- roles by grant_dashboard_access(), which apply_schema() calls, only where
-- those roles exist.  Everything runs as SECURITY INVOKER with a pinned
-- search_path: a role sees through the functions only what its own
-- privileges (and the bot's row-level security) let it read.

REVOKE EXECUTE ON FUNCTION nezuko_analytics.apply_schema(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.revert_schema() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.record_schema_change(name, text, name, name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.set_retention(text, interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.schedule_retention(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.unschedule_retention() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.unschedule_job(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.register_retention_policies() FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.pin_prune_settings() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.close_to_api_roles(name, name) FROM PUBLIC;

CREATE FUNCTION nezuko_analytics.dashboard_functions()
RETURNS SETOF regprocedure LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = 'nezuko_analytics'::regnamespace
      AND (p.proname LIKE 'get\_%' OR p.proname = 'dashboard')
    ORDER BY 1::text
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard_functions() IS 'The functions the web dashboard calls: every get_* contract and dashboard().';

CREATE FUNCTION nezuko_analytics.grant_dashboard_access()
RETURNS TABLE (role_name name, description text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR role_name IN SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1 LOOP
        CONTINUE WHEN has_schema_privilege(role_name, 'nezuko_analytics', 'USAGE')
                  AND has_table_privilege(role_name, 'nezuko_analytics.schema_state', 'SELECT');
        EXECUTE format('GRANT USAGE ON SCHEMA nezuko_analytics TO %I', role_name);
        EXECUTE format('GRANT SELECT ON nezuko_analytics.schema_state TO %I', role_name);
        FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role_name);
        END LOOP;
        description := format('granted the dashboard functions to %I', role_name);
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.grant_dashboard_access() IS
  'Grants USAGE on schema nezuko_analytics, SELECT on schema_state and EXECUTE on dashboard() and the get_* contracts to the Supabase roles anon, authenticated and service_role, where they exist; called by apply_schema().';

CREATE FUNCTION nezuko_analytics.revoke_dashboard_access(role_name name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
        RETURN;
    END IF;
    FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %I', f, role_name);
    END LOOP;
    EXECUTE format('REVOKE SELECT ON nezuko_analytics.schema_state FROM %I', role_name);
    EXECUTE format('REVOKE USAGE ON SCHEMA nezuko_analytics FROM %I', role_name);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.revoke_dashboard_access(name) IS 'Undoes grant_dashboard_access() for one role; called by revert_schema().';

-- Only the roles granted below call the dashboard's functions: the
-- installing role (@extowner@, with the right to grant them to the API
-- roles, see below) and the roles grant_dashboard_access() names.
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO @extowner@ WITH GRANT OPTION', f);
    END LOOP;
END $$;

REVOKE EXECUTE ON FUNCTION nezuko_analytics.grant_dashboard_access() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.revoke_dashboard_access(name) FROM PUBLIC;

-- The extension is trusted (docs/security.md): a role with CREATE on the
-- database installs it without being a superuser.  The script then runs as
-- the bootstrap superuser, who owns what it creates; the installing role,
-- @extowner@, receives exactly what it needs to run it (the administrative
-- functions, the bookkeeping tables, the dashboard's functions with the right
-- to grant them to the API roles) and nothing that reads or changes a table
-- it could not read or change itself: every function is SECURITY INVOKER,
-- and prune_batch() checks the caller's own DELETE privilege.
GRANT USAGE ON SCHEMA nezuko_analytics TO @extowner@ WITH GRANT OPTION;
GRANT SELECT ON nezuko_analytics.schema_state TO @extowner@ WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.schema_state, nezuko_analytics.schema_changes,
      nezuko_analytics.retention_policy, nezuko_analytics.retention_runs TO @extowner@;
GRANT EXECUTE ON FUNCTION nezuko_analytics.apply_schema(name), nezuko_analytics.revert_schema(),
      nezuko_analytics.record_schema_change(name, text, name, name), nezuko_analytics.set_retention(text, interval),
      nezuko_analytics.schedule_retention(text), nezuko_analytics.unschedule_retention(),
      nezuko_analytics.unschedule_job(text),
      nezuko_analytics.register_retention_policies(),
      nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean),
      nezuko_analytics.pin_prune_settings(), nezuko_analytics.close_to_api_roles(name, name),
      nezuko_analytics.grant_dashboard_access(), nezuko_analytics.revoke_dashboard_access(name) TO @extowner@;
GRANT EXECUTE ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) TO @extowner@;
-- (the dashboard's functions: in the loop above)
