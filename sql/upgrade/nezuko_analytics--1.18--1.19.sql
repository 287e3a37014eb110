-- nezuko_analytics 1.18 -> 1.19, written by hand (docs/versions.md).
-- The refresh of the rollups costs less in the new session pg_cron starts for
-- each run: the pending runs, time_floor() and time_ceil() are C functions (a
-- SQL function's query is parsed and planned at each call), the raw horizon
-- is a subquery of the refresh (rollup_raw_horizon() goes), the local days
-- are not made again when the first day touched is still filling or nothing
-- was computed, a range of a day or less is read through the index without
-- asking for one first, and refresh_rollups() reads its sources once.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.19'" to load this file. \quit

DROP FUNCTION nezuko_analytics.rollup_raw_horizon(text);
DROP FUNCTION nezuko_analytics.rollup_pending_runs(timestamptz[], timestamptz, timestamptz, timestamptz);

CREATE OR REPLACE FUNCTION nezuko_analytics.time_floor(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_floor';
COMMENT ON FUNCTION nezuko_analytics.time_floor(timestamptz, interval) IS
  'The start of the quarter hour (stride 15 minutes) or UTC day (24 hours) that holds t (date_bin(stride, t, rollup_origin())); t itself when infinite. (Strides in hours and minutes: adding a day to a timestamptz follows the session''s time zone.)';

CREATE OR REPLACE FUNCTION nezuko_analytics.time_ceil(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_ceil';
COMMENT ON FUNCTION nezuko_analytics.time_ceil(timestamptz, interval) IS
  'The first start of a quarter hour (stride 15 minutes) or UTC day (24 hours) at or after t; t itself when infinite.';

CREATE FUNCTION nezuko_analytics.rollup_pending_runs(buckets timestamptz[], horizon timestamptz,
                                                     built_from timestamptz, watermark timestamptz,
                                                     OUT los timestamptz[], OUT his timestamptz[])
RETURNS record LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_pending_runs';
COMMENT ON FUNCTION nezuko_analytics.rollup_pending_runs(timestamptz[], timestamptz, timestamptz, timestamptz) IS
  'The pending quarter hours (their starts, NULL for none; -infinity after a TRUNCATE: all) that refresh_rollup_source() computes again, as maximal runs [los[i], his[i]) in ascending order: from the raw horizon on (older ones are frozen) and below the watermark; after a TRUNCATE one run from the later of built_from and the horizon (rounded up to a quarter hour) to the watermark.';

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz,
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
    -- (Without such an index rollup_build_scan() reads the table whole
    -- whatever it is told.)
    IF hi - lo <= interval '1 day' THEN
        whole := false;
    ELSIF nezuko_analytics.time_led_index(bot, source, '{}') IS NOT NULL THEN
        EXECUTE format('SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t', bot, source) INTO first_at, last_at;
        whole := first_at IS NULL
                 OR (isfinite(first_at) AND isfinite(last_at)
                     AND (least(hi, last_at) - greatest(lo, first_at)) * 2 >= last_at - first_at);
    END IF;
    SELECT * INTO verification, api FROM nezuko_analytics.rollup_build_scan(bot, source, lo, hi, whole);
    IF verification IS NULL AND api IS NULL THEN  -- the native read may not read the table
        SELECT * INTO verification, api FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one read: rollup_build_scan() (one sequential scan, with its own parallel workers, when the range is longer than a day and holds at least half of the table''s time span, else through the "timestamp" index), or, where the native path may not read the table, rollup_build_aggregates(). A plain record, not a set: the build''s arrays (tens of megabytes for api_call_log) reach rollup_materialize() without a tuplestore in between. Used by rollup_materialize().';

CREATE OR REPLACE FUNCTION nezuko_analytics.refresh_rollup_source(source text, deadline timestamptz, report boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    horizon timestamptz;
    target timestamptz := nezuko_analytics.time_floor(now(), interval '15 minutes');
    seen tid[];
    buckets timestamptz[];
    runs record;
    changed_lo timestamptz[];  -- the ranges of quarter hours computed, for their local days
    changed_hi timestamptz[];
    chunk_days integer;
    chunk_end timestamptz;
    first_at timestamptz;  -- where the first range computed starts
    n bigint := 0;
BEGIN
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = refresh_rollup_source.source FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- Frozen from here on: the time before which prune() has deleted, or is
    -- deleting, raw rows of source (the latest cutoff of its runs, logged
    -- before its first batch commits).  It only moves forward (a longer
    -- retention later does not bring pruned raw rows back).
    horizon := greatest(st.frozen_before, (SELECT max(r.cutoff) FROM nezuko_analytics.retention_runs r
                                           WHERE r.table_name = refresh_rollup_source.source));
    -- 1. The pending rows seen now.  Every later read takes a newer snapshot
    -- (READ COMMITTED), so it sees the raw rows these rows stand for.
    SELECT array_agg(p.ctid), array_agg(DISTINCT p.bucket) INTO seen, buckets
    FROM nezuko_analytics.rollup_pending p WHERE p.source = refresh_rollup_source.source;
    -- 2. Pending quarter hours below the watermark: computed again.
    SELECT * INTO runs FROM nezuko_analytics.rollup_pending_runs(buckets, horizon, st.built_from, st.watermark);
    FOR i IN 1 .. cardinality(runs.los) LOOP
        PERFORM nezuko_analytics.rollup_materialize(source, runs.los[i], runs.his[i]);  -- each of its quarter hours replaced
        st.built_from := least(st.built_from, runs.los[i]);
        n := n + ((extract(epoch FROM runs.his[i] - runs.los[i]) / 900)::bigint);
    END LOOP;
    changed_lo := runs.los;
    changed_hi := runs.his;
    -- 3. New quarter hours, from the watermark up to the current one (which is
    -- still filling), in chunks of whole days until the deadline: as many
    -- days as hold about 20 million rows by the table's statistics (the build
    -- keeps 4 bytes per latency until a chunk ends), at least one.  (Asked
    -- only when there are new quarter hours: most refreshes of a minute
    -- have none.)
    IF st.watermark < target THEN
        SELECT greatest(1, least(3660, floor(2e7 / greatest(1, c.reltuples
                                                                / greatest(1, extract(epoch FROM target - st.built_from) / 86400)))))::integer
          INTO chunk_days
        FROM pg_class c WHERE c.oid = nezuko_analytics.rollup_source_table(source);
    END IF;
    WHILE st.watermark < target LOOP
        EXIT WHEN n > 0 AND clock_timestamp() >= deadline;
        -- past a stretch without rows in one step (a row in 4713 BC must not
        -- cost a chunk per day since)
        EXECUTE format('SELECT min(t."timestamp") FROM %s t WHERE t."timestamp" >= $1 AND t."timestamp" < $2',
                       nezuko_analytics.rollup_source_table(source))
            INTO chunk_end USING st.watermark, target;
        st.watermark := coalesce(nezuko_analytics.time_floor(chunk_end, interval '15 minutes'), target);
        CONTINUE WHEN st.watermark >= target;
        chunk_end := least(target, nezuko_analytics.time_floor(st.watermark, interval '24 hours') + chunk_days * interval '24 hours');
        PERFORM nezuko_analytics.rollup_materialize(source, st.watermark, chunk_end);
        changed_lo := changed_lo || st.watermark;
        changed_hi := changed_hi || chunk_end;
        n := n + ((extract(epoch FROM chunk_end - st.watermark) / 900)::bigint);
        IF report THEN
            RAISE NOTICE 'nezuko_analytics: rollups of % materialized up to %', source, chunk_end;
        END IF;
        st.watermark := chunk_end;
    END LOOP;
    -- 4. The pending rows seen in step 1 that are dealt with: computed again,
    -- now below the watermark, or frozen.  Later ones stay until the
    -- watermark passes them.
    DELETE FROM nezuko_analytics.rollup_pending p WHERE p.ctid = ANY (seen) AND p.bucket < st.watermark;
    -- 5. Rollups older than keep go (and with them the start of the history).
    IF source = 'verification_log' THEN
        DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket < now() - st.keep;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket < now() - st.keep;
    END IF;
    UPDATE nezuko_analytics.rollup_state s
       SET built_from = greatest(st.built_from, least(st.watermark, nezuko_analytics.time_ceil(now() - st.keep, interval '15 minutes'))),
           watermark = st.watermark, frozen_before = horizon
     WHERE s.source = refresh_rollup_source.source
    RETURNING * INTO st;
    -- 6. The local days: those that start before the rollups go, those whose
    -- quarter hours were computed are made again (complete ones only).
    DELETE FROM nezuko_analytics.rollup_days d
    WHERE d.source = refresh_rollup_source.source AND (d.starts_at < st.built_from OR d.time_zone <> ALL (st.time_zones));
    -- None when, in every zone, the first day the computed quarter hours
    -- touch is still filling (a refresh of the last hour's quarter hours,
    -- most minutes of the day): every later day ends after the watermark too.
    -- (NULL when nothing was computed: then none either.  The ranges are in
    -- ascending order: the runs lie below the old watermark, the chunks from
    -- it up.)
    first_at := CASE WHEN cardinality(changed_lo) > 0 THEN greatest(changed_lo[1], st.built_from) END;
    IF EXISTS (SELECT 1 FROM unnest(nezuko_analytics.rollup_day_zones(source, st.time_zones)) z
               WHERE NOT isfinite(first_at)
                  OR ((first_at AT TIME ZONE z)::date + 1)::timestamp AT TIME ZONE z <= st.watermark) THEN
        PERFORM nezuko_analytics.rollup_days_rebuild(source, changed_lo, changed_hi, st.time_zones);
    END IF;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark unless frozen, materializes new quarter hours in chunks of whole days (about 20 million rows each) up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep, and makes again the local days (rollup_days) of the quarter hours it computed; returns how many quarter hours it computed. NOTICEs of progress when report.';

CREATE OR REPLACE FUNCTION nezuko_analytics.refresh_rollups(max_runtime interval DEFAULT '1 minute')
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := clock_timestamp();
    sources text[];
    src text;
    n bigint := 0;
    per_source bigint;
BEGIN
    IF max_runtime IS NULL OR max_runtime <= interval '0' THEN
        RAISE EXCEPTION 'refresh_rollups: max_runtime must be a positive interval, not %', coalesce(max_runtime::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- (One query for the sources: pg_cron runs each refresh in a new
    -- session, where every statement is planned afresh.)
    sources := ARRAY(SELECT s.source FROM nezuko_analytics.rollup_state s ORDER BY 1);
    IF cardinality(sources) = 0 THEN
        RAISE EXCEPTION 'refresh_rollups: rollups are not enabled in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run SELECT * FROM nezuko_analytics.enable_rollups(); first.';
    END IF;
    -- One refresh at a time; the job runs every minute, so a second one skips.
    IF NOT pg_try_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups')) THEN
        RAISE NOTICE 'refresh_rollups: another refresh is running; this one skipped';
        RETURN 0;
    END IF;
    FOREACH src IN ARRAY sources LOOP
        PERFORM nezuko_analytics.require_rollup_read(src);
    END LOOP;
    FOREACH src IN ARRAY sources LOOP
        per_source := nezuko_analytics.refresh_rollup_source(src, started + max_runtime, false);
        n := n + per_source;
        UPDATE nezuko_analytics.rollup_state s
           SET last_refresh = started, last_refresh_buckets = per_source,
               last_refresh_ms = extract(epoch FROM clock_timestamp() - started) * 1000
         WHERE s.source = src;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollups(max_runtime interval) IS
  'Brings the rollups up to date: computes again the pending quarter hours (not the frozen ones, older than the raw retention), materializes the new ones up to the current quarter hour in chunks of whole days until max_runtime (the next run resumes from the watermark), and drops rollups older than keep; returns how many quarter hours it computed. A second concurrent call skips with a NOTICE and returns 0. The pg_cron job nezuko_analytics_rollups runs it every minute.';

