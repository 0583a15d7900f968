/*
 * test_api.c - libwater's API end to end (cmocka): bad module bytes, a
 * module that is no transport, refused and unknown-host dials, the
 * allow-list of the fixed dialer, a trap reported by water_conn_wait, and
 * water_close of a running connection (one that stops on the control pipe,
 * one that never polls and needs the interrupt), all over 127.0.0.1.
 *
 * Modules: E2E_TRANSPORTS_DIR (the SDK's plain, xor) and E2E_WASM_DIR (this
 * suite's WAT modules); a test whose module is not built is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "water.h"

#define STOP_MS 300 /* stop_timeout_ms of the transports made here */

/* ---- helpers ------------------------------------------------------------- */

static uint8_t *read_file(const char *dir, const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

static water_transport *load(const char *dir, const char *name, const char *config,
                             const water_options *opts)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, R_OK) != 0) {
        print_message("skipping: %s is not built\n", path);
        return NULL;
    }
    water_error err;
    water_transport *t = water_transport_load(path, config, config ? strlen(config) : 0,
                                              opts, &err);
    if (!t)
        fail_msg("loading %s: %s", path, err.message);
    return t;
}

#define LOAD_OR_SKIP(var, dir, name, config, opts)                                 \
    water_transport *var = load(dir, name, config, opts);                          \
    if (!var)                                                                      \
        skip()

static water_options quiet_opts(void)
{
    water_options o;
    memset(&o, 0, sizeof o);
    o.stop_timeout_ms = STOP_MS;
    o.dial_timeout_ms = 5000;
    o.log_level = WATER_LOG_ERROR;
    return o;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A listening socket on 127.0.0.1, port 0; *addr gets "127.0.0.1:PORT". */
static int listener(char *addr, size_t len)
{
    water_error err;
    int fd = water_listen_tcp("127.0.0.1:0", addr, len, &err);
    if (fd < 0)
        fail_msg("listen: %s", err.message);
    return fd;
}

/* "127.0.0.1:PORT" of a port that refuses: bound, not listening. */
static int refusing_port(char *addr, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &sl), 0);
    snprintf(addr, len, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Echo server thread: accepts one connection (within 10 s) and echoes it
 * until EOF or an error. */
typedef struct echo {
    int lfd;
    pthread_t th;
    char addr[64];
} echo;

static void *echo_main(void *arg)
{
    echo *e = arg;
    struct pollfd p = {.fd = e->lfd, .events = POLLIN};
    if (poll(&p, 1, 10000) != 1)
        return NULL;
    int c = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return NULL;
    set_timeouts(c, 10);
    char buf[65536];
    for (;;) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = send(c, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w <= 0)
                goto out;
            off += w;
        }
    }
out:
    close(c);
    return NULL;
}

static void echo_start(echo *e)
{
    e->lfd = listener(e->addr, sizeof e->addr);
    assert_int_equal(pthread_create(&e->th, NULL, echo_main, e), 0);
}

static void echo_stop(echo *e)
{
    pthread_join(e->th, NULL);
    close(e->lfd);
}

/* Sends len pattern bytes on fd (first byte `first`) and reads them back. */
static void roundtrip(int fd, size_t len, uint8_t first)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 131 + (i >> 8));
    out[0] = first;
    set_timeouts(fd, 10);
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, out + off, len - off, MSG_NOSIGNAL);
        assert_true(n > 0);
        off += (size_t)n;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = recv(fd, in + off, len - off, 0);
        if (n <= 0)
            fail_msg("echo: got %zu of %zu bytes back (%s)", off, len,
                     n == 0 ? "EOF" : strerror(errno));
        off += (size_t)n;
    }
    assert_memory_equal(in, out, len);
    free(out);
    free(in);
}

/* ---- loading ------------------------------------------------------------- */

static void test_garbage_bytes(void **state)
{
    (void)state;
    water_error err;
    uint8_t junk[1000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)((x = x * 1103515245u + 12345u) >> 16);
    junk[0] = 'J';
    assert_null(water_transport_new(junk, sizeof junk, NULL, 0, NULL, &err));
    assert_int_equal(err.code, WATER_ERR_MODULE);
    assert_non_null(strstr(err.message, "magic"));

    /* A valid header, then garbage. */
    memcpy(junk, "\0asm\1\0\0\0", 8);
    assert_null(water_transport_new(junk, sizeof junk, NULL, 0, NULL, &err));
    assert_int_equal(err.code, WATER_ERR_MODULE);
    assert_true(strlen(err.message) > 10);
    print_message("header + garbage: %s\n", err.message);

    assert_null(water_transport_new(junk, 0, NULL, 0, NULL, &err));
    assert_int_equal(err.code, WATER_ERR_MODULE);
    assert_null(water_transport_new(NULL, 10, NULL, 0, NULL, &err));
    assert_int_equal(err.code, WATER_ERR_ARGS);
}

