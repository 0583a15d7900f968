/*
 * interp.c - the interpreter: one function, computed-goto dispatch over the
 * register-slot code of code.h.
 *
 * Hot state lives in locals the compiler keeps in registers: pc, fp (the
 * frame), mem (linear memory base; it never moves), the accumulator (the
 * last result, code.h) and, with bounds checks, the memory size. Wasm-to-
 * wasm calls within an instance push a frame record and jump: no C
 * recursion. Calls to host functions or to another instance's functions go
 * through call_external().
 *
 * Measured on this design (bench/, x86-64): time follows dependent chains
 * through frame slots (store-to-load forwarding) more than instruction
 * counts, so fusing dependent ops and the accumulator pay, while shaving
 * dispatch instructions alone (64-bit handler addresses: -10% executed
 * instructions) did not.
 *
 * Invariants: code is validated, so handlers only assert; every handler
 * reads all its operands before writing its destination (a destination may
 * equal an operand); a fused handler runs its parts in order, each reading
 * its operands before writing.
 */
#include "error.h"
#include "numeric.h"
#include "runtime.h"

#include <string.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Nested C entries into the interpreter (host function -> wasm, calls to
 * another instance) allowed per thread. */
#define MAX_NESTED_ENTRIES 64

static wasm_trap call_external(wasm_exec *ctx, const wasm_func *f,
                               wasm_slot *args)
{
    if (f->host) {
        uint32_t np = f->type->nparams, nr = f->type->nresults;
        wasm_slot *saved_sp = ctx->sp;
        ctx->sp = args + (np > nr ? np : nr);
        wasm_trap t = f->host(f->inst, f->env, args);
        ctx->sp = saved_sp;
        /* f->inst is the caller: imported host functions belong to the
         * instance that imports them. */
        if (f->inst->fuel_refill)
            f->inst->fuel = f->inst->fuel_refill;
        return t;
    }
    return wasm_interp_call(f->inst, f, args);
}

#ifdef WASM_PROFILE
/* Profiling builds (-DWASM_PROFILE) call this, when set, before every
 * dispatch with the instruction about to run, so a driver can count
 * executed instructions and pairs to choose fusions (not thread-safe). */
void (*wasm_profile_hook)(const uint32_t *pc);
#endif

/* Runs in "init" mode (inst == NULL) once to publish the handler words:
 * offsets from L_unreachable. */
static uint32_t handler_words[IOP_COUNT];

static wasm_trap run(wasm_instance *inst, const wasm_code *entry_code,
                     wasm_slot *entry_fp, wasm_exec *ctx);

const uint32_t *wasm_interp_handlers(void)
{
    static atomic_int ready;
    if (!atomic_load_explicit(&ready, memory_order_acquire)) {
        run(NULL, NULL, NULL, NULL);
        atomic_store_explicit(&ready, 1, memory_order_release);
    }
    return handler_words;
}

#define IOP_NAME_FIXED(name) #name,
#define IOP_NAME_UN(b, id, ...) "op_" #id,
#define IOP_NAME_TRAPBIN(b, id, ...) "op_" #id, "op_" #id "_imm",
#define IOP_NAME_BIN(b, id, ...) "op_" #id, "op_" #id "_imm", "op_" #id "_a", "op_" #id "_imm_a",
#define IOP_NAME_CMP(b, id, n, in, ...)                                       \
    IOP_NAME_BIN(b, id) "br_" #id, "br_" #id "_imm", "br_" #id "_a", "br_" #id "_imm_a", \
    IOP_NAME_BR_ADD_##in(id)
#define IOP_NAME_BR_ADD_I32(id)                                               \
    "br_add_" #id, "br_add_" #id "_imm", "br_add2_" #id, "br_add2_" #id "_imm", \
    "ret_unless_" #id "_imm",
#define IOP_NAME_BR_ADD_I64(id)
#define IOP_NAME_MEM(name, ...) #name, #name "_k", #name "_x", #name "_sk", #name "_sx",
#define IOP_NAME_LOAD(name, ...) IOP_NAME_MEM(name) #name "_kt", #name "_xt", #name "_a", #name "_ka",
#define IOP_NAME_STORE(name, ...) IOP_NAME_MEM(name) #name "_a",
#define IOP_NAME_MOV(C, K) "mov_" #C "_" #K, "movj_" #C "_" #K,
#define IOP_NAME_LL_F(load, op, f1, f2) "ll_" #op "_" #load "_" #f1 #f2,
#define IOP_NAME_LLA_F(load, op, f1, f2) "lla_" #op "_" #load "_" #f1 #f2,
#define IOP_NAME_LL(load, T, op, ...)                                         \
    WASM_LL_FORMS(IOP_NAME_LL_F, load, op) WASM_LL_FORMS(IOP_NAME_LLA_F, load, op)
#define IOP_NAME_FUSED_ACC(f, s, form, acc) "f_" #f "_" #s "_" #form #acc,
#define IOP_NAME_FUSED(f, s, form, fld)                                       \
    "f_" #f "_" #s "_" #form, WASM_FUSED_ACC_##form(IOP_NAME_FUSED_ACC, f, s, form)
static const char *const iop_names[IOP_COUNT] = {
    WASM_IOPS_FIXED(IOP_NAME_FIXED)
    WASM_MOVES(IOP_NAME_MOV)
    WASM_LOADS(IOP_NAME_LOAD)
    WASM_STORES(IOP_NAME_STORE)
    WASM_FUSED(IOP_NAME_FUSED)
    WASM_LOADOPS(IOP_NAME_LL)
#define IOP_NAME_AXPY(P, Q) "axpy_f64_" #P "_" #Q,
    WASM_AXPY(IOP_NAME_AXPY)
#define UNOP IOP_NAME_UN
#define TRAPUN IOP_NAME_UN
#define SATOP IOP_NAME_UN
#define EQZOP IOP_NAME_UN
#define BINOP IOP_NAME_BIN
#define TRAPOP IOP_NAME_TRAPBIN
#define CMPOP IOP_NAME_CMP
#include "opcodes.def"
};

const char *wasm_iop_name(wasm_iop op)
{
    return (unsigned)op < IOP_COUNT ? iop_names[op] : "?";
}

