#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "core/quarter_hours.hpp"

namespace {

constexpr int64_t kMinute = int64_t{60} * 1000 * 1000;

TEST(QuarterHours, StartRoundsDownOnBothSidesOf2000) {
    EXPECT_EQ(nz::quarter_hour_start(0), 0);
    EXPECT_EQ(nz::quarter_hour_start(14 * kMinute + 59'999'999), 0);
    EXPECT_EQ(nz::quarter_hour_start(15 * kMinute), 15 * kMinute);
    EXPECT_EQ(nz::quarter_hour_start(-1), -15 * kMinute);
    EXPECT_EQ(nz::quarter_hour_start(-15 * kMinute), -15 * kMinute);
    EXPECT_EQ(nz::quarter_hour_start(-15 * kMinute - 1), -30 * kMinute);
}

TEST(QuarterHours, DistinctEqualsASetOfStarts) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::vector<int64_t> times(rng() % 50);
        std::set<int64_t> expected;
        for (auto& t : times) {
            t = static_cast<int64_t>(rng() % (2000 * kMinute)) - 1000 * kMinute;
            expected.insert(nz::quarter_hour_start(t));
        }
        std::size_t n = nz::distinct_quarter_hours(times.data(), times.size());
        ASSERT_EQ(std::vector<int64_t>(times.begin(), times.begin() + n), std::vector<int64_t>(expected.begin(), expected.end()));
    }
}

}  // namespace
