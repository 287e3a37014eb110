#include <gtest/gtest.h>

#include <algorithm>

#include <map>
#include <memory_resource>
#include <random>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/core_error.hpp"
#include "core/group_counts.hpp"
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
            b.add_verification(t, status, has_latency, latency, cached, group);
            Expected& e = expected[{nz::quarter_hour_start(t), "v"}];
            ++e.counts.total;
            if (status == nz::VerificationStatus::verified) ++e.counts.verified;
            if (status == nz::VerificationStatus::restricted) ++e.counts.restricted;
            if (status == nz::VerificationStatus::error) ++e.counts.error;
            if (cached) ++e.counts.cached;
            if (has_latency) { ++e.counts.latency_count; e.counts.latency_sum += latency; e.dist.add(latency); }
            auto& g = groups[{nz::quarter_hour_start(t), group}];
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
    std::map<std::pair<int64_t, int64_t>, std::pair<uint64_t, uint64_t>> got;
    auto check = [&](const char* prefix, std::size_t* seen) {
        return [&, prefix, seen](int64_t start, const std::pmr::string& method, const nz::RollupCounts& c,
                                 const std::pmr::vector<uint8_t>& bytes, const std::pmr::vector<uint8_t>& group_bytes) {
            if (*prefix == 'a') {
                EXPECT_TRUE(group_bytes.empty());
            } else {
                nz::EncodedGroupCounts g(group_bytes.data(), group_bytes.size());
                EXPECT_EQ(g.total(), c.total);
                EXPECT_EQ(g.verified(), c.verified);
                g.for_each([&](int64_t id, uint64_t total, uint64_t verified) { got[{start, id}] = {total, verified}; });
            }
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
    EXPECT_EQ(got, groups);
}

// Rows in time order, as the bot writes them, finish each quarter hour once
// the rows are two past it (sealed on the spot); late rows open such a
// quarter hour again.  The cells equal those of the same rows in a random
// order.
TEST(RollupBuilder, RowsInTimeOrderWithLateRowsEqualAnyOrder) {
    const int64_t kSecond = 1000000LL;
    std::mt19937_64 rng(23);
    struct Row {
        int64_t t;
        nz::VerificationStatus status;
        bool has_latency;
        int32_t latency;
        bool cached;
        int64_t group;
        std::string method;
        int success;
    };
    std::vector<Row> rows, late;
    const char* methods[] = {"getChatMember", "sendMessage", ""};
    for (int i = 0; i < 60000; ++i) {
        Row r{i * 7 * kSecond, static_cast<nz::VerificationStatus>(rng() % 4), rng() % 9 != 0,
              static_cast<int32_t>(rng() % 3000), rng() % 3 == 0, static_cast<int64_t>(rng() % 50),
              methods[rng() % 3], static_cast<int>(rng() % 3) - 1};
        (rng() % 20 == 0 ? late : rows).push_back(r);
    }
    nz::RollupBuilder in_order(mr()), any_order(mr()), calls_in_order(mr()), calls_any_order(mr());
    auto add = [](nz::RollupBuilder& v, nz::RollupBuilder& a, const Row& r) {
        v.add_verification(r.t, r.status, r.has_latency, r.latency, r.cached, r.group);
        a.add_call(r.t, r.method.data(), r.method.size(), r.success, r.has_latency, r.latency);
    };
    for (const Row& r : rows) add(in_order, calls_in_order, r);
    for (const Row& r : late) add(in_order, calls_in_order, r);  // each opens a finished quarter hour again
    std::vector<Row> shuffled(rows);
    shuffled.insert(shuffled.end(), late.begin(), late.end());
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (const Row& r : shuffled) add(any_order, calls_any_order, r);
    using Cell = std::tuple<int64_t, std::string, uint64_t, uint64_t, uint64_t, uint64_t, std::vector<uint8_t>, std::vector<uint8_t>>;
    auto cells = [](const nz::RollupBuilder& b) {
        std::vector<Cell> out;
        b.for_each_quarter_hour([&](int64_t start, const std::pmr::string& method, const nz::RollupCounts& c,
                                    const std::pmr::vector<uint8_t>& bytes, const std::pmr::vector<uint8_t>& groups) {
            out.emplace_back(start, std::string(method), c.total, c.verified + 10 * c.ok, c.failures, c.latency_count,
                             std::vector<uint8_t>(bytes.begin(), bytes.end()), std::vector<uint8_t>(groups.begin(), groups.end()));
        });
        std::sort(out.begin(), out.end());
        return out;
    };
    EXPECT_EQ(cells(in_order).size(), std::size_t{60000 * 7 / 900 + 1});
    EXPECT_EQ(cells(in_order), cells(any_order));
    EXPECT_EQ(cells(calls_in_order), cells(calls_any_order));
}

}  // namespace

