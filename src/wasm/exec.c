/*
 * exec.c - the per-thread execution context (value stack, frame records)
 * and the fault handler that turns guard-page hits into traps.
 *
 * Stacks are reserved with mmap and committed by the kernel on first touch,
 * so an idle thread costs address space, not memory.
 */
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define STACK_SLOTS (1u << 20) /* 8 MiB of value stack per thread */
#define MAX_FRAMES (1u << 17)  /* frame records per thread */

static pthread_key_t exec_key;
static pthread_once_t exec_once = PTHREAD_ONCE_INIT;
static __thread wasm_exec *tls_exec;

static void exec_free(void *p)
{
    wasm_exec *ctx = p;
    if (!ctx)
        return;
    munmap(ctx->stack, (size_t)STACK_SLOTS * sizeof(wasm_slot));
    munmap(ctx->frames, (size_t)MAX_FRAMES * sizeof(wasm_frame));
    free(ctx);
}

static void exec_key_init(void) { pthread_key_create(&exec_key, exec_free); }

static void *reserve(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

wasm_exec *wasm_exec_get(void)
{
    if (tls_exec)
        return tls_exec;
    pthread_once(&exec_once, exec_key_init);
    wasm_exec *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return NULL;
    ctx->stack = reserve((size_t)STACK_SLOTS * sizeof(wasm_slot));
    ctx->frames = reserve((size_t)MAX_FRAMES * sizeof(wasm_frame));
    if (!ctx->stack || !ctx->frames) {
        if (ctx->stack)
            munmap(ctx->stack, (size_t)STACK_SLOTS * sizeof(wasm_slot));
        if (ctx->frames)
            munmap(ctx->frames, (size_t)MAX_FRAMES * sizeof(wasm_frame));
        free(ctx);
        return NULL;
    }
    ctx->stack_end = ctx->stack + STACK_SLOTS;
    ctx->sp = ctx->stack;
    ctx->frames_end = ctx->frames + MAX_FRAMES;
    ctx->frame_top = ctx->frames;
    pthread_setspecific(exec_key, ctx);
    tls_exec = ctx;
    return ctx;
}

/* ---- guard-page faults -------------------------------------------------- */

static struct sigaction old_segv, old_bus;

static void chain(int sig, siginfo_t *info, void *uctx)
{
    struct sigaction *old = sig == SIGSEGV ? &old_segv : &old_bus;
    if (old->sa_flags & SA_SIGINFO) {
        old->sa_sigaction(sig, info, uctx);
        return;
    }
    if (old->sa_handler == SIG_IGN)
        return;
    if (old->sa_handler != SIG_DFL) {
        old->sa_handler(sig);
        return;
    }
    /* Default action: restore it and let the fault happen again. */
    signal(sig, SIG_DFL);
}

static void on_fault(int sig, siginfo_t *info, void *uctx)
{
    wasm_exec *ctx = tls_exec;
    if (ctx && ctx->trap_jmp && ctx->fault_memory) {
        uint8_t *a = info->si_addr, *base = ctx->fault_memory->base;
        if (a >= base && a < base + ctx->fault_memory->reserved) {
            /* The handler runs with the signal blocked and siglongjmp is
             * told not to restore the mask: unblock it by hand. */
            sigset_t set;
            sigemptyset(&set);
            sigaddset(&set, sig);
            pthread_sigmask(SIG_UNBLOCK, &set, NULL);
            siglongjmp(*ctx->trap_jmp, 1);
        }
    }
    chain(sig, info, uctx);
}

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;

/* Installs on_fault for sig unless it is there already; whatever handler
 * it replaces becomes the one faults that are not ours are passed to. */
static void install_one(int sig, struct sigaction *old)
{
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) != 0)
        return;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    pthread_mutex_lock(&install_lock);
    if (sigaction(sig, &sa, &cur) == 0 &&
        !((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault))
        *old = cur;
    pthread_mutex_unlock(&install_lock);
}

/* Called when a memory is created and on every outermost entry into wasm:
 * a program (or a test framework) may have installed its own handler since,
 * which would turn an out-of-bounds access into a crash. One sigaction(2)
 * query when nothing changed. */
void wasm_exec_install_fault_handler(void)
{
#ifndef WASM_BOUNDS_CHECKS
    install_one(SIGSEGV, &old_segv);
    install_one(SIGBUS, &old_bus);
#endif
}
