#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory_resource>
#include <random>
#include <vector>

#include "core/core_error.hpp"
#include "core/latency_dist_text.hpp"
#include "core/latency_distribution.hpp"

namespace {

// PostgreSQL's percentile_cont over a sorted copy (orderedsetaggs.c).
double reference_percentile(std::vector<int32_t> v, double p) {
    std::sort(v.begin(), v.end());
    double rank = p * static_cast<double>(static_cast<int64_t>(v.size()) - 1);
    int64_t first = static_cast<int64_t>(std::floor(rank));
    int64_t second = static_cast<int64_t>(std::ceil(rank));
    double lo = v[first], hi = v[second];
    if (first == second) return lo;
    return lo + ((rank - static_cast<double>(first)) * (hi - lo));
}

std::vector<uint8_t> encode(nz::LatencyDistribution& d) {
    std::vector<uint8_t> out(d.prepare_encoding());
    d.encode_to(out.data());
    return out;
}

std::vector<int32_t> skewed_latencies(std::size_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int32_t> v;
    for (std::size_t i = 0; i < n; ++i) {
        double x = u(rng);
        v.push_back(x < 0.02 ? static_cast<int32_t>(500 + u(rng) * 9500) : static_cast<int32_t>(20 + x * x * 280));
    }
    return v;
}

TEST(LatencyDistribution, PercentilesEqualPercentileContExactly) {
    auto values = skewed_latencies(20000, 7);
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int32_t v : values) d.add(v);
    auto bytes = encode(d);
    nz::EncodedDistribution e(bytes.data(), bytes.size());
    EXPECT_EQ(e.count(), values.size());
    for (double p : {0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0, 1.0 / 3}) {
        double got = 0;
        ASSERT_TRUE(e.percentile(p, &got));
        EXPECT_EQ(got, reference_percentile(values, p)) << "p=" << p;  // bit for bit
    }
}

TEST(LatencyDistribution, LowestIsTheSmallestValueAndPercentileZero) {
    for (std::vector<int32_t> values : {std::vector<int32_t>{40, 10, 30, 10}, std::vector<int32_t>{-7, 3, 12000},
                                        std::vector<int32_t>{0}, std::vector<int32_t>{-2147483647 - 1, 2147483647},
                                        skewed_latencies(5000, 3)}) {
        nz::LatencyDistribution d(std::pmr::new_delete_resource());
        for (int32_t v : values) d.add(v);
        auto bytes = encode(d);
        nz::EncodedDistribution e(bytes.data(), bytes.size());
        int32_t low = 0;
        double p0 = 0;
        ASSERT_TRUE(e.lowest(&low));
        ASSERT_TRUE(e.percentile(0.0, &p0));
        EXPECT_EQ(low, *std::min_element(values.begin(), values.end()));
        EXPECT_EQ(static_cast<double>(low), p0);
    }
    nz::LatencyDistribution empty(std::pmr::new_delete_resource());
    auto bytes = encode(empty);
    int32_t low = 99;
    EXPECT_FALSE(nz::EncodedDistribution(bytes.data(), bytes.size()).lowest(&low));
    EXPECT_EQ(low, 99);
}

TEST(LatencyDistribution, SmallCasesAndInterpolation) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int32_t v : {10, 20, 30, 40}) d.add(v);
    auto bytes = encode(d);
    nz::EncodedDistribution e(bytes.data(), bytes.size());
    double got = 0;
    ASSERT_TRUE(e.percentile(0.5, &got));
    EXPECT_DOUBLE_EQ(got, 25.0);
    ASSERT_TRUE(e.percentile(0.95, &got));
    EXPECT_DOUBLE_EQ(got, reference_percentile({10, 20, 30, 40}, 0.95));
    ASSERT_TRUE(e.mean(&got));
    EXPECT_DOUBLE_EQ(got, 25.0);
}

TEST(LatencyDistribution, EmptyHasNoPercentile) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    auto bytes = encode(d);
    nz::EncodedDistribution e(bytes.data(), bytes.size());
    double got = 0;
    EXPECT_FALSE(e.percentile(0.5, &got));
    EXPECT_FALSE(e.mean(&got));
    EXPECT_EQ(e.count(), 0u);
}