static void test_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *wasm = read_file(E2E_TRANSPORTS_DIR, "plain.wasm", &len);
    if (!wasm)
        skip();
    water_error err;
    size_t cuts[] = {len - 1, len / 2, 9, 4};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_null(water_transport_new(wasm, cuts[i], NULL, 0, NULL, &err));
        assert_int_equal(err.code, WATER_ERR_MODULE);
        assert_true(strlen(err.message) > 10);
    }
    free(wasm);
}

static void test_not_a_transport(void **state)
{
    (void)state;
    size_t len;
    uint8_t *wasm = read_file(E2E_WASM_DIR, "not_transport.wasm", &len);
    if (!wasm)
        skip();
    water_error err;
    assert_null(water_transport_new(wasm, len, NULL, 0, NULL, &err));
    assert_int_equal(err.code, WATER_ERR_ABI);
    assert_non_null(strstr(err.message, "not a WATER transport"));
    free(wasm);
}

static void test_missing_file(void **state)
{
    (void)state;
    water_error err;
    const char *path = E2E_WASM_DIR "/no-such-module.wasm";
    assert_null(water_transport_load(path, NULL, 0, NULL, &err));
    assert_non_null(strstr(err.message, path));
    assert_non_null(strstr(err.message, "No such file"));
}

static void test_info(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(v1, E2E_TRANSPORTS_DIR, "xor.wasm", NULL, &o);
    LOAD_OR_SKIP(v0, E2E_TRANSPORTS_DIR, "xor.v0.wasm", NULL, &o);
    LOAD_OR_SKIP(tg, E2E_WASM_DIR, "tinygo_v0.wasm", NULL, &o);
    LOAD_OR_SKIP(rs, E2E_WASM_DIR, "rust_v0.wasm", NULL, &o);
    water_info i;
    water_transport_info(v1, &i);
    assert_true(i.abi_version == 1 && i.dial && i.dial_fixed && i.accept && i.relay &&
                i.uses_water_dial);
    water_transport_info(v0, &i);
    assert_true(i.abi_version == 0 && i.dial && !i.dial_fixed && i.accept && i.relay);
    water_transport_info(tg, &i);
    assert_true(i.abi_version == 0 && i.dial && i.accept && i.relay && !i.uses_water_dial);
    water_transport_info(rs, &i);
    assert_true(i.abi_version == 0 && i.dial && i.accept && i.relay);
    water_transport_free(v1);
    water_transport_free(v0);
    water_transport_free(tg);
    water_transport_free(rs);
}

/* ---- dialing ------------------------------------------------------------- */

/* Ports past 65535 are refused, not wrapped (getaddrinfo would take
 * "99999" as 34463); addresses without a port likewise. */
static void test_bad_addresses(void **state)
{
    (void)state;
    water_error err;
    static const char *const bad[] = {"127.0.0.1:99999", "127.0.0.1:65536",
                                      "127.0.0.1", "127.0.0.1:", "[::1]9000",
                                      "127.0.0.1:12ab"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(water_listen_tcp(bad[i], NULL, 0, &err), -1);
        assert_int_equal(err.code, WATER_ERR_ARGS);
        assert_non_null(strstr(err.message, bad[i]));
        assert_int_equal(water_connect_tcp(bad[i], 1000, &err), -1);
    }
    char bound[64];
    int fd = water_listen_tcp("127.0.0.1:0", bound, sizeof bound, &err);
    assert_true(fd >= 0);
    assert_non_null(strstr(bound, "127.0.0.1:"));
    close(fd);
}

