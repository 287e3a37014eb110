// The aggregates that build rollup rows from raw rows in one pass
// (refresh_rollup_source(), docs/rollups.md):
//   verification_quarter_hours(ts, status, latency_ms, cached, group_id) -> rollup_verifications[]
//   api_quarter_hours(ts, method, success, latency_ms)                    -> rollup_api_calls[]
// Called together in one SELECT they share one scan.  Each returns the rows
// of its table, fields set by name from the table's row type.  Rows without
// a finite time are skipped (the callers read finite windows).  The state
// holds every latency until the end (4 bytes each); combine, serialize and
// deserialize let parallel workers build parts (rollup_build_combine() etc.).
#include <cstring>
#include <new>

#include "../core/rollup_builder.hpp"
#include "api_call_row_args.hpp"
#include "palloc_resource.hpp"
#include "pg_aggregate.hpp"
#include "named_record.hpp"
#include "pg_boundary.hpp"
#include "verification_row_args.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

namespace {

struct BuildState {
    nz::pg::PallocResource resource;
    nz::RollupBuilder builder;
    explicit BuildState(MemoryContext context) : resource(context), builder(&resource) {}
};

BuildState* build_state(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, name);
    BuildState* state = nz::pg::state_arg<BuildState>(fcinfo, 0);
    if (state == nullptr) state = new (MemoryContextAlloc(context, sizeof(BuildState))) BuildState(context);
    return state;
}

// Rows of nezuko_analytics.<table>, each field set by name (NamedRecord over
// the table's row type): an array of them.
class RowArray {
public:
    RowArray(const char* table, const char* function_name) : row_(row_desc(table, function_name), function_name,
                                                                  "its table has no column") {}
    void begin_row() { row_.clear(); }
    void set(const char* name, Datum value) { row_.set(name, value); }
    void end_row() {
        if (count_ == capacity_) {
            capacity_ = capacity_ == 0 ? 64 : capacity_ * 2;
            rows_ = static_cast<Datum*>(rows_ == nullptr ? palloc(sizeof(Datum) * capacity_)
                                                         : repalloc(rows_, sizeof(Datum) * capacity_));
        }
        rows_[count_++] = heap_copy_tuple_as_datum(row_.tuple(), row_.desc());
    }
    Datum array() const {
        return PointerGetDatum(construct_array(rows_, count_, row_.desc()->tdtypeid, -1, false, TYPALIGN_DOUBLE));
    }

private:
    static TupleDesc row_desc(const char* table, const char* function_name) {
        Oid nsp = get_namespace_oid("nezuko_analytics", false);
        Oid relid = get_relname_relid(table, nsp);
        if (!OidIsValid(relid))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("%s: table nezuko_analytics.%s does not exist", function_name, table)));
        return lookup_rowtype_tupdesc_copy(get_rel_type_id(relid), -1);
    }

    nz::pg::NamedRecord row_;
    Datum* rows_ = nullptr;
    int count_ = 0;
    int capacity_ = 0;
};

// A cell read out of the builder: plain data, its memory in the aggregate's context.
struct OutCell {
    int64_t start;
    const char* method;
    std::size_t method_len;
    nz::RollupCounts counts;
    const uint8_t* dist;
    std::size_t dist_len;
    const uint8_t* groups;  // group_counts.hpp's binary form (verification_log)
    std::size_t groups_len;
};

const uint8_t* copy_bytes(BuildState* state, const std::pmr::vector<uint8_t>& bytes) {
    auto* copy = static_cast<uint8_t*>(state->resource.allocate(bytes.size() ? bytes.size() : 1, 1));
    std::memcpy(copy, bytes.data(), bytes.size());
    return copy;
}

// The builder's cells as plain data (encoded in core code, which allocates
// only through the resource and calls nothing of PostgreSQL).
std::pmr::vector<OutCell>* read_cells(BuildState* state, const char* name) {
    std::pmr::vector<OutCell>* cells = nullptr;
    nz::pg::run_core(name, [&] {
        cells = new (state->resource.allocate(sizeof(std::pmr::vector<OutCell>), alignof(std::pmr::vector<OutCell>)))
            std::pmr::vector<OutCell>(&state->resource);
        cells->reserve(state->builder.cell_count());
        state->builder.for_each_quarter_hour([&](int64_t start, const std::pmr::string& method, const nz::RollupCounts& c,
                                                 const std::pmr::vector<uint8_t>& bytes,
                                                 const std::pmr::vector<uint8_t>& groups) {
            cells->push_back(OutCell{start, method.data(), method.size(), c, copy_bytes(state, bytes), bytes.size(),
                                     copy_bytes(state, groups), groups.size()});
        });
    });
    return cells;
}

