/*
 * code.h - the internal code that compile.c produces and interp.c runs.
 *
 * A function's code is an array of 32-bit words. Each instruction starts
 * with its handler (an offset from the interpreter's handler base, see
 * interp.c) followed by its operands, each one word:
 *   - slots: indices into the frame, fp[i] (params, then locals, then the
 *     operand-stack temps at fixed positions known from validation);
 *   - immediates: one word, or two (low, high) for 64-bit types;
 *   - branch offsets: signed, in words, relative to the offset's own word.
 * Frame layout: [params | declared locals | temps]; results are returned in
 * fp[0..nresults). A call's frame starts at the caller's first argument slot,
 * so arguments are never copied.
 */
#ifndef WATER_WASM_CODE_H
#define WATER_WASM_CODE_H

#include "module.h"

#include <stdint.h>
#include <stdio.h>

/* Hand-written internal operations; generated ones follow from opcodes.def. */
#define WASM_IOPS_FIXED(X)                                                    \
    X(unreachable)   /* -                                                 */ \
    X(br)            /* off                                               */ \
    X(br_nez32)      /* cond off      (br_if)                             */ \
    X(br_eqz32)      /* cond off      (i32.eqz + br_if, if)               */ \
    X(br_nez64)      /* cond off                                          */ \
    X(br_eqz64)      /* cond off                                          */ \
    X(br_table)      /* idx n off[0..n] (off[n] is the default)          */ \
    X(return0)       /* -                                                 */ \
    X(return1)       /* src                                               */ \
    X(returnn)       /* n src[0..n)                                       */ \
    X(call)          /* code_lo code_hi frame                             */ \
    X(call_import)   /* func_index frame                                  */ \
    X(call_indirect) /* table type_id idx frame                           */ \
    X(copy)          /* dst src                                           */ \
    X(const32)       /* dst imm                                           */ \
    X(const64)       /* dst lo hi                                         */ \
    X(global_get)    /* dst global                                        */ \
    X(global_set)    /* global src                                        */ \
    X(select)        /* dst a b cond                                      */ \
    X(memory_size)   /* dst                                               */ \
    X(memory_grow)   /* dst delta                                         */ \
    X(memory_init)   /* seg d s n                                         */ \
    X(data_drop)     /* seg                                               */ \
    X(memory_copy)   /* d s n                                             */ \
    X(memory_fill)   /* d val n                                           */ \
    X(table_get)     /* dst table idx                                     */ \
    X(table_set)     /* table idx val                                     */ \
    X(table_size)    /* dst table                                         */ \
    X(table_grow)    /* dst table init n                                  */ \
    X(table_fill)    /* table i val n                                     */ \
    X(table_copy)    /* dst_table src_table d s n                         */ \
    X(table_init)    /* table seg d s n                                   */ \
    X(elem_drop)     /* seg                                               */ \
    X(ref_is_null)   /* dst a                                             */ \
    X(ref_func)      /* dst func_index                                    */

/* Loads and stores: (name, type in memory, slot field, conversion). Each
 * comes in three forms that differ only in how the address is given:
 *   name     dst addr off     /  addr val off      ea = addr + off
 *   name_k   dst a k off      /  a k val off       ea = (u32)(a + k) + off
 *   name_x   dst a b off      /  a b val off       ea = (u32)(a + b) + off
 * (k an i32 immediate, b a slot; the _k/_x forms fuse an i32.add that
 * computed the address, keeping its 32-bit wrap-around). */
#define WASM_LOADS(X)                                                         \
    X(i32_load, uint32_t, u32, uint32_t) /* also f32.load */                 \
    X(i64_load, uint64_t, u64, uint64_t) /* also f64.load */                 \
    X(i32_load8_s, int8_t, i32, int32_t)                                      \
    X(i32_load8_u, uint8_t, u32, uint32_t)                                    \
    X(i32_load16_s, int16_t, i32, int32_t)                                    \
    X(i32_load16_u, uint16_t, u32, uint32_t)                                  \
    X(i64_load8_s, int8_t, i64, int64_t)                                      \
    X(i64_load8_u, uint8_t, u64, uint64_t)                                    \
    X(i64_load16_s, int16_t, i64, int64_t)                                    \
    X(i64_load16_u, uint16_t, u64, uint64_t)                                  \
    X(i64_load32_s, int32_t, i64, int64_t)                                    \
    X(i64_load32_u, uint32_t, u64, uint64_t)
#define WASM_STORES(X)                                                        \
    X(store32, uint32_t, u32, uint32_t)                                       \
    X(store64, uint64_t, u64, uint64_t)                                       \
    X(store8, uint8_t, u32, uint8_t)                                          \
    X(store16, uint16_t, u32, uint16_t)

/* Generated: unary/binary ops as `op_ID` (dst a) and `op_ID` (dst a b) plus
 * `op_ID_imm` (dst a imm); compares also `br_ID` (a b off) and
 * `br_ID_imm` (a imm off); eqz gives only `op_ID`. */
#define WASM_IOP_ENUM_FIXED(name) IOP_##name,
#define WASM_IOP_UN(b, id, ...) IOP_op_##id,
#define WASM_IOP_BIN(b, id, ...) IOP_op_##id, IOP_op_##id##_imm,
#define WASM_IOP_CMP(b, id, ...) IOP_op_##id, IOP_op_##id##_imm, IOP_br_##id, IOP_br_##id##_imm,
#define WASM_IOP_MEM(name, ...) IOP_##name, IOP_##name##_k, IOP_##name##_x,
typedef enum wasm_iop {
    WASM_IOPS_FIXED(WASM_IOP_ENUM_FIXED)
    WASM_LOADS(WASM_IOP_MEM)
    WASM_STORES(WASM_IOP_MEM)
#define UNOP WASM_IOP_UN
#define TRAPUN WASM_IOP_UN
#define SATOP WASM_IOP_UN
#define EQZOP WASM_IOP_UN
#define BINOP WASM_IOP_BIN
#define TRAPOP WASM_IOP_BIN
#define CMPOP WASM_IOP_CMP
#include "opcodes.def"
    IOP_COUNT
} wasm_iop;

struct wasm_code {
    uint32_t *words;
    uint32_t nwords;
    uint32_t func_index;      /* in the module's function index space */
    const wasm_type *type;
    uint32_t nparams;         /* == type->nparams */
    uint32_t nlocals;         /* declared locals (zeroed on entry) */
    uint32_t nslots;          /* whole frame: params + locals + max temps */
};

/* Compiles (validating) every function body of m. Fills err on failure. */
wasm_err wasm_compile_module(wasm_module *m, wasm_error *err);
void wasm_code_free(wasm_code *c);

/* The interpreter's handler offsets, indexed by wasm_iop (interp.c). */
const int32_t *wasm_interp_handlers(void);
/* Name of an internal op, for the disassembler and debugging. */
const char *wasm_iop_name(wasm_iop op);
/* disasm.c: words of the instruction at pc; prints a function's code. */
uint32_t wasm_code_length_at(const uint32_t *pc);
void wasm_code_dump(FILE *out, const wasm_code *code);

#endif /* WATER_WASM_CODE_H */
