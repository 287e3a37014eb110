-- The fixed-window contracts (and the two that read the small tables) read
-- the bot's tables natively, without the executor (src/pg/window_scan.cpp):
-- over 7 days the originals' separate index-only counts are already near
-- what one query can do, and executor overhead is most of the rest.
-- A native read returns NULL whenever a query could see something else (row-
-- level security, no privilege, SERIALIZABLE, a column of another type, no
-- "timestamp"-led index, or nezuko_analytics.native_reads = off); the same
-- figures then come from one query.  Every native read returns a record
-- whose fields C++ sets by name.

CREATE FUNCTION nezuko_analytics.native_verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_verification_counts_record';
COMMENT ON FUNCTION nezuko_analytics.native_verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'Native read of bot.verification_log over [since, until): total, today_count (rows at or after today), verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; only the columns asked for are read (the others count 0). One index-only scan when a "timestamp"-led index holds them all, one per column for at most two columns, else one pass over the rows. All NULL when the native path may not read the table (use verification_counts()).';

CREATE FUNCTION nezuko_analytics.native_api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_api_counts';
COMMENT ON FUNCTION nezuko_analytics.native_api_counts(name, timestamptz, timestamptz) IS
  'Native read of bot.api_call_log over [since, until): calls and successful calls (success = true) by method. NULL when the native path may not read the table or there are more than 1024 methods (use api_counts()).';

CREATE FUNCTION nezuko_analytics.native_group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_group_counts';
COMMENT ON FUNCTION nezuko_analytics.native_group_counts(name, timestamptz, timestamptz, integer) IS
  'Native read of bot.verification_log over [since, until): the top groups by verifications (ties by group_id) with their verifications and verified ones. NULL when the native path may not read the table (use group_counts()).';

