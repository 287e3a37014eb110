-- nezuko_analytics 1.2 -> 1.3, written by hand (docs/versions.md): every
-- object 1.3 adds, changes or drops.  extension_upgrade compares the result
-- with a fresh install.
\echo Use "ALTER EXTENSION nezuko_analytics UPDATE TO '1.3'" to load this file. \quit

-- apply_schema(): what it creates is closed to Supabase's API roles; the bot's
-- exposed tables are reported (30_apply_schema.sql).
CREATE FUNCTION nezuko_analytics.api_roles()
RETURNS SETOF name
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT rolname FROM pg_roles WHERE rolname IN ('anon', 'authenticated') ORDER BY 1 $$;
COMMENT ON FUNCTION nezuko_analytics.api_roles() IS
  'Supabase''s API roles that exist here (anon, authenticated): the roles the web app''s requests run as, without BYPASSRLS.';

CREATE FUNCTION nezuko_analytics.close_to_api_roles(target_schema name, tbl name)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grantees text;
BEGIN
    SELECT string_agg(quote_ident(r), ', ') INTO grantees FROM nezuko_analytics.api_roles() r;
    IF grantees IS NULL THEN
        RETURN;  -- not a Supabase database
    END IF;
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', target_schema, tbl);
    EXECUTE format('REVOKE TRUNCATE, TRIGGER, REFERENCES ON %I.%I FROM PUBLIC, %s', target_schema, tbl, grantees);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.close_to_api_roles(name, name) IS
  'Where Supabase''s API roles exist: enables row-level security on a table apply_schema() created (no policy: only its owner and BYPASSRLS roles such as service_role read and write it) and revokes TRUNCATE, TRIGGER and REFERENCES from PUBLIC, anon and authenticated.';

CREATE FUNCTION nezuko_analytics.report_exposed_tables(target_schema name)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.relname, string_agg(DISTINCT r.r, ', ') AS roles
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN nezuko_analytics.api_roles() r(r)
        WHERE n.nspname = target_schema AND c.relkind IN ('r', 'p') AND NOT c.relrowsecurity
          AND c.relname IN (SELECT b.table_name FROM nezuko_analytics.base_table_ddl() b)
          AND (has_table_privilege(r.r, c.oid, 'INSERT') OR has_table_privilege(r.r, c.oid, 'UPDATE')
               OR has_table_privilege(r.r, c.oid, 'DELETE') OR has_table_privilege(r.r, c.oid, 'TRUNCATE')
               OR has_table_privilege(r.r, c.oid, 'TRIGGER'))
        GROUP BY c.relname ORDER BY c.relname
    LOOP
        RAISE NOTICE 'nezuko_analytics: %.% can be written, truncated or given triggers by % without row-level security',
                target_schema, t.relname, t.roles
            USING HINT = format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY; REVOKE TRUNCATE, TRIGGER, REFERENCES ON %I.%I FROM PUBLIC, %s;',
                                target_schema, t.relname, target_schema, t.relname, t.roles);
    END LOOP;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.report_exposed_tables(name) IS
  'Raises one NOTICE per bot table in target_schema that Supabase''s anon or authenticated role can write, truncate or add triggers to while row-level security is off, with the statements that close it. Changes nothing; called by apply_schema().';

CREATE OR REPLACE FUNCTION nezuko_analytics.apply_schema(target_schema name DEFAULT 'public')
RETURNS SETOF text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    spec record;
    existing_type text;
    idx_table text;
    policy record;
    registered boolean := false;
    job_exists boolean;
