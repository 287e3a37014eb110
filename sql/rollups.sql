-- Rollups (docs/rollups.md): enable_rollups() builds them equal to the raw
-- rows; every write (late rows, updates of status, latency and time,
-- deletes, TRUNCATE) marks its quarter hours pending in the same transaction;
-- refresh_rollups() makes them equal again; quarter hours before prune()'s
-- cutoff freeze and keep their history; a writer needs no right on the
-- extension's tables; bad input; disable_rollups(), revert_schema() and DROP
-- EXTENSION leave no trigger behind and every bot row in place.
\set SHOW_CONTEXT never
CREATE EXTENSION nezuko_analytics;
CREATE SCHEMA ro;
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema('ro');

-- Before enable_rollups(): refresh is a clear error.
SELECT nezuko_analytics.refresh_rollups();

-- Ten days of rows up to now (every status, NULL latencies, cached, 7
-- groups), and API calls of four methods, failures and NULL latencies.
INSERT INTO ro.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT i, i % 7, (ARRAY['verified', 'restricted', 'error', 'pending'])[1 + i % 4],
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i * 37) % 900 END, i % 3 = 0, now() - i * interval '53 seconds'
FROM generate_series(1, 16000) i;
INSERT INTO ro.api_call_log (method, success, latency_ms, "timestamp")
SELECT (ARRAY['getChatMember', 'restrictChatMember', 'sendMessage', 'getChat'])[1 + i % 4], i % 5 <> 0,
       CASE WHEN i % 13 = 0 THEN NULL ELSE (i * 29) % 700 END, now() - i * interval '71 seconds'
FROM generate_series(1, 12000) i;

-- The checks of the rollups against the raw rows (rollup_check.checks).
\i test/lib/rollup_checks.sql

-- enable_rollups(): triggers and the build (its NOTICEs name dates: see the
-- cron test for the job, and below for the hint given without pg_cron).
SET client_min_messages = warning;
SELECT regexp_replace(l, '[0-9]+ quarter hours from .*', 'N quarter hours from T') AS line
FROM nezuko_analytics.enable_rollups() l;
SELECT nezuko_analytics.cron_schedule_hint(nezuko_analytics.rollups_job_name(), '* * * * *',
                                           'SELECT nezuko_analytics.refresh_rollups()', 'nezuko_analytics.enable_rollups()');
SELECT c.relname, t.tgname, t.tgtype, pg_get_triggerdef(t.oid) ~ 'FOR EACH STATEMENT' AS per_statement
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal ORDER BY 1, 2;
SELECT source, keep, watermark BETWEEN now() - interval '30 minutes' AND now() AS watermark_now,
       materialized_from <= now() - interval '8 days' AS from_oldest, pending_buckets, rollup_rows > 0 AS has_rows
FROM nezuko_analytics.rollup_status();
-- A quarter hour's latencies and group counts are stored compressed with
-- lz4 (this server is built with it; elsewhere pglz).
SELECT a.attname, a.attcompression FROM pg_attribute a
WHERE a.attrelid = 'nezuko_analytics.rollup_verifications'::regclass AND a.attname IN ('latencies', 'groups') ORDER BY 1;
SELECT (SELECT sum(total) FROM nezuko_analytics.rollup_verifications)
       = (SELECT count(*) FROM ro.verification_log
          WHERE "timestamp" < (SELECT watermark FROM nezuko_analytics.rollup_state WHERE source = 'verification_log'))
       AS every_row_below_the_watermark;
