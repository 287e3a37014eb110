// An exact, mergeable distribution of integer latencies: counts per distinct
// value (counting, not sorting), so percentiles equal percentile_cont.
//
// Bound: values with |v| < 2^20 ms (about 17.5 minutes) are kept exactly;
// larger values keep their 20 most significant bits (rounded toward zero to
// a multiple of 2^(bits-20), a relative error below 2^-19).  So a
// distribution never holds more than ~13.6 million distinct keys (both signs),
// whatever the number of rows; real latency data holds a few thousand.
//
// Memory comes from a std::pmr::memory_resource, so the PostgreSQL layer can
// place it in an aggregate's memory context and unit tests can use new/delete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

#include "varint.hpp"

#include "core_error.hpp"

namespace nz {

constexpr int kExactBits = 20;                       // |v| < 2^20 is exact
constexpr int32_t kExactLimit = int32_t{1} << kExactBits;
constexpr uint8_t kDistributionFormat = 1;           // first byte of the binary form
constexpr int32_t kDenseLimit = 2048;                // 0 <= v < 2048 counted in a flat array ...
constexpr uint64_t kDenseAfter = 256;                // ... once a distribution holds this many values

// The key a value is counted under (the value itself below kExactLimit).
int32_t quantize_latency(int32_t v);
// How many original values share key k (1 for an exact key).
int64_t key_span(int32_t key);

// A validated, read-only view of the compact binary form:
//   u8 format (1) | varint n_keys | varint count | zigzag sum |
//   n_keys x (key: zigzag first key, then varint delta >= 1 | varint count >= 1)
class EncodedDistribution {
public:
    // Checks every field; throws CoreError(corrupt_value) on malformed,
    // truncated or inconsistent input.
    EncodedDistribution(const uint8_t* data, std::size_t len);
    // A view of bytes checked before (by the constructor, or by
    // LatencyDistribution::merge_encoded()) or written by
    // LatencyDistribution::encode_to(): only the header is read again.
    static EncodedDistribution trusted(const uint8_t* data, std::size_t len);

    uint64_t count() const { return count_; }
    int64_t sum() const { return sum_; }
    std::size_t distinct() const { return n_keys_; }

    // Calls f(key, count) for each key in increasing order.
    template <typename F>
    void for_each(F&& f) const;

    // percentile_cont(p) over the values; false when empty.  p must be in
    // [0, 1] (else CoreError(out_of_range)).
    bool percentile(double p, double* out) const;
    // mean = sum / count; false when empty.
    bool mean(double* out) const;
    // The lowest value (the first key, read alone); false when empty.  A
    // local day with a negative latency is refused by this (rollup_days).
    bool lowest(int32_t* out) const;

private:
    EncodedDistribution() = default;

    const uint8_t* body_ = nullptr;  // first key/count pair
    std::size_t body_len_ = 0;
    std::size_t n_keys_ = 0;
    uint64_t count_ = 0;
    int64_t sum_ = 0;
};

// The accumulator: add values, merge others, then encode.
class LatencyDistribution {
public:
    explicit LatencyDistribution(std::pmr::memory_resource* mr);

    void add(int32_t value);
    void merge(const LatencyDistribution& other);
    // Empty again, keeping its memory (an accumulator reused for many
    // distributions in turn).
    void clear();
    void merge(const EncodedDistribution& other);
    // merge(EncodedDistribution(data, len)) in one pass over the bytes: each
    // key is added as soon as it is checked.  On malformed bytes it throws
    // CoreError(corrupt_value) as the view's constructor does, this
    // distribution then partly merged (the error ends the statement, and the
    // distribution with it).
    void merge_encoded(const uint8_t* data, std::size_t len);
    // merge(other) into this and into also with one decoding of other;
    // visit(key, count) sees each key before it is added, in increasing order
    // (so a visit that refuses the first, lowest key changes nothing).
    template <typename Visit>
    void merge_into_both(const EncodedDistribution& other, LatencyDistribution& also, Visit&& visit);

    uint64_t count() const { return count_; }
    int64_t sum() const { return sum_; }
    std::size_t distinct() const { return used_ + dense_used_; }

    // Sorts the keys (into a scratch buffer: the distribution is unchanged)
    // and returns the size of the binary form; then encode_to() writes
    // exactly that many bytes.
    std::size_t prepare_encoding() const;
    void encode_to(uint8_t* out) const;

private:
    struct Slot {
        int32_t key;
        uint64_t count;  // 0 = empty slot
    };
    void add_key(int32_t key, uint64_t n);
    void add_sum(int64_t v);
    // a key into the hash table, its count not added to count_
    void insert_sparse(int32_t key, uint64_t n);
    // A merge of n values: the new count, checked once (no key's count can
    // then overflow), and the flat array made when it will be needed; then
    // add_merged_key() for each key, and count_ set to that count.
    uint64_t begin_merge(uint64_t n);
    // the flat array made if a distribution of total values has it
    void dense_for(uint64_t total);
    void add_merged_key(int32_t key, uint64_t n);
    void make_dense();
    void grow();
    std::size_t home(int32_t key) const;

    // Most latencies are small: a flat array for [0, kDenseLimit) and the hash
    // table for every other key.  The array (16 KB) is made only once the
    // distribution holds kDenseAfter values, so that many small groups (GROUP
    // BY user) stay small; its keys then move out of the hash table.
    std::pmr::vector<uint64_t> dense_;
    std::size_t dense_used_ = 0;
    std::pmr::vector<Slot> slots_;
    mutable std::pmr::vector<Slot> sorted_;  // scratch of prepare_encoding()
    std::size_t used_ = 0;
    unsigned log2_capacity_ = 0;
    uint64_t count_ = 0;
    int64_t sum_ = 0;
};

template <typename Visit>
void LatencyDistribution::merge_into_both(const EncodedDistribution& other, LatencyDistribution& also, Visit&& visit) {
    uint64_t total = begin_merge(other.count());
    uint64_t also_total = also.begin_merge(other.count());
    other.for_each([&](int32_t key, uint64_t c) {
        visit(key, c);
        add_merged_key(key, c);
        also.add_merged_key(key, c);
    });
    count_ = total;
    also.count_ = also_total;
    add_sum(other.sum());
    also.add_sum(other.sum());
}

template <typename F>
void EncodedDistribution::for_each(F&& f) const {
    // Already validated by the constructor.
    const uint8_t* p = body_;
    auto next = [&p]() { return varint_validated(p); };
    int64_t key = 0;
    for (std::size_t i = 0; i < n_keys_; ++i) {
        uint64_t k = next();
        key = i == 0 ? static_cast<int64_t>((k >> 1) ^ -(k & 1)) : key + static_cast<int64_t>(k);
        uint64_t c = next();
        f(static_cast<int32_t>(key), c);
    }
}

}  // namespace nz

#include "pure_cpp_only.hpp"
