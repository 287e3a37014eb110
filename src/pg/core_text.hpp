// Turning a std::string built by core code into a PostgreSQL text: the core
// runs inside run_core() (no PostgreSQL call), its result is copied to
// malloc'd memory, every C++ object is gone, and only then is the text
// palloc'd (which may raise).
#pragma once

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "pg_boundary.hpp"

extern "C" {
#include "utils/builtins.h"
}

namespace nz::pg {

// make() returns the std::string; `name` names the function in errors.
template <typename Fn>
text* text_from_core(const char* name, Fn&& make) {
    char* bytes = nullptr;
    std::size_t len = 0;
    run_core(name, [&] {
        std::string s = make();
        len = s.size();
        bytes = static_cast<char*>(std::malloc(len + 1));
        if (bytes == nullptr) throw std::bad_alloc();
        std::memcpy(bytes, s.c_str(), len + 1);
    });
    text* out = nullptr;
    PG_TRY();
    {
        out = cstring_to_text_with_len(bytes, static_cast<int>(len));
    }
    PG_FINALLY();
    {
        std::free(bytes);
    }
    PG_END_TRY();
    return out;
}

}  // namespace nz::pg
