-- Security: prune() never runs another role's code with its caller's rights,
-- no name it uses resolves through a schema another role can write, an
-- interrupted run is closed by the next one, what apply_schema() creates on a
-- Supabase database is closed to the API roles, the native reads step aside
-- for inheritance, and privileges are checked before any per-day work.
\set SHOW_CONTEXT never
\set VERBOSITY terse
CREATE ROLE anon;
CREATE ROLE authenticated;
CREATE ROLE service_role BYPASSRLS;
-- Supabase's default privileges on new tables in public.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO anon, authenticated, service_role;
CREATE ROLE mallory LOGIN;             -- owns the bot's tables, not a superuser
CREATE ROLE trigger_only LOGIN;        -- holds only TRIGGER on one of them
GRANT CREATE, USAGE ON SCHEMA public TO mallory, trigger_only;

CREATE EXTENSION pg_cron;
CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.apply_schema();

-- What apply_schema() created is closed to the API roles: row-level security
-- on, no TRUNCATE, TRIGGER or REFERENCES for them.
SELECT c.relname, c.relrowsecurity,
       has_table_privilege('anon', c.oid, 'TRUNCATE') AS anon_truncate,
       has_table_privilege('anon', c.oid, 'TRIGGER') AS anon_trigger,
       has_table_privilege('authenticated', c.oid, 'REFERENCES') AS authenticated_references
FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1;
SET ROLE anon;
INSERT INTO api_call_log (method, success) VALUES ('x', true);
SELECT count(*) AS rows_anon_sees FROM verification_log;
RESET ROLE;

-- An existing bot table the API roles could write is named, with the fix.
CREATE TABLE public.legacy_exposed (id int);
ALTER TABLE verification_log DISABLE ROW LEVEL SECURITY;
SELECT nezuko_analytics.report_exposed_tables('public');
ALTER TABLE verification_log ENABLE ROW LEVEL SECURITY;
DROP TABLE public.legacy_exposed;

-- The tables change hands: mallory owns them, trigger_only may add triggers to one.
ALTER TABLE verification_log OWNER TO mallory;
ALTER TABLE api_call_log OWNER TO mallory;
GRANT TRIGGER ON api_call_log TO trigger_only;
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, 1, 'verified', 10, false, now() - interval '200 days' - g * interval '1 minute' FROM generate_series(1, 30) g;
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, 1, 'verified', 10, false, now() - interval '1 day' FROM generate_series(1, 5) g;
INSERT INTO api_call_log (method, success, "timestamp")
SELECT 'm', true, now() - interval '200 days' FROM generate_series(1, 20) g;

-- Whose rights a trigger runs with: recorded by a trigger of the owner's.
CREATE TABLE public.trigger_runs (table_name text, ran_as name, superuser boolean);
GRANT INSERT ON public.trigger_runs TO PUBLIC;
SET ROLE mallory;
CREATE FUNCTION public.record_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.trigger_runs SELECT TG_TABLE_NAME, current_user, rolsuper FROM pg_roles WHERE rolname = current_user;
    RETURN NULL;
END $$;
CREATE TRIGGER record_run AFTER DELETE ON verification_log FOR EACH STATEMENT EXECUTE FUNCTION public.record_run();
-- ... and one that tries to make its owner a superuser.
CREATE FUNCTION public.escalate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
    RETURN NULL;
END $$;
CREATE TRIGGER escalate AFTER DELETE ON verification_log FOR EACH STATEMENT EXECUTE FUNCTION public.escalate();
RESET ROLE;
-- trigger_only, with TRIGGER alone, plants its own.
SET ROLE trigger_only;
CREATE FUNCTION public.escalate_too() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'ALTER ROLE trigger_only SUPERUSER';
    RETURN NULL;
END $$;
CREATE TRIGGER escalate_too AFTER DELETE ON api_call_log FOR EACH STATEMENT EXECUTE FUNCTION public.escalate_too();
RESET ROLE;

