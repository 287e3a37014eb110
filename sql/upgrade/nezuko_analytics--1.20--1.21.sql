-- nezuko_analytics 1.20 -> 1.21, written by hand (docs/versions.md).
-- The build hands its rows to the INSERT one at a time: rollup_materialize()
-- takes them from the set-returning rollup_verification_rows() /
-- rollup_api_call_rows() in a select list, each row made from the builder
-- as the INSERT asks for it, instead of one record holding arrays of the
-- whole build (29 MB for api_call_log's 182,170 quarter hours), each copied
-- on its way (the array, the record, two assignments, unnest()).  Where the
-- build's own read may not read the table (rollup_rows_readable() false) it
-- takes the aggregates' arrays as before.  The rule that chooses a
-- sequential scan or the index moves from rollup_build() into
-- rollup_whole_table(), which both ask.  enable_rollups() analyzes only the
-- columns the readers select rows by (the distributions' and group counts'
-- statistics were half of its ANALYZE, and no reader filters on them).

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.21'" to load this file. \quit

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

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz,
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

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
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
    -- them the readers' first plans guess the rollup tables' sizes.  The
    -- columns the readers select rows by only (their sizes come with any
    -- column): the distributions and group counts, megabytes of them, are
    -- never in a WHERE clause, and their statistics cost half of ANALYZE.
    ANALYZE nezuko_analytics.rollup_verifications (bucket), nezuko_analytics.rollup_api_calls (bucket, method),
            nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at);
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

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_api_call_rows(name, timestamptz, timestamptz, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_api_call_rows(name, timestamptz, timestamptz, boolean) TO @extowner@;
