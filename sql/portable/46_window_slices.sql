-- Parallel reads in the portable edition: a window's grouped read written as
-- one read per time slice, joined by UNION ALL and added up again.  The
-- planner cannot estimate the groups of an expression such as a local hour
-- (it takes the distinct timestamps: millions), so it never splits one
-- grouped read between parallel workers; a Parallel Append of whole slices
-- it does, each process reading its slices through the time index.  The
-- summaries that read this way set min_parallel_table_scan_size and
-- min_parallel_index_scan_size out of reach, so that no slice is split
-- further (a Gather inside a slice would rule out the Parallel Append).

CREATE FUNCTION nezuko_analytics.window_slice_count()
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT 6 $$;
COMMENT ON FUNCTION nezuko_analytics.window_slice_count() IS
  'How many time slices the portable summaries read a window in (window_slices()): two for each of the three processes of a Gather with the default max_parallel_workers_per_gather = 2, so that a slow slice is made up for.';

CREATE FUNCTION nezuko_analytics.window_slices(bot name, log_table text, since timestamptz, until timestamptz)
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

CREATE FUNCTION nezuko_analytics.slices_sql(slice_sql text, time_column text, bounds_param integer, slices integer,
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