-- Operators planted in a schema on the caller's path, ahead of pg_catalog,
-- for the type pairs prune() and the scheduling functions compare and
-- compute with: none may run.
CREATE TABLE public.planted_calls (op text);
GRANT INSERT ON public.planted_calls TO PUBLIC;
SET ROLE mallory;
CREATE FUNCTION public.eq_oid_regclass(oid, regclass) RETURNS boolean LANGUAGE sql AS
  $$ INSERT INTO public.planted_calls VALUES ('=(oid, regclass)') RETURNING $1 = $2::oid $$;
CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = regclass, FUNCTION = public.eq_oid_regclass);
CREATE FUNCTION public.eq_text(text, text) RETURNS boolean LANGUAGE sql AS
  $$ INSERT INTO public.planted_calls VALUES ('=(text, text)') RETURNING $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.eq_text);
CREATE FUNCTION public.lt_int(integer, integer) RETURNS boolean LANGUAGE sql AS
  $$ INSERT INTO public.planted_calls VALUES ('<(integer, integer)') RETURNING $1 OPERATOR(pg_catalog.<) $2 $$;
CREATE OPERATOR public.< (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.lt_int);
CREATE FUNCTION public.ge_tstz(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS
  $$ INSERT INTO public.planted_calls VALUES ('>=(timestamptz, timestamptz)') RETURNING $1 OPERATOR(pg_catalog.>=) $2 $$;
CREATE OPERATOR public.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = public.ge_tstz);
CREATE FUNCTION public.minus_tstz(timestamptz, interval) RETURNS timestamptz LANGUAGE sql AS
  $$ INSERT INTO public.planted_calls VALUES ('-(timestamptz, interval)') RETURNING $1 OPERATOR(pg_catalog.-) $2 $$;
CREATE OPERATOR public.- (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = public.minus_tstz);
CREATE FUNCTION public.clock_timestamp() RETURNS timestamptz LANGUAGE sql AS
  $$ INSERT INTO public.planted_calls VALUES ('clock_timestamp()') RETURNING pg_catalog.clock_timestamp() $$;
RESET ROLE;

-- A superuser runs the retention job, and the functions that schedule and
-- preview it, with the planted path.
SET search_path = public, pg_catalog;
SELECT nezuko_analytics.schedule_retention('17 3 * * *') > 0 AS scheduled;
SELECT count(*) AS policies_previewed FROM nezuko_analytics.prune_preview();
SELECT (nezuko_analytics.set_retention('verification_log', '90 days')).keep;
CALL nezuko_analytics.prune(batch_size => 7);
RESET search_path;

SELECT rolname, rolsuper FROM pg_roles WHERE rolname IN ('mallory', 'trigger_only') ORDER BY 1;
SELECT count(*) AS planted_operators_run FROM public.planted_calls;
-- The owner's triggers ran, as the owner; the one that tried to escalate made its batch fail.
SELECT DISTINCT table_name, ran_as, superuser FROM public.trigger_runs ORDER BY 1;
SELECT table_name, status, rows_deleted, error_message FROM nezuko_analytics.retention_runs
WHERE table_name IN ('api_call_log', 'verification_log') ORDER BY 1;
SELECT count(*) AS old_rows_left, count(*) FILTER (WHERE "timestamp" > now() - interval '90 days') AS recent_rows
FROM verification_log;

-- Without the escalating triggers the rows go, and the owner's trigger still runs as the owner.
SET ROLE mallory;
DROP TRIGGER escalate ON verification_log;
RESET ROLE;
DROP TRIGGER escalate_too ON api_call_log;
TRUNCATE public.trigger_runs;
CALL nezuko_analytics.prune(batch_size => 7);
SELECT DISTINCT table_name, ran_as, superuser FROM public.trigger_runs ORDER BY 1;
SELECT count(*) AS rows_left, count(*) FILTER (WHERE "timestamp" > now() - interval '90 days') AS recent_rows
FROM verification_log;
SELECT count(*) AS api_rows_left FROM api_call_log;

