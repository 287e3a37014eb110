-- nezuko_analytics_sql (the portable edition) 1.6 -> 1.7, written by hand
-- (docs/versions.md).  1.7 changes the rollups of the native edition (local
-- days, groups per quarter hour); the portable edition takes the shared
-- changes (the typed charts ask verification_summary_from_rollups() and api_summary_from_rollups()
-- first, which answer NULL here: it has no rollups) and its version().

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.7'::text $$;

-- The typed charts' way to the rollups (docs/rollups.md): the summary of a
-- window from the native edition's rollups, where the edition has them and
-- they serve this window; NULL otherwise (the portable edition has none),
-- and then the caller reads the raw rows.

CREATE FUNCTION nezuko_analytics.verification_summary_from_rollups(since timestamptz, until timestamptz, top_groups integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    -- the summary leaves out rows dated -infinity, which these charts count
    -- in a window from -infinity
    IF NOT isfinite(since)
       OR to_regprocedure('nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    -- the summary refuses a negative latency, which these charts may not
    -- read: then raw rows
    BEGIN
        EXECUTE 'SELECT nezuko_analytics.window_summary_rollups($1, $2, ''UTC'', $3, NULL)' INTO v
            USING since, until, top_groups;
    EXCEPTION WHEN invalid_parameter_value THEN
        v := NULL;
    END;
    RETURN v;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.verification_summary_from_rollups(timestamptz, timestamptz, integer) IS
  'The summary of verification_log over [since, until) from the rollups (window_summary_rollups() in UTC, with top_groups groups) where this edition has them and they serve the window; NULL otherwise, for a window from -infinity (the summary leaves out rows dated -infinity), or when a negative latency makes the summary refuse it. Used by the typed charts (verification_distribution(), bot_health(), groups_from_rollups()).';

-- The top groups from the rollups: they count a NULL group_id as 0, which
-- the queries keep apart, so with group 0 among them the caller reads raw rows.
CREATE FUNCTION nezuko_analytics.groups_from_rollups(since timestamptz, until timestamptz, top integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    groups jsonb := nezuko_analytics.verification_summary_from_rollups(since, until, top)->'groups';
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(groups) e WHERE (e->>'group_id')::bigint = 0) THEN
        RETURN NULL;
    END IF;
    RETURN groups;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.groups_from_rollups(timestamptz, timestamptz, integer) IS
  'The top groups of verification_log over [since, until) from the rollups, [{"group_id", "count", "verified"}] most first, then by id (verification_summary_from_rollups()); NULL where those give nothing or group 0 is among them (the rollups count a NULL group_id as 0). Used by top_groups() and the native group_counts_rollups().';

CREATE FUNCTION nezuko_analytics.api_summary_from_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb;
BEGIN
    IF to_regprocedure('nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE 'SELECT nezuko_analytics.api_window_summary_rollups($1, $2, $3)' INTO a USING bot, since, until;
    EXCEPTION WHEN invalid_parameter_value THEN
        a := NULL;
    END;
    RETURN a;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.api_summary_from_rollups(name, timestamptz, timestamptz) IS
  'The summary of bot.api_call_log over [since, until) from the rollups (api_window_summary_rollups()) where this edition has them and they serve the window; NULL otherwise. Used by bot_health() and the native method_figures().';

-- The typed chart functions.  Each reads the bot's tables (in the schema
-- apply_schema() recorded) once, through dynamic SQL so the planner sees the
-- real window: an index scan on "timestamp" for short windows, a parallel
-- sequential scan for long ones.

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_distribution(since timestamptz, until timestamptz DEFAULT now())
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

CREATE OR REPLACE FUNCTION nezuko_analytics.top_groups(since timestamptz, until timestamptz DEFAULT now(), n integer DEFAULT 10)
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

CREATE OR REPLACE FUNCTION nezuko_analytics.bot_health(since timestamptz, until timestamptz DEFAULT now())
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

