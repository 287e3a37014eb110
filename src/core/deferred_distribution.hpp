// A latency distribution that stays one encoded value (a copy of its bytes)
// until something else is added to it.  A day of the dashboard read from
// rollup_days gets its whole distribution at once; its p95 is then read
// straight from the bytes, without building the distribution's tables and
// sorting them again (docs/rollups.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <vector>

#include "latency_distribution.hpp"

namespace nz {

class DeferredDistribution {
public:
    explicit DeferredDistribution(std::pmr::memory_resource* mr) : dist_(mr), bytes_(mr) {}

    // The distribution, built from the bytes first if it is still them.
    LatencyDistribution& built();
    // Adds an encoded distribution (validated here): kept as bytes when
    // nothing is in this one yet.
    void merge(const uint8_t* data, std::size_t len);
    void merge(const DeferredDistribution& other);

    uint64_t count() const { return deferred_ ? count_ : dist_.count(); }
    int64_t sum() const { return deferred_ ? sum_ : dist_.sum(); }
    // percentile_cont(p); false when empty.
    bool percentile(double p, double* out) const;
    // The binary form (EncodedDistribution's), into out (replaced).
    void encode(std::pmr::vector<uint8_t>& out) const;

private:
    // Nothing added yet: the next encoded distribution is kept as bytes.
    bool empty() const;
    // Keeps these bytes (checked before) as the whole distribution.
    void keep(const uint8_t* data, std::size_t len, uint64_t count, int64_t sum);

    LatencyDistribution dist_;
    std::pmr::vector<uint8_t> bytes_;
    bool deferred_ = false;
    uint64_t count_ = 0;
    int64_t sum_ = 0;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
