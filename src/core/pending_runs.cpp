#include "pending_runs.hpp"

#include <algorithm>

#include "quarter_hours.hpp"

namespace nz {

namespace {

// The first start of a quarter hour at or after t; t itself when infinite.
int64_t quarter_hour_ceil(int64_t t) noexcept {
    if (t == kTimeMinusInfinity || t == kTimeInfinity) return t;
    int64_t start = quarter_hour_start(t);
    return start == t ? t : start + kQuarterHourMicros;
}

}  // namespace

std::vector<TimeRun> pending_runs(std::vector<int64_t> buckets, int64_t horizon, int64_t built_from,
                                  int64_t watermark) {
    bool truncated = std::find(buckets.begin(), buckets.end(), kTimeMinusInfinity) != buckets.end();
    TimeRun everything{std::max(built_from, quarter_hour_ceil(horizon)), watermark};
    // the quarter hours that stand alone: not frozen, below the watermark,
    // and before the run of a TRUNCATE
    int64_t below = truncated ? std::min(watermark, everything.lo) : watermark;
    auto gone = std::remove_if(buckets.begin(), buckets.end(), [&](int64_t q) {
        return q == kTimeMinusInfinity || q < horizon || q >= below;
    });
    buckets.erase(gone, buckets.end());
    std::sort(buckets.begin(), buckets.end());
    buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());

    std::vector<TimeRun> runs;
    for (int64_t q : buckets) {
        // q < watermark, so q + a quarter hour does not overflow
        if (!runs.empty() && runs.back().hi == q)
            runs.back().hi = q + kQuarterHourMicros;
        else
            runs.push_back({q, q + kQuarterHourMicros});
    }
    if (truncated && everything.lo < everything.hi) runs.push_back(everything);
    return runs;
}

}  // namespace nz
