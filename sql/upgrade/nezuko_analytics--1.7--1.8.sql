-- nezuko_analytics 1.7 -> 1.8, written by hand (docs/versions.md).  Local
-- days kept once for all the names of UTC: rollup_zone() maps Etc/UTC, GMT,
-- Zulu ... to 'UTC' (Debian's default TimeZone is Etc/UTC, and enable_rollups()
-- adds the session's zone, so most installs made UTC's days twice).

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.8'" to load this file. \quit

CREATE FUNCTION nezuko_analytics.rollup_zone(tz text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN lower(tz) IN ('utc', 'etc/utc', 'uct', 'etc/uct', 'universal', 'etc/universal', 'zulu', 'etc/zulu',
                                   'gmt', 'etc/gmt', 'gmt0', 'etc/gmt0', 'gmt+0', 'etc/gmt+0', 'gmt-0', 'etc/gmt-0',
                                   'greenwich', 'etc/greenwich')
                THEN 'UTC' ELSE tz END
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_zone(text) IS
  'The name under which rollup_days keeps the local days of zone tz: ''UTC'' for the names of zones whose offset is always zero (UTC, Etc/UTC, GMT, Zulu and their other tzdata names, in any case), tz itself otherwise.';

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_time_zones(zones text[])
RETURNS text[] LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    z text;
    result text[] := ARRAY['UTC'];
BEGIN
    FOREACH z IN ARRAY coalesce(zones, '{}') LOOP
        IF z IS NULL THEN
            RAISE EXCEPTION 'enable_rollups: a time zone must not be NULL' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM now() AT TIME ZONE z;  -- ERROR 22023 for an unknown zone
        z := nezuko_analytics.rollup_zone(z);
        IF z <> ALL (result) THEN
            result := result || z;
        END IF;
    END LOOP;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_time_zones(text[]) IS
  'The time zones whose local days rollup_days keeps for zones: UTC, then each zone of zones once under its rollup_zone() name, in order; an ERROR (22023) for NULL or an unknown zone.';

CREATE OR REPLACE FUNCTION nezuko_analytics.rollup_plan(source text, since timestamptz, until timestamptz,
                                             recent_since timestamptz DEFAULT NULL, tz text DEFAULT NULL,
                                             OUT usable boolean,
                                             OUT qh_lo timestamptz, OUT qh_hi timestamptz, OUT skip_qh timestamptz[],
                                             OUT day_starts timestamptz[],
                                             OUT qh_from timestamptz[], OUT qh_to timestamptz[],
                                             OUT raw_lo timestamptz[], OUT raw_hi timestamptz[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    pending timestamptz[];
    all_pending boolean;
    day_ends timestamptz[];
    q interval := interval '15 minutes';
BEGIN
    usable := false;
    -- cheapest first: a reader without rollups pays two lookups
    IF NOT nezuko_analytics.use_rollups() OR NOT has_table_privilege('nezuko_analytics.rollup_state', 'SELECT') THEN
        RETURN;
    END IF;
    SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = rollup_plan.source;
    IF NOT FOUND OR NOT nezuko_analytics.rollups_readable(source) THEN
        RETURN;
    END IF;
    SELECT coalesce(array_agg(DISTINCT p.bucket), '{}') INTO pending
    FROM nezuko_analytics.rollup_pending p WHERE p.source = rollup_plan.source;
    all_pending := '-infinity' = ANY (pending);
    -- Quarter hours: inside the window, materialized, and (unless frozen)
    -- not pending; after a TRUNCATE only the frozen ones.
    qh_lo := greatest(nezuko_analytics.time_ceil(since, q), st.built_from);
    qh_hi := least(nezuko_analytics.time_floor(until, q), st.watermark);
    IF all_pending THEN
        qh_hi := least(qh_hi, nezuko_analytics.time_ceil(st.frozen_before, q));
    END IF;
    IF qh_hi <= qh_lo THEN
        RETURN;  -- nothing to take from the rollups
    END IF;
    usable := true;
    skip_qh := ARRAY(SELECT b FROM unnest(pending) b
                     WHERE b >= qh_lo AND b < qh_hi AND b >= st.frozen_before ORDER BY b);
    IF recent_since > qh_lo AND recent_since < qh_hi AND nezuko_analytics.time_floor(recent_since, q) <> recent_since THEN
        skip_qh := skip_qh || nezuko_analytics.time_floor(recent_since, q);  -- counted partly as recent
    END IF;
    -- Local days of tz: inside the quarter hours taken, none of theirs
    -- skipped, and all before recent_since (a day keeps no recent figures).
    SELECT coalesce(array_agg(d.starts_at ORDER BY d.starts_at), '{}'), coalesce(array_agg(d.ends_at ORDER BY d.starts_at), '{}')
      INTO day_starts, day_ends
    FROM nezuko_analytics.rollup_days d
    WHERE d.source = rollup_plan.source AND d.time_zone = nezuko_analytics.rollup_zone(tz)
      AND d.starts_at >= qh_lo AND d.ends_at <= qh_hi
      AND (recent_since IS NULL OR d.ends_at <= recent_since)
      AND NOT EXISTS (SELECT 1 FROM unnest(skip_qh) b WHERE b >= d.starts_at AND b < d.ends_at);
    -- The quarter hours outside those days (disjoint, in order): before the
    -- first, between each and the next, after the last.
    SELECT coalesce(array_agg(e.lo ORDER BY e.lo), '{}'), coalesce(array_agg(e.hi ORDER BY e.lo), '{}')
      INTO qh_from, qh_to
    FROM (SELECT qh_lo AS lo, coalesce(day_starts[1], qh_hi) AS hi
          UNION ALL
          SELECT u.day_end, coalesce(day_starts[u.i + 1], qh_hi) FROM unnest(day_ends) WITH ORDINALITY u(day_end, i)) e
    WHERE e.lo < e.hi;
    -- The raw rows: before and after the quarter hours taken, and the
    -- skipped ones (disjoint, in order).
    SELECT coalesce(array_agg(r.lo ORDER BY r.lo), '{}'), coalesce(array_agg(r.hi ORDER BY r.lo), '{}')
      INTO raw_lo, raw_hi
    FROM (SELECT since AS lo, qh_lo AS hi
          UNION ALL SELECT qh_hi, until
          UNION ALL SELECT b, b + q FROM unnest(skip_qh) b) r
    WHERE r.lo < r.hi;
END;
$$;

CREATE OR REPLACE FUNCTION nezuko_analytics.window_summary_rollups(since timestamptz, until timestamptz, tz text, top_groups integer,
                                                        recent_since timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    v jsonb;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until, recent_since, tz);
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.verification_summary_parts(x.part, x.ts, x.status, x.latency_ms, x.cached, x.group_id,
                                                           x.cell, x.period, $1, $2, $3)::jsonb
        FROM (
            SELECT 'a'::"char" AS part, v."timestamp" AS ts, v.status::text AS status, v.latency_ms, v.cached,
                   v.group_id::bigint AS group_id, NULL::nezuko_analytics.rollup_verifications AS cell, NULL::bytea AS period
            FROM %I.verification_log v WHERE %s
            UNION ALL
            SELECT 'q', NULL, NULL, NULL, NULL, NULL, c, NULL
            FROM nezuko_analytics.rollup_verifications c WHERE (%s) AND c.bucket <> ALL ($6)
            UNION ALL
            SELECT 'p', NULL, NULL, NULL, NULL, NULL, NULL, d.summary
            FROM nezuko_analytics.rollup_days d
            WHERE d.source = 'verification_log' AND d.time_zone = $7 AND d.starts_at = ANY ($8)) x$q$,
        nezuko_analytics.bot_schema(), nezuko_analytics.time_ranges_condition('v."timestamp"', 9, 10, cardinality(p.raw_lo)),
        nezuko_analytics.time_ranges_condition('c.bucket', 4, 5, cardinality(p.qh_from)))
        INTO v
        USING nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since,
              p.qh_from, p.qh_to, p.skip_qh, nezuko_analytics.rollup_zone(tz), p.day_starts, p.raw_lo, p.raw_hi;
    RETURN v;
END;
$$;

-- Enabled rollups: each zone under its rollup_zone() name, and the days of
-- the names that folded into UTC deleted (UTC's own days are always kept).
UPDATE nezuko_analytics.rollup_state s
SET time_zones = nezuko_analytics.rollup_time_zones(s.time_zones)
WHERE s.time_zones <> nezuko_analytics.rollup_time_zones(s.time_zones);
DELETE FROM nezuko_analytics.rollup_days d
USING nezuko_analytics.rollup_state s
WHERE d.source = s.source AND d.time_zone <> ALL (s.time_zones);
