/*
 * memory.c - linear memory: address space reserved once, pages committed
 * on grow, so the base never moves.
 *
 * With guard pages (the default) the reservation covers every address a
 * load or store can form, base + u32 address + u32 offset + 8 bytes, so an
 * out-of-bounds access faults and exec.c turns the fault into a trap. With
 * WASM_BOUNDS_CHECKS the reservation covers only the maximum size and the
 * interpreter checks every access.
 */
#include "runtime.h"

#include <errno.h>
#include <sys/mman.h>

static size_t reservation(uint32_t max_pages)
{
#ifdef WASM_BOUNDS_CHECKS
    return (size_t)(max_pages ? max_pages : 1) * WASM_PAGE_SIZE;
#else
    (void)max_pages;
    return ((size_t)1 << 33) + 2 * (size_t)WASM_PAGE_SIZE;
#endif
}

int wasm_memory_init(wasm_memory *mem, uint32_t pages, uint32_t max_pages)
{
    mem->reserved = reservation(max_pages);
    void *p = mmap(NULL, mem->reserved, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        mem->base = NULL;
        return -1;
    }
    mem->base = p;
    mem->pages = 0;
    mem->size = 0;
    mem->max_pages = max_pages;
    if (pages && wasm_memory_grow_by(mem, pages) < 0) {
        wasm_memory_release(mem);
        errno = ENOMEM;
        return -1;
    }
    wasm_exec_install_fault_handler();
    return 0;
}

void wasm_memory_release(wasm_memory *mem)
{
    if (mem->base)
        munmap(mem->base, mem->reserved);
    mem->base = NULL;
}

int64_t wasm_memory_grow_by(wasm_memory *mem, uint32_t delta)
{
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    if ((uint64_t)old + delta > mem->max_pages)
        return -1;
    size_t from = (size_t)old * WASM_PAGE_SIZE, len = (size_t)delta * WASM_PAGE_SIZE;
    if (mprotect(mem->base + from, len, PROT_READ | PROT_WRITE) != 0)
        return -1;
    mem->pages = old + delta;
    mem->size = (uint64_t)mem->pages * WASM_PAGE_SIZE;
    return old;
}
