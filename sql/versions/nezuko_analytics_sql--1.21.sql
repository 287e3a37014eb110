-- The two editions define the same schema and never share a database.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'nezuko_analytics') THEN
        RAISE EXCEPTION 'nezuko_analytics_sql cannot be installed: the native edition nezuko_analytics is installed in this database'
            USING ERRCODE = 'duplicate_object',
                  HINT = 'The native edition already provides the same functions; use it, or DROP EXTENSION nezuko_analytics first.';
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
-- The portable edition (nezuko_analytics_sql): the same API in SQL and
-- PL/pgSQL, for databases that install no C extension (hosted Supabase,
-- through pg_tle).  What only C can do is absent: the latency_dist type and
-- its aggregates, the other C++ aggregates, native reads (docs/portable.md).

CREATE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.21'::text $$;
COMMENT ON FUNCTION nezuko_analytics.version() IS
  'Version of nezuko_analytics (the portable edition: the version of its install script).';
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
-- Latency buckets in SQL: the same edges, labels, checks and errors as the
-- native edition's C++ core (src/core/latency_buckets.cpp); the differential
-- test compares the two.

CREATE FUNCTION nezuko_analytics.default_latency_edges()
RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '{50,100,200,500}'::integer[] $$;
COMMENT ON FUNCTION nezuko_analytics.default_latency_edges() IS
  'The default latency bucket edges in ms, {50,100,200,500}: buckets <50, 50-100, 100-200, 200-500, >500 (the native edition''s kDefaultBucketEdges; tests prove the copies agree).';

CREATE FUNCTION nezuko_analytics.checked_latency_edges(edges integer[])
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer;
    e integer[];
