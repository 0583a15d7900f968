/*
 * tests/wasi/guest/wasi_guest.c - a wasm32-wasi test program (clang
 * --target=wasm32-wasi) that the engine tests run under the WASI layer.
 *
 * argv[1] names the scenario; further arguments depend on it. The program
 * exits 0 when every check passes; a failed check prints the line and the
 * condition to stderr and exits with 100 + (line % 100), so the host side
 * can tell the checks apart. Host-dependent answers are checked with raw
 * __wasi_* calls, so that wasi-libc's own handling does not hide them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "wasi_guest:%d: check failed: %s\n", __LINE__,   \
                    #cond);                                                  \
            exit(100 + __LINE__ % 100);                                      \
        }                                                                    \
    } while (0)

static __wasi_timestamp_t now(__wasi_clockid_t id)
{
    __wasi_timestamp_t t = 0;
    CHECK(__wasi_clock_time_get(id, 1, &t) == 0);
    return t;
}

/* The preopen fd whose guest name is `name`, or -1. */
static int find_preopen(const char *name)
{
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t ps;
        if (__wasi_fd_prestat_get(fd, &ps) != 0)
            return -1;
        char buf[256] = {0};
        if (ps.u.dir.pr_name_len >= sizeof buf)
            continue;
        CHECK(__wasi_fd_prestat_dir_name(fd, (uint8_t *)buf,
                                         ps.u.dir.pr_name_len) == 0);
        if (strcmp(buf, name) == 0)
            return (int)fd;
    }
    return -1;
}

static int do_stdout(void)
{
    printf("hello from wasm\n");
    fflush(stdout);
    return 0;
}

/* argv: args "two words" "" ; environ: WATER_TEST=yes, EMPTY= */
static int do_args(int argc, char **argv)
{
    CHECK(argc == 4);
    CHECK(strcmp(argv[2], "two words") == 0);
    CHECK(strcmp(argv[3], "") == 0);
    CHECK(getenv("WATER_TEST") && strcmp(getenv("WATER_TEST"), "yes") == 0);
    CHECK(getenv("EMPTY") && strcmp(getenv("EMPTY"), "") == 0);
    CHECK(getenv("HOME") == NULL); /* nothing leaks from the host */
    return 0;
}

/* /data is granted read-only and holds hello.txt; ../outside.txt exists
 * next to the granted directory on the host. */
static int do_files(void)
{
    FILE *fp = fopen("/data/hello.txt", "r");
    CHECK(fp != NULL);
    char buf[64] = {0};
    CHECK(fgets(buf, sizeof buf, fp) != NULL);
    CHECK(strcmp(buf, "hello, file\n") == 0);
    fclose(fp);
    CHECK(fopen("/data/hello.txt", "w") == NULL);
    CHECK(fopen("/data/new.txt", "w") == NULL);
    CHECK(fopen("/outside.txt", "r") == NULL);
    int dir = find_preopen("/data");
    CHECK(dir >= 3);
    __wasi_fd_t fd;
    const char *esc = "../outside.txt";
    CHECK(__wasi_path_open(dir, 0, esc, 0, __WASI_RIGHTS_FD_READ, 0, 0,
                           &fd) == __WASI_ERRNO_NOTCAPABLE);
    CHECK(__wasi_path_open(dir, 0, "sub/../../outside.txt", 0,
                           __WASI_RIGHTS_FD_READ, 0, 0,
                           &fd) == __WASI_ERRNO_NOTCAPABLE);
    CHECK(__wasi_path_open(dir, 0, "hello.txt", 0, __WASI_RIGHTS_FD_READ, 0,
                           0, &fd) == 0);
    CHECK(__wasi_fd_close(fd) == 0);
    return 0;
}

/* argv[2]: the guest fd of a socket whose peer the host keeps. */
static int do_nonblock(char **argv)
{
    __wasi_fd_t fd = (__wasi_fd_t)atoi(argv[2]);
    __wasi_fdstat_t st;
    CHECK(__wasi_fd_fdstat_get(fd, &st) == 0);
    CHECK(st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM);
    CHECK(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK) == 0);
    CHECK(__wasi_fd_fdstat_get(fd, &st) == 0);
    CHECK(st.fs_flags & __WASI_FDFLAGS_NONBLOCK);
    char buf[16];
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_size_t n = 0;
    CHECK(__wasi_fd_read(fd, &iov, 1, &n) == __WASI_ERRNO_AGAIN);
    ssize_t r = read(fd, buf, sizeof buf); /* through wasi-libc too */
    CHECK(r == -1 && errno == EAGAIN);
    __wasi_filesize_t pos;
    CHECK(__wasi_fd_seek(fd, 0, __WASI_WHENCE_CUR, &pos) ==
          __WASI_ERRNO_SPIPE);
    __wasi_ciovec_t out = {(const uint8_t *)"ping", 4};
    CHECK(__wasi_fd_write(fd, &out, 1, &n) == 0 && n == 4);
    return 0;
}

