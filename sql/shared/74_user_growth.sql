-- get_user_growth: distinct users per day or week, their running sum, and
-- the growth from the first half of the window to the second: the buckets
-- and the two halves read in parallel, each by reads that hold them whole.
-- Distinct counts do not add up across buckets: a user seen on two days is
-- one user of the window but one of each day (docs/contracts.md).

CREATE FUNCTION nezuko_analytics.user_growth_branches()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 100 $$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_branches() IS
  'The most reads get_user_growth splits its buckets into (user_growth_bounds()): one a day for the contracts'' 90 days.';

CREATE FUNCTION nezuko_analytics.user_growth_small_scale()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 15 $$;
COMMENT ON FUNCTION nezuko_analytics.user_growth_small_scale() IS
  'How many times small_window_rows() rows get_user_growth still reads by its plain queries (window_is_small()): they were the faster way up to about 300,000 rows of the benchmark''s data (docs/contracts.md), the reads in parallel beyond.';

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

CREATE FUNCTION nezuko_analytics.user_growth(since timestamptz, until timestamptz, middle timestamptz,
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

CREATE FUNCTION nezuko_analytics.get_user_growth(p_period text DEFAULT '30d', p_granularity text DEFAULT 'day')
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT nezuko_analytics.user_growth(now() - len, 'infinity', now() - len / 2,
                                        CASE WHEN p_granularity = 'week' THEN 'week' ELSE 'day' END, p_period, p_granularity)
    FROM (SELECT nezuko_analytics.period_interval(CASE WHEN p_period IN ('7d', '30d', '90d') THEN p_period END, '30d') AS len) l
$$;
COMMENT ON FUNCTION nezuko_analytics.get_user_growth(text, text) IS
  'Contract get_user_growth: {period, granularity (both as given), series: [{date ''YYYY-MM-DD'' (bucket start), new_users (distinct user_id in the bucket), total_users (running sum of new_users)}], summary: {total_new_users (distinct users in the window), growth_rate (distinct users of the second half over the first, minus 1, times 100, round(.., 1); 0 when the first half has none)}} over p_period ''7d'', ''30d'' or ''90d'' (else 30d) by p_granularity week (else day).';

CREATE FUNCTION nezuko_analytics.get_user_growth(since timestamptz, until timestamptz, granularity text DEFAULT 'day')
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
