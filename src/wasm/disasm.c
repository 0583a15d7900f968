/*
 * disasm.c - prints compiled internal code, one instruction a line, for
 * debugging the compiler and for `water inspect --code`.
 */
#include "code.h"

#include <stdbool.h>
#include <stdio.h>

/* Words of each instruction (0: variable, computed below). */
#define LEN_UN(b, id, ...) [IOP_op_##id] = 3,
#define LEN_TRAPBIN(b, id, n, in, out, cin, ...) [IOP_op_##id] = 4, [IOP_op_##id##_imm] = 3 + IMMW_##cin,
#define LEN_BIN(b, id, n, in, out, cin, ...)                                   \
    LEN_TRAPBIN(b, id, n, in, out, cin) [IOP_op_##id##_a] = 4,                 \
    [IOP_op_##id##_imm_a] = 3 + IMMW_##cin,
#define LEN_CMP(b, id, n, in, cin, ...)                                        \
    LEN_BIN(b, id, n, in, I32, cin) [IOP_br_##id] = 4, [IOP_br_##id##_imm] = 3 + IMMW_##cin, \
    [IOP_br_##id##_a] = 4, [IOP_br_##id##_imm_a] = 3 + IMMW_##cin, LEN_BR_ADD_##in(id)
#define LEN_BR_ADD_I32(id)                                                     \
    [IOP_br_add_##id] = 6, [IOP_br_add_##id##_imm] = 6, [IOP_br_add2_##id] = 9,   \
    [IOP_br_add2_##id##_imm] = 9, [IOP_ret_unless_##id##_imm] = 5,
#define LEN_BR_ADD_I64(id)
#define IMMW_u32 1
#define IMMW_i32 1
#define IMMW_f32 1
#define IMMW_u64 2
#define IMMW_i64 2
#define IMMW_f64 2
static const uint8_t lengths[IOP_COUNT] = {
    [IOP_unreachable] = 1, [IOP_br] = 2, [IOP_br_nez32] = 3, [IOP_br_eqz32] = 3,
    [IOP_br_nez64] = 3, [IOP_br_eqz64] = 3,
    [IOP_br_add_nez32] = 5, [IOP_br_add_eqz32] = 5,
    [IOP_br_add2_nez32] = 8, [IOP_br_add2_eqz32] = 8,
    [IOP_br_nez32_a] = 3, [IOP_br_eqz32_a] = 3, [IOP_ret_unless_nez32] = 4,
    [IOP_ret_unless_eqz32] = 4, [IOP_br_table] = 0, [IOP_br_table_a] = 0,
    [IOP_br_table_l8] = 0, [IOP_br_table_l8_a] = 0, [IOP_return0] = 1,
    [IOP_return1] = 2, [IOP_returnn] = 0, [IOP_call] = 4, [IOP_call_import] = 3,
    [IOP_call_indirect] = 5, [IOP_copy] = 3, [IOP_const32] = 3, [IOP_const64] = 4,
    [IOP_add_imm_copy] = 5,
#define LEN_MOV(C, K)                                                          \
    [IOP_mov_##C##_##K] = 1 + 2 * ((C) + (K)), [IOP_movj_##C##_##K] = 2 + 2 * ((C) + (K)),
    WASM_MOVES(LEN_MOV)
    [IOP_global_get] = 3, [IOP_global_set] = 3, [IOP_select] = 5,
    [IOP_select_ix] = 5, [IOP_select_xi] = 5, [IOP_select_ii] = 5, [IOP_selectj] = 6,
    [IOP_selectj_ix] = 6, [IOP_selectj_xi] = 6, [IOP_selectj_ii] = 6,
    [IOP_memory_size] = 2, [IOP_memory_grow] = 3,
    [IOP_memory_init] = 5, [IOP_data_drop] = 2, [IOP_memory_copy] = 4,
    [IOP_memory_fill] = 4, [IOP_table_get] = 4, [IOP_table_set] = 4, [IOP_table_size] = 3,
    [IOP_table_grow] = 5, [IOP_table_fill] = 5, [IOP_table_copy] = 6, [IOP_table_init] = 6,
    [IOP_elem_drop] = 2, [IOP_ref_is_null] = 3, [IOP_ref_func] = 3,
#define LEN_MEM(name, ...)                                                     \
    [IOP_##name] = 4, [IOP_##name##_k] = 5, [IOP_##name##_x] = 5,              \
    [IOP_##name##_sk] = 6, [IOP_##name##_sx] = 6, [IOP_##name##_a] = 4,
#define LEN_LOAD(name, ...)                                                    \
    LEN_MEM(name) [IOP_##name##_kt] = 6, [IOP_##name##_xt] = 6, [IOP_##name##_ka] = 5,
    WASM_LOADS(LEN_LOAD) WASM_STORES(LEN_MEM)
#define LEN_FUSED_ACC(f, s, form, fld, acc)                                    \
    [IOP_f_##f##_##s##_##form##acc] = LEN_FUSED_##form(IMMW_##fld),
#define LEN_FUSED(f, s, form, fld)                                             \
    LEN_FUSED_ACC(f, s, form, fld, ) WASM_FUSED_ACC_##form(LEN_FUSED_ACC, f, s, form, fld)
#define LEN_FUSED_bb(k) 5
#define LEN_FUSED_bbr(k) 5
#define LEN_FUSED_ib(k) 4 + (k)
#define LEN_FUSED_bi(k) 4 + (k)
#define LEN_FUSED_ii(k) 3 + 2 * (k)
    WASM_FUSED(LEN_FUSED)
#define LEN_LL_F(load, op, f1, f2) [IOP_ll_##op##_##load##_##f1##f2] = 8, \
    [IOP_lla_##op##_##load##_##f1##f2] = 9,
#define LEN_LL(load, T, op, ...) WASM_LL_FORMS(LEN_LL_F, load, op)
    WASM_LOADOPS(LEN_LL)
#define AXPY_N_s 2
#define AXPY_N_k 3
#define AXPY_N_x 3
#define AXPY_N_kt 4
#define AXPY_N_xt 4
#define LEN_AXPY(P, Q) [IOP_axpy_f64_##P##_##Q] = 2 + AXPY_N_##P + AXPY_N_##Q,
    WASM_AXPY(LEN_AXPY)
#define UNOP LEN_UN
#define TRAPUN LEN_UN
#define SATOP LEN_UN
#define EQZOP LEN_UN
#define BINOP LEN_BIN
#define TRAPOP LEN_TRAPBIN
#define CMPOP LEN_CMP
#include "opcodes.def"
};

static int iop_of(const uint32_t *pc)
{
    const uint32_t *h = wasm_interp_handlers();
    for (int i = 0; i < IOP_COUNT; i++)
        if (h[i] == pc[0])
            return i;
    return -1;
}

/* Words of the instruction at pc; lengths[] counts one word of handler. */
uint32_t wasm_code_length_at(const uint32_t *pc)
{
    const uint32_t *w = pc + WASM_HANDLER_WORDS - 1; /* w[i]: operand i */
    int op = iop_of(pc);
    if (op < 0)
        return 1;
    if (op == IOP_br_table || op == IOP_br_table_a)
        return WASM_HANDLER_WORDS + 3 + 2 * (w[3] + 1);
    if (op == IOP_br_table_l8 || op == IOP_br_table_l8_a)
        return WASM_HANDLER_WORDS + 6 + 2 * (w[6] + 1);
    if (op == IOP_returnn)
        return WASM_HANDLER_WORDS + 1 + w[1];
    return WASM_HANDLER_WORDS - 1 + lengths[op];
}

void wasm_code_dump(FILE *out, const wasm_code *code)
{
    fprintf(out, "function %u: %u params, %u locals (zeroed: %u from %u), %u slots, %u words\n",
            code->func_index, code->nparams, code->nlocals, code->nzero, code->zero_from,
            code->nslots, code->nwords);
    for (uint32_t at = 0; at < code->nwords;) {
        const uint32_t *pc = code->words + at;
        bool whole = at + WASM_HANDLER_WORDS <= code->nwords;
        int op = whole ? iop_of(pc) : -1;
        uint32_t n = op < 0 ? 1 : wasm_code_length_at(pc);
        fprintf(out, "  %5u  %-22s", at, op < 0 ? "???" : wasm_iop_name((wasm_iop)op));
        for (uint32_t i = op < 0 ? 0 : WASM_HANDLER_WORDS; i < n && at + i < code->nwords; i++)
            fprintf(out, " %d", (int32_t)pc[i]);
        fputc('\n', out);
        at += n;
    }
}
