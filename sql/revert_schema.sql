-- revert_schema() is the spec's downgrade: afterwards the bot's tables are as
-- they were before apply_schema(), with every row of their original columns.
\set SHOW_CONTEXT never
CREATE SCHEMA rv;
CREATE TABLE rv.protected_groups (group_id bigint PRIMARY KEY, owner_id bigint, title varchar(255),
    enabled boolean NOT NULL DEFAULT true, params jsonb, created_at timestamptz, updated_at timestamptz);
CREATE TABLE rv.enforced_channels (channel_id bigint PRIMARY KEY, title varchar(255), username varchar(64),
    invite_link text, created_at timestamptz, updated_at timestamptz);
CREATE TABLE rv.verification_log (id bigserial PRIMARY KEY, user_id bigint NOT NULL, group_id bigint NOT NULL,
    channel_id bigint, status varchar(20) NOT NULL, latency_ms integer, cached boolean NOT NULL DEFAULT false,
    "timestamp" timestamptz NOT NULL DEFAULT now());
INSERT INTO rv.protected_groups (group_id, title) SELECT g, 'g' || g FROM generate_series(1, 20) g;
INSERT INTO rv.enforced_channels (channel_id, title) SELECT g, 'c' || g FROM generate_series(1, 4) g;
INSERT INTO rv.verification_log (user_id, group_id, status, latency_ms, "timestamp")
SELECT g, g % 20 + 1, 'verified', g, '2026-10-01 00:00:00+00'::timestamptz + g * interval '1 hour'
FROM generate_series(1, 500) g;

CREATE TABLE shape_before AS
SELECT table_name::text, column_name::text, data_type::text, column_default::text, is_nullable::text
FROM information_schema.columns WHERE table_schema = 'rv';
CREATE TABLE indexes_before AS SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'rv';
CREATE TABLE rows_before AS
SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY group_id)) FROM rv.protected_groups p) AS groups,
       (SELECT md5(string_agg(c::text, ',' ORDER BY channel_id)) FROM rv.enforced_channels c) AS channels,
       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM rv.verification_log v) AS log;

CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.apply_schema('rv');
-- The bot writes into the new columns and api_call_log meanwhile.
UPDATE rv.protected_groups SET member_count = 99, last_sync_at = now() WHERE group_id = 1;
INSERT INTO rv.api_call_log (method) VALUES ('getChat');

SELECT * FROM nezuko_analytics.revert_schema();
SELECT * FROM nezuko_analytics.revert_schema();  -- nothing left to revert: no lines

-- Columns, defaults and indexes exactly as before; every original row unchanged.
(SELECT table_name::text, column_name::text, data_type::text, column_default::text, is_nullable::text
 FROM information_schema.columns WHERE table_schema = 'rv'
 EXCEPT SELECT * FROM shape_before)
UNION ALL
(SELECT * FROM shape_before
 EXCEPT SELECT table_name::text, column_name::text, data_type::text, column_default::text, is_nullable::text
 FROM information_schema.columns WHERE table_schema = 'rv');
(SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'rv' EXCEPT SELECT * FROM indexes_before)
UNION ALL
(SELECT * FROM indexes_before EXCEPT SELECT indexname::text, indexdef FROM pg_indexes WHERE schemaname = 'rv');
SELECT (SELECT md5(string_agg(p::text, ',' ORDER BY group_id)) FROM rv.protected_groups p) = groups AS groups_same,
       (SELECT md5(string_agg(c::text, ',' ORDER BY channel_id)) FROM rv.enforced_channels c) = channels AS channels_same,
       (SELECT md5(string_agg(v::text, ',' ORDER BY id)) FROM rv.verification_log v) = log AS log_same
FROM rows_before;
SELECT count(*) AS recorded_changes FROM nezuko_analytics.schema_changes;

-- And it can be applied again afterwards.
SELECT count(*) AS changes_on_reapply FROM nezuko_analytics.apply_schema('rv');

DROP EXTENSION nezuko_analytics;
DROP SCHEMA rv CASCADE;
DROP TABLE shape_before, indexes_before, rows_before;
