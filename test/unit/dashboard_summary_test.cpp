#include <gtest/gtest.h>

#include <map>
#include <memory_resource>
#include <tuple>
#include <string>
#include <vector>

#include "core/core_error.hpp"
#include "core/dashboard_summary.hpp"
#include "core/hourly_status_counts.hpp"
#include "core/local_time.hpp"

namespace {

constexpr int64_t kHour = nz::kMicrosPerHour;
constexpr int64_t kDay = nz::kMicrosPerDay;
auto* mr() { return std::pmr::new_delete_resource(); }

std::vector<uint8_t> bytes(const std::pmr::vector<uint8_t>& v) { return {v.begin(), v.end()}; }

TEST(TimeZoneSegments, LocalTimeAcrossADstChangeAndQuarterHourZones) {
    nz::TimeZoneSegments tz(mr());
    // -04:00 until 10 h, then -05:00 (as New York on a November morning).
    const int64_t pairs[] = {0, -4 * kHour, 10 * kHour, -5 * kHour};
    tz.assign(pairs, 4);
    EXPECT_EQ(tz.to_local(9 * kHour), 5 * kHour);
    EXPECT_EQ(tz.to_local(10 * kHour), 5 * kHour);   // the hour repeats
    EXPECT_EQ(tz.to_local(11 * kHour), 6 * kHour);
    EXPECT_EQ(tz.to_local(-kHour), -5 * kHour);       // before the first start: the first segment
    EXPECT_EQ(tz.to_local(9 * kHour), 5 * kHour);     // going back in time finds the segment again
    const int64_t kathmandu[] = {0, 5 * kHour + 45 * 60 * 1000000LL};
    tz.assign(kathmandu, 2);
    EXPECT_EQ(tz.to_local(0), 5 * kHour + 45 * 60 * 1000000LL);
}

TEST(TimeZoneSegments, BadSegmentsAreRejected) {
    nz::TimeZoneSegments tz(mr());
    const int64_t odd[] = {0, 1, 2};
    EXPECT_THROW(tz.assign(odd, 3), nz::CoreError);
    const int64_t unsorted[] = {10, 0, 5, 0};
    EXPECT_THROW(tz.assign(unsorted, 4), nz::CoreError);
}

void fill(nz::VerificationSummary& s, int from, int to) {
    for (int i = from; i < to; ++i) {
        auto status = i % 10 < 7 ? nz::VerificationStatus::verified
                      : i % 10 < 9 ? nz::VerificationStatus::restricted : nz::VerificationStatus::error;
        s.add(int64_t{i} * 37 * 60 * 1000000LL, status, i % 13 != 0, (i * 7919) % 700, i % 5 < 2, 100 + i % 17);
    }
}

TEST(VerificationSummary, MergedPartsEqualTheWholeAndTheBinaryFormRoundTrips) {
    const int64_t utc[] = {0, 0};
    nz::VerificationSummary whole(mr()), a(mr()), b(mr());
    for (auto* s : {&whole, &a, &b}) {
        s->set_time_zone(utc, 2);
        s->set_top_groups(5);
        s->set_recent_since(3000LL * 37 * 60 * 1000000LL);
    }
    fill(whole, 0, 5000);
    fill(a, 0, 2000);
    fill(b, 2000, 5000);
    a.merge(b);
    EXPECT_EQ(a.raw_json(), whole.raw_json());

    nz::VerificationSummary decoded(mr());
    auto encoded = bytes(whole.encode());
    decoded.merge_encoded(encoded.data(), encoded.size());
    EXPECT_EQ(decoded.raw_json(), whole.raw_json());
}

TEST(VerificationSummary, DocumentCountsHoursDaysAndTopGroups) {
    const int64_t plus_two[] = {0, 2 * kHour};
    nz::VerificationSummary s(mr());
    s.set_time_zone(plus_two, 2);
    s.set_top_groups(2);
    s.add(23 * kHour, nz::VerificationStatus::verified, true, 40, true, 7);    // 01:00 local, day 1
    s.add(23 * kHour, nz::VerificationStatus::error, false, 0, false, 9);      // same hour
    s.add(kDay + kHour, nz::VerificationStatus::restricted, true, 600, false, 9);  // 03:00 local, day 1
    s.add(kDay + kHour, nz::VerificationStatus::other, true, 60, false, 3);
    std::string json = s.raw_json();
    EXPECT_NE(json.find("\"total\":4,\"verified\":1,\"restricted\":1,\"error\":1,\"cached\":1"), std::string::npos) << json;
    // buckets by name, with the default edges' labels and bounds
    EXPECT_NE(json.find("\"buckets\":[{\"bucket\":\"<50ms\",\"lower_ms\":0,\"upper_ms\":50,\"count\":1},"
                        "{\"bucket\":\"50-100ms\",\"lower_ms\":50,\"upper_ms\":100,\"count\":1},"
                        "{\"bucket\":\"100-200ms\",\"lower_ms\":100,\"upper_ms\":200,\"count\":0},"
                        "{\"bucket\":\"200-500ms\",\"lower_ms\":200,\"upper_ms\":500,\"count\":0},"
                        "{\"bucket\":\">500ms\",\"lower_ms\":500,\"upper_ms\":null,\"count\":1}]"),
              std::string::npos) << json;
    // hour 1: one verified, one error; hour 3: one restricted; "other" counts in no hour
    EXPECT_NE(json.find("{\"hour\":1,\"verified\":1,\"restricted\":0,\"error\":1}"), std::string::npos) << json;
    EXPECT_NE(json.find("{\"hour\":2,\"verified\":0,\"restricted\":0,\"error\":0}"), std::string::npos) << json;
    EXPECT_NE(json.find("{\"hour\":3,\"verified\":0,\"restricted\":1,\"error\":0}"), std::string::npos) << json;
    // group 9 has two rows, then 3 and 7 have one each: the tie goes to the smaller id
    EXPECT_NE(json.find("\"groups\":[{\"group_id\":9,\"count\":2,\"verified\":0},{\"group_id\":3,\"count\":1,\"verified\":0}]"),
              std::string::npos) << json;
    EXPECT_NE(json.find("\"days\":[{\"date\":\"2000-01-02\",\"count\":4,\"verified\":1,\"cached\":1,"
                        "\"latency_count\":3,\"latency_sum\":700,\"p95\":"),
              std::string::npos) << json;
    EXPECT_NE(json.find("\"recent\":{\"count\":0,"), std::string::npos) << json;
}

TEST(VerificationSummary, NegativeLatencyIsAnError) {
    nz::VerificationSummary s(mr());
    EXPECT_THROW(s.add(0, nz::VerificationStatus::verified, true, -1, false, 1), nz::CoreError);
}

TEST(VerificationSummary, TruncatedStateIsRejected) {
    nz::VerificationSummary s(mr());
    s.set_top_groups(3);
    fill(s, 0, 300);
    auto encoded = bytes(s.encode());
    for (std::size_t len = 0; len < encoded.size(); len += 7) {
        nz::VerificationSummary into(mr());
        EXPECT_THROW(into.merge_encoded(encoded.data(), len), nz::CoreError) << len;
    }
}

TEST(ApiSummary, MethodsMergeAndRoundTrip) {
    nz::ApiSummary whole(mr()), a(mr()), b(mr());
    const char* methods[] = {"getChatMember", "sendMessage", "a\"quoted\\name"};
    for (int i = 0; i < 900; ++i) {
        const char* m = methods[i % 3 == 0 ? 0 : i % 7 == 0 ? 2 : 1];
        int success = i % 11 == 0 ? -1 : (i % 9 == 0 ? 0 : 1);
        whole.add(m, std::char_traits<char>::length(m), success, i % 4 != 0, i % 500);
        (i < 400 ? a : b).add(m, std::char_traits<char>::length(m), success, i % 4 != 0, i % 500);
    }
    a.merge(b);
    EXPECT_EQ(a.raw_json(), whole.raw_json());
    nz::ApiSummary decoded(mr());
    auto encoded = bytes(whole.encode());
    decoded.merge_encoded(encoded.data(), encoded.size());
    EXPECT_EQ(decoded.raw_json(), whole.raw_json());
    std::string json = whole.raw_json();
    EXPECT_NE(json.find("\"a\\\"quoted\\\\name\""), std::string::npos) << json;  // escaped for JSON
}

TEST(LocalTime, FloorsTimesBefore2000AndNamesDays) {
    EXPECT_EQ(nz::floor_div(-1, kDay), -1);
    EXPECT_EQ(nz::floor_div(kDay, kDay), 1);
    nz::LocalDayHour before = nz::split_local(-1);  // 1999-12-31 23:59:59.999999
    EXPECT_EQ(before.day, -1);
    EXPECT_EQ(before.hour, 23);
    EXPECT_EQ(nz::civil_date(0), "2000-01-01");
    EXPECT_EQ(nz::civil_date(-1), "1999-12-31");
    EXPECT_EQ(nz::civil_date(59), "2000-02-29");  // a leap day
    EXPECT_EQ(nz::civil_date(9830), "2026-11-30");
}

TEST(HourCounts, PlacesRowsMergesAndRejectsABadState) {
    const int64_t kolkata[] = {0, 5 * kHour + 30 * 60 * 1000000LL};
    nz::TimeZoneSegments tz(mr());
    tz.assign(kolkata, 2);
    EXPECT_TRUE(tz.same_as(kolkata, 2));
    nz::HourCounts a, b;
    a.add(tz.local_day_hour(18 * kHour + 29 * 60 * 1000000LL).hour, nz::VerificationStatus::verified);  // 23:59 local
    a.add(tz.local_day_hour(18 * kHour + 30 * 60 * 1000000LL).hour, nz::VerificationStatus::error);     // 00:00 local
    b.add(23, nz::VerificationStatus::verified);
    b.add(5, nz::VerificationStatus::other);  // not counted
    a.merge(b);
    EXPECT_EQ(a.counts[23][0], 2u);
    EXPECT_EQ(a.counts[0][2], 1u);
    EXPECT_EQ(a.counts[5][0] + a.counts[5][1] + a.counts[5][2], 0u);
    std::vector<uint8_t> buf(nz::HourCounts::kEncodedSize);
    a.encode_to(buf.data());
    nz::HourCounts c;
    c.merge_encoded(buf.data(), buf.size());
    EXPECT_EQ(c.counts[23][0], 2u);
    EXPECT_THROW(c.merge_encoded(buf.data(), buf.size() - 1), nz::CoreError);
    nz::JsonWriter j;
    c.write_json(j);
    EXPECT_NE(j.out().find("{\"hour\":23,\"verified\":2,\"restricted\":0,\"error\":0}"), std::string::npos);
}

}  // namespace

