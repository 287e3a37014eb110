// The quarter hours a refresh of the rollups computes again (docs/rollups.md,
// "The refresh"): the pending quarter hours, as maximal runs [lo, hi) of
// consecutive quarter hours.  Times are PostgreSQL's timestamptz values
// (microseconds since 2000-01-01 00:00 UTC); INT64_MIN and INT64_MAX stand
// for -infinity and infinity, as they do in PostgreSQL.
#pragma once

#include <cstdint>
#include <vector>

namespace nz {

constexpr int64_t kTimeMinusInfinity = INT64_MIN;
constexpr int64_t kTimeInfinity = INT64_MAX;

struct TimeRun {
    int64_t lo;
    int64_t hi;
    bool operator==(const TimeRun& o) const noexcept { return lo == o.lo && hi == o.hi; }
};

// The pending quarter hours (their starts; -infinity, left by a TRUNCATE,
// makes every quarter hour pending) that can be computed again: those from
// `horizon` on (older ones are frozen: their raw rows are pruned) and below
// `watermark` (later ones are computed when the watermark passes them), as
// maximal runs in ascending order.  After a TRUNCATE, one run from the later
// of `built_from` and `horizon` rounded up to a quarter hour, to the
// watermark, and the pending quarter hours before it as runs of their own.
std::vector<TimeRun> pending_runs(std::vector<int64_t> buckets, int64_t horizon, int64_t built_from,
                                  int64_t watermark);

}  // namespace nz

#include "pure_cpp_only.hpp"
