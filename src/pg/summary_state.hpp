// The transition state of the dashboard's aggregates (verification_summary,
// api_summary and their _parts forms over raw rows and rollups): the core
// summary and its memory resource, placed in the aggregate's memory context
// (never destroyed: the context frees it).
#pragma once

#include <new>

#include "../core/dashboard_summary.hpp"
#include "palloc_resource.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "utils/timestamp.h"
}

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

// The options of a new verification summary state: top_groups (NULL: 10;
// less than 1 is an ERROR) and recent_since (NULL: none), from the
// aggregate's arguments top_arg and recent_arg.
inline void set_summary_options(FunctionCallInfo fcinfo, VState* state, int top_arg, int recent_arg) {
    int32 top = PG_ARGISNULL(top_arg) ? 10 : PG_GETARG_INT32(top_arg);
    if (top < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("verification_summary: top_groups must be at least 1, not %d", top)));
    state->summary.set_top_groups(static_cast<uint64_t>(top));
    if (!PG_ARGISNULL(recent_arg)) state->summary.set_recent_since(PG_GETARG_TIMESTAMPTZ(recent_arg));
}

}  // namespace nz::pg
