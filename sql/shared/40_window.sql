-- Windows are [since, until).  Every function that takes one checks it here.

CREATE FUNCTION nezuko_analytics.check_window(since timestamptz, until timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF since IS NULL OR until IS NULL THEN
        RAISE EXCEPTION 'the window''s % must not be NULL', CASE WHEN since IS NULL THEN 'since' ELSE 'until' END
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Pass a timestamptz; until defaults to now() when omitted.';
    END IF;
    IF since > until THEN
        RAISE EXCEPTION 'the window starts (since = %) after it ends (until = %)', since, until
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.check_window(timestamptz, timestamptz) IS
  'Raises a clear ERROR for a NULL or inverted window [since, until); used by every windowed function.';

CREATE FUNCTION nezuko_analytics.check_latency_source(source text, function_name text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF source IS NULL OR source NOT IN ('verification_log', 'api_call_log') THEN
        RAISE EXCEPTION '%: source must be ''verification_log'' or ''api_call_log'', not %',
                function_name, coalesce(quote_literal(source), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.check_latency_source(text, text) IS
  'Raises a clear ERROR unless source is one of the tables with latencies (verification_log, api_call_log).';

-- The two rounding rules below are called once per row of a document.  They
-- carry no SET search_path, so the planner inlines them into the caller's
-- query (a function with SET is called through fmgr each time, its body
-- planned again); instead every name in them is schema-qualified, which
-- keeps them safe under any search_path when they are called on their own.

-- percentage = round(100 * part / whole, 1), 0 when whole is 0
CREATE FUNCTION nezuko_analytics.percent(part numeric, whole numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN whole IS NULL OR whole OPERATOR(pg_catalog.=) 0 THEN 0::pg_catalog.numeric
                  ELSE pg_catalog.round((100.0 OPERATOR(pg_catalog.*) part) OPERATOR(pg_catalog./) whole, 1) END $$;
COMMENT ON FUNCTION nezuko_analytics.percent(numeric, numeric) IS
  'round(100 * part / whole, 1), and 0 (not NULL) when whole is 0: the contracts'' percentage rule.';

CREATE FUNCTION nezuko_analytics.round_ms(ms float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT pg_catalog.round(ms::pg_catalog.numeric, 2) $$;
COMMENT ON FUNCTION nezuko_analytics.round_ms(float8) IS
  'A latency percentile as the documents give it: numeric, rounded to 0.01 ms (no binary artifacts such as 381.79999999999995); NULL stays NULL.';

CREATE FUNCTION nezuko_analytics.require_select(bot name, relname text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT has_table_privilege(format('%I.%I', bot, relname), 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', relname USING ERRCODE = 'insufficient_privilege';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.require_select(name, text) IS
  'Raises the error a query would raise (42501) unless the caller may read bot.relname: USAGE on the schema and SELECT on the table. Called before work that does not read the table yet.';

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

-- A window that holds few rows is read by one plain query.  The reads built
-- for long windows (time slices that parallel workers share, a branch per
-- local day or per bucket, latencies counted per value) cost planning and
-- set-up that only pay off over many rows: over the 15,000 rows of 90 days
-- of a small bot they made a trend contract four times slower than the
-- bot's own query (docs/benchmarks.md).

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
