/*
 * tests/wasi/wasi_test.h - fixture and helpers for the host-side WASI tests
 * (cmocka, on the fake engine). A fixture is a context, a linker with
 * wasi_link() applied, and one instance with 64 KiB of memory whose
 * userdata is the context. Guest memory addresses used by the tests:
 */
#ifndef WATER_TESTS_WASI_TEST_H
#define WATER_TESTS_WASI_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_engine.h"
#include "wasi/wasi.h"

#define MEM_SIZE 65536u
#define A_IOV 0x100u  /* iovec arrays */
#define A_OUT 0x200u  /* result pointers: 0x200, 0x208, 0x210 ... */
#define A_PATH 0x800u /* path strings */
#define A_BUF 0x1000u /* data buffers, 4 KiB */
#define A_SUBS 0x2000u /* poll subscriptions */
#define A_EVS 0x4000u  /* poll events */
#define A_BIG 0x8000u  /* 32 KiB scratch */

typedef struct fx {
    wasi_ctx *ctx;
    wasm_linker *l;
    wasm_instance *inst;
    uint8_t *mem;
} fx;

static inline void fx_init(fx *f, const wasi_options *o)
{
    char err[256];
    f->ctx = wasi_ctx_new(o, err, sizeof err);
    if (!f->ctx)
        fail_msg("wasi_ctx_new: %s", err);
    f->l = wasm_linker_new();
    assert_non_null(f->l);
    assert_int_equal(wasi_link(f->l), WASM_OK);
    f->inst = fake_instance_new(MEM_SIZE, f->ctx);
    assert_non_null(f->inst);
    f->mem = fake_mem(f->inst);
}

static inline void fx_fini(fx *f)
{
    fake_instance_free(f->inst);
    wasm_linker_free(f->l);
    wasi_ctx_free(f->ctx);
}

/* Calls a WASI function that must not trap; returns its errno result. */
static inline int32_t wcall_(fx *f, const char *name, const uint64_t *args,
                             size_t n)
{
    int32_t r = -1;
    wasm_trap t = fake_call(f->l, f->inst, name, args, n, &r);
    if (t != WASM_TRAP_NONE)
        fail_msg("%s trapped (%d): %s", name, (int)t,
                 fake_trap_message(f->inst));
    return r;
}
#define WARGS(...) ((const uint64_t[]){__VA_ARGS__})
#define WCALL(f, name, ...)                                                  \
    wcall_((f), (name), WARGS(__VA_ARGS__),                                  \
           sizeof WARGS(__VA_ARGS__) / sizeof(uint64_t))
#define WCALL0(f, name) wcall_((f), (name), NULL, 0)
/* Calls a function that must trap; returns the trap. */
#define WTRAP(f, name, ...)                                                  \
    fake_call((f)->l, (f)->inst, (name), WARGS(__VA_ARGS__),                 \
              sizeof WARGS(__VA_ARGS__) / sizeof(uint64_t), NULL)

static inline uint16_t ld16(const fx *f, uint32_t a)
{
    return (uint16_t)(f->mem[a] | (f->mem[a + 1] << 8));
}
static inline uint32_t ld32(const fx *f, uint32_t a)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | f->mem[a + (uint32_t)i];
    return v;
}
static inline uint64_t ld64(const fx *f, uint32_t a)
{
    return (uint64_t)ld32(f, a) | ((uint64_t)ld32(f, a + 4) << 32);
}
static inline void st16(fx *f, uint32_t a, uint16_t v)
{
    f->mem[a] = (uint8_t)v;
    f->mem[a + 1] = (uint8_t)(v >> 8);
}
static inline void st32(fx *f, uint32_t a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        f->mem[a + (uint32_t)i] = (uint8_t)(v >> (8 * i));
}
static inline void st64(fx *f, uint32_t a, uint64_t v)
{
    st32(f, a, (uint32_t)v);
    st32(f, a + 4, (uint32_t)(v >> 32));
}
/* Writes iovec i of the array at `arr`. */
static inline void st_iov(fx *f, uint32_t arr, uint32_t i, uint32_t buf,
                          uint32_t len)
{
    st32(f, arr + 8 * i, buf);
    st32(f, arr + 8 * i + 4, len);
}
/* Copies a string (without NUL) into memory; returns its length. */
static inline uint32_t st_str(fx *f, uint32_t a, const char *s)
{
    size_t n = strlen(s);
    memcpy(f->mem + a, s, n);
    return (uint32_t)n;
}

#endif
