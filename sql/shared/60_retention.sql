-- Retention: policies, a batched prune procedure that pg_cron runs, a log of
-- every run, and scheduling helpers.  The script only creates empty,
-- config-dumped tables and code; apply_schema() registers the policies and
-- schedules the job (a restore must not meet a second copy of either).

CREATE TABLE nezuko_analytics.retention_policy (
    table_name  text PRIMARY KEY
                CHECK (table_name IN ('api_call_log', 'verification_log',
                                      'nezuko_analytics.retention_runs', 'cron.job_run_details')),
    time_column name NOT NULL DEFAULT 'timestamp',
    keep        interval NOT NULL CHECK (keep > interval '0'),
    enabled     boolean NOT NULL DEFAULT true
);
COMMENT ON TABLE nezuko_analytics.retention_policy IS
  'How long each managed table keeps its rows: rows whose time_column is older than now() - keep are pruned by prune(). Tables by name (unqualified = the bot''s schema recorded by apply_schema()), never by OID. Change with UPDATE or set_retention().';

CREATE TABLE nezuko_analytics.retention_runs (
    started_at    timestamptz NOT NULL,
    table_name    text NOT NULL,
    finished_at   timestamptz,
    cutoff        timestamptz,
    rows_deleted  bigint NOT NULL DEFAULT 0,
    batches       integer NOT NULL DEFAULT 0,
    status        text NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'error', 'interrupted')),
    error_message text,
    pid           integer,  -- the backend that ran it (a running row whose backend is gone was interrupted)
    PRIMARY KEY (started_at, table_name)
);

CREATE INDEX retention_runs_finished_at ON nezuko_analytics.retention_runs (finished_at);
COMMENT ON INDEX nezuko_analytics.retention_runs_finished_at IS
  'Lets prune() remove retention_runs rows older than their own policy through the index.';
COMMENT ON TABLE nezuko_analytics.retention_runs IS
  'One row per table per prune() run: cutoff, rows deleted, batches, status (ok, partial when max_runtime stopped it, error, interrupted when a cancel, a timeout or the end of its session stopped it) and the error message. Pruned itself by its own policy.';

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.retention_policy', '');

SELECT pg_catalog.pg_extension_config_dump('nezuko_analytics.retention_runs', '');

-- The qualified name of a policy's table, or NULL when it does not exist.
CREATE FUNCTION nezuko_analytics.retention_target(table_name text)
RETURNS regclass
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF position('.' IN table_name) > 0 THEN
        RETURN to_regclass(table_name);
    END IF;
    RETURN to_regclass(format('%I.%I', nezuko_analytics.bot_schema(), table_name));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.retention_target(text) IS
  'The table a retention policy names (unqualified names are in the bot''s schema), or NULL when it does not exist.';

