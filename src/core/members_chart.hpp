// get_members_chart_data's document from the rows of enforced_channels and
// protected_groups: the top N of each by member count (most first, ties by
// id), named by title or "Channel <id>" / "Group <id>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace nz {

struct MemberRow {
    int64_t id = 0;
    int64_t members = 0;       // NULL counts as 0
    const char* title = nullptr;  // nullptr: no title
    std::size_t title_len = 0;
};

// Where a row (id, members) enters `top`, sorted most members first and then
// by id, which holds `count` of at most `limit` rows; -1 when it does not.
// The caller shifts top[slot..] down by one and stores the row at `slot`.
int member_rank_slot(const MemberRow* top, int count, int limit, int64_t id, int64_t members) noexcept;

// {"channels":[{"name":..,"members":..},..],"groups":[..]} in rank order.
std::string members_chart_json(const MemberRow* channels, int channel_count, const MemberRow* groups,
                               int group_count);

}  // namespace nz

#include "pure_cpp_only.hpp"
