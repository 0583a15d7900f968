/*
 * compile.c - the function-body compiler: driver, readers, the operand and
 * control stacks, and code emission. The per-instruction cases are in
 * compile_ops.c. See compile.h for the virtual-stack design.
 */
#include "compile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A function may not need more than this many slots (params, locals and
 * temps): 8 MiB of value stack per frame. */
#define MAX_FRAME_SLOTS (1u << 20)

_Noreturn void cfail(compiler *c, wasm_err code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *name = c->m->func_names ? c->m->func_names[c->func_index] : NULL;
    wasm_error_set(c->err, code, c->op_offset, "function %u%s%s%s: %s",
                   c->func_index, name ? " (" : "", name ? name : "",
                   name ? ")" : "", msg);
    if (c->err)
        c->err->func_index = c->func_index;
    longjmp(c->fail, 1);
}

/* ---- readers ---------------------------------------------------------- */

uint8_t rd_byte(compiler *c)
{
    if (c->p >= c->end)
        cfail(c, WASM_ERR_MALFORMED, "unexpected end of function body");
    return *c->p++;
}

static uint64_t rd_leb(compiler *c, unsigned bits, bool is_signed)
{
    uint64_t result = 0;
    unsigned shift = 0;
    uint8_t b;
    for (;;) {
        b = rd_byte(c);
        if (shift + 7 >= bits) {
            /* Last possible byte: no continuation, unused bits must be a
             * sign extension (signed) or zero (unsigned). */
            unsigned used = bits - shift;
            if (b & 0x80)
                cfail(c, WASM_ERR_MALFORMED, "integer representation too long");
            uint8_t extra = (uint8_t)(b & 0x7F) >> (used < 7 ? used : 7);
            if (used < 7) {
                bool neg = is_signed && (b & (1u << (used - 1)));
                uint8_t want = neg ? (uint8_t)(0x7F >> used) : 0;
                if (extra != want)
                    cfail(c, WASM_ERR_MALFORMED, "integer too large");
            }
            result |= (uint64_t)(b & 0x7F) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80))
            break;
    }
    if (is_signed && shift < 64 && (b & 0x40))
        result |= ~0ull << shift;
    return result;
}

uint32_t rd_u32(compiler *c) { return (uint32_t)rd_leb(c, 32, false); }
int32_t rd_s32(compiler *c) { return (int32_t)(uint32_t)rd_leb(c, 32, true); }
int64_t rd_s64(compiler *c) { return (int64_t)rd_leb(c, 64, true); }
int64_t rd_s33(compiler *c) { return (int64_t)rd_leb(c, 33, true); }

wasm_valtype rd_valtype(compiler *c)
{
    uint8_t b = rd_byte(c);
    switch (b) {
    case WASM_I32: case WASM_I64: case WASM_F32: case WASM_F64:
    case WASM_FUNCREF: case WASM_EXTERNREF:
        return (wasm_valtype)b;
    case WASM_V128:
        cfail(c, WASM_ERR_UNSUPPORTED, "SIMD (v128) is not supported yet");
    default:
        cfail(c, WASM_ERR_MALFORMED, "malformed value type 0x%02x", b);
    }
}

/* ---- growable arrays ---------------------------------------------------- */

static void *grow_array(compiler *c, void *p, uint32_t *cap, uint32_t need,
                        size_t elem)
{
    if (need <= *cap)
        return p;
    uint32_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > UINT32_MAX / 2)
            cfail(c, WASM_ERR_LIMIT, "function too large");
        ncap *= 2;
    }
    void *np = realloc(p, (size_t)ncap * elem);
    if (!np)
        cfail(c, WASM_ERR_NOMEM, "out of memory compiling");
    *cap = ncap;
    return np;
}

uint32_t *scratch_words(compiler *c, uint32_t n)
{
    c->scratch = grow_array(c, c->scratch, &c->scratch_cap, n ? n : 1,
                            sizeof *c->scratch);
    return c->scratch;
}

/* ---- operand stack ---------------------------------------------------- */

void push_entry(compiler *c, vval v)
{
    c->vs = grow_array(c, c->vs, &c->vs_cap, c->vs_n + 1, sizeof *c->vs);
    c->vs[c->vs_n++] = v;
    if (c->vs_n > c->max_height) {
        c->max_height = c->vs_n;
        if (c->tbase + c->max_height > MAX_FRAME_SLOTS)
            cfail(c, WASM_ERR_LIMIT, "function needs more than %u stack slots",
                  MAX_FRAME_SLOTS);
    }
}

