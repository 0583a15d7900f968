/*
 * tests/wasi/test_wasi_fd.c - the fd table and the fd_* / sock_* calls on
 * stdio, pipes and sockets: numbering, fdstat, NONBLOCK and EAGAIN,
 * blocking reads that wasi_ctx_wake() ends, seek on streams, sockets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "wasi_test.h"

#define FILETYPE_CHARACTER_DEVICE 2
#define FILETYPE_SOCKET_STREAM 6
#define FDFLAG_NONBLOCK 4
#define RIGHT_FD_READ (1u << 1)
#define RIGHT_FD_SEEK (1u << 2)
#define RIGHT_FD_WRITE (1u << 6)

static void socket_pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                     0);
}

static void test_stdout_to_a_pipe(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    wasi_options o = {.stdio = {WASI_STDIO_NONE, WASI_STDIO_FD},
                      .stdio_fd = {-1, p[1], -1}};
    fx f;
    fx_init(&f, &o);
    uint32_t a = st_str(&f, A_BUF, "hello, ");
    uint32_t b = st_str(&f, A_BUF + 64, "world\n");
    st_iov(&f, A_IOV, 0, A_BUF, a);
    st_iov(&f, A_IOV, 1, A_BUF + 64, b);
    assert_int_equal(WCALL(&f, "fd_write", 1, A_IOV, 2, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 13);
    char buf[32] = {0};
    assert_int_equal(read(p[0], buf, sizeof buf), 13);
    assert_string_equal(buf, "hello, world\n");
    assert_int_equal(WCALL(&f, "fd_write", 0, A_IOV, 2, A_OUT), WASI_EBADF);
    assert_int_equal(WCALL(&f, "fd_write", 2, A_IOV, 2, A_OUT), WASI_EBADF);
    assert_int_equal(WCALL(&f, "fd_fdstat_get", 1, A_BUF), 0);
    assert_int_equal(f.mem[A_BUF], 0); /* a pipe: FILETYPE_UNKNOWN */
    /* fd_close on borrowed stdio forgets it but leaves the host fd open. */
    assert_int_equal(WCALL(&f, "fd_close", 1), 0);
    assert_int_equal(WCALL(&f, "fd_close", 1), WASI_EBADF);
    assert_true(fcntl(p[1], F_GETFD) >= 0);
    fx_fini(&f);
    assert_true(fcntl(p[1], F_GETFD) >= 0); /* borrowed: still open */
    close(p[0]);
    close(p[1]);
}

static void test_numbering_and_ownership(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    int sv[2];
    socket_pair(sv);
    uint32_t a, b;
    assert_int_equal(wasi_fd_insert(f.ctx, sv[0], WASI_FD_AUTO, &a), 0);
    assert_int_equal(wasi_fd_insert(f.ctx, sv[1], WASI_FD_SOCKET_STREAM, &b),
                     0);
    assert_int_equal(a, 3); /* above stdio, even when stdio is not granted */
    assert_int_equal(b, 4);
    assert_int_equal(wasi_fd_host(f.ctx, a), sv[0]);
    assert_int_equal(wasi_fd_host(f.ctx, 99), -1);
    assert_int_equal(wasi_fd_close(f.ctx, a), 0);
    assert_int_equal(fcntl(sv[0], F_GETFD), -1); /* the table closed it */
    assert_int_equal(wasi_fd_close(f.ctx, a), WASI_EBADF);
    int sv2[2];
    socket_pair(sv2);
    uint32_t c;
    assert_int_equal(wasi_fd_insert(f.ctx, sv2[0], WASI_FD_AUTO, &c), 0);
    assert_int_equal(c, 3); /* the lowest free number is reused */
    assert_int_equal(wasi_fd_insert(f.ctx, -1, WASI_FD_AUTO, &c), WASI_EBADF);
    assert_int_equal(wasi_fd_insert(f.ctx, sv2[1], WASI_FD_MEMFILE, &c),
                     WASI_EINVAL);
    assert_true(fcntl(sv2[1], F_GETFD) >= 0); /* refused: still the caller's */
    close(sv2[1]);
    /* renumber moves 4 onto 3, closing what 3 held */
    assert_int_equal(WCALL(&f, "fd_renumber", b, 3), 0);
    assert_int_equal(wasi_fd_host(f.ctx, 3), sv[1]);
    assert_int_equal(wasi_fd_host(f.ctx, 4), -1);
    assert_int_equal(fcntl(sv2[0], F_GETFD), -1);
    assert_int_equal(WCALL(&f, "fd_renumber", 4, 3), WASI_EBADF);
    fx_fini(&f);
    assert_int_equal(fcntl(sv[1], F_GETFD), -1); /* freed with the ctx */
}

