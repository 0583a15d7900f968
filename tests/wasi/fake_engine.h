/*
 * tests/wasi/fake_engine.h - a test double for the five engine calls that
 * src/wasi uses (wasm_memory_ptr, wasm_instance_userdata,
 * wasm_instance_set_trap_message, wasm_instance_exit,
 * wasm_linker_define_func), so that the WASI layer's host-side tests run
 * without the real engine. Test executables built with it compile the
 * src/wasi sources themselves and do NOT link water_static.
 *
 * Linear memory is an mmap'd region followed by PROT_NONE guard pages: a
 * host-side access past the end crashes the test instead of passing
 * silently.
 */
#ifndef WATER_TESTS_FAKE_ENGINE_H
#define WATER_TESTS_FAKE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "water/wasm.h"

wasm_instance *fake_instance_new(uint64_t mem_size, void *userdata);
void fake_instance_free(wasm_instance *inst);
uint8_t *fake_mem(wasm_instance *inst);
const char *fake_trap_message(const wasm_instance *inst);
int fake_exit_code(const wasm_instance *inst);

/* The functions defined on a linker. */
size_t fake_linker_count(const wasm_linker *l);
const char *fake_linker_name(const wasm_linker *l, size_t i);
const char *fake_linker_module(const wasm_linker *l, size_t i);
/* The signature of (module, name), or NULL. */
const char *fake_linker_sig(const wasm_linker *l, const char *module,
                            const char *name);

/*
 * Calls wasi_snapshot_preview1.`name` with args[0..nargs) (each stored as a
 * 64-bit slot; i32 parameters use the low half). Fails the test if nargs
 * does not match the signature. Returns the trap; *result gets the i32
 * result when there is no trap.
 */
wasm_trap fake_call(const wasm_linker *l, wasm_instance *inst,
                    const char *name, const uint64_t *args, size_t nargs,
                    int32_t *result);

#endif
