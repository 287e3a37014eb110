-- nezuko_analytics 1.1 -> 1.2, written by hand (docs/versions.md): every
-- object 1.2 adds, changes or drops, in the order a fresh 1.2 install
-- creates them.  extension_upgrade compares the result with a fresh install.
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.2'" to load this file. \quit


-- The spec as data: a comment in base_table_ddl() now points inside the
-- repository (20_schema_spec.sql).
CREATE OR REPLACE FUNCTION nezuko_analytics.base_table_ddl()
RETURNS TABLE (creation_order integer, table_name name, create_ddl text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- %1$I is the target schema.  The bot's own tables as it creates them
    -- (the contracts read these tables: docs/contracts.md).
    VALUES
    (1, 'protected_groups'::name, $ddl$
CREATE TABLE %1$I.protected_groups (
    group_id   bigint PRIMARY KEY,
    owner_id   bigint,
    title      varchar(255),
    enabled    boolean NOT NULL DEFAULT true,
    params     jsonb,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
)$ddl$),
    (2, 'enforced_channels', $ddl$
CREATE TABLE %1$I.enforced_channels (
    channel_id  bigint PRIMARY KEY,
    title       varchar(255),
    username    varchar(64),
    invite_link text,
    created_at  timestamptz DEFAULT now(),
    updated_at  timestamptz DEFAULT now()
)$ddl$),
    (3, 'group_channel_links', $ddl$
CREATE TABLE %1$I.group_channel_links (
    id          serial PRIMARY KEY,
    group_id    bigint REFERENCES %1$I.protected_groups (group_id),
    channel_id  bigint REFERENCES %1$I.enforced_channels (channel_id),
    is_required boolean DEFAULT true,
    created_at  timestamptz DEFAULT now(),
    UNIQUE (group_id, channel_id)
)$ddl$),
    (4, 'verification_log', $ddl$
CREATE TABLE %1$I.verification_log (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL,
    group_id    bigint NOT NULL,
    channel_id  bigint,
    status      varchar(20) NOT NULL,
    latency_ms  integer,
    cached      boolean NOT NULL DEFAULT false,
    "timestamp" timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_verification_log_timestamp ON %1$I.verification_log ("timestamp");
CREATE INDEX idx_verification_log_timestamp_status ON %1$I.verification_log ("timestamp", status);
CREATE INDEX idx_verification_log_group_id_timestamp ON %1$I.verification_log (group_id, "timestamp")$ddl$),
    (5, 'api_call_log', $ddl$
CREATE TABLE %1$I.api_call_log (
    id          serial PRIMARY KEY,
    method      varchar(50) NOT NULL,
    chat_id     bigint,
    user_id     bigint,
    success     boolean DEFAULT true,
    latency_ms  integer,
    error_type  varchar(50),
    "timestamp" timestamptz DEFAULT now()
)$ddl$)
$$;
COMMENT ON FUNCTION nezuko_analytics.base_table_ddl() IS
  'CREATE TABLE statements for a fresh database: the bot''s four base tables, then the spec''s api_call_log exactly as the spec writes it (format() with the target schema as %1$I).';


-- Percentiles in documents: numeric, rounded to 0.01 ms (40_window.sql).

CREATE OR REPLACE FUNCTION nezuko_analytics.round_ms(ms float8) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT round(ms::numeric, 2) $$;
COMMENT ON FUNCTION nezuko_analytics.round_ms(float8) IS
  'A latency percentile as the documents give it: numeric, rounded to 0.01 ms (no binary artifacts such as 381.79999999999995); NULL stays NULL.';


-- The default latency edges come from the C++ core (42_latency_buckets.sql);
-- the functions that default to them are replaced for their new defaults.

CREATE OR REPLACE FUNCTION nezuko_analytics.default_latency_edges()
RETURNS integer[]
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_default_latency_edges';
COMMENT ON FUNCTION nezuko_analytics.default_latency_edges() IS
  'The default latency bucket edges, {50,100,200,500} ms: the contracts'' buckets ''<50ms'', ''50-100ms'', ''100-200ms'', ''200-500ms'', ''>500ms''. Every function''s default edges are this one value.';

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_bucket(latency_ms integer, edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_bucket';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket(integer, integer[]) IS
  'The bucket label of a latency: ''<50ms'', ''50-100ms'', ''100-200ms'', ''200-500ms'', ''>500ms'' for the default edges (buckets are [lower, upper)). Edges must be non-empty, strictly increasing and non-negative; a negative latency is an ERROR.';

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_bucket_labels(edges integer[] DEFAULT nezuko_analytics.default_latency_edges())
RETURNS text[]
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_bucket_labels';
COMMENT ON FUNCTION nezuko_analytics.latency_bucket_labels(integer[]) IS
  'The labels of all buckets of the edges, in order (one more than there are edges).';

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_histogram(
    since timestamptz,
    until timestamptz DEFAULT now(),
    edges integer[] DEFAULT nezuko_analytics.default_latency_edges(),
    source text DEFAULT 'verification_log')
RETURNS TABLE (bucket text, lower_ms integer, upper_ms integer, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
    labels text[];
    total bigint;
    bot name;
    saved text[];
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_histogram');
    IF edges IS NULL THEN
        RAISE EXCEPTION 'latency_histogram: edges must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    labels := nezuko_analytics.latency_bucket_labels(edges);  -- validates the edges
    bot := nezuko_analytics.bot_schema();
    saved := nezuko_analytics.prefer_index_only(bot, source);
    EXECUTE format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
                   ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source)
        INTO counts USING since, until, edges;
    PERFORM nezuko_analytics.restore_plan_settings(saved);
    counts := coalesce(counts, array_fill(0::bigint, ARRAY[cardinality(labels)]));
    SELECT sum(c) INTO total FROM unnest(counts) c;
    RETURN QUERY
    SELECT labels[i], CASE WHEN i = 1 THEN 0 ELSE edges[i - 1] END, edges[i], counts[i],
           nezuko_analytics.percent(counts[i], total)
    FROM generate_series(1, cardinality(labels)) i
    ORDER BY i;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_histogram(timestamptz, timestamptz, integer[], text) IS
  'Latency histogram of [since, until) from verification_log or api_call_log: every bucket (zero counts too), percentage of rows with a latency, round(.., 1); one pass, parallel when the window is large, index-only when a "timestamp"-led index holds latency_ms.';


-- status_quarter_hours (UTC quarter-hour slots read by position in SQL) is
-- replaced by hourly_status_counts (local hours in C++, keyed JSON)
-- (43_hourly_status_counts.sql).

DROP AGGREGATE nezuko_analytics.status_quarter_hours(timestamptz, text);
DROP FUNCTION nezuko_analytics.status_quarter_hours_add(internal, timestamptz, text);
DROP FUNCTION nezuko_analytics.status_quarter_hours_combine(internal, internal);
DROP FUNCTION nezuko_analytics.status_quarter_hours_serialize(internal);
DROP FUNCTION nezuko_analytics.status_quarter_hours_deserialize(bytea, internal);
DROP FUNCTION nezuko_analytics.status_quarter_hours_final(internal);

CREATE FUNCTION nezuko_analytics.hourly_status_counts_add(internal, timestamptz, text, bigint[]) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_add';
CREATE FUNCTION nezuko_analytics.hourly_status_counts_combine(internal, internal) RETURNS internal
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_combine';
CREATE FUNCTION nezuko_analytics.hourly_status_counts_serialize(internal) RETURNS bytea
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_serialize';
CREATE FUNCTION nezuko_analytics.hourly_status_counts_deserialize(bytea, internal) RETURNS internal
LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_deserialize';
CREATE FUNCTION nezuko_analytics.hourly_status_counts_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_hourly_status_counts_final';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_add(internal, timestamptz, text, bigint[]) IS 'Transition function of hourly_status_counts.';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_combine(internal, internal) IS 'Combine function of hourly_status_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_serialize(internal) IS 'Serialize function of hourly_status_counts (parallel query).';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_deserialize(bytea, internal) IS 'Deserialize function of hourly_status_counts (parallel query); validates its input.';
COMMENT ON FUNCTION nezuko_analytics.hourly_status_counts_final(internal) IS 'Final function of hourly_status_counts: the 24 hours as keyed JSON.';

CREATE AGGREGATE nezuko_analytics.hourly_status_counts("timestamp" timestamptz, status text, tz_offsets bigint[]) (
    SFUNC = nezuko_analytics.hourly_status_counts_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.hourly_status_counts_final,
    COMBINEFUNC = nezuko_analytics.hourly_status_counts_combine,
    SERIALFUNC = nezuko_analytics.hourly_status_counts_serialize,
    DESERIALFUNC = nezuko_analytics.hourly_status_counts_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE nezuko_analytics.hourly_status_counts(timestamptz, text, bigint[]) IS
  'Counts of verified, restricted and error rows by local hour of day (local time from tz_offsets), as text: [{"hour": 0-23, "verified", "restricted", "error"}] for all 24 hours, the form of dashboard()''s hours. Parallel safe.';

CREATE FUNCTION nezuko_analytics.hour_rows(hours jsonb)
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.hour, lpad(h.hour::text, 2, '0') || ':00', h.verified, h.restricted, h.error
    FROM jsonb_to_recordset(hours) AS h(hour integer, verified bigint, restricted bigint, error bigint)
    ORDER BY h.hour
$$;
COMMENT ON FUNCTION nezuko_analytics.hour_rows(jsonb) IS
  'The hours of hourly_status_counts() or of dashboard()''s summary as rows: hour, label ''HH:00'', verifications (verified), restrictions, errors; read by name. Shared by hourly_activity() and dashboard().';


-- One rule for "an index led by timestamp", shared with C++ (44_index_only.sql).

CREATE FUNCTION nezuko_analytics.time_led_index(bot name, relname text, columns text[])
RETURNS regclass
LANGUAGE c STABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_time_led_index';
COMMENT ON FUNCTION nezuko_analytics.time_led_index(name, text, text[]) IS
  'The narrowest index of bot.relname that leads with "timestamp" (timestamptz, btree, default ascending order, no expression, no predicate, valid) and holds every column named, else NULL: the one rule that the native reads and the index-only latency reads share.';

CREATE OR REPLACE FUNCTION nezuko_analytics.has_time_latency_index(bot name, source text)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nezuko_analytics.time_led_index(bot, source, ARRAY['latency_ms']) IS NOT NULL $$;
COMMENT ON FUNCTION nezuko_analytics.has_time_latency_index(name, text) IS
  'Whether bot.source has an index that leads with "timestamp" and holds latency_ms, by time_led_index()''s rule (an index-only scan can then read latencies by time).';


-- Offsets over the span of an open window that holds rows (45_time_zones.sql).

CREATE FUNCTION nezuko_analytics.window_tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    IF isfinite(since) AND isfinite(until) THEN
        RETURN nezuko_analytics.tz_offsets(since, until, tz);
    END IF;
    -- An open window (the contracts' "since now() - period"): only the span
    -- that holds rows needs offsets, found by two index probes.  Rows at
    -- +-infinity belong to no local hour or day.
    EXECUTE format('SELECT min(v."timestamp"), max(v."timestamp") FROM %I.verification_log v'
                   ' WHERE v."timestamp" >= $1 AND v."timestamp" < $2'
                   ' AND v."timestamp" > ''-infinity'' AND v."timestamp" < ''infinity''',
                   nezuko_analytics.bot_schema())
        INTO first_row, last_row USING since, until;
    IF first_row IS NULL THEN
        RETURN NULL;  -- no rows: local time is never asked for
    END IF;
    RETURN nezuko_analytics.tz_offsets(first_row, last_row, tz);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_tz_offsets(timestamptz, timestamptz, text) IS
  'tz_offsets() for a window [since, until): over the window itself when both ends are finite, else over the span of the bot''s verification_log rows in it (NULL when none). What hourly_status_counts() and verification_summary() place rows in local hours and days with.';


-- Typed charts (50_charts.sql).

CREATE OR REPLACE FUNCTION nezuko_analytics.hourly_activity(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
RETURNS TABLE (hour integer, label text, verifications bigint, restrictions bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hours jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF tz IS NULL THEN
        RAISE EXCEPTION 'hourly_activity: tz must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM now() AT TIME ZONE tz;  -- an unknown time zone is an ERROR here, before any scan
    EXECUTE format('SELECT nezuko_analytics.hourly_status_counts(v."timestamp", v.status::text, $3)::jsonb'
                   ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2',
                   nezuko_analytics.bot_schema())
        INTO hours USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz);
    RETURN QUERY SELECT * FROM nezuko_analytics.hour_rows(hours);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.hourly_activity(timestamptz, timestamptz, text) IS
  'Verifications in [since, until) by hour of day in time zone tz (DST and half-hour zones right): 24 rows, zero-filled, label ''HH:00''; counts of verified, restricted and error rows. One pass; local hours computed in C++ from the zone''s offsets, as dashboard() does.';

DROP FUNCTION nezuko_analytics.method_distribution(timestamptz, timestamptz);  -- percentiles become numeric

CREATE FUNCTION nezuko_analytics.method_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (method text, calls bigint, failures bigint, success_rate numeric, percentage numeric,
               avg_latency_ms numeric, p50_latency_ms numeric, p95_latency_ms numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY EXECUTE format($q$
        WITH m AS (
            SELECT a.method::text AS method, count(*) AS calls,
                   count(*) FILTER (WHERE NOT a.success) AS failures,
                   count(*) FILTER (WHERE a.success) AS ok,
                   avg(a.latency_ms) AS avg_latency,
                   nezuko_analytics.latency_dist(a.latency_ms) AS d
            FROM %I.api_call_log a
            WHERE a."timestamp" >= $1 AND a."timestamp" < $2
            GROUP BY a.method)
        SELECT m.method, m.calls, m.failures, nezuko_analytics.percent(m.ok, m.calls),
               nezuko_analytics.percent(m.calls, sum(m.calls) OVER ()), round(m.avg_latency, 0),
               nezuko_analytics.round_ms(nezuko_analytics.percentile(m.d, 0.5)),
               nezuko_analytics.round_ms(nezuko_analytics.percentile(m.d, 0.95))
        FROM m ORDER BY m.calls DESC, m.method$q$, nezuko_analytics.bot_schema())
    USING since, until;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.method_distribution(timestamptz, timestamptz) IS
  'API calls in [since, until) by method, most calls first, then by method: failures (success = false), success_rate and percentage of all calls (round(.., 1)), avg latency round(.., 0), exact p50 and p95 latency (percentile_cont) rounded to 0.01 ms.';


-- dashboard(): the aggregates' documents name every figure (70_dashboard.sql).

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vsummary_final_keyed';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_summary_final(internal) RETURNS text
LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_asummary_final_keyed';

COMMENT ON FUNCTION nezuko_analytics.verification_summary_final(internal) IS 'Final function of verification_summary: the JSON document, every figure by name.';

COMMENT ON FUNCTION nezuko_analytics.api_summary_final(internal) IS 'Final function of api_summary: the JSON document, every figure by name.';

COMMENT ON AGGREGATE nezuko_analytics.verification_summary(timestamptz, text, integer, boolean, bigint, bigint[], integer, timestamptz) IS
  'Every verification_log chart in one pass: totals by status, cached, latency buckets and exact p50/p95/p99, counts per local hour, the top groups, per local day count, verified, cached, latency sum and exact p95 (local time from tz_offsets), and the same totals for rows at or after recent_since. Returns JSON text with every figure by name (docs/dashboard.md). Parallel safe.';

COMMENT ON AGGREGATE nezuko_analytics.api_summary(text, boolean, integer) IS
  'Every api_call_log chart in one pass: calls, successes, failures, latency sum and exact p95, and per method the same with p50. Returns JSON text with every figure by name (docs/dashboard.md). Parallel safe.';

CREATE OR REPLACE FUNCTION nezuko_analytics.window_summary(since timestamptz, until timestamptz, tz text,
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
        INTO v USING since, until, nezuko_analytics.window_tz_offsets(since, until, tz), top_groups, recent_since;
    RETURN v;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_summary(timestamptz, timestamptz, text, integer, timestamptz) IS
  'The one-pass summary of verification_log in [since, until) with local hours and days in tz (one scan), every figure by name (docs/dashboard.md); shared by dashboard() and the trend contracts.';

CREATE FUNCTION nezuko_analytics.summary_days(summary jsonb)
RETURNS TABLE ("date" date, verifications bigint, verified bigint, cached bigint,
               latency_count bigint, latency_sum bigint, p95_ms float8)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.date, d.count, d.verified, d.cached, d.latency_count, d.latency_sum, d.p95
    FROM jsonb_to_recordset(summary->'days')
         AS d("date" date, count bigint, verified bigint, cached bigint, latency_count bigint, latency_sum bigint, p95 float8)
    ORDER BY d.date
$$;
COMMENT ON FUNCTION nezuko_analytics.summary_days(jsonb) IS
  'The local days of a window_summary() as rows, read by name: date, verifications, verified, cached, latency_count, latency_sum, exact p95_ms. Shared by dashboard() and the trend contracts.';

CREATE OR REPLACE FUNCTION nezuko_analytics.dashboard(since timestamptz, until timestamptz DEFAULT now(), tz text DEFAULT 'UTC')
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
            SELECT jsonb_agg(jsonb_build_object('hour', h.hour, 'label', h.label, 'verifications', h.verifications,
                                                'restrictions', h.restrictions, 'errors', h.errors) ORDER BY h.hour)
            FROM nezuko_analytics.hour_rows(v->'hours') h),
        'latency', jsonb_build_object(
            'histogram', (
                SELECT jsonb_agg(jsonb_build_object('bucket', b.bucket, 'lower_ms', b.lower_ms, 'upper_ms', b.upper_ms,
                                                    'count', b.count,
                                                    'percentage', nezuko_analytics.percent(b.count, (v->>'latency_count')::numeric))
                                 ORDER BY b.lower_ms)
                FROM jsonb_to_recordset(v->'buckets') AS b(bucket text, lower_ms integer, upper_ms integer, count bigint)),
            'p50_ms', nezuko_analytics.round_ms((v->>'p50')::float8),
            'p95_ms', nezuko_analytics.round_ms((v->>'p95')::float8),
            'p99_ms', nezuko_analytics.round_ms((v->>'p99')::float8),
            'avg_ms', latency_avg),
        'top_groups', coalesce((
            SELECT jsonb_agg(jsonb_build_object('group_id', g.group_id, 'title', coalesce(p.title, 'Group ' || g.group_id),
                                                'member_count', p.member_count, 'verifications', g.count,
                                                'success_rate', nezuko_analytics.percent(g.verified, g.count))
                             ORDER BY g.count DESC, g.group_id)
            FROM jsonb_to_recordset(v->'groups') AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN nezuko_analytics.group_titles(
                          bot, ARRAY(SELECT (e->>'group_id')::bigint FROM jsonb_array_elements(v->'groups') e)) p
                   ON p.group_id = g.group_id), '[]'::jsonb),
        'daily_trend', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'date', to_char(d.date, 'YYYY-MM-DD'),
                       'verifications', d.verifications,
                       'success_rate', nezuko_analytics.percent(d.verified, d.verifications),
                       'hit_rate', nezuko_analytics.percent(d.cached, d.verifications),
                       'avg_latency_ms', CASE WHEN d.latency_count = 0 THEN NULL
                                              ELSE round(d.latency_sum::numeric / d.latency_count, 0) END,
                       'p95_latency_ms', round(d.p95_ms::numeric, 0))
                   ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d), '[]'::jsonb),
        'api_calls', coalesce((
            SELECT jsonb_agg(jsonb_build_object(
                       'method', m.method, 'calls', m.calls, 'failures', m.failures,
                       'success_rate', nezuko_analytics.percent(m.ok, m.calls),
                       'percentage', nezuko_analytics.percent(m.calls, (a->>'calls')::numeric),
                       'avg_latency_ms', CASE WHEN m.latency_count = 0 THEN NULL
                                              ELSE round(m.latency_sum::numeric / m.latency_count, 0) END,
                       'p50_latency_ms', nezuko_analytics.round_ms(m.p50), 'p95_latency_ms', nezuko_analytics.round_ms(m.p95))
                   ORDER BY m.calls DESC, m.method)
            FROM jsonb_to_recordset(a->'methods')
                 AS m(method text, calls bigint, failures bigint, ok bigint, latency_count bigint, latency_sum bigint,
                      p50 float8, p95 float8)), '[]'::jsonb),
        'bot_health', health);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.dashboard(timestamptz, timestamptz, text) IS
  'Every window-based chart of [since, until) in one jsonb document (docs/dashboard.md): totals, verification_distribution, cache_breakdown, hourly_activity (in tz), latency (histogram, p50/p95/p99 rounded to 0.01 ms, avg), top_groups, daily_trend (local days in tz), api_calls, bot_health; one scan of verification_log and one of api_call_log.';


-- The trend contracts read window_summary() by name (71_contracts.sql).

CREATE FUNCTION nezuko_analytics.trend_summary(since timestamptz, until timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN nezuko_analytics.window_summary(since, until, current_setting('TimeZone'), 1, now() - interval '1 day');
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.trend_summary(timestamptz, timestamptz) IS
  'The window_summary() of a trend contract: [since, until) checked, local days in the session TimeZone, and the last 24 hours as its recent totals. Shared by latency_trend() and cache_hit_rate_trend().';

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb := nezuko_analytics.trend_summary(since, until);
BEGIN
    RETURN json_build_object(
        'period', period,
        'series', coalesce((
            SELECT json_agg(json_build_object('date', to_char(d.date, 'YYYY-MM-DD'),
                                              'avg_latency', round(d.latency_sum::numeric / d.latency_count, 0),
                                              'p95_latency', round(d.p95_ms::numeric, 0))
                            ORDER BY d.date)
            FROM nezuko_analytics.summary_days(v) d WHERE d.latency_count > 0), '[]'::json),
        'current_avg', CASE WHEN (v->'recent'->>'latency_count')::bigint = 0 THEN 0
                            ELSE round((v->'recent'->>'latency_sum')::numeric / (v->'recent'->>'latency_count')::numeric, 0) END);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_trend(timestamptz, timestamptz, text) IS
  'The body of get_latency_trend over [since, until): the days (in the session TimeZone) and the last 24 hours of one window_summary() pass.';

CREATE OR REPLACE FUNCTION nezuko_analytics.cache_hit_rate_trend(since timestamptz, until timestamptz, period text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE v jsonb := nezuko_analytics.trend_summary(since, until);
BEGIN
    RETURN (
        SELECT json_build_object(
            'period', period,
            'series', coalesce(json_agg(json_build_object('date', day, 'value', value, 'total_count', n) ORDER BY day), '[]'::json),
            'current_rate', nezuko_analytics.percent((v->'recent'->>'cached')::numeric, (v->'recent'->>'count')::numeric),
            'average_rate', coalesce(round(avg(value), 1), 0))
        FROM (SELECT to_char(d.date, 'YYYY-MM-DD') AS day, d.verifications AS n,
                     nezuko_analytics.percent(d.cached, d.verifications) AS value
              FROM nezuko_analytics.summary_days(v) d) d);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_hit_rate_trend(timestamptz, timestamptz, text) IS
  'The body of get_cache_hit_rate_trend over [since, until): the days (in the session TimeZone) and the last 24 hours of one window_summary() pass.';

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_trends(since timestamptz, until timestamptz, period text, granularity text)
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE result json; v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF granularity IS NULL OR granularity NOT IN ('hour', 'day', 'week') THEN
        RAISE EXCEPTION 'granularity must be ''hour'', ''day'' or ''week'', not %', coalesce(quote_literal(granularity), 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF granularity = 'day' THEN
        -- the days of one native pass: no per-row time-zone arithmetic
        v := nezuko_analytics.window_summary(since, until, current_setting('TimeZone'), 1);
        RETURN (
            SELECT json_build_object(
                'period', period,
                'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                              'successful', successful, 'failed', total - successful)
                                            ORDER BY bucket), '[]'::json),
                'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                             'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
            FROM (SELECT (d.date::timestamp AT TIME ZONE current_setting('TimeZone')) AS bucket,
                         d.verifications AS total, d.verified AS successful
                  FROM nezuko_analytics.summary_days(v) d) d);
    END IF;
    EXECUTE format($q$
        WITH buckets AS (
            SELECT date_trunc($4, "timestamp") AS bucket, count(*) AS total,
                   count(*) FILTER (WHERE status = 'verified') AS successful
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2
            GROUP BY 1)
        SELECT json_build_object(
            'period', $3,
            'series', coalesce(json_agg(json_build_object('timestamp', bucket::text, 'total', total,
                                                          'successful', successful, 'failed', total - successful)
                                        ORDER BY bucket), '[]'::json),
            'summary', json_build_object('total_verifications', coalesce(sum(total), 0),
                                         'success_rate', nezuko_analytics.percent(sum(successful), sum(total))))
        FROM buckets$q$, nezuko_analytics.bot_schema()) INTO result USING since, until, period, granularity;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_trends(timestamptz, timestamptz, text, text) IS
  'The body of get_verification_trends over [since, until): one scan, by day from window_summary(), by hour or week grouped in SQL.';


-- Native reads return named records (72_native_reads.sql).

DROP FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean);
DROP FUNCTION nezuko_analytics.native_verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean);
DROP FUNCTION nezuko_analytics.groups_status_counts(name);
DROP FUNCTION nezuko_analytics.native_groups_status(name);

CREATE FUNCTION nezuko_analytics.native_verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_verification_counts_record';
COMMENT ON FUNCTION nezuko_analytics.native_verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'Native read of bot.verification_log over [since, until): total, today_count (rows at or after today), verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; only the columns asked for are read (the others count 0). One index-only scan when a "timestamp"-led index holds them all, one per column for at most two columns, else one pass over the rows. All NULL when the native path may not read the table (use verification_counts()).';

CREATE FUNCTION nezuko_analytics.native_groups_status(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_groups_status_record';
COMMENT ON FUNCTION nezuko_analytics.native_groups_status(name) IS
  'Native read of bot.protected_groups: enabled, disabled (enabled = false) and total rows; all NULL when the native path may not read the table (use groups_status_counts()).';

CREATE FUNCTION nezuko_analytics.verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT * INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
    FROM nezuko_analytics.native_verification_counts(bot, since, until, today, with_status, with_cached, with_latency);
    IF total IS NULL THEN
        EXECUTE format($q$
            SELECT count(*), count(*) FILTER (WHERE "timestamp" >= $3),
                   CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
                   CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
                   CASE WHEN $4 THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
                   CASE WHEN $5 THEN count(*) FILTER (WHERE cached) ELSE 0 END,
                   CASE WHEN $6 THEN count(latency_ms) ELSE 0 END,
                   CASE WHEN $6 THEN coalesce(sum(latency_ms), 0) ELSE 0 END
            FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2$q$, bot)
            INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
            USING since, until, today, with_status, with_cached, with_latency;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'native_verification_counts(), or the same record from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT * INTO enabled, disabled, total FROM nezuko_analytics.native_groups_status(bot);
    IF total IS NULL THEN
        EXECUTE format('SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled), count(*) FROM %I.protected_groups',
                       bot) INTO enabled, disabled, total;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'native_groups_status(), or the same record from one query when the native path may not read the table.';

CREATE OR REPLACE FUNCTION nezuko_analytics.cache_breakdown(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (cached bigint, api bigint, total bigint, hit_rate numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    RETURN QUERY
    SELECT c.cached, c.total - c.cached, c.total, nezuko_analytics.percent(c.cached, c.total)
    FROM nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), since, until, 'infinity', false, true, false) c;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.cache_breakdown(timestamptz, timestamptz) IS
  'Cache hits in [since, until): cached, api (= total - cached), total, hit_rate in percent round(.., 1), 0 for an empty window; read natively, index-only where an index leads with "timestamp" and holds cached.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_bot_health()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    since timestamptz := now() - interval '7 days';
    v record;
    a record;
    h record;
BEGIN
    SELECT * INTO v FROM nezuko_analytics.verification_counts(bot, since, 'infinity', 'infinity', true, true, true);
    SELECT (SELECT coalesce(sum(x), 0) FROM unnest(n.calls) x)::bigint AS calls,
           (SELECT coalesce(sum(x), 0) FROM unnest(n.ok) x)::bigint AS ok
    INTO a FROM nezuko_analytics.api_counts(bot, since, 'infinity') n;
    SELECT * INTO h FROM nezuko_analytics.health_figures(a.calls, a.ok, v.total, v.cached, v.verified, v.error,
                                                         CASE WHEN v.latency_rows > 0 THEN round(v.latency_sum::numeric / v.latency_rows, 0) END);
    RETURN json_build_object('api_success_rate', h.api_success_rate, 'cache_efficiency', h.cache_efficiency,
                             'success_rate', h.success_rate, 'avg_latency_ms', h.avg_latency_ms,
                             'error_rate', h.error_rate, 'overall_score', h.overall_score);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_bot_health() IS
  'Contract get_bot_health: {api_success_rate, cache_efficiency, success_rate, avg_latency_ms, error_rate, overall_score} over 7 days (weights: health_figures()); each table read once, natively.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_verification_distribution()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('verified', c.verified, 'restricted', c.restricted, 'error', c.error, 'total', c.total)
    FROM nezuko_analytics.verification_counts(nezuko_analytics.bot_schema(), now() - interval '7 days',
                                              'infinity', 'infinity', true, false, false) c
$$;
COMMENT ON FUNCTION nezuko_analytics.get_verification_distribution() IS
  'Contract get_verification_distribution: {verified, restricted, error, total} over 7 days; read natively, index-only where an index leads with "timestamp" and holds status.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_dashboard_stats()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    c record;
    g record;
    channels bigint;
BEGIN
    SELECT * INTO c FROM nezuko_analytics.verification_counts(bot, now() - interval '7 days', 'infinity', current_date,
                                                              true, true, false);
    SELECT * INTO g FROM nezuko_analytics.groups_status_counts(bot);
    EXECUTE format('SELECT count(*) FROM %I.enforced_channels', bot) INTO channels;
    RETURN json_build_object('total_groups', g.enabled, 'total_channels', channels,
                             'verifications_today', c.today_count, 'verifications_week', c.total,
                             'success_rate', nezuko_analytics.percent(c.verified, c.total),
                             'cache_hit_rate', nezuko_analytics.percent(c.cached, c.total));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_dashboard_stats() IS
  'Contract get_dashboard_stats: {total_groups (enabled), total_channels, verifications_today (since current_date), verifications_week, success_rate, cache_hit_rate} over 7 days; statuses and cache hits read natively, from the "timestamp"-led indexes that hold them when there are such.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_groups_status()
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT json_build_object('active', g.enabled, 'inactive', g.disabled, 'total', g.total)
    FROM nezuko_analytics.groups_status_counts(nezuko_analytics.bot_schema()) g
$$;
COMMENT ON FUNCTION nezuko_analytics.get_groups_status() IS
  'Contract get_groups_status: {active, inactive, total} from protected_groups.enabled; read natively.';

