-- nezuko_analytics_sql (the portable edition) 1.16 -> 1.17, written by hand
-- (docs/versions.md).  1.17 changes the native edition's rollup build only
-- (the portable edition has no rollups): here only the version moves.

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.17'::text $$;