static void test_dial_refused(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_TRANSPORTS_DIR, "plain.wasm", NULL, &o);
    char addr[64];
    int port = refusing_port(addr, sizeof addr);
    water_error err;
    assert_null(water_dial(t, "tcp", addr, -1, &err));
    print_message("refused: %s\n", err.message);
    assert_int_equal(err.code, WATER_ERR_DIAL);
    assert_non_null(strstr(err.message, "refused"));
    assert_non_null(strstr(err.message, addr));

    /* The same transport dials fine once the port listens. */
    assert_int_equal(listen(port, 4), 0);
    echo e = {.lfd = port};
    strcpy(e.addr, addr);
    assert_int_equal(pthread_create(&e.th, NULL, echo_main, &e), 0);
    water_conn *c = water_dial(t, "tcp", addr, -1, &err);
    if (!c)
        fail_msg("dial after listen: %s", err.message);
    roundtrip(water_conn_fd(c), 65536, 'G');
    water_close(c);
    echo_stop(&e);
    water_transport_free(t);
}

static void test_unknown_host_then_good(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_TRANSPORTS_DIR, "plain.wasm", NULL, &o);
    water_error err;
    assert_null(water_dial(t, "tcp", "nonexistent.invalid:80", -1, &err));
    print_message("unknown host: %s\n", err.message);
    assert_int_equal(err.code, WATER_ERR_DIAL);
    assert_non_null(strstr(err.message, "nonexistent.invalid:80"));
    assert_non_null(strstr(err.message, "unknown host"));

    echo e;
    echo_start(&e);
    water_conn *c = water_dial(t, "tcp", e.addr, -1, &err);
    if (!c)
        fail_msg("good dial after an unknown host: %s", err.message);
    roundtrip(water_conn_fd(c), 65536, 'G');
    water_close(c);
    echo_stop(&e);
    water_transport_free(t);
}

static void test_fixed_dialer_allow_list(void **state)
{
    (void)state;
    echo e;
    echo_start(&e);
    char cfg[128];
    snprintf(cfg, sizeof cfg, "{\"dial_address\":\"%s\"}", e.addr);
    water_options o = quiet_opts();
    LOAD_OR_SKIP(denied, E2E_TRANSPORTS_DIR, "plain.wasm", cfg, &o);
    water_error err;
    assert_null(water_dial_fixed(denied, -1, &err));
    print_message("no allow-list: %s\n", err.message);
    assert_int_equal(err.code, WATER_ERR_DENIED);
    assert_non_null(strstr(err.message, "allow-list"));
    water_transport_free(denied);

    const char *const allow[] = {"127.0.0.2:*", "127.0.0.1:*"};
    o.allow_dial = allow;
    o.nallow_dial = 2;
    water_transport *t = load(E2E_TRANSPORTS_DIR, "plain.wasm", cfg, &o);
    assert_non_null(t);
    water_conn *c = water_dial_fixed(t, -1, &err);
    if (!c)
        fail_msg("fixed dial with an allow-list: %s", err.message);
    roundtrip(water_conn_fd(c), 65536, 'G');
    water_close(c);
    echo_stop(&e);
    water_transport_free(t);
}

static void test_role_not_offered(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_WASM_DIR, "faulty_v1.wasm", NULL, &o);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    water_error err;
    assert_null(water_relay(t, sv[0], "tcp", "127.0.0.1:9", &err));
    assert_int_equal(err.code, WATER_ERR_ROLE);
    assert_non_null(strstr(err.message, "relay"));
    /* The library took net_fd over and closed it: the peer sees EOF. */
    char b;
    set_timeouts(sv[1], 5);
    assert_int_equal(recv(sv[1], &b, 1, 0), 0);
    close(sv[1]);
    water_transport_free(t);
}

static void test_tinygo_shaped(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_WASM_DIR, "tinygo_v0.wasm", NULL, &o);
    for (int i = 0; i < 3; i++) { /* a fresh instance, and _start, each time */
        echo e;
        echo_start(&e);
        water_error err;
        water_conn *c = water_dial(t, "tcp", e.addr, -1, &err);
        if (!c)
            fail_msg("tinygo-shaped dial: %s", err.message);
        roundtrip(water_conn_fd(c), 100000, 'G');
        water_close(c);
        echo_stop(&e);
    }
    water_transport_free(t);
}

/* ---- running connections --------------------------------------------------- */

