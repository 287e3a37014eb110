-- nezuko_analytics 1.16 -> 1.17, written by hand (docs/versions.md).
-- The build's arrays reach rollup_materialize() without a tuplestore:
-- rollup_build(), a set-returning function, held its one row (the arrays of
-- a whole build, 29 MB for api_call_log's 182,000 quarter hours) in a
-- tuplestore, written to disk past work_mem and read back, about 0.75 s of
-- a 2.3 s build of api_call_log.  It now returns a plain record; the
-- aggregates it falls back to where the native read may not read the table
-- are rollup_build_aggregates(), a set so that they may run in parallel.
-- (A function's result type cannot be replaced: rollup_build() is dropped
-- and created again, with its privileges.)

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.17'" to load this file. \quit

DROP FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz);

-- The same rows from the build aggregates (parallel where the planner
-- likes: a RETURN QUERY may run in parallel; a query with an INSERT, or
-- EXECUTE ... INTO, never does).
CREATE FUNCTION nezuko_analytics.rollup_build_aggregates(source text, lo timestamptz, hi timestamptz)
RETURNS TABLE (verification nezuko_analytics.rollup_verifications[], api nezuko_analytics.rollup_api_calls[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
BEGIN
    IF source = 'verification_log' THEN
        RETURN QUERY EXECUTE format(
            'SELECT nezuko_analytics.verification_quarter_hours(v."timestamp", v.status::text, v.latency_ms, v.cached,'
            ' v.group_id::bigint), NULL::nezuko_analytics.rollup_api_calls[]'
            ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2', bot)
            USING lo, hi;
    ELSE
        RETURN QUERY EXECUTE format(
            'SELECT NULL::nezuko_analytics.rollup_verifications[],'
            ' nezuko_analytics.api_quarter_hours(a."timestamp", a.method::text, a.success, a.latency_ms)'
            ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', bot)
            USING lo, hi;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from the aggregates verification_quarter_hours / api_quarter_hours over a query of the table (parallel where the planner likes): the build where the native read may not read the table (row-level security, no SELECT privilege, SERIALIZABLE, a column of another type).';

-- The rollup rows of source's raw rows in [lo, hi) from one read, as one
-- record (a set-returning function would hold the arrays of a whole build
-- in a tuplestore, on disk past work_mem): the build's own read where it
-- may, else the aggregates.
CREATE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz,
    OUT verification nezuko_analytics.rollup_verifications[], OUT api nezuko_analytics.rollup_api_calls[])
RETURNS record LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    first_at timestamptz;
    last_at timestamptz;
    whole boolean := true;
BEGIN
    -- Most of the table in range (the first build, one chunk up to 20
    -- million rows): one sequential scan.  A small part (a refresh): its
    -- rows through the "timestamp" index, whose first and last entries
    -- tell the table's span.  (A row at +-infinity leaves no finite span:
    -- read through the index.)  A range of a day at most (a refresh's
    -- minutes, its late quarter hours) goes through the index without
    -- asking: the question cost a refresh more than its read.
    IF nezuko_analytics.time_led_index(bot, source, '{}') IS NOT NULL THEN
        IF hi - lo <= interval '1 day' THEN
            whole := false;
        ELSE
            EXECUTE format('SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t', bot, source) INTO first_at, last_at;
            whole := first_at IS NULL
                     OR (isfinite(first_at) AND isfinite(last_at)
                         AND (least(hi, last_at) - greatest(lo, first_at)) * 2 >= last_at - first_at);
        END IF;
    END IF;
    SELECT * INTO verification, api FROM nezuko_analytics.rollup_build_scan(bot, source, lo, hi, whole);
    IF verification IS NULL AND api IS NULL THEN  -- the native read may not read the table
        SELECT * INTO verification, api FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one read: rollup_build_scan() (one sequential scan, with its own parallel workers, when the range is longer than a day and holds at least half of the table''s time span, else through the "timestamp" index), or, where the native path may not read the table, rollup_build_aggregates(). A plain record, not a set: the build''s arrays (tens of megabytes for api_call_log) reach rollup_materialize() without a tuplestore in between. Used by rollup_materialize().';

COMMENT ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) IS
  'The rollup rows of bot.source''s raw rows in [lo, hi) (source verification_log or api_call_log; the other field NULL), the same as the build aggregates give, read without the executor: with whole_table (most of the table in range) one sequential scan, cut into runs of pages that up to max_parallel_maintenance_workers parallel workers fold into quarter hours; otherwise the rows through the "timestamp" index. NULL when the native path may not read the table (row-level security, no SELECT privilege, SERIALIZABLE, a column of another type): rollup_build_aggregates() then gives the rows. Parallel unsafe: it starts its own workers.';

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) TO @extowner@;
