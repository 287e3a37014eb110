// Local time from UTC: the one place that turns a UTC instant (microseconds
// since 2000-01-01 UTC, PostgreSQL's TimestampTz) into a local day and hour,
// for every chart that groups by them (the dashboard's days and hours, the
// hourly-activity chart).  The offsets of the time zone come from the
// database (nezuko_analytics.tz_offsets) as segments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <vector>

namespace nz {

constexpr int64_t kMicrosPerQuarterHour = int64_t{900} * 1000 * 1000;
constexpr int64_t kMicrosPerHour = 4 * kMicrosPerQuarterHour;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// Floor of a / b for b > 0 (times before 2000 are negative).
constexpr int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// A local day (days since 2000-01-01) and hour of day (0-23).
struct LocalDayHour {
    int64_t day;
    int hour;
};

// Splits local microseconds (wall clock, counted as if UTC) into day and hour.
inline LocalDayHour split_local(int64_t local_micros) {
    int64_t day = floor_div(local_micros, kMicrosPerDay);
    return {day, static_cast<int>((local_micros - day * kMicrosPerDay) / kMicrosPerHour)};
}

// 'YYYY-MM-DD' of a day counted from 2000-01-01 (proleptic Gregorian).
std::string civil_date(int64_t day);

// UTC offsets of one time zone over a window: segment i starts at starts[i]
// (UTC microseconds) and has offset offsets[i]; the first segment covers
// everything before starts[1].  Without segments, local time is UTC.
class TimeZoneSegments {
public:
    explicit TimeZoneSegments(std::pmr::memory_resource* mr) : starts_(mr), offsets_(mr) {}
    // pairs: start0, offset0, start1, offset1, ... with strictly increasing starts.
    void assign(const int64_t* pairs, std::size_t n_values);
    // Whether the segments are these pairs (an argument read once per row is compared, not re-read).
    bool same_as(const int64_t* pairs, std::size_t n_values) const;
    int64_t to_local(int64_t utc) const;
    LocalDayHour local_day_hour(int64_t utc) const { return split_local(to_local(utc)); }
    bool empty() const { return starts_.empty(); }

private:
    std::pmr::vector<int64_t> starts_;
    std::pmr::vector<int64_t> offsets_;
    mutable std::size_t last_ = 0;
};

}  // namespace nz

#include "pure_cpp_only.hpp"
