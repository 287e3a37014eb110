#include "quarter_hour_counts.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "pure_cpp_only.hpp"

namespace nz {

namespace {

constexpr int64_t kQuarterHourMicros = int64_t{900} * 1000 * 1000;

std::size_t hash_quarter(int64_t q, std::size_t mask) {
    return static_cast<std::size_t>((static_cast<uint64_t>(q) * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

[[noreturn]] void corrupt(const std::string& why) {
    throw CoreError(ErrorKind::corrupt_value, "invalid hourly activity state: " + why);
}

}  // namespace

int64_t quarter_hour_of(int64_t microseconds) {
    int64_t q = microseconds / kQuarterHourMicros;
    if (microseconds % kQuarterHourMicros < 0) --q;
    return q;
}

QuarterHourCounts::QuarterHourCounts(std::pmr::memory_resource* mr) : slots_(mr), index_(mr) {}

QuarterHourCounts::Slot& QuarterHourCounts::slot_for(int64_t quarter) {
    if (last_ != SIZE_MAX && slots_[last_].quarter == quarter) return slots_[last_];
    if ((slots_.size() + 1) * 2 > index_.size()) {
        std::size_t capacity = index_.empty() ? 64 : index_.size() * 2;
        index_.assign(capacity, 0);
        for (std::size_t s = 0; s < slots_.size(); ++s) {
            std::size_t i = hash_quarter(slots_[s].quarter, capacity - 1);
            while (index_[i] != 0) i = (i + 1) & (capacity - 1);
            index_[i] = static_cast<uint32_t>(s + 1);
        }
    }
    std::size_t mask = index_.size() - 1;
    std::size_t i = hash_quarter(quarter, mask);
    while (index_[i] != 0) {
        std::size_t s = index_[i] - 1;
        if (slots_[s].quarter == quarter) return slots_[last_ = s];
        i = (i + 1) & mask;
    }
    slots_.push_back(Slot{quarter, {0, 0, 0}});
    index_[i] = static_cast<uint32_t>(slots_.size());
    return slots_[last_ = slots_.size() - 1];
}

void QuarterHourCounts::add(int64_t microseconds, VerificationStatus status) {
    if (status == VerificationStatus::other) return;
    slot_for(quarter_hour_of(microseconds)).counts[static_cast<int>(status)]++;
}

void QuarterHourCounts::merge(const QuarterHourCounts& other) {
    for (const Slot& o : other.slots_) {
        Slot& s = slot_for(o.quarter);
        for (int k = 0; k < kCountedStatuses; ++k) s.counts[k] += o.counts[k];
    }
}

void QuarterHourCounts::sort() {
    std::sort(slots_.begin(), slots_.end(), [](const Slot& a, const Slot& b) { return a.quarter < b.quarter; });
    // Positions changed: rebuild the index lazily on the next insert.
    index_.clear();
    last_ = SIZE_MAX;
    if (!slots_.empty()) {
        std::size_t capacity = 64;
        while (capacity < slots_.size() * 2 + 2) capacity *= 2;
        index_.assign(capacity, 0);
        for (std::size_t s = 0; s < slots_.size(); ++s) {
            std::size_t i = hash_quarter(slots_[s].quarter, capacity - 1);
            while (index_[i] != 0) i = (i + 1) & (capacity - 1);
            index_[i] = static_cast<uint32_t>(s + 1);
        }
    }
}

std::size_t QuarterHourCounts::encoded_size() const { return 4 + slots_.size() * sizeof(Slot); }

void QuarterHourCounts::encode_to(uint8_t* out) {
    sort();
    uint32_t n = static_cast<uint32_t>(slots_.size());
    std::memcpy(out, &n, 4);
    if (n) std::memcpy(out + 4, slots_.data(), slots_.size() * sizeof(Slot));
}

void QuarterHourCounts::merge_encoded(const uint8_t* data, std::size_t len) {
    if (len < 4) corrupt("shorter than its header");
    uint32_t n = 0;
    std::memcpy(&n, data, 4);
    if ((len - 4) % sizeof(Slot) != 0 || (len - 4) / sizeof(Slot) != n) corrupt("length does not match its slot count");
    for (uint32_t i = 0; i < n; ++i) {
        Slot o;
        std::memcpy(&o, data + 4 + i * sizeof(Slot), sizeof(Slot));
        Slot& s = slot_for(o.quarter);
        for (int k = 0; k < kCountedStatuses; ++k) s.counts[k] += o.counts[k];
    }
}

}  // namespace nz
