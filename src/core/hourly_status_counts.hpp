// Verification counts per status by local hour of day, for the
// hourly-activity chart and the dashboard: each row is placed in its local
// hour through the time zone's segments (local_time.hpp), the one place that
// computes local time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "json_writer.hpp"
#include "local_time.hpp"
#include "verification_status.hpp"

namespace nz {

// Counts of verified, restricted and error rows for each local hour 0-23.
struct HourCounts {
    uint64_t counts[24][kCountedStatuses] = {};

    void add(int hour, VerificationStatus status) {
        if (status != VerificationStatus::other) ++counts[hour][static_cast<int>(status)];
    }
    void merge(const HourCounts& other);

    // Binary form: 24 x 3 little-endian u64.
    static constexpr std::size_t kEncodedSize = sizeof(uint64_t) * 24 * kCountedStatuses;
    void encode_to(uint8_t* out) const;
    void merge_encoded(const uint8_t* data, std::size_t len);  // validates the length

    // [{"hour":0,"verified":..,"restricted":..,"error":..}, ... 24 hours]: the
    // form both the dashboard and the hourly chart hand to SQL.
    void write_json(JsonWriter& j) const;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
