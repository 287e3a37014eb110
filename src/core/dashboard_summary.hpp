// The state of the one-pass dashboard: everything every chart needs from
// verification_log (VerificationSummary) and from api_call_log (ApiSummary),
// folded row by row, mergeable, with a binary form for parallel workers and a
// raw JSON document (counts, sums and exact percentiles; the SQL layer does
// the numeric rounding so every figure matches the plain-SQL contracts).
#pragma once

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <string>
#include <unordered_map>
#include <vector>

#include "deferred_distribution.hpp"
#include "group_counts.hpp"
#include "hourly_status_counts.hpp"
#include "latency_buckets.hpp"
#include "latency_distribution.hpp"
#include "local_time.hpp"
#include "verification_status.hpp"

namespace nz {

// The counts of verification_log in one quarter hour (its start in UTC
// microseconds), as the rollups keep them.
struct QuarterHourCounts {
    int64_t start = 0;
    uint64_t total = 0, verified = 0, restricted = 0, error = 0, cached = 0;
};

class VerificationSummary {
public:
    VerificationSummary(std::pmr::memory_resource* mr);

    void set_time_zone(const int64_t* pairs, std::size_t n_values) { tz_.assign(pairs, n_values); }
    TimeZoneSegments& time_zone() { return tz_; }
    void set_top_groups(uint64_t n) { top_groups_ = std::max(top_groups_, n); }
    // Rows at or after this time (UTC microseconds) are also counted as "recent".
    void set_recent_since(int64_t utc_micros) { recent_since_ = utc_micros; }
    bool has_time_zone() const { return !tz_.empty(); }

    void add(int64_t utc_micros, VerificationStatus status, bool has_latency, int32_t latency_ms, bool cached,
             int64_t group_id) {
        add_figures(utc_micros, status, has_latency, latency_ms, cached);
        add_group(group_id, 1, status == VerificationStatus::verified ? 1 : 0);
    }
    // The parts of add() on their own, for a window that takes some figures
    // from rollups (docs/rollups.md): a row counted in everything but the
    // groups, and counts added to one group.
    void add_figures(int64_t utc_micros, VerificationStatus status, bool has_latency, int32_t latency_ms, bool cached);
    void add_group(int64_t group_id, uint64_t count, uint64_t verified) { groups_.add(group_id, count, verified); }
    // A quarter hour of rollups: its counts, latencies and group counts,
    // placed as a row at its start would be (every zone's hours and days are
    // unions of quarter hours).  The groups must count every row of it.
    void add_quarter_hour(const QuarterHourCounts& counts, const EncodedDistribution& latencies,
                          const EncodedGroupCounts& groups);
    void merge(const VerificationSummary& other);
    // Every latency of the window (the local days' together).
    const LatencyDistribution& latencies() const { return latency_; }

    std::pmr::vector<uint8_t> encode() const;
    void merge_encoded(const uint8_t* data, std::size_t len);

    // Every figure by name (docs/dashboard.md lists them):
    // {"total","verified","restricted","error","cached","latency_count","latency_sum",
    //  "buckets":[{"bucket","lower_ms","upper_ms","count"} for the default edges],
    //  "p50","p95","p99" (exact, null without latencies),
    //  "hours":[{"hour","verified","restricted","error"} x 24] (local hours),
    //  "groups":[{"group_id","count","verified"}] (top_groups, most first, then by id),
    //  "days":[{"date":"YYYY-MM-DD","count","verified","cached","latency_count","latency_sum","p95"}] (local days),
    //  "recent":{"count","verified","cached","latency_count","latency_sum"} (rows at or after recent_since)}
    std::string raw_json() const;

private:
    struct Day {
        uint64_t count = 0, verified = 0, cached = 0;
        DeferredDistribution latency;  // a day of rollup_days: its bytes until more comes
        explicit Day(std::pmr::memory_resource* mr) : latency(mr) {}
    };
    struct RecentCounts {
        uint64_t count = 0, verified = 0, cached = 0, latency_count = 0, latency_sum = 0;
    };
    Day& day(int64_t local_day);

    std::pmr::memory_resource* mr_;
    TimeZoneSegments tz_;
    uint64_t top_groups_ = 0;
    int64_t recent_since_ = INT64_MAX;
    RecentCounts recent_;
    uint64_t total_ = 0, by_status_[4] = {0, 0, 0, 0}, cached_ = 0;
    uint64_t buckets_[kDefaultBucketEdgeCount + 1] = {};
    HourCounts hours_;
    LatencyDistribution latency_;
    GroupCountTable groups_;
    std::pmr::map<int64_t, Day> days_;
    int64_t last_day_key_ = INT64_MIN;
    Day* last_day_ = nullptr;
};

class ApiSummary {
public:
    explicit ApiSummary(std::pmr::memory_resource* mr);

    void add(const char* method, std::size_t method_len, int success /* 1, 0, -1 = NULL */, bool has_latency,
             int32_t latency_ms);
    // One method's quarter hour of rollups: its calls, successes, failures
    // and latencies.
    void add_counts(const char* method, std::size_t method_len, uint64_t calls, uint64_t ok, uint64_t failures,
                    const EncodedDistribution& latencies);
    void merge(const ApiSummary& other);
    // Every latency of the window (the methods' together).
    const LatencyDistribution& latencies() const { return latency_; }

    std::pmr::vector<uint8_t> encode() const;
    void merge_encoded(const uint8_t* data, std::size_t len);

    // {"calls","ok","failures","latency_count","latency_sum","p95",
    //  "methods":[{"method","calls","failures","ok","latency_count","latency_sum","p50","p95"}]
    //  (most calls first, then by method)}
    std::string raw_json() const;

private:
    struct Method {
        uint64_t calls = 0, failures = 0, ok = 0;
        LatencyDistribution latency;
        explicit Method(std::pmr::memory_resource* mr) : latency(mr) {}
    };
    Method& method(const char* name, std::size_t len);

    std::pmr::memory_resource* mr_;
    uint64_t calls_ = 0, failures_ = 0, ok_ = 0;
    LatencyDistribution latency_;
    std::pmr::map<std::pmr::string, Method> methods_;  // pmr strings: all memory from mr_
    std::pmr::string last_name_;
    Method* last_method_ = nullptr;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
