// rollup_day_latencies(source text, summary bytea) -> latency_dist: every
// latency of a local day of rollup_days (the binary state of the dashboard's
// summary of that day, verification_log's or api_call_log's), for the
// latency charts' reads through the rollups (docs/rollups.md).
#include "latency_dist_state.hpp"
#include "pg_boundary.hpp"
#include "plain_text.hpp"
#include "summary_state.hpp"

extern "C" {
#include "utils/builtins.h"
}

NZ_PG_FUNCTION(nz_rollup_day_latencies) {
    const char* fn = "rollup_day_latencies";
    text* source = PG_GETARG_TEXT_PP(0);
    bytea* summary = PG_GETARG_BYTEA_PP(1);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(summary));
    std::size_t len = VARSIZE_ANY_EXHDR(summary);
    bool verifications = nz::pg::text_equals(source, "verification_log");
    bool calls = nz::pg::text_equals(source, "api_call_log");
    if (!verifications && !calls)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("%s: source must be 'verification_log' or 'api_call_log'", fn)));
    nz::pg::DistState* out = nz::pg::new_dist_state(CurrentMemoryContext);
    if (verifications) {
        auto* day = nz::pg::new_state<nz::pg::VState>(CurrentMemoryContext);
        nz::pg::run_core(fn, [&] {
            day->summary.merge_encoded(data, len);
            out->dist.merge(day->summary.latencies());
        });
    } else {
        auto* day = nz::pg::new_state<nz::pg::AState>(CurrentMemoryContext);
        nz::pg::run_core(fn, [&] {
            day->summary.merge_encoded(data, len);
            out->dist.merge(day->summary.latencies());
        });
    }
    PG_RETURN_POINTER(nz::pg::encode_dist(out));
}
