#include "group_counts.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "core_error.hpp"
#include "json_writer.hpp"
#include "varint.hpp"

namespace nz {

namespace {

[[noreturn]] void corrupt(const std::string& what) {
    throw CoreError(ErrorKind::corrupt_value, "group counts: " + what);
}

void put(std::pmr::vector<uint8_t>& out, uint64_t v) {
    uint8_t tmp[10];
    uint8_t* end = varint_put(tmp, v);
    out.insert(out.end(), tmp, end);
}

}  // namespace

namespace {

std::size_t slot_of(int64_t group_id, std::size_t mask) {
    uint64_t x = static_cast<uint64_t>(group_id) * 0x9E3779B97F4A7C15ULL;
    return static_cast<std::size_t>(x ^ (x >> 32)) & mask;
}

}  // namespace

void GroupCountTable::add(int64_t group_id, uint64_t total, uint64_t verified) {
    if (total == 0) return;
    if ((used_ + 1) * 10 > slots_.size() * 7) grow(used_ + 1);  // load <= 0.7
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = slot_of(group_id, mask);; i = (i + 1) & mask) {
        Slot& s = slots_[i];
        if (s.total == 0) {
            s = Slot{group_id, total, verified};
            ++used_;
            return;
        }
        if (s.group_id == group_id) {
            s.total += total;
            s.verified += verified;
            return;
        }
    }
}

// Sized before the other table's slots come: they arrive in its hash order,
// which would pile up in long runs in a smaller table of the same hash.
void GroupCountTable::merge(const GroupCountTable& other) {
    if ((used_ + other.used_) * 10 > slots_.size() * 7) grow(used_ + other.used_);
    for (const Slot& s : other.slots_)
        if (s.total != 0) add(s.group_id, s.total, s.verified);
}

void GroupCountTable::grow(std::size_t at_least) {
    std::size_t size = slots_.empty() ? 64 : slots_.size() * 2;
    while (at_least * 10 > size * 7) size *= 2;
    std::pmr::vector<Slot> old(slots_.get_allocator());
    old.swap(slots_);
    slots_.assign(size, Slot{0, 0, 0});
    used_ = 0;
    for (const Slot& s : old)
        if (s.total != 0) add(s.group_id, s.total, s.verified);
}

namespace {

// Sorts counts by id, whose span (largest - smallest id) is below 2^16: a
// radix sort on the id's distance from the smallest, one pass per byte of
// the span (a bot's groups are numbered closely: a quarter hour's 600 of
// 2,000 need two passes over them, where std::sort compared 600 x 9 times
// and took a tenth of a build's fold).
void radix_sort_by_id(std::pmr::vector<GroupCount>& counts, int64_t smallest, uint64_t span) {
    std::pmr::vector<GroupCount> other(counts.size(), counts.get_allocator());
    for (int shift = 0; shift < 16 && (span >> shift) != 0; shift += 8) {
        uint32_t at[257] = {};
        for (const GroupCount& g : counts) ++at[((static_cast<uint64_t>(g.group_id) - static_cast<uint64_t>(smallest)) >> shift & 0xFF) + 1];
        for (int b = 1; b <= 256; ++b) at[b] += at[b - 1];
        for (const GroupCount& g : counts)
            other[at[(static_cast<uint64_t>(g.group_id) - static_cast<uint64_t>(smallest)) >> shift & 0xFF]++] = g;
        counts.swap(other);
    }
}

}  // namespace

void GroupCountTable::sorted(std::pmr::vector<GroupCount>& out) const {
    out.clear();
    out.reserve(used_);
    int64_t smallest = INT64_MAX, largest = INT64_MIN;
    for (const Slot& s : slots_)
        if (s.total != 0) {
            out.push_back(GroupCount{s.group_id, s.total, s.verified});
            smallest = std::min(smallest, s.group_id);
            largest = std::max(largest, s.group_id);
        }
    if (out.size() < 2) return;
    uint64_t span = static_cast<uint64_t>(largest) - static_cast<uint64_t>(smallest);
    if (out.size() >= 32 && span < (uint64_t{1} << 16)) {
        radix_sort_by_id(out, smallest, span);
        return;
    }
    std::sort(out.begin(), out.end(), [](const GroupCount& a, const GroupCount& b) { return a.group_id < b.group_id; });
}

void encode_group_counts(const GroupCount* counts, std::size_t n, std::pmr::vector<uint8_t>& out) {
    out.push_back(kGroupCountsFormat);
    put(out, n);
    for (std::size_t i = 0; i < n; ++i) {
        const GroupCount& g = counts[i];
        if (g.total == 0 || g.verified > g.total)
            throw CoreError(ErrorKind::invalid_argument, "group counts: a group needs rows, and no more verified than rows");
        if (i == 0) {
            put(out, zigzag_encode(g.group_id));
        } else {
            if (g.group_id <= counts[i - 1].group_id)
                throw CoreError(ErrorKind::invalid_argument, "group counts: ids must be distinct and in order");
            put(out, static_cast<uint64_t>(g.group_id) - static_cast<uint64_t>(counts[i - 1].group_id));
        }
        put(out, g.total);
        put(out, g.verified);
    }
}

EncodedGroupCounts::EncodedGroupCounts(const uint8_t* data, std::size_t len) {
    ByteReader r(data, len, "group counts value");
    uint8_t format = r.byte("format");
    if (format != kGroupCountsFormat)
        corrupt("unknown format " + std::to_string(format) + " (expected " + std::to_string(kGroupCountsFormat) + ")");
    uint64_t n = r.varint("number of groups");
    if (n > r.remaining() / 3) corrupt("it claims " + std::to_string(n) + " groups but only " +
                                       std::to_string(r.remaining()) + " bytes follow");
    n_ = static_cast<std::size_t>(n);
    body_ = data + (len - r.remaining());
    int64_t id = 0;
    for (std::size_t i = 0; i < n_; ++i) {
        uint64_t k = r.varint("group id");
        if (i == 0) {
            id = zigzag_decode(k);
        } else {
            if (k == 0) corrupt("group ids are not strictly increasing");
            if (static_cast<__int128>(id) + static_cast<__int128>(k) > INT64_MAX)
                corrupt("a group id is beyond the bigint range");
            id = static_cast<int64_t>(static_cast<uint64_t>(id) + k);
        }
        uint64_t total = r.varint("group total");
        uint64_t verified = r.varint("group verified");
        if (total == 0) corrupt("group " + std::to_string(id) + " has no rows");
        if (verified > total) corrupt("group " + std::to_string(id) + " has more verified rows than rows");
        if (__builtin_add_overflow(total_, total, &total_)) corrupt("the group totals overflow");
        verified_ += verified;  // <= total_: no overflow
    }
    if (!r.at_end()) corrupt(std::to_string(r.remaining()) + " bytes follow the last group");
}

std::string group_counts_json(const EncodedGroupCounts& groups) {
    JsonWriter j;
    j.begin_array();
    groups.for_each([&](int64_t id, uint64_t total, uint64_t verified) {
        j.begin_object().key("group_id").integer(id);
        j.key("total").unsigned_integer(total);
        j.key("verified").unsigned_integer(verified).end_object();
    });
    j.end_array();
    return std::move(j.out());
}

}  // namespace nz
