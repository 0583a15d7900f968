/*
 * test_worker.c - the worker loop over real socketpairs, natively: bulk
 * copies both ways, backpressure with a slow reader, half-close, cancel by
 * byte and by EOF of the control pipe, transforms that change the length
 * (framing with a trailer at end of stream, doubling), chunking of what the
 * transform sees, and errors from a transform.
 */
#include "check.h"
#include "harness.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

static const struct watm_transport copy_transport = {.name = "copy"};

/* Sends a and b across a worker in both directions at once, checks both
 * sides receive exactly what was sent and the worker ends with 0. */
static void run_both_ways(const struct watm_transport *t, size_t a_len, size_t b_len,
                          unsigned a_delay, unsigned b_delay)
{
    struct conn_fixture f;
    fixture_open(&f);
    uint8_t *a = test_data(a_len, 1);
    uint8_t *b = test_data(b_len, 2);
    struct worker_run w;
    struct sender sa, sb;
    struct receiver ra, rb;

    worker_spawn(&w, t, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);
    receiver_spawn(&rb, f.peer, a_len + 1, b_delay);
    receiver_spawn(&ra, f.app, b_len + 1, a_delay);
    sender_spawn(&sa, f.app, a, a_len, 11, true);
    sender_spawn(&sb, f.peer, b, b_len, 12, true);

    int sa_err = sender_wait(&sa), sb_err = sender_wait(&sb);
    int ra_err = receiver_wait(&ra), rb_err = receiver_wait(&rb);
    int result = worker_wait(&w);
    size_t ra_got = ra.got, rb_got = rb.got;
    int a_same = rb_got == a_len && memcmp(rb.buf, a, a_len) == 0;
    int b_same = ra_got == b_len && memcmp(ra.buf, b, b_len) == 0;
    free(ra.buf);
    free(rb.buf);
    free(a);
    free(b);
    fixture_close(&f);

    CHECK_EQ(sa_err, 0);
    CHECK_EQ(sb_err, 0);
    CHECK_EQ(ra_err, 0);
    CHECK_EQ(rb_err, 0);
    CHECK_EQ(rb_got, a_len);
    CHECK_EQ(ra_got, b_len);
    CHECK(a_same);
    CHECK(b_same);
    CHECK_EQ(result, 0);
}

static void test_copy_both_ways(void)
{
    run_both_ways(&copy_transport, 3u << 20, 2u << 20, 0, 0);
}

static void test_empty_streams(void)
{
    run_both_ways(&copy_transport, 0, 0, 0, 0);
}

/* Both readers start late: the worker's output buffers fill, it must stop
 * reading and resume, losing nothing. */
static void test_backpressure(void)
{
    run_both_ways(&copy_transport, 8u << 20, 8u << 20, 300, 200);
}

static void test_half_close(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &copy_transport, WATM_ROLE_LISTENER, f.internal, f.network, f.ctrl);

    char buf[16];
    CHECK_EQ(write_full(f.app, "hello", 5), 0);
    CHECK_EQ(shutdown(f.app, SHUT_WR), 0);
    CHECK_EQ(read_full(f.peer, buf, 5), 0);
    CHECK_MEM(buf, "hello", 5);
    CHECK_EQ(read_is_eof(f.peer), 1); /* the app's EOF reached the peer */

    /* The other direction still flows after the first one closed. */
    CHECK_EQ(write_full(f.peer, "world!", 6), 0);
    CHECK_EQ(read_full(f.app, buf, 6), 0);
    CHECK_MEM(buf, "world!", 6);
    CHECK_EQ(write_full(f.peer, "more", 4), 0);
    CHECK_EQ(read_full(f.app, buf, 4), 0);
    CHECK_MEM(buf, "more", 4);
    CHECK_EQ(shutdown(f.peer, SHUT_WR), 0);
    CHECK_EQ(read_is_eof(f.app), 1);

    CHECK_EQ(worker_wait(&w), 0);
    fixture_close(&f);
}

static void test_cancel_byte(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &copy_transport, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);

    char buf[4];
    CHECK_EQ(write_full(f.app, "ping", 4), 0);
    CHECK_EQ(read_full(f.peer, buf, 4), 0); /* the worker is running */
    CHECK_EQ(write_full(f.ctrl_host, "\0", 1), 0);
    CHECK_EQ(worker_wait(&w), -WATM_ECANCELED);
    fixture_close(&f);
}

static void test_cancel_eof(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &copy_transport, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);
    close(f.ctrl_host);
    f.ctrl_host = -1;
    CHECK_EQ(worker_wait(&w), -WATM_ECANCELED);
    fixture_close(&f);
}

