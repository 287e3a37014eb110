#include <gtest/gtest.h>

#include <cstdint>
#include <memory_resource>
#include <vector>

#include "core/byte_arena.hpp"

namespace {

// Counts what the arena takes from and gives back to its resource.
class CountingResource : public std::pmr::memory_resource {
public:
    std::size_t live = 0, blocks = 0;

private:
    void* do_allocate(std::size_t n, std::size_t align) override {
        live += n;
        ++blocks;
        return std::pmr::new_delete_resource()->allocate(n, align);
    }
    void do_deallocate(void* p, std::size_t n, std::size_t align) override {
        live -= n;
        std::pmr::new_delete_resource()->deallocate(p, n, align);
    }
    bool do_is_equal(const std::pmr::memory_resource& o) const noexcept override { return this == &o; }
};

TEST(ByteArena, AppendedBytesStayWhereTheyAreAcrossBlocks) {
    CountingResource mr;
    {
        nz::ByteArena arena(&mr);
        std::vector<std::pair<const uint8_t*, std::vector<uint8_t>>> kept;
        for (int i = 0; i < 3000; ++i) {  // about 3 MB: several 1 MB blocks, and one item larger than a block
            std::vector<uint8_t> a(static_cast<std::size_t>(i % 7 == 0 ? 900 : 400 + i % 300), static_cast<uint8_t>(i));
            std::vector<uint8_t> b(static_cast<std::size_t>(i % 5), static_cast<uint8_t>(i * 3));
            if (i == 1500) a.assign(std::size_t{3} << 20, 0x5A);
            const uint8_t* at = arena.append(a.data(), a.size(), b.data(), b.size());
            std::vector<uint8_t> both(a);
            both.insert(both.end(), b.begin(), b.end());
            kept.emplace_back(at, both);
        }
        std::size_t total = 0;
        for (const auto& [at, bytes] : kept) {
            ASSERT_EQ(std::vector<uint8_t>(at, at + bytes.size()), bytes);
            total += bytes.size();
        }
        EXPECT_EQ(arena.size(), total);
        EXPECT_GT(mr.blocks, 3u);
    }
    EXPECT_EQ(mr.live, 0u);  // every block given back
}

TEST(ByteArena, EmptyAppendsStillHaveAnAddress) {
    nz::ByteArena arena(std::pmr::new_delete_resource());
    const uint8_t* at = arena.append(nullptr, 0, nullptr, 0);
    EXPECT_NE(at, nullptr);
    EXPECT_EQ(arena.size(), 0u);
}

}  // namespace
