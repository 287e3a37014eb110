-- dashboard(): every window-based chart in one document, from one scan of
-- verification_log and one of api_call_log in the window.

CREATE FUNCTION nezuko_analytics.summary_days(summary jsonb)
RETURNS TABLE ("date" date, verifications bigint, verified bigint, cached bigint,
               latency_count bigint, latency_sum bigint, p95_ms float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.date, d.count, d.verified, d.cached, d.latency_count, d.latency_sum, d.p95
    FROM jsonb_to_recordset(summary->'days')
         AS d("date" date, count bigint, verified bigint, cached bigint, latency_count bigint, latency_sum bigint, p95 float8)
    ORDER BY d.date
$$;
COMMENT ON FUNCTION nezuko_analytics.summary_days(jsonb) IS
  'The local days of a window_summary() as rows, read by name: date, verifications, verified, cached, latency_count, latency_sum, exact p95_ms. Shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.dashboard(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name;
    v jsonb;
    a jsonb;
    latency_avg numeric;
    health jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'dashboard: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR before any scan
    bot := nezuko_analytics.bot_schema();
    v := nezuko_analytics.window_summary(since, until, tz);
    a := nezuko_analytics.api_window_summary(bot, since, until);
    latency_avg := CASE WHEN (v->>'latency_count')::bigint = 0 THEN NULL
                        ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END;
    health := to_jsonb(nezuko_analytics.health_figures(
        (a->>'calls')::bigint, (a->>'ok')::bigint, (v->>'total')::bigint, (v->>'cached')::bigint,
        (v->>'verified')::bigint, (v->>'error')::bigint, latency_avg));

    RETURN jsonb_build_object(
        'window', jsonb_build_object('since', since, 'until', until, 'tz', tz),
        'totals', jsonb_build_object(
            'verifications', (v->>'total')::bigint, 'verified', (v->>'verified')::bigint,
            'restricted', (v->>'restricted')::bigint, 'error', (v->>'error')::bigint,
            'cached', (v->>'cached')::bigint, 'with_latency', (v->>'latency_count')::bigint,
            'api_calls', (a->>'calls')::bigint, 'api_failures', (a->>'failures')::bigint),
        'verification_distribution', jsonb_build_object(
            'verified', (v->>'verified')::bigint, 'restricted', (v->>'restricted')::bigint,
            'error', (v->>'error')::bigint, 'total', (v->>'total')::bigint),
        'cache_breakdown', jsonb_build_object(
            'cached', (v->>'cached')::bigint, 'api', (v->>'total')::bigint - (v->>'cached')::bigint,
            'total', (v->>'total')::bigint,
            'hit_rate', nezuko_analytics.percent((v->>'cached')::numeric, (v->>'total')::numeric)),
        'hourly_activity', (
            SELECT jsonb_agg(jsonb_build_object('hour', h.hour, 'label', h.label, 'verifications', h.verifications,
                                                'restrictions', h.restrictions, 'errors', h.errors) ORDER BY h.hour)
            FROM nezuko_analytics.hour_rows(v->'hours') h),
        'latency', jsonb_build_object(
            'histogram', (
                SELECT jsonb_agg(jsonb_build_object('bucket', b.bucket, 'lower_ms', b.lower_ms, 'upper_ms', b.upper_ms,
                                                    'count', b.count,
                                                    'percentage', nezuko_analytics.percent(b.count, (v->>'latency_count')::numeric))
                                 ORDER BY b.lower_ms)
                FROM jsonb_to_recordset(v->'buckets') AS b(bucket text, lower_ms integer, upper_ms integer, count bigint)),
            'p50_ms', nezuko_analytics.round_ms((v->>'p50')::float8),
            'p95_ms', nezuko_analytics.round_ms((v->>'p95')::float8),
            'p99_ms', nezuko_analytics.round_ms((v->>'p99')::float8),
            'avg_ms', latency_avg),
        'top_groups', coalesce((
            SELECT jsonb_agg(jsonb_build_object('group_id', g.group_id, 'title', coalesce(p.title, 'Group ' || g.group_id),
                                                'member_count', p.member_count, 'verifications', g.count,
                                                'success_rate', nezuko_analytics.percent(g.verified, g.count))
                             ORDER BY g.count DESC, g.group_id)
            FROM jsonb_to_recordset(v->'groups') AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN nezuko_analytics.group_titles(
                          bot, ARRAY(SELECT (e->>'group_id')::bigint FROM jsonb_array_elements(v->'groups') e)) p
                   ON p.group_id = g.group_id), '[]'::jsonb),
        'daily_trend', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(d.date, 'YYYY-MM-DD'),
                       'verifications', d.verifications,
                       'success_rate', nezuko_analytics.percent(d.verified, d.verifications),
                       'hit_rate', nezuko_analytics.percent(d.cached, d.verifications),
                       'avg_latency_ms', CASE WHEN d.latency_count = 0 THEN NULL
                                              ELSE round(d.latency_sum::numeric / d.latency_count, 0) END,
                       'p95_latency_ms', round(d.p95_ms::numeric, 0))
                   ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d), '[]'::jsonb),
        'api_calls', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'method', m.method, 'calls', m.calls, 'failures', m.failures,
                       'success_rate', nezuko_analytics.percent(m.ok, m.calls),
                       'percentage', nezuko_analytics.percent(m.calls, (a->>'calls')::numeric),
                       'avg_latency_ms', CASE WHEN m.latency_count = 0 THEN NULL
                                              ELSE round(m.latency_sum::numeric / m.latency_count, 0) END,
                       'p50_latency_ms', nezuko_analytics.round_ms(m.p50), 'p95_latency_ms', nezuko_analytics.round_ms(m.p95))
                   ORDER BY m.calls DESC, m.method)
            FROM jsonb_to_recordset(a->'methods')
                 AS m(method text, calls bigint, failures bigint, ok bigint, latency_count bigint, latency_sum bigint,
                      p50 float8, p95 float8)), '[]'::jsonb),
        'bot_health', health);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard(timestamptz, timestamptz, text) IS
  'Every window-based chart of [since, until) in one jsonb document (docs/dashboard.md): totals, verification_distribution, cache_breakdown, hourly_activity (in tz), latency (histogram, p50/p95/p99 rounded to 0.01 ms, avg), top_groups, daily_trend (local days in tz), api_calls, bot_health; one scan of verification_log and one of api_call_log.';

CREATE FUNCTION nezuko_analytics.group_titles(bot name, ids bigint[])
RETURNS TABLE (group_id bigint, title text, member_count integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT p.group_id::bigint, p.title::text, p.member_count::integer'
                                ' FROM %I.protected_groups p WHERE p.group_id = ANY ($1)', bot) USING ids;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_titles(name, bigint[]) IS
  'Title and member_count of the given groups from the bot''s protected_groups (by primary key).';
