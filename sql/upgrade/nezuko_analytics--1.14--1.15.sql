-- nezuko_analytics 1.14 -> 1.15, written by hand (docs/versions.md).  The
-- rollup build reads the raw rows itself (rollup_build_scan(), without the
-- executor): a whole table in one sequential scan cut into runs of pages,
-- which parallel workers of its own fold into quarter hours; a small range
-- through the "timestamp" index.  rollup_build() takes it where the native
-- path may read the table, and the aggregates elsewhere.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.15'" to load this file. \quit

CREATE FUNCTION nezuko_analytics.rollup_build_scan(bot name, source text, lo timestamptz, hi timestamptz,
    whole_table boolean,
    OUT verification nezuko_analytics.rollup_verifications[], OUT api nezuko_analytics.rollup_api_calls[])
RETURNS record LANGUAGE c STABLE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'nz_rollup_build_scan';
COMMENT ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) IS
  'The rollup rows of bot.source''s raw rows in [lo, hi) (source verification_log or api_call_log; the other field NULL), the same as the build aggregates give, read without the executor: with whole_table (most of the table in range) one sequential scan, cut into runs of pages that up to max_parallel_maintenance_workers parallel workers fold into quarter hours; otherwise the rows through the "timestamp" index. NULL when the native path may not read the table (row-level security, no SELECT privilege, SERIALIZABLE, a column of another type): rollup_build() then runs the aggregates. Parallel unsafe: it starts its own workers.';

-- The rollup rows of source's raw rows in [lo, hi): the build's own read
-- where it may, else the aggregates in a set-returning function: its RETURN
-- QUERY may run the scan in parallel (a query with an INSERT, or
-- EXECUTE ... INTO, never does).
CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz)
RETURNS TABLE (verification nezuko_analytics.rollup_verifications[], api nezuko_analytics.rollup_api_calls[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    first_at timestamptz;
    last_at timestamptz;
    whole boolean := true;
    native record;
BEGIN
    -- Most of the table in range (the first build, one chunk up to 20
    -- million rows): one sequential scan.  A small part (a refresh): its
    -- rows through the "timestamp" index, whose first and last entries
    -- tell the table's span.  (A row at +-infinity leaves no finite span:
    -- read through the index.)
    IF nezuko_analytics.time_led_index(bot, source, '{}') IS NOT NULL THEN
        EXECUTE format('SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t', bot, source) INTO first_at, last_at;
        whole := first_at IS NULL
                 OR (isfinite(first_at) AND isfinite(last_at)
                     AND (least(hi, last_at) - greatest(lo, first_at)) * 2 >= last_at - first_at);
    END IF;
    SELECT * INTO native FROM nezuko_analytics.rollup_build_scan(bot, source, lo, hi, whole);
    IF (source = 'verification_log' AND native.verification IS NOT NULL) OR (source = 'api_call_log' AND native.api IS NOT NULL) THEN
        RETURN QUERY SELECT native.verification, native.api;
    ELSIF source = 'verification_log' THEN
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
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one read: rollup_build_scan() (a sequential scan, with its own parallel workers, when the range holds at least half of the table''s time span; else through the "timestamp" index), or, where the native path may not read the table, the aggregates verification_quarter_hours / api_quarter_hours (parallel where the planner likes). Used by rollup_materialize().';

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) TO @extowner@;
