// The aggregates latency_dist(integer) and merge(latency_dist), with
// combine, serialize and deserialize so PostgreSQL can run them in parallel.
#include "../core/latency_distribution.hpp"
#include "latency_dist_state.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"

namespace {

// Adds a stored latency_dist value (validated again: it may come from anywhere).
void merge_value(nz::pg::DistState* state, struct varlena* value) {
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(value));
    std::size_t len = VARSIZE_ANY_EXHDR(value);
    nz::pg::run_core("latency_dist", [&] { state->dist.merge_encoded(data, len); });
}

}  // namespace

NZ_PG_FUNCTION(nz_latency_dist_add) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "latency_dist");
    nz::pg::DistState* state = nz::pg::state_arg<nz::pg::DistState>(fcinfo, 0);
    if (state == nullptr) state = nz::pg::new_dist_state(context);
    if (!PG_ARGISNULL(1)) {
        int32 latency = PG_GETARG_INT32(1);
        nz::pg::run_core("latency_dist", [&] { state->dist.add(latency); });
    }
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_latency_dist_merge_add) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "latency_dist");
    nz::pg::DistState* state = nz::pg::state_arg<nz::pg::DistState>(fcinfo, 0);
    if (state == nullptr) state = nz::pg::new_dist_state(context);
    if (!PG_ARGISNULL(1)) merge_value(state, PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(1)));
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_latency_dist_combine) {
    return nz::pg::combine_states<nz::pg::DistState>(fcinfo, "latency_dist", nz::pg::new_dist_state,
                                                     [](nz::pg::DistState* a, nz::pg::DistState* b) {
        nz::pg::run_core("latency_dist", [&] { a->dist.merge(b->dist); });
    });
}

NZ_PG_FUNCTION(nz_latency_dist_serialize) {
    PG_RETURN_BYTEA_P(reinterpret_cast<bytea*>(nz::pg::encode_dist(nz::pg::state_arg<nz::pg::DistState>(fcinfo, 0))));
}

NZ_PG_FUNCTION(nz_latency_dist_deserialize) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "latency_dist");
    nz::pg::DistState* state = nz::pg::new_dist_state(context);
    merge_value(state, PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0)));
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_latency_dist_final) {
    nz::pg::DistState* state = nz::pg::state_arg<nz::pg::DistState>(fcinfo, 0);
    if (state == nullptr) {
        // No rows at all: an empty distribution (count 0), not NULL.
        state = nz::pg::new_dist_state(CurrentMemoryContext);
    }
    PG_RETURN_POINTER(nz::pg::encode_dist(state));
}
