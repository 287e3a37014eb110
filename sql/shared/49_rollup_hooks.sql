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
