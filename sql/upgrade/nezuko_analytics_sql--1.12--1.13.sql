-- nezuko_analytics_sql (the portable edition) 1.12 -> 1.13, written by hand
-- (docs/versions.md).  The summaries read the top groups of a long window
-- that spans most of the table, and whose top groups hold a minority of its
-- rows, by the ("group_id", "timestamp") index: each group's rows counted
-- from the index alone, then the top groups' verified rows through a bitmap
-- (window_top_group_counts(), window_top_group_verified()), instead of taking
-- every row of the window from the heap to hash its group.  A sample of the
-- window decides (window_group_sample(), top_groups_by_index(); the setting
-- nezuko_analytics_sql.top_groups_by_index: auto, on or off), where the table
-- has the group index (has_group_time_index()).

CREATE OR REPLACE FUNCTION nezuko_analytics.version()
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT '1.13'::text $$;

CREATE FUNCTION nezuko_analytics.has_group_time_index(bot name)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- a plain valid btree whose keys start with group_id, then "timestamp"
    -- (the schema's idx_verification_log_group_id_timestamp): the reads by
    -- the index need both, in that order
    SELECT EXISTS (
        SELECT FROM pg_index i
        JOIN pg_class x ON x.oid = i.indexrelid
        JOIN pg_am a ON a.oid = x.relam
        WHERE i.indrelid = format('%I.verification_log', bot)::regclass
          AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL AND a.amname = 'btree' AND i.indnkeyatts >= 2
          AND i.indkey[0] = (SELECT t.attnum FROM pg_attribute t WHERE t.attrelid = i.indrelid AND t.attname = 'group_id')
          AND i.indkey[1] = (SELECT t.attnum FROM pg_attribute t WHERE t.attrelid = i.indrelid AND t.attname = 'timestamp'))
$$;
COMMENT ON FUNCTION nezuko_analytics.has_group_time_index(name) IS
  'Whether bot.verification_log has a valid btree index (no predicate, no expression) whose keys start with group_id, then "timestamp", as the schema''s idx_verification_log_group_id_timestamp: what window_top_group_counts() and window_top_group_verified() read.';

CREATE FUNCTION nezuko_analytics.top_groups_by_index(window_share float8, top_share float8, group_index boolean)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- a setting of the portable edition alone: a plain custom one, which any
    -- role may set for its session
    setting constant text := lower(trim(coalesce(nullif(current_setting('nezuko_analytics_sql.top_groups_by_index', true), ''), 'auto')));
BEGIN
    IF setting NOT IN ('auto', 'on', 'off') THEN
        RAISE EXCEPTION 'nezuko_analytics_sql.top_groups_by_index must be auto, on or off, not %', quote_literal(setting)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF window_share IS NULL OR setting = 'off' THEN
        RETURN false;  -- no rows, or never
    END IF;
    -- Without the group index (group_index false) each read would scan the
    -- table.  The count by the index reads every entry of the table (the
    -- time is its second column), the read of every row only the window's;
    -- the bitmap reads the top groups' rows.  Measured on the benchmark's
    -- data (docs/benchmarks.md): 90 days of 120 with the top ten groups
    -- holding 12 % of the rows, 14 % faster in all; 7 days of 120, twice as
    -- slow.
    RETURN setting = 'on' OR (group_index AND window_share >= 0.6 AND top_share <= 0.25);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.top_groups_by_index(float8, float8, boolean) IS
  'Whether the portable summaries read a long window''s top groups by the group index (window_top_group_counts(), window_top_group_verified()) rather than by one read of every row, by the setting nezuko_analytics_sql.top_groups_by_index: off never, on always (when the window has rows), auto (the default) when bot.verification_log has that index (group_index, has_group_time_index()) and the window spans at least 0.6 of the table''s time (window_share) and its top groups hold at most a quarter of its rows (top_share), as window_group_sample() estimates them.';

CREATE FUNCTION nezuko_analytics.window_group_sample(bot name, since timestamptz, until timestamptz, top integer,
                                                    OUT splits bigint[], OUT top_share float8, OUT window_share float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    probes constant integer := 64;  -- runs of 50 rows, evenly spread in time: about 3,200 rows
    k constant integer := nezuko_analytics.window_slice_count();
    first_row timestamptz;
    last_row timestamptz;
    table_span record;
BEGIN
    SELECT s.first_row, s.last_row INTO first_row, last_row
    FROM nezuko_analytics.window_rows_span(bot, 'verification_log', since, until) s;
    IF first_row IS NULL THEN
        RETURN;  -- no rows: NULLs
    END IF;
    table_span := nezuko_analytics.window_rows_span(bot, 'verification_log', '-infinity', 'infinity');
    window_share := CASE WHEN table_span.first_row = table_span.last_row THEN 1
                         ELSE extract(epoch FROM last_row - first_row)::float8
                              / extract(epoch FROM table_span.last_row - table_span.first_row)::float8 END;
    -- deterministic: the same rows give the same answer
    EXECUTE format($q$
        WITH s AS (
            SELECT coalesce(r.group_id::bigint, 0) AS group_id, r.group_id IS NULL AS no_group
            FROM generate_series(0, $4 - 1) i,
                 LATERAL (SELECT v.group_id FROM %I.verification_log v
                          WHERE v."timestamp" >= $1 + make_interval(secs => extract(epoch FROM $2 - $1)::float8 * i / $4)
                            AND v."timestamp" <= $2 AND v."timestamp" < $3
                          ORDER BY v."timestamp" LIMIT 50) r),
        top_ AS (SELECT count(*) AS n FROM s GROUP BY s.group_id ORDER BY n DESC, s.group_id LIMIT $5)
        SELECT (SELECT percentile_disc((SELECT array_agg(j::float8 / $6 ORDER BY j) FROM generate_series(1, $6 - 1) j))
                       WITHIN GROUP (ORDER BY s.group_id) FROM s WHERE NOT s.no_group),
               (SELECT coalesce(sum(n), 0) FROM top_)::float8 / (SELECT count(*) FROM s)$q$, bot)
        INTO splits, top_share USING first_row, last_row, until, probes, greatest(top, 0), k;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_group_sample(name, timestamptz, timestamptz, integer) IS
  'A sample of bot.verification_log''s finite rows in [since, until) (64 runs of 50 rows through the time index, evenly spread between the first and the last): splits, window_slice_count() - 1 group ids that cut the sampled rows into parts of about equal size (window_top_group_counts() reads by them); top_share, the share of the sampled rows in the sample''s top groups (NULL group_id as 0); window_share, the time between the window''s first and last row over the same for the whole table; NULLs when the window holds no finite row.';

CREATE FUNCTION nezuko_analytics.window_top_group_counts(bot name, since timestamptz, until timestamptz, top integer,
                                                        splits bigint[])
RETURNS TABLE (group_id bigint, n bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
-- the ranges of group ids are what parallel workers share
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
AS $$
DECLARE
    cuts constant bigint[] := coalesce(splits, '{}');
    parts text;
BEGIN
    -- a branch for the rows without a group, then one per range of ids
    -- between the cuts (a cut repeated by a large group: an empty range)
    SELECT string_agg(format($b$(SELECT v.group_id, count(*) AS n FROM %1$I.verification_log v
            WHERE %2$s AND v."timestamp" >= $1 AND v."timestamp" < $2 AND v."timestamp" > '-infinity' AND v."timestamp" < 'infinity'
            GROUP BY 1)$b$, bot,
            CASE WHEN i = 0 THEN 'v.group_id IS NULL'
                 WHEN cardinality(cuts) = 0 THEN 'v.group_id IS NOT NULL'
                 WHEN i = 1 THEN format('v.group_id < %s', cuts[1])
                 WHEN i > cardinality(cuts) THEN format('v.group_id >= %s', cuts[i - 1])
                 ELSE format('v.group_id >= %s AND v.group_id < %s', cuts[i - 1], cuts[i]) END),
                      E'\n        UNION ALL ' ORDER BY i)
      INTO parts
    FROM generate_series(0, cardinality(cuts) + 1) i;
    -- RETURN QUERY: its reads may run in parallel (EXECUTE ... INTO runs serially)
    RETURN QUERY EXECUTE format($q$
        SELECT coalesce(s.group_id::bigint, 0), sum(s.n)::bigint FROM (%s) s
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $3$q$, parts)
        USING since, until, top;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_top_group_counts(name, timestamptz, timestamptz, integer, bigint[]) IS
  'The top groups of bot.verification_log''s finite rows in [since, until), most rows first (ties by group_id, NULL group_id as 0), with their rows: counted from the ("group_id", "timestamp") index in the ranges of group ids between splits (window_group_sample()), which parallel workers share.';

CREATE FUNCTION nezuko_analytics.window_top_group_verified(bot name, group_ids bigint[], bounds timestamptz[])
RETURNS TABLE (group_id bigint, verified bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET min_parallel_table_scan_size = '1TB'
SET min_parallel_index_scan_size = '1TB'
-- the rows of a few groups among many, through a bitmap of the group index:
-- the planner, which counts the top groups' rows from the statistics, would
-- take every row of the slice through the time index instead (twice as
-- long); and an exact bitmap needs more than the default 4MB
SET enable_seqscan = off
SET enable_indexscan = off
SET work_mem = '16MB'
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT coalesce(s.group_id::bigint, 0), sum(s.verified)::bigint FROM (%s) s GROUP BY 1',
        nezuko_analytics.slices_sql(format($s$
            SELECT v.group_id, count(*) AS verified FROM %1$I.verification_log v
            WHERE {slice} AND (v.group_id = ANY ($1) OR (v.group_id IS NULL AND 0 = ANY ($1))) AND v.status = 'verified'
            GROUP BY 1$s$, bot), 'v."timestamp"', 2, cardinality(bounds) - 1, true))
        USING group_ids, bounds;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_top_group_verified(name, bigint[], timestamptz[]) IS
  'The verified rows of the groups group_ids (0 also counts the rows without a group) among bot.verification_log''s finite rows in the time slices of bounds (window_slices()), per group that has any: through a bitmap of the ("group_id", "timestamp") index, one slice per branch.';

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
        -- slices ($6, see window_slices()), the slices added up (the top
        -- groups come as $9, $10, $11 instead when read above); by local
        -- day and latency, and the cached ones by local day (day_read_sql())
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
              days.bounds, days.local_days, top_ids, top_ns, top_verified;
END;
$$;
