// Reading a "timestamp" window of a bot table without the executor; see
// window_scan.hpp for when this path is taken and why it is safe.
#include "window_scan.hpp"

#include "settings.hpp"

#include <array>
#include <utility>

extern "C" {
#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opclass.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "nodes/pg_list.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace nz::pg {

namespace {

// How many rows between checks for a cancel request.
constexpr int kRowsPerCheck = 4096;

bool index_holds(Form_pg_index index, AttrNumber col) {
    for (int k = 0; k < index->indnatts; ++k)
        if (index->indkey.values[k] == col) return true;
    return false;
}

}  // namespace

Relation open_readable_bot_table(const char* schema, const char* relname) {
    Oid nsp = get_namespace_oid(schema, false);
    Oid relid = get_relname_relid(relname, nsp);
    if (!OidIsValid(relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("relation \"%s.%s\" does not exist", schema, relname)));
    if (!native_reads_enabled || IsolationIsSerializable()) return nullptr;
    if (!ActiveSnapshotSet() || !IsMVCCSnapshot(GetActiveSnapshot())) return nullptr;
    if (pg_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE) != ACLCHECK_OK) return nullptr;
    if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK) return nullptr;
    if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED) return nullptr;
    Relation rel = table_open(relid, AccessShareLock);
    // a view, a foreign or partitioned table, another table access method: let a query read it
    // (or another session's temporary table, which only a query can refuse properly)
    // (or a table with inheritance children, whose rows a query reads too)
    if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
        RELATION_IS_OTHER_TEMP(rel) || rel->rd_rel->relhassubclass) {
        table_close(rel, AccessShareLock);
        return nullptr;
    }
    return rel;
}

void close_bot_table(Relation rel) {
    table_close(rel, AccessShareLock);
}

AttrNumber column_of_type(Relation rel, const char* name, Oid type_a, Oid type_b) {
    TupleDesc desc = RelationGetDescr(rel);
    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped || std::strcmp(NameStr(att->attname), name) != 0) continue;
        if (att->atttypid != type_a && (!OidIsValid(type_b) || att->atttypid != type_b)) return InvalidAttrNumber;
        // Bytes are compared natively; a query with a case-insensitive
        // (nondeterministic) collation would match more.
        if (OidIsValid(att->attcollation) && !get_collation_isdeterministic(att->attcollation))
            return InvalidAttrNumber;
        return att->attnum;
    }
    return InvalidAttrNumber;
}

Oid leading_index(Relation rel, AttrNumber leading, int ncols, const AttrNumber* cols) {
    List* indexes = RelationGetIndexList(rel);
    Oid time_family = get_opclass_family(TIMESTAMPTZ_BTREE_OPS_OID);
    Oid best = InvalidOid;
    int best_natts = 0;
    ListCell* lc;
    foreach (lc, indexes) {
        Oid index_oid = lfirst_oid(lc);
        Relation index = index_open(index_oid, AccessShareLock);
        Form_pg_index form = index->rd_index;
        // The scans below need timestamptz's own ascending order, NULLs last.
        bool usable = form->indisvalid && form->indisready && form->indislive &&
                      index->rd_rel->relam == BTREE_AM_OID && form->indnkeyatts > 0 &&
                      form->indkey.values[0] == leading && index->rd_opfamily[0] == time_family &&
                      (index->rd_indoption[0] & (INDOPTION_DESC | INDOPTION_NULLS_FIRST)) == 0 &&
                      heap_attisnull(index->rd_indextuple, Anum_pg_index_indpred, nullptr) &&
                      heap_attisnull(index->rd_indextuple, Anum_pg_index_indexprs, nullptr);
        for (int c = 0; usable && c < ncols; ++c) usable = index_holds(form, cols[c]);
        if (usable && (!OidIsValid(best) || form->indnatts < best_natts)) {
            best = index_oid;
            best_natts = form->indnatts;
        }
        index_close(index, AccessShareLock);
    }
    list_free(indexes);
    return best;
}