TEST(LatencyDistribution, PercentileOutsideZeroOneIsAnError) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    d.add(1);
    auto bytes = encode(d);
    nz::EncodedDistribution e(bytes.data(), bytes.size());
    double got = 0;
    EXPECT_THROW(e.percentile(1.5, &got), nz::CoreError);
    EXPECT_THROW(e.percentile(-0.1, &got), nz::CoreError);
    EXPECT_THROW(e.percentile(std::nan(""), &got), nz::CoreError);
}

TEST(LatencyDistribution, MergeEqualsOneDistributionOfEverything) {
    auto values = skewed_latencies(9000, 11);
    nz::LatencyDistribution all(std::pmr::new_delete_resource());
    nz::LatencyDistribution a(std::pmr::new_delete_resource()), b(std::pmr::new_delete_resource()),
        c(std::pmr::new_delete_resource());
    for (std::size_t i = 0; i < values.size(); ++i) {
        all.add(values[i]);
        (i % 3 == 0 ? a : i % 3 == 1 ? b : c).add(values[i]);
    }
    a.merge(b);
    auto cb = encode(c);
    a.merge(nz::EncodedDistribution(cb.data(), cb.size()));
    EXPECT_EQ(encode(a), encode(all));
}

TEST(LatencyDistribution, LargeValuesKeepTwentySignificantBits) {
    EXPECT_EQ(nz::quantize_latency(1048575), 1048575);       // 2^20 - 1: exact
    EXPECT_EQ(nz::quantize_latency(1048577), 1048576);       // 2^20 + 1 -> a multiple of 2
    EXPECT_EQ(nz::quantize_latency(10800001), 10800000);     // 3 h: multiple of 16 ms
    EXPECT_EQ(nz::quantize_latency(-1048577), -1048576);
    EXPECT_EQ(nz::quantize_latency(INT32_MAX) % 2048, 0);
    EXPECT_EQ(nz::key_span(10800000), 16);
    for (int32_t v : {1048577, 10800001, 123456789, INT32_MAX, -INT32_MAX, INT32_MIN}) {
        double err = std::fabs(static_cast<double>(nz::quantize_latency(v)) - v) / std::fabs(static_cast<double>(v));
        EXPECT_LT(err, std::ldexp(1.0, -19)) << v;
    }
}

TEST(LatencyDistribution, MemoryIsBoundedByDistinctKeysNotRows) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int i = 0; i < 1000000; ++i) d.add(i % 300);
    EXPECT_EQ(d.distinct(), 300u);
    EXPECT_EQ(d.count(), 1000000u);
    EXPECT_LT(d.prepare_encoding(), 2000u);
}

TEST(LatencyDistribution, SmallAndLargeDistributionsEncodeTheSame) {
    // Below kDenseAfter values everything is in the hash table; past it the
    // small keys move to the flat array.  The stored form must not notice.
    for (std::size_t n : {std::size_t{10}, std::size_t{255}, std::size_t{256}, std::size_t{257}, std::size_t{5000}}) {
        auto values = skewed_latencies(n, 13);
        values.push_back(-3);
        values.push_back(3000000);
        nz::LatencyDistribution one(std::pmr::new_delete_resource()), parts(std::pmr::new_delete_resource()),
            other(std::pmr::new_delete_resource());
        for (std::size_t i = 0; i < values.size(); ++i) {
            one.add(values[i]);
            (i % 2 ? parts : other).add(values[i]);
        }
        parts.merge(other);
        auto a = encode(one), b = encode(parts);
        EXPECT_EQ(a, b) << n;
        nz::EncodedDistribution e(a.data(), a.size());
        EXPECT_EQ(e.count(), values.size());
        double p = 0;
        ASSERT_TRUE(e.percentile(0.9, &p));
        EXPECT_EQ(p, reference_percentile(values, 0.9)) << n;
    }
}

