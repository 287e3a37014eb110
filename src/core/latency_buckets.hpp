// Latency buckets: edges e0 < e1 < ... < en-1 (all >= 0) split latencies into
// n+1 buckets: [0,e0) '<e0ms', [e(i-1),e(i)) 'e(i-1)-e(i)ms', [en-1,inf) '>en-1ms'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "json_writer.hpp"
#include "latency_distribution.hpp"

namespace nz {

constexpr std::size_t kMaxBucketEdges = 64;

// The default edges, {50, 100, 200, 500} ms: the one source of the contracts'
// buckets '<50ms', '50-100ms', '100-200ms', '200-500ms', '>500ms'.  SQL reads
// them from nezuko_analytics.default_latency_edges().
constexpr int32_t kDefaultBucketEdges[] = {50, 100, 200, 500};
constexpr std::size_t kDefaultBucketEdgeCount = sizeof kDefaultBucketEdges / sizeof kDefaultBucketEdges[0];

// Throws CoreError(invalid_argument) unless edges are non-empty (at most
// kMaxBucketEdges), strictly increasing and non-negative.
void validate_bucket_edges(const int32_t* edges, std::size_t n);

// Index of the bucket holding latency_ms (0..n).  Throws CoreError
// (invalid_argument) for a negative latency.
std::size_t bucket_index(const int32_t* edges, std::size_t n, int32_t latency_ms);

// bucket_index() for latencies given in increasing order (the keys of a
// distribution): each call moves on from the last bucket instead of
// searching every edge.
class AscendingBuckets {
public:
    AscendingBuckets(const int32_t* edges, std::size_t n) : edges_(edges), n_(n) {}
    std::size_t index(int32_t latency_ms) {
        if (latency_ms < 0) return bucket_index(edges_, n_, latency_ms);  // its error
        while (at_ < n_ && edges_[at_] <= latency_ms) ++at_;
        return at_;
    }

private:
    const int32_t* edges_;
    std::size_t n_;
    std::size_t at_ = 0;
};

// The counts of a distribution's values in each bucket (counts[0..n], added
// to); false, with counts unchanged, when a value is negative or a stored
// key stands for values on both sides of an edge (|v| >= 2^20 ms, where keys
// keep 20 significant bits): the caller then counts the rows themselves.
bool bucket_counts_of(const EncodedDistribution& dist, const int32_t* edges, std::size_t n, uint64_t* counts);

// The label of bucket i (0..n): '<50ms', '50-100ms', '>500ms'.
std::string bucket_label(const int32_t* edges, std::size_t n, std::size_t i);

// Writes [{"bucket":"<50ms","lower_ms":0,"upper_ms":50,"count":..}, ...]
// (upper_ms null for the last bucket) for counts[0..n].
void write_bucket_counts(JsonWriter& j, const int32_t* edges, std::size_t n, const uint64_t* counts);

}  // namespace nz

#include "pure_cpp_only.hpp"
