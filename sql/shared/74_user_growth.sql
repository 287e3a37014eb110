-- get_user_growth: distinct users per day or week, their running sum, and
-- the growth from the first half of the window to the second, from one scan.
-- Distinct counts do not add up across buckets: a user seen on two days is
-- one user of the window but one of each day (docs/contracts.md).

CREATE FUNCTION nezuko_analytics.user_growth(since timestamptz, until timestamptz, middle timestamptz,
                                             unit text, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE result json;
BEGIN
    EXECUTE format($q$
        WITH w AS MATERIALIZED (  -- the window, read once
            SELECT date_trunc($4, "timestamp") AS bucket, "timestamp" >= $3 AS second_half, user_id
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2),
        buckets AS (
            SELECT bucket, count(DISTINCT user_id) AS n FROM w GROUP BY bucket),
        halves AS (
            SELECT count(DISTINCT user_id) AS total,
                   count(DISTINCT user_id) FILTER (WHERE NOT second_half) AS first_half,
                   count(DISTINCT user_id) FILTER (WHERE second_half) AS second_half
            FROM w)
        SELECT json_build_object(
            'period', $5,
            'granularity', $6,
            'series', (SELECT coalesce(json_agg(json_build_object('date', to_char(bucket, 'YYYY-MM-DD'), 'new_users', n,
                                                                  'total_users', running) ORDER BY bucket), '[]'::json)
                       FROM (SELECT bucket, n, (sum(n) OVER (ORDER BY bucket))::integer AS running FROM buckets) r),
            'summary', json_build_object(
                'total_new_users', h.total,
                'growth_rate', CASE WHEN h.first_half = 0 THEN 0
                                    ELSE round((h.second_half::numeric / h.first_half - 1) * 100, 1) END))
        FROM halves h$q$, nezuko_analytics.bot_schema())
        INTO result USING since, until, middle, unit, period, granularity;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth(timestamptz, timestamptz, timestamptz, text, text, text) IS
  'The body of get_user_growth over [since, until) split at middle, buckets date_trunc(unit) in the session TimeZone; period and granularity are reported as given. One scan.';

CREATE FUNCTION nezuko_analytics.get_user_growth(p_period text DEFAULT '30d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nezuko_analytics.user_growth(now() - len, 'infinity', now() - len / 2,
                                        CASE WHEN p_granularity = 'week' THEN 'week' ELSE 'day' END, p_period, p_granularity)
    FROM (SELECT nezuko_analytics.period_interval(CASE WHEN p_period IN ('7d', '30d', '90d') THEN p_period END, '30d') AS len) l
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(text, text) IS
  'Contract get_user_growth: {period, granularity (both as given), series: [{date ''YYYY-MM-DD'' (bucket start), new_users (distinct user_id in the bucket), total_users (running sum of new_users)}], summary: {total_new_users (distinct users in the window), growth_rate (distinct users of the second half over the first, minus 1, times 100, round(.., 1); 0 when the first half has none)}} over p_period ''7d'', ''30d'' or ''90d'' (else 30d) by p_granularity week (else day).';

CREATE FUNCTION nezuko_analytics.get_user_growth(since timestamptz, until timestamptz, granularity text DEFAULT 'day')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT isfinite(since) OR NOT isfinite(until) THEN
        RAISE EXCEPTION 'get_user_growth: the window must be finite to be split in halves'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN nezuko_analytics.user_growth(since, until, since + (until - since) / 2, granularity, NULL, granularity);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(timestamptz, timestamptz, text) IS
  'get_user_growth over the finite window [since, until), halves split at its middle (period null); a NULL, inverted or infinite window, or a granularity other than day or week, is an ERROR.';
