-- nezuko_analytics_sql (the portable edition) 1.11 -> 1.12, written by hand
-- (docs/versions.md).  A window that holds few rows
-- (nezuko_analytics.small_window_rows, default 20000; window_is_small()) is
-- read by one plain query: the summaries read it as one slice, without a
-- branch per local day, the trend contracts by local day with
-- percentile_cont (day_summary_pass()), and get_user_growth (shared
-- with the native edition) a window of up to 15 times as many rows
-- (user_growth_small_scale()) once for its buckets and once for its halves
-- instead of a read per bucket.

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.12'::text $$;

CREATE FUNCTION nezuko_analytics.small_window_rows()
RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- the native edition's module defines the setting with the same default
    -- (src/pg/module.cpp; a test compares them); the portable edition has
    -- no module, and the setting is then a plain custom one
    setting constant text := coalesce(nullif(current_setting('nezuko_analytics.small_window_rows', true), ''), '20000');
BEGIN
    IF setting !~ '^\s*[0-9]{1,9}\s*$' THEN
        RAISE EXCEPTION 'nezuko_analytics.small_window_rows must be a whole number of rows from 0, not %', quote_literal(setting)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN setting::integer;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.small_window_rows() IS
  'The setting nezuko_analytics.small_window_rows (default 20000): a window holding at most this many rows (get_user_growth: user_growth_small_scale() times as many) is read by plain queries instead of the reads built for long windows (window_is_small()); 0 reads every window those ways.';

CREATE FUNCTION nezuko_analytics.window_is_small(bot name, log_table text, since timestamptz, until timestamptz,
                                                 scale integer DEFAULT 1)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    most constant integer := nezuko_analytics.small_window_rows();
    n bigint;
    lo timestamptz;
    hi timestamptz;
    first_row timestamptz;