wasm_trap wasm_interp_call(wasm_instance *inst, const wasm_func *f,
                           wasm_slot *args)
{
    /* A function runs in the instance that defined it (an export may be a
     * re-exported import of another instance). */
    inst = f->inst;
    wasm_exec *ctx = wasm_exec_get();
    if (!ctx)
        return WASM_TRAP_STACK_EXHAUSTED;
    if (f->host)
        return call_external(ctx, f, args);
    if (ctx->depth >= MAX_NESTED_ENTRIES)
        return WASM_TRAP_STACK_EXHAUSTED;
    const wasm_code *const code = f->code;
    if (args + code->nslots > ctx->stack_end)
        return WASM_TRAP_STACK_EXHAUSTED;

    /* Per-entry state restored on every exit, trap or not. */
    sigjmp_buf jmp;
    sigjmp_buf *saved_jmp = ctx->trap_jmp;
    wasm_memory *saved_mem = ctx->fault_memory;
    wasm_frame *saved_top = ctx->frame_top;
    wasm_slot *saved_sp = ctx->sp;
    wasm_trap trap;

    if (ctx->depth == 0 && inst->memory)
        wasm_exec_install_fault_handler();
    ctx->depth++;
    if (sigsetjmp(jmp, 0) == 0) {
        ctx->trap_jmp = &jmp;
        ctx->fault_memory = inst->memory;
        memset(args + code->zero_from, 0, code->nzero * sizeof(wasm_slot));
        trap = run(inst, code, args, ctx);
    } else {
        /* A guard-page fault in this entry's wasm code. */
        trap = WASM_TRAP_MEMORY_OOB;
        if (!ctx->trap_code) {
            ctx->trap_inst = inst;
            ctx->trap_code = ctx->frame_top > saved_top ? ctx->frame_top[-1].code : code;
        }
    }
    ctx->depth--;
    ctx->trap_jmp = saved_jmp;
    ctx->fault_memory = saved_mem;
    ctx->frame_top = saved_top;
    ctx->sp = saved_sp;
    return trap;
}

/* Operand access: operand i (from 1) is the word after the handler. */
#define WP(i) (pc + WASM_HANDLER_WORDS - 1 + (i))
#define W(i) (*WP(i))
#define S(i) (fp[W(i)])
/* The same, with operand words read in pairs, (1, 2), (3, 4), ..., one
 * 64-bit load each: for handlers with many operands, where loads limit
 * throughput (elsewhere the shifts cost more than the loads they save).
 * Code has a word of padding after its end. */
#define W2(i)                                                                 \
    ((i) & 1 ? (uint32_t)load_u64(WP((i) | 1)) : (uint32_t)(load_u64(WP((i) - 1)) >> 32))
#define S2(i) (fp[W2(i)])
#define IMM_u32(p) ((p)[0])
#define IMM_i32(p) ((int32_t)(p)[0])
#define IMM_f32(p) bits_f32((p)[0])
#define IMM_u64(p) ((uint64_t)(p)[0] | (uint64_t)(p)[1] << 32)
#define IMM_i64(p) ((int64_t)IMM_u64(p))
#define IMM_f64(p) bits_f64(IMM_u64(p))
#define IMMW_u32 1
#define IMMW_i32 1
#define IMMW_f32 1
#define IMMW_u64 2
#define IMMW_i64 2
#define IMMW_f64 2

static inline uint64_t load_u64(const uint32_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline float bits_f32(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}
static inline uint32_t f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}
static inline uint64_t f64_bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}
static inline double bits_f64(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

/* Each binary op as a function, for the fused pairs. */
#define FN_BIN(byte, id, name, in, out, cin, cout, expr)                      \
    static inline __typeof__(((wasm_slot *)0)->cout) fn_##id(                 \
        __typeof__(((wasm_slot *)0)->cin) A, __typeof__(((wasm_slot *)0)->cin) B) \
    {                                                                         \
        return (expr);                                                        \
    }
#define BINOP FN_BIN
#include "opcodes.def"

/* A float result rounded to its type: keeps the compiler from contracting
 * a fused multiply and add into one fma (wasm rounds each). */
static inline double rounded_f64(double x)
{
#if defined(__x86_64__)
    __asm__("" : "+x"(x));
#elif defined(__aarch64__)
    __asm__("" : "+w"(x));
#else
    volatile double v = x;
    x = v;
#endif
    return x;
}
static inline uint32_t rounded_u32(uint32_t x) { return x; }
static inline uint64_t rounded_u64(uint64_t x) { return x; }

#ifdef WASM_BOUNDS_CHECKS
#define RELOAD_MEM()                                                          \
    do {                                                                      \
        mem = inst->memory ? inst->memory->base : NULL;                       \
        mem_size = inst->memory ? inst->memory->size : 0;                     \
    } while (0)
/* Effective address of an access of n bytes at the u32 address addr plus
 * the offset in word off_word, or a trap. */
#define EA_OFF(addr, off, n)                                                  \
    ({                                                                        \
        uint64_t ea_ = (uint64_t)(uint32_t)(addr) + (off);                    \
        if (unlikely(ea_ + (n) > mem_size))                                   \
            TRAP(WASM_TRAP_MEMORY_OOB);                                       \
        mem + ea_;                                                            \
    })
#else
#define RELOAD_MEM() (void)0
/* Guard pages: any address up to 8 GiB past the base faults if unmapped. */
#define EA_OFF(addr, off, n) (mem + (uint64_t)(uint32_t)(addr) + (off))
#endif
#define EA_AT(addr, off_word, n) EA_OFF(addr, W(off_word), n)
#define EA2_AT(addr, off_word, n) EA_OFF(addr, W2(off_word), n)

