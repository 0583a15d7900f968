/*
 * tests/wasi/test_wasi_poll.c - poll_oneoff: clocks (relative, absolute,
 * realtime, monotonic), fd readiness with nbytes and hangup, per-
 * subscription errors, and wasi_ctx_wake().
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wasi_test.h"

#define EV_CLOCK 0
#define EV_READ 1
#define EV_WRITE 2
#define ABSTIME 1
#define HANGUP 1
#define MS 1000000ull

static void sub_clock(fx *f, uint32_t i, uint64_t ud, uint32_t id,
                      uint64_t timeout, uint16_t flags)
{
    uint32_t a = A_SUBS + 48 * i;
    memset(f->mem + a, 0x5A, 48); /* padding must not matter */
    st64(f, a, ud);
    f->mem[a + 8] = EV_CLOCK;
    st32(f, a + 16, id);
    st64(f, a + 24, timeout);
    st64(f, a + 32, 0);
    st16(f, a + 40, flags);
}

static void sub_fd(fx *f, uint32_t i, uint64_t ud, uint8_t type, uint32_t fd)
{
    uint32_t a = A_SUBS + 48 * i;
    memset(f->mem + a, 0x5A, 48);
    st64(f, a, ud);
    f->mem[a + 8] = type;
    st32(f, a + 16, fd);
}

static uint64_t ev_ud(fx *f, uint32_t i) { return ld64(f, A_EVS + 32 * i); }
static uint16_t ev_err(fx *f, uint32_t i) { return ld16(f, A_EVS + 32 * i + 8); }
static uint8_t ev_type(fx *f, uint32_t i) { return f->mem[A_EVS + 32 * i + 10]; }
static uint64_t ev_nbytes(fx *f, uint32_t i)
{
    return ld64(f, A_EVS + 32 * i + 16);
}
static uint16_t ev_flags(fx *f, uint32_t i)
{
    return ld16(f, A_EVS + 32 * i + 24);
}

