-- The two editions define the same schema and never share a database.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'nezuko_analytics') THEN
        RAISE EXCEPTION 'nezuko_analytics_sql cannot be installed: the native edition nezuko_analytics is installed in this database'
            USING ERRCODE = 'duplicate_object',
                  HINT = 'The native edition already provides the same functions; use it, or DROP EXTENSION nezuko_analytics first.';
    END IF;
END $$;
