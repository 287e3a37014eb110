// The rows of a rollup build, one at a time (docs/rollups.md, "The build"):
//   rollup_verification_rows(bot, lo, hi, whole_table) -> setof rollup_verifications
//   rollup_api_call_rows(bot, lo, hi, whole_table)     -> setof rollup_api_calls
//   rollup_rows_readable(bot, source)                  -> boolean
// The first call reads bot.<source>'s rows in [lo, hi) as rollup_build_scan()
// does (read_build_source()); each call then gives the next quarter hour as a
// row of its table, made from the builder as it is asked for.  Called in a
// select list (value per call), the rows go straight into the INSERT that
// asks for them: no array of a whole build, no record holding it, no copy of
// either (a function in FROM would store every row in a tuplestore first).
// Where the native read may not read the table (rollup_rows_readable() is
// false) the functions raise an ERROR; rollup_materialize() asks first and
// runs the aggregates instead.
#include "pg_boundary.hpp"
#include "rollup_build_rows.hpp"
#include "rollup_build_scan.hpp"

extern "C" {
#include "funcapi.h"
#include "utils/memutils.h"
}

namespace {

// What lives from the first call to the last, in the call's multi-call
// memory: the builder (in a context of its own, deleted after the last row),
// the reader over its quarter hours, and the row former.
struct RowsCall {
    MemoryContext build_context;
    nz::RollupBuilder::Reader* reader;
    nz::pg::RollupRowForm* form;
};

Datum build_rows(FunctionCallInfo fcinfo, bool verification, const char* fn) {
    if (SRF_IS_FIRSTCALL()) {
        for (int i = 0; i < 4; ++i)
            if (PG_ARGISNULL(i))
                ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
                                errmsg("%s: argument %d must not be NULL", fn, i + 1)));
        FuncCallContext* funcctx = SRF_FIRSTCALL_INIT();
        MemoryContext old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
        auto* call = static_cast<RowsCall*>(palloc0(sizeof(RowsCall)));
        call->build_context = AllocSetContextCreate(funcctx->multi_call_memory_ctx, "nezuko_analytics rollup rows",
                                                    ALLOCSET_DEFAULT_SIZES);
        nz::pg::RollupBuildState* state = nz::pg::new_rollup_build_state(call->build_context);
        if (!nz::pg::read_build_source(NameStr(*PG_GETARG_NAME(0)), verification, PG_GETARG_TIMESTAMPTZ(1),
                                       PG_GETARG_TIMESTAMPTZ(2), PG_GETARG_BOOL(3), state))
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("%s: the build's own read may not read %s.%s", fn, NameStr(*PG_GETARG_NAME(0)),
                                   verification ? "verification_log" : "api_call_log"),
                            errhint("Ask nezuko_analytics.rollup_rows_readable() first; where it is false, "
                                    "nezuko_analytics.rollup_build_aggregates() gives the rows.")));
        nz::pg::run_core(fn, [&] {
            call->reader = new (state->resource.allocate(sizeof(nz::RollupBuilder::Reader), alignof(nz::RollupBuilder::Reader)))
                nz::RollupBuilder::Reader(state->builder);
        });
        call->form = new (palloc(sizeof(nz::pg::RollupRowForm))) nz::pg::RollupRowForm(verification, fn);
        funcctx->user_fctx = call;
        MemoryContextSwitchTo(old);
    }
    FuncCallContext* funcctx = SRF_PERCALL_SETUP();
    auto* call = static_cast<RowsCall*>(funcctx->user_fctx);
    // the next cell as plain data: its bytes belong to the reader until the next call
    bool more = false;
    int64_t start = 0;
    const char* method = nullptr;
    std::size_t method_len = 0;
    nz::RollupCounts counts;
    const uint8_t *dist = nullptr, *groups = nullptr;
    std::size_t dist_len = 0, groups_len = 0;
    nz::pg::run_core(fn, [&] {
        more = call->reader->next([&](int64_t s, const std::pmr::string& m, const nz::RollupCounts& c,
                                      const std::pmr::vector<uint8_t>& d, const std::pmr::vector<uint8_t>& g) {
            start = s;
            method = m.data();
            method_len = m.size();
            counts = c;
            dist = d.data();
            dist_len = d.size();
            groups = g.data();
            groups_len = g.size();
        });
    });
    if (!more) {
        MemoryContextDelete(call->build_context);  // the builder's memory, before the statement ends
        SRF_RETURN_DONE(funcctx);
    }
    // the row in the per-call memory, freed when the next row is asked for
    nz::pg::BuiltCell cell{start, method, method_len, counts, nz::pg::bytes_varlena(dist, dist_len),
                           nz::pg::bytes_varlena(groups, groups_len)};
    SRF_RETURN_NEXT(funcctx, HeapTupleGetDatum(call->form->row(cell)));
}

}  // namespace

NZ_PG_FUNCTION(nz_rollup_verification_rows) {
    return build_rows(fcinfo, true, "rollup_verification_rows");
}

NZ_PG_FUNCTION(nz_rollup_api_call_rows) {
    return build_rows(fcinfo, false, "rollup_api_call_rows");
}

NZ_PG_FUNCTION(nz_rollup_rows_readable) {
    const char* fn = "rollup_rows_readable";
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s: arguments must not be NULL", fn)));
    bool verification = nz::pg::build_source_is_verification(PG_GETARG_TEXT_PP(1), fn);
    PG_RETURN_BOOL(nz::pg::build_source_readable(NameStr(*PG_GETARG_NAME(0)), verification));
}
