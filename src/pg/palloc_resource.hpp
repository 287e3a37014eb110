// A std::pmr::memory_resource over a PostgreSQL memory context, so core
// containers live in (for example) an aggregate's context and are freed with
// it.  Allocation uses MCXT_ALLOC_NO_OOM: out of memory becomes std::bad_alloc,
// which the boundary guard turns into an ERROR, instead of a longjmp through
// C++ frames.  Objects built on it are never destroyed: their memory belongs
// to the context.
#pragma once

#include <cstddef>
#include <memory_resource>
#include <new>

extern "C" {
#include "postgres.h"
#include "utils/memutils.h"
}

namespace nz::pg {

class PallocResource final : public std::pmr::memory_resource {
public:
    explicit PallocResource(MemoryContext context) : context_(context) {}

private:
    void* do_allocate(std::size_t bytes, std::size_t alignment) override {
        if (alignment > MAXIMUM_ALIGNOF) throw std::bad_alloc();
        void* p = MemoryContextAllocExtended(context_, bytes ? bytes : 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
        if (p == nullptr) throw std::bad_alloc();
        return p;
    }
    void do_deallocate(void* p, std::size_t, std::size_t) override { pfree(p); }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

    MemoryContext context_;
};

}  // namespace nz::pg