BEGIN
    IF target_schema IS NULL THEN
        RAISE EXCEPTION 'apply_schema: target_schema must not be NULL'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = target_schema) THEN
        RAISE EXCEPTION 'apply_schema: schema "%" does not exist', target_schema
            USING ERRCODE = 'invalid_schema_name',
                  HINT = 'Create the schema first, or pass the schema that holds the bot''s tables.';
    END IF;

    -- One apply at a time in this database.
    PERFORM pg_advisory_xact_lock(hashtext('nezuko_analytics.apply_schema'));

    -- 1. Check every existing column against the spec before changing anything.
    FOR spec IN SELECT * FROM nezuko_analytics.spec_columns() LOOP
        existing_type := nezuko_analytics.column_type(target_schema, spec.table_name, spec.column_name);
        IF existing_type IS NOT NULL AND NOT existing_type = ANY (spec.accepted_types) THEN
            RAISE EXCEPTION 'apply_schema: column %.%.% has type %, which nezuko_analytics cannot use',
                    target_schema, spec.table_name, spec.column_name, existing_type
                USING ERRCODE = 'datatype_mismatch',
                      DETAIL = format('Accepted types: %s.  Nothing was changed.',
                                      array_to_string(spec.accepted_types, ', ')),
                      HINT = 'Convert the column (ALTER TABLE ... ALTER COLUMN ... TYPE) or rename it, then run apply_schema() again.';
        END IF;
        IF existing_type IS NULL AND NOT spec.added_by_spec
           AND nezuko_analytics.table_exists(target_schema, spec.table_name) THEN
            RAISE EXCEPTION 'apply_schema: table %.% has no column % (%), which nezuko_analytics reads',
                    target_schema, spec.table_name, spec.column_name,
                    array_to_string(spec.accepted_types, ' or ')
                USING ERRCODE = 'undefined_column',
                      DETAIL = 'Nothing was changed.';
        END IF;
    END LOOP;
    FOR spec IN SELECT * FROM nezuko_analytics.spec_indexes() LOOP
        SELECT t.relname INTO idx_table
        FROM pg_class i
        JOIN pg_namespace n ON n.oid = i.relnamespace
        LEFT JOIN pg_index x ON x.indexrelid = i.oid
        LEFT JOIN pg_class t ON t.oid = x.indrelid
        WHERE n.nspname = target_schema AND i.relname = spec.index_name;
        IF FOUND AND idx_table IS DISTINCT FROM spec.table_name THEN
            RAISE EXCEPTION 'apply_schema: %.% already exists and is not an index on %',
                    target_schema, spec.index_name, spec.table_name
                USING ERRCODE = 'duplicate_object',
                      DETAIL = 'Nothing was changed.';
        END IF;
    END LOOP;

    -- 2. Tables: the bot's base tables on a fresh database, then api_call_log.
    FOR spec IN SELECT * FROM nezuko_analytics.base_table_ddl() ORDER BY creation_order LOOP
        CONTINUE WHEN nezuko_analytics.table_exists(target_schema, spec.table_name);
        EXECUTE format(spec.create_ddl, target_schema);
        PERFORM nezuko_analytics.close_to_api_roles(target_schema, spec.table_name);
        PERFORM nezuko_analytics.record_schema_change(target_schema, CASE WHEN spec.table_name = 'api_call_log' THEN 'create_table' ELSE 'create_base_table' END,
                spec.table_name, spec.table_name);
        RETURN NEXT format('created table %I.%I', target_schema, spec.table_name);
    END LOOP;

    -- 3. Columns the spec adds, where missing.
    FOR spec IN SELECT * FROM nezuko_analytics.spec_columns() WHERE added_by_spec LOOP
        CONTINUE WHEN nezuko_analytics.column_type(target_schema, spec.table_name, spec.column_name) IS NOT NULL;
        EXECUTE format('ALTER TABLE %I.%I ADD COLUMN %I %s',
                       target_schema, spec.table_name, spec.column_name, spec.column_ddl);
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'add_column', spec.table_name, spec.column_name);
        RETURN NEXT format('added column %I.%I.%I %s',
                           target_schema, spec.table_name, spec.column_name, spec.column_ddl);
    END LOOP;

    -- 4. Indexes the spec names, where no index of that name exists.
    FOR spec IN SELECT * FROM nezuko_analytics.spec_indexes() LOOP
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM pg_class i JOIN pg_namespace n ON n.oid = i.relnamespace
            WHERE n.nspname = target_schema AND i.relname = spec.index_name);
        EXECUTE format('CREATE INDEX %I ON %I.%I %s',
                       spec.index_name, target_schema, spec.table_name, spec.key_columns);
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'create_index', spec.table_name, spec.index_name);
        RETURN NEXT format('created index %I on %I.%I %s',
                           spec.index_name, target_schema, spec.table_name, spec.key_columns);
    END LOOP;

    -- 5. Remember where the bot's tables are.
    INSERT INTO nezuko_analytics.schema_state (singleton, target_schema, applied_at)
    VALUES (true, target_schema, now())
    ON CONFLICT (singleton) DO UPDATE
        SET target_schema = EXCLUDED.target_schema, applied_at = EXCLUDED.applied_at
        WHERE schema_state.target_schema IS DISTINCT FROM EXCLUDED.target_schema;

    -- 6. Retention: the default policies where absent, and the pg_cron job
    --    where pg_cron is installed in this database (else a NOTICE on how).
    FOR policy IN SELECT * FROM nezuko_analytics.register_retention_policies() LOOP
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'register_policy', policy.table_name, policy.table_name);
        registered := true;
        RETURN NEXT policy.description;
    END LOOP;
    IF to_regclass('cron.job') IS NOT NULL THEN
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM cron.job WHERE jobname = $1 AND username = current_user)'
            INTO job_exists USING nezuko_analytics.retention_job_name();
        IF NOT job_exists THEN
            PERFORM nezuko_analytics.schedule_retention();
            PERFORM nezuko_analytics.record_schema_change(target_schema, 'schedule_job', 'cron.job', nezuko_analytics.retention_job_name());
            RETURN NEXT format('scheduled pg_cron job %s: CALL nezuko_analytics.prune() at ''17 3 * * *''',
                               nezuko_analytics.retention_job_name());
        END IF;
    ELSIF registered THEN
        RAISE NOTICE 'nezuko_analytics: retention is not scheduled: pg_cron is not installed in this database'
            USING HINT = nezuko_analytics.retention_schedule_hint('17 3 * * *')
                         || ' Or run CALL nezuko_analytics.prune(); from any scheduler.';
    END IF;

    -- 7. The dashboard's functions for Supabase's API roles, where they exist;
    --    the bot's own tables those roles could write are reported.
    PERFORM nezuko_analytics.report_exposed_tables(target_schema);
    FOR policy IN SELECT * FROM nezuko_analytics.grant_dashboard_access() LOOP
        PERFORM nezuko_analytics.record_schema_change(target_schema, 'grant_access', 'nezuko_analytics', policy.role_name);
        RETURN NEXT policy.description;
    END LOOP;
    RETURN;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.apply_schema(name) IS
  'Applies the schema spec to the bot''s tables in target_schema, in one transaction and idempotently: creates the base tables on a fresh database, api_call_log, the spec''s new columns and indexes where missing, registers the default retention policies, schedules prune() with pg_cron when it is installed here, grants the dashboard functions to Supabase''s API roles where they exist; where those roles exist, every table it creates has row-level security on and no TRUNCATE, TRIGGER or REFERENCES for them, and a NOTICE names each existing bot table they could write; never redefines an existing column; returns one line per change.';

