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

-- Two calls timed in turn, each over `loops` calls in one statement (1 for
-- a long call), for `rounds` rounds after a warm-up of both: the median per
-- call of each, in milliseconds.  Taken in turn, a burst of load on the
-- machine falls on both alike; a median of 3 runs of one and then of the
-- other flipped the order of two sub-millisecond calls that run the same
-- query from one run of the benchmark to the next, and put a 100 ms call at
-- 0.69x its reference in one run and 1.28x in turn.
CREATE OR REPLACE FUNCTION nz_bench.per_call_in_turn(a text, b text, loops int DEFAULT 200, rounds int DEFAULT 15,
                                                     OUT a_ms float8, OUT b_ms float8)
LANGUAGE plpgsql AS $$
DECLARE
    qa text := format('SELECT count((%s)::text) FROM generate_series(1, %s)', a, loops);
    qb text := format('SELECT count((%s)::text) FROM generate_series(1, %s)', b, loops);
    t0 timestamptz;
    ta float8[] := '{}';
    tb float8[] := '{}';
BEGIN
    EXECUTE qa;  -- warm-up
    EXECUTE qb;
    FOR i IN 1..rounds LOOP
        t0 := clock_timestamp();
        EXECUTE qa;
        ta := ta || (extract(epoch FROM clock_timestamp() - t0) * 1000 / loops)::float8;
        t0 := clock_timestamp();
        EXECUTE qb;
        tb := tb || (extract(epoch FROM clock_timestamp() - t0) * 1000 / loops)::float8;
    END LOOP;
    a_ms := (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(ta) t);
    b_ms := (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY t) FROM unnest(tb) t);
END $$;
