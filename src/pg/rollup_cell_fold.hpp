// One rollup row folded into the dashboard's summary state: a quarter hour
// of rollup_verifications into verification_summary's, one method's quarter
// hour of rollup_api_calls into api_summary's.  The aggregates' parts over
// rollups (rollup_summary_agg.cpp, where the row is an argument) and the
// local days made without the executor (rollup_day_states_fn.cpp, where it
// is a row of the table) both fold through here, so a day is the same
// whichever made it.  Each caller finds the fields' places by the names
// below and hands them over as get(i, &isnull), i the place in the names.
#pragma once

#include "../core/dashboard_summary.hpp"
#include "pg_boundary.hpp"
#include "summary_state.hpp"

extern "C" {
#include "fmgr.h"
#include "utils/timestamp.h"
}

namespace nz::pg {

constexpr const char* kQuarterHourFields[] = {"bucket", "total",  "verified", "restricted",
                                             "error",  "cached", "latencies", "groups"};
constexpr const char* kApiCellFields[] = {"method", "calls", "ok", "failures", "latencies"};

// Field i of a rollup row; an ERROR when it is NULL.
template <typename Get>
Datum required_cell_field(Get& get, int i, const char* const* names, const char* fn) {
    bool isnull = false;
    Datum value = get(i, &isnull);
    if (isnull)
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                        errmsg("%s: field \"%s\" of a rollup row is NULL", fn, names[i])));
    return value;
}

// A count field of a rollup row; an ERROR when it is negative.
inline uint64_t cell_count_field(int64 value, const char* name, const char* fn) {
    if (value < 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: field \"%s\" of a rollup row is negative", fn, name)));
    return static_cast<uint64_t>(value);
}

// Adds a quarter hour of rollup_verifications (fields as kQuarterHourFields)
// to state.  With skip_negative, a quarter hour with a negative latency is
// left out whole and the result is false (a local day holding one has no
// summary: the readers refuse it from its quarter hours, as from its raw
// rows); without, the summary refuses it with an ERROR.
template <typename Get>
bool fold_quarter_hour(VState* state, Get&& get, const char* fn, bool skip_negative) {
    const char* const* names = kQuarterHourFields;
    nz::QuarterHourCounts c;
    c.start = DatumGetTimestampTz(required_cell_field(get, 0, names, fn));
    c.total = cell_count_field(DatumGetInt64(required_cell_field(get, 1, names, fn)), "total", fn);
    c.verified = cell_count_field(DatumGetInt64(required_cell_field(get, 2, names, fn)), "verified", fn);
    c.restricted = cell_count_field(DatumGetInt64(required_cell_field(get, 3, names, fn)), "restricted", fn);
    c.error = cell_count_field(DatumGetInt64(required_cell_field(get, 4, names, fn)), "error", fn);
    c.cached = cell_count_field(DatumGetInt64(required_cell_field(get, 5, names, fn)), "cached", fn);
    struct varlena* latencies = PG_DETOAST_DATUM_PACKED(required_cell_field(get, 6, names, fn));
    struct varlena* groups = PG_DETOAST_DATUM_PACKED(required_cell_field(get, 7, names, fn));
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(latencies));
    std::size_t len = VARSIZE_ANY_EXHDR(latencies);
    const auto* group_data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(groups));
    std::size_t group_len = VARSIZE_ANY_EXHDR(groups);
    if (TIMESTAMP_NOT_FINITE(c.start))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s: a rollup row has an infinite bucket", fn)));
    bool added = false;
    run_core(fn, [&] {
        nz::EncodedDistribution dist(data, len);
        int32_t lowest = 0;
        if (skip_negative && dist.lowest(&lowest) && lowest < 0) return;
        state->summary.add_quarter_hour(c, dist, nz::EncodedGroupCounts(group_data, group_len));
        added = true;
    });
    return added;
}

// Adds one method's quarter hour of rollup_api_calls (fields as
// kApiCellFields) to state.
template <typename Get>
void fold_api_cell(AState* state, Get&& get, const char* fn) {
    const char* const* names = kApiCellFields;
    text* method = DatumGetTextPP(required_cell_field(get, 0, names, fn));
    uint64_t calls = cell_count_field(DatumGetInt64(required_cell_field(get, 1, names, fn)), "calls", fn);
    uint64_t ok = cell_count_field(DatumGetInt64(required_cell_field(get, 2, names, fn)), "ok", fn);
    uint64_t failures = cell_count_field(DatumGetInt64(required_cell_field(get, 3, names, fn)), "failures", fn);
    struct varlena* latencies = PG_DETOAST_DATUM_PACKED(required_cell_field(get, 4, names, fn));
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(latencies));
    std::size_t len = VARSIZE_ANY_EXHDR(latencies);
    const char* name = VARDATA_ANY(method);
    std::size_t name_len = VARSIZE_ANY_EXHDR(method);
    run_core(fn, [&] {
        state->summary.add_counts(name, name_len, calls, ok, failures, nz::EncodedDistribution(data, len));
    });
}

}  // namespace nz::pg
