-- The dashboard's data contracts (docs/contracts.md) as
-- drop-in nezuko_analytics.get_* functions: same names, arguments, defaults,
-- keys, rounding and ordering, returning json; each reads each table once.
-- As the originals do, a period window is "timestamp >= now() - period" (no
-- upper bound) and hours and days are in the session's TimeZone.

CREATE FUNCTION nezuko_analytics.period_interval(p_period text, default_period text)
RETURNS interval LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE coalesce(CASE WHEN p_period IN ('24h', '7d', '30d', '90d') THEN p_period END, default_period)
               WHEN '24h' THEN interval '24 hours' WHEN '7d' THEN interval '7 days'
               WHEN '30d' THEN interval '30 days' WHEN '90d' THEN interval '90 days' END
$$;
COMMENT ON FUNCTION nezuko_analytics.period_interval(text, text) IS
  'The interval of a contract period (''24h'', ''7d'', ''30d'', ''90d''); an unknown or NULL period falls back to default_period.';

CREATE FUNCTION nezuko_analytics.get_hourly_activity()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('hour', h.hour, 'label', h.label, 'verifications', h.verifications,
                                      'restrictions', h.restrictions) ORDER BY h.hour)
    FROM nezuko_analytics.hourly_activity(now() - interval '7 days', 'infinity', current_setting('TimeZone')) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_hourly_activity() IS
  'Contract get_hourly_activity: [{hour 0-23, label ''HH:00'', verifications, restrictions}] by hour of day (session TimeZone) over 7 days, all 24 hours, ordered by hour.';

CREATE FUNCTION nezuko_analytics.get_latency_distribution(p_period text DEFAULT '7d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('bucket', h.bucket, 'count', h.count, 'percentage', h.percentage,
                                      'sort_order', h.sort_order) ORDER BY h.sort_order)
    FROM (SELECT *, row_number() OVER (ORDER BY lower_ms) AS sort_order
          FROM nezuko_analytics.latency_histogram(now() - nezuko_analytics.period_interval(p_period, '7d'), 'infinity')) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_distribution(text) IS
  'Contract get_latency_distribution: [{bucket, count, percentage, sort_order 1-5}] for ''<50ms'' .. ''>500ms'' over p_period (unknown: 7d), percentage of rows with a latency.';

CREATE FUNCTION nezuko_analytics.get_latency_distribution(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('bucket', h.bucket, 'count', h.count, 'percentage', h.percentage,
                                      'sort_order', h.sort_order) ORDER BY h.sort_order)
    FROM (SELECT *, row_number() OVER (ORDER BY lower_ms) AS sort_order FROM nezuko_analytics.latency_histogram(since, until)) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_distribution(timestamptz, timestamptz) IS
  'get_latency_distribution over the window [since, until); a NULL or inverted window is an ERROR.';

-- The trends: one scan, grouped by day in the session TimeZone.
CREATE FUNCTION nezuko_analytics.trend_summary(since timestamptz, until timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), now() - interval '1 day', true);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.trend_summary(timestamptz, timestamptz) IS
  'The day_summary() of get_latency_trend: [since, until) checked, local days in the session TimeZone with their latencies, and the last 24 hours as its recent totals.';