-- A role that may not delete the rows cannot have prune_batch() delete them as the owner.
GRANT EXECUTE ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) TO trigger_only;
GRANT USAGE ON SCHEMA nezuko_analytics TO trigger_only;
SET ROLE trigger_only;
SELECT nezuko_analytics.prune_batch('public.verification_log', 'timestamp', now(), 10, true);
RESET ROLE;

-- An interrupted run: a statement_timeout inside a batch ends the run (its
-- row stays 'running'); the next run marks it interrupted and goes on.
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, 1, 'verified', 10, false, now() - interval '200 days' FROM generate_series(1, 5) g;
SET ROLE mallory;
CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(5); RETURN NULL; END $$;
CREATE TRIGGER slow AFTER DELETE ON verification_log FOR EACH STATEMENT EXECUTE FUNCTION public.slow();
RESET ROLE;
SET statement_timeout = '300ms';
CALL nezuko_analytics.prune();
RESET statement_timeout;
SELECT table_name, status FROM nezuko_analytics.retention_runs WHERE status = 'running' ORDER BY 1;
SET ROLE mallory;
DROP TRIGGER slow ON verification_log;
RESET ROLE;
-- A row left 'running' by a backend that is gone is closed too.
INSERT INTO nezuko_analytics.retention_runs (started_at, table_name, status, pid) VALUES ('2026-01-01', 'verification_log', 'running', 0);
CALL nezuko_analytics.prune();
SELECT count(*) FILTER (WHERE status = 'running') AS still_running,
       count(*) FILTER (WHERE status = 'interrupted' AND finished_at IS NOT NULL) AS interrupted
FROM nezuko_analytics.retention_runs;
SELECT count(*) FILTER (WHERE "timestamp" < now() - interval '90 days') AS old_rows_left,
       count(*) FILTER (WHERE "timestamp" > now() - interval '90 days') AS recent_rows
FROM verification_log;

-- +-infinity and far rows: each native read counts what the query counts,
-- index-only (cached alone) and through the table's pages (three columns).
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp") VALUES
    (1, 1, 'verified', 1, true, 'infinity'), (2, 1, 'verified', 2, true, '-infinity'),
    (3, 1, 'error', 3, true, '294276-01-01'), (4, 1, 'error', 4, true, '4713-01-01 BC'),
    (5, 1, 'verified', 5, true, now() + interval '30 days');
VACUUM ANALYZE verification_log;
SELECT w.label, c.cols,
       n.total = q.total AND n.cached = q.cached AND n.verified = q.verified AS native_equals_query, q.total
FROM (VALUES ('last 7 days, open', now() - interval '7 days', 'infinity'::timestamptz),
             ('all', '-infinity', 'infinity'), ('until now', '-infinity', now()),
             ('infinity alone', 'infinity', 'infinity'), ('-infinity alone', '-infinity', '-infinity'),
             ('now to the last finite day', now(), '294276-01-02')) w(label, since, until),
     (VALUES ('cached'), ('status, cached, latency')) c(cols),
     LATERAL nezuko_analytics.native_verification_counts('public', w.since, w.until, current_date,
                                                         c.cols <> 'cached', true, c.cols <> 'cached') n,
     LATERAL (SELECT count(*) AS total, count(*) FILTER (WHERE cached) AS cached,
                     CASE WHEN c.cols = 'cached' THEN 0 ELSE count(*) FILTER (WHERE status = 'verified') END AS verified
              FROM verification_log v WHERE v."timestamp" >= w.since AND v."timestamp" < w.until) q
ORDER BY 1, 2;

-- The same edges for the API calls by method and the groups.
INSERT INTO api_call_log (method, success, "timestamp") VALUES
    ('edge', true, 'infinity'), ('edge', false, '-infinity'), ('edge', true, '294276-01-01'),
    ('edge', true, '4713-01-01 BC'), ('edge', true, now() - interval '1 day');
