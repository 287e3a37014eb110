-- Starting point (a): a fresh database.  apply_schema() creates the bot's base
-- tables, then api_call_log and everything of the spec; a second run changes nothing.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA fresh;

SELECT * FROM nezuko_analytics.apply_schema('fresh');
SELECT * FROM nezuko_analytics.apply_schema('fresh');  -- idempotent: no lines
SELECT nezuko_analytics.bot_schema();

SELECT table_name, column_name, data_type, character_maximum_length AS len,
       column_default, is_nullable
FROM information_schema.columns WHERE table_schema = 'fresh'
ORDER BY table_name, ordinal_position;

SELECT tablename, indexname, indexdef
FROM pg_indexes WHERE schemaname = 'fresh' ORDER BY tablename, indexname;

-- Everything apply_schema() made is an ordinary object, owned by the caller, not by the extension.
SELECT count(*) AS extension_members_in_fresh
FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
WHERE d.deptype = 'e' AND d.classid = 'pg_class'::regclass AND c.relnamespace = 'fresh'::regnamespace;
SELECT DISTINCT pg_get_userbyid(relowner) = current_user AS owned_by_caller
FROM pg_class WHERE relnamespace = 'fresh'::regnamespace;

-- The spec's defaults work.
INSERT INTO fresh.api_call_log (method, latency_ms) VALUES ('getChatMember', 42) RETURNING id, success, error_type, "timestamp" IS NOT NULL AS has_timestamp;
INSERT INTO fresh.protected_groups (group_id, title) VALUES (-100, 'G') RETURNING member_count, last_sync_at;

DROP SCHEMA fresh CASCADE;
DROP EXTENSION nezuko_analytics;