TEST(LatencyDistribution, ClearedAndReusedEncodesAsNew) {
    // One accumulator reused in turn (the rollup build's cells): after
    // clear() it holds nothing of before, whether it had gone dense or not,
    // and whether the next one is small or large.
    nz::LatencyDistribution reused(std::pmr::new_delete_resource());
    for (std::size_t n : {std::size_t{5000}, std::size_t{3}, std::size_t{300}, std::size_t{0}, std::size_t{40}}) {
        auto values = skewed_latencies(n, static_cast<uint32_t>(n) + 7);
        values.push_back(-5);
        values.push_back(4000000);
        nz::LatencyDistribution fresh(std::pmr::new_delete_resource());
        reused.clear();
        for (int32_t v : values) {
            fresh.add(v);
            reused.add(v);
        }
        EXPECT_EQ(encode(reused), encode(fresh)) << n;
        EXPECT_EQ(reused.count(), values.size());
        EXPECT_EQ(reused.distinct(), fresh.distinct()) << n;
    }
    reused.clear();
    EXPECT_EQ(reused.count(), 0u);
    EXPECT_EQ(reused.sum(), 0);
    EXPECT_EQ(reused.distinct(), 0u);
}

TEST(LatencyDistribution, SumOverflowIsAnError) {
    // 2^32 + 2 values of the largest key: a valid value whose sum is
    // INT64_MAX - 5; one more value overflows.
    auto bytes = nz::parse_distribution("count=4294967298 sum=9223372036854775802 values=2147481600:4294967298");
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    d.merge(nz::EncodedDistribution(bytes.data(), bytes.size()));
    d.add(5);
    try {
        d.add(1);
        FAIL() << "no overflow error";
    } catch (const nz::CoreError& e) {
        EXPECT_EQ(e.kind(), nz::ErrorKind::out_of_range);
    }
}

TEST(EncodedDistribution, EveryTruncationIsRejected) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int32_t v : skewed_latencies(500, 3)) d.add(v);
    auto bytes = encode(d);
    for (std::size_t len = 0; len < bytes.size(); ++len) {
        try {
            nz::EncodedDistribution e(bytes.data(), len);
            ADD_FAILURE() << "accepted a value truncated to " << len << " of " << bytes.size() << " bytes";
        } catch (const nz::CoreError& e) {
            EXPECT_EQ(e.kind(), nz::ErrorKind::corrupt_value);
        }
    }
}

TEST(EncodedDistribution, MutatedValuesAreRejectedOrConsistent) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int32_t v : skewed_latencies(300, 5)) d.add(v);
    const auto good = encode(d);
    std::mt19937 rng(42);
    int rejected = 0;
    for (int round = 0; round < 20000; ++round) {
        auto bytes = good;
        int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            std::size_t at = rng() % bytes.size();
            switch (rng() % 3) {
                case 0: bytes[at] = static_cast<uint8_t>(rng()); break;
                case 1: bytes.insert(bytes.begin() + static_cast<long>(at), static_cast<uint8_t>(rng())); break;
                default: bytes.erase(bytes.begin() + static_cast<long>(at)); break;
            }
            if (bytes.empty()) bytes.push_back(1);
        }
        try {
            nz::EncodedDistribution e(bytes.data(), bytes.size());
            // Accepted: then it must be internally consistent.
            uint64_t n = 0;
            int64_t prev = INT64_MIN;
            e.for_each([&](int32_t key, uint64_t c) {
                EXPECT_GT(static_cast<int64_t>(key), prev);
                EXPECT_GT(c, 0u);
                prev = key;
                n += c;
            });
            EXPECT_EQ(n, e.count());
        } catch (const nz::CoreError& e) {
            EXPECT_EQ(e.kind(), nz::ErrorKind::corrupt_value);
            ++rejected;
        }
    }
    EXPECT_GT(rejected, 15000);
}