void push_temp(compiler *c, wasm_valtype t)
{
    push_entry(c, (vval){t, K_TEMP, home(c, c->vs_n), 0});
}

vval pop_any(compiler *c)
{
    ctrl *f = &c->cs[c->cs_n - 1];
    if (c->vs_n == f->height) {
        if (f->unreachable)
            return (vval){T_UNKNOWN, K_TEMP, home(c, c->vs_n), 0};
        cfail(c, WASM_ERR_INVALID, "type mismatch: operand stack is empty");
    }
    return c->vs[--c->vs_n];
}

vval pop_expect(compiler *c, wasm_valtype t)
{
    vval v = pop_any(c);
    if (v.type != t && v.type != T_UNKNOWN && t != T_UNKNOWN)
        cfail(c, WASM_ERR_INVALID, "type mismatch: expected %s, found %s",
              wasm_valtype_name(t), wasm_valtype_name(v.type));
    return v;
}

/* Checks that the top n entries match types without popping (br_table). */
void check_top(compiler *c, const wasm_valtype *types, uint32_t n)
{
    ctrl *f = &c->cs[c->cs_n - 1];
    for (uint32_t i = 0; i < n; i++) {
        uint32_t depth = n - i; /* 1 = top */
        if (c->vs_n < f->height + depth) {
            if (f->unreachable)
                continue;
            cfail(c, WASM_ERR_INVALID, "type mismatch: operand stack too short");
        }
        wasm_valtype have = c->vs[c->vs_n - depth].type;
        if (have != types[i] && have != T_UNKNOWN)
            cfail(c, WASM_ERR_INVALID, "type mismatch: expected %s, found %s",
                  wasm_valtype_name(types[i]), wasm_valtype_name(have));
    }
}

void set_unreachable(compiler *c)
{
    ctrl *f = &c->cs[c->cs_n - 1];
    c->vs_n = f->height;
    f->unreachable = true;
    c->da = UINT64_MAX;
    fusion_barrier(c);
}

/* ---- definite assignment of locals (which need zeroing) ---------------- */

/* A branch to target: its end is reached with what is assigned here. */
void da_branch(compiler *c, ctrl *target)
{
    if (target->op != 0x03)
        target->da_out &= c->da;
}

void da_read(compiler *c, uint32_t local)
{
    if (local < c->ft->nparams)
        return;
    uint32_t i = local - c->ft->nparams;
    if (i >= 64)
        c->need_high = true;
    else if (!(c->da >> i & 1))
        c->need |= (uint64_t)1 << i;
}

void da_write(compiler *c, uint32_t local)
{
    if (local >= c->ft->nparams && local - c->ft->nparams < 64)
        c->da |= (uint64_t)1 << (local - c->ft->nparams);
}

/* The slots of the locals to zero on entry: [*from, *from + *n). */
static void da_zero_range(compiler *c, uint32_t *from, uint32_t *n)
{
    uint32_t declared = c->nlocals - c->ft->nparams;
    uint32_t lo = UINT32_MAX, hi = 0;
    if (c->need) {
        lo = (uint32_t)__builtin_ctzll(c->need);
        hi = 64 - (uint32_t)__builtin_clzll(c->need);
    }
    if (c->need_high) {
        lo = lo < 64 ? lo : 64;
        hi = declared;
    }
    *from = c->ft->nparams + (lo == UINT32_MAX ? 0 : lo);
    *n = lo == UINT32_MAX ? 0 : hi - lo;
}

/* ---- control stack ---------------------------------------------------- */

void push_ctrl(compiler *c, uint8_t op, uint32_t nparams,
               const wasm_valtype *params, uint32_t nresults,
               const wasm_valtype *results)
{
    c->cs = grow_array(c, c->cs, &c->cs_cap, c->cs_n + 1, sizeof *c->cs);
    ctrl *f = &c->cs[c->cs_n++];
    memset(f, 0, sizeof *f);
    f->op = op;
    f->height = c->vs_n; /* the params are popped already */
    f->nparams = nparams;
    f->params = params;
    f->nresults = nresults;
    f->results = results;
    f->patches = NO_POS;
    f->else_site = NO_POS;
    f->da_entry = c->da;
    f->da_out = UINT64_MAX;
    /* Inside unreachable code a block validates normally but emits nothing. */
    if (c->cs_n > 1) {
        ctrl *parent = &c->cs[c->cs_n - 2];
        f->dead = parent->unreachable || parent->dead;
    }
}

