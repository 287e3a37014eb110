// rollup_pending_runs(buckets, horizon, built_from, watermark)
//     -> (los timestamptz[], his timestamptz[])
// The runs [los[i], his[i]) of pending quarter hours that a refresh of the
// rollups computes again (core/pending_runs.hpp has the rule).  A C function
// because the refresh runs in a new session every minute (pg_cron), where a
// SQL function's query is parsed and planned at each call.
#include <vector>

#include "../core/pending_runs.hpp"
#include "named_record.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/timestamp.h"
}

namespace {

constexpr const char* kName = "rollup_pending_runs";

TimestampTz time_arg(FunctionCallInfo fcinfo, int n, const char* argument) {
    if (PG_ARGISNULL(n))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: %s must not be NULL", kName, argument)));
    return PG_GETARG_TIMESTAMPTZ(n);
}

static_assert(DT_NOBEGIN == nz::kTimeMinusInfinity && DT_NOEND == nz::kTimeInfinity,
              "the core's infinite times are PostgreSQL's");

Datum time_array(Datum* times, int n) {
    return PointerGetDatum(construct_array(times, n, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

}  // namespace

// Not strict: NULL buckets (no pending rows; array_agg of none) is no runs.
NZ_PG_FUNCTION(nz_rollup_pending_runs) {
    TimestampTz horizon = time_arg(fcinfo, 1, "horizon");
    TimestampTz built_from = time_arg(fcinfo, 2, "built_from");
    TimestampTz watermark = time_arg(fcinfo, 3, "watermark");
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int count = 0;
    if (!PG_ARGISNULL(0)) {
        ArrayType* buckets = PG_GETARG_ARRAYTYPE_P(0);
        if (ARR_ELEMTYPE(buckets) != TIMESTAMPTZOID)
            ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("%s: buckets must be timestamptz[]", kName)));
        deconstruct_array(buckets, TIMESTAMPTZOID, sizeof(TimestampTz), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls,
                          &count);
    }
    // At most one run per bucket, and the run of a TRUNCATE: room for them
    // before the vectors of run_core(), which calls no PostgreSQL function.
    auto* los = static_cast<Datum*>(palloc(sizeof(Datum) * (static_cast<std::size_t>(count) + 1)));
    auto* his = static_cast<Datum*>(palloc(sizeof(Datum) * (static_cast<std::size_t>(count) + 1)));
    int nruns = 0;
    nz::pg::run_core(kName, [&] {
        std::vector<int64_t> pending;
        pending.reserve(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i)
            if (!nulls[i]) pending.push_back(DatumGetTimestampTz(elems[i]));  // a NULL stands for nothing
        for (const nz::TimeRun& run : nz::pending_runs(std::move(pending), horizon, built_from, watermark)) {
            los[nruns] = TimestampTzGetDatum(run.lo);
            his[nruns] = TimestampTzGetDatum(run.hi);
            ++nruns;
        }
    });
    nz::pg::NamedRecord result(fcinfo, kName);
    result.set("los", time_array(los, nruns));
    result.set("his", time_array(his, nruns));
    return result.datum();
}