namespace {

// The rollups' view of rows: per quarter hour, the counts and the encoded
// distribution of the latencies (as refresh_rollups() stores them).
struct QuarterHourRollup {
    nz::QuarterHourCounts counts;
    nz::LatencyDistribution latencies{std::pmr::new_delete_resource()};
    std::map<int64_t, std::pair<uint64_t, uint64_t>> groups;
    std::vector<uint8_t> encoded() const {
        std::vector<uint8_t> out(latencies.prepare_encoding());
        latencies.encode_to(out.data());
        return out;
    }
    std::pmr::vector<uint8_t> encoded_groups() const {
        std::vector<nz::GroupCount> list;
        for (const auto& [id, g] : groups) list.push_back({id, g.first, g.second});
        std::pmr::vector<uint8_t> out(std::pmr::new_delete_resource());
        nz::encode_group_counts(list.data(), list.size(), out);
        return out;
    }
    void add_quarter_hour_to(nz::VerificationSummary& s) const {
        std::vector<uint8_t> bytes = encoded();
        std::pmr::vector<uint8_t> group_bytes = encoded_groups();
        s.add_quarter_hour(counts, nz::EncodedDistribution(bytes.data(), bytes.size()),
                           nz::EncodedGroupCounts(group_bytes.data(), group_bytes.size()));
    }
};

TEST(VerificationSummary, QuarterHoursOfRollupsEqualTheirRowsInEveryZone) {
    const int64_t kQuarter = 15 * 60 * 1000000LL;
    // UTC, +05:30, +05:45, -03:30 with a change to -02:30 (a DST-like step), +08:45
    const std::vector<std::vector<int64_t>> zones = {
        {0, 0}, {0, 5 * kHour + 30 * 60 * 1000000LL}, {0, 5 * kHour + 45 * 60 * 1000000LL},
        {0, -3 * kHour - 30 * 60 * 1000000LL, 40 * kHour, -2 * kHour - 30 * 60 * 1000000LL},
        {0, 8 * kHour + 45 * 60 * 1000000LL}};
    for (const auto& zone : zones) {
        nz::VerificationSummary rows(mr()), cells(mr());
        std::map<int64_t, QuarterHourRollup> rollups;
        for (auto* s : {&rows, &cells}) {
            s->set_time_zone(zone.data(), zone.size());
            s->set_top_groups(5);
            s->set_recent_since(6000 * kQuarter);  // on a quarter hour, as the readers cut it
        }
        for (int i = 0; i < 5000; ++i) {
            auto status = i % 10 < 6 ? nz::VerificationStatus::verified
                          : i % 10 < 8 ? nz::VerificationStatus::restricted
                          : i % 10 < 9 ? nz::VerificationStatus::error : nz::VerificationStatus::other;
            int64_t t = int64_t{i} * 37 * 60 * 1000000LL;
            bool has_latency = i % 13 != 0;
            int32_t latency = (i * 7919) % 700;
            bool cached = i % 5 < 2;
            int64_t group = 100 + i % 17;
            rows.add(t, status, has_latency, latency, cached, group);
            // the cells: per quarter hour, with their groups
            int64_t start = t - t % kQuarter;
            QuarterHourRollup& q = rollups[start];
            ++q.groups[group].first;
            if (status == nz::VerificationStatus::verified) ++q.groups[group].second;
            q.counts.start = start;
            ++q.counts.total;
            if (status == nz::VerificationStatus::verified) ++q.counts.verified;
            if (status == nz::VerificationStatus::restricted) ++q.counts.restricted;
            if (status == nz::VerificationStatus::error) ++q.counts.error;
            if (cached) ++q.counts.cached;
            if (has_latency) q.latencies.add(latency);
        }
        for (const auto& [start, q] : rollups) q.add_quarter_hour_to(cells);
        EXPECT_EQ(cells.raw_json(), rows.raw_json());
    }
}

// The local days of rollup_days: each day's quarter hours summed into a
// summary of its own, kept in binary form and merged back, give the same
// document as the rows (and a day with more added to it after its bytes).
TEST(VerificationSummary, LocalDaysOfQuarterHoursMergedInBinaryEqualTheirRows) {
    const int64_t kQuarter = 15 * 60 * 1000000LL;
    const std::vector<std::vector<int64_t>> zones = {
        {0, 0}, {0, 5 * kHour + 30 * 60 * 1000000LL},
        {0, -3 * kHour - 30 * 60 * 1000000LL, 40 * kHour, -2 * kHour - 30 * 60 * 1000000LL}};
    for (const auto& zone : zones) {
        nz::VerificationSummary rows(mr()), merged(mr());
        for (auto* s : {&rows, &merged}) {
            s->set_time_zone(zone.data(), zone.size());
            s->set_top_groups(5);
        }
        std::map<int64_t, QuarterHourRollup> rollups;
        for (int i = 0; i < 4000; ++i) {
            auto status = i % 7 < 4 ? nz::VerificationStatus::verified
                          : i % 7 < 6 ? nz::VerificationStatus::restricted : nz::VerificationStatus::error;
            int64_t t = int64_t{i} * 41 * 60 * 1000000LL;
            int32_t latency = (i * 7919) % 5000;  // keys past the flat array too
            int64_t group = 100 + i % 23;
            rows.add(t, status, true, latency, i % 3 == 0, group);
            QuarterHourRollup& q = rollups[t - t % kQuarter];
            q.counts.start = t - t % kQuarter;
            ++q.counts.total;
            if (status == nz::VerificationStatus::verified) ++q.counts.verified;
            if (status == nz::VerificationStatus::restricted) ++q.counts.restricted;
            if (status == nz::VerificationStatus::error) ++q.counts.error;
            if (i % 3 == 0) ++q.counts.cached;
            q.latencies.add(latency);
            ++q.groups[group].first;
            if (status == nz::VerificationStatus::verified) ++q.groups[group].second;
        }
        // the quarter hours by local day; the last day's last one added after its bytes
        std::map<int64_t, std::vector<const QuarterHourRollup*>> days;
        for (const auto& [start, q] : rollups) days[merged.time_zone().local_day_hour(start).day].push_back(&q);
        const QuarterHourRollup* late = days.rbegin()->second.back();
        days.rbegin()->second.pop_back();
        for (const auto& [day, list] : days) {
            nz::VerificationSummary one(mr());
            one.set_time_zone(zone.data(), zone.size());
            one.set_top_groups(1);
            for (const QuarterHourRollup* q : list) q->add_quarter_hour_to(one);
            std::pmr::vector<uint8_t> bytes = one.encode();
            merged.merge_encoded(bytes.data(), bytes.size());
        }
        late->add_quarter_hour_to(merged);
        EXPECT_EQ(merged.raw_json(), rows.raw_json());
    }
}

TEST(VerificationSummary, AQuarterHourWithANegativeLatencyOrCountsThatDoNotAddUpIsRefused) {
    nz::VerificationSummary s(mr());
    const int64_t utc[] = {0, 0};
    s.set_time_zone(utc, 2);
    QuarterHourRollup q;
    q.counts = {0, 1, 1, 0, 0, 0};
    q.groups[7] = {1, 1};
    q.latencies.add(-5);
    EXPECT_THROW(q.add_quarter_hour_to(s), nz::CoreError);
    QuarterHourRollup r;
    r.counts = {0, 1, 1, 1, 0, 0};
    r.groups[7] = {1, 1};
    EXPECT_THROW(r.add_quarter_hour_to(s), nz::CoreError);  // more rows by status than rows
    QuarterHourRollup g;
    g.counts = {0, 2, 1, 0, 0, 0};
    g.groups[7] = {1, 1};
    EXPECT_THROW(g.add_quarter_hour_to(s), nz::CoreError);  // the groups count one row of two
    g.groups[8] = {1, 1};
    EXPECT_THROW(g.add_quarter_hour_to(s), nz::CoreError);  // two verified in the groups, one in the counts
    g.groups[8] = {1, 0};
    EXPECT_NO_THROW(g.add_quarter_hour_to(s));
}

TEST(ApiSummary, CountsOfRollupsEqualTheirCalls) {
    nz::ApiSummary calls(mr()), counts(mr());
    std::map<std::string, std::tuple<uint64_t, uint64_t, uint64_t>> per_method;
    std::map<std::string, QuarterHourRollup> latencies;
    const char* methods[] = {"getChatMember", "restrictChatMember", ""};
    for (int i = 0; i < 3000; ++i) {
        std::string m = methods[i % 3];
        int success = i % 7 == 0 ? -1 : (i % 5 == 0 ? 0 : 1);
        bool has_latency = i % 11 != 0;
        int32_t latency = (i * 131) % 900;
        calls.add(m.data(), m.size(), success, has_latency, latency);
        auto& [n, ok, failed] = per_method[m];
        ++n;
        if (success == 1) ++ok;
        if (success == 0) ++failed;
        if (has_latency) latencies[m].latencies.add(latency);
    }
    for (const auto& [m, c] : per_method) {
        std::vector<uint8_t> bytes = latencies[m].encoded();
        counts.add_counts(m.data(), m.size(), std::get<0>(c), std::get<1>(c), std::get<2>(c),
                          nz::EncodedDistribution(bytes.data(), bytes.size()));
    }
    EXPECT_EQ(counts.raw_json(), calls.raw_json());
}

}  // namespace
