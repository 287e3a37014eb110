// The type nezuko_analytics.latency_dist: text and binary input/output.  Its
// storage is the core's compact binary form; every input is validated by the
// core before it is stored.
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../core/latency_dist_text.hpp"
#include "../core/latency_distribution.hpp"
#include "pg_boundary.hpp"

extern "C" {
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
}

namespace {

struct varlena* copy_to_varlena(const uint8_t* data, std::size_t len) {
    auto* out = static_cast<struct varlena*>(palloc(VARHDRSZ + len));
    SET_VARSIZE(out, VARHDRSZ + len);
    std::memcpy(VARDATA(out), data, len);
    return out;
}

}  // namespace

NZ_PG_FUNCTION(nz_latency_dist_in) {
    const char* text = PG_GETARG_CSTRING(0);
    // Parse into plain storage first: the std::vector is gone before palloc.
    std::size_t len = 0;
    uint8_t* bytes = nullptr;
    nz::pg::run_core("latency_dist_in", [&] {
        std::vector<uint8_t> parsed = nz::parse_distribution(text);
        len = parsed.size();
        bytes = static_cast<uint8_t*>(std::malloc(len ? len : 1));
        if (bytes == nullptr) throw std::bad_alloc();
        std::memcpy(bytes, parsed.data(), len);
    });
    struct varlena* out = nullptr;
    PG_TRY();
    {
        out = copy_to_varlena(bytes, len);
    }
    PG_FINALLY();
    {
        std::free(bytes);
    }
    PG_END_TRY();
    PG_RETURN_POINTER(out);
}

NZ_PG_FUNCTION(nz_latency_dist_out) {
    struct varlena* value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(value));
    std::size_t len = VARSIZE_ANY_EXHDR(value);
    char* result = nullptr;
    std::size_t text_len = 0;
    char* scratch = nullptr;
    nz::pg::run_core("latency_dist_out", [&] {
        std::string s = nz::format_distribution(nz::EncodedDistribution(data, len));
        text_len = s.size();
        scratch = static_cast<char*>(std::malloc(text_len + 1));
        if (scratch == nullptr) throw std::bad_alloc();
        std::memcpy(scratch, s.c_str(), text_len + 1);
    });
    PG_TRY();
    {
        result = static_cast<char*>(palloc(text_len + 1));
        std::memcpy(result, scratch, text_len + 1);
    }
    PG_FINALLY();
    {
        std::free(scratch);
    }
    PG_END_TRY();
    PG_RETURN_CSTRING(result);
}

NZ_PG_FUNCTION(nz_latency_dist_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* data = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    std::size_t len = static_cast<std::size_t>(buf->len - buf->cursor);
    nz::pg::run_core("latency_dist_recv", [&] { nz::EncodedDistribution check(data, len); });
    struct varlena* out = copy_to_varlena(data, len);
    buf->cursor = buf->len;
    PG_RETURN_POINTER(out);
}

NZ_PG_FUNCTION(nz_latency_dist_send) {
    struct varlena* value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
    StringInfoData buf;
    pq_begintypsend(&buf);
    pq_sendbytes(&buf, VARDATA_ANY(value), static_cast<int>(VARSIZE_ANY_EXHDR(value)));
    PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

// The compact binary form as bytea, both ways (validated on the way in).
NZ_PG_FUNCTION(nz_latency_dist_from_bytes) {
    bytea* in = PG_GETARG_BYTEA_PP(0);
    const auto* data = reinterpret_cast<const uint8_t*>(VARDATA_ANY(in));
    std::size_t len = VARSIZE_ANY_EXHDR(in);
    nz::pg::run_core("latency_dist_from_bytes", [&] { nz::EncodedDistribution check(data, len); });
    PG_RETURN_POINTER(copy_to_varlena(data, len));
}

NZ_PG_FUNCTION(nz_latency_dist_to_bytes) {
    struct varlena* value = PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(0));
    PG_RETURN_BYTEA_P(reinterpret_cast<bytea*>(
        copy_to_varlena(reinterpret_cast<const uint8_t*>(VARDATA_ANY(value)), VARSIZE_ANY_EXHDR(value))));
}
