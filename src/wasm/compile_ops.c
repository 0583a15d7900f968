/*
 * compile_ops.c - validation and emission, one case per instruction.
 *
 * Simple numeric instructions come from opcodes.def through the `simple`
 * table; everything else is a case in compile_instr(). Validation rules
 * follow the spec's appendix algorithm (section numbers are of the 2.0
 * core spec).
 */
#include "compile.h"

#include <string.h>

/* ---- the table of simple instructions --------------------------------- */

enum { S_NONE, S_UN, S_BIN, S_CMP, S_EQZ };

typedef struct simple_op {
    uint8_t kind;
    bool commutative;
    wasm_valtype in, out;
    wasm_iop op, op_imm, br, br_imm, br_neg, br_neg_imm;
} simple_op;

#define UNOP(byte, id, name, in, out, cin, cout, expr) \
    [byte] = {S_UN, false, WASM_##in, WASM_##out, IOP_op_##id, 0, 0, 0, 0, 0},
#define TRAPUN(byte, id, name, in, out, cin, cout, fn) \
    [byte] = {S_UN, false, WASM_##in, WASM_##out, IOP_op_##id, 0, 0, 0, 0, 0},
#define BINOP(byte, id, name, in, out, cin, cout, expr) \
    [byte] = {S_BIN, false, WASM_##in, WASM_##out, IOP_op_##id, IOP_op_##id##_imm, 0, 0, 0, 0},
#define TRAPOP(byte, id, name, in, out, cin, cout, fn) \
    [byte] = {S_BIN, false, WASM_##in, WASM_##out, IOP_op_##id, IOP_op_##id##_imm, 0, 0, 0, 0},
#define CMPOP(byte, id, name, in, cin, expr, neg)                                  \
    [byte] = {S_CMP, false, WASM_##in, WASM_I32, IOP_op_##id, IOP_op_##id##_imm,  \
              IOP_br_##id, IOP_br_##id##_imm, IOP_br_##neg, IOP_br_##neg##_imm},
#define EQZOP(byte, id, name, in, cin) \
    [byte] = {S_EQZ, false, WASM_##in, WASM_I32, IOP_op_##id, 0, 0, 0, 0, 0},
static simple_op simple[256] = {
#include "opcodes.def"
};

#define SATOP(sub, id, name, in, out, cin, cout, expr) \
    [sub] = {S_UN, false, WASM_##in, WASM_##out, IOP_op_##id, 0, 0, 0, 0, 0},
static const simple_op sat_ops[8] = {
#include "opcodes.def"
};

static bool is_commutative(uint8_t byte)
{
    switch (byte) {
    case 0x46: case 0x47: case 0x51: case 0x52:             /* eq ne */
    case 0x6A: case 0x6C: case 0x71: case 0x72: case 0x73:  /* i32 add mul and or xor */
    case 0x7C: case 0x7E: case 0x83: case 0x84: case 0x85:  /* i64 */
        return true;
    default:
        return false;
    }
}

static bool is_64(wasm_valtype t) { return t == WASM_I64 || t == WASM_F64; }
static bool is_num(wasm_valtype t)
{
    return t == WASM_I32 || t == WASM_I64 || t == WASM_F32 || t == WASM_F64 ||
           t == T_UNKNOWN;
}
static bool is_ref(wasm_valtype t)
{
    return t == WASM_FUNCREF || t == WASM_EXTERNREF || t == T_UNKNOWN;
}

static void set_dst(compiler *c, uint32_t pos)
{
    c->last_dst = c->code_n;
    c->last_dst_height = pos;
    emit_w(c, home(c, pos));
}

static void emit_unary(compiler *c, const simple_op *s)
{
    pop_expect(c, s->in);
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        uint32_t a = operand_slot(c, pos);
        uint32_t start = emit_op(c, s->op);
        set_dst(c, pos);
        emit_w(c, a);
        if (s->kind == S_EQZ) {
            c->cmp = (pending_cmp){true, start, c->code_n, pos,
                                   s->in == WASM_I64 ? IOP_br_eqz64 : IOP_br_eqz32,
                                   s->in == WASM_I64 ? IOP_br_nez64 : IOP_br_nez32,
                                   a, 0, 0, 0};
        }
    }
    push_temp(c, s->out);
}

static void emit_binary(compiler *c, const simple_op *s, bool commutative)
{
    pop_expect(c, s->in);
    pop_expect(c, s->in);
    uint32_t pa = c->vs_n, pb = pa + 1;
    if (reachable(c)) {
        if (commutative && c->vs[pa].kind == K_CONST && c->vs[pb].kind != K_CONST) {
            vval t = c->vs[pa];
            c->vs[pa] = c->vs[pb];
            c->vs[pb] = t;
        }
        uint32_t a = operand_slot(c, pa);
        vval *B = &c->vs[pb];
        bool imm = B->kind == K_CONST;
        uint32_t b = imm ? (uint32_t)B->imm : B->slot;
        uint32_t b_hi = (uint32_t)(B->imm >> 32);
        uint8_t nb = imm && is_64(s->in) ? 2 : 1;
        uint32_t start = emit_op(c, imm ? s->op_imm : s->op);
        set_dst(c, pa);
        emit_w(c, a);
        emit_w(c, b);
        if (nb == 2)
            emit_w(c, b_hi);
        if (s->kind == S_CMP)
            c->cmp = (pending_cmp){true, start, c->code_n, pa,
                                   imm ? s->br_imm : s->br,
                                   imm ? s->br_neg_imm : s->br_neg,
                                   a, b, b_hi, nb};
    }
    push_temp(c, s->out);
}

/* ---- branches ----------------------------------------------------------- */

/* Emits a branch taken when the popped i32 condition v is non-zero
 * (when_true) or zero; fuses it with the compare that computed v if that
 * compare is the last instruction. With mat_all, the rest of the stack is
 * materialised before the branch. Returns the offset word, or NO_POS when
 * the branch can never be taken. */
static uint32_t cond_branch(compiler *c, vval v, bool when_true, bool mat_all)
{
    pending_cmp k = c->cmp;
    bool fuse = k.valid && k.end == c->code_n && k.height == c->vs_n &&
                v.kind == K_TEMP;
    if (fuse)
        c->code_n = k.start;
    if (mat_all)
        materialize_all(c);
    if (fuse) {
        emit_op(c, when_true ? k.br : k.br_neg);
        emit_w(c, k.a);
        if (k.nb >= 1)
            emit_w(c, k.b);
        if (k.nb == 2)
            emit_w(c, k.b_hi);
    } else if (v.kind == K_CONST) {
        if (((uint32_t)v.imm != 0) != when_true)
            return NO_POS;
        emit_op(c, IOP_br);
    } else {
        emit_op(c, when_true ? IOP_br_nez32 : IOP_br_eqz32);
        emit_w(c, v.slot);
    }
    uint32_t site = c->code_n;
    emit_w(c, NO_POS);
    return site;
}

/* Unconditional branch to target with its values on top of the stack.
 * The code may sit on one path only (br_if, br_table stubs), so the
 * virtual stack is left as it was: materialising here would be wrong for
 * the other paths. */
static void branch_to(compiler *c, ctrl *target)
{
    if (target == &c->cs[0]) {
        uint32_t n = c->ft->nresults;
        vval saved[n ? n : 1];
        if (n)
            memcpy(saved, &c->vs[c->vs_n - n], n * sizeof *saved);
        emit_return(c);
        if (n)
            memcpy(&c->vs[c->vs_n - n], saved, n * sizeof *saved);
        return;
    }
    emit_label_copies(c, target);
    emit_op(c, IOP_br);
    uint32_t site = c->code_n;
    emit_w(c, 0);
    emit_branch_to(c, target, site);
}

/* pop_vals(types) then push_vals(types) (br_if, spec 3.3.8). */
static void pop_push_types(compiler *c, const wasm_valtype *types, uint32_t n)
{
    uint32_t old = c->vs_n;
    for (uint32_t i = n; i-- > 0;)
        pop_expect(c, types[i]);
    uint32_t real = old - c->vs_n;
    if (real == n) {
        c->vs_n = old;
        return;
    }
    /* Unreachable code popped unknowns below the frame: re-push typed
     * entries under the real ones (nothing is emitted here). */
    vval saved[real ? real : 1];
    if (real)
        memcpy(saved, &c->vs[c->vs_n], real * sizeof *saved);
    for (uint32_t i = 0; i < n - real; i++)
        push_temp(c, types[i]);
    for (uint32_t i = 0; i < real; i++)
        push_entry(c, saved[i]);
}

static void op_br_if(compiler *c, uint32_t depth)
{
    vval v = pop_expect(c, WASM_I32);
    ctrl *t = label(c, depth);
    pop_push_types(c, label_types(t), label_arity(t));
    if (!reachable(c))
        return;
    if (t != &c->cs[0] && !label_needs_copies(c, t)) {
        uint32_t site = cond_branch(c, v, true, false);
        if (site != NO_POS)
            emit_branch_to(c, t, site);
    } else {
        uint32_t skip = cond_branch(c, v, false, false);
        branch_to(c, t);
        if (skip != NO_POS)
            patch_chain(c, skip, c->code_n);
    }
    c->last_dst = NO_POS;
}

static void op_br_table(compiler *c)
{
    uint32_t n = rd_u32(c);
    if (n > (uint32_t)(c->end - c->p))
        cfail(c, WASM_ERR_MALFORMED, "unexpected end: br_table of %u labels", n);
    /* scratch: labels[0..n], then per-depth stub pcs */
    uint32_t *labels = scratch_words(c, n + 1 + c->cs_n);
    for (uint32_t i = 0; i <= n; i++)
        labels[i] = rd_u32(c);
    vval idx = pop_expect(c, WASM_I32);
    ctrl *def = label(c, labels[n]);
    uint32_t arity = label_arity(def);
    for (uint32_t i = 0; i <= n; i++) {
        ctrl *t = label(c, labels[i]);
        if (label_arity(t) != arity)
            cfail(c, WASM_ERR_INVALID, "type mismatch: br_table labels differ in arity");
        check_top(c, label_types(t), arity);
    }
    if (reachable(c)) {
        uint32_t idx_slot = idx.kind == K_CONST ? operand_slot(c, c->vs_n) : idx.slot;
        emit_op(c, IOP_br_table);
        emit_w(c, idx_slot);
        emit_w(c, n);
        uint32_t first = c->code_n;
        for (uint32_t i = 0; i <= n; i++)
            emit_w(c, 0);
        uint32_t *stub = labels + n + 1;
        for (uint32_t d = 0; d < c->cs_n; d++)
            stub[d] = NO_POS;
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t site = first + i;
            ctrl *t = label(c, labels[i]);
            if (t != &c->cs[0] && !label_needs_copies(c, t)) {
                emit_branch_to(c, t, site);
                continue;
            }
            if (stub[labels[i]] == NO_POS) {
                stub[labels[i]] = c->code_n;
                branch_to(c, t);
            }
            c->code[site] = (uint32_t)((int32_t)stub[labels[i]] - (int32_t)site);
        }
    }
    set_unreachable(c);
}

/* ---- blocks --------------------------------------------------------------- */

typedef struct blocktype {
    uint32_t np, nr;
    const wasm_valtype *p, *r;
} blocktype;

static void read_blocktype(compiler *c, blocktype *bt)
{
    memset(bt, 0, sizeof *bt);
    const uint8_t *start = c->p;
    int64_t v = rd_s33(c);
    if (v >= 0) {
        if ((uint64_t)v >= c->m->ntypes)
            cfail(c, WASM_ERR_INVALID, "unknown type %lld", (long long)v);
        const wasm_type *t = &c->m->types[v];
        bt->np = t->nparams;
        bt->p = t->params;
        bt->nr = t->nresults;
        bt->r = t->results;
        return;
    }
    if (c->p - start != 1)
        cfail(c, WASM_ERR_MALFORMED, "malformed block type");
    uint8_t b = *start;
    if (b == 0x40)
        return;
    c->p = start;
    /* Static storage: control frames keep the pointer after we return. */
    static const wasm_valtype one[] = {WASM_I32, WASM_I64, WASM_F32, WASM_F64,
                                       WASM_FUNCREF, WASM_EXTERNREF};
    wasm_valtype t = rd_valtype(c);
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        if (one[i] == t)
            bt->r = &one[i];
    bt->nr = 1;
}

/* Pops the block's params (validating) after materialising the stack, and
 * pushes the new frame with its params as temps in the same slots. */
static void enter_block(compiler *c, uint8_t op, blocktype *bt)
{
    if (reachable(c))
        materialize_all(c);
    for (uint32_t i = bt->np; i-- > 0;)
        pop_expect(c, bt->p[i]);
    push_ctrl(c, op, bt->np, bt->p, bt->nr, bt->r);
    for (uint32_t i = 0; i < bt->np; i++)
        push_temp(c, bt->p[i]);
    c->last_dst = NO_POS;
    c->cmp.valid = false;
}

static void pop_results(compiler *c, ctrl *f)
{
    for (uint32_t i = f->nresults; i-- > 0;)
        pop_expect(c, f->results[i]);
    if (c->vs_n != f->height)
        cfail(c, WASM_ERR_INVALID, "type mismatch: %u values left on the stack at end of block",
              c->vs_n - f->height);
    c->vs_n = f->height + f->nresults;
}

static void op_else(compiler *c)
{
    ctrl *f = &c->cs[c->cs_n - 1];
    if (f->op != 0x04)
        cfail(c, WASM_ERR_INVALID, "else without if");
    pop_results(c, f);
    if (reachable(c)) {
        for (uint32_t i = f->height; i < c->vs_n; i++)
            materialize(c, i);
        emit_op(c, IOP_br);
        uint32_t site = c->code_n;
        emit_w(c, 0);
        emit_branch_to(c, f, site);
    }
    if (f->else_site != NO_POS)
        patch_chain(c, f->else_site, c->code_n);
    f->else_site = NO_POS;
    f->op = 0x05;
    f->unreachable = false;
    c->vs_n = f->height;
    for (uint32_t i = 0; i < f->nparams; i++)
        push_temp(c, f->params[i]);
    c->last_dst = NO_POS;
    c->cmp.valid = false;
}

/* Returns false at the function's end. */
static bool op_end(compiler *c)
{
    ctrl *f = &c->cs[c->cs_n - 1];
    pop_results(c, f);
    if (f->op == 0x04) {
        if (f->nparams != f->nresults ||
            (f->nparams && memcmp(f->params, f->results, f->nparams * sizeof(wasm_valtype))))
            cfail(c, WASM_ERR_INVALID, "type mismatch: if without else must not change the stack");
    }
    bool live = reachable(c);
    if (live)
        for (uint32_t i = f->height; i < c->vs_n; i++)
            materialize(c, i);
    if (c->cs_n == 1) {
        if (live)
            emit_return(c);
        c->cs_n = 0;
        return false;
    }
    if (f->else_site != NO_POS)
        patch_chain(c, f->else_site, c->code_n);
    patch_chain(c, f->patches, c->code_n);
    uint32_t height = f->height, nr = f->nresults;
    wasm_valtype res[nr ? nr : 1];
    if (nr)
        memcpy(res, f->results, nr * sizeof *res);
    c->cs_n--;
    c->vs_n = height;
    for (uint32_t i = 0; i < nr; i++)
        push_temp(c, res[i]);
    c->last_dst = NO_POS;
    c->cmp.valid = false;
    return true;
}

/* ---- calls ---------------------------------------------------------------- */

/* Validates the arguments, materialises them in their home slots and
 * returns the frame slot (the first argument's). */
static uint32_t call_args(compiler *c, const wasm_type *t)
{
    for (uint32_t i = t->nparams; i-- > 0;)
        pop_expect(c, t->params[i]);
    if (reachable(c))
        for (uint32_t i = 0; i < t->nparams; i++)
            if (c->vs[c->vs_n + i].kind != K_TEMP)
                materialize(c, c->vs_n + i);
    return home(c, c->vs_n);
}

static void push_results(compiler *c, const wasm_type *t)
{
    for (uint32_t i = 0; i < t->nresults; i++)
        push_temp(c, t->results[i]);
}

static void op_call(compiler *c)
{
    uint32_t fi = rd_u32(c);
    if (fi >= c->m->nfuncs)
        cfail(c, WASM_ERR_INVALID, "unknown function %u", fi);
    const wasm_type *t = &c->m->types[c->m->func_types[fi]];
    uint32_t frame = call_args(c, t);
    if (reachable(c)) {
        if (fi < c->m->nfunc_imports) {
            emit_op(c, IOP_call_import);
            emit_w(c, fi);
        } else {
            uintptr_t code = (uintptr_t)c->m->func_defs[fi - c->m->nfunc_imports].code;
            emit_op(c, IOP_call);
            emit_w(c, (uint32_t)code);
            emit_w(c, (uint32_t)((uint64_t)code >> 32));
        }
        emit_w(c, frame);
    }
    push_results(c, t);
}

static void op_call_indirect(compiler *c)
{
    uint32_t ti = rd_u32(c);
    uint32_t table = rd_u32(c);
    if (ti >= c->m->ntypes)
        cfail(c, WASM_ERR_INVALID, "unknown type %u", ti);
    if (table >= c->m->ntables)
        cfail(c, WASM_ERR_INVALID, "unknown table %u", table);
    if (c->m->tables[table].elem != WASM_FUNCREF)
        cfail(c, WASM_ERR_INVALID, "type mismatch: call_indirect on a table of externref");
    const wasm_type *t = &c->m->types[ti];
    vval idx = pop_expect(c, WASM_I32);
    uint32_t idx_pos = c->vs_n;
    uint32_t frame = call_args(c, t);
    if (reachable(c)) {
        c->vs[idx_pos] = idx;
        uint32_t idx_slot = operand_slot(c, idx_pos);
        emit_op(c, IOP_call_indirect);
        emit_w(c, table);
        emit_w(c, t->id);
        emit_w(c, idx_slot);
        emit_w(c, frame);
    }
    push_results(c, t);
}

/* ---- variables ------------------------------------------------------------ */

static uint32_t local_index(compiler *c)
{
    uint32_t x = rd_u32(c);
    if (x >= c->nlocals)
        cfail(c, WASM_ERR_INVALID, "unknown local %u", x);
    return x;
}

/* Materialises pending reads of local x before x is overwritten. Returns
 * whether there were any. */
static bool preserve_local(compiler *c, uint32_t x)
{
    bool any = false;
    for (uint32_t i = 0; i < c->vs_n; i++)
        if (c->vs[i].kind == K_LOCAL && c->vs[i].slot == x) {
            materialize(c, i);
            any = true;
        }
    return any;
}

static void op_local_set(compiler *c, bool tee)
{
    uint32_t x = local_index(c);
    wasm_valtype t = c->local_types[x];
    vval v = pop_expect(c, t);
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        bool retarget = v.kind == K_TEMP && c->last_dst != NO_POS &&
                        c->last_dst_height == pos;
        uint32_t dst_word = c->last_dst;
        /* A compare retargeted to a local can no longer be fused. */
        if (preserve_local(c, x))
            retarget = false;
        if (retarget) {
            c->code[dst_word] = x;
            c->cmp.valid = false;
        } else if (v.kind == K_CONST) {
            emit_op(c, v.imm >> 32 ? IOP_const64 : IOP_const32);
            emit_w(c, x);
            emit_w(c, (uint32_t)v.imm);
            if (v.imm >> 32)
                emit_w(c, (uint32_t)(v.imm >> 32));
        } else if (v.slot != x) {
            emit_op(c, IOP_copy);
            emit_w(c, x);
            emit_w(c, v.slot);
        }
        c->last_dst = NO_POS;
    }
    if (tee)
        push_entry(c, (vval){t, K_LOCAL, x, 0});
}

static void op_global(compiler *c, bool set)
{
    uint32_t g = rd_u32(c);
    if (g >= c->m->nglobals)
        cfail(c, WASM_ERR_INVALID, "unknown global %u", g);
    wasm_globaltype gt = c->m->global_types[g];
    if (!set) {
        if (reachable(c)) {
            emit_op(c, IOP_global_get);
            set_dst(c, c->vs_n);
            emit_w(c, g);
        }
        push_temp(c, gt.type);
        return;
    }
    if (!gt.mutable_)
        cfail(c, WASM_ERR_INVALID, "global %u is immutable", g);
    pop_expect(c, gt.type);
    if (reachable(c)) {
        uint32_t s = operand_slot(c, c->vs_n);
        emit_op(c, IOP_global_set);
        emit_w(c, g);
        emit_w(c, s);
    }
}

static void op_select(compiler *c, bool typed)
{
    wasm_valtype want = T_UNKNOWN;
    if (typed) {
        uint32_t n = rd_u32(c);
        if (n != 1)
            cfail(c, WASM_ERR_INVALID, "invalid result arity for select");
        want = rd_valtype(c);
    }
    pop_expect(c, WASM_I32);
    vval b = pop_expect(c, want);
    vval a = pop_expect(c, want);
    wasm_valtype t = want;
    if (!typed) {
        if (!is_num(a.type) || !is_num(b.type))
            cfail(c, WASM_ERR_INVALID, "type mismatch: select without type needs numbers");
        if (a.type != b.type && a.type != T_UNKNOWN && b.type != T_UNKNOWN)
            cfail(c, WASM_ERR_INVALID, "type mismatch: select operands differ");
        t = a.type == T_UNKNOWN ? b.type : a.type;
    }
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        uint32_t sa = operand_slot(c, pos);
        uint32_t sb = operand_slot(c, pos + 1);
        uint32_t sc = operand_slot(c, pos + 2);
        emit_op(c, IOP_select);
        set_dst(c, pos);
        emit_w(c, sa);
        emit_w(c, sb);
        emit_w(c, sc);
    }
    push_temp(c, t);
}

/* ---- memory --------------------------------------------------------------- */

static void need_memory(compiler *c)
{
    if (c->m->nmemories == 0)
        cfail(c, WASM_ERR_INVALID, "unknown memory 0");
}

static void zero_byte(compiler *c)
{
    if (rd_byte(c) != 0)
        cfail(c, WASM_ERR_MALFORMED, "zero byte expected");
}

static uint32_t memarg(compiler *c, uint32_t natural_log2)
{
    uint32_t align = rd_u32(c);
    uint32_t offset = rd_u32(c);
    need_memory(c);
    if (align > natural_log2)
        cfail(c, WASM_ERR_INVALID, "alignment must not be larger than natural");
    return offset;
}

/* An access's address operand: one slot (form 0), or the operands of the
 * i32.add that computed it, a + k (form 1, IOP_*_k) or a + b (form 2,
 * IOP_*_x). The add is dropped when it is the last instruction and wrote
 * the temp at pos, which only this access reads; its operands are intact
 * since nothing ran after it. */
typedef struct address {
    uint32_t form, a, b;
} address;

static address address_operand(compiler *c, uint32_t pos)
{
    uint32_t w = c->last_dst;
    vval *v = &c->vs[pos];
    if (w != NO_POS && w + 3 == c->code_n && c->last_dst_height == pos &&
        v->kind == K_TEMP && c->code[w] == v->slot) {
        int32_t h = (int32_t)c->code[w - 1];
        uint32_t form = h == c->handlers[IOP_op_i32_add_imm] ? 1
                      : h == c->handlers[IOP_op_i32_add]     ? 2 : 0;
        if (form) {
            c->code_n = w - 1;
            c->last_dst = NO_POS;
            return (address){form, c->code[w + 1], c->code[w + 2]};
        }
    }
    return (address){0, operand_slot(c, pos), 0};
}

static void op_load(compiler *c, wasm_iop op, wasm_valtype t, uint32_t log2)
{
    uint32_t offset = memarg(c, log2);
    pop_expect(c, WASM_I32);
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        address ad = address_operand(c, pos);
        emit_op(c, op + ad.form);
        set_dst(c, pos);
        emit_w(c, ad.a);
        if (ad.form)
            emit_w(c, ad.b);
        emit_w(c, offset);
    }
    push_temp(c, t);
}

static void op_store(compiler *c, wasm_iop op, wasm_valtype t, uint32_t log2)
{
    uint32_t offset = memarg(c, log2);
    pop_expect(c, t);
    pop_expect(c, WASM_I32);
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        /* first: materialising a constant value emits code, which then
         * keeps the address's add from being fused */
        uint32_t v = operand_slot(c, pos + 1);
        address ad = address_operand(c, pos);
        emit_op(c, op + ad.form);
        emit_w(c, ad.a);
        if (ad.form)
            emit_w(c, ad.b);
        emit_w(c, v);
        emit_w(c, offset);
    }
}

/* Pops n operands of the given types; when reachable, emits op with an
 * optional dst, leading immediates, then the operand slots in order. */
static void emit_with_operands(compiler *c, wasm_iop op, const wasm_valtype *in,
                               uint32_t n, wasm_valtype out, const uint32_t *imms,
                               uint32_t nimms)
{
    for (uint32_t i = n; i-- > 0;)
        pop_expect(c, in[i]);
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        uint32_t slots[5];
        for (uint32_t i = 0; i < n; i++)
            slots[i] = operand_slot(c, pos + i);
        emit_op(c, op);
        if (out != T_UNKNOWN)
            set_dst(c, pos);
        for (uint32_t i = 0; i < nimms; i++)
            emit_w(c, imms[i]);
        for (uint32_t i = 0; i < n; i++)
            emit_w(c, slots[i]);
    }
    if (out != T_UNKNOWN)
        push_temp(c, out);
}