// merge_encoded() checks and merges in one pass: the same result as
// merging the checked view, and the same refusals.
TEST(LatencyDistribution, MergeEncodedEqualsMergeOfTheCheckedView) {
    for (std::size_t before : {std::size_t{0}, std::size_t{3}, std::size_t{255}, std::size_t{2000}}) {
        for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{254}, std::size_t{300}, std::size_t{9000}}) {
            auto old_values = skewed_latencies(before, 17);
            auto new_values = skewed_latencies(n, 19);
            new_values.push_back(-7);
            new_values.push_back(5000000);
            nz::LatencyDistribution by_view(std::pmr::new_delete_resource()), fused(std::pmr::new_delete_resource()),
                source(std::pmr::new_delete_resource());
            for (int32_t v : old_values) {
                by_view.add(v);
                fused.add(v);
            }
            for (int32_t v : new_values) source.add(v);
            auto bytes = encode(source);
            by_view.merge(nz::EncodedDistribution(bytes.data(), bytes.size()));
            fused.merge_encoded(bytes.data(), bytes.size());
            EXPECT_EQ(encode(fused), encode(by_view)) << before << " " << n;
            // both equal one distribution of every value
            nz::LatencyDistribution all(std::pmr::new_delete_resource());
            for (int32_t v : old_values) all.add(v);
            for (int32_t v : new_values) all.add(v);
            EXPECT_EQ(encode(fused), encode(all)) << before << " " << n;
            EXPECT_EQ(fused.count(), all.count());
            EXPECT_EQ(fused.sum(), all.sum());
            EXPECT_EQ(fused.distinct(), all.distinct()) << before << " " << n;
            EXPECT_EQ(by_view.distinct(), all.distinct()) << before << " " << n;
            // and after the merge it goes on as any distribution
            fused.add(42);
            by_view.add(42);
            EXPECT_EQ(encode(fused), encode(by_view));
        }
    }
}

TEST(LatencyDistribution, MergeEncodedRefusesWhatTheViewRefuses) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int32_t v : skewed_latencies(300, 5)) d.add(v);
    const auto good = encode(d);
    std::mt19937 rng(43);
    int rejected = 0;
    for (int round = 0; round < 20000; ++round) {
        auto bytes = good;
        std::size_t at = rng() % bytes.size();
        if (rng() % 2) bytes[at] = static_cast<uint8_t>(rng());
        else bytes.erase(bytes.begin() + static_cast<long>(at));
        bool view_ok = true;
        try {
            nz::EncodedDistribution e(bytes.data(), bytes.size());
        } catch (const nz::CoreError& e) {
            view_ok = false;
        }
        nz::LatencyDistribution into(std::pmr::new_delete_resource());
        try {
            into.merge_encoded(bytes.data(), bytes.size());
            ASSERT_TRUE(view_ok) << "merge_encoded accepted what the view refuses, round " << round;
            nz::LatencyDistribution by_view(std::pmr::new_delete_resource());
            by_view.merge(nz::EncodedDistribution(bytes.data(), bytes.size()));
            EXPECT_EQ(encode(into), encode(by_view));
        } catch (const nz::CoreError& e) {
            ASSERT_FALSE(view_ok) << "merge_encoded refused what the view accepts, round " << round;
            EXPECT_EQ(e.kind(), nz::ErrorKind::corrupt_value);
            ++rejected;
        }
    }
    EXPECT_GT(rejected, 5000);
}

TEST(LatencyDistribution, MergedCountOverflowIsAnError) {
    // 2^62 values of 0, merged four times: the fourth counts 2^64
    auto quarter = nz::parse_distribution("count=4611686018427387904 sum=0 values=0:4611686018427387904");
    for (bool fused : {false, true}) {
        nz::LatencyDistribution d(std::pmr::new_delete_resource());
        for (int i = 0; i < 3; ++i) d.merge_encoded(quarter.data(), quarter.size());
        try {
            if (fused) d.merge_encoded(quarter.data(), quarter.size());
            else d.merge(nz::EncodedDistribution(quarter.data(), quarter.size()));
            FAIL() << "no overflow error";
        } catch (const nz::CoreError& e) {
            EXPECT_EQ(e.kind(), nz::ErrorKind::out_of_range);
        }
        EXPECT_EQ(d.count(), 3 * (uint64_t{1} << 62));  // the refused merge counted nothing
    }
}

