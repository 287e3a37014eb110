// The group counts of one quarter hour of rollups (docs/rollups.md): per
// group, its rows and its verified rows.  A compact binary form, kept in
// rollup_verifications.groups:
//   u8 format (1) | varint n |
//   n x (id: zigzag first id, then varint delta >= 1 | varint total >= 1 | varint verified <= total)
// Ids are sorted, so a quarter hour of 600 groups with close ids takes about
// 4 bytes a group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <vector>

#include "varint.hpp"

namespace nz {

constexpr uint8_t kGroupCountsFormat = 1;

struct GroupCount {
    int64_t group_id = 0;
    uint64_t total = 0, verified = 0;
};

// The counts of many groups, summed by id: a flat open-addressing table (a
// quarter hour's 600 groups stay in a few cache lines' reach of each other).
class GroupCountTable {
public:
    explicit GroupCountTable(std::pmr::memory_resource* mr) : slots_(mr) {}

    void add(int64_t group_id, uint64_t total, uint64_t verified);
    void merge(const GroupCountTable& other);
    // Empty again, its memory given back.
    void release() {
        std::pmr::vector<Slot>(slots_.get_allocator()).swap(slots_);
        used_ = 0;
    }
    std::size_t size() const { return used_; }
    // The counts by increasing id (replaces out's contents).
    void sorted(std::pmr::vector<GroupCount>& out) const;
    // f(group_id, total, verified) for each group, in no order.
    template <typename F>
    void for_each(F&& f) const {
        for (const Slot& s : slots_)
            if (s.total != 0) f(s.group_id, s.total, s.verified);
    }

private:
    struct Slot {
        int64_t group_id;
        uint64_t total;  // 0: a free slot
        uint64_t verified;
    };
    void grow(std::size_t at_least);

    std::pmr::vector<Slot> slots_;
    std::size_t used_ = 0;
};

// Appends the binary form of counts[0..n) (distinct ids in increasing order,
// total >= 1, verified <= total; else CoreError(invalid_argument)) to out.
void encode_group_counts(const GroupCount* counts, std::size_t n, std::pmr::vector<uint8_t>& out);

// A validated, read-only view of the binary form.
class EncodedGroupCounts {
public:
    // Checks every field; throws CoreError(corrupt_value) on malformed,
    // truncated or inconsistent input.
    EncodedGroupCounts(const uint8_t* data, std::size_t len);

    std::size_t size() const { return n_; }
    uint64_t total() const { return total_; }
    uint64_t verified() const { return verified_; }

    // Calls f(group_id, total, verified) for each group, by increasing id.
    template <typename F>
    void for_each(F&& f) const;

private:
    const uint8_t* body_;
    std::size_t n_ = 0;
    uint64_t total_ = 0, verified_ = 0;
};

// [{"group_id","total","verified"}] by increasing id: the binary form for
// people and tests (rollup_groups()).
std::string group_counts_json(const EncodedGroupCounts& groups);

template <typename F>
void EncodedGroupCounts::for_each(F&& f) const {
    // Already validated by the constructor.
    const uint8_t* p = body_;
    auto next = [&p]() { return varint_validated(p); };
    uint64_t id = 0;  // two's complement arithmetic: validated not to leave int64
    for (std::size_t i = 0; i < n_; ++i) {
        uint64_t k = next();
        id = i == 0 ? static_cast<uint64_t>(static_cast<int64_t>(k >> 1) ^ -static_cast<int64_t>(k & 1)) : id + k;
        uint64_t total = next();
        uint64_t verified = next();
        f(static_cast<int64_t>(id), total, verified);
    }
}

}  // namespace nz

#include "pure_cpp_only.hpp"
