// The aggregate hourly_status_counts(timestamptz, status text, tz_offsets
// bigint[]) -> text behind hourly_activity(): counts of verified, restricted
// and error rows by local hour of day, as the keyed JSON array that the
// dashboard's "hours" also is.
#include <new>

#include "../core/hourly_status_counts.hpp"
#include "core_text.hpp"
#include "palloc_resource.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"
#include "tz_offsets_arg.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace {

constexpr const char* kName = "hourly_status_counts";

struct HourlyState {
    nz::pg::PallocResource resource;
    nz::TimeZoneSegments tz;  // from the rows' tz_offsets argument (not serialized: workers place rows themselves)
    nz::HourCounts hours;
    explicit HourlyState(MemoryContext context) : resource(context), tz(&resource) {}
};

HourlyState* new_state(MemoryContext context) {
    return new (MemoryContextAlloc(context, sizeof(HourlyState))) HourlyState(context);
}

}  // namespace

NZ_PG_FUNCTION(nz_hourly_status_counts_add) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, kName);
    HourlyState* state = nz::pg::state_arg<HourlyState>(fcinfo, 0);
    if (state == nullptr) state = new_state(context);
    nz::pg::read_tz_offsets(fcinfo, 3, state->tz, kName);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
        text* status = PG_GETARG_TEXT_PP(2);
        if (!TIMESTAMP_NOT_FINITE(ts))
            state->hours.add(state->tz.local_day_hour(ts).hour,
                             nz::classify_status(VARDATA_ANY(status), VARSIZE_ANY_EXHDR(status)));
    }
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_hourly_status_counts_combine) {
    return nz::pg::combine_states<HourlyState>(fcinfo, kName, new_state,
                                               [](HourlyState* a, HourlyState* b) { a->hours.merge(b->hours); });
}

NZ_PG_FUNCTION(nz_hourly_status_counts_serialize) {
    HourlyState* state = nz::pg::state_arg<HourlyState>(fcinfo, 0);
    bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + nz::HourCounts::kEncodedSize));
    SET_VARSIZE(out, VARHDRSZ + nz::HourCounts::kEncodedSize);
    state->hours.encode_to(reinterpret_cast<uint8_t*>(VARDATA(out)));
    PG_RETURN_BYTEA_P(out);
}

NZ_PG_FUNCTION(nz_hourly_status_counts_deserialize) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, kName);
    bytea* in = PG_GETARG_BYTEA_PP(0);
    HourlyState* state = new_state(context);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    nz::pg::run_core(kName, [&] { state->hours.merge_encoded(data, len); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_hourly_status_counts_final) {
    HourlyState* state = nz::pg::state_arg<HourlyState>(fcinfo, 0);
    nz::HourCounts none;
    const nz::HourCounts& hours = state == nullptr ? none : state->hours;
    PG_RETURN_TEXT_P(nz::pg::text_from_core(kName, [&] {
        nz::JsonWriter j;
        hours.write_json(j);
        return std::move(j.out());
    }));
}
