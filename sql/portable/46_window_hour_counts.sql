-- The read by local hour in the portable edition: each local hour of a long
-- window (window_local_bins() with a width of 1 hour) counted as its own
-- range of the ("timestamp", status) index, with no grouping.  Over 90 days
-- of the bench data a time slice took 174 ms against 287 ms when each row
-- computed its local hour and a hash table added it up: a plain count by
-- range costs what reading the index does, the hash table another 60 %.
--
-- A lateral subquery (or a correlated one) is never run by a parallel worker
-- in PostgreSQL 15: its parameters come from the leader's plan.  A function
-- call is, so the hours are read by window_hour_counts(), one call per run of
-- consecutive hours, each call one branch of a Parallel Append.  Its COST
-- tells the planner that a call reads many rows; at the default cost of a
-- function the planner would not start workers for a few calls.

-- The three statuses a local hour is counted by, as a select list over
-- verification_log aliased v: one source for the reads by hour
-- (window_hour_counts(), window_summary_pass()'s read in time slices,
-- hour_counts_pass()).
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
