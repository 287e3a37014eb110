-- The counts behind the fixed-window contracts, each from one query.  The
-- native edition reads them without the executor where it may
-- (sql/native/72_native_reads.sql) and runs these when its read steps
-- aside; the portable edition always runs these
-- (sql/portable/72_query_reads.sql).  Every one returns a record by name.

CREATE FUNCTION nezuko_analytics.verification_counts_query(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The columns not asked for are constants when the query is planned
    -- (EXECUTE passes its parameters as such), so their aggregates go, and
    -- an index that holds "timestamp" and the columns asked for is read
    -- index-only.
    EXECUTE format($q$
        SELECT count(*),
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
               CASE WHEN $4 THEN count(*) FILTER (WHERE cached) ELSE 0 END,
               CASE WHEN $5 THEN count(latency_ms) ELSE 0 END,
               CASE WHEN $5 THEN coalesce(sum(latency_ms), 0) ELSE 0 END
        FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2$q$, bot)
        INTO total, verified, restricted, error, cached, latency_rows, latency_sum
        USING since, until, with_status, with_cached, with_latency;
    -- The rows at or after today by their own index condition (a day of a
    -- week: a FILTER on every row of the window cost more than this read).
    IF today <= since THEN
        today_count := total;
    ELSIF today >= until THEN
        today_count := 0;
    ELSE
        EXECUTE format('SELECT count(*) FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2', bot)
            INTO today_count USING today, until;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_query(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'bot.verification_log over [since, until) from one query, and the rows at or after today from a second one when today falls inside the window: total, today_count, verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; the columns not asked for count 0.';

CREATE FUNCTION nezuko_analytics.api_counts_query(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT coalesce(array_agg(method), '{}'), coalesce(array_agg(n), '{}'), coalesce(array_agg(s), '{}')
        FROM (SELECT method::text AS method, count(*) AS n, count(*) FILTER (WHERE success) AS s
              FROM %I.api_call_log WHERE "timestamp" >= $1 AND "timestamp" < $2 GROUP BY method) m$q$, bot)
        INTO methods, calls, ok USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_query(name, timestamptz, timestamptz) IS
  'bot.api_call_log over [since, until) from one query: calls and successful calls (success = true) by method, in no particular order.';

CREATE FUNCTION nezuko_analytics.group_counts_query(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT coalesce(array_agg(group_id ORDER BY n DESC, group_id), '{}'), coalesce(array_agg(n ORDER BY n DESC, group_id), '{}'),
               coalesce(array_agg(s ORDER BY n DESC, group_id), '{}')
        FROM (SELECT group_id::bigint AS group_id, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s
              FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
              GROUP BY group_id ORDER BY n DESC, group_id LIMIT $3) g$q$, bot)
        INTO group_ids, calls, ok USING since, until, top;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_query(name, timestamptz, timestamptz, integer) IS
  'bot.verification_log over [since, until) from one query: the top groups by verifications (ties by group_id) with their verifications and verified ones.';

CREATE FUNCTION nezuko_analytics.groups_status_query(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
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

CREATE FUNCTION nezuko_analytics.members_chart_query(bot name, top integer)
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
