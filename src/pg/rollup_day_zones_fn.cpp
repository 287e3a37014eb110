// rollup_day_zones(source text, zones text[]) -> text[]: the zones of zones
// whose local days rollup_days keeps for source (docs/rollups.md, "Local
// days"): every one for verification_log (the dashboard reads its days in
// the caller's zone), 'UTC' alone for api_call_log (the calls have no local
// time: its readers take the UTC days for a window in any zone).  Any other
// source keeps zones as given.  NULL elements are not zones: left out for
// api_call_log, as the SQL function of 1.16 to 1.19 left them.  In C because
// every refresh, in the new session pg_cron starts for it, asks it for each
// table, where a SQL function's query is parsed and planned at each call.
#include "pg_boundary.hpp"
#include "plain_text.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
}

NZ_PG_FUNCTION(nz_rollup_day_zones) {
    ArrayType* zones = PG_GETARG_ARRAYTYPE_P(1);
    if (!nz::pg::text_equals(PG_GETARG_TEXT_PP(0), "api_call_log")) PG_RETURN_ARRAYTYPE_P(zones);
    if (ARR_ELEMTYPE(zones) != TEXTOID)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("rollup_day_zones: zones must be a text[]")));
    Datum* elems = nullptr;
    bool* nulls = nullptr;
    int n = 0;
    deconstruct_array(zones, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    int kept = 0;
    for (int i = 0; i < n; ++i)
        if (!nulls[i] && nz::pg::text_equals(DatumGetTextPP(elems[i]), "UTC")) elems[kept++] = elems[i];
    PG_RETURN_ARRAYTYPE_P(construct_array(elems, kept, TEXTOID, -1, false, TYPALIGN_INT));
}
