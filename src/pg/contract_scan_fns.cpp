// The native reads behind the fixed-window contracts (see window_scan.hpp),
// each returning a record whose fields are set by name (named_record.hpp):
//   native_verification_counts(bot, since, until, today, status, cached, latency)
//       -> (total, today, verified, restricted, error, cached, latency_rows, latency_sum)
//   native_api_counts(bot, since, until) -> (methods text[], calls bigint[], ok bigint[])
//   native_group_counts(bot, since, until, top) -> (group_ids bigint[], calls bigint[], ok bigint[])
//   native_groups_status(bot) -> (enabled, disabled, total)
//   native_members_chart(bot, top) -> json
// Each returns NULL when the native path may not read the table (row-level
// security, no SELECT privilege, SERIALIZABLE, a column of another type, no
// "timestamp"-led index); the SQL caller then runs its query instead.
#include <cstring>

#include "../core/members_chart.hpp"
#include "../core/verification_status.hpp"
#include "core_text.hpp"
#include "named_record.hpp"
#include "pg_boundary.hpp"
#include "window_scan.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
}

namespace {

using nz::pg::close_bot_table;
using nz::pg::column_of_type;
using nz::pg::free_plain_text;
using nz::pg::plain_text;
using nz::pg::open_readable_bot_table;

const char* schema_arg(FunctionCallInfo fcinfo) {
    return NameStr(*PG_GETARG_NAME(0));
}

void require_args(FunctionCallInfo fcinfo, int count, const char* function_name) {
    for (int i = 0; i < count; ++i)
        if (PG_ARGISNULL(i))
            ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                            errmsg("%s: argument %d must not be NULL", function_name, i + 1)));
}

ArrayType* int8_array(const int64* values, int count) {
    Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * (count ? count : 1)));
    for (int i = 0; i < count; ++i) elems[i] = Int64GetDatum(values[i]);
    return construct_array(elems, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

// ---- verification_log ---------------------------------------------------

// The columns a verification count may read besides "timestamp".
enum class CountedColumn { status, cached, latency };
constexpr int kCountedColumns = 3;

struct VerificationCounts {
    int64 total, today, verified, restricted, error, cached, latency_rows, latency_sum;
};

struct VerificationScan {
    VerificationCounts n;
    TimestampTz today_start;
    bool count_rows;  // this scan counts total and today (the first one does)
    int status_at, cached_at, latency_at;  // position in the row's values, -1 when not read
};

void count_verification(void* acc, const Datum* values, const bool* isnull) {
    auto* c = static_cast<VerificationScan*>(acc);
    if (c->count_rows) {
        ++c->n.total;
        if (!isnull[0] && DatumGetTimestampTz(values[0]) >= c->today_start) ++c->n.today;
    }
    if (c->status_at >= 0 && !isnull[c->status_at]) {
        text* status = plain_text(values[c->status_at]);
        switch (nz::classify_status(VARDATA_ANY(status), VARSIZE_ANY_EXHDR(status))) {
            case nz::VerificationStatus::verified: ++c->n.verified; break;
            case nz::VerificationStatus::restricted: ++c->n.restricted; break;
            case nz::VerificationStatus::error: ++c->n.error; break;
            case nz::VerificationStatus::other: break;
        }
        free_plain_text(status, values[c->status_at]);
    }
    if (c->cached_at >= 0 && !isnull[c->cached_at] && DatumGetBool(values[c->cached_at])) ++c->n.cached;
    if (c->latency_at >= 0 && !isnull[c->latency_at]) {
        ++c->n.latency_rows;
        c->n.latency_sum += DatumGetInt32(values[c->latency_at]);
    }
}

int* position_of(VerificationScan* c, CountedColumn column) {
    switch (column) {
        case CountedColumn::status: return &c->status_at;
        case CountedColumn::cached: return &c->cached_at;
        case CountedColumn::latency: return &c->latency_at;
    }
    return nullptr;
}

// Reads columns[0..ncols) (attributes cols[]) of the window `scan` reads, after
// "timestamp", into c; the scan that counts rows (count_rows) also counts total and today.
void scan_counts(nz::pg::WindowScan scan, const AttrNumber* cols, const CountedColumn* columns, int ncols,
                 bool count_rows, VerificationScan* c) {
    scan.column(scan.plan.ts).visiting(count_verification, c, "verification_log");
    c->count_rows = count_rows;
    c->status_at = c->cached_at = c->latency_at = -1;
    for (int i = 0; i < ncols; ++i) {
        *position_of(c, columns[i]) = scan.ncols;
        scan.column(cols[i]);
    }
    nz::pg::read_window(scan);
}

}  // namespace

