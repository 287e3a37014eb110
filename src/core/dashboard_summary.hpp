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

#include "latency_distribution.hpp"
#include "quarter_hour_counts.hpp"

namespace nz {

constexpr int64_t kMicrosPerHour = int64_t{3600} * 1000 * 1000;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// UTC offsets of one time zone over a window: segment i starts at starts[i]
// (UTC microseconds) and has offset offsets[i]; the first segment covers
// everything before starts[1].
class TimeZoneSegments {
public:
    explicit TimeZoneSegments(std::pmr::memory_resource* mr) : starts_(mr), offsets_(mr) {}
    // pairs: start0, offset0, start1, offset1, ... with strictly increasing starts.
    void assign(const int64_t* pairs, std::size_t n_values);
    int64_t to_local(int64_t utc) const;
    bool empty() const { return starts_.empty(); }

private:
    std::pmr::vector<int64_t> starts_;
    std::pmr::vector<int64_t> offsets_;
    mutable std::size_t last_ = 0;
};

class VerificationSummary {
public:
    VerificationSummary(std::pmr::memory_resource* mr);

    void set_time_zone(const int64_t* pairs, std::size_t n_values) { tz_.assign(pairs, n_values); }
    void set_top_groups(uint64_t n) { top_groups_ = std::max(top_groups_, n); }
    // Rows at or after this time (UTC microseconds) are also counted as "recent".
    void set_recent_since(int64_t utc_micros) { recent_since_ = utc_micros; }
    bool has_time_zone() const { return !tz_.empty(); }

    void add(int64_t utc_micros, VerificationStatus status, bool has_latency, int32_t latency_ms, bool cached,
             int64_t group_id);
    void merge(const VerificationSummary& other);

    std::pmr::vector<uint8_t> encode() const;
    void merge_encoded(const uint8_t* data, std::size_t len);

    // {"total":..,"verified":..,"restricted":..,"error":..,"cached":..,"latency_count":..,"latency_sum":..,
    //  "buckets":[5],"p50":..,"p95":..,"p99":..,"hours":[[v,r,e] x 24],
    //  "groups":[[group_id,count,verified],...] (top_groups, most first, then by id),
    //  "days":[[local_day,count,verified,cached,latency_count,latency_sum,p95],...],
    //  "recent":[count,verified,cached,latency_count,latency_sum]}
    std::string raw_json() const;

private:
    struct Day {
        uint64_t count = 0, verified = 0, cached = 0;
        LatencyDistribution latency;
        explicit Day(std::pmr::memory_resource* mr) : latency(mr) {}
    };
    struct GroupCounts {
        uint64_t count = 0, verified = 0;
    };
    Day& day(int64_t local_day);

    std::pmr::memory_resource* mr_;
    TimeZoneSegments tz_;
    uint64_t top_groups_ = 0;
    int64_t recent_since_ = INT64_MAX;
    uint64_t recent_[5] = {0, 0, 0, 0, 0};  // count, verified, cached, latency_count, latency_sum
    uint64_t total_ = 0, by_status_[4] = {0, 0, 0, 0}, cached_ = 0;
    uint64_t buckets_[5] = {0, 0, 0, 0, 0};
    uint64_t hours_[24][kCountedStatuses] = {};
    LatencyDistribution latency_;
    std::pmr::unordered_map<int64_t, GroupCounts> groups_;
    std::pmr::map<int64_t, Day> days_;
    int64_t last_day_key_ = INT64_MIN;
    Day* last_day_ = nullptr;
};

class ApiSummary {
public:
    explicit ApiSummary(std::pmr::memory_resource* mr);

    void add(const char* method, std::size_t method_len, int success /* 1, 0, -1 = NULL */, bool has_latency,
             int32_t latency_ms);
    void merge(const ApiSummary& other);

    std::pmr::vector<uint8_t> encode() const;
    void merge_encoded(const uint8_t* data, std::size_t len);

    // {"calls":..,"ok":..,"failures":..,"latency_count":..,"latency_sum":..,
    //  "methods":[[method,calls,failures,ok,latency_count,latency_sum,p50,p95],...] (most calls first, then by method)}
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
