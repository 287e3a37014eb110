// Reading the bot's tables without the executor, for the fixed-window
// contracts (get_dashboard_stats, get_cache_breakdown, ...): the rows of a
// "timestamp" window come from a btree index that leads with "timestamp",
// index-only when that index holds every column asked for; otherwise the
// index gives the table pages to read, and those are read whole.  Executor
// overhead is most of the cost of a count over a few hundred thousand rows;
// this path avoids it and gives the same rows as a query would.
//
// The native path is only an optimisation.  It is refused (and the caller
// runs its SQL instead) when nezuko_analytics.native_reads is off, and
// whenever a query could see something else: the
// caller lacks SELECT on the table, the table has row-level security, or
// the transaction is SERIALIZABLE (a query would take predicate locks), the
// table has inheritance children (a query reads their rows too), or there is
// no MVCC snapshot to read with.
//
// Everything here is plain data and PostgreSQL calls: an ERROR inside a scan
// (cancel, out of memory) unwinds no C++ destructor.  Relations, buffers and
// scans left open by an ERROR are released by the transaction's resource owner.
#pragma once

#include "pg_boundary.hpp"
#include "plain_text.hpp"

extern "C" {
#include "access/attnum.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "storage/block.h"
#include "utils/relcache.h"
}

namespace nz::pg {

// The table schema.relname, opened with AccessShareLock when the native path
// may read it (see above), else nullptr.  ERROR when the table is missing.
Relation open_readable_bot_table(const char* schema, const char* relname);
void close_bot_table(Relation rel);

// Attribute number of column `name` when it has one of the types (and, for
// text, a deterministic collation), else InvalidAttrNumber.  (type_b may be
// InvalidOid.)
AttrNumber column_of_type(Relation rel, const char* name, Oid type_a, Oid type_b);

// A valid, non-partial btree index of plain columns whose first key is
// `leading` (a timestamptz, in its default ascending order, NULLs last): the
// narrowest one that holds all `ncols` columns, or, with ncols == 0, the
// narrowest of all.  InvalidOid when there is none.
Oid leading_index(Relation rel, AttrNumber leading, int ncols, const AttrNumber* cols);

// Called once per visible row with values[i], isnull[i] of cols[i]; the
// values point into a buffer or index page and are valid for the call only.
// It runs in the scan's memory context, once per row of a window that may
// hold millions: what it allocates for one row (a detoasted value, see
// plain_text.hpp) it frees.
using RowVisitor = void (*)(void* acc, const Datum* values, const bool* isnull);

constexpr int kMaxScanColumns = 8;

// Visits every row of rel visible to the active snapshot (a sequential scan).
void scan_table(Relation rel, int ncols, const AttrNumber* cols, RowVisitor visit, void* acc);
// The same for the pages [first, first + count) only.
void scan_table_pages(Relation rel, BlockNumber first, BlockNumber count, int ncols, const AttrNumber* cols,
                      RowVisitor visit, void* acc);

// How to read `cols` of a window of rel: the table's "timestamp" column
// (timestamptz), and the index to read them through, index-only when it holds
// them all.  index is InvalidOid when a column is missing (InvalidAttrNumber
// in cols) or there is no "timestamp"-led index.
struct WindowRead {
    AttrNumber ts = InvalidAttrNumber;
    Oid index = InvalidOid;
    bool index_only = false;
};
WindowRead plan_window_read(Relation rel, int ncols, const AttrNumber* cols);

// One read of a window: the rows of rel with since <= "timestamp" (< until
// when until is finite), read as `plan` says, and what to do with them.
struct WindowScan {
    Relation rel;
    WindowRead plan;
    TimestampTz since, until;
    int ncols = 0;
    AttrNumber cols[kMaxScanColumns] = {};  // the columns handed to visit, in this order
    RowVisitor visit = nullptr;
    void* acc = nullptr;
    const char* what = "";  // names the read in DEBUG1 messages

    WindowScan(Relation rel_, const WindowRead& plan_, TimestampTz since_, TimestampTz until_)
        : rel(rel_), plan(plan_), since(since_), until(until_) {}
    WindowScan& column(AttrNumber col) {
        Assert(ncols < kMaxScanColumns);
        cols[ncols++] = col;
        return *this;
    }
    WindowScan& visiting(RowVisitor visit_, void* acc_, const char* what_) {
        visit = visit_;
        acc = acc_;
        what = what_;
        return *this;
    }
};

// Visits every row of the window visible to the active snapshot, through
// plan.index (led by "timestamp"): index-only when plan.index_only (the index
// holds all cols), else the table pages the index points to are read.  Says
// which way at DEBUG1.
void read_window(const WindowScan& scan);

// The name of an index, for DEBUG messages.
const char* index_name(Oid index);

}  // namespace nz::pg
