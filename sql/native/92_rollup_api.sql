-- The rollups' API (docs/rollups.md): enable_rollups(), disable_rollups(),
-- refresh_rollups(), rollup_status(), and the pg_cron job that refreshes.

CREATE FUNCTION nezuko_analytics.rollups_job_name()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'nezuko_analytics_rollups'::text $$;
COMMENT ON FUNCTION nezuko_analytics.rollups_job_name() IS 'The name of the pg_cron job that runs refresh_rollups() every minute.';

CREATE FUNCTION nezuko_analytics.rollup_trigger_names()
RETURNS TABLE (trigger_name name, event text, transition text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('nezuko_analytics_rollups_insert'::name, 'INSERT', 'REFERENCING NEW TABLE AS new_rows'),
           ('nezuko_analytics_rollups_update', 'UPDATE', 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'),
           ('nezuko_analytics_rollups_delete', 'DELETE', 'REFERENCING OLD TABLE AS old_rows'),
           ('nezuko_analytics_rollups_truncate', 'TRUNCATE', '')
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_trigger_names() IS
  'The statement-level triggers enable_rollups() puts on each log table: one per event (a trigger with transition tables serves one event only).';

CREATE FUNCTION nezuko_analytics.refresh_rollups(max_runtime interval DEFAULT '1 minute')
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

CREATE FUNCTION nezuko_analytics.rollup_source_table(source text)
RETURNS regclass LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT to_regclass(format('%I.%I', s.target_schema, source)) FROM nezuko_analytics.schema_state s $$;
COMMENT ON FUNCTION nezuko_analytics.rollup_source_table(text) IS
  'The bot''s table source (verification_log or api_call_log) in the schema apply_schema() recorded; NULL when none is recorded or the table does not exist.';

CREATE FUNCTION nezuko_analytics.require_rollup_read(source text)
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

-- The name under which rollup_days keeps a zone's local days: 'UTC' for
-- every name of tzdata's zones whose offset is always zero (Etc/UTC, GMT,
-- Zulu ... are links of Etc/UTC and Etc/GMT; Debian's initdb writes
-- TimeZone = 'Etc/UTC'), so that they share UTC's days; other names as given.
CREATE FUNCTION nezuko_analytics.rollup_zone(tz text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN lower(tz) IN ('utc', 'etc/utc', 'uct', 'etc/uct', 'universal', 'etc/universal', 'zulu', 'etc/zulu',
                                   'gmt', 'etc/gmt', 'gmt0', 'etc/gmt0', 'gmt+0', 'etc/gmt+0', 'gmt-0', 'etc/gmt-0',
                                   'greenwich', 'etc/greenwich')
                THEN 'UTC' ELSE tz END
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_zone(text) IS
  'The name under which rollup_days keeps the local days of zone tz: ''UTC'' for the names of zones whose offset is always zero (UTC, Etc/UTC, GMT, Zulu and their other tzdata names, in any case), tz itself otherwise.';

-- The zones whose local days rollup_days keeps: UTC always, then the
-- ones given (checked), each once under its rollup_zone() name, in order.
CREATE FUNCTION nezuko_analytics.rollup_time_zones(zones text[])
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    z text;
    result text[] := ARRAY['UTC'];
BEGIN
    FOREACH z IN ARRAY coalesce(zones, '{}') LOOP
        IF z IS NULL THEN
            RAISE EXCEPTION 'enable_rollups: a time zone must not be NULL' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM now() AT TIME ZONE z;  -- ERROR 22023 for an unknown zone
        z := nezuko_analytics.rollup_zone(z);
        IF z <> ALL (result) THEN
            result := result || z;
        END IF;
    END LOOP;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_time_zones(text[]) IS
  'The time zones whose local days rollup_days keeps for zones: UTC, then each zone of zones once under its rollup_zone() name, in order; an ERROR (22023) for NULL or an unknown zone.';

CREATE FUNCTION nezuko_analytics.enable_rollups(keep interval DEFAULT '400 days', time_zones text[] DEFAULT NULL)
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

CREATE FUNCTION nezuko_analytics.disable_rollups()
RETURNS SETOF text LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text;
    target regclass;
    t record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups'));
    IF nezuko_analytics.unschedule_job(nezuko_analytics.rollups_job_name()) THEN
        RETURN NEXT format('unscheduled pg_cron job %s', nezuko_analytics.rollups_job_name());
    END IF;
    FOREACH src IN ARRAY ARRAY['verification_log', 'api_call_log'] LOOP
        target := nezuko_analytics.rollup_source_table(src);
        CONTINUE WHEN target IS NULL;  -- no schema recorded, or no such table: no triggers
        FOR t IN SELECT * FROM nezuko_analytics.rollup_trigger_names() LOOP
            CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = target AND g.tgname = t.trigger_name);
            EXECUTE format('DROP TRIGGER %I ON %s', t.trigger_name, target);
            RETURN NEXT format('dropped trigger %I on %s', t.trigger_name, target);
        END LOOP;
    END LOOP;
    IF EXISTS (SELECT 1 FROM nezuko_analytics.rollup_state) THEN
        DELETE FROM nezuko_analytics.rollup_verifications;
        DELETE FROM nezuko_analytics.rollup_api_calls;
        DELETE FROM nezuko_analytics.rollup_days;
        DELETE FROM nezuko_analytics.rollup_pending;
        DELETE FROM nezuko_analytics.rollup_state;
        RETURN NEXT 'removed the rollups';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.disable_rollups() IS
  'Turns rollups off: unschedules the pg_cron job, drops the triggers from the log tables and deletes every rollup (their history older than the raw rows is gone with them). Does nothing when they are off. revert_schema() calls it.';

CREATE FUNCTION nezuko_analytics.rollup_status()
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

REVOKE EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval, text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.disable_rollups() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.refresh_rollups(interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_day_states(text, date[], timestamptz[], timestamptz[], bigint[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_api_call_rows(name, timestamptz, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_invalidate() FROM PUBLIC;
-- The installing role runs the rollups (as it runs retention): the API, and
-- the tables they write.  The bot's writers need nothing: the trigger writes
-- rollup_pending as its owner.
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.rollup_state, nezuko_analytics.rollup_pending,
      nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_api_calls, nezuko_analytics.rollup_days TO @extowner@;
GRANT EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval, text[]), nezuko_analytics.disable_rollups(),
      nezuko_analytics.refresh_rollups(interval), nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean),
      nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]),
      nezuko_analytics.rollup_day_states(text, date[], timestamptz[], timestamptz[], bigint[]),
      nezuko_analytics.rollup_build(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_api_call_rows(name, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_invalidate() TO @extowner@;
