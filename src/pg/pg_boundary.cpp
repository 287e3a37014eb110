// Raising a captured C++ error as a PostgreSQL ERROR (see pg_boundary.hpp).
#include "pg_boundary.hpp"

extern "C" {
#include "utils/elog.h"
}

namespace nz::pg {

void raise(const CaughtError& err, const char* function_name) {
    if (err.sqlstate == ERRCODE_INTERNAL_ERROR)
        ereport(ERROR, (errcode(err.sqlstate),
                        errmsg("nezuko_analytics internal error in %s: %s", function_name, err.message)));
    ereport(ERROR, (errcode(err.sqlstate), errmsg("%s", err.message)));
    pg_unreachable();
}

}  // namespace nz::pg