static const wasm_valtype III[3] = {WASM_I32, WASM_I32, WASM_I32};

static uint32_t table_index(compiler *c)
{
    uint32_t t = rd_u32(c);
    if (t >= c->m->ntables)
        cfail(c, WASM_ERR_INVALID, "unknown table %u", t);
    return t;
}

static uint32_t elem_index(compiler *c)
{
    uint32_t e = rd_u32(c);
    if (e >= c->m->nelems)
        cfail(c, WASM_ERR_INVALID, "unknown elem segment %u", e);
    return e;
}

static uint32_t data_index(compiler *c)
{
    uint32_t d = rd_u32(c);
    if (!c->m->has_data_count)
        cfail(c, WASM_ERR_MALFORMED, "data count section required");
    if (d >= c->m->data_count)
        cfail(c, WASM_ERR_INVALID, "unknown data segment %u", d);
    return d;
}

static void op_prefixed(compiler *c)
{
    uint32_t sub = rd_u32(c);
    if (sub < 8) {
        emit_unary(c, &sat_ops[sub]);
        return;
    }
    switch (sub) {
    case 8: { /* memory.init */
        uint32_t seg = data_index(c);
        zero_byte(c);
        need_memory(c);
        emit_with_operands(c, IOP_memory_init, III, 3, T_UNKNOWN, &seg, 1);
        return;
    }
    case 9: { /* data.drop */
        uint32_t seg = data_index(c);
        if (reachable(c)) {
            emit_op(c, IOP_data_drop);
            emit_w(c, seg);
        }
        return;
    }
    case 10: /* memory.copy */
        zero_byte(c);
        zero_byte(c);
        need_memory(c);
        emit_with_operands(c, IOP_memory_copy, III, 3, T_UNKNOWN, NULL, 0);
        return;
    case 11: /* memory.fill */
        zero_byte(c);
        need_memory(c);
        emit_with_operands(c, IOP_memory_fill, III, 3, T_UNKNOWN, NULL, 0);
        return;
    case 12: { /* table.init elem table */
        uint32_t imm[2];
        imm[1] = elem_index(c);
        imm[0] = table_index(c);
        if (c->m->elems[imm[1]].type != c->m->tables[imm[0]].elem)
            cfail(c, WASM_ERR_INVALID, "type mismatch: table.init element type");
        emit_with_operands(c, IOP_table_init, III, 3, T_UNKNOWN, imm, 2);
        return;
    }
    case 13: { /* elem.drop */
        uint32_t seg = elem_index(c);
        if (reachable(c)) {
            emit_op(c, IOP_elem_drop);
            emit_w(c, seg);
        }
        return;
    }
    case 14: { /* table.copy dst src */
        uint32_t imm[2];
        imm[0] = table_index(c);
        imm[1] = table_index(c);
        if (c->m->tables[imm[0]].elem != c->m->tables[imm[1]].elem)
            cfail(c, WASM_ERR_INVALID, "type mismatch: table.copy between element types");
        emit_with_operands(c, IOP_table_copy, III, 3, T_UNKNOWN, imm, 2);
        return;
    }
    case 15: { /* table.grow: init n -> old size */
        uint32_t t = table_index(c);
        wasm_valtype in[2] = {c->m->tables[t].elem, WASM_I32};
        emit_with_operands(c, IOP_table_grow, in, 2, WASM_I32, &t, 1);
        return;
    }
    case 16: { /* table.size */
        uint32_t t = table_index(c);
        emit_with_operands(c, IOP_table_size, NULL, 0, WASM_I32, &t, 1);
        return;
    }
    case 17: { /* table.fill: i val n */
        uint32_t t = table_index(c);
        wasm_valtype in[3] = {WASM_I32, c->m->tables[t].elem, WASM_I32};
        emit_with_operands(c, IOP_table_fill, in, 3, T_UNKNOWN, &t, 1);
        return;
    }
    default:
        cfail(c, WASM_ERR_MALFORMED, "illegal opcode 0xfc %u", sub);
    }
}

