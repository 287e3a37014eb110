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
#include "summary_state.hpp"
#include "tz_offsets_arg.hpp"
#include "verification_row_args.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace {

using nz::pg::AState;
using nz::pg::new_state;
using nz::pg::RecordFields;
using nz::pg::state_arg;
using nz::pg::VState;

constexpr const char* kQuarterHourFields[] = {"bucket", "total",  "verified", "restricted",
                                             "error",  "cached", "latencies", "groups"};
constexpr const char* kApiFields[] = {"method", "calls", "ok", "failures", "latencies"};

template <int N>
Datum required_field(const RecordFields<N>* fields, HeapTupleHeader row, int i, const char* const (&names)[N],
                     const char* function_name) {
    bool isnull = false;
    Datum value = fields->get(row, i, &isnull);
    if (isnull)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s: field \"%s\" of a rollup row is NULL", function_name, names[i])));
    return value;
}

uint64_t count_field(int64 value, const char* name, const char* function_name) {
    if (value < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: field \"%s\" of a rollup row is negative", function_name, name)));
    return static_cast<uint64_t>(value);
}

void add_quarter_hour(FunctionCallInfo fcinfo, VState* state, HeapTupleHeader cell) {
    const char* fn = "verification_summary_parts";
    auto* f = RecordFields<8>::of(fcinfo, 0, cell, kQuarterHourFields, fn);
    nz::QuarterHourCounts c;
    c.start = DatumGetTimestampTz(required_field(f, cell, 0, kQuarterHourFields, fn));
    c.total = count_field(DatumGetInt64(required_field(f, cell, 1, kQuarterHourFields, fn)), "total", fn);
    c.verified = count_field(DatumGetInt64(required_field(f, cell, 2, kQuarterHourFields, fn)), "verified", fn);
    c.restricted = count_field(DatumGetInt64(required_field(f, cell, 3, kQuarterHourFields, fn)), "restricted", fn);
    c.error = count_field(DatumGetInt64(required_field(f, cell, 4, kQuarterHourFields, fn)), "error", fn);
    c.cached = count_field(DatumGetInt64(required_field(f, cell, 5, kQuarterHourFields, fn)), "cached", fn);
    struct varlena* latencies = PG_DETOAST_DATUM_PACKED(required_field(f, cell, 6, kQuarterHourFields, fn));
    struct varlena* groups = PG_DETOAST_DATUM_PACKED(required_field(f, cell, 7, kQuarterHourFields, fn));
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(latencies));
    std::size_t len = VARSIZE_ANY_EXHDR(latencies);
    const auto* group_data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(groups));
    std::size_t group_len = VARSIZE_ANY_EXHDR(groups);
    if (TIMESTAMP_NOT_FINITE(c.start))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s: a rollup row has an infinite bucket", fn)));
    nz::pg::run_core(fn, [&] {
        state->summary.add_quarter_hour(c, nz::EncodedDistribution(data, len), nz::EncodedGroupCounts(group_data, group_len));
    });
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
        auto* f = RecordFields<5>::of(fcinfo, 0, cell, kApiFields, fn);
        text* method = DatumGetTextPP(required_field(f, cell, 0, kApiFields, fn));
        uint64_t calls = count_field(DatumGetInt64(required_field(f, cell, 1, kApiFields, fn)), "calls", fn);
        uint64_t ok = count_field(DatumGetInt64(required_field(f, cell, 2, kApiFields, fn)), "ok", fn);
        uint64_t failures = count_field(DatumGetInt64(required_field(f, cell, 3, kApiFields, fn)), "failures", fn);
        struct varlena* latencies = PG_DETOAST_DATUM_PACKED(required_field(f, cell, 4, kApiFields, fn));
        const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(latencies));
        std::size_t len = VARSIZE_ANY_EXHDR(latencies);
        const char* name = VARDATA_ANY(method);
        std::size_t name_len = VARSIZE_ANY_EXHDR(method);
        nz::pg::run_core(fn, [&] {
            state->summary.add_counts(name, name_len, calls, ok, failures, nz::EncodedDistribution(data, len));
        });
        PG_RETURN_POINTER(state);
    }
    nz::pg::ApiCallRowArgs r = nz::pg::api_call_row_args(fcinfo, 1);
    nz::pg::run_core(fn, [&] { state->summary.add(r.method, r.method_len, r.success, r.has_latency, r.latency); });
    PG_RETURN_POINTER(state);
}
