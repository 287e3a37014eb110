-- nezuko_analytics_sql (the portable edition) 1.15 -> 1.16, written by hand
-- (docs/versions.md).  1.16 changes the native edition's rollups only (the
-- portable edition has no rollups): here only the version moves.

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.16'::text $$;