-- The latency reads steer the planner through a function's SET clauses, not
-- set_config() under a STABLE label (42_latency_buckets.sql, 44_index_only.sql).
DROP FUNCTION nezuko_analytics.prefer_index_only(name, text);
DROP FUNCTION nezuko_analytics.restore_plan_settings(text[]);

CREATE FUNCTION nezuko_analytics.latency_read(bot name, source text, query text, since timestamptz, until timestamptz,
                                              arg anyelement)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3  -- the value travels as text: every digit of a float8
AS $$
DECLARE
    result text;
BEGIN
    IF nezuko_analytics.has_time_latency_index(bot, source) THEN
        result := nezuko_analytics.latency_read_index_only(query, since, until, arg);
    ELSE
        EXECUTE query INTO result USING since, until, arg;
    END IF;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_read(name, text, text, timestamptz, timestamptz, anyelement) IS
  'Runs the one latency query of latency_percentiles() or latency_histogram() (parameters $1 since, $2 until, $3 arg) and returns its one value as text: planned for an index-only scan (latency_read_index_only()) when bot.source has a "timestamp"-led index that holds latency_ms, else as the planner likes.';

CREATE FUNCTION nezuko_analytics.latency_read_index_only(query text, since timestamptz, until timestamptz, arg anyelement)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET extra_float_digits = 3
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
DECLARE
    result text;
