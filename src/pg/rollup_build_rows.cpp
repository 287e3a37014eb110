// A rollup build's quarter hours as rows of its table (rollup_build_rows.hpp).
#include "rollup_build_rows.hpp"

#include <cstring>

#include "named_record.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
}

namespace nz::pg {

namespace {

// Rows of nezuko_analytics.<table>, each field set by name (NamedRecord over
// the table's row type): an array of them.
class RowArray {
public:
    RowArray(const char* table, const char* function_name) : row_(row_desc(table, function_name), function_name,
                                                                  "its table has no column") {}
    void begin_row() { row_.clear(); }
    int field(const char* name) const { return row_.field(name); }
    void set(int field, Datum value) { row_.set(field, value); }
    void end_row() {
        if (count_ == capacity_) {
            capacity_ = capacity_ == 0 ? 64 : capacity_ * 2;
            rows_ = static_cast<Datum*>(rows_ == nullptr ? palloc(sizeof(Datum) * capacity_)
                                                         : repalloc(rows_, sizeof(Datum) * capacity_));
        }
        rows_[count_++] = HeapTupleGetDatum(row_.tuple());  // a composite datum as formed (construct_array copies it)
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

    NamedRecord row_;
    Datum* rows_ = nullptr;
    int count_ = 0;
    int capacity_ = 0;
};

// A cell read out of the builder: plain data, its memory in the state's
// context, its latency_dist and group counts as varlenas ready for the row.
struct OutCell {
    int64_t start;
    const char* method;
    std::size_t method_len;
    RollupCounts counts;
    Datum dist;
    Datum groups;  // bytea: group_counts.hpp's binary form (verification_log)
};

// A varlena of the bytes, allocated through the resource (which throws
// std::bad_alloc when out of memory: no PostgreSQL error inside core code).
Datum varlena_of(RollupBuildState* state, const std::pmr::vector<uint8_t>& bytes) {
    auto* v = static_cast<struct varlena*>(state->resource.allocate(VARHDRSZ + bytes.size(), alignof(int32_t)));
    SET_VARSIZE(v, VARHDRSZ + bytes.size());
    std::memcpy(VARDATA(v), bytes.data(), bytes.size());
    return PointerGetDatum(v);
}

// The builder's cells as plain data (encoded in core code, which allocates
// only through the resource and calls nothing of PostgreSQL).
std::pmr::vector<OutCell>* read_cells(RollupBuildState* state, const char* name) {
    std::pmr::vector<OutCell>* cells = nullptr;
    run_core(name, [&] {
        cells = new (state->resource.allocate(sizeof(std::pmr::vector<OutCell>), alignof(std::pmr::vector<OutCell>)))
            std::pmr::vector<OutCell>(&state->resource);
        cells->reserve(state->builder.cell_count());
        state->builder.for_each_quarter_hour([&](int64_t start, const std::pmr::string& method, const RollupCounts& c,
                                                 const std::pmr::vector<uint8_t>& bytes,
                                                 const std::pmr::vector<uint8_t>& groups) {
            cells->push_back(OutCell{start, method.data(), method.size(), c, varlena_of(state, bytes),
                                     varlena_of(state, groups)});
        });
    });
    return cells;
}

Datum count_datum(uint64_t n) {
    return Int64GetDatum(static_cast<int64>(n));
}

}  // namespace

Datum verification_rollup_rows(RollupBuildState* state, const char* fn) {
    std::pmr::vector<OutCell>* cells = read_cells(state, fn);
    RowArray rows("rollup_verifications", fn);
    const int bucket = rows.field("bucket"), total = rows.field("total"), verified = rows.field("verified"),
              restricted = rows.field("restricted"), error = rows.field("error"), cached = rows.field("cached"),
              latency_count = rows.field("latency_count"), latency_sum = rows.field("latency_sum"),
              latencies = rows.field("latencies"), groups = rows.field("groups");
    for (const OutCell& c : *cells) {
        rows.begin_row();
        rows.set(bucket, TimestampTzGetDatum(c.start));
        rows.set(total, count_datum(c.counts.total));
        rows.set(verified, count_datum(c.counts.verified));
        rows.set(restricted, count_datum(c.counts.restricted));
        rows.set(error, count_datum(c.counts.error));
        rows.set(cached, count_datum(c.counts.cached));
        rows.set(latency_count, count_datum(c.counts.latency_count));
        rows.set(latency_sum, Int64GetDatum(c.counts.latency_sum));
        rows.set(latencies, c.dist);
        rows.set(groups, c.groups);
        rows.end_row();
    }
    return rows.array();
}

Datum api_rollup_rows(RollupBuildState* state, const char* fn) {
    std::pmr::vector<OutCell>* cells = read_cells(state, fn);
    RowArray rows("rollup_api_calls", fn);
    const int bucket = rows.field("bucket"), method = rows.field("method"), calls = rows.field("calls"),
              ok = rows.field("ok"), failures = rows.field("failures"), latency_count = rows.field("latency_count"),
              latency_sum = rows.field("latency_sum"), latencies = rows.field("latencies");
    for (const OutCell& c : *cells) {
        rows.begin_row();
        rows.set(bucket, TimestampTzGetDatum(c.start));
        rows.set(method, PointerGetDatum(cstring_to_text_with_len(c.method, static_cast<int>(c.method_len))));
        rows.set(calls, count_datum(c.counts.total));
        rows.set(ok, count_datum(c.counts.ok));
        rows.set(failures, count_datum(c.counts.failures));
        rows.set(latency_count, count_datum(c.counts.latency_count));
        rows.set(latency_sum, Int64GetDatum(c.counts.latency_sum));
        rows.set(latencies, c.dist);
        rows.end_row();
    }
    return rows.array();
}

}  // namespace nz::pg