WindowRead plan_window_read(Relation rel, int ncols, const AttrNumber* cols) {
    WindowRead plan;
    plan.ts = column_of_type(rel, "timestamp", TIMESTAMPTZOID, InvalidOid);
    if (plan.ts == InvalidAttrNumber) return plan;
    for (int c = 0; c < ncols; ++c)
        if (cols[c] == InvalidAttrNumber) return plan;
    plan.index = leading_index(rel, plan.ts, ncols, cols);
    plan.index_only = OidIsValid(plan.index);
    if (!plan.index_only) plan.index = leading_index(rel, plan.ts, 0, nullptr);
    return plan;
}

const char* index_name(Oid index) {
    char* name = get_rel_name(index);
    return name ? name : "?";
}

namespace {

// The scan keys of [since, until) on the index's first column: the lower
// bound when asked for, the upper one when until is finite.  Returns how many.
int window_keys(ScanKeyData* keys, TimestampTz since, TimestampTz until, bool with_lower_bound) {
    int nkeys = 0;
    if (with_lower_bound)
        ScanKeyInit(&keys[nkeys++], 1, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE, TimestampTzGetDatum(since));
    if (!TIMESTAMP_IS_NOEND(until))
        ScanKeyInit(&keys[nkeys++], 1, BTLessStrategyNumber, F_TIMESTAMPTZ_LT, TimestampTzGetDatum(until));
    return nkeys;
}

// The state of one read while it runs.
struct RunningScan {
    const WindowScan& w;
    Relation index;
    Snapshot snapshot;
    int until_check = kRowsPerCheck;  // rows left before the next check for a cancel request
    Datum values[kMaxScanColumns + 1] = {};
    bool isnull[kMaxScanColumns + 1] = {};
};

// Every kRowsPerCheck rows (visited or passed over), checks for a cancel request.
inline void count_row(RunningScan& r) {
    if (--r.until_check == 0) {
        r.until_check = kRowsPerCheck;
        CHECK_FOR_INTERRUPTS();
    }
}

// Passes the row in r.values / r.isnull to the visitor (which runs in the
// scan's memory context and frees what it allocates: see RowVisitor).
inline void visit_row(RunningScan& r) {
    r.w.visit(r.w.acc, r.values, r.isnull);
    count_row(r);
}

// Where one wanted column sits in an index entry.  In an entry without NULLs
// whose columns before this one are all fixed-width, the column starts at the
// same offset from the entry's data in every entry (what index_getattr's
// attcacheoff caches): it is then read straight from there with fetch_att,
// without index_getattr's per-call checks.  offset < 0: not at a fixed offset.
struct EntryColumn {
    int attnum;  // in the index
    int offset = -1;
    bool byval = false;
    int16 len = 0;
};

EntryColumn lay_out(TupleDesc desc, int attnum) {
    EntryColumn c{attnum};
    int off = 0;
    for (int i = 0; i < attnum; ++i) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        int aligned = att_align_nominal(off, att->attalign);
        // A variable-width value is aligned only when its header is long:
        // its start is fixed only where `off` is aligned already.
        if (att->attlen < 0 && (i < attnum - 1 || aligned != off)) return c;
        off = aligned + (i < attnum - 1 ? att->attlen : 0);
        if (i == attnum - 1) {
            c.offset = off;
            c.byval = att->attbyval;
            c.len = att->attlen;
        }
    }
    return c;
}

// values = the column at `c` of an entry without NULLs whose data starts at `data`.
inline void read_column(const char* data, IndexTuple entry, TupleDesc desc, const EntryColumn& c, Datum& value,
                        bool& isnull) {
    isnull = false;
    value = c.offset >= 0 ? fetch_att(data + c.offset, c.byval, c.len) : index_getattr(entry, c.attnum, desc, &isnull);
}

