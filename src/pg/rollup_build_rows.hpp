// The state of a rollup build (a RollupBuilder over a memory context) and
// its quarter hours as rows of nezuko_analytics.rollup_verifications or
// rollup_api_calls, each field set by name from the table's row type.
// Shared by the build aggregates (rollup_build_agg.cpp), fed row by row by
// the executor, the build's own scan (rollup_build_scan.cpp), which give
// them as an array, and the set-returning functions that give them one at a
// time (rollup_build_rows_fn.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "../core/rollup_builder.hpp"
#include "named_record.hpp"
#include "palloc_resource.hpp"
#include "pg_boundary.hpp"

namespace nz::pg {

struct RollupBuildState {
    PallocResource resource;
    RollupBuilder builder;
    explicit RollupBuildState(MemoryContext context) : resource(context), builder(&resource) {}
};

// A new state whose builder lives in context (freed with it, never destroyed).
inline RollupBuildState* new_rollup_build_state(MemoryContext context) {
    return new (MemoryContextAlloc(context, sizeof(RollupBuildState))) RollupBuildState(context);
}

// One quarter hour (and method) of a builder as plain data: its
// latency_dist and its group counts (group_counts.hpp's binary form, empty
// for api_call_log) as varlenas ready for the row.
struct BuiltCell {
    int64_t start;
    const char* method;
    std::size_t method_len;
    RollupCounts counts;
    Datum dist;
    Datum groups;
};

// Rows of nezuko_analytics.rollup_verifications (verification) or
// rollup_api_calls, each field set by name from the table's row type; an
// ERROR when the table lacks one (module and SQL of different versions).
class RollupRowForm {
public:
    RollupRowForm(bool verification, const char* function_name);
    // The row of a cell, in the current memory context.
    HeapTuple row(const BuiltCell& c);
    TupleDesc desc() const { return row_.desc(); }

private:
    static TupleDesc row_desc(const char* table, const char* function_name);
    bool verification_;
    NamedRecord row_;
    // the fields' places: bucket, then verification_log's or api_call_log's
    int bucket_, total_, verified_, restricted_, error_, cached_, method_, calls_, ok_, failures_, latency_count_,
        latency_sum_, latencies_, groups_;
};

// A varlena of len bytes, in the current memory context.
Datum bytes_varlena(const uint8_t* data, std::size_t len);

// The builder's quarter hours, in order, as a rollup_verifications[] or a
// rollup_api_calls[] (function_name names the caller in errors).  The cells
// are encoded in the state's context; the array is made in the current one.
Datum verification_rollup_rows(RollupBuildState* state, const char* function_name);
Datum api_rollup_rows(RollupBuildState* state, const char* function_name);

}  // namespace nz::pg