SELECT * FROM rollup_check.checks;
-- Idempotent: nothing new; keep changes only keep.
SELECT * FROM nezuko_analytics.enable_rollups();
SELECT * FROM nezuko_analytics.enable_rollups('500 days');
SELECT source, keep FROM nezuko_analytics.rollup_status();
-- Local days of UTC (always) and the session's zone by default; other zones
-- added and removed (their days made and deleted); checked against their
-- quarter hours (rollup_check.stale_days()).
SELECT source, time_zones, local_days > 0 AS has_days FROM nezuko_analytics.rollup_status();
SELECT regexp_replace(l, '[0-9]+ days made', 'N days made') AS line  -- N: the whole days so far
FROM nezuko_analytics.enable_rollups('500 days', ARRAY['Asia/Kolkata', 'UTC', 'Asia/Kolkata']) l;
-- (api_call_log keeps UTC's days alone: its readers take those in any zone)
SELECT source, time_zone, count(*) > 7 AS days, min(ends_at - starts_at) AS shortest, max(ends_at - starts_at) AS longest
FROM nezuko_analytics.rollup_days GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM rollup_check.checks;
SELECT regexp_replace(l, '[0-9]+ days made', 'N days made') AS line
FROM nezuko_analytics.enable_rollups('500 days', ARRAY[current_setting('TimeZone')]) l;
SELECT DISTINCT source, time_zone FROM nezuko_analytics.rollup_days ORDER BY 1, 2;
-- Every name of UTC is kept as UTC (rollup_zone()): no second set of days,
-- and a reader in any of them reads UTC's.
SELECT nezuko_analytics.rollup_time_zones(ARRAY['Etc/UTC', 'GMT', 'zulu', 'Asia/Kolkata', 'Etc/GMT-0', 'asia/kolkata']) AS zones;
SELECT cardinality((nezuko_analytics.rollup_plan('verification_log', now() - interval '10 days', now(), NULL, 'Etc/UTC')).day_starts) > 7
       AS etc_utc_reads_utc_days;
-- A quarter hour's group counts, readable (rollup_groups()).
SELECT sum((g->>'total')::bigint) = min(c.total) AS groups_count_every_row, count(*) > 0 AS has_groups
FROM (SELECT * FROM nezuko_analytics.rollup_verifications ORDER BY total DESC LIMIT 1) c,
     jsonb_array_elements(nezuko_analytics.rollup_groups(c.groups)) g;

-- rollup_day_states() (1.22), which rollup_days_rebuild() inserts: each
-- kept day is, byte for byte, the aggregate over its quarter hours in order.
WITH d AS (SELECT source, time_zone, array_agg(day ORDER BY starts_at) AS days,
                  array_agg(starts_at ORDER BY starts_at) AS starts, array_agg(ends_at ORDER BY starts_at) AS ends
           FROM nezuko_analytics.rollup_days GROUP BY 1, 2),
made AS (SELECT d.source, d.time_zone,
                nezuko_analytics.rollup_day_states(d.source, d.days, d.starts, d.ends,
                    nezuko_analytics.tz_offsets(d.starts[1], d.ends[cardinality(d.ends)], d.time_zone)) AS s
         FROM d)
SELECT m.source, m.time_zone, count(*) > 7 AS days,
       count(*) FILTER (WHERE (m.s).summary = CASE m.source
           WHEN 'verification_log' THEN
               (SELECT nezuko_analytics.verification_summary_state('q', NULL, NULL, NULL, NULL, NULL, c, NULL,
                           nezuko_analytics.tz_offsets((m.s).starts_at, (m.s).ends_at, m.time_zone), 1, NULL ORDER BY c.bucket)
                FROM nezuko_analytics.rollup_verifications c WHERE c.bucket >= (m.s).starts_at AND c.bucket < (m.s).ends_at)
           ELSE (SELECT nezuko_analytics.api_summary_state(NULL, NULL, NULL, c, NULL ORDER BY c.bucket, c.method)
                 FROM nezuko_analytics.rollup_api_calls c WHERE c.bucket >= (m.s).starts_at AND c.bucket < (m.s).ends_at)
           END) = count(*) AS each_equal_to_the_aggregate,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM nezuko_analytics.rollup_days k
                                      WHERE k.source = m.source AND k.time_zone = m.time_zone AND k.day = (m.s).day
                                        AND k.starts_at = (m.s).starts_at AND k.ends_at = (m.s).ends_at
                                        AND k.summary = (m.s).summary)) = count(*) AS each_as_kept
FROM made m GROUP BY 1, 2 ORDER BY 1, 2;
-- A day without quarter hours has no row; nor has a day of verification_log
-- with a negative latency (written here by hand, and rolled back).
BEGIN;
INSERT INTO nezuko_analytics.rollup_verifications
SELECT t, 2, 2, 0, 0, 0, 2, l + 4, (SELECT nezuko_analytics.latency_dist(x) FROM unnest(ARRAY[l, 4]) x), '\x0101000202'::bytea
FROM (VALUES (timestamptz '2001-01-01 10:00+00', -3), ('2001-01-02 10:00+00', 3), ('2001-01-02 10:15+00', 8)) v(t, l);
SELECT (s).day, (s).starts_at, (s).ends_at, length((s).summary) > 0 AS has_summary
FROM (SELECT nezuko_analytics.rollup_day_states('verification_log', ARRAY['2001-01-01', '2001-01-02', '2001-01-03']::date[],
          ARRAY['2001-01-01 00:00+00', '2001-01-02 00:00+00', '2001-01-03 00:00+00']::timestamptz[],
          ARRAY['2001-01-02 00:00+00', '2001-01-03 00:00+00', '2001-01-04 00:00+00']::timestamptz[],
          nezuko_analytics.tz_offsets('2001-01-01 00:00+00', '2001-01-04 00:00+00', 'UTC')) s) x;
