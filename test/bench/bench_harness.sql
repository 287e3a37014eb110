-- Timing harness for the benchmark: runs a query a number of times inside the
-- server and returns the median wall time in milliseconds (the first run
-- warms the cache and is not counted).  The query runs as it is: wrapped in
-- SELECT count(*) FROM (...), the planner would drop the unused aggregates.
CREATE SCHEMA IF NOT EXISTS nz_bench;

CREATE OR REPLACE FUNCTION nz_bench.median_ms(query text, runs int DEFAULT 3)
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    times float8[] := '{}';
BEGIN
    EXECUTE query;  -- warm-up
    FOR i IN 1..runs LOOP
        t0 := clock_timestamp();
        EXECUTE query;
        times := times || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    RETURN (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(times) t);
END $$;

-- Temp blocks written by a query (how far it spilled past work_mem).
CREATE OR REPLACE FUNCTION nz_bench.temp_blocks_written(query text)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Temp Written Blocks')::bigint;
END $$;
