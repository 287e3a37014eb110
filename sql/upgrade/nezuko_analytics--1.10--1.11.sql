-- nezuko_analytics 1.10 -> 1.11, written by hand (docs/versions.md).  1.11
-- writes a rollup build faster: rollup_materialize() deletes the quarter
-- hours it makes again and inserts the new rows (no INSERT ... ON CONFLICT;
-- refresh_rollup_source() leaves that deletion to it), and a quarter hour's
-- latencies and group counts are compressed with lz4 where the server has
-- it.  groups_status_query() runs a static query whose plan is cached; it
-- and members_chart_query() refuse a bot schema the caller may not use with
-- PostgreSQL's own error (the schema no longer drops out of the path
-- unseen).  The rest of 1.11 is in the module (docs/rollups.md).

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.11'" to load this file. \quit

-- Rows stored before keep their compression; those written from now on use lz4.
DO $$
BEGIN
    ALTER TABLE nezuko_analytics.rollup_verifications ALTER COLUMN latencies SET COMPRESSION lz4,
                                                      ALTER COLUMN groups SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;  -- PostgreSQL built without lz4
END;
$$;

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    built record;
BEGIN
    SELECT * INTO built FROM nezuko_analytics.rollup_build(source, lo, hi);
    IF source = 'verification_log' THEN
        DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= lo AND r.bucket < hi;
        INSERT INTO nezuko_analytics.rollup_verifications SELECT (x).* FROM unnest(built.verification) x;
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= lo AND r.bucket < hi;
        INSERT INTO nezuko_analytics.rollup_api_calls SELECT (x).* FROM unnest(built.api) x;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups in one scan (rollup_build()): the rollup rows of those quarter hours are deleted and the new ones inserted. Used by refresh_rollup_source().';

CREATE OR REPLACE FUNCTION nezuko_analytics.refresh_rollup_source(source text, deadline timestamptz, report boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    horizon timestamptz;
    target timestamptz := nezuko_analytics.time_floor(now(), interval '15 minutes');
    seen tid[];
    buckets timestamptz[];
    run record;
    changed_lo timestamptz[] := '{}';  -- the ranges of quarter hours computed, for their local days
    changed_hi timestamptz[] := '{}';
    chunk_days integer;
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
        PERFORM nezuko_analytics.rollup_materialize(source, run.lo, run.hi);  -- each of its quarter hours replaced
        changed_lo := changed_lo || run.lo;
        changed_hi := changed_hi || run.hi;
        st.built_from := least(st.built_from, run.lo);
        n := n + ((extract(epoch FROM run.hi - run.lo) / 900)::bigint);
    END LOOP;
    -- 3. New quarter hours, from the watermark up to the current one (which is
    -- still filling), in chunks of whole days until the deadline: as many
    -- days as hold about 20 million rows by the table's statistics (the build
    -- keeps 4 bytes per latency until a chunk ends), at least one.
    SELECT greatest(1, least(3660, floor(2e7 / greatest(1, c.reltuples
                                                            / greatest(1, extract(epoch FROM target - st.built_from) / 86400)))))::integer
      INTO chunk_days
    FROM pg_class c WHERE c.oid = nezuko_analytics.rollup_source_table(source);
    WHILE st.watermark < target LOOP
        EXIT WHEN n > 0 AND clock_timestamp() >= deadline;
        -- past a stretch without rows in one step (a row in 4713 BC must not
        -- cost a chunk per day since)
        EXECUTE format('SELECT min(t."timestamp") FROM %s t WHERE t."timestamp" >= $1 AND t."timestamp" < $2',
                       nezuko_analytics.rollup_source_table(source))
            INTO chunk_end USING st.watermark, target;
        st.watermark := coalesce(nezuko_analytics.time_floor(chunk_end, interval '15 minutes'), target);
        CONTINUE WHEN st.watermark >= target;
        chunk_end := least(target, nezuko_analytics.time_floor(st.watermark, interval '24 hours') + chunk_days * interval '24 hours');
        PERFORM nezuko_analytics.rollup_materialize(source, st.watermark, chunk_end);
        changed_lo := changed_lo || st.watermark;
        changed_hi := changed_hi || chunk_end;
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
    ELSE
        DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket < now() - st.keep;
    END IF;
    UPDATE nezuko_analytics.rollup_state s
       SET built_from = greatest(st.built_from, least(st.watermark, nezuko_analytics.time_ceil(now() - st.keep, interval '15 minutes'))),
           watermark = st.watermark, frozen_before = horizon
     WHERE s.source = refresh_rollup_source.source
    RETURNING * INTO st;
    -- 6. The local days: those that start before the rollups go, those whose
    -- quarter hours were computed are made again (complete ones only).
    DELETE FROM nezuko_analytics.rollup_days d
    WHERE d.source = refresh_rollup_source.source AND (d.starts_at < st.built_from OR d.time_zone <> ALL (st.time_zones));
    PERFORM nezuko_analytics.rollup_days_rebuild(source, changed_lo, changed_hi, st.time_zones);
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean) IS
  'One refresh of source''s rollups: computes again its pending quarter hours below the watermark unless frozen, materializes new quarter hours in chunks of whole days (about 20 million rows each) up to the current one (stopping at deadline after the first), deletes the pending rows it dealt with and the rollups older than keep, and makes again the local days (rollup_days) of the quarter hours it computed; returns how many quarter hours it computed. NOTICEs of progress when report.';

