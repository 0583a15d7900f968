/*
 * wasi/proc.c - the process-like calls: args, environ, clocks, random_get,
 * sched_yield, proc_exit.
 *
 * The guest sees only what the options granted: its own args and environ
 * (empty by default). The CPU-time clocks report the calling thread's CPU
 * time, never the whole host process's (which would leak the activity of
 * other instances).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <sys/random.h>
#include <time.h>

#include "wasi/internal.h"

/* args_sizes_get / environ_sizes_get: (count_ptr, bytes_ptr) */
static int sizes_get(wasi_call *c, const wasm_slot *a, uint32_t count,
                     uint32_t bytes)
{
    if (!wasi_mem(c, a[0].u32, 4) || !wasi_mem(c, a[1].u32, 4))
        return WASI_EFAULT;
    wasi_put32(c, a[0].u32, count);
    wasi_put32(c, a[1].u32, bytes);
    return 0;
}

/* args_get / environ_get: (pointer array, string buffer) */
static int strings_get(wasi_call *c, const wasm_slot *a, char **v,
                       uint32_t count, uint32_t bytes)
{
    uint32_t vec = a[0].u32, buf = a[1].u32;
    uint8_t *pv = wasi_mem(c, vec, (uint64_t)count * 4);
    uint8_t *pb = wasi_mem(c, buf, bytes);
    if ((count && !pv) || (bytes && !pb))
        return WASI_EFAULT;
    uint32_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        size_t n = strlen(v[i]) + 1;
        wasi_st32(pv + (size_t)i * 4, buf + off);
        memcpy(pb + off, v[i], n);
        off += (uint32_t)n;
    }
    return 0;
}

int wasi_impl_args_sizes_get(wasi_call *c, const wasm_slot *a)
{
    return sizes_get(c, a, c->ctx->nargs, c->ctx->args_bytes);
}

int wasi_impl_args_get(wasi_call *c, const wasm_slot *a)
{
    return strings_get(c, a, c->ctx->args, c->ctx->nargs,
                       c->ctx->args_bytes);
}

int wasi_impl_environ_sizes_get(wasi_call *c, const wasm_slot *a)
{
    return sizes_get(c, a, c->ctx->nenv, c->ctx->env_bytes);
}

int wasi_impl_environ_get(wasi_call *c, const wasm_slot *a)
{
    return strings_get(c, a, c->ctx->env, c->ctx->nenv, c->ctx->env_bytes);
}

static bool host_clock(uint32_t id, clockid_t *out)
{
    switch (id) {
    case WASI_CLOCK_REALTIME: *out = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *out = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME:
    case WASI_CLOCK_THREAD_CPUTIME: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    }
    return false;
}

int wasi_clock_now(uint32_t id, uint64_t *ns)
{
    clockid_t hc;
    struct timespec t;
    if (!host_clock(id, &hc))
        return WASI_EINVAL;
    if (clock_gettime(hc, &t) != 0)
        return wasi_errno_from_host(errno);
    *ns = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
    return 0;
}

/* clock_res_get(id, retptr) */
int wasi_impl_clock_res_get(wasi_call *c, const wasm_slot *a)
{
    clockid_t hc;
    struct timespec t;
    if (!host_clock(a[0].u32, &hc))
        return WASI_EINVAL;
    if (!wasi_mem(c, a[1].u32, 8))
        return WASI_EFAULT;
    if (clock_getres(hc, &t) != 0)
        return wasi_errno_from_host(errno);
    return wasi_put64(c, a[1].u32,
                      (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec);
}

/* clock_time_get(id, precision u64, retptr); the precision is a hint. */
int wasi_impl_clock_time_get(wasi_call *c, const wasm_slot *a)
{
    uint64_t ns;
    if (!wasi_mem(c, a[2].u32, 8))
        return WASI_EFAULT;
    int err = wasi_clock_now(a[0].u32, &ns);
    if (err)
        return err;
    return wasi_put64(c, a[2].u32, ns);
}

/* random_get(buf, len): straight into linear memory. */
int wasi_impl_random_get(wasi_call *c, const wasm_slot *a)
{
    uint32_t len = a[1].u32;
    if (len == 0)
        return 0;
    uint8_t *p = wasi_mem(c, a[0].u32, len);
    if (!p)
        return WASI_EFAULT;
    size_t done = 0;
    while (done < len) {
        ssize_t r = getrandom(p + done, len - done, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return wasi_errno_from_host(errno);
        }
        done += (size_t)r;
    }
    return 0;
}

int wasi_impl_sched_yield(wasi_call *c, const wasm_slot *a)
{
    (void)c;
    (void)a;
    sched_yield();
    return 0;
}

/* proc_exit(code): ends the run; the code is kept for wasi_exit_code(). */
int wasi_impl_proc_exit(wasi_call *c, const wasm_slot *a)
{
    c->ctx->exited = true;
    c->ctx->exit_code = (int)a[0].u32;
    c->trap = wasm_instance_exit(c->inst, c->ctx->exit_code);
    return 0;
}
