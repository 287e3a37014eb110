-- nezuko_analytics 1.6 -> 1.7, written by hand (docs/versions.md): rollups
-- kept per local day of the time zones in use (rollup_days) and group counts
-- per quarter hour (rollup_verifications.groups, instead of the per-day
-- table rollup_verification_groups), read by the same aggregates
-- (docs/rollups.md).  The extension_upgrade test compares the result with a
-- fresh install.
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.7'" to load this file. \quit

-- What 1.7 replaces: the per-day group counts and everything that read or
-- wrote them, and the functions whose arguments or results change.
DROP AGGREGATE nezuko_analytics.verification_rollup_rows(timestamptz, text, integer, boolean, bigint);
DROP FUNCTION nezuko_analytics.verification_rollup_rows_final(internal);
DROP FUNCTION nezuko_analytics.verification_rollup_rows_add(internal, timestamptz, text, integer, boolean, bigint);
DROP AGGREGATE nezuko_analytics.verification_group_days(timestamptz, bigint, text);
DROP FUNCTION nezuko_analytics.verification_group_days_final(internal);
DROP FUNCTION nezuko_analytics.verification_group_days_add(internal, timestamptz, bigint, text);
DROP FUNCTION nezuko_analytics.rollup_add_groups(timestamptz, timestamptz);
DROP FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz, boolean);
DROP FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz);
DROP TYPE nezuko_analytics.verification_rollup_rows;
DROP AGGREGATE nezuko_analytics.verification_summary_parts(
    "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications,
    nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz);
DROP FUNCTION nezuko_analytics.verification_summary_parts_add(
    internal, "char", timestamptz, text, integer, boolean, bigint, nezuko_analytics.rollup_verifications,
    nezuko_analytics.rollup_verification_groups, bigint[], integer, timestamptz);
DROP AGGREGATE nezuko_analytics.api_summary_parts(text, boolean, integer, nezuko_analytics.rollup_api_calls);
DROP FUNCTION nezuko_analytics.api_summary_parts_add(internal, text, boolean, integer, nezuko_analytics.rollup_api_calls);
DROP FUNCTION nezuko_analytics.rollup_plan(text, timestamptz, timestamptz, timestamptz);
DROP FUNCTION nezuko_analytics.enable_rollups(interval);
DROP FUNCTION nezuko_analytics.rollup_status();
DROP TABLE nezuko_analytics.rollup_verification_groups;

-- The tables: the zones of the local days, and the groups of each quarter
-- hour.  Rollups enabled under 1.6 are computed again from the raw rows at
-- the next refresh (a -infinity pending row, as after a TRUNCATE; readers
-- read raw rows until then).  verification_log's quarter hours frozen
-- before the upgrade (older than the last prune(), whose raw rows are gone)
-- have no group counts to take: they go, and its rollups start at the raw
-- rows' horizon.
ALTER TABLE nezuko_analytics.rollup_state
    ADD COLUMN time_zones text[] NOT NULL DEFAULT ARRAY['UTC'] CHECK ('UTC' = ANY (time_zones));
ALTER TABLE nezuko_analytics.rollup_verifications ADD COLUMN groups bytea NOT NULL DEFAULT '\x0100';
ALTER TABLE nezuko_analytics.rollup_verifications ALTER COLUMN groups DROP DEFAULT;
DELETE FROM nezuko_analytics.rollup_verifications r
USING nezuko_analytics.rollup_state s
WHERE s.source = 'verification_log' AND r.bucket < s.frozen_before;
UPDATE nezuko_analytics.rollup_state s
   SET built_from = greatest(s.built_from, least(s.watermark, nezuko_analytics.time_ceil(s.frozen_before, interval '15 minutes')))
 WHERE s.source = 'verification_log';
INSERT INTO nezuko_analytics.rollup_pending (source, bucket)
SELECT s.source, '-infinity' FROM nezuko_analytics.rollup_state s;

CREATE FUNCTION nezuko_analytics.latency_dist_buckets(d nezuko_analytics.latency_dist, edges integer[])
RETURNS bigint[] LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_latency_dist_buckets';

COMMENT ON FUNCTION nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist, integer[]) IS
  'The count of d''s values in each bucket of edges, as latency_bucket_counts() counts rows; NULL when d cannot tell (a negative value, or a stored key of 20 significant bits, 2^20 ms and more, with values on both sides of an edge). Example: SELECT nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist(latency_ms), ''{50,100,200,500}'') FROM verification_log;';

-- The native engine of the latency charts (the portable edition has its own,
-- in SQL, with the same names and results).
CREATE OR REPLACE FUNCTION nezuko_analytics.bucket_counts(bot name, source text, since timestamptz, until timestamptz, edges integer[])
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    counts bigint[];
BEGIN
    -- from the rollups' distribution where they serve and it tells every bucket
    counts := nezuko_analytics.latency_dist_buckets(nezuko_analytics.latency_dist_rollups(bot, source, since, until), edges);
    IF counts IS NOT NULL THEN
        RETURN counts;
    END IF;
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, edges)::bigint[];
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.bucket_counts(name, text, timestamptz, timestamptz, integer[]) IS
  'Engine of latency_histogram(): the count of bot.source rows in [since, until) in each latency bucket of edges (validated edges; NULL when the window is empty), from the rollups'' distribution (latency_dist_rollups(), latency_dist_buckets()) where they serve, else through latency_bucket_counts().';

