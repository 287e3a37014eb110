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
