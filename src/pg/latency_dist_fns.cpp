// Reading a latency_dist: percentile, percentiles, count, mean.
#include <cmath>

#include "../core/latency_distribution.hpp"
#include "pg_arrays.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
}

namespace {

// The stored value, validated.  EncodedDistribution is a plain view (no
// destructor), so holding one while PostgreSQL may raise is fine.
nz::EncodedDistribution dist_arg(FunctionCallInfo fcinfo, int argno) {
    struct varlena* value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(argno));
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(value));
    std::size_t len = VARSIZE_ANY_EXHDR(value);
    alignas(nz::EncodedDistribution) unsigned char storage[sizeof(nz::EncodedDistribution)];
    nz::pg::run_core("latency_dist", [&] { new (storage) nz::EncodedDistribution(data, len); });
    return *reinterpret_cast<nz::EncodedDistribution*>(storage);
}

bool percentile_of(const nz::EncodedDistribution& d, double p, double* out) {
    bool found = false;
    nz::pg::run_core("percentile", [&] { found = d.percentile(p, out); });
    return found;
}

}  // namespace

NZ_PG_FUNCTION(nz_latency_dist_percentile) {
    nz::EncodedDistribution d = dist_arg(fcinfo, 0);
    double result = 0;
    if (!percentile_of(d, PG_GETARG_FLOAT8(1), &result)) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(result);
}

NZ_PG_FUNCTION(nz_latency_dist_percentiles) {
    nz::EncodedDistribution d = dist_arg(fcinfo, 0);
    if (d.count() == 0) PG_RETURN_NULL();  // as percentile_cont(float8[]) over no rows
    ArrayType* ps = PG_GETARG_ARRAYTYPE_P(1);
    if (ARR_NDIM(ps) > 1)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("percentiles must be a one-dimensional array")));
    Datum* values;
    bool* nulls;
    int n;
    deconstruct_array(ps, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &values, &nulls, &n);
    Datum* out = static_cast<Datum*>(palloc(sizeof(Datum) * static_cast<std::size_t>(n > 0 ? n : 1)));
    bool* out_nulls = static_cast<bool*>(palloc(sizeof(bool) * static_cast<std::size_t>(n > 0 ? n : 1)));
    for (int i = 0; i < n; ++i) {
        double r = 0;
        out_nulls[i] = nulls[i] || !percentile_of(d, DatumGetFloat8(values[i]), &r);
        out[i] = Float8GetDatum(r);
    }
    int dims[1] = {n};
    int lbs[1] = {1};
    PG_RETURN_ARRAYTYPE_P(construct_md_array(out, out_nulls, n > 0 ? 1 : 0, dims, lbs, FLOAT8OID, sizeof(float8),
                                             FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

NZ_PG_FUNCTION(nz_latency_dist_count) {
    nz::EncodedDistribution d = dist_arg(fcinfo, 0);
    if (d.count() > static_cast<uint64_t>(PG_INT64_MAX))
        ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE), errmsg("latency_dist count is out of range for bigint")));
    PG_RETURN_INT64(static_cast<int64>(d.count()));
}

NZ_PG_FUNCTION(nz_latency_dist_mean) {
    nz::EncodedDistribution d = dist_arg(fcinfo, 0);
    double m = 0;
    if (!d.mean(&m)) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(m);
}