VACUUM ANALYZE api_call_log;
SELECT w.label,
       (SELECT coalesce(jsonb_object_agg(u.m, ARRAY[u.n, u.s]), '{}')
        FROM nezuko_analytics.native_api_counts('public', w.since, w.until) a, unnest(a.methods, a.calls, a.ok) u(m, n, s))
     = (SELECT coalesce(jsonb_object_agg(q.method, ARRAY[q.n, q.s]), '{}')
        FROM (SELECT method, count(*) AS n, count(*) FILTER (WHERE success) AS s FROM api_call_log
              WHERE "timestamp" >= w.since AND "timestamp" < w.until GROUP BY method) q) AS api_equal,
       (SELECT string_agg(u.id || ':' || u.n || '/' || u.s, ' ' ORDER BY u.o)
        FROM nezuko_analytics.native_group_counts('public', w.since, w.until, 10) g,
             unnest(g.group_ids, g.calls, g.ok) WITH ORDINALITY u(id, n, s, o))
     IS NOT DISTINCT FROM
       (SELECT string_agg(q.group_id || ':' || q.n || '/' || q.s, ' ' ORDER BY q.n DESC, q.group_id)
        FROM (SELECT group_id, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s FROM verification_log
              WHERE "timestamp" >= w.since AND "timestamp" < w.until GROUP BY group_id ORDER BY n DESC, group_id LIMIT 10) q) AS groups_equal
FROM (VALUES ('last 7 days, open', now() - interval '7 days', 'infinity'::timestamptz),
             ('all', '-infinity', 'infinity'), ('until now', '-infinity', now()),
             ('infinity alone', 'infinity', 'infinity'), ('now to the last finite day', now(), '294276-01-02')) w(label, since, until)
ORDER BY 1;
DELETE FROM verification_log WHERE "timestamp" IN ('4713-01-01 BC', '294276-01-01');
-- A row stamped -infinity is in the window [-infinity, now) of every typed
-- function, but has no local hour: hourly_activity() leaves it out (docs/security.md).
SELECT (SELECT sum(count) FROM nezuko_analytics.verification_distribution('-infinity', now()))
     - (SELECT sum(verifications + restrictions + errors) FROM nezuko_analytics.hourly_activity('-infinity', now())) AS rows_without_a_local_hour,
       (SELECT count(*) FROM verification_log WHERE "timestamp" = '-infinity') AS rows_at_minus_infinity;