// Counts over since <= timestamp < until: {total, today (timestamp >= today),
// verified, restricted, error, cached, rows with a latency, sum of latencies};
// only the columns asked for are read (the others count 0).  One index-only
// scan when an index led by "timestamp" holds them all; one per column when
// each of at most two has such an index; else one pass over the table rows.
NZ_PG_FUNCTION(nz_native_verification_counts_record) {
    require_args(fcinfo, 7, "native_verification_counts");
    TimestampTz since = PG_GETARG_TIMESTAMPTZ(1), until = PG_GETARG_TIMESTAMPTZ(2);
    nz::pg::NamedRecord result(fcinfo, "native_verification_counts");
    VerificationScan c = {};
    c.today_start = PG_GETARG_TIMESTAMPTZ(3);
    const bool wanted[kCountedColumns] = {PG_GETARG_BOOL(4), PG_GETARG_BOOL(5), PG_GETARG_BOOL(6)};

    Relation rel = open_readable_bot_table(schema_arg(fcinfo), "verification_log");
    if (rel == nullptr) PG_RETURN_NULL();
    const AttrNumber all[kCountedColumns] = {column_of_type(rel, "status", VARCHAROID, TEXTOID),
                                             column_of_type(rel, "cached", BOOLOID, InvalidOid),
                                             column_of_type(rel, "latency_ms", INT4OID, InvalidOid)};
    const CountedColumn kinds[kCountedColumns] = {CountedColumn::status, CountedColumn::cached, CountedColumn::latency};
    AttrNumber cols[kCountedColumns];
    CountedColumn columns[kCountedColumns];
    int ncols = 0;
    for (int k = 0; k < kCountedColumns; ++k) {
        if (!wanted[k]) continue;
        cols[ncols] = all[k];
        columns[ncols++] = kinds[k];
    }
    nz::pg::WindowRead together = nz::pg::plan_window_read(rel, ncols, cols);
    nz::pg::WindowRead apart[kCountedColumns];
    bool each_index_only = !together.index_only && ncols <= 2;
    for (int i = 0; each_index_only && i < ncols; ++i) {
        apart[i] = nz::pg::plan_window_read(rel, 1, &cols[i]);
        each_index_only = apart[i].index_only;
    }
    if (!OidIsValid(together.index)) {
        close_bot_table(rel);
        PG_RETURN_NULL();
    }
    if (each_index_only) {
        for (int i = 0; i < ncols; ++i)
            scan_counts(nz::pg::WindowScan(rel, apart[i], since, until), &cols[i], &columns[i], 1, i == 0, &c);
    } else {
        scan_counts(nz::pg::WindowScan(rel, together, since, until), cols, columns, ncols, true, &c);
    }
    close_bot_table(rel);
    result.set("total", Int64GetDatum(c.n.total)).set("today_count", Int64GetDatum(c.n.today));
    result.set("verified", Int64GetDatum(c.n.verified)).set("restricted", Int64GetDatum(c.n.restricted));
    result.set("error", Int64GetDatum(c.n.error)).set("cached", Int64GetDatum(c.n.cached));
    result.set("latency_rows", Int64GetDatum(c.n.latency_rows)).set("latency_sum", Int64GetDatum(c.n.latency_sum));
    PG_RETURN_DATUM(result.datum());
}

// ---- api_call_log -------------------------------------------------------

