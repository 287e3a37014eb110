#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory_resource>
#include <random>
#include <utility>
#include <vector>

#include "core/group_counts.hpp"

namespace {

// A table's counts in id order equal the counts summed per id in a std::map,
// whatever the ids: close together (the radix sort: one byte of span, two
// bytes, negative ids, the largest span it takes) or far apart (std::sort),
// few or many, with repeats.
TEST(GroupCountTable, SortedGivesEveryGroupOnceInIdOrder) {
    std::mt19937_64 rng(7);
    struct Case {
        int64_t base;
        uint64_t span;
        int rows;
    };
    const Case cases[] = {{0, 200, 500},          {0, 2000, 870},     {-1000, 1999, 900},  {5, 65535, 3000},
                          {-40000, 65535, 20000}, {0, 65536, 3000},   {0, 1ULL << 40, 700}, {INT64_MIN / 2, 300, 100},
                          {7, 0, 50},             {0, 3000, 20},      {0, 100, 1}};
    for (const Case& c : cases) {
        nz::GroupCountTable table(std::pmr::new_delete_resource());
        std::map<int64_t, std::pair<uint64_t, uint64_t>> expected;
        for (int i = 0; i < c.rows; ++i) {
            int64_t id = c.base + static_cast<int64_t>(c.span == 0 ? 0 : rng() % (c.span + 1));
            uint64_t verified = rng() % 2;
            table.add(id, 1, verified);
            auto& e = expected[id];
            ++e.first;
            e.second += verified;
        }
        std::pmr::vector<nz::GroupCount> out(std::pmr::new_delete_resource());
        table.sorted(out);
        ASSERT_EQ(out.size(), expected.size()) << "span " << c.span;
        std::size_t i = 0;
        for (const auto& [id, counts] : expected) {
            EXPECT_EQ(out[i].group_id, id) << "span " << c.span << " at " << i;
            EXPECT_EQ(out[i].total, counts.first);
            EXPECT_EQ(out[i].verified, counts.second);
            ++i;
        }
    }
}

}  // namespace
