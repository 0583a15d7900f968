/*
 * code.h - the internal code that compile.c produces and interp.c runs.
 *
 * A function's code is an array of 32-bit words. Each instruction starts
 * with its handler, in WASM_HANDLER_WORDS words (an offset from the
 * interpreter's handler base, see interp.c), followed by its operands,
 * each one word:
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

#define WASM_HANDLER_WORDS 1
#define WASM_MAX_CONSTS 12

/* Hand-written internal operations; generated ones follow from opcodes.def. */
#define WASM_IOPS_FIXED(X)                                                    \
    X(unreachable)   /* -                                                 */ \
    X(br)            /* off                                               */ \
    X(br_nez32)      /* cond off      (br_if)                             */ \
    X(br_eqz32)      /* cond off      (i32.eqz + br_if, if)               */ \
    X(br_nez64)      /* cond off                                          */ \
    X(br_eqz64)      /* cond off                                          */ \
    X(br_add_nez32)  /* dst src k off  (dst = src + k; branch if dst != 0) */ \
    X(br_add_eqz32)  /* dst src k off                                     */ \
    X(br_add2_nez32) /* d1 a1 k1 dst src k off (d1 = a1 + k1 first)       */ \
    X(br_add2_eqz32) /* d1 a1 k1 dst src k off                            */ \
    X(br_nez32_a)    /* cond off: tests the accumulator (see below)       */ \
    X(ret_unless_nez32) /* cond pad: return0 unless cond != 0 (a br_nez32 */ \
                     /* over a return0, whose words stay as padding)      */ \
    X(ret_unless_eqz32) /* cond pad                                       */ \
    X(br_eqz32_a)    /* cond off                                          */ \
    X(br_table)      /* idx k n (off h)[0..n]: by idx + k ([n]: default); */ \
                     /* h: the handler word at the target (one load less  */ \
                     /* before the jump)                                  */ \
    X(br_table_a)    /* idx k n (off h)[0..n]: idx from the accumulator   */ \
    X(br_table_l8)   /* dst a k o idxk n (off h)[0..n]: dst = the byte at */ \
                     /* (u32)(a + k) + o (i32.load8_u); by dst + idxk     */ \
    X(br_table_l8_a) /* the same, a from the accumulator                  */ \
    X(return0)       /* -                                                 */ \
    X(return1)       /* src                                               */ \
    X(returnn)       /* n src[0..n)                                       */ \
    X(call)          /* code_lo code_hi frame                             */ \
    X(call_import)   /* func_index frame                                  */ \
    X(call_indirect) /* table type_id idx frame                           */ \
    X(copy)          /* dst src                                           */ \
    X(const32)       /* dst imm                                           */ \
    X(const64)       /* dst lo hi                                         */ \
    X(add_imm_copy)  /* dst a k dst2: i32.add of a constant, also to dst2 */ \
    X(global_get)    /* dst global                                        */ \
    X(global_set)    /* global src                                        */ \
    X(select)        /* dst a b cond                                      */ \
    X(select_ix)     /* dst k b cond  (k: a 32-bit immediate, zero-       */ \
    X(select_xi)     /* dst a k cond   extended to the slot)              */ \
    X(select_ii)     /* dst k k cond                                      */ \
    X(selectj)       /* dst a b cond off: then jumps (an absorbed br)     */ \
    X(selectj_ix)    /* dst k b cond off                                  */ \
    X(selectj_xi)    /* dst a k cond off                                  */ \
    X(selectj_ii)    /* dst k k cond off                                  */ \
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

/* Runs of moves: `mov_C_K` ((dst src){C} (dst imm){K}) does C copies in
 * order, then writes K 32-bit constants (zero-extended) to distinct slots
 * that no copy reads or writes; with C > 0 it leaves the last copy's value
 * in the accumulator. C + K >= 2 (one move is a copy or const32); the
 * (C, K) below. `movj_C_K` (the same operands, then off) then jumps: a
 * move op absorbs a br after it. */
#define WASM_MOVES_K(X, C)                                                    \
    X(C, 0) X(C, 1) X(C, 2) X(C, 3) X(C, 4) X(C, 5) X(C, 6) X(C, 7) X(C, 8)  \
    X(C, 9)
#define WASM_MOVES(X)                                                         \
    WASM_MOVES_K(X, 0) X(0, 10) X(0, 11) X(0, 12) WASM_MOVES_K(X, 1)          \
    WASM_MOVES_K(X, 2) X(3, 0) X(3, 1) X(4, 0) X(4, 1) X(5, 0) X(5, 1)        \
    X(6, 0) X(6, 1)