static int do_poll_clock(void)
{
    __wasi_subscription_t sub = {0};
    __wasi_event_t ev;
    __wasi_size_t n = 0;
    sub.userdata = 0xC10C;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = 100 * 1000000ull;
    __wasi_timestamp_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    CHECK(__wasi_poll_oneoff(&sub, &ev, 1, &n) == 0);
    __wasi_timestamp_t dt = now(__WASI_CLOCKID_MONOTONIC) - t0;
    CHECK(n == 1 && ev.userdata == 0xC10C && ev.error == 0);
    CHECK(ev.type == __WASI_EVENTTYPE_CLOCK);
    CHECK(dt >= 100 * 1000000ull && dt < 2000 * 1000000ull);
    /* absolute realtime deadline 50 ms ahead */
    sub.u.u.clock.id = __WASI_CLOCKID_REALTIME;
    sub.u.u.clock.timeout = now(__WASI_CLOCKID_REALTIME) + 50 * 1000000ull;
    sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
    t0 = now(__WASI_CLOCKID_MONOTONIC);
    CHECK(__wasi_poll_oneoff(&sub, &ev, 1, &n) == 0 && n == 1);
    dt = now(__WASI_CLOCKID_MONOTONIC) - t0;
    CHECK(dt >= 40 * 1000000ull && dt < 2000 * 1000000ull);
    usleep(20000); /* libc's sleep path: poll_oneoff too */
    return 0;
}

/* argv[2]: a socket fd; the host writes "abc" to its peer after ~100 ms. */
static int do_poll_socket(char **argv)
{
    __wasi_fd_t fd = (__wasi_fd_t)atoi(argv[2]);
    __wasi_subscription_t sub[3] = {0};
    __wasi_event_t ev[3];
    __wasi_size_t n = 0;
    sub[0].userdata = 1;
    sub[0].u.tag = __WASI_EVENTTYPE_FD_READ;
    sub[0].u.u.fd_read.file_descriptor = fd;
    sub[1].userdata = 2;
    sub[1].u.tag = __WASI_EVENTTYPE_CLOCK;
    sub[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub[1].u.u.clock.timeout = 5000 * 1000000ull;
    sub[2].userdata = 3;
    sub[2].u.tag = __WASI_EVENTTYPE_FD_READ;
    sub[2].u.u.fd_read.file_descriptor = 999; /* bad fd: an error event */
    CHECK(__wasi_poll_oneoff(sub, ev, 3, &n) == 0);
    CHECK(n == 1 && ev[0].userdata == 3 && ev[0].error == __WASI_ERRNO_BADF);
    __wasi_timestamp_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    CHECK(__wasi_poll_oneoff(sub, ev, 2, &n) == 0);
    CHECK(n == 1 && ev[0].userdata == 1 && ev[0].error == 0);
    CHECK(ev[0].type == __WASI_EVENTTYPE_FD_READ);
    CHECK(ev[0].fd_readwrite.nbytes == 3);
    CHECK(now(__WASI_CLOCKID_MONOTONIC) - t0 < 4000 * 1000000ull);
    char buf[8] = {0};
    CHECK(read(fd, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0);
    return 0;
}

static int do_random(void)
{
    uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};
    CHECK(__wasi_random_get(a, sizeof a) == 0);
    CHECK(__wasi_random_get(b, sizeof b) == 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(getentropy(b, sizeof b) == 0);
    return 0;
}

/* argv[2]: the expected config text. */
static int do_config(char **argv)
{
    FILE *fp = fopen("/conf/watm.cfg", "r");
    CHECK(fp != NULL);
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    CHECK(n == strlen(argv[2]) && memcmp(buf, argv[2], n) == 0);
    CHECK(fopen("/conf/watm.cfg", "w") == NULL);
    CHECK(fopen("/conf/other", "r") == NULL);
    return 0;
}

int main(int argc, char **argv)
{
    CHECK(argc >= 2);
    const char *s = argv[1];
    if (!strcmp(s, "stdout"))
        return do_stdout();
    if (!strcmp(s, "args"))
        return do_args(argc, argv);
    if (!strcmp(s, "exit_code"))
        exit(42);
    if (!strcmp(s, "exit_zero"))
        __wasi_proc_exit(0);
    if (!strcmp(s, "files"))
        return do_files();
    if (!strcmp(s, "nonblock") && argc == 3)
        return do_nonblock(argv);
    if (!strcmp(s, "poll_clock"))
        return do_poll_clock();
    if (!strcmp(s, "poll_socket") && argc == 3)
        return do_poll_socket(argv);
    if (!strcmp(s, "random"))
        return do_random();
    if (!strcmp(s, "config") && argc == 3)
        return do_config(argv);
    fprintf(stderr, "wasi_guest: unknown scenario %s\n", s);
    return 99;
}