-- Native reads and inheritance: a query on the parent reads the children's
-- rows too, so the native read steps aside and the contract answers the same.
CREATE TABLE public.verification_log_archive () INHERITS (verification_log);
ALTER TABLE public.verification_log_archive OWNER TO mallory;
INSERT INTO public.verification_log_archive (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, 2, 'error', 20, true, now() - interval '2 days' FROM generate_series(1, 7) g;
SELECT nezuko_analytics.native_verification_counts('public', now() - interval '7 days', 'infinity', current_date, true, true, false) IS NULL AS steps_aside,
       (nezuko_analytics.get_verification_distribution()::jsonb ->> 'total')::int AS contract_total,
       (SELECT count(*) FROM verification_log WHERE "timestamp" >= now() - interval '7 days' AND "timestamp" < 'infinity') AS query_total;
-- prune() deletes the parent's own old rows only: a row of the child with
-- the same ctid as an old row of the parent is another row, and stays.
TRUNCATE verification_log;  -- the parent alone: its next row is at ctid (0,1)
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
VALUES (1, 1, 'verified', 1, false, now() - interval '200 days');
TRUNCATE public.verification_log_archive;
INSERT INTO public.verification_log_archive (user_id, group_id, status, latency_ms, cached, "timestamp")
VALUES (2, 2, 'error', 2, false, now() - interval '1 day'), (3, 3, 'error', 3, false, now() - interval '200 days');
SELECT tableoid::regclass, ctid, user_id FROM verification_log ORDER BY 1, 2;
CALL nezuko_analytics.prune();
SELECT tableoid::regclass, ctid, user_id FROM verification_log ORDER BY 1, 2;
DROP TABLE public.verification_log_archive;
INSERT INTO verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
VALUES (4, 1, 'verified', 40, false, now() - interval '1 day');

-- Privileges before work: a role without SELECT is refused at once, even for
-- a window of 6,700 years.
GRANT USAGE ON SCHEMA nezuko_analytics TO anon;
REVOKE SELECT ON verification_log FROM anon;
SET ROLE anon;
SELECT nezuko_analytics.get_latency_trend('4713-01-01 BC', now());
SELECT * FROM nezuko_analytics.hourly_activity('4713-01-01 BC', now());
RESET ROLE;

-- The latency reads change no setting of the caller, and are labelled STABLE.
SET enable_seqscan = on;
SELECT nezuko_analytics.latency_percentiles(now() - interval '1 year') IS NOT NULL AS percentiles,
       current_setting('enable_seqscan') AS enable_seqscan_after;
SELECT count(*) AS volatile_readers FROM pg_proc
WHERE pronamespace = 'nezuko_analytics'::regnamespace AND proname IN ('latency_percentiles', 'latency_histogram')
  AND provolatile <> 's';

SELECT nezuko_analytics.unschedule_retention();
DROP EXTENSION nezuko_analytics;
DROP TABLE verification_log, group_channel_links, enforced_channels, protected_groups, api_call_log,
           public.trigger_runs, public.planted_calls CASCADE;
DROP FUNCTION public.record_run(), public.escalate(), public.escalate_too(), public.slow();
DROP OPERATOR public.= (oid, regclass), public.= (text, text), public.< (integer, integer),
              public.>= (timestamptz, timestamptz), public.- (timestamptz, interval);
DROP FUNCTION public.eq_oid_regclass(oid, regclass), public.eq_text(text, text), public.lt_int(integer, integer),
              public.ge_tstz(timestamptz, timestamptz), public.minus_tstz(timestamptz, interval), public.clock_timestamp();
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM anon, authenticated, service_role;
REVOKE CREATE, USAGE ON SCHEMA public FROM mallory, trigger_only;
DROP ROLE mallory, trigger_only, anon, authenticated, service_role;

-- A role that is no superuser, with CREATE on the database (Supabase's
-- postgres, a database owner), installs the extension (it is trusted),
-- applies the schema to tables it owns, reads the dashboard, prunes and
-- schedules retention, and gains nothing.
CREATE ROLE nz_owner LOGIN;
SELECT format('GRANT CREATE ON DATABASE %I TO nz_owner', current_database()) \gexec
CREATE SCHEMA bot AUTHORIZATION nz_owner;
GRANT USAGE ON SCHEMA cron TO nz_owner;
SET ROLE nz_owner;
CREATE EXTENSION nezuko_analytics;
SELECT * FROM nezuko_analytics.apply_schema('bot');
INSERT INTO bot.verification_log (user_id, group_id, status, latency_ms, cached, "timestamp")
SELECT g, 1, 'verified', 10 + g, g % 2 = 0, now() - g * interval '1 day' FROM generate_series(1, 120) g;
SELECT (nezuko_analytics.dashboard(now() - interval '7 days') -> 'totals' ->> 'verifications')::int AS dashboard_rows,
       nezuko_analytics.get_dashboard_stats() IS NOT NULL AS contract;
SELECT table_name, rows_to_delete FROM nezuko_analytics.prune_preview() WHERE table_name = 'verification_log';
CALL nezuko_analytics.prune();
SELECT count(*) AS rows_left FROM bot.verification_log;
SELECT jobname, username FROM cron.job;
SELECT nezuko_analytics.unschedule_retention();
SELECT * FROM nezuko_analytics.revert_schema();
DROP EXTENSION nezuko_analytics;
RESET ROLE;
SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = 'nz_owner';
DROP EXTENSION pg_cron;
DROP SCHEMA bot CASCADE;  -- revert_schema() kept verification_log: it holds the bot's rows
SELECT format('REVOKE CREATE ON DATABASE %I FROM nz_owner', current_database()) \gexec
DROP ROLE nz_owner;
