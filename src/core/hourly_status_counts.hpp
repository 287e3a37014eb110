// Verification counts per status in quarter-hour slots of UTC time, for the
// hourly-activity chart: one pass over the rows, then each slot (not each
// row) is mapped to its local hour.  Exact for every time zone whose offset
// is a whole number of quarter hours (all zones in use today, +05:30 and
// +05:45 included).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <vector>

#include "core_error.hpp"

namespace nz {

enum class VerificationStatus : int { verified = 0, restricted = 1, error = 2, other = 3 };
constexpr int kCountedStatuses = 3;

// Inline: the native scans classify every row.
inline VerificationStatus classify_status(const char* text, std::size_t len) noexcept {
    switch (len) {
        case 8: return std::memcmp(text, "verified", 8) == 0 ? VerificationStatus::verified : VerificationStatus::other;
        case 10: return std::memcmp(text, "restricted", 10) == 0 ? VerificationStatus::restricted : VerificationStatus::other;
        case 5: return std::memcmp(text, "error", 5) == 0 ? VerificationStatus::error : VerificationStatus::other;
        default: return VerificationStatus::other;
    }
}

// Floor of microseconds / 900,000,000 (works for times before the epoch too).
int64_t quarter_hour_of(int64_t microseconds);

class QuarterHourCounts {
public:
    struct Slot {
        int64_t quarter;
        uint64_t counts[kCountedStatuses];
    };

    explicit QuarterHourCounts(std::pmr::memory_resource* mr);

    void add(int64_t microseconds, VerificationStatus status);
    void merge(const QuarterHourCounts& other);

    // Binary form: u32 n | n x (i64 quarter, 3 x u64 count), slots sorted.
    std::size_t encoded_size() const;
    void encode_to(uint8_t* out);                       // sorts the slots
    void merge_encoded(const uint8_t* data, std::size_t len);  // validates

    // Sorted slots (after encode_to or sort()).
    void sort();
    const std::pmr::vector<Slot>& slots() const { return slots_; }

private:
    Slot& slot_for(int64_t quarter);

    std::pmr::vector<Slot> slots_;
    std::pmr::vector<uint32_t> index_;  // open addressing over slots_ (+1; 0 = empty)
    std::size_t last_ = SIZE_MAX;       // the slot used last: rows come roughly in time order
};

}  // namespace nz

#include "pure_cpp_only.hpp"
