-- dashboard(): every window-based chart in one document, from one scan of
-- verification_log and one of api_call_log in the window.

CREATE FUNCTION nezuko_analytics.tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result bigint[];
    prev_offset bigint;
    day_start timestamptz;
    q timestamptz;
    q_offset bigint;
BEGIN
    -- offset(t) = local wall clock - UTC wall clock, in microseconds; the
    -- start of each segment in microseconds since 2000-01-01 UTC.
    FOR day_start IN SELECT generate_series(date_trunc('day', since, 'UTC') - interval '1 day',
                                            until + interval '1 day', interval '1 day') LOOP
        q_offset := (extract(epoch FROM (day_start AT TIME ZONE tz) - (day_start AT TIME ZONE 'UTC')) * 1000000)::bigint;
        IF prev_offset IS NULL THEN
            result := ARRAY[((extract(epoch FROM day_start) - 946684800) * 1000000)::bigint, q_offset];
        ELSIF q_offset <> prev_offset THEN
            -- the offset changed during the previous day: find each quarter hour where it did
            FOR q IN SELECT generate_series(day_start - interval '1 day' + interval '15 minutes', day_start, interval '15 minutes') LOOP
                q_offset := (extract(epoch FROM (q AT TIME ZONE tz) - (q AT TIME ZONE 'UTC')) * 1000000)::bigint;
                IF q_offset <> prev_offset THEN
                    result := result || ARRAY[((extract(epoch FROM q) - 946684800) * 1000000)::bigint, q_offset];
                    prev_offset := q_offset;
                END IF;
            END LOOP;
        END IF;
        prev_offset := q_offset;
    END LOOP;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.tz_offsets(timestamptz, timestamptz, text) IS
  'The UTC offsets of time zone tz over [since, until) as (segment start, offset) pairs in microseconds (starts since 2000-01-01 UTC), found to the quarter hour; what the dashboard aggregate uses to place each row in its local hour and day.';