CREATE OR REPLACE FUNCTION nezuko_analytics.percentile_values(bot name, source text, since timestamptz, until timestamptz,
                                                   percentiles float8[])
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d nezuko_analytics.latency_dist := nezuko_analytics.latency_dist_rollups(bot, source, since, until);
BEGIN
    IF d IS NOT NULL THEN  -- from the rollups' distribution where they serve
        RETURN nezuko_analytics.percentiles(d, percentiles);
    END IF;
    RETURN nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, percentiles)::float8[];
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.percentile_values(name, text, timestamptz, timestamptz, float8[]) IS
  'Engine of latency_percentiles(): percentile_cont(percentiles) of latency_ms over bot.source rows in [since, until) (NULL without latencies), through a latency_dist: the rollups'' (latency_dist_rollups()) where they serve, else the rows''.';

CREATE OR REPLACE FUNCTION nezuko_analytics.method_figures(bot name, since timestamptz, until timestamptz)
RETURNS TABLE (method text, calls bigint, failures bigint, ok bigint, avg_latency numeric, p50 float8, p95 float8)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb := nezuko_analytics.api_summary_from_rollups(bot, since, until);
BEGIN
    -- from the rollups, unless a method is '' (they keep a NULL method as
    -- '', which the query keeps apart)
    IF a IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(a->'methods') e WHERE e->>'method' = '') THEN
        RETURN QUERY
        SELECT m.method, m.calls, m.failures, m.ok,
               CASE WHEN m.latency_count = 0 THEN NULL ELSE m.latency_sum::numeric / m.latency_count END, m.p50, m.p95
        FROM jsonb_to_recordset(a->'methods') AS m(method text, calls bigint, failures bigint, ok bigint,
                                                   latency_count bigint, latency_sum bigint, p50 float8, p95 float8);
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        SELECT m.method, m.calls, m.failures, m.ok, m.avg_latency,
               nezuko_analytics.percentile(m.d, 0.5), nezuko_analytics.percentile(m.d, 0.95)
        FROM (SELECT a.method::text AS method, count(*) AS calls,
                     count(*) FILTER (WHERE NOT a.success) AS failures,
                     count(*) FILTER (WHERE a.success) AS ok,
                     avg(a.latency_ms) AS avg_latency,
                     nezuko_analytics.latency_dist(a.latency_ms) AS d
              FROM %I.api_call_log a
              WHERE a."timestamp" >= $1 AND a."timestamp" < $2
              GROUP BY a.method) m$q$, bot)
    USING since, until;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.method_figures(name, timestamptz, timestamptz) IS
  'Engine of method_distribution(): per method of bot.api_call_log in [since, until), unordered: calls, failures (success = false), ok (success = true), avg latency, exact p50 and p95 (percentile_cont, through a latency_dist). From the rollups where they serve (api_summary_from_rollups()) and no method is empty, else one query.';

-- The typed charts' way to the rollups (docs/rollups.md): the summary of a
-- window from the native edition's rollups, where the edition has them and
-- they serve this window; NULL otherwise (the portable edition has none),
-- and then the caller reads the raw rows.

