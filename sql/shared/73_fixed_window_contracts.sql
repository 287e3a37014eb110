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
    since timestamptz := now() - interval '7 days';
    c record;
    verified bigint;
    g record;
    channels bigint;
BEGIN
    -- The verified rows apart from the rest: a read of one status (by an
    -- index condition where an index holds it) costs less than counting
    -- every status, and the cached rows come from their own index.
    c := nezuko_analytics.verification_counts(bot, since, 'infinity', current_date, false, true, false);
    verified := nezuko_analytics.verified_count(bot, since, 'infinity');
    g := nezuko_analytics.groups_status_counts(bot);
    EXECUTE format('SELECT count(*) FROM %I.enforced_channels', bot) INTO channels;
    RETURN json_build_object('total_groups', g.enabled, 'total_channels', channels,
                             'verifications_today', c.today_count, 'verifications_week', c.total,
                             'success_rate', nezuko_analytics.percent(verified, c.total),
                             'cache_hit_rate', nezuko_analytics.percent(c.cached, c.total));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_dashboard_stats() IS
  'Contract get_dashboard_stats: {total_groups (enabled), total_channels, verifications_today (since current_date), verifications_week, success_rate, cache_hit_rate} over 7 days; the week''s, today''s and cached rows from verification_counts(), the verified ones from verified_count(), each read natively in the native edition.';

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

-- No SET clause, so that the planner inlines it into the caller's query (as
-- the portable edition's members_chart()): a SQL function with one is
-- planned again on each statement, which cost a twentieth of this
-- sub-millisecond contract.  Its body names every function by schema, with
-- arguments of their exact types (security.md).
CREATE FUNCTION nezuko_analytics.get_members_chart_data()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart(nezuko_analytics.bot_schema(), 10) $$;
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