/* ---- the instruction switch ------------------------------------------------ */

static void push_const(compiler *c, wasm_valtype t, uint64_t bits)
{
    push_entry(c, (vval){t, K_CONST, 0, bits});
}

/* Changes the type of the top entry in place (wrap, reinterpret). */
static void retype(compiler *c, wasm_valtype from, wasm_valtype to)
{
    vval v = pop_expect(c, from);
    v.type = to;
    if (v.kind == K_CONST && to == WASM_I32)
        v.imm = (uint32_t)v.imm;
    if (v.kind == K_CONST && to == WASM_F32)
        v.imm = (uint32_t)v.imm;
    push_entry(c, v);
    /* the slot is unchanged, so a following local.set may still retarget */
    if (c->last_dst != NO_POS && c->last_dst_height == c->vs_n - 1)
        return;
    c->last_dst = NO_POS;
}

static void load_store(compiler *c, uint8_t op)
{
    static const struct { wasm_iop iop; wasm_valtype t; uint8_t log2; bool store; } ls[] = {
        [0x28 - 0x28] = {IOP_i32_load, WASM_I32, 2, false},
        [0x29 - 0x28] = {IOP_i64_load, WASM_I64, 3, false},
        [0x2A - 0x28] = {IOP_i32_load, WASM_F32, 2, false},
        [0x2B - 0x28] = {IOP_i64_load, WASM_F64, 3, false},
        [0x2C - 0x28] = {IOP_i32_load8_s, WASM_I32, 0, false},
        [0x2D - 0x28] = {IOP_i32_load8_u, WASM_I32, 0, false},
        [0x2E - 0x28] = {IOP_i32_load16_s, WASM_I32, 1, false},
        [0x2F - 0x28] = {IOP_i32_load16_u, WASM_I32, 1, false},
        [0x30 - 0x28] = {IOP_i64_load8_s, WASM_I64, 0, false},
        [0x31 - 0x28] = {IOP_i64_load8_u, WASM_I64, 0, false},
        [0x32 - 0x28] = {IOP_i64_load16_s, WASM_I64, 1, false},
        [0x33 - 0x28] = {IOP_i64_load16_u, WASM_I64, 1, false},
        [0x34 - 0x28] = {IOP_i64_load32_s, WASM_I64, 2, false},
        [0x35 - 0x28] = {IOP_i64_load32_u, WASM_I64, 2, false},
        [0x36 - 0x28] = {IOP_store32, WASM_I32, 2, true},
        [0x37 - 0x28] = {IOP_store64, WASM_I64, 3, true},
        [0x38 - 0x28] = {IOP_store32, WASM_F32, 2, true},
        [0x39 - 0x28] = {IOP_store64, WASM_F64, 3, true},
        [0x3A - 0x28] = {IOP_store8, WASM_I32, 0, true},
        [0x3B - 0x28] = {IOP_store16, WASM_I32, 1, true},
        [0x3C - 0x28] = {IOP_store8, WASM_I64, 0, true},
        [0x3D - 0x28] = {IOP_store16, WASM_I64, 1, true},
        [0x3E - 0x28] = {IOP_store32, WASM_I64, 2, true},
    };
    const typeof(ls[0]) *e = &ls[op - 0x28];
    if (e->store)
        op_store(c, e->iop, e->t, e->log2);
    else
        op_load(c, e->iop, e->t, e->log2);
}

