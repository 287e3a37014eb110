#include "rollup_builder.hpp"

#include <algorithm>
#include <string>

#include "byte_buffer.hpp"
#include "core_error.hpp"

namespace nz {

RollupBuilder::Cell& RollupBuilder::cell(int64_t start, const char* method, std::size_t len) {
    auto& list = cells_.try_emplace(start).first->second;  // the vector takes the map's resource
    for (Cell& c : list)
        if (c.method.size() == len && c.method.compare(0, len, method, len) == 0) return c;
    list.emplace_back(method, len, mr_);
    ++cell_count_;
    return list.back();
}

void RollupBuilder::add_verification(int64_t t, VerificationStatus status, bool has_latency, int32_t latency_ms,
                                      bool cached, int64_t group_id) {
    Cell& c = cell(quarter_hour_start(t), "", 0);
    c.groups.add(group_id, 1, status == VerificationStatus::verified ? 1 : 0);
    ++c.counts.total;
    if (status == VerificationStatus::verified) ++c.counts.verified;
    if (status == VerificationStatus::restricted) ++c.counts.restricted;
    if (status == VerificationStatus::error) ++c.counts.error;
    if (cached) ++c.counts.cached;
    if (has_latency) {
        ++c.counts.latency_count;
        c.counts.latency_sum += latency_ms;
        c.latencies.push_back(latency_ms);
    }
}

void RollupBuilder::merge(const RollupBuilder& o) {
    for (const auto& [start, list] : o.cells_) {
        for (const Cell& oc : list) {
            Cell& c = cell(start, oc.method.data(), oc.method.size());
            c.counts.total += oc.counts.total;
            c.counts.verified += oc.counts.verified;
            c.counts.restricted += oc.counts.restricted;
            c.counts.error += oc.counts.error;
            c.counts.cached += oc.counts.cached;
            c.counts.ok += oc.counts.ok;
            c.counts.failures += oc.counts.failures;
            c.counts.latency_count += oc.counts.latency_count;
            c.counts.latency_sum += oc.counts.latency_sum;
            c.latencies.insert(c.latencies.end(), oc.latencies.begin(), oc.latencies.end());
            c.groups.merge(oc.groups);
        }
    }
}

std::pmr::vector<uint8_t> RollupBuilder::encode() const {
    ByteWriter w(mr_);
    std::pmr::vector<GroupCount> groups(mr_);
    w.u(cell_count_);
    for (const auto& [start, list] : cells_) {
        for (const Cell& c : list) {
            w.s(start);
            w.raw(reinterpret_cast<const uint8_t*>(c.method.data()), c.method.size());
            for (uint64_t v : {c.counts.total, c.counts.verified, c.counts.restricted, c.counts.error, c.counts.cached,
                               c.counts.ok, c.counts.failures, c.counts.latency_count})
                w.u(v);
            w.s(c.counts.latency_sum);
            w.u(c.latencies.size());
            for (int32_t v : c.latencies) w.s(v);
            groups.clear();
            if (c.groups.size() != 0) c.groups.sorted(groups);
            w.u(groups.size());
            for (const GroupCount& g : groups) {
                w.s(g.group_id);
                w.u(g.total);
                w.u(g.verified);
            }
        }
    }
    return std::pmr::vector<uint8_t>(w.bytes(), mr_);
}

void RollupBuilder::merge_encoded(const uint8_t* data, std::size_t len) {
    StateReader r(data, len);
    auto count = [](uint64_t v, const char* what) {
        if (v > (uint64_t{1} << 62)) throw CoreError(ErrorKind::corrupt_value, std::string("rollup state: bad ") + what);
        return v;
    };
    uint64_t n = count(r.u("cells"), "cell count");
    for (uint64_t i = 0; i < n; ++i) {
        int64_t start = r.s("start");
        std::size_t method_len = 0;
        const uint8_t* method = r.raw("method", &method_len);
        Cell& c = cell(start, reinterpret_cast<const char*>(method), method_len);
        RollupCounts add;
        add.total = count(r.u("total"), "total");
        add.verified = count(r.u("verified"), "verified");
        add.restricted = count(r.u("restricted"), "restricted");
        add.error = count(r.u("error"), "error");
        add.cached = count(r.u("cached"), "cached");
        add.ok = count(r.u("ok"), "ok");
        add.failures = count(r.u("failures"), "failures");
        add.latency_count = count(r.u("latency_count"), "latency_count");
        add.latency_sum = r.s("latency_sum");
        uint64_t values = count(r.u("latencies"), "latency count");
        if (values != add.latency_count)
            throw CoreError(ErrorKind::corrupt_value, "rollup state: the latencies do not match their count");
        c.counts.total += add.total;
        c.counts.verified += add.verified;
        c.counts.restricted += add.restricted;
        c.counts.error += add.error;
        c.counts.cached += add.cached;
        c.counts.ok += add.ok;
        c.counts.failures += add.failures;
        c.counts.latency_count += add.latency_count;
        c.counts.latency_sum += add.latency_sum;
        for (uint64_t k = 0; k < values; ++k) {
            int64_t v = r.s("latency");
            if (v < INT32_MIN || v > INT32_MAX) throw CoreError(ErrorKind::corrupt_value, "rollup state: bad latency");
            c.latencies.push_back(static_cast<int32_t>(v));
        }
        uint64_t groups = count(r.u("groups"), "group count");
        if (groups > r.remaining() / 3) throw CoreError(ErrorKind::corrupt_value, "rollup state: bad group count");
        uint64_t group_rows = 0, group_verified = 0;
        for (uint64_t k = 0; k < groups; ++k) {
            int64_t group_id = r.s("group_id");
            uint64_t total = count(r.u("group total"), "group total");
            uint64_t verified = count(r.u("group verified"), "group verified");
            if (total == 0 || verified > total)
                throw CoreError(ErrorKind::corrupt_value, "rollup state: a group without rows or with more verified than rows");
            group_rows += total;
            group_verified += verified;
            c.groups.add(group_id, total, verified);
        }
        if (groups != 0 && (group_rows != add.total || group_verified != add.verified))
            throw CoreError(ErrorKind::corrupt_value, "rollup state: the group counts do not add up to the rows");
    }
    if (!r.at_end()) throw CoreError(ErrorKind::corrupt_value, "rollup state: trailing bytes");
}

void RollupBuilder::add_call(int64_t t, const char* method, std::size_t method_len, int success, bool has_latency,
                             int32_t latency_ms) {
    Cell& c = cell(quarter_hour_start(t), method, method_len);
    ++c.counts.total;
    if (success == 1) ++c.counts.ok;
    if (success == 0) ++c.counts.failures;
    if (has_latency) {
        ++c.counts.latency_count;
        c.counts.latency_sum += latency_ms;
        c.latencies.push_back(latency_ms);
    }
}

}  // namespace nz