#define WASM_MAX_COPIES 6

/* The accumulator. Numeric ops (but those that may trap), loads, copy and
 * the fused ops also leave their result's bits in a register of the
 * interpreter (the value they wrote to their first operand; the fourth for
 * br_add2_*). Many ops have `_a` forms that take one operand from it
 * instead of from its slot (whose word stays, unread): binary ops and
 * compares their a, their branch forms and br_nez32/br_eqz32 their
 * condition, br_table its index, loads their address (plain form: _a, _k
 * form: _ka), stores (plain form) their value, fused pairs a slot operand
 * (_a, _b or _c, see WASM_FUSED_ACC_*). This saves a store-to-load round
 * trip through the frame on dependent chains. The compiler uses an `_a`
 * form only right after an op that set the accumulator from that slot,
 * with no label between (compile.c, use_acc). */

/* Loads and stores: (name, type in memory, slot field, conversion). Each
 * comes in five forms that differ only in how the address is given:
 *   name     dst addr off     /  addr val off      ea = addr + off
 *   name_k   dst a k off      /  a k val off       ea = (u32)(a + k) + off
 *   name_x   dst a b off      /  a b val off       ea = (u32)(a + b) + off
 *   name_sk  dst x s k off    /  x s k val off     ea = (u32)((x << s) + k) + off
 *   name_sx  dst a x s off    /  a x s val off     ea = (u32)(a + (x << s)) + off
 * (k an i32 immediate, s a shift count 0..31, a, b, x slots; the forms
 * fuse the i32.add and i32.shl that computed the address, keeping their
 * 32-bit wrap-around). Loads have two more, for an address also kept in
 * a local (local.tee):
 *   name_kt  dst a k t off    t = a + k; ea = (u32)t + off
 *   name_xt  dst a b t off    t = a + b; ea = (u32)t + off */
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

/* Fused pairs of binary ops, t = FIRST(a, b); dst = SECOND(t, c), where
 * nothing else reads the temp t (compile_ops.c). A row: (first, second,
 * form, slot field) gives `f_FIRST_SECOND_FORM`; its operands by form (k
 * an immediate, one word or two for 64-bit types):
 *   bb  dst a b c     ib  dst a k c     bi  dst a b k     ii  dst a k k
 *   bbr dst a b c: as bb but dst = SECOND(c, t)
 * Chosen by counting executed pairs on bench/ (see WASM_PROFILE in
 * interp.c). */
#define WASM_FUSED(X)                                                         \
    X(i32_shr_u, i32_xor, ib, u32)                                            \
    X(i32_shl, i32_xor, ib, u32)                                              \
    X(i32_rotl, i32_xor, ib, u32)                                             \
    X(i32_shl, i32_add, ib, u32)                                              \
    X(i32_mul, i32_add, ib, u32)                                              \
    X(i32_shr_u, i32_and, ii, u32)                                            \
    X(i32_xor, i32_shl, bi, u32)                                              \
    X(i32_mul, i32_add, bb, u32)                                              \
    X(i32_add, i32_add, bb, u32)                                              \
    X(i32_and, i32_add, bb, u32)                                              \
    X(i32_xor, i32_add, bb, u32)                                              \
    X(i64_shr_u, i64_xor, ib, u64)                                            \
    X(i64_xor, i64_mul, bi, u64)                                              \
    X(i64_mul, i64_shr_u, ii, u64)                                            \
    X(f64_mul, f64_add, bb, f64)                                              \
    X(f64_mul, f64_add, bbr, f64)

/* f64 read-modify-write `axpy_f64_P_Q` P Q m: the f64 at address P becomes
 * itself + m * the f64 at address Q (f64.store of an f64.add of an f64.load
 * from the store's address and an f64.mul of a loaded value). The
 * addresses by form (o an offset, k an immediate, a b t slots):
 *   P: s   p o          ea = p + o
 *      kt  a k t o      t = a + k; ea = (u32)t + o
 *      xt  a b t o      t = a + b; ea = (u32)t + o
 *   Q: k   a k o        ea = (u32)(a + k) + o
 *      x   a b o        ea = (u32)(a + b) + o
 *      kt, xt           as for P
 * in the order of the wasm code: P's t, the load at P, Q's t, the load at
 * Q, the store. */