static void test_trap_reported(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_WASM_DIR, "faulty_v1.wasm", NULL, &o);
    echo e;
    echo_start(&e);
    water_error err;
    water_conn *c = water_dial(t, "tcp", e.addr, -1, &err);
    if (!c)
        fail_msg("dial: %s", err.message);
    int fd = water_conn_fd(c);
    set_timeouts(fd, 5);
    static uint8_t buf[131072];
    memset(buf, 'x', sizeof buf);
    buf[0] = 'T'; /* faulty_v1: trap after 64 KiB */
    for (size_t off = 0; off < sizeof buf;) {
        ssize_t n = send(fd, buf + off, sizeof buf - off, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the module may be gone already */
        off += (size_t)n;
    }
    water_error how;
    assert_true(water_conn_wait(c, 10000, &how));
    print_message("trap: %s\n", how.message);
    assert_int_equal(how.code, WATER_ERR_TRAP);
    assert_non_null(strstr(how.message, "unreachable"));
    water_close(c);
    echo_stop(&e);
    water_transport_free(t);
}

static void test_close_stops_worker(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_TRANSPORTS_DIR, "plain.wasm", NULL, &o);
    echo e;
    echo_start(&e);
    water_error err;
    water_conn *c = water_dial(t, "tcp", e.addr, -1, &err);
    if (!c)
        fail_msg("dial: %s", err.message);
    roundtrip(water_conn_fd(c), 65536, 'G');
    assert_false(water_conn_wait(c, 0, NULL));
    double t0 = now_ms();
    water_close(c); /* the control pipe is enough: no interrupt */
    double took = now_ms() - t0;
    print_message("water_close of a polling worker: %.1f ms\n", took);
    assert_true(took < STOP_MS);
    echo_stop(&e);
    water_transport_free(t);
}

static void test_close_spinning_worker(void **state)
{
    (void)state;
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_WASM_DIR, "spin_v1.wasm", NULL, &o);
    char addr[64];
    int lfd = listener(addr, sizeof addr); /* the backlog completes the dial */
    water_error err;
    water_conn *c = water_dial(t, "tcp", addr, -1, &err);
    if (!c)
        fail_msg("dial: %s", err.message);
    usleep(100 * 1000);
    water_error how;
    assert_false(water_conn_wait(c, 50, &how)); /* spinning */
    double t0 = now_ms();
    water_close(c); /* control pipe, STOP_MS, then the interrupt */
    double took = now_ms() - t0;
    print_message("water_close of a spinning worker: %.1f ms (stop timeout %d ms)\n", took,
                  STOP_MS);
    assert_true(took >= STOP_MS - 20);
    assert_true(took < STOP_MS + 1500);
    close(lfd);
    water_transport_free(t);
}

static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

static void test_many_sequential(void **state)
{
    (void)state;
    /* Connections come and go: 50 in a row through one transport, and this
     * process holds as many fds afterwards as before. */
    water_options o = quiet_opts();
    LOAD_OR_SKIP(t, E2E_TRANSPORTS_DIR, "xor.wasm", NULL, &o);
    int before = count_fds();
    for (int i = 0; i < 50; i++) {
        echo e;
        echo_start(&e);
        water_error err;
        water_conn *c = water_dial(t, "tcp", e.addr, -1, &err);
        if (!c)
            fail_msg("dial %d: %s", i, err.message);
        /* xor wraps on the way out and unwraps with the other keystream on
         * the way back: not the identity, but the same length. */
        int fd = water_conn_fd(c);
        set_timeouts(fd, 10);
        char out[1000], in[1000];
        memset(out, 'G', sizeof out);
        assert_int_equal(send(fd, out, sizeof out, MSG_NOSIGNAL), (ssize_t)sizeof out);
        size_t got = 0;
        while (got < sizeof in) {
            ssize_t n = recv(fd, in + got, sizeof in - got, 0);
            assert_true(n > 0);
            got += (size_t)n;
        }
        assert_true(memcmp(in, out, sizeof in) != 0);
        water_close(c);
        echo_stop(&e);
    }
    assert_int_equal(count_fds(), before);
    water_transport_free(t);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_bytes),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_not_a_transport),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_dial_refused),
        cmocka_unit_test(test_unknown_host_then_good),
        cmocka_unit_test(test_fixed_dialer_allow_list),
        cmocka_unit_test(test_role_not_offered),
        cmocka_unit_test(test_tinygo_shaped),
        cmocka_unit_test(test_trap_reported),
        cmocka_unit_test(test_close_stops_worker),
        cmocka_unit_test(test_close_spinning_worker),
        cmocka_unit_test(test_many_sequential),
    };
    return cmocka_run_group_tests_name("libwater API (e2e)", tests, NULL, NULL);
}
