-- nezuko_analytics_sql (the portable edition) 1.6 -> 1.7, written by hand
-- (docs/versions.md).  1.7 changes the rollups of the native edition only
-- (local days, groups per quarter hour); the portable edition takes its
-- version().

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.7'::text $$;
