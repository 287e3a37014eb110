-- The portable edition (nezuko_analytics_sql): the same API in SQL and
-- PL/pgSQL, for databases that install no C extension (hosted Supabase,
-- through pg_tle).  What only C can do is absent: the latency_dist type and
-- its aggregates, the other C++ aggregates, native reads (docs/portable.md).

CREATE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '@NZ_VERSION@'::text $$;
COMMENT ON FUNCTION nezuko_analytics.version() IS
  'Version of nezuko_analytics (the portable edition: the version of its install script).';
