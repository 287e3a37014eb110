// time_floor(t, stride) and time_ceil(t, stride): the start of the quarter
// hour (stride 15 minutes) or UTC day (24 hours) that holds t, and the first
// such start at or after t; t itself when infinite.  PostgreSQL's date_bin()
// with the rollups' origin, 2000-01-01 00:00 UTC (rollup_origin(); the
// timestamptz value 0, where the core's quarter hours start too), so its
// errors for a stride of months or of no length are date_bin()'s.  In C
// because the rollups' refresh and readers call them in new sessions, where
// a SQL function's query is parsed and planned at each call.
#include "../core/quarter_hours.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/timestamp.h"
}

namespace {

constexpr TimestampTz kRollupOrigin = 0;  // 2000-01-01 00:00:00+00
static_assert(nz::quarter_hour_start(kRollupOrigin) == kRollupOrigin, "the origin starts a quarter hour");

TimestampTz floor_to(TimestampTz t, Datum stride) {
    return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_bin, stride, TimestampTzGetDatum(t),
                                                   TimestampTzGetDatum(kRollupOrigin)));
}

}  // namespace

NZ_PG_FUNCTION(nz_time_floor) {
    TimestampTz t = PG_GETARG_TIMESTAMPTZ(0);
    if (TIMESTAMP_NOT_FINITE(t)) PG_RETURN_TIMESTAMPTZ(t);
    PG_RETURN_TIMESTAMPTZ(floor_to(t, PG_GETARG_DATUM(1)));
}

NZ_PG_FUNCTION(nz_time_ceil) {
    TimestampTz t = PG_GETARG_TIMESTAMPTZ(0);
    if (TIMESTAMP_NOT_FINITE(t)) PG_RETURN_TIMESTAMPTZ(t);
    TimestampTz start = floor_to(t, PG_GETARG_DATUM(1));
    if (start == t) PG_RETURN_TIMESTAMPTZ(t);
    PG_RETURN_DATUM(DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(start), PG_GETARG_DATUM(1)));
}