CREATE FUNCTION nezuko_analytics.verification_summary_from_rollups(since timestamptz, until timestamptz, top_groups integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    -- the summary leaves out rows dated -infinity, which these charts count
    -- in a window from -infinity
    IF NOT isfinite(since)
       OR to_regprocedure('nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    -- the summary refuses a negative latency, which these charts may not
    -- read: then raw rows
    BEGIN
        EXECUTE 'SELECT nezuko_analytics.window_summary_rollups($1, $2, ''UTC'', $3, NULL)' INTO v
            USING since, until, top_groups;
    EXCEPTION WHEN invalid_parameter_value THEN
        v := NULL;
    END;
    RETURN v;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.verification_summary_from_rollups(timestamptz, timestamptz, integer) IS
  'The summary of verification_log over [since, until) from the rollups (window_summary_rollups() in UTC, with top_groups groups) where this edition has them and they serve the window; NULL otherwise, for a window from -infinity (the summary leaves out rows dated -infinity), or when a negative latency makes the summary refuse it. Used by the typed charts (verification_distribution(), bot_health(), groups_from_rollups()).';

-- The top groups from the rollups: they count a NULL group_id as 0, which
-- the queries keep apart, so with group 0 among them the caller reads raw rows.
CREATE FUNCTION nezuko_analytics.groups_from_rollups(since timestamptz, until timestamptz, top integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    groups jsonb := nezuko_analytics.verification_summary_from_rollups(since, until, top)->'groups';
BEGIN
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(groups) e WHERE (e->>'group_id')::bigint = 0) THEN
        RETURN NULL;
    END IF;
    RETURN groups;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.groups_from_rollups(timestamptz, timestamptz, integer) IS
  'The top groups of verification_log over [since, until) from the rollups, [{"group_id", "count", "verified"}] most first, then by id (verification_summary_from_rollups()); NULL where those give nothing or group 0 is among them (the rollups count a NULL group_id as 0). Used by top_groups() and the native group_counts_rollups().';

CREATE FUNCTION nezuko_analytics.api_summary_from_rollups(bot name, since timestamptz, until timestamptz)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a jsonb;
BEGIN
    IF to_regprocedure('nezuko_analytics.api_window_summary_rollups(name, timestamptz, timestamptz)') IS NULL THEN
        RETURN NULL;
    END IF;
    BEGIN
        EXECUTE 'SELECT nezuko_analytics.api_window_summary_rollups($1, $2, $3)' INTO a USING bot, since, until;
    EXCEPTION WHEN invalid_parameter_value THEN
        a := NULL;
    END;
    RETURN a;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.api_summary_from_rollups(name, timestamptz, timestamptz) IS
  'The summary of bot.api_call_log over [since, until) from the rollups (api_window_summary_rollups()) where this edition has them and they serve the window; NULL otherwise. Used by bot_health() and the native method_figures().';

-- The typed chart functions.  Each reads the bot's tables (in the schema
-- apply_schema() recorded) once, through dynamic SQL so the planner sees the
-- real window: an index scan on "timestamp" for short windows, a parallel
-- sequential scan for long ones.

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_distribution(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (status text, count bigint, percentage numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    -- from the rollups when every row has one of the three statuses (the
    -- rollups do not keep the names of the others)
    v := nezuko_analytics.verification_summary_from_rollups(since, until, 1);
    IF (v->>'total')::bigint = (v->>'verified')::bigint + (v->>'restricted')::bigint + (v->>'error')::bigint THEN
        RETURN QUERY
        SELECT k.status, k.n, nezuko_analytics.percent(k.n, (v->>'total')::bigint)
        FROM (VALUES ('verified', (v->>'verified')::bigint, 1), ('restricted', (v->>'restricted')::bigint, 2),
                     ('error', (v->>'error')::bigint, 3)) k(status, n, ord)
        ORDER BY k.ord;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH counted AS (
            SELECT v.status::text AS status, count(*) AS n
            FROM %I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY v.status),
        known(status, ord) AS (VALUES ('verified', 1), ('restricted', 2), ('error', 3)),
        merged AS (
            SELECT status, coalesce(c.n, 0) AS n, coalesce(k.ord, 4) AS ord
            FROM known k FULL JOIN counted c USING (status))
        SELECT status, n,
               nezuko_analytics.percent(n, sum(n) OVER ())
        FROM merged ORDER BY ord, status$q$, nezuko_analytics.bot_schema())
    USING since, until;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.verification_distribution(timestamptz, timestamptz) IS
  'Verifications in [since, until) by status: verified, restricted and error always (zero counts too), then any other status; percentage round(.., 1), 0 for an empty window. From the rollups where they serve (verification_summary_from_rollups()) and no row has another status, else one query.';

CREATE OR REPLACE FUNCTION nezuko_analytics.top_groups(since timestamptz, until timestamptz DEFAULT now(), n integer DEFAULT 10)
RETURNS TABLE (group_id bigint, title text, member_count integer, verifications bigint, success_rate numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    groups jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    IF n IS NULL OR n < 1 THEN
        RAISE EXCEPTION 'top_groups: n must be at least 1, not %', coalesce(n::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    groups := nezuko_analytics.groups_from_rollups(since, until, n);
    IF groups IS NOT NULL THEN
        RETURN QUERY EXECUTE format($q$
            SELECT g.group_id, coalesce(p.title::text, 'Group ' || g.group_id), p.member_count::integer, g.count,
                   nezuko_analytics.percent(g.verified, g.count)
            FROM jsonb_to_recordset($1) AS g(group_id bigint, count bigint, verified bigint)
            LEFT JOIN %I.protected_groups p ON p.group_id = g.group_id
            ORDER BY g.count DESC, g.group_id$q$, nezuko_analytics.bot_schema())
        USING groups;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE format($q$
        WITH g AS (
            SELECT v.group_id::bigint AS group_id, count(*) AS n,
                   count(*) FILTER (WHERE v.status = 'verified') AS ok
            FROM %1$I.verification_log v
            WHERE v."timestamp" >= $1 AND v."timestamp" < $2
            GROUP BY v.group_id
            ORDER BY n DESC, v.group_id
            LIMIT $3)
        SELECT g.group_id, coalesce(p.title::text, 'Group ' || g.group_id), p.member_count::integer, g.n,
               nezuko_analytics.percent(g.ok, g.n)
        FROM g LEFT JOIN %1$I.protected_groups p ON p.group_id = g.group_id
        ORDER BY g.n DESC, g.group_id$q$, nezuko_analytics.bot_schema())
    USING since, until, n;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.top_groups(timestamptz, timestamptz, integer) IS
  'The n groups with the most verifications in [since, until), ties broken by group_id: title (else ''Group <id>''), member_count, verifications, success_rate (percent verified, round(.., 1)). n must be at least 1. From the rollups where they serve (groups_from_rollups()), else one query.';

CREATE OR REPLACE FUNCTION nezuko_analytics.bot_health(since timestamptz, until timestamptz DEFAULT now())
RETURNS TABLE (api_success_rate numeric, cache_efficiency numeric, success_rate numeric,
               avg_latency_ms numeric, error_rate numeric, overall_score numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
    v record;
    rv jsonb;
    ra jsonb;
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    -- from the rollups where both tables' serve
    rv := nezuko_analytics.verification_summary_from_rollups(since, until, 1);
    ra := CASE WHEN rv IS NOT NULL THEN nezuko_analytics.api_summary_from_rollups(nezuko_analytics.bot_schema(), since, until) END;
    IF ra IS NOT NULL THEN
        RETURN QUERY SELECT * FROM nezuko_analytics.health_figures(
            (ra->>'calls')::bigint, (ra->>'ok')::bigint, (rv->>'total')::bigint, (rv->>'cached')::bigint,
            (rv->>'verified')::bigint, (rv->>'error')::bigint,
            CASE WHEN (rv->>'latency_count')::bigint = 0 THEN NULL
                 ELSE round((rv->>'latency_sum')::numeric / (rv->>'latency_count')::numeric, 0) END);
        RETURN;
    END IF;
    EXECUTE format($q$
        SELECT count(*) AS calls, count(*) FILTER (WHERE a.success) AS ok
        FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2$q$, nezuko_analytics.bot_schema())
        INTO a USING since, until;
    EXECUTE format($q$
        SELECT count(*) AS n,
               count(*) FILTER (WHERE v.cached) AS hits,
               count(*) FILTER (WHERE v.status = 'verified') AS ok,
               count(*) FILTER (WHERE v.status = 'error') AS errors,
               round(avg(v.latency_ms), 0) AS avg_latency
        FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2$q$, nezuko_analytics.bot_schema())
        INTO v USING since, until;
    RETURN QUERY SELECT * FROM nezuko_analytics.health_figures(a.calls, a.ok, v.n, v.hits, v.ok, v.errors, v.avg_latency);
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.bot_health(timestamptz, timestamptz) IS
  'Bot health in [since, until) as get_bot_health computes it: api_success_rate, cache_efficiency, success_rate, avg_latency_ms, error_rate (percentages round(.., 1), 0 for an empty window) and overall_score = 35% API success + 30% success rate + 20% latency score (avg < 50 ms: 100, < 100: 90, < 200: 75, < 500: 50, else 25; no data: 100) + 10% cache efficiency + 5% (100 - error rate), round(.., 1). From the rollups where both tables'' serve (verification_summary_from_rollups(), api_summary_from_rollups()), else two queries.';

COMMENT ON TABLE nezuko_analytics.rollup_state IS
  'Per source table with rollups: how long they keep (keep), the quarter hours materialized ([built_from, watermark); later ones are read from the raw rows), the time before which they are frozen (frozen_before: the raw rows there may be pruned, so they are never computed again; it only moves forward), and the last refresh (when, how long, how many quarter hours), and the time zones whose local days are kept in rollup_days (UTC always). A row here means rollups are enabled for that table.';

COMMENT ON TABLE nezuko_analytics.rollup_verifications IS
  'verification_log per quarter hour of UTC (bucket is its start): rows, rows by status (verified, restricted, error) and cached, the exact distribution of the non-NULL latencies with their count and sum, and groups: per group (NULL as 0) its rows and verified rows, in a compact binary form (src/core/group_counts.hpp, about 4 bytes a group). Quarter hours without rows have no row.';

CREATE TABLE nezuko_analytics.rollup_days (
    source    text NOT NULL CHECK (source IN ('verification_log', 'api_call_log')),
    time_zone text NOT NULL,
    day       date NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL CHECK (ends_at > starts_at),
    summary   bytea NOT NULL,
    PRIMARY KEY (source, time_zone, starts_at)
);

-- a day's state is read whole and hardly compresses: kept as it is
ALTER TABLE nezuko_analytics.rollup_days ALTER COLUMN summary SET STORAGE EXTERNAL;

COMMENT ON TABLE nezuko_analytics.rollup_days IS
  'The local days of the time zones in rollup_state.time_zones, made from the quarter hours: per source, zone and day [starts_at, ends_at), the binary state of the dashboard''s summary of that day''s quarter hours (verification_summary''s or api_summary''s, with the zone''s local hours and day), which a reader merges in one step instead of 96 quarter hours. Only days whose quarter hours are all materialized; a day without rows has no row.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.rollup_days', '');

CREATE FUNCTION nezuko_analytics.rollup_groups(groups bytea)
RETURNS jsonb LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_rollup_groups';

COMMENT ON FUNCTION nezuko_analytics.rollup_groups(bytea) IS
  'The group counts of a quarter hour of rollup_verifications (its groups column) as [{"group_id", "total", "verified"}] by increasing id; an ERROR (22P03) for bytes that are not such counts. Example: SELECT bucket, nezuko_analytics.rollup_groups(groups) FROM nezuko_analytics.rollup_verifications ORDER BY bucket DESC LIMIT 1;';

CREATE FUNCTION nezuko_analytics.verification_quarter_hours_add(internal, timestamptz, text, integer, boolean, bigint)
RETURNS internal LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vquarter_hours_add';

CREATE FUNCTION nezuko_analytics.verification_quarter_hours_final(internal)
RETURNS nezuko_analytics.rollup_verifications[] LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'nz_vquarter_hours_final';

COMMENT ON FUNCTION nezuko_analytics.verification_quarter_hours_add(internal, timestamptz, text, integer, boolean, bigint) IS
  'Transition function of verification_quarter_hours.';

COMMENT ON FUNCTION nezuko_analytics.verification_quarter_hours_final(internal) IS
  'Final function of verification_quarter_hours: the rows, in order, fields set by name.';

CREATE AGGREGATE nezuko_analytics.verification_quarter_hours("timestamp" timestamptz, status text, latency_ms integer,
                                                             cached boolean, group_id bigint) (
    SFUNC = nezuko_analytics.verification_quarter_hours_add,
    STYPE = internal,
    FINALFUNC = nezuko_analytics.verification_quarter_hours_final,
    COMBINEFUNC = nezuko_analytics.rollup_build_combine,
    SERIALFUNC = nezuko_analytics.rollup_build_serialize,
    DESERIALFUNC = nezuko_analytics.rollup_build_deserialize,
    PARALLEL = SAFE
);

COMMENT ON AGGREGATE nezuko_analytics.verification_quarter_hours(timestamptz, text, integer, boolean, bigint) IS
  'The rollup_verifications rows of the verification_log rows aggregated (rows without a finite time skipped), in one pass: per quarter hour of UTC the counts, the latency_dist and the group counts (NULL as 0). Parallel safe; memory grows with the latencies (4 bytes each) and the groups of each quarter hour until the end.';

-- The rollup rows of source's raw rows in [lo, hi), read by a set-returning
-- function: its RETURN QUERY may run the scan in parallel (a query with an
-- INSERT, or EXECUTE ... INTO, never does).
CREATE FUNCTION nezuko_analytics.rollup_build(source text, lo timestamptz, hi timestamptz)
RETURNS TABLE (verification nezuko_analytics.rollup_verifications[], api nezuko_analytics.rollup_api_calls[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF source = 'verification_log' THEN
        RETURN QUERY EXECUTE format(
            'SELECT nezuko_analytics.verification_quarter_hours(v."timestamp", v.status::text, v.latency_ms, v.cached,'
            ' v.group_id::bigint), NULL::nezuko_analytics.rollup_api_calls[]'
            ' FROM %I.verification_log v WHERE v."timestamp" >= $1 AND v."timestamp" < $2', nezuko_analytics.bot_schema())
            USING lo, hi;
    ELSE
        RETURN QUERY EXECUTE format(
            'SELECT NULL::nezuko_analytics.rollup_verifications[],'
            ' nezuko_analytics.api_quarter_hours(a."timestamp", a.method::text, a.success, a.latency_ms)'
            ' FROM %I.api_call_log a WHERE a."timestamp" >= $1 AND a."timestamp" < $2', nezuko_analytics.bot_schema())
            USING lo, hi;
    END IF;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) IS
  'The rollup rows of source''s raw rows in [lo, hi) from one scan (parallel where the planner likes): verification (verification_quarter_hours) or api (api_quarter_hours). Used by rollup_materialize().';

-- The quarter-hour rollups of source's raw rows in [lo, hi) (quarter-hour
-- edges), each row replaced.
CREATE FUNCTION nezuko_analytics.rollup_materialize(source text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    built record;
BEGIN
    SELECT * INTO built FROM nezuko_analytics.rollup_build(source, lo, hi);
    IF source = 'verification_log' THEN
        INSERT INTO nezuko_analytics.rollup_verifications AS r
        SELECT (x).* FROM unnest(built.verification) x
        ON CONFLICT (bucket) DO UPDATE SET total = excluded.total, verified = excluded.verified,
            restricted = excluded.restricted, error = excluded.error, cached = excluded.cached,
            latency_count = excluded.latency_count, latency_sum = excluded.latency_sum, latencies = excluded.latencies,
            groups = excluded.groups;
    ELSE
        INSERT INTO nezuko_analytics.rollup_api_calls AS r
        SELECT (x).* FROM unnest(built.api) x
        ON CONFLICT (bucket, method) DO UPDATE SET calls = excluded.calls, ok = excluded.ok,
            failures = excluded.failures, latency_count = excluded.latency_count,
            latency_sum = excluded.latency_sum, latencies = excluded.latencies;
    END IF;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) IS
  'Aggregates the raw rows of source in [lo, hi) (quarter-hour edges) into its quarter-hour rollups in one scan (rollup_build()), replacing the rows of those quarter hours that had one. Used by refresh_rollup_source().';

-- The local days of zone that meet the ranges [los[i], his[i]) inside [lo, hi).
CREATE FUNCTION nezuko_analytics.rollup_local_days(los timestamptz[], his timestamptz[], zone text,
                                                   lo timestamptz, hi timestamptz)
RETURNS TABLE (day date, starts_at timestamptz, ends_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT d.day, d.day::timestamp AT TIME ZONE zone, (d.day + 1)::timestamp AT TIME ZONE zone
    FROM (SELECT DISTINCT g::date AS day
          FROM unnest(los, his) r(r_lo, r_hi),
               generate_series((greatest(r.r_lo, lo) AT TIME ZONE zone)::date,
                               ((least(r.r_hi, hi) - interval '1 microsecond') AT TIME ZONE zone)::date,
                               interval '1 day') g
          WHERE greatest(r.r_lo, lo) < least(r.r_hi, hi)) d
$$;

COMMENT ON FUNCTION nezuko_analytics.rollup_local_days(timestamptz[], timestamptz[], text, timestamptz, timestamptz) IS
  'The local days of zone (date, and [starts_at, ends_at) in UTC: local midnight to the next) that meet a range [los[i], his[i]) cut to [lo, hi). Used by rollup_days_rebuild().';

-- The local days of each zone that meet the ranges [los[i], his[i]) made
-- again from the quarter hours: every such day of rollup_days deleted, and
-- made again where all its quarter hours are materialized.
CREATE FUNCTION nezuko_analytics.rollup_days_rebuild(source text, los timestamptz[], his timestamptz[], zones text[])
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
    FOREACH z IN ARRAY zones LOOP
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
        -- one pass over the days' quarter hours, in the zone's offsets
        offsets := nezuko_analytics.tz_offsets(starts[1], ends[cardinality(ends)], z);
        IF source = 'verification_log' THEN
            INSERT INTO nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at, summary)
            SELECT source, z, t.day, t.starts_at, t.ends_at,
                   nezuko_analytics.verification_summary_state('q', NULL, NULL, NULL, NULL, NULL, c, NULL, offsets, 1, NULL)
            FROM unnest(days, starts, ends) t(day, starts_at, ends_at)
            JOIN nezuko_analytics.rollup_verifications c ON c.bucket >= t.starts_at AND c.bucket < t.ends_at
            -- a day with a negative latency has no summary (the readers
            -- refuse it, from its quarter hours, as from its raw rows)
            WHERE NOT EXISTS (SELECT 1 FROM nezuko_analytics.rollup_verifications n
                              WHERE n.bucket >= t.starts_at AND n.bucket < t.ends_at
                                AND nezuko_analytics.percentile(n.latencies, 0) < 0)
            GROUP BY t.day, t.starts_at, t.ends_at;
        ELSE
            INSERT INTO nezuko_analytics.rollup_days (source, time_zone, day, starts_at, ends_at, summary)
            SELECT source, z, t.day, t.starts_at, t.ends_at, nezuko_analytics.api_summary_state(NULL, NULL, NULL, c, NULL)
            FROM unnest(days, starts, ends) t(day, starts_at, ends_at)
            JOIN nezuko_analytics.rollup_api_calls c ON c.bucket >= t.starts_at AND c.bucket < t.ends_at
            GROUP BY t.day, t.starts_at, t.ends_at;
        END IF;
        GET DIAGNOSTICS made = ROW_COUNT;
        n := n + made;
    END LOOP;
    RETURN n;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]) IS
  'Makes again, for each zone of zones, the local days of rollup_days that meet the ranges [los[i], his[i]) of source: deletes them, and inserts those whose quarter hours are all materialized (inside [built_from, watermark)) and hold rows (and no negative latency, which the summary refuses), each the summary state of its quarter hours in its zone; returns how many it made. Called after the quarter hours change (refresh_rollup_source(), enable_rollups()).';

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
        IF source = 'verification_log' THEN
            DELETE FROM nezuko_analytics.rollup_verifications r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        ELSE
            DELETE FROM nezuko_analytics.rollup_api_calls r WHERE r.bucket >= run.lo AND r.bucket < run.hi;
        END IF;
        PERFORM nezuko_analytics.rollup_materialize(source, run.lo, run.hi);
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

-- The zones whose local days rollup_days keeps: UTC always, then the
-- ones given (checked), each once, in order.
CREATE FUNCTION nezuko_analytics.rollup_time_zones(zones text[])
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
        IF z <> ALL (result) THEN
            result := result || z;
        END IF;
    END LOOP;
    RETURN result;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.rollup_time_zones(text[]) IS
  'The time zones whose local days rollup_days keeps for zones: UTC, then each zone of zones once, in order; an ERROR (22023) for NULL or an unknown zone.';

CREATE FUNCTION nezuko_analytics.enable_rollups(keep interval DEFAULT '400 days', time_zones text[] DEFAULT NULL)
RETURNS SETOF text LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text;
    target regclass;
    t record;
    oldest timestamptz;
    job bigint;
    n bigint;
    st nezuko_analytics.rollup_state;
    zones text[];
    added text[];
BEGIN
    IF keep IS NULL OR keep <= interval '0' THEN
        RAISE EXCEPTION 'enable_rollups: keep must be a positive interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    zones := nezuko_analytics.rollup_time_zones(coalesce(time_zones, ARRAY[current_setting('TimeZone')]));
    -- waits for a running refresh; the next ones wait for this
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups'));
    PERFORM nezuko_analytics.require_rollup_read(x.table_name) FROM unnest(ARRAY['verification_log', 'api_call_log']) x(table_name);
    FOREACH src IN ARRAY ARRAY['verification_log', 'api_call_log'] LOOP
        target := nezuko_analytics.require_rollup_read(src);
        -- The triggers first: from here on every change is recorded.
        FOR t IN SELECT * FROM nezuko_analytics.rollup_trigger_names() LOOP
            CONTINUE WHEN EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = target AND g.tgname = t.trigger_name);
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT EXECUTE FUNCTION nezuko_analytics.rollup_invalidate(%L, %L)',
                           t.trigger_name, t.event, target, t.transition, src, 'timestamp');
            -- DROP EXTENSION takes the trigger along (pg_dump keeps the mark)
            EXECUTE format('ALTER TRIGGER %I ON %s DEPENDS ON EXTENSION nezuko_analytics', t.trigger_name, target);
            RETURN NEXT format('created trigger %I on %s', t.trigger_name, target);
        END LOOP;
        SELECT * INTO st FROM nezuko_analytics.rollup_state s WHERE s.source = src;
        IF FOUND THEN
            UPDATE nezuko_analytics.rollup_state s SET keep = enable_rollups.keep
            WHERE s.source = src AND s.keep IS DISTINCT FROM enable_rollups.keep;
            IF FOUND THEN
                RETURN NEXT format('rollups of %s now keep %s', src, keep);
            END IF;
            -- other zones: days of the ones gone deleted, of the new ones made
            CONTINUE WHEN time_zones IS NULL OR st.time_zones = zones;
            UPDATE nezuko_analytics.rollup_state s SET time_zones = zones WHERE s.source = src;
            DELETE FROM nezuko_analytics.rollup_days d WHERE d.source = src AND d.time_zone <> ALL (zones);
            added := ARRAY(SELECT z FROM unnest(zones) z WHERE z <> ALL (st.time_zones));
            n := nezuko_analytics.rollup_days_rebuild(src, ARRAY[st.built_from], ARRAY[st.watermark], added);
            RETURN NEXT format('rollups of %s now keep the local days of %s (%s days made)', src,
                               array_to_string(zones, ', '), n);
            CONTINUE;
        END IF;
        EXECUTE format('SELECT min("timestamp") FROM %s WHERE "timestamp" > ''-infinity''', target) INTO oldest;
        oldest := nezuko_analytics.time_floor(least(coalesce(oldest, now()), now()), interval '15 minutes');
        INSERT INTO nezuko_analytics.rollup_state (source, keep, built_from, watermark, time_zones)
        VALUES (src, keep, oldest, oldest, zones);
        DELETE FROM nezuko_analytics.rollup_pending p WHERE p.source = src;
        n := nezuko_analytics.refresh_rollup_source(src, 'infinity', true);
        RETURN NEXT format('built rollups of %s: %s quarter hours from %s, local days of %s', src, n, oldest,
                           array_to_string(zones, ', '));
    END LOOP;
    -- statistics of what the build wrote, before autovacuum comes: without
    -- them the readers' first plans guess the rollup tables' sizes
    ANALYZE nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_api_calls, nezuko_analytics.rollup_days;
    IF to_regprocedure('cron.schedule(text, text, text)') IS NOT NULL THEN
        EXECUTE 'SELECT cron.schedule($1, $2, $3)' INTO job
            USING nezuko_analytics.rollups_job_name(), '* * * * *', 'SELECT nezuko_analytics.refresh_rollups()';
        RETURN NEXT format('scheduled pg_cron job %s (every minute, job %s)', nezuko_analytics.rollups_job_name(), job);
    ELSE
        RAISE NOTICE 'nezuko_analytics: the rollups'' refresh is not scheduled: pg_cron is not installed in this database'
            USING HINT = nezuko_analytics.cron_schedule_hint(nezuko_analytics.rollups_job_name(), '* * * * *',
                                                             'SELECT nezuko_analytics.refresh_rollups()',
                                                             'nezuko_analytics.enable_rollups()')
                         || ' Or run SELECT nezuko_analytics.refresh_rollups(); from any scheduler.';
    END IF;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.enable_rollups(keep interval, time_zones text[]) IS
  'Turns rollups on for verification_log and api_call_log: puts the invalidation triggers on both (statement level, transition tables), builds the quarter-hour rollups from the existing rows in one scan per chunk of whole days (about 20 million rows; NOTICEs report progress) and the local days of UTC and of time_zones (default: the session''s TimeZone) from them, and schedules pg_cron job nezuko_analytics_rollups every minute where pg_cron is installed (else a NOTICE says how). Rollups keep keep (default 400 days) of history, past the raw rows'' retention. Idempotent: a second call changes only keep and, when given, the time zones. Run it as the tables'' owner; it holds a lock that makes the bot''s writes wait until it commits.';

