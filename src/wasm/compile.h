/*
 * compile.h - state shared by the files of the function-body compiler
 * (compile.c: driver, stacks, emission; compile_ops.c: one case per
 * instruction). Internal to the compiler.
 *
 * One pass per body validates (spec 3.3, the appendix algorithm with a
 * control stack and an operand stack of possibly-unknown types) and emits
 * register-slot code (code.h). The operand stack is virtual: each entry says
 * where its value is *now*:
 *   K_TEMP  - in its home slot, tbase + position (always, by invariant);
 *   K_LOCAL - still in local slot `slot` (local.get emits nothing);
 *   K_CONST - a constant `imm` not yet written anywhere.
 * Entries are materialised (written to their home slot) when an
 * instruction needs them there: block/loop/if entry, call arguments,
 * branch values, or a local.set that would overwrite a pending local.
 */
#ifndef WATER_WASM_COMPILE_H
#define WATER_WASM_COMPILE_H

#include "code.h"
#include "error.h"
#include "types.h"

#include <setjmp.h>

#define T_UNKNOWN ((wasm_valtype)0)
#define NO_POS UINT32_MAX

enum { K_TEMP, K_LOCAL, K_CONST };

typedef struct vval {
    wasm_valtype type;
    uint8_t kind;
    uint32_t slot; /* K_TEMP: home slot; K_LOCAL: local slot */
    uint64_t imm;  /* K_CONST: bits */
} vval;

typedef struct ctrl {
    uint8_t op;          /* 0x02 block, 0x03 loop, 0x04 if, 0x05 else, 0 function */
    bool unreachable;    /* after br/return/unreachable: stack polymorphic */
    bool dead;           /* inside unreachable code: emit nothing */
    uint32_t height;     /* operand stack height below the params */
    uint32_t nparams, nresults;
    const wasm_valtype *params, *results;
    uint32_t loop_pc;    /* loop: word index of its start */
    uint32_t patches;    /* forward branches to patch at `end`: chain head */
    uint32_t else_site;  /* if: branch to else/end to patch, or NO_POS */
    /* Definite assignment of declared locals 0..63 (bit i: local
     * nparams + i has been written on every path): at entry, and the
     * intersection over the paths reaching `end` (branches, then-part). */
    uint64_t da_entry, da_out;
} ctrl;

/* A compare just emitted, for fusing with a following br_if/if. */
typedef struct pending_cmp {
    bool valid;
    uint32_t start, end;  /* its words [start, end) */
    uint32_t height;      /* stack position of its result */
    wasm_iop br, br_neg;  /* fused forms: branch if true / if false */
    wasm_iop br_add, br_add_neg; /* the same after an i32.add, or 0 */
    uint32_t a;           /* slot */
    uint32_t b;           /* slot, or immediate low word */
    uint32_t b_hi;        /* immediate high word (64-bit) */
    uint8_t nb;           /* words of b: 0 (eqz), 1, 2 */
} pending_cmp;

typedef struct compiler {
    wasm_module *m;
    wasm_error *err;
    jmp_buf fail;
    const uint32_t *handlers;

    const uint8_t *p, *end; /* body reader */
    uint32_t op_offset;     /* offset of the current instruction */
    uint32_t func_index;
    const wasm_type *ft;

    uint32_t nlocals;       /* params + declared */
    wasm_valtype *local_types;
    uint32_t tbase;         /* first temp slot */

    vval *vs;
    uint32_t vs_n, vs_cap, max_height;
    ctrl *cs;
    uint32_t cs_n, cs_cap;
    uint32_t *code;
    uint32_t code_n, code_cap;

    uint32_t *scratch;        /* br_table labels and stubs */
    uint32_t scratch_cap;

    /* Starts of the last few instructions since the last label (see
     * fusion_barrier), newest last: what a fused instruction may absorb. */
    uint32_t recent[4];
    uint32_t nrecent;
    uint32_t last_dst;        /* word of the last op's dst, or NO_POS */
    uint32_t last_dst_height; /* stack position it wrote */
    pending_cmp cmp;
    uint32_t moves_at;        /* the last op if a move op (copy, const32,
                                 mov_C_K) that a next one or a jump may
                                 join, or NO_POS */

    /* Which declared locals need zeroing on entry (see wasm_code): bit i
     * of `da` is set while local nparams + i is definitely assigned here
     * (all bits in unreachable code); `need` collects the locals read
     * where they were not, need_high any read of a local past the 64th. */
    uint64_t da, need;
    bool need_high;

    /* For use_acc() at the end: every instruction's start and op, and the
     * code positions of labels, in order. */
    uint32_t *starts, nstarts, starts_cap;
    wasm_iop *ops;
    uint32_t ops_cap;
    uint32_t *labels, nlabels, labels_cap;
} compiler;

