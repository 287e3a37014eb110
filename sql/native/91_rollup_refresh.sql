-- Filling and refreshing the rollups from the raw rows (docs/rollups.md).
-- Every quarter hour is computed from the raw rows at once, never patched:
-- a new one when the watermark passes it, a pending one again (after
-- deleting it).  Quarter hours before the cutoff of a prune() are frozen:
-- their raw rows are gone or going, so they are never computed again.

CREATE FUNCTION nezuko_analytics.rollup_origin()
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT timestamptz '2000-01-01 00:00:00+00' $$;
COMMENT ON FUNCTION nezuko_analytics.rollup_origin() IS
  'The origin of the rollups'' quarter hours and days (date_bin''s third argument): 2000-01-01 00:00 UTC, PostgreSQL''s own epoch.';

CREATE FUNCTION nezuko_analytics.rollup_raw_horizon(source text)
RETURNS timestamptz LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(max(r.cutoff), '-infinity') FROM nezuko_analytics.retention_runs r
    WHERE r.table_name = rollup_raw_horizon.source
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_raw_horizon(text) IS
  'The time before which prune() has deleted, or is deleting, raw rows of source: the latest cutoff of its runs (logged before its first batch commits); -infinity before any. Each refresh moves rollup_state.frozen_before up to it: rollup buckets that start before that are never computed again.';

CREATE FUNCTION nezuko_analytics.time_floor(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT CASE WHEN isfinite(t) THEN date_bin(stride, t, nezuko_analytics.rollup_origin()) ELSE t END $$;
COMMENT ON FUNCTION nezuko_analytics.time_floor(timestamptz, interval) IS
  'The start of the quarter hour (stride 15 minutes) or UTC day (24 hours) that holds t; t itself when infinite. (Strides in hours and minutes: adding a day to a timestamptz follows the session''s time zone.)';

CREATE FUNCTION nezuko_analytics.time_ceil(t timestamptz, stride interval)
RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN nezuko_analytics.time_floor(t, stride) = t THEN t
                ELSE nezuko_analytics.time_floor(t, stride) + stride END
$$;
COMMENT ON FUNCTION nezuko_analytics.time_ceil(timestamptz, interval) IS
  'The first start of a quarter hour (stride 15 minutes) or UTC day (24 hours) at or after t; t itself when infinite.';

-- The quarter-hour rollups of source's raw rows in [lo, hi) (quarter-hour
-- edges), each row replaced.
CREATE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF source = 'verification_log' THEN
        EXECUTE format($q$
            INSERT INTO nezuko_analytics.rollup_verifications AS r
                   (bucket, total, verified, restricted, error, cached, latency_count, latency_sum, latencies)
            SELECT date_bin('15 minutes', v."timestamp", $3), count(*),
                   count(*) FILTER (WHERE v.status = 'verified'), count(*) FILTER (WHERE v.status = 'restricted'),
                   count(*) FILTER (WHERE v.status = 'error'), count(*) FILTER (WHERE v.cached),
                   count(v.latency_ms), coalesce(sum(v.latency_ms), 0), nezuko_analytics.latency_dist(v.latency_ms)
            FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY 1
            ON CONFLICT (bucket) DO UPDATE SET total = excluded.total, verified = excluded.verified,
                restricted = excluded.restricted, error = excluded.error, cached = excluded.cached,
                latency_count = excluded.latency_count, latency_sum = excluded.latency_sum,
                latencies = excluded.latencies$q$, nezuko_analytics.bot_schema())
        USING lo, hi, nezuko_analytics.rollup_origin();
    ELSE
        EXECUTE format($q$
            INSERT INTO nezuko_analytics.rollup_api_calls AS r
                   (bucket, method, calls, ok, failures, latency_count, latency_sum, latencies)
            SELECT date_bin('15 minutes', a."timestamp", $3), coalesce(a.method::text, ''), count(*),
                   count(*) FILTER (WHERE a.success), count(*) FILTER (WHERE NOT a.success),
                   count(a.latency_ms), coalesce(sum(a.latency_ms), 0), nezuko_analytics.latency_dist(a.latency_ms)
            FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2
            GROUP BY 1, 2
            ON CONFLICT (bucket, method) DO UPDATE SET calls = excluded.calls, ok = excluded.ok,
                failures = excluded.failures, latency_count = excluded.latency_count,
                latency_sum = excluded.latency_sum, latencies = excluded.latencies$q$, nezuko_analytics.bot_schema())
        USING lo, hi, nezuko_analytics.rollup_origin();
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups, replacing the rows of those quarter hours that had one. Used by refresh_rollup_source().';

