// The dashboard's aggregates over a window read partly from rollups
// (docs/rollups.md):
//   verification_summary_parts(part "char", ts, status, latency_ms, cached, group_id,
//                              cell rollup_verifications, period bytea,
//                              tz_offsets bigint[], top_groups int, recent_since timestamptz) -> text
//   api_summary_parts(method, success, latency_ms, cell rollup_api_calls, period bytea) -> text
// Their state, combine, serialize, deserialize and final functions are those
// of verification_summary and api_summary (dashboard_agg.cpp): only the
// transition differs.  part says what an input row is:
//   'a'  a raw row (as verification_summary counts it)
//   'q'  cell: a quarter hour of rollup_verifications, with its groups
//   'p'  period: a local day of rollup_days, the binary state of the
//        summary of its quarter hours (what the serialize function writes)
// The cells' fields are read by name.  api_summary_parts takes a raw call,
// a cell or a period.
#include "../core/dashboard_summary.hpp"
#include "api_call_row_args.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"
#include "record_fields.hpp"
#include "rollup_cell_fold.hpp"
#include "summary_state.hpp"
#include "tz_offsets_arg.hpp"
#include "verification_row_args.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace {

using nz::pg::AState;
using nz::pg::kApiCellFields;
using nz::pg::kQuarterHourFields;
using nz::pg::new_state;
using nz::pg::RecordFields;
using nz::pg::state_arg;
using nz::pg::VState;

void add_quarter_hour(FunctionCallInfo fcinfo, VState* state, HeapTupleHeader cell) {
    const char* fn = "verification_summary_parts";
    auto* f = RecordFields<8>::of(fcinfo, 0, cell, kQuarterHourFields, fn);
    nz::pg::fold_quarter_hour(state, [&](int i, bool* isnull) { return f->get(cell, i, isnull); }, fn, false);
}

// The bytes of a bytea argument (detoasted).
const uint8_t* bytea_arg(FunctionCallInfo fcinfo, int argno, std::size_t* len) {
    bytea* b = PG_GETARG_BYTEA_PP(argno);
    *len = VARSIZE_ANY_EXHDR(b);
    return reinterpret_cast<const uint8_t*>(VARDATA_ANY(b));
}

}  // namespace

NZ_PG_FUNCTION(nz_vsummary_rollup_add) {
    const char* fn = "verification_summary_parts";
    MemoryContext context = nz::pg::aggregate_context(fcinfo, fn);
    VState* state = state_arg<VState>(fcinfo, 0);
    if (state == nullptr) {
        state = new_state<VState>(context);
        nz::pg::set_summary_options(fcinfo, state, 10, 11);
    }
    nz::pg::read_tz_offsets(fcinfo, 9, state->summary.time_zone(), fn);
    if (PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: part must not be NULL", fn)));
    char part = PG_GETARG_CHAR(1);
    if (part == 'q' || part == 'p') {
        int argno = part == 'q' ? 7 : 8;
        if (PG_ARGISNULL(argno))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("%s: a part '%c' row needs its %s", fn, part, part == 'q' ? "cell" : "period")));
        if (part == 'q') {
            add_quarter_hour(fcinfo, state, PG_GETARG_HEAPTUPLEHEADER(argno));
        } else {
            std::size_t len = 0;
            const uint8_t* data = bytea_arg(fcinfo, argno, &len);
            nz::pg::run_core(fn, [&] { state->summary.merge_encoded(data, len); });
        }
        PG_RETURN_POINTER(state);
    }
    if (part != 'a')
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: part must be 'a', 'q' or 'p', not '%c'", fn, part)));
    nz::pg::VerificationRowArgs r = nz::pg::verification_row_args(fcinfo, 2);
    if (!r.counted) PG_RETURN_POINTER(state);  // a row without a (finite) time is outside every window
    nz::pg::run_core(fn, [&] { state->summary.add(r.ts, r.status, r.has_latency, r.latency, r.cached, r.group_id); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_asummary_parts_add) {
    const char* fn = "api_summary_parts";
    MemoryContext context = nz::pg::aggregate_context(fcinfo, fn);
    AState* state = state_arg<AState>(fcinfo, 0);
    if (state == nullptr) state = new_state<AState>(context);
    if (PG_NARGS() > 5 && !PG_ARGISNULL(5)) {  // a period of rollup_days (1.7 on)
        std::size_t len = 0;
        const uint8_t* data = bytea_arg(fcinfo, 5, &len);
        nz::pg::run_core(fn, [&] { state->summary.merge_encoded(data, len); });
        PG_RETURN_POINTER(state);
    }
    if (!PG_ARGISNULL(4)) {  // a quarter hour of one method from rollup_api_calls
        HeapTupleHeader cell = PG_GETARG_HEAPTUPLEHEADER(4);
        auto* f = RecordFields<5>::of(fcinfo, 0, cell, kApiCellFields, fn);
        nz::pg::fold_api_cell(state, [&](int i, bool* isnull) { return f->get(cell, i, isnull); }, fn);
        PG_RETURN_POINTER(state);
    }
    nz::pg::ApiCallRowArgs r = nz::pg::api_call_row_args(fcinfo, 1);
    nz::pg::run_core(fn, [&] { state->summary.add(r.method, r.method_len, r.success, r.has_latency, r.latency); });
    PG_RETURN_POINTER(state);
}
