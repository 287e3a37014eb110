-- nezuko_analytics 1.16 -> 1.17, written by hand (docs/versions.md).
-- The build's arrays reach rollup_materialize() without a tuplestore:
-- rollup_build(), a set-returning function, held its one row (the arrays of
-- a whole build, 29 MB for api_call_log's 182,000 quarter hours) in a
-- tuplestore, written to disk past work_mem and read back, about 0.75 s of
-- a 2.3 s build of api_call_log.  Its two ways are now functions of their
-- own: rollup_build_native() (the build's own read, a plain record) and
-- rollup_build_aggregates() (the aggregates, a set so that it may run in
-- parallel); rollup_materialize() calls them itself, and rollup_build()
-- stays, made of the two, for SQL callers.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.17'" to load this file. \quit

-- The build's own read of source's raw rows in [lo, hi), as one record:
-- rollup_build_scan(), with the choice between one sequential scan and the
-- "timestamp" index made here.
CREATE FUNCTION nezuko_analytics.rollup_build_native(source text, lo timestamptz, hi timestamptz,
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
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build_native(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) read by rollup_build_scan(): one sequential scan, with its own parallel workers, when the range is longer than a day and holds at least half of the table''s time span, else through the "timestamp" index. Both fields NULL where the native path may not read the table (then rollup_build_aggregates() gives the rows). A plain record, not a set: the build''s arrays (tens of megabytes for api_call_log) reach rollup_materialize() without a tuplestore in between.';

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

-- The rollup rows of source's raw rows in [lo, hi) from one read: the
-- build's own where it may, else the aggregates.
CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz)
RETURNS TABLE (verification nezuko_analytics.rollup_verifications[], api nezuko_analytics.rollup_api_calls[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    native record;
BEGIN
    SELECT * INTO native FROM nezuko_analytics.rollup_build_native(source, lo, hi);
    IF native.verification IS NOT NULL OR native.api IS NOT NULL THEN
        RETURN QUERY SELECT native.verification, native.api;
    ELSE
        RETURN QUERY SELECT * FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one read: rollup_build_native() (rollup_build_scan(): a sequential scan with its own parallel workers, or the "timestamp" index), or, where the native path may not read the table, rollup_build_aggregates(). As a set (one row), for SQL callers; rollup_materialize() calls the two itself.';

-- The quarter-hour rollups of source's raw rows in [lo, hi) (quarter-hour
-- edges), each row replaced: those of the range deleted, the new ones
-- inserted.  (INSERT ... ON CONFLICT cost a third more for api_call_log's
-- 180,000 rows, and left a quarter hour whose rows were all deleted.)
CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    built record;
BEGIN
    -- the native read's arrays straight from its record (a set-returning
    -- function would hold them in a tuplestore, on disk past work_mem)
    SELECT * INTO built FROM nezuko_analytics.rollup_build_native(source, lo, hi);
    IF built.verification IS NULL AND built.api IS NULL THEN
        SELECT * INTO built FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    END IF;
    IF source = 'verification_log' THEN
        DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= lo AND r.bucket < hi;
        INSERT INTO nezuko_analytics.rollup_verifications SELECT (x).* FROM unnest(built.verification) x;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= lo AND r.bucket < hi;
        INSERT INTO nezuko_analytics.rollup_api_calls SELECT (x).* FROM unnest(built.api) x;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups in one scan (rollup_build_native(), else rollup_build_aggregates()): the rollup rows of those quarter hours are deleted and the new ones inserted. Used by refresh_rollup_source().';

COMMENT ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) IS
  'The rollup rows of bot.source''s raw rows in [lo, hi) (source verification_log or api_call_log; the other field NULL), the same as the build aggregates give, read without the executor: with whole_table (most of the table in range) one sequential scan, cut into runs of pages that up to max_parallel_maintenance_workers parallel workers fold into quarter hours; otherwise the rows through the "timestamp" index. NULL when the native path may not read the table (row-level security, no SELECT privilege, SERIALIZABLE, a column of another type): rollup_build_aggregates() then gives the rows. Parallel unsafe: it starts its own workers.';

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build_native(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.rollup_build_native(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) TO @extowner@;