CREATE FUNCTION nezuko_analytics.rollup_add_groups(lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format($q$
        INSERT INTO nezuko_analytics.rollup_verification_groups AS g (day, group_id, total, verified)
        SELECT date_bin('1 day', v."timestamp", $3), coalesce(v.group_id::bigint, 0), count(*),
               count(*) FILTER (WHERE v.status = 'verified')
        FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2
        GROUP BY 1, 2
        ON CONFLICT (day, group_id) DO UPDATE SET total = g.total + excluded.total,
            verified = g.verified + excluded.verified$q$, nezuko_analytics.bot_schema())
    USING lo, hi, nezuko_analytics.rollup_origin();
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_add_groups(timestamptz, timestamptz) IS
  'Adds the verification_log rows in [lo, hi) to the per-day, per-group rollups (counts add up; the caller deletes a day it computes afresh). Used by refresh_rollup_source().';

-- The pending quarter hours of source that can be computed again, as
-- maximal runs [lo, hi): not frozen, below the watermark (later ones are
-- materialized when the watermark passes them).  A TRUNCATE (-infinity)
-- makes every such quarter hour pending.
CREATE FUNCTION nezuko_analytics.rollup_pending_runs(buckets timestamptz[], horizon timestamptz,
                                                     built_from timestamptz, watermark timestamptz)
RETURNS TABLE (lo timestamptz, hi timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH everything AS (  -- after a TRUNCATE: one run from the horizon (rounded up) to the watermark
        SELECT greatest(built_from, nezuko_analytics.time_ceil(horizon, interval '15 minutes')) AS lo, watermark AS hi
        WHERE '-infinity' = ANY (buckets)),
    b AS (
        SELECT DISTINCT q AS bucket FROM unnest(buckets) q
        WHERE q <> '-infinity' AND q >= horizon AND q < watermark
          AND NOT EXISTS (SELECT 1 FROM everything e WHERE q >= e.lo))
    SELECT min(bucket), max(bucket) + interval '15 minutes'
    FROM (SELECT bucket, bucket - (row_number() OVER (ORDER BY bucket))::integer * interval '15 minutes' AS run FROM b) r
    GROUP BY run
    UNION ALL
    SELECT e.lo, e.hi FROM everything e WHERE e.lo < e.hi
    ORDER BY 1
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_pending_runs(timestamptz[], timestamptz, timestamptz, timestamptz) IS
  'The pending quarter hours (their starts; -infinity after a TRUNCATE: all) that refresh_rollup_source() computes again, as maximal runs [lo, hi): from the raw horizon on (older ones are frozen) and below the watermark.';

CREATE FUNCTION nezuko_analytics.refresh_rollup_source(source text, deadline timestamptz, report boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    horizon timestamptz;
    target timestamptz := date_bin('15 minutes', now(), nezuko_analytics.rollup_origin());
    seen tid[];
    buckets timestamptz[];
    run record;
    day_start timestamptz;
    day_end timestamptz;
    chunk_end timestamptz;
    n bigint := 0;
BEGIN
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = refresh_rollup_source.source FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    -- Frozen from here on: it only moves forward (a longer retention later
    -- does not bring pruned raw rows back).
    horizon := greatest(st.frozen_before, nezuko_analytics.rollup_raw_horizon(source));
    -- 1. The pending rows seen now.  Every later read takes a newer snapshot
    -- (READ COMMITTED), so it sees the raw rows these rows stand for.
    SELECT array_agg(p.ctid), array_agg(DISTINCT p.bucket) INTO seen, buckets
    FROM nezuko_analytics.rollup_pending p WHERE p.source = refresh_rollup_source.source;
    -- 2. Pending quarter hours below the watermark: computed again.
    FOR run IN SELECT * FROM nezuko_analytics.rollup_pending_runs(buckets, horizon, st.built_from, st.watermark) LOOP
        IF source = 'verification_log' THEN
            DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        ELSE
            DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        END IF;
        PERFORM nezuko_analytics.rollup_materialize(source, run.lo, run.hi);
        IF source = 'verification_log' THEN
            -- every day the run touches, whole (up to the watermark), unless frozen
            day_start := greatest(date_bin('1 day', run.lo, nezuko_analytics.rollup_origin()),
                                  nezuko_analytics.time_ceil(horizon, interval '24 hours'));
            day_end := nezuko_analytics.time_ceil(run.hi, interval '24 hours');
            IF day_start < day_end THEN
                DELETE FROM nezuko_analytics.rollup_verification_groups g WHERE g.day >= day_start AND g.day < day_end;
                PERFORM nezuko_analytics.rollup_add_groups(day_start, least(day_end, st.watermark));
            END IF;
        END IF;
        st.built_from := least(st.built_from, run.lo);
        n := n + ((extract(epoch FROM run.hi - run.lo) / 900)::bigint);
    END LOOP;
    -- 3. New quarter hours, from the watermark up to the current one (which is
    -- still filling), one day at a time until the deadline.
    WHILE st.watermark < target LOOP
        EXIT WHEN n > 0 AND clock_timestamp() >= deadline;
        -- past a stretch without rows in one step (a row in 4713 BC must not
        -- cost a chunk per day since)
        EXECUTE format('SELECT min(t."timestamp") FROM %I.%I t WHERE t."timestamp" >= $1 AND t."timestamp" < $2',
                       nezuko_analytics.bot_schema(), source)
            INTO chunk_end USING st.watermark, target;
        st.watermark := coalesce(date_bin('15 minutes', chunk_end, nezuko_analytics.rollup_origin()), target);
        CONTINUE WHEN st.watermark >= target;
        chunk_end := least(target, date_bin('1 day', st.watermark, nezuko_analytics.rollup_origin()) + interval '24 hours');
        PERFORM nezuko_analytics.rollup_materialize(source, st.watermark, chunk_end);
        IF source = 'verification_log' THEN
            PERFORM nezuko_analytics.rollup_add_groups(st.watermark, chunk_end);
        END IF;
        n := n + ((extract(epoch FROM chunk_end - st.watermark) / 900)::bigint);
        IF report THEN
            RAISE NOTICE 'nezuko_analytics: rollups of % materialized up to %', source, chunk_end;
        END IF;
        st.watermark := chunk_end;
    END LOOP;
    -- 4. The pending rows seen in step 1 that are dealt with: computed again,
    -- now below the watermark, or frozen.  Later ones stay until the
    -- watermark passes them.
    DELETE FROM nezuko_analytics.rollup_pending p WHERE p.ctid = ANY (seen) AND p.bucket < st.watermark;
    -- 5. Rollups older than keep go (and with them the start of the history).
    IF source = 'verification_log' THEN
        DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket < now() - st.keep;
        DELETE FROM nezuko_analytics.rollup_verification_groups g WHERE g.day < now() - st.keep;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket < now() - st.keep;
    END IF;
    UPDATE nezuko_analytics.rollup_state s
       SET built_from = greatest(st.built_from, least(st.watermark, nezuko_analytics.time_ceil(now() - st.keep, interval '15 minutes'))),
           watermark = st.watermark, frozen_before = horizon
     WHERE s.source = refresh_rollup_source.source;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark (and, for verification_log, the group days they touch) unless frozen, materializes new quarter hours a day at a time up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep; returns how many quarter hours it computed. NOTICEs of progress when report.';