CREATE FUNCTION nezuko_analytics.register_retention_policies()
RETURNS TABLE (table_name text, description text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    FOR p IN
        SELECT * FROM (VALUES ('api_call_log', 'timestamp'::name, '90 days'),
                              ('verification_log', 'timestamp', '90 days'),
                              ('nezuko_analytics.retention_runs', 'finished_at', '90 days'),
                              ('cron.job_run_details', 'end_time', '14 days')) v(t, c, k)
        WHERE v.t <> 'cron.job_run_details' OR to_regclass('cron.job_run_details') IS NOT NULL
    LOOP
        INSERT INTO nezuko_analytics.retention_policy AS r (table_name, time_column, keep)
        VALUES (p.t, p.c, p.k::interval) ON CONFLICT ON CONSTRAINT retention_policy_pkey DO NOTHING;
        IF FOUND THEN
            table_name := p.t;
            description := format('registered retention policy: %s keeps %s (on %I)', p.t, p.k, p.c);
            RETURN NEXT;
        END IF;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.register_retention_policies() IS
  'Registers the default retention policies that are absent (api_call_log and verification_log 90 days, retention_runs 90 days, cron.job_run_details 14 days when pg_cron''s tables are in this database); called by apply_schema().';

CREATE FUNCTION nezuko_analytics.set_retention(table_name text, keep interval)
RETURNS nezuko_analytics.retention_policy
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    result nezuko_analytics.retention_policy;
BEGIN
    IF keep IS NULL OR keep <= interval '0' THEN
        RAISE EXCEPTION 'set_retention: keep must be a positive interval, not %', coalesce(keep::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE nezuko_analytics.retention_policy p SET keep = set_retention.keep
    WHERE p.table_name = set_retention.table_name
    RETURNING p.* INTO result;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'set_retention: nezuko_analytics manages no table named %', coalesce(quote_literal(table_name), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = (SELECT 'Managed tables: ' || string_agg(p.table_name, ', ' ORDER BY p.table_name)
                          FROM nezuko_analytics.retention_policy p);
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.set_retention(text, interval) IS
  'Sets how long a managed table keeps its rows; rejects a zero, negative or NULL interval and tables without a policy.';

CREATE FUNCTION nezuko_analytics.prune_preview(as_of timestamptz DEFAULT now())
RETURNS TABLE (table_name text, cutoff timestamptz, rows_to_delete bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
    target regclass;
BEGIN
    FOR p IN SELECT * FROM nezuko_analytics.retention_policy WHERE enabled ORDER BY 1 LOOP
        target := nezuko_analytics.retention_target(p.table_name);
        table_name := p.table_name;
        cutoff := coalesce(as_of, now()) - p.keep;
        rows_to_delete := NULL;
        IF target IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %s WHERE %I < $1', target, p.time_column)
                INTO rows_to_delete USING cutoff;
        END IF;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.prune_preview(timestamptz) IS
  'What prune() would delete (now, or as of as_of): per enabled policy, the cutoff and the number of rows older than it (NULL when the table does not exist).';

CREATE FUNCTION nezuko_analytics.pin_prune_settings()
RETURNS void LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
AS $$
BEGIN
    -- Transaction-local, so prune() calls this again after every COMMIT.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true),
            pg_catalog.set_config('synchronous_commit', 'off', true);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.pin_prune_settings() IS
  'Sets, for the current transaction of prune(), search_path = pg_catalog, pg_temp (no name of prune() resolves through a schema another role can write) and synchronous_commit = off (its commits never make the bot''s inserts wait). prune() cannot carry a SET clause: it COMMITs.';

-- No SET clause: a procedure with one cannot COMMIT.  pin_prune_settings()
-- pins the search path before the first statement and after every COMMIT.
CREATE PROCEDURE nezuko_analytics.prune(batch_size integer DEFAULT 10000,
                                        max_runtime interval DEFAULT '10 minutes',
                                        as_of timestamptz DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    run_start timestamptz := pg_catalog.clock_timestamp();
    reference_time timestamptz;
    deadline timestamptz;
    p record;
    target regclass;
    run_cutoff timestamptz;
    ordered boolean;
    n bigint;
    err text;
    first_batch boolean := true;
    table_status text;
BEGIN
    PERFORM nezuko_analytics.pin_prune_settings();
    IF batch_size IS NULL OR batch_size < 1 THEN
        RAISE EXCEPTION 'prune: batch_size must be at least 1, not %', coalesce(batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_runtime IS NULL OR max_runtime <= interval '0' THEN
        RAISE EXCEPTION 'prune: max_runtime must be a positive interval, not %', coalesce(max_runtime::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF as_of > run_start THEN
        RAISE EXCEPTION 'prune: as_of is in the future'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('as_of = %s, the run started at %s; a cutoff computed from a future time could delete rows inside the retention window.', as_of, run_start);
    END IF;
    reference_time := coalesce(as_of, run_start);
    deadline := run_start + max_runtime;
    -- Runs that a cancel, a timeout or the end of their session stopped:
    -- their backend is gone, or it is this one (which starts anew).
    UPDATE nezuko_analytics.retention_runs r
       SET status = 'interrupted', finished_at = run_start,
           error_message = 'the run was interrupted (cancelled, timed out, or its session ended)'
     WHERE r.status = 'running'
       AND (r.pid = pg_catalog.pg_backend_pid()
            OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.pid = r.pid));
    COMMIT;
    PERFORM nezuko_analytics.pin_prune_settings();
    FOR p IN SELECT * FROM nezuko_analytics.retention_policy WHERE enabled ORDER BY table_name LOOP
        run_cutoff := reference_time - p.keep;  -- once, at the start of the run
        INSERT INTO nezuko_analytics.retention_runs (started_at, table_name, cutoff, status, pid)
        VALUES (run_start, p.table_name, run_cutoff, 'running', pg_catalog.pg_backend_pid());
        COMMIT;
        PERFORM nezuko_analytics.pin_prune_settings();
        -- The table, resolved once per run to its OID.
        target := nezuko_analytics.retention_target(p.table_name);
        IF target IS NULL THEN
            UPDATE nezuko_analytics.retention_runs SET status = 'error', finished_at = pg_catalog.clock_timestamp(),
                   error_message = format('table %s does not exist', p.table_name)
            WHERE started_at = run_start AND table_name = p.table_name;
            COMMIT;
            PERFORM nezuko_analytics.pin_prune_settings();
            CONTINUE;
        END IF;
        -- Walk the time index when there is one (oldest rows first).
        SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                       WHERE i.indrelid = target::pg_catalog.oid AND a.attname = p.time_column)
            INTO ordered;
        table_status := 'ok';
        LOOP
            IF NOT first_batch AND pg_catalog.clock_timestamp() >= deadline THEN
                table_status := 'partial';  -- the next run resumes from the oldest rows left
                EXIT;
            END IF;
            first_batch := false;
            err := NULL;
            BEGIN
                n := nezuko_analytics.prune_batch(target, p.time_column, run_cutoff, batch_size, ordered);
            EXCEPTION WHEN OTHERS THEN  -- a cancel or timeout is not caught: it ends the run
                err := SQLERRM;
            END;
            IF err IS NOT NULL THEN
                table_status := 'error';
                UPDATE nezuko_analytics.retention_runs SET error_message = err
                WHERE started_at = run_start AND table_name = p.table_name;
                EXIT;
            END IF;
            UPDATE nezuko_analytics.retention_runs
               SET rows_deleted = rows_deleted + n, batches = batches + 1
             WHERE started_at = run_start AND table_name = p.table_name;
            COMMIT;  -- short locks and snapshots; vacuum can keep up
            PERFORM nezuko_analytics.pin_prune_settings();
            EXIT WHEN n < batch_size;
        END LOOP;
        UPDATE nezuko_analytics.retention_runs SET status = table_status, finished_at = pg_catalog.clock_timestamp()
        WHERE started_at = run_start AND table_name = p.table_name;
        COMMIT;
        PERFORM nezuko_analytics.pin_prune_settings();
    END LOOP;
END;
$$;
COMMENT ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) IS
  'Deletes rows older than each enabled policy''s keep (cutoff computed once at the start, from as_of when given, which must not be in the future; rows exactly on the cutoff and rows with a NULL time are kept), in batches of batch_size through the time index, each batch as the table''s owner in a security-restricted operation (prune_batch()), COMMITting (asynchronously) between batches with the search path pinned to pg_catalog, pg_temp; stops at max_runtime (status partial; the next run resumes) and logs one retention_runs row per table. An error in one table is logged and the other tables still run; a cancel or timeout ends the run, and the next run marks its rows interrupted. Run it with CALL, alone (pg_cron: CALL nezuko_analytics.prune()).';