CREATE FUNCTION nezuko_analytics.verification_summary_add(internal, timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_add';
CREATE FUNCTION nezuko_analytics.verification_summary_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_combine';
CREATE FUNCTION nezuko_analytics.verification_summary_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_serialize';
CREATE FUNCTION nezuko_analytics.verification_summary_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_deserialize';
CREATE FUNCTION nezuko_analytics.verification_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_final';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_add(internal, timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS 'Transition function of verification_summary.';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_combine(internal, internal) IS 'Combine function of verification_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_serialize(internal) IS 'Serialize function of verification_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_deserialize(bytea, internal) IS 'Deserialize function of verification_summary (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.verification_summary_final(internal) IS 'Final function of verification_summary: the raw JSON document.';

CREATE AGGREGATE nezuko_analytics.verification_summary(
    "timestamp" timestamptz, status text, latency_ms integer, cached boolean, group_id bigint,
    tz_offsets bigint[], top_groups integer, recent_since timestamptz) (
    SFUNC = nezuko_analytics.verification_summary_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_summary_final,
    COMBINEFUNC = nezuko_analytics.verification_summary_combine,
    SERIALFUNC = nezuko_analytics.verification_summary_serialize,
    DESERIALFUNC = nezuko_analytics.verification_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.verification_summary(timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS
  'Every verification_log chart in one pass: totals by status, cached, latency buckets and exact p50/p95/p99, counts per local hour, the top groups, per local day count, verified, cached, latency sum and exact p95 (local time from tz_offsets), and the same totals for rows at or after recent_since. Returns raw JSON text. Parallel safe.';

CREATE FUNCTION nezuko_analytics.api_summary_add(internal, text, boolean, integer) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_add';
CREATE FUNCTION nezuko_analytics.api_summary_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_combine';
CREATE FUNCTION nezuko_analytics.api_summary_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_serialize';
CREATE FUNCTION nezuko_analytics.api_summary_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_deserialize';
CREATE FUNCTION nezuko_analytics.api_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_final';
COMMENT ON FUNCTION nezuko_analytics.api_summary_add(internal, text, boolean, integer) IS 'Transition function of api_summary.';
COMMENT ON FUNCTION nezuko_analytics.api_summary_combine(internal, internal) IS 'Combine function of api_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.api_summary_serialize(internal) IS 'Serialize function of api_summary (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.api_summary_deserialize(bytea, internal) IS 'Deserialize function of api_summary (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.api_summary_final(internal) IS 'Final function of api_summary: the raw JSON document.';

CREATE AGGREGATE nezuko_analytics.api_summary(method text, success boolean, latency_ms integer) (
    SFUNC = nezuko_analytics.api_summary_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.api_summary_final,
    COMBINEFUNC = nezuko_analytics.api_summary_combine,
    SERIALFUNC = nezuko_analytics.api_summary_serialize,
    DESERIALFUNC = nezuko_analytics.api_summary_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.api_summary(text, boolean, integer) IS
  'Every api_call_log chart in one pass: calls, successes, failures, latency sum and exact p95, and per method the same with p50. Returns raw JSON text. Parallel safe.';

CREATE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
                                                top_groups integer DEFAULT 10, recent_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    EXECUTE format('SELECT nezuko_analytics.verification_summary(v."timestamp", v.status::text, v.latency_ms, v.cached,'
                   ' v.group_id::bigint, $3, $4, $5)::jsonb FROM %I.verification_log v'
                   ' WHERE v."timestamp" >= $1 AND v."timestamp" < $2', nezuko_analytics.bot_schema())
        -- offsets up to a year past now(): rows further ahead take the last known offset
        INTO v USING since, until, nezuko_analytics.tz_offsets(since, greatest(since, least(until, now() + interval '1 year')), tz),
                     top_groups, recent_since;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The raw one-pass summary of verification_log in [since, until) with local hours and days in tz (one scan); shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.dashboard(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name;
    v jsonb;
    a jsonb;
    latency_avg numeric;
    health jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'dashboard: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR before any scan
    bot := nezuko_analytics.bot_schema();
    v := nezuko_analytics.window_summary(since, until, tz);
    EXECUTE format('SELECT nezuko_analytics.api_summary(a.method::text, a.success, a.latency_ms)::jsonb'
                   ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', bot)
        INTO a USING since, until;
    latency_avg := CASE WHEN (v->>'latency_count')::bigint = 0 THEN NULL
                        ELSE round((v->>'latency_sum')::numeric / (v->>'latency_count')::numeric, 0) END;
    health := to_jsonb(nezuko_analytics.health_figures(
        (a->>'calls')::bigint, (a->>'ok')::bigint, (v->>'total')::bigint, (v->>'cached')::bigint,
        (v->>'verified')::bigint, (v->>'error')::bigint, latency_avg));

    RETURN jsonb_build_object(
        'window', jsonb_build_object('since', since, 'until', until, 'tz', tz),
        'totals', jsonb_build_object(
            'verifications', (v->>'total')::bigint, 'verified', (v->>'verified')::bigint,
            'restricted', (v->>'restricted')::bigint, 'error', (v->>'error')::bigint,
            'cached', (v->>'cached')::bigint, 'with_latency', (v->>'latency_count')::bigint,
            'api_calls', (a->>'calls')::bigint, 'api_failures', (a->>'failures')::bigint),
        'verification_distribution', jsonb_build_object(
            'verified', (v->>'verified')::bigint, 'restricted', (v->>'restricted')::bigint,
            'error', (v->>'error')::bigint, 'total', (v->>'total')::bigint),
        'cache_breakdown', jsonb_build_object(
            'cached', (v->>'cached')::bigint, 'api', (v->>'total')::bigint - (v->>'cached')::bigint,
            'total', (v->>'total')::bigint,
            'hit_rate', nezuko_analytics.percent((v->>'cached')::numeric, (v->>'total')::numeric)),
        'hourly_activity', (
            SELECT jsonb_agg(jsonb_build_object('hour', h - 1, 'label', lpad((h - 1)::text, 2, '0') || ':00',
                                                'verifications', (v->'hours'->(h - 1)->>0)::bigint,
                                                'restrictions', (v->'hours'->(h - 1)->>1)::bigint,
                                                'errors', (v->'hours'->(h - 1)->>2)::bigint) ORDER BY h)
            FROM generate_series(1, 24) h),
        'latency', jsonb_build_object(
            'histogram', (
                SELECT jsonb_agg(jsonb_build_object('bucket', b.label, 'lower_ms', b.lower_ms, 'upper_ms', b.upper_ms,
                                                    'count', (v->'buckets'->>(b.i - 1))::bigint,
                                                    'percentage', nezuko_analytics.percent((v->'buckets'->>(b.i - 1))::numeric,
                                                                                           (v->>'latency_count')::numeric))
                                 ORDER BY b.i)
                FROM (VALUES (1, '<50ms', 0, 50), (2, '50-100ms', 50, 100), (3, '100-200ms', 100, 200),
                             (4, '200-500ms', 200, 500), (5, '>500ms', 500, NULL::int)) b(i, label, lower_ms, upper_ms)),
            'p50_ms', v->'p50', 'p95_ms', v->'p95', 'p99_ms', v->'p99', 'avg_ms', latency_avg),
        'top_groups', coalesce((
            SELECT jsonb_agg(jsonb_build_object('group_id', g.id, 'title', coalesce(p.title, 'Group ' || g.id),
                                                'member_count', p.member_count, 'verifications', g.n,
                                                'success_rate', nezuko_analytics.percent(g.ok, g.n))
                             ORDER BY g.n DESC, g.id)
            FROM (SELECT (e->>0)::bigint AS id, (e->>1)::bigint AS n, (e->>2)::bigint AS ok
                  FROM jsonb_array_elements(v->'groups') e) g
            LEFT JOIN nezuko_analytics.group_titles(bot, ARRAY(SELECT (e->>0)::bigint FROM jsonb_array_elements(v->'groups') e)) p
                   ON p.group_id = g.id), '[]'::jsonb),
        'daily_trend', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(date '2000-01-01' + (e->>0)::int, 'YYYY-MM-DD'),
                       'verifications', (e->>1)::bigint,
                       'success_rate', nezuko_analytics.percent((e->>2)::numeric, (e->>1)::numeric),
                       'hit_rate', nezuko_analytics.percent((e->>3)::numeric, (e->>1)::numeric),
                       'avg_latency_ms', CASE WHEN (e->>4)::bigint = 0 THEN NULL
                                              ELSE round((e->>5)::numeric / (e->>4)::numeric, 0) END,
                       'p95_latency_ms', round((e->>6)::float8::numeric, 0))
                   ORDER BY (e->>0)::int)
            FROM jsonb_array_elements(v->'days') e), '[]'::jsonb),
        'api_calls', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'method', m.method, 'calls', m.calls, 'failures', m.failures,
                       'success_rate', nezuko_analytics.percent(m.ok, m.calls),
                       'percentage', nezuko_analytics.percent(m.calls, (a->>'calls')::numeric),
                       'avg_latency_ms', CASE WHEN m.lat_n = 0 THEN NULL ELSE round(m.lat_sum / m.lat_n, 0) END,
                       'p50_latency_ms', m.p50, 'p95_latency_ms', m.p95)
                   ORDER BY m.calls DESC, m.method)
            FROM (SELECT e->>0 AS method, (e->>1)::bigint AS calls, (e->>2)::bigint AS failures, (e->>3)::numeric AS ok,
                         (e->>4)::numeric AS lat_n, (e->>5)::numeric AS lat_sum, e->6 AS p50, e->7 AS p95
                  FROM jsonb_array_elements(a->'methods') e) m), '[]'::jsonb),
        'bot_health', health);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard(timestamptz, timestamptz, text) IS
  'Every window-based chart of [since, until) in one jsonb document (keys in README): totals, verification_distribution, cache_breakdown, hourly_activity (in tz), latency (histogram, p50/p95/p99, avg), top_groups, daily_trend (local days in tz), api_calls, bot_health; one scan of verification_log and one of api_call_log.';

CREATE FUNCTION nezuko_analytics.group_titles(bot name, ids bigint[])
RETURNS TABLE (group_id bigint, title text, member_count integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT p.group_id::bigint, p.title::text, p.member_count::integer'
                                ' FROM %I.protected_groups p WHERE p.group_id = ANY ($1)', bot) USING ids;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_titles(name, bigint[]) IS
  'Title and member_count of the given groups from the bot''s protected_groups (by primary key).';