BEGIN
    EXECUTE query INTO result USING since, until, arg;
    RETURN result;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_read_index_only(text, timestamptz, timestamptz, anyelement) IS
  'Runs query with sequential and bitmap scans off, for this call only (the function''s SET clauses; no setting of the caller changes): the index-only scan of a "timestamp"-led index that holds latency_ms.';

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
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_histogram');
    IF edges IS NULL THEN
        RAISE EXCEPTION 'latency_histogram: edges must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    labels := nezuko_analytics.latency_bucket_labels(edges);  -- validates the edges
    bot := nezuko_analytics.bot_schema();
    counts := nezuko_analytics.latency_read(bot, source,
        format('SELECT nezuko_analytics.latency_bucket_counts(latency_ms, $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', bot, source),
        since, until, edges)::bigint[];
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

CREATE OR REPLACE FUNCTION nezuko_analytics.latency_percentiles(
    since timestamptz,
    until timestamptz DEFAULT now(),
    percentiles float8[] DEFAULT '{0.5,0.95,0.99}',
    source text DEFAULT 'verification_log')
RETURNS float8[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nezuko_analytics.check_window(since, until);
    PERFORM nezuko_analytics.check_latency_source(source, 'latency_percentiles');
    IF percentiles IS NULL THEN
        RAISE EXCEPTION 'latency_percentiles: percentiles must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    RETURN nezuko_analytics.latency_read(nezuko_analytics.bot_schema(), source,
        format('SELECT nezuko_analytics.percentiles(nezuko_analytics.latency_dist(latency_ms), $3) FROM %I.%I'
               ' WHERE "timestamp" >= $1 AND "timestamp" < $2', nezuko_analytics.bot_schema(), source),
        since, until, percentiles)::float8[];
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.latency_percentiles(timestamptz, timestamptz, float8[], text) IS
  'Exact latency percentiles of [since, until) from verification_log or api_call_log, equal to percentile_cont(percentiles); NULL for a window without latencies. Reads through an index-only scan when a "timestamp"-led index holds latency_ms.';

-- Privileges before per-day work, which the data present bounds (45_time_zones.sql).
CREATE FUNCTION nezuko_analytics.require_select(bot name, relname text)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT has_schema_privilege(bot, 'USAGE') THEN
        RAISE EXCEPTION 'permission denied for schema %', bot USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT has_table_privilege(format('%I.%I', bot, relname), 'SELECT') THEN
        RAISE EXCEPTION 'permission denied for table %', relname USING ERRCODE = 'insufficient_privilege';
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.require_select(name, text) IS
  'Raises the error a query would raise (42501) unless the caller may read bot.relname: USAGE on the schema and SELECT on the table. Called before work that does not read the table yet.';

CREATE OR REPLACE FUNCTION nezuko_analytics.window_tz_offsets(since timestamptz, until timestamptz, tz text)
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bot name := nezuko_analytics.bot_schema();
    first_row timestamptz;
    last_row timestamptz;
