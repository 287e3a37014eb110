-- nezuko_analytics_sql (the portable edition) 1.8 -> 1.9, written by hand
-- (docs/versions.md).  The summaries read a window slice by slice
-- (window_slices(), slices_sql(), day_latencies_sql()), so that parallel
-- workers share the slices, and the API summary reads the window once, by
-- method, success and latency (docs/portable.md, docs/benchmarks.md).

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.9'::text $$;

CREATE FUNCTION nezuko_analytics.window_slice_count()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 6 $$;
COMMENT ON FUNCTION nezuko_analytics.window_slice_count() IS
  'How many time slices the portable summaries read a window in (window_slices()): two for each of the three processes of a Gather with the default max_parallel_workers_per_gather = 2, so that a slow slice is made up for.';

CREATE FUNCTION nezuko_analytics.window_slices(bot name, log_table text, since timestamptz, until timestamptz)
RETURNS timestamptz[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k constant integer := nezuko_analytics.window_slice_count();
    first_row timestamptz;
    last_row timestamptz;
    span float8;
BEGIN
    -- the first and the last finite row of the window: two probes of the time index
    EXECUTE format($q$SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t
                      WHERE t."timestamp" >= $1 AND t."timestamp" < $2
                        AND t."timestamp" > '-infinity' AND t."timestamp" < 'infinity'$q$, bot, log_table)
        INTO first_row, last_row USING since, until;
    IF first_row IS NULL OR first_row = last_row THEN
        RETURN ARRAY[since, until];
    END IF;
    -- the bounds never decrease, start at since and end at until: the slices
    -- [b[i], b[i + 1]) cover the window once, whatever the rows are.  The cuts
    -- are absolute seconds (make_interval(secs)), never calendar days.
    span := extract(epoch FROM last_row - first_row)::float8;
    RETURN ARRAY[since]
        || ARRAY(SELECT greatest(since, least(until, first_row + make_interval(secs => span * i / k)))
                 FROM generate_series(1, k - 1) i ORDER BY i)
        || ARRAY[until];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_slices(name, text, timestamptz, timestamptz) IS
  'Bounds b of the time slices [b[i], b[i + 1]) that cover [since, until) of bot.log_table once: since, window_slice_count() - 1 cuts evenly spread between the window''s first and last finite row, until; {since, until} when the window holds fewer than two distinct finite times.';

CREATE FUNCTION nezuko_analytics.slices_sql(slice_sql text, time_column text, bounds_param integer, slices integer,
                                            finite_only boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- slice_sql holds {slice} where its WHERE clause takes the slice's range;
    -- finite_only leaves out the rows stamped -infinity and infinity, with
    -- range conditions the planner estimates (isfinite() it takes for a
    -- third of the rows)
    SELECT string_agg('(' || replace(slice_sql, '{slice}',
                                     format('%1$s >= $%2$s[%3$s] AND %1$s < $%2$s[%4$s]', time_column, bounds_param, i, i + 1)
                                     || CASE WHEN finite_only THEN format(' AND %1$s > ''-infinity'' AND %1$s < ''infinity''', time_column)
                                             ELSE '' END)
                      || ')', E'\n        UNION ALL ' ORDER BY i)
    FROM generate_series(1, greatest(slices, 1)) i
$$;
COMMENT ON FUNCTION nezuko_analytics.slices_sql(text, text, integer, integer, boolean) IS
  'slice_sql once per slice, joined by UNION ALL: its {slice} replaced by the range of slice i on time_column, [$bounds_param[i], $bounds_param[i + 1]) (bounds from window_slices()), and with finite_only by time_column > ''-infinity'' AND time_column < ''infinity''.';

CREATE FUNCTION nezuko_analytics.day_latencies_sql(bot name, shift text, bounds_param integer, slices integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- by local day (shift: local_shift_sql()) and latency, slice by slice
    -- (slices_sql()) and the slices added up: one row per pair, about
    -- 160,000 over 90 days
    SELECT format('SELECT s.local_day, s.latency_ms, sum(s.n)::bigint AS n FROM (%s) s GROUP BY 1, 2',
                  nezuko_analytics.slices_sql(format($s$
            SELECT date_bin('1 day', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_day, v.latency_ms, count(*) AS n
            FROM %1$I.verification_log v
            WHERE {slice} AND v.latency_ms IS NOT NULL
            GROUP BY 1, 2$s$, bot, shift), 'v."timestamp"', bounds_param, slices, true))
$$;
COMMENT ON FUNCTION nezuko_analytics.day_latencies_sql(name, text, integer, integer) IS
  'SQL of the portable summaries'' read of verification_log by local day and latency (local_day, latency_ms, n) over the finite rows of the window''s time slices ($bounds_param, window_slices()); shift places a row in its local day (local_shift_sql()).';

CREATE OR REPLACE FUNCTION nezuko_analytics.window_summary_pass(since timestamptz, until timestamptz, tz text,
                                                     top_groups integer, recent_since timestamptz)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- the read by local day and latency holds one entry per pair (160,000 over
-- 90 days): at the default 4MB it spills to disk and takes twice as long
SET work_mem = '16MB'
-- the time slices are what parallel workers share (window_slices.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    -- each row placed in its local hour and day by the zone's offsets: see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(nezuko_analytics.window_tz_offsets(since, until, tz));
    bounds constant timestamptz[] := nezuko_analytics.window_slices(bot, 'verification_log', since, until);
BEGIN
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        -- three grouped reads of the window, each one slice by slice ($6, see
        -- window_slices()) and the slices added up
        WITH rows_ AS MATERIALIZED (  -- by local hour only: FILTERs cost less than more grouping keys
            SELECT s.local_hour, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified,
                   sum(s.restricted)::bigint AS restricted, sum(s.error)::bigint AS error, sum(s.cached)::bigint AS cached
            FROM (%1$s) s
            GROUP BY 1),
        recent_ AS MATERIALIZED (%4$s),
        latencies AS MATERIALIZED (%2$s),
        groups_ AS MATERIALIZED (
            SELECT s.group_id, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified
            FROM (%3$s) s
            GROUP BY 1 ORDER BY n DESC, group_id LIMIT $3),
        latency_days AS (SELECT (local_day AT TIME ZONE 'UTC')::date AS day, latency_ms, n FROM latencies),
        overall AS (SELECT latency_ms, sum(n)::bigint AS n FROM latencies GROUP BY latency_ms),
        dist AS (SELECT array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n FROM overall)
        SELECT jsonb_build_object(
            'total', coalesce((SELECT sum(n) FROM rows_), 0),
            'verified', coalesce((SELECT sum(verified) FROM rows_), 0),
            'restricted', coalesce((SELECT sum(restricted) FROM rows_), 0),
            'error', coalesce((SELECT sum(error) FROM rows_), 0),
            'cached', coalesce((SELECT sum(cached) FROM rows_), 0),
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
                                         'date', to_char(d.day, 'YYYY-MM-DD'), 'count', d.n, 'verified', d.verified, 'cached', d.cached,
                                         'latency_count', coalesce(l.latency_count, 0), 'latency_sum', coalesce(l.latency_sum, 0),
                                         'p95', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95)) ORDER BY d.day)
                              FROM (SELECT (local_hour AT TIME ZONE 'UTC')::date AS day, sum(n) AS n, sum(verified) AS verified,
                                           sum(cached) AS cached
                                    FROM rows_ GROUP BY 1) d
                              LEFT JOIN (SELECT day, sum(n) AS latency_count, sum(latency_ms::bigint * n) AS latency_sum,
                                                array_agg(latency_ms ORDER BY latency_ms) AS v, array_agg(n ORDER BY latency_ms) AS n
                                         FROM latency_days GROUP BY day) l USING (day)), '[]'::jsonb),
            'recent', (SELECT to_jsonb(r) FROM recent_ r))$q$,
        nezuko_analytics.slices_sql(format($s$
            SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour,
                   count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.status = 'restricted') AS restricted,
                   count(*) FILTER (WHERE v.status = 'error') AS error, count(*) FILTER (WHERE v.cached) AS cached
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot, shift), 'v."timestamp"', 6, cardinality(bounds) - 1, true),
        nezuko_analytics.day_latencies_sql(bot, shift, 6, cardinality(bounds) - 1),
        nezuko_analytics.slices_sql(format($s$
            SELECT coalesce(v.group_id::bigint, 0) AS group_id, count(*) AS n,
                   count(*) FILTER (WHERE v.status = 'verified') AS verified
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot), 'v."timestamp"', 6, cardinality(bounds) - 1, true),
        nezuko_analytics.recent_totals_sql(bot, 4))
        USING since, until, top_groups, recent_since, nezuko_analytics.default_latency_edges(), bounds;
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
    bounds constant timestamptz[] := nezuko_analytics.window_slices(bot, 'api_call_log', since, until);
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
-- the read by local day and latency holds one entry per pair (160,000 over
-- 90 days): at the default 4MB it spills to disk and takes twice as long
SET work_mem = '16MB'
-- the time slices are what parallel workers share (window_slices.sql)
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    bot constant name := nezuko_analytics.bot_schema();
    -- each row placed in its local day by the zone's offsets: see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(nezuko_analytics.window_tz_offsets(since, until, tz));
    bounds constant timestamptz[] := nezuko_analytics.window_slices(bot, 'verification_log', since, until);
