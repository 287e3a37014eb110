-- nezuko_analytics 1.15 -> 1.16, written by hand (docs/versions.md).
-- rollup_days keeps api_call_log's local days in UTC only: its readers take
-- the UTC days for a window in any zone (the calls have no local time), so
-- its days of other zones were made by every build and refresh and never
-- read.  rollup_day_zones() says which zones each table keeps;
-- rollup_days_rebuild(), enable_rollups() and rollup_status() follow it, and
-- the days nobody reads go.  rollup_build() reads a range of a day at most
-- (a refresh's minutes) through the index without asking the table's span,
-- and refresh_rollup_source() asks the chunk size only when there are new
-- quarter hours: a refresh starts in a new session, where each question is
-- planned afresh.
-- (The faster build and readers of 1.16 are in the module: no SQL.)

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.16'" to load this file. \quit

CREATE FUNCTION nezuko_analytics.rollup_day_zones(source text, zones text[])
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN source = 'api_call_log' THEN ARRAY(SELECT z FROM unnest(zones) z WHERE z = 'UTC') ELSE zones END
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_day_zones(text, text[]) IS
  'The zones of zones (rollup_zone() names) whose local days rollup_days keeps for source: all of them for verification_log, UTC alone for api_call_log, whose readers take the UTC days in every zone. Used by rollup_days_rebuild().';

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_days_rebuild(source text, los timestamptz[], his timestamptz[], zones text[])
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
        -- one pass over the days' quarter hours, in the zone's offsets
        offsets := nezuko_analytics.tz_offsets(starts[1], ends[cardinality(ends)], z);
        IF source = 'verification_log' THEN
            INSERT INTO nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at, summary)
            SELECT source, z, t.day, t.starts_at, t.ends_at,
                   nezuko_analytics.verification_summary_state('q', NULL, NULL, NULL, NULL, NULL, c, NULL, offsets, 1, NULL)
            FROM unnest(days, starts, ends) t(day, starts_at, ends_at)
            JOIN nezuko_analytics.rollup_verifications c ON c.bucket >= t.starts_at AND c.bucket < t.ends_at
            -- a day with a negative latency has no summary (the readers
            -- refuse it, from its quarter hours, as from its raw rows)
            WHERE NOT EXISTS (SELECT 1 FROM nezuko_analytics.rollup_verifications n
                              WHERE n.bucket >= t.starts_at AND n.bucket < t.ends_at
                                AND nezuko_analytics.percentile(n.latencies, 0) < 0)
            GROUP BY t.day, t.starts_at, t.ends_at;
        ELSE
            INSERT INTO nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at, summary)
            SELECT source, z, t.day, t.starts_at, t.ends_at, nezuko_analytics.api_summary_state(NULL, NULL, NULL, c, NULL)
            FROM unnest(days, starts, ends) t(day, starts_at, ends_at)
            JOIN nezuko_analytics.rollup_api_calls c ON c.bucket >= t.starts_at AND c.bucket < t.ends_at
            GROUP BY t.day, t.starts_at, t.ends_at;
        END IF;
        GET DIAGNOSTICS made = ROW_COUNT;
        n := n + made;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]) IS
  'Makes again, for each zone of zones that source keeps days of (rollup_day_zones()), the local days of rollup_days that meet the ranges [los[i], his[i]) of source: deletes them, and inserts those whose quarter hours are all materialized (inside [built_from, watermark)) and hold rows (and no negative latency, which the summary refuses), each the summary state of its quarter hours in its zone; returns how many it made. Called after the quarter hours change (refresh_rollup_source(), enable_rollups()).';

