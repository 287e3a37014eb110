-- The fixed-window contracts (and the two that read the small tables) read
-- the bot's tables natively, without the executor (src/pg/window_scan.cpp):
-- over 7 days the originals' separate index-only counts are already near
-- what one query can do, and executor overhead is most of the rest.
-- A native read returns NULL whenever a query could see something else (row-
-- level security, no privilege, SERIALIZABLE, a column of another type, no
-- "timestamp"-led index, or nezuko_analytics.native_reads = off); the same
-- figures then come from one query.  Every native read returns a record
-- whose fields C++ sets by name.

CREATE FUNCTION nezuko_analytics.native_verification_counts(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_verification_counts_record';
COMMENT ON FUNCTION nezuko_analytics.native_verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'Native read of bot.verification_log over [since, until): total, today_count (rows at or after today), verified, restricted, error, cached, latency_rows (rows with a latency), latency_sum; only the columns asked for are read (the others count 0). One index-only scan when a "timestamp"-led index holds them all, one per column for at most two columns, else one pass over the rows. All NULL when the native path may not read the table (use verification_counts()).';

CREATE FUNCTION nezuko_analytics.native_api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_api_counts';
COMMENT ON FUNCTION nezuko_analytics.native_api_counts(name, timestamptz, timestamptz) IS
  'Native read of bot.api_call_log over [since, until): calls and successful calls (success = true) by method. NULL when the native path may not read the table or there are more than 1024 methods (use api_counts()).';

CREATE FUNCTION nezuko_analytics.native_group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_group_counts';
COMMENT ON FUNCTION nezuko_analytics.native_group_counts(name, timestamptz, timestamptz, integer) IS
  'Native read of bot.verification_log over [since, until): the top groups by verifications (ties by group_id) with their verifications and verified ones. NULL when the native path may not read the table (use group_counts()).';

CREATE FUNCTION nezuko_analytics.native_groups_status(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_groups_status_record';
COMMENT ON FUNCTION nezuko_analytics.native_groups_status(name) IS
  'Native read of bot.protected_groups: enabled, disabled (enabled = false) and total rows; all NULL when the native path may not read the table (use groups_status_counts()).';

CREATE FUNCTION nezuko_analytics.native_members_chart(bot name, top integer)
RETURNS json LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'nz_native_members_chart';
COMMENT ON FUNCTION nezuko_analytics.native_members_chart(name, integer) IS
  'Native read of get_members_chart_data''s document: the top channels by subscriber_count and groups by member_count (ties by id, NULL as 0); NULL when the native path may not read the tables.';

CREATE FUNCTION nezuko_analytics.verification_counts(
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
    IF n.total IS NULL THEN  -- the rollups give nothing here
        n := nezuko_analytics.verification_counts_raw(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
    total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
    error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'The counts of verification_log over [since, until) (total, today_count at or after today, by status, cached, latency rows and sum): from the rollups where they serve (verification_counts_rollups()), else verification_counts_raw().';

CREATE FUNCTION nezuko_analytics.verification_counts_raw(
    bot name, since timestamptz, until timestamptz, today timestamptz,
    with_status boolean, with_cached boolean, with_latency boolean,
    OUT total bigint, OUT today_count bigint, OUT verified bigint, OUT restricted bigint, OUT error bigint,
    OUT cached bigint, OUT latency_rows bigint, OUT latency_sum bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- an expression, not a query: no SPI round trip for a call that takes microseconds
    n record := nezuko_analytics.native_verification_counts(bot, since, until, today, with_status, with_cached, with_latency);
BEGIN
    IF n IS NOT NULL THEN
        total := n.total; today_count := n.today_count; verified := n.verified; restricted := n.restricted;
        error := n.error; cached := n.cached; latency_rows := n.latency_rows; latency_sum := n.latency_sum;
    ELSE  -- the native read stepped aside
        SELECT * INTO total, today_count, verified, restricted, error, cached, latency_rows, latency_sum
        FROM nezuko_analytics.verification_counts_query(bot, since, until, today, with_status, with_cached, with_latency);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.verification_counts_raw(name, timestamptz, timestamptz, timestamptz, boolean, boolean, boolean) IS
  'native_verification_counts(), or the same record from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.verified_count(bot name, since timestamptz, until timestamptz)
RETURNS bigint LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT c.verified FROM nezuko_analytics.verification_counts(bot, since, until, 'infinity', true, false, false) c $$;
COMMENT ON FUNCTION nezuko_analytics.verified_count(name, timestamptz, timestamptz) IS
  'The rows of bot.verification_log in [since, until) whose status is verified: verification_counts() (the rollups, a native read of the status column, or its query).';

CREATE FUNCTION nezuko_analytics.api_counts(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.api_counts_rollups(bot, since, until) n;
    IF methods IS NULL THEN  -- the rollups give nothing here
        SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.api_counts_raw(bot, since, until) n;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts(name, timestamptz, timestamptz) IS
  'Calls and successful calls by method of api_call_log over [since, until): from the rollups where they serve (api_counts_rollups()), else api_counts_raw().';

CREATE FUNCTION nezuko_analytics.api_counts_raw(bot name, since timestamptz, until timestamptz,
    OUT methods text[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.methods, n.calls, n.ok INTO methods, calls, ok FROM nezuko_analytics.native_api_counts(bot, since, until) n;
    IF methods IS NULL THEN
        SELECT * INTO methods, calls, ok FROM nezuko_analytics.api_counts_query(bot, since, until);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.api_counts_raw(name, timestamptz, timestamptz) IS
  'native_api_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.group_counts(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_rollups(bot, since, until, top) n;
    IF group_ids IS NULL THEN  -- the rollups give nothing here
        SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_raw(bot, since, until, top) n;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts(name, timestamptz, timestamptz, integer) IS
  'The top groups by verifications over [since, until) (ties by group_id) with their verified ones: from the rollups where they serve (group_counts_rollups()), else group_counts_raw().';

CREATE FUNCTION nezuko_analytics.group_counts_raw(bot name, since timestamptz, until timestamptz, top integer,
    OUT group_ids bigint[], OUT calls bigint[], OUT ok bigint[])
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT n.group_ids, n.calls, n.ok INTO group_ids, calls, ok FROM nezuko_analytics.native_group_counts(bot, since, until, top) n;
    IF group_ids IS NULL THEN
        SELECT * INTO group_ids, calls, ok FROM nezuko_analytics.group_counts_query(bot, since, until, top);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.group_counts_raw(name, timestamptz, timestamptz, integer) IS
  'native_group_counts(), or the same arrays from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.native_groups_status(bot);
BEGIN
    IF n IS NOT NULL THEN
        enabled := n.enabled; disabled := n.disabled; total := n.total;
    ELSE  -- the native read stepped aside
        SELECT * INTO enabled, disabled, total FROM nezuko_analytics.groups_status_query(bot);
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'native_groups_status(), or the same record from one query when the native path may not read the table.';

CREATE FUNCTION nezuko_analytics.members_chart(bot name, top integer)
RETURNS json LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(nezuko_analytics.native_members_chart(bot, top), nezuko_analytics.members_chart_query(bot, top)) $$;
COMMENT ON FUNCTION nezuko_analytics.members_chart(name, integer) IS
  'native_members_chart(), or the same document from one query when the native path may not read the tables.';
