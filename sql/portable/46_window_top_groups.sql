-- The top groups of a long window in the portable summaries (1.13), read
-- without hashing every row of the window.  The read by group in time slices
-- (window_summary_pass()) takes each row from the heap to count its group
-- and whether it was verified: over 90 days of the benchmark's data it was
-- the costliest of the summary's four reads.  Instead:
--   1. each group's rows, counted from the ("group_id", "timestamp") index
--      alone, in ranges of group ids that parallel workers share; the top
--      groups kept (window_top_group_counts());
--   2. the verified rows of those groups only, through a bitmap of the same
--      index, in the window's time slices (window_top_group_verified()).
-- That pays when the window spans most of the table (the index is read
-- whole) and its top groups hold a minority of its rows; otherwise the
-- window is read the old way.  Which way is decided from a sample of the
-- window's rows (window_group_sample(), top_groups_by_index()), and only
-- where the table has the group index (has_group_time_index()).

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
