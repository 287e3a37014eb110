-- The portable engine of the latency charts: plain queries, one pass each.

CREATE FUNCTION nezuko_analytics.bucket_counts(bot name, source text, since timestamptz, until timestamptz, edges integer[])
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e integer[] := nezuko_analytics.checked_latency_edges(edges);
    n integer := cardinality(e);
    filters text;
    rows bigint;
    lowest integer;
    counts bigint[];
BEGIN
    -- one count per bucket, each a FILTER of the same pass: [e(i-1), e(i))
    SELECT string_agg(format('count(*) FILTER (WHERE latency_ms %s)',
                             CASE WHEN i = 1 THEN format('< %s', e[1])
                                  WHEN i = n + 1 THEN format('>= %s', e[n])
                                  ELSE format('>= %s AND latency_ms < %s', e[i - 1], e[i]) END), ', ' ORDER BY i)
    INTO filters FROM generate_series(1, n + 1) i;
    EXECUTE format('SELECT count(*), min(latency_ms), ARRAY[%s] FROM %I.%I WHERE "timestamp" >= $1 AND "timestamp" < $2',
                   filters, bot, source)
        INTO rows, lowest, counts USING since, until;
    IF lowest < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', lowest USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN CASE WHEN rows > 0 THEN counts END;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bucket_counts(name, text, timestamptz, timestamptz, integer[]) IS
  'Engine of latency_histogram(): the count of bot.source rows in [since, until) in each latency bucket of edges (NULL when the window is empty), one pass with a FILTER per bucket.';

CREATE FUNCTION nezuko_analytics.percentile_values(bot name, source text, since timestamptz, until timestamptz,
                                                   percentiles float8[])
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
    result float8[];
BEGIN
    IF array_ndims(percentiles) > 1 THEN
        -- (the native edition says so only for a window with latencies)
        EXECUTE format('SELECT count(latency_ms) FROM %I.%I WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source)
            INTO n USING since, until;
        IF n > 0 THEN
            RAISE EXCEPTION 'percentiles must be a one-dimensional array' USING ERRCODE = 'array_subscript_error';
        END IF;
        RETURN NULL;
    END IF;
    -- one pass; over no latencies percentile_cont is NULL before it looks at the percentiles
    EXECUTE format('SELECT percentile_cont($3) WITHIN GROUP (ORDER BY latency_ms) FROM %I.%I'
                   ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source)
        INTO result USING since, until, percentiles;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_values(name, text, timestamptz, timestamptz, float8[]) IS
  'Engine of latency_percentiles(): percentile_cont(percentiles) of latency_ms over bot.source rows in [since, until) (NULL without latencies).';
