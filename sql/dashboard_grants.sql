-- Grants that fit Supabase: the dashboard's functions are callable by anon,
-- authenticated and service_role where those roles exist (nothing happens
-- where they do not); administrative functions are not; every function runs
-- as SECURITY INVOKER with a pinned search_path.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA g;

-- A database without Supabase's roles: no grant, no error.
SELECT count(*) FILTER (WHERE r ~ '^granted') AS grant_lines FROM nezuko_analytics.apply_schema('g') r;
SELECT * FROM nezuko_analytics.revert_schema() WHERE revert_schema ~ 'revoked';

-- With the roles.
CREATE ROLE anon NOLOGIN;
CREATE ROLE authenticated NOLOGIN;
CREATE ROLE service_role NOLOGIN;
SELECT r FROM nezuko_analytics.apply_schema('g') r WHERE r ~ '^granted' ORDER BY 1;
SELECT * FROM nezuko_analytics.apply_schema('g');  -- idempotent: no lines
SELECT rolname, count(*) FILTER (WHERE has_function_privilege(rolname, f, 'EXECUTE')) AS dashboard_functions_granted,
       count(*) AS dashboard_functions
FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) rolname, nezuko_analytics.dashboard_functions() f
GROUP BY rolname ORDER BY rolname;
SELECT count(*) AS dashboard_functions FROM nezuko_analytics.dashboard_functions();
-- Administrative functions stay the owner's.
SELECT f, has_function_privilege('anon', f, 'EXECUTE') AS anon_may_call
FROM unnest(ARRAY['nezuko_analytics.apply_schema(name)', 'nezuko_analytics.revert_schema()',
                  'nezuko_analytics.set_retention(text,interval)', 'nezuko_analytics.schedule_retention(text)',
                  'nezuko_analytics.prune(integer,interval,timestamptz)']::regprocedure[]) f;
-- Every function is SECURITY INVOKER; every SQL or PL/pgSQL function pins
-- search_path, except prune(), which must COMMIT (a procedure with a SET
-- clause cannot), pin_prune_settings(), which pins prune()'s path for it
-- (a SET clause would undo that at its exit), and percent(), round_ms() and
-- get_members_chart_data(), which the planner inlines only without one
-- (their bodies name everything by schema: checked below).
SELECT count(*) AS security_definer_functions FROM pg_proc
WHERE pronamespace = 'nezuko_analytics'::regnamespace AND prosecdef;
SELECT p.oid::regprocedure AS without_pinned_search_path FROM pg_proc p
WHERE p.pronamespace = 'nezuko_analytics'::regnamespace AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('sql', 'plpgsql'))
  AND NOT coalesce(p.proconfig, '{}') @> ARRAY['search_path=pg_catalog, pg_temp'] ORDER BY 1;
-- percent(), round_ms() and get_members_chart_data() under a search_path that
-- offers look-alikes of what their bodies call: the same results, and inlined
-- into a query.
SELECT nezuko_analytics.get_members_chart_data()::text AS members_chart \gset
CREATE SCHEMA lookalike;
CREATE FUNCTION lookalike.members_chart(name, integer) RETURNS json LANGUAGE sql AS $$ SELECT '"look-alike"'::json $$;
CREATE FUNCTION lookalike.bot_schema() RETURNS name LANGUAGE sql AS $$ SELECT 'lookalike'::name $$;
CREATE FUNCTION lookalike.round(numeric, integer) RETURNS numeric LANGUAGE sql AS 'SELECT 666::numeric';
CREATE FUNCTION lookalike.numeric_eq_int(numeric, integer) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR lookalike.= (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = lookalike.numeric_eq_int);
SET search_path = lookalike, pg_catalog;
SELECT nezuko_analytics.percent(1, 3) AS one_in_three, nezuko_analytics.percent(0, 0) AS of_none,
       nezuko_analytics.round_ms(1.005) AS rounded, nezuko_analytics.round_ms(NULL) AS of_null;
SELECT nezuko_analytics.get_members_chart_data()::text = :'members_chart' AS same_members_chart;
RESET search_path;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT nezuko_analytics.percent(n, 7), nezuko_analytics.round_ms(n / 3.0) FROM generate_series(1, 2) n;
EXPLAIN (VERBOSE, COSTS OFF) SELECT nezuko_analytics.get_members_chart_data();
DROP SCHEMA lookalike CASCADE;

-- anon calls a contract with its own privileges: only what it may read.
INSERT INTO g.protected_groups (group_id, title, enabled) VALUES (1, 'a', true), (2, 'b', false);
SET ROLE anon;
SELECT has_function_privilege('anon', 'nezuko_analytics.get_groups_status()', 'EXECUTE') AS anon_may_call;
SELECT nezuko_analytics.get_groups_status();   -- no privilege on the bot's schema yet
SELECT nezuko_analytics.get_members_chart_data();   -- the same error, not a table that seems missing
RESET ROLE;
GRANT USAGE ON SCHEMA g TO anon;
GRANT SELECT ON g.protected_groups TO anon;
SET ROLE anon;
SELECT nezuko_analytics.get_groups_status();   -- row-level security on what apply_schema() created, no policy yet
RESET ROLE;
CREATE POLICY anon_reads ON g.protected_groups FOR SELECT TO anon USING (true);
SET ROLE anon;
SELECT nezuko_analytics.get_groups_status();
SELECT * FROM nezuko_analytics.apply_schema('g');
RESET ROLE;

-- revert_schema() revokes what apply_schema() granted.
SELECT * FROM nezuko_analytics.revert_schema() WHERE revert_schema ~ 'revoked' ORDER BY 1;
SELECT has_schema_privilege('anon', 'nezuko_analytics', 'USAGE') AS anon_schema_usage,
       has_function_privilege('anon', 'nezuko_analytics.dashboard(timestamptz,timestamptz,text)', 'EXECUTE') AS anon_dashboard;

REVOKE ALL ON g.protected_groups FROM anon;
REVOKE USAGE ON SCHEMA g FROM anon;
DROP EXTENSION nezuko_analytics;
DROP SCHEMA g CASCADE;
DROP ROLE anon, authenticated, service_role;