static void test_table_limit(void **state)
{
    (void)state;
    wasi_options o = {.max_fds = 5};
    fx f;
    fx_init(&f, &o);
    int sv[2];
    socket_pair(sv);
    uint32_t a, b;
    assert_int_equal(wasi_fd_insert(f.ctx, sv[0], WASI_FD_AUTO, &a), 0);
    assert_int_equal(wasi_fd_insert(f.ctx, sv[1], WASI_FD_AUTO, &b), 0);
    int extra = dup(sv[0]);
    assert_int_equal(wasi_fd_insert(f.ctx, extra, WASI_FD_AUTO, &b),
                     WASI_EMFILE);
    close(extra);
    fx_fini(&f);
}

typedef struct sock_fx {
    fx f;
    int peer;
    uint32_t fd;
} sock_fx;

static int sock_setup(void **state)
{
    static sock_fx s;
    fx_init(&s.f, NULL);
    int sv[2];
    socket_pair(sv);
    s.peer = sv[0];
    assert_int_equal(wasi_fd_insert(s.f.ctx, sv[1], WASI_FD_AUTO, &s.fd), 0);
    *state = &s;
    return 0;
}

static int sock_teardown(void **state)
{
    sock_fx *s = *state;
    close(s->peer);
    fx_fini(&s->f);
    return 0;
}

static void test_socket_fdstat_and_seek(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    memset(f->mem + A_BUF, 0xEE, 24);
    assert_int_equal(WCALL(f, "fd_fdstat_get", s->fd, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF], FILETYPE_SOCKET_STREAM);
    assert_int_equal(f->mem[A_BUF + 1], 0); /* padding is zeroed */
    assert_int_equal(ld16(f, A_BUF + 2), 0);
    uint64_t rights = ld64(f, A_BUF + 8);
    assert_true(rights & RIGHT_FD_READ);
    assert_true(rights & RIGHT_FD_WRITE);
    assert_false(rights & RIGHT_FD_SEEK);
    assert_int_equal(WCALL(f, "fd_seek", s->fd, 0, 1, A_OUT), WASI_ESPIPE);
    assert_int_equal(WCALL(f, "fd_seek", s->fd, 5, 0, A_OUT), WASI_ESPIPE);
    assert_int_equal(WCALL(f, "fd_tell", s->fd, A_OUT), WASI_ESPIPE);
    assert_int_equal(WCALL(f, "fd_pread", s->fd, A_IOV, 0, 0, A_OUT),
                     WASI_ESPIPE);
    assert_int_equal(WCALL(f, "fd_filestat_get", s->fd, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF + 16], FILETYPE_SOCKET_STREAM);
    assert_int_equal(WCALL(f, "fd_advise", s->fd, 0, 0, 0), 0);
    assert_int_equal(WCALL(f, "fd_advise", s->fd, 0, 0, 6), WASI_EINVAL);
    assert_int_equal(WCALL(f, "fd_allocate", s->fd, 0, 10), WASI_ENOTSUP);
    assert_int_equal(WCALL(f, "fd_allocate", 77, 0, 10), WASI_EBADF);
    /* rights may be dropped, never added */
    assert_int_equal(WCALL(f, "fd_fdstat_set_rights", s->fd,
                           rights & ~(uint64_t)RIGHT_FD_WRITE, 0), 0);
    st_iov(f, A_IOV, 0, A_BUF, 1);
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 1, A_OUT),
                     WASI_ENOTCAPABLE);
    assert_int_equal(WCALL(f, "fd_fdstat_set_rights", s->fd, rights, 0),
                     WASI_ENOTCAPABLE);
}

static void test_nonblock_gives_eagain(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    assert_int_equal(WCALL(f, "fd_fdstat_set_flags", s->fd, FDFLAG_NONBLOCK),
                     0);
    assert_int_equal(WCALL(f, "fd_fdstat_get", s->fd, A_BUF), 0);
    assert_int_equal(ld16(f, A_BUF + 2), FDFLAG_NONBLOCK);
    st_iov(f, A_IOV, 0, A_BUF, 16);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), WASI_EAGAIN);
    assert_int_equal(WCALL(f, "sock_recv", s->fd, A_IOV, 1, 0, A_OUT,
                           A_OUT + 4), WASI_EAGAIN);
    assert_int_equal(write(s->peer, "abc", 3), 3);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 3);
    assert_memory_equal(f->mem + A_BUF, "abc", 3);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), WASI_EAGAIN);
    /* the sync flags cannot be changed after open */
    assert_int_equal(WCALL(f, "fd_fdstat_set_flags", s->fd, 0x10),
                     WASI_ENOTSUP);
    assert_int_equal(WCALL(f, "fd_fdstat_set_flags", s->fd, 0), 0);
    /* writes that fill the socket buffer end in EAGAIN, not a hang */
    assert_int_equal(WCALL(f, "fd_fdstat_set_flags", s->fd, FDFLAG_NONBLOCK),
                     0);
    st_iov(f, A_IOV, 0, A_BIG, 0x8000);
    int err = 0;
    for (int i = 0; i < 10000 && err == 0; i++)
        err = WCALL(f, "fd_write", s->fd, A_IOV, 1, A_OUT);
    assert_int_equal(err, WASI_EAGAIN);
}

