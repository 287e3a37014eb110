#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "core/pending_runs.hpp"
#include "core/quarter_hours.hpp"

namespace {

constexpr int64_t kQ = nz::kQuarterHourMicros;
using Runs = std::vector<nz::TimeRun>;

// The rule as the SQL of 1.18 stated it: a set of the quarter hours that
// qualify, cut into runs of consecutive ones, and the run of a TRUNCATE.
Runs reference(const std::vector<int64_t>& buckets, int64_t horizon, int64_t built_from, int64_t watermark) {
    bool truncated = std::count(buckets.begin(), buckets.end(), nz::kTimeMinusInfinity) > 0;
    int64_t ceil_horizon = horizon;
    if (horizon != nz::kTimeMinusInfinity && nz::quarter_hour_start(horizon) != horizon)
        ceil_horizon = nz::quarter_hour_start(horizon) + kQ;
    nz::TimeRun everything{std::max(built_from, ceil_horizon), watermark};
    std::set<int64_t> alone;
    for (int64_t q : buckets)
        if (q != nz::kTimeMinusInfinity && q >= horizon && q < watermark && !(truncated && q >= everything.lo))
            alone.insert(q);
    Runs runs;
    for (int64_t q : alone) {
        if (!runs.empty() && runs.back().hi == q)
            runs.back().hi += kQ;
        else
            runs.push_back({q, q + kQ});
    }
    if (truncated && everything.lo < everything.hi) runs.push_back(everything);
    return runs;
}

TEST(PendingRuns, NoneWithoutBuckets) {
    EXPECT_TRUE(nz::pending_runs({}, nz::kTimeMinusInfinity, 0, 100 * kQ).empty());
}

TEST(PendingRuns, ConsecutiveQuarterHoursMakeOneRun) {
    Runs got = nz::pending_runs({5 * kQ, 3 * kQ, 4 * kQ, 4 * kQ, 9 * kQ}, nz::kTimeMinusInfinity, 0, 100 * kQ);
    EXPECT_EQ(got, (Runs{{3 * kQ, 6 * kQ}, {9 * kQ, 10 * kQ}}));
}

TEST(PendingRuns, FrozenAndUnwatermarkedQuarterHoursStay) {
    // below the horizon: frozen; at or after the watermark: materialized later
    Runs got = nz::pending_runs({-2 * kQ, 1 * kQ, 2 * kQ, 7 * kQ, 8 * kQ}, 2 * kQ, -10 * kQ, 8 * kQ);
    EXPECT_EQ(got, (Runs{{2 * kQ, 3 * kQ}, {7 * kQ, 8 * kQ}}));
}

TEST(PendingRuns, TruncateMakesOneRunFromTheHorizonUp) {
    // one run from the later of built_from and the horizon rounded up; the
    // pending quarter hours before it (not frozen) stand alone
    EXPECT_EQ(nz::pending_runs({nz::kTimeMinusInfinity, 3 * kQ, 12 * kQ}, 2 * kQ + 1, 0, 20 * kQ), (Runs{{3 * kQ, 20 * kQ}}));
    EXPECT_EQ(nz::pending_runs({12 * kQ, nz::kTimeMinusInfinity, 3 * kQ}, 1, 4 * kQ, 20 * kQ),
              (Runs{{3 * kQ, 4 * kQ}, {4 * kQ, 20 * kQ}}));
    EXPECT_EQ(nz::pending_runs({nz::kTimeMinusInfinity}, nz::kTimeMinusInfinity, 4 * kQ, 20 * kQ), (Runs{{4 * kQ, 20 * kQ}}));
    // nothing below the watermark: no run
    EXPECT_TRUE(nz::pending_runs({nz::kTimeMinusInfinity}, 30 * kQ, 4 * kQ, 20 * kQ).empty());
}

TEST(PendingRuns, EqualsTheSetRuleOnRandomInput) {
    std::mt19937_64 rng(11);
    for (int round = 0; round < 2000; ++round) {
        std::vector<int64_t> buckets(rng() % 30);
        for (auto& q : buckets) q = (static_cast<int64_t>(rng() % 80) - 40) * kQ;
        if (rng() % 5 == 0) buckets.push_back(nz::kTimeMinusInfinity);
        std::shuffle(buckets.begin(), buckets.end(), rng);
        int64_t horizon = rng() % 4 == 0 ? nz::kTimeMinusInfinity : static_cast<int64_t>(rng() % (60 * kQ)) - 30 * kQ;
        int64_t built_from = (static_cast<int64_t>(rng() % 60) - 30) * kQ;
        int64_t watermark = (static_cast<int64_t>(rng() % 80) - 40) * kQ;
        ASSERT_EQ(nz::pending_runs(buckets, horizon, built_from, watermark), reference(buckets, horizon, built_from, watermark))
            << "round " << round;
    }
}

}  // namespace
