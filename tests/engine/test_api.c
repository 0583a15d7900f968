/*
 * test_api.c - the engine's public API (water/wasm.h) beyond what the spec
 * suite covers: limits, interrupts from another thread, fuel, host
 * functions and their traps, memory and globals from the host, error
 * messages, and one module instantiated and run by many threads at once.
 *
 * argv[1] is the folder holding the .wasm files built from the .wat files.
 */
#include "water/wasm.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static const char *dir;

static wasm_module *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wasm_error err;
    wasm_module *m = wasm_module_new(buf, n, &err);
    if (!m)
        fail_msg("%s: %s", path, err.message);
    return m;
}

static wasm_val i32(int32_t v) { return (wasm_val){.type = WASM_I32, .of.i32 = v}; }
static wasm_val i64(int64_t v) { return (wasm_val){.type = WASM_I64, .of.i64 = v}; }

/* ---- limits ----------------------------------------------------------- */

static void test_call_depth_limit(void **state)
{
    (void)state;
    wasm_module *m = load("loop");
    wasm_instance_config cfg = {.max_call_depth = 500};
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, NULL, &cfg, &err);
    assert_non_null(inst);
    wasm_val a = i32(0), r;
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "deep"), &a, 1, &r, 1, &err),
                     WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_STACK_EXHAUSTED);
    assert_non_null(strstr(err.message, "call stack exhausted"));
    /* The instance stays usable after a trap. */
    a = i32(1000);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "count"), &a, 1, &r, 1, &err),
                     WASM_OK);
    assert_int_equal(r.of.i32, 1000);
    wasm_instance_free(inst);
    wasm_module_free(m);
}

static void test_memory_cap(void **state)
{
    (void)state;
    wasm_module *big = load("big"), *m = load("mem");
    wasm_error err;
    /* The module needs 100 pages: a cap of 50 refuses it, clearly. */
    wasm_instance_config cfg = {.max_memory_pages = 50};
    assert_null(wasm_instance_new(big, NULL, &cfg, &err));
    assert_int_equal(err.code, WASM_ERR_LIMIT);
    assert_non_null(strstr(err.message, "100 pages"));
    /* memory.grow past the cap returns -1 and leaves the size alone. */
    cfg.max_memory_pages = 4;
    wasm_instance *inst = wasm_instance_new(m, NULL, &cfg, &err);
    assert_non_null(inst);
    wasm_func *grow = wasm_instance_func(inst, "grow");
    wasm_val a = i32(2), r;
    assert_int_equal(wasm_call(inst, grow, &a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, 2); /* old size */
    a = i32(1);
    assert_int_equal(wasm_call(inst, grow, &a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, -1);
    assert_int_equal(wasm_memory_size(inst), 4 * 65536);
    wasm_instance_free(inst);
    wasm_module_free(m);
    wasm_module_free(big);
}

static void test_table_budget(void **state)
{
    (void)state;
    wasm_module *m = load("tables");
    wasm_error err;
    /* The default budget (10 million elements) refuses 11 million. */
    assert_null(wasm_instance_new(m, NULL, NULL, &err));
    assert_int_equal(err.code, WASM_ERR_LIMIT);
    assert_non_null(strstr(err.message, "table elements per instance"));
    /* With room for 12 million, it instantiates; growing past the rest of
     * the budget gives -1 and changes nothing. */
    wasm_instance_config cfg = {.max_table_elements = 12000000};
    wasm_instance *inst = wasm_instance_new(m, NULL, &cfg, &err);
    assert_non_null(inst);
    wasm_func *grow = wasm_instance_func(inst, "grow_a");
    wasm_val a = i32(1000001), r;
    assert_int_equal(wasm_call(inst, grow, &a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, -1);
    a = i32(1000000);
    assert_int_equal(wasm_call(inst, grow, &a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, 6000000);
    a = i32(1);
    assert_int_equal(wasm_call(inst, grow, &a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, -1);
    wasm_instance_free(inst);
    wasm_module_free(m);
}

static void test_start_function_fuel(void **state)
{
    (void)state;
    wasm_module *m = load("start_spin");
    wasm_error err;
    /* A start function that never returns is stopped by the config's fuel. */
    wasm_instance_config cfg = {.fuel = 100000};
    assert_null(wasm_instance_new(m, NULL, &cfg, &err));
    assert_int_equal(err.code, WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_FUEL);
    wasm_module_free(m);
}

/* ---- interrupt and fuel -------------------------------------------------- */

static void *interrupt_later(void *p)
{
    usleep(50 * 1000);
    wasm_instance_interrupt(p);
    return NULL;
}

static void test_interrupt_from_another_thread(void **state)
{
    (void)state;
    wasm_module *m = load("loop");
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, NULL, NULL, &err);
    assert_non_null(inst);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupt_later, inst), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "spin"), NULL, 0, NULL, 0, &err),
                     WASM_ERR_TRAP);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    assert_int_equal(err.trap, WASM_TRAP_INTERRUPTED);
    assert_non_null(strstr(err.message, "interrupted"));
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 5.0);
    /* Until cleared, the flag stops every call; then calls run again. */
    wasm_val a = i32(10), r;
    wasm_func *count = wasm_instance_func(inst, "count");
    assert_int_equal(wasm_call(inst, count, &a, 1, &r, 1, &err), WASM_ERR_TRAP);
    wasm_instance_clear_interrupt(inst);
    assert_int_equal(wasm_call(inst, count, &a, 1, &r, 1, &err), WASM_OK);
    wasm_instance_free(inst);
    wasm_module_free(m);
}

