-- The one-pass status counter behind hourly_activity().

CREATE FUNCTION nezuko_analytics.status_quarter_hours_add(internal, timestamptz, text) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_quarter_hours_add';
CREATE FUNCTION nezuko_analytics.status_quarter_hours_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_quarter_hours_combine';
CREATE FUNCTION nezuko_analytics.status_quarter_hours_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_quarter_hours_serialize';
CREATE FUNCTION nezuko_analytics.status_quarter_hours_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_quarter_hours_deserialize';
CREATE FUNCTION nezuko_analytics.status_quarter_hours_final(internal) RETURNS bigint[]
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_quarter_hours_final';
COMMENT ON FUNCTION nezuko_analytics.status_quarter_hours_add(internal, timestamptz, text) IS 'Transition function of status_quarter_hours.';
COMMENT ON FUNCTION nezuko_analytics.status_quarter_hours_combine(internal, internal) IS 'Combine function of status_quarter_hours (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.status_quarter_hours_serialize(internal) IS 'Serialize function of status_quarter_hours (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.status_quarter_hours_deserialize(bytea, internal) IS 'Deserialize function of status_quarter_hours (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.status_quarter_hours_final(internal) IS 'Final function of status_quarter_hours.';

CREATE AGGREGATE nezuko_analytics.status_quarter_hours("timestamp" timestamptz, status text) (
    SFUNC = nezuko_analytics.status_quarter_hours_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.status_quarter_hours_final,
    COMBINEFUNC = nezuko_analytics.status_quarter_hours_combine,
    SERIALFUNC = nezuko_analytics.status_quarter_hours_serialize,
    DESERIALFUNC = nezuko_analytics.status_quarter_hours_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.status_quarter_hours(timestamptz, text) IS
  'Counts of verified, restricted and error rows per UTC quarter hour (quarter = microseconds since 2000-01-01 / 9e8), flattened as {quarter, verified, restricted, error, ...}. Parallel safe.';
