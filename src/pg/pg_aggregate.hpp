// What every aggregate's support functions need: the aggregate's memory
// context (an ERROR when called as a plain function) and the internal state
// argument (NULL before the first row).
#pragma once

#include "pg_boundary.hpp"

namespace nz::pg {

inline MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context;
    if (!AggCheckCallContext(fcinfo, &context))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s called in non-aggregate context", name)));
    return context;
}

template <typename State>
State* state_arg(FunctionCallInfo fcinfo, int argno) {
    return PG_ARGISNULL(argno) ? nullptr : reinterpret_cast<State*>(PG_GETARG_POINTER(argno));
}

}  // namespace nz::pg
