-- nezuko_analytics_sql (the portable edition) 1.13 -> 1.14, written by hand
-- (docs/versions.md).  The summaries read a long window's local hours hour
-- by hour: each local hour a range of the time index, counted with no
-- grouping (window_hour_counts(), one call per run of hours, which parallel
-- workers share), instead of each row computing its local hour for a hash
-- table.  The hours are cut as the days are: window_days() is now
-- window_local_bins() with a width of 1 day.  get_members_chart_data() and
-- members_chart() lose their SET clauses, so that the planner inlines them
-- (their bodies name every function by schema).  The reads by hour take
-- their status list from one function (status_counts_sql()).

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.14'::text $$;

CREATE FUNCTION nezuko_analytics.window_local_bins(bot name, since timestamptz, until timestamptz, offsets bigint[], width interval,
                                                   OUT bounds timestamptz[], OUT labels timestamptz[])
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    epoch constant timestamptz := timestamptz '2000-01-01 00:00:00+00';
    n constant integer := coalesce(cardinality(offsets), 0) / 2;
    step interval;
    most integer;
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    IF width IS NULL OR width NOT IN (interval '1 hour', interval '1 day') THEN
        RAISE EXCEPTION 'window_local_bins: width must be 1 hour or 1 day, not %', width USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- width as an absolute step (24 hours, not a calendar day, in any
    -- session zone), and the most bins: window_day_limit() days' worth
    step := make_interval(secs => extract(epoch FROM width));
    most := nezuko_analytics.window_day_limit() * (86400 / extract(epoch FROM width))::integer;
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        -- no rows: one bin that reads nothing
        bounds := ARRAY[since, until];
        labels := ARRAY[NULL::timestamptz];
        RETURN;
    END IF;
    IF n = 0 OR last_row - first_row > make_interval(days => nezuko_analytics.window_day_limit()) THEN
        RETURN;  -- no offsets to place rows by, or too many days: NULL, read in time slices
    END IF;
    -- Segment i of the offsets runs from its start (the first from -infinity)
    -- to the next start (the last to infinity), with one offset: a row's
    -- local day (hour) is date_bin(width, its time + that offset), as
    -- local_shift_sql() places it.  The cuts are the segments' starts and
    -- the local midnights (hours) of each segment, both only inside the
    -- rows' span (first_row, last_row]; between two cuts every row has the
    -- same local day (hour).  With since first and until last, the bins
    -- [bounds[i], bounds[i + 1]) cover the window once, whatever the rows
    -- are.  All steps are absolute (step, date_bin), never calendar days.
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
        FROM seg s, generate_series(date_bin(step, s.lo + s.shift, epoch) + step, s.hi + s.shift, step) d
        WHERE s.lo <= s.hi)
    SELECT ARRAY[since] || coalesce(array_agg(c.cut ORDER BY c.cut), '{}') || ARRAY[until] INTO bounds FROM cuts c;
    -- each bin's label: the local day (hour) of its first instant that can
    -- hold a row
    SELECT array_agg((SELECT date_bin(step, x.at + (offsets[2 * s.i]::text || ' microseconds')::interval, epoch)
                      FROM generate_series(1, n) s(i)
                      WHERE s.i = 1 OR epoch + (offsets[2 * s.i - 1]::text || ' microseconds')::interval <= x.at
                      ORDER BY s.i DESC LIMIT 1) ORDER BY x.j)
    INTO labels
    FROM (SELECT j, greatest(bounds[j], first_row) AS at FROM generate_series(1, cardinality(bounds) - 1) j) x;
    IF cardinality(labels) > most THEN
        bounds := NULL;
        labels := NULL;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_local_bins(name, timestamptz, timestamptz, bigint[], interval) IS
  'The local days or hours (width 1 day or 1 hour) of the window [since, until) of the bot''s verification_log, with offsets from window_tz_offsets(): bounds b (since, cuts, until) such that every row in [b[i], b[i + 1]) has local day or hour labels[i] (date_bin(width, time + offset), as local_shift_sql() places it; one split by a change of offset comes twice); {since, until} and {NULL} when the window has no rows; NULL when its rows span more than window_day_limit() days.';

-- the days, one source with the hours: its body only changes
CREATE OR REPLACE FUNCTION nezuko_analytics.window_days(bot name, since timestamptz, until timestamptz, offsets bigint[],
                                             OUT bounds timestamptz[], OUT local_days timestamptz[])
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT b.bounds, b.labels FROM nezuko_analytics.window_local_bins(bot, since, until, offsets, interval '1 day') b $$;

CREATE FUNCTION nezuko_analytics.status_counts_sql()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT $s$count(*) FILTER (WHERE v.status = 'verified') AS verified,
                   count(*) FILTER (WHERE v.status = 'restricted') AS restricted,
                   count(*) FILTER (WHERE v.status = 'error') AS error$s$
