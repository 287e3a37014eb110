// latency_bucket(latency_ms, edges) and the aggregate
// latency_bucket_counts(latency_ms, edges) -> bigint[] (one count per bucket,
// parallel: combine/serialize/deserialize), which latency_histogram() uses.
#include <cstring>

#include "../core/latency_buckets.hpp"
#include "pg_arrays.hpp"
#include "pg_aggregate.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
}

namespace {

// Validated edges, copied into plain storage.
struct Edges {
    int32 n;
    int32 values[nz::kMaxBucketEdges];
};

void read_edges(FunctionCallInfo fcinfo, int argno, Edges* out) {
    ArrayType* array = PG_GETARG_ARRAYTYPE_P(argno);
    int n = 0;
    const int32* values = nz::pg::array_elements<int32>(array, INT4OID, "edges", &n);
    nz::pg::run_core("latency buckets", [&] { nz::validate_bucket_edges(values, static_cast<std::size_t>(n)); });
    out->n = n;
    std::memcpy(out->values, values, sizeof(int32) * static_cast<std::size_t>(n));
}

std::size_t bucket_of(const Edges& e, int32 latency_ms) {
    std::size_t i = 0;
    nz::pg::run_core("latency_bucket", [&] { i = nz::bucket_index(e.values, static_cast<std::size_t>(e.n), latency_ms); });
    return i;
}

// Bucket i's label as text, palloc'd in the current memory context.  The
// std::string lives only inside run_core, before anything can raise.
text* label_text(const Edges& edges, int i) {
    char label[64] = {0};
    nz::pg::run_core("latency buckets", [&] {
        std::string s = nz::bucket_label(edges.values, static_cast<std::size_t>(edges.n), static_cast<std::size_t>(i));
        std::strncpy(label, s.c_str(), sizeof label - 1);
    });
    return cstring_to_text(label);
}

// latency_bucket's per-call-site cache: the edges and their labels as text.
struct BucketLabels {
    Edges edges;
    text* labels[nz::kMaxBucketEdges + 1];
};

}  // namespace

NZ_PG_FUNCTION(nz_latency_bucket) {
    int32 latency_ms = PG_GETARG_INT32(0);
    Edges edges;
    read_edges(fcinfo, 1, &edges);
    auto* cache = static_cast<BucketLabels*>(fcinfo->flinfo->fn_extra);
    if (cache == nullptr || cache->edges.n != edges.n ||
        std::memcmp(cache->edges.values, edges.values, sizeof(int32) * static_cast<std::size_t>(edges.n)) != 0) {
        cache = static_cast<BucketLabels*>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(BucketLabels)));
        cache->edges = edges;
        for (int i = 0; i <= edges.n; ++i) {
            MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
            cache->labels[i] = label_text(edges, i);
            MemoryContextSwitchTo(old);
        }
        fcinfo->flinfo->fn_extra = cache;
    }
    PG_RETURN_TEXT_P(cache->labels[bucket_of(cache->edges, latency_ms)]);
}

// ------------------------------------------------------------ the aggregate

namespace {

struct BucketCounts {
    Edges edges;
    int64 counts[nz::kMaxBucketEdges + 1];
};

BucketCounts* new_counts(MemoryContext context) {
    return static_cast<BucketCounts*>(MemoryContextAllocZero(context, sizeof(BucketCounts)));
}

void check_same_edges(const Edges& a, const Edges& b) {
    if (a.n != b.n || std::memcmp(a.values, b.values, sizeof(int32) * static_cast<std::size_t>(a.n)) != 0)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("latency_bucket_counts: edges must be the same for every row")));
}

}  // namespace

NZ_PG_FUNCTION(nz_bucket_counts_add) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "latency_bucket_counts");
    BucketCounts* state = nz::pg::state_arg<BucketCounts>(fcinfo, 0);
    if (PG_ARGISNULL(2))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("latency_bucket_counts: edges must not be NULL")));
    if (state == nullptr) {
        state = new_counts(context);
        read_edges(fcinfo, 2, &state->edges);
    } else {
        // The edges come with every row: compared by contents (an address
        // may be reused for other values), validated again only when they differ.
        int n = 0;
        const int32* values = nz::pg::array_elements<int32>(PG_GETARG_ARRAYTYPE_P(2), INT4OID, "edges", &n);
        if (n != state->edges.n || std::memcmp(values, state->edges.values, sizeof(int32) * static_cast<std::size_t>(n)) != 0) {
            Edges edges;
            read_edges(fcinfo, 2, &edges);
            check_same_edges(state->edges, edges);
        }
    }
    if (!PG_ARGISNULL(1))
        state->counts[bucket_of(state->edges, PG_GETARG_INT32(1))]++;
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_bucket_counts_combine) {
    return nz::pg::combine_states<BucketCounts>(fcinfo, "latency_bucket_counts", new_counts,
                                                [](BucketCounts* a, BucketCounts* b) {
        if (a->edges.n == 0) a->edges = b->edges;  // a new state takes b's edges
        check_same_edges(a->edges, b->edges);
        for (int i = 0; i <= a->edges.n; ++i) a->counts[i] += b->counts[i];
    });
}