static void test_fuel(void **state)
{
    (void)state;
    wasm_module *m = load("loop");
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, NULL, NULL, &err);
    wasm_func *count = wasm_instance_func(inst, "count");
    wasm_val a = i32(100), r;
    wasm_instance_set_fuel(inst, 1000);
    assert_int_equal(wasm_call(inst, count, &a, 1, &r, 1, &err), WASM_OK);
    uint64_t left = wasm_instance_fuel(inst);
    assert_true(left < 1000 && left >= 1000 - 200); /* ~one unit per iteration */
    a = i32(100000);
    assert_int_equal(wasm_call(inst, count, &a, 1, &r, 1, &err), WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_FUEL);
    /* Every kind of back edge takes fuel (a branch's poll tests the sign
     * of its offset and every poll bit). */
    const char *spins[] = {"spin_table", "spin_if"};
    int32_t args[] = {0, 1, 5};
    for (size_t k = 0; k < sizeof spins / sizeof spins[0]; k++) {
        for (size_t j = 0; j < sizeof args / sizeof args[0]; j++) {
            wasm_func *f = wasm_instance_func(inst, spins[k]);
            a = i32(args[j]);
            wasm_instance_set_fuel(inst, 1000);
            assert_int_equal(wasm_call(inst, f, &a, 1, NULL, 0, &err), WASM_ERR_TRAP);
            assert_int_equal(err.trap, WASM_TRAP_FUEL);
        }
    }
    wasm_instance_free(inst);
    wasm_module_free(m);
}

static wasm_trap host_tick(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)caller;
    (void)s;
    (*(int *)env)++;
    return WASM_TRAP_NONE;
}

/* A refill budget bounds the work between two host calls, not the total. */
static void test_fuel_refill(void **state)
{
    (void)state;
    wasm_module *m = load("refill");
    int ticks = 0;
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasm_linker_define_func(l, "host", "tick", "->", host_tick, &ticks),
                     WASM_OK);
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, l, NULL, &err);
    assert_non_null(inst);
    wasm_func *ticking = wasm_instance_func(inst, "ticking");
    wasm_func *silent = wasm_instance_func(inst, "silent");
    /* 1000 rounds of ~100 units each: 100 times the budget in all, but
     * never more than ~100 between two ticks. */
    wasm_instance_set_fuel_refill(inst, 500);
    wasm_val a = i32(1000);
    assert_int_equal(wasm_call(inst, ticking, &a, 1, NULL, 0, &err), WASM_OK);
    assert_int_equal(ticks, 1000);
    /* The same work without host calls runs out. */
    assert_int_equal(wasm_call(inst, silent, &a, 1, NULL, 0, &err), WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_FUEL);
    /* Without the refill, fuel is a total again: 1000 units do not last
     * 1000 rounds. */
    wasm_instance_set_fuel_refill(inst, 0);
    wasm_instance_set_fuel(inst, 1000);
    ticks = 0;
    assert_int_equal(wasm_call(inst, ticking, &a, 1, NULL, 0, &err), WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_FUEL);
    assert_true(ticks < 20);
    wasm_instance_free(inst);
    wasm_linker_free(l);
    wasm_module_free(m);
}

/* ---- host functions ----------------------------------------------------- */

static wasm_trap host_add(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)caller;
    int *calls = env;
    (*calls)++;
    s[0].i64 = (int64_t)s[0].i32 + s[1].i64;
    return WASM_TRAP_NONE;
}

static wasm_trap host_fail(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    (void)s;
    wasm_instance_set_trap_message(caller, "refused by the host (%d)", 42);
    return WASM_TRAP_HOST;
}

