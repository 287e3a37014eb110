// A rollup build's quarter hours as rows of its table (rollup_build_rows.hpp).
#include "rollup_build_rows.hpp"

#include <cstring>

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

TupleDesc RollupRowForm::row_desc(const char* table, const char* function_name) {
    Oid nsp = get_namespace_oid("nezuko_analytics", false);
    Oid relid = get_relname_relid(table, nsp);
    if (!OidIsValid(relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("%s: table nezuko_analytics.%s does not exist", function_name, table)));
    return lookup_rowtype_tupdesc_copy(get_rel_type_id(relid), -1);
}

RollupRowForm::RollupRowForm(bool verification, const char* fn)
    : verification_(verification),
      row_(row_desc(verification ? "rollup_verifications" : "rollup_api_calls", fn), fn, "its table has no column") {
    bucket_ = row_.field("bucket");
    latency_count_ = row_.field("latency_count");
    latency_sum_ = row_.field("latency_sum");
    latencies_ = row_.field("latencies");
    if (verification) {
        total_ = row_.field("total");
        verified_ = row_.field("verified");
        restricted_ = row_.field("restricted");
        error_ = row_.field("error");
        cached_ = row_.field("cached");
        groups_ = row_.field("groups");
        method_ = calls_ = ok_ = failures_ = -1;
    } else {
        method_ = row_.field("method");
        calls_ = row_.field("calls");
        ok_ = row_.field("ok");
        failures_ = row_.field("failures");
        total_ = verified_ = restricted_ = error_ = cached_ = groups_ = -1;
    }
}

namespace {

Datum count_datum(uint64_t n) {
    return Int64GetDatum(static_cast<int64>(n));
}

}  // namespace

HeapTuple RollupRowForm::row(const BuiltCell& c) {
    row_.clear();
    row_.set(bucket_, TimestampTzGetDatum(c.start));
    if (verification_) {
        row_.set(total_, count_datum(c.counts.total));
        row_.set(verified_, count_datum(c.counts.verified));
        row_.set(restricted_, count_datum(c.counts.restricted));
        row_.set(error_, count_datum(c.counts.error));
        row_.set(cached_, count_datum(c.counts.cached));
        row_.set(groups_, c.groups);
    } else {
        row_.set(method_, PointerGetDatum(cstring_to_text_with_len(c.method, static_cast<int>(c.method_len))));
        row_.set(calls_, count_datum(c.counts.total));
        row_.set(ok_, count_datum(c.counts.ok));
        row_.set(failures_, count_datum(c.counts.failures));
    }
    row_.set(latency_count_, count_datum(c.counts.latency_count));
    row_.set(latency_sum_, Int64GetDatum(c.counts.latency_sum));
    row_.set(latencies_, c.dist);
    return row_.tuple();
}

Datum bytes_varlena(const uint8_t* data, std::size_t len) {
    auto* v = static_cast<struct varlena*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(v, VARHDRSZ + len);
    if (len != 0) std::memcpy(VARDATA(v), data, len);
    return PointerGetDatum(v);
}

namespace {

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
std::pmr::vector<BuiltCell>* read_cells(RollupBuildState* state, const char* name) {
    std::pmr::vector<BuiltCell>* cells = nullptr;
    run_core(name, [&] {
        cells = new (state->resource.allocate(sizeof(std::pmr::vector<BuiltCell>), alignof(std::pmr::vector<BuiltCell>)))
            std::pmr::vector<BuiltCell>(&state->resource);
        cells->reserve(state->builder.cell_count());
        state->builder.for_each_quarter_hour([&](int64_t start, const std::pmr::string& method, const RollupCounts& c,
                                                 const std::pmr::vector<uint8_t>& bytes,
                                                 const std::pmr::vector<uint8_t>& groups) {
            cells->push_back(BuiltCell{start, method.data(), method.size(), c, varlena_of(state, bytes),
                                       varlena_of(state, groups)});
        });
    });
    return cells;
}

// The cells as an array of rows of their table.
Datum rows_array(RollupBuildState* state, bool verification, const char* fn) {
    std::pmr::vector<BuiltCell>* cells = read_cells(state, fn);
    RollupRowForm form(verification, fn);
    auto* rows = static_cast<Datum*>(palloc(sizeof(Datum) * (cells->empty() ? 1 : cells->size())));
    int n = 0;
    // a composite datum as formed (construct_array copies it)
    for (const BuiltCell& c : *cells) rows[n++] = HeapTupleGetDatum(form.row(c));
    return PointerGetDatum(construct_array(rows, n, form.desc()->tdtypeid, -1, false, TYPALIGN_DOUBLE));
}

}  // namespace

Datum verification_rollup_rows(RollupBuildState* state, const char* fn) {
    return rows_array(state, true, fn);
}

Datum api_rollup_rows(RollupBuildState* state, const char* fn) {
    return rows_array(state, false, fn);
}

}  // namespace nz::pg
