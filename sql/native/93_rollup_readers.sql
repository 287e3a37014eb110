-- Reading a window from rollups and raw rows (docs/rollups.md): the quarter
-- hours (and group days) that are materialized and not pending come from the
-- rollups; the rest of the window (its partial quarter hours at the edges,
-- what is after the watermark, pending quarter hours, the quarter hour that
-- recent_since cuts) from the raw rows, in the same snapshot.  The result
-- equals the raw rows' alone: nezuko_analytics.use_rollups = off reads those.

CREATE FUNCTION nezuko_analytics.use_rollups()
RETURNS boolean LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(current_setting('nezuko_analytics.use_rollups', true), 'on')::boolean $$;
COMMENT ON FUNCTION nezuko_analytics.use_rollups() IS
  'The setting nezuko_analytics.use_rollups (default on): off makes every reader use the raw rows only.';

-- Rollups count every row of the bot's table: a role reads them only where
-- it reads every row itself (SELECT, no row-level security for it) and may
-- read the rollup tables (granted to the installing role; grant SELECT on
-- them to others that read all rows, such as Supabase's service_role).
CREATE FUNCTION nezuko_analytics.rollups_readable(source text)
RETURNS boolean LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass := nezuko_analytics.rollup_source_table(source);
BEGIN
    RETURN target IS NOT NULL
       AND has_table_privilege(target, 'SELECT') AND NOT row_security_active(target)
       AND has_table_privilege('nezuko_analytics.rollup_state', 'SELECT')
       AND has_table_privilege('nezuko_analytics.rollup_pending', 'SELECT')
       AND has_table_privilege(CASE source WHEN 'verification_log' THEN 'nezuko_analytics.rollup_verifications'
                                           ELSE 'nezuko_analytics.rollup_api_calls' END, 'SELECT')
       AND (source <> 'verification_log' OR has_table_privilege('nezuko_analytics.rollup_verification_groups', 'SELECT'));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollups_readable(text) IS
  'Whether the current role may read source through its rollups: it reads every row of the bot''s table itself (SELECT, no row-level security for it) and may read the rollup tables. Otherwise its readers read the raw rows (with their row-level security).';

-- What a reader of [since, until) takes from the rollups of source, and
-- which ranges of raw rows it reads besides.
CREATE FUNCTION nezuko_analytics.rollup_plan(source text, since timestamptz, until timestamptz,
                                             recent_since timestamptz DEFAULT NULL,
                                             OUT usable boolean,
                                             OUT qh_lo timestamptz, OUT qh_hi timestamptz, OUT skip_qh timestamptz[],
                                             OUT day_lo timestamptz, OUT day_hi timestamptz, OUT groups_hi timestamptz,
                                             OUT skip_days timestamptz[],
                                             OUT raw_lo timestamptz[], OUT raw_hi timestamptz[],
                                             OUT figures_lo timestamptz[], OUT figures_hi timestamptz[],
                                             OUT groups_lo timestamptz[], OUT groups_hi_ranges timestamptz[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st nezuko_analytics.rollup_state;
    pending timestamptz[];
    all_pending boolean;
    q interval := interval '15 minutes';
    d interval := interval '24 hours';
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
    -- Group days (verification_log): whole days inside the window up to the
    -- watermark (a day's rollup covers it up to the watermark), not pending
    -- unless frozen.
    day_lo := greatest(nezuko_analytics.time_ceil(since, d), nezuko_analytics.time_floor(st.built_from, d));
    day_hi := CASE WHEN until >= st.watermark THEN nezuko_analytics.time_ceil(st.watermark, d)
                   ELSE nezuko_analytics.time_floor(until, d) END;
    IF all_pending THEN
        day_hi := least(day_hi, nezuko_analytics.time_ceil(st.frozen_before, d));
    END IF;
    IF day_hi <= day_lo OR source <> 'verification_log' THEN
        day_lo := since;  -- no group day: every row counts in the groups raw
        day_hi := since;
    END IF;
    groups_hi := least(day_hi, st.watermark);
    IF day_hi = day_lo THEN
        groups_hi := since;
    END IF;
    skip_days := ARRAY(SELECT DISTINCT nezuko_analytics.time_floor(b, d) FROM unnest(pending) b
                       WHERE isfinite(b) AND nezuko_analytics.time_floor(b, d) >= day_lo
                         AND nezuko_analytics.time_floor(b, d) < day_hi
                         AND nezuko_analytics.time_floor(b, d) >= st.frozen_before ORDER BY 1);
    -- The raw rows: outside the quarter hours taken, or (verification_log)
    -- outside the group days taken; as few ranges as they make.
    WITH ranges AS (
        SELECT since AS lo, qh_lo AS hi
        UNION ALL SELECT qh_hi, until
        UNION ALL SELECT b, b + q FROM unnest(skip_qh) b
        UNION ALL SELECT since, day_lo WHERE source = 'verification_log'
        UNION ALL SELECT greatest(groups_hi, since), until WHERE source = 'verification_log'
        UNION ALL SELECT greatest(b, since), least(b + d, until) FROM unnest(skip_days) b),
    ordered AS (
        SELECT lo, hi, max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
        FROM ranges WHERE lo < hi),
    runs AS (
        SELECT lo, hi, count(*) FILTER (WHERE reach IS NULL OR lo > reach) OVER (ORDER BY lo, hi) AS run FROM ordered)
    SELECT coalesce(array_agg(m.lo ORDER BY m.lo), '{}'), coalesce(array_agg(m.hi ORDER BY m.lo), '{}')
      INTO raw_lo, raw_hi
    FROM (SELECT min(lo) AS lo, max(hi) AS hi FROM runs GROUP BY run) m;
    -- The raw rows of the figures alone (a reader without groups): before
    -- and after the quarter hours taken, and the skipped ones (disjoint,
    -- in order).
    SELECT coalesce(array_agg(r.lo ORDER BY r.lo), '{}'), coalesce(array_agg(r.hi ORDER BY r.lo), '{}')
      INTO figures_lo, figures_hi
    FROM (SELECT since AS lo, qh_lo AS hi
          UNION ALL SELECT qh_hi, until
          UNION ALL SELECT b, b + q FROM unnest(skip_qh) b) r
    WHERE r.lo < r.hi;
    -- ... and those of a reader of the groups alone.
    SELECT coalesce(array_agg(r.lo ORDER BY r.lo), '{}'), coalesce(array_agg(r.hi ORDER BY r.lo), '{}')
      INTO groups_lo, groups_hi_ranges
    FROM (SELECT since AS lo, day_lo AS hi
          UNION ALL SELECT greatest(groups_hi, since), until
          UNION ALL SELECT greatest(b, since), least(b + d, until) FROM unnest(skip_days) b) r
    WHERE r.lo < r.hi;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollup_plan(text, timestamptz, timestamptz, timestamptz) IS
  'How a reader of source over [since, until) uses the rollups: usable (false: raw rows only, as with use_rollups off or rollups not enabled), the quarter hours [qh_lo, qh_hi) taken from the rollups except skip_qh (pending, or cut by recent_since), the group days [day_lo, day_hi) (covering up to groups_hi) except skip_days, the ranges [raw_lo[i], raw_hi[i]) of raw rows to read besides, [figures_lo[i], figures_hi[i]) those of a reader without groups, and [groups_lo[i], groups_hi_ranges[i]) those of a reader of the groups alone.';

-- The dashboard's aggregates over raw rows and rollup rows together: the
-- state, combine, serialize, deserialize and final functions of
-- verification_summary and api_summary, with a transition that also takes
-- rollup rows (src/pg/rollup_summary_agg.cpp).
CREATE FUNCTION nezuko_analytics.verification_summary_parts_add(
    internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications,
    nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_parts_add';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_parts_add(internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz) IS
  'Transition function of verification_summary_parts.';

CREATE AGGREGATE nezuko_analytics.verification_summary_parts(
    part "char", "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    cell nezuko_analytics.rollup_verifications, group_cell nezuko_analytics.rollup_verification_groups,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary_parts("char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz) IS
  'verification_summary over raw rows and rollup rows together, by part: ''a'' a raw row, ''f'' a raw row counted in every figure but the groups, ''g'' a raw row counted in the groups only, ''q'' a quarter hour of rollups (cell), ''d'' a group day of rollups (group_cell). The same document as verification_summary over the rows they stand for.';

CREATE FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_parts_add';
COMMENT ON FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls) IS
  'Transition function of api_summary_parts.';

CREATE AGGREGATE nezuko_analytics.api_summary_parts(method text, success boolean, latency_ms integer,
                                                    cell nezuko_analytics.rollup_api_calls) (
    SFUNC = nezuko_analytics.api_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary_parts(text, boolean, integer, nezuko_analytics.rollup_api_calls) IS
  'api_summary over raw rows (cell NULL) and quarter hours of rollup_api_calls (cell) together: the same document as api_summary over the calls they stand for.';

CREATE FUNCTION nezuko_analytics.window_summary_rollups(since timestamptz, until timestamptz, tz text, top_groups integer,
                                                        recent_since timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    v jsonb;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until, recent_since);
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.verification_summary_parts(x.part, x.ts, x.status, x.latency_ms, x.cached, x.group_id,
                                                           x.cell, x.group_cell, $1, $2, $3)::jsonb
        FROM (
            SELECT CASE WHEN k.figures AND k.groups THEN 'a' WHEN k.figures THEN 'f' ELSE 'g' END::"char" AS part,
                   v."timestamp" AS ts, v.status::text AS status, v.latency_ms, v.cached, v.group_id::bigint AS group_id,
                   NULL::nezuko_analytics.rollup_verifications AS cell,
                   NULL::nezuko_analytics.rollup_verification_groups AS group_cell
            FROM unnest($4, $5) r(lo, hi)
            JOIN %I.verification_log v ON v."timestamp" >= r.lo AND v."timestamp" < r.hi
            CROSS JOIN LATERAL (
                SELECT v."timestamp" < $6 OR v."timestamp" >= $7
                       OR date_bin('15 minutes', v."timestamp", nezuko_analytics.rollup_origin()) = ANY ($8) AS figures,
                       v."timestamp" < $9 OR v."timestamp" >= $10
                       OR date_bin('1 day', v."timestamp", nezuko_analytics.rollup_origin()) = ANY ($11) AS groups) k
            UNION ALL
            SELECT 'q', NULL, NULL, NULL, NULL, NULL, c, NULL
            FROM nezuko_analytics.rollup_verifications c
            WHERE c.bucket >= $6 AND c.bucket < $7 AND c.bucket <> ALL ($8)
            UNION ALL
            SELECT 'd', NULL, NULL, NULL, NULL, NULL, NULL, g
            FROM nezuko_analytics.rollup_verification_groups g
            WHERE g.day >= $9 AND g.day < $12 AND g.day <> ALL ($11)) x$q$, nezuko_analytics.bot_schema())
        INTO v
        USING nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since, p.raw_lo, p.raw_hi,
              p.qh_lo, p.qh_hi, p.skip_qh, p.day_lo, p.groups_hi, p.skip_days, p.day_hi;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz) IS
  'window_summary() from rollups and raw rows (rollup_plan()); NULL when the rollups give nothing to this window (then window_summary() reads the raw rows alone).';

CREATE FUNCTION nezuko_analytics.api_window_summary_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    a jsonb;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('api_call_log', since, until);
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.api_summary_parts(x.method, x.success, x.latency_ms, x.cell)::jsonb
        FROM (
            SELECT a.method::text AS method, a.success, a.latency_ms, NULL::nezuko_analytics.rollup_api_calls AS cell
            FROM unnest($1, $2) r(lo, hi)
            JOIN %I.api_call_log a ON a."timestamp" >= r.lo AND a."timestamp" < r.hi
            UNION ALL
            SELECT NULL, NULL, NULL, c
            FROM nezuko_analytics.rollup_api_calls c
            WHERE c.bucket >= $3 AND c.bucket < $4 AND c.bucket <> ALL ($5)) x$q$, bot)
        INTO a USING p.raw_lo, p.raw_hi, p.qh_lo, p.qh_hi, p.skip_qh;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz) IS
  'api_window_summary() from rollups and raw rows (rollup_plan()); NULL when the rollups give nothing to this window.';

-- The counts of the fixed-window contracts and get_analytics_overview from
-- rollups: sums over the quarter hours taken, plus the raw reads of the rest.
CREATE FUNCTION nezuko_analytics.verification_counts_rollups(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    r record;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until, today);
    IF NOT p.usable THEN
        RETURN;  -- every field NULL: read the raw rows
    END IF;
    SELECT coalesce(sum(c.total), 0), coalesce(sum(c.total) FILTER (WHERE c.bucket >= today), 0),
           CASE WHEN with_status THEN coalesce(sum(c.verified), 0) ELSE 0 END,
           CASE WHEN with_status THEN coalesce(sum(c.restricted), 0) ELSE 0 END,
           CASE WHEN with_status THEN coalesce(sum(c.error), 0) ELSE 0 END,
           CASE WHEN with_cached THEN coalesce(sum(c.cached), 0) ELSE 0 END,
           CASE WHEN with_latency THEN coalesce(sum(c.latency_count), 0) ELSE 0 END,
           CASE WHEN with_latency THEN coalesce(sum(c.latency_sum), 0) ELSE 0 END
      INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
    FROM nezuko_analytics.rollup_verifications c
    WHERE c.bucket >= p.qh_lo AND c.bucket < p.qh_hi AND c.bucket <> ALL (p.skip_qh);
    FOR i IN 1 .. coalesce(cardinality(p.figures_lo), 0) LOOP
        r := nezuko_analytics.verification_counts_raw(bot, p.figures_lo[i], p.figures_hi[i], today,
                                                      with_status, with_cached, with_latency);
        total := total + r.total; today_count := today_count + r.today_count; verified := verified + r.verified;
        restricted := restricted + r.restricted; error := error + r.error; cached := cached + r.cached;
        latency_rows := latency_rows + r.latency_rows; latency_sum := latency_sum + r.latency_sum;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_rollups(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'verification_counts() from rollups: the sums of the quarter hours rollup_plan() takes (today cuts like recent_since), plus verification_counts_raw() over the rest of the window; every field NULL when the rollups give nothing to this window.';

CREATE FUNCTION nezuko_analytics.api_counts_rollups(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('api_call_log', since, until);
    IF NOT p.usable THEN
        RETURN;  -- NULL arrays: read the raw rows
    END IF;
    WITH parts AS (
        SELECT c.method, c.calls, c.ok FROM nezuko_analytics.rollup_api_calls c
        WHERE c.bucket >= p.qh_lo AND c.bucket < p.qh_hi AND c.bucket <> ALL (p.skip_qh)
        UNION ALL
        SELECT u.method, u.calls, u.ok
        FROM unnest(p.figures_lo, p.figures_hi) r(lo, hi),
             nezuko_analytics.api_counts_raw(bot, r.lo, r.hi) a, unnest(a.methods, a.calls, a.ok) u(method, calls, ok))
    SELECT coalesce(array_agg(m.method), '{}'), coalesce(array_agg(m.calls), '{}'), coalesce(array_agg(m.ok), '{}')
      INTO methods, calls, ok
    FROM (SELECT method, sum(parts.calls)::bigint AS calls, sum(parts.ok)::bigint AS ok FROM parts GROUP BY method) m;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_rollups(name, timestamptz, timestamptz) IS
  'api_counts() from rollups: calls and successes by method of the quarter hours rollup_plan() takes, plus api_counts_raw() over the rest of the window; NULL arrays when the rollups give nothing to this window.';

CREATE FUNCTION nezuko_analytics.group_counts_rollups(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('verification_log', since, until);
    IF NOT p.usable OR p.day_hi <= p.day_lo THEN
        RETURN;  -- no whole day to take: read the raw rows
    END IF;
    WITH parts AS (
        SELECT g.group_id, g.total AS n, g.verified AS s FROM nezuko_analytics.rollup_verification_groups g
        WHERE g.day >= p.day_lo AND g.day < p.day_hi AND g.day <> ALL (p.skip_days)
        UNION ALL
        SELECT u.group_id, u.n, u.s
        FROM unnest(p.groups_lo, p.groups_hi_ranges) r(lo, hi),
             nezuko_analytics.group_counts_raw(bot, r.lo, r.hi, 2147483647) x,
             unnest(x.group_ids, x.calls, x.ok) u(group_id, n, s)),
    summed AS (
        SELECT parts.group_id, sum(parts.n)::bigint AS n, sum(parts.s)::bigint AS s FROM parts GROUP BY parts.group_id
        ORDER BY n DESC, parts.group_id LIMIT top)
    SELECT coalesce(array_agg(summed.group_id ORDER BY summed.n DESC, summed.group_id), '{}'),
           coalesce(array_agg(summed.n ORDER BY summed.n DESC, summed.group_id), '{}'),
           coalesce(array_agg(summed.s ORDER BY summed.n DESC, summed.group_id), '{}')
      INTO group_ids, calls, ok
    FROM summed;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_rollups(name, timestamptz, timestamptz, integer) IS
  'group_counts() from rollups: the group days rollup_plan() takes plus group_counts_raw() over the rest of the window, summed per group, the top ones (ties by group_id); NULL arrays when the rollups give no whole day to this window.';

CREATE FUNCTION nezuko_analytics.verification_counts_scan(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.verification_counts_rollups(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n.total IS NULL THEN  -- no rollups here: the query (parallel over long windows)
        n := nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
    total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
    error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_scan(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'The counts of verification_log over a window of any length (get_analytics_overview): from the rollups where they serve (verification_counts_rollups()), else verification_counts_query() (parallel over long windows; the native read serves the fixed windows of verification_counts()).';