CREATE OR REPLACE FUNCTION nezuko_analytics.enable_rollups(keep interval DEFAULT '400 days', time_zones text[] DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text;
    target regclass;
    t record;
    oldest timestamptz;
    job bigint;
    n bigint;
    st nezuko_analytics.rollup_state;
    zones text[];
    added text[];
BEGIN
    IF keep IS NULL OR keep <= interval '0' THEN
        RAISE EXCEPTION 'enable_rollups: keep must be a positive interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    zones := nezuko_analytics.rollup_time_zones(coalesce(time_zones, ARRAY[current_setting('TimeZone')]));
    -- waits for a running refresh; the next ones wait for this
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups'));
    PERFORM nezuko_analytics.require_rollup_read(x.table_name) FROM unnest(ARRAY['verification_log', 'api_call_log']) x(table_name);
    FOREACH src IN ARRAY ARRAY['verification_log', 'api_call_log'] LOOP
        target := nezuko_analytics.require_rollup_read(src);
        -- The triggers first: from here on every change is recorded.
        FOR t IN SELECT * FROM nezuko_analytics.rollup_trigger_names() LOOP
            CONTINUE WHEN EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = target AND g.tgname = t.trigger_name);
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT EXECUTE FUNCTION nezuko_analytics.rollup_invalidate(%L, %L)',
                           t.trigger_name, t.event, target, t.transition, src, 'timestamp');
            -- DROP EXTENSION takes the trigger along (pg_dump keeps the mark)
            EXECUTE format('ALTER TRIGGER %I ON %s DEPENDS ON EXTENSION nezuko_analytics', t.trigger_name, target);
            RETURN NEXT format('created trigger %I on %s', t.trigger_name, target);
        END LOOP;
        SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = src;
        IF FOUND THEN
            UPDATE nezuko_analytics.rollup_state s SET keep = enable_rollups.keep
            WHERE s.source = src AND s.keep IS DISTINCT FROM enable_rollups.keep;
            IF FOUND THEN
                RETURN NEXT format('rollups of %s now keep %s', src, keep);
            END IF;
            -- other zones: days of the ones gone deleted, of the new ones made
            CONTINUE WHEN time_zones IS NULL OR st.time_zones = zones;
            UPDATE nezuko_analytics.rollup_state s SET time_zones = zones WHERE s.source = src;
            -- (api_call_log keeps the UTC days whatever the zones)
            CONTINUE WHEN nezuko_analytics.rollup_day_zones(src, zones) = nezuko_analytics.rollup_day_zones(src, st.time_zones);
            DELETE FROM nezuko_analytics.rollup_days d WHERE d.source = src AND d.time_zone <> ALL (zones);
            added := ARRAY(SELECT z FROM unnest(zones) z WHERE z <> ALL (st.time_zones));
            n := nezuko_analytics.rollup_days_rebuild(src, ARRAY[st.built_from], ARRAY[st.watermark], added);
            RETURN NEXT format('rollups of %s now keep the local days of %s (%s days made)', src,
                               array_to_string(nezuko_analytics.rollup_day_zones(src, zones), ', '), n);
            CONTINUE;
        END IF;
        EXECUTE format('SELECT min("timestamp") FROM %s WHERE "timestamp" > ''-infinity''', target) INTO oldest;
        oldest := nezuko_analytics.time_floor(least(coalesce(oldest, now()), now()), interval '15 minutes');
        INSERT INTO nezuko_analytics.rollup_state (source, keep, built_from, watermark, time_zones)
        VALUES (src, keep, oldest, oldest, zones);
        DELETE FROM nezuko_analytics.rollup_pending p WHERE p.source = src;
        n := nezuko_analytics.refresh_rollup_source(src, 'infinity', true);
        RETURN NEXT format('built rollups of %s: %s quarter hours from %s, local days of %s', src, n, oldest,
                           array_to_string(nezuko_analytics.rollup_day_zones(src, zones), ', '));
    END LOOP;
    -- statistics of what the build wrote, before autovacuum comes: without
    -- them the readers' first plans guess the rollup tables' sizes
    ANALYZE nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_api_calls, nezuko_analytics.rollup_days;
    IF to_regprocedure('cron.schedule(text, text, text)') IS NOT NULL THEN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
            USING nezuko_analytics.rollups_job_name(), '* * * * *', 'SELECT nezuko_analytics.refresh_rollups()';
        RETURN NEXT format('scheduled pg_cron job %s (every minute, job %s)', nezuko_analytics.rollups_job_name(), job);
    ELSE
        RAISE NOTICE 'nezuko_analytics: the rollups'' refresh is not scheduled: pg_cron is not installed in this database'
            USING HINT = nezuko_analytics.cron_schedule_hint(nezuko_analytics.rollups_job_name(), '* * * * *',
                                                             'SELECT nezuko_analytics.refresh_rollups()',
                                                             'nezuko_analytics.enable_rollups()')
                         || ' Or run SELECT nezuko_analytics.refresh_rollups(); from any scheduler.';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.enable_rollups(keep interval, time_zones text[]) IS
  'Turns rollups on for verification_log and api_call_log: puts the invalidation triggers on both (statement level, transition tables), builds the quarter-hour rollups from the existing rows in one scan per chunk of whole days (about 20 million rows; NOTICEs report progress) and the local days of UTC and of time_zones (default: the session''s TimeZone; api_call_log''s in UTC only) from them, and schedules pg_cron job nezuko_analytics_rollups every minute where pg_cron is installed (else a NOTICE says how). Rollups keep keep (default 400 days) of history, past the raw rows'' retention. Idempotent: a second call changes only keep and, when given, the time zones. Run it as the tables'' owner; it holds a lock that makes the bot''s writes wait until it commits.';

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_status()
RETURNS TABLE (source text, keep interval, materialized_from timestamptz, watermark timestamptz, frozen_before timestamptz,
               pending_buckets bigint,
               last_refresh timestamptz, last_refresh_ms float8, last_refresh_buckets bigint, rollup_rows bigint, rollup_bytes bigint,
               time_zones text[], local_days bigint, local_day_bytes bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source, s.keep, s.built_from, s.watermark, s.frozen_before,
           (SELECT count(DISTINCT p.bucket) FROM nezuko_analytics.rollup_pending p WHERE p.source = s.source),
           s.last_refresh, s.last_refresh_ms, s.last_refresh_buckets,
           CASE s.source
               WHEN 'verification_log' THEN (SELECT count(*) FROM nezuko_analytics.rollup_verifications)
               ELSE (SELECT count(*) FROM nezuko_analytics.rollup_api_calls) END,
           CASE s.source
               WHEN 'verification_log' THEN pg_total_relation_size('nezuko_analytics.rollup_verifications')
               ELSE pg_total_relation_size('nezuko_analytics.rollup_api_calls') END,
           nezuko_analytics.rollup_day_zones(s.source, s.time_zones), d.days, d.bytes
    FROM nezuko_analytics.rollup_state s
    CROSS JOIN LATERAL (SELECT count(*) AS days, coalesce(sum(pg_column_size(x.*)), 0)::bigint AS bytes
                        FROM nezuko_analytics.rollup_days x WHERE x.source = s.source) d
    ORDER BY s.source
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_status() IS
  'Per table with rollups: keep, the materialized range [materialized_from, watermark) (later quarter hours are read raw), frozen_before (older quarter hours are never computed again: history kept past the raw rows), how many distinct quarter hours are pending (-infinity after a TRUNCATE counts as one), the last refresh (when, milliseconds, quarter hours computed), the quarter-hour rollups'' rows and bytes, and the time zones whose local days are kept (rollup_day_zones(): UTC alone for api_call_log) with their rows and bytes (stored size).';

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
  'The rollup rows of source''s raw rows in [lo, hi) from one read: rollup_build_scan() (a sequential scan, with its own parallel workers, when the range is longer than a day and holds at least half of the table''s time span; else through the "timestamp" index), or, where the native path may not read the table, the aggregates verification_quarter_hours / api_quarter_hours (parallel where the planner likes). Used by rollup_materialize().';

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
    run record;
    changed_lo timestamptz[] := '{}';  -- the ranges of quarter hours computed, for their local days
    changed_hi timestamptz[] := '{}';
    chunk_days integer;
    chunk_end timestamptz;
    n bigint := 0;
BEGIN
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = refresh_rollup_source.source FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- Frozen from here on: it only moves forward (a longer retention later
    -- does not bring pruned raw rows back).
    horizon := greatest(st.frozen_before, nezuko_analytics.rollup_raw_horizon(source));
    -- 1. The pending rows seen now.  Every later read takes a newer snapshot
    -- (READ COMMITTED), so it sees the raw rows these rows stand for.
    SELECT array_agg(p.ctid), array_agg(DISTINCT p.bucket) INTO seen, buckets
    FROM nezuko_analytics.rollup_pending p WHERE p.source = refresh_rollup_source.source;
    -- 2. Pending quarter hours below the watermark: computed again.
    FOR run IN SELECT * FROM nezuko_analytics.rollup_pending_runs(buckets, horizon, st.built_from, st.watermark) LOOP
        PERFORM nezuko_analytics.rollup_materialize(source, run.lo, run.hi);  -- each of its quarter hours replaced
        changed_lo := changed_lo || run.lo;
        changed_hi := changed_hi || run.hi;
        st.built_from := least(st.built_from, run.lo);
        n := n + ((extract(epoch FROM run.hi - run.lo) / 900)::bigint);
    END LOOP;
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
    PERFORM nezuko_analytics.rollup_days_rebuild(source, changed_lo, changed_hi, st.time_zones);
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark unless frozen, materializes new quarter hours in chunks of whole days (about 20 million rows each) up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep, and makes again the local days (rollup_days) of the quarter hours it computed; returns how many quarter hours it computed. NOTICEs of progress when report.';

-- the days of api_call_log that no reader takes
DELETE FROM nezuko_analytics.rollup_days d WHERE d.source = 'api_call_log' AND d.time_zone <> 'UTC';
