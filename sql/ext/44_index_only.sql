-- Latency figures need only "timestamp" and latency_ms: where an index leads
-- with "timestamp" and holds latency_ms (the spec's optional
-- idx_verification_log_timestamp_latency), an index-only scan reads a
-- fraction of the bytes of the table.  The planner prefers a sequential scan
-- for long windows; these helpers steer the one query that aggregates
-- latencies to the index, and restore the settings after it.

CREATE FUNCTION nezuko_analytics.has_time_latency_index(bot name, source text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_attribute ts ON ts.attrelid = t.oid AND ts.attname = 'timestamp'
        JOIN pg_attribute lat ON lat.attrelid = t.oid AND lat.attname = 'latency_ms'
        WHERE n.nspname = bot AND t.relname = source AND i.indisvalid AND i.indpred IS NULL
          AND i.indkey[0] = ts.attnum AND lat.attnum = ANY (i.indkey::int2[]))
$$;
COMMENT ON FUNCTION nezuko_analytics.has_time_latency_index(name, text) IS
  'Whether bot.source has a valid, non-partial index that leads with "timestamp" and holds latency_ms (an index-only scan can then read latencies by time).';

CREATE FUNCTION nezuko_analytics.prefer_index_only(bot name, source text)
RETURNS text[]
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    saved text[] := ARRAY[current_setting('enable_seqscan'), current_setting('enable_bitmapscan')];
BEGIN
    IF NOT nezuko_analytics.has_time_latency_index(bot, source) THEN
        RETURN NULL;
    END IF;
    -- transaction-local; restore_plan_settings() puts the caller's values back
    -- after the query, and an error reverts them with the transaction
    PERFORM set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true);
    RETURN saved;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.prefer_index_only(name, text) IS
  'When bot.source has a "timestamp"-led index holding latency_ms, turns sequential and bitmap scans off for the next query and returns the previous settings (else NULL).';

CREATE FUNCTION nezuko_analytics.restore_plan_settings(saved text[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF saved IS NOT NULL THEN
        PERFORM set_config('enable_seqscan', saved[1], true), set_config('enable_bitmapscan', saved[2], true);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.restore_plan_settings(text[]) IS 'Puts back the settings prefer_index_only() saved.';

CREATE FUNCTION nezuko_analytics.latency_percentiles(
    since timestamptz,
    until timestamptz DEFAULT now(),
    percentiles float8[] DEFAULT '{0.5,0.95,0.99}',
    source text DEFAULT 'verification_log')
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name;
    saved text[];
    result float8[];
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_percentiles');
    IF percentiles IS NULL THEN
        RAISE EXCEPTION 'latency_percentiles: percentiles must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    bot := nezuko_analytics.bot_schema();
    saved := nezuko_analytics.prefer_index_only(bot, source);
    EXECUTE format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), $3) FROM %I.%I'
                   ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source)
        INTO result USING since, until, percentiles;
    PERFORM nezuko_analytics.restore_plan_settings(saved);
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_percentiles(timestamptz, timestamptz, float8[], text) IS
  'Exact latency percentiles of [since, until) from verification_log or api_call_log, equal to percentile_cont(percentiles); NULL for a window without latencies. Reads through an index-only scan when a "timestamp"-led index holds latency_ms.';
