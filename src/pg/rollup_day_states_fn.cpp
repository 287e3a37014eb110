// The local days of rollup_days made from the quarter hours without the
// executor (docs/rollups.md, "Local days"):
//   rollup_day_states(source, days date[], starts timestamptz[], ends timestamptz[], tz_offsets bigint[])
//       -> setof (day date, starts_at timestamptz, ends_at timestamptz, summary bytea)
// Day i is the quarter hours of nezuko_analytics.rollup_verifications (or
// rollup_api_calls) in [starts[i], ends[i]), read in order through the
// table's primary key and folded as verification_summary_state /
// api_summary_state fold them (rollup_cell_fold.hpp), verification_log's in
// the zone's tz_offsets; summary is the bytes those aggregates' final
// function writes.  A day without quarter hours has no row, nor has a
// verification_log day holding a negative latency.
//
// The aggregates over a join of the days with their quarter hours cost a
// build a quarter more than the folding itself: the join, a hash table of
// 120 states spilled to disk, and a second read of every quarter hour for
// the negative latencies.  Here each day is one index range, folded as it
// is read, one day per call (value per call), and nothing stays open
// between calls: a caller that stops early leaves no scan behind.
#include <cstring>

#include "named_record.hpp"
#include "pg_arrays.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"
#include "rollup_build_scan.hpp"
#include "rollup_cell_fold.hpp"
#include "summary_state.hpp"
#include "window_scan.hpp"

extern "C" {
#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace {

constexpr const char* kName = "rollup_day_states";
constexpr const char* kSchema = "nezuko_analytics";

// What lives from the first call to the last, in the multi-call memory.
struct DaysCall {
    bool verification;
    Oid relid, index;
    AttrNumber cols[8];  // the fields of rollup_cell_fold.hpp's names, in their order
    int ncols;
    AttrNumber last_col;
    int ndays, next;
    DateADT* days;
    TimestampTz *starts, *ends;
    int noffsets;
    int64* offsets;  // verification_log: tz_offsets' pairs
    MemoryContext day_context;  // one day's state and detoasted fields, reset for the next
    nz::pg::NamedRecord* row;
};

// A one-dimensional array argument without NULLs, copied into the current
// memory context; its length in *n.
template <typename T>
T* array_copy(FunctionCallInfo fcinfo, int argno, Oid type, const char* name, int* n) {
    if (PG_ARGISNULL(argno))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: %s must not be NULL", kName, name)));
    const T* data = nz::pg::array_elements<T>(PG_GETARG_ARRAYTYPE_P(argno), type, name, n);
    T* copy = static_cast<T*>(palloc(sizeof(T) * Max(*n, 1)));
    std::memcpy(copy, data, sizeof(T) * static_cast<std::size_t>(*n));
    return copy;
}

// Column `name` of the rollup table, of type `type` (column_of_type()); an
// ERROR otherwise.
AttrNumber rollup_column(Relation rel, const char* name, Oid type) {
    AttrNumber column = nz::pg::column_of_type(rel, name, type, InvalidOid);
    if (column == InvalidAttrNumber)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("%s: %s.%s has no column \"%s\" of type %s", kName, kSchema, RelationGetRelationName(rel),
                               name, format_type_be(type)),
                        errhint("The module and the extension's SQL are of different versions: run ALTER EXTENSION nezuko_analytics UPDATE;")));
    return column;
}

// Finds the rollup table of the source, checks that the caller may read it
// as a query would, and its columns and primary key (led by bucket).
void open_rollup_table(DaysCall* call) {
    const char* table = call->verification ? "rollup_verifications" : "rollup_api_calls";
    Oid ns = get_namespace_oid(kSchema, false);
    call->relid = get_relname_relid(table, ns);
    if (!OidIsValid(call->relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("%s: table %s.%s does not exist", kName, kSchema, table)));
    Relation rel = table_open(call->relid, AccessShareLock);
    if (pg_class_aclcheck(call->relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("%s: permission denied for table %s.%s", kName, kSchema, table)));
    if (check_enable_rls(call->relid, InvalidOid, false) == RLS_ENABLED)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("%s: %s.%s has row-level security for this role", kName, kSchema, table)));
    Oid dist_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("latency_dist"), ObjectIdGetDatum(ns));
    AttrNumber bucket = rollup_column(rel, "bucket", TIMESTAMPTZOID);
    if (call->verification) {
        const Oid types[] = {TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, dist_type, BYTEAOID};
        call->ncols = 8;
        for (int i = 0; i < call->ncols; ++i) call->cols[i] = rollup_column(rel, nz::pg::kQuarterHourFields[i], types[i]);
    } else {
        const Oid types[] = {TEXTOID, INT8OID, INT8OID, INT8OID, dist_type};
        call->ncols = 5;
        for (int i = 0; i < call->ncols; ++i) call->cols[i] = rollup_column(rel, nz::pg::kApiCellFields[i], types[i]);
    }
    call->last_col = 0;
    for (int i = 0; i < call->ncols; ++i) call->last_col = Max(call->last_col, call->cols[i]);
    call->index = RelationGetPrimaryKeyIndex(rel);
    bool led_by_bucket = false;
    if (OidIsValid(call->index)) {
        Relation idx = index_open(call->index, AccessShareLock);
        led_by_bucket = idx->rd_index->indkey.values[0] == bucket;
        index_close(idx, NoLock);
    }
    table_close(rel, NoLock);
    if (!led_by_bucket)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("%s: %s.%s has no primary key led by bucket", kName, kSchema, table)));
}