CREATE FUNCTION nezuko_analytics.native_groups_status(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_groups_status_record';
COMMENT ON FUNCTION nezuko_analytics.native_groups_status(name) IS
  'Native read of bot.protected_groups: enabled, disabled (enabled = false) and total rows; all NULL when the native path may not read the table (use groups_status_counts()).';

CREATE FUNCTION nezuko_analytics.native_members_chart(bot name, top integer)
RETURNS json LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_members_chart';
COMMENT ON FUNCTION nezuko_analytics.native_members_chart(name, integer) IS
  'Native read of get_members_chart_data''s document: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0); NULL when the native path may not read the tables.';

CREATE FUNCTION nezuko_analytics.verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- an expression, not a query: no SPI round trip for a call that takes microseconds
    n record := nezuko_analytics.native_verification_counts(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n IS NOT NULL THEN
        total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
        error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
    ELSE  -- the native read stepped aside
        EXECUTE format($q$
            SELECT count(*), count(*) FILTER (WHERE "timestamp" >= $3),
                   CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
                   CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
                   CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
                   CASE WHEN $5 THEN count(*) FILTER (WHERE cached) ELSE 0 END,
                   CASE WHEN $6 THEN count(latency_ms) ELSE 0 END,
                   CASE WHEN $6 THEN coalesce(sum(latency_ms), 0) ELSE 0 END
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2$q$, bot)
            INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
            USING since, until, today, with_status, with_cached, with_latency;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'native_verification_counts(), or the same record from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.native_api_counts(bot, since, until) n;
    IF methods IS NULL THEN
        EXECUTE format($q$
            SELECT coalesce(array_agg(method), '{}'), coalesce(array_agg(n), '{}'), coalesce(array_agg(s), '{}')
            FROM (SELECT method::text AS method, count(*) AS n, count(*) FILTER (WHERE success) AS s
                  FROM %I.api_call_log WHERE "timestamp" >= $1 AND "timestamp" < $2 GROUP BY method) m$q$, bot)
            INTO methods, calls, ok USING since, until;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts(name, timestamptz, timestamptz) IS
  'native_api_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.native_group_counts(bot, since, until, top) n;
    IF group_ids IS NULL THEN
        EXECUTE format($q$
            SELECT coalesce(array_agg(group_id ORDER BY n DESC, group_id), '{}'), coalesce(array_agg(n ORDER BY n DESC, group_id), '{}'),
                   coalesce(array_agg(s ORDER BY n DESC, group_id), '{}')
            FROM (SELECT group_id::bigint AS group_id, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s
                  FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
                  GROUP BY group_id ORDER BY n DESC, group_id LIMIT $3) g$q$, bot)
            INTO group_ids, calls, ok USING since, until, top;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts(name, timestamptz, timestamptz, integer) IS
  'native_group_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.native_groups_status(bot);
BEGIN
    IF n IS NOT NULL THEN
        enabled := n.enabled; disabled := n.disabled; total := n.total;
    ELSE  -- the native read stepped aside
        EXECUTE format('SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled), count(*) FROM %I.protected_groups',
                       bot) INTO enabled, disabled, total;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'native_groups_status(), or the same record from one query when the native path may not read the table.';

-- A typed chart the native read serves for any window: index-only, it beats
-- the parallel query on long windows too.
CREATE FUNCTION nezuko_analytics.cache_breakdown(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (cached bigint, api bigint, total bigint, hit_rate numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY
    SELECT c.cached, c.total - c.cached, c.total, nezuko_analytics.percent(c.cached, c.total)
    FROM nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), since, until, 'infinity', false, true, false) c;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_breakdown(timestamptz, timestamptz) IS
  'Cache hits in [since, until): cached, api (= total - cached), total, hit_rate in percent round(.., 1), 0 for an empty window; read natively, index-only where an index leads with "timestamp" and holds cached.';

CREATE FUNCTION nezuko_analytics.get_cache_breakdown()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('cached', c.cached, 'api', c.api, 'total', c.total, 'hit_rate', c.hit_rate)
    FROM nezuko_analytics.cache_breakdown(now() - interval '7 days', 'infinity') c
$$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_breakdown() IS
  'Contract get_cache_breakdown: {cached, api (= total - cached), total, hit_rate} over 7 days; read natively by cache_breakdown().';

CREATE FUNCTION nezuko_analytics.get_bot_health()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    since timestamptz := now() - interval '7 days';
    v record;
    a record;
    h record;
BEGIN
    v := nezuko_analytics.verification_counts(bot, since, 'infinity', 'infinity', true, true, true);
    SELECT (SELECT coalesce(sum(x), 0) FROM unnest(n.calls) x)::bigint AS calls,
           (SELECT coalesce(sum(x), 0) FROM unnest(n.ok) x)::bigint AS ok
    INTO a FROM nezuko_analytics.api_counts(bot, since, 'infinity') n;
    SELECT * INTO h FROM nezuko_analytics.health_figures(a.calls, a.ok, v.total, v.cached, v.verified, v.error,
                                                         CASE WHEN v.latency_rows > 0 THEN round(v.latency_sum::numeric / v.latency_rows, 0) END);
    RETURN json_build_object('api_success_rate', h.api_success_rate, 'cache_efficiency', h.cache_efficiency,
                             'success_rate', h.success_rate, 'avg_latency_ms', h.avg_latency_ms,
                             'error_rate', h.error_rate, 'overall_score', h.overall_score);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_bot_health() IS
  'Contract get_bot_health: {api_success_rate, cache_efficiency, success_rate, avg_latency_ms, error_rate, overall_score} over 7 days (weights: health_figures()); each table read once, natively.';

CREATE FUNCTION nezuko_analytics.get_verification_distribution()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('verified', c.verified, 'restricted', c.restricted, 'error', c.error, 'total', c.total)
    FROM nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), now() - interval '7 days',
                                              'infinity', 'infinity', true, false, false) c
$$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_distribution() IS
  'Contract get_verification_distribution: {verified, restricted, error, total} over 7 days; read natively, index-only where an index leads with "timestamp" and holds status.';

CREATE FUNCTION nezuko_analytics.get_top_groups(p_limit integer DEFAULT 10)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    g record;
    result json;