ctrl *label(compiler *c, uint32_t depth)
{
    if (depth >= c->cs_n)
        cfail(c, WASM_ERR_INVALID, "unknown label %u", depth);
    return &c->cs[c->cs_n - 1 - depth];
}

uint32_t label_arity(const ctrl *f) { return f->op == 0x03 ? f->nparams : f->nresults; }
const wasm_valtype *label_types(const ctrl *f) { return f->op == 0x03 ? f->params : f->results; }

/* ---- emission --------------------------------------------------------- */

void emit_w(compiler *c, uint32_t w)
{
    c->code = grow_array(c, c->code, &c->code_cap, c->code_n + 1, sizeof *c->code);
    c->code[c->code_n++] = w;
}

uint32_t emit_op(compiler *c, wasm_iop op)
{
    uint32_t at = c->code_n;
    _Static_assert(WASM_HANDLER_WORDS == 1, "one handler word");
    emit_w(c, c->handlers[op]);
    c->starts = grow_array(c, c->starts, &c->starts_cap, c->nstarts + 1, sizeof *c->starts);
    c->ops = grow_array(c, c->ops, &c->ops_cap, c->nstarts + 1, sizeof *c->ops);
    c->starts[c->nstarts] = at;
    c->ops[c->nstarts++] = op;
    uint32_t n = c->nrecent;
    fusion_barrier(c);
    if (n == sizeof c->recent / sizeof c->recent[0])
        memmove(c->recent, c->recent + 1, --n * sizeof c->recent[0]);
    c->recent[n] = at;
    c->nrecent = n + 1;
    return at;
}

/* Removes the last instruction (to emit a fused one in its place). */
void drop_last(compiler *c)
{
    uint32_t n = c->nrecent - 1;
    c->code_n = c->recent[n];
    c->nstarts--;
    fusion_barrier(c);
    c->nrecent = n;
}

/* Forgets the last instruction for fusion: called when another one is
 * emitted and where code may be jumped to (a label binds here). */
void fusion_barrier(compiler *c)
{
    c->nrecent = 0;
    c->last_dst = NO_POS;
    c->cmp.valid = false;
    c->moves_at = NO_POS;
}

/* ---- moves: copies and constants ---------------------------------------- */

/* The moves of a copy, const32 or mov_C_K op (code.h). */
typedef struct moves {
    uint32_t nc, nk;
    uint32_t copy[WASM_MAX_COPIES][2]; /* dst src */
    uint32_t k[WASM_MAX_CONSTS][2];    /* dst imm */
} moves;

/* mov_C_K by (C, K), 0 where there is none; and each mov op's C and K
 * (+ 1, 0 for other ops). */
static const wasm_iop mov_ops[WASM_MAX_COPIES + 1][WASM_MAX_CONSTS + 1] = {
#define MOV_OP(C, K) [C][K] = IOP_mov_##C##_##K,
    WASM_MOVES(MOV_OP)
};
static const struct { uint8_t c, k; } mov_ck[IOP_COUNT] = {
#define MOV_CK(C, K) [IOP_mov_##C##_##K] = {C + 1, K},
    WASM_MOVES(MOV_CK)
};

/* Reads the last instruction, at `at`, if it is a move op. */
static bool read_moves(compiler *c, uint32_t at, moves *mv)
{
    wasm_iop op = c->ops[c->nstarts - 1];
    const uint32_t *w = c->code + OPND(at, 1);
    if (op == IOP_copy || op == IOP_const32) {
        mv->nc = op == IOP_copy;
        mv->nk = !mv->nc;
    } else if (mov_ck[op].c) {
        mv->nc = mov_ck[op].c - 1u;
        mv->nk = mov_ck[op].k;
    } else {
        return false;
    }
    memcpy(mv->copy, w, mv->nc * sizeof mv->copy[0]);
    memcpy(mv->k, w + 2 * mv->nc, mv->nk * sizeof mv->k[0]);
    return true;
}

/* Adds a move that comes after those of mv, keeping their meaning when
 * run as mov_C_K does (copies first); false if it cannot. */
