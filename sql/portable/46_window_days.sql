-- Reads by local day (and hour) in the portable edition: one branch per local
-- day of the window, each a range of the time index with the day as a
-- constant (a parameter), so that no row computes its local day and a read
-- by day and latency keeps a small hash table per day.  Measured on 90 days
-- of the bench data (docs/benchmarks.md): 1.2 s against 1.8 s for the read
-- by day and latency in time slices.  The branches run as one Parallel
-- Append, as the time slices do (window_slices.sql).  The local hours are
-- cut the same way (window_local_bins() with a width of 1 hour) for the
-- read by hour (window_hour_counts.sql).  A window whose rows span more
-- local days than window_day_limit() is read in time slices instead, so
-- that the planning stays small whatever the window.

CREATE FUNCTION nezuko_analytics.window_day_limit()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 120 $$;
COMMENT ON FUNCTION nezuko_analytics.window_day_limit() IS
  'The most local days (window_days()) the portable reads by day take one branch each for: the contracts'' longest period, 90 days, with room for changes of offset; a window whose rows span more is read in time slices (window_slices()).';

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

CREATE FUNCTION nezuko_analytics.window_days(bot name, since timestamptz, until timestamptz, offsets bigint[],
                                             OUT bounds timestamptz[], OUT local_days timestamptz[])
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT b.bounds, b.labels FROM nezuko_analytics.window_local_bins(bot, since, until, offsets, interval '1 day') b $$;
COMMENT ON FUNCTION nezuko_analytics.window_days(name, timestamptz, timestamptz, bigint[]) IS
  'The local days of the window [since, until) of the bot''s verification_log, with offsets from window_tz_offsets(): bounds b (since, cuts, until) such that every row in [b[i], b[i + 1]) has local day local_days[i] (date_bin(''1 day'', time + offset), as local_shift_sql() places it; a day split by a change of offset comes twice); {since, until} and {NULL} when the window has no rows; NULL when its rows span more than window_day_limit() days.';
