-- The typed chart functions.  Each reads the bot's tables (in the schema
-- apply_schema() recorded) once, through dynamic SQL so the planner sees the
-- real window: an index scan on "timestamp" for short windows, a parallel
-- sequential scan for long ones.

CREATE FUNCTION nezuko_analytics.verification_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (status text, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    -- from the rollups when every row has one of the three statuses (the
    -- rollups do not keep the names of the others)
    v := nezuko_analytics.verification_summary_from_rollups(since, until, 1);
    IF (v->>'total')::bigint = (v->>'verified')::bigint + (v->>'restricted')::bigint + (v->>'error')::bigint THEN
        RETURN QUERY
        SELECT k.status, k.n, nezuko_analytics.percent(k.n, (v->>'total')::bigint)
        FROM (VALUES ('verified', (v->>'verified')::bigint, 1), ('restricted', (v->>'restricted')::bigint, 2),
                     ('error', (v->>'error')::bigint, 3)) k(status, n, ord)
        ORDER BY k.ord;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH counted AS (
            SELECT v.status::text AS status, count(*) AS n
            FROM %I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY v.status),
        known(status, ord) AS (VALUES ('verified', 1), ('restricted', 2), ('error', 3)),
        merged AS (
            SELECT status, coalesce(c.n, 0) AS n, coalesce(k.ord, 4) AS ord
            FROM known k FULL JOIN counted c USING (status))
        SELECT status, n,
               nezuko_analytics.percent(n, sum(n) OVER ())
        FROM merged ORDER BY ord, status$q$, nezuko_analytics.bot_schema())
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_distribution(timestamptz, timestamptz) IS
  'Verifications in [since, until) by status: verified, restricted and error always (zero counts too), then any other status; percentage round(.., 1), 0 for an empty window. From the rollups where they serve (verification_summary_from_rollups()) and no row has another status, else one query.';

