-- nezuko_analytics_sql (the portable edition) 1.10 -> 1.11, written by hand
-- (docs/versions.md).  groups_status_query(), shared with the native
-- edition, runs a static query whose plan is cached instead of planning it
-- on every call; it and members_chart_query() refuse a bot schema the
-- caller may not use with PostgreSQL's own error.

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.11'::text $$;

CREATE OR REPLACE FUNCTION nezuko_analytics.groups_status_query(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A static query, its plan cached (as members_chart_query()'s): the
    -- bot's schema joins the path after pg_catalog for this one table, and
    -- the SET clause above puts the path back when the function returns.
    -- Planned again on each call (EXECUTE), it cost a sixth more.  A
    -- schema the caller may not use would drop out of the path unseen:
    -- refused first, with the error a qualified name gets (require_select()'s
    -- first check, written out: the call cost 20-40 us, a twentieth of
    -- these sub-millisecond contracts; members_chart_query() does the same).
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT count(*) FILTER (WHERE p.enabled), count(*) FILTER (WHERE NOT p.enabled), count(*)
      INTO enabled, disabled, total
    FROM protected_groups p;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_query(name) IS
  'bot.protected_groups from one query: enabled, disabled (enabled = false) and total rows.';

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
    -- names are made for the rows kept only.  A schema the caller may not
    -- use would drop out of the path unseen: refused first, with the error
    -- a qualified name gets (as in groups_status_query()).
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
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
COMMENT ON FUNCTION nezuko_analytics.members_chart_query(name, integer) IS
  'get_members_chart_data''s document from one query: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0).';