/* compile.c */
_Noreturn void cfail(compiler *c, wasm_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint8_t rd_byte(compiler *c);
uint32_t rd_u32(compiler *c);
int32_t rd_s32(compiler *c);
int64_t rd_s64(compiler *c);
int64_t rd_s33(compiler *c);
wasm_valtype rd_valtype(compiler *c);
/* A scratch array of at least n words, reused between calls. */
uint32_t *scratch_words(compiler *c, uint32_t n);

static inline uint32_t home(const compiler *c, uint32_t pos) { return c->tbase + pos; }
static inline bool reachable(const compiler *c)
{
    const ctrl *f = &c->cs[c->cs_n - 1];
    return !f->unreachable && !f->dead;
}

void push_temp(compiler *c, wasm_valtype t);
void push_entry(compiler *c, vval v);
vval pop_any(compiler *c);
vval pop_expect(compiler *c, wasm_valtype t);
void check_top(compiler *c, const wasm_valtype *types, uint32_t n);
void set_unreachable(compiler *c);
ctrl *label(compiler *c, uint32_t depth);
uint32_t label_arity(const ctrl *f);
const wasm_valtype *label_types(const ctrl *f);

/* Start of the last instruction, or NO_POS after a label. */
static inline uint32_t last_op(const compiler *c)
{
    return c->nrecent ? c->recent[c->nrecent - 1] : NO_POS;
}

/* Word index of operand i (from 1) of the instruction starting at `at`. */
#define OPND(at, i) ((at) + WASM_HANDLER_WORDS - 1 + (i))
/* Does the instruction starting at word `at` have op's handler? */
static inline bool op_at(const compiler *c, uint32_t at, wasm_iop op)
{
    return c->code[at] == c->handlers[op];
}
/* Makes the instruction at `at` op (same operands). */
static inline void set_op(compiler *c, uint32_t at, wasm_iop op)
{
    c->code[at] = c->handlers[op];
    for (uint32_t i = c->nstarts; i-- > 0 && c->starts[i] >= at;)
        if (c->starts[i] == at)
            c->ops[i] = op;
}

/* Binary ops with a == b interchangeable (integer add mul and or xor, eq
 * ne), by opcode byte. */
#define COMMUTES(byte)                                                        \
    ((byte) == 0x46 || (byte) == 0x47 || (byte) == 0x51 || (byte) == 0x52 || \
     (byte) == 0x6A || (byte) == 0x6C || ((byte) >= 0x71 && (byte) <= 0x73) || \
     (byte) == 0x7C || (byte) == 0x7E || ((byte) >= 0x83 && (byte) <= 0x85))

uint32_t emit_op(compiler *c, wasm_iop op);
void emit_w(compiler *c, uint32_t w);
void fusion_barrier(compiler *c);
void mark_label(compiler *c);
void drop_last(compiler *c);
void emit_copy(compiler *c, uint32_t dst, uint32_t src);
uint32_t emit_jump(compiler *c);
void emit_const(compiler *c, uint32_t dst, uint64_t bits);
void materialize(compiler *c, uint32_t pos);
void materialize_all(compiler *c);
uint32_t operand_slot(compiler *c, uint32_t pos);
void emit_branch_to(compiler *c, ctrl *target, uint32_t site);
void emit_label_copies(compiler *c, ctrl *target);
bool label_needs_copies(compiler *c, ctrl *target);
void patch_chain(compiler *c, uint32_t head, uint32_t target);
void da_branch(compiler *c, ctrl *target);
void da_read(compiler *c, uint32_t local);
void da_write(compiler *c, uint32_t local);
void push_ctrl(compiler *c, uint8_t op, uint32_t nparams,
               const wasm_valtype *params, uint32_t nresults,
               const wasm_valtype *results);
void emit_return(compiler *c);

/* compile_ops.c: validates and emits one instruction; returns false at
 * the function's final `end`. */
bool compile_instr(compiler *c);

#endif
