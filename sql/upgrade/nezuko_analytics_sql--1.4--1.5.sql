-- nezuko_analytics_sql (the portable edition) 1.4 -> 1.5, written by hand
-- (docs/versions.md): the change of sql/upgrade/nezuko_analytics--1.4--1.5.sql,
-- registered with pg_tle by install_pgtle.sql.  The portable suite compares the
-- result with a fresh install.  It also sets version() to 1.5: the native
-- edition reads its version from the module, the portable one from here.
--
-- percent() and round_ms(), called once per row of a document, lose their
-- SET search_path so that the planner inlines them; their bodies now name
-- everything by schema instead.  (CREATE OR REPLACE also clears the SET
-- clause; the comments stay.)

CREATE OR REPLACE FUNCTION nezuko_analytics.percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN whole IS NULL OR whole OPERATOR(pg_catalog.=) 0 THEN 0::pg_catalog.numeric
                  ELSE pg_catalog.round((100.0 OPERATOR(pg_catalog.*) part) OPERATOR(pg_catalog./) whole, 1) END $$;

CREATE OR REPLACE FUNCTION nezuko_analytics.round_ms(ms float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.round(ms::pg_catalog.numeric, 2) $$;

-- The portable edition's version() is its script's version.
CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.5'::text $$;