// values[i], isnull[i] = column cols[i] of the entry, for the N columns read
// (N known when compiled: the columns are read one after the other, with no
// loop to run per entry).
template <std::size_t... I>
inline void read_entry(IndexTuple entry, TupleDesc desc, const EntryColumn* cols, Datum* values, bool* isnull,
                       std::index_sequence<I...> columns) {
    if (IndexTupleHasNulls(entry)) {
        for (std::size_t i = 0; i < columns.size(); ++i)
            values[i] = index_getattr(entry, cols[i].attnum, desc, &isnull[i]);
        return;
    }
    // without NULLs, the data follows the header (IndexInfoFindDataOffset)
    [[maybe_unused]] const char* data = reinterpret_cast<const char*>(entry) + MAXALIGN(sizeof(IndexTupleData));
    (read_column(data, entry, desc, cols[I], values[I], isnull[I]), ...);
}

// How the entries of one index-only read are taken.
struct EntryRead {
    IndexScanDesc scan;
    ScanDirection direction;
    bool open_ended;  // stop at the first entry before since (read backwards)
    int ts_at;        // where "timestamp" is in r.values (open-ended reads)
    TupleTableSlot* slot;
    const EntryColumn* cols;
};

// The loop of the index-only path, for entries of N wanted columns.
template <std::size_t N>
void read_entries(RunningScan& r, const EntryRead& e) {
    const WindowScan& w = r.w;
    IndexScanDesc scan = e.scan;
    Buffer vm_buffer = InvalidBuffer;
    for (ItemPointer tid; (tid = index_getnext_tid(scan, e.direction)) != nullptr;) {
        read_entry(scan->xs_itup, scan->xs_itupdesc, e.cols, r.values, r.isnull, std::make_index_sequence<N>{});
        if (e.open_ended) {
            if (r.isnull[e.ts_at]) continue;
            TimestampTz ts = DatumGetTimestampTz(r.values[e.ts_at]);
            if (ts < w.since) break;
            // "timestamp" < 'infinity', as the query has it: a row stamped
            // infinity is in no window (they come first, read backwards)
            if (TIMESTAMP_IS_NOEND(ts)) continue;
        }
        // As nodeIndexonlyscan.c does, for every entry: the entry alone is
        // enough when the visibility map says every row of its table page is
        // visible to everyone; otherwise the row itself decides.  (The map's
        // page stays pinned in vm_buffer: a check is a bit test.)  The check
        // must come while the entry's index page is still the one read:
        // VACUUM may free the entry's row, and set the bit, once the scan
        // has moved on.
        if (!VM_ALL_VISIBLE(w.rel, ItemPointerGetBlockNumber(tid), &vm_buffer)) {
            if (!index_fetch_heap(scan, e.slot)) continue;
            if (scan->xs_heap_continue)
                ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                                errmsg("nezuko_analytics: a non-MVCC snapshot cannot read an index alone")));
        }
        visit_row(r);
    }
    if (vm_buffer != InvalidBuffer) ReleaseBuffer(vm_buffer);
}

// read_entries<N> for N = 0 .. kMaxScanColumns + 1, by N.
template <std::size_t... I>
constexpr std::array<void (*)(RunningScan&, const EntryRead&), sizeof...(I)> entry_loops(std::index_sequence<I...>) {
    return {&read_entries<I>...};
}
constexpr auto kEntryLoops = entry_loops(std::make_index_sequence<kMaxScanColumns + 2>{});

