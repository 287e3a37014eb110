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


-- One way to remove a job of ours (retention's, the rollups'): unschedule_job().
-- Removing a job of ours (retention's, the rollups'): only the current
-- role's job of that name, so another role's job is never touched.
CREATE FUNCTION nezuko_analytics.unschedule_job(job_name text)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    IF to_regclass('cron.job') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND username = current_user' INTO job USING job_name;
    IF job IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT cron.unschedule($1)' USING job;
    RETURN true;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.unschedule_job(text) IS
  'Removes the current role''s pg_cron job job_name; false when there was none (or pg_cron is not here).';

CREATE OR REPLACE FUNCTION nezuko_analytics.unschedule_retention()
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.unschedule_job(nezuko_analytics.retention_job_name()) $$;
COMMENT ON FUNCTION nezuko_analytics.unschedule_retention() IS
  'Removes the pg_cron job nezuko_analytics_retention; false when there was none (or pg_cron is not here).';

REVOKE EXECUTE ON FUNCTION nezuko_analytics.unschedule_job(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.unschedule_job(text) TO @extowner@;

-- window_summary() reads the rollups where it can.
CREATE OR REPLACE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
                                                top_groups integer DEFAULT 10, recent_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    v := nezuko_analytics.window_summary_rollups(since, until, tz, top_groups, recent_since);
    IF v IS NOT NULL THEN
        RETURN v;
    END IF;
    EXECUTE format('SELECT nezuko_analytics.verification_summary(v."timestamp", v.status::text, v.latency_ms, v.cached,'
                   ' v.group_id::bigint, $3, $4, $5)::jsonb FROM %I.verification_log v'
                   ' WHERE v."timestamp" >= $1 AND v."timestamp" < $2', nezuko_analytics.bot_schema())
        INTO v USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The one-pass summary of verification_log in [since, until) with local hours and days in tz (one scan, or the rollups and the raw rows they leave: window_summary_rollups()), every figure by name (docs/dashboard.md); shared by dashboard() and the trend contracts.';

-- api_window_summary() reads the rollups where it can.
CREATE OR REPLACE FUNCTION nezuko_analytics.api_window_summary(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb;
BEGIN
    a := nezuko_analytics.api_window_summary_rollups(bot, since, until);
    IF a IS NOT NULL THEN
        RETURN a;
    END IF;
    EXECUTE format('SELECT nezuko_analytics.api_summary(a.method::text, a.success, a.latency_ms)::jsonb'
                   ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', bot)
        INTO a USING since, until;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary(name, timestamptz, timestamptz) IS
  'The one-pass summary of bot.api_call_log in [since, until) (or the rollups and the raw rows they leave: api_window_summary_rollups()), every figure by name (docs/dashboard.md): calls, ok, failures, latency_count, latency_sum, exact p95, and per method (most calls first) the same with p50. Used by dashboard().';

-- analytics_overview() reads its counts through verification_counts_scan().
CREATE OR REPLACE FUNCTION nezuko_analytics.analytics_overview(since timestamptz, until timestamptz)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    v record;
    n bigint;
    ok bigint;
    hits bigint;
    latency_rows bigint;
    latency_sum bigint;
    result json;
BEGIN
    -- the counts each edition reads its own way (the native one from rollups where it can)
    v := nezuko_analytics.verification_counts_scan(bot, coalesce(since, '-infinity'), coalesce(until, 'infinity'), 'infinity',
                                                   true, true, true);
    n := v.total; ok := v.verified; hits := v.cached; latency_rows := v.latency_rows; latency_sum := v.latency_sum;
    IF until IS NULL THEN  -- no end: rows at +infinity count too
        EXECUTE format('SELECT $1 + count(*), $2 + count(*) FILTER (WHERE status = ''verified''),'
                       ' $3 + count(*) FILTER (WHERE cached), $4 + count(latency_ms), $5 + coalesce(sum(latency_ms), 0)'
                       ' FROM %I.verification_log WHERE "timestamp" = ''infinity''', bot)
            INTO n, ok, hits, latency_rows, latency_sum USING n, ok, hits, latency_rows, latency_sum;
    END IF;
    EXECUTE format($q$
        SELECT json_build_object(
            'total_verifications', $1,
            'total_groups', (SELECT count(*) FROM %1$I.protected_groups),
            'total_channels', (SELECT count(*) FROM %1$I.enforced_channels),
            'success_rate', nezuko_analytics.percent($2, $1),
            'avg_latency_ms', coalesce(round($4::numeric / nullif($3, 0), 0), 0),
            'cache_hit_rate', nezuko_analytics.percent($5, $1))$q$, bot)
        INTO result USING n, ok, latency_rows, latency_sum, hits;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.analytics_overview(timestamptz, timestamptz) IS
  'The body of get_analytics_overview, from verification_counts_scan(); NULL bounds mean all time (an open end counts rows at +infinity too).';

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

-- verification_counts(), api_counts() and group_counts() read the rollups where they can;
-- their old bodies are the *_raw() functions.
CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.verification_counts_rollups(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n.total IS NULL THEN  -- the rollups give nothing here
        n := nezuko_analytics.verification_counts_raw(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
    total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
    error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'The counts of verification_log over [since, until) (total, today_count at or after today, by status, cached, latency rows and sum): from the rollups where they serve (verification_counts_rollups()), else verification_counts_raw().';

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts_raw(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- an expression, not a query: no SPI round trip for a call that takes microseconds
    n record := nezuko_analytics.native_verification_counts(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n IS NOT NULL THEN
        total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
        error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
    ELSE  -- the native read stepped aside
        SELECT * INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
        FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_raw(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'native_verification_counts(), or the same record from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.api_counts_rollups(bot, since, until) n;
    IF methods IS NULL THEN  -- the rollups give nothing here
        SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.api_counts_raw(bot, since, until) n;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts(name, timestamptz, timestamptz) IS
  'Calls and successful calls by method of api_call_log over [since, until): from the rollups where they serve (api_counts_rollups()), else api_counts_raw().';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_counts_raw(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.native_api_counts(bot, since, until) n;
    IF methods IS NULL THEN
        SELECT * INTO methods, calls, ok FROM nezuko_analytics.api_counts_query(bot, since, until);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_raw(name, timestamptz, timestamptz) IS
  'native_api_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_rollups(bot, since, until, top) n;
    IF group_ids IS NULL THEN  -- the rollups give nothing here
        SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_raw(bot, since, until, top) n;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts(name, timestamptz, timestamptz, integer) IS
  'The top groups by verifications over [since, until) (ties by group_id) with their verified ones: from the rollups where they serve (group_counts_rollups()), else group_counts_raw().';

CREATE OR REPLACE FUNCTION nezuko_analytics.group_counts_raw(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.native_group_counts(bot, since, until, top) n;
    IF group_ids IS NULL THEN
        SELECT * INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_query(bot, since, until, top);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_raw(name, timestamptz, timestamptz, integer) IS
  'native_group_counts(), or the same arrays from one query when the native path may not read the table.';


-- hour_counts() takes the hours of the rollups' summary where it can.
CREATE OR REPLACE FUNCTION nezuko_analytics.hour_counts(bot name, since timestamptz, until timestamptz, tz text)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hours jsonb;
BEGIN
    -- the rollups' summary holds the same hours (window_summary_rollups());
    -- it refuses a negative latency, which the hours never read: then raw
    BEGIN
        hours := nezuko_analytics.window_summary_rollups(since, until, tz, 1, NULL)->'hours';
    EXCEPTION WHEN invalid_parameter_value THEN
        hours := NULL;
    END;
    IF hours IS NOT NULL THEN
        RETURN hours;
    END IF;
    EXECUTE format('SELECT nezuko_analytics.hourly_status_counts(v."timestamp", v.status::text, $3)::jsonb'
                   ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2', bot)
        INTO hours USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz);
    RETURN hours;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts(name, timestamptz, timestamptz, text) IS
  'Engine of hourly_activity(): [{hour 0-23, verified, restricted, error}] for all 24 local hours (tz) of bot.verification_log rows in [since, until) with a finite time, as hourly_status_counts() gives them (or the hours of window_summary_rollups() where the rollups serve).';


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
-- deleting it).  Quarter hours before the cutoff of a prune() are frozen:
-- their raw rows are gone or going, so they are never computed again.

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
    SELECT coalesce(max(r.cutoff), '-infinity') FROM nezuko_analytics.retention_runs r
    WHERE r.table_name = rollup_raw_horizon.source
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_raw_horizon(text) IS
  'The time before which prune() has deleted, or is deleting, raw rows of source: the latest cutoff of its runs (logged before its first batch commits); -infinity before any. Each refresh moves rollup_state.frozen_before up to it: rollup buckets that start before that are never computed again.';

CREATE FUNCTION nezuko_analytics.time_floor(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN isfinite(t) THEN date_bin(stride, t, nezuko_analytics.rollup_origin()) ELSE t END $$;
COMMENT ON FUNCTION nezuko_analytics.time_floor(timestamptz, interval) IS
  'The start of the quarter hour (stride 15 minutes) or UTC day (24 hours) that holds t; t itself when infinite. (Strides in hours and minutes: adding a day to a timestamptz follows the session''s time zone.)';

CREATE FUNCTION nezuko_analytics.time_ceil(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN nezuko_analytics.time_floor(t, stride) = t THEN t
                ELSE nezuko_analytics.time_floor(t, stride) + stride END
$$;
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

CREATE TYPE nezuko_analytics.verification_rollup_rows AS (
    quarter_hours nezuko_analytics.rollup_verifications[],
    group_days nezuko_analytics.rollup_verification_groups[]
);
COMMENT ON TYPE nezuko_analytics.verification_rollup_rows IS
  'The result of verification_rollup_rows: the rows of rollup_verifications and of rollup_verification_groups that one pass built.';

CREATE FUNCTION nezuko_analytics.verification_rollup_rows_add(internal, timestamptz, text, integer, boolean, bigint)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vrollup_rows_add';
CREATE FUNCTION nezuko_analytics.verification_rollup_rows_final(internal)
RETURNS nezuko_analytics.verification_rollup_rows LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vrollup_rows_final';
COMMENT ON FUNCTION nezuko_analytics.verification_rollup_rows_add(internal, timestamptz, text, integer, boolean, bigint) IS
  'Transition function of verification_rollup_rows.';
COMMENT ON FUNCTION nezuko_analytics.verification_rollup_rows_final(internal) IS
  'Final function of verification_rollup_rows: both arrays of rows, by name.';
CREATE AGGREGATE nezuko_analytics.verification_rollup_rows("timestamp" timestamptz, status text, latency_ms integer,
                                                           cached boolean, group_id bigint) (
    SFUNC = nezuko_analytics.verification_rollup_rows_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_rollup_rows_final,
    COMBINEFUNC = nezuko_analytics.rollup_build_combine,
    SERIALFUNC = nezuko_analytics.rollup_build_serialize,
    DESERIALFUNC = nezuko_analytics.rollup_build_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_rollup_rows(timestamptz, text, integer, boolean, bigint) IS
  'The rollup rows of the verification_log rows aggregated (rows without a finite time skipped), in one pass: quarter_hours (per quarter hour of UTC, the counts and the latency_dist) and group_days (per UTC day and group, NULL as 0). Parallel safe; memory grows with the latencies (4 bytes each) until the end.';

CREATE FUNCTION nezuko_analytics.verification_group_days_add(internal, timestamptz, bigint, text)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vgroup_days_add';
CREATE FUNCTION nezuko_analytics.verification_group_days_final(internal)
RETURNS nezuko_analytics.rollup_verification_groups[] LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vgroup_days_final';
COMMENT ON FUNCTION nezuko_analytics.verification_group_days_add(internal, timestamptz, bigint, text) IS
  'Transition function of verification_group_days.';
COMMENT ON FUNCTION nezuko_analytics.verification_group_days_final(internal) IS
  'Final function of verification_group_days: the rows, in order.';
CREATE AGGREGATE nezuko_analytics.verification_group_days("timestamp" timestamptz, group_id bigint, status text) (
    SFUNC = nezuko_analytics.verification_group_days_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_group_days_final,
    COMBINEFUNC = nezuko_analytics.rollup_build_combine,
    SERIALFUNC = nezuko_analytics.rollup_build_serialize,
    DESERIALFUNC = nezuko_analytics.rollup_build_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_group_days(timestamptz, bigint, text) IS
  'The rollup_verification_groups rows of the rows aggregated (rows without a finite time skipped): per UTC day and group (NULL as 0), rows and verified rows.';

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

-- The rollup rows of source's raw rows in [lo, hi), read by a set-returning
-- function: its RETURN QUERY may run the scan in parallel (a query with an
-- INSERT, or EXECUTE ... INTO, never does).
CREATE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz)
RETURNS TABLE (verification nezuko_analytics.verification_rollup_rows, api nezuko_analytics.rollup_api_calls[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF source = 'verification_log' THEN
        RETURN QUERY EXECUTE format(
            'SELECT nezuko_analytics.verification_rollup_rows(v."timestamp", v.status::text, v.latency_ms, v.cached,'
            ' v.group_id::bigint), NULL::nezuko_analytics.rollup_api_calls[]'
            ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2', nezuko_analytics.bot_schema())
            USING lo, hi;
    ELSE
        RETURN QUERY EXECUTE format(
            'SELECT NULL::nezuko_analytics.verification_rollup_rows,'
            ' nezuko_analytics.api_quarter_hours(a."timestamp", a.method::text, a.success, a.latency_ms)'
            ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', nezuko_analytics.bot_schema())
            USING lo, hi;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one scan (parallel where the planner likes): verification (verification_rollup_rows) or api (api_quarter_hours). Used by rollup_materialize().';

-- The quarter-hour rollups of source's raw rows in [lo, hi) (quarter-hour
-- edges), each row replaced; with_groups also adds the rows to the group days.
CREATE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz, with_groups boolean)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    built record;
BEGIN
    SELECT * INTO built FROM nezuko_analytics.rollup_build(source, lo, hi);
    IF source = 'verification_log' THEN
        INSERT INTO nezuko_analytics.rollup_verifications AS r
        SELECT (x).* FROM unnest((built.verification).quarter_hours) x
        ON CONFLICT (bucket) DO UPDATE SET total = excluded.total, verified = excluded.verified,
            restricted = excluded.restricted, error = excluded.error, cached = excluded.cached,
            latency_count = excluded.latency_count, latency_sum = excluded.latency_sum, latencies = excluded.latencies;
        IF with_groups THEN
            INSERT INTO nezuko_analytics.rollup_verification_groups AS g
            SELECT (x).* FROM unnest((built.verification).group_days) x
            ON CONFLICT (day, group_id) DO UPDATE SET total = g.total + excluded.total,
                verified = g.verified + excluded.verified;
        END IF;
    ELSE
        INSERT INTO nezuko_analytics.rollup_api_calls AS r
        SELECT (x).* FROM unnest(built.api) x
        ON CONFLICT (bucket, method) DO UPDATE SET calls = excluded.calls, ok = excluded.ok,
            failures = excluded.failures, latency_count = excluded.latency_count,
            latency_sum = excluded.latency_sum, latencies = excluded.latencies;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz, boolean) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups in one scan (rollup_build()), replacing the rows of those quarter hours that had one; with_groups (verification_log) also adds the rows to the group days. Used by refresh_rollup_source().';

CREATE FUNCTION nezuko_analytics.rollup_add_groups(lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO nezuko_analytics.rollup_verification_groups AS g
        SELECT (x).* FROM (SELECT unnest(nezuko_analytics.verification_group_days(v."timestamp", v.group_id::bigint,
                                                                                   v.status::text)) AS x
                           FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2) u
        ON CONFLICT (day, group_id) DO UPDATE SET total = g.total + excluded.total,
            verified = g.verified + excluded.verified$q$, nezuko_analytics.bot_schema())
    USING lo, hi;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_add_groups(timestamptz, timestamptz) IS
  'Adds the verification_log rows in [lo, hi) to the per-day, per-group rollups (counts add up; the caller deletes a day it computes afresh). Used by refresh_rollup_source().';

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
    WITH everything AS (  -- after a TRUNCATE: one run from the horizon (rounded up) to the watermark
        SELECT greatest(built_from, nezuko_analytics.time_ceil(horizon, interval '15 minutes')) AS lo, watermark AS hi
        WHERE '-infinity' = ANY (buckets)),
    b AS (
        SELECT DISTINCT q AS bucket FROM unnest(buckets) q
        WHERE q <> '-infinity' AND q >= horizon AND q < watermark
          AND NOT EXISTS (SELECT 1 FROM everything e WHERE q >= e.lo))
    SELECT min(bucket), max(bucket) + interval '15 minutes'
    FROM (SELECT bucket, bucket - (row_number() OVER (ORDER BY bucket))::integer * interval '15 minutes' AS run FROM b) r
    GROUP BY run
    UNION ALL
    SELECT e.lo, e.hi FROM everything e WHERE e.lo < e.hi
    ORDER BY 1
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
    target timestamptz := nezuko_analytics.time_floor(now(), interval '15 minutes');
    seen tid[];
    buckets timestamptz[];
    run record;
    day_start timestamptz;
    day_end timestamptz;
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
        IF source = 'verification_log' THEN
            DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        ELSE
            DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        END IF;
        PERFORM nezuko_analytics.rollup_materialize(source, run.lo, run.hi, false);
        IF source = 'verification_log' THEN
            -- every day the run touches, whole (up to the watermark), unless frozen
            day_start := greatest(nezuko_analytics.time_floor(run.lo, interval '24 hours'),
                                  nezuko_analytics.time_ceil(horizon, interval '24 hours'));
            day_end := nezuko_analytics.time_ceil(run.hi, interval '24 hours');
            IF day_start < day_end THEN
                DELETE FROM nezuko_analytics.rollup_verification_groups g WHERE g.day >= day_start AND g.day < day_end;
                PERFORM nezuko_analytics.rollup_add_groups(day_start, least(day_end, st.watermark));
            END IF;
        END IF;
        st.built_from := least(st.built_from, run.lo);
        n := n + ((extract(epoch FROM run.hi - run.lo) / 900)::bigint);
    END LOOP;
    -- 3. New quarter hours, from the watermark up to the current one (which is
    -- still filling), in chunks of whole days until the deadline: as many
    -- days as hold about 20 million rows by the table's statistics (the build
    -- keeps 4 bytes per latency until a chunk ends), at least one.
    SELECT greatest(1, least(3660, floor(2e7 / greatest(1, c.reltuples
                                                            / greatest(1, extract(epoch FROM target - st.built_from) / 86400)))))::integer
      INTO chunk_days
    FROM pg_class c WHERE c.oid = nezuko_analytics.rollup_source_table(source);
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
        PERFORM nezuko_analytics.rollup_materialize(source, st.watermark, chunk_end, true);
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
       SET built_from = greatest(st.built_from, least(st.watermark, nezuko_analytics.time_ceil(now() - st.keep, interval '15 minutes'))),
           watermark = st.watermark, frozen_before = horizon
     WHERE s.source = refresh_rollup_source.source;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark (and, for verification_log, the group days they touch) unless frozen, materializes new quarter hours in chunks of whole days (about 20 million rows each) up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep; returns how many quarter hours it computed. NOTICEs of progress when report.';

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
    PERFORM nezuko_analytics.bot_schema();  -- its ERROR when apply_schema() has not been run
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
        oldest := nezuko_analytics.time_floor(least(coalesce(oldest, now()), now()), interval '15 minutes');
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
  'Turns rollups on for verification_log and api_call_log: puts the invalidation triggers on both (statement level, transition tables), builds the rollups from the existing rows in one scan per chunk of whole days (about 20 million rows; NOTICEs report progress), and schedules pg_cron job nezuko_analytics_rollups every minute where pg_cron is installed (else a NOTICE says how). Rollups keep keep (default 400 days) of history, past the raw rows'' retention. Idempotent: a second call only changes keep. Run it as the tables'' owner; it holds a lock that makes the bot''s writes wait until it commits.';

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
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_add_groups(timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_invalidate() FROM PUBLIC;
-- The installing role runs the rollups (as it runs retention): the API, and
-- the tables they write.  The bot's writers need nothing: the trigger writes
-- rollup_pending as its owner.
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.rollup_state, nezuko_analytics.rollup_pending,
      nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_verification_groups,
      nezuko_analytics.rollup_api_calls TO @extowner@;
GRANT EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval), nezuko_analytics.disable_rollups(),
      nezuko_analytics.refresh_rollups(interval), nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean),
      nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_add_groups(timestamptz, timestamptz), nezuko_analytics.rollup_build(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_invalidate() TO @extowner@;

-- Reading a window from rollups and raw rows (docs/rollups.md): the quarter
-- hours (and group days) that are materialized and not pending come from the
-- rollups; the rest of the window (its partial quarter hours at the edges,
-- what is after the watermark, pending quarter hours, the quarter hour that
-- recent_since cuts) from the raw rows, in the same snapshot.  The result
-- equals the raw rows' alone: nezuko_analytics.use_rollups = off reads those.

CREATE FUNCTION nezuko_analytics.use_rollups()
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(current_setting('nezuko_analytics.use_rollups', true), 'on')::boolean $$;
COMMENT ON FUNCTION nezuko_analytics.use_rollups() IS
  'The setting nezuko_analytics.use_rollups (default on): off makes every reader use the raw rows only.';

-- Rollups count every row of the bot's table: a role reads them only where
-- it reads every row itself (SELECT, no row-level security for it) and may
-- read the rollup tables (granted to the installing role; grant SELECT on
-- them to others that read all rows, such as Supabase's service_role).
CREATE FUNCTION nezuko_analytics.rollups_readable(source text)
RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass := nezuko_analytics.rollup_source_table(source);
BEGIN
    RETURN target IS NOT NULL
       AND has_table_privilege(target, 'SELECT') AND NOT row_security_active(target)
       AND has_table_privilege('nezuko_analytics.rollup_state', 'SELECT')
       AND has_table_privilege('nezuko_analytics.rollup_pending', 'SELECT')
       AND has_table_privilege(CASE source WHEN 'verification_log' THEN 'nezuko_analytics.rollup_verifications'
                                           ELSE 'nezuko_analytics.rollup_api_calls' END, 'SELECT')
       AND (source <> 'verification_log' OR has_table_privilege('nezuko_analytics.rollup_verification_groups', 'SELECT'));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollups_readable(text) IS
  'Whether the current role may read source through its rollups: it reads every row of the bot''s table itself (SELECT, no row-level security for it) and may read the rollup tables. Otherwise its readers read the raw rows (with their row-level security).';

-- What a reader of [since, until) takes from the rollups of source, and
-- which ranges of raw rows it reads besides.
CREATE FUNCTION nezuko_analytics.rollup_plan(source text, since timestamptz, until timestamptz,
                                             recent_since timestamptz DEFAULT NULL,
                                             OUT usable boolean,
                                             OUT qh_lo timestamptz, OUT qh_hi timestamptz, OUT skip_qh timestamptz[],
                                             OUT day_lo timestamptz, OUT day_hi timestamptz, OUT groups_hi timestamptz,
                                             OUT skip_days timestamptz[],
                                             OUT raw_lo timestamptz[], OUT raw_hi timestamptz[],
                                             OUT figures_lo timestamptz[], OUT figures_hi timestamptz[],
                                             OUT groups_lo timestamptz[], OUT groups_hi_ranges timestamptz[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    pending timestamptz[];
    all_pending boolean;
    q interval := interval '15 minutes';
    d interval := interval '24 hours';
BEGIN
    usable := false;
    -- cheapest first: a reader without rollups pays two lookups
    IF NOT nezuko_analytics.use_rollups() OR NOT has_table_privilege('nezuko_analytics.rollup_state', 'SELECT') THEN
        RETURN;
    END IF;
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = rollup_plan.source;
    IF NOT FOUND OR NOT nezuko_analytics.rollups_readable(source) THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT p.bucket), '{}') INTO pending
    FROM nezuko_analytics.rollup_pending p WHERE p.source = rollup_plan.source;
    all_pending := '-infinity' = ANY (pending);
    -- Quarter hours: inside the window, materialized, and (unless frozen)
    -- not pending; after a TRUNCATE only the frozen ones.
    qh_lo := greatest(nezuko_analytics.time_ceil(since, q), st.built_from);
    qh_hi := least(nezuko_analytics.time_floor(until, q), st.watermark);
    IF all_pending THEN
        qh_hi := least(qh_hi, nezuko_analytics.time_ceil(st.frozen_before, q));
    END IF;
    IF qh_hi <= qh_lo THEN
        RETURN;  -- nothing to take from the rollups
    END IF;
    usable := true;
    skip_qh := ARRAY(SELECT b FROM unnest(pending) b
                     WHERE b >= qh_lo AND b < qh_hi AND b >= st.frozen_before ORDER BY b);
    IF recent_since > qh_lo AND recent_since < qh_hi AND nezuko_analytics.time_floor(recent_since, q) <> recent_since THEN
        skip_qh := skip_qh || nezuko_analytics.time_floor(recent_since, q);  -- counted partly as recent
    END IF;
    -- Group days (verification_log): whole days inside the window up to the
    -- watermark (a day's rollup covers it up to the watermark), not pending
    -- unless frozen.
    day_lo := greatest(nezuko_analytics.time_ceil(since, d), nezuko_analytics.time_floor(st.built_from, d));
    day_hi := CASE WHEN until >= st.watermark THEN nezuko_analytics.time_ceil(st.watermark, d)
                   ELSE nezuko_analytics.time_floor(until, d) END;
    IF all_pending THEN
        day_hi := least(day_hi, nezuko_analytics.time_ceil(st.frozen_before, d));
    END IF;
    IF day_hi <= day_lo OR source <> 'verification_log' THEN
        day_lo := since;  -- no group day: every row counts in the groups raw
        day_hi := since;
    END IF;
    groups_hi := least(day_hi, st.watermark);
    IF day_hi = day_lo THEN
        groups_hi := since;
    END IF;
    skip_days := ARRAY(SELECT DISTINCT nezuko_analytics.time_floor(b, d) FROM unnest(pending) b
                       WHERE isfinite(b) AND nezuko_analytics.time_floor(b, d) >= day_lo
                         AND nezuko_analytics.time_floor(b, d) < day_hi
                         AND nezuko_analytics.time_floor(b, d) >= st.frozen_before ORDER BY 1);
    -- The raw rows: outside the quarter hours taken, or (verification_log)
    -- outside the group days taken; as few ranges as they make.
    WITH ranges AS (
        SELECT since AS lo, qh_lo AS hi
        UNION ALL SELECT qh_hi, until
        UNION ALL SELECT b, b + q FROM unnest(skip_qh) b
        UNION ALL SELECT since, day_lo WHERE source = 'verification_log'
        UNION ALL SELECT greatest(groups_hi, since), until WHERE source = 'verification_log'
        UNION ALL SELECT greatest(b, since), least(b + d, until) FROM unnest(skip_days) b),
    ordered AS (
        SELECT lo, hi, max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
        FROM ranges WHERE lo < hi),
    runs AS (
        SELECT lo, hi, count(*) FILTER (WHERE reach IS NULL OR lo > reach) OVER (ORDER BY lo, hi) AS run FROM ordered)
    SELECT coalesce(array_agg(m.lo ORDER BY m.lo), '{}'), coalesce(array_agg(m.hi ORDER BY m.lo), '{}')
      INTO raw_lo, raw_hi
    FROM (SELECT min(lo) AS lo, max(hi) AS hi FROM runs GROUP BY run) m;
    -- The raw rows of the figures alone (a reader without groups): before
    -- and after the quarter hours taken, and the skipped ones (disjoint,
    -- in order).
    SELECT coalesce(array_agg(r.lo ORDER BY r.lo), '{}'), coalesce(array_agg(r.hi ORDER BY r.lo), '{}')
      INTO figures_lo, figures_hi
    FROM (SELECT since AS lo, qh_lo AS hi
          UNION ALL SELECT qh_hi, until
          UNION ALL SELECT b, b + q FROM unnest(skip_qh) b) r
    WHERE r.lo < r.hi;
    -- ... and those of a reader of the groups alone.
    SELECT coalesce(array_agg(r.lo ORDER BY r.lo), '{}'), coalesce(array_agg(r.hi ORDER BY r.lo), '{}')
      INTO groups_lo, groups_hi_ranges
    FROM (SELECT since AS lo, day_lo AS hi
          UNION ALL SELECT greatest(groups_hi, since), until
          UNION ALL SELECT greatest(b, since), least(b + d, until) FROM unnest(skip_days) b) r
    WHERE r.lo < r.hi;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_plan(text, timestamptz, timestamptz, timestamptz) IS
  'How a reader of source over [since, until) uses the rollups: usable (false: raw rows only, as with use_rollups off or rollups not enabled), the quarter hours [qh_lo, qh_hi) taken from the rollups except skip_qh (pending, or cut by recent_since), the group days [day_lo, day_hi) (covering up to groups_hi) except skip_days, the ranges [raw_lo[i], raw_hi[i]) of raw rows to read besides, [figures_lo[i], figures_hi[i]) those of a reader without groups, and [groups_lo[i], groups_hi_ranges[i]) those of a reader of the groups alone.';

-- The dashboard's aggregates over raw rows and rollup rows together: the
-- state, combine, serialize, deserialize and final functions of
-- verification_summary and api_summary, with a transition that also takes
-- rollup rows (src/pg/rollup_summary_agg.cpp).
CREATE FUNCTION nezuko_analytics.verification_summary_parts_add(
    internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications,
    nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_parts_add';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_parts_add(internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz) IS
  'Transition function of verification_summary_parts.';

CREATE AGGREGATE nezuko_analytics.verification_summary_parts(
    part "char", "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    cell nezuko_analytics.rollup_verifications, group_cell nezuko_analytics.rollup_verification_groups,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary_parts("char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz) IS
  'verification_summary over raw rows and rollup rows together, by part: ''a'' a raw row, ''f'' a raw row counted in every figure but the groups, ''g'' a raw row counted in the groups only, ''q'' a quarter hour of rollups (cell), ''d'' a group day of rollups (group_cell). The same document as verification_summary over the rows they stand for.';

CREATE FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_parts_add';
COMMENT ON FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls) IS
  'Transition function of api_summary_parts.';

CREATE AGGREGATE nezuko_analytics.api_summary_parts(method text, success boolean, latency_ms integer,
                                                    cell nezuko_analytics.rollup_api_calls) (
    SFUNC = nezuko_analytics.api_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary_parts(text, boolean, integer, nezuko_analytics.rollup_api_calls) IS
  'api_summary over raw rows (cell NULL) and quarter hours of rollup_api_calls (cell) together: the same document as api_summary over the calls they stand for.';

CREATE FUNCTION nezuko_analytics.window_summary_rollups(since timestamptz, until timestamptz, tz text, top_groups integer,
                                                        recent_since timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    v jsonb;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until, recent_since);
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.verification_summary_parts(x.part, x.ts, x.status, x.latency_ms, x.cached, x.group_id,
                                                           x.cell, x.group_cell, $1, $2, $3)::jsonb
        FROM (
            SELECT CASE WHEN k.figures AND k.groups THEN 'a' WHEN k.figures THEN 'f' ELSE 'g' END::"char" AS part,
                   v."timestamp" AS ts, v.status::text AS status, v.latency_ms, v.cached, v.group_id::bigint AS group_id,
                   NULL::nezuko_analytics.rollup_verifications AS cell,
                   NULL::nezuko_analytics.rollup_verification_groups AS group_cell
            FROM unnest($4, $5) r(lo, hi)
            JOIN %I.verification_log v ON v."timestamp" >= r.lo AND v."timestamp" < r.hi
            CROSS JOIN LATERAL (
                SELECT v."timestamp" < $6 OR v."timestamp" >= $7
                       OR date_bin('15 minutes', v."timestamp", nezuko_analytics.rollup_origin()) = ANY ($8) AS figures,
                       v."timestamp" < $9 OR v."timestamp" >= $10
                       OR date_bin('1 day', v."timestamp", nezuko_analytics.rollup_origin()) = ANY ($11) AS groups) k
            UNION ALL
            SELECT 'q', NULL, NULL, NULL, NULL, NULL, c, NULL
            FROM nezuko_analytics.rollup_verifications c
            WHERE c.bucket >= $6 AND c.bucket < $7 AND c.bucket <> ALL ($8)
            UNION ALL
            SELECT 'd', NULL, NULL, NULL, NULL, NULL, NULL, g
            FROM nezuko_analytics.rollup_verification_groups g
            WHERE g.day >= $9 AND g.day < $12 AND g.day <> ALL ($11)) x$q$, nezuko_analytics.bot_schema())
        INTO v
        USING nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since, p.raw_lo, p.raw_hi,
              p.qh_lo, p.qh_hi, p.skip_qh, p.day_lo, p.groups_hi, p.skip_days, p.day_hi;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz) IS
  'window_summary() from rollups and raw rows (rollup_plan()); NULL when the rollups give nothing to this window (then window_summary() reads the raw rows alone).';

CREATE FUNCTION nezuko_analytics.api_window_summary_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    a jsonb;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('api_call_log', since, until);
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.api_summary_parts(x.method, x.success, x.latency_ms, x.cell)::jsonb
        FROM (
            SELECT a.method::text AS method, a.success, a.latency_ms, NULL::nezuko_analytics.rollup_api_calls AS cell
            FROM unnest($1, $2) r(lo, hi)
            JOIN %I.api_call_log a ON a."timestamp" >= r.lo AND a."timestamp" < r.hi
            UNION ALL
            SELECT NULL, NULL, NULL, c
            FROM nezuko_analytics.rollup_api_calls c
            WHERE c.bucket >= $3 AND c.bucket < $4 AND c.bucket <> ALL ($5)) x$q$, bot)
        INTO a USING p.raw_lo, p.raw_hi, p.qh_lo, p.qh_hi, p.skip_qh;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz) IS
  'api_window_summary() from rollups and raw rows (rollup_plan()); NULL when the rollups give nothing to this window.';

-- The counts of the fixed-window contracts and get_analytics_overview from
-- rollups: sums over the quarter hours taken, plus the raw reads of the rest.
CREATE FUNCTION nezuko_analytics.verification_counts_rollups(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    r record;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until, today);
    IF NOT p.usable THEN
        RETURN;  -- every field NULL: read the raw rows
    END IF;
    SELECT coalesce(sum(c.total), 0), coalesce(sum(c.total) FILTER (WHERE c.bucket >= today), 0),
           CASE WHEN with_status THEN coalesce(sum(c.verified), 0) ELSE 0 END,
           CASE WHEN with_status THEN coalesce(sum(c.restricted), 0) ELSE 0 END,
           CASE WHEN with_status THEN coalesce(sum(c.error), 0) ELSE 0 END,
           CASE WHEN with_cached THEN coalesce(sum(c.cached), 0) ELSE 0 END,
           CASE WHEN with_latency THEN coalesce(sum(c.latency_count), 0) ELSE 0 END,
           CASE WHEN with_latency THEN coalesce(sum(c.latency_sum), 0) ELSE 0 END
      INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
    FROM nezuko_analytics.rollup_verifications c
    WHERE c.bucket >= p.qh_lo AND c.bucket < p.qh_hi AND c.bucket <> ALL (p.skip_qh);
    FOR i IN 1 .. coalesce(cardinality(p.figures_lo), 0) LOOP
        r := nezuko_analytics.verification_counts_raw(bot, p.figures_lo[i], p.figures_hi[i], today,
                                                      with_status, with_cached, with_latency);
        total := total + r.total; today_count := today_count + r.today_count; verified := verified + r.verified;
        restricted := restricted + r.restricted; error := error + r.error; cached := cached + r.cached;
        latency_rows := latency_rows + r.latency_rows; latency_sum := latency_sum + r.latency_sum;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_rollups(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'verification_counts() from rollups: the sums of the quarter hours rollup_plan() takes (today cuts like recent_since), plus verification_counts_raw() over the rest of the window; every field NULL when the rollups give nothing to this window.';

CREATE FUNCTION nezuko_analytics.api_counts_rollups(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('api_call_log', since, until);
    IF NOT p.usable THEN
        RETURN;  -- NULL arrays: read the raw rows
    END IF;
    WITH parts AS (
        SELECT c.method, c.calls, c.ok FROM nezuko_analytics.rollup_api_calls c
        WHERE c.bucket >= p.qh_lo AND c.bucket < p.qh_hi AND c.bucket <> ALL (p.skip_qh)
        UNION ALL
        SELECT u.method, u.calls, u.ok
        FROM unnest(p.figures_lo, p.figures_hi) r(lo, hi),
             nezuko_analytics.api_counts_raw(bot, r.lo, r.hi) a, unnest(a.methods, a.calls, a.ok) u(method, calls, ok))
    SELECT coalesce(array_agg(m.method), '{}'), coalesce(array_agg(m.calls), '{}'), coalesce(array_agg(m.ok), '{}')
      INTO methods, calls, ok
    FROM (SELECT method, sum(parts.calls)::bigint AS calls, sum(parts.ok)::bigint AS ok FROM parts GROUP BY method) m;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_rollups(name, timestamptz, timestamptz) IS
  'api_counts() from rollups: calls and successes by method of the quarter hours rollup_plan() takes, plus api_counts_raw() over the rest of the window; NULL arrays when the rollups give nothing to this window.';

CREATE FUNCTION nezuko_analytics.group_counts_rollups(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until);
    IF NOT p.usable OR p.day_hi <= p.day_lo THEN
        RETURN;  -- no whole day to take: read the raw rows
    END IF;
    WITH parts AS (
        SELECT g.group_id, g.total AS n, g.verified AS s FROM nezuko_analytics.rollup_verification_groups g
        WHERE g.day >= p.day_lo AND g.day < p.day_hi AND g.day <> ALL (p.skip_days)
        UNION ALL
        SELECT u.group_id, u.n, u.s
        FROM unnest(p.groups_lo, p.groups_hi_ranges) r(lo, hi),
             nezuko_analytics.group_counts_raw(bot, r.lo, r.hi, 2147483647) x,
             unnest(x.group_ids, x.calls, x.ok) u(group_id, n, s)),
    summed AS (
        SELECT parts.group_id, sum(parts.n)::bigint AS n, sum(parts.s)::bigint AS s FROM parts GROUP BY parts.group_id
        ORDER BY n DESC, parts.group_id LIMIT top)
    SELECT coalesce(array_agg(summed.group_id ORDER BY summed.n DESC, summed.group_id), '{}'),
           coalesce(array_agg(summed.n ORDER BY summed.n DESC, summed.group_id), '{}'),
           coalesce(array_agg(summed.s ORDER BY summed.n DESC, summed.group_id), '{}')
      INTO group_ids, calls, ok
    FROM summed;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_rollups(name, timestamptz, timestamptz, integer) IS
  'group_counts() from rollups: the group days rollup_plan() takes plus group_counts_raw() over the rest of the window, summed per group, the top ones (ties by group_id); NULL arrays when the rollups give no whole day to this window.';

CREATE FUNCTION nezuko_analytics.verification_counts_scan(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.verification_counts_rollups(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n.total IS NULL THEN  -- no rollups here: the query (parallel over long windows)
        n := nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
    total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
    error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_scan(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'The counts of verification_log over a window of any length (get_analytics_overview): from the rollups where they serve (verification_counts_rollups()), else verification_counts_query() (parallel over long windows; the native read serves the fixed windows of verification_counts()).';