CREATE FUNCTION nezuko_analytics.hourly_activity(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'hourly_activity: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR here, before any scan
    RETURN QUERY SELECT * FROM nezuko_analytics.hour_rows(
        nezuko_analytics.hour_counts(nezuko_analytics.bot_schema(), since, until, tz));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hourly_activity(timestamptz, timestamptz, text) IS
  'Verifications in [since, until) by hour of day in time zone tz (DST and half-hour zones right): 24 rows, zero-filled, label ''HH:00''; counts of verified, restricted and error rows. One pass (the edition''s hour_counts()).';

CREATE FUNCTION nezuko_analytics.top_groups(since timestamptz, until timestamptz DEFAULT now(), n integer DEFAULT 10)
RETURNS TABLE (group_id bigint, title text, member_count integer, verifications bigint, success_rate numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    groups jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'top_groups: n must be at least 1, not %', coalesce(n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    groups := nezuko_analytics.groups_from_rollups(since, until, n);
    IF groups IS NOT NULL THEN
        RETURN QUERY EXECUTE format($q$
            SELECT g.group_id, coalesce(p.title::text, 'Group ' || g.group_id), p.member_count::integer, g.count,
                   nezuko_analytics.percent(g.verified, g.count)
            FROM jsonb_to_recordset($1) AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN %I.protected_groups p ON p.group_id = g.group_id
            ORDER BY g.count DESC, g.group_id$q$, nezuko_analytics.bot_schema())
        USING groups;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH g AS (
            SELECT v.group_id::bigint AS group_id, count(*) AS n,
                   count(*) FILTER (WHERE v.status = 'verified') AS ok
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY v.group_id
            ORDER BY n DESC, v.group_id
            LIMIT $3)
        SELECT g.group_id, coalesce(p.title::text, 'Group ' || g.group_id), p.member_count::integer, g.n,
               nezuko_analytics.percent(g.ok, g.n)
        FROM g LEFT JOIN %1$I.protected_groups p ON p.group_id = g.group_id
        ORDER BY g.n DESC, g.group_id$q$, nezuko_analytics.bot_schema())
    USING since, until, n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.top_groups(timestamptz, timestamptz, integer) IS
  'The n groups with the most verifications in [since, until), ties broken by group_id: title (else ''Group <id>''), member_count, verifications, success_rate (percent verified, round(.., 1)). n must be at least 1. From the rollups where they serve (groups_from_rollups()), else one query.';

CREATE FUNCTION nezuko_analytics.method_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (method text, calls bigint, failures bigint, success_rate numeric, percentage numeric,
               avg_latency_ms numeric, p50_latency_ms numeric, p95_latency_ms numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY
    SELECT m.method, m.calls, m.failures, nezuko_analytics.percent(m.ok, m.calls),
           nezuko_analytics.percent(m.calls, sum(m.calls) OVER ()), round(m.avg_latency, 0),
           nezuko_analytics.round_ms(m.p50), nezuko_analytics.round_ms(m.p95)
    FROM nezuko_analytics.method_figures(nezuko_analytics.bot_schema(), since, until) m
    ORDER BY m.calls DESC, m.method;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_distribution(timestamptz, timestamptz) IS
  'API calls in [since, until) by method, most calls first, then by method: failures (success = false), success_rate and percentage of all calls (round(.., 1)), avg latency round(.., 0), exact p50 and p95 latency (percentile_cont) rounded to 0.01 ms.';

CREATE FUNCTION nezuko_analytics.health_figures(
    api_calls bigint, api_ok bigint, verifications bigint, cached bigint, verified bigint, errors bigint,
    avg_latency numeric,
    OUT api_success_rate numeric, OUT cache_efficiency numeric, OUT success_rate numeric,
    OUT avg_latency_ms numeric, OUT error_rate numeric, OUT overall_score numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.api, h.cache, h.ok, coalesce(avg_latency, 0), h.err,
           round(0.35 * h.api + 0.30 * h.ok
                 + 0.20 * CASE WHEN avg_latency IS NULL OR avg_latency < 50 THEN 100 WHEN avg_latency < 100 THEN 90
                               WHEN avg_latency < 200 THEN 75 WHEN avg_latency < 500 THEN 50 ELSE 25 END
                 + 0.10 * h.cache + 0.05 * (100 - h.err), 1)
    FROM (SELECT nezuko_analytics.percent(api_ok, api_calls) AS api,
                 nezuko_analytics.percent(cached, verifications) AS cache,
                 nezuko_analytics.percent(verified, verifications) AS ok,
                 nezuko_analytics.percent(errors, verifications) AS err) h
$$;
COMMENT ON FUNCTION nezuko_analytics.health_figures(bigint, bigint, bigint, bigint, bigint, bigint, numeric) IS
  'get_bot_health''s figures from raw counts (avg_latency already rounded, NULL without latencies): the percentages, and overall_score = 35% API success + 30% success rate + 20% latency score (avg < 50 ms: 100, < 100: 90, < 200: 75, < 500: 50, else 25; no data: 100) + 10% cache efficiency + 5% (100 - error rate), round(.., 1). Shared by bot_health() and dashboard().';

CREATE FUNCTION nezuko_analytics.bot_health(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (api_success_rate numeric, cache_efficiency numeric, success_rate numeric,
               avg_latency_ms numeric, error_rate numeric, overall_score numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    v record;
    rv jsonb;
    ra jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    -- from the rollups where both tables' serve
    rv := nezuko_analytics.verification_summary_from_rollups(since, until, 1);
    ra := CASE WHEN rv IS NOT NULL THEN nezuko_analytics.api_summary_from_rollups(nezuko_analytics.bot_schema(), since, until) END;
    IF ra IS NOT NULL THEN
        RETURN QUERY SELECT * FROM nezuko_analytics.health_figures(
            (ra->>'calls')::bigint, (ra->>'ok')::bigint, (rv->>'total')::bigint, (rv->>'cached')::bigint,
            (rv->>'verified')::bigint, (rv->>'error')::bigint,
            CASE WHEN (rv->>'latency_count')::bigint = 0 THEN NULL
                 ELSE round((rv->>'latency_sum')::numeric / (rv->>'latency_count')::numeric, 0) END);
        RETURN;
    END IF;
    EXECUTE format($q$
        SELECT count(*) AS calls, count(*) FILTER (WHERE a.success) AS ok
        FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2$q$, nezuko_analytics.bot_schema())
        INTO a USING since, until;
    EXECUTE format($q$
        SELECT count(*) AS n,
               count(*) FILTER (WHERE v.cached) AS hits,
               count(*) FILTER (WHERE v.status = 'verified') AS ok,
               count(*) FILTER (WHERE v.status = 'error') AS errors,
               round(avg(v.latency_ms), 0) AS avg_latency
        FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2$q$, nezuko_analytics.bot_schema())
        INTO v USING since, until;
    RETURN QUERY SELECT * FROM nezuko_analytics.health_figures(a.calls, a.ok, v.n, v.hits, v.ok, v.errors, v.avg_latency);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bot_health(timestamptz, timestamptz) IS
  'Bot health in [since, until) as get_bot_health computes it: api_success_rate, cache_efficiency, success_rate, avg_latency_ms, error_rate (percentages round(.., 1), 0 for an empty window) and overall_score = 35% API success + 30% success rate + 20% latency score (avg < 50 ms: 100, < 100: 90, < 200: 75, < 500: 50, else 25; no data: 100) + 10% cache efficiency + 5% (100 - error rate), round(.., 1). From the rollups where both tables'' serve (verification_summary_from_rollups(), api_summary_from_rollups()), else two queries.';