// The index-only path: the wanted columns come from the index entries.
void scan_index_entries(RunningScan& r) {
    const WindowScan& w = r.w;
    // With no upper bound (the contracts' "timestamp >= now() - period"), the
    // index is read from its end backwards with no scan key, stopping at the
    // first entry before `since`: btree then checks no key on each entry.
    // (NULL times sort last, so they come first and are skipped.)
    bool open_ended = TIMESTAMP_IS_NOEND(w.until);
    ScanKeyData keys[2];
    int nkeys = window_keys(keys, w.since, w.until, !open_ended);

    // Each wanted column's place in the index entry, and then, when the
    // window is open-ended, "timestamp" (the index's first column) to stop at.
    TupleDesc desc = RelationGetDescr(r.index);
    EntryColumn cols[kMaxScanColumns + 1];
    int ts_at = -1;  // where "timestamp" is in r.values
    for (int c = 0; c < w.ncols; ++c) {
        for (int k = 0; k < r.index->rd_index->indnatts; ++k)
            if (r.index->rd_index->indkey.values[k] == w.cols[c]) cols[c] = lay_out(desc, k + 1);
        if (w.cols[c] == w.plan.ts) ts_at = c;
    }
    int nread = w.ncols;
    if (open_ended && ts_at < 0) {
        ts_at = nread;
        cols[nread++] = lay_out(desc, 1);
    }

    TupleTableSlot* slot = table_slot_create(w.rel, nullptr);
    IndexScanDesc scan = index_beginscan(w.rel, r.index, r.snapshot, nkeys, 0);
    scan->xs_want_itup = true;
    index_rescan(scan, keys, nkeys, nullptr, 0);
    EntryRead e{scan, open_ended ? BackwardScanDirection : ForwardScanDirection, open_ended, ts_at, slot, cols};
    kEntryLoops[nread](r, e);
    index_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
}

// Passes on the row in slot when it is in the window.
inline void visit_if_in_window(RunningScan& r, TupleTableSlot* slot) {
    const WindowScan& w = r.w;
    bool ts_null;
    Datum ts = slot_getattr(slot, w.plan.ts, &ts_null);
    if (ts_null || DatumGetTimestampTz(ts) < w.since || DatumGetTimestampTz(ts) >= w.until) {
        count_row(r);
        return;
    }
    for (int c = 0; c < w.ncols; ++c) r.values[c] = slot_getattr(slot, w.cols[c], &r.isnull[c]);
    visit_row(r);
}

// The rows of the window the index points to on one page, each fetched as
// an index scan fetches it (its HOT chain followed to the version this
// snapshot sees), the window checked again on the row.
void fetch_page_rows(RunningScan& r, IndexFetchTableData* fetch, TupleTableSlot* slot, const TBMIterateResult* page) {
    for (int i = 0; i < page->ntuples; ++i) {
        ItemPointerData tid;
        ItemPointerSet(&tid, page->blockno, page->offsets[i]);
        bool call_again = false, all_dead = false;
        if (table_index_fetch_tuple(fetch, &tid, r.snapshot, slot, &call_again, &all_dead))
            visit_if_in_window(r, slot);
        else
            count_row(r);
    }
}

// Reads pages [first, first + count) of the table whole, as a sequential
// scan does (page at a time, visibility per page where it is all-visible),
// passing on the rows of the window.
void scan_page_run(RunningScan& r, TableScanDesc scan, TupleTableSlot* slot, BlockNumber first, BlockNumber count) {
    table_rescan(scan, nullptr);
    heap_setscanlimits(scan, first, count);
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) visit_if_in_window(r, slot);
}

// A page the index points to fewer rows of than this is read row by row;
// from this many on (or when the bitmap kept only the page, past work_mem)
// it is read whole, with the pages next to it.
constexpr int kWholePageFrom = 16;

