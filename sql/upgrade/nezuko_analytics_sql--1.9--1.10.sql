-- nezuko_analytics_sql (the portable edition) 1.9 -> 1.10, written by hand
-- (docs/versions.md).  The reads by local day take one branch per local day
-- of the window, the day a constant (window_days(), day_read_sql(), which
-- replaces day_latencies_sql()); the read by local hour leaves the cached
-- rows to a read by day of the (timestamp, cached) index, so that it reads
-- the (timestamp, status) index alone; the top groups are grouped by the
-- bare group_id; get_user_growth reads each bucket and each half of the
-- window in parallel, by reads that hold it whole (user_growth_bounds(), in
-- both editions); the probe of a window's first and last row has one source
-- (window_rows_span()) (docs/portable.md, docs/benchmarks.md).

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.10'::text $$;

CREATE FUNCTION nezuko_analytics.window_rows_span(bot name, log_table text, since timestamptz, until timestamptz,
                                                  OUT first_row timestamptz, OUT last_row timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- two probes of the time index; a row stamped -infinity or infinity is
    -- in no span (range conditions, which the planner estimates)
    EXECUTE format($q$SELECT min(t."timestamp"), max(t."timestamp") FROM %I.%I t
                      WHERE t."timestamp" >= $1 AND t."timestamp" < $2
                        AND t."timestamp" > '-infinity' AND t."timestamp" < 'infinity'$q$, bot, log_table)
        INTO first_row, last_row USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_rows_span(name, text, timestamptz, timestamptz) IS
  'The first and the last finite time of bot.log_table''s rows in [since, until), NULL when there are none: two probes of the time index. What the reads of a window size their offsets, slices, days and buckets by.';

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
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
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

CREATE OR REPLACE FUNCTION nezuko_analytics.slices_sql(slice_sql text, time_column text, bounds_param integer, slices integer,
                                            finite_only boolean)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- slice_sql holds {slice} where its WHERE clause takes the slice's range,
    -- and may hold {i}, the slice's number (to take the slice's own entry of
    -- an array parameter); finite_only leaves out the rows stamped -infinity
    -- and infinity, with range conditions the planner estimates (isfinite()
    -- it takes for a third of the rows)
    SELECT string_agg('(' || replace(replace(slice_sql, '{slice}',
                                             format('%1$s >= $%2$s[%3$s] AND %1$s < $%2$s[%4$s]', time_column, bounds_param, i, i + 1)
                                             || CASE WHEN finite_only THEN format(' AND %1$s > ''-infinity'' AND %1$s < ''infinity''', time_column)
                                                     ELSE '' END),
                                     '{i}', i::text)
                      || ')', E'\n        UNION ALL ' ORDER BY i)
    FROM generate_series(1, greatest(slices, 1)) i
$$;
COMMENT ON FUNCTION nezuko_analytics.slices_sql(text, text, integer, integer, boolean) IS
  'slice_sql once per slice, joined by UNION ALL: its {slice} replaced by the range of slice i on time_column, [$bounds_param[i], $bounds_param[i + 1]) (bounds from window_slices() or window_days()), and with finite_only by time_column > ''-infinity'' AND time_column < ''infinity''; its {i} by i.';

CREATE OR REPLACE FUNCTION nezuko_analytics.window_slices(bot name, log_table text, since timestamptz, until timestamptz)
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
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, log_table, since, until) s;
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

CREATE FUNCTION nezuko_analytics.window_day_limit()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 120 $$;
COMMENT ON FUNCTION nezuko_analytics.window_day_limit() IS
  'The most local days (window_days()) the portable reads by day take one branch each for: the contracts'' longest period, 90 days, with room for changes of offset; a window whose rows span more is read in time slices (window_slices()).';