namespace {

// What parallel workers do: parts built apart, passed in binary form and
// merged, give the cells and group counts of the whole.
TEST(RollupBuilder, MergedBinaryPartsEqualTheWholeAndBadBytesAreRefused) {
    const int64_t kMinute = 60 * 1000000LL;
    auto fill = [&](nz::RollupBuilder& b, int from, int to) {
        for (int i = from; i < to; ++i) {
            int64_t t = int64_t{i} * 7 * kMinute - 500 * kMinute;
            b.add_verification(t, static_cast<nz::VerificationStatus>(i % 4), i % 5 != 0, (i * 37) % 900, i % 3 == 0,
                               i % 11);
        }
    };
    auto dump = [](const nz::RollupBuilder& b) {
        std::vector<std::string> out;
        b.for_each_quarter_hour([&](int64_t start, const std::pmr::string& m, const nz::RollupCounts& c,
                                    const std::pmr::vector<uint8_t>& bytes, const std::pmr::vector<uint8_t>& groups) {
            out.push_back(std::to_string(start) + std::string(m) + " " + std::to_string(c.total) + " " +
                          std::to_string(c.verified) + " " + std::to_string(c.cached) + " " + std::to_string(c.latency_sum) +
                          " " + std::string(bytes.begin(), bytes.end()) + " " + std::string(groups.begin(), groups.end()));
        });
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

// As PostgreSQL combines parallel parts: each worker's bytes deserialized
// into a builder of its own (its cells finished, sealed), then merged into
// the leader's.  Parts that share every quarter hour (rows dealt out in turn)
// and parts that share few (rows in time order, cut in runs) give the whole,
// for verification rows and API calls; so do parts merged into a builder
// that then takes more rows.
TEST(RollupBuilder, SealedPartsMergeToTheWholeHoweverTheRowsAreSplit) {
    const int64_t kSecond = 1000000LL, kMinute = 60 * kSecond;
    const int kRows = 7000, kDense = 3000;
    auto add = [&](nz::RollupBuilder& b, int i) {
        // the first rows dense (quarter hours of hundreds, which encode()
        // finishes), the rest sparse (a few, which travel as values)
        int64_t t = i < kDense ? int64_t{i} * kSecond : kDense * kSecond + int64_t{i - kDense} * 2 * kMinute + (i % 7) * 1000;
        if (i % 2 == 0)
            b.add_verification(t, static_cast<nz::VerificationStatus>(i % 4), i % 5 != 0, (i * 37) % 900, i % 3 == 0,
                               (i * 13) % 17 - 8);
        else
            b.add_call(t, i % 3 == 0 ? "getChatMember" : "sendMessage", i % 3 == 0 ? 13 : 11, (i / 2) % 3 - 1,
                       i % 6 != 1, (i * 11) % 300);
    };
    auto dump = [](const nz::RollupBuilder& b) {
        std::vector<std::string> out;
        b.for_each_quarter_hour([&](int64_t start, const std::pmr::string& m, const nz::RollupCounts& c,
                                    const std::pmr::vector<uint8_t>& bytes, const std::pmr::vector<uint8_t>& groups) {
            out.push_back(std::to_string(start) + std::string(m) + " " + std::to_string(c.total) + " " +
                          std::to_string(c.verified) + " " + std::to_string(c.restricted) + " " + std::to_string(c.error) +
                          " " + std::to_string(c.cached) + " " + std::to_string(c.ok) + " " + std::to_string(c.failures) +
                          " " + std::to_string(c.latency_count) + " " + std::to_string(c.latency_sum) + " " +
                          std::string(bytes.begin(), bytes.end()) + " " + std::string(groups.begin(), groups.end()));
        });
        std::sort(out.begin(), out.end());  // the cells of one quarter hour come in the order they were made
        return out;
    };
    nz::RollupBuilder whole(mr());
    for (int i = 0; i < kRows; ++i) add(whole, i);
    const auto expected = dump(whole);
    ASSERT_GT(expected.size(), 100u);
    // which part takes row i: in turn, or in runs of 50 rows
    for (auto part_of : {+[](int i) { return i % 3; }, +[](int i) { return (i / 50) % 3; }}) {
        std::vector<std::unique_ptr<nz::RollupBuilder>> parts;
        for (int k = 0; k < 3; ++k) parts.push_back(std::make_unique<nz::RollupBuilder>(mr()));
        for (int i = 0; i < kRows; ++i) add(*parts[part_of(i)], i);
        nz::RollupBuilder leader(mr());
        for (auto& p : parts) {
            auto bytes = p->encode();
            nz::RollupBuilder received(mr());
            received.merge_encoded(bytes.data(), bytes.size());
            EXPECT_EQ(dump(received), dump(*p));  // a sealed part reads out as it was
            leader.merge(received);
        }
        EXPECT_EQ(dump(leader), expected);
        // the sealed bytes merged straight in, and a sealed builder passed on again
        nz::RollupBuilder direct(mr()), again(mr());
        for (auto& p : parts) {
            auto bytes = p->encode();
            direct.merge_encoded(bytes.data(), bytes.size());
        }
        EXPECT_EQ(dump(direct), expected);
        auto twice = direct.encode();
        again.merge_encoded(twice.data(), twice.size());
        EXPECT_EQ(dump(again), expected);
    }
    // rows added to cells that arrived sealed
    nz::RollupBuilder first(mr()), rest(mr());
    for (int i = 0; i < kRows / 2; ++i) add(first, i);
    auto bytes = first.encode();
    rest.merge_encoded(bytes.data(), bytes.size());
    for (int i = kRows / 2; i < kRows; ++i) add(rest, i);
    EXPECT_EQ(dump(rest), expected);
}

}  // namespace

namespace {

// The group counts' binary form: what goes in comes out, in id order, and
// malformed bytes are refused.
TEST(GroupCounts, RoundTripAndBadBytesAreRefused) {
    std::vector<nz::GroupCount> in = {{-1000000002000, 3, 1}, {-1000000000001, 1, 0}, {0, 7, 7},
                                      {INT64_MAX, 2, 1}};
    std::pmr::vector<uint8_t> bytes(mr());
    nz::encode_group_counts(in.data(), in.size(), bytes);
    nz::EncodedGroupCounts g(bytes.data(), bytes.size());
    EXPECT_EQ(g.size(), 4u);
    EXPECT_EQ(g.total(), 13u);
    EXPECT_EQ(g.verified(), 9u);
    std::vector<nz::GroupCount> out;
    g.for_each([&](int64_t id, uint64_t t, uint64_t v) { out.push_back({id, t, v}); });
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        EXPECT_EQ(out[i].group_id, in[i].group_id);
        EXPECT_EQ(out[i].total, in[i].total);
        EXPECT_EQ(out[i].verified, in[i].verified);
    }
    for (std::size_t cut = 0; cut < bytes.size(); ++cut)
        EXPECT_THROW(nz::EncodedGroupCounts(bytes.data(), cut), nz::CoreError) << cut;
    std::pmr::vector<uint8_t> longer(bytes, mr());
    longer.push_back(0);
    EXPECT_THROW(nz::EncodedGroupCounts(longer.data(), longer.size()), nz::CoreError);
    std::pmr::vector<uint8_t> bad_format(bytes, mr());
    bad_format[0] = 9;
    EXPECT_THROW(nz::EncodedGroupCounts(bad_format.data(), bad_format.size()), nz::CoreError);
    // unordered ids, no rows, more verified than rows: refused on both sides
    std::vector<nz::GroupCount> unordered = {{5, 1, 0}, {5, 1, 0}}, empty = {{1, 0, 0}}, over = {{1, 1, 2}};
    for (auto* bad : {&unordered, &empty, &over}) {
        std::pmr::vector<uint8_t> b(mr());
        EXPECT_THROW(nz::encode_group_counts(bad->data(), bad->size(), b), nz::CoreError);
    }
    const uint8_t zero_delta[] = {1, 2, 2, 1, 0, 0, 1, 0};  // ids 1 and 1
    EXPECT_THROW(nz::EncodedGroupCounts(zero_delta, sizeof zero_delta), nz::CoreError);
    const uint8_t past_max[] = {1, 2, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 0, 9, 1, 0};
    EXPECT_THROW(nz::EncodedGroupCounts(past_max, sizeof past_max), nz::CoreError);  // INT64_MAX - 1 + 9
}

}  // namespace

namespace {

// What a visit of one cell gives, copied (the bytes are reused by the next).
using VisitedCell = std::tuple<int64_t, std::string, uint64_t, uint64_t, std::vector<uint8_t>, std::vector<uint8_t>>;

}  // namespace

// The Reader gives the cells one at a time exactly as for_each_quarter_hour()
// gives them all (in order of their quarter hours, sealed and open cells, a
// late row's cell opened again), then false, and again false.
TEST(RollupBuilder, ReaderGivesTheCellsOfForEachOneAtATime) {
    const int64_t kMinute = 60 * 1000000LL;
    nz::RollupBuilder b(mr());
    for (int i = 0; i < 20000; ++i)  // in time order: 300 calls a quarter hour, its cells sealed on the way
        b.add_call(i * kMinute / 20, i % 3 == 0 ? "sendMessage" : "getChat", i % 3 == 0 ? 11 : 7, i % 5 == 0 ? 0 : 1,
                   i % 4 != 0, i % 900);
    b.add_call(3 * kMinute, "getChat", 7, 1, true, 5);  // late: a sealed cell opened again
    std::vector<VisitedCell> all, one_by_one;
    auto into = [](std::vector<VisitedCell>& out) {
        return [&out](int64_t start, const std::pmr::string& method, const nz::RollupCounts& c,
                      const std::pmr::vector<uint8_t>& dist, const std::pmr::vector<uint8_t>& groups) {
            out.emplace_back(start, std::string(method), c.total, c.latency_count,
                             std::vector<uint8_t>(dist.begin(), dist.end()), std::vector<uint8_t>(groups.begin(), groups.end()));
        };
    };
    b.for_each_quarter_hour(into(all));
    nz::RollupBuilder::Reader reader(b);
    while (reader.next(into(one_by_one))) {
    }
    EXPECT_FALSE(reader.next(into(one_by_one)));
    ASSERT_GT(all.size(), 100u);
    EXPECT_EQ(all, one_by_one);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](const VisitedCell& x, const VisitedCell& y) {
        return std::get<0>(x) < std::get<0>(y);
    }));
    nz::RollupBuilder empty(mr());
    nz::RollupBuilder::Reader none(empty);
    EXPECT_FALSE(none.next(into(one_by_one)));
}
