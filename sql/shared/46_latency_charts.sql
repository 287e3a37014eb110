-- The latency charts: validation and shaping here, the counting in the
-- edition's engine (bucket_counts(), percentile_values()).

CREATE FUNCTION nezuko_analytics.latency_histogram(
    since timestamptz,
    until timestamptz DEFAULT now(),
    edges integer[] DEFAULT nezuko_analytics.default_latency_edges(),
    source text DEFAULT 'verification_log')
RETURNS TABLE (bucket text, lower_ms integer, upper_ms integer, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
    labels text[];
    total bigint;
    bot name;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_histogram');
    IF edges IS NULL THEN
        RAISE EXCEPTION 'latency_histogram: edges must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    labels := nezuko_analytics.latency_bucket_labels(edges);  -- validates the edges
    bot := nezuko_analytics.bot_schema();
    counts := nezuko_analytics.bucket_counts(bot, source, since, until, edges);
    counts := coalesce(counts, array_fill(0::bigint, ARRAY[cardinality(labels)]));
    SELECT sum(c) INTO total FROM unnest(counts) c;
    RETURN QUERY
    SELECT labels[i], CASE WHEN i = 1 THEN 0 ELSE edges[i - 1] END, edges[i], counts[i],
           nezuko_analytics.percent(counts[i], total)
    FROM generate_series(1, cardinality(labels)) i
    ORDER BY i;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_histogram(timestamptz, timestamptz, integer[], text) IS
  'Latency histogram of [since, until) from verification_log or api_call_log: every bucket (zero counts too), percentage of rows with a latency, round(.., 1); one pass, parallel when the window is large, index-only when a "timestamp"-led index holds latency_ms.';

CREATE FUNCTION nezuko_analytics.latency_percentiles(
    since timestamptz,
    until timestamptz DEFAULT now(),
    percentiles float8[] DEFAULT '{0.5,0.95,0.99}',
    source text DEFAULT 'verification_log')
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_percentiles');
    IF percentiles IS NULL THEN
        RAISE EXCEPTION 'latency_percentiles: percentiles must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN nezuko_analytics.percentile_values(nezuko_analytics.bot_schema(), source, since, until, percentiles);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_percentiles(timestamptz, timestamptz, float8[], text) IS
  'Exact latency percentiles of [since, until) from verification_log or api_call_log, equal to percentile_cont(percentiles); NULL for a window without latencies. Reads through an index-only scan when a "timestamp"-led index holds latency_ms.';
