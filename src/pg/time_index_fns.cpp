// time_led_index(bot, relname, columns) -> regclass: the one rule for "an
// index led by timestamp" (leading_index() in window_scan.cpp), for SQL too:
// the native reads use it, and latency_percentiles() / latency_histogram()
// steer their query to an index-only scan only where it finds an index.
#include "pg_boundary.hpp"
#include "window_scan.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

NZ_PG_FUNCTION(nz_time_led_index) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("time_led_index: arguments must not be NULL")));
    const char* schema = NameStr(*PG_GETARG_NAME(0));
    char* relname = text_to_cstring(PG_GETARG_TEXT_PP(1));
    Datum* names;
    bool* nulls;
    int ncols;
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), TEXTOID, -1, false, TYPALIGN_INT, &names, &nulls, &ncols);
    if (ncols > nz::pg::kMaxScanColumns)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("time_led_index: at most %d columns, not %d", nz::pg::kMaxScanColumns, ncols)));
    Oid relid = get_relname_relid(relname, get_namespace_oid(schema, false));
    if (!OidIsValid(relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("relation \"%s.%s\" does not exist", schema, relname)));
    Relation rel = table_open(relid, AccessShareLock);
    AttrNumber cols[nz::pg::kMaxScanColumns];
    bool all_found = true;
    for (int i = 0; i < ncols; ++i) {
        cols[i] = nulls[i] ? InvalidAttrNumber : get_attnum(relid, TextDatumGetCString(names[i]));
        all_found = all_found && cols[i] != InvalidAttrNumber;
    }
    AttrNumber ts = nz::pg::column_of_type(rel, "timestamp", TIMESTAMPTZOID, InvalidOid);
    Oid index = all_found && ts != InvalidAttrNumber ? nz::pg::leading_index(rel, ts, ncols, cols) : InvalidOid;
    table_close(rel, AccessShareLock);
    if (!OidIsValid(index)) PG_RETURN_NULL();
    PG_RETURN_OID(index);
}
