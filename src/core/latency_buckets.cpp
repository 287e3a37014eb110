#include "latency_buckets.hpp"

#include <algorithm>

#include "core_error.hpp"
#include "pure_cpp_only.hpp"

namespace nz {

void validate_bucket_edges(const int32_t* edges, std::size_t n) {
    if (n == 0)
        throw CoreError(ErrorKind::invalid_argument, "latency bucket edges must not be empty");
    if (n > kMaxBucketEdges)
        throw CoreError(ErrorKind::invalid_argument,
                        "at most " + std::to_string(kMaxBucketEdges) + " latency bucket edges are allowed, got " +
                            std::to_string(n));
    for (std::size_t i = 0; i < n; ++i) {
        if (edges[i] < 0)
            throw CoreError(ErrorKind::invalid_argument,
                            "latency bucket edges must not be negative, got " + std::to_string(edges[i]));
        if (i > 0 && edges[i] <= edges[i - 1])
            throw CoreError(ErrorKind::invalid_argument,
                            "latency bucket edges must be strictly increasing, got " + std::to_string(edges[i - 1]) +
                                " then " + std::to_string(edges[i]));
    }
}

std::size_t bucket_index(const int32_t* edges, std::size_t n, int32_t latency_ms) {
    if (latency_ms < 0)
        throw CoreError(ErrorKind::invalid_argument,
                        "latency must not be negative, got " + std::to_string(latency_ms) + " ms");
    // First edge greater than the latency: buckets are [lower, upper).
    return static_cast<std::size_t>(std::upper_bound(edges, edges + n, latency_ms) - edges);
}

std::string bucket_label(const int32_t* edges, std::size_t n, std::size_t i) {
    if (i == 0)
        return "<" + std::to_string(edges[0]) + "ms";
    if (i >= n)
        return ">" + std::to_string(edges[n - 1]) + "ms";
    return std::to_string(edges[i - 1]) + "-" + std::to_string(edges[i]) + "ms";
}

void write_bucket_counts(JsonWriter& j, const int32_t* edges, std::size_t n, const uint64_t* counts) {
    j.begin_array();
    for (std::size_t i = 0; i <= n; ++i) {
        std::string label = bucket_label(edges, n, i);
        j.begin_object().key("bucket").string(label.data(), label.size());
        j.key("lower_ms").integer(i == 0 ? 0 : edges[i - 1]);
        j.key("upper_ms");
        if (i < n) j.integer(edges[i]); else j.null();
        j.key("count").unsigned_integer(counts[i]).end_object();
    }
    j.end_array();
}

bool bucket_counts_of(const EncodedDistribution& dist, const int32_t* edges, std::size_t n, uint64_t* counts) {
    bool exact = true;
    dist.for_each([&](int32_t key, uint64_t) {
        if (key < 0) exact = false;
        else if (key_span(key) > 1 && bucket_index(edges, n, key) != bucket_index(edges, n, static_cast<int32_t>(std::min<int64_t>(
                                                                               INT32_MAX, int64_t{key} + key_span(key) - 1))))
            exact = false;
    });
    if (!exact) return false;
    AscendingBuckets buckets(edges, n);
    dist.for_each([&](int32_t key, uint64_t c) { counts[buckets.index(key)] += c; });
    return true;
}

}  // namespace nz