CREATE FUNCTION nezuko_analytics.window_days(bot name, since timestamptz, until timestamptz, offsets bigint[],
                                             OUT bounds timestamptz[], OUT local_days timestamptz[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    epoch constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    n constant integer := coalesce(cardinality(offsets), 0) / 2;
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        -- no rows: one day that reads nothing
        bounds := ARRAY[since, until];
        local_days := ARRAY[NULL::timestamptz];
        RETURN;
    END IF;
    IF n = 0 OR last_row - first_row > make_interval(days => nezuko_analytics.window_day_limit()) THEN
        RETURN;  -- no offsets to place rows by, or too many days: NULL, read in time slices
    END IF;
    -- Segment i of the offsets runs from its start (the first from -infinity)
    -- to the next start (the last to infinity), with one offset: a row's
    -- local day is date_bin('1 day', its time + that offset), as
    -- local_shift_sql() places it.  The cuts are the segments' starts and
    -- the local midnights of each segment, both only inside the rows' span
    -- (first_row, last_row]; between two cuts every row has the same local
    -- day.  With since first and until last, the days [bounds[i],
    -- bounds[i + 1]) cover the window once, whatever the rows are.  All
    -- steps are absolute (24 hours, date_bin), never calendar days.
    WITH seg AS (
        SELECT i, CASE WHEN i = 1 THEN first_row
                       ELSE greatest(epoch + (offsets[2 * i - 1]::text || ' microseconds')::interval, first_row) END AS lo,
               least(epoch + (offsets[2 * i + 1]::text || ' microseconds')::interval, last_row) AS hi,  -- NULL start past the last: last_row
               (offsets[2 * i]::text || ' microseconds')::interval AS shift
        FROM generate_series(1, n) i),
    cuts AS (
        SELECT s.lo AS cut FROM seg s WHERE s.i > 1 AND s.lo > first_row AND s.lo <= s.hi
        UNION
        SELECT d - s.shift
        FROM seg s, generate_series(date_bin('1 day', s.lo + s.shift, epoch) + interval '24 hours', s.hi + s.shift,
                                    interval '24 hours') d
        WHERE s.lo <= s.hi)
    SELECT ARRAY[since] || coalesce(array_agg(c.cut ORDER BY c.cut), '{}') || ARRAY[until] INTO bounds FROM cuts c;
    -- each day's label: the local day of its first instant that can hold a row
    SELECT array_agg((SELECT date_bin('1 day', x.at + (offsets[2 * s.i]::text || ' microseconds')::interval, epoch)
                      FROM generate_series(1, n) s(i)
                      WHERE s.i = 1 OR epoch + (offsets[2 * s.i - 1]::text || ' microseconds')::interval <= x.at
                      ORDER BY s.i DESC LIMIT 1) ORDER BY x.j)
    INTO local_days
    FROM (SELECT j, greatest(bounds[j], first_row) AS at FROM generate_series(1, cardinality(bounds) - 1) j) x;
    IF cardinality(local_days) > nezuko_analytics.window_day_limit() THEN
        bounds := NULL;
        local_days := NULL;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_days(name, timestamptz, timestamptz, bigint[]) IS
  'The local days of the window [since, until) of the bot''s verification_log, with offsets from window_tz_offsets(): bounds b (since, cuts, until) such that every row in [b[i], b[i + 1]) has local day local_days[i] (date_bin(''1 day'', time + offset), as local_shift_sql() places it; a day split by a change of offset comes twice); {since, until} and {NULL} when the window has no rows; NULL when its rows span more than window_day_limit() days.';

DROP FUNCTION nezuko_analytics.day_latencies_sql(name, text, integer, integer);

CREATE FUNCTION nezuko_analytics.day_read_sql(bot name, shift text, select_list text, where_extra text, group_key text,
                                              bounds_param integer, days_param integer, branches integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- A read of verification_log by local day: (local_day, select_list) of
    -- the finite rows, with where_extra, by group_key within the day (none:
    -- the day's totals).  With days_param, one branch per local day
    -- (window_days(): bounds $bounds_param, days $days_param), the day a
    -- constant and no grouping by it; without, one branch per time slice
    -- (window_slices(): bounds $bounds_param), each row placed by shift
    -- (local_shift_sql()).  Either way a day may come in more than one row
    -- (a change of offset, a day across two slices): the readers add up.
    SELECT nezuko_analytics.slices_sql(
        format('SELECT %s AS local_day, %s FROM %I.verification_log v WHERE {slice}%s%s',
               CASE WHEN days_param IS NULL
                    THEN format('date_bin(''1 day'', %s, timestamptz ''2000-01-01 00:00:00+00'')', shift)
                    ELSE format('$%s[{i}]', days_param) END,
               select_list, bot, coalesce(' ' || where_extra, ''),
               CASE WHEN days_param IS NULL THEN ' GROUP BY 1' || coalesce(', ' || group_key, '')
                    WHEN group_key IS NULL THEN ' HAVING count(*) > 0'  -- a day without rows is no row
                    ELSE ' GROUP BY ' || group_key END),
        'v."timestamp"', bounds_param, branches, true)
$$;
COMMENT ON FUNCTION nezuko_analytics.day_read_sql(name, text, text, text, text, integer, integer, integer) IS
  'SQL of a portable read of verification_log (aliased v) by local day: rows (local_day, select_list) over the finite rows in each branch with where_extra, grouped by group_key within a day (NULL: one row per day with rows); one branch per local day when days_param is given (bounds and days from window_days()), else per time slice (window_slices()), the day from shift (local_shift_sql()). A day may come in several rows.';

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
    bounds constant timestamptz[] := nezuko_analytics.window_slices(bot, 'verification_log', since, until);
    days constant record := nezuko_analytics.window_days(bot, since, until, offsets);
    -- the reads by local day: day by day (bounds $7, days $8), or for a long
    -- window (days NULL) in the time slices ($6)
    day_bounds_param constant integer := CASE WHEN days.local_days IS NULL THEN 6 ELSE 7 END;
    days_param constant integer := CASE WHEN days.local_days IS NOT NULL THEN 8 END;
    day_branches constant integer := coalesce(cardinality(days.local_days), cardinality(bounds) - 1);
BEGIN
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
    -- slices, a long window): see local_shift_sql()
    shift constant text := nezuko_analytics.local_shift_sql(offsets);
    days constant record := nezuko_analytics.window_days(bot, since, until, offsets);
    -- a long window is read in time slices (window_slices())
    bounds constant timestamptz[] := CASE WHEN days.local_days IS NULL
                                          THEN nezuko_analytics.window_slices(bot, 'verification_log', since, until) END;
    -- day by day (bounds $6, days $7), or in the time slices ($5)
    day_bounds_param constant integer := CASE WHEN bounds IS NULL THEN 6 ELSE 5 END;
    days_param constant integer := CASE WHEN bounds IS NULL THEN 7 END;
    branches constant integer := coalesce(cardinality(days.local_days), cardinality(bounds) - 1);
BEGIN
    -- one read by local day, and one by local day and latency only when the
    -- latencies are asked for; each one day by day ($6 and $7, see
    -- window_days()) or, for a long window, slice by slice ($5, see
    -- window_slices()), and the parts added up
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
        nezuko_analytics.day_read_sql(bot, shift,
                                      $s$count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.cached) AS cached,
                   count(v.latency_ms) AS latency_count, sum(v.latency_ms) AS latency_sum, min(v.latency_ms) AS min_latency$s$,
                                      NULL, NULL, day_bounds_param, days_param, branches),
        nezuko_analytics.day_read_sql(bot, shift, 'v.latency_ms, count(*) AS n', 'AND v.latency_ms IS NOT NULL', 'v.latency_ms',
                                      day_bounds_param, days_param, branches),
        nezuko_analytics.recent_totals_sql(bot, 3))
        USING since, until, recent_since, with_latency, bounds, days.bounds, days.local_days;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.day_summary_pass(timestamptz, timestamptz, text, timestamptz, boolean) IS
  'The reads behind day_summary(), as one row (with min_latency, which day_summary() checks and drops).';

CREATE FUNCTION nezuko_analytics.user_growth_branches()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 100 $$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_branches() IS
  'The most reads get_user_growth splits its buckets into (user_growth_bounds()): one a day for the contracts'' 90 days.';

CREATE FUNCTION nezuko_analytics.user_growth_bounds(bot name, since timestamptz, until timestamptz, unit text,
                                                    OUT bounds timestamptz[], OUT buckets timestamptz[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_row timestamptz;
    last_row timestamptz;
    cuts timestamptz[];
    step integer;
BEGIN
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    -- The starts of date_trunc(unit) buckets inside the rows' span, in the
    -- session's TimeZone as date_trunc() takes them (the step is a calendar
    -- day there).  A start is kept only where the zone's offset is the same
    -- 26 hours either side: no change of offset near it can give a row on
    -- one side the bucket of the other, so a bucket never has rows in two
    -- reads.  Where a start is left out, its buckets are read together.
    SELECT array_agg(c ORDER BY c) INTO cuts
    FROM generate_series(date_trunc(unit, first_row), last_row,
                         CASE unit WHEN 'week' THEN interval '7 days' ELSE interval '1 day' END) c
    WHERE c > first_row AND date_trunc(unit, c) = c
      AND extract(timezone FROM c - interval '26 hours') = extract(timezone FROM c)
      AND extract(timezone FROM c + interval '26 hours') = extract(timezone FROM c);
    -- at most user_growth_branches() reads: a long window's buckets go
    -- several to a read
    step := greatest(1, ceil(coalesce(cardinality(cuts), 0)::numeric / nezuko_analytics.user_growth_branches())::integer);
    bounds := ARRAY[since]
        || ARRAY(SELECT cuts[i] FROM generate_series(step, coalesce(cardinality(cuts), 0), step) i ORDER BY i)
        || ARRAY[until];
    -- a read between two kept starts that are one bucket apart holds that
    -- bucket alone; the others (the first, the last, several buckets) are
    -- NULL: each of their rows takes its own date_trunc()
    buckets := ARRAY(SELECT CASE WHEN i > 1 AND i < cardinality(bounds) - 1
                                      AND date_trunc(unit, bounds[i + 1] - interval '1 microsecond') = bounds[i]
                                 THEN bounds[i] END
                     FROM generate_series(1, cardinality(bounds) - 1) i ORDER BY i);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_bounds(name, timestamptz, timestamptz, text) IS
  'The reads of get_user_growth over [since, until) of the bot''s verification_log: bounds b (since, starts of date_trunc(unit) buckets in the session TimeZone inside the span of the window''s rows where the offset holds 26 hours either side, at most user_growth_branches() - 1 of them, until), so that no bucket has rows in two reads [b[i], b[i + 1]); buckets[i] the one bucket of read i, or NULL when its rows take their own.';

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
    reads constant record := nezuko_analytics.user_growth_bounds(bot, since, until, unit);
    result json;
BEGIN
    -- One Parallel Append of reads that each see a whole bucket: the
    -- distinct users of each bucket, read between the bounds ($7, $8:
    -- user_growth_bounds()), and the distinct users of each half of the
    -- window, whose union gives the window's.  Distinct counts do not add
    -- up across buckets or halves.
    EXECUTE format($q$
        WITH parts AS MATERIALIZED (
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
            FROM parts WHERE part <> 'bucket')
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
        FROM halves h$q$,
        bot,
        (SELECT string_agg(CASE WHEN reads.buckets[i] IS NULL
                                THEN format($b$(
            SELECT 'bucket' AS part, date_trunc($4, v."timestamp") AS bucket, count(DISTINCT v.user_id) AS n, NULL::bigint AS user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $7[%2$s] AND v."timestamp" < $7[%3$s]
            GROUP BY 2)$b$, bot, i, i + 1)
                                ELSE format($b$(
            SELECT 'bucket' AS part, $8[%2$s] AS bucket, count(DISTINCT v.user_id) AS n, NULL::bigint AS user_id
            FROM %1$I.verification_log v WHERE v."timestamp" >= $7[%2$s] AND v."timestamp" < $7[%3$s]
            HAVING count(*) > 0)$b$, bot, i, i + 1) END,
                           E'\n            UNION ALL ' ORDER BY i)
         FROM generate_series(1, cardinality(reads.bounds) - 1) i))
        INTO result USING since, until, middle, unit, period, granularity, reads.bounds, reads.buckets;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.user_growth(timestamptz, timestamptz, timestamptz, text, text, text) IS
  'The body of get_user_growth over [since, until) split at middle, buckets date_trunc(unit) in the session TimeZone; period and granularity are reported as given. The distinct users of each bucket by reads that each hold whole buckets (user_growth_bounds()), and of each half of the window, as one Parallel Append.';
