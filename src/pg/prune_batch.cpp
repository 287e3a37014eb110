// prune_batch(target regclass, time_column name, cutoff timestamptz,
//             batch_size integer, ordered boolean) -> bigint
// One batch of prune(): deletes at most batch_size rows of target whose
// time_column is before cutoff (oldest first when ordered), and returns how
// many.  The DELETE runs as the table's owner inside a security-restricted
// operation with search_path = pg_catalog, pg_temp, as VACUUM, ANALYZE and
// REFRESH MATERIALIZED VIEW run user code since PostgreSQL's fix for
// CVE-2022-1552: the table's triggers fire with its owner's rights, never with
// the rights of whoever runs the job (a superuser, through pg_cron), and no
// name resolves through a schema another role can write.
//
// The caller must hold SELECT and DELETE on the table itself and see it
// without row-level security (the owner would not be limited by the caller's
// policies): the switch changes whose rights the table's own code runs with,
// never which rows the caller may delete.
//
// An ERROR inside (a trigger's, a cancel) leaves through PostgreSQL's abort
// of the (sub)transaction, which restores the user, the security context and
// the settings; the frames here hold plain data only.
#include "pg_boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

namespace {

void require_privilege(Oid relid, AclMode mode, const char* what, const char* table) {
    if (pg_class_aclcheck(relid, GetUserId(), mode) != ACLCHECK_OK)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("prune: permission denied to %s rows of table %s", what, table),
                        errhint("The role that runs prune() must be able to delete the rows itself.")));
}

}  // namespace

NZ_PG_FUNCTION(nz_prune_batch) {
    for (int i = 0; i < 5; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("prune_batch: argument %d must not be NULL", i + 1)));
    Oid relid = PG_GETARG_OID(0);
    const char* column = NameStr(*PG_GETARG_NAME(1));
    Datum cutoff = PG_GETARG_DATUM(2);
    int32 batch_size = PG_GETARG_INT32(3);
    bool ordered = PG_GETARG_BOOL(4);
    if (batch_size < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("prune_batch: batch_size must be at least 1")));

    HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tuple))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("prune_batch: no table with OID %u", relid)));
    auto* form = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple));
    Oid owner = form->relowner;
    char relkind = form->relkind;
    char* qualified = quote_qualified_identifier(get_namespace_name(form->relnamespace), NameStr(form->relname));
    ReleaseSysCache(tuple);
    if (relkind == RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                        errmsg("prune: %s is a partitioned table", qualified),
                        errhint("Detach or drop its old partitions instead, or give each partition its own policy.")));
    if (relkind != RELKIND_RELATION)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("prune_batch: %s is not a table", qualified)));

    require_privilege(relid, ACL_SELECT, "read", qualified);
    require_privilege(relid, ACL_DELETE, "delete", qualified);
    if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("prune: table %s has row-level security for the role that runs prune()", qualified),
                        errhint("Run prune() as the table's owner or as a role that bypasses row-level security.")));

    // Every name is qualified and every operator is pg_catalog's.  ONLY: a
    // ctid names a row of one table, and an inheritance child's rows have
    // ctids of their own (the same ctid in a child is another row); the
    // children are left alone.
    StringInfoData sql;
    initStringInfo(&sql);
    const char* col = quote_identifier(column);
    appendStringInfo(&sql,
                     "DELETE FROM ONLY %s WHERE ctid OPERATOR(pg_catalog.=) ANY (ARRAY(SELECT ctid FROM ONLY %s"
                     " WHERE %s OPERATOR(pg_catalog.<) $1%s%s LIMIT $2))",
                     qualified, qualified, col, ordered ? " ORDER BY " : "", ordered ? col : "");
    Oid types[2] = {TIMESTAMPTZOID, INT4OID};
    Datum values[2] = {cutoff, Int32GetDatum(batch_size)};

    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner, saved_context | SECURITY_RESTRICTED_OPERATION);
    int guc_level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                             0, false);
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("prune_batch: SPI_connect failed")));
    int rc = SPI_execute_with_args(sql.data, 2, types, values, nullptr, false, 0);
    if (rc != SPI_OK_DELETE)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("prune_batch: DELETE failed: %s", SPI_result_code_string(rc))));
    int64 deleted = static_cast<int64>(SPI_processed);
    SPI_finish();
    AtEOXact_GUC(false, guc_level);
    SetUserIdAndSecContext(saved_user, saved_context);
    PG_RETURN_INT64(deleted);
}
