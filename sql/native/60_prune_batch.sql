-- One batch of a prune, as the table's owner (src/pg/prune_batch.cpp).
CREATE FUNCTION nezuko_analytics.prune_batch(target regclass, time_column name, cutoff timestamptz,
                                             batch_size integer, ordered boolean)
RETURNS bigint LANGUAGE c VOLATILE PARALLEL UNSAFE
AS 'MODULE_PATHNAME', 'nz_prune_batch';
COMMENT ON FUNCTION nezuko_analytics.prune_batch(regclass, name, timestamptz, integer, boolean) IS
  'Deletes at most batch_size rows of target itself (not of its inheritance children; a partitioned table is refused) whose time_column is before cutoff (oldest first when ordered) and returns how many: as the table''s owner, inside a security-restricted operation, with search_path = pg_catalog, pg_temp (as VACUUM runs user code). The caller must hold SELECT and DELETE on the table and see it without row-level security. Used by prune().';
