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