bool compile_instr(compiler *c)
{
    c->op_offset = (uint32_t)(c->p - c->m->bytes);
    uint8_t op = rd_byte(c);
    const simple_op *s = &simple[op];
    switch (s->kind) {
    case S_UN:
    case S_EQZ:
        emit_unary(c, s);
        return true;
    case S_BIN:
    case S_CMP:
        emit_binary(c, s, is_commutative(op));
        return true;
    default:
        break;
    }

    switch (op) {
    case 0x00: /* unreachable */
        if (reachable(c))
            emit_op(c, IOP_unreachable);
        set_unreachable(c);
        return true;
    case 0x01: /* nop */
        return true;
    case 0x02: /* block */
    case 0x03: { /* loop */
        blocktype bt;
        read_blocktype(c, &bt);
        enter_block(c, op, &bt);
        c->cs[c->cs_n - 1].loop_pc = c->code_n;
        return true;
    }
    case 0x04: { /* if */
        blocktype bt;
        read_blocktype(c, &bt);
        vval v = pop_expect(c, WASM_I32);
        uint32_t site = NO_POS;
        if (reachable(c))
            site = cond_branch(c, v, false, true);
        enter_block(c, op, &bt);
        c->cs[c->cs_n - 1].else_site = site;
        return true;
    }
    case 0x05:
        op_else(c);
        return true;
    case 0x0B:
        return op_end(c);
    case 0x0C: { /* br */
        ctrl *t = label(c, rd_u32(c));
        uint32_t old = c->vs_n;
        for (uint32_t i = label_arity(t); i-- > 0;)
            pop_expect(c, label_types(t)[i]);
        if (reachable(c)) {
            c->vs_n = old;
            branch_to(c, t);
        }
        set_unreachable(c);
        return true;
    }
    case 0x0D:
        op_br_if(c, rd_u32(c));
        return true;
    case 0x0E:
        op_br_table(c);
        return true;
    case 0x0F: { /* return */
        uint32_t old = c->vs_n;
        for (uint32_t i = c->ft->nresults; i-- > 0;)
            pop_expect(c, c->ft->results[i]);
        if (reachable(c)) {
            c->vs_n = old;
            emit_return(c);
        }
        set_unreachable(c);
        return true;
    }
    case 0x10:
        op_call(c);
        return true;
    case 0x11:
        op_call_indirect(c);
        return true;
    case 0x1A: /* drop */
        pop_any(c);
        c->last_dst = NO_POS;
        return true;
    case 0x1B:
        op_select(c, false);
        return true;
    case 0x1C:
        op_select(c, true);
        return true;
    case 0x20: { /* local.get */
        uint32_t x = local_index(c);
        push_entry(c, (vval){c->local_types[x], K_LOCAL, x, 0});
        return true;
    }
    case 0x21:
        op_local_set(c, false);
        return true;
    case 0x22:
        op_local_set(c, true);
        return true;
    case 0x23:
        op_global(c, false);
        return true;
    case 0x24:
        op_global(c, true);
        return true;
    case 0x25: { /* table.get */
        uint32_t t = table_index(c);
        emit_with_operands(c, IOP_table_get, III, 1, c->m->tables[t].elem, &t, 1);
        return true;
    }
    case 0x26: { /* table.set */
        uint32_t t = table_index(c);
        wasm_valtype in[2] = {WASM_I32, c->m->tables[t].elem};
        emit_with_operands(c, IOP_table_set, in, 2, T_UNKNOWN, &t, 1);
        return true;
    }
    case 0x3F: /* memory.size */
        zero_byte(c);
        need_memory(c);
        emit_with_operands(c, IOP_memory_size, NULL, 0, WASM_I32, NULL, 0);
        return true;
    case 0x40: /* memory.grow */
        zero_byte(c);
        need_memory(c);
        emit_with_operands(c, IOP_memory_grow, III, 1, WASM_I32, NULL, 0);
        return true;
    case 0x41:
        push_const(c, WASM_I32, (uint32_t)rd_s32(c));
        return true;
    case 0x42:
        push_const(c, WASM_I64, (uint64_t)rd_s64(c));
        return true;
    case 0x43: {
        uint32_t bits = 0;
        for (int i = 0; i < 4; i++)
            bits |= (uint32_t)rd_byte(c) << (8 * i);
        push_const(c, WASM_F32, bits);
        return true;
    }
    case 0x44: {
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++)
            bits |= (uint64_t)rd_byte(c) << (8 * i);
        push_const(c, WASM_F64, bits);
        return true;
    }
    case 0xA7: retype(c, WASM_I64, WASM_I32); return true; /* i32.wrap_i64 */
    case 0xBC: retype(c, WASM_F32, WASM_I32); return true;
    case 0xBD: retype(c, WASM_F64, WASM_I64); return true;
    case 0xBE: retype(c, WASM_I32, WASM_F32); return true;
    case 0xBF: retype(c, WASM_I64, WASM_F64); return true;
    case 0xD0: { /* ref.null */
        uint8_t t = rd_byte(c);
        if (t != WASM_FUNCREF && t != WASM_EXTERNREF)
            cfail(c, WASM_ERR_MALFORMED, "malformed reference type 0x%02x", t);
        push_const(c, (wasm_valtype)t, 0);
        return true;
    }
    case 0xD1: { /* ref.is_null */
        vval v = pop_any(c);
        if (!is_ref(v.type))
            cfail(c, WASM_ERR_INVALID, "type mismatch: ref.is_null on %s",
                  wasm_valtype_name(v.type));
        uint32_t pos = c->vs_n;
        if (reachable(c)) {
            uint32_t a = operand_slot(c, pos);
            emit_op(c, IOP_ref_is_null);
            set_dst(c, pos);
            emit_w(c, a);
        }
        push_temp(c, WASM_I32);
        return true;
    }
    case 0xD2: { /* ref.func */
        uint32_t f = rd_u32(c);
        if (f >= c->m->nfuncs)
            cfail(c, WASM_ERR_INVALID, "unknown function %u", f);
        if (!c->m->declared_funcs || !c->m->declared_funcs[f])
            cfail(c, WASM_ERR_INVALID, "undeclared function reference %u", f);
        emit_with_operands(c, IOP_ref_func, NULL, 0, WASM_FUNCREF, &f, 1);
        return true;
    }
    case 0xFC:
        op_prefixed(c);
        return true;
    case 0xFD:
        cfail(c, WASM_ERR_UNSUPPORTED, "SIMD (v128) is not supported yet");
    default:
        if (op >= 0x28 && op <= 0x3E) {
            load_store(c, op);
            return true;
        }
        cfail(c, WASM_ERR_MALFORMED, "illegal opcode 0x%02x", op);
    }
}