SELECT (nezuko_analytics.verification_summary_parts('p', NULL, NULL, NULL, NULL, NULL, NULL, (s).summary,
            nezuko_analytics.tz_offsets('2001-01-01 00:00+00', '2001-01-04 00:00+00', 'UTC'), 10, NULL)::jsonb)->'days' AS the_day
FROM (SELECT nezuko_analytics.rollup_day_states('verification_log', ARRAY['2001-01-02']::date[],
          ARRAY['2001-01-02 00:00+00']::timestamptz[], ARRAY['2001-01-03 00:00+00']::timestamptz[],
          nezuko_analytics.tz_offsets('2001-01-01 00:00+00', '2001-01-04 00:00+00', 'UTC')) s) x;
ROLLBACK;
-- Bad input: a clear error each.
SELECT nezuko_analytics.rollup_day_states('members', '{}', '{}', '{}', NULL);
SELECT nezuko_analytics.rollup_day_states('api_call_log', ARRAY['2026-01-01']::date[], '{}', '{}', NULL);
SELECT nezuko_analytics.rollup_day_states('api_call_log', ARRAY['2026-01-01', '2026-01-02']::date[],
    ARRAY['2026-01-01 00:00+00', '2026-01-01 12:00+00']::timestamptz[], ARRAY['2026-01-02 00:00+00', '2026-01-03 00:00+00']::timestamptz[], NULL);
SELECT nezuko_analytics.rollup_day_states('api_call_log', ARRAY['2026-01-01']::date[],
    ARRAY['2026-01-02 00:00+00']::timestamptz[], ARRAY['2026-01-02 00:00+00']::timestamptz[], NULL);
SELECT nezuko_analytics.rollup_day_states('api_call_log', ARRAY['2026-01-01']::date[],
    ARRAY['-infinity']::timestamptz[], ARRAY['2026-01-02 00:00+00']::timestamptz[], NULL);
SELECT nezuko_analytics.rollup_day_states('verification_log', ARRAY['2026-01-01']::date[],
    ARRAY['2026-01-01 00:00+00']::timestamptz[], ARRAY['2026-01-02 00:00+00']::timestamptz[], NULL);
SELECT nezuko_analytics.rollup_day_states('api_call_log', ARRAY['2026-01-01']::date[],
    ARRAY['2026-01-01 00:00+00']::timestamptz[], ARRAY[NULL]::timestamptz[], NULL);
SELECT nezuko_analytics.rollup_day_states('api_call_log', NULL, '{}', '{}', NULL);

-- A row of the current quarter hour (after the watermark): pending until
-- the watermark passes it.
INSERT INTO ro.verification_log (user_id, group_id, status, latency_ms) VALUES (1, 1, 'verified', 5);
SELECT count(*) AS pending_now FROM nezuko_analytics.rollup_pending;
SELECT * FROM rollup_check.checks;

-- A refresh that computes nothing (the pending row above is after the
-- watermark) does not look for local days to make again: it does not call
-- rollup_days_rebuild() (calls counted in this transaction; should the
-- watermark pass a quarter hour meanwhile, it computes that one).
BEGIN;
SET LOCAL track_functions = 'all';
CREATE TEMP TABLE refreshed ON COMMIT DROP AS SELECT nezuko_analytics.refresh_rollups() AS computed;
SELECT r.computed > 0
       OR coalesce(pg_stat_get_xact_function_calls('nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[])'::regprocedure), 0) = 0
         AS no_days_without_work,
       pg_stat_get_xact_function_calls('nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean)'::regprocedure) AS sources_refreshed
FROM refreshed r;
COMMIT;

