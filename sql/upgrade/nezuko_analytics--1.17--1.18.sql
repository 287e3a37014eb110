-- nezuko_analytics 1.17 -> 1.18, written by hand (docs/versions.md).
-- get_dashboard_stats() counts the verified rows apart (verified_count(),
-- new), and verification_counts_query() counts the rows at or after today by
-- their own index condition: in the portable edition a read of one status and
-- the week's cached rows by their indexes cost less than one pass over every
-- status and a FILTER on every row.  The native edition reads the same two
-- indexes as before (the status column and the cached one).  The portable
-- edition's fixed-window counts also run in one process (its own upgrade
-- script).

\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.18'" to load this file. \quit

CREATE FUNCTION nezuko_analytics.verified_count(bot name, since timestamptz, until timestamptz)
RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT c.verified FROM nezuko_analytics.verification_counts(bot, since, until, 'infinity', true, false, false) c $$;
COMMENT ON FUNCTION nezuko_analytics.verified_count(name, timestamptz, timestamptz) IS
  'The rows of bot.verification_log in [since, until) whose status is verified: verification_counts() (the rollups, a native read of the status column, or its query).';

CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts_query(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The columns not asked for are constants when the query is planned
    -- (EXECUTE passes its parameters as such), so their aggregates go, and
    -- an index that holds "timestamp" and the columns asked for is read
    -- index-only.
    EXECUTE format($q$
        SELECT count(*),
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'verified') ELSE 0 END,
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'restricted') ELSE 0 END,
               CASE WHEN $3 THEN count(*) FILTER (WHERE status = 'error') ELSE 0 END,
               CASE WHEN $4 THEN count(*) FILTER (WHERE cached) ELSE 0 END,
               CASE WHEN $5 THEN count(latency_ms) ELSE 0 END,
               CASE WHEN $5 THEN coalesce(sum(latency_ms), 0) ELSE 0 END
        FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2$q$, bot)
        INTO total, verified, restricted, error, cached, latency_rows, latency_sum
        USING since, until, with_status, with_cached, with_latency;
    -- The rows at or after today by their own index condition (a day of a
    -- week: a FILTER on every row of the window cost more than this read).
    IF today <= since THEN
        today_count := total;
    ELSIF today >= until THEN
        today_count := 0;
    ELSE
        EXECUTE format('SELECT count(*) FROM %I.verification_log WHERE "timestamp" >= $1 AND "timestamp" < $2', bot)
            INTO today_count USING today, until;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_query(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'bot.verification_log over [since, until) from one query, and the rows at or after today from a second one when today falls inside the window: total, today_count, verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; the columns not asked for count 0.';

CREATE OR REPLACE FUNCTION nezuko_analytics.get_dashboard_stats()
RETURNS json LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    since timestamptz := now() - interval '7 days';
    c record;
    verified bigint;
    g record;
    channels bigint;
BEGIN
    -- The verified rows apart from the rest: a read of one status (by an
    -- index condition where an index holds it) costs less than counting
    -- every status, and the cached rows come from their own index.
    c := nezuko_analytics.verification_counts(bot, since, 'infinity', current_date, false, true, false);
    verified := nezuko_analytics.verified_count(bot, since, 'infinity');
    g := nezuko_analytics.groups_status_counts(bot);
    EXECUTE format('SELECT count(*) FROM %I.enforced_channels', bot) INTO channels;
    RETURN json_build_object('total_groups', g.enabled, 'total_channels', channels,
                             'verifications_today', c.today_count, 'verifications_week', c.total,
                             'success_rate', nezuko_analytics.percent(verified, c.total),
                             'cache_hit_rate', nezuko_analytics.percent(c.cached, c.total));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_dashboard_stats() IS
  'Contract get_dashboard_stats: {total_groups (enabled), total_channels, verifications_today (since current_date), verifications_week, success_rate, cache_hit_rate} over 7 days; the week''s, today''s and cached rows from verification_counts(), the verified ones from verified_count(), each read natively in the native edition.';