TEST(LatencyDistribution, AddedCountOverflowIsAnError) {
    // 2^64 - 1 values of 0; one more value counts 2^64
    auto quarter = nz::parse_distribution("count=4611686018427387904 sum=0 values=0:4611686018427387904");
    auto rest = nz::parse_distribution("count=4611686018427387903 sum=0 values=0:4611686018427387903");
    for (int32_t v : {0, 5, 3000, -2}) {  // the flat array, the hash table, a negative key
        nz::LatencyDistribution d(std::pmr::new_delete_resource());
        for (int i = 0; i < 3; ++i) d.merge_encoded(quarter.data(), quarter.size());
        d.merge_encoded(rest.data(), rest.size());
        try {
            d.add(v);
            FAIL() << "no overflow error for " << v;
        } catch (const nz::CoreError& e) {
            EXPECT_EQ(e.kind(), nz::ErrorKind::out_of_range);
        }
        EXPECT_EQ(d.count(), UINT64_MAX);  // the refused value counted nothing
    }
}

TEST(EncodedDistribution, TrustedViewReadsAsTheCheckedOne) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    auto values = skewed_latencies(4000, 23);
    for (int32_t v : values) d.add(v);
    auto bytes = encode(d);
    nz::EncodedDistribution checked(bytes.data(), bytes.size());
    auto trusted = nz::EncodedDistribution::trusted(bytes.data(), bytes.size());
    EXPECT_EQ(trusted.count(), checked.count());
    EXPECT_EQ(trusted.sum(), checked.sum());
    EXPECT_EQ(trusted.distinct(), checked.distinct());
    for (double p : {0.0, 0.5, 0.95, 0.99, 1.0}) {
        double a = 0, b = 0;
        ASSERT_TRUE(checked.percentile(p, &a));
        ASSERT_TRUE(trusted.percentile(p, &b));
        EXPECT_EQ(a, b) << p;
    }
}

TEST(EncodedDistribution, InconsistentFieldsAreRejected) {
    // count says 3 but the keys count 2
    EXPECT_THROW(nz::parse_distribution("count=3 sum=30 values=10:1,20:1"), nz::CoreError);
    // sum does not match exact keys
    EXPECT_THROW(nz::parse_distribution("count=2 sum=31 values=10:1,20:1"), nz::CoreError);
    // a key that is not a stored (quantized) key
    EXPECT_THROW(nz::parse_distribution("count=1 sum=1048577 values=1048577:1"), nz::CoreError);
    // unknown format byte
    const uint8_t wrong_format[] = {2, 0, 0, 0};
    EXPECT_THROW(nz::EncodedDistribution(wrong_format, sizeof wrong_format), nz::CoreError);
    // a claimed key count far beyond the bytes that follow
    const uint8_t huge[] = {1, 0xff, 0xff, 0xff, 0x0f, 0, 0};
    EXPECT_THROW(nz::EncodedDistribution(huge, sizeof huge), nz::CoreError);
}

TEST(DistributionText, RoundTrip) {
    nz::LatencyDistribution d(std::pmr::new_delete_resource());
    for (int32_t v : {30, 20, 20, 50, 50, -5, 10800001}) d.add(v);
    auto bytes = encode(d);
    std::string text = nz::format_distribution(nz::EncodedDistribution(bytes.data(), bytes.size()));
    EXPECT_EQ(text, "count=7 sum=10800166 values=-5:1,20:2,30:1,50:2,10800000:1");
    EXPECT_EQ(nz::parse_distribution(text), bytes);
    EXPECT_EQ(nz::parse_distribution("  count=0 sum=0 values= "), nz::parse_distribution("count=0 sum=0 values="));
}

TEST(DistributionText, MalformedTextIsRejected) {
    for (const char* bad : {"", "count=", "count=x sum=0 values=", "count=1 sum=1 values=1", "count=1 sum=1 values=1:",
                            "count=1 sum=1 values=1:0", "count=2 sum=2 values=1:1,1:1", "count=2 sum=3 values=2:1,1:1",
                            "count=1 sum=1 values=1:1 trailing", "count=1 sum=1 values=99999999999:1",
                            "count=-1 sum=0 values="}) {
        try {
            nz::parse_distribution(bad);
            ADD_FAILURE() << "accepted \"" << bad << "\"";
        } catch (const nz::CoreError& e) {
            EXPECT_EQ(e.kind(), nz::ErrorKind::invalid_text) << bad;
        }
    }
}

}  // namespace