// The table-row path: the index gives the set of table pages that hold rows
// of the window (a TID bitmap).  The bot inserts rows in time order, so a
// window's rows fill one run of pages: each run of consecutive pages full of
// them is read whole, in page order, as a sequential scan reads it, with the
// window checked on each row (each page read once, instead of being locked
// and searched once per row).  Where the table had room in older pages
// (rows deleted by retention and vacuumed), new rows are scattered one or
// two to a page among a hundred others: such a page gives only the rows the
// index points to, as a bitmap heap scan's page does (reading each whole
// cost a refresh's minute of rows 80 times the rows it wanted).
void scan_window_pages(RunningScan& r) {
    const WindowScan& w = r.w;
    ScanKeyData keys[2];
    int nkeys = window_keys(keys, w.since, w.until, true);
    TIDBitmap* pages = tbm_create(work_mem * 1024L, nullptr);
    IndexScanDesc bitmap_scan = index_beginscan_bitmap(r.index, r.snapshot, nkeys);
    index_rescan(bitmap_scan, keys, nkeys, nullptr, 0);
    index_getbitmap(bitmap_scan, pages);
    index_endscan(bitmap_scan);

    TupleTableSlot* slot = table_slot_create(w.rel, nullptr);
    // no synchronized start (the scan must begin where it is told), and the
    // pages stay in shared buffers as an index scan's would
    TableScanDesc scan = table_beginscan_strat(w.rel, r.snapshot, 0, nullptr, false, false);
    IndexFetchTableData* fetch = table_index_fetch_begin(w.rel);
    TBMIterator* iterator = tbm_begin_iterate(pages);
    BlockNumber first = InvalidBlockNumber, count = 0;
    for (TBMIterateResult* page; (page = tbm_iterate(iterator)) != nullptr;) {
        if (page->ntuples >= 0 && page->ntuples < kWholePageFrom) {  // exact, and few rows
            if (count > 0) scan_page_run(r, scan, slot, first, count);
            count = 0;
            fetch_page_rows(r, fetch, slot, page);
            continue;
        }
        if (count > 0 && page->blockno == first + count) {
            ++count;
            continue;
        }
        if (count > 0) scan_page_run(r, scan, slot, first, count);
        first = page->blockno;
        count = 1;
    }
    if (count > 0) scan_page_run(r, scan, slot, first, count);
    tbm_end_iterate(iterator);
    table_index_fetch_end(fetch);
    table_endscan(scan);
    tbm_free(pages);
    ExecDropSingleTupleTableSlot(slot);
}

}  // namespace

void read_window(const WindowScan& w) {
    Assert(w.ncols <= kMaxScanColumns);
    ereport(DEBUG1, (errmsg_internal("nezuko_analytics: %s through %s%s", w.what, index_name(w.plan.index),
                                     w.plan.index_only ? " (index only)" : " and the table")));
    RunningScan r{w, index_open(w.plan.index, AccessShareLock), GetActiveSnapshot()};
    if (w.plan.index_only)
        scan_index_entries(r);
    else
        scan_window_pages(r);
    index_close(r.index, AccessShareLock);
}

namespace {

void visit_all(TableScanDesc scan, Relation rel, int ncols, const AttrNumber* cols, RowVisitor visit, void* acc) {
    Datum values[kMaxScanColumns];
    bool isnull[kMaxScanColumns];
    TupleTableSlot* slot = table_slot_create(rel, nullptr);
    int rows = 0;
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
        for (int c = 0; c < ncols; ++c) values[c] = slot_getattr(slot, cols[c], &isnull[c]);
        visit(acc, values, isnull);
        if (++rows % kRowsPerCheck == 0) CHECK_FOR_INTERRUPTS();
    }
    table_endscan(scan);
    ExecDropSingleTupleTableSlot(slot);
}

}  // namespace

void scan_table(Relation rel, int ncols, const AttrNumber* cols, RowVisitor visit, void* acc) {
    Assert(ncols <= kMaxScanColumns);
    visit_all(table_beginscan(rel, GetActiveSnapshot(), 0, nullptr), rel, ncols, cols, visit, acc);
}

void scan_table_pages(Relation rel, BlockNumber first, BlockNumber count, int ncols, const AttrNumber* cols,
                      RowVisitor visit, void* acc) {
    Assert(ncols <= kMaxScanColumns);
    // no synchronized start: the scan must begin where it is told
    TableScanDesc scan = table_beginscan_strat(rel, GetActiveSnapshot(), 0, nullptr, true, false);
    heap_setscanlimits(scan, first, count);
    visit_all(scan, rel, ncols, cols, visit, acc);
}

}  // namespace nz::pg