BEGIN
    -- Privileges before any per-day work: a role that may not read the
    -- table gets the query's error at once, whatever the window.
    PERFORM nezuko_analytics.require_select(bot, 'verification_log');
    IF isfinite(since) AND isfinite(until) AND until - since <= interval '400 days' THEN
        RETURN nezuko_analytics.tz_offsets(since, until, tz);
    END IF;
    -- An open window (the contracts' "since now() - period") or a long one:
    -- only the span that holds rows needs offsets, found by two index
    -- probes, so the per-day work is bounded by the data present.  Rows at
    -- +-infinity belong to no local hour or day.
    EXECUTE format('SELECT min(v."timestamp"), max(v."timestamp") FROM %I.verification_log v'
                   ' WHERE v."timestamp" >= $1 AND v."timestamp" < $2'
                   ' AND v."timestamp" > ''-infinity'' AND v."timestamp" < ''infinity''', bot)
        INTO first_row, last_row USING since, until;
    IF first_row IS NULL THEN
        RETURN NULL;  -- no rows: local time is never asked for
    END IF;
    -- Offsets are looked up from 1900 to 2100 at most (a row outside takes
    -- the offset of the nearest end): at most 200 years of per-day work,
    -- whatever timestamps the table holds.
    first_row := least(greatest(first_row, timestamptz '1900-01-01 00:00+00'), timestamptz '2100-01-01 00:00+00');
    last_row := least(greatest(last_row, first_row), timestamptz '2100-01-01 00:00+00');
    RETURN nezuko_analytics.tz_offsets(first_row, last_row, tz);
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.window_tz_offsets(timestamptz, timestamptz, text) IS
  'tz_offsets() for a window [since, until): over the window itself when both ends are finite and at most 400 days apart, else over the span of the bot''s verification_log rows in it (NULL when none), within 1900 to 2100 (a row outside takes the offset of the nearest end), so the per-day work is bounded; checks USAGE and SELECT first. What hourly_status_counts() and verification_summary() place rows in local hours and days with.';

-- Retention: each batch as the table's owner in a security-restricted operation,
-- the search path pinned after every COMMIT, interrupted runs closed (60_retention.sql).
ALTER TABLE nezuko_analytics.retention_runs ADD COLUMN pid integer;
ALTER TABLE nezuko_analytics.retention_runs DROP CONSTRAINT retention_runs_status_check;
ALTER TABLE nezuko_analytics.retention_runs ADD CONSTRAINT retention_runs_status_check
    CHECK (status IN ('running', 'ok', 'partial', 'error', 'interrupted'));

COMMENT ON TABLE nezuko_analytics.retention_runs IS
  'One row per table per prune() run: cutoff, rows deleted, batches, status (ok, partial when max_runtime stopped it, error, interrupted when a cancel, a timeout or the end of its session stopped it) and the error message. Pruned itself by its own policy.';

CREATE FUNCTION nezuko_analytics.prune_batch(target regclass, time_column name, cutoff timestamptz,
                                             batch_size integer, ordered boolean)
RETURNS bigint LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_prune_batch';
COMMENT ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) IS
  'Deletes at most batch_size rows of target itself (not of its inheritance children; a partitioned table is refused) whose time_column is before cutoff (oldest first when ordered) and returns how many: as the table''s owner, inside a security-restricted operation, with search_path = pg_catalog, pg_temp (as VACUUM runs user code). The caller must hold SELECT and DELETE on the table and see it without row-level security. Used by prune().';

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

