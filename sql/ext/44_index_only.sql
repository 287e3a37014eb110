-- Latency figures need only "timestamp" and latency_ms: where an index leads
-- with "timestamp" and holds latency_ms (the spec's optional
-- idx_verification_log_timestamp_latency), an index-only scan reads a
-- fraction of the bytes of the table.  The planner prefers a sequential scan
-- for long windows; these helpers steer the one query that aggregates
-- latencies to the index, and restore the settings after it.

CREATE FUNCTION nezuko_analytics.time_led_index(bot name, relname text, columns text[])
RETURNS regclass
LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_led_index';
COMMENT ON FUNCTION nezuko_analytics.time_led_index(name, text, text[]) IS
  'The narrowest index of bot.relname that leads with "timestamp" (timestamptz, btree, default ascending order, no expression, no predicate, valid) and holds every column named, else NULL: the one rule that the native reads and the index-only latency reads share.';

CREATE FUNCTION nezuko_analytics.has_time_latency_index(bot name, source text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.time_led_index(bot, source, ARRAY['latency_ms']) IS NOT NULL $$;
COMMENT ON FUNCTION nezuko_analytics.has_time_latency_index(name, text) IS
  'Whether bot.source has an index that leads with "timestamp" and holds latency_ms, by time_led_index()''s rule (an index-only scan can then read latencies by time).';

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
