// get_members_chart_data's ranking and document (see members_chart.hpp).
#include "members_chart.hpp"

#include "json_writer.hpp"

namespace nz {

namespace {

bool ranks_before(int64_t id, int64_t members, const MemberRow& other) noexcept {
    return members > other.members || (members == other.members && id < other.id);
}

void write_rows(JsonWriter& w, const char* key, const char* prefix, const MemberRow* rows, int count) {
    w.key(key).begin_array();
    for (int i = 0; i < count; ++i) {
        const MemberRow& r = rows[i];
        w.begin_object().key("name");
        if (r.title != nullptr) {
            w.string(r.title, r.title_len);
        } else {
            std::string name = std::string(prefix) + std::to_string(r.id);
            w.string(name.data(), name.size());
        }
        w.key("members").integer(r.members).end_object();
    }
    w.end_array();
}

}  // namespace

int member_rank_slot(const MemberRow* top, int count, int limit, int64_t id, int64_t members) noexcept {
    int slot = count;
    while (slot > 0 && ranks_before(id, members, top[slot - 1])) --slot;
    return slot < limit ? slot : -1;
}

std::string members_chart_json(const MemberRow* channels, int channel_count, const MemberRow* groups,
                               int group_count) {
    JsonWriter w;
    w.begin_object();
    write_rows(w, "channels", "Channel ", channels, channel_count);
    write_rows(w, "groups", "Group ", groups, group_count);
    w.end_object();
    return std::move(w.out());
}

}  // namespace nz