CREATE OR REPLACE FUNCTION nezuko_analytics.groups_status_query(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- A static query, its plan cached (as members_chart_query()'s): the
    -- bot's schema joins the path after pg_catalog for this one table, and
    -- the SET clause above puts the path back when the function returns.
    -- Planned again on each call (EXECUTE), it cost a sixth more.  A
    -- schema the caller may not use would drop out of the path unseen:
    -- refused first, with the error a qualified name gets (require_select()'s
    -- first check, written out: the call cost 20-40 us, a twentieth of
    -- these sub-millisecond contracts; members_chart_query() does the same).
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT count(*) FILTER (WHERE p.enabled), count(*) FILTER (WHERE NOT p.enabled), count(*)
      INTO enabled, disabled, total
    FROM protected_groups p;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_query(name) IS
  'bot.protected_groups from one query: enabled, disabled (enabled = false) and total rows.';

CREATE OR REPLACE FUNCTION nezuko_analytics.members_chart_query(bot name, top integer)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    result json;
BEGIN
    -- A static query (its plan cached, as the original's is): the bot's
    -- schema joins the path after pg_catalog, for its two tables only, and
    -- the SET clause above puts the path back when the function returns.
    -- Its plan is the generic one: with LIMIT top unknown, the planner
    -- would otherwise find a custom plan cheaper each time and plan the
    -- query again on every call, which costs more than running it.  The
    -- names are made for the rows kept only.  A schema the caller may not
    -- use would drop out of the path unseen: refused first, with the error
    -- a qualified name gets (as in groups_status_query()).
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('search_path', format('pg_catalog, %I, pg_temp', bot), true);
    SELECT json_build_object(
        'channels', (SELECT coalesce(json_agg(json_build_object('name', coalesce(c.title, 'Channel ' || c.id), 'members', c.members)
                                              ORDER BY c.members DESC, c.id), '[]'::json)
                     FROM (SELECT e.channel_id AS id, e.title, coalesce(e.subscriber_count, 0) AS members
                           FROM enforced_channels e ORDER BY coalesce(e.subscriber_count, 0) DESC, e.channel_id LIMIT top) c),
        'groups', (SELECT coalesce(json_agg(json_build_object('name', coalesce(g.title, 'Group ' || g.id), 'members', g.members)
                                            ORDER BY g.members DESC, g.id), '[]'::json)
                   FROM (SELECT p.group_id AS id, p.title, coalesce(p.member_count, 0) AS members
                         FROM protected_groups p ORDER BY coalesce(p.member_count, 0) DESC, p.group_id LIMIT top) g))
    INTO result;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.members_chart_query(name, integer) IS
  'get_members_chart_data''s document from one query: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0).';