BEGIN
    IF array_ndims(edges) > 1 THEN
        RAISE EXCEPTION 'edges must be a one-dimensional array' USING ERRCODE = 'array_subscript_error';
    END IF;
    IF array_position(edges, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'edges must not contain NULL elements' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    n := coalesce(cardinality(edges), 0);
    IF n = 0 THEN
        RAISE EXCEPTION 'latency bucket edges must not be empty' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF n > 64 THEN
        RAISE EXCEPTION 'at most 64 latency bucket edges are allowed, got %', n USING ERRCODE = 'invalid_parameter_value';
    END IF;
    e := edges[array_lower(edges, 1):array_upper(edges, 1)];  -- subscripts from 1
    FOR i IN 1 .. n LOOP
        IF e[i] < 0 THEN
            RAISE EXCEPTION 'latency bucket edges must not be negative, got %', e[i] USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF i > 1 AND e[i] <= e[i - 1] THEN
            RAISE EXCEPTION 'latency bucket edges must be strictly increasing, got % then %', e[i - 1], e[i]
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN e;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.checked_latency_edges(integer[]) IS
  'edges with subscripts from 1 when they are valid bucket edges (one dimension, no NULL, 1 to 64 values, none negative, strictly increasing); else the native edition''s ERROR.';

CREATE FUNCTION nezuko_analytics.latency_bucket_labels(edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT array_agg(CASE WHEN i = 1 THEN '<' || e[1] || 'ms'
                          WHEN i = n + 1 THEN '>' || e[n] || 'ms'
                          ELSE e[i - 1] || '-' || e[i] || 'ms' END ORDER BY i)
    FROM (SELECT nezuko_analytics.checked_latency_edges(edges) AS e) c,
         LATERAL (SELECT cardinality(c.e) AS n) k,
         LATERAL generate_series(1, k.n + 1) i
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_labels(integer[]) IS
  'Labels of the buckets the edges define, in order: ''<50ms'', ''50-100ms'', ..., ''>500ms''. ERROR for invalid edges.';

CREATE FUNCTION nezuko_analytics.latency_bucket(latency_ms integer, edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e integer[] := nezuko_analytics.checked_latency_edges(edges);
BEGIN
    IF latency_ms < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', latency_ms USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- buckets are [lower, upper): the bucket after the last edge not above latency_ms
    RETURN (nezuko_analytics.latency_bucket_labels(e))[width_bucket(latency_ms, e) + 1];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_bucket(integer, integer[]) IS
  'Label of the bucket latency_ms falls in; buckets are [lower, upper). ERROR for a negative latency or invalid edges.';
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
-- The portable engine of the latency charts: plain queries, one pass each.

CREATE FUNCTION nezuko_analytics.bucket_counts(bot name, source text, since timestamptz, until timestamptz, edges integer[])
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e integer[] := nezuko_analytics.checked_latency_edges(edges);
    n integer := cardinality(e);
    filters text;
    rows bigint;
    lowest integer;
    counts bigint[];
BEGIN
    -- one count per bucket, each a FILTER of the same pass: [e(i-1), e(i))
    SELECT string_agg(format('count(*) FILTER (WHERE latency_ms %s)',
                             CASE WHEN i = 1 THEN format('< %s', e[1])
                                  WHEN i = n + 1 THEN format('>= %s', e[n])
                                  ELSE format('>= %s AND latency_ms < %s', e[i - 1], e[i]) END), ', ' ORDER BY i)
    INTO filters FROM generate_series(1, n + 1) i;
    EXECUTE format('SELECT count(*), min(latency_ms), ARRAY[%s] FROM %I.%I WHERE "timestamp" >= $1 AND "timestamp" < $2',
                   filters, bot, source)
        INTO rows, lowest, counts USING since, until;
    IF lowest < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', lowest USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN CASE WHEN rows > 0 THEN counts END;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bucket_counts(name, text, timestamptz, timestamptz, integer[]) IS
  'Engine of latency_histogram(): the count of bot.source rows in [since, until) in each latency bucket of edges (NULL when the window is empty), one pass with a FILTER per bucket.';

CREATE FUNCTION nezuko_analytics.percentile_values(bot name, source text, since timestamptz, until timestamptz,
                                                   percentiles float8[])
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
    result float8[];
BEGIN
    IF array_ndims(percentiles) > 1 THEN
        -- (the native edition says so only for a window with latencies)
        EXECUTE format('SELECT count(latency_ms) FROM %I.%I WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source)
            INTO n USING since, until;
        IF n > 0 THEN
            RAISE EXCEPTION 'percentiles must be a one-dimensional array' USING ERRCODE = 'array_subscript_error';
        END IF;
        RETURN NULL;
    END IF;
    -- one pass; over no latencies percentile_cont is NULL before it looks at the percentiles
    EXECUTE format('SELECT percentile_cont($3) WITHIN GROUP (ORDER BY latency_ms) FROM %I.%I'
                   ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source)
        INTO result USING since, until, percentiles;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_values(name, text, timestamptz, timestamptz, float8[]) IS
  'Engine of latency_percentiles(): percentile_cont(percentiles) of latency_ms over bot.source rows in [since, until) (NULL without latencies).';
-- Local time in the portable edition: each row placed by the zone's offsets
-- over the window (window_tz_offsets(), the native edition's own), applied
-- in SQL.  No zone lookup per row: the row's time plus its segment's offset
-- is its local wall clock read as UTC, binned with date_bin.

CREATE FUNCTION nezuko_analytics.local_shift_sql(offsets bigint[])
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := coalesce(cardinality(offsets), 0) / 2;
    cases text := '';
BEGIN
    IF n = 0 THEN
        RETURN 'v."timestamp"';  -- no rows in the window: nothing is placed
    END IF;
    -- offsets: (segment start, offset) pairs in microseconds, starts since
    -- 2000-01-01 UTC; a row before the second start takes the first offset,
    -- one after the last start the last (as the native edition does)
    FOR i IN 2 .. n LOOP
        cases := cases || format(' WHEN v."timestamp" < %L::timestamptz THEN %L::interval',
                                 to_char((timestamptz '2000-01-01 00:00:00+00'
                                          + (offsets[2 * i - 1]::text || ' microseconds')::interval) AT TIME ZONE 'UTC',
                                         'YYYY-MM-DD"T"HH24:MI:SS.US"+00"'),
                                 offsets[2 * i - 2]::text || ' microseconds');
    END LOOP;
    IF n = 1 THEN  -- one offset over the whole window
        RETURN format('(v."timestamp" + %L::interval)', offsets[2]::text || ' microseconds');
    END IF;
    RETURN format('(v."timestamp" + CASE%s ELSE %L::interval END)', cases, offsets[2 * n]::text || ' microseconds');
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.local_shift_sql(bigint[]) IS
  'SQL for a verification_log row''s (aliased v) time plus its zone offset from offsets (window_tz_offsets()): its local wall clock read as UTC, so date_bin(''1 hour''/''1 day'', .., ''2000-01-01+00'') gives its local hour and day.';
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
-- Reads by local day (and hour) in the portable edition: one branch per local
-- day of the window, each a range of the time index with the day as a
-- constant (a parameter), so that no row computes its local day and a read
-- by day and latency keeps a small hash table per day.  Measured on 90 days
-- of the bench data (docs/benchmarks.md): 1.2 s against 1.8 s for the read
-- by day and latency in time slices.  The branches run as one Parallel
-- Append, as the time slices do (window_slices.sql).  The local hours are
-- cut the same way (window_local_bins() with a width of 1 hour) for the
-- read by hour (window_hour_counts.sql).  A window whose rows span more
-- local days than window_day_limit() is read in time slices instead, so
-- that the planning stays small whatever the window.

CREATE FUNCTION nezuko_analytics.window_day_limit()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 120 $$;
COMMENT ON FUNCTION nezuko_analytics.window_day_limit() IS
  'The most local days (window_days()) the portable reads by day take one branch each for: the contracts'' longest period, 90 days, with room for changes of offset; a window whose rows span more is read in time slices (window_slices()).';

CREATE FUNCTION nezuko_analytics.window_local_bins(bot name, since timestamptz, until timestamptz, offsets bigint[], width interval,
                                                   OUT bounds timestamptz[], OUT labels timestamptz[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    epoch constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    n constant integer := coalesce(cardinality(offsets), 0) / 2;
    step interval;
    most integer;
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    IF width IS NULL OR width NOT IN (interval '1 hour', interval '1 day') THEN
        RAISE EXCEPTION 'window_local_bins: width must be 1 hour or 1 day, not %', width USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- width as an absolute step (24 hours, not a calendar day, in any
    -- session zone), and the most bins: window_day_limit() days' worth
    step := make_interval(secs => extract(epoch FROM width));
    most := nezuko_analytics.window_day_limit() * (86400 / extract(epoch FROM width))::integer;
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        -- no rows: one bin that reads nothing
        bounds := ARRAY[since, until];
        labels := ARRAY[NULL::timestamptz];
        RETURN;
    END IF;
    IF n = 0 OR last_row - first_row > make_interval(days => nezuko_analytics.window_day_limit()) THEN
        RETURN;  -- no offsets to place rows by, or too many days: NULL, read in time slices
    END IF;
    -- Segment i of the offsets runs from its start (the first from -infinity)
    -- to the next start (the last to infinity), with one offset: a row's
    -- local day (hour) is date_bin(width, its time + that offset), as
    -- local_shift_sql() places it.  The cuts are the segments' starts and
    -- the local midnights (hours) of each segment, both only inside the
    -- rows' span (first_row, last_row]; between two cuts every row has the
    -- same local day (hour).  With since first and until last, the bins
    -- [bounds[i], bounds[i + 1]) cover the window once, whatever the rows
    -- are.  All steps are absolute (step, date_bin), never calendar days.
    WITH seg AS (
        SELECT i, CASE WHEN i = 1 THEN first_row
                       ELSE greatest(epoch + (offsets[2 * i - 1]::text || ' microseconds')::interval, first_row) END AS lo,
               least(epoch + (offsets[2 * i + 1]::text || ' microseconds')::interval, last_row) AS hi,  -- NULL start past the last: last_row
               (offsets[2 * i]::text || ' microseconds')::interval AS shift
        FROM generate_series(1, n) i),
    cuts AS (
        SELECT s.lo AS cut FROM seg s WHERE s.i > 1 AND s.lo > first_row AND s.lo <= s.hi
        UNION
        SELECT d - s.shift
        FROM seg s, generate_series(date_bin(step, s.lo + s.shift, epoch) + step, s.hi + s.shift, step) d
        WHERE s.lo <= s.hi)
    SELECT ARRAY[since] || coalesce(array_agg(c.cut ORDER BY c.cut), '{}') || ARRAY[until] INTO bounds FROM cuts c;
    -- each bin's label: the local day (hour) of its first instant that can
    -- hold a row
    SELECT array_agg((SELECT date_bin(step, x.at + (offsets[2 * s.i]::text || ' microseconds')::interval, epoch)
                      FROM generate_series(1, n) s(i)
                      WHERE s.i = 1 OR epoch + (offsets[2 * s.i - 1]::text || ' microseconds')::interval <= x.at
                      ORDER BY s.i DESC LIMIT 1) ORDER BY x.j)
    INTO labels
    FROM (SELECT j, greatest(bounds[j], first_row) AS at FROM generate_series(1, cardinality(bounds) - 1) j) x;
    IF cardinality(labels) > most THEN
        bounds := NULL;
        labels := NULL;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_local_bins(name, timestamptz, timestamptz, bigint[], interval) IS
  'The local days or hours (width 1 day or 1 hour) of the window [since, until) of the bot''s verification_log, with offsets from window_tz_offsets(): bounds b (since, cuts, until) such that every row in [b[i], b[i + 1]) has local day or hour labels[i] (date_bin(width, time + offset), as local_shift_sql() places it; one split by a change of offset comes twice); {since, until} and {NULL} when the window has no rows; NULL when its rows span more than window_day_limit() days.';

CREATE FUNCTION nezuko_analytics.window_days(bot name, since timestamptz, until timestamptz, offsets bigint[],
                                             OUT bounds timestamptz[], OUT local_days timestamptz[])
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT b.bounds, b.labels FROM nezuko_analytics.window_local_bins(bot, since, until, offsets, interval '1 day') b $$;
COMMENT ON FUNCTION nezuko_analytics.window_days(name, timestamptz, timestamptz, bigint[]) IS
  'The local days of the window [since, until) of the bot''s verification_log, with offsets from window_tz_offsets(): bounds b (since, cuts, until) such that every row in [b[i], b[i + 1]) has local day local_days[i] (date_bin(''1 day'', time + offset), as local_shift_sql() places it; a day split by a change of offset comes twice); {since, until} and {NULL} when the window has no rows; NULL when its rows span more than window_day_limit() days.';
-- The read by local hour in the portable edition: each local hour of a long
-- window (window_local_bins() with a width of 1 hour) counted as its own
-- range of the ("timestamp", status) index, with no grouping.  Over 90 days
-- of the bench data a time slice took 174 ms against 287 ms when each row
-- computed its local hour and a hash table added it up: a plain count by
-- range costs what reading the index does, the hash table another 60 %.
--
-- A lateral subquery (or a correlated one) is never run by a parallel worker
-- in PostgreSQL 15: its parameters come from the leader's plan.  A function
-- call is, so the hours are read by window_hour_counts(), one call per run of
-- consecutive hours, each call one branch of a Parallel Append.  Its COST
-- tells the planner that a call reads many rows; at the default cost of a
-- function the planner would not start workers for a few calls.

-- The three statuses a local hour is counted by, as a select list over
-- verification_log aliased v: one source for the reads by hour
-- (window_hour_counts(), window_summary_pass()'s read in time slices,
-- hour_counts_pass()).
CREATE FUNCTION nezuko_analytics.status_counts_sql()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT $s$count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.status = 'restricted') AS restricted,
                   count(*) FILTER (WHERE v.status = 'error') AS error$s$
$$;
COMMENT ON FUNCTION nezuko_analytics.status_counts_sql() IS
  'SQL select list of the verified, restricted and error rows of verification_log (aliased v), as the reads by local hour count them (window_hour_counts(), window_summary_pass(), hour_counts_pass()).';

CREATE FUNCTION nezuko_analytics.window_hour_counts(bot name, bounds timestamptz[], local_hours timestamptz[],
                                                    first_hour integer, last_hour integer)
RETURNS TABLE (local_hour timestamptz, n bigint, verified bigint, restricted bigint, error bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
COST 1000000
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- hours first_hour .. last_hour of window_local_bins(): hour k holds the
    -- finite rows in [bounds[k], bounds[k + 1]), with label local_hours[k];
    -- an hour without rows gives no row
    RETURN QUERY EXECUTE format($q$
        SELECT $2[k], c.n, c.verified, c.restricted, c.error
        FROM generate_series($3, $4) k
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, %2$s
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1[k] AND v."timestamp" < $1[k + 1]
              AND v."timestamp" > '-infinity' AND v."timestamp" < 'infinity'
            HAVING count(*) > 0) c$q$, bot, nezuko_analytics.status_counts_sql())
        USING bounds, local_hours, first_hour, last_hour;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_hour_counts(name, timestamptz[], timestamptz[], integer, integer) IS
  'Per local hour k in first_hour .. last_hour of window_local_bins(..., ''1 hour''): local_hours[k] with the count, verified, restricted and error rows of bot.verification_log''s finite rows in [bounds[k], bounds[k + 1]), each hour a range of the time index; hours without rows are left out. One call is one branch of the summaries'' parallel read by hour.';
-- Parallel reads in the portable edition: a window's grouped read written as
-- one read per time slice, joined by UNION ALL and added up again.  The
-- planner cannot estimate the groups of an expression such as a local hour
-- (it takes the distinct timestamps: millions), so it never splits one
-- grouped read between parallel workers; a Parallel Append of whole slices
-- it does, each process reading its slices through the time index.  The
-- summaries that read this way set min_parallel_table_scan_size and
-- min_parallel_index_scan_size out of reach, so that no slice is split
-- further (a Gather inside a slice would rule out the Parallel Append).

CREATE FUNCTION nezuko_analytics.window_slice_count()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 6 $$;
COMMENT ON FUNCTION nezuko_analytics.window_slice_count() IS
  'How many time slices the portable summaries read a window in (window_slices()): two for each of the three processes of a Gather with the default max_parallel_workers_per_gather = 2, so that a slow slice is made up for.';

CREATE FUNCTION nezuko_analytics.window_slices(bot name, log_table text, since timestamptz, until timestamptz)
RETURNS timestamptz[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k constant integer := nezuko_analytics.window_slice_count();
    first_row timestamptz;
    last_row timestamptz;
    span float8;
BEGIN
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, log_table, since, until) s;
    IF first_row IS NULL OR first_row = last_row THEN
        RETURN ARRAY[since, until];
    END IF;
    -- the bounds never decrease, start at since and end at until: the slices
    -- [b[i], b[i + 1]) cover the window once, whatever the rows are.  The cuts
    -- are absolute seconds (make_interval(secs)), never calendar days.
    span := extract(epoch FROM last_row - first_row)::float8;
    RETURN ARRAY[since]
        || ARRAY(SELECT greatest(since, least(until, first_row + make_interval(secs => span * i / k)))
                 FROM generate_series(1, k - 1) i ORDER BY i)
        || ARRAY[until];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_slices(name, text, timestamptz, timestamptz) IS
  'Bounds b of the time slices [b[i], b[i + 1]) that cover [since, until) of bot.log_table once: since, window_slice_count() - 1 cuts evenly spread between the window''s first and last finite row, until; {since, until} when the window holds fewer than two distinct finite times.';

CREATE FUNCTION nezuko_analytics.slices_sql(slice_sql text, time_column text, bounds_param integer, slices integer,
                                            finite_only boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- slice_sql holds {slice} where its WHERE clause takes the slice's range,
    -- and may hold {i}, the slice's number (to take the slice's own entry of
    -- an array parameter); finite_only leaves out the rows stamped -infinity
    -- and infinity, with range conditions the planner estimates (isfinite()
    -- it takes for a third of the rows)
    SELECT string_agg('(' || replace(replace(slice_sql, '{slice}',
                                             format('%1$s >= $%2$s[%3$s] AND %1$s < $%2$s[%4$s]', time_column, bounds_param, i, i + 1)
                                             || CASE WHEN finite_only THEN format(' AND %1$s > ''-infinity'' AND %1$s < ''infinity''', time_column)
                                                     ELSE '' END),
                                     '{i}', i::text)
                      || ')', E'\n        UNION ALL ' ORDER BY i)
    FROM generate_series(1, greatest(slices, 1)) i
$$;
COMMENT ON FUNCTION nezuko_analytics.slices_sql(text, text, integer, integer, boolean) IS
  'slice_sql once per slice, joined by UNION ALL: its {slice} replaced by the range of slice i on time_column, [$bounds_param[i], $bounds_param[i + 1]) (bounds from window_slices() or window_days()), and with finite_only by time_column > ''-infinity'' AND time_column < ''infinity''; its {i} by i.';
-- The top groups of a long window in the portable summaries (1.13), read
-- without hashing every row of the window.  The read by group in time slices
-- (window_summary_pass()) takes each row from the heap to count its group
-- and whether it was verified: over 90 days of the benchmark's data it was
-- the costliest of the summary's four reads.  Instead:
--   1. each group's rows, counted from the ("group_id", "timestamp") index
--      alone, in ranges of group ids that parallel workers share; the top
--      groups kept (window_top_group_counts());
--   2. the verified rows of those groups only, through a bitmap of the same
--      index, in the window's time slices (window_top_group_verified()).
-- That pays when the window spans most of the table (the index is read
-- whole) and its top groups hold a minority of its rows; otherwise the
-- window is read the old way.  Which way is decided from a sample of the
-- window's rows (window_group_sample(), top_groups_by_index()), and only
-- where the table has the group index (has_group_time_index()).

CREATE FUNCTION nezuko_analytics.has_group_time_index(bot name)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- a plain valid btree whose keys start with group_id, then "timestamp"
    -- (the schema's idx_verification_log_group_id_timestamp): the reads by
    -- the index need both, in that order
    SELECT EXISTS (
        SELECT FROM pg_index i
        JOIN pg_class x ON x.oid = i.indexrelid
        JOIN pg_am a ON a.oid = x.relam
        WHERE i.indrelid = format('%I.verification_log', bot)::regclass
          AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL AND a.amname = 'btree' AND i.indnkeyatts >= 2
          AND i.indkey[0] = (SELECT t.attnum FROM pg_attribute t WHERE t.attrelid = i.indrelid AND t.attname = 'group_id')
          AND i.indkey[1] = (SELECT t.attnum FROM pg_attribute t WHERE t.attrelid = i.indrelid AND t.attname = 'timestamp'))
$$;
COMMENT ON FUNCTION nezuko_analytics.has_group_time_index(name) IS
  'Whether bot.verification_log has a valid btree index (no predicate, no expression) whose keys start with group_id, then "timestamp", as the schema''s idx_verification_log_group_id_timestamp: what window_top_group_counts() and window_top_group_verified() read.';

CREATE FUNCTION nezuko_analytics.top_groups_by_index(window_share float8, top_share float8, group_index boolean)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- a setting of the portable edition alone: a plain custom one, which any
    -- role may set for its session
    setting constant text := lower(trim(coalesce(nullif(current_setting('nezuko_analytics_sql.top_groups_by_index', true), ''), 'auto')));
BEGIN
    IF setting NOT IN ('auto', 'on', 'off') THEN
        RAISE EXCEPTION 'nezuko_analytics_sql.top_groups_by_index must be auto, on or off, not %', quote_literal(setting)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF window_share IS NULL OR setting = 'off' THEN
        RETURN false;  -- no rows, or never
    END IF;
    -- Without the group index (group_index false) each read would scan the
    -- table.  The count by the index reads every entry of the table (the
    -- time is its second column), the read of every row only the window's;
    -- the bitmap reads the top groups' rows.  Measured on the benchmark's
    -- data (docs/benchmarks.md): 90 days of 120 with the top ten groups
    -- holding 12 % of the rows, 14 % faster in all; 7 days of 120, twice as
    -- slow.
    RETURN setting = 'on' OR (group_index AND window_share >= 0.6 AND top_share <= 0.25);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.top_groups_by_index(float8, float8, boolean) IS
  'Whether the portable summaries read a long window''s top groups by the group index (window_top_group_counts(), window_top_group_verified()) rather than by one read of every row, by the setting nezuko_analytics_sql.top_groups_by_index: off never, on always (when the window has rows), auto (the default) when bot.verification_log has that index (group_index, has_group_time_index()) and the window spans at least 0.6 of the table''s time (window_share) and its top groups hold at most a quarter of its rows (top_share), as window_group_sample() estimates them.';

CREATE FUNCTION nezuko_analytics.window_group_sample(bot name, since timestamptz, until timestamptz, top integer,
                                                    OUT splits bigint[], OUT top_share float8, OUT window_share float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    probes constant integer := 64;  -- runs of 50 rows, evenly spread in time: about 3,200 rows
    k constant integer := nezuko_analytics.window_slice_count();
    first_row timestamptz;
    last_row timestamptz;
    table_span record;
BEGIN
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        RETURN;  -- no rows: NULLs
    END IF;
    table_span := nezuko_analytics.window_rows_span(bot, 'verification_log', '-infinity', 'infinity');
    window_share := CASE WHEN table_span.first_row = table_span.last_row THEN 1
                         ELSE extract(epoch FROM last_row - first_row)::float8
                              / extract(epoch FROM table_span.last_row - table_span.first_row)::float8 END;
    -- deterministic: the same rows give the same answer
    EXECUTE format($q$
        WITH s AS (
            SELECT coalesce(r.group_id::bigint, 0) AS group_id, r.group_id IS NULL AS no_group
            FROM generate_series(0, $4 - 1) i,
                 LATERAL (SELECT v.group_id FROM %I.verification_log v
                          WHERE v."timestamp" >= $1 + make_interval(secs => extract(epoch FROM $2 - $1)::float8 * i / $4)
                            AND v."timestamp" <= $2 AND v."timestamp" < $3
                          ORDER BY v."timestamp" LIMIT 50) r),
        top_ AS (SELECT count(*) AS n FROM s GROUP BY s.group_id ORDER BY n DESC, s.group_id LIMIT $5)
        SELECT (SELECT percentile_disc((SELECT array_agg(j::float8 / $6 ORDER BY j) FROM generate_series(1, $6 - 1) j))
                       WITHIN GROUP (ORDER BY s.group_id) FROM s WHERE NOT s.no_group),
               (SELECT coalesce(sum(n), 0) FROM top_)::float8 / (SELECT count(*) FROM s)$q$, bot)
        INTO splits, top_share USING first_row, last_row, until, probes, greatest(top, 0), k;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_group_sample(name, timestamptz, timestamptz, integer) IS
  'A sample of bot.verification_log''s finite rows in [since, until) (64 runs of 50 rows through the time index, evenly spread between the first and the last): splits, window_slice_count() - 1 group ids that cut the sampled rows into parts of about equal size (window_top_group_counts() reads by them); top_share, the share of the sampled rows in the sample''s top groups (NULL group_id as 0); window_share, the time between the window''s first and last row over the same for the whole table; NULLs when the window holds no finite row.';

CREATE FUNCTION nezuko_analytics.window_top_group_counts(bot name, since timestamptz, until timestamptz, top integer,
                                                        splits bigint[])
RETURNS TABLE (group_id bigint, n bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- the ranges of group ids are what parallel workers share
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    cuts constant bigint[] := coalesce(splits, '{}');
    parts text;
BEGIN
    -- a branch for the rows without a group, then one per range of ids
    -- between the cuts (a cut repeated by a large group: an empty range)
    SELECT string_agg(format($b$(SELECT v.group_id, count(*) AS n FROM %1$I.verification_log v
            WHERE %2$s AND v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" > '-infinity' AND v."timestamp" < 'infinity'
            GROUP BY 1)$b$, bot,
            CASE WHEN i = 0 THEN 'v.group_id IS NULL'
                 WHEN cardinality(cuts) = 0 THEN 'v.group_id IS NOT NULL'
                 WHEN i = 1 THEN format('v.group_id < %s', cuts[1])
                 WHEN i > cardinality(cuts) THEN format('v.group_id >= %s', cuts[i - 1])
                 ELSE format('v.group_id >= %s AND v.group_id < %s', cuts[i - 1], cuts[i]) END),
                      E'\n        UNION ALL ' ORDER BY i)
      INTO parts
    FROM generate_series(0, cardinality(cuts) + 1) i;
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        SELECT coalesce(s.group_id::bigint, 0), sum(s.n)::bigint FROM (%s) s
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $3$q$, parts)
        USING since, until, top;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_top_group_counts(name, timestamptz, timestamptz, integer, bigint[]) IS
  'The top groups of bot.verification_log''s finite rows in [since, until), most rows first (ties by group_id, NULL group_id as 0), with their rows: counted from the ("group_id", "timestamp") index in the ranges of group ids between splits (window_group_sample()), which parallel workers share.';

CREATE FUNCTION nezuko_analytics.window_top_group_verified(bot name, group_ids bigint[], bounds timestamptz[])
RETURNS TABLE (group_id bigint, verified bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
-- the rows of a few groups among many, through a bitmap of the group index:
-- the planner, which counts the top groups' rows from the statistics, would
-- take every row of the slice through the time index instead (twice as
-- long); and an exact bitmap needs more than the default 4MB
SET enable_seqscan = off
SET enable_indexscan = off
SET work_mem = '16MB'
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT coalesce(s.group_id::bigint, 0), sum(s.verified)::bigint FROM (%s) s GROUP BY 1',
        nezuko_analytics.slices_sql(format($s$
            SELECT v.group_id, count(*) AS verified FROM %1$I.verification_log v
            WHERE {slice} AND (v.group_id = ANY ($1) OR (v.group_id IS NULL AND 0 = ANY ($1))) AND v.status = 'verified'
            GROUP BY 1$s$, bot), 'v."timestamp"', 2, cardinality(bounds) - 1, true))
        USING group_ids, bounds;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_top_group_verified(name, bigint[], timestamptz[]) IS
  'The verified rows of the groups group_ids (0 also counts the rows without a group) among bot.verification_log''s finite rows in the time slices of bounds (window_slices()), per group that has any: through a bitmap of the ("group_id", "timestamp") index, one slice per branch.';
-- The portable engine of dashboard() and the trend contracts: the same keyed
-- documents as the native edition's C++ aggregates (docs/dashboard.md), from
-- grouped reads of the window (by local hour, by latency and local day, by
-- group).  Percentiles are exact: from the count of each latency value, with
-- percentile_cont's arithmetic.

CREATE FUNCTION nezuko_analytics.percentile_of_counts(latencies integer[], counts bigint[], p float8)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- percentile_cont(p) of a multiset given as distinct values (ascending)
    -- and their counts: the values at ranks floor and ceil of p * (n - 1)
    -- (0-based), interpolated as orderedsetaggs.c does (lo + (pct * (hi - lo))).
    n bigint := 0;
    upto bigint := 0;
    pos float8;
    lo_rank bigint;
    hi_rank bigint;
    lo float8;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(counts), 0) LOOP
        n := n + counts[i];
    END LOOP;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    pos := p * (n - 1)::float8;
    lo_rank := floor(pos)::bigint;
    hi_rank := ceil(pos)::bigint;
    FOR i IN 1 .. cardinality(counts) LOOP
        upto := upto + counts[i];
        IF lo IS NULL AND upto > lo_rank THEN
            lo := latencies[i];
        END IF;
        IF upto > hi_rank THEN
            RETURN lo + ((pos - floor(pos)) * (latencies[i]::float8 - lo));
        END IF;
    END LOOP;
    RETURN NULL;  -- not reached: the counts add up to n
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_of_counts(integer[], bigint[], float8) IS
  'percentile_cont(p) of the latencies given as distinct values (ascending) and their counts; NULL when the counts add up to 0.';

CREATE FUNCTION nezuko_analytics.recent_totals_sql(bot name, recent_param integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- one read of the rows at or after the parameter, inside the window
    -- ($1, $2): through the time index, as the recent stretch is short; no
    -- rows when the parameter is NULL
    SELECT format($q$
        SELECT count(*) AS count, count(*) FILTER (WHERE v.status = 'verified') AS verified,
               count(*) FILTER (WHERE v.cached) AS cached, count(v.latency_ms) AS latency_count,
               coalesce(sum(v.latency_ms), 0) AS latency_sum
        FROM %1$I.verification_log v
        WHERE v."timestamp" >= $%2$s AND v."timestamp" >= $1 AND v."timestamp" < $2 AND isfinite(v."timestamp")$q$,
        bot, recent_param)
$$;
COMMENT ON FUNCTION nezuko_analytics.recent_totals_sql(name, integer) IS
  'SQL of the recent totals of the portable summaries (count, verified, cached, latency_count, latency_sum of the rows in [$1, $2) at or after $recent_param; zeros when it is NULL), read apart from the window''s grouped reads so that those carry no per-row test of it.';

CREATE FUNCTION nezuko_analytics.day_read_sql(bot name, shift text, select_list text, where_extra text, group_key text,
                                              bounds_param integer, days_param integer, branches integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- A read of verification_log by local day: (local_day, select_list) of
    -- the finite rows, with where_extra, by group_key within the day (none:
    -- the day's totals).  With days_param, one branch per local day
    -- (window_days(): bounds $bounds_param, days $days_param), the day a
    -- constant and no grouping by it; without, one branch per time slice
    -- (window_slices(): bounds $bounds_param), each row placed by shift
    -- (local_shift_sql()).  Either way a day may come in more than one row
    -- (a change of offset, a day across two slices): the readers add up.
    SELECT nezuko_analytics.slices_sql(
        format('SELECT %s AS local_day, %s FROM %I.verification_log v WHERE {slice}%s%s',
               CASE WHEN days_param IS NULL
                    THEN format('date_bin(''1 day'', %s, timestamptz ''2000-01-01 00:00:00+00'')', shift)
                    ELSE format('$%s[{i}]', days_param) END,
               select_list, bot, coalesce(' ' || where_extra, ''),
               CASE WHEN days_param IS NULL THEN ' GROUP BY 1' || coalesce(', ' || group_key, '')
                    WHEN group_key IS NULL THEN ' HAVING count(*) > 0'  -- a day without rows is no row
                    ELSE ' GROUP BY ' || group_key END),
        'v."timestamp"', bounds_param, branches, true)
$$;
COMMENT ON FUNCTION nezuko_analytics.day_read_sql(name, text, text, text, text, integer, integer, integer) IS
  'SQL of a portable read of verification_log (aliased v) by local day: rows (local_day, select_list) over the finite rows in each branch with where_extra, grouped by group_key within a day (NULL: one row per day with rows); one branch per local day when days_param is given (bounds and days from window_days()), else per time slice (window_slices()), the day from shift (local_shift_sql()). A day may come in several rows.';

CREATE FUNCTION nezuko_analytics.window_summary_pass(since timestamptz, until timestamptz, tz text,
                                                     top_groups integer, recent_since timestamptz)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- a read by local day and latency in time slices (a long window) holds one
-- entry per pair (160,000 over 90 days): at the default 4MB it spills to
-- disk and takes twice as long
SET work_mem = '16MB'
-- the time slices and the days are what parallel workers share
-- (window_slices.sql, window_days.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    offsets constant bigint[] := nezuko_analytics.window_tz_offsets(since, until, tz);
    -- each row placed in its local hour (and day, in time slices) by the
    -- zone's offsets: see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(offsets);
    -- a small window (window_is_small()) is one slice, its rows placed in
    -- their local days by shift
    small constant boolean := nezuko_analytics.window_is_small(bot, 'verification_log', since, until);
    bounds constant timestamptz[] := CASE WHEN small THEN ARRAY[since, until]
                                          ELSE nezuko_analytics.window_slices(bot, 'verification_log', since, until) END;
    days record;
    day_bounds_param integer;
    days_param integer;
    day_branches integer;
    sample record;
    hours record;
    hour_read text;
    top_ids bigint[];
    top_ns bigint[];
    top_verified bigint[];
BEGIN
    -- A long window that spans most of the table and whose top groups hold
    -- a minority of its rows (by a sample: top_groups_by_index()) has them
    -- read by the group index (window_top_groups.sql); otherwise, and in a
    -- small window, one read of every row counts each group.  Each is a
    -- query of its own, before the reads below.
    IF NOT small THEN
        sample := nezuko_analytics.window_group_sample(bot, since, until, top_groups);
        IF nezuko_analytics.top_groups_by_index(sample.window_share, sample.top_share,
                                                nezuko_analytics.has_group_time_index(bot)) THEN
            SELECT coalesce(array_agg(t.group_id ORDER BY t.n DESC, t.group_id), '{}'),
                   coalesce(array_agg(t.n ORDER BY t.n DESC, t.group_id), '{}')
              INTO top_ids, top_ns
            FROM nezuko_analytics.window_top_group_counts(bot, since, until, top_groups, sample.splits) t;
            SELECT coalesce(array_agg(coalesce(v.verified, 0) ORDER BY o.i), '{}') INTO top_verified
            FROM unnest(top_ids) WITH ORDINALITY o(group_id, i)
            LEFT JOIN nezuko_analytics.window_top_group_verified(bot, top_ids, bounds) v USING (group_id);
        END IF;
    END IF;
    -- a long window's local days and hours (NULL past window_day_limit()
    -- days); a small one is read in its one slice
    IF small THEN
        SELECT NULL::timestamptz[] AS bounds, NULL::timestamptz[] AS local_days INTO days;
        SELECT NULL::timestamptz[] AS bounds, NULL::timestamptz[] AS labels INTO hours;
    ELSE
        days := nezuko_analytics.window_days(bot, since, until, offsets);
        hours := nezuko_analytics.window_local_bins(bot, since, until, offsets, interval '1 hour');
    END IF;
    -- the reads by local day: day by day (bounds $7, days $8), or for a long
    -- or a small window (days NULL) in the time slices ($6)
    day_bounds_param := CASE WHEN days.local_days IS NULL THEN 6 ELSE 7 END;
    days_param := CASE WHEN days.local_days IS NOT NULL THEN 8 END;
    day_branches := coalesce(cardinality(days.local_days), cardinality(bounds) - 1);
    -- The read by local hour: in a long window whose rows span at most
    -- window_day_limit() days, hour by hour (window_local_bins(), bounds
    -- $12, hours $13), window_slice_count() runs of consecutive hours, one
    -- call of window_hour_counts() each (window_hour_counts.sql); otherwise
    -- each row placed in its local hour by shift, slice by slice ($6).
    IF hours.labels IS NOT NULL THEN
        SELECT string_agg(format('SELECT * FROM nezuko_analytics.window_hour_counts(%L, $12, $13, %s, %s)',
                                 bot, 1 + (j - 1) * cardinality(hours.labels) / k, j * cardinality(hours.labels) / k),
                          E'\n        UNION ALL ' ORDER BY j)
          INTO hour_read
        FROM (SELECT nezuko_analytics.window_slice_count() AS k) c, generate_series(1, c.k) j;
    ELSE
        hour_read := nezuko_analytics.slices_sql(format($s$
            SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour,
                   count(*) AS n, %3$s
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot, shift, nezuko_analytics.status_counts_sql()), 'v."timestamp"', 6, cardinality(bounds) - 1, true);
    END IF;
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        -- four reads of the window: by local hour (hour by hour, or in
        -- time slices) and by group in time slices ($6, see
        -- window_slices()), the slices added up (the top groups come as $9,
        -- $10, $11 instead when read above); by local day and latency, and
        -- the cached ones by local day (day_read_sql())
        WITH rows_ AS MATERIALIZED (  -- by local hour only: FILTERs cost less than more grouping keys
            SELECT s.local_hour, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified,
                   sum(s.restricted)::bigint AS restricted, sum(s.error)::bigint AS error
            FROM (%1$s) s
            GROUP BY 1),
        recent_ AS MATERIALIZED (%4$s),
        latencies AS MATERIALIZED (%2$s),
        groups_ AS MATERIALIZED (%5$s),
        cached_ AS MATERIALIZED (
            SELECT (c.local_day AT TIME ZONE 'UTC')::date AS day, sum(c.cached)::bigint AS cached FROM (%3$s) c GROUP BY 1),
        latency_days AS (SELECT (local_day AT TIME ZONE 'UTC')::date AS day, latency_ms, n FROM latencies),
        overall AS (SELECT latency_ms, sum(n)::bigint AS n FROM latencies GROUP BY latency_ms),
        dist AS (SELECT array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n FROM overall)
        SELECT jsonb_build_object(
            'total', coalesce((SELECT sum(n) FROM rows_), 0),
            'verified', coalesce((SELECT sum(verified) FROM rows_), 0),
            'restricted', coalesce((SELECT sum(restricted) FROM rows_), 0),
            'error', coalesce((SELECT sum(error) FROM rows_), 0),
            'cached', coalesce((SELECT sum(cached) FROM cached_), 0),
            'latency_count', coalesce((SELECT sum(n) FROM overall), 0),
            'latency_sum', coalesce((SELECT sum(latency_ms::bigint * n) FROM overall), 0),
            'min_latency', (SELECT min(latency_ms) FROM overall),
            'buckets', (SELECT jsonb_agg(jsonb_build_object('bucket', labels[i], 'lower_ms', CASE WHEN i = 1 THEN 0 ELSE $5[i - 1] END,
                                                            'upper_ms', $5[i], 'count', coalesce(b.n, 0)) ORDER BY i)
                        FROM nezuko_analytics.latency_bucket_labels($5) labels,
                             generate_series(1, cardinality($5) + 1) i
                             LEFT JOIN (SELECT width_bucket(latency_ms, $5) + 1 AS i, sum(n) AS n FROM overall GROUP BY 1) b USING (i)),
            'p50', (SELECT nezuko_analytics.percentile_of_counts(d.v, d.n, 0.5) FROM dist d),
            'p95', (SELECT nezuko_analytics.percentile_of_counts(d.v, d.n, 0.95) FROM dist d),
            'p99', (SELECT nezuko_analytics.percentile_of_counts(d.v, d.n, 0.99) FROM dist d),
            'hours', (SELECT jsonb_agg(jsonb_build_object('hour', h, 'verified', coalesce(x.verified, 0),
                                                          'restricted', coalesce(x.restricted, 0), 'error', coalesce(x.error, 0)) ORDER BY h)
                      FROM generate_series(0, 23) h
                      LEFT JOIN (SELECT date_part('hour', local_hour AT TIME ZONE 'UTC')::integer AS hour, sum(verified) AS verified,
                                        sum(restricted) AS restricted, sum(error) AS error
                                 FROM rows_ GROUP BY 1) x ON x.hour = h),
            'groups', coalesce((SELECT jsonb_agg(jsonb_build_object('group_id', t.group_id, 'count', t.n, 'verified', t.verified)
                                                 ORDER BY t.n DESC, t.group_id) FROM groups_ t), '[]'::jsonb),
            'days', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                         'date', to_char(d.day, 'YYYY-MM-DD'), 'count', d.n, 'verified', d.verified,
                                         'cached', coalesce(c.cached, 0),
                                         'latency_count', coalesce(l.latency_count, 0), 'latency_sum', coalesce(l.latency_sum, 0),
                                         'p95', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95)) ORDER BY d.day)
                              FROM (SELECT (local_hour AT TIME ZONE 'UTC')::date AS day, sum(n) AS n, sum(verified) AS verified
                                    FROM rows_ GROUP BY 1) d
                              LEFT JOIN cached_ c USING (day)
                              LEFT JOIN (SELECT day, sum(n) AS latency_count, sum(latency_ms::bigint * n) AS latency_sum,
                                                array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                                         FROM latency_days GROUP BY day) l USING (day)), '[]'::jsonb),
            'recent', (SELECT to_jsonb(r) FROM recent_ r))$q$,
        hour_read,
        nezuko_analytics.day_read_sql(bot, shift, 'v.latency_ms, count(*) AS n', 'AND v.latency_ms IS NOT NULL', 'v.latency_ms',
                                      day_bounds_param, days_param, day_branches),
        nezuko_analytics.day_read_sql(bot, shift, 'count(*) AS cached', 'AND v.cached', NULL,
                                      day_bounds_param, days_param, day_branches),
        nezuko_analytics.recent_totals_sql(bot, 4),
        CASE WHEN top_ids IS NOT NULL  -- read above, by the group index
             THEN 'SELECT t.group_id, t.n, t.verified FROM unnest($9::bigint[], $10::bigint[], $11::bigint[]) t(group_id, n, verified)'
             -- a NULL group_id counts as group 0, as in the native edition
             ELSE format($g$
            SELECT coalesce(s.group_id::bigint, 0) AS group_id, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified
            FROM (%s) s
            GROUP BY 1 ORDER BY n DESC, group_id LIMIT $3$g$,
                         nezuko_analytics.slices_sql(format($s$
            SELECT v.group_id, count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot), 'v."timestamp"', 6, cardinality(bounds) - 1, true)) END)
        USING since, until, top_groups, recent_since, nezuko_analytics.default_latency_edges(), bounds,
              days.bounds, days.local_days, top_ids, top_ns, top_verified, hours.bounds, hours.labels;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary_pass(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The reads behind window_summary(), as one row (with min_latency, which window_summary() checks and drops).';

CREATE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
                                                top_groups integer DEFAULT 10, recent_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT p INTO v FROM nezuko_analytics.window_summary_pass(since, until, tz, coalesce(top_groups, 10), recent_since) p;
    IF (v->>'min_latency')::integer < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', v->>'min_latency' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (v->>'total')::bigint > 0 AND top_groups < 1 THEN
        RAISE EXCEPTION 'verification_summary: top_groups must be at least 1, not %', top_groups USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v - 'min_latency';
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The one-pass summary of verification_log in [since, until) with local hours and days in tz, every figure by name (docs/dashboard.md): the native edition''s document, built in SQL; shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.api_window_summary_pass(bot name, since timestamptz, until timestamptz)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- the time slices are what parallel workers share (window_slices.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    -- a small window (window_is_small()) is one slice
    bounds constant timestamptz[] := CASE WHEN nezuko_analytics.window_is_small(bot, 'api_call_log', since, until)
                                          THEN ARRAY[since, until]
                                          ELSE nezuko_analytics.window_slices(bot, 'api_call_log', since, until) END;
BEGIN
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        -- one grouped read of the window by method, success and latency,
        -- slice by slice ($3, see window_slices()) and the slices added up:
        -- a few thousand groups, from which both figures below come
        WITH calls AS MATERIALIZED (
            SELECT s.method, s.success, s.latency_ms, sum(s.n)::bigint AS n FROM (%1$s) s GROUP BY 1, 2, 3),
        methods AS (
            SELECT c.method, sum(c.n)::bigint AS n, coalesce(sum(c.n) FILTER (WHERE c.success), 0)::bigint AS ok,
                   coalesce(sum(c.n) FILTER (WHERE NOT c.success), 0)::bigint AS failures,
                   coalesce(sum(c.n) FILTER (WHERE c.latency_ms IS NOT NULL), 0)::bigint AS latency_count,
                   sum(c.latency_ms::bigint * c.n)::bigint AS latency_sum
            FROM calls c GROUP BY 1),
        latencies AS (
            SELECT c.method, c.latency_ms, sum(c.n)::bigint AS n FROM calls c WHERE c.latency_ms IS NOT NULL GROUP BY 1, 2),
        overall AS (SELECT latency_ms, sum(n)::bigint AS n FROM latencies GROUP BY latency_ms)
        SELECT jsonb_build_object(
            'calls', coalesce((SELECT sum(n) FROM methods), 0),
            'ok', coalesce((SELECT sum(ok) FROM methods), 0),
            'failures', coalesce((SELECT sum(failures) FROM methods), 0),
            'latency_count', coalesce((SELECT sum(latency_count) FROM methods), 0),
            'latency_sum', coalesce((SELECT sum(latency_sum) FROM methods), 0),
            'p95', (SELECT nezuko_analytics.percentile_of_counts(array_agg(latency_ms ORDER BY latency_ms), array_agg(n ORDER BY latency_ms), 0.95)
                    FROM overall),
            'methods', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                            'method', m.method, 'calls', m.n, 'failures', m.failures, 'ok', m.ok,
                                            'latency_count', m.latency_count, 'latency_sum', coalesce(m.latency_sum, 0),
                                            'p50', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.5),
                                            'p95', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95))
                                        ORDER BY m.n DESC, m.method COLLATE "C")
                                 FROM methods m
                                 LEFT JOIN (SELECT method, array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                                            FROM latencies GROUP BY method) l USING (method)), '[]'::jsonb))$q$,
        nezuko_analytics.slices_sql(format($s$
            SELECT coalesce(a.method::text, '') AS method, a.success, a.latency_ms, count(*) AS n
            FROM %1$I.api_call_log a WHERE {slice}
            GROUP BY 1, 2, 3$s$, bot), 'a."timestamp"', 3, cardinality(bounds) - 1, false))
        USING since, until, bounds;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary_pass(name, timestamptz, timestamptz) IS
  'The reads behind api_window_summary(), as one row.';