static uint64_t now_ns(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int32_t poll_n(fx *f, uint32_t n)
{
    return WCALL(f, "poll_oneoff", A_SUBS, A_EVS, n, A_OUT);
}

typedef struct sock_fx {
    fx f;
    int peer;
    uint32_t fd;
} sock_fx;

static int setup(void **state)
{
    static sock_fx s;
    fx_init(&s.f, NULL);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s.peer = sv[0];
    assert_int_equal(wasi_fd_insert(s.f.ctx, sv[1], WASI_FD_AUTO, &s.fd), 0);
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    sock_fx *s = *state;
    close(s->peer);
    fx_fini(&s->f);
    return 0;
}

static void test_relative_clock_sleeps(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    for (uint32_t id = 0; id < 2; id++) {
        sub_clock(f, 0, 0x1122334455667788ull, id, 60 * MS, 0);
        uint64_t t0 = now_ns(CLOCK_MONOTONIC);
        assert_int_equal(poll_n(f, 1), 0);
        uint64_t dt = now_ns(CLOCK_MONOTONIC) - t0;
        assert_true(dt >= 60 * MS);
        assert_true(dt < 1000 * MS);
        assert_int_equal(ld32(f, A_OUT), 1);
        assert_int_equal(ev_ud(f, 0), 0x1122334455667788ull);
        assert_int_equal(ev_err(f, 0), 0);
        assert_int_equal(ev_type(f, 0), EV_CLOCK);
    }
}

static void test_absolute_clocks(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    sub_clock(f, 0, 1, 1, t0 + 50 * MS, ABSTIME);
    assert_int_equal(poll_n(f, 1), 0);
    assert_true(now_ns(CLOCK_MONOTONIC) >= t0 + 50 * MS);
    sub_clock(f, 0, 2, 0, now_ns(CLOCK_REALTIME) + 50 * MS, ABSTIME);
    t0 = now_ns(CLOCK_MONOTONIC);
    assert_int_equal(poll_n(f, 1), 0);
    uint64_t dt = now_ns(CLOCK_MONOTONIC) - t0;
    assert_true(dt >= 40 * MS && dt < 1000 * MS);
    /* a deadline in the past is ready at once */
    sub_clock(f, 0, 3, 0, 1, ABSTIME);
    sub_clock(f, 1, 4, 1, 10000 * MS, 0);
    t0 = now_ns(CLOCK_MONOTONIC);
    assert_int_equal(poll_n(f, 2), 0);
    assert_true(now_ns(CLOCK_MONOTONIC) - t0 < 500 * MS);
    assert_int_equal(ld32(f, A_OUT), 1);
    assert_int_equal(ev_ud(f, 0), 3);
}

static void test_bad_subscriptions_give_error_events(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    sub_fd(f, 0, 10, EV_READ, 999);      /* no such fd */
    sub_clock(f, 1, 11, 7, 0, 0);        /* no such clock */
    sub_clock(f, 2, 12, 1, 5000 * MS, 0); /* would block: must not */
    sub_fd(f, 3, 13, 9, s->fd);           /* no such event type */
    sub_clock(f, 4, 14, 1, 0, 0x2);       /* unknown clock flag */
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    assert_int_equal(poll_n(f, 5), 0);
    assert_true(now_ns(CLOCK_MONOTONIC) - t0 < 1000 * MS);
    assert_int_equal(ld32(f, A_OUT), 4);
    assert_int_equal(ev_ud(f, 0), 10);
    assert_int_equal(ev_err(f, 0), WASI_EBADF);
    assert_int_equal(ev_type(f, 0), EV_READ);
    assert_int_equal(ev_ud(f, 1), 11);
    assert_int_equal(ev_err(f, 1), WASI_EINVAL);
    assert_int_equal(ev_ud(f, 2), 13);
    assert_int_equal(ev_err(f, 2), WASI_EINVAL);
    assert_int_equal(ev_ud(f, 3), 14);
    assert_int_equal(ev_err(f, 3), WASI_EINVAL);
}

typedef struct writer {
    int fd;
    const char *data;
    long delay_ms;
    wasi_ctx *wake; /* wake instead of writing */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    struct timespec ts = {0, w->delay_ms * 1000000};
    nanosleep(&ts, NULL);
    if (w->wake) {
        wasi_ctx_wake(w->wake);
    } else {
        ssize_t r = write(w->fd, w->data, strlen(w->data));
        (void)r;
    }
    return NULL;
}

static void test_socket_becomes_readable(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    sub_fd(f, 0, 100, EV_READ, s->fd);
    sub_clock(f, 1, 101, 1, 5000 * MS, 0);
    writer w = {s->peer, "12345", 80, NULL};
    pthread_t t;
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    pthread_create(&t, NULL, writer_main, &w);
    assert_int_equal(poll_n(f, 2), 0);
    uint64_t dt = now_ns(CLOCK_MONOTONIC) - t0;
    pthread_join(t, NULL);
    assert_true(dt >= 70 * MS && dt < 4000 * MS);
    assert_int_equal(ld32(f, A_OUT), 1);
    assert_int_equal(ev_ud(f, 0), 100);
    assert_int_equal(ev_type(f, 0), EV_READ);
    assert_int_equal(ev_err(f, 0), 0);
    assert_int_equal(ev_nbytes(f, 0), 5);
    assert_int_equal(ev_flags(f, 0), 0);
    /* write readiness and read readiness together */
    sub_fd(f, 0, 200, EV_WRITE, s->fd);
    sub_fd(f, 1, 201, EV_READ, s->fd);
    assert_int_equal(poll_n(f, 2), 0);
    assert_int_equal(ld32(f, A_OUT), 2);
    assert_int_equal(ev_ud(f, 0), 200);
    assert_int_equal(ev_type(f, 0), EV_WRITE);
    assert_int_equal(ev_ud(f, 1), 201);
}

static void test_timeout_when_nothing_comes(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    sub_fd(f, 0, 1, EV_READ, s->fd);
    sub_clock(f, 1, 2, 1, 50 * MS, 0);
    assert_int_equal(poll_n(f, 2), 0);
    assert_int_equal(ld32(f, A_OUT), 1);
    assert_int_equal(ev_ud(f, 0), 2);
    assert_int_equal(ev_type(f, 0), EV_CLOCK);
}

static void test_hangup(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    close(s->peer);
    s->peer = dup(0);
    sub_fd(f, 0, 7, EV_READ, s->fd);
    assert_int_equal(poll_n(f, 1), 0);
    assert_int_equal(ld32(f, A_OUT), 1);
    assert_int_equal(ev_flags(f, 0), HANGUP);
    assert_int_equal(ev_nbytes(f, 0), 0);
}

static void test_in_and_out_may_overlap(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    sub_clock(f, 0, 1, 1, 0, 0);
    sub_clock(f, 1, 2, 1, 0, 0);
    assert_int_equal(WCALL(f, "poll_oneoff", A_SUBS, A_SUBS, 2, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 2);
    assert_int_equal(ld64(f, A_SUBS), 1);
    assert_int_equal(ld64(f, A_SUBS + 32), 2);
}

static void test_wake_ends_a_blocked_poll(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    sub_fd(f, 0, 1, EV_READ, s->fd); /* never readable */
    writer w = {-1, NULL, 60, f->ctx};
    pthread_t t;
    uint64_t t0 = now_ns(CLOCK_MONOTONIC);
    pthread_create(&t, NULL, writer_main, &w);
    assert_int_equal(WTRAP(f, "poll_oneoff", A_SUBS, A_EVS, 1, A_OUT),
                     WASM_TRAP_INTERRUPTED);
    pthread_join(t, NULL);
    assert_true(now_ns(CLOCK_MONOTONIC) - t0 >= 50 * MS);
    /* sticky until cleared, even for a clock-only poll */
    sub_clock(f, 0, 1, 1, 10000 * MS, 0);
    assert_int_equal(WTRAP(f, "poll_oneoff", A_SUBS, A_EVS, 1, A_OUT),
                     WASM_TRAP_INTERRUPTED);
    wasi_ctx_clear_wake(f->ctx);
    sub_clock(f, 0, 1, 1, 10 * MS, 0);
    assert_int_equal(poll_n(f, 1), 0);
}

static void test_files_and_config_are_always_ready(void **state)
{
    (void)state;
    wasi_options o = {.config = "0123456789", .config_len = 10};
    fx f;
    fx_init(&f, &o);
    uint32_t cfd;
    assert_int_equal(wasi_config_fd_open(f.ctx, &cfd), 0);
    sub_fd(&f, 0, 1, EV_READ, cfd);
    sub_fd(&f, 1, 2, EV_WRITE, cfd);
    assert_int_equal(poll_n(&f, 2), 0);
    assert_int_equal(ld32(&f, A_OUT), 2);
    assert_int_equal(ev_nbytes(&f, 0), 10);
    fx_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_relative_clock_sleeps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_absolute_clocks, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_bad_subscriptions_give_error_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_becomes_readable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_timeout_when_nothing_comes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hangup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_in_and_out_may_overlap, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wake_ends_a_blocked_poll, setup,
                                        teardown),
        cmocka_unit_test(test_files_and_config_are_always_ready),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