/* Reads one byte of the caller's memory through the checked door. */
static wasm_trap host_peek(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    const uint8_t *p = wasm_memory_ptr(caller, s[0].u32, 1);
    s[0].i32 = p ? *p : -1;
    return WASM_TRAP_NONE;
}

static wasm_linker *host_linker(int *calls)
{
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasm_linker_define_func(l, "host", "add", "iI->I", host_add, calls), WASM_OK);
    assert_int_equal(wasm_linker_define_func(l, "host", "fail", "->", host_fail, NULL), WASM_OK);
    assert_int_equal(wasm_linker_define_func(l, "host", "peek", "i->i", host_peek, NULL), WASM_OK);
    assert_int_equal(wasm_linker_define_func(l, "host", "bad", "x->", host_fail, NULL),
                     WASM_ERR_ARGS);
    return l;
}

static void test_host_functions(void **state)
{
    (void)state;
    wasm_module *m = load("host");
    int calls = 0;
    wasm_linker *l = host_linker(&calls);
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, l, NULL, &err);
    assert_non_null(inst);
    wasm_val a[2] = {i32(-3), i64(10000000000LL)}, r;
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "call_add"), a, 2, &r, 1, &err),
                     WASM_OK);
    assert_int_equal(r.type, WASM_I64);
    assert_true(r.of.i64 == 9999999997LL);
    assert_int_equal(calls, 1);
    /* A host trap carries the host's message. */
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "call_fail"), NULL, 0, NULL, 0, &err),
                     WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_HOST);
    assert_non_null(strstr(err.message, "refused by the host (42)"));
    /* Memory seen from the host: inside, and one past the end. */
    a[0] = i32(100);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "call_peek"), a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, 42);
    a[0] = i32(65536);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "call_peek"), a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, -1);
    assert_null(wasm_memory_ptr(inst, UINT64_MAX - 2, 8)); /* no overflow */
    assert_null(wasm_memory_ptr(inst, 65535, 2));
    assert_non_null(wasm_memory_ptr(inst, 65535, 1));
    /* A trap names the function it happened in. */
    a[0] = i32(1);
    a[1] = i32(0);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "div"), a, 2, &r, 1, &err), WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_DIV_ZERO);
    assert_non_null(strstr(err.message, "integer divide by zero"));
    assert_int_equal(err.func_index, 7);
    /* Wrong argument types are refused before running. */
    a[0] = i64(1);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "div"), a, 2, &r, 1, &err), WASM_ERR_ARGS);
    wasm_instance_free(inst);
    wasm_linker_free(l);
    wasm_module_free(m);
}

static void test_unlinkable(void **state)
{
    (void)state;
    wasm_module *m = load("host");
    wasm_error err;
    /* Nothing defines host.add: the message names the import. */
    assert_null(wasm_instance_new(m, NULL, NULL, &err));
    assert_int_equal(err.code, WASM_ERR_LINK);
    assert_non_null(strstr(err.message, "host.add"));
    /* A signature that differs is refused too. */
    wasm_linker *l = wasm_linker_new();
    wasm_linker_define_func(l, "host", "add", "ii->I", host_add, NULL);
    assert_null(wasm_instance_new(m, l, NULL, &err));
    assert_int_equal(err.code, WASM_ERR_LINK);
    assert_non_null(strstr(err.message, "signature"));
    /* allow_unresolved: instantiates; calling the missing import traps. */
    wasm_linker_free(l);
    l = wasm_linker_new();
    wasm_linker_allow_unresolved(l, true);
    wasm_instance *inst = wasm_instance_new(m, l, NULL, &err);
    assert_non_null(inst);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "call_fail"), NULL, 0, NULL, 0, &err),
                     WASM_ERR_TRAP);
    assert_non_null(strstr(err.message, "unlinked import host.fail"));
    wasm_instance_free(inst);
    wasm_linker_free(l);
    wasm_module_free(m);
}

/* ---- memory and globals from the host ----------------------------------- */

