-- nezuko_analytics 1.9 -> 1.10, written by hand (docs/versions.md).  1.10
-- reads get_user_growth in parallel, each bucket and each half of the
-- window by reads that hold it whole (user_growth_bounds()), in both
-- editions, and the probe of a window's first and last row has one source
-- (window_rows_span()); the rest of 1.10 changes the portable edition's
-- reads only.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.10'" to load this file. \quit

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
