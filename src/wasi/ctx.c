/*
 * wasi/ctx.c - the life of a wasi_ctx: creation from wasi_options (copies of
 * args, environ and config; stdio; preopens), the wake fd, the exit status,
 * and freeing.
 *
 * Layout of the table after wasi_ctx_new(): 0, 1, 2 are stdio (open only if
 * granted), then the config directory "/conf/" if there is a config, then
 * the preopens in the order given; ctx->first_free is the number after them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "wasi/internal.h"

#define STRINGS_MAX_BYTES 0x10000000u /* 256 MiB of args or environ */

static void set_err(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Copies n strings; *bytes gets their total size including each NUL. */
static bool copy_strings(const char *const *src, size_t n, char ***out,
                         uint32_t *count, uint32_t *bytes)
{
    *out = NULL;
    *count = 0;
    *bytes = 0;
    if (n == 0)
        return true;
    if (!src || n > STRINGS_MAX_BYTES)
        return false;
    char **v = calloc(n, sizeof *v);
    if (!v)
        return false;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!src[i] || !(v[i] = strdup(src[i]))) {
            for (size_t j = 0; j < i; j++)
                free(v[j]);
            free(v);
            return false;
        }
        total += strlen(v[i]) + 1;
    }
    *out = v;
    *count = (uint32_t)n;
    if (total > STRINGS_MAX_BYTES)
        return false; /* freed by the caller through *out and *count */
    *bytes = (uint32_t)total;
    return true;
}

static void free_strings(char **v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool open_wake(wasi_ctx *ctx)
{
#ifdef __linux__
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd >= 0) {
        ctx->wake_rd = ctx->wake_wr = fd;
        return true;
    }
#endif
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
        return false;
    ctx->wake_rd = p[0];
    ctx->wake_wr = p[1];
    return true;
}

/* Fills table slot `fd` (already allocated) for a borrowed stdio host fd. */
static bool add_stdio(wasi_ctx *ctx, uint32_t fd, int host_fd)
{
    int fl = fcntl(host_fd, F_GETFL);
    if (fl < 0)
        return false;
    wasi_fd_kind kind = wasi_kind_of_host_fd(host_fd);
    if (kind == WASI_FD_AUTO)
        kind = WASI_FD_CHAR;
    wasi_fd *e = &ctx->fds[fd];
    memset(e, 0, sizeof *e);
    e->used = true;
    e->owned = false;
    e->kind = (uint8_t)kind;
    e->host_fd = host_fd;
    e->host_nb = (fl & O_NONBLOCK) != 0; /* EAGAIN is then already ours */
    e->fdflags = (fl & O_APPEND) ? WASI_FDFLAG_APPEND : 0;
    e->rights_base = wasi_kind_rights(kind, (fl & O_ACCMODE) != O_RDONLY);
    e->rights_inheriting = 0;
    return true;
}

static bool add_dir(wasi_ctx *ctx, uint32_t fd, int host_fd, const char *name,
                    bool writable, wasi_fd_kind kind)
{
    wasi_fd *e = &ctx->fds[fd];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name)
        return false;
    e->used = true;
    e->owned = host_fd >= 0;
    e->preopen = true;
    e->writable = writable;
    e->kind = (uint8_t)kind;
    e->host_fd = host_fd;
    e->rights_base = wasi_kind_rights(kind, writable);
    e->rights_inheriting = kind == WASI_FD_CONFIG_DIR
                               ? wasi_kind_rights(WASI_FD_MEMFILE, false)
                               : wasi_dir_inheriting(writable);
    return true;
}

/* Stdio, the config directory and the preopens. */
static bool fill_table(wasi_ctx *ctx, const wasi_options *o, char *eb,
                       size_t el)
{
    for (uint32_t i = 0; i < 3; i++) {
        int host = -1;
        if (o->stdio[i] == WASI_STDIO_INHERIT)
            host = (int)i;
        else if (o->stdio[i] == WASI_STDIO_FD)
            host = o->stdio_fd[i];
        else if (o->stdio[i] != WASI_STDIO_NONE) {
            set_err(eb, el, "stdio %u: unknown mode %d", i, (int)o->stdio[i]);
            return false;
        }
        if (host >= 0 || o->stdio[i] == WASI_STDIO_FD) {
            if (host < 0 || !add_stdio(ctx, i, host)) {
                set_err(eb, el, "stdio %u: host fd %d is not open", i, host);
                return false;
            }
        }
    }
    uint32_t next = 3;
    if (ctx->config) {
        if (!add_dir(ctx, next++, -1, WASI_CONFIG_DIR, false,
                     WASI_FD_CONFIG_DIR)) {
            set_err(eb, el, "out of memory");
            return false;
        }
    }
    for (size_t i = 0; i < o->npreopens; i++) {
        const wasi_preopen *p = &o->preopens[i];
        if (!p->host_path || !p->guest_path) {
            set_err(eb, el, "preopen %zu: missing host or guest path", i);
            return false;
        }
        int fd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            set_err(eb, el, "preopen %s: %s", p->host_path, strerror(errno));
            return false;
        }
        if (!add_dir(ctx, next++, fd, p->guest_path, p->writable,
                     WASI_FD_DIR)) {
            close(fd);
            set_err(eb, el, "out of memory");
            return false;
        }
    }
    ctx->first_free = next;
    return true;
}

