// The state of a rollup build (a RollupBuilder over a memory context) and
// its quarter hours as rows of nezuko_analytics.rollup_verifications or
// rollup_api_calls, each field set by name from the table's row type.
// Shared by the build aggregates (rollup_build_agg.cpp), fed row by row by
// the executor, and the build's own scan (rollup_build_scan.cpp).
#pragma once

#include <new>

#include "../core/rollup_builder.hpp"
#include "palloc_resource.hpp"
#include "pg_boundary.hpp"

namespace nz::pg {

struct RollupBuildState {
    PallocResource resource;
    RollupBuilder builder;
    explicit RollupBuildState(MemoryContext context) : resource(context), builder(&resource) {}
};

// A new state whose builder lives in context (freed with it, never destroyed).
inline RollupBuildState* new_rollup_build_state(MemoryContext context) {
    return new (MemoryContextAlloc(context, sizeof(RollupBuildState))) RollupBuildState(context);
}

// The builder's quarter hours, in order, as a rollup_verifications[] or a
// rollup_api_calls[] (function_name names the caller in errors).  The cells
// are encoded in the state's context; the array is made in the current one.
Datum verification_rollup_rows(RollupBuildState* state, const char* function_name);
Datum api_rollup_rows(RollupBuildState* state, const char* function_name);

}  // namespace nz::pg