static void test_eof_and_peer_reset(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    assert_int_equal(write(s->peer, "x", 1), 1);
    shutdown(s->peer, SHUT_WR);
    st_iov(f, A_IOV, 0, A_BUF, 16);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 1);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 0); /* EOF */
    close(s->peer);
    s->peer = open("/dev/null", O_RDONLY);
    /* EPIPE, not SIGPIPE (which would kill this test) */
    int err = 0;
    for (int i = 0; i < 4 && err == 0; i++)
        err = WCALL(f, "fd_write", s->fd, A_IOV, 1, A_OUT);
    assert_int_equal(err, WASI_EPIPE);
}

typedef struct waker {
    wasi_ctx *ctx;
    int fd;      /* if >= 0: write "late" here instead of waking */
    long delay_ms;
} waker;

static void *waker_main(void *arg)
{
    waker *w = arg;
    struct timespec ts = {w->delay_ms / 1000, (w->delay_ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
    if (w->fd >= 0) {
        ssize_t r = write(w->fd, "late", 4);
        (void)r;
    } else {
        wasi_ctx_wake(w->ctx);
    }
    return NULL;
}

static void test_blocking_read_waits_then_wake_ends_it(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    st_iov(f, A_IOV, 0, A_BUF, 16);
    /* blocking read: waits for the peer */
    pthread_t t;
    waker w = {f->ctx, s->peer, 50};
    pthread_create(&t, NULL, waker_main, &w);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
    pthread_join(t, NULL);
    assert_int_equal(ld32(f, A_OUT), 4);
    /* blocking read with no data: the wake ends it with a trap */
    waker w2 = {f->ctx, -1, 50};
    pthread_create(&t, NULL, waker_main, &w2);
    assert_int_equal(WTRAP(f, "fd_read", s->fd, A_IOV, 1, A_OUT),
                     WASM_TRAP_INTERRUPTED);
    pthread_join(t, NULL);
    assert_non_null(strstr(fake_trap_message(f->inst), "wasi_ctx_wake"));
    assert_true(wasi_ctx_woken(f->ctx));
    /* sticky: the next blocking call returns at once */
    assert_int_equal(WTRAP(f, "sock_recv", s->fd, A_IOV, 1, 0, A_OUT, A_OUT + 4),
                     WASM_TRAP_INTERRUPTED);
    /* but data that is there is still delivered */
    assert_int_equal(write(s->peer, "ok", 2), 2);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 2);
    wasi_ctx_clear_wake(f->ctx);
    assert_false(wasi_ctx_woken(f->ctx));
    assert_int_equal(write(s->peer, "z", 1), 1);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
}

static void test_sock_send_recv_shutdown(void **state)
{
    sock_fx *s = *state;
    fx *f = &s->f;
    uint32_t n = st_str(f, A_BUF, "ping");
    st_iov(f, A_IOV, 0, A_BUF, n);
    assert_int_equal(WCALL(f, "sock_send", s->fd, A_IOV, 1, 0, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 4);
    char buf[16] = {0};
    assert_int_equal(read(s->peer, buf, sizeof buf), 4);
    assert_string_equal(buf, "ping");
    assert_int_equal(write(s->peer, "pong", 4), 4);
    st_iov(f, A_IOV, 0, A_BUF + 100, 16);
    st16(f, A_OUT + 4, 0xFFFF);
    assert_int_equal(WCALL(f, "sock_recv", s->fd, A_IOV, 1, 1 /* PEEK */,
                           A_OUT, A_OUT + 4), 0);
    assert_int_equal(ld32(f, A_OUT), 4);
    assert_int_equal(ld16(f, A_OUT + 4), 0);
    assert_int_equal(WCALL(f, "sock_recv", s->fd, A_IOV, 1, 0, A_OUT,
                           A_OUT + 4), 0);
    assert_int_equal(ld32(f, A_OUT), 4);
    assert_memory_equal(f->mem + A_BUF + 100, "pong", 4);
    assert_int_equal(WCALL(f, "sock_recv", s->fd, A_IOV, 1, 4, A_OUT,
                           A_OUT + 4), WASI_EINVAL);
    /* WAITALL fills the buffer across two writes */
    st_iov(f, A_IOV, 0, A_BUF + 200, 6);
    waker w = {f->ctx, s->peer, 30};
    assert_int_equal(write(s->peer, "ab", 2), 2);
    pthread_t t;
    pthread_create(&t, NULL, waker_main, &w);
    assert_int_equal(WCALL(f, "sock_recv", s->fd, A_IOV, 1, 2, A_OUT,
                           A_OUT + 4), 0);
    pthread_join(t, NULL);
    assert_int_equal(ld32(f, A_OUT), 6);
    assert_memory_equal(f->mem + A_BUF + 200, "ablate", 6);
    assert_int_equal(WCALL(f, "sock_shutdown", s->fd, 2 /* WR */), 0);
    assert_int_equal(read(s->peer, buf, sizeof buf), 0);
    assert_int_equal(WCALL(f, "sock_shutdown", s->fd, 0), WASI_EINVAL);
    assert_int_equal(WCALL(f, "sock_shutdown", s->fd, 4), WASI_EINVAL);
}

static void test_sock_calls_on_a_pipe(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    int p[2];
    assert_int_equal(pipe(p), 0);
    uint32_t r;
    assert_int_equal(wasi_fd_insert(f.ctx, p[0], WASI_FD_AUTO, &r), 0);
    assert_int_equal(WCALL(&f, "sock_recv", r, A_IOV, 0, 0, A_OUT, A_OUT + 4),
                     WASI_ENOTSOCK);
    assert_int_equal(WCALL(&f, "sock_shutdown", r, 3), WASI_ENOTSOCK);
    assert_int_equal(WCALL(&f, "sock_accept", r, 0, A_OUT), WASI_ENOTSOCK);
    assert_int_equal(WCALL(&f, "fd_seek", r, 0, 1, A_OUT), WASI_ESPIPE);
    assert_int_equal(WCALL(&f, "sock_send", 42, A_IOV, 0, 0, A_OUT),
                     WASI_EBADF);
    assert_int_equal(write(p[1], "pipe", 4), 4);
    st_iov(&f, A_IOV, 0, A_BUF, 16);
    assert_int_equal(WCALL(&f, "fd_read", r, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 4);
    close(p[1]);
    assert_int_equal(WCALL(&f, "fd_read", r, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 0);
    fx_fini(&f);
}

static void test_sock_accept(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    /* abstract address: nothing to clean up on disk */
    snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "water-wasi-%d",
             (int)getpid());
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                                strlen(sa.sun_path + 1));
    assert_int_equal(bind(l, (struct sockaddr *)&sa, len), 0);
    assert_int_equal(listen(l, 4), 0);
    uint32_t lfd;
    assert_int_equal(wasi_fd_insert(f.ctx, l, WASI_FD_AUTO, &lfd), 0);
    /* nothing pending: EAGAIN when asked not to block */
    assert_int_equal(WCALL(&f, "fd_fdstat_set_flags", lfd, FDFLAG_NONBLOCK), 0);
    assert_int_equal(WCALL(&f, "sock_accept", lfd, 0, A_OUT), WASI_EAGAIN);
    assert_int_equal(WCALL(&f, "fd_fdstat_set_flags", lfd, 0), 0);
    int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&sa, len), 0);
    assert_int_equal(WCALL(&f, "sock_accept", lfd, 0, A_OUT), 0);
    uint32_t afd = ld32(&f, A_OUT);
    assert_int_equal(afd, lfd + 1);
    assert_int_equal(WCALL(&f, "fd_fdstat_get", afd, A_BUF), 0);
    assert_int_equal(f.mem[A_BUF], FILETYPE_SOCKET_STREAM);
    assert_int_equal(write(c, "hi", 2), 2);
    st_iov(&f, A_IOV, 0, A_BUF, 16);
    assert_int_equal(WCALL(&f, "fd_read", afd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 2);
    assert_int_equal(WCALL(&f, "sock_accept", lfd, 1, A_OUT), WASI_EINVAL);
    close(c);
    fx_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdout_to_a_pipe),
        cmocka_unit_test(test_numbering_and_ownership),
        cmocka_unit_test(test_table_limit),
        cmocka_unit_test_setup_teardown(test_socket_fdstat_and_seek,
                                        sock_setup, sock_teardown),
        cmocka_unit_test_setup_teardown(test_nonblock_gives_eagain,
                                        sock_setup, sock_teardown),
        cmocka_unit_test_setup_teardown(test_eof_and_peer_reset, sock_setup,
                                        sock_teardown),
        cmocka_unit_test_setup_teardown(
            test_blocking_read_waits_then_wake_ends_it, sock_setup,
            sock_teardown),
        cmocka_unit_test_setup_teardown(test_sock_send_recv_shutdown,
                                        sock_setup, sock_teardown),
        cmocka_unit_test(test_sock_calls_on_a_pipe),
        cmocka_unit_test(test_sock_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
