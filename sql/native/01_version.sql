CREATE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_version';

COMMENT ON FUNCTION nezuko_analytics.version() IS
  'Version of the loaded C++ module of nezuko_analytics (proves the module loads).';