CREATE OR REPLACE FUNCTION nezuko_analytics.disable_rollups()
RETURNS SETOF text LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text;
    target regclass;
    t record;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.refresh_rollups'));
    IF nezuko_analytics.unschedule_job(nezuko_analytics.rollups_job_name()) THEN
        RETURN NEXT format('unscheduled pg_cron job %s', nezuko_analytics.rollups_job_name());
    END IF;
    FOREACH src IN ARRAY ARRAY['verification_log', 'api_call_log'] LOOP
        target := nezuko_analytics.rollup_source_table(src);
        CONTINUE WHEN target IS NULL;  -- no schema recorded, or no such table: no triggers
        FOR t IN SELECT * FROM nezuko_analytics.rollup_trigger_names() LOOP
            CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = target AND g.tgname = t.trigger_name);
            EXECUTE format('DROP TRIGGER %I ON %s', t.trigger_name, target);
            RETURN NEXT format('dropped trigger %I on %s', t.trigger_name, target);
        END LOOP;
    END LOOP;
    IF EXISTS (SELECT 1 FROM nezuko_analytics.rollup_state) THEN
        DELETE FROM nezuko_analytics.rollup_verifications;
        DELETE FROM nezuko_analytics.rollup_api_calls;
        DELETE FROM nezuko_analytics.rollup_days;
        DELETE FROM nezuko_analytics.rollup_pending;
        DELETE FROM nezuko_analytics.rollup_state;
        RETURN NEXT 'removed the rollups';
    END IF;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.disable_rollups() IS
  'Turns rollups off: unschedules the pg_cron job, drops the triggers from the log tables and deletes every rollup (their history older than the raw rows is gone with them). Does nothing when they are off. revert_schema() calls it.';