BEGIN
    IF most = 0 THEN
        RETURN false;
    END IF;
    -- the window's latest rows through the time index, no further than one
    -- row past the limit: all of them in a small window
    EXECUTE format($q$SELECT count(*), min(s.at), max(s.at)
                      FROM (SELECT t."timestamp" AS at FROM %I.%I t
                            WHERE t."timestamp" >= $1 AND t."timestamp" < $2
                              AND t."timestamp" > '-infinity' AND t."timestamp" < 'infinity'
                            ORDER BY t."timestamp" DESC LIMIT $3) s$q$, bot, log_table)
        INTO n, lo, hi USING since, until, most + 1;
    IF n <= most THEN
        RETURN true;
    END IF;
    IF coalesce(scale, 1) <= 1 OR hi = lo THEN
        RETURN false;
    END IF;
    -- Up to scale times the limit the rows are not counted (a count of
    -- 300,000 index entries cost a fifth of a week's get_user_growth on the
    -- benchmark's data): their number is taken from the density of the
    -- latest ones over the span of the window's rows.  A log table fills
    -- faster as a bot grows, so the latest rows overstate the rest, and a
    -- window in doubt goes to the reads for long windows.
    SELECT s.first_row INTO first_row FROM nezuko_analytics.window_rows_span(bot, log_table, since, until) s;
    RETURN most * extract(epoch FROM hi - first_row) / extract(epoch FROM hi - lo) <= most::numeric * scale;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_is_small(name, text, timestamptz, timestamptz, integer) IS
  'Whether bot.log_table holds at most small_window_rows() finite rows in [since, until) (never when the setting is 0), read through the time index no further than one row past the limit; with scale > 1, whether it holds at most scale times as many as estimated from the density of those latest rows over the span of the window''s rows. Such a window is read by plain queries; scale is how many times the limit a reader''s plain queries stay the faster way (get_user_growth: user_growth_small_scale()).';

CREATE FUNCTION nezuko_analytics.user_growth_small_scale()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 15 $$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_small_scale() IS
  'How many times small_window_rows() rows get_user_growth still reads by its plain queries (window_is_small()): they were the faster way up to about 300,000 rows of the benchmark''s data (docs/contracts.md), the reads in parallel beyond.';

CREATE OR REPLACE FUNCTION nezuko_analytics.user_growth(since timestamptz, until timestamptz, middle timestamptz,
                                             unit text, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- distinct users by sorting: 1.6x faster here than a hash table of 500,000
-- users (docs/benchmarks.md); each half's sort in memory
SET enable_hashagg = off
SET work_mem = '64MB'
-- the reads are what parallel workers share, each read whole
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    bounds timestamptz[];
    buckets timestamptz[];
    reads text;
    result json;
BEGIN
    IF nezuko_analytics.window_is_small(bot, 'verification_log', since, until, nezuko_analytics.user_growth_small_scale()) THEN
        -- A small window (window_is_small()): one read for the buckets and
        -- one for the halves and the whole, each distinct count a sort of
        -- the user ids alone.
        reads := format($r$
        buckets AS (
            SELECT date_trunc($4, v."timestamp") AS bucket, count(DISTINCT v.user_id) AS n
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY 1),
        halves AS (
            SELECT count(DISTINCT v.user_id) AS total, count(DISTINCT v.user_id) FILTER (WHERE v."timestamp" < $3) AS first_half,
                   count(DISTINCT v.user_id) FILTER (WHERE v."timestamp" >= $3) AS second_half
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2)$r$, bot);
    ELSE
        -- One Parallel Append of reads that each see a whole bucket: the
        -- distinct users of each bucket, read between the bounds ($7, $8:
        -- user_growth_bounds()), and the distinct users of each half of the
        -- window, whose union gives the window's.  Distinct counts do not
        -- add up across buckets or halves.
        SELECT r.bounds, r.buckets INTO bounds, buckets FROM nezuko_analytics.user_growth_bounds(bot, since, until, unit) r;
        reads := format($r$
        parts AS MATERIALIZED (
            %2$s
            UNION ALL (
            SELECT DISTINCT 'first' AS part, NULL::timestamptz AS bucket, NULL::bigint AS n, v.user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" < $3)
            UNION ALL (
            SELECT DISTINCT 'second' AS part, NULL::timestamptz AS bucket, NULL::bigint AS n, v.user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" >= $3)),
        buckets AS (SELECT bucket, n FROM parts WHERE part = 'bucket'),
        halves AS (
            SELECT count(DISTINCT user_id) AS total, count(user_id) FILTER (WHERE part = 'first') AS first_half,
                   count(user_id) FILTER (WHERE part = 'second') AS second_half
            FROM parts WHERE part <> 'bucket')$r$,
            bot,
            (SELECT string_agg(CASE WHEN buckets[i] IS NULL
                                    THEN format($b$(
            SELECT 'bucket' AS part, date_trunc($4, v."timestamp") AS bucket, count(DISTINCT v.user_id) AS n, NULL::bigint AS user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $7[%2$s] AND v."timestamp" < $7[%3$s]
            GROUP BY 2)$b$, bot, i, i + 1)
                                    ELSE format($b$(
            SELECT 'bucket' AS part, $8[%2$s] AS bucket, count(DISTINCT v.user_id) AS n, NULL::bigint AS user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $7[%2$s] AND v."timestamp" < $7[%3$s]
            HAVING count(*) > 0)$b$, bot, i, i + 1) END,
                               E'\n            UNION ALL ' ORDER BY i)
             FROM generate_series(1, cardinality(bounds) - 1) i));
    END IF;
    -- the document, from the buckets and the halves either way
    EXECUTE format($q$
        WITH %s
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
        FROM halves h$q$, reads)
        INTO result USING since, until, middle, unit, period, granularity, bounds, buckets;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth(timestamptz, timestamptz, timestamptz, text, text, text) IS
  'The body of get_user_growth over [since, until) split at middle, buckets date_trunc(unit) in the session TimeZone; period and granularity are reported as given. The distinct users of each bucket by reads that each hold whole buckets (user_growth_bounds()), and of each half of the window, as one Parallel Append; a small window (window_is_small()) by one read for the buckets and one for the halves.';

CREATE OR REPLACE FUNCTION nezuko_analytics.window_summary_pass(since timestamptz, until timestamptz, tz text,
                                                     top_groups integer, recent_since timestamptz)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- a read by local day and latency in time slices (a long window) holds one
-- entry per pair (160,000 over 90 days): at the default 4MB it spills to
-- disk and takes twice as long
SET work_mem = '16MB'
-- the time slices and the days are what parallel workers share
-- (window_slices.sql, window_days.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    offsets constant bigint[] := nezuko_analytics.window_tz_offsets(since, until, tz);
    -- each row placed in its local hour (and day, in time slices) by the
    -- zone's offsets: see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(offsets);
    -- a small window (window_is_small()) is one slice, its rows placed in
    -- their local days by shift
    small constant boolean := nezuko_analytics.window_is_small(bot, 'verification_log', since, until);
    bounds constant timestamptz[] := CASE WHEN small THEN ARRAY[since, until]
                                          ELSE nezuko_analytics.window_slices(bot, 'verification_log', since, until) END;
    days record;
    day_bounds_param integer;
    days_param integer;
    day_branches integer;
BEGIN
    IF small THEN
        SELECT NULL::timestamptz[] AS bounds, NULL::timestamptz[] AS local_days INTO days;
    ELSE
        days := nezuko_analytics.window_days(bot, since, until, offsets);
    END IF;
    -- the reads by local day: day by day (bounds $7, days $8), or for a long
    -- or a small window (days NULL) in the time slices ($6)
    day_bounds_param := CASE WHEN days.local_days IS NULL THEN 6 ELSE 7 END;
    days_param := CASE WHEN days.local_days IS NOT NULL THEN 8 END;
    day_branches := coalesce(cardinality(days.local_days), cardinality(bounds) - 1);
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        -- four reads of the window: by local hour and by group in time
        -- slices ($6, see window_slices()), the slices added up; by local
        -- day and latency, and the cached ones by local day (day_read_sql())
        WITH rows_ AS MATERIALIZED (  -- by local hour only: FILTERs cost less than more grouping keys
            SELECT s.local_hour, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified,
                   sum(s.restricted)::bigint AS restricted, sum(s.error)::bigint AS error
            FROM (%1$s) s
            GROUP BY 1),
        recent_ AS MATERIALIZED (%4$s),
        latencies AS MATERIALIZED (%2$s),
        groups_ AS MATERIALIZED (  -- a NULL group_id counts as group 0, as in the native edition
            SELECT coalesce(s.group_id::bigint, 0) AS group_id, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified
            FROM (%5$s) s
            GROUP BY 1 ORDER BY n DESC, group_id LIMIT $3),
        cached_ AS MATERIALIZED (
            SELECT (c.local_day AT TIME ZONE 'UTC')::date AS day, sum(c.cached)::bigint AS cached FROM (%3$s) c GROUP BY 1),
        latency_days AS (SELECT (local_day AT TIME ZONE 'UTC')::date AS day, latency_ms, n FROM latencies),
        overall AS (SELECT latency_ms, sum(n)::bigint AS n FROM latencies GROUP BY latency_ms),
        dist AS (SELECT array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n FROM overall)
        SELECT jsonb_build_object(
            'total', coalesce((SELECT sum(n) FROM rows_), 0),
            'verified', coalesce((SELECT sum(verified) FROM rows_), 0),
            'restricted', coalesce((SELECT sum(restricted) FROM rows_), 0),
            'error', coalesce((SELECT sum(error) FROM rows_), 0),
            'cached', coalesce((SELECT sum(cached) FROM cached_), 0),
            'latency_count', coalesce((SELECT sum(n) FROM overall), 0),
            'latency_sum', coalesce((SELECT sum(latency_ms::bigint * n) FROM overall), 0),
            'min_latency', (SELECT min(latency_ms) FROM overall),
            'buckets', (SELECT jsonb_agg(jsonb_build_object('bucket', labels[i], 'lower_ms', CASE WHEN i = 1 THEN 0 ELSE $5[i - 1] END,
                                                            'upper_ms', $5[i], 'count', coalesce(b.n, 0)) ORDER BY i)
                        FROM nezuko_analytics.latency_bucket_labels($5) labels,
                             generate_series(1, cardinality($5) + 1) i
                             LEFT JOIN (SELECT width_bucket(latency_ms, $5) + 1 AS i, sum(n) AS n FROM overall GROUP BY 1) b USING (i)),
            'p50', (SELECT nezuko_analytics.percentile_of_counts(d.v, d.n, 0.5) FROM dist d),
            'p95', (SELECT nezuko_analytics.percentile_of_counts(d.v, d.n, 0.95) FROM dist d),
            'p99', (SELECT nezuko_analytics.percentile_of_counts(d.v, d.n, 0.99) FROM dist d),
            'hours', (SELECT jsonb_agg(jsonb_build_object('hour', h, 'verified', coalesce(x.verified, 0),
                                                          'restricted', coalesce(x.restricted, 0), 'error', coalesce(x.error, 0)) ORDER BY h)
                      FROM generate_series(0, 23) h
                      LEFT JOIN (SELECT date_part('hour', local_hour AT TIME ZONE 'UTC')::integer AS hour, sum(verified) AS verified,
                                        sum(restricted) AS restricted, sum(error) AS error
                                 FROM rows_ GROUP BY 1) x ON x.hour = h),
            'groups', coalesce((SELECT jsonb_agg(jsonb_build_object('group_id', t.group_id, 'count', t.n, 'verified', t.verified)
                                                 ORDER BY t.n DESC, t.group_id) FROM groups_ t), '[]'::jsonb),
            'days', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                         'date', to_char(d.day, 'YYYY-MM-DD'), 'count', d.n, 'verified', d.verified,
                                         'cached', coalesce(c.cached, 0),
                                         'latency_count', coalesce(l.latency_count, 0), 'latency_sum', coalesce(l.latency_sum, 0),
                                         'p95', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95)) ORDER BY d.day)
                              FROM (SELECT (local_hour AT TIME ZONE 'UTC')::date AS day, sum(n) AS n, sum(verified) AS verified
                                    FROM rows_ GROUP BY 1) d
                              LEFT JOIN cached_ c USING (day)
                              LEFT JOIN (SELECT day, sum(n) AS latency_count, sum(latency_ms::bigint * n) AS latency_sum,
                                                array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                                         FROM latency_days GROUP BY day) l USING (day)), '[]'::jsonb),
            'recent', (SELECT to_jsonb(r) FROM recent_ r))$q$,
        nezuko_analytics.slices_sql(format($s$
            SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour,
                   count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.status = 'restricted') AS restricted,
                   count(*) FILTER (WHERE v.status = 'error') AS error
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot, shift), 'v."timestamp"', 6, cardinality(bounds) - 1, true),
        nezuko_analytics.day_read_sql(bot, shift, 'v.latency_ms, count(*) AS n', 'AND v.latency_ms IS NOT NULL', 'v.latency_ms',
                                      day_bounds_param, days_param, day_branches),
        nezuko_analytics.day_read_sql(bot, shift, 'count(*) AS cached', 'AND v.cached', NULL,
                                      day_bounds_param, days_param, day_branches),
        nezuko_analytics.recent_totals_sql(bot, 4),
        nezuko_analytics.slices_sql(format($s$
            SELECT v.group_id, count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot), 'v."timestamp"', 6, cardinality(bounds) - 1, true))
        USING since, until, top_groups, recent_since, nezuko_analytics.default_latency_edges(), bounds,
              days.bounds, days.local_days;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary_pass(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The reads behind window_summary(), as one row (with min_latency, which window_summary() checks and drops).';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_window_summary_pass(bot name, since timestamptz, until timestamptz)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- the time slices are what parallel workers share (window_slices.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    -- a small window (window_is_small()) is one slice
    bounds constant timestamptz[] := CASE WHEN nezuko_analytics.window_is_small(bot, 'api_call_log', since, until)
                                          THEN ARRAY[since, until]
                                          ELSE nezuko_analytics.window_slices(bot, 'api_call_log', since, until) END;
BEGIN
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        -- one grouped read of the window by method, success and latency,
        -- slice by slice ($3, see window_slices()) and the slices added up:
        -- a few thousand groups, from which both figures below come
        WITH calls AS MATERIALIZED (
            SELECT s.method, s.success, s.latency_ms, sum(s.n)::bigint AS n FROM (%1$s) s GROUP BY 1, 2, 3),
        methods AS (
            SELECT c.method, sum(c.n)::bigint AS n, coalesce(sum(c.n) FILTER (WHERE c.success), 0)::bigint AS ok,
                   coalesce(sum(c.n) FILTER (WHERE NOT c.success), 0)::bigint AS failures,
                   coalesce(sum(c.n) FILTER (WHERE c.latency_ms IS NOT NULL), 0)::bigint AS latency_count,
                   sum(c.latency_ms::bigint * c.n)::bigint AS latency_sum
            FROM calls c GROUP BY 1),
        latencies AS (
            SELECT c.method, c.latency_ms, sum(c.n)::bigint AS n FROM calls c WHERE c.latency_ms IS NOT NULL GROUP BY 1, 2),
        overall AS (SELECT latency_ms, sum(n)::bigint AS n FROM latencies GROUP BY latency_ms)
        SELECT jsonb_build_object(
            'calls', coalesce((SELECT sum(n) FROM methods), 0),
            'ok', coalesce((SELECT sum(ok) FROM methods), 0),
            'failures', coalesce((SELECT sum(failures) FROM methods), 0),
            'latency_count', coalesce((SELECT sum(latency_count) FROM methods), 0),
            'latency_sum', coalesce((SELECT sum(latency_sum) FROM methods), 0),
            'p95', (SELECT nezuko_analytics.percentile_of_counts(array_agg(latency_ms ORDER BY latency_ms), array_agg(n ORDER BY latency_ms), 0.95)
                    FROM overall),
            'methods', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                            'method', m.method, 'calls', m.n, 'failures', m.failures, 'ok', m.ok,
                                            'latency_count', m.latency_count, 'latency_sum', coalesce(m.latency_sum, 0),
                                            'p50', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.5),
                                            'p95', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95))
                                        ORDER BY m.n DESC, m.method COLLATE "C")
                                 FROM methods m
                                 LEFT JOIN (SELECT method, array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                                            FROM latencies GROUP BY method) l USING (method)), '[]'::jsonb))$q$,
        nezuko_analytics.slices_sql(format($s$
            SELECT coalesce(a.method::text, '') AS method, a.success, a.latency_ms, count(*) AS n
            FROM %1$I.api_call_log a WHERE {slice}
            GROUP BY 1, 2, 3$s$, bot), 'a."timestamp"', 3, cardinality(bounds) - 1, false))
        USING since, until, bounds;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary_pass(name, timestamptz, timestamptz) IS
  'The reads behind api_window_summary(), as one row.';

