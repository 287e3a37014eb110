// What every aggregate's support functions need: the aggregate's memory
// context (an ERROR when called as a plain function), the internal state
// argument (NULL before the first row), and the one combine function.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <new>
#include <vector>

#include "pg_boundary.hpp"

namespace nz::pg {

inline MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char* name) {
    MemoryContext context;
    if (!AggCheckCallContext(fcinfo, &context))
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s called in non-aggregate context", name)));
    return context;
}

template <typename State>
State* state_arg(FunctionCallInfo fcinfo, int argno) {
    return PG_ARGISNULL(argno) ? nullptr : reinterpret_cast<State*>(PG_GETARG_POINTER(argno));
}

// The combine function of every aggregate here: merges state b into state a
// (a new one, from new_state(context), when a is NULL) with merge(a, b),
// which wraps core code in run_core itself.
template <typename State, typename NewState, typename Merge>
Datum combine_states(FunctionCallInfo fcinfo, const char* name, NewState&& new_state, Merge&& merge) {
    MemoryContext context = aggregate_context(fcinfo, name);
    State* a = state_arg<State>(fcinfo, 0);
    State* b = state_arg<State>(fcinfo, 1);
    if (b == nullptr) PG_RETURN_POINTER(a);
    if (a == nullptr) a = new_state(context);
    merge(a, b);
    PG_RETURN_POINTER(a);
}

// The serialize function of an aggregate whose core state encodes itself:
// encode() runs as core code (its bytes live in the state's resource), and
// they are copied into a bytea.
template <typename Encode>
Datum serialize_encoded(const char* name, Encode&& encode) {
    const std::pmr::vector<uint8_t>* bytes = nullptr;
    alignas(std::pmr::vector<uint8_t>) unsigned char holder[sizeof(std::pmr::vector<uint8_t>)];
    run_core(name, [&] { bytes = new (holder) std::pmr::vector<uint8_t>(encode()); });
    bytea* out = static_cast<bytea*>(palloc(VARHDRSZ + bytes->size()));
    SET_VARSIZE(out, VARHDRSZ + bytes->size());
    std::memcpy(VARDATA(out), bytes->data(), bytes->size());
    return PointerGetDatum(out);
}

}  // namespace nz::pg
