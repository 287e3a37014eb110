-- The native edition's script is read by CREATE EXTENSION only.
\echo Use "CREATE EXTENSION nezuko_analytics" to load this file. \quit

-- The two editions define the same schema and never share a database.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'nezuko_analytics_sql') THEN
        RAISE EXCEPTION 'nezuko_analytics cannot be installed: the portable edition nezuko_analytics_sql is installed in this database'
            USING ERRCODE = 'duplicate_object',
                  HINT = 'DROP EXTENSION nezuko_analytics_sql first (the bot''s tables and rows stay), then CREATE EXTENSION nezuko_analytics.';
    END IF;
END $$;
-- nezuko_analytics, the install script of the version named in nezuko_analytics.control,
-- assembled by the build from sql/shared/*.sql and the edition's own parts
-- (sql/native/ or sql/portable/) in name order (scripts/sql_parts.sh).
--
-- This script installs only what the extension owns: the schema
-- nezuko_analytics with its functions, types and procedures, and its own
-- bookkeeping tables (created empty, marked for pg_dump).  It does the same
-- thing on every database and never creates, alters or owns the bot's tables:
-- pg_restore runs it again on an empty database before the dump's own DDL.
-- The bot's tables are changed only by nezuko_analytics.apply_schema().

-- Created here (not by the control file) so that the schema is a member of the
-- extension and DROP EXTENSION removes it with everything in it.
CREATE SCHEMA nezuko_analytics;

COMMENT ON SCHEMA nezuko_analytics IS
  'nezuko_analytics: analytics for the Nezuko bot (functions, types, procedures and the extension''s own bookkeeping tables; the bot''s tables stay in their own schema)';
CREATE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_version';

COMMENT ON FUNCTION nezuko_analytics.version() IS
  'Version of the loaded C++ module of nezuko_analytics (proves the module loads).';
-- The extension's own bookkeeping tables.  Created empty on every database and
-- marked with pg_extension_config_dump, so pg_dump saves their rows and a
-- restore (which runs this script first) brings them back without a clash.

CREATE TABLE nezuko_analytics.schema_state (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    target_schema name NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE nezuko_analytics.schema_state IS
  'The schema holding the bot''s tables, as recorded by the last apply_schema(); the analytics functions read the tables there.';

CREATE TABLE nezuko_analytics.schema_changes (
    target_schema name NOT NULL,
    step          integer NOT NULL,
    change_kind   text NOT NULL
                  CHECK (change_kind IN ('create_base_table', 'create_table', 'add_column', 'create_index',
                                         'register_policy', 'schedule_job', 'grant_access')),
    table_name    name NOT NULL,
    object_name   name NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_schema, change_kind, table_name, object_name)
);
COMMENT ON TABLE nezuko_analytics.schema_changes IS
  'Every object apply_schema() created or added in the bot''s schema (by name, never by OID), so revert_schema() removes exactly those, also after a dump and restore.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.schema_state', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.schema_changes', '');
-- The schema spec (docs/schema.md) as data: which columns and
-- indexes apply_schema() adds, which base columns the analytics read, and the
-- types an existing column may have to count as compatible.

CREATE FUNCTION nezuko_analytics.spec_columns()
RETURNS TABLE (table_name name, column_name name, column_ddl text,
               accepted_types text[], added_by_spec boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    -- api_call_log: the spec's new table (checked or completed when it already exists)
    ('api_call_log'::name, 'id'::name, 'serial', ARRAY['integer', 'bigint'], true),
    ('api_call_log', 'method', 'varchar(50)', ARRAY['character varying', 'text'], true),
    ('api_call_log', 'chat_id', 'bigint', ARRAY['bigint'], true),
    ('api_call_log', 'user_id', 'bigint', ARRAY['bigint'], true),
    ('api_call_log', 'success', 'boolean DEFAULT true', ARRAY['boolean'], true),
    ('api_call_log', 'latency_ms', 'integer', ARRAY['integer'], true),
    ('api_call_log', 'error_type', 'varchar(50)', ARRAY['character varying', 'text'], true),
    ('api_call_log', 'timestamp', 'timestamptz DEFAULT now()', ARRAY['timestamp with time zone'], true),
    -- columns the spec adds to the bot's tables
    ('protected_groups', 'member_count', 'integer DEFAULT 0', ARRAY['integer', 'bigint'], true),
    ('protected_groups', 'last_sync_at', 'timestamptz', ARRAY['timestamp with time zone'], true),
    ('enforced_channels', 'subscriber_count', 'integer DEFAULT 0', ARRAY['integer', 'bigint'], true),
    ('enforced_channels', 'last_sync_at', 'timestamptz', ARRAY['timestamp with time zone'], true),
    ('verification_log', 'error_type', 'varchar(50)', ARRAY['character varying', 'text'], true),
    -- base columns the analytics read; never added, only checked
    ('protected_groups', 'group_id', NULL, ARRAY['bigint', 'integer'], false),
    ('protected_groups', 'title', NULL, ARRAY['character varying', 'text'], false),
    ('protected_groups', 'enabled', NULL, ARRAY['boolean'], false),
    ('enforced_channels', 'channel_id', NULL, ARRAY['bigint', 'integer'], false),
    ('enforced_channels', 'title', NULL, ARRAY['character varying', 'text'], false),
    ('verification_log', 'group_id', NULL, ARRAY['bigint', 'integer'], false),
    ('verification_log', 'status', NULL, ARRAY['character varying', 'text'], false),
    ('verification_log', 'latency_ms', NULL, ARRAY['integer'], false),
    ('verification_log', 'cached', NULL, ARRAY['boolean'], false),
    ('verification_log', 'timestamp', NULL, ARRAY['timestamp with time zone'], false)
$$;
COMMENT ON FUNCTION nezuko_analytics.spec_columns() IS
  'The columns of the schema spec: those apply_schema() adds when missing (added_by_spec) and the base columns the analytics read; accepted_types lists the types an existing column may have.';

CREATE FUNCTION nezuko_analytics.spec_indexes()
RETURNS TABLE (index_name name, table_name name, key_columns text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES
    ('idx_api_call_log_method'::name, 'api_call_log'::name, '(method)'),
    ('idx_api_call_log_timestamp', 'api_call_log', '("timestamp")'),
    ('idx_api_call_log_method_timestamp', 'api_call_log', '(method, "timestamp")'),
    ('idx_api_call_log_success', 'api_call_log', '(success)'),
    ('idx_verification_log_error_type', 'verification_log', '(error_type)'),
    ('idx_verification_log_timestamp_cached', 'verification_log', '("timestamp", cached)'),
    ('idx_verification_log_timestamp_latency', 'verification_log', '("timestamp", latency_ms)')
$$;
COMMENT ON FUNCTION nezuko_analytics.spec_indexes() IS
  'The indexes of the schema spec, by the spec''s names; apply_schema() creates each one that no index of that name already provides.';

CREATE FUNCTION nezuko_analytics.base_table_ddl()
RETURNS TABLE (creation_order integer, table_name name, create_ddl text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- %1$I is the target schema.  The bot's own tables as it creates them
    -- (the contracts read these tables: docs/contracts.md).
    VALUES
    (1, 'protected_groups'::name, $ddl$
CREATE TABLE %1$I.protected_groups (
    group_id   bigint PRIMARY KEY,
    owner_id   bigint,
    title      varchar(255),
    enabled    boolean NOT NULL DEFAULT true,
    params     jsonb,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
)$ddl$),
    (2, 'enforced_channels', $ddl$
CREATE TABLE %1$I.enforced_channels (
    channel_id  bigint PRIMARY KEY,
    title       varchar(255),
    username    varchar(64),
    invite_link text,
    created_at  timestamptz DEFAULT now(),
    updated_at  timestamptz DEFAULT now()
)$ddl$),
    (3, 'group_channel_links', $ddl$
CREATE TABLE %1$I.group_channel_links (
    id          serial PRIMARY KEY,
    group_id    bigint REFERENCES %1$I.protected_groups (group_id),
    channel_id  bigint REFERENCES %1$I.enforced_channels (channel_id),
    is_required boolean DEFAULT true,
    created_at  timestamptz DEFAULT now(),
    UNIQUE (group_id, channel_id)
)$ddl$),
    (4, 'verification_log', $ddl$
CREATE TABLE %1$I.verification_log (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL,
    group_id    bigint NOT NULL,
    channel_id  bigint,
    status      varchar(20) NOT NULL,
    latency_ms  integer,
    cached      boolean NOT NULL DEFAULT false,
    "timestamp" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_verification_log_timestamp ON %1$I.verification_log ("timestamp");
CREATE INDEX idx_verification_log_timestamp_status ON %1$I.verification_log ("timestamp", status);
CREATE INDEX idx_verification_log_group_id_timestamp ON %1$I.verification_log (group_id, "timestamp")$ddl$),
    (5, 'api_call_log', $ddl$
CREATE TABLE %1$I.api_call_log (
    id          serial PRIMARY KEY,
    method      varchar(50) NOT NULL,
    chat_id     bigint,
    user_id     bigint,
    success     boolean DEFAULT true,
    latency_ms  integer,
    error_type  varchar(50),
    "timestamp" timestamptz DEFAULT now()
)$ddl$)
$$;
COMMENT ON FUNCTION nezuko_analytics.base_table_ddl() IS
  'CREATE TABLE statements for a fresh database: the bot''s four base tables, then the spec''s api_call_log exactly as the spec writes it (format() with the target schema as %1$I).';
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
-- Windows are [since, until).  Every function that takes one checks it here.

CREATE FUNCTION nezuko_analytics.check_window(since timestamptz, until timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF since IS NULL OR until IS NULL THEN
        RAISE EXCEPTION 'the window''s % must not be NULL', CASE WHEN since IS NULL THEN 'since' ELSE 'until' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a timestamptz; until defaults to now() when omitted.';
    END IF;
    IF since > until THEN
        RAISE EXCEPTION 'the window starts (since = %) after it ends (until = %)', since, until
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.check_window(timestamptz, timestamptz) IS
  'Raises a clear ERROR for a NULL or inverted window [since, until); used by every windowed function.';

CREATE FUNCTION nezuko_analytics.check_latency_source(source text, function_name text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF source IS NULL OR source NOT IN ('verification_log', 'api_call_log') THEN
        RAISE EXCEPTION '%: source must be ''verification_log'' or ''api_call_log'', not %',
                function_name, coalesce(quote_literal(source), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.check_latency_source(text, text) IS
  'Raises a clear ERROR unless source is one of the tables with latencies (verification_log, api_call_log).';

-- The two rounding rules below are called once per row of a document.  They
-- carry no SET search_path, so the planner inlines them into the caller's
-- query (a function with SET is called through fmgr each time, its body
-- planned again); instead every name in them is schema-qualified, which
-- keeps them safe under any search_path when they are called on their own.

-- percentage = round(100 * part / whole, 1), 0 when whole is 0
CREATE FUNCTION nezuko_analytics.percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN whole IS NULL OR whole OPERATOR(pg_catalog.=) 0 THEN 0::pg_catalog.numeric
                  ELSE pg_catalog.round((100.0 OPERATOR(pg_catalog.*) part) OPERATOR(pg_catalog./) whole, 1) END $$;
COMMENT ON FUNCTION nezuko_analytics.percent(numeric, numeric) IS
  'round(100 * part / whole, 1), and 0 (not NULL) when whole is 0: the contracts'' percentage rule.';

CREATE FUNCTION nezuko_analytics.round_ms(ms float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.round(ms::pg_catalog.numeric, 2) $$;
COMMENT ON FUNCTION nezuko_analytics.round_ms(float8) IS
  'A latency percentile as the documents give it: numeric, rounded to 0.01 ms (no binary artifacts such as 381.79999999999995); NULL stays NULL.';

CREATE FUNCTION nezuko_analytics.require_select(bot name, relname text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT has_table_privilege(format('%I.%I', bot, relname), 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', relname USING ERRCODE = 'insufficient_privilege';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.require_select(name, text) IS
  'Raises the error a query would raise (42501) unless the caller may read bot.relname: USAGE on the schema and SELECT on the table. Called before work that does not read the table yet.';

CREATE FUNCTION nezuko_analytics.window_rows_span(bot name, log_table text, since timestamptz, until timestamptz,
                                                  OUT first_row timestamptz, OUT last_row timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- two probes of the time index; a row stamped -infinity or infinity is
    -- in no span (range conditions, which the planner estimates)
    EXECUTE format($q$SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t
                      WHERE t."timestamp" >= $1 AND t."timestamp" < $2
                        AND t."timestamp" > '-infinity' AND t."timestamp" < 'infinity'$q$, bot, log_table)
        INTO first_row, last_row USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_rows_span(name, text, timestamptz, timestamptz) IS
  'The first and the last finite time of bot.log_table''s rows in [since, until), NULL when there are none: two probes of the time index. What the reads of a window size their offsets, slices, days and buckets by.';

-- A window that holds few rows is read by one plain query.  The reads built
-- for long windows (time slices that parallel workers share, a branch per
-- local day or per bucket, latencies counted per value) cost planning and
-- set-up that only pay off over many rows: over the 15,000 rows of 90 days
-- of a small bot they made a trend contract four times slower than the
-- bot's own query (docs/benchmarks.md).

CREATE FUNCTION nezuko_analytics.small_window_rows()
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the native edition's module defines the setting with the same default
    -- (src/pg/module.cpp; a test compares them); the portable edition has
    -- no module, and the setting is then a plain custom one
    setting constant text := coalesce(nullif(current_setting('nezuko_analytics.small_window_rows', true), ''), '20000');
BEGIN
    IF setting !~ '^\s*[0-9]{1,9}\s*$' THEN
        RAISE EXCEPTION 'nezuko_analytics.small_window_rows must be a whole number of rows from 0, not %', quote_literal(setting)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN setting::integer;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.small_window_rows() IS
  'The setting nezuko_analytics.small_window_rows (default 20000): a window holding at most this many rows (get_user_growth: user_growth_small_scale() times as many) is read by plain queries instead of the reads built for long windows (window_is_small()); 0 reads every window those ways.';

CREATE FUNCTION nezuko_analytics.window_is_small(bot name, log_table text, since timestamptz, until timestamptz,
                                                 scale integer DEFAULT 1)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    most constant integer := nezuko_analytics.small_window_rows();
    n bigint;
    lo timestamptz;
    hi timestamptz;
    first_row timestamptz;
BEGIN
    IF most = 0 THEN
        RETURN false;
    END IF;
    -- the window's latest rows through the time index, no further than one
    -- row past the limit: all of them in a small window
    EXECUTE format($q$SELECT count(*), min(s.at), max(s.at)
                      FROM (SELECT t."timestamp" AS at FROM %I.%I t
                            WHERE t."timestamp" >= $1 AND t."timestamp" < $2
                              AND t."timestamp" > '-infinity' AND t."timestamp" < 'infinity'
                            ORDER BY t."timestamp" DESC LIMIT $3) s$q$, bot, log_table)
        INTO n, lo, hi USING since, until, most + 1;
    IF n <= most THEN
        RETURN true;
    END IF;
    IF coalesce(scale, 1) <= 1 OR hi = lo THEN
        RETURN false;
    END IF;
    -- Up to scale times the limit the rows are not counted (a count of
    -- 300,000 index entries cost a fifth of a week's get_user_growth on the
    -- benchmark's data): their number is taken from the density of the
    -- latest ones over the span of the window's rows.  A log table fills
    -- faster as a bot grows, so the latest rows overstate the rest, and a
    -- window in doubt goes to the reads for long windows.
    SELECT s.first_row INTO first_row FROM nezuko_analytics.window_rows_span(bot, log_table, since, until) s;
    RETURN most * extract(epoch FROM hi - first_row) / extract(epoch FROM hi - lo) <= most::numeric * scale;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_is_small(name, text, timestamptz, timestamptz, integer) IS
  'Whether bot.log_table holds at most small_window_rows() finite rows in [since, until) (never when the setting is 0), read through the time index no further than one row past the limit; with scale > 1, whether it holds at most scale times as many as estimated from the density of those latest rows over the span of the window''s rows. Such a window is read by plain queries; scale is how many times the limit a reader''s plain queries stay the faster way (get_user_growth: user_growth_small_scale()).';
-- latency_dist: an exact, mergeable distribution of integer latencies, and
-- the aggregates latency_dist(integer) and merge(latency_dist).

CREATE TYPE nezuko_analytics.latency_dist;

CREATE FUNCTION nezuko_analytics.latency_dist_in(cstring) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_in';
CREATE FUNCTION nezuko_analytics.latency_dist_out(nezuko_analytics.latency_dist) RETURNS cstring
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_out';
CREATE FUNCTION nezuko_analytics.latency_dist_recv(internal) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_recv';
CREATE FUNCTION nezuko_analytics.latency_dist_send(nezuko_analytics.latency_dist) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_send';

CREATE TYPE nezuko_analytics.latency_dist (
    INPUT = nezuko_analytics.latency_dist_in,
    OUTPUT = nezuko_analytics.latency_dist_out,
    RECEIVE = nezuko_analytics.latency_dist_recv,
    SEND = nezuko_analytics.latency_dist_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = extended
);
COMMENT ON TYPE nezuko_analytics.latency_dist IS
  'An exact distribution of integer latencies (a count per distinct value; above 2^20 ms values keep 20 significant bits). Text form: count=N sum=S values=KEY:COUNT,...';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_in(cstring) IS 'Text input of latency_dist; rejects malformed or inconsistent values.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_out(nezuko_analytics.latency_dist) IS 'Text output of latency_dist.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_recv(internal) IS 'Binary input of latency_dist; rejects malformed, truncated or inconsistent values.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_send(nezuko_analytics.latency_dist) IS 'Binary output of latency_dist (its compact form).';

-- Transition, combine, serialize, deserialize and final functions.
CREATE FUNCTION nezuko_analytics.latency_dist_add(internal, integer) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_add';
CREATE FUNCTION nezuko_analytics.latency_dist_merge_add(internal, nezuko_analytics.latency_dist) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_merge_add';
CREATE FUNCTION nezuko_analytics.latency_dist_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_combine';
CREATE FUNCTION nezuko_analytics.latency_dist_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_serialize';
CREATE FUNCTION nezuko_analytics.latency_dist_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_deserialize';
CREATE FUNCTION nezuko_analytics.latency_dist_final(internal) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_final';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_add(internal, integer) IS 'Transition function of latency_dist(integer); ignores NULL.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_merge_add(internal, nezuko_analytics.latency_dist) IS 'Transition function of merge(latency_dist); ignores NULL.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_combine(internal, internal) IS 'Combine function of the latency_dist aggregates (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_serialize(internal) IS 'Serialize function of the latency_dist aggregates (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_deserialize(bytea, internal) IS 'Deserialize function of the latency_dist aggregates (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_final(internal) IS 'Final function of the latency_dist aggregates; an empty distribution when there were no rows.';

CREATE AGGREGATE nezuko_analytics.latency_dist(integer) (
    SFUNC = nezuko_analytics.latency_dist_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.latency_dist_final,
    COMBINEFUNC = nezuko_analytics.latency_dist_combine,
    SERIALFUNC = nezuko_analytics.latency_dist_serialize,
    DESERIALFUNC = nezuko_analytics.latency_dist_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.latency_dist(integer) IS
  'The exact distribution of the (non-NULL) latencies: percentiles equal percentile_cont; memory grows with distinct values, not rows. Parallel safe.';

CREATE AGGREGATE nezuko_analytics.merge(nezuko_analytics.latency_dist) (
    SFUNC = nezuko_analytics.latency_dist_merge_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.latency_dist_final,
    COMBINEFUNC = nezuko_analytics.latency_dist_combine,
    SERIALFUNC = nezuko_analytics.latency_dist_serialize,
    DESERIALFUNC = nezuko_analytics.latency_dist_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.merge(nezuko_analytics.latency_dist) IS
  'Merges latency_dist values (say hourly or daily states) into one, exactly as if computed over all their rows. Parallel safe.';

CREATE FUNCTION nezuko_analytics.percentile(nezuko_analytics.latency_dist, float8) RETURNS float8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_percentile';
COMMENT ON FUNCTION nezuko_analytics.percentile(nezuko_analytics.latency_dist, float8) IS
  'The p-th percentile (0 <= p <= 1) with linear interpolation, equal to percentile_cont(p); NULL for an empty distribution.';

CREATE FUNCTION nezuko_analytics.percentiles(nezuko_analytics.latency_dist, float8[]) RETURNS float8[]
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_percentiles';
COMMENT ON FUNCTION nezuko_analytics.percentiles(nezuko_analytics.latency_dist, float8[]) IS
  'percentile() for each element of an array, equal to percentile_cont(float8[]): NULL elements give NULL, an empty distribution gives NULL.';

CREATE FUNCTION nezuko_analytics.count(nezuko_analytics.latency_dist) RETURNS bigint
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_count';
COMMENT ON FUNCTION nezuko_analytics.count(nezuko_analytics.latency_dist) IS 'How many latencies the distribution holds.';

CREATE FUNCTION nezuko_analytics.mean(nezuko_analytics.latency_dist) RETURNS float8
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_mean';
COMMENT ON FUNCTION nezuko_analytics.mean(nezuko_analytics.latency_dist) IS
  'The exact mean of the latencies (their sum is kept exactly); NULL for an empty distribution.';

CREATE FUNCTION nezuko_analytics.latency_dist_to_bytes(nezuko_analytics.latency_dist) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_to_bytes';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_to_bytes(nezuko_analytics.latency_dist) IS
  'The compact binary form of a latency_dist (as sent by its binary output), as bytea.';
CREATE FUNCTION nezuko_analytics.latency_dist_from_bytes(bytea) RETURNS nezuko_analytics.latency_dist
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_from_bytes';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_from_bytes(bytea) IS
  'A latency_dist from its compact binary form; rejects malformed, truncated or inconsistent bytes (SQLSTATE 22P03) exactly as binary input does.';
-- Latency buckets and the latency histogram.  The default edges come from
-- the C++ core (kDefaultBucketEdges), their one source.

CREATE FUNCTION nezuko_analytics.default_latency_edges()
RETURNS integer[]
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_default_latency_edges';
COMMENT ON FUNCTION nezuko_analytics.default_latency_edges() IS
  'The default latency bucket edges, {50,100,200,500} ms: the contracts'' buckets ''<50ms'', ''50-100ms'', ''100-200ms'', ''200-500ms'', ''>500ms''. Every function''s default edges are this one value.';

CREATE FUNCTION nezuko_analytics.latency_bucket(latency_ms integer, edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_bucket';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket(integer, integer[]) IS
  'The bucket label of a latency: ''<50ms'', ''50-100ms'', ''100-200ms'', ''200-500ms'', ''>500ms'' for the default edges (buckets are [lower, upper)). Edges must be non-empty, strictly increasing and non-negative; a negative latency is an ERROR.';

CREATE FUNCTION nezuko_analytics.latency_bucket_labels(edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text[]
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_bucket_labels';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_labels(integer[]) IS
  'The labels of all buckets of the edges, in order (one more than there are edges).';

CREATE FUNCTION nezuko_analytics.latency_bucket_counts_add(internal, integer, integer[]) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_add';

CREATE FUNCTION nezuko_analytics.latency_bucket_counts_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_combine';

CREATE FUNCTION nezuko_analytics.latency_bucket_counts_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_serialize';

CREATE FUNCTION nezuko_analytics.latency_bucket_counts_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_deserialize';

CREATE FUNCTION nezuko_analytics.latency_bucket_counts_final(internal) RETURNS bigint[]
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_bucket_counts_final';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_add(internal, integer, integer[]) IS 'Transition function of latency_bucket_counts.';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_combine(internal, internal) IS 'Combine function of latency_bucket_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_serialize(internal) IS 'Serialize function of latency_bucket_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_deserialize(bytea, internal) IS 'Deserialize function of latency_bucket_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_counts_final(internal) IS 'Final function of latency_bucket_counts.';

CREATE AGGREGATE nezuko_analytics.latency_bucket_counts(latency_ms integer, edges integer[]) (
    SFUNC = nezuko_analytics.latency_bucket_counts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.latency_bucket_counts_final,
    COMBINEFUNC = nezuko_analytics.latency_bucket_counts_combine,
    SERIALFUNC = nezuko_analytics.latency_bucket_counts_serialize,
    DESERIALFUNC = nezuko_analytics.latency_bucket_counts_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.latency_bucket_counts(integer, integer[]) IS
  'Counts of non-NULL latencies per bucket of edges, in one pass (one array element per bucket). Parallel safe.';

CREATE FUNCTION nezuko_analytics.latency_dist_buckets(d nezuko_analytics.latency_dist, edges integer[])
RETURNS bigint[] LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_buckets';
COMMENT ON FUNCTION nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist, integer[]) IS
  'The count of d''s values in each bucket of edges, as latency_bucket_counts() counts rows; NULL when d cannot tell (a negative value, or a stored key of 20 significant bits, 2^20 ms and more, with values on both sides of an edge). Example: SELECT nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist(latency_ms), ''{50,100,200,500}'') FROM verification_log;';

CREATE FUNCTION nezuko_analytics.hour_rows(hours jsonb)
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.hour, lpad(h.hour::text, 2, '0') || ':00', h.verified, h.restricted, h.error
    FROM jsonb_to_recordset(hours) AS h(hour integer, verified bigint, restricted bigint, error bigint)
    ORDER BY h.hour
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_rows(jsonb) IS
  'The hours of hour_counts() or of dashboard()''s summary as rows: hour, label ''HH:00'', verifications (verified), restrictions, errors; read by name. Shared by hourly_activity() and dashboard().';
-- The one-pass status counter behind hourly_activity(): each row goes to its
-- local hour through the time zone's offsets (tz_offsets(), in
-- 70_dashboard.sql's words), in the same C++ code as dashboard()'s hours.

CREATE FUNCTION nezuko_analytics.hourly_status_counts_add(internal, timestamptz, text, bigint[]) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_add';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_combine';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_serialize';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_deserialize';

CREATE FUNCTION nezuko_analytics.hourly_status_counts_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_final';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_add(internal, timestamptz, text, bigint[]) IS 'Transition function of hourly_status_counts.';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_combine(internal, internal) IS 'Combine function of hourly_status_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_serialize(internal) IS 'Serialize function of hourly_status_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_deserialize(bytea, internal) IS 'Deserialize function of hourly_status_counts (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_final(internal) IS 'Final function of hourly_status_counts: the 24 hours as keyed JSON.';

CREATE AGGREGATE nezuko_analytics.hourly_status_counts("timestamp" timestamptz, status text, tz_offsets bigint[]) (
    SFUNC = nezuko_analytics.hourly_status_counts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.hourly_status_counts_final,
    COMBINEFUNC = nezuko_analytics.hourly_status_counts_combine,
    SERIALFUNC = nezuko_analytics.hourly_status_counts_serialize,
    DESERIALFUNC = nezuko_analytics.hourly_status_counts_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.hourly_status_counts(timestamptz, text, bigint[]) IS
  'Counts of verified, restricted and error rows by local hour of day (local time from tz_offsets), as text: [{"hour": 0-23, "verified", "restricted", "error"}] for all 24 hours, the form of dashboard()''s hours. Parallel safe.';
-- Latency figures need only "timestamp" and latency_ms: where an index leads
-- with "timestamp" and holds latency_ms (the spec's optional
-- idx_verification_log_timestamp_latency), an index-only scan reads a
-- fraction of the bytes of the table.  The planner prefers a sequential scan
-- for long windows; latency_read() steers the one query that aggregates
-- latencies to the index through a function whose SET clauses turn the other
-- scans off for that call only (no setting changes under a STABLE label).

CREATE FUNCTION nezuko_analytics.time_led_index(bot name, relname text, columns text[])
RETURNS regclass
LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_led_index';
COMMENT ON FUNCTION nezuko_analytics.time_led_index(name, text, text[]) IS
  'The narrowest index of bot.relname that leads with "timestamp" (timestamptz, btree, default ascending order, no expression, no predicate, valid) and holds every column named, else NULL: the one rule that the native reads and the index-only latency reads share.';

CREATE FUNCTION nezuko_analytics.has_time_latency_index(bot name, source text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.time_led_index(bot, source, ARRAY['latency_ms']) IS NOT NULL $$;
COMMENT ON FUNCTION nezuko_analytics.has_time_latency_index(name, text) IS
  'Whether bot.source has an index that leads with "timestamp" and holds latency_ms, by time_led_index()''s rule (an index-only scan can then read latencies by time).';

CREATE FUNCTION nezuko_analytics.latency_read(bot name, source text, query text, since timestamptz, until timestamptz,
                                              arg anyelement)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3  -- the value travels as text: every digit of a float8
AS $$
DECLARE
    result text;
BEGIN
    IF nezuko_analytics.has_time_latency_index(bot, source) THEN
        result := nezuko_analytics.latency_read_index_only(query, since, until, arg);
    ELSE
        EXECUTE query INTO result USING since, until, arg;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_read(name, text, text, timestamptz, timestamptz, anyelement) IS
  'Runs the one latency query of latency_percentiles() or latency_histogram() (parameters $1 since, $2 until, $3 arg) and returns its one value as text: planned for an index-only scan (latency_read_index_only()) when bot.source has a "timestamp"-led index that holds latency_ms, else as the planner likes.';

CREATE FUNCTION nezuko_analytics.latency_read_index_only(query text, since timestamptz, until timestamptz, arg anyelement)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    result text;
BEGIN
    EXECUTE query INTO result USING since, until, arg;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_read_index_only(text, timestamptz, timestamptz, anyelement) IS
  'Runs query with sequential and bitmap scans off, for this call only (the function''s SET clauses; no setting of the caller changes): the index-only scan of a "timestamp"-led index that holds latency_ms.';

-- The native engine of the latency charts (the portable edition has its own,
-- in SQL, with the same names and results).
CREATE FUNCTION nezuko_analytics.bucket_counts(bot name, source text, since timestamptz, until timestamptz, edges integer[])
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
BEGIN
    -- from the rollups' distribution where they serve and it tells every bucket
    counts := nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist_rollups(bot, source, since, until), edges);
    IF counts IS NOT NULL THEN
        RETURN counts;
    END IF;
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, edges)::bigint[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bucket_counts(name, text, timestamptz, timestamptz, integer[]) IS
  'Engine of latency_histogram(): the count of bot.source rows in [since, until) in each latency bucket of edges (validated edges; NULL when the window is empty), from the rollups'' distribution (latency_dist_rollups(), latency_dist_buckets()) where they serve, else through latency_bucket_counts().';

CREATE FUNCTION nezuko_analytics.percentile_values(bot name, source text, since timestamptz, until timestamptz,
                                                   percentiles float8[])
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d nezuko_analytics.latency_dist := nezuko_analytics.latency_dist_rollups(bot, source, since, until);
BEGIN
    IF d IS NOT NULL THEN  -- from the rollups' distribution where they serve
        RETURN nezuko_analytics.percentiles(d, percentiles);
    END IF;
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, percentiles)::float8[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_values(name, text, timestamptz, timestamptz, float8[]) IS
  'Engine of latency_percentiles(): percentile_cont(percentiles) of latency_ms over bot.source rows in [since, until) (NULL without latencies), through a latency_dist: the rollups'' (latency_dist_rollups()) where they serve, else the rows''.';
-- Local time: the UTC offsets of a time zone over a window, found here in
-- SQL (PostgreSQL's own time-zone rules) and applied to each row by the
-- engine that groups by local hour or day: in C++ by the native edition's
-- aggregates (src/core/local_time.hpp), in SQL by the portable edition
-- (local_shift_sql()).  Both editions place every row by the same offsets.

CREATE FUNCTION nezuko_analytics.tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result bigint[];
    prev_offset bigint;
    day_start timestamptz;
    q timestamptz;
    q_offset bigint;
BEGIN
    -- offset(t) = local wall clock - UTC wall clock, in microseconds; the
    -- start of each segment in microseconds since 2000-01-01 UTC.
    FOR day_start IN SELECT generate_series(date_trunc('day', since, 'UTC') - interval '1 day',
                                            until + interval '1 day', interval '1 day') LOOP
        q_offset := (extract(epoch FROM (day_start AT TIME ZONE tz) - (day_start AT TIME ZONE 'UTC')) * 1000000)::bigint;
        IF prev_offset IS NULL THEN
            result := ARRAY[((extract(epoch FROM day_start) - 946684800) * 1000000)::bigint, q_offset];
        ELSIF q_offset <> prev_offset THEN
            -- the offset changed during the previous day: find each quarter hour where it did
            FOR q IN SELECT generate_series(day_start - interval '1 day' + interval '15 minutes', day_start, interval '15 minutes') LOOP
                q_offset := (extract(epoch FROM (q AT TIME ZONE tz) - (q AT TIME ZONE 'UTC')) * 1000000)::bigint;
                IF q_offset <> prev_offset THEN
                    result := result || ARRAY[((extract(epoch FROM q) - 946684800) * 1000000)::bigint, q_offset];
                    prev_offset := q_offset;
                END IF;
            END LOOP;
        END IF;
        prev_offset := q_offset;
    END LOOP;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.tz_offsets(timestamptz, timestamptz, text) IS
  'The UTC offsets of time zone tz over [since, until) as (segment start, offset) pairs in microseconds (starts since 2000-01-01 UTC), found to the quarter hour; what the engines use to place each row in its local hour and day.';

CREATE FUNCTION nezuko_analytics.window_tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    -- Privileges before any per-day work: a role that may not read the
    -- table gets the query's error at once, whatever the window.
    PERFORM nezuko_analytics.require_select(bot, 'verification_log');
    IF isfinite(since) AND isfinite(until) AND until - since <= interval '400 days' THEN
        RETURN nezuko_analytics.tz_offsets(since, until, tz);
    END IF;
    -- An open window (the contracts' "since now() - period") or a long one:
    -- only the span that holds rows needs offsets, found by two index
    -- probes, so the per-day work is bounded by the data present.  Rows at
    -- +-infinity belong to no local hour or day.
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        RETURN NULL;  -- no rows: local time is never asked for
    END IF;
    -- Offsets are looked up from 1900 to 2100 at most (a row outside takes
    -- the offset of the nearest end): at most 200 years of per-day work,
    -- whatever timestamps the table holds.
    first_row := least(greatest(first_row, timestamptz '1900-01-01 00:00+00'), timestamptz '2100-01-01 00:00+00');
    last_row := least(greatest(last_row, first_row), timestamptz '2100-01-01 00:00+00');
    RETURN nezuko_analytics.tz_offsets(first_row, last_row, tz);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_tz_offsets(timestamptz, timestamptz, text) IS
  'tz_offsets() for a window [since, until): over the window itself when both ends are finite and at most 400 days apart, else over the span of the bot''s verification_log rows in it (NULL when none), within 1900 to 2100 (a row outside takes the offset of the nearest end), so the per-day work is bounded; checks USAGE and SELECT first. What both editions place rows in local hours and days with.';
-- The latency charts: validation and shaping here, the counting in the
-- edition's engine (bucket_counts(), percentile_values()).

CREATE FUNCTION nezuko_analytics.latency_histogram(
    since timestamptz,
    until timestamptz DEFAULT now(),
    edges integer[] DEFAULT nezuko_analytics.default_latency_edges(),
    source text DEFAULT 'verification_log')
RETURNS TABLE (bucket text, lower_ms integer, upper_ms integer, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
    labels text[];
    total bigint;
    bot name;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_histogram');
    IF edges IS NULL THEN
        RAISE EXCEPTION 'latency_histogram: edges must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    labels := nezuko_analytics.latency_bucket_labels(edges);  -- validates the edges
    bot := nezuko_analytics.bot_schema();
    counts := nezuko_analytics.bucket_counts(bot, source, since, until, edges);
    counts := coalesce(counts, array_fill(0::bigint, ARRAY[cardinality(labels)]));
    SELECT sum(c) INTO total FROM unnest(counts) c;
    RETURN QUERY
    SELECT labels[i], CASE WHEN i = 1 THEN 0 ELSE edges[i - 1] END, edges[i], counts[i],
           nezuko_analytics.percent(counts[i], total)
    FROM generate_series(1, cardinality(labels)) i
    ORDER BY i;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_histogram(timestamptz, timestamptz, integer[], text) IS
  'Latency histogram of [since, until) from verification_log or api_call_log: every bucket (zero counts too), percentage of rows with a latency, round(.., 1); one pass, parallel when the window is large, index-only when a "timestamp"-led index holds latency_ms.';

CREATE FUNCTION nezuko_analytics.latency_percentiles(
    since timestamptz,
    until timestamptz DEFAULT now(),
    percentiles float8[] DEFAULT '{0.5,0.95,0.99}',
    source text DEFAULT 'verification_log')
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_percentiles');
    IF percentiles IS NULL THEN
        RAISE EXCEPTION 'latency_percentiles: percentiles must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN nezuko_analytics.percentile_values(nezuko_analytics.bot_schema(), source, since, until, percentiles);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_percentiles(timestamptz, timestamptz, float8[], text) IS
  'Exact latency percentiles of [since, until) from verification_log or api_call_log, equal to percentile_cont(percentiles); NULL for a window without latencies. Reads through an index-only scan when a "timestamp"-led index holds latency_ms.';
-- The native engine of dashboard() and the trend contracts: the one-pass
-- C++ aggregates over verification_log and api_call_log, and the functions
-- that run them over a window.  Their documents are keyed JSON; the portable
-- edition builds the same documents in SQL (sql/portable/47_window_summary.sql).

CREATE FUNCTION nezuko_analytics.verification_summary_add(internal, timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_add';

CREATE FUNCTION nezuko_analytics.verification_summary_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_combine';

CREATE FUNCTION nezuko_analytics.verification_summary_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_serialize';

CREATE FUNCTION nezuko_analytics.verification_summary_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_deserialize';

CREATE FUNCTION nezuko_analytics.verification_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_final_keyed';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_add(internal, timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS 'Transition function of verification_summary.';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_combine(internal, internal) IS 'Combine function of verification_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_serialize(internal) IS 'Serialize function of verification_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_deserialize(bytea, internal) IS 'Deserialize function of verification_summary (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_final(internal) IS 'Final function of verification_summary: the JSON document, every figure by name.';

CREATE AGGREGATE nezuko_analytics.verification_summary(
    "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary(timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS
  'Every verification_log chart in one pass: totals by status, cached, latency buckets and exact p50/p95/p99, counts per local hour, the top groups, per local day count, verified, cached, latency sum and exact p95 (local time from tz_offsets), and the same totals for rows at or after recent_since. Returns JSON text with every figure by name (docs/dashboard.md). Parallel safe.';

CREATE FUNCTION nezuko_analytics.api_summary_add(internal, text, boolean, integer) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_add';

CREATE FUNCTION nezuko_analytics.api_summary_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_combine';

CREATE FUNCTION nezuko_analytics.api_summary_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_serialize';

CREATE FUNCTION nezuko_analytics.api_summary_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_deserialize';

CREATE FUNCTION nezuko_analytics.api_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_final_keyed';
COMMENT ON FUNCTION nezuko_analytics.api_summary_add(internal, text, boolean, integer) IS 'Transition function of api_summary.';
COMMENT ON FUNCTION nezuko_analytics.api_summary_combine(internal, internal) IS 'Combine function of api_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.api_summary_serialize(internal) IS 'Serialize function of api_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.api_summary_deserialize(bytea, internal) IS 'Deserialize function of api_summary (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.api_summary_final(internal) IS 'Final function of api_summary: the JSON document, every figure by name.';

CREATE AGGREGATE nezuko_analytics.api_summary(method text, success boolean, latency_ms integer) (
    SFUNC = nezuko_analytics.api_summary_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary(text, boolean, integer) IS
  'Every api_call_log chart in one pass: calls, successes, failures, latency sum and exact p95, and per method the same with p50. Returns JSON text with every figure by name (docs/dashboard.md). Parallel safe.';

CREATE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
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

CREATE FUNCTION nezuko_analytics.api_window_summary(bot name, since timestamptz, until timestamptz)
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

CREATE FUNCTION nezuko_analytics.day_summary(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                             with_latency boolean)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.window_summary(since, until, tz, 1, recent_since) $$;
COMMENT ON FUNCTION nezuko_analytics.day_summary(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'Engine of the trend contracts: of window_summary(), what they read by name: days (date, count, verified, cached, latency_count, latency_sum, p95), the window''s latency_count and latency_sum, and recent (totals at or after recent_since). The native edition gives the whole summary of its one pass (with_latency asks nothing less of it).';
-- The native engine of hourly_activity() and method_distribution(): one
-- pass through the C++ aggregates.  The portable edition defines the same
-- functions in SQL (sql/portable/48_chart_engine.sql).

CREATE FUNCTION nezuko_analytics.hour_counts(bot name, since timestamptz, until timestamptz, tz text)
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

CREATE FUNCTION nezuko_analytics.method_figures(bot name, since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, ok bigint, avg_latency numeric, p50 float8, p95 float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb := nezuko_analytics.api_summary_from_rollups(bot, since, until);
BEGIN
    -- from the rollups, unless a method is '' (they keep a NULL method as
    -- '', which the query keeps apart)
    IF a IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(a->'methods') e WHERE e->>'method' = '') THEN
        RETURN QUERY
        SELECT m.method, m.calls, m.failures, m.ok,
               CASE WHEN m.latency_count = 0 THEN NULL ELSE m.latency_sum::numeric / m.latency_count END, m.p50, m.p95
        FROM jsonb_to_recordset(a->'methods') AS m(method text, calls bigint, failures bigint, ok bigint,
                                                   latency_count bigint, latency_sum bigint, p50 float8, p95 float8);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT m.method, m.calls, m.failures, m.ok, m.avg_latency,
               nezuko_analytics.percentile(m.d, 0.5), nezuko_analytics.percentile(m.d, 0.95)
        FROM (SELECT a.method::text AS method, count(*) AS calls,
                     count(*) FILTER (WHERE NOT a.success) AS failures,
                     count(*) FILTER (WHERE a.success) AS ok,
                     avg(a.latency_ms) AS avg_latency,
                     nezuko_analytics.latency_dist(a.latency_ms) AS d
              FROM %I.api_call_log a
              WHERE a."timestamp" >= $1 AND a."timestamp" < $2
              GROUP BY a.method) m$q$, bot)
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_figures(name, timestamptz, timestamptz) IS
  'Engine of method_distribution(): per method of bot.api_call_log in [since, until), unordered: calls, failures (success = false), ok (success = true), avg latency, exact p50 and p95 (percentile_cont, through a latency_dist). From the rollups where they serve (api_summary_from_rollups()) and no method is empty, else one query.';
-- The typed charts' way to the rollups (docs/rollups.md): the summary of a
-- window from the native edition's rollups, where the edition has them and
-- they serve this window; NULL otherwise (the portable edition has none),
-- and then the caller reads the raw rows.

CREATE FUNCTION nezuko_analytics.verification_summary_from_rollups(since timestamptz, until timestamptz, top_groups integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    -- the summary leaves out rows dated -infinity, which these charts count
    -- in a window from -infinity
    IF NOT isfinite(since)
       OR to_regprocedure('nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    -- the summary refuses a negative latency, which these charts may not
    -- read: then raw rows
    BEGIN
        EXECUTE 'SELECT nezuko_analytics.window_summary_rollups($1, $2, ''UTC'', $3, NULL)' INTO v
            USING since, until, top_groups;
    EXCEPTION WHEN invalid_parameter_value THEN
        v := NULL;
    END;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_summary_from_rollups(timestamptz, timestamptz, integer) IS
  'The summary of verification_log over [since, until) from the rollups (window_summary_rollups() in UTC, with top_groups groups) where this edition has them and they serve the window; NULL otherwise, for a window from -infinity (the summary leaves out rows dated -infinity), or when a negative latency makes the summary refuse it. Used by the typed charts (verification_distribution(), bot_health(), groups_from_rollups()).';

-- The top groups from the rollups: they count a NULL group_id as 0, which
-- the queries keep apart, so with group 0 among them the caller reads raw rows.
CREATE FUNCTION nezuko_analytics.groups_from_rollups(since timestamptz, until timestamptz, top integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    groups jsonb := nezuko_analytics.verification_summary_from_rollups(since, until, top)->'groups';
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(groups) e WHERE (e->>'group_id')::bigint = 0) THEN
        RETURN NULL;
    END IF;
    RETURN groups;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_from_rollups(timestamptz, timestamptz, integer) IS
  'The top groups of verification_log over [since, until) from the rollups, [{"group_id", "count", "verified"}] most first, then by id (verification_summary_from_rollups()); NULL where those give nothing or group 0 is among them (the rollups count a NULL group_id as 0). Used by top_groups() and the native group_counts_rollups().';

CREATE FUNCTION nezuko_analytics.api_summary_from_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb;
BEGIN
    IF to_regprocedure('nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE 'SELECT nezuko_analytics.api_window_summary_rollups($1, $2, $3)' INTO a USING bot, since, until;
    EXCEPTION WHEN invalid_parameter_value THEN
        a := NULL;
    END;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_summary_from_rollups(name, timestamptz, timestamptz) IS
  'The summary of bot.api_call_log over [since, until) from the rollups (api_window_summary_rollups()) where this edition has them and they serve the window; NULL otherwise. Used by bot_health() and the native method_figures().';
-- The typed chart functions.  Each reads the bot's tables (in the schema
-- apply_schema() recorded) once, through dynamic SQL so the planner sees the
-- real window: an index scan on "timestamp" for short windows, a parallel
-- sequential scan for long ones.

CREATE FUNCTION nezuko_analytics.verification_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (status text, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    -- from the rollups when every row has one of the three statuses (the
    -- rollups do not keep the names of the others)
    v := nezuko_analytics.verification_summary_from_rollups(since, until, 1);
    IF (v->>'total')::bigint = (v->>'verified')::bigint + (v->>'restricted')::bigint + (v->>'error')::bigint THEN
        RETURN QUERY
        SELECT k.status, k.n, nezuko_analytics.percent(k.n, (v->>'total')::bigint)
        FROM (VALUES ('verified', (v->>'verified')::bigint, 1), ('restricted', (v->>'restricted')::bigint, 2),
                     ('error', (v->>'error')::bigint, 3)) k(status, n, ord)
        ORDER BY k.ord;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH counted AS (
            SELECT v.status::text AS status, count(*) AS n
            FROM %I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY v.status),
        known(status, ord) AS (VALUES ('verified', 1), ('restricted', 2), ('error', 3)),
        merged AS (
            SELECT status, coalesce(c.n, 0) AS n, coalesce(k.ord, 4) AS ord
            FROM known k FULL JOIN counted c USING (status))
        SELECT status, n,
               nezuko_analytics.percent(n, sum(n) OVER ())
        FROM merged ORDER BY ord, status$q$, nezuko_analytics.bot_schema())
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_distribution(timestamptz, timestamptz) IS
  'Verifications in [since, until) by status: verified, restricted and error always (zero counts too), then any other status; percentage round(.., 1), 0 for an empty window. From the rollups where they serve (verification_summary_from_rollups()) and no row has another status, else one query.';

CREATE FUNCTION nezuko_analytics.hourly_activity(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'hourly_activity: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR here, before any scan
    RETURN QUERY SELECT * FROM nezuko_analytics.hour_rows(
        nezuko_analytics.hour_counts(nezuko_analytics.bot_schema(), since, until, tz));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hourly_activity(timestamptz, timestamptz, text) IS
  'Verifications in [since, until) by hour of day in time zone tz (DST and half-hour zones right): 24 rows, zero-filled, label ''HH:00''; counts of verified, restricted and error rows. One pass (the edition''s hour_counts()).';

CREATE FUNCTION nezuko_analytics.top_groups(since timestamptz, until timestamptz DEFAULT now(), n integer DEFAULT 10)
RETURNS TABLE (group_id bigint, title text, member_count integer, verifications bigint, success_rate numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    groups jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'top_groups: n must be at least 1, not %', coalesce(n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    groups := nezuko_analytics.groups_from_rollups(since, until, n);
    IF groups IS NOT NULL THEN
        RETURN QUERY EXECUTE format($q$
            SELECT g.group_id, coalesce(p.title::text, 'Group ' || g.group_id), p.member_count::integer, g.count,
                   nezuko_analytics.percent(g.verified, g.count)
            FROM jsonb_to_recordset($1) AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN %I.protected_groups p ON p.group_id = g.group_id
            ORDER BY g.count DESC, g.group_id$q$, nezuko_analytics.bot_schema())
        USING groups;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH g AS (
            SELECT v.group_id::bigint AS group_id, count(*) AS n,
                   count(*) FILTER (WHERE v.status = 'verified') AS ok
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY v.group_id
            ORDER BY n DESC, v.group_id
            LIMIT $3)
        SELECT g.group_id, coalesce(p.title::text, 'Group ' || g.group_id), p.member_count::integer, g.n,
               nezuko_analytics.percent(g.ok, g.n)
        FROM g LEFT JOIN %1$I.protected_groups p ON p.group_id = g.group_id
        ORDER BY g.n DESC, g.group_id$q$, nezuko_analytics.bot_schema())
    USING since, until, n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.top_groups(timestamptz, timestamptz, integer) IS
  'The n groups with the most verifications in [since, until), ties broken by group_id: title (else ''Group <id>''), member_count, verifications, success_rate (percent verified, round(.., 1)). n must be at least 1. From the rollups where they serve (groups_from_rollups()), else one query.';

CREATE FUNCTION nezuko_analytics.method_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (method text, calls bigint, failures bigint, success_rate numeric, percentage numeric,
               avg_latency_ms numeric, p50_latency_ms numeric, p95_latency_ms numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY
    SELECT m.method, m.calls, m.failures, nezuko_analytics.percent(m.ok, m.calls),
           nezuko_analytics.percent(m.calls, sum(m.calls) OVER ()), round(m.avg_latency, 0),
           nezuko_analytics.round_ms(m.p50), nezuko_analytics.round_ms(m.p95)
    FROM nezuko_analytics.method_figures(nezuko_analytics.bot_schema(), since, until) m
    ORDER BY m.calls DESC, m.method;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_distribution(timestamptz, timestamptz) IS
  'API calls in [since, until) by method, most calls first, then by method: failures (success = false), success_rate and percentage of all calls (round(.., 1)), avg latency round(.., 0), exact p50 and p95 latency (percentile_cont) rounded to 0.01 ms.';

CREATE FUNCTION nezuko_analytics.health_figures(
    api_calls bigint, api_ok bigint, verifications bigint, cached bigint, verified bigint, errors bigint,
    avg_latency numeric,
    OUT api_success_rate numeric, OUT cache_efficiency numeric, OUT success_rate numeric,
    OUT avg_latency_ms numeric, OUT error_rate numeric, OUT overall_score numeric)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.api, h.cache, h.ok, coalesce(avg_latency, 0), h.err,
           round(0.35 * h.api + 0.30 * h.ok
                 + 0.20 * CASE WHEN avg_latency IS NULL OR avg_latency < 50 THEN 100 WHEN avg_latency < 100 THEN 90
                               WHEN avg_latency < 200 THEN 75 WHEN avg_latency < 500 THEN 50 ELSE 25 END
                 + 0.10 * h.cache + 0.05 * (100 - h.err), 1)
    FROM (SELECT nezuko_analytics.percent(api_ok, api_calls) AS api,
                 nezuko_analytics.percent(cached, verifications) AS cache,
                 nezuko_analytics.percent(verified, verifications) AS ok,
                 nezuko_analytics.percent(errors, verifications) AS err) h
$$;
COMMENT ON FUNCTION nezuko_analytics.health_figures(bigint, bigint, bigint, bigint, bigint, bigint, numeric) IS
  'get_bot_health''s figures from raw counts (avg_latency already rounded, NULL without latencies): the percentages, and overall_score = 35% API success + 30% success rate + 20% latency score (avg < 50 ms: 100, < 100: 90, < 200: 75, < 500: 50, else 25; no data: 100) + 10% cache efficiency + 5% (100 - error rate), round(.., 1). Shared by bot_health() and dashboard().';

CREATE FUNCTION nezuko_analytics.bot_health(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (api_success_rate numeric, cache_efficiency numeric, success_rate numeric,
               avg_latency_ms numeric, error_rate numeric, overall_score numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    v record;
    rv jsonb;
    ra jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    -- from the rollups where both tables' serve
    rv := nezuko_analytics.verification_summary_from_rollups(since, until, 1);
    ra := CASE WHEN rv IS NOT NULL THEN nezuko_analytics.api_summary_from_rollups(nezuko_analytics.bot_schema(), since, until) END;
    IF ra IS NOT NULL THEN
        RETURN QUERY SELECT * FROM nezuko_analytics.health_figures(
            (ra->>'calls')::bigint, (ra->>'ok')::bigint, (rv->>'total')::bigint, (rv->>'cached')::bigint,
            (rv->>'verified')::bigint, (rv->>'error')::bigint,
            CASE WHEN (rv->>'latency_count')::bigint = 0 THEN NULL
                 ELSE round((rv->>'latency_sum')::numeric / (rv->>'latency_count')::numeric, 0) END);
        RETURN;
    END IF;
    EXECUTE format($q$
        SELECT count(*) AS calls, count(*) FILTER (WHERE a.success) AS ok
        FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2$q$, nezuko_analytics.bot_schema())
        INTO a USING since, until;
    EXECUTE format($q$
        SELECT count(*) AS n,
               count(*) FILTER (WHERE v.cached) AS hits,
               count(*) FILTER (WHERE v.status = 'verified') AS ok,
               count(*) FILTER (WHERE v.status = 'error') AS errors,
               round(avg(v.latency_ms), 0) AS avg_latency
        FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2$q$, nezuko_analytics.bot_schema())
        INTO v USING since, until;
    RETURN QUERY SELECT * FROM nezuko_analytics.health_figures(a.calls, a.ok, v.n, v.hits, v.ok, v.errors, v.avg_latency);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bot_health(timestamptz, timestamptz) IS
  'Bot health in [since, until) as get_bot_health computes it: api_success_rate, cache_efficiency, success_rate, avg_latency_ms, error_rate (percentages round(.., 1), 0 for an empty window) and overall_score = 35% API success + 30% success rate + 20% latency score (avg < 50 ms: 100, < 100: 90, < 200: 75, < 500: 50, else 25; no data: 100) + 10% cache efficiency + 5% (100 - error rate), round(.., 1). From the rollups where both tables'' serve (verification_summary_from_rollups(), api_summary_from_rollups()), else two queries.';
-- One batch of a prune, as the table's owner (src/pg/prune_batch.cpp).
CREATE FUNCTION nezuko_analytics.prune_batch(target regclass, time_column name, cutoff timestamptz,
                                             batch_size integer, ordered boolean)
RETURNS bigint LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_prune_batch';
COMMENT ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) IS
  'Deletes at most batch_size rows of target itself (not of its inheritance children; a partitioned table is refused) whose time_column is before cutoff (oldest first when ordered) and returns how many: as the table''s owner, inside a security-restricted operation, with search_path = pg_catalog, pg_temp (as VACUUM runs user code). The caller must hold SELECT and DELETE on the table and see it without row-level security. Used by prune().';
-- Retention: policies, a batched prune procedure that pg_cron runs, a log of
-- every run, and scheduling helpers.  The script only creates empty,
-- config-dumped tables and code; apply_schema() registers the policies and
-- schedules the job (a restore must not meet a second copy of either).

CREATE TABLE nezuko_analytics.retention_policy (
    table_name  text PRIMARY KEY
                CHECK (table_name IN ('api_call_log', 'verification_log',
                                      'nezuko_analytics.retention_runs', 'cron.job_run_details')),
    time_column name NOT NULL DEFAULT 'timestamp',
    keep        interval NOT NULL CHECK (keep > interval '0'),
    enabled     boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE nezuko_analytics.retention_policy IS
  'How long each managed table keeps its rows: rows whose time_column is older than now() - keep are pruned by prune(). Tables by name (unqualified = the bot''s schema recorded by apply_schema()), never by OID. Change with UPDATE or set_retention().';

CREATE TABLE nezuko_analytics.retention_runs (
    started_at    timestamptz NOT NULL,
    table_name    text NOT NULL,
    finished_at   timestamptz,
    cutoff        timestamptz,
    rows_deleted  bigint NOT NULL DEFAULT 0,
    batches       integer NOT NULL DEFAULT 0,
    status        text NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'error', 'interrupted')),
    error_message text,
    pid           integer,  -- the backend that ran it (a running row whose backend is gone was interrupted)
    PRIMARY KEY (started_at, table_name)
);

CREATE INDEX retention_runs_finished_at ON nezuko_analytics.retention_runs (finished_at);
COMMENT ON INDEX nezuko_analytics.retention_runs_finished_at IS
  'Lets prune() remove retention_runs rows older than their own policy through the index.';
COMMENT ON TABLE nezuko_analytics.retention_runs IS
  'One row per table per prune() run: cutoff, rows deleted, batches, status (ok, partial when max_runtime stopped it, error, interrupted when a cancel, a timeout or the end of its session stopped it) and the error message. Pruned itself by its own policy.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.retention_policy', '');

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.retention_runs', '');

-- The qualified name of a policy's table, or NULL when it does not exist.
CREATE FUNCTION nezuko_analytics.retention_target(table_name text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF position('.' IN table_name) > 0 THEN
        RETURN to_regclass(table_name);
    END IF;
    RETURN to_regclass(format('%I.%I', nezuko_analytics.bot_schema(), table_name));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.retention_target(text) IS
  'The table a retention policy names (unqualified names are in the bot''s schema), or NULL when it does not exist.';

CREATE FUNCTION nezuko_analytics.register_retention_policies()
RETURNS TABLE (table_name text, description text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    FOR p IN
        SELECT * FROM (VALUES ('api_call_log', 'timestamp'::name, '90 days'),
                              ('verification_log', 'timestamp', '90 days'),
                              ('nezuko_analytics.retention_runs', 'finished_at', '90 days'),
                              ('cron.job_run_details', 'end_time', '14 days')) v(t, c, k)
        WHERE v.t <> 'cron.job_run_details' OR to_regclass('cron.job_run_details') IS NOT NULL
    LOOP
        INSERT INTO nezuko_analytics.retention_policy AS r (table_name, time_column, keep)
        VALUES (p.t, p.c, p.k::interval) ON CONFLICT ON CONSTRAINT retention_policy_pkey DO NOTHING;
        IF FOUND THEN
            table_name := p.t;
            description := format('registered retention policy: %s keeps %s (on %I)', p.t, p.k, p.c);
            RETURN NEXT;
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.register_retention_policies() IS
  'Registers the default retention policies that are absent (api_call_log and verification_log 90 days, retention_runs 90 days, cron.job_run_details 14 days when pg_cron''s tables are in this database); called by apply_schema().';

CREATE FUNCTION nezuko_analytics.set_retention(table_name text, keep interval)
RETURNS nezuko_analytics.retention_policy
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result nezuko_analytics.retention_policy;
BEGIN
    IF keep IS NULL OR keep <= interval '0' THEN
        RAISE EXCEPTION 'set_retention: keep must be a positive interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE nezuko_analytics.retention_policy p SET keep = set_retention.keep
    WHERE p.table_name = set_retention.table_name
    RETURNING p.* INTO result;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'set_retention: nezuko_analytics manages no table named %', coalesce(quote_literal(table_name), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = (SELECT 'Managed tables: ' || string_agg(p.table_name, ', ' ORDER BY p.table_name)
                          FROM nezuko_analytics.retention_policy p);
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.set_retention(text, interval) IS
  'Sets how long a managed table keeps its rows; rejects a zero, negative or NULL interval and tables without a policy.';

CREATE FUNCTION nezuko_analytics.prune_preview(as_of timestamptz DEFAULT now())
RETURNS TABLE (table_name text, cutoff timestamptz, rows_to_delete bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    target regclass;
BEGIN
    FOR p IN SELECT * FROM nezuko_analytics.retention_policy WHERE enabled ORDER BY 1 LOOP
        target := nezuko_analytics.retention_target(p.table_name);
        table_name := p.table_name;
        cutoff := coalesce(as_of, now()) - p.keep;
        rows_to_delete := NULL;
        IF target IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE %I < $1', target, p.time_column)
                INTO rows_to_delete USING cutoff;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.prune_preview(timestamptz) IS
  'What prune() would delete (now, or as of as_of): per enabled policy, the cutoff and the number of rows older than it (NULL when the table does not exist).';

CREATE FUNCTION nezuko_analytics.pin_prune_settings()
RETURNS void LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
BEGIN
    -- Transaction-local, so prune() calls this again after every COMMIT.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true),
            pg_catalog.set_config('synchronous_commit', 'off', true);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.pin_prune_settings() IS
  'Sets, for the current transaction of prune(), search_path = pg_catalog, pg_temp (no name of prune() resolves through a schema another role can write) and synchronous_commit = off (its commits never make the bot''s inserts wait). prune() cannot carry a SET clause: it COMMITs.';

-- No SET clause: a procedure with one cannot COMMIT.  pin_prune_settings()
-- pins the search path before the first statement and after every COMMIT.
CREATE PROCEDURE nezuko_analytics.prune(batch_size integer DEFAULT 10000,
                                        max_runtime interval DEFAULT '10 minutes',
                                        as_of timestamptz DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    run_start timestamptz := pg_catalog.clock_timestamp();
    reference_time timestamptz;
    deadline timestamptz;
    p record;
    target regclass;
    run_cutoff timestamptz;
    ordered boolean;
    n bigint;
    err text;
    first_batch boolean := true;
    table_status text;
BEGIN
    PERFORM nezuko_analytics.pin_prune_settings();
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'prune: batch_size must be at least 1, not %', coalesce(batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_runtime IS NULL OR max_runtime <= interval '0' THEN
        RAISE EXCEPTION 'prune: max_runtime must be a positive interval, not %', coalesce(max_runtime::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF as_of > run_start THEN
        RAISE EXCEPTION 'prune: as_of is in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('as_of = %s, the run started at %s; a cutoff computed from a future time could delete rows inside the retention window.', as_of, run_start);
    END IF;
    reference_time := coalesce(as_of, run_start);
    deadline := run_start + max_runtime;
    -- Runs that a cancel, a timeout or the end of their session stopped:
    -- their backend is gone, or it is this one (which starts anew).
    UPDATE nezuko_analytics.retention_runs r
       SET status = 'interrupted', finished_at = run_start,
           error_message = 'the run was interrupted (cancelled, timed out, or its session ended)'
     WHERE r.status = 'running'
       AND (r.pid = pg_catalog.pg_backend_pid()
            OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = r.pid));
    COMMIT;
    PERFORM nezuko_analytics.pin_prune_settings();
    FOR p IN SELECT * FROM nezuko_analytics.retention_policy WHERE enabled ORDER BY table_name LOOP
        run_cutoff := reference_time - p.keep;  -- once, at the start of the run
        INSERT INTO nezuko_analytics.retention_runs (started_at, table_name, cutoff, status, pid)
        VALUES (run_start, p.table_name, run_cutoff, 'running', pg_catalog.pg_backend_pid());
        COMMIT;
        PERFORM nezuko_analytics.pin_prune_settings();
        -- The table, resolved once per run to its OID.
        target := nezuko_analytics.retention_target(p.table_name);
        IF target IS NULL THEN
            UPDATE nezuko_analytics.retention_runs SET status = 'error', finished_at = pg_catalog.clock_timestamp(),
                   error_message = format('table %s does not exist', p.table_name)
            WHERE started_at = run_start AND table_name = p.table_name;
            COMMIT;
            PERFORM nezuko_analytics.pin_prune_settings();
            CONTINUE;
        END IF;
        -- Walk the time index when there is one (oldest rows first).
        SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                       WHERE i.indrelid = target::pg_catalog.oid AND a.attname = p.time_column)
            INTO ordered;
        table_status := 'ok';
        LOOP
            IF NOT first_batch AND pg_catalog.clock_timestamp() >= deadline THEN
                table_status := 'partial';  -- the next run resumes from the oldest rows left
                EXIT;
            END IF;
            first_batch := false;
            err := NULL;
            BEGIN
                n := nezuko_analytics.prune_batch(target, p.time_column, run_cutoff, batch_size, ordered);
            EXCEPTION WHEN OTHERS THEN  -- a cancel or timeout is not caught: it ends the run
                err := SQLERRM;
            END;
            IF err IS NOT NULL THEN
                table_status := 'error';
                UPDATE nezuko_analytics.retention_runs SET error_message = err
                WHERE started_at = run_start AND table_name = p.table_name;
                EXIT;
            END IF;
            UPDATE nezuko_analytics.retention_runs
               SET rows_deleted = rows_deleted + n, batches = batches + 1
             WHERE started_at = run_start AND table_name = p.table_name;
            COMMIT;  -- short locks and snapshots; vacuum can keep up
            PERFORM nezuko_analytics.pin_prune_settings();
            EXIT WHEN n < batch_size;
        END LOOP;
        UPDATE nezuko_analytics.retention_runs SET status = table_status, finished_at = pg_catalog.clock_timestamp()
        WHERE started_at = run_start AND table_name = p.table_name;
        COMMIT;
        PERFORM nezuko_analytics.pin_prune_settings();
    END LOOP;
END;
$$;
COMMENT ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) IS
  'Deletes rows older than each enabled policy''s keep (cutoff computed once at the start, from as_of when given, which must not be in the future; rows exactly on the cutoff and rows with a NULL time are kept), in batches of batch_size through the time index, each batch as the table''s owner in a security-restricted operation (prune_batch()), COMMITting (asynchronously) between batches with the search path pinned to pg_catalog, pg_temp; stops at max_runtime (status partial; the next run resumes) and logs one retention_runs row per table. An error in one table is logged and the other tables still run; a cancel or timeout ends the run, and the next run marks its rows interrupted. Run it with CALL, alone (pg_cron: CALL nezuko_analytics.prune()).';
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
-- dashboard(): every window-based chart in one document, from one scan of
-- verification_log and one of api_call_log in the window.

CREATE FUNCTION nezuko_analytics.summary_days(summary jsonb)
RETURNS TABLE ("date" date, verifications bigint, verified bigint, cached bigint,
               latency_count bigint, latency_sum bigint, p95_ms float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.date, d.count, d.verified, d.cached, d.latency_count, d.latency_sum, d.p95
    FROM jsonb_to_recordset(summary->'days')
         AS d("date" date, count bigint, verified bigint, cached bigint, latency_count bigint, latency_sum bigint, p95 float8)
    ORDER BY d.date
$$;
COMMENT ON FUNCTION nezuko_analytics.summary_days(jsonb) IS
  'The local days of a window_summary() as rows, read by name: date, verifications, verified, cached, latency_count, latency_sum, exact p95_ms. Shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.dashboard(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name;
    v jsonb;
    a jsonb;
    latency_avg numeric;
    health jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'dashboard: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR before any scan
    bot := nezuko_analytics.bot_schema();
    v := nezuko_analytics.window_summary(since, until, tz);
    a := nezuko_analytics.api_window_summary(bot, since, until);
    latency_avg := CASE WHEN (v->>'latency_count')::bigint = 0 THEN NULL
                        ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END;
    health := to_jsonb(nezuko_analytics.health_figures(
        (a->>'calls')::bigint, (a->>'ok')::bigint, (v->>'total')::bigint, (v->>'cached')::bigint,
        (v->>'verified')::bigint, (v->>'error')::bigint, latency_avg));

    RETURN jsonb_build_object(
        'window', jsonb_build_object('since', since, 'until', until, 'tz', tz),
        'totals', jsonb_build_object(
            'verifications', (v->>'total')::bigint, 'verified', (v->>'verified')::bigint,
            'restricted', (v->>'restricted')::bigint, 'error', (v->>'error')::bigint,
            'cached', (v->>'cached')::bigint, 'with_latency', (v->>'latency_count')::bigint,
            'api_calls', (a->>'calls')::bigint, 'api_failures', (a->>'failures')::bigint),
        'verification_distribution', jsonb_build_object(
            'verified', (v->>'verified')::bigint, 'restricted', (v->>'restricted')::bigint,
            'error', (v->>'error')::bigint, 'total', (v->>'total')::bigint),
        'cache_breakdown', jsonb_build_object(
            'cached', (v->>'cached')::bigint, 'api', (v->>'total')::bigint - (v->>'cached')::bigint,
            'total', (v->>'total')::bigint,
            'hit_rate', nezuko_analytics.percent((v->>'cached')::numeric, (v->>'total')::numeric)),
        'hourly_activity', (
            SELECT jsonb_agg(jsonb_build_object('hour', h.hour, 'label', h.label, 'verifications', h.verifications,
                                                'restrictions', h.restrictions, 'errors', h.errors) ORDER BY h.hour)
            FROM nezuko_analytics.hour_rows(v->'hours') h),
        'latency', jsonb_build_object(
            'histogram', (
                SELECT jsonb_agg(jsonb_build_object('bucket', b.bucket, 'lower_ms', b.lower_ms, 'upper_ms', b.upper_ms,
                                                    'count', b.count,
                                                    'percentage', nezuko_analytics.percent(b.count, (v->>'latency_count')::numeric))
                                 ORDER BY b.lower_ms)
                FROM jsonb_to_recordset(v->'buckets') AS b(bucket text, lower_ms integer, upper_ms integer, count bigint)),
            'p50_ms', nezuko_analytics.round_ms((v->>'p50')::float8),
            'p95_ms', nezuko_analytics.round_ms((v->>'p95')::float8),
            'p99_ms', nezuko_analytics.round_ms((v->>'p99')::float8),
            'avg_ms', latency_avg),
        'top_groups', coalesce((
            SELECT jsonb_agg(jsonb_build_object('group_id', g.group_id, 'title', coalesce(p.title, 'Group ' || g.group_id),
                                                'member_count', p.member_count, 'verifications', g.count,
                                                'success_rate', nezuko_analytics.percent(g.verified, g.count))
                             ORDER BY g.count DESC, g.group_id)
            FROM jsonb_to_recordset(v->'groups') AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN nezuko_analytics.group_titles(
                          bot, ARRAY(SELECT (e->>'group_id')::bigint FROM jsonb_array_elements(v->'groups') e)) p
                   ON p.group_id = g.group_id), '[]'::jsonb),
        'daily_trend', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(d.date, 'YYYY-MM-DD'),
                       'verifications', d.verifications,
                       'success_rate', nezuko_analytics.percent(d.verified, d.verifications),
                       'hit_rate', nezuko_analytics.percent(d.cached, d.verifications),
                       'avg_latency_ms', CASE WHEN d.latency_count = 0 THEN NULL
                                              ELSE round(d.latency_sum::numeric / d.latency_count, 0) END,
                       'p95_latency_ms', round(d.p95_ms::numeric, 0))
                   ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d), '[]'::jsonb),
        'api_calls', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'method', m.method, 'calls', m.calls, 'failures', m.failures,
                       'success_rate', nezuko_analytics.percent(m.ok, m.calls),
                       'percentage', nezuko_analytics.percent(m.calls, (a->>'calls')::numeric),
                       'avg_latency_ms', CASE WHEN m.latency_count = 0 THEN NULL
                                              ELSE round(m.latency_sum::numeric / m.latency_count, 0) END,
                       'p50_latency_ms', nezuko_analytics.round_ms(m.p50), 'p95_latency_ms', nezuko_analytics.round_ms(m.p95))
                   ORDER BY m.calls DESC, m.method)
            FROM jsonb_to_recordset(a->'methods')
                 AS m(method text, calls bigint, failures bigint, ok bigint, latency_count bigint, latency_sum bigint,
                      p50 float8, p95 float8)), '[]'::jsonb),
        'bot_health', health);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard(timestamptz, timestamptz, text) IS
  'Every window-based chart of [since, until) in one jsonb document (docs/dashboard.md): totals, verification_distribution, cache_breakdown, hourly_activity (in tz), latency (histogram, p50/p95/p99 rounded to 0.01 ms, avg), top_groups, daily_trend (local days in tz), api_calls, bot_health; one scan of verification_log and one of api_call_log.';

CREATE FUNCTION nezuko_analytics.group_titles(bot name, ids bigint[])
RETURNS TABLE (group_id bigint, title text, member_count integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT p.group_id::bigint, p.title::text, p.member_count::integer'
                                ' FROM %I.protected_groups p WHERE p.group_id = ANY ($1)', bot) USING ids;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_titles(name, bigint[]) IS
  'Title and member_count of the given groups from the bot''s protected_groups (by primary key).';
-- The dashboard's data contracts (docs/contracts.md) as
-- drop-in nezuko_analytics.get_* functions: same names, arguments, defaults,
-- keys, rounding and ordering, returning json; each reads each table once.
-- As the originals do, a period window is "timestamp >= now() - period" (no
-- upper bound) and hours and days are in the session's TimeZone.

CREATE FUNCTION nezuko_analytics.period_interval(p_period text, default_period text)
RETURNS interval LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE coalesce(CASE WHEN p_period IN ('24h', '7d', '30d', '90d') THEN p_period END, default_period)
               WHEN '24h' THEN interval '24 hours' WHEN '7d' THEN interval '7 days'
               WHEN '30d' THEN interval '30 days' WHEN '90d' THEN interval '90 days' END
$$;
COMMENT ON FUNCTION nezuko_analytics.period_interval(text, text) IS
  'The interval of a contract period (''24h'', ''7d'', ''30d'', ''90d''); an unknown or NULL period falls back to default_period.';

CREATE FUNCTION nezuko_analytics.get_hourly_activity()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('hour', h.hour, 'label', h.label, 'verifications', h.verifications,
                                      'restrictions', h.restrictions) ORDER BY h.hour)
    FROM nezuko_analytics.hourly_activity(now() - interval '7 days', 'infinity', current_setting('TimeZone')) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_hourly_activity() IS
  'Contract get_hourly_activity: [{hour 0-23, label ''HH:00'', verifications, restrictions}] by hour of day (session TimeZone) over 7 days, all 24 hours, ordered by hour.';

CREATE FUNCTION nezuko_analytics.get_latency_distribution(p_period text DEFAULT '7d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('bucket', h.bucket, 'count', h.count, 'percentage', h.percentage,
                                      'sort_order', h.sort_order) ORDER BY h.sort_order)
    FROM (SELECT *, row_number() OVER (ORDER BY lower_ms) AS sort_order
          FROM nezuko_analytics.latency_histogram(now() - nezuko_analytics.period_interval(p_period, '7d'), 'infinity')) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_distribution(text) IS
  'Contract get_latency_distribution: [{bucket, count, percentage, sort_order 1-5}] for ''<50ms'' .. ''>500ms'' over p_period (unknown: 7d), percentage of rows with a latency.';

CREATE FUNCTION nezuko_analytics.get_latency_distribution(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('bucket', h.bucket, 'count', h.count, 'percentage', h.percentage,
                                      'sort_order', h.sort_order) ORDER BY h.sort_order)
    FROM (SELECT *, row_number() OVER (ORDER BY lower_ms) AS sort_order FROM nezuko_analytics.latency_histogram(since, until)) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_distribution(timestamptz, timestamptz) IS
  'get_latency_distribution over the window [since, until); a NULL or inverted window is an ERROR.';

-- The trends: one scan, grouped by day in the session TimeZone.
CREATE FUNCTION nezuko_analytics.trend_summary(since timestamptz, until timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), now() - interval '1 day', true);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.trend_summary(timestamptz, timestamptz) IS
  'The day_summary() of get_latency_trend: [since, until) checked, local days in the session TimeZone with their latencies, and the last 24 hours as its recent totals.';

CREATE FUNCTION nezuko_analytics.latency_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb := nezuko_analytics.trend_summary(since, until);
BEGIN
    RETURN json_build_object(
        'period', period,
        'series', coalesce((
            SELECT json_agg(json_build_object('date', to_char(d.date, 'YYYY-MM-DD'),
                                              'avg_latency', round(d.latency_sum::numeric / d.latency_count, 0),
                                              'p95_latency', round(d.p95_ms::numeric, 0))
                            ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d WHERE d.latency_count > 0), '[]'::json),
        'current_avg', CASE WHEN (v->>'latency_count')::bigint = 0 THEN 0
                            ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_trend(timestamptz, timestamptz, text) IS
  'The body of get_latency_trend over [since, until): the days (in the session TimeZone) and the whole window of one day_summary().';

CREATE FUNCTION nezuko_analytics.get_latency_trend(p_period text DEFAULT '30d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.latency_trend(now() - nezuko_analytics.period_interval(p_period, '30d'), 'infinity',
                                            p_period) $$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_trend(text) IS
  'Contract get_latency_trend: {period, series: [{date ''YYYY-MM-DD'', avg_latency, p95_latency (percentile_cont(0.95) rounded to 0)}] per day with latencies, current_avg (average over the whole period, round(.., 0), 0 when none)} over p_period (unknown: 30d, reported as given).';

CREATE FUNCTION nezuko_analytics.get_latency_trend(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.latency_trend(since, until, NULL) $$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_trend(timestamptz, timestamptz) IS
  'get_latency_trend over [since, until) (period null); a NULL or inverted window is an ERROR.';

CREATE FUNCTION nezuko_analytics.cache_hit_rate_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    v := nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), now() - interval '1 day', false);
    RETURN (
        SELECT json_build_object(
            'period', period,
            'series', coalesce(json_agg(json_build_object('date', day, 'value', value, 'total_count', n) ORDER BY day), '[]'::json),
            'current_rate', nezuko_analytics.percent((v->'recent'->>'cached')::numeric, (v->'recent'->>'count')::numeric),
            'average_rate', coalesce(round(avg(value), 1), 0))
        FROM (SELECT to_char(d.date, 'YYYY-MM-DD') AS day, d.verifications AS n,
                     nezuko_analytics.percent(d.cached, d.verifications) AS value
              FROM nezuko_analytics.summary_days(v) d) d);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_hit_rate_trend(timestamptz, timestamptz, text) IS
  'The body of get_cache_hit_rate_trend over [since, until): the days (in the session TimeZone) and the last 24 hours of one day_summary(), without latencies.';

CREATE FUNCTION nezuko_analytics.get_cache_hit_rate_trend(p_period text DEFAULT '30d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.cache_hit_rate_trend(now() - nezuko_analytics.period_interval(p_period, '30d'), 'infinity',
                                                   p_period) $$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_hit_rate_trend(text) IS
  'Contract get_cache_hit_rate_trend: {period, series: [{date, value (daily hit rate), total_count}], current_rate (last 24 hours), average_rate (mean of the daily rates, 1 decimal)} over p_period (unknown: 30d, reported as given).';

CREATE FUNCTION nezuko_analytics.get_cache_hit_rate_trend(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.cache_hit_rate_trend(since, until, NULL) $$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_hit_rate_trend(timestamptz, timestamptz) IS
  'get_cache_hit_rate_trend over [since, until) (period null); a NULL or inverted window is an ERROR.';

CREATE FUNCTION nezuko_analytics.verification_trends(since timestamptz, until timestamptz, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE result json; v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''hour'', ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF granularity = 'day' THEN
        -- the days of one native pass: no per-row time-zone arithmetic
        v := nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), NULL, false);
        RETURN (
            SELECT json_build_object(
                'period', period,
                'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                              'successful', successful, 'failed', total - successful)
                                            ORDER BY bucket), '[]'::json),
                'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                             'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
            FROM (SELECT (d.date::timestamp AT TIME ZONE current_setting('TimeZone')) AS bucket,
                         d.verifications AS total, d.verified AS successful
                  FROM nezuko_analytics.summary_days(v) d) d);
    END IF;
    EXECUTE format($q$
        WITH buckets AS (
            SELECT date_trunc($4, "timestamp") AS bucket, count(*) AS total,
                   count(*) FILTER (WHERE status = 'verified') AS successful
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
            GROUP BY 1)
        SELECT json_build_object(
            'period', $3,
            'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                          'successful', successful, 'failed', total - successful)
                                        ORDER BY bucket), '[]'::json),
            'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                         'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
        FROM buckets$q$, nezuko_analytics.bot_schema()) INTO result USING since, until, period, granularity;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_trends(timestamptz, timestamptz, text, text) IS
  'The body of get_verification_trends over [since, until): one scan, by day from day_summary(), by hour or week grouped in SQL.';

CREATE FUNCTION nezuko_analytics.get_verification_trends(p_period text DEFAULT '7d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.verification_trends(now() - nezuko_analytics.period_interval(p_period, '7d'), 'infinity',
                                                  p_period,
                                                  CASE WHEN p_granularity IN ('hour', 'day', 'week') THEN p_granularity ELSE 'day' END) $$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_trends(text, text) IS
  'Contract get_verification_trends: {period, series: [{timestamp (bucket start as text), total, successful (verified), failed (the rest)}], summary: {total_verifications, success_rate}} over p_period (unknown: 7d, reported as given) by p_granularity hour, day or week (unknown: day).';

CREATE FUNCTION nezuko_analytics.get_verification_trends(since timestamptz, until timestamptz, granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.verification_trends(since, until, NULL, granularity) $$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_trends(timestamptz, timestamptz, text) IS
  'get_verification_trends over [since, until); a NULL or inverted window, or a granularity other than hour, day or week, is an ERROR.';

CREATE FUNCTION nezuko_analytics.analytics_overview(since timestamptz, until timestamptz)
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

CREATE FUNCTION nezuko_analytics.get_analytics_overview(p_period text DEFAULT NULL)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.analytics_overview(now() - nezuko_analytics.period_interval(p_period, NULL), NULL) $$;
COMMENT ON FUNCTION nezuko_analytics.get_analytics_overview(text) IS
  'Contract get_analytics_overview: {total_verifications, total_groups, total_channels, success_rate, avg_latency_ms, cache_hit_rate} over p_period; NULL or unknown period = all time.';

CREATE FUNCTION nezuko_analytics.get_analytics_overview(since timestamptz, until timestamptz)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN nezuko_analytics.analytics_overview(since, until);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_analytics_overview(timestamptz, timestamptz) IS
  'get_analytics_overview over [since, until); a NULL or inverted window is an ERROR.';
-- The counts behind the fixed-window contracts, each from one query.  The
-- native edition reads them without the executor where it may
-- (sql/native/72_native_reads.sql) and runs these when its read steps
-- aside; the portable edition always runs these
-- (sql/portable/72_query_reads.sql).  Every one returns a record by name.

CREATE FUNCTION nezuko_analytics.verification_counts_query(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The columns not asked for are constants when the query is planned
    -- (EXECUTE passes its parameters as such), so their aggregates go, and
    -- an index that holds "timestamp" and the columns asked for is read
    -- index-only.
    EXECUTE format($q$
        SELECT count(*),
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
               CASE WHEN $4 THEN count(*) FILTER (WHERE cached) ELSE 0 END,
               CASE WHEN $5 THEN count(latency_ms) ELSE 0 END,
               CASE WHEN $5 THEN coalesce(sum(latency_ms), 0) ELSE 0 END
        FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2$q$, bot)
        INTO total, verified, restricted, error, cached, latency_rows, latency_sum
        USING since, until, with_status, with_cached, with_latency;
    -- The rows at or after today by their own index condition (a day of a
    -- week: a FILTER on every row of the window cost more than this read).
    IF today <= since THEN
        today_count := total;
    ELSIF today >= until THEN
        today_count := 0;
    ELSE
        EXECUTE format('SELECT count(*) FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2', bot)
            INTO today_count USING today, until;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_query(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'bot.verification_log over [since, until) from one query, and the rows at or after today from a second one when today falls inside the window: total, today_count, verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; the columns not asked for count 0.';

CREATE FUNCTION nezuko_analytics.api_counts_query(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT coalesce(array_agg(method), '{}'), coalesce(array_agg(n), '{}'), coalesce(array_agg(s), '{}')
        FROM (SELECT method::text AS method, count(*) AS n, count(*) FILTER (WHERE success) AS s
              FROM %I.api_call_log WHERE "timestamp" >= $1 AND "timestamp" < $2 GROUP BY method) m$q$, bot)
        INTO methods, calls, ok USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_query(name, timestamptz, timestamptz) IS
  'bot.api_call_log over [since, until) from one query: calls and successful calls (success = true) by method, in no particular order.';

CREATE FUNCTION nezuko_analytics.group_counts_query(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT coalesce(array_agg(group_id ORDER BY n DESC, group_id), '{}'), coalesce(array_agg(n ORDER BY n DESC, group_id), '{}'),
               coalesce(array_agg(s ORDER BY n DESC, group_id), '{}')
        FROM (SELECT group_id::bigint AS group_id, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s
              FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
              GROUP BY group_id ORDER BY n DESC, group_id LIMIT $3) g$q$, bot)
        INTO group_ids, calls, ok USING since, until, top;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_query(name, timestamptz, timestamptz, integer) IS
  'bot.verification_log over [since, until) from one query: the top groups by verifications (ties by group_id) with their verifications and verified ones.';

CREATE FUNCTION nezuko_analytics.groups_status_query(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A static query, its plan cached (as members_chart_query()'s): the
    -- bot's schema joins the path after pg_catalog for this one table, and
    -- the SET clause above puts the path back when the function returns.
    -- Planned again on each call (EXECUTE), it cost a sixth more.  A
    -- schema the caller may not use would drop out of the path unseen:
    -- refused first, with the error a qualified name gets (require_select()'s
    -- first check, written out: the call cost 20-40 us, a twentieth of
    -- these sub-millisecond contracts; members_chart_query() does the same).
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT count(*) FILTER (WHERE p.enabled), count(*) FILTER (WHERE NOT p.enabled), count(*)
      INTO enabled, disabled, total
    FROM protected_groups p;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_query(name) IS
  'bot.protected_groups from one query: enabled, disabled (enabled = false) and total rows.';

CREATE FUNCTION nezuko_analytics.members_chart_query(bot name, top integer)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    result json;
BEGIN
    -- A static query (its plan cached, as the original's is): the bot's
    -- schema joins the path after pg_catalog, for its two tables only, and
    -- the SET clause above puts the path back when the function returns.
    -- Its plan is the generic one: with LIMIT top unknown, the planner
    -- would otherwise find a custom plan cheaper each time and plan the
    -- query again on every call, which costs more than running it.  The
    -- names are made for the rows kept only.  A schema the caller may not
    -- use would drop out of the path unseen: refused first, with the error
    -- a qualified name gets (as in groups_status_query()).
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT json_build_object(
        'channels', (SELECT coalesce(json_agg(json_build_object('name', coalesce(c.title, 'Channel ' || c.id), 'members', c.members)
                                              ORDER BY c.members DESC, c.id), '[]'::json)
                     FROM (SELECT e.channel_id AS id, e.title, coalesce(e.subscriber_count, 0) AS members
                           FROM enforced_channels e ORDER BY coalesce(e.subscriber_count, 0) DESC, e.channel_id LIMIT top) c),
        'groups', (SELECT coalesce(json_agg(json_build_object('name', coalesce(g.title, 'Group ' || g.id), 'members', g.members)
                                            ORDER BY g.members DESC, g.id), '[]'::json)
                   FROM (SELECT p.group_id AS id, p.title, coalesce(p.member_count, 0) AS members
                         FROM protected_groups p ORDER BY coalesce(p.member_count, 0) DESC, p.group_id LIMIT top) g))
    INTO result;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.members_chart_query(name, integer) IS
  'get_members_chart_data''s document from one query: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0).';
-- The fixed-window contracts (and the two that read the small tables) read
-- the bot's tables natively, without the executor (src/pg/window_scan.cpp):
-- over 7 days the originals' separate index-only counts are already near
-- what one query can do, and executor overhead is most of the rest.
-- A native read returns NULL whenever a query could see something else (row-
-- level security, no privilege, SERIALIZABLE, a column of another type, no
-- "timestamp"-led index, or nezuko_analytics.native_reads = off); the same
-- figures then come from one query.  Every native read returns a record
-- whose fields C++ sets by name.

CREATE FUNCTION nezuko_analytics.native_verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_verification_counts_record';
COMMENT ON FUNCTION nezuko_analytics.native_verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'Native read of bot.verification_log over [since, until): total, today_count (rows at or after today), verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; only the columns asked for are read (the others count 0). One index-only scan when a "timestamp"-led index holds them all, one per column for at most two columns, else one pass over the rows. All NULL when the native path may not read the table (use verification_counts()).';

CREATE FUNCTION nezuko_analytics.native_api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_api_counts';
COMMENT ON FUNCTION nezuko_analytics.native_api_counts(name, timestamptz, timestamptz) IS
  'Native read of bot.api_call_log over [since, until): calls and successful calls (success = true) by method. NULL when the native path may not read the table or there are more than 1024 methods (use api_counts()).';

CREATE FUNCTION nezuko_analytics.native_group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_group_counts';
COMMENT ON FUNCTION nezuko_analytics.native_group_counts(name, timestamptz, timestamptz, integer) IS
  'Native read of bot.verification_log over [since, until): the top groups by verifications (ties by group_id) with their verifications and verified ones. NULL when the native path may not read the table (use group_counts()).';

CREATE FUNCTION nezuko_analytics.native_groups_status(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_groups_status_record';
COMMENT ON FUNCTION nezuko_analytics.native_groups_status(name) IS
  'Native read of bot.protected_groups: enabled, disabled (enabled = false) and total rows; all NULL when the native path may not read the table (use groups_status_counts()).';

CREATE FUNCTION nezuko_analytics.native_members_chart(bot name, top integer)
RETURNS json LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_members_chart';
COMMENT ON FUNCTION nezuko_analytics.native_members_chart(name, integer) IS
  'Native read of get_members_chart_data''s document: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0); NULL when the native path may not read the tables.';

CREATE FUNCTION nezuko_analytics.verification_counts(
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

CREATE FUNCTION nezuko_analytics.verification_counts_raw(
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

CREATE FUNCTION nezuko_analytics.verified_count(bot name, since timestamptz, until timestamptz)
RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT c.verified FROM nezuko_analytics.verification_counts(bot, since, until, 'infinity', true, false, false) c $$;
COMMENT ON FUNCTION nezuko_analytics.verified_count(name, timestamptz, timestamptz) IS
  'The rows of bot.verification_log in [since, until) whose status is verified: verification_counts() (the rollups, a native read of the status column, or its query).';

CREATE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
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

CREATE FUNCTION nezuko_analytics.api_counts_raw(bot name, since timestamptz, until timestamptz,
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

CREATE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
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

CREATE FUNCTION nezuko_analytics.group_counts_raw(bot name, since timestamptz, until timestamptz, top integer,
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

CREATE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.native_groups_status(bot);
BEGIN
    IF n IS NOT NULL THEN
        enabled := n.enabled; disabled := n.disabled; total := n.total;
    ELSE  -- the native read stepped aside
        SELECT * INTO enabled, disabled, total FROM nezuko_analytics.groups_status_query(bot);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'native_groups_status(), or the same record from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.members_chart(bot name, top integer)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(nezuko_analytics.native_members_chart(bot, top), nezuko_analytics.members_chart_query(bot, top)) $$;
COMMENT ON FUNCTION nezuko_analytics.members_chart(name, integer) IS
  'native_members_chart(), or the same document from one query when the native path may not read the tables.';
-- A typed chart the native read serves for any window: index-only, it beats
-- the parallel query on long windows too.
CREATE FUNCTION nezuko_analytics.cache_breakdown(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (cached bigint, api bigint, total bigint, hit_rate numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY
    SELECT c.cached, c.total - c.cached, c.total, nezuko_analytics.percent(c.cached, c.total)
    FROM nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), since, until, 'infinity', false, true, false) c;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_breakdown(timestamptz, timestamptz) IS
  'Cache hits in [since, until): cached, api (= total - cached), total, hit_rate in percent round(.., 1), 0 for an empty window; read natively, index-only where an index leads with "timestamp" and holds cached.';

CREATE FUNCTION nezuko_analytics.get_cache_breakdown()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('cached', c.cached, 'api', c.api, 'total', c.total, 'hit_rate', c.hit_rate)
    FROM nezuko_analytics.cache_breakdown(now() - interval '7 days', 'infinity') c
$$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_breakdown() IS
  'Contract get_cache_breakdown: {cached, api (= total - cached), total, hit_rate} over 7 days; read natively by cache_breakdown().';

CREATE FUNCTION nezuko_analytics.get_bot_health()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    since timestamptz := now() - interval '7 days';
    v record;
    a record;
    h record;
BEGIN
    v := nezuko_analytics.verification_counts(bot, since, 'infinity', 'infinity', true, true, true);
    SELECT (SELECT coalesce(sum(x), 0) FROM unnest(n.calls) x)::bigint AS calls,
           (SELECT coalesce(sum(x), 0) FROM unnest(n.ok) x)::bigint AS ok
    INTO a FROM nezuko_analytics.api_counts(bot, since, 'infinity') n;
    SELECT * INTO h FROM nezuko_analytics.health_figures(a.calls, a.ok, v.total, v.cached, v.verified, v.error,
                                                         CASE WHEN v.latency_rows > 0 THEN round(v.latency_sum::numeric / v.latency_rows, 0) END);
    RETURN json_build_object('api_success_rate', h.api_success_rate, 'cache_efficiency', h.cache_efficiency,
                             'success_rate', h.success_rate, 'avg_latency_ms', h.avg_latency_ms,
                             'error_rate', h.error_rate, 'overall_score', h.overall_score);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_bot_health() IS
  'Contract get_bot_health: {api_success_rate, cache_efficiency, success_rate, avg_latency_ms, error_rate, overall_score} over 7 days (weights: health_figures()); each table read once, natively.';

CREATE FUNCTION nezuko_analytics.get_verification_distribution()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('verified', c.verified, 'restricted', c.restricted, 'error', c.error, 'total', c.total)
    FROM nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), now() - interval '7 days',
                                              'infinity', 'infinity', true, false, false) c
$$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_distribution() IS
  'Contract get_verification_distribution: {verified, restricted, error, total} over 7 days; read natively, index-only where an index leads with "timestamp" and holds status.';

CREATE FUNCTION nezuko_analytics.get_top_groups(p_limit integer DEFAULT 10)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    g record;
    result json;
BEGIN
    SELECT * INTO g FROM nezuko_analytics.group_counts(bot, now() - interval '7 days', 'infinity',
                                                       greatest(coalesce(p_limit, 10), 1));
    SELECT coalesce(json_agg(json_build_object('group_id', u.id, 'title', coalesce(t.title, 'Group ' || u.id),
                                               'verifications', u.n, 'success_rate', nezuko_analytics.percent(u.ok, u.n))
                             ORDER BY u.n DESC, u.id), '[]'::json)
    INTO result
    FROM unnest(g.group_ids, g.calls, g.ok) AS u(id, n, ok)
    LEFT JOIN nezuko_analytics.group_titles(bot, g.group_ids) t ON t.group_id = u.id;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_top_groups(integer) IS
  'Contract get_top_groups: [{group_id, title (else ''Group <id>''), verifications, success_rate}] over 7 days, most verifications first (ties by group_id); a limit below 1 means 1, NULL means 10; read natively.';

CREATE FUNCTION nezuko_analytics.get_dashboard_stats()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    since timestamptz := now() - interval '7 days';
    c record;
    verified bigint;
    g record;
    channels bigint;
BEGIN
    -- The verified rows apart from the rest: a read of one status (by an
    -- index condition where an index holds it) costs less than counting
    -- every status, and the cached rows come from their own index.
    c := nezuko_analytics.verification_counts(bot, since, 'infinity', current_date, false, true, false);
    verified := nezuko_analytics.verified_count(bot, since, 'infinity');
    g := nezuko_analytics.groups_status_counts(bot);
    EXECUTE format('SELECT count(*) FROM %I.enforced_channels', bot) INTO channels;
    RETURN json_build_object('total_groups', g.enabled, 'total_channels', channels,
                             'verifications_today', c.today_count, 'verifications_week', c.total,
                             'success_rate', nezuko_analytics.percent(verified, c.total),
                             'cache_hit_rate', nezuko_analytics.percent(c.cached, c.total));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_dashboard_stats() IS
  'Contract get_dashboard_stats: {total_groups (enabled), total_channels, verifications_today (since current_date), verifications_week, success_rate, cache_hit_rate} over 7 days; the week''s, today''s and cached rows from verification_counts(), the verified ones from verified_count(), each read natively in the native edition.';

CREATE FUNCTION nezuko_analytics.get_api_calls_distribution()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    result json;
BEGIN
    SELECT * INTO a FROM nezuko_analytics.api_counts(nezuko_analytics.bot_schema(), now() - interval '7 days', 'infinity');
    SELECT coalesce(json_agg(json_build_object('method', m.method, 'count', m.n,
                                               'percentage', nezuko_analytics.percent(m.n, t.total))
                             ORDER BY m.n DESC, m.method), '[]'::json)
    INTO result
    FROM unnest(a.methods, a.calls) AS m(method, n),
         (SELECT sum(x) AS total FROM unnest(a.calls) x) t;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_api_calls_distribution() IS
  'Contract get_api_calls_distribution: [{method, count, percentage}] from api_call_log over 7 days, by count descending (then method); [] when empty; read natively.';

-- No SET clause, so that the planner inlines it into the caller's query (as
-- the portable edition's members_chart()): a SQL function with one is
-- planned again on each statement, which cost a twentieth of this
-- sub-millisecond contract.  Its body names every function by schema, with
-- arguments of their exact types (security.md).
CREATE FUNCTION nezuko_analytics.get_members_chart_data()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart(nezuko_analytics.bot_schema(), 10) $$;
COMMENT ON FUNCTION nezuko_analytics.get_members_chart_data() IS
  'Contract get_members_chart_data: {channels: [{name (title, else ''Channel <id>''), members}] top 10 enforced_channels by subscriber_count, groups: [{name, members}] top 10 protected_groups by member_count} (ties by id, NULL counts as 0); read natively.';

CREATE FUNCTION nezuko_analytics.get_groups_status()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('active', g.enabled, 'inactive', g.disabled, 'total', g.total)
    FROM nezuko_analytics.groups_status_counts(nezuko_analytics.bot_schema()) g
$$;
COMMENT ON FUNCTION nezuko_analytics.get_groups_status() IS
  'Contract get_groups_status: {active, inactive, total} from protected_groups.enabled; read natively.';
-- get_user_growth: distinct users per day or week, their running sum, and
-- the growth from the first half of the window to the second: the buckets
-- and the two halves read in parallel, each by reads that hold them whole.
-- Distinct counts do not add up across buckets: a user seen on two days is
-- one user of the window but one of each day (docs/contracts.md).

CREATE FUNCTION nezuko_analytics.user_growth_branches()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 100 $$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_branches() IS
  'The most reads get_user_growth splits its buckets into (user_growth_bounds()): one a day for the contracts'' 90 days.';

CREATE FUNCTION nezuko_analytics.user_growth_small_scale()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 15 $$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_small_scale() IS
  'How many times small_window_rows() rows get_user_growth still reads by its plain queries (window_is_small()): they were the faster way up to about 300,000 rows of the benchmark''s data (docs/contracts.md), the reads in parallel beyond.';

CREATE FUNCTION nezuko_analytics.user_growth_bounds(bot name, since timestamptz, until timestamptz, unit text,
                                                    OUT bounds timestamptz[], OUT buckets timestamptz[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_row timestamptz;
    last_row timestamptz;
    cuts timestamptz[];
    step integer;
BEGIN
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    -- The starts of date_trunc(unit) buckets inside the rows' span, in the
    -- session's TimeZone as date_trunc() takes them (the step is a calendar
    -- day there).  A start is kept only where the zone's offset is the same
    -- 26 hours either side: no change of offset near it can give a row on
    -- one side the bucket of the other, so a bucket never has rows in two
    -- reads.  Where a start is left out, its buckets are read together.
    SELECT array_agg(c ORDER BY c) INTO cuts
    FROM generate_series(date_trunc(unit, first_row), last_row,
                         CASE unit WHEN 'week' THEN interval '7 days' ELSE interval '1 day' END) c
    WHERE c > first_row AND date_trunc(unit, c) = c
      AND extract(timezone FROM c - interval '26 hours') = extract(timezone FROM c)
      AND extract(timezone FROM c + interval '26 hours') = extract(timezone FROM c);
    -- at most user_growth_branches() reads: a long window's buckets go
    -- several to a read
    step := greatest(1, ceil(coalesce(cardinality(cuts), 0)::numeric / nezuko_analytics.user_growth_branches())::integer);
    bounds := ARRAY[since]
        || ARRAY(SELECT cuts[i] FROM generate_series(step, coalesce(cardinality(cuts), 0), step) i ORDER BY i)
        || ARRAY[until];
    -- a read between two kept starts that are one bucket apart holds that
    -- bucket alone; the others (the first, the last, several buckets) are
    -- NULL: each of their rows takes its own date_trunc()
    buckets := ARRAY(SELECT CASE WHEN i > 1 AND i < cardinality(bounds) - 1
                                      AND date_trunc(unit, bounds[i + 1] - interval '1 microsecond') = bounds[i]
                                 THEN bounds[i] END
                     FROM generate_series(1, cardinality(bounds) - 1) i ORDER BY i);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_bounds(name, timestamptz, timestamptz, text) IS
  'The reads of get_user_growth over [since, until) of the bot''s verification_log: bounds b (since, starts of date_trunc(unit) buckets in the session TimeZone inside the span of the window''s rows where the offset holds 26 hours either side, at most user_growth_branches() - 1 of them, until), so that no bucket has rows in two reads [b[i], b[i + 1]); buckets[i] the one bucket of read i, or NULL when its rows take their own.';

CREATE FUNCTION nezuko_analytics.user_growth(since timestamptz, until timestamptz, middle timestamptz,
                                             unit text, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- distinct users by sorting: 1.6x faster here than a hash table of 500,000
-- users (docs/benchmarks.md); each half's sort in memory
SET enable_hashagg = off
SET work_mem = '64MB'
-- the reads are what parallel workers share, each read whole
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    bounds timestamptz[];
    buckets timestamptz[];
    reads text;
    result json;
BEGIN
    IF nezuko_analytics.window_is_small(bot, 'verification_log', since, until, nezuko_analytics.user_growth_small_scale()) THEN
        -- A small window (window_is_small()): one read for the buckets and
        -- one for the halves and the whole, each distinct count a sort of
        -- the user ids alone.
        reads := format($r$
        buckets AS (
            SELECT date_trunc($4, v."timestamp") AS bucket, count(DISTINCT v.user_id) AS n
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY 1),
        halves AS (
            SELECT count(DISTINCT v.user_id) AS total, count(DISTINCT v.user_id) FILTER (WHERE v."timestamp" < $3) AS first_half,
                   count(DISTINCT v.user_id) FILTER (WHERE v."timestamp" >= $3) AS second_half
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2)$r$, bot);
    ELSE
        -- One Parallel Append of reads that each see a whole bucket: the
        -- distinct users of each bucket, read between the bounds ($7, $8:
        -- user_growth_bounds()), and the distinct users of each half of the
        -- window, whose union gives the window's.  Distinct counts do not
        -- add up across buckets or halves.
        SELECT r.bounds, r.buckets INTO bounds, buckets FROM nezuko_analytics.user_growth_bounds(bot, since, until, unit) r;
        reads := format($r$
        parts AS MATERIALIZED (
            %2$s
            UNION ALL (
            SELECT DISTINCT 'first' AS part, NULL::timestamptz AS bucket, NULL::bigint AS n, v.user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" < $3)
            UNION ALL (
            SELECT DISTINCT 'second' AS part, NULL::timestamptz AS bucket, NULL::bigint AS n, v.user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" >= $3)),
        buckets AS (SELECT bucket, n FROM parts WHERE part = 'bucket'),
        halves AS (
            SELECT count(DISTINCT user_id) AS total, count(user_id) FILTER (WHERE part = 'first') AS first_half,
                   count(user_id) FILTER (WHERE part = 'second') AS second_half
            FROM parts WHERE part <> 'bucket')$r$,
            bot,
            (SELECT string_agg(CASE WHEN buckets[i] IS NULL
                                    THEN format($b$(
            SELECT 'bucket' AS part, date_trunc($4, v."timestamp") AS bucket, count(DISTINCT v.user_id) AS n, NULL::bigint AS user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $7[%2$s] AND v."timestamp" < $7[%3$s]
            GROUP BY 2)$b$, bot, i, i + 1)
                                    ELSE format($b$(
            SELECT 'bucket' AS part, $8[%2$s] AS bucket, count(DISTINCT v.user_id) AS n, NULL::bigint AS user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $7[%2$s] AND v."timestamp" < $7[%3$s]
            HAVING count(*) > 0)$b$, bot, i, i + 1) END,
                               E'\n            UNION ALL ' ORDER BY i)
             FROM generate_series(1, cardinality(bounds) - 1) i));
    END IF;
    -- the document, from the buckets and the halves either way
    EXECUTE format($q$
        WITH %s
        SELECT json_build_object(
            'period', $5,
            'granularity', $6,
            'series', (SELECT coalesce(json_agg(json_build_object('date', to_char(bucket, 'YYYY-MM-DD'), 'new_users', n,
                                                                  'total_users', running) ORDER BY bucket), '[]'::json)
                       FROM (SELECT bucket, n, (sum(n) OVER (ORDER BY bucket))::integer AS running FROM buckets) r),
            'summary', json_build_object(
                'total_new_users', h.total,
                'growth_rate', CASE WHEN h.first_half = 0 THEN 0
                                    ELSE round((h.second_half::numeric / h.first_half - 1) * 100, 1) END))
        FROM halves h$q$, reads)
        INTO result USING since, until, middle, unit, period, granularity, bounds, buckets;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth(timestamptz, timestamptz, timestamptz, text, text, text) IS
  'The body of get_user_growth over [since, until) split at middle, buckets date_trunc(unit) in the session TimeZone; period and granularity are reported as given. The distinct users of each bucket by reads that each hold whole buckets (user_growth_bounds()), and of each half of the window, as one Parallel Append; a small window (window_is_small()) by one read for the buckets and one for the halves.';

CREATE FUNCTION nezuko_analytics.get_user_growth(p_period text DEFAULT '30d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nezuko_analytics.user_growth(now() - len, 'infinity', now() - len / 2,
                                        CASE WHEN p_granularity = 'week' THEN 'week' ELSE 'day' END, p_period, p_granularity)
    FROM (SELECT nezuko_analytics.period_interval(CASE WHEN p_period IN ('7d', '30d', '90d') THEN p_period END, '30d') AS len) l
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(text, text) IS
  'Contract get_user_growth: {period, granularity (both as given), series: [{date ''YYYY-MM-DD'' (bucket start), new_users (distinct user_id in the bucket), total_users (running sum of new_users)}], summary: {total_new_users (distinct users in the window), growth_rate (distinct users of the second half over the first, minus 1, times 100, round(.., 1); 0 when the first half has none)}} over p_period ''7d'', ''30d'' or ''90d'' (else 30d) by p_granularity week (else day).';

CREATE FUNCTION nezuko_analytics.get_user_growth(since timestamptz, until timestamptz, granularity text DEFAULT 'day')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT isfinite(since) OR NOT isfinite(until) THEN
        RAISE EXCEPTION 'get_user_growth: the window must be finite to be split in halves'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN nezuko_analytics.user_growth(since, until, since + (until - since) / 2, granularity, NULL, granularity);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(timestamptz, timestamptz, text) IS
  'get_user_growth over the finite window [since, until), halves split at its middle (period null); a NULL, inverted or infinite window, or a granularity other than day or week, is an ERROR.';
-- Privileges.  The administrative functions are for the owner only (the same
-- on every database); the dashboard's functions are granted to Supabase's API
-- roles by grant_dashboard_access(), which apply_schema() calls, only where
-- those roles exist.  Everything runs as SECURITY INVOKER with a pinned
-- search_path: a role sees through the functions only what its own
-- privileges (and the bot's row-level security) let it read.

REVOKE EXECUTE ON FUNCTION nezuko_analytics.apply_schema(name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.revert_schema() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.record_schema_change(name, text, name, name) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.set_retention(text, interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.schedule_retention(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.unschedule_retention() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.unschedule_job(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.register_retention_policies() FROM PUBLIC;
REVOKE EXECUTE ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.pin_prune_settings() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.close_to_api_roles(name, name) FROM PUBLIC;

CREATE FUNCTION nezuko_analytics.dashboard_functions()
RETURNS SETOF regprocedure LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = 'nezuko_analytics'::regnamespace
      AND (p.proname LIKE 'get\_%' OR p.proname = 'dashboard')
    ORDER BY 1::text
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard_functions() IS 'The functions the web dashboard calls: every get_* contract and dashboard().';

CREATE FUNCTION nezuko_analytics.grant_dashboard_access()
RETURNS TABLE (role_name name, description text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    FOR role_name IN SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') ORDER BY 1 LOOP
        CONTINUE WHEN has_schema_privilege(role_name, 'nezuko_analytics', 'USAGE')
                  AND has_table_privilege(role_name, 'nezuko_analytics.schema_state', 'SELECT');
        EXECUTE format('GRANT USAGE ON SCHEMA nezuko_analytics TO %I', role_name);
        EXECUTE format('GRANT SELECT ON nezuko_analytics.schema_state TO %I', role_name);
        FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, role_name);
        END LOOP;
        description := format('granted the dashboard functions to %I', role_name);
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.grant_dashboard_access() IS
  'Grants USAGE on schema nezuko_analytics, SELECT on schema_state and EXECUTE on dashboard() and the get_* contracts to the Supabase roles anon, authenticated and service_role, where they exist; called by apply_schema().';

CREATE FUNCTION nezuko_analytics.revoke_dashboard_access(role_name name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f regprocedure;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = role_name) THEN
        RETURN;
    END IF;
    FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM %I', f, role_name);
    END LOOP;
    EXECUTE format('REVOKE SELECT ON nezuko_analytics.schema_state FROM %I', role_name);
    EXECUTE format('REVOKE USAGE ON SCHEMA nezuko_analytics FROM %I', role_name);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.revoke_dashboard_access(name) IS 'Undoes grant_dashboard_access() for one role; called by revert_schema().';

-- Only the roles granted below call the dashboard's functions: the
-- installing role (@extowner@, with the right to grant them to the API
-- roles, see below) and the roles grant_dashboard_access() names.
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO @extowner@ WITH GRANT OPTION', f);
    END LOOP;
END $$;

REVOKE EXECUTE ON FUNCTION nezuko_analytics.grant_dashboard_access() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.revoke_dashboard_access(name) FROM PUBLIC;

-- The extension is trusted (docs/security.md): a role with CREATE on the
-- database installs it without being a superuser.  The script then runs as
-- the bootstrap superuser, who owns what it creates; the installing role,
-- @extowner@, receives exactly what it needs to run it (the administrative
-- functions, the bookkeeping tables, the dashboard's functions with the right
-- to grant them to the API roles) and nothing that reads or changes a table
-- it could not read or change itself: every function is SECURITY INVOKER,
-- and prune_batch() checks the caller's own DELETE privilege.
GRANT USAGE ON SCHEMA nezuko_analytics TO @extowner@ WITH GRANT OPTION;
GRANT SELECT ON nezuko_analytics.schema_state TO @extowner@ WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.schema_state, nezuko_analytics.schema_changes,
      nezuko_analytics.retention_policy, nezuko_analytics.retention_runs TO @extowner@;
GRANT EXECUTE ON FUNCTION nezuko_analytics.apply_schema(name), nezuko_analytics.revert_schema(),
      nezuko_analytics.record_schema_change(name, text, name, name), nezuko_analytics.set_retention(text, interval),
      nezuko_analytics.schedule_retention(text), nezuko_analytics.unschedule_retention(),
      nezuko_analytics.unschedule_job(text),
      nezuko_analytics.register_retention_policies(),
      nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean),
      nezuko_analytics.pin_prune_settings(), nezuko_analytics.close_to_api_roles(name, name),
      nezuko_analytics.grant_dashboard_access(), nezuko_analytics.revoke_dashboard_access(name) TO @extowner@;
GRANT EXECUTE ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) TO @extowner@;
-- (the dashboard's functions: in the loop above)
-- Rollups (docs/rollups.md): exact aggregates of the bot's log tables per
-- quarter hour of UTC, and per local day of the time zones in use made from
-- those, kept in real time by invalidation and kept past the raw rows'
-- retention.  The script creates the tables empty and config-dumped
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
    time_zones     text[] NOT NULL DEFAULT ARRAY['UTC'] CHECK ('UTC' = ANY (time_zones)),
    CHECK (built_from <= watermark)
);
COMMENT ON TABLE nezuko_analytics.rollup_state IS
  'Per source table with rollups: how long they keep (keep), the quarter hours materialized ([built_from, watermark); later ones are read from the raw rows), the time before which they are frozen (frozen_before: the raw rows there may be pruned, so they are never computed again; it only moves forward), and the last refresh (when, how long, how many quarter hours), and the time zones whose local days are kept in rollup_days (UTC always). A row here means rollups are enabled for that table.';

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
    latencies     nezuko_analytics.latency_dist NOT NULL,
    groups        bytea NOT NULL
);
COMMENT ON TABLE nezuko_analytics.rollup_verifications IS
  'verification_log per quarter hour of UTC (bucket is its start): rows, rows by status (verified, restricted, error) and cached, the exact distribution of the non-NULL latencies with their count and sum, and groups: per group (NULL as 0) its rows and verified rows, in a compact binary form (src/core/group_counts.hpp, about 4 bytes a group). Quarter hours without rows have no row.';

-- A quarter hour's latencies and group counts are a few KB, compressed
-- when stored: with lz4 where the server has it (pglz took most of the time
-- of writing a build's 11,500 rows, 1.0 s against 0.26 s; lz4 stores about
-- a quarter more, 23 MB against 18 MB for 120 days of the benchmark's data),
-- else with pglz, the default.
DO $$
BEGIN
    ALTER TABLE nezuko_analytics.rollup_verifications ALTER COLUMN latencies SET COMPRESSION lz4,
                                                      ALTER COLUMN groups SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;  -- PostgreSQL built without lz4
END;
$$;

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

CREATE TABLE nezuko_analytics.rollup_days (
    source    text NOT NULL CHECK (source IN ('verification_log', 'api_call_log')),
    time_zone text NOT NULL,
    day       date NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL CHECK (ends_at > starts_at),
    summary   bytea NOT NULL,
    PRIMARY KEY (source, time_zone, starts_at)
);
-- a day's state is read whole and hardly compresses: kept as it is
ALTER TABLE nezuko_analytics.rollup_days ALTER COLUMN summary SET STORAGE EXTERNAL;
COMMENT ON TABLE nezuko_analytics.rollup_days IS
  'The local days of the time zones in rollup_state.time_zones, made from the quarter hours: per source, zone and day [starts_at, ends_at), the binary state of the dashboard''s summary of that day''s quarter hours (verification_summary''s or api_summary''s, with the zone''s local hours and day), which a reader merges in one step instead of 96 quarter hours. Only days whose quarter hours are all materialized; a day without rows has no row.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_state', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_pending', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_verifications', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_api_calls', '');
SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_days', '');

CREATE FUNCTION nezuko_analytics.rollup_groups(groups bytea)
RETURNS jsonb LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_rollup_groups';
COMMENT ON FUNCTION nezuko_analytics.rollup_groups(bytea) IS
  'The group counts of a quarter hour of rollup_verifications (its groups column) as [{"group_id", "total", "verified"}] by increasing id; an ERROR (22P03) for bytes that are not such counts. Example: SELECT bucket, nezuko_analytics.rollup_groups(groups) FROM nezuko_analytics.rollup_verifications ORDER BY bucket DESC LIMIT 1;';

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
      nezuko_analytics.rollup_build(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_aggregates(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_build_scan(name, text, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_verification_rows(name, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_api_call_rows(name, timestamptz, timestamptz, boolean),
      nezuko_analytics.rollup_invalidate() TO @extowner@;
-- Reading a window from rollups and raw rows (docs/rollups.md): the local
-- days and quarter hours that are materialized and not pending come from the
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
       AND has_table_privilege('nezuko_analytics.rollup_days', 'SELECT');
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollups_readable(text) IS
  'Whether the current role may read source through its rollups: it reads every row of the bot''s table itself (SELECT, no row-level security for it) and may read the rollup tables. Otherwise its readers read the raw rows (with their row-level security).';

-- What a reader of [since, until) takes from the rollups of source (local
-- days of zone tz, and quarter hours), and which ranges of raw rows it reads
-- besides.
CREATE FUNCTION nezuko_analytics.rollup_plan(source text, since timestamptz, until timestamptz,
                                             recent_since timestamptz DEFAULT NULL, tz text DEFAULT NULL,
                                             OUT usable boolean,
                                             OUT qh_lo timestamptz, OUT qh_hi timestamptz, OUT skip_qh timestamptz[],
                                             OUT day_starts timestamptz[],
                                             OUT qh_from timestamptz[], OUT qh_to timestamptz[],
                                             OUT raw_lo timestamptz[], OUT raw_hi timestamptz[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    pending timestamptz[];
    all_pending boolean;
    day_ends timestamptz[];
    q interval := interval '15 minutes';
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
    -- Local days of tz: inside the quarter hours taken, none of theirs
    -- skipped, and all before recent_since (a day keeps no recent figures).
    SELECT coalesce(array_agg(d.starts_at ORDER BY d.starts_at), '{}'), coalesce(array_agg(d.ends_at ORDER BY d.starts_at), '{}')
      INTO day_starts, day_ends
    FROM nezuko_analytics.rollup_days d
    WHERE d.source = rollup_plan.source AND d.time_zone = nezuko_analytics.rollup_zone(tz)
      AND d.starts_at >= qh_lo AND d.ends_at <= qh_hi
      AND (recent_since IS NULL OR d.ends_at <= recent_since)
      AND NOT EXISTS (SELECT 1 FROM unnest(skip_qh) b WHERE b >= d.starts_at AND b < d.ends_at);
    -- The quarter hours outside those days (disjoint, in order): before the
    -- first, between each and the next, after the last.
    SELECT coalesce(array_agg(e.lo ORDER BY e.lo), '{}'), coalesce(array_agg(e.hi ORDER BY e.lo), '{}')
      INTO qh_from, qh_to
    FROM (SELECT qh_lo AS lo, coalesce(day_starts[1], qh_hi) AS hi
          UNION ALL
          SELECT u.day_end, coalesce(day_starts[u.i + 1], qh_hi) FROM unnest(day_ends) WITH ORDINALITY u(day_end, i)) e
    WHERE e.lo < e.hi;
    -- The raw rows: before and after the quarter hours taken, and the
    -- skipped ones (disjoint, in order).
    SELECT coalesce(array_agg(r.lo ORDER BY r.lo), '{}'), coalesce(array_agg(r.hi ORDER BY r.lo), '{}')
      INTO raw_lo, raw_hi
    FROM (SELECT since AS lo, qh_lo AS hi
          UNION ALL SELECT qh_hi, until
          UNION ALL SELECT b, b + q FROM unnest(skip_qh) b) r
    WHERE r.lo < r.hi;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_plan(text, timestamptz, timestamptz, timestamptz, text) IS
  'How a reader of source over [since, until) uses the rollups: usable (false: raw rows only, as with use_rollups off or rollups not enabled), the quarter hours [qh_lo, qh_hi) taken from the rollups except skip_qh (pending, or cut by recent_since); of those, the local days of tz kept in rollup_days (day_starts: wholly inside, none of their quarter hours skipped, ending by recent_since) and the quarter hours outside them ([qh_from[i], qh_to[i])); and the ranges [raw_lo[i], raw_hi[i]) of raw rows to read besides.';

-- Time ranges as a condition on each array element: EXECUTE plans with
-- its parameters' values, so the planner estimates each range from the
-- column's statistics (a join to unnest() of the arrays it cannot), reads a
-- few minutes at the edges without parallel workers (whose start costs more
-- than the whole read), and still gives a long range its workers.  The same
-- for the quarter hours of rollups outside the local days taken.
CREATE FUNCTION nezuko_analytics.time_ranges_condition(col text, lo_param integer, hi_param integer, n integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(string_agg(format('(%1$s >= ($%2$s)[%3$s] AND %1$s < ($%4$s)[%3$s])', col, lo_param, i, hi_param),
                               ' OR ' ORDER BY i), 'false')
    FROM generate_series(1, coalesce(n, 0)) i
$$;
COMMENT ON FUNCTION nezuko_analytics.time_ranges_condition(text, integer, integer, integer) IS
  'SQL text of the condition "col in one of the ranges [$lo_param[i], $hi_param[i]) for i in 1..n" (false for none), each range on its own, so that a plan made with the parameters'' values estimates each from the column''s statistics. Used by the rollup readers for their raw rows and quarter hours.';

-- The dashboard's aggregates over raw rows and rollup rows together: the
-- state, combine, serialize, deserialize and final functions of
-- verification_summary and api_summary, with a transition that also takes
-- rollup rows (src/pg/rollup_summary_agg.cpp).
CREATE FUNCTION nezuko_analytics.verification_summary_parts_add(
    internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications,
    bytea, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_rollup_add';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_parts_add(internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, bytea, bigint[], integer, timestamptz) IS
  'Transition function of verification_summary_parts and verification_summary_state.';

CREATE AGGREGATE nezuko_analytics.verification_summary_parts(
    part "char", "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    cell nezuko_analytics.rollup_verifications, period bytea,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary_parts("char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, bytea, bigint[], integer, timestamptz) IS
  'verification_summary over raw rows and rollups together, by part: ''a'' a raw row, ''q'' a quarter hour of rollups with its groups (cell), ''p'' a local day of rollup_days (period: its summary state, made in the same zone). The same document as verification_summary over the rows they stand for.';

CREATE FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_parts_add';
COMMENT ON FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea) IS
  'Transition function of api_summary_parts and api_summary_state.';

CREATE AGGREGATE nezuko_analytics.api_summary_parts(method text, success boolean, latency_ms integer,
                                                    cell nezuko_analytics.rollup_api_calls, period bytea) (
    SFUNC = nezuko_analytics.api_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary_parts(text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea) IS
  'api_summary over raw calls (cell and period NULL), quarter hours of rollup_api_calls (cell) and local days of rollup_days (period: their summary state) together: the same document as api_summary over the calls they stand for.';

-- The local days: the dashboard's summary state of a day's quarter hours,
-- made by the readers' own aggregates (their transition, with the serialize
-- function as final function), so a day merges exactly as its quarter hours
-- would.
CREATE AGGREGATE nezuko_analytics.verification_summary_state(
    part "char", "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    cell nezuko_analytics.rollup_verifications, period bytea,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_serialize
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary_state("char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, bytea, bigint[], integer, timestamptz) IS
  'verification_summary_parts'' state in its binary form instead of the document: what rollup_days keeps of a local day (its quarter hours, in that day''s zone), and what verification_summary_parts merges back as a part ''p''.';

CREATE AGGREGATE nezuko_analytics.api_summary_state(method text, success boolean, latency_ms integer,
                                                    cell nezuko_analytics.rollup_api_calls, period bytea) (
    SFUNC = nezuko_analytics.api_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_serialize
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary_state(text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea) IS
  'api_summary_parts'' state in its binary form instead of the document: what rollup_days keeps of a local day of api_call_log, and what api_summary_parts merges back as a period.';

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
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until, recent_since, tz);
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.verification_summary_parts(x.part, x.ts, x.status, x.latency_ms, x.cached, x.group_id,
                                                           x.cell, x.period, $1, $2, $3)::jsonb
        FROM (
            SELECT 'a'::"char" AS part, v."timestamp" AS ts, v.status::text AS status, v.latency_ms, v.cached,
                   v.group_id::bigint AS group_id, NULL::nezuko_analytics.rollup_verifications AS cell, NULL::bytea AS period
            FROM %I.verification_log v WHERE %s
            UNION ALL
            SELECT 'q', NULL, NULL, NULL, NULL, NULL, c, NULL
            FROM nezuko_analytics.rollup_verifications c WHERE (%s) AND c.bucket <> ALL ($6)
            UNION ALL
            SELECT 'p', NULL, NULL, NULL, NULL, NULL, NULL, d.summary
            FROM nezuko_analytics.rollup_days d
            WHERE d.source = 'verification_log' AND d.time_zone = $7 AND d.starts_at = ANY ($8)) x$q$,
        nezuko_analytics.bot_schema(), nezuko_analytics.time_ranges_condition('v."timestamp"', 9, 10, cardinality(p.raw_lo)),
        nezuko_analytics.time_ranges_condition('c.bucket', 4, 5, cardinality(p.qh_from)))
        INTO v
        USING nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since,
              p.qh_from, p.qh_to, p.skip_qh, nezuko_analytics.rollup_zone(tz), p.day_starts, p.raw_lo, p.raw_hi;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz) IS
  'window_summary() from rollups (local days of tz, quarter hours) and raw rows (rollup_plan()); NULL when the rollups give nothing to this window (then window_summary() reads the raw rows alone).';

CREATE FUNCTION nezuko_analytics.api_window_summary_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    a jsonb;
BEGIN
    -- the calls have no local time: the UTC days serve every zone's window
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('api_call_log', since, until, NULL, 'UTC');
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.api_summary_parts(x.method, x.success, x.latency_ms, x.cell, x.period)::jsonb
        FROM (
            SELECT a.method::text AS method, a.success, a.latency_ms, NULL::nezuko_analytics.rollup_api_calls AS cell,
                   NULL::bytea AS period
            FROM %I.api_call_log a WHERE %s
            UNION ALL
            SELECT NULL, NULL, NULL, c, NULL
            FROM nezuko_analytics.rollup_api_calls c WHERE (%s) AND c.bucket <> ALL ($3)
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, d.summary
            FROM nezuko_analytics.rollup_days d
            WHERE d.source = 'api_call_log' AND d.time_zone = 'UTC' AND d.starts_at = ANY ($4)) x$q$,
        bot, nezuko_analytics.time_ranges_condition('a."timestamp"', 5, 6, cardinality(p.raw_lo)),
        nezuko_analytics.time_ranges_condition('c.bucket', 1, 2, cardinality(p.qh_from)))
        INTO a USING p.qh_from, p.qh_to, p.skip_qh, p.day_starts, p.raw_lo, p.raw_hi;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz) IS
  'api_window_summary() from rollups (UTC days, quarter hours) and raw rows (rollup_plan()); NULL when the rollups give nothing to this window.';

-- The latency charts from rollups: every latency of a window, merged from
-- the raw rows' distribution, the quarter hours' and the UTC days'.
CREATE FUNCTION nezuko_analytics.rollup_day_latencies(source text, summary bytea)
RETURNS nezuko_analytics.latency_dist LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_rollup_day_latencies';
COMMENT ON FUNCTION nezuko_analytics.rollup_day_latencies(text, bytea) IS
  'Every latency of a local day of rollup_days of source (verification_log or api_call_log), from its summary state.';

CREATE FUNCTION nezuko_analytics.latency_dist_rollups(bot name, source text, since timestamptz, until timestamptz)
RETURNS nezuko_analytics.latency_dist
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    d nezuko_analytics.latency_dist;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan(source, since, until, NULL, 'UTC');
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.merge(x.d)
        FROM (
            SELECT nezuko_analytics.latency_dist(r.latency_ms) AS d FROM %I.%I r WHERE %s
            UNION ALL
            SELECT c.latencies FROM nezuko_analytics.%I c WHERE (%s) AND c.bucket <> ALL ($3)
            UNION ALL
            SELECT nezuko_analytics.rollup_day_latencies($7, y.summary)
            FROM nezuko_analytics.rollup_days y
            WHERE y.source = $7 AND y.time_zone = 'UTC' AND y.starts_at = ANY ($4)) x$q$,
        bot, source, nezuko_analytics.time_ranges_condition('r."timestamp"', 5, 6, cardinality(p.raw_lo)),
        CASE source WHEN 'verification_log' THEN 'rollup_verifications' ELSE 'rollup_api_calls' END,
        nezuko_analytics.time_ranges_condition('c.bucket', 1, 2, cardinality(p.qh_from)))
        INTO d USING p.qh_from, p.qh_to, p.skip_qh, p.day_starts, p.raw_lo, p.raw_hi, source;
    RETURN d;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_dist_rollups(name, text, timestamptz, timestamptz) IS
  'Every latency of bot.source (verification_log or api_call_log) in [since, until), from the rollups (UTC days, quarter hours) and the raw rows they leave (rollup_plan()); NULL when the rollups give nothing to this window. The latency charts'' read where the rollups serve.';

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
    FOR i IN 1 .. coalesce(cardinality(p.raw_lo), 0) LOOP
        r := nezuko_analytics.verification_counts_raw(bot, p.raw_lo[i], p.raw_hi[i], today,
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
        FROM unnest(p.raw_lo, p.raw_hi) r(lo, hi),
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
    groups jsonb := nezuko_analytics.groups_from_rollups(since, until, top);
BEGIN
    IF groups IS NULL THEN
        RETURN;  -- NULL arrays: read the raw rows
    END IF;
    SELECT coalesce(array_agg((g->>'group_id')::bigint ORDER BY o), '{}'), coalesce(array_agg((g->>'count')::bigint ORDER BY o), '{}'),
           coalesce(array_agg((g->>'verified')::bigint ORDER BY o), '{}')
      INTO group_ids, calls, ok
    FROM jsonb_array_elements(groups) WITH ORDINALITY e(g, o);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_rollups(name, timestamptz, timestamptz, integer) IS
  'group_counts() from rollups: the top groups (ties by group_id) of groups_from_rollups() as arrays; NULL arrays where that gives nothing (no rollups here, group 0 among the top, a window from -infinity, a negative latency).';

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