static wasm_trap run(wasm_instance *inst, const wasm_code *entry_code,
                     wasm_slot *entry_fp, wasm_exec *ctx)
{
    if (!inst) {
        /* Init mode: publish the handler words. */
#define OFF_FIXED(name)                                                        \
    handler_words[IOP_##name] = (uint32_t)(int32_t)((char *)&&L_##name - (char *)&&L_unreachable);
        WASM_IOPS_FIXED(OFF_FIXED)
#define OFF_MEM(name, ...)                                                     \
    OFF_FIXED(name) OFF_FIXED(name##_k) OFF_FIXED(name##_x) OFF_FIXED(name##_sk) \
    OFF_FIXED(name##_sx) OFF_FIXED(name##_a)
#define OFF_LOAD(name, ...)                                                    \
    OFF_MEM(name) OFF_FIXED(name##_kt) OFF_FIXED(name##_xt) OFF_FIXED(name##_ka)
        WASM_LOADS(OFF_LOAD)
        WASM_STORES(OFF_MEM)
#define OFF_MOV(C, K) OFF_FIXED(mov_##C##_##K) OFF_FIXED(movj_##C##_##K)
#define OFF_AXPY(P, Q) OFF_FIXED(axpy_f64_##P##_##Q)
        WASM_AXPY(OFF_AXPY)
#define OFF_LL_F(load, op, f1, f2) OFF_FIXED(ll_##op##_##load##_##f1##f2) \
    OFF_FIXED(lla_##op##_##load##_##f1##f2)
#define OFF_LL(load, T, op, ...) WASM_LL_FORMS(OFF_LL_F, load, op)
        WASM_LOADOPS(OFF_LL)
        WASM_MOVES(OFF_MOV)
#define OFF_FUSED_ACC(f, s, form, acc) OFF_FIXED(f_##f##_##s##_##form##acc)
#define OFF_FUSED(f, s, form, fld)                                             \
    OFF_FIXED(f_##f##_##s##_##form) WASM_FUSED_ACC_##form(OFF_FUSED_ACC, f, s, form)
        WASM_FUSED(OFF_FUSED)
#define OFF_UN(b, id, ...) OFF_FIXED(op_##id)
#define OFF_TRAPBIN(b, id, ...) OFF_FIXED(op_##id) OFF_FIXED(op_##id##_imm)
#define OFF_BIN(b, id, ...)                                                    \
    OFF_TRAPBIN(b, id) OFF_FIXED(op_##id##_a) OFF_FIXED(op_##id##_imm_a)
#define OFF_CMP(b, id, n, in, ...)                                             \
    OFF_BIN(b, id) OFF_FIXED(br_##id) OFF_FIXED(br_##id##_imm) OFF_FIXED(br_##id##_a) \
    OFF_FIXED(br_##id##_imm_a) OFF_BR_ADD_##in(id)
#define OFF_BR_ADD_I32(id)                                                     \
    OFF_FIXED(br_add_##id) OFF_FIXED(br_add_##id##_imm) OFF_FIXED(br_add2_##id) \
    OFF_FIXED(br_add2_##id##_imm) OFF_FIXED(ret_unless_##id##_imm)
#define OFF_BR_ADD_I64(id)
#define UNOP OFF_UN
#define TRAPUN OFF_UN
#define SATOP OFF_UN
#define EQZOP OFF_UN
#define BINOP OFF_BIN
#define TRAPOP OFF_TRAPBIN
#define CMPOP OFF_CMP
#include "opcodes.def"
        return WASM_TRAP_NONE;
    }

    const uint32_t *pc = entry_code->words;
    wasm_slot *fp = entry_fp;
    uint8_t *mem = inst->memory ? inst->memory->base : NULL;
#ifdef WASM_BOUNDS_CHECKS
    uint64_t mem_size = inst->memory ? inst->memory->size : 0;
#endif
    wasm_frame *const entry_top = ctx->frame_top;
    /* ctx->frame_top, kept in a register: every push and pop also stores
     * it to ctx (a guard-page fault and nested entries read it there), but
     * returns and calls never wait for a load of it */
    wasm_frame *ftop = entry_top;
    wasm_frame *frame_limit = entry_top + inst->max_call_depth;
    if (frame_limit > ctx->frames_end || frame_limit < entry_top)
        frame_limit = ctx->frames_end;
    wasm_slot *const stack_end = ctx->stack_end;
    wasm_trap trap;
    const wasm_code *callee;
    wasm_slot *nfp;
    const uint32_t *ret_pc;
    uint64_t acc = 0; /* the accumulator (code.h) */
    unsigned poll_bits;

/* Write a result of slot field f to slot operand i: always all 64 bits
 * (32-bit values zero-extended), so that a copy's 64-bit read of the slot
 * is forwarded from the store, not stalled behind it. */
#define SLOT_SET_u32(sl, v) ((sl).u64 = (uint32_t)(v))
#define SLOT_SET_i32(sl, v) ((sl).u64 = (uint32_t)(v))
#define SLOT_SET_f32(sl, v) ((sl).u64 = f32_bits(v))
#define SLOT_SET_u64(sl, v) ((sl).u64 = (uint64_t)(v))
#define SLOT_SET_i64(sl, v) ((sl).u64 = (uint64_t)(v))
#define SLOT_SET_f64(sl, v) ((sl).f64 = (v))
#define SET_u32(i, v) SLOT_SET_u32(S(i), v)
#define SET_i32(i, v) SLOT_SET_i32(S(i), v)
#define SET_f32(i, v) SLOT_SET_f32(S(i), v)
#define SET_u64(i, v) SLOT_SET_u64(S(i), v)
#define SET_i64(i, v) SLOT_SET_i64(S(i), v)
#define SET_f64(i, v) SLOT_SET_f64(S(i), v)
/* Set the accumulator to a result's bits; read an operand of slot field
 * f from it. */
#define ACC_u32(x) (acc = (uint32_t)(x))
#define ACC_i32(x) (acc = (uint32_t)(x))
#define ACC_u64(x) (acc = (uint64_t)(x))
#define ACC_i64(x) (acc = (uint64_t)(x))
#define ACC_f32(x) (acc = f32_bits(x))
#define ACC_f64(x) (acc = f64_bits(x))
#define FROM_ACC_u32 ((uint32_t)acc)
#define FROM_ACC_i32 ((int32_t)(uint32_t)acc)
#define FROM_ACC_u64 (acc)
#define FROM_ACC_i64 ((int64_t)acc)
#define FROM_ACC_f32 bits_f32((uint32_t)acc)
#define FROM_ACC_f64 bits_f64(acc)

/* Runs the instruction at pc, whose handler word is h (== *pc). */
#ifdef WASM_PROFILE
#define DISPATCH_TO(h)                                                        \
    do {                                                                      \
        if (wasm_profile_hook)                                                \
            wasm_profile_hook(pc);                                            \
        goto *(void *)((char *)&&L_unreachable + (int32_t)(h));               \
    } while (0)
#else
#define DISPATCH_TO(h) goto *(void *)((char *)&&L_unreachable + (int32_t)(h))
#endif
#define DISPATCH() DISPATCH_TO(*pc)
/* n: 1 + the instruction's operand words */
#define NEXT(n)                                                               \
    do {                                                                      \
        pc += WASM_HANDLER_WORDS - 1 + (n);                                   \
        DISPATCH();                                                           \
    } while (0)
#define TRAP(t)                                                               \
    do {                                                                      \
        trap = (t);                                                           \
        goto trapped;                                                         \
    } while (0)
#define POLL()                                                                \
    do {                                                                      \
        unsigned poll_ = atomic_load_explicit(&inst->poll, memory_order_relaxed); \
        if (unlikely(poll_)) {                                                \
            if (poll_ & WASM_POLL_INTERRUPT)                                  \
                TRAP(WASM_TRAP_INTERRUPTED);                                  \
            if (inst->fuel == 0)                                              \
                TRAP(WASM_TRAP_FUEL);                                         \
            inst->fuel--;                                                     \
        }                                                                     \
    } while (0)
/* Backward jumps (off < 0) poll: one load and test, no branch on the
 * jump's direction, so a loop's back edge costs no extra taken jump; the
 * rare poll runs out of line at `polled` and then dispatches pc. */
#define POLL_BACK(off)                                                        \
    do {                                                                      \
        poll_bits = atomic_load_explicit(&inst->poll, memory_order_relaxed);  \
        if (unlikely((0u - ((uint32_t)(off) >> 31)) & poll_bits))            \
            goto polled;                                                      \
    } while (0)
/* Jumps by the offset stored at word pointer w. */
#define JUMP(w)                                                               \
    do {                                                                      \
        const uint32_t *w_ = (w);                                             \
        int32_t off_ = (int32_t)*w_;                                          \
        pc = w_ + off_;                                                       \
        POLL_BACK(off_);                                                      \
        DISPATCH();                                                           \
    } while (0)

    /* Each return handler has its own copy of the return: its own jump to
     * predict, and no jump to a shared tail. */
#define RETURN()                                                              \
    do {                                                                      \
        if (ftop == entry_top)                                                \
            return WASM_TRAP_NONE;                                            \
        wasm_frame *fr_ = --ftop;                                             \
        ctx->frame_top = ftop;                                                \
        pc = fr_->ret_pc;                                                     \
        fp = fr_->fp;                                                         \
        RELOAD_MEM();                                                         \
        DISPATCH();                                                           \
    } while (0)
    DISPATCH();

L_unreachable:
    TRAP(WASM_TRAP_UNREACHABLE);
L_br:
    JUMP(WP(1));
L_br_nez32:
    if (S(1).u32)
        JUMP(WP(2));
    NEXT(3);
L_br_eqz32:
    if (!S(1).u32)
        JUMP(WP(2));
    NEXT(3);
L_br_nez64:
    if (S(1).u64)
        JUMP(WP(2));
    NEXT(3);
L_br_eqz64:
    if (!S(1).u64)
        JUMP(WP(2));
    NEXT(3);
L_ret_unless_nez32:
    if (S(1).u32)
        NEXT(4);
    RETURN();
L_ret_unless_eqz32:
    if (!S(1).u32)
        NEXT(4);
    RETURN();
L_br_nez32_a:
    if ((uint32_t)acc)
        JUMP(WP(2));
    NEXT(3);
L_br_eqz32_a:
    if (!(uint32_t)acc)
        JUMP(WP(2));
    NEXT(3);
L_br_add_nez32: {
    uint32_t x_ = S(2).u32 + W(3);
    SET_u32(1, x_);
    ACC_u32(x_);
    if (likely(x_))
        JUMP(WP(4));
    NEXT(5);
}
L_br_add_eqz32: {
    uint32_t x_ = S(2).u32 + W(3);
    SET_u32(1, x_);
    ACC_u32(x_);
    if (likely(!x_))
        JUMP(WP(4));
    NEXT(5);
}
L_br_add2_nez32: {
    SET_u32(1, S(2).u32 + W(3));
    uint32_t x_ = S(5).u32 + W(6);
    SET_u32(4, x_);
    ACC_u32(x_);
    if (likely(x_))
        JUMP(WP(7));
    NEXT(8);
}
L_br_add2_eqz32: {
    SET_u32(1, S(2).u32 + W(3));
    uint32_t x_ = S(5).u32 + W(6);
    SET_u32(4, x_);
    ACC_u32(x_);
    if (likely(!x_))
        JUMP(WP(7));
    NEXT(8);
}
    /* the target's handler comes from the table, not from the target:
     * the jump waits for one load after the index, not two */
/* (n at operand 3 + skip, the entries after it) */
#define BR_TABLE(index, skip)                                                 \
    do {                                                                      \
        uint32_t i_ = (index), n_ = W(2 + (skip));                            \
        const uint32_t *e_ = WP(3 + (skip) + 2 * (i_ < n_ ? i_ : n_));        \
        int32_t off_ = (int32_t)e_[0];                                        \
        pc = e_ + off_;                                                       \
        POLL_BACK(off_);                                                      \
        DISPATCH_TO(e_[1]);                                                   \
    } while (0)
L_br_table:
    BR_TABLE(S(1).u32 + W(2), 1);
L_br_table_a:
    BR_TABLE((uint32_t)acc + W(2), 1);
L_br_table_l8: {
    uint32_t b_ = *EA_AT(S(2).u32 + W(3), 4, 1);
    SET_u32(1, b_);
    BR_TABLE(b_ + W(5), 4);
}
L_br_table_l8_a: {
    uint32_t b_ = *EA_AT((uint32_t)acc + W(3), 4, 1);
    SET_u32(1, b_);
    BR_TABLE(b_ + W(5), 4);
}
L_returnn: {
    uint32_t n = W(1);
    for (uint32_t i = 0; i < n; i++)
        fp[i] = fp[W(2 + i)];
    RETURN();
}
L_return1:
    fp[0] = S(1);
    RETURN();
L_return0:
    RETURN();

polled: /* a back edge saw poll_bits != 0 (as POLL) */
    if (poll_bits & WASM_POLL_INTERRUPT)
        TRAP(WASM_TRAP_INTERRUPTED);
    if (inst->fuel == 0)
        TRAP(WASM_TRAP_FUEL);
    inst->fuel--;
    DISPATCH();

L_call:
    callee = (const wasm_code *)(uintptr_t)IMM_u64(WP(1));
    nfp = fp + W(3);
    ret_pc = pc + WASM_HANDLER_WORDS + 3;
do_call:
    if (unlikely(nfp + callee->nslots > stack_end || ftop >= frame_limit))
        TRAP(WASM_TRAP_STACK_EXHAUSTED);
    POLL();
    {
        wasm_frame *fr = ftop++;
        ctx->frame_top = ftop;
        fr->ret_pc = ret_pc;
        fr->fp = fp;
        fr->code = callee;
    }
    for (wasm_slot *z = nfp + callee->zero_from, *e = z + callee->nzero; z < e; z++) {
        z->u64 = 0;
        __asm__("" : "+r"(z)); /* a few slots: no memset call */
    }
    fp = nfp;
    pc = callee->words;
    DISPATCH();

L_call_import: {
    const wasm_func *f = inst->funcs[W(1)];
    wasm_trap t = call_external(ctx, f, fp + W(2));
    if (unlikely(t))
        TRAP(t);
    RELOAD_MEM();
    NEXT(3);
}
L_call_indirect: {
    const wasm_table *tab = inst->tables[W(1)];
    uint32_t i = S(3).u32;
    if (unlikely(i >= tab->size))
        TRAP(WASM_TRAP_UNDEFINED_ELEMENT);
    const wasm_func *f = tab->elems[i];
    if (unlikely(!f))
        TRAP(WASM_TRAP_UNINITIALIZED_ELEMENT);
    if (unlikely(f->type_id != W(2)))
        TRAP(WASM_TRAP_INDIRECT_TYPE);
    if (likely(f->inst == inst && f->code)) {
        callee = f->code;
        nfp = fp + W(4);
        ret_pc = pc + WASM_HANDLER_WORDS + 4;
        goto do_call;
    }
    wasm_trap t = call_external(ctx, f, fp + W(4));
    if (unlikely(t))
        TRAP(t);
    RELOAD_MEM();
    NEXT(5);
}

L_copy:
    acc = S(2).u64;
    S(1).u64 = acc;
    NEXT(3);
L_const32:
    S(1).u64 = W(2);
    NEXT(3);
L_const64:
    S(1).u64 = IMM_u64(WP(2));
    NEXT(4);
    /* Runs of moves (code.h). Each its own handler, so each has its own
     * dispatch jump to predict; the fall-through form without a jump's
     * load of an offset, which would lengthen the chain through pc. */
#define MOV_H(C, K)                                                           \
    L_mov_##C##_##K:                                                          \
        MOV_COPIES_##C;                                                       \
        MOV_K##K(WP(1 + 2 * (C)));                                            \
        NEXT(1 + 2 * (C) + 2 * (K));                                          \
    L_movj_##C##_##K:                                                         \
        MOV_COPIES_##C;                                                       \
        MOV_K##K(WP(1 + 2 * (C)));                                            \
        JUMP(WP(1 + 2 * (C) + 2 * (K)));
#define MOV_COPIES_0 (void)0
#define MOV_COPIES_1 (acc = S2(2).u64, S2(1).u64 = acc)
#define MOV_COPIES_2 (S2(1).u64 = S2(2).u64, acc = S2(4).u64, S2(3).u64 = acc)
#define MOV_COPIES_3                                                          \
    (S2(1).u64 = S2(2).u64, S2(3).u64 = S2(4).u64, acc = S2(6).u64, S2(5).u64 = acc)
#define MOV_COPIES_4                                                          \
    (S2(1).u64 = S2(2).u64, S2(3).u64 = S2(4).u64, S2(5).u64 = S2(6).u64,     \
     acc = S2(8).u64, S2(7).u64 = acc)
#define MOV_COPIES_5                                                          \
    (S2(1).u64 = S2(2).u64, S2(3).u64 = S2(4).u64, S2(5).u64 = S2(6).u64,     \
     S2(7).u64 = S2(8).u64, acc = S2(10).u64, S2(9).u64 = acc)
#define MOV_COPIES_6                                                          \
    (S2(1).u64 = S2(2).u64, S2(3).u64 = S2(4).u64, S2(5).u64 = S2(6).u64,     \
     S2(7).u64 = S2(8).u64, S2(9).u64 = S2(10).u64, acc = S2(12).u64, S2(11).u64 = acc)
    _Static_assert(WASM_MAX_COPIES == 6, "MOV_COPIES up to 6");
#define MOV_CONST(e, i)                                                       \
    {                                                                         \
        uint64_t m_ = load_u64((e) + 2 * (i));                                \
        fp[(uint32_t)m_].u64 = m_ >> 32;                                      \
    }
#define MOV_K0(e)
#define MOV_K1(e) MOV_K0(e) MOV_CONST(e, 0)
#define MOV_K2(e) MOV_K1(e) MOV_CONST(e, 1)
#define MOV_K3(e) MOV_K2(e) MOV_CONST(e, 2)
#define MOV_K4(e) MOV_K3(e) MOV_CONST(e, 3)
#define MOV_K5(e) MOV_K4(e) MOV_CONST(e, 4)
#define MOV_K6(e) MOV_K5(e) MOV_CONST(e, 5)
#define MOV_K7(e) MOV_K6(e) MOV_CONST(e, 6)
#define MOV_K8(e) MOV_K7(e) MOV_CONST(e, 7)
#define MOV_K9(e) MOV_K8(e) MOV_CONST(e, 8)
#define MOV_K10(e) MOV_K9(e) MOV_CONST(e, 9)
#define MOV_K11(e) MOV_K10(e) MOV_CONST(e, 10)
#define MOV_K12(e) MOV_K11(e) MOV_CONST(e, 11)
    _Static_assert(WASM_MAX_CONSTS == 12, "MOV_K up to 12");
    WASM_MOVES(MOV_H)
L_add_imm_copy: {
    uint32_t x_ = S(2).u32 + W(3);
    SET_u32(1, x_);
    SET_u32(4, x_);
    ACC_u32(x_);
    NEXT(5);
}
L_global_get:
    S(1) = inst->globals[W(2)]->val;
    NEXT(3);
L_global_set:
    inst->globals[W(1)]->val = S(2);
    NEXT(3);
#define SEL_x(i) S(i).u64
#define SEL_i(i) (uint64_t)W(i)
#define SELECT_H(f, a, b)                                                     \
    L_select##f:                                                              \
        acc = S(4).u32 ? SEL_##a(2) : SEL_##b(3);                             \
        S(1).u64 = acc;                                                       \
        NEXT(5);                                                              \
    L_selectj##f:                                                             \
        acc = S(4).u32 ? SEL_##a(2) : SEL_##b(3);                             \
        S(1).u64 = acc;                                                       \
        JUMP(WP(5));
    SELECT_H(, x, x)
    SELECT_H(_ix, i, x)
    SELECT_H(_xi, x, i)
    SELECT_H(_ii, i, i)

    /* Loads and stores in their five address forms (code.h): the u32
     * address from operands i.. (n words). */
#define ADDR_(i) S(i).u32
#define ADDR__k(i) (S(i).u32 + W((i) + 1))
#define ADDR__x(i) (S(i).u32 + S((i) + 1).u32)
#define ADDR__sk(i) ((S(i).u32 << W((i) + 1)) + W((i) + 2))
#define ADDR__sx(i) (S(i).u32 + (S((i) + 1).u32 << W((i) + 2)))
#define ADDR__kt(i) ({ uint32_t t_ = S(i).u32 + W((i) + 1); SET_u32((i) + 2, t_); t_; })
#define ADDR__xt(i) ({ uint32_t t_ = S(i).u32 + S((i) + 1).u32; SET_u32((i) + 2, t_); t_; })
#define ADDR__a(i) ((uint32_t)acc)
#define ADDR__ka(i) ((uint32_t)acc + W((i) + 1))
#define LOAD_F(name, f, n, T, field, conv)                                    \
    L_##name##f: {                                                            \
        T v_;                                                                 \
        memcpy(&v_, EA_AT(ADDR_##f(2), 2 + (n), sizeof(T)), sizeof(T));       \
        SET_##field(1, (conv)v_);                                             \
        acc = (uint64_t)(conv)v_;                                             \
        NEXT(3 + (n));                                                      \
    }
/* the value from operand v, or with vf = a from the accumulator */
#define STORE_F(name, f, n, vf, T, field, conv)                               \
    L_##name##f##vf: {                                                        \
        T v_ = (conv)STORE_VALUE##vf(1 + (n), field);                         \
        memcpy(EA_AT(ADDR_##f(1), 2 + (n), sizeof(T)), &v_, sizeof(T));       \
        NEXT(3 + (n));                                                      \
    }
#define STORE_VALUE(i, field) S(i).field
#define STORE_VALUE_a(i, field) FROM_ACC_##field
#define LOAD_H(name, ...)                                                     \
    LOAD_F(name, , 1, __VA_ARGS__) LOAD_F(name, _k, 2, __VA_ARGS__)           \
    LOAD_F(name, _x, 2, __VA_ARGS__) LOAD_F(name, _sk, 3, __VA_ARGS__)        \
    LOAD_F(name, _sx, 3, __VA_ARGS__) LOAD_F(name, _kt, 3, __VA_ARGS__)        \
    LOAD_F(name, _xt, 3, __VA_ARGS__) LOAD_F(name, _a, 1, __VA_ARGS__)        \
    LOAD_F(name, _ka, 2, __VA_ARGS__)
#define STORE_H(name, ...)                                                    \
    STORE_F(name, , 1, , __VA_ARGS__) STORE_F(name, _k, 2, , __VA_ARGS__)     \
    STORE_F(name, _x, 2, , __VA_ARGS__) STORE_F(name, _sk, 3, , __VA_ARGS__)  \
    STORE_F(name, _sx, 3, , __VA_ARGS__) STORE_F(name, , 1, _a, __VA_ARGS__)
    WASM_LOADS(LOAD_H)
    WASM_STORES(STORE_H)
#undef LOAD_H
#undef STORE_H

L_memory_size:
    SET_u32(1, inst->memory->pages);
    NEXT(2);
L_memory_grow:
    SET_u32(1, (uint32_t)wasm_memory_grow_by(inst->memory, S(2).u32));
    RELOAD_MEM();
    NEXT(3);
L_memory_init: {
    wasm_trap t = wasm_op_memory_init(inst, W(1), S(2).u32, S(3).u32, S(4).u32);
    if (unlikely(t))
        TRAP(t);
    NEXT(5);
}
L_data_drop:
    inst->data_dropped[W(1)] = true;
    NEXT(2);
L_memory_copy: {
    uint64_t d = S(1).u32, s = S(2).u32, n = S(3).u32;
    wasm_memory *m = inst->memory;
    if (unlikely(d + n > m->size || s + n > m->size))
        TRAP(WASM_TRAP_MEMORY_OOB);
    memmove(m->base + d, m->base + s, n);
    NEXT(4);
}
L_memory_fill: {
    uint64_t d = S(1).u32, n = S(3).u32;
    wasm_memory *m = inst->memory;
    if (unlikely(d + n > m->size))
        TRAP(WASM_TRAP_MEMORY_OOB);
    memset(m->base + d, (int)(uint8_t)S(2).u32, n);
    NEXT(4);
}

L_table_get: {
    const wasm_table *tab = inst->tables[W(2)];
    uint32_t i = S(3).u32;
    if (unlikely(i >= tab->size))
        TRAP(WASM_TRAP_TABLE_OOB);
    S(1).ref = tab->elems[i];
    NEXT(4);
}
L_table_set: {
    wasm_table *tab = inst->tables[W(1)];
    uint32_t i = S(2).u32;
    if (unlikely(i >= tab->size))
        TRAP(WASM_TRAP_TABLE_OOB);
    tab->elems[i] = S(3).ref;
    NEXT(4);
}
L_table_size:
    SET_u32(1, inst->tables[W(2)]->size);
    NEXT(3);
L_table_grow:
    SET_u32(1, (uint32_t)wasm_table_grow_by(inst->tables[W(2)], S(4).u32, S(3).ref));
    NEXT(5);
L_table_fill: {
    wasm_table *tab = inst->tables[W(1)];
    uint64_t i = S(2).u32, n = S(4).u32;
    void *v = S(3).ref;
    if (unlikely(i + n > tab->size))
        TRAP(WASM_TRAP_TABLE_OOB);
    for (uint64_t k = 0; k < n; k++)
        tab->elems[i + k] = v;
    NEXT(5);
}
L_table_copy: {
    wasm_trap t = wasm_op_table_copy(inst, W(1), W(2), S(3).u32, S(4).u32, S(5).u32);
    if (unlikely(t))
        TRAP(t);
    NEXT(6);
}
L_table_init: {
    wasm_trap t = wasm_op_table_init(inst, W(1), W(2), S(3).u32, S(4).u32, S(5).u32);
    if (unlikely(t))
        TRAP(t);
    NEXT(6);
}
L_elem_drop:
    inst->elems[W(1)].count = 0;
    NEXT(2);
L_ref_is_null:
    SET_u32(1, S(2).ref == NULL);
    NEXT(3);
L_ref_func:
    S(1).ref = inst->funcs[W(2)];
    NEXT(3);

    /* ---- generated numeric handlers ---- */
#define UN_H(id, cin, cout, expr)                                             \
    L_op_##id: {                                                              \
        __typeof__(fp[0].cin) A = S(2).cin;                                   \
        __typeof__(fp[0].cout) r_ = (expr);                                   \
        SET_##cout(1, r_);                                                    \
        ACC_##cout(r_);                                                       \
        NEXT(3);                                                            \
    }
/* One binary handler: operands a and b given, result to dst and acc. */
#define BIN_F(label, cin, cout, expr, a, b, len)                              \
    label: {                                                                  \
        __typeof__(fp[0].cin) A = (a), B = (b);                               \
        __typeof__(fp[0].cout) r_ = (expr);                                   \
        SET_##cout(1, r_);                                                    \
        ACC_##cout(r_);                                                       \
        NEXT(len);                                                          \
    }
#define BIN_H(id, cin, cout, expr)                                            \
    BIN_F(L_op_##id, cin, cout, expr, S(2).cin, S(3).cin, 4)                  \
    BIN_F(L_op_##id##_imm, cin, cout, expr, S(2).cin, IMM_##cin(WP(3)), 3 + IMMW_##cin) \
    BIN_F(L_op_##id##_a, cin, cout, expr, FROM_ACC_##cin, S(3).cin, 4)        \
    BIN_F(L_op_##id##_imm_a, cin, cout, expr, FROM_ACC_##cin, IMM_##cin(WP(3)), \
          3 + IMMW_##cin)
#define TRAPBIN_H(id, cin, cout, fn)                                          \
    L_op_##id: {                                                              \
        __typeof__(fp[0].cin) A = S(2).cin, B = S(3).cin;                     \
        __typeof__(fp[0].cout) R;                                             \
        wasm_trap t_ = fn(A, B, &R);                                          \
        if (unlikely(t_))                                                     \
            TRAP(t_);                                                         \
        SET_##cout(1, R);                                                     \
        NEXT(4);                                                              \
    }                                                                         \
    L_op_##id##_imm: {                                                        \
        __typeof__(fp[0].cin) A = S(2).cin, B = IMM_##cin(WP(3));            \
        __typeof__(fp[0].cout) R;                                             \
        wasm_trap t_ = fn(A, B, &R);                                          \
        if (unlikely(t_))                                                     \
            TRAP(t_);                                                         \
        SET_##cout(1, R);                                                     \
        NEXT(3 + IMMW_##cin);                                                 \
    }
#define TRAPUN_H(id, cin, cout, fn)                                           \
    L_op_##id: {                                                              \
        __typeof__(fp[0].cin) A = S(2).cin;                                   \
        __typeof__(fp[0].cout) R;                                             \
        wasm_trap t_ = fn(A, &R);                                             \
        if (unlikely(t_))                                                     \
            TRAP(t_);                                                         \
        SET_##cout(1, R);                                                     \
        NEXT(3);                                                              \
    }
#define CMP_H(id, cin, expr)                                                  \
    BIN_H(id, cin, u32, expr)                                                 \
    L_br_##id: {                                                              \
        __typeof__(fp[0].cin) A = S(1).cin, B = S(2).cin;                     \
        if (expr)                                                             \
            JUMP(WP(3));                                                     \
        NEXT(4);                                                              \
    }                                                                         \
    L_br_##id##_imm: {                                                        \
        __typeof__(fp[0].cin) A = S(1).cin, B = IMM_##cin(WP(2));            \
        if (expr)                                                             \
            JUMP(WP(2 + IMMW_##cin));                                        \
        NEXT(3 + IMMW_##cin);                                                 \
    }                                                                         \
    L_br_##id##_a: {                                                          \
        __typeof__(fp[0].cin) A = FROM_ACC_##cin, B = S(2).cin;               \
        if (expr)                                                             \
            JUMP(WP(3));                                                     \
        NEXT(4);                                                              \
    }                                                                         \
    L_br_##id##_imm_a: {                                                      \
        __typeof__(fp[0].cin) A = FROM_ACC_##cin, B = IMM_##cin(WP(2));       \
        if (expr)                                                             \
            JUMP(WP(2 + IMMW_##cin));                                        \
        NEXT(3 + IMMW_##cin);                                                 \
    }
/* dst = src + k, then compare dst with b (read after dst is written: b may
 * be dst). These end loops (a counter's step and test before the back
 * edge), so the jump is laid out as the likely path. */
#define BR_ADD_H_I32(id, cin, expr)                                           \
    L_br_add_##id: {                                                          \
        uint32_t x_ = S(2).u32 + W(3);                                        \
        SET_u32(1, x_);                                                       \
        ACC_u32(x_);                                                          \
        __typeof__(fp[0].cin) A = (__typeof__(fp[0].cin))x_, B = S(4).cin;    \
        if (likely(expr))                                                     \
            JUMP(WP(5));                                                     \
        NEXT(6);                                                              \
    }                                                                         \
    L_br_add_##id##_imm: {                                                    \
        uint32_t x_ = S(2).u32 + W(3);                                        \
        SET_u32(1, x_);                                                       \
        ACC_u32(x_);                                                          \
        __typeof__(fp[0].cin) A = (__typeof__(fp[0].cin))x_, B = IMM_##cin(WP(4)); \
        if (likely(expr))                                                     \
            JUMP(WP(5));                                                     \
        NEXT(6);                                                              \
    }                                                                         \
    L_ret_unless_##id##_imm: {                                                \
        __typeof__(fp[0].cin) A = S(1).cin, B = IMM_##cin(WP(2));             \
        if (expr)                                                             \
            NEXT(5);                                                          \
        RETURN();                                                             \
    }                                                                         \
    BR_ADD2_H(id, cin, expr)
#define BR_ADD2_H(id, cin, expr)                                              \
    L_br_add2_##id: {                                                         \
        SET_u32(1, S(2).u32 + W(3));                                          \
        uint32_t x_ = S(5).u32 + W(6);                                        \
        SET_u32(4, x_);                                                       \
        ACC_u32(x_);                                                          \
        __typeof__(fp[0].cin) A = (__typeof__(fp[0].cin))x_, B = S(7).cin;    \
        if (likely(expr))                                                     \
            JUMP(WP(8));                                                      \
        NEXT(9);                                                              \
    }                                                                         \
    L_br_add2_##id##_imm: {                                                   \
        SET_u32(1, S(2).u32 + W(3));                                          \
        uint32_t x_ = S(5).u32 + W(6);                                        \
        SET_u32(4, x_);                                                       \
        ACC_u32(x_);                                                          \
        __typeof__(fp[0].cin) A = (__typeof__(fp[0].cin))x_, B = IMM_##cin(WP(7)); \
        if (likely(expr))                                                     \
            JUMP(WP(8));                                                      \
        NEXT(9);                                                              \
    }
#define BR_ADD_H_I64(id, cin, expr)
#define UNOP(byte, id, name, in, out, cin, cout, expr) UN_H(id, cin, cout, expr)
#define SATOP(sub, id, name, in, out, cin, cout, expr) UN_H(id, cin, cout, expr)
#define EQZOP(byte, id, name, in, cin) UN_H(id, cin, u32, A == 0)
#define BINOP(byte, id, name, in, out, cin, cout, expr) BIN_H(id, cin, cout, expr)
#define TRAPOP(byte, id, name, in, out, cin, cout, fn) TRAPBIN_H(id, cin, cout, fn)
#define TRAPUN(byte, id, name, in, out, cin, cout, fn) TRAPUN_H(id, cin, cout, fn)
#define CMPOP(byte, id, name, in, cin, expr, neg)                             \
    CMP_H(id, cin, expr) BR_ADD_H_##in(id, cin, expr)
#include "opcodes.def"

    /* ---- fused pairs (code.h): t = first(a, b); dst = second(t, c) ---- */
#define FUSED_F(f, s, form, fld, A)                                           \
    L_f_##f##_##s##_##form##A: {                                              \
        FUSED_OPERANDS_##form(fld);                                           \
        FUSED_A##A(fld);                                                      \
        __typeof__(fp[0].fld) t_ = rounded_##fld(fn_##f(a_, b_));             \
        __typeof__(fp[0].fld) r_ = FUSED_APPLY_##form(fn_##s, t_, c_);        \
        SET_##fld(1, r_);                                                     \
        ACC_##fld(r_);                                                        \
        NEXT(FUSED_LEN_##form(IMMW_##fld));                                 \
    }
#define FUSED_A(fld) (void)0
#define FUSED_A_a(fld) (a_ = FROM_ACC_##fld)
#define FUSED_A_b(fld) (b_ = FROM_ACC_##fld)
#define FUSED_A_c(fld) (c_ = FROM_ACC_##fld)
#define FUSED_ACC_F(f, s, form, fld, acc) FUSED_F(f, s, form, fld, acc)
#define FUSED_H(f, s, form, fld)                                              \
    FUSED_F(f, s, form, fld, ) WASM_FUSED_ACC_##form(FUSED_ACC_F, f, s, form, fld)
#define FUSED_APPLY_bb(fn, t, c) fn(t, c)
#define FUSED_APPLY_ib(fn, t, c) fn(t, c)
#define FUSED_APPLY_bi(fn, t, c) fn(t, c)
#define FUSED_APPLY_ii(fn, t, c) fn(t, c)
#define FUSED_APPLY_bbr(fn, t, c) fn(c, t)
#define FUSED_OPERANDS_bbr FUSED_OPERANDS_bb
#define FUSED_LEN_bbr FUSED_LEN_bb
#define FUSED_OPERANDS_bb(fld)                                                \
    __typeof__(fp[0].fld) a_ = S(2).fld, b_ = S(3).fld, c_ = S(4).fld
#define FUSED_OPERANDS_ib(fld)                                                \
    __typeof__(fp[0].fld) a_ = S(2).fld, b_ = IMM_##fld(WP(3)), c_ = S(3 + IMMW_##fld).fld
#define FUSED_OPERANDS_bi(fld)                                                \
    __typeof__(fp[0].fld) a_ = S(2).fld, b_ = S(3).fld, c_ = IMM_##fld(WP(4))
#define FUSED_OPERANDS_ii(fld)                                                \
    __typeof__(fp[0].fld) a_ = S(2).fld, b_ = IMM_##fld(WP(3)),               \
                          c_ = IMM_##fld(WP(3 + IMMW_##fld))
#define FUSED_LEN_bb(k) 5
#define FUSED_LEN_ib(k) (4 + (k))
#define FUSED_LEN_bi(k) (4 + (k))
#define FUSED_LEN_ii(k) (3 + 2 * (k))
    WASM_FUSED(FUSED_H)

    /* ---- f64 read-modify-write (code.h) ---- */
#define AXPY_N_s 2
#define AXPY_N_k 3
#define AXPY_N_x 3
#define AXPY_N_kt 4
#define AXPY_N_xt 4
/* the effective address of the form's words from operand i */
#define AXPY_EA_s(i) EA2_AT(S2(i).u32, (i) + 1, 8)
#define AXPY_EA_k(i) EA2_AT(S2(i).u32 + W2((i) + 1), (i) + 2, 8)
#define AXPY_EA_x(i) EA2_AT(S2(i).u32 + S2((i) + 1).u32, (i) + 2, 8)
#define AXPY_EA_kt(i) AXPY_EA_T(i, W2((i) + 1))
#define AXPY_EA_xt(i) AXPY_EA_T(i, S2((i) + 1).u32)
#define AXPY_EA_T(i, b)                                                       \
    ({                                                                        \
        uint32_t t_ = S2(i).u32 + (b);                                        \
        SLOT_SET_u32(S2((i) + 2), t_);                                        \
        EA2_AT(t_, (i) + 3, 8);                                               \
    })
#define AXPY_H(P, Q)                                                          \
    L_axpy_f64_##P##_##Q: {                                                   \
        uint8_t *p_ = AXPY_EA_##P(1);                                         \
        uint64_t c_, b_;                                                      \
        memcpy(&c_, p_, 8);                                                   \
        memcpy(&b_, AXPY_EA_##Q(1 + AXPY_N_##P), 8);                          \
        double r_ = bits_f64(c_) +                                            \
                    rounded_f64(S2(1 + AXPY_N_##P + AXPY_N_##Q).f64 * bits_f64(b_)); \
        memcpy(p_, &r_, 8);                                                   \
        NEXT(2 + AXPY_N_##P + AXPY_N_##Q);                                    \
    }
    WASM_AXPY(AXPY_H)

    /* ---- binary ops of two loads (code.h) ---- */
#define LL_ADDR_k(i) (S2(i).u32 + W2((i) + 1))
#define LL_ADDR_x(i) (S2(i).u32 + S2((i) + 1).u32)
#define LL_H(load, T, op, add, fld, conv, f1, f2)                             \
    L_ll_##op##_##load##_##f1##f2: {                                          \
        T x_, y_;                                                             \
        memcpy(&x_, EA2_AT(LL_ADDR_##f1(2), 4, sizeof(T)), sizeof(T));        \
        memcpy(&y_, EA2_AT(LL_ADDR_##f2(5), 7, sizeof(T)), sizeof(T));        \
        __typeof__(fp[0].fld) r_ = fn_##op(conv(x_), conv(y_));               \
        SLOT_SET_##fld(S2(1), r_);                                            \
        ACC_##fld(r_);                                                        \
        NEXT(8);                                                              \
    }                                                                         \
    L_lla_##op##_##load##_##f1##f2: {                                         \
        T x_, y_;                                                             \
        memcpy(&x_, EA2_AT(LL_ADDR_##f1(2), 4, sizeof(T)), sizeof(T));        \
        memcpy(&y_, EA2_AT(LL_ADDR_##f2(5), 7, sizeof(T)), sizeof(T));        \
        __typeof__(fp[0].fld) t_ = rounded_##fld(fn_##op(conv(x_), conv(y_))); \
        __typeof__(fp[0].fld) r_ = fn_##add(S2(8).fld, t_);                   \
        SLOT_SET_##fld(S2(1), r_);                                            \
        ACC_##fld(r_);                                                        \
        NEXT(9);                                                              \
    }
#define LL_ROW(load, T, op, add, fld, conv) WASM_LL_FORMS(LL_H, load, T, op, add, fld, conv)
    WASM_LOADOPS(LL_ROW)

trapped:
    /* The function running now is the callee of the newest frame record. */
    if (!ctx->trap_code) { /* innermost trap wins */
        ctx->trap_code = ftop > entry_top ? ftop[-1].code : entry_code;
        ctx->trap_inst = inst;
    }
    ctx->frame_top = entry_top;
    return trap;
}