CREATE FUNCTION nezuko_analytics.latency_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb := nezuko_analytics.trend_summary(since, until);
BEGIN
    RETURN json_build_object(
        'period', period,
        'series', coalesce((
            SELECT json_agg(json_build_object('date', to_char(d.date, 'YYYY-MM-DD'),
                                              'avg_latency', round(d.latency_sum::numeric / d.latency_count, 0),
                                              'p95_latency', round(d.p95_ms::numeric, 0))
                            ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d WHERE d.latency_count > 0), '[]'::json),
        'current_avg', CASE WHEN (v->>'latency_count')::bigint = 0 THEN 0
                            ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_trend(timestamptz, timestamptz, text) IS
  'The body of get_latency_trend over [since, until): the days (in the session TimeZone) and the whole window of one day_summary().';

CREATE FUNCTION nezuko_analytics.get_latency_trend(p_period text DEFAULT '30d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.latency_trend(now() - nezuko_analytics.period_interval(p_period, '30d'), 'infinity',
                                            p_period) $$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_trend(text) IS
  'Contract get_latency_trend: {period, series: [{date ''YYYY-MM-DD'', avg_latency, p95_latency (percentile_cont(0.95) rounded to 0)}] per day with latencies, current_avg (average over the whole period, round(.., 0), 0 when none)} over p_period (unknown: 30d, reported as given).';

CREATE FUNCTION nezuko_analytics.get_latency_trend(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.latency_trend(since, until, NULL) $$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_trend(timestamptz, timestamptz) IS
  'get_latency_trend over [since, until) (period null); a NULL or inverted window is an ERROR.';

CREATE FUNCTION nezuko_analytics.cache_hit_rate_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    v := nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), now() - interval '1 day', false);
    RETURN (
        SELECT json_build_object(
            'period', period,
            'series', coalesce(json_agg(json_build_object('date', day, 'value', value, 'total_count', n) ORDER BY day), '[]'::json),
            'current_rate', nezuko_analytics.percent((v->'recent'->>'cached')::numeric, (v->'recent'->>'count')::numeric),
            'average_rate', coalesce(round(avg(value), 1), 0))
        FROM (SELECT to_char(d.date, 'YYYY-MM-DD') AS day, d.verifications AS n,
                     nezuko_analytics.percent(d.cached, d.verifications) AS value
              FROM nezuko_analytics.summary_days(v) d) d);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_hit_rate_trend(timestamptz, timestamptz, text) IS
  'The body of get_cache_hit_rate_trend over [since, until): the days (in the session TimeZone) and the last 24 hours of one day_summary(), without latencies.';

CREATE FUNCTION nezuko_analytics.get_cache_hit_rate_trend(p_period text DEFAULT '30d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.cache_hit_rate_trend(now() - nezuko_analytics.period_interval(p_period, '30d'), 'infinity',
                                                   p_period) $$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_hit_rate_trend(text) IS
  'Contract get_cache_hit_rate_trend: {period, series: [{date, value (daily hit rate), total_count}], current_rate (last 24 hours), average_rate (mean of the daily rates, 1 decimal)} over p_period (unknown: 30d, reported as given).';

CREATE FUNCTION nezuko_analytics.get_cache_hit_rate_trend(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.cache_hit_rate_trend(since, until, NULL) $$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_hit_rate_trend(timestamptz, timestamptz) IS
  'get_cache_hit_rate_trend over [since, until) (period null); a NULL or inverted window is an ERROR.';

CREATE FUNCTION nezuko_analytics.verification_trends(since timestamptz, until timestamptz, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE result json; v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''hour'', ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF granularity = 'day' THEN
        -- the days of one native pass: no per-row time-zone arithmetic
        v := nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), NULL, false);
        RETURN (
            SELECT json_build_object(
                'period', period,
                'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                              'successful', successful, 'failed', total - successful)
                                            ORDER BY bucket), '[]'::json),
                'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                             'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
            FROM (SELECT (d.date::timestamp AT TIME ZONE current_setting('TimeZone')) AS bucket,
                         d.verifications AS total, d.verified AS successful
                  FROM nezuko_analytics.summary_days(v) d) d);
    END IF;
    EXECUTE format($q$
        WITH buckets AS (
            SELECT date_trunc($4, "timestamp") AS bucket, count(*) AS total,
                   count(*) FILTER (WHERE status = 'verified') AS successful
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
            GROUP BY 1)
        SELECT json_build_object(
            'period', $3,
            'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                          'successful', successful, 'failed', total - successful)
                                        ORDER BY bucket), '[]'::json),
            'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                         'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
        FROM buckets$q$, nezuko_analytics.bot_schema()) INTO result USING since, until, period, granularity;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_trends(timestamptz, timestamptz, text, text) IS
  'The body of get_verification_trends over [since, until): one scan, by day from day_summary(), by hour or week grouped in SQL.';

