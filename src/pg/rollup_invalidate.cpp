// rollup_invalidate(): the statement-level AFTER trigger that enable_rollups()
// puts on verification_log and api_call_log (docs/rollups.md).  It writes the
// quarter hours that a statement touched (its transition tables' old and new
// rows) to nezuko_analytics.rollup_pending, in the writer's transaction, so a
// reader that sees the rows also sees that their quarter hours are pending.
// TRUNCATE writes one row with bucket -infinity: everything is pending.
//
// Trigger arguments: the source ('verification_log' or 'api_call_log') and
// the name of its timestamptz column.
//
// The writer is the bot's role; rollup_pending belongs to the extension.  The
// INSERT runs as rollup_pending's owner inside a security-restricted operation
// with search_path = pg_catalog, pg_temp (as prune_batch() and VACUUM run
// code), and it is the only statement that runs there: a fixed INSERT into
// our own table, which has no triggers.  The writer needs no privilege on it.
//
// Only plain data lives on these frames: an ERROR leaves through
// PostgreSQL's abort, which restores the user, the security context and the
// settings.
#include "../core/quarter_hours.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
}

namespace {

// The plan of the INSERT, kept for the backend's life (PostgreSQL replans it
// when rollup_pending changes).
SPIPlanPtr insert_plan = nullptr;

struct Times {
    int64* values = nullptr;
    int count = 0;
    int capacity = 0;
};

void append(Times& times, int64 t) {
    if (times.count == times.capacity) {
        times.capacity = times.capacity == 0 ? 16 : times.capacity * 2;
        times.values = static_cast<int64*>(times.values == nullptr ? palloc(sizeof(int64) * times.capacity)
                                                                   : repalloc(times.values, sizeof(int64) * times.capacity));
    }
    times.values[times.count++] = t;
}

// Every finite, non-NULL time of one transition table.
void collect(Tuplestorestate* rows, TupleDesc desc, AttrNumber column, Times& times) {
    if (rows == nullptr)
        return;
    TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
    // Our own read pointer, as a scan of a transition table in a query takes
    // one: other triggers of the statement read the same rows.
    int reader = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
    tuplestore_select_read_pointer(rows, reader);
    tuplestore_rescan(rows);
    while (tuplestore_gettupleslot(rows, true, false, slot)) {
        bool isnull = false;
        Datum value = slot_getattr(slot, column, &isnull);
        if (isnull)
            continue;
        TimestampTz t = DatumGetTimestampTz(value);
        if (!TIMESTAMP_NOT_FINITE(t))  // readers skip infinite times too
            append(times, t);
    }
    tuplestore_select_read_pointer(rows, 0);
    ExecDropSingleTupleTableSlot(slot);
}

Oid pending_table_owner() {
    Oid nsp = get_namespace_oid("nezuko_analytics", true);
    Oid relid = OidIsValid(nsp) ? get_relname_relid("rollup_pending", nsp) : InvalidOid;
    HeapTuple tuple = OidIsValid(relid) ? SearchSysCache1(RELOID, ObjectIdGetDatum(relid)) : nullptr;
    if (!HeapTupleIsValid(tuple))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("rollup_invalidate: table nezuko_analytics.rollup_pending does not exist"),
                        errhint("Run SELECT nezuko_analytics.disable_rollups(); to remove the rollup triggers.")));
    Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relowner;
    ReleaseSysCache(tuple);
    return owner;
}

void insert_pending(const char* source, Datum buckets) {
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(pending_table_owner(), saved_context | SECURITY_RESTRICTED_OPERATION);
    int guc_level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true,
                             0, false);
    if (SPI_connect() != SPI_OK_CONNECT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("rollup_invalidate: SPI_connect failed")));
    if (insert_plan == nullptr) {
        Oid types[2] = {TEXTOID, TIMESTAMPTZARRAYOID};
        SPIPlanPtr plan = SPI_prepare(
            "INSERT INTO nezuko_analytics.rollup_pending (source, bucket) SELECT $1, pg_catalog.unnest($2)", 2, types);
        if (plan == nullptr)
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                            errmsg("rollup_invalidate: SPI_prepare failed: %s", SPI_result_code_string(SPI_result))));
        if (SPI_keepplan(plan) != 0)
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("rollup_invalidate: SPI_keepplan failed")));
        insert_plan = plan;
    }
    Datum values[2] = {CStringGetTextDatum(source), buckets};
    int rc = SPI_execute_plan(insert_plan, values, nullptr, false, 0);
    if (rc != SPI_OK_INSERT)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("rollup_invalidate: INSERT failed: %s", SPI_result_code_string(rc))));
    SPI_finish();
    AtEOXact_GUC(false, guc_level);
    SetUserIdAndSecContext(saved_user, saved_context);
}

}  // namespace

NZ_PG_FUNCTION(nz_rollup_invalidate) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("rollup_invalidate: not called by the trigger manager")));
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    if (!TRIGGER_FIRED_AFTER(trigger->tg_event) || !TRIGGER_FIRED_FOR_STATEMENT(trigger->tg_event))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("rollup_invalidate: must be an AFTER ... FOR EACH STATEMENT trigger")));
    if (trigger->tg_trigger->tgnargs != 2)
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("rollup_invalidate: expects 2 arguments (source, time column), got %d",
                               trigger->tg_trigger->tgnargs)));
    const char* source = trigger->tg_trigger->tgargs[0];
    const char* column = trigger->tg_trigger->tgargs[1];
    Relation rel = trigger->tg_relation;

    Datum bucket_array;
    if (TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event)) {
        Datum everything = TimestampTzGetDatum(DT_NOBEGIN);  // -infinity: every quarter hour
        bucket_array = PointerGetDatum(construct_array(&everything, 1, TIMESTAMPTZOID, sizeof(TimestampTz),
                                                       FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    } else {
        AttrNumber attnum = attnameAttNum(rel, column, false);
        if (attnum == InvalidAttrNumber ||
            TupleDescAttr(RelationGetDescr(rel), attnum - 1)->atttypid != TIMESTAMPTZOID)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("rollup_invalidate: table %s has no timestamptz column %s",
                                   RelationGetRelationName(rel), column)));
        if (trigger->tg_oldtable == nullptr && trigger->tg_newtable == nullptr)
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("rollup_invalidate: the trigger on %s has no transition table",
                                   RelationGetRelationName(rel)),
                            errhint("Run SELECT nezuko_analytics.enable_rollups(); to recreate the triggers.")));
        Times times;
        collect(trigger->tg_oldtable, RelationGetDescr(rel), attnum, times);
        collect(trigger->tg_newtable, RelationGetDescr(rel), attnum, times);
        if (times.count == 0)
            return PointerGetDatum(nullptr);
        std::size_t n = nz::distinct_quarter_hours(times.values, static_cast<std::size_t>(times.count));
        Datum* buckets = static_cast<Datum*>(palloc(sizeof(Datum) * n));
        for (std::size_t i = 0; i < n; ++i)
            buckets[i] = TimestampTzGetDatum(times.values[i]);
        bucket_array = PointerGetDatum(construct_array(buckets, static_cast<int>(n), TIMESTAMPTZOID,
                                                       sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
    }
    insert_pending(source, bucket_array);
    return PointerGetDatum(nullptr);
}
