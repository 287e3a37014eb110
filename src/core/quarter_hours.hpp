// Quarter hours of UTC: the grain of the rollups (docs/rollups.md).  Every
// time zone in use has an offset that is a multiple of 15 minutes, so a
// zone's hours and days are unions of these.  Times are PostgreSQL's
// timestamptz values: microseconds since 2000-01-01 00:00 UTC, which is
// itself the start of a quarter hour.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nz {

constexpr int64_t kQuarterHourMicros = int64_t{15} * 60 * 1000 * 1000;

// The start of the quarter hour that holds t (rounded down, also before 2000).
constexpr int64_t quarter_hour_start(int64_t t) noexcept {
    int64_t q = t / kQuarterHourMicros;
    if (t % kQuarterHourMicros < 0) --q;
    return q * kQuarterHourMicros;
}

// Replaces times[0..n) by the distinct starts of their quarter hours, in
// ascending order, and returns how many there are.  Allocates nothing.
std::size_t distinct_quarter_hours(int64_t* times, std::size_t n) noexcept;

}  // namespace nz

#include "pure_cpp_only.hpp"
