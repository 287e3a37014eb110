-- Reading a window from rollups and raw rows (docs/rollups.md): the local
-- days and quarter hours that are materialized and not pending come from the
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
       AND has_table_privilege('nezuko_analytics.rollup_days', 'SELECT');
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.rollups_readable(text) IS
  'Whether the current role may read source through its rollups: it reads every row of the bot''s table itself (SELECT, no row-level security for it) and may read the rollup tables. Otherwise its readers read the raw rows (with their row-level security).';

-- What a reader of [since, until) takes from the rollups of source (local
-- days of zone tz, and quarter hours), and which ranges of raw rows it reads
-- besides.
CREATE FUNCTION nezuko_analytics.rollup_plan(source text, since timestamptz, until timestamptz,
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
COMMENT ON FUNCTION nezuko_analytics.rollup_plan(text, timestamptz, timestamptz, timestamptz, text) IS
  'How a reader of source over [since, until) uses the rollups: usable (false: raw rows only, as with use_rollups off or rollups not enabled), the quarter hours [qh_lo, qh_hi) taken from the rollups except skip_qh (pending, or cut by recent_since); of those, the local days of tz kept in rollup_days (day_starts: wholly inside, none of their quarter hours skipped, ending by recent_since) and the quarter hours outside them ([qh_from[i], qh_to[i])); and the ranges [raw_lo[i], raw_hi[i]) of raw rows to read besides.';

-- Time ranges as a condition on each array element: EXECUTE plans with
-- its parameters' values, so the planner estimates each range from the
-- column's statistics (a join to unnest() of the arrays it cannot), reads a
-- few minutes at the edges without parallel workers (whose start costs more
-- than the whole read), and still gives a long range its workers.  The same
-- for the quarter hours of rollups outside the local days taken.
CREATE FUNCTION nezuko_analytics.time_ranges_condition(col text, lo_param integer, hi_param integer, n integer)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(string_agg(format('(%1$s >= ($%2$s)[%3$s] AND %1$s < ($%4$s)[%3$s])', col, lo_param, i, hi_param),
                               ' OR ' ORDER BY i), 'false')
    FROM generate_series(1, coalesce(n, 0)) i
$$;
COMMENT ON FUNCTION nezuko_analytics.time_ranges_condition(text, integer, integer, integer) IS
  'SQL text of the condition "col in one of the ranges [$lo_param[i], $hi_param[i]) for i in 1..n" (false for none), each range on its own, so that a plan made with the parameters'' values estimates each from the column''s statistics. Used by the rollup readers for their raw rows and quarter hours.';

-- The dashboard's aggregates over raw rows and rollup rows together: the
-- state, combine, serialize, deserialize and final functions of
-- verification_summary and api_summary, with a transition that also takes
-- rollup rows (src/pg/rollup_summary_agg.cpp).
CREATE FUNCTION nezuko_analytics.verification_summary_parts_add(
    internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications,
    bytea, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_rollup_add';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_parts_add(internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, bytea, bigint[], integer, timestamptz) IS
  'Transition function of verification_summary_parts and verification_summary_state.';

CREATE AGGREGATE nezuko_analytics.verification_summary_parts(
    part "char", "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    cell nezuko_analytics.rollup_verifications, period bytea,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary_parts("char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, bytea, bigint[], integer, timestamptz) IS
  'verification_summary over raw rows and rollups together, by part: ''a'' a raw row, ''q'' a quarter hour of rollups with its groups (cell), ''p'' a local day of rollup_days (period: its summary state, made in the same zone). The same document as verification_summary over the rows they stand for.';

CREATE FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_parts_add';
COMMENT ON FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea) IS
  'Transition function of api_summary_parts and api_summary_state.';

CREATE AGGREGATE nezuko_analytics.api_summary_parts(method text, success boolean, latency_ms integer,
                                                    cell nezuko_analytics.rollup_api_calls, period bytea) (
    SFUNC = nezuko_analytics.api_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary_parts(text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea) IS
  'api_summary over raw calls (cell and period NULL), quarter hours of rollup_api_calls (cell) and local days of rollup_days (period: their summary state) together: the same document as api_summary over the calls they stand for.';

-- The local days: the dashboard's summary state of a day's quarter hours,
-- made by the readers' own aggregates (their transition, with the serialize
-- function as final function), so a day merges exactly as its quarter hours
-- would.
CREATE AGGREGATE nezuko_analytics.verification_summary_state(
    part "char", "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    cell nezuko_analytics.rollup_verifications, period bytea,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_serialize
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary_state("char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications, bytea, bigint[], integer, timestamptz) IS
  'verification_summary_parts'' state in its binary form instead of the document: what rollup_days keeps of a local day (its quarter hours, in that day''s zone), and what verification_summary_parts merges back as a part ''p''.';

CREATE AGGREGATE nezuko_analytics.api_summary_state(method text, success boolean, latency_ms integer,
                                                    cell nezuko_analytics.rollup_api_calls, period bytea) (
    SFUNC = nezuko_analytics.api_summary_parts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_serialize
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary_state(text, boolean, integer, nezuko_analytics.rollup_api_calls, bytea) IS
  'api_summary_parts'' state in its binary form instead of the document: what rollup_days keeps of a local day of api_call_log, and what api_summary_parts merges back as a period.';

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
COMMENT ON FUNCTION nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz) IS
  'window_summary() from rollups (local days of tz, quarter hours) and raw rows (rollup_plan()); NULL when the rollups give nothing to this window (then window_summary() reads the raw rows alone).';

CREATE FUNCTION nezuko_analytics.api_window_summary_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    a jsonb;
BEGIN
    -- the calls have no local time: the UTC days serve every zone's window
    SELECT * INTO p FROM nezuko_analytics.rollup_plan('api_call_log', since, until, NULL, 'UTC');
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.api_summary_parts(x.method, x.success, x.latency_ms, x.cell, x.period)::jsonb
        FROM (
            SELECT a.method::text AS method, a.success, a.latency_ms, NULL::nezuko_analytics.rollup_api_calls AS cell,
                   NULL::bytea AS period
            FROM %I.api_call_log a WHERE %s
            UNION ALL
            SELECT NULL, NULL, NULL, c, NULL
            FROM nezuko_analytics.rollup_api_calls c WHERE (%s) AND c.bucket <> ALL ($3)
            UNION ALL
            SELECT NULL, NULL, NULL, NULL, d.summary
            FROM nezuko_analytics.rollup_days d
            WHERE d.source = 'api_call_log' AND d.time_zone = 'UTC' AND d.starts_at = ANY ($4)) x$q$,
        bot, nezuko_analytics.time_ranges_condition('a."timestamp"', 5, 6, cardinality(p.raw_lo)),
        nezuko_analytics.time_ranges_condition('c.bucket', 1, 2, cardinality(p.qh_from)))
        INTO a USING p.qh_from, p.qh_to, p.skip_qh, p.day_starts, p.raw_lo, p.raw_hi;
    RETURN a;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz) IS
  'api_window_summary() from rollups (UTC days, quarter hours) and raw rows (rollup_plan()); NULL when the rollups give nothing to this window.';

-- The latency charts from rollups: every latency of a window, merged from
-- the raw rows' distribution, the quarter hours' and the UTC days'.
CREATE FUNCTION nezuko_analytics.rollup_day_latencies(source text, summary bytea)
RETURNS nezuko_analytics.latency_dist LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_rollup_day_latencies';
COMMENT ON FUNCTION nezuko_analytics.rollup_day_latencies(text, bytea) IS
  'Every latency of a local day of rollup_days of source (verification_log or api_call_log), from its summary state.';

CREATE FUNCTION nezuko_analytics.latency_dist_rollups(bot name, source text, since timestamptz, until timestamptz)
RETURNS nezuko_analytics.latency_dist
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    d nezuko_analytics.latency_dist;
BEGIN
    SELECT * INTO p FROM nezuko_analytics.rollup_plan(source, since, until, NULL, 'UTC');
    IF NOT p.usable THEN
        RETURN NULL;
    END IF;
    EXECUTE format($q$
        SELECT nezuko_analytics.merge(x.d)
        FROM (
            SELECT nezuko_analytics.latency_dist(r.latency_ms) AS d FROM %I.%I r WHERE %s
            UNION ALL
            SELECT c.latencies FROM nezuko_analytics.%I c WHERE (%s) AND c.bucket <> ALL ($3)
            UNION ALL
            SELECT nezuko_analytics.rollup_day_latencies($7, y.summary)
            FROM nezuko_analytics.rollup_days y
            WHERE y.source = $7 AND y.time_zone = 'UTC' AND y.starts_at = ANY ($4)) x$q$,
        bot, source, nezuko_analytics.time_ranges_condition('r."timestamp"', 5, 6, cardinality(p.raw_lo)),
        CASE source WHEN 'verification_log' THEN 'rollup_verifications' ELSE 'rollup_api_calls' END,
        nezuko_analytics.time_ranges_condition('c.bucket', 1, 2, cardinality(p.qh_from)))
        INTO d USING p.qh_from, p.qh_to, p.skip_qh, p.day_starts, p.raw_lo, p.raw_hi, source;
    RETURN d;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_dist_rollups(name, text, timestamptz, timestamptz) IS
  'Every latency of bot.source (verification_log or api_call_log) in [since, until), from the rollups (UTC days, quarter hours) and the raw rows they leave (rollup_plan()); NULL when the rollups give nothing to this window. The latency charts'' read where the rollups serve.';

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
    FOR i IN 1 .. coalesce(cardinality(p.raw_lo), 0) LOOP
        r := nezuko_analytics.verification_counts_raw(bot, p.raw_lo[i], p.raw_hi[i], today,
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
        FROM unnest(p.raw_lo, p.raw_hi) r(lo, hi),
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
    groups jsonb := nezuko_analytics.groups_from_rollups(since, until, top);
BEGIN
    IF groups IS NULL THEN
        RETURN;  -- NULL arrays: read the raw rows
    END IF;
    SELECT coalesce(array_agg((g->>'group_id')::bigint ORDER BY o), '{}'), coalesce(array_agg((g->>'count')::bigint ORDER BY o), '{}'),
           coalesce(array_agg((g->>'verified')::bigint ORDER BY o), '{}')
      INTO group_ids, calls, ok
    FROM jsonb_array_elements(groups) WITH ORDINALITY e(g, o);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_rollups(name, timestamptz, timestamptz, integer) IS
  'group_counts() from rollups: the top groups (ties by group_id) of groups_from_rollups() as arrays; NULL arrays where that gives nothing (no rollups here, group 0 among the top, a window from -infinity, a negative latency).';

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
