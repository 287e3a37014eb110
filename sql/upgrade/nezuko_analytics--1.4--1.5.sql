-- nezuko_analytics 1.4 -> 1.5, written by hand (docs/versions.md): every
-- object 1.5 changes.  extension_upgrade compares the result with a fresh
-- install; sql/upgrade/nezuko_analytics_sql--1.4--1.5.sql makes the same
-- change in the portable edition.
--
-- percent() and round_ms(), called once per row of a document, lose their
-- SET search_path so that the planner inlines them; their bodies now name
-- everything by schema instead.  (CREATE OR REPLACE also clears the SET
-- clause; the comments stay.)
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.5'" to load this file. \quit

CREATE OR REPLACE FUNCTION nezuko_analytics.percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN whole IS NULL OR whole OPERATOR(pg_catalog.=) 0 THEN 0::pg_catalog.numeric
                  ELSE pg_catalog.round((100.0 OPERATOR(pg_catalog.*) part) OPERATOR(pg_catalog./) whole, 1) END $$;

CREATE OR REPLACE FUNCTION nezuko_analytics.round_ms(ms float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.round(ms::pg_catalog.numeric, 2) $$;

-- members_chart_query() keeps its generic plan (SET plan_cache_mode): with
-- LIMIT top unknown, it was planned again on every call.
CREATE OR REPLACE FUNCTION nezuko_analytics.members_chart_query(bot name, top integer)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    result json;
BEGIN
    -- A static query (its plan cached, as the original's is): the bot's
    -- schema joins the path after pg_catalog, for its two tables only, and
    -- the SET clause above puts the path back when the function returns.
    -- Its plan is the generic one: with LIMIT top unknown, the planner
    -- would otherwise find a custom plan cheaper each time and plan the
    -- query again on every call, which costs more than running it.  The
    -- names are made for the rows kept only.
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT json_build_object(
        'channels', (SELECT coalesce(json_agg(json_build_object('name', coalesce(c.title, 'Channel ' || c.id), 'members', c.members)
                                              ORDER BY c.members DESC, c.id), '[]'::json)
                     FROM (SELECT e.channel_id AS id, e.title, coalesce(e.subscriber_count, 0) AS members
                           FROM enforced_channels e ORDER BY coalesce(e.subscriber_count, 0) DESC, e.channel_id LIMIT top) c),
        'groups', (SELECT coalesce(json_agg(json_build_object('name', coalesce(g.title, 'Group ' || g.id), 'members', g.members)
                                            ORDER BY g.members DESC, g.id), '[]'::json)
                   FROM (SELECT p.group_id AS id, p.title, coalesce(p.member_count, 0) AS members
                         FROM protected_groups p ORDER BY coalesce(p.member_count, 0) DESC, p.group_id LIMIT top) g))
    INTO result;
    RETURN result;
END;
$$;
