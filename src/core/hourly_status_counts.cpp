#include "pure_cpp_only.hpp"
#include "hourly_status_counts.hpp"

#include <cstring>

#include "core_error.hpp"
#include "pure_cpp_only.hpp"

namespace nz {

void HourCounts::merge(const HourCounts& other) {
    for (int h = 0; h < 24; ++h)
        for (int k = 0; k < kCountedStatuses; ++k) counts[h][k] += other.counts[h][k];
}

void HourCounts::encode_to(uint8_t* out) const {
    std::memcpy(out, counts, kEncodedSize);
}

void HourCounts::merge_encoded(const uint8_t* data, std::size_t len) {
    if (len != kEncodedSize)
        throw CoreError(ErrorKind::corrupt_value, "invalid hourly activity state: " + std::to_string(len) +
                                                      " bytes where " + std::to_string(kEncodedSize) + " belong");
    HourCounts other;
    std::memcpy(other.counts, data, kEncodedSize);
    merge(other);
}

void HourCounts::write_json(JsonWriter& j) const {
    static const char* const kStatusNames[kCountedStatuses] = {"verified", "restricted", "error"};
    j.begin_array();
    for (int h = 0; h < 24; ++h) {
        j.begin_object().key("hour").integer(h);
        for (int k = 0; k < kCountedStatuses; ++k) j.key(kStatusNames[k]).unsigned_integer(counts[h][k]);
        j.end_object();
    }
    j.end_array();
}

}  // namespace nz
