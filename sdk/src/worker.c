/*
 * worker.c - the blocking worker loop shared by every transport (portable).
 *
 * Two directions, each a `struct flow`:
 *   wrap:   internal fd -> transform -> network fd
 *   unwrap: network fd  -> transform -> internal fd
 *
 * Invariants of one flow:
 *   - out[off..len) are transformed bytes not yet written to dst. Nothing is
 *     ever dropped: when dst would block they stay here, and the flow stops
 *     reading src until the buffer again has room for a whole transformed
 *     chunk (backpressure reaches the peer through the kernel's buffers).
 *   - every read is transformed whole, in one call, with output room of at
 *     least the transport's declared bound for that read's length.
 *   - after src reports EOF: one end-of-stream transform call, flush, then
 *     shut down dst's write side (half-close) and mark the flow closed.
 *
 * The loop polls the control pipe (read), and each data fd for read when its
 * flow can take input and for write only while its flow has pending output.
 * Results: 0 when both flows are closed, -WATM_ECANCELED when the control
 * pipe is readable or at EOF, a negative errno on the first error.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Reads per wake-up per flow, so one busy direction cannot starve the other
 * or the control pipe. */
#define READS_PER_WAKEUP 16
/* Refuse bounds that would need absurd buffers. */
#define OUT_CAP_MAX (64u << 20)

struct flow {
    const char *name;
    const struct watm_transport *t;
    int src, dst;
    struct watm_stream st;
    struct watm_bound bound;
    bool copy;    /* no transform: read straight into out */
    uint8_t *in;  /* WATM_CHUNK bytes; NULL when copy */
    uint8_t *out; /* out_cap bytes */
    size_t out_cap;
    size_t off, len;
    bool eof, flushed, closed;
};

static int flow_init(struct flow *f, const struct watm_transport *t,
                     enum watm_dir dir, enum watm_role role, int src, int dst)
{
    memset(f, 0, sizeof *f);
    f->name = dir == WATM_WRAP ? "wrap (internal -> network)" : "unwrap (network -> internal)";
    f->t = t;
    f->src = src;
    f->dst = dst;
    f->st.dir = dir;
    f->st.role = role;
    f->bound = dir == WATM_WRAP ? t->wrap_bound : t->unwrap_bound;
    f->copy = (dir == WATM_WRAP ? t->wrap : t->unwrap) == NULL;
    f->out_cap = watm_bound_out(f->bound, WATM_CHUNK);
    if (f->out_cap > OUT_CAP_MAX) {
        watm_log("worker: the transport's output bound is too large");
        return -WATM_EINVAL;
    }
    f->out = malloc(f->out_cap);
    if (!f->copy)
        f->in = malloc(WATM_CHUNK);
    if (f->out == NULL || (!f->copy && f->in == NULL))
        return -WATM_ENOMEM;
    return 0;
}

static void flow_free(struct flow *f)
{
    free(f->in);
    free(f->out);
    f->in = f->out = NULL;
}

static size_t pending(const struct flow *f)
{
    return f->len - f->off;
}

/* Moves pending bytes to the front; returns the free room after them. */
static size_t room(struct flow *f)
{
    if (f->off > 0) {
        memmove(f->out, f->out + f->off, pending(f));
        f->len -= f->off;
        f->off = 0;
    }
    return f->out_cap - f->len;
}

/* The largest read whose transformed output is sure to fit in `space`. */
static size_t read_size(const struct flow *f, size_t space)
{
    size_t mul = f->bound.mul ? f->bound.mul : 1;
    if (space < f->bound.add)
        return 0;
    size_t n = (space - f->bound.add) / mul;
    return n < WATM_CHUNK ? n : WATM_CHUNK;
}

static bool wants_read(struct flow *f)
{
    return !f->eof && read_size(f, f->out_cap - pending(f)) > 0;
}

/* Writes pending output until done or dst would block. */
static int flush_out(struct flow *f)
{
    while (f->off < f->len) {
        ssize_t r = watm_sys_write(f->dst, f->out + f->off, pending(f));
        if (r == -WATM_EAGAIN)
            return 0;
        if (r <= 0) {
            watm_log_num(f->name, r);
            return r == 0 ? -WATM_EIO : (int)r;
        }
        f->off += (size_t)r;
    }
    f->off = f->len = 0;
    return 0;
}

