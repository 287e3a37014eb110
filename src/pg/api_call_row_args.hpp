// The arguments of an api_call_log row as the aggregates take them, in this
// order from argument `first`: method text, success boolean, latency_ms
// integer.  Shared by api_summary, api_summary_parts and api_quarter_hours.
// The method points into the argument (valid for this call).
#pragma once

#include <cstddef>

#include "pg_boundary.hpp"

extern "C" {
#include "utils/builtins.h"
}

namespace nz::pg {

struct ApiCallRowArgs {
    const char* method = "";  // NULL as ''
    std::size_t method_len = 0;
    int success = -1;         // 1, 0, -1 = NULL
    bool has_latency = false;
    int32 latency = 0;
};

inline ApiCallRowArgs api_call_row_args(FunctionCallInfo fcinfo, int first) {
    ApiCallRowArgs r;
    if (!PG_ARGISNULL(first)) {
        text* m = PG_GETARG_TEXT_PP(first);
        r.method = VARDATA_ANY(m);
        r.method_len = VARSIZE_ANY_EXHDR(m);
    }
    r.success = PG_ARGISNULL(first + 1) ? -1 : (PG_GETARG_BOOL(first + 1) ? 1 : 0);
    r.has_latency = !PG_ARGISNULL(first + 2);
    r.latency = r.has_latency ? PG_GETARG_INT32(first + 2) : 0;
    return r;
}

}  // namespace nz::pg