CREATE FUNCTION nezuko_analytics.rollup_status()
RETURNS TABLE (source text, keep interval, materialized_from timestamptz, watermark timestamptz, frozen_before timestamptz,
               pending_buckets bigint,
               last_refresh timestamptz, last_refresh_ms float8, last_refresh_buckets bigint, rollup_rows bigint, rollup_bytes bigint,
               time_zones text[], local_days bigint, local_day_bytes bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.source, s.keep, s.built_from, s.watermark, s.frozen_before,
           (SELECT count(DISTINCT p.bucket) FROM nezuko_analytics.rollup_pending p WHERE p.source = s.source),
           s.last_refresh, s.last_refresh_ms, s.last_refresh_buckets,
           CASE s.source
               WHEN 'verification_log' THEN (SELECT count(*) FROM nezuko_analytics.rollup_verifications)
               ELSE (SELECT count(*) FROM nezuko_analytics.rollup_api_calls) END,
           CASE s.source
               WHEN 'verification_log' THEN pg_total_relation_size('nezuko_analytics.rollup_verifications')
               ELSE pg_total_relation_size('nezuko_analytics.rollup_api_calls') END,
           s.time_zones, d.days, d.bytes
    FROM nezuko_analytics.rollup_state s
    CROSS JOIN LATERAL (SELECT count(*) AS days, coalesce(sum(pg_column_size(x.*)), 0)::bigint AS bytes
                        FROM nezuko_analytics.rollup_days x WHERE x.source = s.source) d
    ORDER BY s.source
$$;

COMMENT ON FUNCTION nezuko_analytics.rollup_status() IS
  'Per table with rollups: keep, the materialized range [materialized_from, watermark) (later quarter hours are read raw), frozen_before (older quarter hours are never computed again: history kept past the raw rows), how many distinct quarter hours are pending (-infinity after a TRUNCATE counts as one), the last refresh (when, milliseconds, quarter hours computed), the quarter-hour rollups'' rows and bytes, and the time zones whose local days are kept with their rows and bytes (stored size).';

REVOKE EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval, text[]) FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz) FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]) FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION nezuko_analytics.rollup_build(text, timestamptz, timestamptz) FROM PUBLIC;

