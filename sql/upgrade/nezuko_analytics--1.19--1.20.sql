-- nezuko_analytics 1.19 -> 1.20, written by hand (docs/versions.md).
-- Fewer first parses, plans and calls in the new session pg_cron starts for
-- every refresh: rollup_day_zones() is a C function (a SQL function's query
-- is parsed and planned at each call), require_rollup_read() asks
-- bot_schema() only for its error, and the refresh skips the statements
-- with nothing to do (rollups older than keep while the history starts
-- inside keep, local days before the history while it did not move, pending
-- rows when none were seen, the question for local days when nothing was
-- computed).  The build's arrays reach the INSERT
-- without a tuplestore: rollup_build() and rollup_materialize() assign the
-- read's record instead of selecting it FROM a function, and unnest() runs
-- in the select list.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.20'" to load this file. \quit

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_day_zones(source text, zones text[])
RETURNS text[] LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_day_zones';
COMMENT ON FUNCTION nezuko_analytics.rollup_day_zones(text, text[]) IS
  'The zones of zones (rollup_zone() names) whose local days rollup_days keeps for source: all of them for verification_log (and any other source), the elements equal to UTC alone for api_call_log, whose readers take the UTC days in every zone; NULL for a NULL argument. Used by rollup_days_rebuild(), refresh_rollup_source(), enable_rollups() and rollup_status().';

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
    built record;
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
    -- An assignment, not SELECT ... FROM: a function in FROM hands its row
    -- over in a tuplestore, written to disk past work_mem (the arrays of a
    -- whole build are tens of megabytes).
    built := nezuko_analytics.rollup_build_scan(bot, source, lo, hi, whole);
    IF built IS NULL THEN  -- the native read may not read the table (NULL, no fields to ask)
        SELECT * INTO built FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    END IF;
    verification := built.verification;
    api := built.api;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one read: rollup_build_scan() (one sequential scan, with its own parallel workers, when the range is longer than a day and holds at least half of the table''s time span, else through the "timestamp" index), or, where the native path may not read the table, rollup_build_aggregates(). A plain record, not a set: the build''s arrays (tens of megabytes for api_call_log) reach rollup_materialize() without a tuplestore in between. Used by rollup_materialize().';

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    built record;
BEGIN
    -- An assignment, not SELECT ... FROM, and unnest() in the select list,
    -- not in FROM: a function in FROM hands its rows over in a tuplestore,
    -- written to disk past work_mem.
    built := nezuko_analytics.rollup_build(source, lo, hi);
    IF source = 'verification_log' THEN
        DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= lo AND r.bucket < hi;
        INSERT INTO nezuko_analytics.rollup_verifications SELECT (u.x).* FROM (SELECT unnest(built.verification) x) u;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= lo AND r.bucket < hi;
        INSERT INTO nezuko_analytics.rollup_api_calls SELECT (u.x).* FROM (SELECT unnest(built.api) x) u;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups in one scan (rollup_build()): the rollup rows of those quarter hours are deleted and the new ones inserted. Used by refresh_rollup_source().';

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
    from_before timestamptz;  -- built_from before this refresh moves it up
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
    IF seen IS NOT NULL THEN
        DELETE FROM nezuko_analytics.rollup_pending p WHERE p.ctid = ANY (seen) AND p.bucket < st.watermark;
    END IF;
    -- 5. Rollups older than keep go (and with them the start of the history):
    -- none while the history starts inside keep, as no rollup row is older
    -- than built_from.  (Each statement skipped is one parse and plan less
    -- in the new session of every refresh.)
    IF st.built_from < now() - st.keep THEN
        IF source = 'verification_log' THEN
            DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket < now() - st.keep;
        ELSE
            DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket < now() - st.keep;
        END IF;
    END IF;
    from_before := st.built_from;
    UPDATE nezuko_analytics.rollup_state s
       SET built_from = greatest(st.built_from, least(st.watermark, nezuko_analytics.time_ceil(now() - st.keep, interval '15 minutes'))),
           watermark = st.watermark, frozen_before = horizon
     WHERE s.source = refresh_rollup_source.source
    RETURNING * INTO st;
    -- 6. The local days: those that start before the history go when it
    -- moved up (enable_rollups() deletes those of the zones it stops
    -- keeping); those whose quarter hours were computed are made again
    -- (complete ones only).
    IF st.built_from > from_before THEN
        DELETE FROM nezuko_analytics.rollup_days d
        WHERE d.source = refresh_rollup_source.source AND d.starts_at < st.built_from;
    END IF;
    -- None when nothing was computed, nor when, in every zone, the first day
    -- the computed quarter hours touch is still filling (a refresh of the
    -- last hour's quarter hours, most minutes of the day): every later day
    -- ends after the watermark too.  (The ranges are in ascending order: the
    -- runs lie below the old watermark, the chunks from it up.)
    IF cardinality(changed_lo) > 0 THEN
        first_at := greatest(changed_lo[1], st.built_from);
        IF EXISTS (SELECT 1 FROM unnest(nezuko_analytics.rollup_day_zones(source, st.time_zones)) z
                   WHERE NOT isfinite(first_at)
                      OR ((first_at AT TIME ZONE z)::date + 1)::timestamp AT TIME ZONE z <= st.watermark) THEN
            PERFORM nezuko_analytics.rollup_days_rebuild(source, changed_lo, changed_hi, st.time_zones);
        END IF;
    END IF;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark unless frozen, materializes new quarter hours in chunks of whole days (about 20 million rows each) up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep, and makes again the local days (rollup_days) of the quarter hours it computed; returns how many quarter hours it computed. NOTICEs of progress when report.';

CREATE OR REPLACE FUNCTION nezuko_analytics.require_rollup_read(source text)
RETURNS regclass LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass := nezuko_analytics.rollup_source_table(source);
BEGIN
    -- (NULL also when apply_schema() has not been run: bot_schema() then
    -- raises its own ERROR, which says so.)
    IF target IS NULL THEN
        RAISE EXCEPTION 'rollups: table %.% does not exist', quote_ident(nezuko_analytics.bot_schema()), quote_ident(source)
            USING ERRCODE = 'undefined_table';
    END IF;
    IF NOT has_table_privilege(target, 'SELECT') THEN
        RAISE EXCEPTION 'rollups: permission denied to read table %', target
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Enable and refresh the rollups as the table''s owner.';
    END IF;
    IF row_security_active(target) THEN
        RAISE EXCEPTION 'rollups: table % has row-level security for role %', target, current_user
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Rollups must count every row: enable and refresh them as the table''s owner or as a role that bypasses row-level security.';
    END IF;
    RETURN target;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.require_rollup_read(text) IS
  'The bot''s table source, after checking that the current role reads every row of it (SELECT, no row-level security); an ERROR otherwise: rollups of the rows one role may see would be wrong for every other.';

