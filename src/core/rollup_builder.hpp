// The rollups of many raw rows at once (enable_rollups()'s build and the
// refresh of new quarter hours, docs/rollups.md): one pass folds every row
// into its quarter hour (verification_log: counts, latencies and the counts
// per group; api_call_log: counts and latencies per method).  Latencies are kept as plain
// values per quarter hour (4 bytes a row, not a 16 KB table per quarter hour)
// and become a distribution when the cells are read out, in the same binary
// form as the latency_dist aggregate's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <memory_resource>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "byte_arena.hpp"
#include "group_counts.hpp"
#include "latency_distribution.hpp"
#include "quarter_hours.hpp"
#include "verification_status.hpp"

namespace nz {

// The counts of one quarter hour (of one method, for API calls).
struct RollupCounts {
    uint64_t total = 0, verified = 0, restricted = 0, error = 0, cached = 0;  // verification_log
    uint64_t ok = 0, failures = 0;                                            // api_call_log
    uint64_t latency_count = 0;
    int64_t latency_sum = 0;
};

class RollupBuilder {
public:
    explicit RollupBuilder(std::pmr::memory_resource* mr)
        : mr_(mr), cells_(mr), sealed_(mr), open_starts_(mr), seal_dist_(mr), seal_groups_(mr), seal_scratch_(mr) {}
    RollupBuilder(const RollupBuilder&) = delete;
    RollupBuilder& operator=(const RollupBuilder&) = delete;

    // A verification_log row at time t (UTC microseconds, finite), counted
    // in its quarter hour and there in its group.
    void add_verification(int64_t t, VerificationStatus status, bool has_latency, int32_t latency_ms, bool cached,
                          int64_t group_id);
    // An api_call_log row: success 1, 0 or -1 (NULL).
    void add_call(int64_t t, const char* method, std::size_t method_len, int success, bool has_latency,
                  int32_t latency_ms);

    // Each quarter hour (and method: empty for verification_log), by start:
    // f(start, method, counts, encoded latency distribution bytes, encoded
    // group counts bytes (group_counts.hpp; empty for api_call_log)).
    template <typename F>
    void for_each_quarter_hour(F&& f) const;

    // The same quarter hours one at a time, for a caller that hands each on
    // before it asks for the next (a set-returning function's rows): next()
    // calls f as for_each_quarter_hour() does, once, and is false after the
    // last.  Its bytes are reused by the next call.  The builder must not
    // change meanwhile.
    class Reader;