#define WASM_AXPY_Q(X, P) X(P, k) X(P, x) X(P, kt) X(P, xt)
#define WASM_AXPY(X) WASM_AXPY_Q(X, s) WASM_AXPY_Q(X, kt) WASM_AXPY_Q(X, xt)

/* Binary ops of two loaded values (dot products, matrix code), rows
 * (load, type in memory, op, add, slot field, conversion to op's operand):
 *   ll_OP_LOAD_FF   dst a1 b1 o1 a2 b2 o2    dst = OP(LOAD(ea1), LOAD(ea2))
 *   lla_OP_LOAD_FF  dst a1 b1 o1 a2 b2 o2 c  dst = ADD(c, OP(...))
 * where nothing else reads the loads' temps; each address by its form F:
 *   k  ea = (u32)(a + b) + o, b an immediate (0 for a plain load)
 *   x  ea = (u32)(a + b) + o, b a slot
 * (FF: kk, kx, xk, xx). */
#define WASM_LOADOPS(X)                                                       \
    X(i32_load16_s, int16_t, i32_mul, i32_add, u32, (uint32_t)(int32_t))      \
    X(i32_load16_u, uint16_t, i32_mul, i32_add, u32, (uint32_t))              \
    X(i32_load, uint32_t, i32_mul, i32_add, u32, (uint32_t))                  \
    X(i64_load, uint64_t, f64_mul, f64_add, f64, bits_f64) /* f64.load */
#define WASM_LL_FORMS(X, ...)                                                 \
    X(__VA_ARGS__, k, k) X(__VA_ARGS__, k, x) X(__VA_ARGS__, x, k) X(__VA_ARGS__, x, x)

/* Generated: unary/binary ops as `op_ID` (dst a) and `op_ID` (dst a b) plus
 * `op_ID_imm` (dst a imm); compares also `br_ID` (a b off) and
 * `br_ID_imm` (a imm off) (each but the trapping ones with `_a` forms,
 * see the accumulator above), and i32 compares `br_add_ID` (dst src k b off)
 * and `br_add_ID_imm` (dst src k imm off), which first do dst = src + k
 * (an i32.add of a constant, typically a loop counter's) and compare dst
 * with b, and `br_add2_ID[_imm]` (d1 a1 k1 dst src k b off), which do
 * d1 = a1 + k1 before that (a second counter), and `ret_unless_ID_imm`
 * (a imm pad pad): return0 unless a ID imm (a br_ID_imm over a return0);
 * eqz gives only `op_ID`. Fused ops run their parts in order. */
#define WASM_IOP_ENUM_FIXED(name) IOP_##name,
#define WASM_IOP_UN(b, id, ...) IOP_op_##id,
#define WASM_IOP_TRAPBIN(b, id, ...) IOP_op_##id, IOP_op_##id##_imm,
#define WASM_IOP_BIN(b, id, ...)                                              \
    IOP_op_##id, IOP_op_##id##_imm, IOP_op_##id##_a, IOP_op_##id##_imm_a,
#define WASM_IOP_CMP(b, id, n, in, ...)                                       \
    WASM_IOP_BIN(b, id) IOP_br_##id, IOP_br_##id##_imm, IOP_br_##id##_a,      \
    IOP_br_##id##_imm_a, WASM_IOP_BR_ADD_##in(id)
#define WASM_IOP_BR_ADD_I32(id)                                               \
    IOP_br_add_##id, IOP_br_add_##id##_imm, IOP_br_add2_##id, IOP_br_add2_##id##_imm, \
    IOP_ret_unless_##id##_imm,
#define WASM_IOP_BR_ADD_I64(id)
/* A fused pair's _a, _b, _c forms: which of its slot operands the form
 * takes from the accumulator (bb, bbr: a b c; ib: a c; bi: a b; ii: a). */
#define WASM_FUSED_ACC_bb(X, ...) X(__VA_ARGS__, _a) X(__VA_ARGS__, _b) X(__VA_ARGS__, _c)
#define WASM_FUSED_ACC_bbr WASM_FUSED_ACC_bb
#define WASM_FUSED_ACC_ib(X, ...) X(__VA_ARGS__, _a) X(__VA_ARGS__, _c)
#define WASM_FUSED_ACC_bi(X, ...) X(__VA_ARGS__, _a) X(__VA_ARGS__, _b)
#define WASM_FUSED_ACC_ii(X, ...) X(__VA_ARGS__, _a)
#define WASM_IOP_FUSED_ACC(f, s, form, acc) IOP_f_##f##_##s##_##form##acc,
#define WASM_IOP_FUSED(f, s, form, fld)                                       \
    IOP_f_##f##_##s##_##form, WASM_FUSED_ACC_##form(WASM_IOP_FUSED_ACC, f, s, form)