CREATE OR REPLACE FUNCTION nezuko_analytics.day_summary_pass(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                                  with_latency boolean)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- a read by local day and latency in time slices (a long window) holds one
-- entry per pair (160,000 over 90 days): at the default 4MB it spills to
-- disk and takes twice as long
SET work_mem = '16MB'
-- the time slices and the days are what parallel workers share
-- (window_slices.sql, window_days.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    offsets constant bigint[] := nezuko_analytics.window_tz_offsets(since, until, tz);
    -- each row placed in its local day by the zone's offsets (in time
    -- slices, a long window, or a small one): see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(offsets);
    -- a day's totals, in either form of the read
    day_totals constant text := $s$count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.cached) AS cached,
                   count(v.latency_ms) AS latency_count, sum(v.latency_ms) AS latency_sum, min(v.latency_ms) AS min_latency$s$;
    bounds timestamptz[];
    day_bounds timestamptz[];
    local_days timestamptz[];
    day_bounds_param integer;
    days_param integer;
    branches integer;
    reads text;
BEGIN
    IF nezuko_analytics.window_is_small(bot, 'verification_log', since, until) THEN
        -- A small window (window_is_small()): one read grouped by local
        -- day, each day's p95 by percentile_cont over its rows; on few rows
        -- a sort costs less than counting each latency value.
        reads := format($r$
        days_p95 AS (
            SELECT date_bin('1 day', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_day, %3$s, %4$s AS p95
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" > '-infinity' AND v."timestamp" < 'infinity'
            GROUP BY 1)$r$,
            bot, shift, day_totals,
            CASE WHEN with_latency THEN 'percentile_cont(0.95) WITHIN GROUP (ORDER BY v.latency_ms)' ELSE 'NULL::float8' END);
    ELSE
        -- One read by local day, and one by local day and latency only when
        -- the latencies are asked for; each one day by day ($6 and $7, see
        -- window_days()) or, for a long window, slice by slice ($5, see
        -- window_slices()), and the parts added up.
        SELECT w.bounds, w.local_days INTO day_bounds, local_days FROM nezuko_analytics.window_days(bot, since, until, offsets) w;
        IF local_days IS NULL THEN
            bounds := nezuko_analytics.window_slices(bot, 'verification_log', since, until);
        END IF;
        day_bounds_param := CASE WHEN bounds IS NULL THEN 6 ELSE 5 END;
        days_param := CASE WHEN bounds IS NULL THEN 7 END;
        branches := coalesce(cardinality(local_days), cardinality(bounds) - 1);
        reads := format($r$
        days_ AS MATERIALIZED (
            SELECT s.local_day, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified, sum(s.cached)::bigint AS cached,
                   sum(s.latency_count)::bigint AS latency_count, sum(s.latency_sum)::bigint AS latency_sum,
                   min(s.min_latency) AS min_latency
            FROM (%1$s) s
            GROUP BY 1),
        latencies AS MATERIALIZED (SELECT l.* FROM (%2$s) l WHERE $4),  -- nothing is read when $4 is false
        days_p95 AS (
            SELECT d.*, nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95) AS p95
            FROM days_ d
            LEFT JOIN (SELECT local_day, array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                       FROM latencies GROUP BY local_day) l USING (local_day))$r$,
            nezuko_analytics.day_read_sql(bot, shift, day_totals, NULL, NULL, day_bounds_param, days_param, branches),
            nezuko_analytics.day_read_sql(bot, shift, 'v.latency_ms, count(*) AS n', 'AND v.latency_ms IS NOT NULL', 'v.latency_ms',
                                          day_bounds_param, days_param, branches));
    END IF;
    -- the document, from the days (with their p95) either way
    RETURN QUERY EXECUTE format($q$
        WITH recent_ AS MATERIALIZED (%1$s),
        %2$s
        SELECT jsonb_build_object(
            'days', coalesce(jsonb_agg(jsonb_build_object(
                                 'date', to_char((d.local_day AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'count', d.n,
                                 'verified', d.verified, 'cached', d.cached, 'latency_count', d.latency_count,
                                 'latency_sum', coalesce(d.latency_sum, 0), 'p95', d.p95) ORDER BY d.local_day), '[]'::jsonb),
            'latency_count', coalesce(sum(d.latency_count), 0),
            'latency_sum', coalesce(sum(d.latency_sum), 0),
            'min_latency', min(d.min_latency),
            'recent', (SELECT to_jsonb(r) FROM recent_ r))
        FROM days_p95 d$q$,
        nezuko_analytics.recent_totals_sql(bot, 3), reads)
        USING since, until, recent_since, with_latency, bounds, day_bounds, local_days;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.day_summary_pass(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'The reads behind day_summary(), as one row (with min_latency, which day_summary() checks and drops): a small window (window_is_small()) by one read grouped by local day, p95 by percentile_cont; a longer one by day (or time slice) with the latencies counted per value.';

CREATE OR REPLACE FUNCTION nezuko_analytics.day_summary(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
                                             with_latency boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT p INTO v FROM nezuko_analytics.day_summary_pass(since, until, tz, recent_since, coalesce(with_latency, true)) p;
    IF (v->>'min_latency')::integer < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', v->>'min_latency' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v - 'min_latency';
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.day_summary(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'Engine of the trend contracts: of window_summary(), what they read by name: days (date, count, verified, cached, latency_count, latency_sum, p95; p95 only with_latency), the window''s latency_count and latency_sum, and recent (totals at or after recent_since); one read by local day, and one by day and latency only with_latency (a small window, window_is_small(): one read).';
