-- Plain-SQL reference implementations of the typed chart functions: what a
-- user would write without the extension.  The differential tests compare
-- each native function with these, and the benchmark times both.  They read
-- verification_log / api_call_log through the caller's search_path.
CREATE SCHEMA IF NOT EXISTS nz_reference;

CREATE OR REPLACE FUNCTION nz_reference.latency_histogram(since timestamptz, until timestamptz, source text DEFAULT 'verification_log')
RETURNS TABLE (bucket text, lower_ms int, upper_ms int, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
    WITH b AS (
        SELECT CASE WHEN latency_ms < 50 THEN 1 WHEN latency_ms < 100 THEN 2 WHEN latency_ms < 200 THEN 3
                    WHEN latency_ms < 500 THEN 4 ELSE 5 END AS i, count(*) AS n
        FROM %I WHERE "timestamp" >= $1 AND "timestamp" < $2 AND latency_ms IS NOT NULL GROUP BY 1),
    k(i, bucket, lo, hi) AS (VALUES (1, '<50ms', 0, 50), (2, '50-100ms', 50, 100), (3, '100-200ms', 100, 200),
                                    (4, '200-500ms', 200, 500), (5, '>500ms', 500, NULL::int))
    SELECT k.bucket, k.lo, k.hi, coalesce(b.n, 0),
           CASE WHEN sum(coalesce(b.n, 0)) OVER () = 0 THEN 0
                ELSE round(100.0 * coalesce(b.n, 0) / sum(coalesce(b.n, 0)) OVER (), 1) END
    FROM k LEFT JOIN b USING (i) ORDER BY k.i$q$, source) USING since, until;
END $$;

CREATE OR REPLACE FUNCTION nz_reference.latency_percentiles(since timestamptz, until timestamptz)
RETURNS float8[] LANGUAGE sql STABLE AS $$
    SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY latency_ms)
    FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until
$$;

CREATE OR REPLACE FUNCTION nz_reference.verification_distribution(since timestamptz, until timestamptz)
RETURNS TABLE (status text, count bigint, percentage numeric) LANGUAGE sql STABLE AS $$
    WITH c AS (SELECT status::text, count(*) AS n FROM verification_log
               WHERE "timestamp" >= since AND "timestamp" < until GROUP BY status),
         k(status, ord) AS (VALUES ('verified', 1), ('restricted', 2), ('error', 3)),
         m AS (SELECT status, coalesce(c.n, 0) AS n, coalesce(k.ord, 4) AS ord FROM k FULL JOIN c USING (status))
    SELECT status, n, CASE WHEN sum(n) OVER () = 0 THEN 0 ELSE round(100.0 * n / sum(n) OVER (), 1) END
    FROM m ORDER BY ord, status
$$;

CREATE OR REPLACE FUNCTION nz_reference.cache_breakdown(since timestamptz, until timestamptz)
RETURNS TABLE (cached bigint, api bigint, total bigint, hit_rate numeric) LANGUAGE sql STABLE AS $$
    SELECT count(*) FILTER (WHERE cached), count(*) FILTER (WHERE NOT cached), count(*),
           CASE WHEN count(*) = 0 THEN 0 ELSE round(100.0 * count(*) FILTER (WHERE cached) / count(*), 1) END
    FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until
$$;

CREATE OR REPLACE FUNCTION nz_reference.hourly_activity(since timestamptz, until timestamptz, tz text)
RETURNS TABLE (hour int, label text, verifications bigint, restrictions bigint, errors bigint) LANGUAGE sql STABLE AS $$
    WITH h AS (SELECT extract(hour FROM "timestamp" AT TIME ZONE tz)::int AS hour,
                      count(*) FILTER (WHERE status = 'verified') AS v,
                      count(*) FILTER (WHERE status = 'restricted') AS r,
                      count(*) FILTER (WHERE status = 'error') AS e
               FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until GROUP BY 1)
    SELECT g.hour, to_char(g.hour, 'FM00') || ':00', coalesce(h.v, 0), coalesce(h.r, 0), coalesce(h.e, 0)
    FROM generate_series(0, 23) g(hour) LEFT JOIN h USING (hour) ORDER BY g.hour
