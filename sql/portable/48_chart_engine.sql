-- The portable engine of hourly_activity() and method_distribution(): one
-- query each.

CREATE FUNCTION nezuko_analytics.hour_counts_pass(bot name, since timestamptz, until timestamptz, tz text)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- RETURN QUERY: its read may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        SELECT jsonb_agg(jsonb_build_object('hour', h, 'verified', coalesce(x.verified, 0),
                                            'restricted', coalesce(x.restricted, 0), 'error', coalesce(x.error, 0)) ORDER BY h)
        FROM generate_series(0, 23) h
        LEFT JOIN (SELECT date_part('hour', b.local_hour AT TIME ZONE 'UTC')::integer AS hour,
                          sum(b.verified) AS verified, sum(b.restricted) AS restricted, sum(b.error) AS error
                   FROM (SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour, %3$s
                         FROM %1$I.verification_log v
                         WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND isfinite(v."timestamp")
                         GROUP BY 1) b
                   GROUP BY 1) x ON x.hour = h$q$,
        bot, nezuko_analytics.local_shift_sql(nezuko_analytics.window_tz_offsets(since, until, tz)),
        nezuko_analytics.status_counts_sql())
        USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts_pass(name, timestamptz, timestamptz, text) IS
  'The read behind hour_counts(), as one row.';

CREATE FUNCTION nezuko_analytics.hour_counts(bot name, since timestamptz, until timestamptz, tz text)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT p FROM nezuko_analytics.hour_counts_pass(bot, since, until, tz) p $$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts(name, timestamptz, timestamptz, text) IS
  'Engine of hourly_activity(): [{hour 0-23, verified, restricted, error}] for all 24 local hours (tz) of bot.verification_log rows in [since, until) with a finite time; one query.';

CREATE FUNCTION nezuko_analytics.method_figures(bot name, since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, ok bigint, avg_latency numeric, p50 float8, p95 float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT a.method::text, count(*), count(*) FILTER (WHERE NOT a.success), count(*) FILTER (WHERE a.success),
               avg(a.latency_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY a.latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY a.latency_ms)
        FROM %I.api_call_log a
        WHERE a."timestamp" >= $1 AND a."timestamp" < $2
        GROUP BY a.method$q$, bot)
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_figures(name, timestamptz, timestamptz) IS
  'Engine of method_distribution(): per method of bot.api_call_log in [since, until), unordered: calls, failures (success = false), ok (success = true), avg latency, exact p50 and p95 (percentile_cont); one query.';
