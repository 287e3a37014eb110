-- nezuko_analytics 1.11 -> 1.12, written by hand (docs/versions.md).  1.12
-- reads a window that holds few rows (nezuko_analytics.small_window_rows,
-- default 20000; window_is_small()) by plain queries: get_user_growth
-- (shared by both editions) reads a window of up to 15 times as many rows
-- (user_growth_small_scale()) once for its buckets and once for its halves
-- instead of a read per bucket.  The module defines the setting.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.12'" to load this file. \quit

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
