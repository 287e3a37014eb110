-- nezuko_analytics 1.5 -> 1.6, written by hand (docs/versions.md): rollups
-- (docs/rollups.md).  The extension_upgrade test compares the result with a
-- fresh install.
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.6'" to load this file. \quit

-- One hint for every pg_cron job (retention's and the rollups'): cron_schedule_hint().
-- How to schedule a job from pg_cron's own database when it is not this one.
CREATE FUNCTION nezuko_analytics.cron_schedule_hint(job_name text, schedule text, command text, local_call text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        -- pg_cron's settings are readable only with pg_read_all_settings (a
        -- database owner on a managed host has no such right): name no database
        WHEN NOT pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') THEN
            format('in pg_cron''s database (its cron.database_name) run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                   job_name, schedule, command, current_database())
        ELSE
            CASE
            WHEN current_setting('shared_preload_libraries') !~ 'pg_cron' THEN
                'Add pg_cron to shared_preload_libraries and restart; then '
            ELSE '' END
            || CASE
            WHEN coalesce(current_setting('cron.database_name', true), 'postgres') = current_database() THEN
                format('run CREATE EXTENSION pg_cron; and SELECT %s;', local_call)
            ELSE
                format('in database %s (cron.database_name) run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                       quote_ident(coalesce(current_setting('cron.database_name', true), 'postgres')),
                       job_name, schedule, command, current_database())
            END
        END
$$;
COMMENT ON FUNCTION nezuko_analytics.cron_schedule_hint(text, text, text, text) IS
  'The steps that schedule pg_cron job job_name (schedule, command) when pg_cron is not installed in this database: local_call where pg_cron can be installed here, else the cron.schedule_in_database() call for pg_cron''s database (naming that database only to a role that may read its settings).';

CREATE OR REPLACE FUNCTION nezuko_analytics.retention_schedule_hint(schedule text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nezuko_analytics.cron_schedule_hint(nezuko_analytics.retention_job_name(), schedule, 'CALL nezuko_analytics.prune()',
                                               format('nezuko_analytics.schedule_retention(%L)', schedule))
$$;
COMMENT ON FUNCTION nezuko_analytics.retention_schedule_hint(text) IS
  'The steps that schedule prune() when pg_cron is not installed in this database (cron_schedule_hint()).';


-- revert_schema() turns the rollups off first.
CREATE OR REPLACE FUNCTION nezuko_analytics.revert_schema()
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    change record;
    has_rows boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.apply_schema'));
    -- the rollups (native edition) first: their triggers are on the bot's tables
    IF to_regprocedure('nezuko_analytics.disable_rollups()') IS NOT NULL THEN
        RETURN QUERY EXECUTE 'SELECT * FROM nezuko_analytics.disable_rollups()';
    END IF;
    FOR change IN
        SELECT * FROM nezuko_analytics.schema_changes ORDER BY step DESC
    LOOP
        CASE change.change_kind
        WHEN 'create_index' THEN
            EXECUTE format('DROP INDEX IF EXISTS %I.%I', change.target_schema, change.object_name);
            RETURN NEXT format('dropped index %I.%I', change.target_schema, change.object_name);
        WHEN 'add_column' THEN
            IF nezuko_analytics.table_exists(change.target_schema, change.table_name) THEN
                EXECUTE format('ALTER TABLE %I.%I DROP COLUMN IF EXISTS %I',
                               change.target_schema, change.table_name, change.object_name);
            END IF;
            RETURN NEXT format('dropped column %I.%I.%I',
                               change.target_schema, change.table_name, change.object_name);
        WHEN 'create_table' THEN
            EXECUTE format('DROP TABLE IF EXISTS %I.%I', change.target_schema, change.table_name);
            RETURN NEXT format('dropped table %I.%I', change.target_schema, change.table_name);
        WHEN 'schedule_job' THEN
            IF nezuko_analytics.unschedule_retention() THEN
                RETURN NEXT format('unscheduled pg_cron job %s', change.object_name);
            END IF;
        WHEN 'grant_access' THEN
            PERFORM nezuko_analytics.revoke_dashboard_access(change.object_name);
            RETURN NEXT format('revoked the dashboard functions from %I', change.object_name);
        WHEN 'register_policy' THEN
            DELETE FROM nezuko_analytics.retention_policy WHERE table_name = change.object_name;
            RETURN NEXT format('removed retention policy: %s', change.object_name);
        WHEN 'create_base_table' THEN
            -- apply_schema() made it on a fresh database; once the bot has
            -- written to it, its rows are the bot's data and it stays.
            IF NOT nezuko_analytics.table_exists(change.target_schema, change.table_name) THEN
                CONTINUE;
            END IF;
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.%I)', change.target_schema, change.table_name)
                INTO has_rows;
            IF has_rows THEN
                RETURN NEXT format('kept table %I.%I (it holds the bot''s rows)',
                                   change.target_schema, change.table_name);
            ELSE
                BEGIN
                    EXECUTE format('DROP TABLE %I.%I', change.target_schema, change.table_name);
                    RETURN NEXT format('dropped table %I.%I (empty)', change.target_schema, change.table_name);
                EXCEPTION WHEN dependent_objects_still_exist THEN
                    RETURN NEXT format('kept table %I.%I (other objects depend on it)',
                                       change.target_schema, change.table_name);
                END;
            END IF;
        END CASE;
    END LOOP;
    DELETE FROM nezuko_analytics.schema_changes;
    DELETE FROM nezuko_analytics.schema_state;
    RETURN;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.revert_schema() IS
  'The spec''s downgrade: turns the rollups off where there are any (disable_rollups()), then undoes exactly what apply_schema() did (the pg_cron job, retention policies, spec indexes, spec columns, api_call_log when apply_schema() created it, and base tables it created that are still empty), in reverse order; keeps every row of the bot''s original columns.';

-- Rollups (docs/rollups.md): exact aggregates of the bot's log tables per
-- quarter hour of UTC, kept in real time by invalidation and kept past the
-- raw rows' retention.  The script creates the tables empty and config-dumped
-- (pg_dump saves their rows, a restore brings them back complete);
-- enable_rollups() fills them.

CREATE TABLE nezuko_analytics.rollup_state (
    source         text PRIMARY KEY CHECK (source IN ('verification_log', 'api_call_log')),
    keep           interval NOT NULL CHECK (keep > interval '0'),
    built_from     timestamptz NOT NULL,
    watermark      timestamptz NOT NULL,
    frozen_before  timestamptz NOT NULL DEFAULT '-infinity',
    enabled_at     timestamptz NOT NULL DEFAULT now(),
    last_refresh   timestamptz,
    last_refresh_ms float8,
    last_refresh_buckets bigint,
    CHECK (built_from <= watermark)
);
COMMENT ON TABLE nezuko_analytics.rollup_state IS
  'Per source table with rollups: how long they keep (keep), the quarter hours materialized ([built_from, watermark); later ones are read from the raw rows), the time before which they are frozen (frozen_before: the raw rows there may be pruned, so they are never computed again; it only moves forward), and the last refresh (when, how long, how many quarter hours). A row here means rollups are enabled for that table.';

CREATE TABLE nezuko_analytics.rollup_pending (
    source text NOT NULL CHECK (source IN ('verification_log', 'api_call_log')),
    bucket timestamptz NOT NULL
);
COMMENT ON TABLE nezuko_analytics.rollup_pending IS
  'Quarter hours whose raw rows changed since they were materialized (written by the rollup_invalidate() trigger in the writer''s transaction; -infinity after a TRUNCATE: all of them). Readers take such quarter hours from the raw rows; refresh_rollups() recomputes them and deletes the rows it saw. Append-only between refreshes: the same quarter hour may appear many times.';

CREATE TABLE nezuko_analytics.rollup_verifications (
    bucket        timestamptz PRIMARY KEY,
    total         bigint NOT NULL,
    verified      bigint NOT NULL,
    restricted    bigint NOT NULL,
    error         bigint NOT NULL,
    cached        bigint NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum   bigint NOT NULL,
    latencies     nezuko_analytics.latency_dist NOT NULL
);
COMMENT ON TABLE nezuko_analytics.rollup_verifications IS
  'verification_log per quarter hour of UTC (bucket is its start): rows, rows by status (verified, restricted, error) and cached, and the exact distribution of the non-NULL latencies with their count and sum. Quarter hours without rows have no row.';

CREATE TABLE nezuko_analytics.rollup_verification_groups (
    day      timestamptz NOT NULL,
    group_id bigint NOT NULL,
    total    bigint NOT NULL,
    verified bigint NOT NULL,
    PRIMARY KEY (day, group_id)
);
COMMENT ON TABLE nezuko_analytics.rollup_verification_groups IS
  'verification_log per UTC day and group (group_id NULL as 0): rows and verified rows, of the day''s materialized quarter hours. A coarser grain than the quarter hour: 2,000 active groups per quarter hour would make this table 96 times larger (docs/rollups.md).';

CREATE TABLE nezuko_analytics.rollup_api_calls (
    bucket        timestamptz NOT NULL,
    method        text NOT NULL,
    calls         bigint NOT NULL,
    ok            bigint NOT NULL,
    failures      bigint NOT NULL,
    latency_count bigint NOT NULL,
    latency_sum   bigint NOT NULL,
    latencies     nezuko_analytics.latency_dist NOT NULL,
    PRIMARY KEY (bucket, method)
);
COMMENT ON TABLE nezuko_analytics.rollup_api_calls IS
  'api_call_log per quarter hour of UTC and method (NULL as ''''): calls, successes (ok), failures, and the exact distribution of the non-NULL latencies with their count and sum.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_state', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_pending', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_verifications', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_verification_groups', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_api_calls', '');

CREATE FUNCTION nezuko_analytics.rollup_invalidate()
RETURNS trigger LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_rollup_invalidate';
COMMENT ON FUNCTION nezuko_analytics.rollup_invalidate() IS
  'Statement-level AFTER trigger of the log tables (arguments: source, time column): records the quarter hours of the statement''s old and new rows in rollup_pending (a TRUNCATE: -infinity), as rollup_pending''s owner in a security-restricted operation. Installed by enable_rollups().';

-- Filling and refreshing the rollups from the raw rows (docs/rollups.md).
-- Every quarter hour is computed from the raw rows at once, never patched:
-- a new one when the watermark passes it, a pending one again (after
-- deleting it).  Quarter hours older than the raw rows' retention are frozen:
-- their raw rows may be pruned, so they are never computed again.

CREATE FUNCTION nezuko_analytics.rollup_origin()
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
COMMENT ON FUNCTION nezuko_analytics.rollup_origin() IS
  'The origin of the rollups'' quarter hours and days (date_bin''s third argument): 2000-01-01 00:00 UTC, PostgreSQL''s own epoch.';

CREATE FUNCTION nezuko_analytics.rollup_raw_horizon(source text)
RETURNS timestamptz LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT now() - p.keep FROM nezuko_analytics.retention_policy p
                     WHERE p.table_name = rollup_raw_horizon.source AND p.enabled), '-infinity')
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_raw_horizon(text) IS
  'The time before which the raw rows of source may be pruned now (now() - its retention policy''s keep; -infinity without an enabled policy). Each refresh moves rollup_state.frozen_before up to it: rollup buckets that start before that are never computed again.';

-- The quarter-hour rollups of source's raw rows in [lo, hi) (quarter-hour
-- edges), each row replaced.
CREATE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF source = 'verification_log' THEN
        EXECUTE format($q$
            INSERT INTO nezuko_analytics.rollup_verifications AS r
                   (bucket, total, verified, restricted, error, cached, latency_count, latency_sum, latencies)
            SELECT date_bin('15 minutes', v."timestamp", $3), count(*),
                   count(*) FILTER (WHERE v.status = 'verified'), count(*) FILTER (WHERE v.status = 'restricted'),
                   count(*) FILTER (WHERE v.status = 'error'), count(*) FILTER (WHERE v.cached),
                   count(v.latency_ms), coalesce(sum(v.latency_ms), 0), nezuko_analytics.latency_dist(v.latency_ms)
            FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY 1
            ON CONFLICT (bucket) DO UPDATE SET total = excluded.total, verified = excluded.verified,
                restricted = excluded.restricted, error = excluded.error, cached = excluded.cached,
                latency_count = excluded.latency_count, latency_sum = excluded.latency_sum,
                latencies = excluded.latencies$q$, nezuko_analytics.bot_schema())
        USING lo, hi, nezuko_analytics.rollup_origin();
    ELSE
        EXECUTE format($q$
            INSERT INTO nezuko_analytics.rollup_api_calls AS r
                   (bucket, method, calls, ok, failures, latency_count, latency_sum, latencies)
            SELECT date_bin('15 minutes', a."timestamp", $3), coalesce(a.method::text, ''), count(*),
                   count(*) FILTER (WHERE a.success), count(*) FILTER (WHERE NOT a.success),
                   count(a.latency_ms), coalesce(sum(a.latency_ms), 0), nezuko_analytics.latency_dist(a.latency_ms)
            FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2
            GROUP BY 1, 2
            ON CONFLICT (bucket, method) DO UPDATE SET calls = excluded.calls, ok = excluded.ok,
                failures = excluded.failures, latency_count = excluded.latency_count,
                latency_sum = excluded.latency_sum, latencies = excluded.latencies$q$, nezuko_analytics.bot_schema())
        USING lo, hi, nezuko_analytics.rollup_origin();
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups, replacing the rows of those quarter hours that had one. Used by refresh_rollup_source().';

CREATE FUNCTION nezuko_analytics.rollup_add_groups(lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO nezuko_analytics.rollup_verification_groups AS g (day, group_id, total, verified)
        SELECT date_bin('1 day', v."timestamp", $3), coalesce(v.group_id::bigint, 0), count(*),
               count(*) FILTER (WHERE v.status = 'verified')
        FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2
        GROUP BY 1, 2
        ON CONFLICT (day, group_id) DO UPDATE SET total = g.total + excluded.total,
            verified = g.verified + excluded.verified$q$, nezuko_analytics.bot_schema())
    USING lo, hi, nezuko_analytics.rollup_origin();
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_add_groups(timestamptz, timestamptz) IS
  'Adds the verification_log rows in [lo, hi) to the per-day, per-group rollups (counts add up; the caller deletes a day it computes afresh). Used by refresh_rollup_source().';

CREATE FUNCTION nezuko_analytics.quarter_hour_ceil(t timestamptz)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN NOT isfinite(t) THEN t
                WHEN date_bin('15 minutes', t, nezuko_analytics.rollup_origin()) = t THEN t
                ELSE date_bin('15 minutes', t, nezuko_analytics.rollup_origin()) + interval '15 minutes' END
$$;
COMMENT ON FUNCTION nezuko_analytics.quarter_hour_ceil(timestamptz) IS
  'The first quarter-hour start at or after t (t itself when infinite).';

-- The pending quarter hours of source that can be computed again, as
-- maximal runs [lo, hi): not frozen, below the watermark (later ones are
-- materialized when the watermark passes them).  A TRUNCATE (-infinity)
-- makes every such quarter hour pending.
CREATE FUNCTION nezuko_analytics.rollup_pending_runs(buckets timestamptz[], horizon timestamptz,
                                                     built_from timestamptz, watermark timestamptz)
RETURNS TABLE (lo timestamptz, hi timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH b AS (
        SELECT q AS bucket FROM unnest(buckets) q
        WHERE q <> '-infinity' AND q >= horizon AND q < watermark
        UNION
        SELECT generate_series(greatest(built_from, nezuko_analytics.quarter_hour_ceil(horizon)),
                               watermark - interval '15 minutes', interval '15 minutes')
        WHERE '-infinity' = ANY (buckets))
    SELECT min(bucket), max(bucket) + interval '15 minutes'
    FROM (SELECT bucket, bucket - (row_number() OVER (ORDER BY bucket))::integer * interval '15 minutes' AS run FROM b) r
    GROUP BY run ORDER BY 1
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_pending_runs(timestamptz[], timestamptz, timestamptz, timestamptz) IS
  'The pending quarter hours (their starts; -infinity after a TRUNCATE: all) that refresh_rollup_source() computes again, as maximal runs [lo, hi): from the raw horizon on (older ones are frozen) and below the watermark.';

CREATE FUNCTION nezuko_analytics.refresh_rollup_source(source text, deadline timestamptz, report boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    horizon timestamptz;
    target timestamptz := date_bin('15 minutes', now(), nezuko_analytics.rollup_origin());
    seen tid[];
    buckets timestamptz[];
    run record;
    day_start timestamptz;
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
        IF source = 'verification_log' THEN
            DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        ELSE
            DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        END IF;
        PERFORM nezuko_analytics.rollup_materialize(source, run.lo, run.hi);
        IF source = 'verification_log' THEN
            -- each day the run touches, whole (up to the watermark), unless frozen
            FOR day_start IN SELECT d FROM generate_series(date_bin('1 day', run.lo, nezuko_analytics.rollup_origin()),
                                                     run.hi - interval '1 microsecond', interval '24 hours') d
                       WHERE d >= horizon
            LOOP
                DELETE FROM nezuko_analytics.rollup_verification_groups g WHERE g.day = day_start;
                PERFORM nezuko_analytics.rollup_add_groups(day_start, least(day_start + interval '24 hours', st.watermark));
            END LOOP;
        END IF;
        st.built_from := least(st.built_from, run.lo);
        n := n + ((extract(epoch FROM run.hi - run.lo) / 900)::bigint);
    END LOOP;
    -- 3. New quarter hours, from the watermark up to the current one (which is
    -- still filling), one day at a time until the deadline.
    WHILE st.watermark < target LOOP
        EXIT WHEN n > 0 AND clock_timestamp() >= deadline;
        chunk_end := least(target, date_bin('1 day', st.watermark, nezuko_analytics.rollup_origin()) + interval '24 hours');
        PERFORM nezuko_analytics.rollup_materialize(source, st.watermark, chunk_end);
        IF source = 'verification_log' THEN
            PERFORM nezuko_analytics.rollup_add_groups(st.watermark, chunk_end);
        END IF;
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
        DELETE FROM nezuko_analytics.rollup_verification_groups g WHERE g.day < now() - st.keep;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket < now() - st.keep;
    END IF;
    UPDATE nezuko_analytics.rollup_state s
       SET built_from = greatest(st.built_from, least(st.watermark, nezuko_analytics.quarter_hour_ceil(now() - st.keep))),
           watermark = st.watermark, frozen_before = horizon
     WHERE s.source = refresh_rollup_source.source;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark (and, for verification_log, the group days they touch) unless frozen, materializes new quarter hours a day at a time up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep; returns how many quarter hours it computed. NOTICEs of progress when report.';

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
    src text;
    n bigint := 0;
    per_source bigint;
BEGIN
    IF max_runtime IS NULL OR max_runtime <= interval '0' THEN
        RAISE EXCEPTION 'refresh_rollups: max_runtime must be a positive interval, not %', coalesce(max_runtime::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM nezuko_analytics.rollup_state) THEN
        RAISE EXCEPTION 'refresh_rollups: rollups are not enabled in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run SELECT * FROM nezuko_analytics.enable_rollups(); first.';
    END IF;
    -- One refresh at a time; the job runs every minute, so a second one skips.
    IF NOT pg_try_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups')) THEN
        RAISE NOTICE 'refresh_rollups: another refresh is running; this one skipped';
        RETURN 0;
    END IF;
    PERFORM nezuko_analytics.require_rollup_read(s.source) FROM nezuko_analytics.rollup_state s;
    FOR src IN SELECT s.source FROM nezuko_analytics.rollup_state s ORDER BY 1 LOOP
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
  'Brings the rollups up to date: computes again the pending quarter hours (not the frozen ones, older than the raw retention), materializes the new ones up to the current quarter hour a day at a time until max_runtime (the next run resumes from the watermark), and drops rollups older than keep; returns how many quarter hours it computed. A second concurrent call skips with a NOTICE and returns 0. The pg_cron job nezuko_analytics_rollups runs it every minute.';

CREATE FUNCTION nezuko_analytics.require_rollup_read(source text)
RETURNS regclass LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass := to_regclass(format('%I.%I', nezuko_analytics.bot_schema(), source));
BEGIN
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

CREATE FUNCTION nezuko_analytics.enable_rollups(keep interval DEFAULT '400 days')
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
BEGIN
    IF keep IS NULL OR keep <= interval '0' THEN
        RAISE EXCEPTION 'enable_rollups: keep must be a positive interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
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
        IF EXISTS (SELECT 1 FROM nezuko_analytics.rollup_state s WHERE s.source = src) THEN
            UPDATE nezuko_analytics.rollup_state s SET keep = enable_rollups.keep
            WHERE s.source = src AND s.keep IS DISTINCT FROM enable_rollups.keep;
            IF FOUND THEN
                RETURN NEXT format('rollups of %s now keep %s', src, keep);
            END IF;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT min("timestamp") FROM %s WHERE "timestamp" > ''-infinity''', target) INTO oldest;
        oldest := date_bin('15 minutes', least(coalesce(oldest, now()), now()), nezuko_analytics.rollup_origin());
        INSERT INTO nezuko_analytics.rollup_state (source, keep, built_from, watermark) VALUES (src, keep, oldest, oldest);
        DELETE FROM nezuko_analytics.rollup_pending p WHERE p.source = src;
        n := nezuko_analytics.refresh_rollup_source(src, 'infinity', true);
        RETURN NEXT format('built rollups of %s: %s quarter hours from %s', src, n, oldest);
    END LOOP;
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
COMMENT ON FUNCTION nezuko_analytics.enable_rollups(keep interval) IS
  'Turns rollups on for verification_log and api_call_log: puts the invalidation triggers on both (statement level, transition tables), builds the rollups from the existing rows a day at a time (NOTICEs report progress), and schedules pg_cron job nezuko_analytics_rollups every minute where pg_cron is installed (else a NOTICE says how). Rollups keep keep (default 400 days) of history, past the raw rows'' retention. Idempotent: a second call only changes keep. Run it as the tables'' owner; it holds a lock that makes the bot''s writes wait until it commits.';