-- Late rows an hour and a month ago, in one statement: two quarter hours
-- pending in that transaction; equal again after a refresh.
BEGIN;
INSERT INTO ro.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
VALUES (2, 3, 'verified', 40, true, now() - interval '1 hour'), (3, 3, 'error', NULL, false, now() - interval '30 days'),
       (4, 4, 'restricted', 7, false, now() - interval '30 days');
SELECT count(DISTINCT bucket) AS pending_buckets FROM nezuko_analytics.rollup_pending WHERE bucket < now() - interval '20 minutes';
SELECT stale_v, stale_days, stale_with_pending > 0 AS differs_until_refresh FROM rollup_check.checks;
COMMIT;
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
SELECT * FROM rollup_check.checks;

-- Updates of status, latency and time (old and new quarter hours), deletes.
UPDATE ro.verification_log SET status = 'error' WHERE user_id BETWEEN 100 AND 110;
UPDATE ro.verification_log SET latency_ms = latency_ms + 1000 WHERE user_id BETWEEN 200 AND 205;
UPDATE ro.verification_log SET "timestamp" = "timestamp" - interval '2 days' WHERE user_id BETWEEN 300 AND 302;
UPDATE ro.api_call_log SET success = NOT success, method = 'banChatMember' WHERE id % 500 = 0;
DELETE FROM ro.verification_log WHERE user_id BETWEEN 400 AND 420;
DELETE FROM ro.api_call_log WHERE id % 777 = 0;
SELECT stale_v, stale_a, stale_days, stale_with_pending > 0 AS differs_until_refresh FROM rollup_check.checks;
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
SELECT * FROM rollup_check.checks;

