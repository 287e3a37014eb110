"""The schema spec as data, for the plain-DDL and SQLite paths of the
migration.  GENERATED from the extension's spec_columns(), spec_indexes() and
base_table_ddl() (sql/shared/20_schema_spec.sql, the one source) by
python/tests/render_spec_data.py; do not edit: test_rules.py fails when this
module and the SQL differ.

SPEC_COLUMNS: (table, column, column DDL, accepted types, added by the spec)
SPEC_INDEXES: (index, table, key columns)
BASE_TABLE_DDL: (creation order, table, DDL with %1$I for the schema)"""

SPEC_COLUMNS = (
    ('api_call_log', 'id', 'serial', ['integer', 'bigint'], True),
    ('api_call_log', 'method', 'varchar(50)', ['character varying', 'text'], True),
    ('api_call_log', 'chat_id', 'bigint', ['bigint'], True),
    ('api_call_log', 'user_id', 'bigint', ['bigint'], True),
    ('api_call_log', 'success', 'boolean DEFAULT true', ['boolean'], True),
    ('api_call_log', 'latency_ms', 'integer', ['integer'], True),
    ('api_call_log', 'error_type', 'varchar(50)', ['character varying', 'text'], True),
    ('api_call_log', 'timestamp', 'timestamptz DEFAULT now()', ['timestamp with time zone'], True),
    ('protected_groups', 'member_count', 'integer DEFAULT 0', ['integer', 'bigint'], True),
    ('protected_groups', 'last_sync_at', 'timestamptz', ['timestamp with time zone'], True),
    ('enforced_channels', 'subscriber_count', 'integer DEFAULT 0', ['integer', 'bigint'], True),
    ('enforced_channels', 'last_sync_at', 'timestamptz', ['timestamp with time zone'], True),
    ('verification_log', 'error_type', 'varchar(50)', ['character varying', 'text'], True),
    ('protected_groups', 'group_id', None, ['bigint', 'integer'], False),
    ('protected_groups', 'title', None, ['character varying', 'text'], False),
    ('protected_groups', 'enabled', None, ['boolean'], False),
    ('enforced_channels', 'channel_id', None, ['bigint', 'integer'], False),
    ('enforced_channels', 'title', None, ['character varying', 'text'], False),
    ('verification_log', 'group_id', None, ['bigint', 'integer'], False),
    ('verification_log', 'status', None, ['character varying', 'text'], False),
    ('verification_log', 'latency_ms', None, ['integer'], False),
    ('verification_log', 'cached', None, ['boolean'], False),
    ('verification_log', 'timestamp', None, ['timestamp with time zone'], False),
)

SPEC_INDEXES = (
    ('idx_api_call_log_method', 'api_call_log', '(method)'),
    ('idx_api_call_log_timestamp', 'api_call_log', '("timestamp")'),
    ('idx_api_call_log_method_timestamp', 'api_call_log', '(method, "timestamp")'),
    ('idx_api_call_log_success', 'api_call_log', '(success)'),
    ('idx_verification_log_error_type', 'verification_log', '(error_type)'),
    ('idx_verification_log_timestamp_cached', 'verification_log', '("timestamp", cached)'),
    ('idx_verification_log_timestamp_latency', 'verification_log', '("timestamp", latency_ms)'),
)

BASE_TABLE_DDL = (
    (1, 'protected_groups', '\nCREATE TABLE %1$I.protected_groups (\n    group_id   bigint PRIMARY KEY,\n    owner_id   bigint,\n    title      varchar(255),\n    enabled    boolean NOT NULL DEFAULT true,\n    params     jsonb,\n    created_at timestamptz DEFAULT now(),\n    updated_at timestamptz DEFAULT now()\n)'),
    (2, 'enforced_channels', '\nCREATE TABLE %1$I.enforced_channels (\n    channel_id  bigint PRIMARY KEY,\n    title       varchar(255),\n    username    varchar(64),\n    invite_link text,\n    created_at  timestamptz DEFAULT now(),\n    updated_at  timestamptz DEFAULT now()\n)'),
    (3, 'group_channel_links', '\nCREATE TABLE %1$I.group_channel_links (\n    id          serial PRIMARY KEY,\n    group_id    bigint REFERENCES %1$I.protected_groups (group_id),\n    channel_id  bigint REFERENCES %1$I.enforced_channels (channel_id),\n    is_required boolean DEFAULT true,\n    created_at  timestamptz DEFAULT now(),\n    UNIQUE (group_id, channel_id)\n)'),
    (4, 'verification_log', '\nCREATE TABLE %1$I.verification_log (\n    id          bigserial PRIMARY KEY,\n    user_id     bigint NOT NULL,\n    group_id    bigint NOT NULL,\n    channel_id  bigint,\n    status      varchar(20) NOT NULL,\n    latency_ms  integer,\n    cached      boolean NOT NULL DEFAULT false,\n    "timestamp" timestamptz NOT NULL DEFAULT now()\n);\nCREATE INDEX idx_verification_log_timestamp ON %1$I.verification_log ("timestamp");\nCREATE INDEX idx_verification_log_timestamp_status ON %1$I.verification_log ("timestamp", status);\nCREATE INDEX idx_verification_log_group_id_timestamp ON %1$I.verification_log (group_id, "timestamp")'),
    (5, 'api_call_log', '\nCREATE TABLE %1$I.api_call_log (\n    id          serial PRIMARY KEY,\n    method      varchar(50) NOT NULL,\n    chat_id     bigint,\n    user_id     bigint,\n    success     boolean DEFAULT true,\n    latency_ms  integer,\n    error_type  varchar(50),\n    "timestamp" timestamptz DEFAULT now()\n)'),
)
