-- Checks of the rollups against the raw rows, shared by the regress test
-- (sql/rollups.sql) and the integration tests (test/rollups/).  stale()
-- counts the quarter hours in the materialized range whose rollup (counts,
-- latencies, groups) differs from the raw rows: without_pending leaves out
-- those a reader takes raw (pending ones), which must always be 0; counting
-- them too, 0 after a refresh.  Frozen ones (before frozen_before) are
-- history and left out.  stale_days() counts the local days of rollup_days
-- that differ from their quarter hours: always 0.
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
    raw_g AS (
        SELECT g.b, jsonb_agg(jsonb_build_object('group_id', g.g, 'total', g.n, 'verified', g.s) ORDER BY g.g) AS groups
        FROM (SELECT date_bin('15 minutes', v."timestamp", '2000-01-01+00') AS b, coalesce(v.group_id::bigint, 0) AS g,
                     count(*) AS n, count(*) FILTER (WHERE v.status = 'verified') AS s
              FROM %1$I.verification_log v, st
              WHERE $1 = 'verification_log' AND v."timestamp" >= st.built_from AND v."timestamp" < st.watermark
              GROUP BY 1, 2) g
        GROUP BY g.b),
    roll_v AS (
        SELECT bucket AS b, row(total, verified, restricted, error, cached, latency_count, latency_sum, latencies::text)::text AS r,
               nezuko_analytics.rollup_groups(groups) AS groups
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
        SELECT b FROM raw_v FULL JOIN raw_g USING (b) FULL JOIN roll_v USING (b)
        WHERE raw_v.r IS DISTINCT FROM roll_v.r OR raw_g.groups IS DISTINCT FROM roll_v.groups
        UNION
        SELECT b FROM raw_a FULL JOIN roll_a USING (b, m) WHERE raw_a.r IS DISTINCT FROM roll_a.r)
    SELECT count(*) FROM diff
    WHERE NOT EXISTS (SELECT 1 FROM pending p WHERE p.bucket = diff.b OR p.bucket = '-infinity')
      AND diff.b >= (SELECT st.frozen_before FROM st)$q$, nezuko_analytics.bot_schema())
    INTO n USING source, with_pending;
    RETURN n;
END;
$f$;

CREATE FUNCTION rollup_check.stale_days() RETURNS bigint LANGUAGE sql AS $f$
    SELECT count(*)
    FROM nezuko_analytics.rollup_days d
    CROSS JOIN LATERAL (SELECT nezuko_analytics.tz_offsets(d.starts_at, d.ends_at, d.time_zone) AS offsets) o
    WHERE (CASE d.source
           WHEN 'verification_log' THEN
               (SELECT nezuko_analytics.verification_summary_parts('p', NULL, NULL, NULL, NULL, NULL, NULL, x.summary,
                                                                   x.offsets, 100000, NULL)::jsonb
                FROM (SELECT d.summary, o.offsets) x)
               IS DISTINCT FROM
               (SELECT nezuko_analytics.verification_summary_parts('q', NULL, NULL, NULL, NULL, NULL, c, NULL,
                                                                   o.offsets, 100000, NULL)::jsonb
                FROM nezuko_analytics.rollup_verifications c WHERE c.bucket >= d.starts_at AND c.bucket < d.ends_at)
           ELSE
               (SELECT nezuko_analytics.api_summary_parts(NULL, NULL, NULL, NULL, x.summary)::jsonb
                FROM (SELECT d.summary) x)
               IS DISTINCT FROM
               (SELECT nezuko_analytics.api_summary_parts(NULL, NULL, NULL, c, NULL)::jsonb
                FROM nezuko_analytics.rollup_api_calls c WHERE c.bucket >= d.starts_at AND c.bucket < d.ends_at)
           END)
$f$;

-- One row: the checks without pending quarter hours and of the local days
-- (always 0), with pending ones (0 after a refresh), and the pending rows
-- below the watermark (0 after a refresh; later ones wait for the watermark).
CREATE VIEW rollup_check.checks AS
SELECT rollup_check.stale('verification_log', false) AS stale_v, rollup_check.stale('api_call_log', false) AS stale_a,
       rollup_check.stale_days() AS stale_days,
       rollup_check.stale('verification_log', true) + rollup_check.stale('api_call_log', true) AS stale_with_pending,
       (SELECT count(*) FROM nezuko_analytics.rollup_pending p JOIN nezuko_analytics.rollup_state s USING (source)
        WHERE p.bucket < s.watermark) AS pending_rows;
