-- nezuko_analytics_sql (the portable edition) 1.21 -> 1.22, written by hand
-- (docs/versions.md).  1.22 changes how the native edition makes the rollups'
-- local days (the portable edition has no rollups): here the
-- version alone moves.

\echo Use "ALTER EXTENSION nezuko_analytics_sql UPDATE TO '1.22'" to load this file. \quit

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.22'::text $$;