$$;
COMMENT ON FUNCTION nezuko_analytics.status_counts_sql() IS
  'SQL select list of the verified, restricted and error rows of verification_log (aliased v), as the reads by local hour count them (window_hour_counts(), window_summary_pass(), hour_counts_pass()).';

CREATE FUNCTION nezuko_analytics.window_hour_counts(bot name, bounds timestamptz[], local_hours timestamptz[],
                                                    first_hour integer, last_hour integer)
RETURNS TABLE (local_hour timestamptz, n bigint, verified bigint, restricted bigint, error bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
COST 1000000
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- hours first_hour .. last_hour of window_local_bins(): hour k holds the
    -- finite rows in [bounds[k], bounds[k + 1]), with label local_hours[k];
    -- an hour without rows gives no row
    RETURN QUERY EXECUTE format($q$
        SELECT $2[k], c.n, c.verified, c.restricted, c.error
        FROM generate_series($3, $4) k
        CROSS JOIN LATERAL (
            SELECT count(*) AS n, %2$s
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1[k] AND v."timestamp" < $1[k + 1]
              AND v."timestamp" > '-infinity' AND v."timestamp" < 'infinity'
            HAVING count(*) > 0) c$q$, bot, nezuko_analytics.status_counts_sql())
        USING bounds, local_hours, first_hour, last_hour;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_hour_counts(name, timestamptz[], timestamptz[], integer, integer) IS
  'Per local hour k in first_hour .. last_hour of window_local_bins(..., ''1 hour''): local_hours[k] with the count, verified, restricted and error rows of bot.verification_log''s finite rows in [bounds[k], bounds[k + 1]), each hour a range of the time index; hours without rows are left out. One call is one branch of the summaries'' parallel read by hour.';

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
    sample record;
    hours record;
    hour_read text;
    top_ids bigint[];
    top_ns bigint[];
    top_verified bigint[];
BEGIN
    -- A long window that spans most of the table and whose top groups hold
    -- a minority of its rows (by a sample: top_groups_by_index()) has them
    -- read by the group index (window_top_groups.sql); otherwise, and in a
    -- small window, one read of every row counts each group.  Each is a
    -- query of its own, before the reads below.
    IF NOT small THEN
        sample := nezuko_analytics.window_group_sample(bot, since, until, top_groups);
        IF nezuko_analytics.top_groups_by_index(sample.window_share, sample.top_share,
                                                nezuko_analytics.has_group_time_index(bot)) THEN
            SELECT coalesce(array_agg(t.group_id ORDER BY t.n DESC, t.group_id), '{}'),
                   coalesce(array_agg(t.n ORDER BY t.n DESC, t.group_id), '{}')
              INTO top_ids, top_ns
            FROM nezuko_analytics.window_top_group_counts(bot, since, until, top_groups, sample.splits) t;
            SELECT coalesce(array_agg(coalesce(v.verified, 0) ORDER BY o.i), '{}') INTO top_verified
            FROM unnest(top_ids) WITH ORDINALITY o(group_id, i)
            LEFT JOIN nezuko_analytics.window_top_group_verified(bot, top_ids, bounds) v USING (group_id);
        END IF;
    END IF;
    -- a long window's local days and hours (NULL past window_day_limit()
    -- days); a small one is read in its one slice
    IF small THEN
        SELECT NULL::timestamptz[] AS bounds, NULL::timestamptz[] AS local_days INTO days;
        SELECT NULL::timestamptz[] AS bounds, NULL::timestamptz[] AS labels INTO hours;
    ELSE
        days := nezuko_analytics.window_days(bot, since, until, offsets);
        hours := nezuko_analytics.window_local_bins(bot, since, until, offsets, interval '1 hour');
    END IF;
    -- the reads by local day: day by day (bounds $7, days $8), or for a long
    -- or a small window (days NULL) in the time slices ($6)
    day_bounds_param := CASE WHEN days.local_days IS NULL THEN 6 ELSE 7 END;
    days_param := CASE WHEN days.local_days IS NOT NULL THEN 8 END;
    day_branches := coalesce(cardinality(days.local_days), cardinality(bounds) - 1);
    -- The read by local hour: in a long window whose rows span at most
    -- window_day_limit() days, hour by hour (window_local_bins(), bounds
    -- $12, hours $13), window_slice_count() runs of consecutive hours, one
    -- call of window_hour_counts() each (window_hour_counts.sql); otherwise
    -- each row placed in its local hour by shift, slice by slice ($6).
    IF hours.labels IS NOT NULL THEN
        SELECT string_agg(format('SELECT * FROM nezuko_analytics.window_hour_counts(%L, $12, $13, %s, %s)',
                                 bot, 1 + (j - 1) * cardinality(hours.labels) / k, j * cardinality(hours.labels) / k),
                          E'\n        UNION ALL ' ORDER BY j)
          INTO hour_read
        FROM (SELECT nezuko_analytics.window_slice_count() AS k) c, generate_series(1, c.k) j;
    ELSE
        hour_read := nezuko_analytics.slices_sql(format($s$
            SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour,
                   count(*) AS n, %3$s
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot, shift, nezuko_analytics.status_counts_sql()), 'v."timestamp"', 6, cardinality(bounds) - 1, true);
    END IF;
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        -- four reads of the window: by local hour (hour by hour, or in
        -- time slices) and by group in time slices ($6, see
        -- window_slices()), the slices added up (the top groups come as $9,
        -- $10, $11 instead when read above); by local day and latency, and
        -- the cached ones by local day (day_read_sql())
        WITH rows_ AS MATERIALIZED (  -- by local hour only: FILTERs cost less than more grouping keys
            SELECT s.local_hour, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified,
                   sum(s.restricted)::bigint AS restricted, sum(s.error)::bigint AS error
            FROM (%1$s) s
            GROUP BY 1),
        recent_ AS MATERIALIZED (%4$s),
        latencies AS MATERIALIZED (%2$s),
        groups_ AS MATERIALIZED (%5$s),
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
        hour_read,
        nezuko_analytics.day_read_sql(bot, shift, 'v.latency_ms, count(*) AS n', 'AND v.latency_ms IS NOT NULL', 'v.latency_ms',
                                      day_bounds_param, days_param, day_branches),
        nezuko_analytics.day_read_sql(bot, shift, 'count(*) AS cached', 'AND v.cached', NULL,
                                      day_bounds_param, days_param, day_branches),
        nezuko_analytics.recent_totals_sql(bot, 4),
        CASE WHEN top_ids IS NOT NULL  -- read above, by the group index
             THEN 'SELECT t.group_id, t.n, t.verified FROM unnest($9::bigint[], $10::bigint[], $11::bigint[]) t(group_id, n, verified)'
             -- a NULL group_id counts as group 0, as in the native edition
             ELSE format($g$
            SELECT coalesce(s.group_id::bigint, 0) AS group_id, sum(s.n)::bigint AS n, sum(s.verified)::bigint AS verified
            FROM (%s) s
            GROUP BY 1 ORDER BY n DESC, group_id LIMIT $3$g$,
                         nezuko_analytics.slices_sql(format($s$
            SELECT v.group_id, count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS verified
            FROM %1$I.verification_log v WHERE {slice}
            GROUP BY 1$s$, bot), 'v."timestamp"', 6, cardinality(bounds) - 1, true)) END)
        USING since, until, top_groups, recent_since, nezuko_analytics.default_latency_edges(), bounds,
              days.bounds, days.local_days, top_ids, top_ns, top_verified, hours.bounds, hours.labels;