CREATE FUNCTION nezuko_analytics.disable_rollups()
RETURNS SETOF text LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text;
    target regclass;
    t record;
    job bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups'));
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user' INTO job
            USING nezuko_analytics.rollups_job_name();
        IF job IS NOT NULL THEN
            EXECUTE 'SELECT cron.unschedule($1)' USING job;
            RETURN NEXT format('unscheduled pg_cron job %s', nezuko_analytics.rollups_job_name());
        END IF;
    END IF;
    FOREACH src IN ARRAY ARRAY['verification_log', 'api_call_log'] LOOP
        -- (no schema recorded: apply_schema() never ran or was reverted; no triggers)
        SELECT to_regclass(format('%I.%I', s.target_schema, src)) INTO target FROM nezuko_analytics.schema_state s;
        CONTINUE WHEN target IS NULL;
        FOR t IN SELECT * FROM nezuko_analytics.rollup_trigger_names() LOOP
            CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = target AND g.tgname = t.trigger_name);
            EXECUTE format('DROP TRIGGER %I ON %s', t.trigger_name, target);
            RETURN NEXT format('dropped trigger %I on %s', t.trigger_name, target);
        END LOOP;
    END LOOP;
    IF EXISTS (SELECT 1 FROM nezuko_analytics.rollup_state) THEN
        DELETE FROM nezuko_analytics.rollup_verifications;
        DELETE FROM nezuko_analytics.rollup_verification_groups;
        DELETE FROM nezuko_analytics.rollup_api_calls;
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
               last_refresh timestamptz, last_refresh_ms float8, last_refresh_buckets bigint, rollup_rows bigint, rollup_bytes bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source, s.keep, s.built_from, s.watermark, s.frozen_before,
           (SELECT count(DISTINCT p.bucket) FROM nezuko_analytics.rollup_pending p WHERE p.source = s.source),
           s.last_refresh, s.last_refresh_ms, s.last_refresh_buckets,
           CASE s.source
               WHEN 'verification_log' THEN (SELECT count(*) FROM nezuko_analytics.rollup_verifications)
                                            + (SELECT count(*) FROM nezuko_analytics.rollup_verification_groups)
               ELSE (SELECT count(*) FROM nezuko_analytics.rollup_api_calls) END,
           CASE s.source
               WHEN 'verification_log' THEN pg_total_relation_size('nezuko_analytics.rollup_verifications')
                                            + pg_total_relation_size('nezuko_analytics.rollup_verification_groups')
               ELSE pg_total_relation_size('nezuko_analytics.rollup_api_calls') END
    FROM nezuko_analytics.rollup_state s
    ORDER BY s.source
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_status() IS
  'Per table with rollups: keep, the materialized range [materialized_from, watermark) (later quarter hours are read raw), frozen_before (older quarter hours are never computed again: history kept past the raw rows), how many distinct quarter hours are pending (-infinity after a TRUNCATE counts as one), the last refresh (when, milliseconds, quarter hours computed), and the rollups'' rows and bytes (verification_log: quarter-hour and group-day tables together).';

REVOKE EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.disable_rollups() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.refresh_rollups(interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_add_groups(timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_invalidate() FROM PUBLIC;
-- The installing role runs the rollups (as it runs retention): the API, and
-- the tables they write.  The bot's writers need nothing: the trigger writes
-- rollup_pending as its owner.
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.rollup_state, nezuko_analytics.rollup_pending,
      nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_verification_groups,
      nezuko_analytics.rollup_api_calls TO @extowner@;
GRANT EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval), nezuko_analytics.disable_rollups(),
      nezuko_analytics.refresh_rollups(interval), nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean),
      nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_add_groups(timestamptz, timestamptz), nezuko_analytics.rollup_invalidate() TO @extowner@;