static void test_memory_and_globals(void **state)
{
    (void)state;
    wasm_module *m = load("mem");
    wasm_error err;
    wasm_instance *inst = wasm_instance_new(m, NULL, NULL, &err);
    assert_non_null(inst);
    char *p = wasm_memory_ptr(inst, 16, 5);
    assert_non_null(p);
    assert_memory_equal(p, "hello", 5);
    p[0] = 'J';
    wasm_val a = i32(16), r;
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "load"), &a, 1, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, 'J');
    /* Out of bounds from wasm: a trap naming the reason. */
    a = i32(2 * 65536);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "load"), &a, 1, &r, 1, &err),
                     WASM_ERR_TRAP);
    assert_int_equal(err.trap, WASM_TRAP_MEMORY_OOB);
    /* Growing from the host is seen by wasm. */
    assert_int_equal(wasm_memory_grow(inst, 1), 2);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "size"), NULL, 0, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, 3);
    a = i32(2 * 65536);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "load"), &a, 1, &r, 1, &err), WASM_OK);
    /* Globals. */
    wasm_val g;
    assert_int_equal(wasm_global_get(inst, "counter", &g), WASM_OK);
    assert_int_equal(g.of.i32, 7);
    g.of.i32 = 100;
    assert_int_equal(wasm_global_set(inst, "counter", &g), WASM_OK);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "bump"), NULL, 0, &r, 1, &err), WASM_OK);
    assert_int_equal(r.of.i32, 101);
    assert_int_equal(wasm_global_get(inst, "const", &g), WASM_OK);
    assert_true(g.type == WASM_I64 && g.of.i64 == -5);
    assert_int_equal(wasm_global_set(inst, "const", &g), WASM_ERR_ARGS); /* immutable */
    assert_int_equal(wasm_global_get(inst, "nope", &g), WASM_ERR_NOT_FOUND);
    wasm_instance_free(inst);
    wasm_module_free(m);
}

/* ---- bad modules ---------------------------------------------------------- */

static void test_bad_modules(void **state)
{
    (void)state;
    wasm_error err;
    static const uint8_t not_wasm[] = "hello world";
    assert_null(wasm_module_new(not_wasm, sizeof not_wasm, &err));
    assert_int_equal(err.code, WASM_ERR_MALFORMED);
    assert_true(strlen(err.message) > 0);
    /* A module using SIMD: a v128 local. */
    static const uint8_t simd[] = {0, 'a', 's', 'm', 1, 0, 0, 0,
                                   1, 4, 1, 0x60, 0, 0,       /* type () -> () */
                                   3, 2, 1, 0,                /* func 0: type 0 */
                                   10, 6, 1, 4, 1, 1, 0x7B, 0x0B}; /* local v128 */
    assert_null(wasm_module_new(simd, sizeof simd, &err));
    assert_int_equal(err.code, WASM_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "SIMD (v128) is not supported yet"));
    /* Every prefix of a valid module that cuts a section is refused
     * without a crash (8 and 14 bytes end on section boundaries: those
     * prefixes are valid modules themselves). */
    static const uint8_t ok[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0,
                                 3, 2, 1, 0, 10, 4, 1, 2, 0, 0x0B};
    wasm_module *m = wasm_module_new(ok, sizeof ok, &err);
    assert_non_null(m);
    wasm_module_free(m);
    for (size_t n = 0; n < sizeof ok; n++) {
        m = wasm_module_new(ok, n, &err);
        if (n == 8 || n == 14)
            assert_non_null(m);
        else
            assert_null(m);
        wasm_module_free(m);
    }
}

/* ---- threads ---------------------------------------------------------------- */

typedef struct {
    wasm_module *m;
    int ok;
} thread_arg;

static void *thread_main(void *p)
{
    thread_arg *a = p;
    for (int k = 0; k < 20; k++) {
        wasm_error err;
        wasm_instance *inst = wasm_instance_new(a->m, NULL, NULL, &err);
        if (!inst)
            return NULL;
        wasm_val n = i32(20000 + k), r;
        if (wasm_call(inst, wasm_instance_func(inst, "count"), &n, 1, &r, 1, &err) == WASM_OK &&
            r.of.i32 == 20000 + k)
            a->ok++;
        wasm_instance_free(inst);
    }
    return NULL;
}

static void test_one_module_many_threads(void **state)
{
    (void)state;
    wasm_module *m = load("loop");
    pthread_t th[8];
    thread_arg args[8];
    for (int i = 0; i < 8; i++) {
        args[i] = (thread_arg){m, 0};
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].ok, 20);
    }
    wasm_module_free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s WASM_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_depth_limit),
        cmocka_unit_test(test_memory_cap),
        cmocka_unit_test(test_table_budget),
        cmocka_unit_test(test_start_function_fuel),
        cmocka_unit_test(test_interrupt_from_another_thread),
        cmocka_unit_test(test_fuel),
        cmocka_unit_test(test_fuel_refill),
        cmocka_unit_test(test_host_functions),
        cmocka_unit_test(test_unlinkable),
        cmocka_unit_test(test_memory_and_globals),
        cmocka_unit_test(test_bad_modules),
        cmocka_unit_test(test_one_module_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
