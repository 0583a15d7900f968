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
    wasm_valtype in, out;
    wasm_iop op, op_imm;
    /* compares: fused branches, by whether b is an immediate */
    wasm_iop br[2], br_neg[2], br_add[2], br_add_neg[2];
} simple_op;

#define UNOP(byte, id, name, tin, tout, cin, cout, expr) \
    [byte] = {.kind = S_UN, .in = WASM_##tin, .out = WASM_##tout, .op = IOP_op_##id},
#define TRAPUN UNOP
#define BINOP(byte, id, name, tin, tout, cin, cout, expr)                         \
    [byte] = {.kind = S_BIN, .in = WASM_##tin, .out = WASM_##tout, .op = IOP_op_##id, \
              .op_imm = IOP_op_##id##_imm},
#define TRAPOP BINOP
#define CMPOP(byte, id, name, tin, cin, expr, neg)                               \
    [byte] = {.kind = S_CMP, .in = WASM_##tin, .out = WASM_I32, .op = IOP_op_##id, \
              .op_imm = IOP_op_##id##_imm,                                      \
              .br = {IOP_br_##id, IOP_br_##id##_imm},                           \
              .br_neg = {IOP_br_##neg, IOP_br_##neg##_imm},                     \
              BR_ADD_##tin(id, neg)},
/* br_add forms exist for i32 only; 0 (unreachable) means none */
#define BR_ADD_I32(id, neg)                                                     \
    .br_add = {IOP_br_add_##id, IOP_br_add_##id##_imm},                         \
    .br_add_neg = {IOP_br_add_##neg, IOP_br_add_##neg##_imm}
#define BR_ADD_I64(id, neg) .br_add = {0, 0}
#define EQZOP(byte, id, name, tin, cin) \
    [byte] = {.kind = S_EQZ, .in = WASM_##tin, .out = WASM_I32, .op = IOP_op_##id},
static simple_op simple[256] = {
#include "opcodes.def"
};

#define SATOP(sub, id, name, tin, tout, cin, cout, expr) \
    [sub] = {.kind = S_UN, .in = WASM_##tin, .out = WASM_##tout, .op = IOP_op_##id},
static const simple_op sat_ops[8] = {
#include "opcodes.def"
};

static bool is_commutative(uint8_t byte) { return COMMUTES(byte); }

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
            bool i64 = s->in == WASM_I64;
            c->cmp = (pending_cmp){true, start, c->code_n, pos,
                                   i64 ? IOP_br_eqz64 : IOP_br_eqz32,
                                   i64 ? IOP_br_nez64 : IOP_br_nez32,
                                   i64 ? 0 : IOP_br_add_eqz32,
                                   i64 ? 0 : IOP_br_add_nez32, a, 0, 0, 0};
        }
    }
    push_temp(c, s->out);
}

/* ---- fused pairs (WASM_FUSED in code.h) ------------------------------- */

static const struct fused_pair {
    wasm_iop first, second, fused;
    bool right; /* the temp is second's right operand */
} fused_pairs[] = {
#define FUSED_ROW(f, s, form, fld)                                            \
    {FUSED_FIRST_##form(f), FUSED_SECOND_##form(s), IOP_f_##f##_##s##_##form, \
     FUSED_RIGHT_##form},
#define FUSED_RIGHT_bb false
#define FUSED_RIGHT_bi false
#define FUSED_RIGHT_ib false
#define FUSED_RIGHT_ii false
#define FUSED_RIGHT_bbr true
#define FUSED_FIRST_bbr(f) IOP_op_##f
#define FUSED_SECOND_bbr(s) IOP_op_##s
#define FUSED_FIRST_bb(f) IOP_op_##f
#define FUSED_FIRST_bi(f) IOP_op_##f
#define FUSED_FIRST_ib(f) IOP_op_##f##_imm
#define FUSED_FIRST_ii(f) IOP_op_##f##_imm
#define FUSED_SECOND_bb(s) IOP_op_##s
#define FUSED_SECOND_ib(s) IOP_op_##s
#define FUSED_SECOND_bi(s) IOP_op_##s##_imm
#define FUSED_SECOND_ii(s) IOP_op_##s##_imm
    WASM_FUSED(FUSED_ROW)
};

/* Emits s (operands at pa, pa + 1) fused with the last instruction if
 * that wrote one of its operands to a temp (read by nothing else) and the
 * pair is listed; a constant other operand must be on the right. Returns
 * whether it did. */
static bool emit_fused(compiler *c, const simple_op *s, uint32_t pa, bool commutative)
{
    uint32_t at = last_op(c);
    if (at == NO_POS || c->last_dst != OPND(at, 1))
        return false;
    uint32_t tpos = c->last_dst_height;
    if (tpos != pa && tpos != pa + 1)
        return false;
    vval *t = &c->vs[tpos], *other = &c->vs[tpos == pa ? pa + 1 : pa];
    bool imm = other->kind == K_CONST, right = tpos != pa && !commutative;
    if (t->kind != K_TEMP || t->slot != c->code[OPND(at, 1)] || (imm && tpos != pa))
        return false;
    wasm_iop second = imm ? s->op_imm : s->op;
    const struct fused_pair *p = NULL;
    for (size_t i = 0; i < sizeof fused_pairs / sizeof fused_pairs[0] && !p; i++)
        if (fused_pairs[i].second == second && fused_pairs[i].right == right &&
            op_at(c, at, fused_pairs[i].first))
            p = &fused_pairs[i];
    uint32_t w[3], n = c->code_n - OPND(at, 2); /* the first op's a, b or k */
    if (!p || n > 3)
        return false;
    memcpy(w, c->code + OPND(at, 2), n * sizeof *w);
    drop_last(c);
    emit_op(c, p->fused);
    set_dst(c, pa);
    for (uint32_t i = 0; i < n; i++)
        emit_w(c, w[i]);
    if (!imm) {
        emit_w(c, other->slot);
    } else {
        emit_w(c, (uint32_t)other->imm);
        if (is_64(s->in))
            emit_w(c, (uint32_t)(other->imm >> 32));
    }
    return true;
}

/* ---- binary ops of two loads (WASM_LOADOPS in code.h) -------------------- */

static const struct loadop {
    wasm_iop load, op, add, ll, lla; /* ll, lla: their kk forms */
    bool is_float;
} loadops[] = {
#define LOADOP_ROW(load, T, op, add, fld, conv)                               \
    {IOP_##load, IOP_op_##op, IOP_op_##add, IOP_ll_##op##_##load##_kk,        \
     IOP_lla_##op##_##load##_kk, LOADOP_FLOAT_##fld},
#define LOADOP_FLOAT_u32 false
#define LOADOP_FLOAT_f64 true
    WASM_LOADOPS(LOADOP_ROW)
};

/* The address of the load at `at` as a k or x form (w: a b o); false if
 * its form is another. */
static bool ll_address(compiler *c, uint32_t at, wasm_iop form, uint32_t w[3], bool *x)
{
    w[0] = c->code[OPND(at, 2)];
    if (form == 0) {
        w[1] = 0;
        w[2] = c->code[OPND(at, 3)];
    } else {
        w[1] = c->code[OPND(at, 3)];
        w[2] = c->code[OPND(at, 4)];
    }
    *x = form == 2;
    return form <= 2;
}

/* Ops that only compute a slot (operand 1) from slots and immediates:
 * they may run before a load emitted before them. */
static const bool pure_op[IOP_COUNT] = {
#define PURE_UN(b, id, ...) [IOP_op_##id] = true,
#define PURE_BIN(b, id, ...) [IOP_op_##id] = true, [IOP_op_##id##_imm] = true,
#define UNOP PURE_UN
#define SATOP PURE_UN
#define EQZOP PURE_UN
#define BINOP PURE_BIN
#define CMPOP PURE_BIN
#include "opcodes.def"
#define PURE_FUSED(f, s, form, fld) [IOP_f_##f##_##s##_##form] = true,
    WASM_FUSED(PURE_FUSED)
};

/* i32.add (s) of the results of an ll op and an lla op just before it,
 * with c: c + p1 + p2 (integer adds may be regrouped) as two lla ops,
 * t = c + p1 into the ll's temp, then dst = t + p2. Returns whether. */
static bool emit_lla2(compiler *c, const simple_op *s, uint32_t pa)
{
    uint32_t n = c->nrecent, k = c->nstarts;
    if (n < 2 || s->op != IOP_op_i32_add)
        return false;
    uint32_t a_at = c->recent[n - 2], b_at = c->recent[n - 1];
    wasm_iop a_op = c->ops[k - 2], b_op = c->ops[k - 1];
    for (size_t r = 0; r < sizeof loadops / sizeof loadops[0]; r++) {
        const struct loadop *lo = &loadops[r];
        if (lo->is_float || a_op < lo->ll || a_op >= lo->ll + 4 || b_op < lo->lla ||
            b_op >= lo->lla + 4)
            continue;
        uint32_t t1 = c->code[OPND(a_at, 1)], t2 = c->code[OPND(b_at, 1)];
        vval *va = &c->vs[pa], *vb = &c->vs[pa + 1];
        if (va->kind != K_TEMP || vb->kind != K_TEMP || c->last_dst != OPND(b_at, 1) ||
            !((va->slot == t1 && vb->slot == t2) || (va->slot == t2 && vb->slot == t1)))
            return false;
        uint32_t w1[6], w2[7];
        memcpy(w1, c->code + OPND(a_at, 2), sizeof w1);
        memcpy(w2, c->code + OPND(b_at, 2), sizeof w2);
        drop_last(c);
        drop_last(c);
        emit_op(c, lo->lla + (a_op - lo->ll)); /* t1 = c + p1 */
        emit_w(c, t1);
        for (int i = 0; i < 6; i++)
            emit_w(c, w1[i]);
        emit_w(c, w2[6]);
        emit_op(c, b_op); /* dst = t1 + p2 */
        set_dst(c, pa);
        for (int i = 0; i < 6; i++)
            emit_w(c, w2[i]);
        emit_w(c, t1);
        return true;
    }
    return false;
}

/* Emits s (operands at pa, pa + 1) as an ll op if the last instructions
 * loaded its operands into their temps (with at most one pure op between,
 * which then runs first), or as an lla op if it is the add after an ll op.
 * Returns whether it did. */
static bool emit_loadop(compiler *c, const simple_op *s, uint32_t pa)
{
    uint32_t n = c->nrecent, k = c->nstarts;
    if (n == 0)
        return false;
    if (emit_lla2(c, s, pa))
        return true;
    uint32_t mid = n >= 3 && pure_op[c->ops[k - 2]] ? 1 : 0;
    uint32_t a_at = n >= 2 + mid ? c->recent[n - 2 - mid] : NO_POS, b_at = c->recent[n - 1];
    wasm_iop a_op = n >= 2 + mid ? c->ops[k - 2 - mid] : IOP_unreachable;
    wasm_iop b_op = c->ops[k - 1];
    vval *va = &c->vs[pa], *vb = &c->vs[pa + 1];
    for (size_t r = 0; r < sizeof loadops / sizeof loadops[0]; r++) {
        const struct loadop *lo = &loadops[r];
        if (s->op == lo->add && b_op >= lo->ll && b_op < lo->ll + 4 &&
            c->last_dst == OPND(b_at, 1)) {
            /* t = ll(...); dst = c + t (t + c for integers) */
            uint32_t tpos = c->last_dst_height;
            vval *other = tpos == pa ? vb : va;
            if ((tpos != pa && tpos != pa + 1) || (lo->is_float && tpos != pa + 1) ||
                other->kind == K_CONST || c->vs[tpos].kind != K_TEMP)
                return false;
            set_op(c, b_at, lo->lla + (b_op - lo->ll));
            c->code[OPND(b_at, 1)] = home(c, pa);
            c->last_dst_height = pa;
            emit_w(c, other->slot);
            return true;
        }
        if (s->op != lo->op || n < 2 || a_op < lo->load || a_op > lo->load + 2 ||
            b_op < lo->load || b_op > lo->load + 2)
            continue;
        if (va->kind != K_TEMP || vb->kind != K_TEMP || c->last_dst != OPND(b_at, 1) ||
            c->code[OPND(a_at, 1)] != va->slot || c->code[OPND(b_at, 1)] != vb->slot)
            return false;
        uint32_t wa[3], wb[3], m[8], m_at = c->recent[n - 2], nm = b_at - m_at;
        wasm_iop m_op = c->ops[k - 2];
        bool xa, xb;
        ll_address(c, a_at, a_op - lo->load, wa, &xa);
        ll_address(c, b_at, b_op - lo->load, wb, &xb);
        /* The op between runs first after the fusion: not if it writes the
         * first address, or the first load's value itself (a unary op on it
         * in place, such as f64.nearest of the loaded value). */
        if (mid && (nm > 8 || c->code[OPND(m_at, 1)] == wa[0] ||
                    (xa && c->code[OPND(m_at, 1)] == wa[1]) ||
                    c->code[OPND(m_at, 1)] == va->slot))
            return false;
        if (mid)
            memcpy(m, c->code + m_at, nm * sizeof *m);
        for (uint32_t i = 0; i < 2 + mid; i++)
            drop_last(c);
        if (mid) {
            emit_op(c, m_op);
            for (uint32_t i = WASM_HANDLER_WORDS; i < nm; i++)
                emit_w(c, m[i]);
        }
        emit_op(c, lo->ll + 2 * xa + xb);
        set_dst(c, pa);
        for (int i = 0; i < 3; i++)
            emit_w(c, wa[i]);
        for (int i = 0; i < 3; i++)
            emit_w(c, wb[i]);
        return true;
    }
    return false;
}

/* Is `a op k` just a (x + 0, x << 0, x * 1, x & -1, ...)? */
static bool is_identity(uint8_t byte, uint64_t k)
{
    switch (byte) {
    case 0x6A: case 0x6B: case 0x72: case 0x73: /* i32 add sub or xor */
    case 0x74: case 0x75: case 0x76: case 0x77: case 0x78: /* shifts, rotates */
        return (uint32_t)k == 0 || (byte >= 0x74 && ((uint32_t)k & 31) == 0);
    case 0x7C: case 0x7D: case 0x84: case 0x85:
    case 0x86: case 0x87: case 0x88: case 0x89: case 0x8A:
        return k == 0 || (byte >= 0x86 && (k & 63) == 0);
    case 0x6C: return (uint32_t)k == 1;           /* i32.mul */
    case 0x7E: return k == 1;                     /* i64.mul */
    case 0x71: return (uint32_t)k == UINT32_MAX;  /* i32.and */
    case 0x83: return k == UINT64_MAX;            /* i64.and */
    default: return false;
    }
}

static void emit_binary(compiler *c, const simple_op *s, uint8_t byte, bool commutative)
{
    pop_expect(c, s->in);
    pop_expect(c, s->in);
    uint32_t pa = c->vs_n, pb = pa + 1;
    if (reachable(c)) {
        bool swapped = false;
        if (commutative && c->vs[pa].kind == K_CONST && c->vs[pb].kind != K_CONST) {
            vval t = c->vs[pa];
            c->vs[pa] = c->vs[pb];
            c->vs[pb] = t;
            swapped = true;
        }
        /* (A temp swapped down from pb still lives in pb's home slot, which
         * the next value pushed overwrites: it is not "where it is".) */
        if (c->vs[pb].kind == K_CONST && is_identity(byte, c->vs[pb].imm) &&
            !(swapped && c->vs[pa].kind == K_TEMP)) {
            c->vs_n = pb; /* the result is a, where it is */
            return;
        }
        if (c->vs[pb].kind != K_CONST && emit_loadop(c, s, pa)) {
            push_temp(c, s->out);
            return;
        }
        if (emit_fused(c, s, pa, commutative)) {
            push_temp(c, s->out);
            return;
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
                                   s->br[imm], s->br_neg[imm],
                                   s->br_add[imm], s->br_add_neg[imm],
                                   a, b, b_hi, nb};
    }
    push_temp(c, s->out);
}

/* ---- branches ----------------------------------------------------------- */

/* If the last instruction is an i32.add of a constant writing `slot` (any
 * slot for NO_POS), drops it and returns true with its operands in w:
 * a branch may absorb it. */
static bool take_add(compiler *c, uint32_t slot, uint32_t w[3])
{
    uint32_t at = last_op(c);
    if (at == NO_POS || OPND(at, 4) != c->code_n || !op_at(c, at, IOP_op_i32_add_imm) ||
        (slot != NO_POS && c->code[OPND(at, 1)] != slot))
        return false;
    memcpy(w, c->code + OPND(at, 1), 3 * sizeof *w);
    drop_last(c);
    return true;
}

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
        drop_last(c);
    /* The add of a constant that computed the tested value joins in, and
     * another one before it (loop counters); not across materialisations:
     * they may read the adds' destinations. */
    uint32_t add[3], add2[3];
    bool has_add = !mat_all && (fuse ? k.br_add != 0 : v.kind != K_CONST) &&
                   take_add(c, fuse ? k.a : v.slot, add);
    bool has_add2 = has_add && take_add(c, NO_POS, add2);
    if (mat_all)
        materialize_all(c);
    if (has_add) {
        /* br_add2_X follows br_add_X in wasm_iop, by two */
        wasm_iop op = fuse ? (when_true ? k.br_add : k.br_add_neg)
                           : (when_true ? IOP_br_add_nez32 : IOP_br_add_eqz32);
        emit_op(c, has_add2 ? op + 2 : op);
        for (int i = 0; has_add2 && i < 3; i++)
            emit_w(c, add2[i]);
        for (int i = 0; i < 3; i++)
            emit_w(c, add[i]);
        if (fuse && k.nb)
            emit_w(c, k.b);
    } else if (fuse) {
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
    emit_branch_to(c, target, emit_jump(c));
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
    da_branch(c, t);
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
        da_branch(c, t);
    }
    if (reachable(c)) {
        /* an index computed by adding a constant: the add joins in */
        uint32_t at = last_op(c), addend = 0, idx_slot;
        if (idx.kind == K_TEMP && at != NO_POS && c->last_dst == OPND(at, 1) &&
            c->last_dst_height == c->vs_n && c->code[OPND(at, 1)] == idx.slot &&
            op_at(c, at, IOP_op_i32_add_imm)) {
            idx_slot = c->code[OPND(at, 2)];
            addend = c->code[OPND(at, 3)];
            drop_last(c);
        } else {
            idx_slot = idx.kind == K_CONST ? operand_slot(c, c->vs_n) : idx.slot;
        }
        /* an index just loaded by an i32.load8_u (switch on a byte) */
        at = last_op(c);
        wasm_iop ld = at != NO_POS ? c->ops[c->nstarts - 1] : IOP_unreachable;
        bool k_form = ld == IOP_i32_load8_u_k;
        if ((ld == IOP_i32_load8_u || k_form) && c->code[OPND(at, 1)] == idx_slot &&
            c->code_n == OPND(at, 4 + k_form)) {
            uint32_t w[4] = {idx_slot, c->code[OPND(at, 2)], 0, c->code[OPND(at, 3)]};
            if (k_form) {
                w[2] = w[3];
                w[3] = c->code[OPND(at, 4)];
            }
            drop_last(c);
            emit_op(c, IOP_br_table_l8);
            for (int i = 0; i < 4; i++)
                emit_w(c, w[i]);
        } else {
            emit_op(c, IOP_br_table);
            emit_w(c, idx_slot);
        }
        emit_w(c, addend);
        emit_w(c, n);
        uint32_t first = c->code_n;
        for (uint32_t i = 0; i <= n; i++) {
            emit_w(c, 0);
            emit_w(c, 0); /* the target's handler: set_table_handlers() */
        }
        uint32_t *stub = labels + n + 1;
        for (uint32_t d = 0; d < c->cs_n; d++)
            stub[d] = NO_POS;
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t site = first + 2 * i;
            ctrl *t = label(c, labels[i]);
            if (t != &c->cs[0] && !label_needs_copies(c, t)) {
                emit_branch_to(c, t, site);
                continue;
            }
            if (stub[labels[i]] == NO_POS) {
                stub[labels[i]] = c->code_n;
                mark_label(c);
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
    /* Only a loop's start is a branch target: instructions before a block
     * or if body may still fuse with those in it. */
    if (op == 0x03) {
        fusion_barrier(c);
    } else {
        c->last_dst = NO_POS;
        c->cmp.valid = false;
    }
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
        emit_branch_to(c, f, emit_jump(c));
    }
    if (f->else_site != NO_POS)
        patch_chain(c, f->else_site, c->code_n);
    f->else_site = NO_POS;
    f->op = 0x05;
    f->unreachable = false;
    f->da_out &= c->da; /* the then-part falls through to the end */
    c->da = f->da_entry;
    c->vs_n = f->height;
    for (uint32_t i = 0; i < f->nparams; i++)
        push_temp(c, f->params[i]);
    fusion_barrier(c);
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
    if (live && c->cs_n > 1) /* emit_return() reads results where they are */
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
    /* assigned at the end: on the fall-through path and every branch to
     * it (an if without else may skip its then-part) */
    if (f->op != 0x03)
        c->da &= f->da_out & (f->op == 0x04 ? f->da_entry : UINT64_MAX);
    uint32_t height = f->height, nr = f->nresults;
    wasm_valtype res[nr ? nr : 1];
    if (nr)
        memcpy(res, f->results, nr * sizeof *res);
    c->cs_n--;
    c->vs_n = height;
    for (uint32_t i = 0; i < nr; i++)
        push_temp(c, res[i]);
    fusion_barrier(c);
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
    da_write(c, x);
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
            emit_const(c, x, v.imm);
        } else if (v.slot != x) {
            emit_copy(c, x, v.slot);
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
        /* constants that fit a word stay immediates (select_ix, _xi, _ii) */
        vval *va = &c->vs[pos], *vb = &c->vs[pos + 1];
        bool ka = va->kind == K_CONST && !(va->imm >> 32);
        bool kb = vb->kind == K_CONST && !(vb->imm >> 32);
        uint32_t sa = ka ? (uint32_t)va->imm : operand_slot(c, pos);
        uint32_t sb = kb ? (uint32_t)vb->imm : operand_slot(c, pos + 1);
        uint32_t sc = operand_slot(c, pos + 2);
        emit_op(c, IOP_select + ka + 2 * kb);
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

/* An access's address operand: a slot (form 0), or the i32.add that
 * computed it, a + k (form 1, IOP_*_k) or a + b (form 2, IOP_*_x), and
 * an i32.shl by a constant that computed a (form 3, (x << s) + k, IOP_*_sk)
 * or an addend (form 4, base + (x << s), IOP_*_sx). Those instructions are
 * dropped when they come last and wrote temps that only they and this
 * access read; their operands are intact since nothing ran after them.
 * Loads also take an add that wrote a local they read (forms 5 and 6,
 * IOP_*_kt and IOP_*_xt, which still write the local). */
typedef struct address {
    uint32_t form, n, w[3]; /* the operand words */
} address;

/* If the last instruction is an i32.shl by a constant writing temp `slot`,
 * drops it and returns true with its operands in x and sh. */
static bool take_shl(compiler *c, uint32_t slot, uint32_t *x, uint32_t *sh)
{
    uint32_t at = last_op(c);
    if (slot < c->tbase || at == NO_POS || OPND(at, 4) != c->code_n ||
        !op_at(c, at, IOP_op_i32_shl_imm) || c->code[OPND(at, 1)] != slot)
        return false;
    *x = c->code[OPND(at, 2)];
    *sh = c->code[OPND(at, 3)] & 31;
    drop_last(c);
    return true;
}

static address address_operand(compiler *c, uint32_t pos, bool load)
{
    uint32_t at = last_op(c);
    vval *v = &c->vs[pos];
    /* a load from the local the last instruction, an add, just wrote */
    if (load && v->kind == K_LOCAL && at != NO_POS && c->code[OPND(at, 1)] == v->slot &&
        (op_at(c, at, IOP_op_i32_add_imm) || op_at(c, at, IOP_op_i32_add))) {
        uint32_t form = op_at(c, at, IOP_op_i32_add_imm) ? 5 : 6;
        uint32_t a = c->code[OPND(at, 2)], b = c->code[OPND(at, 3)];
        drop_last(c);
        return (address){form, 3, {a, b, v->slot}};
    }
    if (at == NO_POS || v->kind != K_TEMP || c->last_dst != OPND(at, 1) ||
        c->last_dst_height != pos || c->code[OPND(at, 1)] != v->slot)
        return (address){0, 1, {operand_slot(c, pos)}};
    /* Operand words are read only once the op is known to have them: the
     * last op may be shorter and end the code array. */
    uint32_t a, b, x, sh;
    if (op_at(c, at, IOP_f_i32_shl_i32_add_ib)) { /* dst x s base */
        a = c->code[OPND(at, 2)];
        b = c->code[OPND(at, 3)];
        uint32_t base = c->code[OPND(at, 4)];
        drop_last(c);
        return (address){4, 3, {base, a, b & 31}};
    }
    uint32_t form = op_at(c, at, IOP_op_i32_add_imm) ? 1
                  : op_at(c, at, IOP_op_i32_add)     ? 2 : 0;
    if (!form)
        return (address){0, 1, {operand_slot(c, pos)}};
    a = c->code[OPND(at, 2)];
    b = c->code[OPND(at, 3)];
    drop_last(c);
    if (form == 1 && a == home(c, pos) && take_shl(c, a, &x, &sh))
        return (address){3, 3, {x, sh, b}};
    if (form == 2 && b == home(c, pos + 1) && take_shl(c, b, &x, &sh))
        return (address){4, 3, {a, x, sh}};
    if (form == 2 && a == home(c, pos) && take_shl(c, a, &x, &sh))
        return (address){4, 3, {b, x, sh}};
    return (address){form, 2, {a, b}};
}

static void op_load(compiler *c, wasm_iop op, wasm_valtype t, uint32_t log2)
{
    uint32_t offset = memarg(c, log2);
    pop_expect(c, WASM_I32);
    uint32_t pos = c->vs_n;
    if (reachable(c)) {
        address ad = address_operand(c, pos, true);
        emit_op(c, op + ad.form);
        set_dst(c, pos);
        for (uint32_t i = 0; i < ad.n; i++)
            emit_w(c, ad.w[i]);
        emit_w(c, offset);
    }
    push_temp(c, t);
}

/* An i64_load (f64.load) emitted at `at` in form 0..2, 5 or 6 (code.h):
 * its dst and operand words. */
typedef struct ld_addr {
    uint32_t form, dst, w[4], n; /* the load's dst and operand words */
} ld_addr;

static bool read_i64_load(compiler *c, uint32_t at, wasm_iop op, ld_addr *l)
{
    static const uint8_t nw[7] = {2, 3, 3, 0, 0, 4, 4};
    if (op < IOP_i64_load || op > IOP_i64_load_xt || !nw[op - IOP_i64_load])
        return false;
    l->form = op - IOP_i64_load;
    l->n = nw[l->form];
    l->dst = c->code[OPND(at, 1)];
    memcpy(l->w, c->code + OPND(at, 2), l->n * sizeof *l->w);
    return true;
}

/* f64.store of c + a * b to the address c was loaded from, b loaded just
 * before: the last three instructions are those loads and
 * f_f64_mul_f64_add_bbr. Emits an axpy_f64 op for the three and the store
 * and returns true, or returns false. */
static bool emit_axpy(compiler *c, uint32_t pos, uint32_t offset)
{
    uint32_t n = c->nrecent, k = c->nstarts;
    vval *addr = &c->vs[pos], *val = &c->vs[pos + 1];
    if (n < 3 || addr->kind == K_CONST || val->kind != K_TEMP ||
        c->ops[k - 1] != IOP_f_f64_mul_f64_add_bbr ||
        c->last_dst != OPND(c->recent[n - 1], 1) || c->last_dst_height != pos + 1)
        return false;
    uint32_t f = c->recent[n - 1], a = c->code[OPND(f, 2)];
    uint32_t b = c->code[OPND(f, 3)], v = c->code[OPND(f, 4)];
    ld_addr lc, lb;
    if (!read_i64_load(c, c->recent[n - 3], c->ops[k - 3], &lc) ||
        !read_i64_load(c, c->recent[n - 2], c->ops[k - 2], &lb) || lc.dst != v ||
        lb.dst != b || v < c->tbase || b < c->tbase || a == b || a == v)
        return false;
    /* c from the store's address: the same slot, not written since (the
     * b load's add may write a local), and the same offset */
    uint32_t p = addr->slot;
    bool same = (lc.form == 0 && lc.w[0] == p && lc.w[1] == offset) ||
                (lc.form >= 5 && lc.w[2] == p && lc.w[3] == offset);
    if (!same || (lb.form >= 5 && lb.w[2] == p))
        return false;
    /* forms: P from the c load's 0 5 6, Q from the b load's 0-2 5 6 */
    static const uint8_t pform[7] = {0, 9, 9, 9, 9, 1, 2}, qform[7] = {0, 0, 1, 9, 9, 2, 3};
    uint32_t w[10], nw = 0;
    if (lc.form == 0) {
        w[nw++] = p;
        w[nw++] = offset;
    } else {
        memcpy(w, lc.w, 4 * sizeof *w);
        nw = 4;
    }
    if (lb.form == 0)
        w[nw++] = lb.w[0], w[nw++] = 0, w[nw++] = lb.w[1];
    else
        for (uint32_t i = 0; i < lb.n; i++)
            w[nw++] = lb.w[i];
    w[nw++] = a;
    for (int i = 0; i < 3; i++)
        drop_last(c);
    emit_op(c, IOP_axpy_f64_s_k + 4 * pform[lc.form] + qform[lb.form]);
    for (uint32_t i = 0; i < nw; i++)
        emit_w(c, w[i]);
    return true;
}

static void op_store(compiler *c, wasm_iop op, wasm_valtype t, uint32_t log2)
{
    uint32_t offset = memarg(c, log2);
    pop_expect(c, t);
    pop_expect(c, WASM_I32);
    uint32_t pos = c->vs_n;
    if (reachable(c) && !(t == WASM_F64 && emit_axpy(c, pos, offset))) {
        /* first: materialising a constant value emits code, which then
         * keeps the address's add from being fused */
        uint32_t v = operand_slot(c, pos + 1);
        address ad = address_operand(c, pos, false);
        emit_op(c, op + ad.form);
        for (uint32_t i = 0; i < ad.n; i++)
            emit_w(c, ad.w[i]);
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
        emit_binary(c, s, op, is_commutative(op));
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
        if (op == 0x03)
            mark_label(c);
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
        da_branch(c, t);
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
        da_read(c, x);
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
