// Reading one-dimensional int4[] / float8[] arguments without copying.
#pragma once

#include "pg_boundary.hpp"

extern "C" {
#include "utils/array.h"
}

namespace nz::pg {

// Elements of a one-dimensional array of a fixed-width type without NULLs;
// ERROR (naming the argument) otherwise.  The array must stay alive.
template <typename T>
const T* array_elements(ArrayType* array, Oid element_type, const char* argument, int* count) {
    if (ARR_ELEMTYPE(array) != element_type)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH), errmsg("%s has the wrong element type", argument)));
    if (ARR_NDIM(array) > 1)
        ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("%s must be a one-dimensional array", argument)));
    if (ARR_HASNULL(array) && array_contains_nulls(array))
        ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("%s must not contain NULL elements", argument)));
    *count = ARR_NDIM(array) == 0 ? 0 : ARR_DIMS(array)[0];
    return reinterpret_cast<const T*>(ARR_DATA_PTR(array));
}

}  // namespace nz::pg
