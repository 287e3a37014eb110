// The transition state of the dashboard's aggregates (verification_summary,
// api_summary and their _parts forms over raw rows and rollups): the core
// summary and its memory resource, placed in the aggregate's memory context
// (never destroyed: the context frees it).
#pragma once

#include <new>

#include "../core/dashboard_summary.hpp"
#include "palloc_resource.hpp"
#include "pg_boundary.hpp"

namespace nz::pg {

template <typename Summary>
struct SummaryState {
    PallocResource resource;
    Summary summary;
    explicit SummaryState(MemoryContext context) : resource(context), summary(&resource) {}
};
using VState = SummaryState<nz::VerificationSummary>;
using AState = SummaryState<nz::ApiSummary>;

template <typename State>
State* new_state(MemoryContext context) {
    return new (MemoryContextAlloc(context, sizeof(State))) State(context);
}

}  // namespace nz::pg
