-- The native reads behind the fixed-window contracts give the rows a query
-- gives, by each way they read (index-only, one index per column, the table's
-- rows), with rows changed, deleted and not yet vacuumed; and they step aside
-- (NULL, the contract then runs its query) whenever a query could see
-- something else: row-level security, no privilege, SERIALIZABLE, a column of
-- another type, no "timestamp"-led index.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
SELECT count(*) AS changes FROM nezuko_analytics.apply_schema();
\set vrows 20000
\set arows 4000
\set groups 200
\set ECHO none
SELECT now() AS anchor \gset
\set anchor '''' :anchor ''''
\i test/data/generate_sample.sql
\i test/reference/contracts_reference.sql
\i test/reference/native_reads_reference.sql
\set ECHO all
-- Future rows, NULL latencies, an unknown status, a method with NULL success.
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (1, 5, 'verified', 40, true, now() + interval '2 days'),
    (2, 777, 'verified', NULL, false, now() - interval '1 hour'),
    (3, 777, 'pending', 12, true, now() - interval '2 hours');
INSERT INTO api_call_log (method, success, latency_ms, "timestamp") VALUES
    ('getChatMember', true, 10, now() + interval '1 day'), ('oddMethod', NULL, NULL, now() - interval '3 hours');
VACUUM ANALYZE;

-- Every window (open-ended as the contracts read, bounded, all time, only the
-- future, empty) and every choice of columns: native against the query (the
-- counts, the API calls by method, the top 10 and top 1000 groups).
CREATE FUNCTION pg_temp.native_matches_query() RETURNS TABLE (windows int, native_read boolean, same boolean)
LANGUAGE sql STABLE AS $$
    WITH w(since, until) AS (VALUES (now() - interval '7 days', 'infinity'::timestamptz),
                                    (now() - interval '3 days', now() - interval '1 day'),
                                    ('-infinity', 'infinity'), (now(), 'infinity'),
                                    (now() - interval '1 day', now() - interval '1 day')),
         cols(s, c, l) AS (SELECT * FROM (VALUES (true), (false)) s, (VALUES (true), (false)) c, (VALUES (true), (false)) l),
         runs AS (
            SELECT nezuko_analytics.native_verification_counts('public', since, until, current_date, s, c, l) AS n,
                   nz_native_reference.query_counts(since, until, current_date, s, c, l) AS q
            FROM w, cols)
    SELECT count(*)::int, bool_and(n IS NOT NULL), bool_and(to_jsonb(n) = to_jsonb(q)) FROM runs
    UNION ALL
    SELECT count(*)::int, true, bool_and(nz_native_reference.native_api(since, until) = nz_native_reference.query_api(since, until)) FROM w
    UNION ALL
    SELECT count(*)::int, bool_and(nezuko_analytics.native_group_counts('public', since, until, top) IS NOT NULL),
           bool_and(nz_native_reference.native_groups(since, until, top) IS NOT DISTINCT FROM nz_native_reference.query_groups(since, until, top))
    FROM w, (VALUES (10), (1000)) t(top) $$;

-- All spec indexes, every page all-visible.
SELECT * FROM pg_temp.native_matches_query();
-- How each choice of columns is read.
SET client_min_messages = debug1;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, false, true, false) IS NOT NULL AS cached;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, false) IS NOT NULL AS status_and_cached;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, true) IS NOT NULL AS all_three;
SELECT nezuko_analytics.native_api_counts('public', now() - interval '7 days', 'infinity') IS NOT NULL AS api;
SELECT nezuko_analytics.native_group_counts('public', now() - interval '7 days', 'infinity', 10) IS NOT NULL AS groups;
RESET client_min_messages;

-- Rows inserted, updated and deleted in this transaction: pages no longer
-- all-visible, index entries of rows this snapshot cannot see.
BEGIN;
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, g % 50, CASE g % 3 WHEN 0 THEN 'verified' WHEN 1 THEN 'restricted' ELSE 'error' END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE g % 700 END, g % 2 = 0, now() - (g || ' minutes')::interval
FROM generate_series(1, 3000) g;
UPDATE verification_log SET status = 'restricted', cached = NOT cached WHERE id % 97 = 0;
UPDATE verification_log SET latency_ms = latency_ms + 1 WHERE id % 89 = 0;
DELETE FROM verification_log WHERE id % 13 = 0;
INSERT INTO api_call_log (method, success, "timestamp") SELECT 'm' || (g % 5), g % 4 <> 0, now() - (g || ' minutes')::interval
FROM generate_series(1, 500) g;
DELETE FROM api_call_log WHERE id % 7 = 0;
SELECT * FROM pg_temp.native_matches_query();
ROLLBACK;

-- The same, committed and not vacuumed (the deleted rows' index entries remain).
DELETE FROM verification_log WHERE id % 17 = 0;
UPDATE verification_log SET cached = NOT cached WHERE id % 19 = 0;
DELETE FROM api_call_log WHERE id % 5 = 0;
SELECT * FROM pg_temp.native_matches_query();

-- Without the index on ("timestamp", cached): cache hits come from the table's rows.
BEGIN;
DROP INDEX idx_verification_log_timestamp_cached;
SELECT * FROM pg_temp.native_matches_query();
SET LOCAL client_min_messages = debug1;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, false) IS NOT NULL AS status_and_cached;
ROLLBACK;