// A varlena (latency_dist or bytea) of the bytes.
Datum varlena_datum(const uint8_t* bytes, std::size_t len) {
    auto* v = static_cast<struct varlena*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(v, VARHDRSZ + len);
    std::memcpy(VARDATA(v), bytes, len);
    return PointerGetDatum(v);
}

}  // namespace

NZ_PG_FUNCTION(nz_vquarter_hours_add) {
    const char* fn = "verification_quarter_hours";
    BuildState* state = build_state(fcinfo, fn);
    nz::pg::VerificationRowArgs r = nz::pg::verification_row_args(fcinfo, 1);
    if (!r.counted) PG_RETURN_POINTER(state);
    nz::pg::run_core(fn, [&] {
        state->builder.add_verification(r.ts, r.status, r.has_latency, r.latency, r.cached, r.group_id);
    });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_vquarter_hours_final) {
    const char* fn = "verification_quarter_hours";
    BuildState* state = build_state(fcinfo, fn);
    std::pmr::vector<OutCell>* cells = read_cells(state, fn);
    RowArray rows("rollup_verifications", fn);
    for (const OutCell& c : *cells) {
        rows.begin_row();
        rows.set("bucket", TimestampTzGetDatum(c.start));
        rows.set("total", Int64GetDatum(static_cast<int64>(c.counts.total)));
        rows.set("verified", Int64GetDatum(static_cast<int64>(c.counts.verified)));
        rows.set("restricted", Int64GetDatum(static_cast<int64>(c.counts.restricted)));
        rows.set("error", Int64GetDatum(static_cast<int64>(c.counts.error)));
        rows.set("cached", Int64GetDatum(static_cast<int64>(c.counts.cached)));
        rows.set("latency_count", Int64GetDatum(static_cast<int64>(c.counts.latency_count)));
        rows.set("latency_sum", Int64GetDatum(c.counts.latency_sum));
        rows.set("latencies", varlena_datum(c.dist, c.dist_len));
        rows.set("groups", varlena_datum(c.groups, c.groups_len));
        rows.end_row();
    }
    return rows.array();
}

NZ_PG_FUNCTION(nz_aquarter_hours_add) {
    const char* fn = "api_quarter_hours";
    BuildState* state = build_state(fcinfo, fn);
    if (PG_ARGISNULL(1)) PG_RETURN_POINTER(state);
    TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
    if (TIMESTAMP_NOT_FINITE(ts)) PG_RETURN_POINTER(state);
    nz::pg::ApiCallRowArgs r = nz::pg::api_call_row_args(fcinfo, 2);
    nz::pg::run_core(fn, [&] { state->builder.add_call(ts, r.method, r.method_len, r.success, r.has_latency, r.latency); });
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_aquarter_hours_final) {
    const char* fn = "api_quarter_hours";
    BuildState* state = build_state(fcinfo, fn);
    std::pmr::vector<OutCell>* cells = read_cells(state, fn);
    RowArray rows("rollup_api_calls", fn);
    for (const OutCell& c : *cells) {
        rows.begin_row();
        rows.set("bucket", TimestampTzGetDatum(c.start));
        rows.set("method", PointerGetDatum(cstring_to_text_with_len(c.method, static_cast<int>(c.method_len))));
        rows.set("calls", Int64GetDatum(static_cast<int64>(c.counts.total)));
        rows.set("ok", Int64GetDatum(static_cast<int64>(c.counts.ok)));
        rows.set("failures", Int64GetDatum(static_cast<int64>(c.counts.failures)));
        rows.set("latency_count", Int64GetDatum(static_cast<int64>(c.counts.latency_count)));
        rows.set("latency_sum", Int64GetDatum(c.counts.latency_sum));
        rows.set("latencies", varlena_datum(c.dist, c.dist_len));
        rows.end_row();
    }
    return rows.array();
}

NZ_PG_FUNCTION(nz_rollup_build_combine) {
    return nz::pg::combine_states<BuildState>(
        fcinfo, "rollup build",
        [](MemoryContext context) { return new (MemoryContextAlloc(context, sizeof(BuildState))) BuildState(context); },
        [](BuildState* a, BuildState* b) { nz::pg::run_core("rollup build", [&] { a->builder.merge(b->builder); }); });
}

NZ_PG_FUNCTION(nz_rollup_build_serialize) {
    BuildState* state = nz::pg::state_arg<BuildState>(fcinfo, 0);
    return nz::pg::serialize_encoded("rollup build", [&] { return state->builder.encode(); });
}

NZ_PG_FUNCTION(nz_rollup_build_deserialize) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "rollup build");
    bytea* in = PG_GETARG_BYTEA_PP(0);
    auto* state = new (MemoryContextAlloc(context, sizeof(BuildState))) BuildState(context);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    nz::pg::run_core("rollup build", [&] { state->builder.merge_encoded(data, len); });
    PG_RETURN_POINTER(state);
}