/* Cancel while both directions are blocked on a full buffer. */
static void test_cancel_while_blocked(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &copy_transport, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);
    uint8_t *junk = test_data(4u << 20, 3);
    struct sender s;
    sender_spawn(&s, f.app, junk, 4u << 20, 5, false);
    usleep(100 * 1000); /* nobody reads f.peer: everything fills up */
    CHECK_EQ(write_full(f.ctrl_host, "\0", 1), 0);
    int r = worker_wait(&w);
    fixture_close(&f); /* unblocks the sender with EPIPE */
    sender_wait(&s);
    free(junk);
    CHECK_EQ(r, -WATM_ECANCELED);
}

/* ---- length-changing transforms ---------------------------------------- */

/* wrap: each chunk becomes [len_hi len_lo payload], and end of stream
 * emits a 0-length frame; unwrap: strips the framing across any chunking,
 * and refuses an end of stream without the trailer. */
struct deframe {
    uint8_t hdr[2];
    size_t have_hdr;
    size_t left;
    bool trailer;
};

static ssize_t frame_wrap(struct watm_stream *s, const uint8_t *in, size_t len,
                          uint8_t *out, size_t cap)
{
    (void)s;
    if (len + 2 > cap || len > 0xFFFF)
        return -WATM_ENOBUFS;
    out[0] = (uint8_t)(len >> 8);
    out[1] = (uint8_t)len;
    if (len)
        memcpy(out + 2, in, len);
    return (ssize_t)len + 2;
}

static ssize_t frame_unwrap(struct watm_stream *s, const uint8_t *in, size_t len,
                            uint8_t *out, size_t cap)
{
    if (s->user == NULL && (s->user = calloc(1, sizeof(struct deframe))) == NULL)
        return -WATM_ENOMEM;
    struct deframe *d = s->user;
    if (in == NULL) {
        bool ok = d->trailer && d->have_hdr == 0 && d->left == 0;
        free(d);
        s->user = NULL;
        return ok ? 0 : -WATM_EPROTO;
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (d->trailer)
            return -WATM_EPROTO; /* data after the trailer */
        if (d->left == 0) {
            d->hdr[d->have_hdr++] = in[i++];
            if (d->have_hdr == 2) {
                d->left = (size_t)d->hdr[0] << 8 | d->hdr[1];
                d->have_hdr = 0;
                if (d->left == 0)
                    d->trailer = true;
            }
            continue;
        }
        size_t take = len - i < d->left ? len - i : d->left;
        if (n + take > cap)
            return -WATM_ENOBUFS;
        memcpy(out + n, in + i, take);
        n += take;
        i += take;
        d->left -= take;
    }
    return (ssize_t)n;
}

static const struct watm_transport frame_transport = {
    .name = "frame",
    .wrap = frame_wrap,
    .unwrap = frame_unwrap,
    .wrap_bound = {1, 2},
};

/* wrap: every byte twice (bound {2, 0}); unwrap: every other byte, by
 * stream position, so any chunking works. */
static ssize_t dup_wrap(struct watm_stream *s, const uint8_t *in, size_t len,
                        uint8_t *out, size_t cap)
{
    (void)s;
    if (2 * len > cap)
        return -WATM_ENOBUFS;
    for (size_t i = 0; i < len; i++)
        out[2 * i] = out[2 * i + 1] = in[i];
    return (ssize_t)(2 * len);
}

static ssize_t dup_unwrap(struct watm_stream *s, const uint8_t *in, size_t len,
                          uint8_t *out, size_t cap)
{
    (void)cap;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if ((s->in_pos + i) % 2 == 0)
            out[n++] = in[i];
    return (ssize_t)n;
}

static const struct watm_transport dup_transport = {
    .name = "dup",
    .wrap = dup_wrap,
    .unwrap = dup_unwrap,
    .wrap_bound = {2, 0},
};

/* app1 <-> [worker: dialer] <-> wire <-> [worker: listener] <-> app2, with
 * streams both ways; checks transparency and clean ends. */
