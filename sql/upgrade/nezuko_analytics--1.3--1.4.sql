-- nezuko_analytics 1.3 -> 1.4, written by hand (docs/versions.md): every
-- object 1.4 adds, changes or drops.  extension_upgrade compares the result
-- with a fresh install.
--
-- 1.4 splits the SQL by edition (sql/shared, sql/native, sql/portable): the
-- shared functions call an engine of the same names in both editions
-- (bucket_counts, percentile_values, hour_counts, method_figures,
-- api_window_summary, the *_counts records, members_chart), and the queries
-- the native reads fall back on become functions of their own (*_query).
-- The contracts are corrected (periods reported as given, current_avg over
-- the whole period, sort_order in get_latency_distribution) and
-- get_user_growth is new.
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.4'" to load this file. \quit

COMMENT ON SCHEMA nezuko_analytics IS
  'nezuko_analytics: analytics for the Nezuko bot (functions, types, procedures and the extension''s own bookkeeping tables; the bot''s tables stay in their own schema)';

-- A contract now reports its period exactly as given.
DROP FUNCTION nezuko_analytics.period_name(text, text);

CREATE OR REPLACE FUNCTION nezuko_analytics.hour_rows(hours jsonb)
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.hour, lpad(h.hour::text, 2, '0') || ':00', h.verified, h.restricted, h.error
    FROM jsonb_to_recordset(hours) AS h(hour integer, verified bigint, restricted bigint, error bigint)
    ORDER BY h.hour
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_rows(jsonb) IS
  'The hours of hour_counts() or of dashboard()''s summary as rows: hour, label ''HH:00'', verifications (verified), restrictions, errors; read by name. Shared by hourly_activity() and dashboard().';
-- The one-pass status counter behind hourly_activity(): each row goes to its
-- local hour through the time zone's offsets (tz_offsets(), in
-- 70_dashboard.sql's words), in the same C++ code as dashboard()'s hours.

