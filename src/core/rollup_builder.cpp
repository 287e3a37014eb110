#include "rollup_builder.hpp"

#include <algorithm>
#include <string>

#include "byte_buffer.hpp"
#include "core_error.hpp"

namespace nz {

RollupBuilder::Cell& RollupBuilder::cell(int64_t start, const char* method, std::size_t len) {
    // rows come mostly in time order: the last quarter hour's list first
    // (the map's nodes never move, so the pointer stays good)
    if (last_list_ == nullptr || last_start_ != start) {
        auto [at, inserted] = cells_.try_emplace(start);  // the vector takes the map's resource
        if (inserted) open_starts_.push_back(start);
        last_list_ = &at->second;
        last_start_ = start;
    }
    auto& list = *last_list_;
    for (Cell& c : list)
        if (c.method.size() == len && c.method.compare(0, len, method, len) == 0) return c;
    // a second method in a quarter hour: room for several more at once (a
    // quarter hour of API calls holds about ten methods; verification_log's
    // one cell never reaches this)
    if (list.size() == 1) list.reserve(8);
    list.emplace_back(method, len, mr_);
    ++cell_count_;
    return list.back();
}

RollupBuilder::Cell& RollupBuilder::row_cell(int64_t t, const char* method, std::size_t len) {
    int64_t start = quarter_hour_start(t);
    if (start > highest_start_) {  // the rows moved on: finish the quarter hours left behind
        highest_start_ = start;
        seal_behind(start - kSealBehind);
    }
    Cell& c = cell(start, method, len);
    if (c.sealed()) {  // a late row
        unseal(c);
        open_starts_.push_back(start);
    }
    return c;
}

void RollupBuilder::add_verification(int64_t t, VerificationStatus status, bool has_latency, int32_t latency_ms,
                                      bool cached, int64_t group_id) {
    Cell& c = row_cell(t, "", 0);
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

namespace {

void add_counts(RollupCounts& into, const RollupCounts& c) {
    into.total += c.total;
    into.verified += c.verified;
    into.restricted += c.restricted;
    into.error += c.error;
    into.cached += c.cached;
    into.ok += c.ok;
    into.failures += c.failures;
    into.latency_count += c.latency_count;
    into.latency_sum += c.latency_sum;
}

}  // namespace

void RollupBuilder::finish(const Cell& c, std::pmr::vector<uint8_t>& dist, std::pmr::vector<uint8_t>& groups,
                           Scratch& scratch) const {
    if (c.sealed()) {
        const uint8_t* at = c.sealed_at;
        dist.assign(at, at + c.dist_len);
        groups.assign(at + c.dist_len, at + c.dist_len + c.groups_len);
        return;
    }
    encode_groups(c, groups, scratch.groups);
    LatencyDistribution& d = scratch.dist;
    d.clear();
    for (int32_t v : c.latencies) d.add(v);
    dist.resize(d.prepare_encoding());
    d.encode_to(dist.data());
}

void RollupBuilder::encode_groups(const Cell& c, std::pmr::vector<uint8_t>& groups, std::pmr::vector<GroupCount>& scratch) {
    groups.clear();
    if (c.groups.size() != 0) {
        c.groups.sorted(scratch);
        encode_group_counts(scratch.data(), scratch.size(), groups);
    }
}

void RollupBuilder::add_groups(Cell& c, const uint8_t* groups, std::size_t groups_len) {
    if (groups_len != 0)
        EncodedGroupCounts(groups, groups_len).for_each([&](int64_t id, uint64_t total, uint64_t verified) {
            c.groups.add(id, total, verified);
        });
}

void RollupBuilder::open_into(Cell& c, const uint8_t* dist, std::size_t dist_len, const uint8_t* groups,
                              std::size_t groups_len) {
    EncodedDistribution(dist, dist_len).for_each([&](int32_t key, uint64_t n) { c.latencies.insert(c.latencies.end(), n, key); });
    add_groups(c, groups, groups_len);
}

void RollupBuilder::seal(Cell& c, const uint8_t* dist, std::size_t dist_len, const uint8_t* groups,
                         std::size_t groups_len) {
    if (dist_len > UINT32_MAX || groups_len > UINT32_MAX)
        throw CoreError(ErrorKind::corrupt_value, "rollup state: a quarter hour's binary form is too long");
    c.dist_len = static_cast<uint32_t>(dist_len);
    c.groups_len = static_cast<uint32_t>(groups_len);
    c.sealed_at = sealed_.append(dist, dist_len, groups, groups_len);
}

void RollupBuilder::seal_behind(int64_t limit) {
    while (open_from_ < open_starts_.size() && open_starts_[open_from_] <= limit) {
        auto found = cells_.find(open_starts_[open_from_++]);
        for (Cell& c : found->second) {
            if (c.sealed() || c.latencies.size() < kSealFrom) continue;
            finish(c, seal_dist_, seal_groups_, seal_scratch_);
            seal(c, seal_dist_.data(), seal_dist_.size(), seal_groups_.data(), seal_groups_.size());
            std::pmr::vector<int32_t>(mr_).swap(c.latencies);
            c.groups.release();
        }
    }
    if (open_from_ > 4096 && open_from_ * 2 > open_starts_.size()) {  // drop what was dealt with
        open_starts_.erase(open_starts_.begin(), open_starts_.begin() + static_cast<std::ptrdiff_t>(open_from_));
        open_from_ = 0;
    }
}

void RollupBuilder::unseal(Cell& c) {
    const uint8_t* at = c.sealed_at;
    c.sealed_at = nullptr;
    open_into(c, at, c.dist_len, at + c.dist_len, c.groups_len);  // the arena's bytes never move
}

void RollupBuilder::merge(const RollupBuilder& o) {
    for (const auto& [start, list] : o.cells_) {
        for (const Cell& oc : list) {
            Cell& c = cell(start, oc.method.data(), oc.method.size());
            const uint8_t* at = oc.sealed_at;
            if (fresh(c) && oc.sealed()) {  // taken over as it is
                c.counts = oc.counts;
                seal(c, at, oc.dist_len, at + oc.dist_len, oc.groups_len);
                continue;
            }
            if (c.sealed()) unseal(c);
            add_counts(c.counts, oc.counts);
            if (oc.sealed()) {
                open_into(c, at, oc.dist_len, at + oc.dist_len, oc.groups_len);
            } else {
                c.latencies.insert(c.latencies.end(), oc.latencies.begin(), oc.latencies.end());
                c.groups.merge(oc.groups);
            }
        }
    }
}

std::pmr::vector<uint8_t> RollupBuilder::encode() const {
    ByteWriter w(mr_);
    // the sealed cells' bytes and, per cell, its start, method, counts and
    // lengths: one allocation (a worker's message is megabytes; doubling
    // copied it over and over, into fresh pages each time)
    w.reserve(16 + sealed_.size() + cell_count_ * 96);
    Scratch scratch(mr_);
    std::pmr::vector<uint8_t> dist(mr_), groups(mr_);
    w.u(cell_count_);
    for (const auto& [start, list] : cells_) {
        for (const Cell& c : list) {
            w.s(start);
            w.raw(reinterpret_cast<const uint8_t*>(c.method.data()), c.method.size());
            for (uint64_t v : {c.counts.total, c.counts.verified, c.counts.restricted, c.counts.error, c.counts.cached,
                               c.counts.ok, c.counts.failures, c.counts.latency_count})
                w.u(v);
            w.s(c.counts.latency_sum);
            // every cell finished here, in the worker: the leader, whose
            // part runs alone, only copies the cells no other part has (a
            // quarter hour of API calls, about ten calls a method, cost the
            // leader 0.4 s for 182,000 cells as values, 0.25 s finished)
            finish(c, dist, groups, scratch);
            w.raw(dist.data(), dist.size());
            w.raw(groups.data(), groups.size());
        }
    }
    return w.take();
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
        std::size_t dist_len = 0;
        const uint8_t* dist = r.raw("latencies", &dist_len);
        EncodedDistribution d(dist, dist_len);  // checked whole
        if (d.count() != add.latency_count || d.sum() != add.latency_sum)
            throw CoreError(ErrorKind::corrupt_value, "rollup state: the latencies do not match their count");
        std::size_t groups_len = 0;
        const uint8_t* groups = r.raw("groups", &groups_len);
        if (groups_len != 0) {
            EncodedGroupCounts g(groups, groups_len);
            if (g.total() != add.total || g.verified() != add.verified)
                throw CoreError(ErrorKind::corrupt_value, "rollup state: the group counts do not add up to the rows");
        }
        Cell& c = cell(start, reinterpret_cast<const char*>(method), method_len);
        if (fresh(c)) {  // taken over as it is
            c.counts = add;
            seal(c, dist, dist_len, groups, groups_len);
            continue;
        }
        if (c.sealed()) unseal(c);
        open_into(c, dist, dist_len, groups, groups_len);
        add_counts(c.counts, add);
    }
    if (!r.at_end()) throw CoreError(ErrorKind::corrupt_value, "rollup state: trailing bytes");
}

void RollupBuilder::add_call(int64_t t, const char* method, std::size_t method_len, int success, bool has_latency,
                             int32_t latency_ms) {
    Cell& c = row_cell(t, method, method_len);
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
