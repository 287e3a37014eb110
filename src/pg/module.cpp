// The module's magic block and nezuko_analytics.version(), which proves the
// C++ module loads.
#include "../core/version.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "utils/builtins.h"
PG_MODULE_MAGIC;
}

NZ_PG_FUNCTION(nz_version) {
    (void) fcinfo;
    return CStringGetTextDatum(nz::kExtensionVersion);
}