static bool add_move(moves *mv, bool is_const, uint32_t dst, uint32_t x)
{
    for (uint32_t i = 0; !is_const && i < mv->nk; i++)
        if (mv->k[i][0] == x) { /* a copy of a constant set here */
            is_const = true;
            x = mv->k[i][1];
        }
    if (!is_const) {
        if (mv->nc == WASM_MAX_COPIES)
            return false;
        for (uint32_t i = 0; i < mv->nk; i++)
            if (mv->k[i][0] == dst) { /* a dead constant */
                mv->nk--;
                memmove(mv->k[i], mv->k[i + 1], (mv->nk - i) * sizeof mv->k[0]);
                break;
            }
        mv->copy[mv->nc][0] = dst;
        mv->copy[mv->nc++][1] = x;
        return true;
    }
    for (uint32_t i = 0; i < mv->nc; i++)
        if (mv->copy[i][0] == dst) /* keeps the accumulator's slot right */
            return false;
    for (uint32_t i = 0; i < mv->nk; i++)
        if (mv->k[i][0] == dst) {
            mv->k[i][1] = x;
            return true;
        }
    if (mv->nk == WASM_MAX_CONSTS)
        return false;
    mv->k[mv->nk][0] = dst;
    mv->k[mv->nk++][1] = x;
    return true;
}

/* add_move, if some op holds the result. */
static bool join_move(moves *mv, bool is_const, uint32_t dst, uint32_t x)
{
    moves t = *mv;
    if (!add_move(&t, is_const, dst, x) || !mov_ops[t.nc][t.nk])
        return false;
    *mv = t;
    return true;
}

/* Emits mv as one instruction: copy, const32 or mov_C_K. */
static void emit_moves(compiler *c, const moves *mv)
{
    uint32_t n = mv->nc + mv->nk;
    c->moves_at = emit_op(c, n == 1 ? (mv->nc ? IOP_copy : IOP_const32)
                                    : mov_ops[mv->nc][mv->nk]);
    for (uint32_t i = 0; i < mv->nc; i++) {
        emit_w(c, mv->copy[i][0]);
        emit_w(c, mv->copy[i][1]);
    }
    for (uint32_t i = 0; i < mv->nk; i++) {
        emit_w(c, mv->k[i][0]);
        emit_w(c, mv->k[i][1]);
    }
}

/* Emits a copy (is_const false) or a 32-bit constant. Moves in a row with
 * no label between join into one op (see add_move). */
static void emit_move(compiler *c, bool is_const, uint32_t dst, uint32_t x)
{
    /* a copy of what an i32.add of a constant just wrote: the add writes
     * both (local.tee a; local.set b) */
    uint32_t last = last_op(c);
    if (!is_const && last != NO_POS && OPND(last, 4) == c->code_n &&
        op_at(c, last, IOP_op_i32_add_imm) && c->code[OPND(last, 1)] == x) {
        set_op(c, last, IOP_add_imm_copy);
        emit_w(c, dst);
        c->last_dst = NO_POS;
        return;
    }
    moves mv;
    if (c->moves_at != NO_POS && read_moves(c, c->moves_at, &mv) &&
        join_move(&mv, is_const, dst, x)) {
        drop_last(c);
    } else {
        mv = (moves){0};
        add_move(&mv, is_const, dst, x);
    }
    emit_moves(c, &mv);
}

/* Emits an unconditional jump and returns the word to patch with its
 * offset (emit_branch_to): a move op just before becomes its movj form,
 * or a br. */
uint32_t emit_jump(compiler *c)
{
    moves mv;
    uint32_t at = c->moves_at, last = last_op(c);
    wasm_iop op = last != NO_POS ? c->ops[c->nstarts - 1] : IOP_unreachable;
    if (at != NO_POS && read_moves(c, at, &mv)) {
        set_op(c, at, mov_ops[mv.nc][mv.nk] + 1); /* its movj form */
        c->moves_at = NO_POS; /* ends with a branch's word now */
    } else if (op >= IOP_select && op <= IOP_select_ii) {
        set_op(c, last, op + (IOP_selectj - IOP_select));
        fusion_barrier(c);
    } else {
        emit_op(c, IOP_br);
    }
    uint32_t site = c->code_n;
    emit_w(c, 0);
    return site;
}

void emit_copy(compiler *c, uint32_t dst, uint32_t src)
{
    emit_move(c, false, dst, src);
}

void emit_const(compiler *c, uint32_t dst, uint64_t bits)
{
    if (bits >> 32) {
        emit_op(c, IOP_const64);
        emit_w(c, dst);
        emit_w(c, (uint32_t)bits);
        emit_w(c, (uint32_t)(bits >> 32));
    } else {
        emit_move(c, true, dst, (uint32_t)bits);
    }
}

