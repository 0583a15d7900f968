/*
 * tests/wasi/test_wasi_bounds.c - guest pointers that point outside linear
 * memory give EFAULT (or EINVAL for absurd counts), never a crash and never
 * a partial side effect. The fake engine puts PROT_NONE guard pages right
 * after the 64 KiB memory, so a host access past the end would crash here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi_test.h"

typedef struct sfx {
    fx f;
    int peer;     /* the test's end of the socket pair */
    uint32_t fd;  /* the guest's end */
} sfx;

static int setup(void **state)
{
    static sfx s;
    /* fd 3 is the /conf/ directory, the socket is fd 4 */
    wasi_options o = {.config = "cfg", .config_len = 3};
    const char *args[] = {"prog", "arg"};
    o.args = args;
    o.nargs = 2;
    fx_init(&s.f, &o);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    s.peer = sv[0];
    assert_int_equal(wasi_fd_insert(s.f.ctx, sv[1], WASI_FD_AUTO, &s.fd), 0);
    fcntl(s.peer, F_SETFL, O_NONBLOCK);
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    sfx *s = *state;
    close(s->peer);
    fx_fini(&s->f);
    return 0;
}

/* Bytes waiting on the test's end (0 if none). */
static ssize_t peer_read(sfx *s, char *buf, size_t n)
{
    ssize_t r = read(s->peer, buf, n);
    return r < 0 && errno == EAGAIN ? 0 : r;
}

static void test_iovec_buffer_past_the_end(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    char buf[64];
    st_iov(f, A_IOV, 0, A_BUF, 4);
    st_iov(f, A_IOV, 1, MEM_SIZE - 2, 4); /* two bytes inside, two outside */
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 2, A_OUT), WASI_EFAULT);
    assert_int_equal(peer_read(s, buf, sizeof buf), 0); /* nothing was sent */
    st_iov(f, A_IOV, 1, MEM_SIZE, 1);
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 2, A_OUT), WASI_EFAULT);
    st_iov(f, A_IOV, 1, 0xFFFFFFF0u, 0x20); /* wraps around 32 bits */
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 2, A_OUT), WASI_EFAULT);
    st_iov(f, A_IOV, 1, 0x10, 0xFFFFFFFFu);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 2, A_OUT), WASI_EFAULT);
    assert_int_equal(WCALL(f, "sock_send", s->fd, A_IOV, 2, 0, A_OUT),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "sock_recv", s->fd, A_IOV, 2, 0, A_OUT,
                           A_OUT + 8), WASI_EFAULT);
    assert_int_equal(peer_read(s, buf, sizeof buf), 0);
}

static void test_iovec_array_past_the_end(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    assert_int_equal(WCALL(f, "fd_write", s->fd, MEM_SIZE - 12, 2, A_OUT),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_read", s->fd, 0xFFFFFFF8u, 2, A_OUT),
                     WASI_EFAULT);
    /* A count whose byte size overflows 32 bits, or beyond IOV_MAX. */
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 0x20000001u, A_OUT),
                     WASI_EINVAL);
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 1025, A_OUT),
                     WASI_EINVAL);
}

static void test_iovec_at_the_very_end_is_fine(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    char buf[16];
    memcpy(f->mem + MEM_SIZE - 4, "tail", 4);
    st_iov(f, A_IOV, 0, MEM_SIZE - 4, 4);
    st_iov(f, A_IOV, 1, 0xFFFFFFFFu, 0); /* empty buffers are ignored */
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 2, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 4);
    assert_int_equal(peer_read(s, buf, sizeof buf), 4);
    assert_memory_equal(buf, "tail", 4);
    /* 1024 iovecs (IOV_MAX) are accepted. */
    for (uint32_t i = 0; i < 1024; i++)
        st_iov(f, A_BIG, i, A_BUF, i == 0 ? 1 : 0);
    f->mem[A_BUF] = 'x';
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_BIG, 1024, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 1);
    assert_int_equal(peer_read(s, buf, sizeof buf), 1);
}

