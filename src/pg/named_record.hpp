// A result row built by field name: each field's place comes from the OUT
// parameters the SQL declaration gives the function, so C++ and SQL agree by
// name, never by position.  Plain data only (safe across ereport).
#pragma once

#include "pg_boundary.hpp"

extern "C" {
#include "access/htup_details.h"
#include "funcapi.h"
}

namespace nz::pg {

class NamedRecord {
public:
    // ERROR unless the function returns a record with OUT parameters.
    NamedRecord(FunctionCallInfo fcinfo, const char* function_name)
        : function_name_(function_name), missing_field_("its SQL declaration has no OUT parameter") {
        TupleDesc desc;
        if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s must return a record", function_name)));
        init(BlessTupleDesc(desc));
    }
    // A row of a known row type (a table's): missing_field names what a field
    // set by a name the type lacks is missing from ("its table has no column").
    NamedRecord(TupleDesc desc, const char* function_name, const char* missing_field)
        : function_name_(function_name), missing_field_(missing_field) {
        init(desc);
    }

    // Every field NULL again, for the next row.
    void clear() {
        for (int i = 0; i < desc_->natts; ++i) nulls_[i] = true;
    }

    // The place of field `name`; an ERROR when the declaration has no such field.
    int field(const char* name) const {
        for (int i = 0; i < desc_->natts; ++i) {
            Form_pg_attribute att = TupleDescAttr(desc_, i);
            if (!att->attisdropped && std::strcmp(NameStr(att->attname), name) == 0) return i;
        }
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("%s: %s \"%s\"", function_name_, missing_field_, name),
                        errhint("The module and the extension's SQL are of different versions: run ALTER EXTENSION nezuko_analytics UPDATE;")));
    }

    // Sets field `name` (or the field at a place field() gave).
    NamedRecord& set(const char* name, Datum value) { return set(field(name), value); }
    NamedRecord& set(int at, Datum value) {
        values_[at] = value;
        nulls_[at] = false;
        return *this;
    }

    // The row; fields never set are NULL.
    Datum datum() const { return HeapTupleGetDatum(heap_form_tuple(desc_, values_, nulls_)); }
    HeapTuple tuple() const { return heap_form_tuple(desc_, values_, nulls_); }
    TupleDesc desc() const { return desc_; }

private:
    void init(TupleDesc desc) {
        desc_ = desc;
        values_ = static_cast<Datum*>(palloc0(sizeof(Datum) * desc_->natts));
        nulls_ = static_cast<bool*>(palloc(sizeof(bool) * desc_->natts));
        clear();
    }

    const char* function_name_;
    const char* missing_field_;
    TupleDesc desc_ = nullptr;
    Datum* values_ = nullptr;
    bool* nulls_ = nullptr;
};

}  // namespace nz::pg