// The summary state of day i's quarter hours, as bytes in the caller's
// memory context; NULL when it has none (or a negative latency).
Datum fold_day(DaysCall* call, int i, MemoryContext result_context) {
    if (!ActiveSnapshotSet())
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("%s: no active snapshot", kName)));
    MemoryContextReset(call->day_context);
    MemoryContext old = MemoryContextSwitchTo(call->day_context);
    nz::pg::VState* vstate = nullptr;
    nz::pg::AState* astate = nullptr;
    if (call->verification) {
        vstate = nz::pg::new_state<nz::pg::VState>(call->day_context);
        vstate->summary.set_top_groups(1);  // as rollup_days_rebuild() asked the aggregate for
        nz::pg::run_core(kName, [&] {
            vstate->summary.time_zone().assign(reinterpret_cast<const int64_t*>(call->offsets),
                                               static_cast<std::size_t>(call->noffsets));
        });
    } else {
        astate = nz::pg::new_state<nz::pg::AState>(call->day_context);
    }
    Relation rel = table_open(call->relid, AccessShareLock);
    Relation idx = index_open(call->index, AccessShareLock);
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], 1, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE, TimestampTzGetDatum(call->starts[i]));
    ScanKeyInit(&keys[1], 1, BTLessStrategyNumber, F_TIMESTAMPTZ_LT, TimestampTzGetDatum(call->ends[i]));
    IndexScanDesc scan = index_beginscan(rel, idx, GetActiveSnapshot(), 2, 0);
    index_rescan(scan, keys, 2, nullptr, 0);
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    bool any = false, refused = false;
    while (index_getnext_slot(scan, ForwardScanDirection, slot)) {
        CHECK_FOR_INTERRUPTS();
        slot_getsomeattrs(slot, call->last_col);
        auto get = [&](int f, bool* isnull) {
            int a = call->cols[f] - 1;
            *isnull = slot->tts_isnull[a];
            return slot->tts_values[a];
        };
        any = true;
        if (call->verification) {
            if (!nz::pg::fold_quarter_hour(vstate, get, kName, true)) {
                refused = true;
                break;
            }
        } else {
            nz::pg::fold_api_cell(astate, get, kName);
        }
    }
    ExecDropSingleTupleTableSlot(slot);
    index_endscan(scan);
    index_close(idx, NoLock);
    table_close(rel, NoLock);
    MemoryContextSwitchTo(result_context);
    Datum summary = (Datum) 0;
    if (any && !refused)
        summary = call->verification
                      ? nz::pg::serialize_encoded(kName, [&] { return vstate->summary.encode(); })
                      : nz::pg::serialize_encoded(kName, [&] { return astate->summary.encode(); });
    MemoryContextSwitchTo(old);
    return summary;
}

void first_call(FunctionCallInfo fcinfo, FuncCallContext* funcctx) {
    if (PG_ARGISNULL(0))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: source must not be NULL", kName)));
    MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
    auto* call = static_cast<DaysCall*>(palloc0(sizeof(DaysCall)));
    call->verification = nz::pg::build_source_is_verification(PG_GETARG_TEXT_PP(0), kName);
    int nstarts = 0, nends = 0;
    call->days = array_copy<DateADT>(fcinfo, 1, DATEOID, "days", &call->ndays);
    call->starts = array_copy<TimestampTz>(fcinfo, 2, TIMESTAMPTZOID, "starts", &nstarts);
    call->ends = array_copy<TimestampTz>(fcinfo, 3, TIMESTAMPTZOID, "ends", &nends);
    if (nstarts != call->ndays || nends != call->ndays)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
                        errmsg("%s: days, starts and ends must have the same length (%d, %d, %d)", kName, call->ndays,
                               nstarts, nends)));
    for (int i = 0; i < call->ndays; ++i) {
        if (TIMESTAMP_NOT_FINITE(call->starts[i]) || TIMESTAMP_NOT_FINITE(call->ends[i]) ||
            call->starts[i] >= call->ends[i])
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s: day %d must start before it ends, at finite times", kName, i + 1)));
        if (i > 0 && call->starts[i] < call->ends[i - 1])
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("%s: the days must be in increasing order without overlap (day %d starts before day "
                                   "%d ends)", kName, i + 1, i)));
    }
    if (call->verification) {
        if (PG_ARGISNULL(4))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("%s: tz_offsets must not be NULL for verification_log", kName)));
        call->offsets = array_copy<int64>(fcinfo, 4, INT8OID, "tz_offsets", &call->noffsets);
    }
    open_rollup_table(call);
    call->day_context = AllocSetContextCreate(funcctx->multi_call_memory_ctx, "nezuko_analytics rollup day",
                                              ALLOCSET_DEFAULT_SIZES);
    call->row = new (palloc(sizeof(nz::pg::NamedRecord))) nz::pg::NamedRecord(fcinfo, kName);
    funcctx->user_fctx = call;
    MemoryContextSwitchTo(old);
}

}  // namespace

NZ_PG_FUNCTION(nz_rollup_day_states) {
    if (SRF_IS_FIRSTCALL()) first_call(fcinfo, SRF_FIRSTCALL_INIT());
    FuncCallContext* funcctx = SRF_PERCALL_SETUP();
    auto* call = static_cast<DaysCall*>(funcctx->user_fctx);
    MemoryContext result_context = CurrentMemoryContext;
    while (call->next < call->ndays) {
        int i = call->next++;
        Datum summary = fold_day(call, i, result_context);
        if (summary == (Datum) 0) continue;
        nz::pg::NamedRecord& row = *call->row;
        row.clear();
        row.set("day", DateADTGetDatum(call->days[i]))
            .set("starts_at", TimestampTzGetDatum(call->starts[i]))
            .set("ends_at", TimestampTzGetDatum(call->ends[i]))
            .set("summary", summary);
        SRF_RETURN_NEXT(funcctx, row.datum());
    }
    MemoryContextDelete(call->day_context);
    SRF_RETURN_DONE(funcctx);
}
