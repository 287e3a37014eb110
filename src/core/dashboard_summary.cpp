#include "dashboard_summary.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "byte_buffer.hpp"
#include "json_writer.hpp"
#include "latency_buckets.hpp"
#include "pure_cpp_only.hpp"

namespace nz {

namespace {

void write_dist(ByteWriter& w, const LatencyDistribution& d) {
    std::pmr::vector<uint8_t> buf(d.prepare_encoding(), w.bytes().get_allocator());
    d.encode_to(buf.data());
    w.raw(buf.data(), buf.size());
}

void read_dist(StateReader& r, LatencyDistribution& into) {
    std::size_t len = 0;
    const uint8_t* p = r.raw("latency distribution", &len);
    into.merge_encoded(p, len);
}

// Percentiles of an accumulator as keyed numbers (null when empty); it is
// encoded once to reuse the exact arithmetic.
void percentiles_json(JsonWriter& j, const LatencyDistribution& d, std::initializer_list<std::pair<const char*, double>> ps,
                      std::pmr::memory_resource* mr) {
    std::pmr::vector<uint8_t> buf(mr);
    if (d.count() != 0) {
        buf.resize(d.prepare_encoding());
        d.encode_to(buf.data());
    }
    for (const auto& [name, p] : ps) {
        j.key(name);
        double v = 0;
        if (d.count() != 0 && EncodedDistribution::trusted(buf.data(), buf.size()).percentile(p, &v))
            j.number(v);
        else
            j.null();
    }
}

[[noreturn]] void bad_state(const char* why) {
    throw CoreError(ErrorKind::corrupt_value, std::string("invalid dashboard aggregate state: ") + why);
}

// The counts of a RecentCounts, in one order for encode and decode.
template <typename Recent, typename F>
void each_recent(Recent& r, F&& f) {
    f(r.count);
    f(r.verified);
    f(r.cached);
    f(r.latency_count);
    f(r.latency_sum);
}

}  // namespace

// ---------------------------------------------------------------- verification_log

VerificationSummary::VerificationSummary(std::pmr::memory_resource* mr)
    : mr_(mr), tz_(mr), latency_(mr), groups_(mr), days_(mr) {}

VerificationSummary::Day& VerificationSummary::day(int64_t local_day) {
    if (last_day_ != nullptr && last_day_key_ == local_day) return *last_day_;
    auto it = days_.find(local_day);
    if (it == days_.end()) it = days_.emplace(std::piecewise_construct, std::forward_as_tuple(local_day),
                                              std::forward_as_tuple(mr_)).first;
    last_day_key_ = local_day;
    last_day_ = &it->second;
    return it->second;
}

void VerificationSummary::add_figures(int64_t utc_micros, VerificationStatus status, bool has_latency, int32_t latency_ms,
                                      bool cached) {
    ++total_;
    int st = static_cast<int>(status);
    ++by_status_[st];
    if (cached) ++cached_;
    LocalDayHour local = tz_.local_day_hour(utc_micros);
    hours_.add(local.hour, status);
    Day& d = day(local.day);
    ++d.count;
    if (status == VerificationStatus::verified) ++d.verified;
    if (cached) ++d.cached;
    if (has_latency) {
        if (latency_ms < 0)
            throw CoreError(ErrorKind::invalid_argument,
                            "latency must not be negative, got " + std::to_string(latency_ms) + " ms");
        ++buckets_[bucket_index(kDefaultBucketEdges, kDefaultBucketEdgeCount, latency_ms)];
        latency_.add(latency_ms);
        d.latency.built().add(latency_ms);
    }
    if (utc_micros >= recent_since_) {
        ++recent_.count;
        if (status == VerificationStatus::verified) ++recent_.verified;
        if (cached) ++recent_.cached;
        if (has_latency) {
            ++recent_.latency_count;
            recent_.latency_sum += static_cast<uint64_t>(static_cast<int64_t>(latency_ms));  // latency_ms >= 0 here
        }
    }
}

void VerificationSummary::add_quarter_hour(const QuarterHourCounts& c, const EncodedDistribution& latencies,
                                           const EncodedGroupCounts& groups) {
    uint64_t counted = c.verified + c.restricted + c.error;
    if (counted > c.total || c.cached > c.total || latencies.count() > c.total)
        throw CoreError(ErrorKind::invalid_argument, "a quarter hour of rollups has more rows by status, cached or "
                                                     "with a latency than rows");
    if (groups.total() != c.total || groups.verified() != c.verified)
        throw CoreError(ErrorKind::invalid_argument, "the group counts of a quarter hour of rollups do not add up to "
                                                     "its rows");
    groups.for_each([&](int64_t id, uint64_t total, uint64_t verified) { add_group(id, total, verified); });
    LocalDayHour local = tz_.local_day_hour(c.start);
    Day& d = day(local.day);
    // one decoding: the buckets, the window's and the day's distributions
    // (a negative key is the lowest: refused before anything is added)
    AscendingBuckets buckets(kDefaultBucketEdges, kDefaultBucketEdgeCount);  // the keys come in increasing order
    latency_.merge_into_both(latencies, d.latency.built(), [&](int32_t key, uint64_t n) {
        if (key < 0)
            throw CoreError(ErrorKind::invalid_argument, "latency must not be negative, got " + std::to_string(key) + " ms");
        buckets_[buckets.index(key)] += n;
    });
    total_ += c.total;
    by_status_[static_cast<int>(VerificationStatus::verified)] += c.verified;
    by_status_[static_cast<int>(VerificationStatus::restricted)] += c.restricted;
    by_status_[static_cast<int>(VerificationStatus::error)] += c.error;
    by_status_[static_cast<int>(VerificationStatus::other)] += c.total - counted;
    cached_ += c.cached;
    hours_.counts[local.hour][static_cast<int>(VerificationStatus::verified)] += c.verified;
    hours_.counts[local.hour][static_cast<int>(VerificationStatus::restricted)] += c.restricted;
    hours_.counts[local.hour][static_cast<int>(VerificationStatus::error)] += c.error;
    d.count += c.total;
    d.verified += c.verified;
    d.cached += c.cached;
    if (c.start >= recent_since_) {  // the caller reads a quarter hour that recent_since cuts from raw rows
        recent_.count += c.total;
        recent_.verified += c.verified;
        recent_.cached += c.cached;
        recent_.latency_count += latencies.count();
        recent_.latency_sum += static_cast<uint64_t>(latencies.sum());
    }
}

void VerificationSummary::merge(const VerificationSummary& o) {
    set_top_groups(o.top_groups_);
    recent_.count += o.recent_.count;
    recent_.verified += o.recent_.verified;
    recent_.cached += o.recent_.cached;
    recent_.latency_count += o.recent_.latency_count;
    recent_.latency_sum += o.recent_.latency_sum;
    total_ += o.total_;
    for (int i = 0; i < 4; ++i) by_status_[i] += o.by_status_[i];
    cached_ += o.cached_;
    for (std::size_t i = 0; i <= kDefaultBucketEdgeCount; ++i) buckets_[i] += o.buckets_[i];
    hours_.merge(o.hours_);
    latency_.merge(o.latency_);
    groups_.merge(o.groups_);
    for (const auto& [key, od] : o.days_) {
        Day& d = day(key);
        d.count += od.count;
        d.verified += od.verified;
        d.cached += od.cached;
        d.latency.merge(od.latency);
    }
}

std::pmr::vector<uint8_t> VerificationSummary::encode() const {
    ByteWriter w(mr_);
    std::pmr::vector<uint8_t> day_bytes(mr_);
    w.u(top_groups_);
    each_recent(recent_, [&](uint64_t v) { w.u(v); });
    w.u(total_);
    for (uint64_t v : by_status_) w.u(v);
    w.u(cached_);
    for (uint64_t v : buckets_) w.u(v);
    for (const auto& h : hours_.counts)
        for (uint64_t v : h) w.u(v);
    write_dist(w, latency_);
    w.u(groups_.size());
    groups_.for_each([&](int64_t id, uint64_t count, uint64_t verified) {
        w.s(id);
        w.u(count);
        w.u(verified);
    });
    w.u(days_.size());
    for (const auto& [key, d] : days_) {
        w.s(key);
        w.u(d.count);
        w.u(d.verified);
        w.u(d.cached);
        d.latency.encode(day_bytes);
        w.raw(day_bytes.data(), day_bytes.size());
    }
    return w.bytes();
}

void VerificationSummary::merge_encoded(const uint8_t* data, std::size_t len) {
    StateReader r(data, len);
    set_top_groups(r.u("top groups"));
    each_recent(recent_, [&](uint64_t& v) { v += r.u("recent"); });
    total_ += r.u("total");
    for (uint64_t& v : by_status_) v += r.u("status count");
    cached_ += r.u("cached");
    for (uint64_t& v : buckets_) v += r.u("bucket");
    for (auto& h : hours_.counts)
        for (uint64_t& v : h) v += r.u("hour");
    read_dist(r, latency_);
    uint64_t n_groups = r.u("groups");
    for (uint64_t i = 0; i < n_groups; ++i) {
        int64_t id = r.s("group id");
        uint64_t count = r.u("group count");
        uint64_t verified = r.u("group verified");
        if (count == 0 || verified > count) bad_state("a group without rows or with more verified rows than rows");
        groups_.add(id, count, verified);
    }
    uint64_t n_days = r.u("days");
    for (uint64_t i = 0; i < n_days; ++i) {
        Day& d = day(r.s("day"));
        d.count += r.u("day count");
        d.verified += r.u("day verified");
        d.cached += r.u("day cached");
        std::size_t len = 0;
        const uint8_t* p = r.raw("latency distribution", &len);
        d.latency.merge(p, len);
    }
    if (!r.at_end()) bad_state("bytes follow the last day");
}

std::string VerificationSummary::raw_json() const {
    JsonWriter j;
    j.begin_object();
    j.key("total").unsigned_integer(total_);
    j.key("verified").unsigned_integer(by_status_[static_cast<int>(VerificationStatus::verified)]);
    j.key("restricted").unsigned_integer(by_status_[static_cast<int>(VerificationStatus::restricted)]);
    j.key("error").unsigned_integer(by_status_[static_cast<int>(VerificationStatus::error)]);
    j.key("cached").unsigned_integer(cached_);
    j.key("latency_count").unsigned_integer(latency_.count());
    j.key("latency_sum").integer(latency_.sum());
    j.key("buckets");
    write_bucket_counts(j, kDefaultBucketEdges, kDefaultBucketEdgeCount, buckets_);
    percentiles_json(j, latency_, {{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}}, mr_);
    j.key("hours");
    hours_.write_json(j);
    // Top groups: most verifications first, ties by group id.
    std::pmr::vector<GroupCount> groups(mr_);
    groups.reserve(groups_.size());
    groups_.for_each([&](int64_t id, uint64_t count, uint64_t verified) { groups.push_back({id, count, verified}); });
    auto better = [](const GroupCount& a, const GroupCount& b) {
        return a.total != b.total ? a.total > b.total : a.group_id < b.group_id;
    };
    std::size_t n = std::min(static_cast<std::size_t>(top_groups_), groups.size());
    std::partial_sort(groups.begin(), groups.begin() + static_cast<long>(n), groups.end(), better);
    j.key("groups").begin_array();
    for (std::size_t i = 0; i < n; ++i) {
        j.begin_object().key("group_id").integer(groups[i].group_id);
        j.key("count").unsigned_integer(groups[i].total);
        j.key("verified").unsigned_integer(groups[i].verified).end_object();
    }
    j.end_array();
    j.key("days").begin_array();
    for (const auto& [key, d] : days_) {
        std::string date = civil_date(key);
        j.begin_object().key("date").string(date.data(), date.size());
        j.key("count").unsigned_integer(d.count);
        j.key("verified").unsigned_integer(d.verified);
        j.key("cached").unsigned_integer(d.cached);
        j.key("latency_count").unsigned_integer(d.latency.count());
        j.key("latency_sum").integer(d.latency.sum());
        j.key("p95");
        double p95 = 0;
        if (d.latency.percentile(0.95, &p95))
            j.number(p95);
        else
            j.null();
        j.end_object();
    }
    j.end_array();
    j.key("recent").begin_object();
    j.key("count").unsigned_integer(recent_.count);
    j.key("verified").unsigned_integer(recent_.verified);
    j.key("cached").unsigned_integer(recent_.cached);
    j.key("latency_count").unsigned_integer(recent_.latency_count);
    j.key("latency_sum").unsigned_integer(recent_.latency_sum);
    j.end_object();
    j.end_object();
    return std::move(j.out());
}

// ---------------------------------------------------------------- api_call_log

ApiSummary::ApiSummary(std::pmr::memory_resource* mr) : mr_(mr), latency_(mr), methods_(mr), last_name_(mr) {}

ApiSummary::Method& ApiSummary::method(const char* name, std::size_t len) {
    if (last_method_ != nullptr && last_name_.size() == len && std::memcmp(last_name_.data(), name, len) == 0)
        return *last_method_;
    std::pmr::string key(name, len, mr_);
    auto it = methods_.find(key);
    if (it == methods_.end())
        it = methods_.emplace(std::piecewise_construct, std::forward_as_tuple(key), std::forward_as_tuple(mr_)).first;
    last_name_.assign(name, len);
    last_method_ = &it->second;
    return it->second;
}

void ApiSummary::add(const char* name, std::size_t len, int success, bool has_latency, int32_t latency_ms) {
    Method& m = method(name, len);
    ++calls_;
    ++m.calls;
    if (success == 0) { ++failures_; ++m.failures; }
    if (success == 1) { ++ok_; ++m.ok; }
    if (has_latency) {
        latency_.add(latency_ms);
        m.latency.add(latency_ms);
    }
}

void ApiSummary::add_counts(const char* name, std::size_t len, uint64_t calls, uint64_t ok, uint64_t failures,
                            const EncodedDistribution& latencies) {
    if (ok + failures > calls || latencies.count() > calls)
        throw CoreError(ErrorKind::invalid_argument, "a quarter hour of rollups has more successes, failures or "
                                                     "latencies than calls");
    Method& m = method(name, len);
    calls_ += calls;
    m.calls += calls;
    ok_ += ok;
    m.ok += ok;
    failures_ += failures;
    m.failures += failures;
    latency_.merge_into_both(latencies, m.latency, [](int32_t, uint64_t) {});
}

void ApiSummary::merge(const ApiSummary& o) {
    calls_ += o.calls_;
    failures_ += o.failures_;
    ok_ += o.ok_;
    latency_.merge(o.latency_);
    for (const auto& [name, om] : o.methods_) {
        Method& m = method(name.data(), name.size());
        m.calls += om.calls;
        m.failures += om.failures;
        m.ok += om.ok;
        m.latency.merge(om.latency);
    }
}

std::pmr::vector<uint8_t> ApiSummary::encode() const {
    ByteWriter w(mr_);
    w.u(calls_);
    w.u(failures_);
    w.u(ok_);
    write_dist(w, latency_);
    w.u(methods_.size());
    for (const auto& [name, m] : methods_) {
        w.raw(reinterpret_cast<const uint8_t*>(name.data()), name.size());
        w.u(m.calls);
        w.u(m.failures);
        w.u(m.ok);
        write_dist(w, m.latency);
    }
    return w.bytes();
}

void ApiSummary::merge_encoded(const uint8_t* data, std::size_t len) {
    StateReader r(data, len);
    calls_ += r.u("calls");
    failures_ += r.u("failures");
    ok_ += r.u("ok");
    read_dist(r, latency_);
    uint64_t n = r.u("methods");
    for (uint64_t i = 0; i < n; ++i) {
        std::size_t name_len = 0;
        const uint8_t* name = r.raw("method name", &name_len);
        Method& m = method(reinterpret_cast<const char*>(name), name_len);
        m.calls += r.u("method calls");
        m.failures += r.u("method failures");
        m.ok += r.u("method ok");
        read_dist(r, m.latency);
    }
    if (!r.at_end()) bad_state("bytes follow the last method");
}

std::string ApiSummary::raw_json() const {
    JsonWriter j;
    j.begin_object();
    j.key("calls").unsigned_integer(calls_);
    j.key("ok").unsigned_integer(ok_);
    j.key("failures").unsigned_integer(failures_);
    j.key("latency_count").unsigned_integer(latency_.count());
    j.key("latency_sum").integer(latency_.sum());
    percentiles_json(j, latency_, {{"p95", 0.95}}, mr_);
    std::pmr::vector<std::pair<const std::pmr::string*, const Method*>> order(mr_);
    for (const auto& [name, m] : methods_) order.emplace_back(&name, &m);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.second->calls > b.second->calls; });  // ties: by name (map order)
    j.key("methods").begin_array();
    for (const auto& [name, m] : order) {
        j.begin_object().key("method").string(name->data(), name->size());
        j.key("calls").unsigned_integer(m->calls);
        j.key("failures").unsigned_integer(m->failures);
        j.key("ok").unsigned_integer(m->ok);
        j.key("latency_count").unsigned_integer(m->latency.count());
        j.key("latency_sum").integer(m->latency.sum());
        percentiles_json(j, m->latency, {{"p50", 0.5}, {"p95", 0.95}}, mr_);
        j.end_object();
    }
    j.end_array();
    j.end_object();
    return std::move(j.out());
}

}  // namespace nz
