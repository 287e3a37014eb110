// The tz_offsets argument of the aggregates that place rows in local hours
// and days (nezuko_analytics.tz_offsets(): pairs of segment start and UTC
// offset).  It is passed with every row; its contents, not its address, say
// whether it changed.
#pragma once

#include "../core/local_time.hpp"
#include "pg_arrays.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "catalog/pg_type.h"
}

namespace nz::pg {

// Sets tz from argument argno unless it is NULL or already holds those offsets.
inline void read_tz_offsets(FunctionCallInfo fcinfo, int argno, nz::TimeZoneSegments& tz, const char* name) {
    if (PG_ARGISNULL(argno)) return;
    int n = 0;
    const int64* pairs = array_elements<int64>(PG_GETARG_ARRAYTYPE_P(argno), INT8OID, "tz_offsets", &n);
    const auto* values = reinterpret_cast<const int64_t*>(pairs);
    if (tz.same_as(values, static_cast<std::size_t>(n))) return;
    run_core(name, [&] { tz.assign(values, static_cast<std::size_t>(n)); });
}

}  // namespace nz::pg
