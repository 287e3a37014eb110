// Entry points that the SQL of an older version declares and this module no
// longer serves in that form.  PostgreSQL checks every C function of a
// script when it runs, so `CREATE EXTENSION nezuko_analytics VERSION '1.1'`
// (and an upgrade that starts there) needs each of these symbols to exist.
// A database whose SQL is older than the module gets a clear error from them
// until ALTER EXTENSION nezuko_analytics UPDATE brings its SQL to the
// module's version; never a result in a shape its SQL does not expect.
#include "../core/version.hpp"
#include "pg_boundary.hpp"

namespace {

[[noreturn]] void retired(const char* symbol, const char* replaced_in) {
    ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                    errmsg("nezuko_analytics: the SQL of this database is older than its module (version %s)",
                           nz::kExtensionVersion),
                    errdetail("The C function %s was replaced in version %s.", symbol, replaced_in),
                    errhint("Run ALTER EXTENSION nezuko_analytics UPDATE;")));
}

}  // namespace

#define NZ_RETIRED(symbol, replaced_in) \
    NZ_PG_FUNCTION(symbol) { retired(#symbol, replaced_in); }

// 1.2: the aggregates' documents name every figure (no positional arrays).
NZ_RETIRED(nz_vsummary_final, "1.2")
NZ_RETIRED(nz_asummary_final, "1.2")
// 1.2: status_quarter_hours became hourly_status_counts (local hours in C++).
NZ_RETIRED(nz_quarter_hours_add, "1.2")
NZ_RETIRED(nz_quarter_hours_combine, "1.2")
NZ_RETIRED(nz_quarter_hours_serialize, "1.2")
NZ_RETIRED(nz_quarter_hours_deserialize, "1.2")
NZ_RETIRED(nz_quarter_hours_final, "1.2")
// 1.2: the native reads return named records, not arrays read by position.
NZ_RETIRED(nz_native_verification_counts, "1.2")
NZ_RETIRED(nz_native_groups_status, "1.2")
// 1.7: groups are counted per quarter hour (rollup_verifications.groups), not
// per UTC day; the readers take whole local days from rollup_days.
NZ_RETIRED(nz_vrollup_rows_add, "1.7")
NZ_RETIRED(nz_vrollup_rows_final, "1.7")
NZ_RETIRED(nz_vgroup_days_add, "1.7")
NZ_RETIRED(nz_vgroup_days_final, "1.7")
NZ_RETIRED(nz_vsummary_parts_add, "1.7")
