#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/members_chart.hpp"

namespace {

// Offers rows one by one to a top-`limit` list as the native scan does.
std::vector<nz::MemberRow> top_of(const std::vector<nz::MemberRow>& rows, int limit) {
    std::vector<nz::MemberRow> top(limit);
    int count = 0;
    for (const auto& r : rows) {
        int slot = nz::member_rank_slot(top.data(), count, limit, r.id, r.members);
        if (slot < 0) continue;
        int last = std::min(count, limit - 1);
        for (int i = last; i > slot; --i) top[i] = top[i - 1];
        top[slot] = r;
        count = std::min(count + 1, limit);
    }
    top.resize(count);
    return top;
}

TEST(MembersChart, TopTenEqualsASortByMembersThenId) {
    std::mt19937_64 rng(42);
    for (int round = 0; round < 200; ++round) {
        std::vector<nz::MemberRow> rows;
        int n = static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i) rows.push_back({static_cast<int64_t>(rng() % 1000) - 500, static_cast<int64_t>(rng() % 5)});
        std::vector<nz::MemberRow> expected = rows;
        std::stable_sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
            return a.members != b.members ? a.members > b.members : a.id < b.id;
        });
        expected.resize(std::min<std::size_t>(expected.size(), 10));
        auto got = top_of(rows, 10);
        ASSERT_EQ(got.size(), expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            EXPECT_EQ(got[i].members, expected[i].members) << "round " << round << " rank " << i;
            EXPECT_EQ(got[i].id, expected[i].id) << "round " << round << " rank " << i;
        }
    }
}

TEST(MembersChart, DocumentNamesUntitledRowsAndEscapesTitles) {
    const char* quoted = "a \"b\"\n";
    nz::MemberRow channels[] = {{7, 30, quoted, std::char_traits<char>::length(quoted)}, {-3, 0, nullptr, 0}};
    nz::MemberRow groups[] = {{12, 5, nullptr, 0}};
    EXPECT_EQ(nz::members_chart_json(channels, 2, groups, 1),
              "{\"channels\":[{\"name\":\"a \\\"b\\\"\\n\",\"members\":30},{\"name\":\"Channel -3\",\"members\":0}],"
              "\"groups\":[{\"name\":\"Group 12\",\"members\":5}]}");
    EXPECT_EQ(nz::members_chart_json(nullptr, 0, nullptr, 0), "{\"channels\":[],\"groups\":[]}");
}

}  // namespace
