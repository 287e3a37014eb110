// The arguments of an api_call_log row as the aggregates take them, in this
// order from argument `first`: method text, success boolean, latency_ms
// integer.  Shared by api_summary, api_summary_parts, api_quarter_hours and
// the rollup build's own read (rollup_build_scan.cpp).  The method points
// into the argument (valid for this call).
#pragma once

#include <cstddef>

#include "pg_boundary.hpp"
#include "plain_text.hpp"

extern "C" {
#include "utils/builtins.h"
}

namespace nz::pg {

struct ApiCallRowArgs {
    const char* method = "";  // NULL as ''
    std::size_t method_len = 0;
    text* method_text = nullptr;  // where method points (a detoasted copy, or in the value); NULL for NULL
    int success = -1;         // 1, 0, -1 = NULL
    bool has_latency = false;
    int32 latency = 0;
};

// The row from its three columns in the order above, get(i) giving column
// i's NullableDatum (an aggregate's arguments, or the values a native read
// hands its visitor, which frees method_text: free_plain_text()).
template <typename Get>
inline ApiCallRowArgs api_call_row(Get&& get) {
    ApiCallRowArgs r;
    NullableDatum method = get(0), success = get(1), latency = get(2);
    if (!method.isnull) {
        r.method_text = plain_text(method.value);
        r.method = VARDATA_ANY(r.method_text);
        r.method_len = VARSIZE_ANY_EXHDR(r.method_text);
    }
    r.success = success.isnull ? -1 : (DatumGetBool(success.value) ? 1 : 0);
    r.has_latency = !latency.isnull;
    r.latency = r.has_latency ? DatumGetInt32(latency.value) : 0;
    return r;
}

// The row from an aggregate's arguments, from argument `first` on (a
// detoasted method lives as long as the call's memory).
inline ApiCallRowArgs api_call_row_args(FunctionCallInfo fcinfo, int first) {
    return api_call_row([&](int i) { return fcinfo->args[first + i]; });
}

}  // namespace nz::pg
