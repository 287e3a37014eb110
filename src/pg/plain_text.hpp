// The bytes of a text or varchar value, for code that reads many rows
// (aggregates' transitions, the native reads' visitors): detoasted (a call)
// only when it is compressed or stored out of line, which short values never
// are.  A detoasted copy goes back through free_plain_text() once its bytes
// are no longer needed.  text_equals(): whether a (detoasted) text holds a
// literal's bytes, for the functions that take a source by name.
#pragma once

#include <cstring>

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

namespace nz::pg {

inline text* plain_text(Datum d) {
    auto* v = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    return VARATT_IS_EXTENDED(v) && !VARATT_IS_SHORT(v) ? pg_detoast_datum_packed(v) : v;
}
inline void free_plain_text(text* t, Datum d) {
    if (t != reinterpret_cast<text*>(DatumGetPointer(d))) pfree(t);
}
inline bool text_equals(text* t, const char* s) {
    std::size_t len = std::strlen(s);
    return VARSIZE_ANY_EXHDR(t) == len && std::memcmp(VARDATA_ANY(t), s, len) == 0;
}

}  // namespace nz::pg