-- The native engine of the latency charts (the portable edition has its own,
-- in SQL, with the same names and results).
CREATE OR REPLACE FUNCTION nezuko_analytics.bucket_counts(bot name, source text, since timestamptz, until timestamptz, edges integer[])
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, edges)::bigint[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.bucket_counts(name, text, timestamptz, timestamptz, integer[]) IS
  'Engine of latency_histogram(): the count of bot.source rows in [since, until) in each latency bucket of edges (validated edges; NULL when the window is empty), through latency_bucket_counts().';

CREATE OR REPLACE FUNCTION nezuko_analytics.percentile_values(bot name, source text, since timestamptz, until timestamptz,
                                                   percentiles float8[])
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, percentiles)::float8[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_values(name, text, timestamptz, timestamptz, float8[]) IS
  'Engine of latency_percentiles(): percentile_cont(percentiles) of latency_ms over bot.source rows in [since, until) (NULL without latencies), through a latency_dist.';
-- Local time: the UTC offsets of a time zone over a window, found here in
-- SQL (PostgreSQL's own time-zone rules) and applied to each row by the
-- engine that groups by local hour or day: in C++ by the native edition's
-- aggregates (src/core/local_time.hpp), in SQL by the portable edition
-- (local_shift_sql()).  Both editions place every row by the same offsets.

CREATE OR REPLACE FUNCTION nezuko_analytics.tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result bigint[];
    prev_offset bigint;
    day_start timestamptz;
    q timestamptz;
    q_offset bigint;
BEGIN
    -- offset(t) = local wall clock - UTC wall clock, in microseconds; the
    -- start of each segment in microseconds since 2000-01-01 UTC.
    FOR day_start IN SELECT generate_series(date_trunc('day', since, 'UTC') - interval '1 day',
                                            until + interval '1 day', interval '1 day') LOOP
        q_offset := (extract(epoch FROM (day_start AT TIME ZONE tz) - (day_start AT TIME ZONE 'UTC')) * 1000000)::bigint;
        IF prev_offset IS NULL THEN
            result := ARRAY[((extract(epoch FROM day_start) - 946684800) * 1000000)::bigint, q_offset];
        ELSIF q_offset <> prev_offset THEN
            -- the offset changed during the previous day: find each quarter hour where it did
            FOR q IN SELECT generate_series(day_start - interval '1 day' + interval '15 minutes', day_start, interval '15 minutes') LOOP
                q_offset := (extract(epoch FROM (q AT TIME ZONE tz) - (q AT TIME ZONE 'UTC')) * 1000000)::bigint;
                IF q_offset <> prev_offset THEN
                    result := result || ARRAY[((extract(epoch FROM q) - 946684800) * 1000000)::bigint, q_offset];
                    prev_offset := q_offset;
                END IF;
            END LOOP;
        END IF;
        prev_offset := q_offset;
    END LOOP;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.tz_offsets(timestamptz, timestamptz, text) IS
  'The UTC offsets of time zone tz over [since, until) as (segment start, offset) pairs in microseconds (starts since 2000-01-01 UTC), found to the quarter hour; what the engines use to place each row in its local hour and day.';

CREATE OR REPLACE FUNCTION nezuko_analytics.window_tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    -- Privileges before any per-day work: a role that may not read the
    -- table gets the query's error at once, whatever the window.
    PERFORM nezuko_analytics.require_select(bot, 'verification_log');
    IF isfinite(since) AND isfinite(until) AND until - since <= interval '400 days' THEN
        RETURN nezuko_analytics.tz_offsets(since, until, tz);
    END IF;
    -- An open window (the contracts' "since now() - period") or a long one:
    -- only the span that holds rows needs offsets, found by two index
    -- probes, so the per-day work is bounded by the data present.  Rows at
    -- +-infinity belong to no local hour or day.
    EXECUTE format('SELECT min(v."timestamp"), max(v."timestamp") FROM %I.verification_log v'
                   ' WHERE v."timestamp" >= $1 AND v."timestamp" < $2'
                   ' AND v."timestamp" > ''-infinity'' AND v."timestamp" < ''infinity''', bot)
        INTO first_row, last_row USING since, until;
    IF first_row IS NULL THEN
        RETURN NULL;  -- no rows: local time is never asked for
    END IF;
    -- Offsets are looked up from 1900 to 2100 at most (a row outside takes
    -- the offset of the nearest end): at most 200 years of per-day work,
    -- whatever timestamps the table holds.
    first_row := least(greatest(first_row, timestamptz '1900-01-01 00:00+00'), timestamptz '2100-01-01 00:00+00');
    last_row := least(greatest(last_row, first_row), timestamptz '2100-01-01 00:00+00');
    RETURN nezuko_analytics.tz_offsets(first_row, last_row, tz);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_tz_offsets(timestamptz, timestamptz, text) IS
  'tz_offsets() for a window [since, until): over the window itself when both ends are finite and at most 400 days apart, else over the span of the bot''s verification_log rows in it (NULL when none), within 1900 to 2100 (a row outside takes the offset of the nearest end), so the per-day work is bounded; checks USAGE and SELECT first. What both editions place rows in local hours and days with.';
-- The latency charts: validation and shaping here, the counting in the
-- edition's engine (bucket_counts(), percentile_values()).

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_histogram(
    since timestamptz,
    until timestamptz DEFAULT now(),
    edges integer[] DEFAULT nezuko_analytics.default_latency_edges(),
    source text DEFAULT 'verification_log')
RETURNS TABLE (bucket text, lower_ms integer, upper_ms integer, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
    labels text[];
    total bigint;
    bot name;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_histogram');
    IF edges IS NULL THEN
        RAISE EXCEPTION 'latency_histogram: edges must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    labels := nezuko_analytics.latency_bucket_labels(edges);  -- validates the edges
    bot := nezuko_analytics.bot_schema();
    counts := nezuko_analytics.bucket_counts(bot, source, since, until, edges);
    counts := coalesce(counts, array_fill(0::bigint, ARRAY[cardinality(labels)]));
    SELECT sum(c) INTO total FROM unnest(counts) c;
    RETURN QUERY
    SELECT labels[i], CASE WHEN i = 1 THEN 0 ELSE edges[i - 1] END, edges[i], counts[i],
           nezuko_analytics.percent(counts[i], total)
    FROM generate_series(1, cardinality(labels)) i
    ORDER BY i;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_histogram(timestamptz, timestamptz, integer[], text) IS
  'Latency histogram of [since, until) from verification_log or api_call_log: every bucket (zero counts too), percentage of rows with a latency, round(.., 1); one pass, parallel when the window is large, index-only when a "timestamp"-led index holds latency_ms.';

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_percentiles(
    since timestamptz,
    until timestamptz DEFAULT now(),
    percentiles float8[] DEFAULT '{0.5,0.95,0.99}',
    source text DEFAULT 'verification_log')
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_percentiles');
    IF percentiles IS NULL THEN
        RAISE EXCEPTION 'latency_percentiles: percentiles must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN nezuko_analytics.percentile_values(nezuko_analytics.bot_schema(), source, since, until, percentiles);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_percentiles(timestamptz, timestamptz, float8[], text) IS
  'Exact latency percentiles of [since, until) from verification_log or api_call_log, equal to percentile_cont(percentiles); NULL for a window without latencies. Reads through an index-only scan when a "timestamp"-led index holds latency_ms.';
-- The native engine of dashboard() and the trend contracts: the one-pass
-- C++ aggregates over verification_log and api_call_log, and the functions
-- that run them over a window.  Their documents are keyed JSON; the portable
-- edition builds the same documents in SQL (sql/portable/47_window_summary.sql).

CREATE OR REPLACE FUNCTION nezuko_analytics.api_window_summary(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb;
BEGIN
    EXECUTE format('SELECT nezuko_analytics.api_summary(a.method::text, a.success, a.latency_ms)::jsonb'
                   ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', bot)
        INTO a USING since, until;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary(name, timestamptz, timestamptz) IS
  'The one-pass summary of bot.api_call_log in [since, until), every figure by name (docs/dashboard.md): calls, ok, failures, latency_count, latency_sum, exact p95, and per method (most calls first) the same with p50. Used by dashboard().';

CREATE OR REPLACE FUNCTION nezuko_analytics.day_summary(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                             with_latency boolean)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.window_summary(since, until, tz, 1, recent_since) $$;
COMMENT ON FUNCTION nezuko_analytics.day_summary(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'Engine of the trend contracts: of window_summary(), what they read by name: days (date, count, verified, cached, latency_count, latency_sum, p95), the window''s latency_count and latency_sum, and recent (totals at or after recent_since). The native edition gives the whole summary of its one pass (with_latency asks nothing less of it).';
-- The native engine of hourly_activity() and method_distribution(): one
-- pass through the C++ aggregates.  The portable edition defines the same
-- functions in SQL (sql/portable/48_chart_engine.sql).

CREATE OR REPLACE FUNCTION nezuko_analytics.hour_counts(bot name, since timestamptz, until timestamptz, tz text)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hours jsonb;
BEGIN
    EXECUTE format('SELECT nezuko_analytics.hourly_status_counts(v."timestamp", v.status::text, $3)::jsonb'
                   ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2', bot)
        INTO hours USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz);
    RETURN hours;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_counts(name, timestamptz, timestamptz, text) IS
  'Engine of hourly_activity(): [{hour 0-23, verified, restricted, error}] for all 24 local hours (tz) of bot.verification_log rows in [since, until) with a finite time, as hourly_status_counts() gives them.';

CREATE OR REPLACE FUNCTION nezuko_analytics.method_figures(bot name, since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, ok bigint, avg_latency numeric, p50 float8, p95 float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT m.method, m.calls, m.failures, m.ok, m.avg_latency,
               nezuko_analytics.percentile(m.d, 0.5), nezuko_analytics.percentile(m.d, 0.95)
        FROM (SELECT a.method::text AS method, count(*) AS calls,
                     count(*) FILTER (WHERE NOT a.success) AS failures,
                     count(*) FILTER (WHERE a.success) AS ok,
                     avg(a.latency_ms) AS avg_latency,
                     nezuko_analytics.latency_dist(a.latency_ms) AS d
              FROM %I.api_call_log a
              WHERE a."timestamp" >= $1 AND a."timestamp" < $2
              GROUP BY a.method) m$q$, bot)
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_figures(name, timestamptz, timestamptz) IS
  'Engine of method_distribution(): per method of bot.api_call_log in [since, until), unordered: calls, failures (success = false), ok (success = true), avg latency, exact p50 and p95 (percentile_cont, through a latency_dist).';
-- The typed chart functions.  Each reads the bot's tables (in the schema
-- apply_schema() recorded) once, through dynamic SQL so the planner sees the
-- real window: an index scan on "timestamp" for short windows, a parallel
-- sequential scan for long ones.

CREATE OR REPLACE FUNCTION nezuko_analytics.hourly_activity(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'hourly_activity: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR here, before any scan
    RETURN QUERY SELECT * FROM nezuko_analytics.hour_rows(
        nezuko_analytics.hour_counts(nezuko_analytics.bot_schema(), since, until, tz));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hourly_activity(timestamptz, timestamptz, text) IS
  'Verifications in [since, until) by hour of day in time zone tz (DST and half-hour zones right): 24 rows, zero-filled, label ''HH:00''; counts of verified, restricted and error rows. One pass (the edition''s hour_counts()).';

CREATE OR REPLACE FUNCTION nezuko_analytics.method_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (method text, calls bigint, failures bigint, success_rate numeric, percentage numeric,
               avg_latency_ms numeric, p50_latency_ms numeric, p95_latency_ms numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY
    SELECT m.method, m.calls, m.failures, nezuko_analytics.percent(m.ok, m.calls),
           nezuko_analytics.percent(m.calls, sum(m.calls) OVER ()), round(m.avg_latency, 0),
           nezuko_analytics.round_ms(m.p50), nezuko_analytics.round_ms(m.p95)
    FROM nezuko_analytics.method_figures(nezuko_analytics.bot_schema(), since, until) m
    ORDER BY m.calls DESC, m.method;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_distribution(timestamptz, timestamptz) IS
  'API calls in [since, until) by method, most calls first, then by method: failures (success = false), success_rate and percentage of all calls (round(.., 1)), avg latency round(.., 0), exact p50 and p95 latency (percentile_cont) rounded to 0.01 ms.';

CREATE OR REPLACE FUNCTION nezuko_analytics.dashboard(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name;
    v jsonb;
    a jsonb;
    latency_avg numeric;
    health jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'dashboard: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR before any scan
    bot := nezuko_analytics.bot_schema();
    v := nezuko_analytics.window_summary(since, until, tz);
    a := nezuko_analytics.api_window_summary(bot, since, until);
    latency_avg := CASE WHEN (v->>'latency_count')::bigint = 0 THEN NULL
                        ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END;
    health := to_jsonb(nezuko_analytics.health_figures(
        (a->>'calls')::bigint, (a->>'ok')::bigint, (v->>'total')::bigint, (v->>'cached')::bigint,
        (v->>'verified')::bigint, (v->>'error')::bigint, latency_avg));

    RETURN jsonb_build_object(
        'window', jsonb_build_object('since', since, 'until', until, 'tz', tz),
        'totals', jsonb_build_object(
            'verifications', (v->>'total')::bigint, 'verified', (v->>'verified')::bigint,
            'restricted', (v->>'restricted')::bigint, 'error', (v->>'error')::bigint,
            'cached', (v->>'cached')::bigint, 'with_latency', (v->>'latency_count')::bigint,
            'api_calls', (a->>'calls')::bigint, 'api_failures', (a->>'failures')::bigint),
        'verification_distribution', jsonb_build_object(
            'verified', (v->>'verified')::bigint, 'restricted', (v->>'restricted')::bigint,
            'error', (v->>'error')::bigint, 'total', (v->>'total')::bigint),
        'cache_breakdown', jsonb_build_object(
            'cached', (v->>'cached')::bigint, 'api', (v->>'total')::bigint - (v->>'cached')::bigint,
            'total', (v->>'total')::bigint,
            'hit_rate', nezuko_analytics.percent((v->>'cached')::numeric, (v->>'total')::numeric)),
        'hourly_activity', (
            SELECT jsonb_agg(jsonb_build_object('hour', h.hour, 'label', h.label, 'verifications', h.verifications,
                                                'restrictions', h.restrictions, 'errors', h.errors) ORDER BY h.hour)
            FROM nezuko_analytics.hour_rows(v->'hours') h),
        'latency', jsonb_build_object(
            'histogram', (
                SELECT jsonb_agg(jsonb_build_object('bucket', b.bucket, 'lower_ms', b.lower_ms, 'upper_ms', b.upper_ms,
                                                    'count', b.count,
                                                    'percentage', nezuko_analytics.percent(b.count, (v->>'latency_count')::numeric))
                                 ORDER BY b.lower_ms)
                FROM jsonb_to_recordset(v->'buckets') AS b(bucket text, lower_ms integer, upper_ms integer, count bigint)),
            'p50_ms', nezuko_analytics.round_ms((v->>'p50')::float8),
            'p95_ms', nezuko_analytics.round_ms((v->>'p95')::float8),
            'p99_ms', nezuko_analytics.round_ms((v->>'p99')::float8),
            'avg_ms', latency_avg),
        'top_groups', coalesce((
            SELECT jsonb_agg(jsonb_build_object('group_id', g.group_id, 'title', coalesce(p.title, 'Group ' || g.group_id),
                                                'member_count', p.member_count, 'verifications', g.count,
                                                'success_rate', nezuko_analytics.percent(g.verified, g.count))
                             ORDER BY g.count DESC, g.group_id)
            FROM jsonb_to_recordset(v->'groups') AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN nezuko_analytics.group_titles(
                          bot, ARRAY(SELECT (e->>'group_id')::bigint FROM jsonb_array_elements(v->'groups') e)) p
                   ON p.group_id = g.group_id), '[]'::jsonb),
        'daily_trend', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(d.date, 'YYYY-MM-DD'),
                       'verifications', d.verifications,
                       'success_rate', nezuko_analytics.percent(d.verified, d.verifications),
                       'hit_rate', nezuko_analytics.percent(d.cached, d.verifications),
                       'avg_latency_ms', CASE WHEN d.latency_count = 0 THEN NULL
                                              ELSE round(d.latency_sum::numeric / d.latency_count, 0) END,
                       'p95_latency_ms', round(d.p95_ms::numeric, 0))
                   ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d), '[]'::jsonb),
        'api_calls', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'method', m.method, 'calls', m.calls, 'failures', m.failures,
                       'success_rate', nezuko_analytics.percent(m.ok, m.calls),
                       'percentage', nezuko_analytics.percent(m.calls, (a->>'calls')::numeric),
                       'avg_latency_ms', CASE WHEN m.latency_count = 0 THEN NULL
                                              ELSE round(m.latency_sum::numeric / m.latency_count, 0) END,
                       'p50_latency_ms', nezuko_analytics.round_ms(m.p50), 'p95_latency_ms', nezuko_analytics.round_ms(m.p95))
                   ORDER BY m.calls DESC, m.method)
            FROM jsonb_to_recordset(a->'methods')
                 AS m(method text, calls bigint, failures bigint, ok bigint, latency_count bigint, latency_sum bigint,
                      p50 float8, p95 float8)), '[]'::jsonb),
        'bot_health', health);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard(timestamptz, timestamptz, text) IS
  'Every window-based chart of [since, until) in one jsonb document (docs/dashboard.md): totals, verification_distribution, cache_breakdown, hourly_activity (in tz), latency (histogram, p50/p95/p99 rounded to 0.01 ms, avg), top_groups, daily_trend (local days in tz), api_calls, bot_health; one scan of verification_log and one of api_call_log.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_latency_distribution(p_period text DEFAULT '7d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('bucket', h.bucket, 'count', h.count, 'percentage', h.percentage,
                                      'sort_order', h.sort_order) ORDER BY h.sort_order)
    FROM (SELECT *, row_number() OVER (ORDER BY lower_ms) AS sort_order
          FROM nezuko_analytics.latency_histogram(now() - nezuko_analytics.period_interval(p_period, '7d'), 'infinity')) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_distribution(text) IS
  'Contract get_latency_distribution: [{bucket, count, percentage, sort_order 1-5}] for ''<50ms'' .. ''>500ms'' over p_period (unknown: 7d), percentage of rows with a latency.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_latency_distribution(since timestamptz, until timestamptz)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_agg(json_build_object('bucket', h.bucket, 'count', h.count, 'percentage', h.percentage,
                                      'sort_order', h.sort_order) ORDER BY h.sort_order)
    FROM (SELECT *, row_number() OVER (ORDER BY lower_ms) AS sort_order FROM nezuko_analytics.latency_histogram(since, until)) h
