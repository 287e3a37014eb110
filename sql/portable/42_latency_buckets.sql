-- Latency buckets in SQL: the same edges, labels, checks and errors as the
-- native edition's C++ core (src/core/latency_buckets.cpp); the differential
-- test compares the two.

CREATE FUNCTION nezuko_analytics.default_latency_edges()
RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{50,100,200,500}'::integer[] $$;
COMMENT ON FUNCTION nezuko_analytics.default_latency_edges() IS
  'The default latency bucket edges in ms, {50,100,200,500}: buckets <50, 50-100, 100-200, 200-500, >500 (the native edition''s kDefaultBucketEdges; tests prove the copies agree).';

CREATE FUNCTION nezuko_analytics.checked_latency_edges(edges integer[])
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
    e integer[];
BEGIN
    IF array_ndims(edges) > 1 THEN
        RAISE EXCEPTION 'edges must be a one-dimensional array' USING ERRCODE = 'array_subscript_error';
    END IF;
    IF array_position(edges, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'edges must not contain NULL elements' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    n := coalesce(cardinality(edges), 0);
    IF n = 0 THEN
        RAISE EXCEPTION 'latency bucket edges must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n > 64 THEN
        RAISE EXCEPTION 'at most 64 latency bucket edges are allowed, got %', n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    e := edges[array_lower(edges, 1):array_upper(edges, 1)];  -- subscripts from 1
    FOR i IN 1 .. n LOOP
        IF e[i] < 0 THEN
            RAISE EXCEPTION 'latency bucket edges must not be negative, got %', e[i] USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF i > 1 AND e[i] <= e[i - 1] THEN
            RAISE EXCEPTION 'latency bucket edges must be strictly increasing, got % then %', e[i - 1], e[i]
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN e;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.checked_latency_edges(integer[]) IS
  'edges with subscripts from 1 when they are valid bucket edges (one dimension, no NULL, 1 to 64 values, none negative, strictly increasing); else the native edition''s ERROR.';

CREATE FUNCTION nezuko_analytics.latency_bucket_labels(edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT array_agg(CASE WHEN i = 1 THEN '<' || e[1] || 'ms'
                          WHEN i = n + 1 THEN '>' || e[n] || 'ms'
                          ELSE e[i - 1] || '-' || e[i] || 'ms' END ORDER BY i)
    FROM (SELECT nezuko_analytics.checked_latency_edges(edges) AS e) c,
         LATERAL (SELECT cardinality(c.e) AS n) k,
         LATERAL generate_series(1, k.n + 1) i
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_labels(integer[]) IS
  'Labels of the buckets the edges define, in order: ''<50ms'', ''50-100ms'', ..., ''>500ms''. ERROR for invalid edges.';

CREATE FUNCTION nezuko_analytics.latency_bucket(latency_ms integer, edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e integer[] := nezuko_analytics.checked_latency_edges(edges);
BEGIN
    IF latency_ms < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', latency_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- buckets are [lower, upper): the bucket after the last edge not above latency_ms
    RETURN (nezuko_analytics.latency_bucket_labels(e))[width_bucket(latency_ms, e) + 1];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_bucket(integer, integer[]) IS
  'Label of the bucket latency_ms falls in; buckets are [lower, upper). ERROR for a negative latency or invalid edges.';
