-- Filling and refreshing the rollups from the raw rows (docs/rollups.md).
-- Every quarter hour is computed from the raw rows at once, never patched:
-- a new one when the watermark passes it, a pending one again (after
-- deleting it).  Quarter hours before the cutoff of a prune() are frozen:
-- their raw rows are gone or going, so they are never computed again.

CREATE FUNCTION nezuko_analytics.rollup_origin()
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
COMMENT ON FUNCTION nezuko_analytics.rollup_origin() IS
  'The origin of the rollups'' quarter hours and days (date_bin''s third argument): 2000-01-01 00:00 UTC, PostgreSQL''s own epoch.';

CREATE FUNCTION nezuko_analytics.time_floor(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_floor';
COMMENT ON FUNCTION nezuko_analytics.time_floor(timestamptz, interval) IS
  'The start of the quarter hour (stride 15 minutes) or UTC day (24 hours) that holds t (date_bin(stride, t, rollup_origin())); t itself when infinite. (Strides in hours and minutes: adding a day to a timestamptz follows the session''s time zone.)';

CREATE FUNCTION nezuko_analytics.time_ceil(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_ceil';
COMMENT ON FUNCTION nezuko_analytics.time_ceil(timestamptz, interval) IS
  'The first start of a quarter hour (stride 15 minutes) or UTC day (24 hours) at or after t; t itself when infinite.';

-- The aggregates that build rollup rows in one pass (src/pg/rollup_build_agg.cpp),
-- in parallel where the planner likes: one state type, one combine.
CREATE FUNCTION nezuko_analytics.rollup_build_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_build_combine';
CREATE FUNCTION nezuko_analytics.rollup_build_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_build_serialize';
CREATE FUNCTION nezuko_analytics.rollup_build_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_build_deserialize';
COMMENT ON FUNCTION nezuko_analytics.rollup_build_combine(internal, internal) IS
  'Combine function of the rollup build aggregates (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.rollup_build_serialize(internal) IS
  'Serialize function of the rollup build aggregates (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.rollup_build_deserialize(bytea, internal) IS
  'Deserialize function of the rollup build aggregates (parallel query); validates its input.';

CREATE FUNCTION nezuko_analytics.verification_quarter_hours_add(internal, timestamptz, text, integer, boolean, bigint)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vquarter_hours_add';
CREATE FUNCTION nezuko_analytics.verification_quarter_hours_final(internal)
RETURNS nezuko_analytics.rollup_verifications[] LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vquarter_hours_final';
COMMENT ON FUNCTION nezuko_analytics.verification_quarter_hours_add(internal, timestamptz, text, integer, boolean, bigint) IS
  'Transition function of verification_quarter_hours.';
COMMENT ON FUNCTION nezuko_analytics.verification_quarter_hours_final(internal) IS
  'Final function of verification_quarter_hours: the rows, in order, fields set by name.';
CREATE AGGREGATE nezuko_analytics.verification_quarter_hours("timestamp" timestamptz, status text, latency_ms integer,
                                                             cached boolean, group_id bigint) (
    SFUNC = nezuko_analytics.verification_quarter_hours_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_quarter_hours_final,
    COMBINEFUNC = nezuko_analytics.rollup_build_combine,
    SERIALFUNC = nezuko_analytics.rollup_build_serialize,
    DESERIALFUNC = nezuko_analytics.rollup_build_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_quarter_hours(timestamptz, text, integer, boolean, bigint) IS
  'The rollup_verifications rows of the verification_log rows aggregated (rows without a finite time skipped), in one pass: per quarter hour of UTC the counts, the latency_dist and the group counts (NULL as 0). Parallel safe; memory grows with the latencies (4 bytes each) and the groups of each quarter hour until the end.';

CREATE FUNCTION nezuko_analytics.api_quarter_hours_add(internal, timestamptz, text, boolean, integer)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_aquarter_hours_add';
CREATE FUNCTION nezuko_analytics.api_quarter_hours_final(internal)
RETURNS nezuko_analytics.rollup_api_calls[] LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_aquarter_hours_final';
COMMENT ON FUNCTION nezuko_analytics.api_quarter_hours_add(internal, timestamptz, text, boolean, integer) IS
  'Transition function of api_quarter_hours.';
COMMENT ON FUNCTION nezuko_analytics.api_quarter_hours_final(internal) IS
  'Final function of api_quarter_hours: the rows, in order.';
CREATE AGGREGATE nezuko_analytics.api_quarter_hours("timestamp" timestamptz, method text, success boolean, latency_ms integer) (
    SFUNC = nezuko_analytics.api_quarter_hours_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_quarter_hours_final,
    COMBINEFUNC = nezuko_analytics.rollup_build_combine,
    SERIALFUNC = nezuko_analytics.rollup_build_serialize,
    DESERIALFUNC = nezuko_analytics.rollup_build_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_quarter_hours(timestamptz, text, boolean, integer) IS
  'The rollup_api_calls rows of the calls aggregated (rows without a finite time skipped): per quarter hour of UTC and method (NULL as ''''), calls, ok, failures and the latency_dist.';

-- The build's own read (src/pg/rollup_build_scan.cpp): the raw rows folded
-- straight into quarter hours, without the executor; a whole table with
-- parallel workers of its own.
CREATE FUNCTION nezuko_analytics.rollup_build_scan(bot name, source text, lo timestamptz, hi timestamptz,
    whole_table boolean,
    OUT verification nezuko_analytics.rollup_verifications[], OUT api nezuko_analytics.rollup_api_calls[])
RETURNS record LANGUAGE c STABLE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'nz_rollup_build_scan';
COMMENT ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) IS
  'The rollup rows of bot.source''s raw rows in [lo, hi) (source verification_log or api_call_log; the other field NULL), the same as the build aggregates give, read without the executor: with whole_table (most of the table in range) one sequential scan, cut into runs of pages that up to max_parallel_maintenance_workers parallel workers fold into quarter hours; otherwise the rows through the "timestamp" index. NULL when the native path may not read the table (row-level security, no SELECT privilege, SERIALIZABLE, a column of another type): rollup_build_aggregates() then gives the rows. Parallel unsafe: it starts its own workers.';

-- The same rows one at a time, for an INSERT to take as they come
-- (src/pg/rollup_build_rows_fn.cpp): called in a select list, no array of a
-- whole build is made, held in a record or copied.  An ERROR where the
-- native read may not read the table: ask rollup_rows_readable() first.
CREATE FUNCTION nezuko_analytics.rollup_verification_rows(bot name, lo timestamptz, hi timestamptz, whole_table boolean)
RETURNS SETOF nezuko_analytics.rollup_verifications LANGUAGE c STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_rollup_verification_rows';
COMMENT ON FUNCTION nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean) IS
  'The rollup rows of bot.verification_log''s raw rows in [lo, hi), in order of their quarter hours: rollup_build_scan()''s read (whole_table: one sequential scan with parallel workers of its own; else through the "timestamp" index), each row made when it is asked for. Call it in a select list, where its rows go straight to the caller (in FROM they are stored first). An ERROR (0A000) where rollup_rows_readable() is false. Used by rollup_materialize().';
CREATE FUNCTION nezuko_analytics.rollup_api_call_rows(bot name, lo timestamptz, hi timestamptz, whole_table boolean)
RETURNS SETOF nezuko_analytics.rollup_api_calls LANGUAGE c STABLE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_rollup_api_call_rows';
COMMENT ON FUNCTION nezuko_analytics.rollup_api_call_rows(name, timestamptz, timestamptz, boolean) IS
  'The rollup rows of bot.api_call_log''s raw rows in [lo, hi), in order of their quarter hours (the methods of one quarter hour in the order the rows came): rollup_build_scan()''s read, each row made when it is asked for. Call it in a select list. An ERROR (0A000) where rollup_rows_readable() is false. Used by rollup_materialize().';
CREATE FUNCTION nezuko_analytics.rollup_rows_readable(bot name, source text)
RETURNS boolean LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_rows_readable';
COMMENT ON FUNCTION nezuko_analytics.rollup_rows_readable(name, text) IS
  'Whether the build''s own read may read bot.source (verification_log or api_call_log): SELECT privilege, no row-level security, not SERIALIZABLE, native reads on, a plain table whose columns have the bot''s types. Where it is false rollup_build_scan() is NULL and rollup_verification_rows() / rollup_api_call_rows() refuse: rollup_build_aggregates() gives the rows.';

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

-- Whether the build reads bot.source whole for [lo, hi): most of the table
-- in range (the first build, one chunk up to 20 million rows) is one
-- sequential scan; a small part (a refresh) its rows through the
-- "timestamp" index, whose first and last entries tell the table's span.
-- (A row at +-infinity leaves no finite span: read through the index.)  A
-- range of a day at most (a refresh's minutes, its late quarter hours) goes
-- through the index without asking: the question cost a refresh more than
-- its read.  (Without such an index the build reads the table whole
-- whatever it is told.)
CREATE FUNCTION nezuko_analytics.rollup_whole_table(bot name, source text, lo timestamptz, hi timestamptz)
RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_at timestamptz;
    last_at timestamptz;
BEGIN
    IF hi - lo <= interval '1 day' OR nezuko_analytics.time_led_index(bot, source, '{}') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t', bot, source) INTO first_at, last_at;
    RETURN first_at IS NULL
           OR (isfinite(first_at) AND isfinite(last_at)
               AND (least(hi, last_at) - greatest(lo, first_at)) * 2 >= last_at - first_at);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_whole_table(name, text, timestamptz, timestamptz) IS
  'Whether the build reads bot.source''s rows in [lo, hi) by one sequential scan of the whole table (true: the range is longer than a day and holds at least half of the table''s time span, or the table is empty) rather than through its "timestamp" index (false; also when there is no such index, and the build then scans anyway). Used by rollup_build() and rollup_materialize().';

-- The quarter-hour rollups of source's raw rows in [lo, hi) as one plain
-- record (a set-returning function would hold the arrays of a whole build
-- in a tuplestore, on disk past work_mem; callers assign it, for the same
-- reason): the build's own read where it may, else the aggregates.
-- rollup_materialize() takes the same rows one at a time instead
-- (rollup_verification_rows(), rollup_api_call_rows()).
CREATE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz,
    OUT verification nezuko_analytics.rollup_verifications[], OUT api nezuko_analytics.rollup_api_calls[])
RETURNS record LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    built record;
BEGIN
    -- An assignment, not SELECT ... FROM: a function in FROM hands its row
    -- over in a tuplestore, written to disk past work_mem (the arrays of a
    -- whole build are tens of megabytes).
    built := nezuko_analytics.rollup_build_scan(bot, source, lo, hi, nezuko_analytics.rollup_whole_table(bot, source, lo, hi));
    IF built IS NULL THEN  -- the native read may not read the table (NULL, no fields to ask)
        SELECT * INTO built FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    END IF;
    verification := built.verification;
    api := built.api;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one read, as arrays: rollup_build_scan() (one sequential scan, with its own parallel workers, where rollup_whole_table() says so, else through the "timestamp" index), or, where the native path may not read the table, rollup_build_aggregates(). A plain record, not a set: the arrays reach the caller without a tuplestore in between. rollup_materialize() takes the same rows one at a time (rollup_verification_rows(), rollup_api_call_rows()).';

-- The quarter-hour rollups of source's raw rows in [lo, hi) (quarter-hour
-- edges), each row replaced: those of the range deleted, the new ones
-- inserted.  (INSERT ... ON CONFLICT cost a third more for api_call_log's
-- 180,000 rows, and left a quarter hour whose rows were all deleted.)
CREATE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    whole boolean;
    built record;
BEGIN
    IF source = 'verification_log' THEN
        DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= lo AND r.bucket < hi;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= lo AND r.bucket < hi;
    END IF;
    IF nezuko_analytics.rollup_rows_readable(bot, source) THEN
        -- The build's own read, its rows taken one at a time as the INSERT
        -- asks for them: the function in the select list of a subquery
        -- kept apart (OFFSET 0), not in FROM, which would store them all.
        whole := nezuko_analytics.rollup_whole_table(bot, source, lo, hi);
        IF source = 'verification_log' THEN
            INSERT INTO nezuko_analytics.rollup_verifications
            SELECT (u.r).* FROM (SELECT nezuko_analytics.rollup_verification_rows(bot, lo, hi, whole) r OFFSET 0) u;
        ELSE
            INSERT INTO nezuko_analytics.rollup_api_calls
            SELECT (u.r).* FROM (SELECT nezuko_analytics.rollup_api_call_rows(bot, lo, hi, whole) r OFFSET 0) u;
        END IF;
        RETURN;
    END IF;
    -- The aggregates (row-level security, SERIALIZABLE ...): their arrays
    -- by assignment, and unnest() in the select list, not in FROM (which
    -- would store every row in a tuplestore, on disk past work_mem).
    SELECT * INTO built FROM nezuko_analytics.rollup_build_aggregates(source, lo, hi);
    IF source = 'verification_log' THEN
        INSERT INTO nezuko_analytics.rollup_verifications SELECT (u.x).* FROM (SELECT unnest(built.verification) x) u;
    ELSE
        INSERT INTO nezuko_analytics.rollup_api_calls SELECT (u.x).* FROM (SELECT unnest(built.api) x) u;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups in one read: the rollup rows of those quarter hours are deleted and the new ones inserted as the build''s own read makes them (rollup_verification_rows(), rollup_api_call_rows(); a sequential scan where rollup_whole_table() says so), or, where that may not read the table (rollup_rows_readable()), from rollup_build_aggregates(). Used by refresh_rollup_source().';

-- The local days of zone that meet the ranges [los[i], his[i]) inside [lo, hi).
CREATE FUNCTION nezuko_analytics.rollup_local_days(los timestamptz[], his timestamptz[], zone text,
                                                   lo timestamptz, hi timestamptz)
RETURNS TABLE (day date, starts_at timestamptz, ends_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.day, d.day::timestamp AT TIME ZONE zone, (d.day + 1)::timestamp AT TIME ZONE zone
    FROM (SELECT DISTINCT g::date AS day
          FROM unnest(los, his) r(r_lo, r_hi),
               generate_series((greatest(r.r_lo, lo) AT TIME ZONE zone)::date,
                               ((least(r.r_hi, hi) - interval '1 microsecond') AT TIME ZONE zone)::date,
                               interval '1 day') g
          WHERE greatest(r.r_lo, lo) < least(r.r_hi, hi)) d
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_local_days(timestamptz[], timestamptz[], text, timestamptz, timestamptz) IS
  'The local days of zone (date, and [starts_at, ends_at) in UTC: local midnight to the next) that meet a range [los[i], his[i]) cut to [lo, hi). Used by rollup_days_rebuild().';

-- The zones whose local days rollup_days keeps for source: each zone kept
-- for verification_log (the dashboard reads its days in the caller's zone),
-- UTC alone for api_call_log (the calls have no local time: its readers
-- take the UTC days for a window in any zone).  In C
-- (src/pg/rollup_day_zones_fn.cpp): every refresh asks it in a new session.
CREATE FUNCTION nezuko_analytics.rollup_day_zones(source text, zones text[])
RETURNS text[] LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_day_zones';
COMMENT ON FUNCTION nezuko_analytics.rollup_day_zones(text, text[]) IS
  'The zones of zones (rollup_zone() names) whose local days rollup_days keeps for source: all of them for verification_log (and any other source), the elements equal to UTC alone for api_call_log, whose readers take the UTC days in every zone; NULL for a NULL argument. Used by rollup_days_rebuild(), refresh_rollup_source(), enable_rollups() and rollup_status().';

-- The summary states of local days made from their quarter hours without
-- the executor (src/pg/rollup_day_states_fn.cpp): one index range per day,
-- folded as verification_summary_state / api_summary_state fold the rows.
CREATE FUNCTION nezuko_analytics.rollup_day_states(source text, days date[], starts timestamptz[], ends timestamptz[],
    tz_offsets bigint[],
    OUT day date, OUT starts_at timestamptz, OUT ends_at timestamptz, OUT summary bytea)
RETURNS SETOF record LANGUAGE c STABLE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'nz_rollup_day_states';
COMMENT ON FUNCTION nezuko_analytics.rollup_day_states(text, date[], timestamptz[], timestamptz[], bigint[]) IS
  'The local days days[i] = [starts[i], ends[i]) (increasing, not overlapping) of source (verification_log or api_call_log) as rollup_days keeps them: summary is the binary state of verification_summary_state(''q'', ..., cell, NULL, tz_offsets, 1, NULL) (verification_log, in the zone of tz_offsets) or api_summary_state(NULL, NULL, NULL, cell, NULL) (api_call_log; tz_offsets unused) over the day''s quarter hours of rollup_verifications / rollup_api_calls, each day read through the primary key and folded one day per call. A day without quarter hours has no row, nor has a verification_log day holding a negative latency. Call it in a select list. Used by rollup_days_rebuild(). Example: SELECT (d.s).day, length((d.s).summary) FROM (SELECT nezuko_analytics.rollup_day_states(''verification_log'', ARRAY[date ''2026-01-01''], ARRAY[timestamptz ''2026-01-01 00:00+00''], ARRAY[timestamptz ''2026-01-02 00:00+00''], nezuko_analytics.tz_offsets(''2026-01-01 00:00+00'', ''2026-01-02 00:00+00'', ''UTC'')) s) d;';

-- The local days of each zone that meet the ranges [los[i], his[i]) made
-- again from the quarter hours: every such day of rollup_days deleted, and
-- made again where all its quarter hours are materialized.
CREATE FUNCTION nezuko_analytics.rollup_days_rebuild(source text, los timestamptz[], his timestamptz[], zones text[])
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    z text;
    days date[];
    starts timestamptz[];
    ends timestamptz[];
    offsets bigint[];
    made bigint;
    n bigint := 0;
BEGIN
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = rollup_days_rebuild.source;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOREACH z IN ARRAY nezuko_analytics.rollup_day_zones(source, zones) LOOP
        -- the complete days touched (a refresh of the current quarter hour
        -- touches only the current day, which is still filling: nothing)
        SELECT coalesce(array_agg(t.day ORDER BY t.day), '{}'), coalesce(array_agg(t.starts_at ORDER BY t.day), '{}'),
               coalesce(array_agg(t.ends_at ORDER BY t.day), '{}')
          INTO days, starts, ends
        FROM nezuko_analytics.rollup_local_days(los, his, z, st.built_from, st.watermark) t
        WHERE t.starts_at >= st.built_from AND t.ends_at <= st.watermark;
        CONTINUE WHEN cardinality(days) = 0;
        DELETE FROM nezuko_analytics.rollup_days x
        WHERE x.source = rollup_days_rebuild.source AND x.time_zone = z AND x.starts_at = ANY (starts);
        -- the zone's offsets over the days
        offsets := nezuko_analytics.tz_offsets(starts[1], ends[cardinality(ends)], z);
        -- one index range per day, folded as it is read; the function in a
        -- select list (OFFSET 0 keeps it there), not in FROM, which would
        -- store its rows first
        INSERT INTO nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at, summary)
        SELECT source, z, (u.d).day, (u.d).starts_at, (u.d).ends_at, (u.d).summary
        FROM (SELECT nezuko_analytics.rollup_day_states(source, days, starts, ends, offsets) d OFFSET 0) u;
        GET DIAGNOSTICS made = ROW_COUNT;
        n := n + made;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]) IS
  'Makes again, for each zone of zones that source keeps days of (rollup_day_zones()), the local days of rollup_days that meet the ranges [los[i], his[i]) of source: deletes them, and inserts those whose quarter hours are all materialized (inside [built_from, watermark)) and hold rows (and no negative latency, which the summary refuses), each the summary state of its quarter hours in its zone; returns how many it made. Called after the quarter hours change (refresh_rollup_source(), enable_rollups()).';

-- The pending quarter hours of source that can be computed again, as
-- maximal runs [los[i], his[i]): not frozen, below the watermark (later ones
-- are materialized when the watermark passes them).  A TRUNCATE (-infinity)
-- makes every such quarter hour pending.  In C (src/core/pending_runs.cpp):
-- the refresh runs in a new session every minute, where a SQL function's
-- query is parsed and planned at each call.
CREATE FUNCTION nezuko_analytics.rollup_pending_runs(buckets timestamptz[], horizon timestamptz,
                                                     built_from timestamptz, watermark timestamptz,
                                                     OUT los timestamptz[], OUT his timestamptz[])
RETURNS record LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_rollup_pending_runs';
COMMENT ON FUNCTION nezuko_analytics.rollup_pending_runs(timestamptz[], timestamptz, timestamptz, timestamptz) IS
  'The pending quarter hours (their starts, NULL for none; -infinity after a TRUNCATE: all) that refresh_rollup_source() computes again, as maximal runs [los[i], his[i]) in ascending order: from the raw horizon on (older ones are frozen) and below the watermark; after a TRUNCATE one run from the later of built_from and the horizon (rounded up to a quarter hour) to the watermark.';

CREATE FUNCTION nezuko_analytics.refresh_rollup_source(source text, deadline timestamptz, report boolean)
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