    // Parallel query: merge another builder in, and the binary form that
    // workers pass (merge_encoded() checks every field).  A worker's
    // encode() finishes every cell (the latency_dist and group counts'
    // bytes, as for_each_quarter_hour() gives them), so that the leader,
    // whose final step runs alone, only copies the cells that no other
    // part has; a table read in time order splits few quarter hours.
    void merge(const RollupBuilder& other);
    std::pmr::vector<uint8_t> encode() const;
    void merge_encoded(const uint8_t* data, std::size_t len);
    std::size_t cell_count() const { return cell_count_; }

private:
    // A cell is open (its latencies as values, its groups in a table) or
    // sealed: only its final binary forms, as a parallel worker finished it
    // (encode()), taken over unchanged unless another part has the same
    // cell.  Never both.
    struct Cell {
        std::pmr::string method;
        RollupCounts counts;
        std::pmr::vector<int32_t> latencies;
        GroupCountTable groups;  // verification_log: its own table per quarter hour, which stays in cache
        // sealed: its latency_dist bytes, then its group counts' bytes, at sealed_at (in sealed_)
        const uint8_t* sealed_at = nullptr;
        uint32_t dist_len = 0, groups_len = 0;
        bool sealed() const { return sealed_at != nullptr; }
        Cell(const char* name, std::size_t len, std::pmr::memory_resource* mr)
            : method(name, len, mr), latencies(mr), groups(mr) {}
    };
    Cell& cell(int64_t start, const char* method, std::size_t len);
    static bool fresh(const Cell& c) { return !c.sealed() && c.counts.total == 0 && c.latencies.empty() && c.groups.size() == 0; }
    // c sealed with these bytes (copied into sealed_)
    void seal(Cell& c, const uint8_t* dist, std::size_t dist_len, const uint8_t* groups, std::size_t groups_len);
    // The cell's final forms: its latency_dist bytes and its group counts'
    // bytes (empty without groups).
    // What finish() reuses from one cell to the next (a new distribution per
    // cell would allocate and zero its 16 KB array each time).
    struct Scratch {
        explicit Scratch(std::pmr::memory_resource* mr) : groups(mr), dist(mr) {}
        std::pmr::vector<GroupCount> groups;
        LatencyDistribution dist;
    };
    void finish(const Cell& c, std::pmr::vector<uint8_t>& dist, std::pmr::vector<uint8_t>& groups, Scratch& scratch) const;
    // The binary form of an open cell's group counts (empty without groups).
    static void encode_groups(const Cell& c, std::pmr::vector<uint8_t>& groups, std::pmr::vector<GroupCount>& scratch);
    // Adds group counts in their binary form to an open cell's table.
    static void add_groups(Cell& c, const uint8_t* groups, std::size_t groups_len);
    // Adds final forms (checked by the caller) to an open cell's values and table.
    static void open_into(Cell& c, const uint8_t* dist, std::size_t dist_len, const uint8_t* groups, std::size_t groups_len);
    // A sealed cell made open, before anything is added to it.
    void unseal(Cell& c);
    // seal_behind() finishes a cell of at least this many latencies (a
    // quarter hour of verification_log: hundreds); a smaller one stays open
    // until encode() or for_each_quarter_hour() finishes it.
    static constexpr std::size_t kSealFrom = 64;
    // Rows come mostly in time order (the bot writes them so): once the rows
    // reach a quarter hour this far past a cell's, the cell is finished and
    // sealed on the spot, while its values and table are still in the CPU's
    // cache, and their memory is given back.  A late row opens it again.
    static constexpr int64_t kSealBehind = 2 * kQuarterHourMicros;
    // Seals the open cells of quarter hours up to `limit`.
    void seal_behind(int64_t limit);
    // The open cell of a row at time t (and method): cell(), after sealing
    // what the rows left behind, and opened again for a late row.
    Cell& row_cell(int64_t t, const char* method, std::size_t len);

    std::pmr::memory_resource* mr_;
    // per quarter hour start: its cells (one per method; one for verification_log)
    std::pmr::unordered_map<int64_t, std::pmr::vector<Cell>> cells_;
    ByteArena sealed_;  // the sealed cells' bytes (a cell made open leaves its own behind)
    std::size_t cell_count_ = 0;
    // the list of the quarter hour last looked up (cell())
    int64_t last_start_ = 0;
    std::pmr::vector<Cell>* last_list_ = nullptr;
    // for seal_behind(): the quarter hours whose cells were opened, in that
    // order (from open_from_ on, not dealt with yet), the latest quarter hour
    // of a row, and what sealing reuses from one cell to the next
    std::pmr::vector<int64_t> open_starts_;
    std::size_t open_from_ = 0;
    int64_t highest_start_ = INT64_MIN;
    std::pmr::vector<uint8_t> seal_dist_, seal_groups_;
    Scratch seal_scratch_;
};

class RollupBuilder::Reader {
public:
    explicit Reader(const RollupBuilder& b)
        : b_(b), starts_(b.mr_), scratch_(b.mr_), bytes_(b.mr_), group_bytes_(b.mr_) {
        starts_.reserve(b.cells_.size());
        for (const auto& entry : b.cells_) starts_.push_back(entry.first);
        std::sort(starts_.begin(), starts_.end());
    }

    template <typename F>
    bool next(F&& f) {
        while (at_ < starts_.size()) {
            int64_t start = starts_[at_];
            const auto& list = b_.cells_.find(start)->second;
            if (in_list_ == list.size()) {
                ++at_;
                in_list_ = 0;
                continue;
            }
            const Cell& c = list[in_list_++];
            b_.finish(c, bytes_, group_bytes_, scratch_);
            f(start, c.method, c.counts, bytes_, group_bytes_);
            return true;
        }
        return false;
    }

private:
    const RollupBuilder& b_;
    std::pmr::vector<int64_t> starts_;  // the quarter hours, in order
    std::size_t at_ = 0, in_list_ = 0;  // the next cell: starts_[at_]'s list at in_list_
    Scratch scratch_;
    std::pmr::vector<uint8_t> bytes_, group_bytes_;
};

template <typename F>
void RollupBuilder::for_each_quarter_hour(F&& f) const {
    Reader reader(*this);
    while (reader.next(f)) {
    }
}

}  // namespace nz

#include "pure_cpp_only.hpp"