-- A writer with INSERT on the log only (no right on the extension's tables):
-- its quarter hour is still recorded, by the trigger as rollup_pending's owner.
CREATE ROLE ro_writer;
GRANT USAGE ON SCHEMA ro TO ro_writer;
GRANT INSERT ON ro.verification_log TO ro_writer;
GRANT USAGE ON SEQUENCE ro.verification_log_id_seq TO ro_writer;
SET ROLE ro_writer;
INSERT INTO ro.verification_log (user_id, group_id, status, "timestamp") VALUES (5, 5, 'verified', now() - interval '3 hours');
SELECT count(*) FROM nezuko_analytics.rollup_pending;  -- no right to read it
RESET ROLE;
SELECT count(*) AS pending_3h_ago FROM nezuko_analytics.rollup_pending
WHERE bucket = date_bin('15 minutes', now() - interval '3 hours', '2000-01-01+00');
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
SELECT * FROM rollup_check.checks;

-- A role under row-level security cannot build rollups (they would miss rows).
ALTER TABLE ro.verification_log ENABLE ROW LEVEL SECURITY;
CREATE ROLE ro_reader;
GRANT USAGE ON SCHEMA ro, nezuko_analytics TO ro_reader;
GRANT SELECT ON ro.verification_log, ro.api_call_log TO ro_reader;
GRANT SELECT ON nezuko_analytics.schema_state, nezuko_analytics.rollup_state TO ro_reader;
GRANT EXECUTE ON FUNCTION nezuko_analytics.refresh_rollups(interval) TO ro_reader;
SET ROLE ro_reader;
SELECT nezuko_analytics.refresh_rollups();
RESET ROLE;
ALTER TABLE ro.verification_log DISABLE ROW LEVEL SECURITY;

-- prune() with the raw rows kept 5 days: the rollups keep what it deletes,
-- and the quarter hours before its cutoff freeze: a late row there (prune
-- would take it next) leaves them as they were.
SELECT * FROM nezuko_analytics.set_retention('verification_log', '5 days');
SELECT sum(total) AS before_prune FROM nezuko_analytics.rollup_verifications \gset
CALL nezuko_analytics.prune();
SELECT nezuko_analytics.refresh_rollups() >= 0 AS refreshed;
SELECT sum(total) = :before_prune AS history_kept,
       (SELECT count(*) FROM ro.verification_log WHERE "timestamp" < now() - interval '5 days') AS raw_left,
       (SELECT frozen_before FROM nezuko_analytics.rollup_state WHERE source = 'verification_log')
       = (SELECT cutoff FROM nezuko_analytics.retention_runs WHERE table_name = 'verification_log') AS frozen_at_the_cutoff
FROM nezuko_analytics.rollup_verifications;
INSERT INTO ro.verification_log (user_id, group_id, status, "timestamp") VALUES (6, 6, 'verified', now() - interval '6 days');
SELECT nezuko_analytics.refresh_rollups() >= 0 AS refreshed;
SELECT pending_rows AS pending_left FROM rollup_check.checks;
SELECT sum(total) = :before_prune AS frozen_keeps_history FROM nezuko_analytics.rollup_verifications;
SELECT * FROM rollup_check.checks;
SELECT * FROM nezuko_analytics.set_retention('verification_log', '90 days');

-- TRUNCATE: everything from the raw horizon on is pending, then empty.
TRUNCATE ro.api_call_log;
SELECT count(*) AS truncate_marks FROM nezuko_analytics.rollup_pending WHERE bucket = '-infinity';
SELECT nezuko_analytics.refresh_rollups() > 0 AS refreshed;
SELECT count(*) AS api_rollups FROM nezuko_analytics.rollup_api_calls;
SELECT * FROM rollup_check.checks;

-- Bad input.
SELECT * FROM nezuko_analytics.enable_rollups(NULL);
SELECT * FROM nezuko_analytics.enable_rollups('-1 day');
SELECT * FROM nezuko_analytics.enable_rollups('400 days', ARRAY['Mars/Olympus_Mons']);
SELECT * FROM nezuko_analytics.enable_rollups('400 days', ARRAY['UTC', NULL]);
SELECT nezuko_analytics.rollup_groups('\x01'::bytea);
SELECT nezuko_analytics.rollup_groups('\x0101020000'::bytea);  -- a group without rows
SELECT nezuko_analytics.rollup_groups('\x0102020100000100'::bytea);  -- the same id twice
SELECT nezuko_analytics.rollup_groups('\x010102010000'::bytea);  -- a byte after the last group
SELECT nezuko_analytics.refresh_rollups('0 seconds');
SELECT nezuko_analytics.refresh_rollups(NULL);
SELECT nezuko_analytics.rollup_invalidate();
CREATE TRIGGER wrong AFTER INSERT ON ro.verification_log FOR EACH ROW EXECUTE FUNCTION nezuko_analytics.rollup_invalidate('verification_log', 'timestamp');
INSERT INTO ro.verification_log (user_id, group_id, status) VALUES (7, 7, 'verified');
DROP TRIGGER wrong ON ro.verification_log;
CREATE TRIGGER wrong AFTER INSERT ON ro.verification_log REFERENCING NEW TABLE AS n FOR EACH STATEMENT
    EXECUTE FUNCTION nezuko_analytics.rollup_invalidate('verification_log', 'user_id');
INSERT INTO ro.verification_log (user_id, group_id, status) VALUES (7, 7, 'verified');
DROP TRIGGER wrong ON ro.verification_log;

-- disable_rollups(): job, triggers and rows gone; the bot's rows stay.
SELECT count(*) AS rows_before FROM ro.verification_log \gset
SELECT * FROM nezuko_analytics.disable_rollups();
SELECT * FROM nezuko_analytics.disable_rollups();  -- nothing left to do
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'nezuko_analytics_rollups_%';
SELECT (SELECT count(*) FROM nezuko_analytics.rollup_verifications) + (SELECT count(*) FROM nezuko_analytics.rollup_state) AS rollup_rows,
       (SELECT count(*) FROM ro.verification_log) = :rows_before AS bot_rows_kept;

-- revert_schema() turns them off first.
SELECT count(*) > 0 AS enabled FROM nezuko_analytics.enable_rollups();
SELECT l FROM nezuko_analytics.revert_schema() l WHERE l ~ 'rollup';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'nezuko_analytics_rollups_%';

-- DROP EXTENSION with rollups on takes the triggers along, no row of the bot.
SELECT count(*) > 0 AS applied FROM nezuko_analytics.apply_schema('ro');
SELECT count(*) > 0 AS enabled FROM nezuko_analytics.enable_rollups();
DROP SCHEMA rollup_check CASCADE;
DROP EXTENSION nezuko_analytics;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgname LIKE 'nezuko_analytics_rollups_%';
SELECT count(*) = :rows_before AS bot_rows_kept FROM ro.verification_log;
INSERT INTO ro.verification_log (user_id, group_id, status) VALUES (8, 8, 'verified');  -- the bot writes on
DROP SCHEMA ro CASCADE;
DROP ROLE ro_writer;
DROP OWNED BY ro_reader;
DROP ROLE ro_reader;
