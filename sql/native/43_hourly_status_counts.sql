-- The one-pass status counter behind hourly_activity(): each row goes to its
-- local hour through the time zone's offsets (tz_offsets(), in
-- 70_dashboard.sql's words), in the same C++ code as dashboard()'s hours.

CREATE FUNCTION nezuko_analytics.hourly_status_counts_add(internal, timestamptz, text, bigint[]) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_add';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_combine';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_serialize';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_deserialize';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_final';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_add(internal, timestamptz, text, bigint[]) IS 'Transition function of hourly_status_counts.';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_combine(internal, internal) IS 'Combine function of hourly_status_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_serialize(internal) IS 'Serialize function of hourly_status_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_deserialize(bytea, internal) IS 'Deserialize function of hourly_status_counts (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_final(internal) IS 'Final function of hourly_status_counts: the 24 hours as keyed JSON.';

CREATE AGGREGATE nezuko_analytics.hourly_status_counts("timestamp" timestamptz, status text, tz_offsets bigint[]) (
    SFUNC = nezuko_analytics.hourly_status_counts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.hourly_status_counts_final,
    COMBINEFUNC = nezuko_analytics.hourly_status_counts_combine,
    SERIALFUNC = nezuko_analytics.hourly_status_counts_serialize,
    DESERIALFUNC = nezuko_analytics.hourly_status_counts_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.hourly_status_counts(timestamptz, text, bigint[]) IS
  'Counts of verified, restricted and error rows by local hour of day (local time from tz_offsets), as text: [{"hour": 0-23, "verified", "restricted", "error"}] for all 24 hours, the form of dashboard()''s hours. Parallel safe.';
