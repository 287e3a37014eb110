-- nezuko_analytics 1.4 -> 1.5, written by hand (docs/versions.md): every
-- object 1.5 changes.  extension_upgrade compares the result with a fresh
-- install; sql/upgrade/nezuko_analytics_sql--1.4--1.5.sql makes the same
-- change in the portable edition.
--
-- percent() and round_ms(), called once per row of a document, lose their
-- SET search_path so that the planner inlines them; their bodies now name
-- everything by schema instead.  (CREATE OR REPLACE also clears the SET
-- clause; the comments stay.)
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.5'" to load this file. \quit

CREATE OR REPLACE FUNCTION nezuko_analytics.percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN whole IS NULL OR whole OPERATOR(pg_catalog.=) 0 THEN 0::pg_catalog.numeric
                  ELSE pg_catalog.round((100.0 OPERATOR(pg_catalog.*) part) OPERATOR(pg_catalog./) whole, 1) END $$;

CREATE OR REPLACE FUNCTION nezuko_analytics.round_ms(ms float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.round(ms::pg_catalog.numeric, 2) $$;
