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
