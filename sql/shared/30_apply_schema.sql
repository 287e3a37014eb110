-- apply_schema() and revert_schema(): the second layer.  What they create is
-- an ordinary object owned by the caller (not an extension member), so
-- pg_dump dumps it like the bot's own tables and DROP EXTENSION never takes it.

CREATE FUNCTION nezuko_analytics.bot_schema()
RETURNS name
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s name;
BEGIN
    SELECT target_schema INTO s FROM nezuko_analytics.schema_state;
    IF s IS NULL THEN
        RAISE EXCEPTION 'nezuko_analytics.apply_schema() has not been run in this database'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run SELECT * FROM nezuko_analytics.apply_schema(); once after CREATE EXTENSION.';
    END IF;
    RETURN s;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bot_schema() IS
  'The schema of the bot''s tables recorded by apply_schema(); an ERROR when apply_schema() has not been run.';

-- Type of an existing column, as regtype text ('integer', 'character varying', ...), or NULL.
CREATE FUNCTION nezuko_analytics.column_type(target_schema name, tbl name, col name)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.atttypid::regtype::text
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = target_schema AND c.relname = tbl
      AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped
$$;
COMMENT ON FUNCTION nezuko_analytics.column_type(name, name, name) IS
  'The type of column tbl.col in target_schema as regtype text, or NULL when there is no such column.';

CREATE FUNCTION nezuko_analytics.table_exists(target_schema name, tbl name)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = target_schema AND c.relname = tbl
          AND c.relkind IN ('r', 'p'))
$$;
COMMENT ON FUNCTION nezuko_analytics.table_exists(name, name) IS
  'Whether target_schema holds an ordinary or partitioned table named tbl.';

-- Records one change of apply_schema() (the next step number; the same change twice is recorded once).
CREATE FUNCTION nezuko_analytics.record_schema_change(target_schema name, change_kind text, table_name name, object_name name)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO nezuko_analytics.schema_changes (target_schema, step, change_kind, table_name, object_name)
    SELECT record_schema_change.target_schema, coalesce(max(c.step), 0) + 1, record_schema_change.change_kind,
           record_schema_change.table_name, record_schema_change.object_name
    FROM nezuko_analytics.schema_changes c  -- parameters qualified: in SQL a column of c would win
    ON CONFLICT DO NOTHING
$$;
COMMENT ON FUNCTION nezuko_analytics.record_schema_change(name, text, name, name) IS
  'Records one change apply_schema() made, as its next step, so revert_schema() undoes the changes newest first.';

-- Supabase grants ALL on every new table in public to anon, authenticated
-- and service_role, and relies on row-level security.  What apply_schema()
-- creates is closed to the API roles; what the bot already had is reported.
CREATE FUNCTION nezuko_analytics.api_roles()
RETURNS SETOF name
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated') ORDER BY 1 $$;
COMMENT ON FUNCTION nezuko_analytics.api_roles() IS
  'Supabase''s API roles that exist here (anon, authenticated): the roles the web app''s requests run as, without BYPASSRLS.';

CREATE FUNCTION nezuko_analytics.close_to_api_roles(target_schema name, tbl name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grantees text;
BEGIN
    SELECT string_agg(quote_ident(r), ', ') INTO grantees FROM nezuko_analytics.api_roles() r;
    IF grantees IS NULL THEN
        RETURN;  -- not a Supabase database
    END IF;
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', target_schema, tbl);
    EXECUTE format('REVOKE TRUNCATE, TRIGGER, REFERENCES ON %I.%I FROM PUBLIC, %s', target_schema, tbl, grantees);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.close_to_api_roles(name, name) IS
  'Where Supabase''s API roles exist: enables row-level security on a table apply_schema() created (no policy: only its owner and BYPASSRLS roles such as service_role read and write it) and revokes TRUNCATE, TRIGGER and REFERENCES from PUBLIC, anon and authenticated.';

CREATE FUNCTION nezuko_analytics.report_exposed_tables(target_schema name)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname, string_agg(DISTINCT r.r, ', ') AS roles
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN nezuko_analytics.api_roles() r(r)
        WHERE n.nspname = target_schema AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
          AND c.relname IN (SELECT b.table_name FROM nezuko_analytics.base_table_ddl() b)
          AND (has_table_privilege(r.r, c.oid, 'INSERT') OR has_table_privilege(r.r, c.oid, 'UPDATE')
               OR has_table_privilege(r.r, c.oid, 'DELETE') OR has_table_privilege(r.r, c.oid, 'TRUNCATE')
               OR has_table_privilege(r.r, c.oid, 'TRIGGER'))
        GROUP BY c.relname ORDER BY c.relname
    LOOP
        RAISE NOTICE 'nezuko_analytics: %.% can be written, truncated or given triggers by % without row-level security',
                target_schema, t.relname, t.roles
            USING HINT = format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY; REVOKE TRUNCATE, TRIGGER, REFERENCES ON %I.%I FROM PUBLIC, %s;',
                                target_schema, t.relname, target_schema, t.relname, t.roles);
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.report_exposed_tables(name) IS
  'Raises one NOTICE per bot table in target_schema that Supabase''s anon or authenticated role can write, truncate or add triggers to while row-level security is off, with the statements that close it. Changes nothing; called by apply_schema().';

