// The arguments of a verification_log row as the aggregates take them, in
// this order from argument `first`: "timestamp" timestamptz, status text,
// latency_ms integer, cached boolean, group_id bigint.  Shared by
// verification_summary, verification_summary_parts and
// verification_quarter_hours.  Plain data only.
#pragma once

#include "../core/verification_status.hpp"
#include "pg_boundary.hpp"

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

inline VerificationRowArgs verification_row_args(FunctionCallInfo fcinfo, int first) {
    VerificationRowArgs r;
    if (PG_ARGISNULL(first)) return r;
    r.ts = PG_GETARG_TIMESTAMPTZ(first);
    if (TIMESTAMP_NOT_FINITE(r.ts)) return r;
    r.counted = true;
    if (!PG_ARGISNULL(first + 1)) {
        text* s = PG_GETARG_TEXT_PP(first + 1);
        r.status = nz::classify_status(VARDATA_ANY(s), VARSIZE_ANY_EXHDR(s));
    }
    r.has_latency = !PG_ARGISNULL(first + 2);
    r.latency = r.has_latency ? PG_GETARG_INT32(first + 2) : 0;
    r.cached = !PG_ARGISNULL(first + 3) && PG_GETARG_BOOL(first + 3);
    r.group_id = PG_ARGISNULL(first + 4) ? 0 : PG_GETARG_INT64(first + 4);
    return r;
}

}  // namespace nz::pg