/* Flushes; after EOF runs the end-of-stream call and half-closes dst. */
static int flow_pump(struct flow *f)
{
    if (f->closed)
        return 0;
    int r = flush_out(f);
    if (r < 0)
        return r;
    if (f->eof && !f->flushed) {
        size_t space = room(f);
        if (space < watm_bound_out(f->bound, 0))
            return 0; /* wait for dst to drain */
        ssize_t n = watm_transform_run(f->t, &f->st, NULL, 0, f->out + f->len, space);
        if (n < 0) {
            watm_log_num(f->name, n);
            return (int)n;
        }
        f->len += (size_t)n;
        f->flushed = true;
        r = flush_out(f);
        if (r < 0)
            return r;
    }
    if (f->eof && f->flushed && pending(f) == 0) {
        r = watm_sys_shutdown_wr(f->dst);
        if (r < 0 && r != -WATM_ENOTCONN)
            watm_log_num("worker: shutdown of the write side failed, errno", -r);
        f->closed = true;
    }
    return 0;
}

/* Reads, transforms and writes while src has data and out has room. */
static int flow_read(struct flow *f)
{
    for (int i = 0; i < READS_PER_WAKEUP && !f->eof; i++) {
        size_t space = room(f);
        size_t n = read_size(f, space);
        if (n == 0)
            break; /* backpressure: dst must drain first */
        uint8_t *dst = f->out + f->len;
        uint8_t *buf = f->copy ? dst : f->in;
        ssize_t r = watm_sys_read(f->src, buf, n);
        if (r == -WATM_EAGAIN)
            break;
        if (r < 0) {
            watm_log_num(f->name, r);
            return (int)r;
        }
        if (r == 0) {
            f->eof = true;
            break;
        }
        ssize_t m = watm_transform_run(f->t, &f->st, buf, (size_t)r, dst, space);
        if (m < 0) {
            watm_log_num(f->name, m);
            return (int)m;
        }
        f->len += (size_t)m;
        int w = flush_out(f);
        if (w < 0)
            return w;
    }
    return flow_pump(f);
}

static int set_nonblock(int fd, const char *what)
{
    int r = watm_sys_set_nonblock(fd);
    if (r < 0)
        watm_log_num(what, r);
    return r;
}

static int run(struct flow *wrap, struct flow *unwrap, int internal_fd,
               int network_fd, int ctrl_fd)
{
    for (;;) {
        int r = flow_pump(wrap);
        if (r == 0)
            r = flow_pump(unwrap);
        if (r < 0)
            return r;
        if (wrap->closed && unwrap->closed)
            return 0;

        struct watm_pollfd p[3] = {
            {.fd = ctrl_fd, .want_read = true},
            {.fd = internal_fd, .want_read = wants_read(wrap),
             .want_write = pending(unwrap) > 0},
            {.fd = network_fd, .want_read = wants_read(unwrap),
             .want_write = pending(wrap) > 0},
        };
        r = watm_sys_poll(p, 3, -1);
        if (r < 0) {
            watm_log_num("worker: poll failed, errno", -r);
            return r;
        }
        if (p[0].can_read) {
            r = watm_ctrl_check(ctrl_fd);
            if (r < 0)
                return r;
        }
        /* Writable fds are served by flow_pump at the top of the loop. */
        if (p[1].can_read && (r = flow_read(wrap)) < 0)
            return r;
        if (p[2].can_read && (r = flow_read(unwrap)) < 0)
            return r;
    }
}

int watm_worker_run(const struct watm_transport *t, enum watm_role role,
                    int internal_fd, int network_fd, int ctrl_fd)
{
    int r;
    if ((r = set_nonblock(internal_fd, "worker: internal fd non-blocking")) < 0 ||
        (r = set_nonblock(network_fd, "worker: network fd non-blocking")) < 0 ||
        (r = set_nonblock(ctrl_fd, "worker: control fd non-blocking")) < 0)
        return r;

    struct flow wrap, unwrap;
    r = flow_init(&wrap, t, WATM_WRAP, role, internal_fd, network_fd);
    if (r == 0)
        r = flow_init(&unwrap, t, WATM_UNWRAP, role, network_fd, internal_fd);
    else
        memset(&unwrap, 0, sizeof unwrap);
    if (r == 0)
        r = run(&wrap, &unwrap, internal_fd, network_fd, ctrl_fd);
    flow_free(&wrap);
    flow_free(&unwrap);
    return r;
}
