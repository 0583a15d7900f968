/*
 * disasm.c - prints compiled internal code, one instruction a line, for
 * debugging the compiler and for `water inspect --code`.
 */
#include "code.h"

#include <stdio.h>

/* Words of each instruction (0: variable, computed below). */
#define LEN_UN(b, id, ...) [IOP_op_##id] = 3,
#define LEN_BIN(b, id, n, in, out, cin, ...) [IOP_op_##id] = 4, [IOP_op_##id##_imm] = 3 + IMMW_##cin,
#define LEN_CMP(b, id, n, in, cin, ...)                                        \
    [IOP_op_##id] = 4, [IOP_op_##id##_imm] = 3 + IMMW_##cin, [IOP_br_##id] = 4, \
    [IOP_br_##id##_imm] = 3 + IMMW_##cin,
#define IMMW_u32 1
#define IMMW_i32 1
#define IMMW_f32 1
#define IMMW_u64 2
#define IMMW_i64 2
#define IMMW_f64 2
static const uint8_t lengths[IOP_COUNT] = {
    [IOP_unreachable] = 1, [IOP_br] = 2, [IOP_br_nez32] = 3, [IOP_br_eqz32] = 3,
    [IOP_br_nez64] = 3, [IOP_br_eqz64] = 3, [IOP_br_table] = 0, [IOP_return0] = 1,
    [IOP_return1] = 2, [IOP_returnn] = 0, [IOP_call] = 4, [IOP_call_import] = 3,
    [IOP_call_indirect] = 5, [IOP_copy] = 3, [IOP_const32] = 3, [IOP_const64] = 4,
    [IOP_global_get] = 3, [IOP_global_set] = 3, [IOP_select] = 5,
    [IOP_memory_size] = 2, [IOP_memory_grow] = 3,
    [IOP_memory_init] = 5, [IOP_data_drop] = 2, [IOP_memory_copy] = 4,
    [IOP_memory_fill] = 4, [IOP_table_get] = 4, [IOP_table_set] = 4, [IOP_table_size] = 3,
    [IOP_table_grow] = 5, [IOP_table_fill] = 5, [IOP_table_copy] = 6, [IOP_table_init] = 6,
    [IOP_elem_drop] = 2, [IOP_ref_is_null] = 3, [IOP_ref_func] = 3,
#define LEN_MEM(name, ...) [IOP_##name] = 4, [IOP_##name##_k] = 5, [IOP_##name##_x] = 5,
    WASM_LOADS(LEN_MEM) WASM_STORES(LEN_MEM)
#define UNOP LEN_UN
#define TRAPUN LEN_UN
#define SATOP LEN_UN
#define EQZOP LEN_UN
#define BINOP LEN_BIN
#define TRAPOP LEN_BIN
#define CMPOP LEN_CMP
#include "opcodes.def"
};

static int iop_of(int32_t handler)
{
    const int32_t *h = wasm_interp_handlers();
    for (int i = 0; i < IOP_COUNT; i++)
        if (h[i] == handler)
            return i;
    return -1;
}

uint32_t wasm_code_length_at(const uint32_t *pc)
{
    int op = iop_of((int32_t)pc[0]);
    if (op < 0)
        return 1;
    if (op == IOP_br_table)
        return 3 + pc[2] + 1;
    if (op == IOP_returnn)
        return 2 + pc[1];
    return lengths[op];
}

void wasm_code_dump(FILE *out, const wasm_code *code)
{
    fprintf(out, "function %u: %u params, %u locals, %u slots, %u words\n",
            code->func_index, code->nparams, code->nlocals, code->nslots, code->nwords);
    for (uint32_t at = 0; at < code->nwords;) {
        const uint32_t *pc = code->words + at;
        int op = iop_of((int32_t)pc[0]);
        uint32_t n = wasm_code_length_at(pc);
        fprintf(out, "  %5u  %-22s", at, op < 0 ? "???" : wasm_iop_name((wasm_iop)op));
        for (uint32_t i = 1; i < n && at + i < code->nwords; i++)
            fprintf(out, " %d", (int32_t)pc[i]);
        fputc('\n', out);
        at += n ? n : 1;
    }
}
