/*
 * wasi/poll.c - poll_oneoff: a real blocking ppoll(2).
 *
 * All subscriptions are parsed into host scratch first (the guest may let
 * `in` and `out` overlap), then one ppoll(2) waits on every fd subscription
 * plus the context's wake fd, with the nearest clock deadline as timeout.
 *
 * Rules:
 *  - nsubscriptions is 1..WASI_POLL_MAX (EINVAL otherwise); `in`, `out` and
 *    the count pointer are checked before anything happens (EFAULT).
 *  - A subscription on a bad fd does not fail the call: it yields an event
 *    with error EBADF (likewise EINVAL for an unknown clock or tag). Such an
 *    event, a regular file, or the in-memory config make the call poll with
 *    a zero timeout.
 *  - Clocks: REALTIME and MONOTONIC, relative or ABSTIME; deadlines are kept
 *    on the monotonic clock (an absolute realtime deadline is converted
 *    once, at entry).
 *  - FD_READ events carry nbytes from FIONREAD (sockets and pipes) or from
 *    size - position (files, config); HUP sets the hangup flag; POLLNVAL
 *    gives EBADF.
 *  - wasi_ctx_wake() ends the wait with WASM_TRAP_INTERRUPTED.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi/internal.h"

static bool grow_scratch(wasi_ctx *ctx, uint32_t n)
{
    if (n + 1 <= ctx->poll_cap)
        return true;
    uint32_t cap = n + 1 < 16 ? 16 : n + 1;
    struct pollfd *p = realloc(ctx->pfds, cap * sizeof *p);
    if (!p)
        return false;
    ctx->pfds = p;
    wasi_psub *s = realloc(ctx->psubs, cap * sizeof *s);
    if (!s)
        return false;
    ctx->psubs = s;
    ctx->poll_cap = cap;
    return true;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void parse_clock(const uint8_t *s, wasi_psub *ps, uint64_t now)
{
    uint32_t id = wasi_ld32(s + WASI_SUB_CLOCK_ID);
    uint64_t timeout = wasi_ld64(s + WASI_SUB_CLOCK_TIMEOUT);
    uint16_t flags = wasi_ld16(s + WASI_SUB_CLOCK_FLAGS);
    uint64_t real;
    if ((flags & ~WASI_SUBCLOCK_ABSTIME) ||
        (id != WASI_CLOCK_REALTIME && id != WASI_CLOCK_MONOTONIC) ||
        wasi_clock_now(id, &real) != 0) {
        ps->error = WASI_EINVAL;
        ps->ready = true;
        return;
    }
    if (!(flags & WASI_SUBCLOCK_ABSTIME))
        ps->deadline = sat_add(now, timeout);
    else if (id == WASI_CLOCK_MONOTONIC)
        ps->deadline = timeout;
    else
        ps->deadline = timeout <= real ? now : sat_add(now, timeout - real);
}

/* Bytes left to read in a file or the config: cheap, and always ready. */
static uint64_t file_left(const wasi_ctx *ctx, const wasi_fd *e)
{
    if (e->kind == WASI_FD_MEMFILE)
        return e->offset < ctx->config_len ? ctx->config_len - e->offset : 0;
    struct stat st;
    off_t pos = lseek(e->host_fd, 0, SEEK_CUR);
    if (pos < 0 || fstat(e->host_fd, &st) != 0 || st.st_size < pos)
        return 0;
    return (uint64_t)(st.st_size - pos);
}

static void parse_fd(wasi_ctx *ctx, const uint8_t *s, wasi_psub *ps,
                     uint32_t *npfd)
{
    wasi_fd *e = wasi_fd_get(ctx, wasi_ld32(s + WASI_SUB_FD));
    if (!e) {
        ps->error = WASI_EBADF;
        ps->ready = true;
        return;
    }
    if (wasi_kind_blocks((wasi_fd_kind)e->kind)) {
        struct pollfd *p = &ctx->pfds[*npfd];
        p->fd = e->host_fd;
        p->events = ps->type == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
        p->revents = 0;
        ps->pidx = (int)(*npfd)++;
        return;
    }
    ps->ready = true; /* files, directories and the config never block */
    if (ps->type == WASI_EVENTTYPE_FD_READ &&
        (e->kind == WASI_FD_FILE || e->kind == WASI_FD_MEMFILE))
        ps->nbytes = file_left(ctx, e);
}

/* Parses every subscription; returns whether one is ready already and the
 * nearest clock deadline in *deadline. */
static bool parse_all(wasi_ctx *ctx, const uint8_t *subs, uint32_t n,
                      uint64_t now, uint32_t *npfd, uint64_t *deadline)
{
    bool ready = false;
    *npfd = 0;
    *deadline = UINT64_MAX;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = subs + (size_t)i * WASI_SUBSCRIPTION_SIZE;
        wasi_psub *ps = &ctx->psubs[i];
        memset(ps, 0, sizeof *ps);
        ps->userdata = wasi_ld64(s + WASI_SUB_USERDATA);
        ps->type = s[WASI_SUB_TAG];
        ps->pidx = -1;
        if (ps->type == WASI_EVENTTYPE_CLOCK) {
            parse_clock(s, ps, now);
            if (!ps->ready && ps->deadline < *deadline)
                *deadline = ps->deadline;
        } else if (ps->type == WASI_EVENTTYPE_FD_READ ||
                   ps->type == WASI_EVENTTYPE_FD_WRITE) {
            parse_fd(ctx, s, ps, npfd);
        } else {
            ps->error = WASI_EINVAL;
            ps->ready = true;
        }
        ready |= ps->ready;
    }
    return ready;
}

