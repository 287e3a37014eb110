// Fields of a composite argument read by name: the field numbers are found
// once per call site (kept in fn_extra with a copy of the row type) and
// checked against the names, so C++ and SQL agree by name, never by
// position.  Plain data only (safe across ereport).
#pragma once

#include <cstring>

#include "pg_boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/typcache.h"
}

namespace nz::pg {

template <int N>
class RecordFields {
public:
    // The fields `names` of argument argno's row type; slot tells apart two
    // composite arguments of one function (fn_extra holds one entry each).
    static RecordFields* of(FunctionCallInfo fcinfo, int slot, HeapTupleHeader row, const char* const (&names)[N],
                            const char* function_name) {
        auto** cache = static_cast<RecordFields**>(fcinfo->flinfo->fn_extra);
        if (cache == nullptr) {
            cache = static_cast<RecordFields**>(MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(RecordFields*) * 4));
            fcinfo->flinfo->fn_extra = cache;
        }
        Oid type = HeapTupleHeaderGetTypeId(row);
        int32 typmod = HeapTupleHeaderGetTypMod(row);
        RecordFields* f = cache[slot];
        if (f != nullptr && f->type_ == type && f->typmod_ == typmod) return f;
        MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
        f = static_cast<RecordFields*>(palloc0(sizeof(RecordFields)));
        f->type_ = type;
        f->typmod_ = typmod;
        f->desc_ = lookup_rowtype_tupdesc_copy(type, typmod);
        MemoryContextSwitchTo(old);
        for (int i = 0; i < N; ++i) {
            f->attnum_[i] = InvalidAttrNumber;
            for (int a = 0; a < f->desc_->natts; ++a) {
                Form_pg_attribute att = TupleDescAttr(f->desc_, a);
                if (!att->attisdropped && std::strcmp(NameStr(att->attname), names[i]) == 0) f->attnum_[i] = att->attnum;
            }
            if (f->attnum_[i] == InvalidAttrNumber)
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                                errmsg("%s: its row argument has no field \"%s\"", function_name, names[i]),
                                errhint("The module and the extension's SQL are of different versions: run ALTER EXTENSION nezuko_analytics UPDATE;")));
        }
        cache[slot] = f;
        return f;
    }

    // Field i (in the order of the names) of row.
    Datum get(HeapTupleHeader row, int i, bool* isnull) const {
        HeapTupleData tuple;
        tuple.t_len = HeapTupleHeaderGetDatumLength(row);
        ItemPointerSetInvalid(&tuple.t_self);
        tuple.t_tableOid = InvalidOid;
        tuple.t_data = row;
        return heap_getattr(&tuple, attnum_[i], desc_, isnull);
    }

private:
    Oid type_;
    int32 typmod_;
    TupleDesc desc_;
    AttrNumber attnum_[N];
};

}  // namespace nz::pg