CREATE FUNCTION nezuko_analytics.apply_schema(target_schema name DEFAULT 'public')
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    spec record;
    existing_type text;
    idx_table text;
    policy record;
    registered boolean := false;
    job_exists boolean;
BEGIN
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'apply_schema: target_schema must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
        RAISE EXCEPTION 'apply_schema: schema "%" does not exist', target_schema
            USING ERRCODE = 'invalid_schema_name',
                  HINT = 'Create the schema first, or pass the schema that holds the bot''s tables.';
    END IF;

    -- One apply at a time in this database.
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.apply_schema'));

    -- 1. Check every existing column against the spec before changing anything.
    FOR spec IN SELECT * FROM nezuko_analytics.spec_columns() LOOP
        existing_type := nezuko_analytics.column_type(target_schema, spec.table_name, spec.column_name);
        IF existing_type IS NOT NULL AND NOT existing_type = ANY (spec.accepted_types) THEN
            RAISE EXCEPTION 'apply_schema: column %.%.% has type %, which nezuko_analytics cannot use',
                    target_schema, spec.table_name, spec.column_name, existing_type
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = format('Accepted types: %s.  Nothing was changed.',
                                      array_to_string(spec.accepted_types, ', ')),
                      HINT = 'Convert the column (ALTER TABLE ... ALTER COLUMN ... TYPE) or rename it, then run apply_schema() again.';
        END IF;
        IF existing_type IS NULL AND NOT spec.added_by_spec
           AND nezuko_analytics.table_exists(target_schema, spec.table_name) THEN
            RAISE EXCEPTION 'apply_schema: table %.% has no column % (%), which nezuko_analytics reads',
                    target_schema, spec.table_name, spec.column_name,
                    array_to_string(spec.accepted_types, ' or ')
                USING ERRCODE = 'undefined_column',
                      DETAIL = 'Nothing was changed.';
        END IF;
    END LOOP;
    FOR spec IN SELECT * FROM nezuko_analytics.spec_indexes() LOOP
        SELECT t.relname INTO idx_table
        FROM pg_class i
        JOIN pg_namespace n ON n.oid = i.relnamespace
        LEFT JOIN pg_index x ON x.indexrelid = i.oid
        LEFT JOIN pg_class t ON t.oid = x.indrelid
        WHERE n.nspname = target_schema AND i.relname = spec.index_name;
        IF FOUND AND idx_table IS DISTINCT FROM spec.table_name THEN
            RAISE EXCEPTION 'apply_schema: %.% already exists and is not an index on %',
                    target_schema, spec.index_name, spec.table_name
                USING ERRCODE = 'duplicate_object',
                      DETAIL = 'Nothing was changed.';
        END IF;
    END LOOP;

    -- 2. Tables: the bot's base tables on a fresh database, then api_call_log.
    FOR spec IN SELECT * FROM nezuko_analytics.base_table_ddl() ORDER BY creation_order LOOP
        CONTINUE WHEN nezuko_analytics.table_exists(target_schema, spec.table_name);
        EXECUTE format(spec.create_ddl, target_schema);
        PERFORM nezuko_analytics.close_to_api_roles(target_schema, spec.table_name);
        PERFORM nezuko_analytics.record_schema_change(target_schema, CASE WHEN spec.table_name = 'api_call_log' THEN 'create_table' ELSE 'create_base_table' END,
                spec.table_name, spec.table_name);
        RETURN NEXT format('created table %I.%I', target_schema, spec.table_name);
    END LOOP;

    -- 3. Columns the spec adds, where missing.
    FOR spec IN SELECT * FROM nezuko_analytics.spec_columns() WHERE added_by_spec LOOP
        CONTINUE WHEN nezuko_analytics.column_type(target_schema, spec.table_name, spec.column_name) IS NOT NULL;
        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s',
                       target_schema, spec.table_name, spec.column_name, spec.column_ddl);
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'add_column', spec.table_name, spec.column_name);
        RETURN NEXT format('added column %I.%I.%I %s',
                           target_schema, spec.table_name, spec.column_name, spec.column_ddl);
    END LOOP;

    -- 4. Indexes the spec names, where no index of that name exists.
    FOR spec IN SELECT * FROM nezuko_analytics.spec_indexes() LOOP
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace
            WHERE n.nspname = target_schema AND i.relname = spec.index_name);
        EXECUTE format('CREATE INDEX %I ON %I.%I %s',
                       spec.index_name, target_schema, spec.table_name, spec.key_columns);
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'create_index', spec.table_name, spec.index_name);
        RETURN NEXT format('created index %I on %I.%I %s',
                           spec.index_name, target_schema, spec.table_name, spec.key_columns);
    END LOOP;

    -- 5. Remember where the bot's tables are.
    INSERT INTO nezuko_analytics.schema_state (singleton, target_schema, applied_at)
    VALUES (true, target_schema, now())
    ON CONFLICT (singleton) DO UPDATE
        SET target_schema = EXCLUDED.target_schema, applied_at = EXCLUDED.applied_at
        WHERE schema_state.target_schema IS DISTINCT FROM EXCLUDED.target_schema;

    -- 6. Retention: the default policies where absent, and the pg_cron job
    --    where pg_cron is installed in this database (else a NOTICE on how).
    FOR policy IN SELECT * FROM nezuko_analytics.register_retention_policies() LOOP
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'register_policy', policy.table_name, policy.table_name);
        registered := true;
        RETURN NEXT policy.description;
    END LOOP;
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user)'
            INTO job_exists USING nezuko_analytics.retention_job_name();
        IF NOT job_exists THEN
            PERFORM nezuko_analytics.schedule_retention();
            PERFORM nezuko_analytics.record_schema_change(target_schema, 'schedule_job', 'cron.job', nezuko_analytics.retention_job_name());
            RETURN NEXT format('scheduled pg_cron job %s: CALL nezuko_analytics.prune() at ''17 3 * * *''',
                               nezuko_analytics.retention_job_name());
        END IF;
    ELSIF registered THEN
        RAISE NOTICE 'nezuko_analytics: retention is not scheduled: pg_cron is not installed in this database'
            USING HINT = nezuko_analytics.retention_schedule_hint('17 3 * * *')
                         || ' Or run CALL nezuko_analytics.prune(); from any scheduler.';
    END IF;

    -- 7. The dashboard's functions for Supabase's API roles, where they exist;
    --    the bot's own tables those roles could write are reported.
    PERFORM nezuko_analytics.report_exposed_tables(target_schema);
    FOR policy IN SELECT * FROM nezuko_analytics.grant_dashboard_access() LOOP
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'grant_access', 'nezuko_analytics', policy.role_name);
        RETURN NEXT policy.description;
    END LOOP;
    RETURN;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.apply_schema(name) IS
  'Applies the schema spec to the bot''s tables in target_schema, in one transaction and idempotently: creates the base tables on a fresh database, api_call_log, the spec''s new columns and indexes where missing, registers the default retention policies, schedules prune() with pg_cron when it is installed here, grants the dashboard functions to Supabase''s API roles where they exist; where those roles exist, every table it creates has row-level security on and no TRUNCATE, TRIGGER or REFERENCES for them, and a NOTICE names each existing bot table they could write; never redefines an existing column; returns one line per change.';

CREATE FUNCTION nezuko_analytics.revert_schema()
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
