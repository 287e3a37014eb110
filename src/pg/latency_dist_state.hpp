// The latency_dist aggregate's transition state: the core accumulator and
// its memory resource, placed in the aggregate's memory context (never
// destroyed: the context frees it).  Shared by the aggregate and type files.
#pragma once

#include <new>

#include "../core/latency_distribution.hpp"
#include "palloc_resource.hpp"
#include "pg_boundary.hpp"

namespace nz::pg {

struct DistState {
    PallocResource resource;
    nz::LatencyDistribution dist;
    explicit DistState(MemoryContext context) : resource(context), dist(&resource) {}
};

inline DistState* new_dist_state(MemoryContext context) {
    void* memory = MemoryContextAlloc(context, sizeof(DistState));
    return new (memory) DistState(context);  // constructors allocate nothing
}

// The distribution as a varlena (latency_dist or bytea), palloc'd in the
// current memory context.
inline struct varlena* encode_dist(DistState* state) {
    std::size_t size = 0;
    run_core("latency_dist", [&] { size = state->dist.prepare_encoding(); });
    auto* out = static_cast<struct varlena*>(palloc(VARHDRSZ + size));
    SET_VARSIZE(out, VARHDRSZ + size);
    state->dist.encode_to(reinterpret_cast<uint8_t*>(VARDATA(out)));  // writes only, allocates nothing
    return out;
}

}  // namespace nz::pg