BEGIN
    SELECT * INTO g FROM nezuko_analytics.group_counts(bot, now() - interval '7 days', 'infinity',
                                                       greatest(coalesce(p_limit, 10), 1));
    SELECT coalesce(json_agg(json_build_object('group_id', u.id, 'title', coalesce(t.title, 'Group ' || u.id),
                                               'verifications', u.n, 'success_rate', nezuko_analytics.percent(u.ok, u.n))
                             ORDER BY u.n DESC, u.id), '[]'::json)
    INTO result
    FROM unnest(g.group_ids, g.calls, g.ok) AS u(id, n, ok)
    LEFT JOIN nezuko_analytics.group_titles(bot, g.group_ids) t ON t.group_id = u.id;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_top_groups(integer) IS
  'Contract get_top_groups: [{group_id, title (else ''Group <id>''), verifications, success_rate}] over 7 days, most verifications first (ties by group_id); a limit below 1 means 1, NULL means 10; read natively.';

CREATE FUNCTION nezuko_analytics.get_dashboard_stats()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    c record;
    g record;
    channels bigint;
BEGIN
    c := nezuko_analytics.verification_counts(bot, now() - interval '7 days', 'infinity', current_date, true, true, false);
    g := nezuko_analytics.groups_status_counts(bot);
    EXECUTE format('SELECT count(*) FROM %I.enforced_channels', bot) INTO channels;
    RETURN json_build_object('total_groups', g.enabled, 'total_channels', channels,
                             'verifications_today', c.today_count, 'verifications_week', c.total,
                             'success_rate', nezuko_analytics.percent(c.verified, c.total),
                             'cache_hit_rate', nezuko_analytics.percent(c.cached, c.total));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_dashboard_stats() IS
  'Contract get_dashboard_stats: {total_groups (enabled), total_channels, verifications_today (since current_date), verifications_week, success_rate, cache_hit_rate} over 7 days; statuses and cache hits read natively, from the "timestamp"-led indexes that hold them when there are such.';

CREATE FUNCTION nezuko_analytics.get_api_calls_distribution()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    result json;
BEGIN
    SELECT * INTO a FROM nezuko_analytics.api_counts(nezuko_analytics.bot_schema(), now() - interval '7 days', 'infinity');
    SELECT coalesce(json_agg(json_build_object('method', m.method, 'count', m.n,
                                               'percentage', nezuko_analytics.percent(m.n, t.total))
                             ORDER BY m.n DESC, m.method), '[]'::json)
    INTO result
    FROM unnest(a.methods, a.calls) AS m(method, n),
         (SELECT sum(x) AS total FROM unnest(a.calls) x) t;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_api_calls_distribution() IS
  'Contract get_api_calls_distribution: [{method, count, percentage}] from api_call_log over 7 days, by count descending (then method); [] when empty; read natively.';

CREATE FUNCTION nezuko_analytics.get_members_chart_data()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    result json := nezuko_analytics.native_members_chart(bot, 10);
BEGIN
    IF result IS NULL THEN
        EXECUTE format($q$
            SELECT json_build_object(
                'channels', (SELECT coalesce(json_agg(json_build_object('name', name, 'members', members) ORDER BY members DESC, id), '[]'::json)
                             FROM (SELECT channel_id AS id, coalesce(title, 'Channel ' || channel_id) AS name,
                                          coalesce(subscriber_count, 0) AS members
                                   FROM %1$I.enforced_channels ORDER BY coalesce(subscriber_count, 0) DESC, channel_id LIMIT 10) c),
                'groups', (SELECT coalesce(json_agg(json_build_object('name', name, 'members', members) ORDER BY members DESC, id), '[]'::json)
                           FROM (SELECT group_id AS id, coalesce(title, 'Group ' || group_id) AS name,
                                        coalesce(member_count, 0) AS members
                                 FROM %1$I.protected_groups ORDER BY coalesce(member_count, 0) DESC, group_id LIMIT 10) g))$q$,
            bot) INTO result;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_members_chart_data() IS
  'Contract get_members_chart_data: {channels: [{name (title, else ''Channel <id>''), members}] top 10 enforced_channels by subscriber_count, groups: [{name, members}] top 10 protected_groups by member_count} (ties by id, NULL counts as 0); read natively.';

CREATE FUNCTION nezuko_analytics.get_groups_status()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('active', g.enabled, 'inactive', g.disabled, 'total', g.total)
    FROM nezuko_analytics.groups_status_counts(nezuko_analytics.bot_schema()) g
$$;
COMMENT ON FUNCTION nezuko_analytics.get_groups_status() IS
  'Contract get_groups_status: {active, inactive, total} from protected_groups.enabled; read natively.';
