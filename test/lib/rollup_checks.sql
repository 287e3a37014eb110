-- Checks of the rollups against the raw rows, shared by the regress test
-- (sql/rollups.sql) and the integration tests (test/rollups/).  Each counts
-- the quarter hours (group days) in the materialized range whose rollup
-- differs from the raw rows: without_pending leaves out those a reader takes
-- raw (pending ones), which must always be 0; counting them too, 0 after a
-- refresh.  Frozen ones (before frozen_before) are history and left out.
-- Reads the bot's schema recorded by apply_schema().
CREATE SCHEMA rollup_check;

CREATE FUNCTION rollup_check.stale(source text, with_pending boolean) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
    n bigint;
BEGIN
    EXECUTE format($q$
    WITH st AS (SELECT * FROM nezuko_analytics.rollup_state s WHERE s.source = $1),
    pending AS (SELECT p.bucket FROM nezuko_analytics.rollup_pending p WHERE p.source = $1 AND NOT $2),
    raw_v AS (
        SELECT date_bin('15 minutes', v."timestamp", '2000-01-01+00') AS b,
               row(count(*), count(*) FILTER (WHERE status = 'verified'), count(*) FILTER (WHERE status = 'restricted'),
                   count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE cached), count(latency_ms),
                   coalesce(sum(latency_ms), 0), nezuko_analytics.latency_dist(latency_ms)::text)::text AS r
        FROM %1$I.verification_log v, st
        WHERE $1 = 'verification_log' AND v."timestamp" >= st.built_from AND v."timestamp" < st.watermark GROUP BY 1),
    roll_v AS (
        SELECT bucket AS b, row(total, verified, restricted, error, cached, latency_count, latency_sum, latencies::text)::text AS r
        FROM nezuko_analytics.rollup_verifications WHERE $1 = 'verification_log'),
    raw_a AS (
        SELECT date_bin('15 minutes', a."timestamp", '2000-01-01+00') AS b, coalesce(a.method::text, '') AS m,
               row(count(*), count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success), count(latency_ms),
                   coalesce(sum(latency_ms), 0), nezuko_analytics.latency_dist(latency_ms)::text)::text AS r
        FROM %1$I.api_call_log a, st
        WHERE $1 = 'api_call_log' AND a."timestamp" >= st.built_from AND a."timestamp" < st.watermark GROUP BY 1, 2),
    roll_a AS (
        SELECT bucket AS b, method AS m, row(calls, ok, failures, latency_count, latency_sum, latencies::text)::text AS r
        FROM nezuko_analytics.rollup_api_calls WHERE $1 = 'api_call_log'),
    diff AS (
        SELECT b FROM raw_v FULL JOIN roll_v USING (b) WHERE raw_v.r IS DISTINCT FROM roll_v.r
        UNION
        SELECT b FROM raw_a FULL JOIN roll_a USING (b, m) WHERE raw_a.r IS DISTINCT FROM roll_a.r)
    SELECT count(*) FROM diff
    WHERE NOT EXISTS (SELECT 1 FROM pending p WHERE p.bucket = diff.b OR p.bucket = '-infinity')
      AND diff.b >= (SELECT st.frozen_before FROM st)$q$, nezuko_analytics.bot_schema())
    INTO n USING source, with_pending;
    RETURN n;
END;
$f$;

CREATE FUNCTION rollup_check.stale_group_days(with_pending boolean) RETURNS bigint LANGUAGE plpgsql AS $f$
DECLARE
    n bigint;
BEGIN
    EXECUTE format($q$
    WITH st AS (SELECT * FROM nezuko_analytics.rollup_state s WHERE s.source = 'verification_log'),
    raw AS (
        SELECT date_bin('1 day', v."timestamp", '2000-01-01+00') AS d, coalesce(group_id::bigint, 0) AS g,
               row(count(*), count(*) FILTER (WHERE status = 'verified'))::text AS r
        FROM %1$I.verification_log v, st
        WHERE v."timestamp" >= date_bin('1 day', st.built_from, '2000-01-01+00') AND v."timestamp" < st.watermark GROUP BY 1, 2),
    roll AS (SELECT day AS d, group_id AS g, row(total, verified)::text AS r FROM nezuko_analytics.rollup_verification_groups),
    diff AS (SELECT DISTINCT d FROM raw FULL JOIN roll USING (d, g) WHERE raw.r IS DISTINCT FROM roll.r)
    SELECT count(*) FROM diff
    WHERE diff.d >= (SELECT st.frozen_before FROM st) AND ($1 OR NOT EXISTS (
        SELECT 1 FROM nezuko_analytics.rollup_pending p
        WHERE p.source = 'verification_log' AND (p.bucket = '-infinity' OR date_bin('1 day', p.bucket, '2000-01-01+00') = diff.d)))$q$,
        nezuko_analytics.bot_schema())
    INTO n USING with_pending;
    RETURN n;
END;
$f$;

-- One row: the three checks without pending quarter hours (always 0), all
-- of them with pending ones (0 after a refresh), and the pending rows below
-- the watermark (0 after a refresh; later ones wait for the watermark).
CREATE VIEW rollup_check.checks AS
SELECT rollup_check.stale('verification_log', false) AS stale_v, rollup_check.stale('api_call_log', false) AS stale_a,
       rollup_check.stale_group_days(false) AS stale_days,
       rollup_check.stale('verification_log', true) + rollup_check.stale('api_call_log', true)
       + rollup_check.stale_group_days(true) AS stale_with_pending,
       (SELECT count(*) FROM nezuko_analytics.rollup_pending p JOIN nezuko_analytics.rollup_state s USING (source)
        WHERE p.bucket < s.watermark) AS pending_rows;