CREATE FUNCTION nezuko_analytics.api_window_summary(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT p FROM nezuko_analytics.api_window_summary_pass(bot, since, until) p $$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary(name, timestamptz, timestamptz) IS
  'The one-pass summary of bot.api_call_log in [since, until), every figure by name (docs/dashboard.md): calls, ok, failures, latency_count, latency_sum, exact p95, and per method (most calls first) the same with p50; built in SQL. Used by dashboard().';

CREATE FUNCTION nezuko_analytics.day_summary_pass(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                                  with_latency boolean)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- a read by local day and latency in time slices (a long window) holds one
-- entry per pair (160,000 over 90 days): at the default 4MB it spills to
-- disk and takes twice as long
SET work_mem = '16MB'
-- the time slices and the days are what parallel workers share
-- (window_slices.sql, window_days.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    offsets constant bigint[] := nezuko_analytics.window_tz_offsets(since, until, tz);
    -- each row placed in its local day by the zone's offsets (in time
    -- slices, a long window, or a small one): see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(offsets);
    -- a day's totals, in either form of the read
    day_totals constant text := $s$count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.cached) AS cached,
                   count(v.latency_ms) AS latency_count, sum(v.latency_ms) AS latency_sum, min(v.latency_ms) AS min_latency$s$;
    bounds timestamptz[];
    day_bounds timestamptz[];
    local_days timestamptz[];
    day_bounds_param integer;
    days_param integer;
    branches integer;
    reads text;