/* (compile_ops.c adds the address form, 0..6, to a load or store's op) */
#define WASM_IOP_MEM(name, ...)                                               \
    IOP_##name, IOP_##name##_k, IOP_##name##_x, IOP_##name##_sk, IOP_##name##_sx,
#define WASM_IOP_LOAD(name, ...)                                              \
    WASM_IOP_MEM(name) IOP_##name##_kt, IOP_##name##_xt, IOP_##name##_a, IOP_##name##_ka,
#define WASM_IOP_STORE(name, ...) WASM_IOP_MEM(name) IOP_##name##_a,
#define WASM_IOP_MOV(C, K) IOP_mov_##C##_##K, IOP_movj_##C##_##K,
#define WASM_IOP_AXPY(P, Q) IOP_axpy_f64_##P##_##Q,
#define WASM_IOP_LL_F(load, op, f1, f2) IOP_ll_##op##_##load##_##f1##f2,
#define WASM_IOP_LLA_F(load, op, f1, f2) IOP_lla_##op##_##load##_##f1##f2,
#define WASM_IOP_LL(load, T, op, ...)                                         \
    WASM_LL_FORMS(WASM_IOP_LL_F, load, op) WASM_LL_FORMS(WASM_IOP_LLA_F, load, op)
typedef enum wasm_iop {
    WASM_IOPS_FIXED(WASM_IOP_ENUM_FIXED)
    WASM_MOVES(WASM_IOP_MOV)
    WASM_LOADS(WASM_IOP_LOAD)
    WASM_STORES(WASM_IOP_STORE)
    WASM_FUSED(WASM_IOP_FUSED)
    WASM_LOADOPS(WASM_IOP_LL)
    WASM_AXPY(WASM_IOP_AXPY)
#define UNOP WASM_IOP_UN
#define TRAPUN WASM_IOP_UN
#define SATOP WASM_IOP_UN
#define EQZOP WASM_IOP_UN
#define BINOP WASM_IOP_BIN
#define TRAPOP WASM_IOP_TRAPBIN
#define CMPOP WASM_IOP_CMP
#include "opcodes.def"
    IOP_COUNT
} wasm_iop;
/* compile_ops.c finds br_add2_X two after br_add_X */
_Static_assert(IOP_movj_6_1 == IOP_mov_6_1 + 1, "movj_C_K follows mov_C_K");
_Static_assert(IOP_selectj == IOP_select + 4 && IOP_select_ii == IOP_select + 3 &&
               IOP_selectj_ii == IOP_selectj + 3, "select order");
_Static_assert(IOP_br_add2_nez32 == IOP_br_add_nez32 + 2 &&
               IOP_br_add2_i32_ne_imm == IOP_br_add_i32_ne_imm + 2, "br_add2 order");

struct wasm_code {
    uint32_t *words;
    uint32_t nwords;
    uint32_t func_index;      /* in the module's function index space */
    const wasm_type *type;
    uint32_t nparams;         /* == type->nparams */
    uint32_t nlocals;         /* declared locals */
    /* Locals zeroed on entry: slots [zero_from, zero_from + nzero), which
     * cover every declared local that may be read before it is written
     * (compile.c's definite-assignment pass; the rest need not be zero). */
    uint32_t zero_from, nzero;
    uint32_t nslots;          /* whole frame: params + locals + max temps */
};

/* Compiles (validating) every function body of m. Fills err on failure. */
wasm_err wasm_compile_module(wasm_module *m, wasm_error *err);
void wasm_code_free(wasm_code *c);

/* The interpreter's handler words, indexed by wasm_iop (interp.c). */
const uint32_t *wasm_interp_handlers(void);
/* Name of an internal op, for the disassembler and debugging. */
const char *wasm_iop_name(wasm_iop op);
/* disasm.c: words of the instruction at pc; prints a function's code. */
uint32_t wasm_code_length_at(const uint32_t *pc);
void wasm_code_dump(FILE *out, const wasm_code *code);

#endif /* WATER_WASM_CODE_H */
