// rollup_groups(groups bytea) -> jsonb: the group counts of a quarter hour of
// rollup_verifications (src/core/group_counts.hpp) as keyed JSON, by id.
#include "../core/group_counts.hpp"
#include "core_text.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
}

NZ_PG_FUNCTION(nz_rollup_groups) {
    bytea* in = PG_GETARG_BYTEA_PP(0);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    text* json = nz::pg::text_from_core("rollup_groups", [&] {
        return nz::group_counts_json(nz::EncodedGroupCounts(data, len));
    });
    return DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(json)));
}