$$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_distribution(timestamptz, timestamptz) IS
  'get_latency_distribution over the window [since, until); a NULL or inverted window is an ERROR.';

-- The trends: one scan, grouped by day in the session TimeZone.
CREATE OR REPLACE FUNCTION nezuko_analytics.trend_summary(since timestamptz, until timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), now() - interval '1 day', true);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.trend_summary(timestamptz, timestamptz) IS
  'The day_summary() of get_latency_trend: [since, until) checked, local days in the session TimeZone with their latencies, and the last 24 hours as its recent totals.';

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb := nezuko_analytics.trend_summary(since, until);
BEGIN
    RETURN json_build_object(
        'period', period,
        'series', coalesce((
            SELECT json_agg(json_build_object('date', to_char(d.date, 'YYYY-MM-DD'),
                                              'avg_latency', round(d.latency_sum::numeric / d.latency_count, 0),
                                              'p95_latency', round(d.p95_ms::numeric, 0))
                            ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d WHERE d.latency_count > 0), '[]'::json),
        'current_avg', CASE WHEN (v->>'latency_count')::bigint = 0 THEN 0
                            ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_trend(timestamptz, timestamptz, text) IS
  'The body of get_latency_trend over [since, until): the days (in the session TimeZone) and the whole window of one day_summary().';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_latency_trend(p_period text DEFAULT '30d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.latency_trend(now() - nezuko_analytics.period_interval(p_period, '30d'), 'infinity',
                                            p_period) $$;
COMMENT ON FUNCTION nezuko_analytics.get_latency_trend(text) IS
  'Contract get_latency_trend: {period, series: [{date ''YYYY-MM-DD'', avg_latency, p95_latency (percentile_cont(0.95) rounded to 0)}] per day with latencies, current_avg (average over the whole period, round(.., 0), 0 when none)} over p_period (unknown: 30d, reported as given).';

CREATE OR REPLACE FUNCTION nezuko_analytics.cache_hit_rate_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    v := nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), now() - interval '1 day', false);
    RETURN (
        SELECT json_build_object(
            'period', period,
            'series', coalesce(json_agg(json_build_object('date', day, 'value', value, 'total_count', n) ORDER BY day), '[]'::json),
            'current_rate', nezuko_analytics.percent((v->'recent'->>'cached')::numeric, (v->'recent'->>'count')::numeric),
            'average_rate', coalesce(round(avg(value), 1), 0))
        FROM (SELECT to_char(d.date, 'YYYY-MM-DD') AS day, d.verifications AS n,
                     nezuko_analytics.percent(d.cached, d.verifications) AS value
              FROM nezuko_analytics.summary_days(v) d) d);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_hit_rate_trend(timestamptz, timestamptz, text) IS
  'The body of get_cache_hit_rate_trend over [since, until): the days (in the session TimeZone) and the last 24 hours of one day_summary(), without latencies.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_cache_hit_rate_trend(p_period text DEFAULT '30d')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.cache_hit_rate_trend(now() - nezuko_analytics.period_interval(p_period, '30d'), 'infinity',
                                                   p_period) $$;