BEGIN
    IF nezuko_analytics.window_is_small(bot, 'verification_log', since, until) THEN
        -- A small window (window_is_small()): one read grouped by local
        -- day, each day's p95 by percentile_cont over its rows; on few rows
        -- a sort costs less than counting each latency value.
        reads := format($r$
        days_p95 AS (
            SELECT date_bin('1 day', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_day, %3$s, %4$s AS p95
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" > '-infinity' AND v."timestamp" < 'infinity'
            GROUP BY 1)$r$,
            bot, shift, day_totals,
            CASE WHEN with_latency THEN 'percentile_cont(0.95) WITHIN GROUP (ORDER BY v.latency_ms)' ELSE 'NULL::float8' END);
    ELSE
        -- One read by local day, and one by local day and latency only when
        -- the latencies are asked for; each one day by day ($6 and $7, see
        -- window_days()) or, for a long window, slice by slice ($5, see
        -- window_slices()), and the parts added up.
        SELECT w.bounds, w.local_days INTO day_bounds, local_days FROM nezuko_analytics.window_days(bot, since, until, offsets) w;
        IF local_days IS NULL THEN
            bounds := nezuko_analytics.window_slices(bot, 'verification_log', since, until);
        END IF;
        day_bounds_param := CASE WHEN bounds IS NULL THEN 6 ELSE 5 END;
        days_param := CASE WHEN bounds IS NULL THEN 7 END;
        branches := coalesce(cardinality(local_days), cardinality(bounds) - 1);
        reads := format($r$
        days_ AS MATERIALIZED (
            SELECT s.local_day, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified, sum(s.cached)::bigint AS cached,
                   sum(s.latency_count)::bigint AS latency_count, sum(s.latency_sum)::bigint AS latency_sum,
                   min(s.min_latency) AS min_latency
            FROM (%1$s) s
            GROUP BY 1),
        latencies AS MATERIALIZED (SELECT l.* FROM (%2$s) l WHERE $4),  -- nothing is read when $4 is false
        days_p95 AS (
            SELECT d.*, nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95) AS p95
            FROM days_ d
            LEFT JOIN (SELECT local_day, array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                       FROM latencies GROUP BY local_day) l USING (local_day))$r$,
            nezuko_analytics.day_read_sql(bot, shift, day_totals, NULL, NULL, day_bounds_param, days_param, branches),
            nezuko_analytics.day_read_sql(bot, shift, 'v.latency_ms, count(*) AS n', 'AND v.latency_ms IS NOT NULL', 'v.latency_ms',
                                          day_bounds_param, days_param, branches));
    END IF;
    -- the document, from the days (with their p95) either way
    RETURN QUERY EXECUTE format($q$
        WITH recent_ AS MATERIALIZED (%1$s),
        %2$s
        SELECT jsonb_build_object(
            'days', coalesce(jsonb_agg(jsonb_build_object(
                                 'date', to_char((d.local_day AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'count', d.n,
                                 'verified', d.verified, 'cached', d.cached, 'latency_count', d.latency_count,
                                 'latency_sum', coalesce(d.latency_sum, 0), 'p95', d.p95) ORDER BY d.local_day), '[]'::jsonb),
            'latency_count', coalesce(sum(d.latency_count), 0),
            'latency_sum', coalesce(sum(d.latency_sum), 0),
            'min_latency', min(d.min_latency),
            'recent', (SELECT to_jsonb(r) FROM recent_ r))
        FROM days_p95 d$q$,
        nezuko_analytics.recent_totals_sql(bot, 3), reads)
        USING since, until, recent_since, with_latency, bounds, day_bounds, local_days;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.day_summary_pass(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'The reads behind day_summary(), as one row (with min_latency, which day_summary() checks and drops): a small window (window_is_small()) by one read grouped by local day, p95 by percentile_cont; a longer one by day (or time slice) with the latencies counted per value.';

CREATE FUNCTION nezuko_analytics.day_summary(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                             with_latency boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT p INTO v FROM nezuko_analytics.day_summary_pass(since, until, tz, recent_since, coalesce(with_latency, true)) p;
    IF (v->>'min_latency')::integer < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', v->>'min_latency' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v - 'min_latency';
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.day_summary(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'Engine of the trend contracts: of window_summary(), what they read by name: days (date, count, verified, cached, latency_count, latency_sum, p95; p95 only with_latency), the window''s latency_count and latency_sum, and recent (totals at or after recent_since); one read by local day, and one by day and latency only with_latency (a small window, window_is_small(): one read).';
-- The portable engine of hourly_activity() and method_distribution(): one
-- query each.

CREATE FUNCTION nezuko_analytics.hour_counts_pass(bot name, since timestamptz, until timestamptz, tz text)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- RETURN QUERY: its read may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        SELECT jsonb_agg(jsonb_build_object('hour', h, 'verified', coalesce(x.verified, 0),
                                            'restricted', coalesce(x.restricted, 0), 'error', coalesce(x.error, 0)) ORDER BY h)
        FROM generate_series(0, 23) h
        LEFT JOIN (SELECT date_part('hour', b.local_hour AT TIME ZONE 'UTC')::integer AS hour,
                          sum(b.verified) AS verified, sum(b.restricted) AS restricted, sum(b.error) AS error
                   FROM (SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour, %3$s
                         FROM %1$I.verification_log v
                         WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND isfinite(v."timestamp")
                         GROUP BY 1) b
                   GROUP BY 1) x ON x.hour = h$q$,
        bot, nezuko_analytics.local_shift_sql(nezuko_analytics.window_tz_offsets(since, until, tz)),
        nezuko_analytics.status_counts_sql())
        USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts_pass(name, timestamptz, timestamptz, text) IS
  'The read behind hour_counts(), as one row.';

CREATE FUNCTION nezuko_analytics.hour_counts(bot name, since timestamptz, until timestamptz, tz text)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT p FROM nezuko_analytics.hour_counts_pass(bot, since, until, tz) p $$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts(name, timestamptz, timestamptz, text) IS
  'Engine of hourly_activity(): [{hour 0-23, verified, restricted, error}] for all 24 local hours (tz) of bot.verification_log rows in [since, until) with a finite time; one query.';

CREATE FUNCTION nezuko_analytics.method_figures(bot name, since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, ok bigint, avg_latency numeric, p50 float8, p95 float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT a.method::text, count(*), count(*) FILTER (WHERE NOT a.success), count(*) FILTER (WHERE a.success),
               avg(a.latency_ms), percentile_cont(0.5) WITHIN GROUP (ORDER BY a.latency_ms),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY a.latency_ms)
        FROM %I.api_call_log a
        WHERE a."timestamp" >= $1 AND a."timestamp" < $2
        GROUP BY a.method$q$, bot)
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_figures(name, timestamptz, timestamptz) IS
  'Engine of method_distribution(): per method of bot.api_call_log in [since, until), unordered: calls, failures (success = false), ok (success = true), avg latency, exact p50 and p95 (percentile_cont); one query.';
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
-- One batch of a prune in PL/pgSQL.  The native edition switches to the
-- table's owner inside a security-restricted operation; PL/pgSQL cannot, so
-- the portable edition crosses no privilege boundary at all: it deletes as
-- the role that runs prune(), which must own the table (on Supabase the
-- `postgres` role owns the bot's tables and schedules the job).  Triggers on
-- the table then run with their owner's own rights, as in any DELETE of his.

CREATE FUNCTION nezuko_analytics.prune_batch(target regclass, time_column name, cutoff timestamptz,
                                             batch_size integer, ordered boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel record;
    qualified text;
    deleted bigint;
BEGIN
    IF target IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 1 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF time_column IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 2 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF cutoff IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 3 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF batch_size IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 4 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF ordered IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 5 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'prune_batch: batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.relkind, c.relowner, n.nspname, c.relname INTO rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'prune_batch: no table with OID %', target::oid USING ERRCODE = 'undefined_table';
    END IF;
    qualified := format('%I.%I', rel.nspname, rel.relname);
    IF rel.relkind = 'p' THEN
        RAISE EXCEPTION 'prune: % is a partitioned table', qualified USING ERRCODE = 'wrong_object_type',
            HINT = 'Detach or drop its old partitions instead, or give each partition its own policy.';
    END IF;
    IF rel.relkind <> 'r' THEN
        RAISE EXCEPTION 'prune_batch: % is not a table', qualified USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT has_table_privilege(target, 'SELECT') THEN
        RAISE EXCEPTION 'prune: permission denied to read rows of table %', qualified USING ERRCODE = 'insufficient_privilege',
            HINT = 'The role that runs prune() must be able to delete the rows itself.';
    END IF;
    IF NOT has_table_privilege(target, 'DELETE') THEN
        RAISE EXCEPTION 'prune: permission denied to delete rows of table %', qualified USING ERRCODE = 'insufficient_privilege',
            HINT = 'The role that runs prune() must be able to delete the rows itself.';
    END IF;
    IF row_security_active(target) THEN
        RAISE EXCEPTION 'prune: table % has row-level security for the role that runs prune()', qualified
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Run prune() as the table''s owner or as a role that bypasses row-level security.';
    END IF;
    IF NOT pg_has_role(rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'prune: the portable edition deletes as the role that runs prune(), and % does not own table %',
                        current_user, qualified USING ERRCODE = 'insufficient_privilege',
            HINT = format('Schedule prune() as the table''s owner, %I (the native edition runs each batch as the owner).',
                          pg_get_userbyid(rel.relowner));
    END IF;
    -- As the native edition: every name qualified, every operator pg_catalog's,
    -- ONLY this table (a ctid names a row of one table).
    EXECUTE format('DELETE FROM ONLY %1$s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ctid FROM ONLY %1$s'
                   ' WHERE %2$I OPERATOR(pg_catalog.<) $1%3$s LIMIT $2))',
                   qualified, time_column, CASE WHEN ordered THEN format(' ORDER BY %I', time_column) ELSE '' END)
        USING cutoff, batch_size;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) IS
  'Deletes at most batch_size rows of target itself (not of its inheritance children; a partitioned table is refused) whose time_column is before cutoff (oldest first when ordered) and returns how many, as the role that runs it, which must own the table (a member of the owner role), hold SELECT and DELETE and see it without row-level security. Used by prune().';
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
-- The fixed-window contracts' counts in the portable edition: always a
-- query (sql/shared/72_count_queries.sql, and verified_count() below); there
-- are no native reads.  verification_counts(), verified_count(), api_counts()
-- and group_counts() run their queries in one process
-- (max_parallel_workers_per_gather = 0), as the native edition's reads of
-- these windows do and as the originals' SELECT ... INTO always did: a
-- dashboard's page asks for several 7-day counts at once, and parallel
-- workers for each of them take the server's few worker slots and start new
-- processes for a read of a few tens of milliseconds (on one machine, 96-125
-- ms with two workers against 62-73 ms in one process: docs/benchmarks.md).
-- verification_counts_scan(), for windows of any length, may run in
-- parallel.

CREATE FUNCTION nezuko_analytics.verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$ SELECT * FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency) $$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'verification_counts_query(): the record the fixed-window contracts count from, in one process (no parallel workers).';

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

CREATE FUNCTION nezuko_analytics.verified_count(bot name, since timestamptz, until timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format($q$SELECT count(*) FROM %I.verification_log
                      WHERE "timestamp" >= $1 AND "timestamp" < $2 AND status = 'verified'$q$, bot)
        INTO n USING since, until;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verified_count(name, timestamptz, timestamptz) IS
  'The rows of bot.verification_log in [since, until) whose status is verified, from one query (by an index condition where an index leads with "timestamp" and holds status, as the schema''s idx_verification_log_timestamp_status), in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$ SELECT * FROM nezuko_analytics.api_counts_query(bot, since, until) $$;
COMMENT ON FUNCTION nezuko_analytics.api_counts(name, timestamptz, timestamptz) IS
  'api_counts_query(): calls and successful calls by method, in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$ SELECT * FROM nezuko_analytics.group_counts_query(bot, since, until, top) $$;
COMMENT ON FUNCTION nezuko_analytics.group_counts(name, timestamptz, timestamptz, integer) IS
  'group_counts_query(): the top groups by verifications, in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM nezuko_analytics.groups_status_query(bot) $$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'groups_status_query(): enabled, disabled and total protected groups.';

-- No SET clause, so that it is inlined (see get_members_chart_data()).
CREATE FUNCTION nezuko_analytics.members_chart(bot name, top integer)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart_query(bot, top) $$;
COMMENT ON FUNCTION nezuko_analytics.members_chart(name, integer) IS
  'members_chart_query(): get_members_chart_data''s document.';
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