-- Without any index led by "timestamp" in its ascending order: the native
-- read steps aside, the contracts still answer.
BEGIN;
DROP INDEX idx_verification_log_timestamp, idx_verification_log_timestamp_status,
           idx_verification_log_timestamp_cached, idx_verification_log_timestamp_latency, idx_api_call_log_timestamp;
CREATE INDEX verification_log_newest_first ON verification_log ("timestamp" DESC);
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, true) IS NULL AS no_native_read,
       nezuko_analytics.native_api_counts('public', now() - interval '7 days', 'infinity') IS NULL AS no_native_api_read,
       nezuko_analytics.native_group_counts('public', now() - interval '7 days', 'infinity', 10) IS NULL AS no_native_group_read;
SELECT c, nezuko_analytics_call::jsonb = reference_call::jsonb AS same_as_reference
FROM (VALUES ('get_dashboard_stats', nezuko_analytics.get_dashboard_stats(), nz_contracts.get_dashboard_stats()),
             ('get_cache_breakdown', nezuko_analytics.get_cache_breakdown(), nz_contracts.get_cache_breakdown()),
             ('get_api_calls_distribution', nezuko_analytics.get_api_calls_distribution(), nz_contracts.get_api_calls_distribution()),
             ('get_bot_health', nezuko_analytics.get_bot_health(), nz_contracts.get_bot_health()),
             ('get_verification_distribution', nezuko_analytics.get_verification_distribution(), nz_contracts.get_verification_distribution()),
             ('get_top_groups', nezuko_analytics.get_top_groups(), nz_contracts.get_top_groups())) v(c, nezuko_analytics_call, reference_call);
ROLLBACK;

-- SERIALIZABLE: a query takes predicate locks, so the query runs.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, true) IS NULL AS no_native_read,
       nezuko_analytics.native_groups_status('public') IS NULL AS no_native_groups,
       nezuko_analytics.native_members_chart('public', 10) IS NULL AS no_native_members,
       nezuko_analytics.get_dashboard_stats()::jsonb = nz_contracts.get_dashboard_stats()::jsonb AS stats_same,
       nezuko_analytics.get_bot_health()::jsonb = nz_contracts.get_bot_health()::jsonb AS health_same;
COMMIT;

-- nezuko_analytics.native_reads = off (any role, per session): every native
-- read steps aside, every contract answers from its query, the same.
SET nezuko_analytics.native_reads = off;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, true) IS NULL AS no_native_read,
       nezuko_analytics.native_api_counts('public', now() - interval '7 days', 'infinity') IS NULL AS no_native_api,
       nezuko_analytics.native_group_counts('public', now() - interval '7 days', 'infinity', 10) IS NULL AS no_native_groups,
       nezuko_analytics.native_groups_status('public') IS NULL AS no_native_status,
       nezuko_analytics.native_members_chart('public', 10) IS NULL AS no_native_members,
       nezuko_analytics.get_dashboard_stats()::jsonb = nz_contracts.get_dashboard_stats()::jsonb AS stats_same,
       nezuko_analytics.get_top_groups()::jsonb = nz_contracts.get_top_groups()::jsonb AS groups_same,
       nezuko_analytics.get_bot_health()::jsonb = nz_contracts.get_bot_health()::jsonb AS health_same;
RESET nezuko_analytics.native_reads;
SELECT nezuko_analytics.native_groups_status('public') IS NOT NULL AS native_again;
SET nezuko_analytics.native_reads = 'sometimes';

-- Row-level security: a role that may read only verified rows gets exactly
-- what its queries get, never the whole table.
CREATE ROLE nz_reader;
GRANT USAGE ON SCHEMA nezuko_analytics, nz_contracts TO nz_reader;
GRANT SELECT ON nezuko_analytics.schema_state, verification_log, api_call_log, protected_groups, enforced_channels TO nz_reader;
GRANT EXECUTE ON FUNCTION nezuko_analytics.get_dashboard_stats(), nezuko_analytics.get_cache_breakdown(),
      nezuko_analytics.get_top_groups(integer), nezuko_analytics.get_verification_distribution(),
      nezuko_analytics.get_bot_health(), nezuko_analytics.get_groups_status(), nezuko_analytics.get_members_chart_data() TO nz_reader;