END;
$$;

CREATE OR REPLACE FUNCTION nezuko_analytics.get_members_chart_data()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart(nezuko_analytics.bot_schema(), 10) $$;

CREATE OR REPLACE FUNCTION nezuko_analytics.members_chart(bot name, top integer)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart_query(bot, top) $$;

-- the chart's read by hour takes the same status list (status_counts_sql())
CREATE OR REPLACE FUNCTION nezuko_analytics.hour_counts_pass(bot name, since timestamptz, until timestamptz, tz text)
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- RETURN QUERY: its read may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        SELECT jsonb_agg(jsonb_build_object('hour', h, 'verified', coalesce(x.verified, 0),
                                            'restricted', coalesce(x.restricted, 0), 'error', coalesce(x.error, 0)) ORDER BY h)
        FROM generate_series(0, 23) h
        LEFT JOIN (SELECT date_part('hour', b.local_hour AT TIME ZONE 'UTC')::integer AS hour,
                          sum(b.verified) AS verified, sum(b.restricted) AS restricted, sum(b.error) AS error
                   FROM (SELECT date_bin('1 hour', %2$s, timestamptz '2000-01-01 00:00:00+00') AS local_hour, %3$s
                         FROM %1$I.verification_log v
                         WHERE v."timestamp" >= $1 AND v."timestamp" < $2 AND isfinite(v."timestamp")
                         GROUP BY 1) b
                   GROUP BY 1) x ON x.hour = h$q$,
        bot, nezuko_analytics.local_shift_sql(nezuko_analytics.window_tz_offsets(since, until, tz)),
        nezuko_analytics.status_counts_sql())
        USING since, until;
END;
$$;
