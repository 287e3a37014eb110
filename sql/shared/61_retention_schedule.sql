-- Scheduling prune() with pg_cron.  Nothing here requires pg_cron to be
-- installed: the cron functions are called through dynamic SQL only when its
-- schema exists in this database.

CREATE FUNCTION nezuko_analytics.retention_job_name()
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 'nezuko_analytics_retention'::text $$;
COMMENT ON FUNCTION nezuko_analytics.retention_job_name() IS 'The name of the pg_cron job that runs prune().';

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

CREATE FUNCTION nezuko_analytics.retention_schedule_hint(schedule text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nezuko_analytics.cron_schedule_hint(nezuko_analytics.retention_job_name(), schedule, 'CALL nezuko_analytics.prune()',
                                               format('nezuko_analytics.schedule_retention(%L)', schedule))
$$;
COMMENT ON FUNCTION nezuko_analytics.retention_schedule_hint(text) IS
  'The steps that schedule prune() when pg_cron is not installed in this database (cron_schedule_hint()).';

CREATE FUNCTION nezuko_analytics.schedule_retention(schedule text DEFAULT '17 3 * * *')
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    IF schedule IS NULL THEN
        RAISE EXCEPTION 'schedule_retention: schedule must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF to_regprocedure('cron.schedule(text, text, text)') IS NULL THEN
        RAISE EXCEPTION 'schedule_retention: pg_cron is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = nezuko_analytics.retention_schedule_hint(schedule);
    END IF;
    BEGIN
        -- Scheduling an existing name updates that job (same jobid): calling twice leaves one job.
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
            USING nezuko_analytics.retention_job_name(), schedule, 'CALL nezuko_analytics.prune()';
    EXCEPTION WHEN OTHERS THEN
        IF SQLERRM ILIKE '%invalid schedule%' THEN
            RAISE EXCEPTION 'schedule_retention: % is not a valid cron schedule', quote_literal(schedule)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use five cron fields, for example ''17 3 * * *'' (03:17 every day).';
        END IF;
        RAISE;
    END;
    RETURN job;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.schedule_retention(text) IS
  'Creates or updates the one pg_cron job nezuko_analytics_retention that runs CALL nezuko_analytics.prune() in this database; returns its jobid. An invalid cron schedule, or pg_cron missing here, is a clear ERROR (the hint says how to schedule from pg_cron''s database).';

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

CREATE FUNCTION nezuko_analytics.unschedule_retention()
RETURNS boolean
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.unschedule_job(nezuko_analytics.retention_job_name()) $$;
COMMENT ON FUNCTION nezuko_analytics.unschedule_retention() IS
  'Removes the pg_cron job nezuko_analytics_retention; false when there was none (or pg_cron is not here).';
