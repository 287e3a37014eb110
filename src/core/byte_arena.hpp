// Bytes appended and never moved, in blocks of a memory resource: what a
// RollupBuilder keeps of its sealed quarter hours (their final binary
// forms).  A vector copied every byte it held each time it grew; the
// leader of a parallel build grew it by a whole worker's run at a time,
// copying the runs before it again and touching fresh pages for each copy.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <utility>
#include <vector>

namespace nz {

class ByteArena {
public:
    explicit ByteArena(std::pmr::memory_resource* mr) : mr_(mr), blocks_(mr) {}
    ByteArena(const ByteArena&) = delete;
    ByteArena& operator=(const ByteArena&) = delete;
    ~ByteArena() {
        for (const auto& [data, size] : blocks_) mr_->deallocate(data, size, 1);
    }

    // Copies a[0..a_len) then b[0..b_len) next to each other; the address
    // of the first byte, good for the arena's life.
    const uint8_t* append(const uint8_t* a, std::size_t a_len, const uint8_t* b, std::size_t b_len) {
        std::size_t n = a_len + b_len;
        if (n > left_ || at_ == nullptr) {
            std::size_t size = std::max(kBlock, n);
            blocks_.reserve(blocks_.size() + 1);  // before the block: no leak if this throws
            at_ = static_cast<uint8_t*>(mr_->allocate(size, 1));
            blocks_.emplace_back(at_, size);
            left_ = size;
        }
        uint8_t* out = at_;
        if (a_len != 0) std::memcpy(out, a, a_len);
        if (b_len != 0) std::memcpy(out + a_len, b, b_len);
        at_ += n;
        left_ -= n;
        used_ += n;
        return out;
    }
    // The bytes appended so far.
    std::size_t size() const { return used_; }

private:
    static constexpr std::size_t kBlock = std::size_t{1} << 20;
    std::pmr::memory_resource* mr_;
    std::pmr::vector<std::pair<uint8_t*, std::size_t>> blocks_;
    uint8_t* at_ = nullptr;
    std::size_t left_ = 0, used_ = 0;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