static void test_result_pointer_checked_before_the_side_effect(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    char buf[16];
    memcpy(f->mem + A_BUF, "data", 4);
    st_iov(f, A_IOV, 0, A_BUF, 4);
    assert_int_equal(WCALL(f, "fd_write", s->fd, A_IOV, 1, MEM_SIZE - 3),
                     WASI_EFAULT);
    assert_int_equal(peer_read(s, buf, sizeof buf), 0);
    assert_int_equal(write(s->peer, "in", 2), 2);
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, MEM_SIZE), WASI_EFAULT);
    /* The bytes are still there for a correct call. */
    assert_int_equal(WCALL(f, "fd_read", s->fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 2);
}

static void test_other_pointers(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    assert_int_equal(WCALL(f, "fd_fdstat_get", s->fd, MEM_SIZE - 23),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_filestat_get", s->fd, MEM_SIZE - 63),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "args_sizes_get", A_OUT, MEM_SIZE - 1),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "args_get", A_OUT, MEM_SIZE - 4), WASI_EFAULT);
    assert_int_equal(WCALL(f, "args_get", MEM_SIZE - 4, A_BUF), WASI_EFAULT);
    assert_int_equal(WCALL(f, "environ_sizes_get", MEM_SIZE, A_OUT),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "random_get", MEM_SIZE - 8, 9), WASI_EFAULT);
    assert_int_equal(WCALL(f, "random_get", 0xFFFFFFFFu, 2), WASI_EFAULT);
    assert_int_equal(WCALL(f, "clock_time_get", 1, 0, MEM_SIZE - 7),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "clock_res_get", 0, 0xFFFFFFFDu), WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_seek", s->fd, 0, 0, MEM_SIZE), WASI_ESPIPE);
}

static void test_poll_pointers(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    /* one relative clock subscription of 0 ns */
    memset(f->mem + A_SUBS, 0, 48);
    f->mem[A_SUBS + 8] = 0;
    st32(f, A_SUBS + 16, 1);
    assert_int_equal(WCALL(f, "poll_oneoff", MEM_SIZE - 47, A_EVS, 1, A_OUT),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "poll_oneoff", A_SUBS, MEM_SIZE - 31, 1, A_OUT),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "poll_oneoff", A_SUBS, A_EVS, 1, MEM_SIZE - 3),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "poll_oneoff", A_SUBS, A_EVS, 0x10000000u, A_OUT),
                     WASI_EINVAL);
    assert_int_equal(WCALL(f, "poll_oneoff", A_SUBS, A_EVS, 0, A_OUT),
                     WASI_EINVAL);
    assert_int_equal(WCALL(f, "poll_oneoff", A_SUBS, A_EVS, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 1);
}

static void test_paths(void **state)
{
    sfx *s = *state;
    fx *f = &s->f;
    uint32_t n = st_str(f, A_PATH, "watm.cfg");
    assert_int_equal(s->fd, 4);
    assert_int_equal(WCALL(f, "path_open", s->fd, 0, A_PATH, n, 0, 0, 0, 0,
                           A_OUT), WASI_ENOTDIR);
    assert_int_equal(WCALL(f, "path_open", 3, 0, MEM_SIZE - 2, 5, 0, 0, 0, 0,
                           A_OUT), WASI_EFAULT);
    assert_int_equal(WCALL(f, "path_open", 3, 0, 0xFFFFFFFFu, 2, 0, 0, 0, 0,
                           A_OUT), WASI_EFAULT);
    assert_int_equal(WCALL(f, "path_open", 3, 0, A_PATH, n, 0, 2, 0, 0,
                           MEM_SIZE - 1), WASI_EFAULT);
    assert_int_equal(WCALL(f, "path_filestat_get", 3, 0, A_PATH, n,
                           MEM_SIZE - 8), WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_prestat_get", 3, MEM_SIZE - 4), WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_prestat_dir_name", 3, MEM_SIZE - 3, 100),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_readdir", 3, MEM_SIZE - 10, 100, 0, A_OUT),
                     WASI_EFAULT);
    assert_int_equal(WCALL(f, "fd_readdir", 3, A_BUF, 100, 0, MEM_SIZE),
                     WASI_EFAULT);
    /* nothing was opened by the failed calls */
    assert_int_equal(WCALL(f, "path_open", 3, 0, A_PATH, n, 0, 2, 0, 0, A_OUT),
                     0);
    assert_int_equal(ld32(f, A_OUT), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_iovec_buffer_past_the_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iovec_array_past_the_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_iovec_at_the_very_end_is_fine,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_result_pointer_checked_before_the_side_effect, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_other_pointers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_pointers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
