-- DROP EXTENSION takes only the extension's own objects: every table and row
-- of the bot, api_call_log included, stays in place.
\set SHOW_CONTEXT never
CREATE SCHEMA keep;
CREATE EXTENSION nezuko_analytics;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema('keep');
INSERT INTO keep.protected_groups (group_id, title, member_count) SELECT g, 'g' || g, g FROM generate_series(1, 10) g;
INSERT INTO keep.verification_log (user_id, group_id, status, latency_ms, error_type)
SELECT g, g % 10 + 1, 'error', g, 'BadRequest' FROM generate_series(1, 100) g;
INSERT INTO keep.api_call_log (method, latency_ms) SELECT 'getChatMember', g FROM generate_series(1, 50) g;

DROP EXTENSION nezuko_analytics;

SELECT relname, relkind FROM pg_class
WHERE relnamespace = 'keep'::regnamespace AND relkind IN ('r', 'i', 'S') ORDER BY 1;
SELECT (SELECT count(*) FROM keep.protected_groups) AS groups,
       (SELECT sum(member_count) FROM keep.protected_groups) AS members,
       (SELECT count(*) FROM keep.verification_log WHERE error_type = 'BadRequest') AS log_rows,
       (SELECT count(*) FROM keep.api_call_log) AS api_rows;
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'nezuko_analytics';

-- Creating the extension again: the bot's schema is complete (no table, column or index
-- to add); only the retention policies, which were the extension's and went with it, return.
CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.apply_schema('keep');
DROP EXTENSION nezuko_analytics;
DROP SCHEMA keep CASCADE;
