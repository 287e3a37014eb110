-- The native engine of dashboard() and the trend contracts: the one-pass
-- C++ aggregates over verification_log and api_call_log, and the functions
-- that run them over a window.  Their documents are keyed JSON; the portable
-- edition builds the same documents in SQL (sql/portable/47_window_summary.sql).

CREATE FUNCTION nezuko_analytics.verification_summary_add(internal, timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_add';

CREATE FUNCTION nezuko_analytics.verification_summary_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_combine';

CREATE FUNCTION nezuko_analytics.verification_summary_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_serialize';

CREATE FUNCTION nezuko_analytics.verification_summary_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_deserialize';

CREATE FUNCTION nezuko_analytics.verification_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_final_keyed';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_add(internal, timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS 'Transition function of verification_summary.';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_combine(internal, internal) IS 'Combine function of verification_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_serialize(internal) IS 'Serialize function of verification_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_deserialize(bytea, internal) IS 'Deserialize function of verification_summary (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_final(internal) IS 'Final function of verification_summary: the JSON document, every figure by name.';

CREATE AGGREGATE nezuko_analytics.verification_summary(
    "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary(timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS
  'Every verification_log chart in one pass: totals by status, cached, latency buckets and exact p50/p95/p99, counts per local hour, the top groups, per local day count, verified, cached, latency sum and exact p95 (local time from tz_offsets), and the same totals for rows at or after recent_since. Returns JSON text with every figure by name (docs/dashboard.md). Parallel safe.';

CREATE FUNCTION nezuko_analytics.api_summary_add(internal, text, boolean, integer) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_add';

CREATE FUNCTION nezuko_analytics.api_summary_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_combine';

CREATE FUNCTION nezuko_analytics.api_summary_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_serialize';

CREATE FUNCTION nezuko_analytics.api_summary_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_deserialize';

CREATE FUNCTION nezuko_analytics.api_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_final_keyed';
COMMENT ON FUNCTION nezuko_analytics.api_summary_add(internal, text, boolean, integer) IS 'Transition function of api_summary.';
COMMENT ON FUNCTION nezuko_analytics.api_summary_combine(internal, internal) IS 'Combine function of api_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.api_summary_serialize(internal) IS 'Serialize function of api_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.api_summary_deserialize(bytea, internal) IS 'Deserialize function of api_summary (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.api_summary_final(internal) IS 'Final function of api_summary: the JSON document, every figure by name.';

CREATE AGGREGATE nezuko_analytics.api_summary(method text, success boolean, latency_ms integer) (
    SFUNC = nezuko_analytics.api_summary_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary(text, boolean, integer) IS
  'Every api_call_log chart in one pass: calls, successes, failures, latency sum and exact p95, and per method the same with p50. Returns JSON text with every figure by name (docs/dashboard.md). Parallel safe.';

CREATE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
                                                top_groups integer DEFAULT 10, recent_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    v := nezuko_analytics.window_summary_rollups(since, until, tz, top_groups, recent_since);
    IF v IS NOT NULL THEN
        RETURN v;
    END IF;
    EXECUTE format('SELECT nezuko_analytics.verification_summary(v."timestamp", v.status::text, v.latency_ms, v.cached,'
                   ' v.group_id::bigint, $3, $4, $5)::jsonb FROM %I.verification_log v'
                   ' WHERE v."timestamp" >= $1 AND v."timestamp" < $2', nezuko_analytics.bot_schema())
        INTO v USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The one-pass summary of verification_log in [since, until) with local hours and days in tz (one scan, or the rollups and the raw rows they leave: window_summary_rollups()), every figure by name (docs/dashboard.md); shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.api_window_summary(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb;
BEGIN
    a := nezuko_analytics.api_window_summary_rollups(bot, since, until);
    IF a IS NOT NULL THEN
        RETURN a;
    END IF;
    EXECUTE format('SELECT nezuko_analytics.api_summary(a.method::text, a.success, a.latency_ms)::jsonb'
                   ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', bot)
        INTO a USING since, until;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary(name, timestamptz, timestamptz) IS
  'The one-pass summary of bot.api_call_log in [since, until) (or the rollups and the raw rows they leave: api_window_summary_rollups()), every figure by name (docs/dashboard.md): calls, ok, failures, latency_count, latency_sum, exact p95, and per method (most calls first) the same with p50. Used by dashboard().';

CREATE FUNCTION nezuko_analytics.day_summary(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                             with_latency boolean)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.window_summary(since, until, tz, 1, recent_since) $$;
COMMENT ON FUNCTION nezuko_analytics.day_summary(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'Engine of the trend contracts: of window_summary(), what they read by name: days (date, count, verified, cached, latency_count, latency_sum, p95), the window''s latency_count and latency_sum, and recent (totals at or after recent_since). The native edition gives the whole summary of its one pass (with_latency asks nothing less of it).';