/* Writes the entry at stack position pos into its home slot. */
void materialize(compiler *c, uint32_t pos)
{
    vval *v = &c->vs[pos];
    uint32_t dst = home(c, pos);
    if (v->kind == K_LOCAL)
        emit_copy(c, dst, v->slot);
    else if (v->kind == K_CONST)
        emit_const(c, dst, v->imm);
    v->kind = K_TEMP;
    v->slot = dst;
}

void materialize_all(compiler *c)
{
    for (uint32_t i = 0; i < c->vs_n; i++)
        if (c->vs[i].kind != K_TEMP)
            materialize(c, i);
}

/* The slot an instruction reads the entry at pos from (constants are
 * materialised first). */
uint32_t operand_slot(compiler *c, uint32_t pos)
{
    if (c->vs[pos].kind == K_CONST)
        materialize(c, pos);
    return c->vs[pos].slot;
}

/* Branch offsets are relative to their own word. A forward branch's word
 * temporarily links to the previous unpatched site of the same label. */
void emit_branch_to(compiler *c, ctrl *target, uint32_t site)
{
    if (target->op == 0x03) {
        c->code[site] = (uint32_t)((int32_t)target->loop_pc - (int32_t)site);
    } else {
        c->code[site] = target->patches;
        target->patches = site;
    }
}

/* Code may be jumped to here: no instruction before may fuse with one
 * after, nor pass it the accumulator. */
void mark_label(compiler *c)
{
    fusion_barrier(c);
    if (c->nlabels && c->labels[c->nlabels - 1] == c->code_n)
        return;
    c->labels = grow_array(c, c->labels, &c->labels_cap, c->nlabels + 1,
                           sizeof *c->labels);
    c->labels[c->nlabels++] = c->code_n;
}

void patch_chain(compiler *c, uint32_t head, uint32_t target)
{
    fusion_barrier(c);
    if (head != NO_POS)
        mark_label(c); /* target is here: callers patch at code_n */
    while (head != NO_POS) {
        uint32_t next = c->code[head];
        c->code[head] = (uint32_t)((int32_t)target - (int32_t)head);
        head = next;
    }
}

/* Do the values a branch to target carries sit anywhere but their slots? */
bool label_needs_copies(compiler *c, ctrl *target)
{
    uint32_t n = label_arity(target);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = c->vs_n - n + i;
        vval *v = &c->vs[pos];
        if (v->kind != K_TEMP || v->slot != home(c, target->height + i))
            return true;
    }
    return false;
}

/* Copies the branch values into the target's slots, bottom up (never
 * overwrites a source not yet read: destinations are at or below them). */
void emit_label_copies(compiler *c, ctrl *target)
{
    uint32_t n = label_arity(target);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t pos = c->vs_n - n + i;
        vval *v = &c->vs[pos];
        uint32_t dst = home(c, target->height + i);
        if (v->kind == K_CONST)
            emit_const(c, dst, v->imm);
        else if (v->slot != dst)
            emit_copy(c, dst, v->slot);
    }
}

/* Copies the function's results to fp[0..n) and returns. */
void emit_return(compiler *c)
{
    uint32_t n = c->ft->nresults;
    if (n == 0) {
        emit_op(c, IOP_return0);
    } else if (n == 1) {
        vval *v = &c->vs[c->vs_n - 1];
        uint32_t s;
        if (v->kind == K_TEMP && c->last_dst != NO_POS &&
            c->last_dst_height == c->vs_n - 1 && c->code[c->last_dst] == v->slot) {
            /* the result's producer is the last instruction: it may write
             * fp[0] itself, nothing else runs before the return */
            c->code[c->last_dst] = 0;
            s = 0;
        } else if (v->kind == K_CONST) {
            emit_const(c, 0, v->imm);
            s = 0;
        } else {
            s = operand_slot(c, c->vs_n - 1);
        }
        if (s == 0) {
            emit_op(c, IOP_return0);
        } else {
            emit_op(c, IOP_return1);
            emit_w(c, s);
        }
    } else {
        /* All sources in temps (at or above their destinations): the
         * handler's in-order copy is then safe. */
        for (uint32_t i = c->vs_n - n; i < c->vs_n; i++)
            if (c->vs[i].kind != K_TEMP)
                materialize(c, i);
        emit_op(c, IOP_returnn);
        emit_w(c, n);
        for (uint32_t i = c->vs_n - n; i < c->vs_n; i++)
            emit_w(c, c->vs[i].slot);
    }
}

/* ---- the accumulator (code.h) ------------------------------------------ */

