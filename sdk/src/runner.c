/*
 * runner.c - runner-mode helpers (watm_runner.h; wasm32 only): sockets
 * through the host's water_ext_v1 extension, non-blocking I/O, the config,
 * unbuffered stdout, and a poll_oneoff event loop.
 *
 * The loop keeps one slot per watched fd, indexed by the fd number (WASI fd
 * numbers are small and reused lowest-first). Each slot has a generation
 * that changes whenever the fd is removed, and every subscription carries
 * (generation << 32 | fd) as its userdata, so an event of a round is never
 * delivered to a callback that registered the same fd number after the
 * round started (closed and accepted again in an earlier callback).
 */
#include "wasi.h"
#include "watm_runner.h"

#include <stdlib.h>
#include <string.h>

__attribute__((import_module("water_ext_v1"), import_name("tcp_listen")))
int32_t watm_import_tcp_listen(const char *addr, size_t len);
__attribute__((import_module("water_ext_v1"), import_name("tcp_connect")))
int32_t watm_import_tcp_connect(const char *addr, size_t len);

int watm_runner_enter(int (*fn)(void))
{
    watm_wasi_ctors();
    return fn();
}

/* ---- sockets and I/O ------------------------------------------------------ */

/* Makes a fresh fd from the host non-blocking; closes it on failure. */
static int fresh_fd(int32_t fd)
{
    if (fd < 0)
        return fd;
    int r = watm_sys_set_nonblock(fd);
    if (r < 0) {
        (void)watm_sys_close(fd);
        return r;
    }
    return fd;
}

int watm_tcp_listen(const char *addr)
{
    if (!addr)
        return -WATM_EINVAL;
    return fresh_fd(watm_import_tcp_listen(addr, strlen(addr)));
}

int watm_tcp_connect(const char *addr)
{
    if (!addr)
        return -WATM_EINVAL;
    return fresh_fd(watm_import_tcp_connect(addr, strlen(addr)));
}

int watm_accept(int listen_fd)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_sock_accept((__wasi_fd_t)listen_fd, __WASI_FDFLAGS_NONBLOCK, &fd);
    return e ? -(int)e : (int)fd;
}

ssize_t watm_read(int fd, void *buf, size_t len)
{
    return watm_sys_read(fd, buf, len);
}

ssize_t watm_write(int fd, const void *buf, size_t len)
{
    return watm_sys_write(fd, buf, len);
}

int watm_shutdown_write(int fd)
{
    return watm_sys_shutdown_wr(fd);
}

int watm_close(int fd)
{
    return watm_sys_close(fd);
}

int watm_set_nonblock(int fd)
{
    return watm_sys_set_nonblock(fd);
}

int watm_runner_config(uint8_t **cfg, size_t *len)
{
    return watm_wasi_read_conf(cfg, len);
}

void watm_print(const char *s)
{
    size_t len = strlen(s);
    while (len > 0) {
        __wasi_ciovec_t iov = {.buf = (const uint8_t *)s, .buf_len = len};
        __wasi_size_t n = 0;
        if (__wasi_fd_write(1, &iov, 1, &n) != 0 || n == 0)
            return; /* no stdout, or it is gone: nothing to do */
        s += n;
        len -= n;
    }
}

/* ---- the event loop ------------------------------------------------------- */

struct slot {
    watm_loop_fn fn;   /* NULL: the fd is not watched */
    void *user;
    unsigned interest;
    unsigned ready;    /* readiness collected in the current round */
    uint32_t gen;      /* changes whenever the fd is removed */
};

struct watm_loop {
    struct slot *slots; /* indexed by fd */
    size_t nslots;
    size_t watched;     /* slots with fn != NULL */
    __wasi_subscription_t *subs;
    __wasi_event_t *events;
    size_t cap;         /* entries in subs and events */
    bool stop;
};

struct watm_loop *watm_loop_new(void)
{
    return calloc(1, sizeof(struct watm_loop));
}

void watm_loop_free(struct watm_loop *loop)
{
    if (!loop)
        return;
    free(loop->slots);
    free(loop->subs);
    free(loop->events);
    free(loop);
}

static struct slot *slot_of(const struct watm_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nslots || !loop->slots[fd].fn)
        return NULL;
    return &loop->slots[fd];
}

int watm_loop_add(struct watm_loop *loop, int fd, unsigned interest, watm_loop_fn fn,
                  void *user)
{
    if (fd < 0 || !fn)
        return -WATM_EBADF;
    if (slot_of(loop, fd))
        return -WATM_EBUSY;
    if ((size_t)fd >= loop->nslots) {
        size_t n = loop->nslots ? loop->nslots : 16;
        while (n <= (size_t)fd)
            n *= 2;
        struct slot *s = realloc(loop->slots, n * sizeof *s);
        if (!s)
            return -WATM_ENOMEM;
        memset(s + loop->nslots, 0, (n - loop->nslots) * sizeof *s);
        loop->slots = s;
        loop->nslots = n;
    }
    struct slot *s = &loop->slots[fd];
    s->fn = fn;
    s->user = user;
    s->interest = interest & (WATM_EV_READ | WATM_EV_WRITE);
    s->ready = 0;
    loop->watched++;
    return 0;
}

int watm_loop_set(struct watm_loop *loop, int fd, unsigned interest)
{
    struct slot *s = slot_of(loop, fd);
    if (!s)
        return -WATM_ENOENT;
    s->interest = interest & (WATM_EV_READ | WATM_EV_WRITE);
    return 0;
}