$$;

CREATE OR REPLACE FUNCTION nz_reference.top_groups(since timestamptz, until timestamptz, n int DEFAULT 10)
RETURNS TABLE (group_id bigint, title text, member_count int, verifications bigint, success_rate numeric)
LANGUAGE sql STABLE AS $$
    SELECT v.group_id, coalesce(p.title, 'Group ' || v.group_id), p.member_count, count(*),
           round(100.0 * count(*) FILTER (WHERE v.status = 'verified') / count(*), 1)
    FROM verification_log v LEFT JOIN protected_groups p USING (group_id)
    WHERE v."timestamp" >= since AND v."timestamp" < until
    GROUP BY v.group_id, p.title, p.member_count
    ORDER BY count(*) DESC, v.group_id LIMIT n
$$;

CREATE OR REPLACE FUNCTION nz_reference.method_distribution(since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, success_rate numeric, percentage numeric,
               avg_latency_ms numeric, p50_latency_ms numeric, p95_latency_ms numeric) LANGUAGE sql STABLE AS $$
    SELECT method::text, count(*), count(*) FILTER (WHERE NOT success),
           round(100.0 * count(*) FILTER (WHERE success) / count(*), 1),
           round(100.0 * count(*) / sum(count(*)) OVER (), 1),
           round(avg(latency_ms), 0),
           round((percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms))::numeric, 2),
           round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric, 2)
    FROM api_call_log WHERE "timestamp" >= since AND "timestamp" < until
    GROUP BY method ORDER BY count(*) DESC, method
$$;

CREATE OR REPLACE FUNCTION nz_reference.bot_health(since timestamptz, until timestamptz)
RETURNS TABLE (api_success_rate numeric, cache_efficiency numeric, success_rate numeric,
               avg_latency_ms numeric, error_rate numeric, overall_score numeric) LANGUAGE sql STABLE AS $$
    WITH a AS (SELECT CASE WHEN count(*) = 0 THEN 0
                           ELSE round(100.0 * count(*) FILTER (WHERE success) / count(*), 1) END AS api
               FROM api_call_log WHERE "timestamp" >= since AND "timestamp" < until),
         v AS (SELECT CASE WHEN count(*) = 0 THEN 0 ELSE round(100.0 * count(*) FILTER (WHERE cached) / count(*), 1) END AS cache,
                      CASE WHEN count(*) = 0 THEN 0 ELSE round(100.0 * count(*) FILTER (WHERE status = 'verified') / count(*), 1) END AS ok,
                      CASE WHEN count(*) = 0 THEN 0 ELSE round(100.0 * count(*) FILTER (WHERE status = 'error') / count(*), 1) END AS err,
                      round(avg(latency_ms), 0) AS lat
               FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until)
    SELECT a.api, v.cache, v.ok, coalesce(v.lat, 0), v.err,
           round(0.35 * a.api + 0.30 * v.ok
                 + 0.20 * CASE WHEN v.lat IS NULL OR v.lat < 50 THEN 100 WHEN v.lat < 100 THEN 90
                               WHEN v.lat < 200 THEN 75 WHEN v.lat < 500 THEN 50 ELSE 25 END
                 + 0.10 * v.cache + 0.05 * (100 - v.err), 1)
    FROM a, v
$$;

CREATE OR REPLACE FUNCTION nz_reference.daily_trend(since timestamptz, until timestamptz, tz text DEFAULT 'UTC')
RETURNS TABLE (day date, verifications bigint, success_rate numeric, hit_rate numeric, avg_latency_ms numeric, p95_latency_ms numeric)
LANGUAGE sql STABLE AS $$
    SELECT date_trunc('day', "timestamp" AT TIME ZONE tz)::date, count(*),
           round(100.0 * count(*) FILTER (WHERE status = 'verified') / count(*), 1),
           round(100.0 * count(*) FILTER (WHERE cached) / count(*), 1),
           round(avg(latency_ms), 0),
           round((percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms))::numeric, 0)
    FROM verification_log WHERE "timestamp" >= since AND "timestamp" < until
    GROUP BY 1 ORDER BY 1
$$;
