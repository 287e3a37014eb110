#include <gtest/gtest.h>

#include "core/core_error.hpp"
#include "core/latency_buckets.hpp"

namespace {

const int32_t kDefault[] = {50, 100, 200, 500};

TEST(LatencyBuckets, DefaultLabelsMatchTheContract) {
    EXPECT_EQ(nz::bucket_label(kDefault, 4, 0), "<50ms");
    EXPECT_EQ(nz::bucket_label(kDefault, 4, 1), "50-100ms");
    EXPECT_EQ(nz::bucket_label(kDefault, 4, 2), "100-200ms");
    EXPECT_EQ(nz::bucket_label(kDefault, 4, 3), "200-500ms");
    EXPECT_EQ(nz::bucket_label(kDefault, 4, 4), ">500ms");
}

TEST(LatencyBuckets, BucketsAreHalfOpenOnTheRight) {
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 0), 0u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 49), 0u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 50), 1u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 99), 1u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 100), 2u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 499), 3u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, 500), 4u);
    EXPECT_EQ(nz::bucket_index(kDefault, 4, INT32_MAX), 4u);
}

TEST(LatencyBuckets, OtherEdgesFollowThePattern) {
    const int32_t edges[] = {0, 10};
    EXPECT_EQ(nz::bucket_label(edges, 2, 0), "<0ms");
    EXPECT_EQ(nz::bucket_label(edges, 2, 1), "0-10ms");
    EXPECT_EQ(nz::bucket_label(edges, 2, 2), ">10ms");
    EXPECT_EQ(nz::bucket_index(edges, 2, 0), 1u);
}

void expect_invalid(const int32_t* edges, std::size_t n, const char* fragment) {
    try {
        nz::validate_bucket_edges(edges, n);
        ADD_FAILURE() << "no error for " << fragment;
    } catch (const nz::CoreError& e) {
        EXPECT_EQ(e.kind(), nz::ErrorKind::invalid_argument);
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

TEST(LatencyBuckets, BadEdgesAreRejected) {
    expect_invalid(kDefault, 0, "must not be empty");
    const int32_t unsorted[] = {50, 40};
    expect_invalid(unsorted, 2, "strictly increasing");
    const int32_t repeated[] = {50, 50};
    expect_invalid(repeated, 2, "strictly increasing");
    const int32_t negative[] = {-1, 50};
    expect_invalid(negative, 2, "must not be negative");
    int32_t many[nz::kMaxBucketEdges + 1];
    for (std::size_t i = 0; i <= nz::kMaxBucketEdges; ++i) many[i] = static_cast<int32_t>(i);
    expect_invalid(many, nz::kMaxBucketEdges + 1, "at most");
    EXPECT_NO_THROW(nz::validate_bucket_edges(many, nz::kMaxBucketEdges));
}

TEST(LatencyBuckets, NegativeLatencyIsAnError) {
    EXPECT_THROW(nz::bucket_index(kDefault, 4, -1), nz::CoreError);
    nz::AscendingBuckets buckets(kDefault, 4);
    EXPECT_THROW(buckets.index(-1), nz::CoreError);
}

// The cursor over increasing latencies finds every bucket as the search
// does: on the edges, between them, past the last, with repeats and gaps.
TEST(LatencyBuckets, AscendingCursorEqualsTheSearch) {
    const int32_t edges[] = {1, 2, 50, 100, 200, 500, 10000};
    for (int32_t step : {1, 3, 7, 49, 151, 2000}) {
        nz::AscendingBuckets buckets(edges, 7);
        for (int32_t v = 0; v < 30000; v += step) {
            EXPECT_EQ(buckets.index(v), nz::bucket_index(edges, 7, v)) << v;
            EXPECT_EQ(buckets.index(v), nz::bucket_index(edges, 7, v)) << "again " << v;
        }
        EXPECT_EQ(buckets.index(INT32_MAX), 7u);
    }
}

}  // namespace
