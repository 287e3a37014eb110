-- Bad input: clear errors that name the problem, and nothing changed.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;

-- A missing target schema, and NULL.
SELECT * FROM nezuko_analytics.apply_schema('no_such_schema');
SELECT * FROM nezuko_analytics.apply_schema(NULL);

-- An incompatible column: member_count text.  The error names table and column,
-- and the whole call is rolled back (no api_call_log, no new column anywhere).
CREATE SCHEMA badbot;
CREATE TABLE badbot.protected_groups (group_id bigint PRIMARY KEY, title varchar(255),
    enabled boolean NOT NULL DEFAULT true, member_count text);
INSERT INTO badbot.protected_groups VALUES (1, 'g', true, 'lots');
SELECT * FROM nezuko_analytics.apply_schema('badbot');
SELECT relname FROM pg_class WHERE relnamespace = 'badbot'::regnamespace AND relkind = 'r' ORDER BY 1;
SELECT column_name FROM information_schema.columns WHERE table_schema = 'badbot' ORDER BY ordinal_position;
SELECT * FROM badbot.protected_groups;
SELECT count(*) AS recorded_changes FROM nezuko_analytics.schema_changes;

-- A base table without a column the analytics read.
CREATE SCHEMA nocache;
CREATE TABLE nocache.verification_log (id bigserial PRIMARY KEY, user_id bigint NOT NULL,
    group_id bigint NOT NULL, status varchar(20) NOT NULL, latency_ms integer,
    "timestamp" timestamptz NOT NULL DEFAULT now());
SELECT * FROM nezuko_analytics.apply_schema('nocache');
SELECT count(*) AS tables_in_nocache FROM pg_class WHERE relnamespace = 'nocache'::regnamespace AND relkind = 'r';

-- A spec index name already taken by an index on another table.
CREATE SCHEMA clash;
CREATE TABLE clash.other (x int);
CREATE INDEX idx_api_call_log_success ON clash.other (x);
SELECT * FROM nezuko_analytics.apply_schema('clash');
SELECT count(*) AS tables_in_clash FROM pg_class WHERE relnamespace = 'clash'::regnamespace AND relkind = 'r';

DROP SCHEMA badbot, nocache, clash CASCADE;
DROP EXTENSION nezuko_analytics;
