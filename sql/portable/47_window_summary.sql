-- The portable engine of dashboard() and the trend contracts: the same keyed
-- documents as the native edition's C++ aggregates (docs/dashboard.md), from
-- grouped reads of the window (by local hour, by latency and local day, by
-- group).  Percentiles are exact: from the count of each latency value, with
-- percentile_cont's arithmetic.

CREATE FUNCTION nezuko_analytics.percentile_of_counts(latencies integer[], counts bigint[], p float8)
RETURNS float8
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- percentile_cont(p) of a multiset given as distinct values (ascending)
    -- and their counts: the values at ranks floor and ceil of p * (n - 1)
    -- (0-based), interpolated as orderedsetaggs.c does (lo + (pct * (hi - lo))).
    n bigint := 0;
    upto bigint := 0;
    pos float8;
    lo_rank bigint;
    hi_rank bigint;
    lo float8;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(counts), 0) LOOP
        n := n + counts[i];
    END LOOP;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    pos := p * (n - 1)::float8;
    lo_rank := floor(pos)::bigint;
    hi_rank := ceil(pos)::bigint;
    FOR i IN 1 .. cardinality(counts) LOOP
        upto := upto + counts[i];
        IF lo IS NULL AND upto > lo_rank THEN
            lo := latencies[i];
        END IF;
        IF upto > hi_rank THEN
            RETURN lo + ((pos - floor(pos)) * (latencies[i]::float8 - lo));
        END IF;
    END LOOP;
    RETURN NULL;  -- not reached: the counts add up to n
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.percentile_of_counts(integer[], bigint[], float8) IS
  'percentile_cont(p) of the latencies given as distinct values (ascending) and their counts; NULL when the counts add up to 0.';

CREATE FUNCTION nezuko_analytics.recent_totals_sql(bot name, recent_param integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- one read of the rows at or after the parameter, inside the window
    -- ($1, $2): through the time index, as the recent stretch is short; no
    -- rows when the parameter is NULL
    SELECT format($q$
        SELECT count(*) AS count, count(*) FILTER (WHERE v.status = 'verified') AS verified,
               count(*) FILTER (WHERE v.cached) AS cached, count(v.latency_ms) AS latency_count,
               coalesce(sum(v.latency_ms), 0) AS latency_sum
        FROM %1$I.verification_log v
        WHERE v."timestamp" >= $%2$s AND v."timestamp" >= $1 AND v."timestamp" < $2 AND isfinite(v."timestamp")$q$,
        bot, recent_param)
$$;
COMMENT ON FUNCTION nezuko_analytics.recent_totals_sql(name, integer) IS
  'SQL of the recent totals of the portable summaries (count, verified, cached, latency_count, latency_sum of the rows in [$1, $2) at or after $recent_param; zeros when it is NULL), read apart from the window''s grouped reads so that those carry no per-row test of it.';

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

CREATE FUNCTION nezuko_analytics.window_summary_pass(since timestamptz, until timestamptz, tz text,
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
COMMENT ON FUNCTION nezuko_analytics.window_summary_pass(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The reads behind window_summary(), as one row (with min_latency, which window_summary() checks and drops).';

CREATE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
                                                top_groups integer DEFAULT 10, recent_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    SELECT p INTO v FROM nezuko_analytics.window_summary_pass(since, until, tz, coalesce(top_groups, 10), recent_since) p;
    IF (v->>'min_latency')::integer < 0 THEN
        RAISE EXCEPTION 'latency must not be negative, got % ms', v->>'min_latency' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF (v->>'total')::bigint > 0 AND top_groups < 1 THEN
        RAISE EXCEPTION 'verification_summary: top_groups must be at least 1, not %', top_groups USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN v - 'min_latency';
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The one-pass summary of verification_log in [since, until) with local hours and days in tz, every figure by name (docs/dashboard.md): the native edition''s document, built in SQL; shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.api_window_summary_pass(bot name, since timestamptz, until timestamptz)
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

CREATE FUNCTION nezuko_analytics.api_window_summary(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT p FROM nezuko_analytics.api_window_summary_pass(bot, since, until) p $$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary(name, timestamptz, timestamptz) IS
  'The one-pass summary of bot.api_call_log in [since, until), every figure by name (docs/dashboard.md): calls, ok, failures, latency_count, latency_sum, exact p95, and per method (most calls first) the same with p50; built in SQL. Used by dashboard().';

CREATE FUNCTION nezuko_analytics.day_summary_pass(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
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

CREATE FUNCTION nezuko_analytics.day_summary(since timestamptz, until timestamptz, tz text, recent_since timestamptz,
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
