-- The calls the two editions must answer alike: every shared function over
-- many windows (empty, edges, open-ended, future rows, long), five time
-- zones (half-hour, quarter-hour and DST-changing ones), custom edges and
-- percentiles, and bad input.  Prints one line per call, "call => result"
-- (a result set as a jsonb array in its order, or "ERROR sqlstate:
-- message"); run_portable_tests.sh runs it in a native and a portable
-- database holding the same rows and compares the lines.
-- Needs nz_edition.anchor (one row: the data's anchor time).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE TEMP TABLE calls (n serial, tz text, q text);
CREATE FUNCTION pg_temp.w(since_expr text, until_expr text) RETURNS text LANGUAGE sql AS
$$ SELECT since_expr || ', ' || until_expr $$;

DO $$
DECLARE
    a text := (SELECT quote_literal(at) || '::timestamptz' FROM nz_edition.anchor);
    windows text[] := ARRAY[
        a || ' - interval ''1 day'', ' || a || ' - interval ''1 day''',                 -- empty
        a || ' - interval ''7 days'', ' || a,                                           -- a week, edges on rows
        a || ' - interval ''1 day 17 minutes'', ' || a || ' - interval ''2 hours 53 minutes''',
        a || ' - interval ''30 days'', ''infinity''',                                   -- open-ended, future rows
        a || ' - interval ''40 days'', ' || a || ' - interval ''20 days''',              -- a DST change (Nov 1)
        a || ' - interval ''500 days'', ' || a || ' + interval ''10 days'''];            -- longer than the data
    zones text[] := ARRAY['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'America/New_York'];
    w text;
    z text;
BEGIN
    FOREACH w IN ARRAY windows LOOP
        INSERT INTO calls (tz, q) VALUES
            ('UTC', format('SELECT * FROM nezuko_analytics.verification_distribution(%s)', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.top_groups(%s)', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.top_groups(%s, 3)', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.method_distribution(%s)', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.bot_health(%s)', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.cache_breakdown(%s)', w)),
            ('UTC', format('SELECT nezuko_analytics.latency_percentiles(%s) AS v', w)),
            ('UTC', format('SELECT nezuko_analytics.latency_percentiles(%s, ''{0,0.25,0.5,1}'', ''api_call_log'') AS v', w)),
            ('UTC', format('SELECT nezuko_analytics.latency_percentiles(%s, ''{0.999,NULL}'') AS v', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.latency_histogram(%s)', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.latency_histogram(%s, ''{10,1000}'', ''api_call_log'')', w)),
            ('UTC', format('SELECT * FROM nezuko_analytics.latency_histogram(%s, ''[0:2]={1,7,5000}'')', w)),
            ('UTC', format('SELECT nezuko_analytics.get_latency_distribution(%s) AS v', w)),
            ('UTC', format('SELECT nezuko_analytics.get_analytics_overview(%s) AS v', w)),
            -- the fixed-window counts themselves: "today" before, inside and
            -- after the window, every column or those get_dashboard_stats() asks for
            ('UTC', format('SELECT d AS today, c.* FROM unnest(ARRAY[%s - interval ''3 days'', %s - interval ''25 hours'', ''-infinity'', ''infinity'']::timestamptz[]) d,'
                           ' nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), %s, d, true, true, true) c', a, a, w)),
            ('UTC', format('SELECT d AS today, c.* FROM unnest(ARRAY[%s - interval ''3 days'', %s - interval ''25 hours'', ''-infinity'', ''infinity'']::timestamptz[]) d,'
                           ' nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), %s, d, false, true, false) c', a, a, w)),
            ('UTC', format('SELECT nezuko_analytics.verified_count(nezuko_analytics.bot_schema(), %s) AS v', w));
        FOREACH z IN ARRAY zones LOOP
            INSERT INTO calls (tz, q) VALUES
                (z, format('SELECT * FROM nezuko_analytics.hourly_activity(%s, %L)', w, z)),
                (z, format('SELECT nezuko_analytics.dashboard(%s, %L) AS v', w, z)),
                (z, format('SELECT nezuko_analytics.get_latency_trend(%s) AS v', w)),
                (z, format('SELECT nezuko_analytics.get_cache_hit_rate_trend(%s) AS v', w)),
                (z, format('SELECT nezuko_analytics.get_verification_trends(%s, ''day'') AS v', w)),
                (z, format('SELECT nezuko_analytics.get_verification_trends(%s, ''week'') AS v', w)),
                (z, format('SELECT nezuko_analytics.get_user_growth(%s, ''day'') AS v', w)),
                (z, format('SELECT nezuko_analytics.get_user_growth(%s, ''week'') AS v', w));
        END LOOP;
    END LOOP;
    INSERT INTO calls (tz, q) VALUES
        ('UTC', 'SELECT nezuko_analytics.default_latency_edges() AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket_labels() AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket_labels(''{1,2,3}'') AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket_labels(''[5:6]={0,9}'') AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket(x) AS v FROM unnest(ARRAY[0, 49, 50, 99, 100, 499, 500, 2147483647, NULL]) x'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket(x, ''{5,10}'') AS v FROM unnest(ARRAY[0, 4, 5, 9, 10, 11]) x'),
        ('UTC', 'SELECT nezuko_analytics.dashboard(' || a || ' - interval ''7 days'', ' || a || ') AS v'),
        -- bad input: the same SQLSTATE and message
        ('UTC', 'SELECT * FROM nezuko_analytics.verification_distribution(NULL, now())'),
        ('UTC', 'SELECT * FROM nezuko_analytics.verification_distribution(''2026-01-02'', ''2026-01-01'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.hourly_activity(now() - interval ''1 day'', now(), ''Mars/Olympus'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.hourly_activity(now() - interval ''1 day'', now(), NULL)'),
        ('UTC', 'SELECT nezuko_analytics.dashboard(now() - interval ''1 day'', now(), ''Mars/Olympus'') AS v'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), ''{}'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), ''{5,5}'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), ''{-1,4}'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), ''{{1,2},{3,4}}'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), ''{1,NULL}'')'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), NULL)'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), ARRAY(SELECT generate_series(1, 65)))'),
        ('UTC', 'SELECT * FROM nezuko_analytics.latency_histogram(now() - interval ''1 day'', now(), source => ''protected_groups'')'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket(-1) AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_bucket(3, ''{3,2}'') AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_percentiles(' || a || ' - interval ''7 days'', ' || a || ', ''{1.5}'') AS v'),
        ('UTC', 'SELECT nezuko_analytics.latency_percentiles(' || a || ' - interval ''7 days'', ' || a || ', NULL) AS v'),
        ('UTC', 'SELECT * FROM nezuko_analytics.top_groups(now() - interval ''1 day'', now(), 0)'),
        ('UTC', 'SELECT nezuko_analytics.get_verification_trends(now() - interval ''1 day'', now(), ''fortnight'') AS v'),
        ('UTC', 'SELECT nezuko_analytics.get_user_growth(now() - interval ''1 day'', ''infinity'') AS v'),
        ('UTC', 'SELECT nezuko_analytics.get_user_growth(now() - interval ''1 day'', now(), ''month'') AS v');
END $$;

CREATE FUNCTION pg_temp.answer(q text, tz text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r jsonb;
BEGIN
    PERFORM set_config('TimeZone', tz, true);
    EXECUTE 'SELECT coalesce(jsonb_agg(to_jsonb(t)), ''[]'') FROM (' || q || ') t' INTO r;
    RETURN r::text;
EXCEPTION WHEN OTHERS THEN
    RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM;
END $$;

\pset format unaligned
\pset tuples_only on
BEGIN;
SELECT format('%s [%s] %s => %s', n, tz, q, pg_temp.answer(q, tz)) FROM calls ORDER BY n;
COMMIT;
