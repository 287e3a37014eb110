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