CREATE FUNCTION nezuko_analytics.get_verification_trends(p_period text DEFAULT '7d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.verification_trends(now() - nezuko_analytics.period_interval(p_period, '7d'), 'infinity',
                                                  p_period,
                                                  CASE WHEN p_granularity IN ('hour', 'day', 'week') THEN p_granularity ELSE 'day' END) $$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_trends(text, text) IS
  'Contract get_verification_trends: {period, series: [{timestamp (bucket start as text), total, successful (verified), failed (the rest)}], summary: {total_verifications, success_rate}} over p_period (unknown: 7d, reported as given) by p_granularity hour, day or week (unknown: day).';

CREATE FUNCTION nezuko_analytics.get_verification_trends(since timestamptz, until timestamptz, granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.verification_trends(since, until, NULL, granularity) $$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_trends(timestamptz, timestamptz, text) IS
  'get_verification_trends over [since, until); a NULL or inverted window, or a granularity other than hour, day or week, is an ERROR.';

CREATE FUNCTION nezuko_analytics.analytics_overview(since timestamptz, until timestamptz)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    v record;
    n bigint;
    ok bigint;
    hits bigint;
    latency_rows bigint;
    latency_sum bigint;
    result json;
BEGIN
    -- the counts each edition reads its own way (the native one from rollups where it can)
    v := nezuko_analytics.verification_counts_scan(bot, coalesce(since, '-infinity'), coalesce(until, 'infinity'), 'infinity',
                                                   true, true, true);
    n := v.total; ok := v.verified; hits := v.cached; latency_rows := v.latency_rows; latency_sum := v.latency_sum;
    IF until IS NULL THEN  -- no end: rows at +infinity count too
        EXECUTE format('SELECT $1 + count(*), $2 + count(*) FILTER (WHERE status = ''verified''),'
                       ' $3 + count(*) FILTER (WHERE cached), $4 + count(latency_ms), $5 + coalesce(sum(latency_ms), 0)'
                       ' FROM %I.verification_log WHERE "timestamp" = ''infinity''', bot)
            INTO n, ok, hits, latency_rows, latency_sum USING n, ok, hits, latency_rows, latency_sum;
    END IF;
    EXECUTE format($q$
        SELECT json_build_object(
            'total_verifications', $1,
            'total_groups', (SELECT count(*) FROM %1$I.protected_groups),
            'total_channels', (SELECT count(*) FROM %1$I.enforced_channels),
            'success_rate', nezuko_analytics.percent($2, $1),
            'avg_latency_ms', coalesce(round($4::numeric / nullif($3, 0), 0), 0),
            'cache_hit_rate', nezuko_analytics.percent($5, $1))$q$, bot)
        INTO result USING n, ok, latency_rows, latency_sum, hits;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.analytics_overview(timestamptz, timestamptz) IS
  'The body of get_analytics_overview, from verification_counts_scan(); NULL bounds mean all time (an open end counts rows at +infinity too).';

CREATE FUNCTION nezuko_analytics.get_analytics_overview(p_period text DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.analytics_overview(now() - nezuko_analytics.period_interval(p_period, NULL), NULL) $$;
COMMENT ON FUNCTION nezuko_analytics.get_analytics_overview(text) IS
  'Contract get_analytics_overview: {total_verifications, total_groups, total_channels, success_rate, avg_latency_ms, cache_hit_rate} over p_period; NULL or unknown period = all time.';

CREATE FUNCTION nezuko_analytics.get_analytics_overview(since timestamptz, until timestamptz)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN nezuko_analytics.analytics_overview(since, until);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_analytics_overview(timestamptz, timestamptz) IS
  'get_analytics_overview over [since, until); a NULL or inverted window is an ERROR.';
