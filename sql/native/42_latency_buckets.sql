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

CREATE FUNCTION nezuko_analytics.latency_dist_buckets(d nezuko_analytics.latency_dist, edges integer[])
RETURNS bigint[] LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_buckets';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist, integer[]) IS
  'The count of d''s values in each bucket of edges, as latency_bucket_counts() counts rows; NULL when d cannot tell (a negative value, or a stored key of 20 significant bits, 2^20 ms and more, with values on both sides of an edge). Example: SELECT nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist(latency_ms), ''{50,100,200,500}'') FROM verification_log;';

