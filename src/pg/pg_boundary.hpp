// The C++ -> PostgreSQL boundary.  Every SQL-callable function is declared with
// NZ_PG_FUNCTION(name) { ... body ... }: the body is plain C++ run inside a
// guard that catches every exception, copies its message into a fixed buffer
// (no allocation inside the catch), leaves every C++ frame, and only then
// raises one ereport(ERROR) with an SQLSTATE chosen from the exception.
//
// Rules for bodies (see docs/building.md, "The C++/PostgreSQL boundary"):
//   * PostgreSQL calls that may raise (palloc, detoast, SPI, ...) are allowed,
//     but then only plain data may live on the body's stack: ereport(ERROR) is
//     a longjmp and skips C++ destructors.
//   * Core code that owns resources (std::vector, std::string) runs in
//     nz::pg::run_core(), which calls no PostgreSQL function.
#pragma once

// C++ standard headers first: port.h redefines snprintf and friends.
#include <cstring>
#include <exception>
#include <new>
#include <utility>

#include "../core/core_error.hpp"

extern "C" {
#include "postgres.h"
#include "fmgr.h"
}

namespace nz::pg {

// Filled by capture() only, so the message is left uninitialized: a guard
// runs on every call of a per-row function (an aggregate's transition), and
// zeroing 512 bytes there twice per row took an eighth of a rollup build.
struct CaughtError {
    int sqlstate = 0;
    char message[512];
};

inline void capture(CaughtError& out, int sqlstate, const char* what) noexcept {
    out.sqlstate = sqlstate;
    std::strncpy(out.message, what ? what : "unknown C++ error", sizeof out.message - 1);
    out.message[sizeof out.message - 1] = '\0';
}

inline int sqlstate_for(nz::ErrorKind kind) noexcept {
    switch (kind) {
        case nz::ErrorKind::invalid_argument: return ERRCODE_INVALID_PARAMETER_VALUE;
        case nz::ErrorKind::out_of_range: return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        case nz::ErrorKind::corrupt_value: return ERRCODE_INVALID_BINARY_REPRESENTATION;
        case nz::ErrorKind::invalid_text: return ERRCODE_INVALID_TEXT_REPRESENTATION;
    }
    return ERRCODE_INTERNAL_ERROR;
}

// Runs fn(args...) and converts any exception into a CaughtError.  Returns
// true when fn returned normally.  Calls nothing of PostgreSQL itself.
template <typename Fn>
bool try_cpp(CaughtError& err, Fn&& fn) noexcept {
    try {
        std::forward<Fn>(fn)();
        return true;
    } catch (const nz::CoreError& e) {
        capture(err, sqlstate_for(e.kind()), e.what());
    } catch (const std::bad_alloc&) {
        capture(err, ERRCODE_OUT_OF_MEMORY, "out of memory in nezuko_analytics");
    } catch (const std::exception& e) {
        capture(err, ERRCODE_INTERNAL_ERROR, e.what());
    } catch (...) {
        capture(err, ERRCODE_INTERNAL_ERROR, "unknown C++ exception in nezuko_analytics");
    }
    return false;
}

// Raises the captured error.  Called only after every C++ frame that owns
// resources has returned.
[[noreturn]] void raise(const CaughtError& err, const char* function_name);

// Runs core code that may throw; on failure raises an ERROR once its frames
// are gone.  The lambda must not call PostgreSQL functions that can raise.
template <typename Fn>
void run_core(const char* function_name, Fn&& fn) {
    CaughtError err;
    if (!try_cpp(err, std::forward<Fn>(fn)))
        raise(err, function_name);
}

// The guard around a whole SQL-callable body.
template <Datum (*Body)(FunctionCallInfo)>
Datum guarded_call(FunctionCallInfo fcinfo, const char* function_name) {
    CaughtError err;
    Datum result = (Datum) 0;
    sigjmp_buf* saved_stack = PG_exception_stack;
    bool ok = try_cpp(err, [&] { result = Body(fcinfo); });
    PG_exception_stack = saved_stack;
    if (!ok)
        raise(err, function_name);
    return result;
}

}  // namespace nz::pg

// Declares the fmgr entry point `name` (V1 calling convention, extern "C")
// and the guarded C++ body `name_body` that follows the macro.
#define NZ_PG_FUNCTION(name)                                                   \
    static Datum name##_body(FunctionCallInfo fcinfo);                         \
    extern "C" {                                                               \
    PGDLLEXPORT Datum name(PG_FUNCTION_ARGS);                                  \
    PG_FUNCTION_INFO_V1(name);                                                 \
    }                                                                          \
    Datum name(PG_FUNCTION_ARGS) {                                             \
        return nz::pg::guarded_call<name##_body>(fcinfo, #name);               \
    }                                                                          \
    static Datum name##_body(FunctionCallInfo fcinfo)