CREATE OR REPLACE PROCEDURE nezuko_analytics.prune(batch_size integer DEFAULT 10000,
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

-- A retention hint a role that may not read server settings can get (61_retention_schedule.sql).
CREATE OR REPLACE FUNCTION nezuko_analytics.retention_schedule_hint(schedule text)
RETURNS text LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        -- pg_cron's settings are readable only with pg_read_all_settings (a
        -- database owner on a managed host has no such right): name no database
        WHEN NOT pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') THEN
            format('in pg_cron''s database (its cron.database_name) run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                   nezuko_analytics.retention_job_name(), schedule, 'CALL nezuko_analytics.prune()', current_database())
        ELSE
            CASE
            WHEN current_setting('shared_preload_libraries') !~ 'pg_cron' THEN
                'Add pg_cron to shared_preload_libraries and restart; then '
            ELSE '' END
            || CASE
            WHEN coalesce(current_setting('cron.database_name', true), 'postgres') = current_database() THEN
                format('run CREATE EXTENSION pg_cron; and SELECT nezuko_analytics.schedule_retention(%L);', schedule)
            ELSE
                format('in database %s (cron.database_name) run: SELECT cron.schedule_in_database(%L, %L, %L, %L);',
                       quote_ident(coalesce(current_setting('cron.database_name', true), 'postgres')),
                       nezuko_analytics.retention_job_name(), schedule, 'CALL nezuko_analytics.prune()', current_database())
            END
        END
$$;
COMMENT ON FUNCTION nezuko_analytics.retention_schedule_hint(text) IS
  'The steps that schedule prune() when pg_cron is not installed in this database (naming pg_cron''s database only to a role that may read its settings).';

-- The native reads' wrappers read records by expression, not by query: no SPI
-- round trip per call (72_native_reads.sql).
CREATE OR REPLACE FUNCTION nezuko_analytics.verification_counts(
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

CREATE OR REPLACE FUNCTION nezuko_analytics.groups_status_counts(bot name, OUT enabled bigint, OUT disabled bigint, OUT total bigint)
RETURNS record LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n record := nezuko_analytics.native_groups_status(bot);
BEGIN
    IF n IS NOT NULL THEN
        enabled := n.enabled; disabled := n.disabled; total := n.total;
    ELSE  -- the native read stepped aside
        EXECUTE format('SELECT count(*) FILTER (WHERE enabled), count(*) FILTER (WHERE NOT enabled), count(*) FROM %I.protected_groups',
                       bot) INTO enabled, disabled, total;
    END IF;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.groups_status_counts(name) IS
  'native_groups_status(), or the same record from one query when the native path may not read the table.';

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
    v := nezuko_analytics.verification_counts(bot, since, 'infinity', 'infinity', true, true, true);
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
    c := nezuko_analytics.verification_counts(bot, now() - interval '7 days', 'infinity', current_date, true, true, false);
    g := nezuko_analytics.groups_status_counts(bot);
    EXECUTE format('SELECT count(*) FROM %I.enforced_channels', bot) INTO channels;
    RETURN json_build_object('total_groups', g.enabled, 'total_channels', channels,
                             'verifications_today', c.today_count, 'verifications_week', c.total,
                             'success_rate', nezuko_analytics.percent(c.verified, c.total),
                             'cache_hit_rate', nezuko_analytics.percent(c.cached, c.total));
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.get_dashboard_stats() IS
  'Contract get_dashboard_stats: {total_groups (enabled), total_channels, verifications_today (since current_date), verifications_week, success_rate, cache_hit_rate} over 7 days; statuses and cache hits read natively, from the "timestamp"-led indexes that hold them when there are such.';

-- Privileges (80_grants.sql).
REVOKE EXECUTE ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.pin_prune_settings() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION nezuko_analytics.close_to_api_roles(name, name) FROM PUBLIC;

-- The extension is trusted (docs/security.md): a role with CREATE on the
-- database installs it without being a superuser.  The script then runs as
-- the bootstrap superuser, who owns what it creates; the installing role,
-- @extowner@, receives exactly what it needs to run it (the administrative
-- functions, the bookkeeping tables, the dashboard's functions with the right
-- to grant them to the API roles) and nothing that reads or changes a table
-- it could not read or change itself: every function is SECURITY INVOKER,
-- and prune_batch() checks the caller's own DELETE privilege.
GRANT USAGE ON SCHEMA nezuko_analytics TO @extowner@ WITH GRANT OPTION;
GRANT SELECT ON nezuko_analytics.schema_state TO @extowner@ WITH GRANT OPTION;
GRANT SELECT, INSERT, UPDATE, DELETE ON nezuko_analytics.schema_state, nezuko_analytics.schema_changes,
      nezuko_analytics.retention_policy, nezuko_analytics.retention_runs TO @extowner@;
GRANT EXECUTE ON FUNCTION nezuko_analytics.apply_schema(name), nezuko_analytics.revert_schema(),
      nezuko_analytics.record_schema_change(name, text, name, name), nezuko_analytics.set_retention(text, interval),
      nezuko_analytics.schedule_retention(text), nezuko_analytics.unschedule_retention(),
      nezuko_analytics.register_retention_policies(),
      nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean),
      nezuko_analytics.pin_prune_settings(), nezuko_analytics.close_to_api_roles(name, name),
      nezuko_analytics.grant_dashboard_access(), nezuko_analytics.revoke_dashboard_access(name) TO @extowner@;
GRANT EXECUTE ON PROCEDURE nezuko_analytics.prune(integer, interval, timestamptz) TO @extowner@;
DO $$
DECLARE f regprocedure;
BEGIN
    FOR f IN SELECT * FROM nezuko_analytics.dashboard_functions() LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO @extowner@ WITH GRANT OPTION', f);
    END LOOP;
END $$;