namespace {

constexpr int kMaxMethods = 1024;

struct MethodCount {
    char* name;
    int len;
    int64 calls, ok;
};

struct ApiCounts {
    MethodCount* methods;
    int count;
    int last;           // the method of the previous row: calls come in runs
    bool leave_to_sql;  // a NULL method, or more than kMaxMethods distinct ones: let SQL count
    MemoryContext keep;  // where method names are copied
};

void count_api_call(void* acc, const Datum* values, const bool* isnull) {
    auto* a = static_cast<ApiCounts*>(acc);
    if (a->leave_to_sql) return;
    if (isnull[0]) {  // method is NOT NULL in the spec; a NULL one is not guessed at
        a->leave_to_sql = true;
        return;
    }
    text* method = plain_text(values[0]);
    const char* s = VARDATA_ANY(method);
    int len = static_cast<int>(VARSIZE_ANY_EXHDR(method));
    int i = a->last;
    if (i < 0 || a->methods[i].len != len || std::memcmp(a->methods[i].name, s, len) != 0) {
        for (i = 0; i < a->count; ++i)
            if (a->methods[i].len == len && std::memcmp(a->methods[i].name, s, len) == 0) break;
        if (i == a->count) {
            if (a->count == kMaxMethods) {
                a->leave_to_sql = true;
                free_plain_text(method, values[0]);
                return;
            }
            a->methods[i].name = static_cast<char*>(MemoryContextAlloc(a->keep, len ? len : 1));
            std::memcpy(a->methods[i].name, s, len);
            a->methods[i].len = len;
            a->methods[i].calls = a->methods[i].ok = 0;
            ++a->count;
        }
        a->last = i;
    }
    free_plain_text(method, values[0]);
    ++a->methods[i].calls;
    if (!isnull[1] && DatumGetBool(values[1])) ++a->methods[i].ok;
}

}  // namespace

// Calls over since <= timestamp < until by method: methods, calls and calls
// with success = true, in the order first seen.
NZ_PG_FUNCTION(nz_native_api_counts) {
    require_args(fcinfo, 3, "native_api_counts");
    TimestampTz since = PG_GETARG_TIMESTAMPTZ(1), until = PG_GETARG_TIMESTAMPTZ(2);
    nz::pg::NamedRecord result(fcinfo, "native_api_counts");

    Relation rel = open_readable_bot_table(schema_arg(fcinfo), "api_call_log");
    if (rel == nullptr) PG_RETURN_NULL();
    AttrNumber cols[2] = {column_of_type(rel, "method", VARCHAROID, TEXTOID),
                          column_of_type(rel, "success", BOOLOID, InvalidOid)};
    nz::pg::WindowRead plan = nz::pg::plan_window_read(rel, 2, cols);
    if (!OidIsValid(plan.index)) {
        close_bot_table(rel);
        PG_RETURN_NULL();
    }
    ApiCounts a = {static_cast<MethodCount*>(palloc(sizeof(MethodCount) * kMaxMethods)), 0, -1, false,
                   CurrentMemoryContext};
    nz::pg::read_window(nz::pg::WindowScan(rel, plan, since, until)
                            .column(cols[0]).column(cols[1]).visiting(count_api_call, &a, "api_call_log"));
    close_bot_table(rel);
    if (a.leave_to_sql) PG_RETURN_NULL();

    Datum* names = static_cast<Datum*>(palloc(sizeof(Datum) * (a.count ? a.count : 1)));
    int64* calls = static_cast<int64*>(palloc(sizeof(int64) * (a.count ? a.count : 1)));
    int64* ok = static_cast<int64*>(palloc(sizeof(int64) * (a.count ? a.count : 1)));
    for (int i = 0; i < a.count; ++i) {
        names[i] = PointerGetDatum(cstring_to_text_with_len(a.methods[i].name, a.methods[i].len));
        calls[i] = a.methods[i].calls;
        ok[i] = a.methods[i].ok;
    }
    result.set("methods", PointerGetDatum(construct_array(names, a.count, TEXTOID, -1, false, TYPALIGN_INT)));
    result.set("calls", PointerGetDatum(int8_array(calls, a.count)));
    result.set("ok", PointerGetDatum(int8_array(ok, a.count)));
    PG_RETURN_DATUM(result.datum());
}

// ---- verification_log by group ------------------------------------------