COMMENT ON FUNCTION nezuko_analytics.get_cache_hit_rate_trend(text) IS
  'Contract get_cache_hit_rate_trend: {period, series: [{date, value (daily hit rate), total_count}], current_rate (last 24 hours), average_rate (mean of the daily rates, 1 decimal)} over p_period (unknown: 30d, reported as given).';

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_trends(since timestamptz, until timestamptz, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE result json; v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''hour'', ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF granularity = 'day' THEN
        -- the days of one native pass: no per-row time-zone arithmetic
        v := nezuko_analytics.day_summary(since, until, current_setting('TimeZone'), NULL, false);
        RETURN (
            SELECT json_build_object(
                'period', period,
                'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                              'successful', successful, 'failed', total - successful)
                                            ORDER BY bucket), '[]'::json),
                'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                             'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
            FROM (SELECT (d.date::timestamp AT TIME ZONE current_setting('TimeZone')) AS bucket,
                         d.verifications AS total, d.verified AS successful
                  FROM nezuko_analytics.summary_days(v) d) d);
    END IF;
    EXECUTE format($q$
        WITH buckets AS (
            SELECT date_trunc($4, "timestamp") AS bucket, count(*) AS total,
                   count(*) FILTER (WHERE status = 'verified') AS successful
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
            GROUP BY 1)
        SELECT json_build_object(
            'period', $3,
            'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                          'successful', successful, 'failed', total - successful)
                                        ORDER BY bucket), '[]'::json),
            'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                         'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
        FROM buckets$q$, nezuko_analytics.bot_schema()) INTO result USING since, until, period, granularity;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_trends(timestamptz, timestamptz, text, text) IS
  'The body of get_verification_trends over [since, until): one scan, by day from day_summary(), by hour or week grouped in SQL.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_verification_trends(p_period text DEFAULT '7d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.verification_trends(now() - nezuko_analytics.period_interval(p_period, '7d'), 'infinity',
                                                  p_period,
                                                  CASE WHEN p_granularity IN ('hour', 'day', 'week') THEN p_granularity ELSE 'day' END) $$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_trends(text, text) IS
  'Contract get_verification_trends: {period, series: [{timestamp (bucket start as text), total, successful (verified), failed (the rest)}], summary: {total_verifications, success_rate}} over p_period (unknown: 7d, reported as given) by p_granularity hour, day or week (unknown: day).';

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts_query(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT count(*), count(*) FILTER (WHERE "timestamp" >= $3),
               CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
               CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
               CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
               CASE WHEN $5 THEN count(*) FILTER (WHERE cached) ELSE 0 END,
               CASE WHEN $6 THEN count(latency_ms) ELSE 0 END,
               CASE WHEN $6 THEN coalesce(sum(latency_ms), 0) ELSE 0 END
        FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2$q$, bot)
        INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
        USING since, until, today, with_status, with_cached, with_latency;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_query(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'bot.verification_log over [since, until) from one query: total, today_count (rows at or after today), verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; the columns not asked for count 0.';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_counts_query(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT coalesce(array_agg(method), '{}'), coalesce(array_agg(n), '{}'), coalesce(array_agg(s), '{}')
        FROM (SELECT method::text AS method, count(*) AS n, count(*) FILTER (WHERE success) AS s
              FROM %I.api_call_log WHERE "timestamp" >= $1 AND "timestamp" < $2 GROUP BY method) m$q$, bot)
        INTO methods, calls, ok USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_query(name, timestamptz, timestamptz) IS
  'bot.api_call_log over [since, until) from one query: calls and successful calls (success = true) by method, in no particular order.';

CREATE OR REPLACE FUNCTION nezuko_analytics.group_counts_query(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        SELECT coalesce(array_agg(group_id ORDER BY n DESC, group_id), '{}'), coalesce(array_agg(n ORDER BY n DESC, group_id), '{}'),
               coalesce(array_agg(s ORDER BY n DESC, group_id), '{}')
        FROM (SELECT group_id::bigint AS group_id, count(*) AS n, count(*) FILTER (WHERE status = 'verified') AS s
              FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
              GROUP BY group_id ORDER BY n DESC, group_id LIMIT $3) g$q$, bot)
        INTO group_ids, calls, ok USING since, until, top;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_query(name, timestamptz, timestamptz, integer) IS
  'bot.verification_log over [since, until) from one query: the top groups by verifications (ties by group_id) with their verifications and verified ones.';

CREATE OR REPLACE FUNCTION nezuko_analytics.groups_status_query(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled), count(*) FROM %I.protected_groups',
                   bot) INTO enabled, disabled, total;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_query(name) IS
  'bot.protected_groups from one query: enabled, disabled (enabled = false) and total rows.';

