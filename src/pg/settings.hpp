// The extension's settings (GUCs), defined when the module loads.
#pragma once

namespace nz::pg {

// nezuko_analytics.native_reads (default on, any user, per session): off
// sends every read to its SQL query instead of the executor-free path.
extern bool native_reads_enabled;

// nezuko_analytics.use_rollups (default on, any user, per session): off makes
// every reader use the raw rows only (read in SQL by use_rollups()).
extern bool use_rollups;

// nezuko_analytics.small_window_rows (any user, per session): a window
// holding at most this many rows is read by one plain query (read in SQL by
// small_window_rows(), whose fallback before the module loads is this
// default too; the regression tests compare the two).
constexpr int kSmallWindowRowsDefault = 20000;
extern int small_window_rows;

}  // namespace nz::pg