NZ_PG_FUNCTION(nz_bucket_counts_serialize) {
    auto* state = reinterpret_cast<BucketCounts*>(PG_GETARG_POINTER(0));
    bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + sizeof(BucketCounts)));
    SET_VARSIZE(out, VARHDRSZ + sizeof(BucketCounts));
    std::memcpy(VARDATA(out), state, sizeof(BucketCounts));
    PG_RETURN_BYTEA_P(out);
}

NZ_PG_FUNCTION(nz_bucket_counts_deserialize) {
    MemoryContext context = nz::pg::aggregate_context(fcinfo, "latency_bucket_counts");
    bytea* in = PG_GETARG_BYTEA_PP(0);
    if (VARSIZE_ANY_EXHDR(in) != sizeof(BucketCounts))
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("latency_bucket_counts: serialized state has the wrong size")));
    BucketCounts* state = new_counts(context);
    std::memcpy(state, VARDATA_ANY(in), sizeof(BucketCounts));
    if (state->edges.n < 1 || state->edges.n > static_cast<int32>(nz::kMaxBucketEdges))
        ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
                        errmsg("latency_bucket_counts: serialized state is corrupt")));
    PG_RETURN_POINTER(state);
}

NZ_PG_FUNCTION(nz_bucket_counts_final) {
    if (PG_ARGISNULL(0)) PG_RETURN_NULL();
    auto* state = reinterpret_cast<BucketCounts*>(PG_GETARG_POINTER(0));
    Datum elems[nz::kMaxBucketEdges + 1];
    for (int i = 0; i <= state->edges.n; ++i) elems[i] = Int64GetDatum(state->counts[i]);
    PG_RETURN_ARRAYTYPE_P(construct_array(elems, state->edges.n + 1, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

// The default edges of the contracts' buckets, from the core's one source.
NZ_PG_FUNCTION(nz_default_latency_edges) {
    (void) fcinfo;
    Datum edges[nz::kDefaultBucketEdgeCount];
    for (std::size_t i = 0; i < nz::kDefaultBucketEdgeCount; ++i) edges[i] = Int32GetDatum(nz::kDefaultBucketEdges[i]);
    PG_RETURN_ARRAYTYPE_P(construct_array(edges, static_cast<int>(nz::kDefaultBucketEdgeCount), INT4OID, sizeof(int32),
                                          true, TYPALIGN_INT));
}

NZ_PG_FUNCTION(nz_latency_bucket_labels) {
    Edges edges;
    read_edges(fcinfo, 0, &edges);
    Datum labels[nz::kMaxBucketEdges + 1];
    for (int i = 0; i <= edges.n; ++i) labels[i] = PointerGetDatum(label_text(edges, i));
    PG_RETURN_ARRAYTYPE_P(construct_array(labels, edges.n + 1, TEXTOID, -1, false, TYPALIGN_INT));
}

// latency_dist_buckets(d latency_dist, edges integer[]) -> bigint[]: the
// counts of d's values per bucket, as latency_bucket_counts() counts rows;
// NULL when d cannot tell (a negative value, or a key of 20 significant bits
// across an edge), so that the caller counts the rows.
NZ_PG_FUNCTION(nz_latency_dist_buckets) {
    struct varlena* d = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
    Edges edges;
    read_edges(fcinfo, 1, &edges);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(d));
    std::size_t len = VARSIZE_ANY_EXHDR(d);
    uint64_t counts[nz::kMaxBucketEdges + 1] = {};
    bool exact = false;
    nz::pg::run_core("latency_dist_buckets", [&] {
        exact = nz::bucket_counts_of(nz::EncodedDistribution(data, len), edges.values, static_cast<std::size_t>(edges.n),
                                     counts);
    });
    if (!exact) PG_RETURN_NULL();
    Datum elems[nz::kMaxBucketEdges + 1];
    for (int i = 0; i <= edges.n; ++i) elems[i] = Int64GetDatum(static_cast<int64>(counts[i]));
    PG_RETURN_ARRAYTYPE_P(construct_array(elems, edges.n + 1, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}