/* Marks what ppoll reported and what the clock reached; returns the count
 * of ready subscriptions. */
static uint32_t collect(wasi_ctx *ctx, uint32_t n, uint64_t now)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        wasi_psub *ps = &ctx->psubs[i];
        if (ps->type == WASI_EVENTTYPE_CLOCK && !ps->ready &&
            ps->deadline <= now)
            ps->ready = true;
        if (ps->pidx >= 0 && !ps->ready) {
            const struct pollfd *p = &ctx->pfds[ps->pidx];
            short rev = p->revents;
            if (rev & POLLNVAL) {
                ps->error = WASI_EBADF;
                ps->ready = true;
            } else if (rev & (POLLIN | POLLOUT | POLLHUP | POLLERR)) {
                ps->ready = true;
                if (rev & POLLHUP)
                    ps->flags = WASI_EVENT_FD_READWRITE_HANGUP;
                int avail = 0;
                if (ps->type == WASI_EVENTTYPE_FD_READ &&
                    ioctl(p->fd, FIONREAD, &avail) == 0 && avail > 0)
                    ps->nbytes = (uint64_t)avail;
            }
        }
        count += ps->ready;
    }
    return count;
}

static void write_events(const wasi_ctx *ctx, uint32_t n, uint8_t *out)
{
    for (uint32_t i = 0; i < n; i++) {
        const wasi_psub *ps = &ctx->psubs[i];
        if (!ps->ready)
            continue;
        memset(out, 0, WASI_EVENT_SIZE);
        wasi_st64(out + WASI_EVENT_USERDATA, ps->userdata);
        wasi_st16(out + WASI_EVENT_ERROR, ps->error);
        out[WASI_EVENT_TYPE] = ps->type;
        if (ps->type != WASI_EVENTTYPE_CLOCK) {
            wasi_st64(out + WASI_EVENT_NBYTES, ps->nbytes);
            wasi_st16(out + WASI_EVENT_FLAGS, ps->flags);
        }
        out += WASI_EVENT_SIZE;
    }
}

/* Waits until something is ready; returns the ready count, or 0 with an
 * errno in *err, or 0 with c->trap set when woken. */
static uint32_t wait_ready(wasi_call *c, uint32_t n, uint32_t npfd,
                           bool ready, uint64_t deadline, int *err)
{
    wasi_ctx *ctx = c->ctx;
    struct pollfd *wake = &ctx->pfds[npfd];
    wake->fd = ctx->wake_rd;
    wake->events = POLLIN;
    wake->revents = 0;
    for (;;) {
        if (wasi_check_woken(c))
            return 0;
        uint64_t now;
        wasi_clock_now(WASI_CLOCK_MONOTONIC, &now);
        struct timespec ts = {0, 0}, *tp = &ts;
        if (!ready && deadline == UINT64_MAX)
            tp = NULL;
        else if (!ready && deadline > now) {
            ts.tv_sec = (time_t)((deadline - now) / 1000000000u);
            ts.tv_nsec = (long)((deadline - now) % 1000000000u);
        }
        int r = ppoll(ctx->pfds, npfd + 1, tp, NULL);
        if (r < 0 && errno != EINTR) {
            *err = wasi_errno_from_host(errno);
            return 0;
        }
        if (r > 0 && wake->revents && !atomic_load(&ctx->woken)) {
            uint64_t buf[8];
            while (read(ctx->wake_rd, buf, sizeof buf) > 0) {
            }
        }
        wasi_clock_now(WASI_CLOCK_MONOTONIC, &now);
        uint32_t count = collect(ctx, n, now);
        if (count > 0)
            return count;
        for (uint32_t i = 0; i <= npfd; i++)
            ctx->pfds[i].revents = 0;
    }
}

/* poll_oneoff(in, out, nsubscriptions, retptr) */
int wasi_impl_poll_oneoff(wasi_call *c, const wasm_slot *a)
{
    uint32_t n = a[2].u32;
    if (n == 0 || n > WASI_POLL_MAX)
        return WASI_EINVAL;
    const uint8_t *subs =
        wasi_mem(c, a[0].u32, (uint64_t)n * WASI_SUBSCRIPTION_SIZE);
    uint8_t *out = wasi_mem(c, a[1].u32, (uint64_t)n * WASI_EVENT_SIZE);
    if (!subs || !out || !wasi_mem(c, a[3].u32, 4))
        return WASI_EFAULT;
    if (!grow_scratch(c->ctx, n))
        return WASI_ENOMEM;
    uint64_t now, deadline;
    uint32_t npfd;
    wasi_clock_now(WASI_CLOCK_MONOTONIC, &now);
    bool ready = parse_all(c->ctx, subs, n, now, &npfd, &deadline);
    int err = 0;
    uint32_t count = wait_ready(c, n, npfd, ready, deadline, &err);
    if (count == 0)
        return err ? err : WASI_ECANCELED; /* ECANCELED only with a trap */
    write_events(c->ctx, n, out);
    return wasi_put32(c, a[3].u32, count);
}
