// The module's magic block, its settings, and nezuko_analytics.version(),
// which proves the C++ module loads.
#include "../core/version.hpp"
#include "pg_boundary.hpp"
#include "settings.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/guc.h"
PG_MODULE_MAGIC;
PGDLLEXPORT void _PG_init(void);
}

namespace nz::pg {
bool native_reads_enabled = true;
bool use_rollups = true;
int small_window_rows = kSmallWindowRowsDefault;
}

void _PG_init(void) {
    DefineCustomBoolVariable("nezuko_analytics.native_reads",
                             "Lets the fixed-window contracts read the bot's tables without the executor.",
                             "Off: every contract runs its SQL query instead (same results, the executor's speed).",
                             &nz::pg::native_reads_enabled, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("nezuko_analytics.use_rollups",
                             "Lets the readers take materialized quarter hours from the rollups.",
                             "Off: every reader reads the raw rows only (same results, docs/rollups.md).",
                             &nz::pg::use_rollups, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    // read by SQL only (nezuko_analytics.small_window_rows(), which falls
    // back to the same default before this module is loaded)
    DefineCustomIntVariable("nezuko_analytics.small_window_rows",
                            "A window holding at most this many rows is read by one plain query.",
                            "0: every window is read by the reads built for long windows (same results, docs/portable.md).",
                            &nz::pg::small_window_rows, nz::pg::kSmallWindowRowsDefault, 0, 999999999, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    MarkGUCPrefixReserved("nezuko_analytics");
}

NZ_PG_FUNCTION(nz_version) {
    (void) fcinfo;
    return CStringGetTextDatum(nz::kExtensionVersion);
}
