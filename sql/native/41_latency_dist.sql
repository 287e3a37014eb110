-- latency_dist: an exact, mergeable distribution of integer latencies, and
-- the aggregates latency_dist(integer) and merge(latency_dist).

CREATE TYPE nezuko_analytics.latency_dist;

CREATE FUNCTION nezuko_analytics.latency_dist_in(cstring) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_in';
CREATE FUNCTION nezuko_analytics.latency_dist_out(nezuko_analytics.latency_dist) RETURNS cstring
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_out';
CREATE FUNCTION nezuko_analytics.latency_dist_recv(internal) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_recv';
CREATE FUNCTION nezuko_analytics.latency_dist_send(nezuko_analytics.latency_dist) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_send';

CREATE TYPE nezuko_analytics.latency_dist (
    INPUT = nezuko_analytics.latency_dist_in,
    OUTPUT = nezuko_analytics.latency_dist_out,
    RECEIVE = nezuko_analytics.latency_dist_recv,
    SEND = nezuko_analytics.latency_dist_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE nezuko_analytics.latency_dist IS
  'An exact distribution of integer latencies (a count per distinct value; above 2^20 ms values keep 20 significant bits). Text form: count=N sum=S values=KEY:COUNT,...';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_in(cstring) IS 'Text input of latency_dist; rejects malformed or inconsistent values.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_out(nezuko_analytics.latency_dist) IS 'Text output of latency_dist.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_recv(internal) IS 'Binary input of latency_dist; rejects malformed, truncated or inconsistent values.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_send(nezuko_analytics.latency_dist) IS 'Binary output of latency_dist (its compact form).';

-- Transition, combine, serialize, deserialize and final functions.
CREATE FUNCTION nezuko_analytics.latency_dist_add(internal, integer) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_add';
CREATE FUNCTION nezuko_analytics.latency_dist_merge_add(internal, nezuko_analytics.latency_dist) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_merge_add';
CREATE FUNCTION nezuko_analytics.latency_dist_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_combine';
CREATE FUNCTION nezuko_analytics.latency_dist_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_serialize';
CREATE FUNCTION nezuko_analytics.latency_dist_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_deserialize';
CREATE FUNCTION nezuko_analytics.latency_dist_final(internal) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_final';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_add(internal, integer) IS 'Transition function of latency_dist(integer); ignores NULL.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_merge_add(internal, nezuko_analytics.latency_dist) IS 'Transition function of merge(latency_dist); ignores NULL.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_combine(internal, internal) IS 'Combine function of the latency_dist aggregates (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_serialize(internal) IS 'Serialize function of the latency_dist aggregates (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_deserialize(bytea, internal) IS 'Deserialize function of the latency_dist aggregates (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_final(internal) IS 'Final function of the latency_dist aggregates; an empty distribution when there were no rows.';

CREATE AGGREGATE nezuko_analytics.latency_dist(integer) (
    SFUNC = nezuko_analytics.latency_dist_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.latency_dist_final,
    COMBINEFUNC = nezuko_analytics.latency_dist_combine,
    SERIALFUNC = nezuko_analytics.latency_dist_serialize,
    DESERIALFUNC = nezuko_analytics.latency_dist_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.latency_dist(integer) IS
  'The exact distribution of the (non-NULL) latencies: percentiles equal percentile_cont; memory grows with distinct values, not rows. Parallel safe.';

CREATE AGGREGATE nezuko_analytics.merge(nezuko_analytics.latency_dist) (
    SFUNC = nezuko_analytics.latency_dist_merge_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.latency_dist_final,
    COMBINEFUNC = nezuko_analytics.latency_dist_combine,
    SERIALFUNC = nezuko_analytics.latency_dist_serialize,
    DESERIALFUNC = nezuko_analytics.latency_dist_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.merge(nezuko_analytics.latency_dist) IS
  'Merges latency_dist values (say hourly or daily states) into one, exactly as if computed over all their rows. Parallel safe.';

CREATE FUNCTION nezuko_analytics.percentile(nezuko_analytics.latency_dist, float8) RETURNS float8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_percentile';
COMMENT ON FUNCTION nezuko_analytics.percentile(nezuko_analytics.latency_dist, float8) IS
  'The p-th percentile (0 <= p <= 1) with linear interpolation, equal to percentile_cont(p); NULL for an empty distribution.';

CREATE FUNCTION nezuko_analytics.percentiles(nezuko_analytics.latency_dist, float8[]) RETURNS float8[]
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_percentiles';
COMMENT ON FUNCTION nezuko_analytics.percentiles(nezuko_analytics.latency_dist, float8[]) IS
  'percentile() for each element of an array, equal to percentile_cont(float8[]): NULL elements give NULL, an empty distribution gives NULL.';

CREATE FUNCTION nezuko_analytics.count(nezuko_analytics.latency_dist) RETURNS bigint
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_count';
COMMENT ON FUNCTION nezuko_analytics.count(nezuko_analytics.latency_dist) IS 'How many latencies the distribution holds.';

CREATE FUNCTION nezuko_analytics.mean(nezuko_analytics.latency_dist) RETURNS float8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_mean';
COMMENT ON FUNCTION nezuko_analytics.mean(nezuko_analytics.latency_dist) IS
  'The exact mean of the latencies (their sum is kept exactly); NULL for an empty distribution.';

CREATE FUNCTION nezuko_analytics.latency_dist_to_bytes(nezuko_analytics.latency_dist) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_to_bytes';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_to_bytes(nezuko_analytics.latency_dist) IS
  'The compact binary form of a latency_dist (as sent by its binary output), as bytea.';
CREATE FUNCTION nezuko_analytics.latency_dist_from_bytes(bytea) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_from_bytes';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_from_bytes(bytea) IS
  'A latency_dist from its compact binary form; rejects malformed, truncated or inconsistent bytes (SQLSTATE 22P03) exactly as binary input does.';