namespace {

struct GroupCount {
    int64 group_id;  // the hash key
    int64 calls, ok;
};

struct GroupCounts {
    HTAB* groups;
    bool null_group;  // group_id is NOT NULL in the bot's schema; a NULL one is left to SQL
};

void count_group(void* acc, const Datum* values, const bool* isnull) {
    auto* g = static_cast<GroupCounts*>(acc);
    if (isnull[0]) {
        g->null_group = true;
        return;
    }
    int64 id = DatumGetInt64(values[0]);
    bool found;
    auto* entry = static_cast<GroupCount*>(hash_search(g->groups, &id, HASH_ENTER, &found));
    if (!found) entry->calls = entry->ok = 0;
    ++entry->calls;
    if (!isnull[1]) {
        text* status = plain_text(values[1]);
        if (nz::classify_status(VARDATA_ANY(status), VARSIZE_ANY_EXHDR(status)) == nz::VerificationStatus::verified)
            ++entry->ok;
        free_plain_text(status, values[1]);
    }
}

// Most verifications first, then by group_id (as the contracts order them).
int by_calls_then_id(const void* a, const void* b) {
    const auto* x = static_cast<const GroupCount*>(a);
    const auto* y = static_cast<const GroupCount*>(b);
    if (x->calls != y->calls) return x->calls > y->calls ? -1 : 1;
    return x->group_id < y->group_id ? -1 : x->group_id > y->group_id ? 1 : 0;
}

}  // namespace

// The `top` groups with the most verifications over since <= timestamp <
// until (ties by group_id): group ids, verifications and verified ones.
NZ_PG_FUNCTION(nz_native_group_counts) {
    require_args(fcinfo, 4, "native_group_counts");
    TimestampTz since = PG_GETARG_TIMESTAMPTZ(1), until = PG_GETARG_TIMESTAMPTZ(2);
    int32 top = PG_GETARG_INT32(3);
    if (top < 1)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("native_group_counts: top must be at least 1, not %d", top)));
    nz::pg::NamedRecord result(fcinfo, "native_group_counts");

    Relation rel = open_readable_bot_table(schema_arg(fcinfo), "verification_log");
    if (rel == nullptr) PG_RETURN_NULL();
    AttrNumber cols[2] = {column_of_type(rel, "group_id", INT8OID, InvalidOid),
                          column_of_type(rel, "status", VARCHAROID, TEXTOID)};
    nz::pg::WindowRead plan = nz::pg::plan_window_read(rel, 2, cols);
    if (!OidIsValid(plan.index)) {
        close_bot_table(rel);
        PG_RETURN_NULL();
    }
    HASHCTL ctl = {};
    ctl.keysize = sizeof(int64);
    ctl.entrysize = sizeof(GroupCount);
    ctl.hcxt = CurrentMemoryContext;
    GroupCounts g = {hash_create("nezuko_analytics group counts", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT),
                     false};
    nz::pg::read_window(nz::pg::WindowScan(rel, plan, since, until)
                            .column(cols[0]).column(cols[1]).visiting(count_group, &g, "verification_log by group"));
    close_bot_table(rel);
    if (g.null_group) PG_RETURN_NULL();

    long count = hash_get_num_entries(g.groups);
    auto* all = static_cast<GroupCount*>(palloc(sizeof(GroupCount) * (count ? count : 1)));
    HASH_SEQ_STATUS seq;
    hash_seq_init(&seq, g.groups);
    long i = 0;
    for (GroupCount* e; (e = static_cast<GroupCount*>(hash_seq_search(&seq))) != nullptr;) all[i++] = *e;
    qsort(all, count, sizeof(GroupCount), by_calls_then_id);
    int n = static_cast<int>(count < top ? count : top);
    int64* ids = static_cast<int64*>(palloc(sizeof(int64) * (n ? n : 1)));
    int64* calls = static_cast<int64*>(palloc(sizeof(int64) * (n ? n : 1)));
    int64* ok = static_cast<int64*>(palloc(sizeof(int64) * (n ? n : 1)));
    for (int k = 0; k < n; ++k) {
        ids[k] = all[k].group_id;
        calls[k] = all[k].calls;
        ok[k] = all[k].ok;
    }
    result.set("group_ids", PointerGetDatum(int8_array(ids, n)));
    result.set("calls", PointerGetDatum(int8_array(calls, n)));
    result.set("ok", PointerGetDatum(int8_array(ok, n)));
    PG_RETURN_DATUM(result.datum());
}

// ---- protected_groups and enforced_channels -----------------------------

namespace {

struct EnabledCounts {
    int64 enabled, disabled, total;
};

void count_enabled(void* acc, const Datum* values, const bool* isnull) {
    auto* e = static_cast<EnabledCounts*>(acc);
    ++e->total;
    if (!isnull[0]) ++(DatumGetBool(values[0]) ? e->enabled : e->disabled);
}

}  // namespace

