// The arguments of a verification_log row as the aggregates take them, in
// this order from argument `first`: "timestamp" timestamptz, status text,
// latency_ms integer, cached boolean, group_id bigint.  Shared by
// verification_summary, verification_summary_parts,
// verification_quarter_hours and the rollup build's own read
// (rollup_build_scan.cpp).  Plain data only.
#pragma once

#include "../core/verification_status.hpp"
#include "pg_boundary.hpp"
#include "plain_text.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace nz::pg {

struct VerificationRowArgs {
    bool counted = false;  // false: no time, or an infinite one (outside every window)
    TimestampTz ts = 0;
    nz::VerificationStatus status = nz::VerificationStatus::other;
    bool has_latency = false;
    int32 latency = 0;
    bool cached = false;
    int64 group_id = 0;  // NULL as 0
};

// The row from its five columns in the order above, get(i) giving column
// i's NullableDatum (an aggregate's arguments, or the values a native read
// hands its visitor).  A status detoasted to classify it is freed.
template <typename Get>
inline VerificationRowArgs verification_row(Get&& get) {
    VerificationRowArgs r;
    NullableDatum ts = get(0);
    if (ts.isnull) return r;
    r.ts = DatumGetTimestampTz(ts.value);
    if (TIMESTAMP_NOT_FINITE(r.ts)) return r;
    r.counted = true;
    NullableDatum status = get(1);
    if (!status.isnull) {
        text* s = plain_text(status.value);
        r.status = nz::classify_status(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s));
        free_plain_text(s, status.value);
    }
    NullableDatum latency = get(2), cached = get(3), group = get(4);
    r.has_latency = !latency.isnull;
    r.latency = r.has_latency ? DatumGetInt32(latency.value) : 0;
    r.cached = !cached.isnull && DatumGetBool(cached.value);
    r.group_id = group.isnull ? 0 : DatumGetInt64(group.value);
    return r;
}

// The row from an aggregate's arguments, from argument `first` on.
inline VerificationRowArgs verification_row_args(FunctionCallInfo fcinfo, int first) {
    return verification_row([&](int i) { return fcinfo->args[first + i]; });
}

}  // namespace nz::pg