static bool copy_config(wasi_ctx *ctx, const wasi_options *o)
{
    if (!o->config)
        return true;
    ctx->config = malloc(o->config_len ? o->config_len : 1);
    if (!ctx->config)
        return false;
    memcpy(ctx->config, o->config, o->config_len);
    ctx->config_len = o->config_len;
    return true;
}

wasi_ctx *wasi_ctx_new(const wasi_options *opts, char *errbuf, size_t errlen)
{
    static const wasi_options none;
    const wasi_options *o = opts ? opts : &none;
    set_err(errbuf, errlen, "%s", "");
    wasi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        set_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    ctx->magic = WASI_CTX_MAGIC;
    ctx->user = o->user;
    ctx->wake_rd = ctx->wake_wr = -1;
    atomic_init(&ctx->woken, false);
    uint64_t fixed = 3 + (o->config ? 1 : 0) + (uint64_t)o->npreopens;
    ctx->max_fds = o->max_fds ? o->max_fds : WASI_MAX_FDS_DEFAULT;
    if (fixed > ctx->max_fds) {
        set_err(errbuf, errlen, "max_fds %u is below the %llu fixed fds",
                ctx->max_fds, (unsigned long long)fixed);
        goto fail;
    }
    if (!copy_strings(o->args, o->nargs, &ctx->args, &ctx->nargs,
                      &ctx->args_bytes) ||
        !copy_strings(o->env, o->nenv, &ctx->env, &ctx->nenv,
                      &ctx->env_bytes) ||
        !copy_config(ctx, o)) {
        set_err(errbuf, errlen, "args, environ or config: NULL string, "
                                "too large, or out of memory");
        goto fail;
    }
    if (!open_wake(ctx)) {
        set_err(errbuf, errlen, "wake fd: %s", strerror(errno));
        goto fail;
    }
    ctx->nfds = (uint32_t)fixed;
    ctx->fds = calloc(ctx->nfds, sizeof *ctx->fds);
    if (!ctx->fds) {
        set_err(errbuf, errlen, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < ctx->nfds; i++)
        ctx->fds[i].host_fd = -1;
    if (!fill_table(ctx, o, errbuf, errlen))
        goto fail;
    return ctx;
fail:
    wasi_ctx_free(ctx);
    return NULL;
}

void wasi_ctx_free(wasi_ctx *ctx)
{
    if (!ctx)
        return;
    for (uint32_t i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i].used || ctx->fds[i].name)
            wasi_fd_release(ctx, i);
    free(ctx->fds);
    free_strings(ctx->args, ctx->nargs);
    free_strings(ctx->env, ctx->nenv);
    free(ctx->config);
    if (ctx->wake_rd >= 0)
        close(ctx->wake_rd);
    if (ctx->wake_wr >= 0 && ctx->wake_wr != ctx->wake_rd)
        close(ctx->wake_wr);
    free(ctx->pfds);
    free(ctx->psubs);
    ctx->magic = 0;
    free(ctx);
}

void *wasi_ctx_user(const wasi_ctx *ctx)
{
    return ctx->user;
}

void wasi_ctx_set_user(wasi_ctx *ctx, void *user)
{
    ctx->user = user;
}

wasi_ctx *wasi_ctx_of(const wasm_instance *inst)
{
    wasi_ctx *ctx = inst ? wasm_instance_userdata(inst) : NULL;
    return ctx && ctx->magic == WASI_CTX_MAGIC ? ctx : NULL;
}

bool wasi_exit_code(const wasi_ctx *ctx, int *code)
{
    if (ctx->exited && code)
        *code = ctx->exit_code;
    return ctx->exited;
}

void wasi_ctx_wake(wasi_ctx *ctx)
{
    atomic_store(&ctx->woken, true);
    uint64_t one = 1; /* 8 bytes: what an eventfd needs; fine for a pipe */
    ssize_t r = write(ctx->wake_wr, &one, sizeof one);
    (void)r; /* full pipe or counter: it is readable already */
}

bool wasi_ctx_woken(const wasi_ctx *ctx)
{
    return atomic_load(&((wasi_ctx *)ctx)->woken);
}

void wasi_ctx_clear_wake(wasi_ctx *ctx)
{
    atomic_store(&ctx->woken, false);
    uint64_t buf[8];
    while (read(ctx->wake_rd, buf, sizeof buf) > 0) {
    }
}
