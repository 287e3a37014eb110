-- One batch of a prune in PL/pgSQL.  The native edition switches to the
-- table's owner inside a security-restricted operation; PL/pgSQL cannot, so
-- the portable edition crosses no privilege boundary at all: it deletes as
-- the role that runs prune(), which must own the table (on Supabase the
-- `postgres` role owns the bot's tables and schedules the job).  Triggers on
-- the table then run with their owner's own rights, as in any DELETE of his.

CREATE FUNCTION nezuko_analytics.prune_batch(target regclass, time_column name, cutoff timestamptz,
                                             batch_size integer, ordered boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel record;
    qualified text;
    deleted bigint;
BEGIN
    IF target IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 1 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF time_column IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 2 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF cutoff IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 3 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF batch_size IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 4 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF ordered IS NULL THEN RAISE EXCEPTION 'prune_batch: argument 5 must not be NULL' USING ERRCODE = 'null_value_not_allowed'; END IF;
    IF batch_size < 1 THEN
        RAISE EXCEPTION 'prune_batch: batch_size must be at least 1' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.relkind, c.relowner, n.nspname, c.relname INTO rel
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = target;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'prune_batch: no table with OID %', target::oid USING ERRCODE = 'undefined_table';
    END IF;
    qualified := format('%I.%I', rel.nspname, rel.relname);
    IF rel.relkind = 'p' THEN
        RAISE EXCEPTION 'prune: % is a partitioned table', qualified USING ERRCODE = 'wrong_object_type',
            HINT = 'Detach or drop its old partitions instead, or give each partition its own policy.';
    END IF;
    IF rel.relkind <> 'r' THEN
        RAISE EXCEPTION 'prune_batch: % is not a table', qualified USING ERRCODE = 'wrong_object_type';
    END IF;
    IF NOT has_table_privilege(target, 'SELECT') THEN
        RAISE EXCEPTION 'prune: permission denied to read rows of table %', qualified USING ERRCODE = 'insufficient_privilege',
            HINT = 'The role that runs prune() must be able to delete the rows itself.';
    END IF;
    IF NOT has_table_privilege(target, 'DELETE') THEN
        RAISE EXCEPTION 'prune: permission denied to delete rows of table %', qualified USING ERRCODE = 'insufficient_privilege',
            HINT = 'The role that runs prune() must be able to delete the rows itself.';
    END IF;
    IF row_security_active(target) THEN
        RAISE EXCEPTION 'prune: table % has row-level security for the role that runs prune()', qualified
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Run prune() as the table''s owner or as a role that bypasses row-level security.';
    END IF;
    IF NOT pg_has_role(rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'prune: the portable edition deletes as the role that runs prune(), and % does not own table %',
                        current_user, qualified USING ERRCODE = 'insufficient_privilege',
            HINT = format('Schedule prune() as the table''s owner, %I (the native edition runs each batch as the owner).',
                          pg_get_userbyid(rel.relowner));
    END IF;
    -- As the native edition: every name qualified, every operator pg_catalog's,
    -- ONLY this table (a ctid names a row of one table).
    EXECUTE format('DELETE FROM ONLY %1$s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ctid FROM ONLY %1$s'
                   ' WHERE %2$I OPERATOR(pg_catalog.<) $1%3$s LIMIT $2))',
                   qualified, time_column, CASE WHEN ordered THEN format(' ORDER BY %I', time_column) ELSE '' END)
        USING cutoff, batch_size;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    RETURN deleted;
END;
$$;
COMMENT ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) IS
  'Deletes at most batch_size rows of target itself (not of its inheritance children; a partitioned table is refused) whose time_column is before cutoff (oldest first when ordered) and returns how many, as the role that runs it, which must own the table (a member of the owner role), hold SELECT and DELETE and see it without row-level security. Used by prune().';