// (enabled, disabled, total) of protected_groups.
NZ_PG_FUNCTION(nz_native_groups_status_record) {
    require_args(fcinfo, 1, "native_groups_status");
    nz::pg::NamedRecord result(fcinfo, "native_groups_status");
    Relation rel = open_readable_bot_table(schema_arg(fcinfo), "protected_groups");
    if (rel == nullptr) PG_RETURN_NULL();
    AttrNumber enabled = column_of_type(rel, "enabled", BOOLOID, InvalidOid);
    if (enabled == InvalidAttrNumber) {
        close_bot_table(rel);
        PG_RETURN_NULL();
    }
    EnabledCounts e = {};
    nz::pg::scan_table(rel, 1, &enabled, count_enabled, &e);
    close_bot_table(rel);
    result.set("enabled", Int64GetDatum(e.enabled)).set("disabled", Int64GetDatum(e.disabled));
    result.set("total", Int64GetDatum(e.total));
    PG_RETURN_DATUM(result.datum());
}

namespace {

constexpr int kMaxTop = 100;

struct MemberTop {
    nz::MemberRow rows[kMaxTop];
    int count, limit;
};

void rank_member(void* acc, const Datum* values, const bool* isnull) {
    auto* t = static_cast<MemberTop*>(acc);
    if (isnull[0]) return;  // the primary key
    int64 id = DatumGetInt64(values[0]);
    int64 members = isnull[2] ? 0 : DatumGetInt32(values[2]);
    int slot = nz::member_rank_slot(t->rows, t->count, t->limit, id, members);
    if (slot < 0) return;
    for (int i = (t->count < t->limit ? t->count : t->limit - 1); i > slot; --i) t->rows[i] = t->rows[i - 1];
    nz::MemberRow& r = t->rows[slot];
    r.id = id;
    r.members = members;
    r.title = nullptr;
    r.title_len = 0;
    if (!isnull[1]) {  // copied: the row's buffer moves on
        text* title = plain_text(values[1]);
        r.title_len = VARSIZE_ANY_EXHDR(title);
        char* copy = static_cast<char*>(palloc(r.title_len + 1));
        std::memcpy(copy, VARDATA_ANY(title), r.title_len);
        r.title = copy;
        free_plain_text(title, values[1]);
    }
    if (t->count < t->limit) ++t->count;
}

// The top of table (id_col, title, count_col); false when the native path
// may not read it or a column is missing.
bool top_members(const char* schema, const char* table, const char* id_col, const char* count_col,
                 MemberTop* top) {
    Relation rel = open_readable_bot_table(schema, table);
    if (rel == nullptr) return false;
    AttrNumber cols[3] = {column_of_type(rel, id_col, INT8OID, InvalidOid),
                          column_of_type(rel, "title", VARCHAROID, TEXTOID),
                          column_of_type(rel, count_col, INT4OID, InvalidOid)};
    bool usable = cols[0] != InvalidAttrNumber && cols[1] != InvalidAttrNumber && cols[2] != InvalidAttrNumber;
    if (usable) nz::pg::scan_table(rel, 3, cols, rank_member, top);
    close_bot_table(rel);
    return usable;
}

}  // namespace

// get_members_chart_data's document: the top `top` channels by
// subscriber_count and groups by member_count (ties by id, NULL as 0).
NZ_PG_FUNCTION(nz_native_members_chart) {
    require_args(fcinfo, 2, "native_members_chart");
    int limit = PG_GETARG_INT32(1);
    if (limit < 1 || limit > kMaxTop)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("native_members_chart: top must be between 1 and %d, not %d", kMaxTop, limit)));
    MemberTop* channels = static_cast<MemberTop*>(palloc0(sizeof(MemberTop)));
    MemberTop* groups = static_cast<MemberTop*>(palloc0(sizeof(MemberTop)));
    channels->limit = groups->limit = limit;
    const char* schema = schema_arg(fcinfo);
    if (!top_members(schema, "enforced_channels", "channel_id", "subscriber_count", channels))
        PG_RETURN_NULL();
    if (!top_members(schema, "protected_groups", "group_id", "member_count", groups))
        PG_RETURN_NULL();
    text* json = nz::pg::text_from_core("native_members_chart", [&] {
        return nz::members_chart_json(channels->rows, channels->count, groups->rows, groups->count);
    });
    PG_RETURN_TEXT_P(json);
}