int watm_loop_del(struct watm_loop *loop, int fd)
{
    struct slot *s = slot_of(loop, fd);
    if (!s)
        return -WATM_ENOENT;
    s->fn = NULL;
    s->user = NULL;
    s->interest = s->ready = 0;
    s->gen++;
    loop->watched--;
    return 0;
}

void *watm_loop_user(const struct watm_loop *loop, int fd)
{
    const struct slot *s = slot_of(loop, fd);
    return s ? s->user : NULL;
}

void watm_loop_stop(struct watm_loop *loop)
{
    loop->stop = true;
}

static bool reserve(struct watm_loop *loop, size_t n)
{
    if (n <= loop->cap)
        return true;
    size_t cap = loop->cap ? loop->cap : 16;
    while (cap < n)
        cap *= 2;
    __wasi_subscription_t *s = realloc(loop->subs, cap * sizeof *s);
    if (!s)
        return false;
    loop->subs = s;
    __wasi_event_t *e = realloc(loop->events, cap * sizeof *e);
    if (!e)
        return false;
    loop->events = e;
    loop->cap = cap;
    return true;
}

#define CLOCK_USERDATA UINT64_MAX

/* Fills loop->subs; returns how many, or -WATM_ENOMEM. */
static int subscribe(struct watm_loop *loop, int timeout_ms)
{
    if (!reserve(loop, 2 * loop->watched + 1))
        return -WATM_ENOMEM;
    __wasi_size_t n = 0;
    for (size_t fd = 0; fd < loop->nslots; fd++) {
        const struct slot *s = &loop->slots[fd];
        if (!s->fn)
            continue;
        uint64_t tag = (uint64_t)s->gen << 32 | fd;
        for (unsigned bit = WATM_EV_READ; bit <= WATM_EV_WRITE; bit <<= 1) {
            if (!(s->interest & bit))
                continue;
            __wasi_subscription_t *sub = &loop->subs[n++];
            memset(sub, 0, sizeof *sub);
            sub->userdata = tag;
            if (bit == WATM_EV_READ) {
                sub->u.tag = __WASI_EVENTTYPE_FD_READ;
                sub->u.u.fd_read.file_descriptor = (__wasi_fd_t)fd;
            } else {
                sub->u.tag = __WASI_EVENTTYPE_FD_WRITE;
                sub->u.u.fd_write.file_descriptor = (__wasi_fd_t)fd;
            }
        }
    }
    if (timeout_ms >= 0) {
        __wasi_subscription_t *sub = &loop->subs[n++];
        memset(sub, 0, sizeof *sub);
        sub->userdata = CLOCK_USERDATA;
        sub->u.tag = __WASI_EVENTTYPE_CLOCK;
        sub->u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        sub->u.u.clock.timeout = (uint64_t)timeout_ms * 1000000u;
    }
    return (int)n;
}

/* The slot an event belongs to, if the fd is still the one subscribed. */
static struct slot *event_slot(struct watm_loop *loop, uint64_t userdata)
{
    if (userdata == CLOCK_USERDATA)
        return NULL;
    size_t fd = (size_t)(userdata & 0xffffffffu);
    if (fd >= loop->nslots)
        return NULL;
    struct slot *s = &loop->slots[fd];
    return s->fn && s->gen == (uint32_t)(userdata >> 32) ? s : NULL;
}

int watm_loop_poll(struct watm_loop *loop, int timeout_ms)
{
    int nsubs = subscribe(loop, timeout_ms);
    if (nsubs <= 0)
        return nsubs; /* nothing to wait for (0), or out of memory */
    __wasi_size_t nevents = 0;
    __wasi_errno_t e = __wasi_poll_oneoff(loop->subs, loop->events, (__wasi_size_t)nsubs,
                                          &nevents);
    if (e != 0)
        return -(int)e;
    /* Collect per fd first, so one callback gets both directions. */
    for (__wasi_size_t k = 0; k < nevents; k++) {
        const __wasi_event_t *ev = &loop->events[k];
        struct slot *s = event_slot(loop, ev->userdata);
        if (!s)
            continue;
        s->ready |= ev->type == __WASI_EVENTTYPE_FD_WRITE ? WATM_EV_WRITE : WATM_EV_READ;
        if (ev->error)
            s->ready |= WATM_EV_ERROR;
        if (ev->fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP)
            s->ready |= WATM_EV_HUP;
    }
    int calls = 0;
    for (__wasi_size_t k = 0; k < nevents; k++) {
        struct slot *s = event_slot(loop, loop->events[k].userdata);
        if (!s || !s->ready)
            continue;
        /* An earlier callback may have changed this fd's interest. */
        unsigned ready = s->ready & (s->interest | WATM_EV_HUP | WATM_EV_ERROR);
        s->ready = 0;
        if (!(ready & s->interest))
            continue;
        int fd = (int)(loop->events[k].userdata & 0xffffffffu);
        s->fn(loop, fd, ready, s->user); /* may add, set, del: s may be stale */
        calls++;
    }
    return calls;
}

int watm_loop_run(struct watm_loop *loop)
{
    loop->stop = false;
    while (!loop->stop) {
        int r = watm_loop_poll(loop, -1);
        if (r < 0)
            return r;
        if (r == 0) {
            bool any = false;
            for (size_t fd = 0; fd < loop->nslots && !any; fd++)
                any = loop->slots[fd].fn && loop->slots[fd].interest;
            if (!any)
                return 0; /* nothing could ever be ready */
        }
    }
    return 0;
}