ALTER TABLE verification_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE protected_groups ENABLE ROW LEVEL SECURITY;
CREATE POLICY verified_only ON verification_log FOR SELECT TO nz_reader USING (status = 'verified');
CREATE POLICY enabled_only ON protected_groups FOR SELECT TO nz_reader USING (enabled);
SET ROLE nz_reader;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, true) IS NULL AS no_native_read,
       nezuko_analytics.get_dashboard_stats()::jsonb = nz_contracts.get_dashboard_stats()::jsonb AS stats_same,
       nezuko_analytics.get_dashboard_stats()::jsonb ->> 'success_rate' AS success_rate_seen,
       nezuko_analytics.get_cache_breakdown()::jsonb = nz_contracts.get_cache_breakdown()::jsonb AS cache_same,
       nezuko_analytics.get_top_groups()::jsonb = nz_contracts.get_top_groups()::jsonb AS top_groups_same,
       nezuko_analytics.get_verification_distribution()::jsonb = nz_contracts.get_verification_distribution()::jsonb AS distribution_same,
       nezuko_analytics.get_bot_health()::jsonb = nz_contracts.get_bot_health()::jsonb AS health_same,
       nezuko_analytics.get_groups_status()::jsonb = nz_contracts.get_groups_status()::jsonb AS groups_same,
       nezuko_analytics.get_groups_status()::jsonb ->> 'inactive' AS inactive_seen,
       nezuko_analytics.get_members_chart_data()::jsonb = nz_contracts.get_members_chart_data()::jsonb AS members_same;
RESET ROLE;
ALTER TABLE verification_log DISABLE ROW LEVEL SECURITY;
ALTER TABLE protected_groups DISABLE ROW LEVEL SECURITY;
DROP POLICY verified_only ON verification_log;
DROP POLICY enabled_only ON protected_groups;

-- No SELECT privilege: the same error a query gives.
REVOKE SELECT ON verification_log FROM nz_reader;
SET ROLE nz_reader;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, false, true, false) IS NULL AS no_native_read;
SELECT nezuko_analytics.get_cache_breakdown();
RESET ROLE;
-- SELECT on the table but no USAGE on its schema: the same error a query gives.
GRANT SELECT ON verification_log TO nz_reader;
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
SET ROLE nz_reader;
DO $$ BEGIN PERFORM nezuko_analytics.get_cache_breakdown();
EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE 'refused (%): %', SQLSTATE, SQLERRM; END $$;
RESET ROLE;
GRANT USAGE ON SCHEMA public TO PUBLIC;

-- Members chart: titles that need escaping, no title, NULL counts, ties by id.
INSERT INTO enforced_channels (channel_id, title, subscriber_count) VALUES
    (1, E'quote " backslash \\ tab \t newline \n', 900000), (2, NULL, 900000), (3, 'ünïcødé ✓', NULL), (-5, 'tie', 900000);
INSERT INTO protected_groups (group_id, title, member_count) VALUES (1, NULL, 700000), (2, E'a\u0001b', 700000);
SELECT nezuko_analytics.native_members_chart('public', 10) IS NOT NULL AS native_read,
       nezuko_analytics.get_members_chart_data()::jsonb = nz_contracts.get_members_chart_data()::jsonb AS members_same,
       nezuko_analytics.get_groups_status()::jsonb = nz_contracts.get_groups_status()::jsonb AS groups_same;
SELECT jsonb_pretty(nezuko_analytics.native_members_chart('public', 3)::jsonb);

-- A bot schema whose columns have other types: no native read of what it cannot read exactly.
CREATE SCHEMA odd;
CREATE TABLE odd.verification_log (id bigserial, status text NOT NULL, latency_ms bigint, cached boolean, "timestamp" timestamptz);
CREATE INDEX ON odd.verification_log ("timestamp");
INSERT INTO odd.verification_log (status, latency_ms, cached, "timestamp") VALUES ('verified', 10, true, now()), ('error', NULL, false, now());
SELECT nezuko_analytics.native_verification_counts('odd', '-infinity', 'infinity', current_date, true, true, false) AS text_status_is_read,
       nezuko_analytics.native_verification_counts('odd', '-infinity', 'infinity', current_date, false, false, true) IS NULL AS bigint_latency_is_not;
CREATE TABLE odd.protected_groups (group_id bigint, title text, enabled text);
SELECT nezuko_analytics.native_groups_status('odd') IS NULL AS text_enabled_is_not_read;
-- A case-insensitive collation: a query would count 'getMe' and 'GETME' as one method.
CREATE COLLATION odd.case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE odd.api_call_log (id serial, method text COLLATE odd.case_insensitive, success boolean, "timestamp" timestamptz);
CREATE INDEX ON odd.api_call_log ("timestamp");
SELECT nezuko_analytics.native_api_counts('odd', '-infinity', 'infinity') IS NULL AS case_insensitive_method_is_not_read;

-- Bad input: clear errors.
SELECT nezuko_analytics.native_verification_counts(NULL, now(), 'infinity', current_date, true, true, true);
SELECT nezuko_analytics.native_members_chart('public', 0);
SELECT nezuko_analytics.native_group_counts('public', now(), 'infinity', 0);
SELECT nezuko_analytics.native_groups_status('no_such_schema');
CREATE SCHEMA empty;
SELECT nezuko_analytics.native_groups_status('empty');
SELECT nezuko_analytics.native_api_counts('empty', now(), 'infinity');

DROP SCHEMA odd, empty CASCADE;
DROP OWNED BY nz_reader;
DROP ROLE nz_reader;
DROP EXTENSION nezuko_analytics;
DROP TABLE protected_groups, enforced_channels, group_channel_links, verification_log, api_call_log CASCADE;
DROP SCHEMA nz_contracts, nz_native_reference CASCADE;
