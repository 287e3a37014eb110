#include "quarter_hours.hpp"

#include <algorithm>

namespace nz {

std::size_t distinct_quarter_hours(int64_t* times, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) times[i] = quarter_hour_start(times[i]);
    std::sort(times, times + n);
    return static_cast<std::size_t>(std::unique(times, times + n) - times);
}

}  // namespace nz