-- The installing role runs the rollups (as it runs retention): the API, and
-- the tables they write.  The bot's writers need nothing: the trigger writes
-- rollup_pending as its owner.
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.rollup_state, nezuko_analytics.rollup_pending,
      nezuko_analytics.rollup_verifications, nezuko_analytics.rollup_api_calls, nezuko_analytics.rollup_days TO @extowner@;

GRANT EXECUTE ON FUNCTION nezuko_analytics.enable_rollups(interval, text[]), nezuko_analytics.disable_rollups(),
      nezuko_analytics.refresh_rollups(interval), nezuko_analytics.refresh_rollup_source(text, timestamptz, boolean),
      nezuko_analytics.rollup_materialize(text, timestamptz, timestamptz),
      nezuko_analytics.rollup_days_rebuild(text, timestamptz[], timestamptz[], text[]),
      nezuko_analytics.rollup_build(text, timestamptz, timestamptz), nezuko_analytics.rollup_invalidate() TO @extowner@;

-- Rollups count every row of the bot's table: a role reads them only where
-- it reads every row itself (SELECT, no row-level security for it) and may
-- read the rollup tables (granted to the installing role; grant SELECT on
-- them to others that read all rows, such as Supabase's service_role).
CREATE OR REPLACE FUNCTION nezuko_analytics.rollups_readable(source text)
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
    WHERE d.source = rollup_plan.source AND d.time_zone = tz
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
              p.qh_from, p.qh_to, p.skip_qh, tz, p.day_starts, p.raw_lo, p.raw_hi;
    RETURN v;
END;
$$;

COMMENT ON FUNCTION nezuko_analytics.window_summary_rollups(timestamptz, timestamptz, text, integer, timestamptz) IS
  'window_summary() from rollups (local days of tz, quarter hours) and raw rows (rollup_plan()); NULL when the rollups give nothing to this window (then window_summary() reads the raw rows alone).';

CREATE OR REPLACE FUNCTION nezuko_analytics.api_window_summary_rollups(bot name, since timestamptz, until timestamptz)
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
CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts_rollups(
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

CREATE OR REPLACE FUNCTION nezuko_analytics.api_counts_rollups(bot name, since timestamptz, until timestamptz,
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

CREATE OR REPLACE FUNCTION nezuko_analytics.group_counts_rollups(bot name, since timestamptz, until timestamptz, top integer,
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

