// The aggregates that build rollup rows from raw rows in one pass
// (refresh_rollup_source(), docs/rollups.md):
//   verification_quarter_hours(ts, status, latency_ms, cached, group_id) -> rollup_verifications[]
//   api_quarter_hours(ts, method, success, latency_ms)                    -> rollup_api_calls[]
// Called together in one SELECT they share one scan.  Each returns the rows
// of its table, fields set by name from the table's row type.  Rows without
// a finite time are skipped (the callers read finite windows).  The state
// holds every latency until the end (4 bytes each); combine, serialize and
// deserialize let parallel workers build parts (rollup_build_combine() etc.).
#include "api_call_row_args.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"
#include "rollup_build_rows.hpp"
#include "verification_row_args.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace {

using BuildState = nz::pg::RollupBuildState;

BuildState* build_state(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, name);
    BuildState* state = nz::pg::state_arg<BuildState>(fcinfo, 0);
    if (state == nullptr) state = nz::pg::new_rollup_build_state(context);
    return state;
}

}  // namespace

NZ_PG_FUNCTION(nz_vquarter_hours_add) {
    const char* fn = "verification_quarter_hours";
    BuildState* state = build_state(fcinfo, fn);
    nz::pg::VerificationRowArgs r = nz::pg::verification_row_args(fcinfo, 1);
    if (!r.counted) PG_RETURN_POINTER(state);
    nz::pg::run_core(fn, [&] {
        state->builder.add_verification(r.ts, r.status, r.has_latency, r.latency, r.cached, r.group_id);
    });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_vquarter_hours_final) {
    const char* fn = "verification_quarter_hours";
    return nz::pg::verification_rollup_rows(build_state(fcinfo, fn), fn);
}

NZ_PG_FUNCTION(nz_aquarter_hours_add) {
    const char* fn = "api_quarter_hours";
    BuildState* state = build_state(fcinfo, fn);
    if (PG_ARGISNULL(1)) PG_RETURN_POINTER(state);
    TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
    if (TIMESTAMP_NOT_FINITE(ts)) PG_RETURN_POINTER(state);
    nz::pg::ApiCallRowArgs r = nz::pg::api_call_row_args(fcinfo, 2);
    nz::pg::run_core(fn, [&] { state->builder.add_call(ts, r.method, r.method_len, r.success, r.has_latency, r.latency); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_aquarter_hours_final) {
    const char* fn = "api_quarter_hours";
    return nz::pg::api_rollup_rows(build_state(fcinfo, fn), fn);
}

NZ_PG_FUNCTION(nz_rollup_build_combine) {
    return nz::pg::combine_states<BuildState>(
        fcinfo, "rollup build",
        [](MemoryContext context) { return nz::pg::new_rollup_build_state(context); },
        [](BuildState* a, BuildState* b) { nz::pg::run_core("rollup build", [&] { a->builder.merge(b->builder); }); });
}

NZ_PG_FUNCTION(nz_rollup_build_serialize) {
    BuildState* state = nz::pg::state_arg<BuildState>(fcinfo, 0);
    return nz::pg::serialize_encoded("rollup build", [&] { return state->builder.encode(); });
}

NZ_PG_FUNCTION(nz_rollup_build_deserialize) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "rollup build");
    bytea* in = PG_GETARG_BYTEA_PP(0);
    BuildState* state = nz::pg::new_rollup_build_state(context);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    nz::pg::run_core("rollup build", [&] { state->builder.merge_encoded(data, len); });
    PG_RETURN_POINTER(state);
}
