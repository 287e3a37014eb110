-- The fixed-window contracts' counts in the portable edition: always a
-- query (sql/shared/72_count_queries.sql, and verified_count() below); there
-- are no native reads.  verification_counts(), verified_count(), api_counts()
-- and group_counts() run their queries in one process
-- (max_parallel_workers_per_gather = 0), as the native edition's reads of
-- these windows do and as the originals' SELECT ... INTO always did: a
-- dashboard's page asks for several 7-day counts at once, and parallel
-- workers for each of them take the server's few worker slots and start new
-- processes for a read of a few tens of milliseconds (on one machine, 96-125
-- ms with two workers against 62-73 ms in one process: docs/benchmarks.md).
-- verification_counts_scan(), for windows of any length, may run in
-- parallel.

CREATE FUNCTION nezuko_analytics.verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$ SELECT * FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency) $$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'verification_counts_query(): the record the fixed-window contracts count from, in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.verification_counts_scan(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency) $$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_scan(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'The counts of verification_log over a window of any length (get_analytics_overview): verification_counts_query().';

CREATE FUNCTION nezuko_analytics.verified_count(bot name, since timestamptz, until timestamptz)
RETURNS bigint LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format($q$SELECT count(*) FROM %I.verification_log
                      WHERE "timestamp" >= $1 AND "timestamp" < $2 AND status = 'verified'$q$, bot)
        INTO n USING since, until;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verified_count(name, timestamptz, timestamptz) IS
  'The rows of bot.verification_log in [since, until) whose status is verified, from one query (by an index condition where an index leads with "timestamp" and holds status, as the schema''s idx_verification_log_timestamp_status), in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$ SELECT * FROM nezuko_analytics.api_counts_query(bot, since, until) $$;
COMMENT ON FUNCTION nezuko_analytics.api_counts(name, timestamptz, timestamptz) IS
  'api_counts_query(): calls and successful calls by method, in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET max_parallel_workers_per_gather = 0
AS $$ SELECT * FROM nezuko_analytics.group_counts_query(bot, since, until, top) $$;
COMMENT ON FUNCTION nezuko_analytics.group_counts(name, timestamptz, timestamptz, integer) IS
  'group_counts_query(): the top groups by verifications, in one process (no parallel workers).';

CREATE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT * FROM nezuko_analytics.groups_status_query(bot) $$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'groups_status_query(): enabled, disabled and total protected groups.';

-- No SET clause, so that it is inlined (see get_members_chart_data()).
CREATE FUNCTION nezuko_analytics.members_chart(bot name, top integer)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nezuko_analytics.members_chart_query(bot, top) $$;
COMMENT ON FUNCTION nezuko_analytics.members_chart(name, integer) IS
  'members_chart_query(): get_members_chart_data''s document.';
