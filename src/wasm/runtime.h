/*
 * runtime.h - instances and their parts: functions, tables, memories,
 * globals, and the per-thread execution context (internal).
 *
 * Invariants:
 *  - a memory's base never moves: its whole range (plus a guard) is reserved
 *    at creation and pages are committed on grow, so code may keep the base
 *    in a register across calls;
 *  - a table's element array may move on table.grow; code reloads it;
 *  - references are pointers: a funcref is a wasm_func *, NULL is null.
 */
#ifndef WATER_WASM_RUNTIME_H
#define WATER_WASM_RUNTIME_H

#include "code.h"
#include "module.h"

#include <setjmp.h>
#include <stdatomic.h>

#define WASM_PAGE_SIZE 65536u
#define WASM_MAX_PAGES 65536u

struct wasm_func {
    const wasm_type *type;
    uint32_t type_id;
    wasm_instance *inst;     /* the instance that owns this function object */
    const wasm_code *code;   /* wasm functions */
    wasm_host_fn host;       /* host functions (code == NULL) */
    void *env;
    uint32_t index;          /* function index in inst's module */
    wasm_type *owned_type;   /* host functions: their own type, freed with them */
};

typedef struct wasm_table {
    wasm_valtype elem;
    uint32_t size, max;      /* max: UINT32_MAX when unbounded */
    void **elems;
    uint64_t *budget;        /* elements the owning instance may still add
                                across all its tables (shared) */
} wasm_table;

typedef struct wasm_memory {
    uint8_t *base;
    uint64_t size;           /* bytes, = pages * WASM_PAGE_SIZE */
    uint32_t pages, max_pages;
    size_t reserved;         /* bytes of address space mapped */
} wasm_memory;

typedef struct wasm_global {
    wasm_slot val;
    wasm_valtype type;
    bool mutable_;
} wasm_global;

typedef struct wasm_elem_inst {
    uint32_t count;          /* 0 once dropped */
    void **refs;
} wasm_elem_inst;

#define WASM_POLL_INTERRUPT 1u /* wasm_instance_interrupt(), any thread */
#define WASM_POLL_FUEL 2u      /* fuel != UINT64_MAX */

struct wasm_instance {
    const wasm_module *module;
    void *userdata;

    wasm_func *own_funcs;    /* nfuncs objects: imports get a local object
                                for host functions, defined functions one each */
    wasm_func **funcs;       /* index space -> function object */
    wasm_table **tables;
    wasm_table *own_tables;
    wasm_memory *memory;     /* memory 0, own or imported, or NULL */
    wasm_memory own_memory;
    wasm_global **globals;
    wasm_global *own_globals;
    wasm_elem_inst *elems;
    bool *data_dropped;

    uint32_t max_call_depth;
    uint32_t max_memory_pages;
    uint64_t max_table_elements;
    uint64_t table_budget;   /* elements its tables may still grow by */

    /* Polled at calls and loop back-edges: zero unless an interrupt is
     * pending or fuel is metered, so the fast path is one test. */
    atomic_uint poll;        /* WASM_POLL_* bits */
    uint64_t fuel;           /* UINT64_MAX: unlimited; set it only with
                                wasm_instance_set_fuel() (keeps poll right) */
    uint64_t fuel_refill;    /* 0, or the fuel every return from a host
                                function sets (wasm_instance_set_fuel_refill) */

    bool escaped;            /* a failed instantiation wrote our functions
                                into an imported table */
    wasm_instance *next_kept;

    /* Set by host functions for the trap they return. */
    char trap_message[200];
    int exit_code;
};

/* ---- memory.c ---- */
/* Reserves address space for up to `max_pages` and commits `pages`.
 * Returns 0 or -1 (errno set). */
int wasm_memory_init(wasm_memory *mem, uint32_t pages, uint32_t max_pages);
void wasm_memory_release(wasm_memory *mem);
/* Grows by delta pages: the old page count, or -1 past max or on failure. */
int64_t wasm_memory_grow_by(wasm_memory *mem, uint32_t delta);

/* ---- table.c ---- */
/* Takes `size` elements from *budget (fails when it has fewer). */
int wasm_table_init(wasm_table *t, wasm_valtype elem, uint32_t size,
                    uint32_t max, void *init, uint64_t *budget);
void wasm_table_release(wasm_table *t);
/* Grows by n entries set to init: the old size, or -1. */
int64_t wasm_table_grow_by(wasm_table *t, uint32_t n, void *init);

/* ---- interp.c ---- */
/* Runs f with arguments in args[0..nparams); results replace them in
 * args[0..nresults). `args` must be on the current thread's value stack
 * (see wasm_exec_stack()). Returns a trap code. */
wasm_trap wasm_interp_call(wasm_instance *inst, const wasm_func *f,
                           wasm_slot *args);

/* ---- exec.c: the per-thread execution context ---- */
typedef struct wasm_frame {
    const uint32_t *ret_pc;
    wasm_slot *fp;
    const wasm_code *code;
    wasm_instance *inst;
} wasm_frame;

typedef struct wasm_exec {
    wasm_slot *stack, *stack_end;   /* value stack */
    wasm_slot *sp;                  /* first free slot for a new entry */
    wasm_frame *frames, *frames_end;
    wasm_frame *frame_top;          /* next free frame record */
    sigjmp_buf *trap_jmp;           /* innermost wasm entry, or NULL */
    wasm_memory *fault_memory;      /* memory whose guard faults are traps */
    uint32_t depth;                 /* nested C entries into the interpreter */
    /* Where the last trap happened (for messages). */
    const wasm_code *trap_code;
    wasm_instance *trap_inst;
} wasm_exec;

/* The calling thread's context, created on first use; NULL if out of
 * memory. Freed when the thread exits. */
wasm_exec *wasm_exec_get(void);
/* Installs the SIGSEGV/SIGBUS handler that turns guard-page faults in
 * wasm code into traps (once per process). */
void wasm_exec_install_fault_handler(void);

/* ---- instance.c helpers shared with interp.c ---- */
/* Applies memory.init / table.init / copies with spec bounds rules. */
wasm_trap wasm_op_memory_init(wasm_instance *inst, uint32_t seg, uint32_t d,
                              uint32_t s, uint32_t n);
wasm_trap wasm_op_table_init(wasm_instance *inst, uint32_t table,
                             uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
wasm_trap wasm_op_table_copy(wasm_instance *inst, uint32_t dt, uint32_t st,
                             uint32_t d, uint32_t s, uint32_t n);

#endif /* WATER_WASM_RUNTIME_H */
