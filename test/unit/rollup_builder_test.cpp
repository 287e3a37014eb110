#include <gtest/gtest.h>

#include <algorithm>

#include <map>
#include <memory_resource>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/core_error.hpp"
#include "core/latency_distribution.hpp"
#include "core/rollup_builder.hpp"

namespace {

auto* mr() { return std::pmr::new_delete_resource(); }

std::vector<uint8_t> encoded(const nz::LatencyDistribution& d) {
    std::vector<uint8_t> out(d.prepare_encoding());
    d.encode_to(out.data());
    return out;
}

// The builder's cells equal a distribution and counts kept per quarter hour
// (and method) row by row, in any row order, also before 2000.
TEST(RollupBuilder, CellsEqualTheirRowsQuarterHourByQuarterHour) {
    const int64_t kMinute = 60 * 1000000LL;
    std::mt19937_64 rng(11);
    nz::RollupBuilder b(mr()), calls(mr());  // one builder per table, as the aggregates keep them
    struct Expected {
        nz::RollupCounts counts;
        nz::LatencyDistribution dist{std::pmr::new_delete_resource()};
    };
    std::map<std::pair<int64_t, std::string>, Expected> expected;
    std::map<std::pair<int64_t, int64_t>, std::pair<uint64_t, uint64_t>> groups;
    const char* methods[] = {"getChatMember", "sendMessage", ""};
    for (int i = 0; i < 20000; ++i) {
        int64_t t = static_cast<int64_t>(rng() % (3000 * kMinute)) - 1000 * kMinute;
        bool has_latency = rng() % 9 != 0;
        int32_t latency = static_cast<int32_t>(rng() % 3000);
        if (i % 2 == 0) {
            auto status = static_cast<nz::VerificationStatus>(rng() % 4);
            bool cached = rng() % 3 == 0;
            int64_t group = static_cast<int64_t>(rng() % 7);
            b.add_verification(t, status, has_latency, latency, cached);
            b.add_group(t, group, status == nz::VerificationStatus::verified);
            Expected& e = expected[{nz::quarter_hour_start(t), "v"}];
            ++e.counts.total;
            if (status == nz::VerificationStatus::verified) ++e.counts.verified;
            if (status == nz::VerificationStatus::restricted) ++e.counts.restricted;
            if (status == nz::VerificationStatus::error) ++e.counts.error;
            if (cached) ++e.counts.cached;
            if (has_latency) { ++e.counts.latency_count; e.counts.latency_sum += latency; e.dist.add(latency); }
            int64_t day = t >= 0 ? t / nz::kDayMicros : (t - nz::kDayMicros + 1) / nz::kDayMicros;
            auto& g = groups[{day * nz::kDayMicros, group}];
            ++g.first;
            if (status == nz::VerificationStatus::verified) ++g.second;
        } else {
            std::string m = methods[rng() % 3];
            int success = static_cast<int>(rng() % 3) - 1;
            calls.add_call(t, m.data(), m.size(), success, has_latency, latency);
            Expected& e = expected[{nz::quarter_hour_start(t), "a" + m}];
            ++e.counts.total;
            if (success == 1) ++e.counts.ok;
            if (success == 0) ++e.counts.failures;
            if (has_latency) { ++e.counts.latency_count; e.counts.latency_sum += latency; e.dist.add(latency); }
        }
    }
    auto check = [&](const char* prefix, std::size_t* seen) {
        return [&, prefix, seen](int64_t start, const std::pmr::string& method, const nz::RollupCounts& c,
                                 const std::pmr::vector<uint8_t>& bytes) {
            auto it = expected.find({start, prefix + std::string(method)});
            ASSERT_NE(it, expected.end());
            EXPECT_EQ(c.total, it->second.counts.total);
            EXPECT_EQ(c.verified, it->second.counts.verified);
            EXPECT_EQ(c.restricted, it->second.counts.restricted);
            EXPECT_EQ(c.error, it->second.counts.error);
            EXPECT_EQ(c.cached, it->second.counts.cached);
            EXPECT_EQ(c.ok, it->second.counts.ok);
            EXPECT_EQ(c.failures, it->second.counts.failures);
            EXPECT_EQ(c.latency_count, it->second.counts.latency_count);
            EXPECT_EQ(c.latency_sum, it->second.counts.latency_sum);
            EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.end()), encoded(it->second.dist));
            ++*seen;
        };
    };
    std::size_t seen_v = 0, seen_a = 0;
    b.for_each_quarter_hour(check("v", &seen_v));
    calls.for_each_quarter_hour(check("a", &seen_a));
    EXPECT_EQ(seen_v + seen_a, expected.size());
    std::map<std::pair<int64_t, int64_t>, std::pair<uint64_t, uint64_t>> got;
    b.for_each_group_day([&](int64_t day, int64_t group, uint64_t total, uint64_t verified) {
        got[{day, group}] = {total, verified};
    });
    EXPECT_EQ(got, groups);
}

}  // namespace

namespace {

// What parallel workers do: parts built apart, passed in binary form and
// merged, give the cells and group days of the whole.
TEST(RollupBuilder, MergedBinaryPartsEqualTheWholeAndBadBytesAreRefused) {
    const int64_t kMinute = 60 * 1000000LL;
    auto fill = [&](nz::RollupBuilder& b, int from, int to) {
        for (int i = from; i < to; ++i) {
            int64_t t = int64_t{i} * 7 * kMinute - 500 * kMinute;
            b.add_verification(t, static_cast<nz::VerificationStatus>(i % 4), i % 5 != 0, (i * 37) % 900, i % 3 == 0);
            b.add_group(t, i % 11, i % 4 == 0);
        }
    };
    auto dump = [](const nz::RollupBuilder& b) {
        std::vector<std::string> out;
        b.for_each_quarter_hour([&](int64_t start, const std::pmr::string& m, const nz::RollupCounts& c,
                                    const std::pmr::vector<uint8_t>& bytes) {
            out.push_back(std::to_string(start) + std::string(m) + " " + std::to_string(c.total) + " " +
                          std::to_string(c.verified) + " " + std::to_string(c.cached) + " " + std::to_string(c.latency_sum) +
                          " " + std::string(bytes.begin(), bytes.end()));
        });
        std::vector<std::string> groups;
        b.for_each_group_day([&](int64_t d, int64_t g, uint64_t t, uint64_t v) {
            groups.push_back(std::to_string(d) + "/" + std::to_string(g) + "=" + std::to_string(t) + "," + std::to_string(v));
        });
        std::sort(groups.begin(), groups.end());
        out.insert(out.end(), groups.begin(), groups.end());
        return out;
    };
    nz::RollupBuilder whole(mr()), a(mr()), b(mr()), merged(mr());
    fill(whole, 0, 3000);
    fill(a, 0, 1700);
    fill(b, 1700, 3000);
    auto bytes_a = a.encode();
    auto bytes_b = b.encode();
    merged.merge_encoded(bytes_a.data(), bytes_a.size());
    merged.merge_encoded(bytes_b.data(), bytes_b.size());
    EXPECT_EQ(dump(merged), dump(whole));
    nz::RollupBuilder direct(mr());
    direct.merge(a);
    direct.merge(b);
    EXPECT_EQ(dump(direct), dump(whole));
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, bytes_a.size() / 2, bytes_a.size() - 1}) {
        nz::RollupBuilder bad(mr());
        EXPECT_THROW(bad.merge_encoded(bytes_a.data(), cut), nz::CoreError) << cut;
    }
}

}  // namespace