CREATE OR REPLACE FUNCTION nezuko_analytics.members_chart_query(bot name, top integer)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result json;
BEGIN
    -- A static query (its plan cached, as the original's is): the bot's
    -- schema joins the path after pg_catalog, for its two tables only, and
    -- the SET clause above puts the path back when the function returns.
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT json_build_object(
        'channels', (SELECT coalesce(json_agg(json_build_object('name', c.name, 'members', c.members) ORDER BY c.members DESC, c.id), '[]'::json)
                     FROM (SELECT e.channel_id AS id, coalesce(e.title, 'Channel ' || e.channel_id) AS name,
                                  coalesce(e.subscriber_count, 0) AS members
                           FROM enforced_channels e ORDER BY coalesce(e.subscriber_count, 0) DESC, e.channel_id LIMIT top) c),
        'groups', (SELECT coalesce(json_agg(json_build_object('name', g.name, 'members', g.members) ORDER BY g.members DESC, g.id), '[]'::json)
                   FROM (SELECT p.group_id AS id, coalesce(p.title, 'Group ' || p.group_id) AS name,
                                coalesce(p.member_count, 0) AS members
                         FROM protected_groups p ORDER BY coalesce(p.member_count, 0) DESC, p.group_id LIMIT top) g))
    INTO result;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.members_chart_query(name, integer) IS
  'get_members_chart_data''s document from one query: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0).';
-- The fixed-window contracts (and the two that read the small tables) read
-- the bot's tables natively, without the executor (src/pg/window_scan.cpp):
-- over 7 days the originals' separate index-only counts are already near
-- what one query can do, and executor overhead is most of the rest.
-- A native read returns NULL whenever a query could see something else (row-
-- level security, no privilege, SERIALIZABLE, a column of another type, no
-- "timestamp"-led index, or nezuko_analytics.native_reads = off); the same
-- figures then come from one query.  Every native read returns a record
-- whose fields C++ sets by name.

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- an expression, not a query: no SPI round trip for a call that takes microseconds
    n record := nezuko_analytics.native_verification_counts(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n IS NOT NULL THEN
        total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
        error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
    ELSE  -- the native read stepped aside
        SELECT * INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
        FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'native_verification_counts(), or the same record from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.native_api_counts(bot, since, until) n;
    IF methods IS NULL THEN
        SELECT * INTO methods, calls, ok FROM nezuko_analytics.api_counts_query(bot, since, until);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts(name, timestamptz, timestamptz) IS
  'native_api_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.native_group_counts(bot, since, until, top) n;
    IF group_ids IS NULL THEN
        SELECT * INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_query(bot, since, until, top);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts(name, timestamptz, timestamptz, integer) IS
  'native_group_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.native_groups_status(bot);
BEGIN
    IF n IS NOT NULL THEN
        enabled := n.enabled; disabled := n.disabled; total := n.total;
    ELSE  -- the native read stepped aside
        SELECT * INTO enabled, disabled, total FROM nezuko_analytics.groups_status_query(bot);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'native_groups_status(), or the same record from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.members_chart(bot name, top integer)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(nezuko_analytics.native_members_chart(bot, top), nezuko_analytics.members_chart_query(bot, top)) $$;
COMMENT ON FUNCTION nezuko_analytics.members_chart(name, integer) IS
  'native_members_chart(), or the same document from one query when the native path may not read the tables.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_members_chart_data()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.members_chart(nezuko_analytics.bot_schema(), 10) $$;
COMMENT ON FUNCTION nezuko_analytics.get_members_chart_data() IS
  'Contract get_members_chart_data: {channels: [{name (title, else ''Channel <id>''), members}] top 10 enforced_channels by subscriber_count, groups: [{name, members}] top 10 protected_groups by member_count} (ties by id, NULL counts as 0); read natively.';

CREATE OR REPLACE FUNCTION nezuko_analytics.user_growth(since timestamptz, until timestamptz, middle timestamptz,
                                             unit text, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE result json;
BEGIN
    EXECUTE format($q$
        WITH w AS MATERIALIZED (  -- the window, read once
            SELECT date_trunc($4, "timestamp") AS bucket, "timestamp" >= $3 AS second_half, user_id
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2),
        buckets AS (
            SELECT bucket, count(DISTINCT user_id) AS n FROM w GROUP BY bucket),
        halves AS (
            SELECT count(DISTINCT user_id) AS total,
                   count(DISTINCT user_id) FILTER (WHERE NOT second_half) AS first_half,
                   count(DISTINCT user_id) FILTER (WHERE second_half) AS second_half
            FROM w)
        SELECT json_build_object(
            'period', $5,
            'granularity', $6,
            'series', (SELECT coalesce(json_agg(json_build_object('date', to_char(bucket, 'YYYY-MM-DD'), 'new_users', n,
                                                                  'total_users', running) ORDER BY bucket), '[]'::json)
                       FROM (SELECT bucket, n, (sum(n) OVER (ORDER BY bucket))::integer AS running FROM buckets) r),
            'summary', json_build_object(
                'total_new_users', h.total,
                'growth_rate', CASE WHEN h.first_half = 0 THEN 0
                                    ELSE round((h.second_half::numeric / h.first_half - 1) * 100, 1) END))
        FROM halves h$q$, nezuko_analytics.bot_schema())
        INTO result USING since, until, middle, unit, period, granularity;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth(timestamptz, timestamptz, timestamptz, text, text, text) IS
  'The body of get_user_growth over [since, until) split at middle, buckets date_trunc(unit) in the session TimeZone; period and granularity are reported as given. One scan.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_user_growth(p_period text DEFAULT '30d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nezuko_analytics.user_growth(now() - len, 'infinity', now() - len / 2,
                                        CASE WHEN p_granularity = 'week' THEN 'week' ELSE 'day' END, p_period, p_granularity)
    FROM (SELECT nezuko_analytics.period_interval(CASE WHEN p_period IN ('7d', '30d', '90d') THEN p_period END, '30d') AS len) l
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(text, text) IS
  'Contract get_user_growth: {period, granularity (both as given), series: [{date ''YYYY-MM-DD'' (bucket start), new_users (distinct user_id in the bucket), total_users (running sum of new_users)}], summary: {total_new_users (distinct users in the window), growth_rate (distinct users of the second half over the first, minus 1, times 100, round(.., 1); 0 when the first half has none)}} over p_period ''7d'', ''30d'' or ''90d'' (else 30d) by p_granularity week (else day).';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_user_growth(since timestamptz, until timestamptz, granularity text DEFAULT 'day')
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT isfinite(since) OR NOT isfinite(until) THEN
        RAISE EXCEPTION 'get_user_growth: the window must be finite to be split in halves'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN nezuko_analytics.user_growth(since, until, since + (until - since) / 2, granularity, NULL, granularity);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(timestamptz, timestamptz, text) IS
  'get_user_growth over the finite window [since, until), halves split at its middle (period null); a NULL, inverted or infinite window, or a granularity other than day or week, is an ERROR.';
-- Privileges.  The administrative functions are for the owner only (the same
-- on every database); the dashboard's functions are granted to Supabase's API
-- roles by grant_dashboard_access(), which apply_schema() calls, only where
-- those roles exist.  Everything runs as SECURITY INVOKER with a pinned
-- search_path: a role sees through the functions only what its own
-- privileges (and the bot's row-level security) let it read.

-- The new contract is a dashboard function: closed to PUBLIC, open to the
-- installing role with the right to grant it (as 80_grants.sql does on a
-- fresh install), and granted to the API roles that already have the others.
REVOKE EXECUTE ON FUNCTION nezuko_analytics.get_user_growth(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.get_user_growth(timestamptz, timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.get_user_growth(text, text) TO @extowner@ WITH GRANT OPTION;
GRANT EXECUTE ON FUNCTION nezuko_analytics.get_user_growth(timestamptz, timestamptz, text) TO @extowner@ WITH GRANT OPTION;
DO $$
DECLARE r name;
BEGIN
    FOR r IN SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')
               AND has_function_privilege(rolname, 'nezuko_analytics.get_dashboard_stats()', 'EXECUTE') ORDER BY 1 LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION nezuko_analytics.get_user_growth(text, text) TO %I', r);
        EXECUTE format('GRANT EXECUTE ON FUNCTION nezuko_analytics.get_user_growth(timestamptz, timestamptz, text) TO %I', r);
    END LOOP;
END $$;
