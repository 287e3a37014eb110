// The rollup build's own read of the raw rows (rollup_build_scan.cpp),
// shared by rollup_build_scan() (the quarter hours as arrays) and the
// set-returning rollup_verification_rows() / rollup_api_call_rows()
// (rollup_build_rows_fn.cpp, one row at a time).
#pragma once

#include "rollup_build_rows.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace nz::pg {

// Whether source names verification_log (true) or api_call_log (false); an
// ERROR (22023) for any other name.
bool build_source_is_verification(text* source, const char* function_name);

// Whether read_build_source() may read bot.<source> (open_readable_bot_table():
// SELECT privilege, no row-level security, not SERIALIZABLE, a plain heap
// table ...; and every column of the bot's type).
bool build_source_readable(const char* schema, bool verification);

// Folds the rows of schema.<source> with lo <= "timestamp" < hi into state:
// whole_table, one sequential scan (with parallel workers of its own for a
// large table); otherwise through the "timestamp" index.  False, reading
// nothing, where build_source_readable() is false.
bool read_build_source(const char* schema, bool verification, TimestampTz lo, TimestampTz hi, bool whole_table,
                       RollupBuildState* state);

}  // namespace nz::pg
