// The aggregate status_quarter_hours(timestamptz, status text) -> bigint[]
// behind hourly_activity(): counts of verified, restricted and error rows per
// UTC quarter hour, flattened as {quarter, verified, restricted, error, ...}.
#include <new>

#include "../core/quarter_hour_counts.hpp"
#include "palloc_resource.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/timestamp.h"
}

namespace {

struct QuarterState {
    nz::pg::PallocResource resource;
    nz::QuarterHourCounts counts;
    explicit QuarterState(MemoryContext context) : resource(context), counts(&resource) {}
};

QuarterState* new_state(MemoryContext context) {
    return new (MemoryContextAlloc(context, sizeof(QuarterState))) QuarterState(context);
}

}  // namespace

NZ_PG_FUNCTION(nz_quarter_hours_add) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "status_quarter_hours");
    QuarterState* state = nz::pg::state_arg<QuarterState>(fcinfo, 0);
    if (state == nullptr) state = new_state(context);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
        text* status = PG_GETARG_TEXT_PP(2);
        nz::VerificationStatus s = nz::classify_status(VARDATA_ANY(status), VARSIZE_ANY_EXHDR(status));
        if (!TIMESTAMP_NOT_FINITE(ts))
            nz::pg::run_core("status_quarter_hours", [&] { state->counts.add(ts, s); });
    }
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_quarter_hours_combine) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "status_quarter_hours");
    QuarterState* a = nz::pg::state_arg<QuarterState>(fcinfo, 0);
    QuarterState* b = nz::pg::state_arg<QuarterState>(fcinfo, 1);
    if (b == nullptr) PG_RETURN_POINTER(a);
    if (a == nullptr) a = new_state(context);
    nz::pg::run_core("status_quarter_hours", [&] { a->counts.merge(b->counts); });
    PG_RETURN_POINTER(a);
}

NZ_PG_FUNCTION(nz_quarter_hours_serialize) {
    QuarterState* state = nz::pg::state_arg<QuarterState>(fcinfo, 0);
    std::size_t size = state->counts.encoded_size();
    bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + size));
    SET_VARSIZE(out, VARHDRSZ + size);
    nz::pg::run_core("status_quarter_hours", [&] { state->counts.encode_to(reinterpret_cast<uint8_t*>(VARDATA(out))); });
    PG_RETURN_BYTEA_P(out);
}

NZ_PG_FUNCTION(nz_quarter_hours_deserialize) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "status_quarter_hours");
    bytea* in = PG_GETARG_BYTEA_PP(0);
    QuarterState* state = new_state(context);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    nz::pg::run_core("status_quarter_hours", [&] { state->counts.merge_encoded(data, len); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_quarter_hours_final) {
    QuarterState* state = nz::pg::state_arg<QuarterState>(fcinfo, 0);
    if (state == nullptr) PG_RETURN_ARRAYTYPE_P(construct_empty_array(INT8OID));
    nz::pg::run_core("status_quarter_hours", [&] { state->counts.sort(); });
    const auto& slots = state->counts.slots();
    std::size_t n = slots.size() * (1 + nz::kCountedStatuses);
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (n ? n : 1)));
    std::size_t k = 0;
    for (const auto& s : slots) {
        elems[k++] = Int64GetDatum(s.quarter);
        for (int j = 0; j < nz::kCountedStatuses; ++j) elems[k++] = Int64GetDatum(static_cast<int64>(s.counts[j]));
    }
    PG_RETURN_ARRAYTYPE_P(construct_array(elems, static_cast<int>(n), INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
