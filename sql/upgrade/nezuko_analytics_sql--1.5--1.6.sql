-- nezuko_analytics_sql (the portable edition) 1.5 -> 1.6, written by hand
-- (docs/versions.md).  1.6 adds rollups to the native edition only (they need
-- the latency_dist type); the portable edition takes the shared changes
-- (cron_schedule_hint(), unschedule_job(), analytics_overview() through verification_counts_scan(),
-- revert_schema()) and its version().

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.6'::text $$;

-- verification_counts_scan(): the counts of get_analytics_overview (the query).
CREATE FUNCTION nezuko_analytics.verification_counts_scan(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency) $$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_scan(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'The counts of verification_log over a window of any length (get_analytics_overview): verification_counts_query().';


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

