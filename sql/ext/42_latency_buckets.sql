-- Latency buckets and the latency histogram.  The default edges come from
-- the C++ core (kDefaultBucketEdges), their one source.

CREATE FUNCTION nezuko_analytics.default_latency_edges()
RETURNS integer[]
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_default_latency_edges';
COMMENT ON FUNCTION nezuko_analytics.default_latency_edges() IS
  'The default latency bucket edges, {50,100,200,500} ms: the contracts'' buckets ''<50ms'', ''50-100ms'', ''100-200ms'', ''200-500ms'', ''>500ms''. Every function''s default edges are this one value.';

CREATE FUNCTION nezuko_analytics.latency_bucket(latency_ms integer, edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_bucket';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket(integer, integer[]) IS
  'The bucket label of a latency: ''<50ms'', ''50-100ms'', ''100-200ms'', ''200-500ms'', ''>500ms'' for the default edges (buckets are [lower, upper)). Edges must be non-empty, strictly increasing and non-negative; a negative latency is an ERROR.';

CREATE FUNCTION nezuko_analytics.latency_bucket_labels(edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text[]
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_bucket_labels';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_labels(integer[]) IS
  'The labels of all buckets of the edges, in order (one more than there are edges).';

CREATE FUNCTION nezuko_analytics.latency_bucket_counts_add(internal, integer, integer[]) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_add';
CREATE FUNCTION nezuko_analytics.latency_bucket_counts_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_combine';
CREATE FUNCTION nezuko_analytics.latency_bucket_counts_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_serialize';
CREATE FUNCTION nezuko_analytics.latency_bucket_counts_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_deserialize';
CREATE FUNCTION nezuko_analytics.latency_bucket_counts_final(internal) RETURNS bigint[]
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_final';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_add(internal, integer, integer[]) IS 'Transition function of latency_bucket_counts.';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_combine(internal, internal) IS 'Combine function of latency_bucket_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_serialize(internal) IS 'Serialize function of latency_bucket_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_deserialize(bytea, internal) IS 'Deserialize function of latency_bucket_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_final(internal) IS 'Final function of latency_bucket_counts.';

CREATE AGGREGATE nezuko_analytics.latency_bucket_counts(latency_ms integer, edges integer[]) (
    SFUNC = nezuko_analytics.latency_bucket_counts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.latency_bucket_counts_final,
    COMBINEFUNC = nezuko_analytics.latency_bucket_counts_combine,
    SERIALFUNC = nezuko_analytics.latency_bucket_counts_serialize,
    DESERIALFUNC = nezuko_analytics.latency_bucket_counts_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.latency_bucket_counts(integer, integer[]) IS
  'Counts of non-NULL latencies per bucket of edges, in one pass (one array element per bucket). Parallel safe.';

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
    counts := nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, edges)::bigint[];
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