static void run_chain(const struct watm_transport *t, size_t a_len, size_t b_len)
{
    int app1[2], wire[2], app2[2], c1[2], c2[2];
    make_pair(app1);
    make_pair(wire);
    make_pair(app2);
    make_pair(c1);
    make_pair(c2);
    uint8_t *a = test_data(a_len, 21);
    uint8_t *b = test_data(b_len, 22);
    struct worker_run w1, w2;
    struct sender sa, sb;
    struct receiver ra, rb;

    worker_spawn(&w1, t, WATM_ROLE_DIALER, app1[1], wire[0], c1[1]);
    worker_spawn(&w2, t, WATM_ROLE_LISTENER, app2[1], wire[1], c2[1]);
    receiver_spawn(&rb, app2[0], a_len + 1, 0);
    receiver_spawn(&ra, app1[0], b_len + 1, 50);
    sender_spawn(&sa, app1[0], a, a_len, 31, true);
    sender_spawn(&sb, app2[0], b, b_len, 32, true);

    int errs = sender_wait(&sa) | sender_wait(&sb) | receiver_wait(&ra) | receiver_wait(&rb);
    int r1 = worker_wait(&w1), r2 = worker_wait(&w2);
    int a_same = rb.got == a_len && memcmp(rb.buf, a, a_len) == 0;
    int b_same = ra.got == b_len && memcmp(ra.buf, b, b_len) == 0;
    size_t ra_got = ra.got, rb_got = rb.got;
    free(ra.buf);
    free(rb.buf);
    free(a);
    free(b);
    int fds[] = {app1[0], app1[1], wire[0], wire[1], app2[0], app2[1], c1[0], c1[1], c2[0], c2[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        close(fds[i]);

    CHECK_EQ(errs, 0);
    CHECK_EQ(rb_got, a_len);
    CHECK_EQ(ra_got, b_len);
    CHECK(a_same);
    CHECK(b_same);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, 0);
}

static void test_chain_framing(void)
{
    run_chain(&frame_transport, 3u << 20, 1u << 20);
}

static void test_chain_doubling(void)
{
    run_chain(&dup_transport, 2u << 20, 3u << 20);
}

/* The wire bytes of the framing transport: one frame per read, then the
 * trailer, then EOF; the transform sees each small write as one chunk. */
static void test_frames_on_the_wire(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &frame_transport, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);

    uint8_t buf[16];
    CHECK_EQ(write_full(f.app, "abc", 3), 0);
    CHECK_EQ(read_full(f.peer, buf, 5), 0);
    CHECK_MEM(buf, "\0\3abc", 5);
    CHECK_EQ(write_full(f.app, "de", 2), 0);
    CHECK_EQ(read_full(f.peer, buf, 4), 0);
    CHECK_MEM(buf, "\0\2de", 4);
    CHECK_EQ(shutdown(f.app, SHUT_WR), 0);
    CHECK_EQ(read_full(f.peer, buf, 2), 0);
    CHECK_MEM(buf, "\0\0", 2); /* the end-of-stream frame */
    CHECK_EQ(read_is_eof(f.peer), 1);

    /* Peer sends framing split over many writes, then the trailer. */
    const uint8_t wire[] = {0, 4, 'w', 'x', 'y', 'z', 0, 1, '!', 0, 0};
    for (size_t i = 0; i < sizeof wire; i++) {
        CHECK_EQ(write_full(f.peer, wire + i, 1), 0);
        usleep(1000);
    }
    CHECK_EQ(read_full(f.app, buf, 5), 0);
    CHECK_MEM(buf, "wxyz!", 5);
    CHECK_EQ(shutdown(f.peer, SHUT_WR), 0);
    CHECK_EQ(read_is_eof(f.app), 1);
    CHECK_EQ(worker_wait(&w), 0);
    fixture_close(&f);
}

/* A transform error ends the worker with that error. */
static ssize_t fail_after_10(struct watm_stream *s, const uint8_t *in, size_t len,
                             uint8_t *out, size_t cap)
{
    (void)cap;
    if (s->in_pos + len > 10)
        return -WATM_EPROTO;
    memcpy(out, in, len);
    return (ssize_t)len;
}

static void test_transform_error(void)
{
    const struct watm_transport t = {.name = "fail", .unwrap = fail_after_10};
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &t, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);
    char buf[8];
    CHECK_EQ(write_full(f.peer, "12345", 5), 0);
    CHECK_EQ(read_full(f.app, buf, 5), 0);
    CHECK_EQ(write_full(f.peer, "6789012", 7), 0);
    CHECK_EQ(worker_wait(&w), -WATM_EPROTO);
    fixture_close(&f);
}

/* A peer that vanishes while data is pending ends the worker with an error,
 * not a hang or a crash. */
static void test_peer_reset(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &copy_transport, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);
    close(f.peer);
    f.peer = -1;
    uint8_t *junk = test_data(1u << 20, 4);
    struct sender s;
    sender_spawn(&s, f.app, junk, 1u << 20, 6, false);
    int r = worker_wait(&w);
    fixture_close(&f); /* unblocks the sender */
    sender_wait(&s);
    free(junk);
    /* Writing to the vanished network side fails: EPIPE (or ECONNRESET). */
    CHECK(r == -WATM_EPIPE || r == -WATM_ECONNRESET);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    check_watchdog(120);
    RUN(test_copy_both_ways);
    RUN(test_empty_streams);
    RUN(test_backpressure);
    RUN(test_half_close);
    RUN(test_cancel_byte);
    RUN(test_cancel_eof);
    RUN(test_cancel_while_blocked);
    RUN(test_chain_framing);
    RUN(test_chain_doubling);
    RUN(test_frames_on_the_wire);
    RUN(test_transform_error);
    RUN(test_peer_reset);
    return check_main_result();
}