BEGIN
    -- one read by local day, and one by local day and latency only when the
    -- latencies are asked for; each one slice by slice ($5, see
    -- window_slices()) and the slices added up
    RETURN QUERY EXECUTE format($q$
        WITH days_ AS MATERIALIZED (
            SELECT s.local_day, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified, sum(s.cached)::bigint AS cached,
                   sum(s.latency_count)::bigint AS latency_count, sum(s.latency_sum)::bigint AS latency_sum,
                   min(s.min_latency) AS min_latency
            FROM (%1$s) s
            GROUP BY 1),
        recent_ AS MATERIALIZED (%3$s),
        latencies AS MATERIALIZED (SELECT l.* FROM (%2$s) l WHERE $4)  -- nothing is read when $4 is false
        SELECT jsonb_build_object(
            'days', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                         'date', to_char((d.local_day AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD'), 'count', d.n,
                                         'verified', d.verified, 'cached', d.cached, 'latency_count', d.latency_count,
                                         'latency_sum', coalesce(d.latency_sum, 0),
                                         'p95', nezuko_analytics.percentile_of_counts(l.v, l.n, 0.95)) ORDER BY d.local_day)
                              FROM days_ d
                              LEFT JOIN (SELECT local_day, array_agg(latency_ms ORDER BY latency_ms) AS v,
                                                array_agg(n ORDER BY latency_ms) AS n
                                         FROM latencies GROUP BY local_day) l USING (local_day)), '[]'::jsonb),
            'latency_count', coalesce((SELECT sum(latency_count) FROM days_), 0),
            'latency_sum', coalesce((SELECT sum(latency_sum) FROM days_), 0),
            'min_latency', (SELECT min(min_latency) FROM days_),
            'recent', (SELECT to_jsonb(r) FROM recent_ r))$q$,
        nezuko_analytics.slices_sql(format($s$
            SELECT date_bin('1 day', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_day,
                   count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.cached) AS cached,
                   count(v.latency_ms) AS latency_count, sum(v.latency_ms) AS latency_sum, min(v.latency_ms) AS min_latency
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot, shift), 'v."timestamp"', 5, cardinality(bounds) - 1, true),
        nezuko_analytics.day_latencies_sql(bot, shift, 5, cardinality(bounds) - 1),
        nezuko_analytics.recent_totals_sql(bot, 3))
        USING since, until, recent_since, with_latency, bounds;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.day_summary_pass(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'The reads behind day_summary(), as one row (with min_latency, which day_summary() checks and drops).';

