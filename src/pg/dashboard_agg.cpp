// The aggregates behind dashboard():
//   verification_summary(ts, status, latency_ms, cached, group_id, tz_offsets bigint[], top_groups int,
//                        recent_since timestamptz) -> text
//   api_summary(method, success, latency_ms) -> text
// (the final functions of 1.2 on are nz_*_final_keyed: their documents name
// every figure; the positional finals of 1.0 and 1.1 are retired, see
// retired_functions.cpp).
// Each folds every chart of its table in one pass; combine, serialize and
// deserialize let a parallel scan feed them; the final function returns the
// raw JSON document that dashboard() rounds and shapes.
#include <cstring>
#include <new>

#include "../core/dashboard_summary.hpp"
#include "core_text.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"
#include "api_call_row_args.hpp"
#include "summary_state.hpp"
#include "tz_offsets_arg.hpp"
#include "verification_row_args.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace {

using nz::pg::aggregate_context;
using nz::pg::AState;
using nz::pg::new_state;
using nz::pg::state_arg;
using nz::pg::VState;

template <typename State>
Datum combine(FunctionCallInfo fcinfo, const char* name) {
    return nz::pg::combine_states<State>(fcinfo, name, new_state<State>, [&](State* a, State* b) {
        nz::pg::run_core(name, [&] { a->summary.merge(b->summary); });
    });
}

template <typename State>
Datum serialize(FunctionCallInfo fcinfo, const char* name) {
    State* state = state_arg<State>(fcinfo, 0);
    return nz::pg::serialize_encoded(name, [&] { return state->summary.encode(); });
}

template <typename State>
Datum deserialize(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context = aggregate_context(fcinfo, name);
    bytea* in = PG_GETARG_BYTEA_PP(0);
    State* state = new_state<State>(context);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    nz::pg::run_core(name, [&] { state->summary.merge_encoded(data, len); });
    PG_RETURN_POINTER(state);
}

template <typename State>
Datum final_json(FunctionCallInfo fcinfo, const char* name) {
    State* state = state_arg<State>(fcinfo, 0);
    if (state == nullptr) state = new_state<State>(CurrentMemoryContext);
    PG_RETURN_TEXT_P(nz::pg::text_from_core(name, [&] { return state->summary.raw_json(); }));
}

}  // namespace

NZ_PG_FUNCTION(nz_vsummary_add) {
    MemoryContext context = aggregate_context(fcinfo, "verification_summary");
    VState* state = state_arg<VState>(fcinfo, 0);
    if (state == nullptr) {
        state = new_state<VState>(context);
        nz::pg::set_summary_options(fcinfo, state, 7, 8);
    }
    nz::pg::read_tz_offsets(fcinfo, 6, state->summary.time_zone(), "verification_summary");
    nz::pg::VerificationRowArgs r = nz::pg::verification_row_args(fcinfo, 1);
    if (r.counted)  // a row without a (finite) time is outside every window
        nz::pg::run_core("verification_summary",
                         [&] { state->summary.add(r.ts, r.status, r.has_latency, r.latency, r.cached, r.group_id); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_vsummary_combine) { return combine<VState>(fcinfo, "verification_summary"); }
NZ_PG_FUNCTION(nz_vsummary_serialize) { return serialize<VState>(fcinfo, "verification_summary"); }
NZ_PG_FUNCTION(nz_vsummary_deserialize) { return deserialize<VState>(fcinfo, "verification_summary"); }
NZ_PG_FUNCTION(nz_vsummary_final_keyed) { return final_json<VState>(fcinfo, "verification_summary"); }

NZ_PG_FUNCTION(nz_asummary_add) {
    MemoryContext context = aggregate_context(fcinfo, "api_summary");
    AState* state = state_arg<AState>(fcinfo, 0);
    if (state == nullptr) state = new_state<AState>(context);
    nz::pg::ApiCallRowArgs r = nz::pg::api_call_row_args(fcinfo, 1);
    nz::pg::run_core("api_summary", [&] { state->summary.add(r.method, r.method_len, r.success, r.has_latency, r.latency); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_asummary_combine) { return combine<AState>(fcinfo, "api_summary"); }
NZ_PG_FUNCTION(nz_asummary_serialize) { return serialize<AState>(fcinfo, "api_summary"); }
NZ_PG_FUNCTION(nz_asummary_deserialize) { return deserialize<AState>(fcinfo, "api_summary"); }
NZ_PG_FUNCTION(nz_asummary_final_keyed) { return final_json<AState>(fcinfo, "api_summary"); }
