-- The native engine of hourly_activity() and method_distribution(): one
-- pass through the C++ aggregates.  The portable edition defines the same
-- functions in SQL (sql/portable/48_chart_engine.sql).

CREATE FUNCTION nezuko_analytics.hour_counts(bot name, since timestamptz, until timestamptz, tz text)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hours jsonb;
BEGIN
    -- the rollups' summary holds the same hours (window_summary_rollups());
    -- it refuses a negative latency, which the hours never read: then raw
    BEGIN
        hours := nezuko_analytics.window_summary_rollups(since, until, tz, 1, NULL)->'hours';
    EXCEPTION WHEN invalid_parameter_value THEN
        hours := NULL;
    END;
    IF hours IS NOT NULL THEN
        RETURN hours;
    END IF;
    EXECUTE format('SELECT nezuko_analytics.hourly_status_counts(v."timestamp", v.status::text, $3)::jsonb'
                   ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2', bot)
        INTO hours USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz);
    RETURN hours;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts(name, timestamptz, timestamptz, text) IS
  'Engine of hourly_activity(): [{hour 0-23, verified, restricted, error}] for all 24 local hours (tz) of bot.verification_log rows in [since, until) with a finite time, as hourly_status_counts() gives them (or the hours of window_summary_rollups() where the rollups serve).';

CREATE FUNCTION nezuko_analytics.method_figures(bot name, since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, ok bigint, avg_latency numeric, p50 float8, p95 float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb := nezuko_analytics.api_summary_from_rollups(bot, since, until);
BEGIN
    -- from the rollups, unless a method is '' (they keep a NULL method as
    -- '', which the query keeps apart)
    IF a IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(a->'methods') e WHERE e->>'method' = '') THEN
        RETURN QUERY
        SELECT m.method, m.calls, m.failures, m.ok,
               CASE WHEN m.latency_count = 0 THEN NULL ELSE m.latency_sum::numeric / m.latency_count END, m.p50, m.p95
        FROM jsonb_to_recordset(a->'methods') AS m(method text, calls bigint, failures bigint, ok bigint,
                                                   latency_count bigint, latency_sum bigint, p50 float8, p95 float8);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT m.method, m.calls, m.failures, m.ok, m.avg_latency,
               nezuko_analytics.percentile(m.d, 0.5), nezuko_analytics.percentile(m.d, 0.95)
        FROM (SELECT a.method::text AS method, count(*) AS calls,
                     count(*) FILTER (WHERE NOT a.success) AS failures,
                     count(*) FILTER (WHERE a.success) AS ok,
                     avg(a.latency_ms) AS avg_latency,
                     nezuko_analytics.latency_dist(a.latency_ms) AS d
              FROM %I.api_call_log a
              WHERE a."timestamp" >= $1 AND a."timestamp" < $2
              GROUP BY a.method) m$q$, bot)
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_figures(name, timestamptz, timestamptz) IS
  'Engine of method_distribution(): per method of bot.api_call_log in [since, until), unordered: calls, failures (success = false), ok (success = true), avg latency, exact p50 and p95 (percentile_cont, through a latency_dist). From the rollups where they serve (api_summary_from_rollups()) and no method is empty, else one query.';