/* The operand (from 1) whose value an op leaves in the accumulator, or 0. */
static const uint8_t acc_from[IOP_COUNT] = {
    [IOP_br_add_nez32] = 1, [IOP_br_add_eqz32] = 1, [IOP_br_add2_nez32] = 4,
    [IOP_br_add2_eqz32] = 4, [IOP_add_imm_copy] = 1, [IOP_copy] = 1,
    [IOP_select] = 1, [IOP_select_ix] = 1, [IOP_select_xi] = 1,
    [IOP_select_ii] = 1,
/* (movj: the next instruction is not reached from it) */
#define AF_MOV(C, K) [IOP_mov_##C##_##K] = (C) ? 2 * (C) - 1 : 0,
    WASM_MOVES(AF_MOV)
#define AF_LL_F(load, op, f1, f2)                                               \
    [IOP_ll_##op##_##load##_##f1##f2] = 1, [IOP_lla_##op##_##load##_##f1##f2] = 1,
#define AF_LL(load, T, op, ...) WASM_LL_FORMS(AF_LL_F, load, op)
    WASM_LOADOPS(AF_LL)
#define AF_UN(b, id, ...) [IOP_op_##id] = 1,
#define AF_BIN(b, id, ...)                                                      \
    [IOP_op_##id] = 1, [IOP_op_##id##_imm] = 1, [IOP_op_##id##_a] = 1, [IOP_op_##id##_imm_a] = 1,
#define AF_CMP(b, id, n, in, ...) AF_BIN(b, id) AF_BR_ADD_##in(id)
#define AF_BR_ADD_I32(id)                                                       \
    [IOP_br_add_##id] = 1, [IOP_br_add_##id##_imm] = 1, [IOP_br_add2_##id] = 4, \
    [IOP_br_add2_##id##_imm] = 4,
#define AF_BR_ADD_I64(id)
#define AF_EQZ(b, id, ...) [IOP_op_##id] = 1,
#define UNOP AF_UN
#define SATOP AF_UN
#define BINOP AF_BIN
#define CMPOP AF_CMP
#define EQZOP AF_EQZ
#include "opcodes.def"
#define AF_LOAD(name, ...)                                                      \
    [IOP_##name] = 1, [IOP_##name##_k] = 1, [IOP_##name##_x] = 1, [IOP_##name##_sk] = 1, \
    [IOP_##name##_sx] = 1, [IOP_##name##_a] = 1, [IOP_##name##_kt] = 1, [IOP_##name##_xt] = 1, \
    [IOP_##name##_ka] = 1,
    WASM_LOADS(AF_LOAD)
#define AF_FUSED_ACC(f, s, form, fld, acc) [IOP_f_##f##_##s##_##form##acc] = 1,
#define AF_FUSED(f, s, form, fld)                                               \
    AF_FUSED_ACC(f, s, form, fld, ) WASM_FUSED_ACC_##form(AF_FUSED_ACC, f, s, form, fld)
    WASM_FUSED(AF_FUSED)
};

/* An op's _a forms: the operand each takes from the accumulator (tried in
 * order), and whether operand 2 and 3 may be swapped to use the first. */
static const struct acc_form {
    wasm_iop op[3];
    uint8_t operand[3];
    bool commutes;
} acc_forms[IOP_COUNT] = {
    [IOP_br_nez32] = {{IOP_br_nez32_a}, {1}, false},
    [IOP_br_eqz32] = {{IOP_br_eqz32_a}, {1}, false},
    [IOP_br_table] = {{IOP_br_table_a}, {1}, false},
    [IOP_br_table_l8] = {{IOP_br_table_l8_a}, {2}, false},
#define AO_BIN(byte, id, ...)                                                   \
    [IOP_op_##id] = {{IOP_op_##id##_a}, {2}, COMMUTES(byte)},                  \
    [IOP_op_##id##_imm] = {{IOP_op_##id##_imm_a}, {2}, false},
#define AO_CMP(byte, id, ...)                                                   \
    AO_BIN(byte, id) [IOP_br_##id] = {{IOP_br_##id##_a}, {1}, COMMUTES(byte)}, \
    [IOP_br_##id##_imm] = {{IOP_br_##id##_imm_a}, {1}, false},
#define BINOP AO_BIN
#define CMPOP AO_CMP
#include "opcodes.def"
#define AO_LOAD(name, ...)                                                      \
    [IOP_##name] = {{IOP_##name##_a}, {2}, false},                             \
    [IOP_##name##_k] = {{IOP_##name##_ka}, {2}, false},
    WASM_LOADS(AO_LOAD)
#define AO_STORE(name, ...) [IOP_##name] = {{IOP_##name##_a}, {2}, false},
    WASM_STORES(AO_STORE)
/* slot operands by form: a is 2; b 3; c 4, or 3 + the immediate's words */
#define AO_FUSED_OP(f, s, form, acc) IOP_f_##f##_##s##_##form##acc,
#define AO_FUSED(f, s, form, fld)                                               \
    [IOP_f_##f##_##s##_##form] = {{WASM_FUSED_ACC_##form(AO_FUSED_OP, f, s, form)}, \
                                  AO_OPERANDS_##form(IMMW_##fld), false},
#define AO_OPERANDS_bb(k) {2, 3, 4}
#define AO_OPERANDS_bbr(k) {2, 3, 4}
#define AO_OPERANDS_ib(k) {2, 3 + (k)}
#define AO_OPERANDS_bi(k) {2, 3}
#define AO_OPERANDS_ii(k) {2}
#define IMMW_u32 1
#define IMMW_u64 2
#define IMMW_f64 2
    WASM_FUSED(AO_FUSED)
};

/* Switches each instruction that reads the value the one before it left
 * in the accumulator to its _a form, unless a label lies between (code
 * may arrive from elsewhere). Runs on the finished code. */
static void use_acc(compiler *c)
{
    uint32_t l = 0;
    for (uint32_t i = 1; i < c->nstarts; i++) {
        uint32_t at = c->starts[i], prev = c->starts[i - 1];
        const struct acc_form *f = &acc_forms[c->ops[i]];
        uint8_t from = acc_from[c->ops[i - 1]];
        while (l < c->nlabels && c->labels[l] < at)
            l++;
        if (!f->op[0] || !from || (l < c->nlabels && c->labels[l] == at))
            continue;
        uint32_t t = c->code[OPND(prev, from)], *w = c->code + OPND(at, f->operand[0]);
        int k = 0;
        while (k < 3 && f->op[k] && c->code[OPND(at, f->operand[k])] != t)
            k++;
        if (k == 3 || !f->op[k]) {
            if (!f->commutes || w[1] != t)
                continue;
            w[1] = w[0]; /* a op b == b op a */
            w[0] = t;
            k = 0;
        }
        c->code[at] = c->handlers[f->op[k]];
        c->ops[i] = f->op[k];
    }
}

/* br_X_imm (i32) and br_nez32/br_eqz32 by the ret_unless op they make with
 * a return0 that they jump over. */
static const wasm_iop ret_unless[IOP_COUNT] = {
    [IOP_br_nez32] = IOP_ret_unless_nez32, [IOP_br_eqz32] = IOP_ret_unless_eqz32,
#define RU_CMP(b, id, n, in, ...) RU_CMP_##in(id)
#define RU_CMP_I32(id) [IOP_br_##id##_imm] = IOP_ret_unless_##id##_imm,
#define RU_CMP_I64(id)
#define CMPOP RU_CMP
#include "opcodes.def"
};

/* A conditional branch over a return0 that nothing else jumps to becomes a
 * ret_unless op (the same words): an early return costs one dispatch. */
static void fuse_returns(compiler *c)
{
    uint32_t l = 0;
    for (uint32_t i = 0; i + 1 < c->nstarts; i++) {
        uint32_t at = c->starts[i], ret = c->starts[i + 1];
        wasm_iop op = ret_unless[c->ops[i]];
        while (l < c->nlabels && c->labels[l] < ret)
            l++;
        if (!op || c->ops[i + 1] != IOP_return0 || (l < c->nlabels && c->labels[l] == ret))
            continue;
        uint32_t site = ret - 1; /* the branch's offset: its last word */
        if (site + (int32_t)c->code[site] != ret + 1)
            continue;
        set_op(c, at, op);
        c->nstarts--;
        memmove(c->starts + i + 1, c->starts + i + 2, (c->nstarts - i - 1) * sizeof *c->starts);
        memmove(c->ops + i + 1, c->ops + i + 2, (c->nstarts - i - 1) * sizeof *c->ops);
    }
}

/* Copies each br_table target's handler word into its table entry, once
 * the code is final. */
static void set_table_handlers(compiler *c)
{
    for (uint32_t i = 0; i < c->nstarts; i++) {
        wasm_iop op = c->ops[i];
        uint32_t skip = op == IOP_br_table_l8 || op == IOP_br_table_l8_a ? 4 : 1;
        if (op != IOP_br_table && op != IOP_br_table_a && skip == 1)
            continue;
        uint32_t at = c->starts[i], n = c->code[OPND(at, 2 + skip)];
        for (uint32_t j = 0; j <= n; j++) {
            uint32_t site = OPND(at, 3 + skip + 2 * j);
            c->code[site + 1] = c->code[site + (int32_t)c->code[site]];
        }
    }
}

/* ---- driver ------------------------------------------------------------ */

static wasm_err compile_function(compiler *c, wasm_module *m, uint32_t def)
{
    wasm_func_def *fd = &m->func_defs[def];
    c->func_index = m->nfunc_imports + def;
    c->ft = &m->types[fd->type_index];
    c->p = m->bytes + fd->code_offset;
    c->end = c->p + fd->code_size;
    c->op_offset = fd->code_offset;
    c->vs_n = c->cs_n = c->code_n = c->max_height = 0;
    fusion_barrier(c);
    c->nstarts = c->nlabels = 0;
    c->da = 0;
    c->need = 0;
    c->need_high = false;

    if (setjmp(c->fail))
        return c->err ? c->err->code : WASM_ERR_INVALID;

    uint64_t nlocals = (uint64_t)c->ft->nparams + fd->nlocals;
    if (nlocals > MAX_FRAME_SLOTS)
        cfail(c, WASM_ERR_LIMIT, "too many locals (%llu)", (unsigned long long)nlocals);
    c->nlocals = (uint32_t)nlocals;
    c->tbase = c->nlocals;
    uint32_t cap = 0;
    c->local_types = grow_array(c, c->local_types, &cap, c->nlocals + 1,
                                sizeof *c->local_types);
    if (c->ft->nparams)
        memcpy(c->local_types, c->ft->params, c->ft->nparams * sizeof(wasm_valtype));
    if (fd->nlocals)
        memcpy(c->local_types + c->ft->nparams, fd->locals,
               fd->nlocals * sizeof(wasm_valtype));

    push_ctrl(c, 0, 0, NULL, c->ft->nresults, c->ft->results);
    while (compile_instr(c))
        ;
    if (c->p != c->end)
        cfail(c, WASM_ERR_MALFORMED, "section size mismatch: code after the final end");

    fuse_returns(c);
    use_acc(c);
    set_table_handlers(c);
    wasm_code *code = fd->code; /* preallocated: calls hold its address */
    /* +1: the interpreter reads operand words in pairs (interp.c) */
    code->words = malloc(((size_t)c->code_n + 1) * sizeof *code->words);
    if (!code->words)
        cfail(c, WASM_ERR_NOMEM, "out of memory");
    memcpy(code->words, c->code, (size_t)c->code_n * sizeof *code->words);
    code->words[c->code_n] = 0;
    code->nwords = c->code_n;
    code->func_index = c->func_index;
    code->type = c->ft;
    code->nparams = c->ft->nparams;
    code->nlocals = fd->nlocals;
    da_zero_range(c, &code->zero_from, &code->nzero);
    /* +1: a callee's frame may start at the last temp (see call_indirect). */
    code->nslots = c->tbase + c->max_height + 1;
    if (code->nslots < c->ft->nresults)
        code->nslots = c->ft->nresults;
    return WASM_OK;
}

wasm_err wasm_compile_module(wasm_module *m, wasm_error *err)
{
    compiler *c = calloc(1, sizeof *c);
    if (!c)
        return wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "out of memory");
    c->m = m;
    c->err = err;
    c->handlers = wasm_interp_handlers();
    wasm_err rc = WASM_OK;
    for (uint32_t i = 0; i < m->nfunc_defs; i++) {
        m->func_defs[i].code = calloc(1, sizeof(wasm_code));
        if (!m->func_defs[i].code) {
            rc = wasm_error_set(err, WASM_ERR_NOMEM, UINT32_MAX, "out of memory");
            break;
        }
    }
    for (uint32_t i = 0; i < m->nfunc_defs && rc == WASM_OK; i++) {
        free(c->local_types);
        c->local_types = NULL;
        rc = compile_function(c, m, i);
    }
    free(c->local_types);
    free(c->starts);
    free(c->ops);
    free(c->labels);
    free(c->scratch);
    free(c->vs);
    free(c->cs);
    free(c->code);
    free(c);
    return rc;
}

void wasm_code_free(wasm_code *code)
{
    if (!code)
        return;
    free(code->words);
    free(code);
}
