#include "pure_cpp_only.hpp"
#include "local_time.hpp"

#include <algorithm>
#include <cstdio>

#include "core_error.hpp"
#include "pure_cpp_only.hpp"

namespace nz {

std::string civil_date(int64_t day) {
    // Howard Hinnant's days_from_civil inverse, counted from 0000-03-01.
    int64_t z = day + 10957 + 719468;  // 2000-01-01 is day 10957 after 1970-01-01
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y), static_cast<long long>(m),
                  static_cast<long long>(d));
    return buf;
}

void TimeZoneSegments::assign(const int64_t* pairs, std::size_t n_values) {
    if (n_values == 0 || n_values % 2 != 0)
        throw CoreError(ErrorKind::invalid_argument, "time zone offsets must be pairs of (start, offset)");
    starts_.clear();
    offsets_.clear();
    for (std::size_t i = 0; i < n_values; i += 2) {
        if (i > 0 && pairs[i] <= starts_.back())
            throw CoreError(ErrorKind::invalid_argument, "time zone offset segments must be in increasing order");
        starts_.push_back(pairs[i]);
        offsets_.push_back(pairs[i + 1]);
    }
    last_ = 0;
}

bool TimeZoneSegments::same_as(const int64_t* pairs, std::size_t n_values) const {
    if (n_values != 2 * starts_.size()) return false;
    for (std::size_t i = 0; i < starts_.size(); ++i)
        if (pairs[2 * i] != starts_[i] || pairs[2 * i + 1] != offsets_[i]) return false;
    return true;
}

int64_t TimeZoneSegments::to_local(int64_t utc) const {
    if (starts_.empty()) return utc;
    // Rows arrive roughly in time order: try the segment used last first.
    std::size_t i = last_;
    bool fits = (i == 0 || utc >= starts_[i]) && (i + 1 == starts_.size() || utc < starts_[i + 1]);
    if (!fits) {
        auto it = std::upper_bound(starts_.begin(), starts_.end(), utc);
        i = it == starts_.begin() ? 0 : static_cast<std::size_t>(it - starts_.begin()) - 1;
        last_ = i;
    }
    return utc + offsets_[i];
}

}  // namespace nz
