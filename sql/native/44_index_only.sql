-- Latency figures need only "timestamp" and latency_ms: where an index leads
-- with "timestamp" and holds latency_ms (the spec's optional
-- idx_verification_log_timestamp_latency), an index-only scan reads a
-- fraction of the bytes of the table.  The planner prefers a sequential scan
-- for long windows; latency_read() steers the one query that aggregates
-- latencies to the index through a function whose SET clauses turn the other
-- scans off for that call only (no setting changes under a STABLE label).

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

CREATE FUNCTION nezuko_analytics.latency_read(bot name, source text, query text, since timestamptz, until timestamptz,
                                              arg anyelement)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3  -- the value travels as text: every digit of a float8
AS $$
DECLARE
    result text;
BEGIN
    IF nezuko_analytics.has_time_latency_index(bot, source) THEN
        result := nezuko_analytics.latency_read_index_only(query, since, until, arg);
    ELSE
        EXECUTE query INTO result USING since, until, arg;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_read(name, text, text, timestamptz, timestamptz, anyelement) IS
  'Runs the one latency query of latency_percentiles() or latency_histogram() (parameters $1 since, $2 until, $3 arg) and returns its one value as text: planned for an index-only scan (latency_read_index_only()) when bot.source has a "timestamp"-led index that holds latency_ms, else as the planner likes.';

CREATE FUNCTION nezuko_analytics.latency_read_index_only(query text, since timestamptz, until timestamptz, arg anyelement)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    result text;
BEGIN
    EXECUTE query INTO result USING since, until, arg;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_read_index_only(text, timestamptz, timestamptz, anyelement) IS
  'Runs query with sequential and bitmap scans off, for this call only (the function''s SET clauses; no setting of the caller changes): the index-only scan of a "timestamp"-led index that holds latency_ms.';

-- The native engine of the latency charts (the portable edition has its own,
-- in SQL, with the same names and results).
CREATE FUNCTION nezuko_analytics.bucket_counts(bot name, source text, since timestamptz, until timestamptz, edges integer[])
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
BEGIN
    -- from the rollups' distribution where they serve and it tells every bucket
    counts := nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist_rollups(bot, source, since, until), edges);
    IF counts IS NOT NULL THEN
        RETURN counts;
    END IF;
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, edges)::bigint[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bucket_counts(name, text, timestamptz, timestamptz, integer[]) IS
  'Engine of latency_histogram(): the count of bot.source rows in [since, until) in each latency bucket of edges (validated edges; NULL when the window is empty), from the rollups'' distribution (latency_dist_rollups(), latency_dist_buckets()) where they serve, else through latency_bucket_counts().';

CREATE FUNCTION nezuko_analytics.percentile_values(bot name, source text, since timestamptz, until timestamptz,
                                                   percentiles float8[])
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d nezuko_analytics.latency_dist := nezuko_analytics.latency_dist_rollups(bot, source, since, until);
BEGIN
    IF d IS NOT NULL THEN  -- from the rollups' distribution where they serve
        RETURN nezuko_analytics.percentiles(d, percentiles);
    END IF;
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, percentiles)::float8[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_values(name, text, timestamptz, timestamptz, float8[]) IS
  'Engine of latency_percentiles(): percentile_cont(percentiles) of latency_ms over bot.source rows in [since, until) (NULL without latencies), through a latency_dist: the rollups'' (latency_dist_rollups()) where they serve, else the rows''.';
