-- nezuko_analytics 1.21 -> 1.22, written by hand (docs/versions.md).
-- The local days are made without the executor: rollup_days_rebuild()
-- inserts the rows of the new rollup_day_states(), which reads each day's
-- quarter hours through the rollup table's primary key and folds them as
-- verification_summary_state / api_summary_state did over a join of the days
-- with their quarter hours (a hash table of 120 states spilled to disk, and
-- a second read of every quarter hour for the negative latencies).  The
-- days' bytes are those the aggregates write: the days already kept stay.

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.22'" to load this file. \quit

CREATE FUNCTION nezuko_analytics.rollup_day_states(source text, days date[], starts timestamptz[], ends timestamptz[],
    tz_offsets bigint[],
    OUT day date, OUT starts_at timestamptz, OUT ends_at timestamptz, OUT summary bytea)
RETURNS SETOF record LANGUAGE c STABLE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'nz_rollup_day_states';
COMMENT ON FUNCTION nezuko_analytics.rollup_day_states(text, date[], timestamptz[], timestamptz[], bigint[]) IS
  'The local days days[i] = [starts[i], ends[i]) (increasing, not overlapping) of source (verification_log or api_call_log) as rollup_days keeps them: summary is the binary state of verification_summary_state(''q'', ..., cell, NULL, tz_offsets, 1, NULL) (verification_log, in the zone of tz_offsets) or api_summary_state(NULL, NULL, NULL, cell, NULL) (api_call_log; tz_offsets unused) over the day''s quarter hours of rollup_verifications / rollup_api_calls, each day read through the primary key and folded one day per call. A day without quarter hours has no row, nor has a verification_log day holding a negative latency. Call it in a select list. Used by rollup_days_rebuild(). Example: SELECT (d.s).day, length((d.s).summary) FROM (SELECT nezuko_analytics.rollup_day_states(''verification_log'', ARRAY[date ''2026-01-01''], ARRAY[timestamptz ''2026-01-01 00:00+00''], ARRAY[timestamptz ''2026-01-02 00:00+00''], nezuko_analytics.tz_offsets(''2026-01-01 00:00+00'', ''2026-01-02 00:00+00'', ''UTC'')) s) d;';
REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_day_states(text, date[], timestamptz[], timestamptz[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION nezuko_analytics.rollup_day_states(text, date[], timestamptz[], timestamptz[], bigint[]) TO @extowner@;

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_days_rebuild(source text, los timestamptz[], his timestamptz[], zones text[])
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    z text;
    days date[];
    starts timestamptz[];
    ends timestamptz[];
    offsets bigint[];
    made bigint;
    n bigint := 0;
BEGIN
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = rollup_days_rebuild.source;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    FOREACH z IN ARRAY nezuko_analytics.rollup_day_zones(source, zones) LOOP
        -- the complete days touched (a refresh of the current quarter hour
        -- touches only the current day, which is still filling: nothing)
        SELECT coalesce(array_agg(t.day ORDER BY t.day), '{}'), coalesce(array_agg(t.starts_at ORDER BY t.day), '{}'),
               coalesce(array_agg(t.ends_at ORDER BY t.day), '{}')
          INTO days, starts, ends
        FROM nezuko_analytics.rollup_local_days(los, his, z, st.built_from, st.watermark) t
        WHERE t.starts_at >= st.built_from AND t.ends_at <= st.watermark;
        CONTINUE WHEN cardinality(days) = 0;
        DELETE FROM nezuko_analytics.rollup_days x
        WHERE x.source = rollup_days_rebuild.source AND x.time_zone = z AND x.starts_at = ANY (starts);
        -- the zone's offsets over the days
        offsets := nezuko_analytics.tz_offsets(starts[1], ends[cardinality(ends)], z);
        -- one index range per day, folded as it is read; the function in a
        -- select list (OFFSET 0 keeps it there), not in FROM, which would
        -- store its rows first
        INSERT INTO nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at, summary)
        SELECT source, z, (u.d).day, (u.d).starts_at, (u.d).ends_at, (u.d).summary
        FROM (SELECT nezuko_analytics.rollup_day_states(source, days, starts, ends, offsets) d OFFSET 0) u;
        GET DIAGNOSTICS made = ROW_COUNT;
        n := n + made;
    END LOOP;
    RETURN n;
END;
$$;
