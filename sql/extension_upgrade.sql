-- Every upgrade path gives the same extension as a fresh install: for each
-- shipped version, each single step to the next version and the whole path
-- to the current one.  After ALTER EXTENSION ... UPDATE the database holds
-- the same functions (bodies, settings, comments, privileges), types and
-- tables, all members of the extension, as a fresh CREATE EXTENSION of the
-- target; and the bot's rows are not touched.  The versions come from the
-- installed scripts, so a new version is tested without editing this file.
\set SHOW_CONTEXT never
\set VERBOSITY terse
CREATE ROLE anon;
CREATE SCHEMA upgrade_check;  -- the test's helpers

-- Everything of the extension, as comparable text (shared with the portable
-- edition's upgrade check).
\i test/lib/extension_objects.sql

-- The versions in order, and the current one.
CREATE TEMP TABLE versions AS
SELECT version, row_number() OVER (ORDER BY string_to_array(version, '.')::int[]) AS n
FROM pg_available_extension_versions WHERE name = 'nezuko_analytics';
SELECT string_agg(version, ' -> ' ORDER BY n) AS versions,
       (SELECT default_version FROM pg_available_extensions WHERE name = 'nezuko_analytics') AS current_version
FROM versions;

-- Installs `target` fresh and snapshots it.
CREATE FUNCTION upgrade_check.fresh_objects(target text) RETURNS TABLE (kind text, object text, definition text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE EXTENSION nezuko_analytics VERSION %L', target);
    PERFORM nezuko_analytics.apply_schema();
    RETURN QUERY SELECT * FROM upgrade_check.extension_objects();
    DROP EXTENSION nezuko_analytics;
END;
$$;

-- Installs `source`, applies the schema, writes rows, updates to `target` and
-- snapshots the result.  The bot's rows must come through untouched.
CREATE FUNCTION upgrade_check.upgraded_objects(source text, target text) RETURNS TABLE (kind text, object text, definition text)
LANGUAGE plpgsql AS $$
DECLARE
    before text;
BEGIN
    EXECUTE format('CREATE EXTENSION nezuko_analytics VERSION %L', source);
    PERFORM nezuko_analytics.apply_schema();
    TRUNCATE verification_log, protected_groups CASCADE;
    INSERT INTO protected_groups (group_id, title, enabled) VALUES (1, 'a', true), (2, NULL, false);
    INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached)
    VALUES (1, 1, 'verified', 30, true), (2, 2, 'error', NULL, false);
    SELECT md5(string_agg(v::text, ',' ORDER BY v.id)) INTO before FROM verification_log v;
    EXECUTE format('ALTER EXTENSION nezuko_analytics UPDATE TO %L', target);
    IF (SELECT extversion FROM pg_extension WHERE extname = 'nezuko_analytics') <> target THEN
        RAISE EXCEPTION 'update from % did not reach %', source, target;
    END IF;
    IF (SELECT md5(string_agg(v::text, ',' ORDER BY v.id)) FROM verification_log v) <> before
       OR (SELECT count(*) FROM protected_groups) <> 2 THEN
        RAISE EXCEPTION 'update from % to % changed the bot''s rows', source, target;
    END IF;
    RETURN QUERY SELECT * FROM upgrade_check.extension_objects();
    DROP EXTENSION nezuko_analytics;
END;
$$;

-- Each single step, and each whole path to the current version.
CREATE TEMP TABLE paths AS
SELECT a.version AS source, b.version AS target
FROM versions a JOIN versions b ON b.n = a.n + 1
UNION
SELECT a.version, c.version
FROM versions a, versions c
WHERE c.version = (SELECT default_version FROM pg_available_extensions WHERE name = 'nezuko_analytics')
  AND a.version <> c.version;

SET client_min_messages = warning;  -- each install's NOTICE that pg_cron is not here
-- One transaction per path: the installs and drops of every path in one
-- would hold their locks together, more than the lock table has.  (The
-- statements are not echoed: their results are shown below.)
CREATE TEMP TABLE results (source text, target text, only_after_upgrade bigint, only_in_fresh bigint, objects bigint);
\set ECHO none
SELECT format($q$INSERT INTO results
SELECT %1$L, %2$L,
       (SELECT count(*) FROM (SELECT * FROM upgrade_check.upgraded_objects(%1$L, %2$L)
                              EXCEPT SELECT * FROM upgrade_check.fresh_objects(%2$L)) x),
       (SELECT count(*) FROM (SELECT * FROM upgrade_check.fresh_objects(%2$L)
                              EXCEPT SELECT * FROM upgrade_check.upgraded_objects(%1$L, %2$L)) x),
       (SELECT count(*) FROM upgrade_check.fresh_objects(%2$L))$q$, p.source, p.target)
FROM paths p ORDER BY string_to_array(p.source, '.')::int[], string_to_array(p.target, '.')::int[] \gexec
\set ECHO all
SELECT source || ' -> ' || target AS path, only_after_upgrade, only_in_fresh, objects > 150 AS many_objects_compared
FROM results ORDER BY string_to_array(source, '.')::int[], string_to_array(target, '.')::int[];

-- On a difference, what it is (no rows when every path matches).
SELECT p.source || ' -> ' || p.target AS path, 'only after the upgrade' AS difference, u.*
FROM results p, LATERAL (SELECT * FROM upgrade_check.upgraded_objects(p.source, p.target)
                         EXCEPT SELECT * FROM upgrade_check.fresh_objects(p.target)) u
WHERE p.only_after_upgrade > 0
UNION ALL
SELECT p.source || ' -> ' || p.target, 'only in a fresh install', f.*
FROM results p, LATERAL (SELECT * FROM upgrade_check.fresh_objects(p.target)
                         EXCEPT SELECT * FROM upgrade_check.upgraded_objects(p.source, p.target)) f
WHERE p.only_in_fresh > 0
ORDER BY 1, 2, 3, 4;

RESET client_min_messages;

-- A database whose SQL is 1.1, served by this module before ALTER EXTENSION
-- UPDATE: what 1.2 kept answers; what 1.2 replaced is a clear error.
CREATE EXTENSION nezuko_analytics VERSION '1.1';
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema();
SELECT nezuko_analytics.get_latency_distribution() IS NOT NULL AS kept_answers;
\set VERBOSITY default
SELECT nezuko_analytics.get_groups_status();
SELECT nezuko_analytics.dashboard(now() - interval '1 day');
\set VERBOSITY terse
DROP EXTENSION nezuko_analytics;

-- The current version's module answers after the upgrade.
CREATE EXTENSION nezuko_analytics VERSION '1.0';
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema();
ALTER EXTENSION nezuko_analytics UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'nezuko_analytics') AS at_current,
       nezuko_analytics.version() = extversion AS module_matches
FROM pg_extension WHERE extname = 'nezuko_analytics';
SELECT nezuko_analytics.get_groups_status() AS groups, nezuko_analytics.get_cache_breakdown() AS cache;
SELECT count(*) AS groups, count(title) AS titled FROM protected_groups;
SELECT count(*) AS verifications FROM verification_log;

DROP EXTENSION nezuko_analytics;
DROP TABLE verification_log, group_channel_links, enforced_channels, protected_groups, api_call_log;
DROP SCHEMA upgrade_check CASCADE;
DROP ROLE anon;
