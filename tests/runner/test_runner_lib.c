/*
 * test_runner_lib.c - runner mode through the library API (water_runner_*):
 * how entries end, stopping, the water-rs preview's bincode records (good,
 * refused and hostile), water_ext_v1 tcp_connect/tcp_listen arguments, and
 * link errors. Test modules are built from the .wat files beside this one.
 *
 * usage: test_runner_lib MODULE_DIR TEST
 * Everything runs on 127.0.0.1; every wait is bounded.
 */
#define _GNU_SOURCE
#include "check.h"

#include "water.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/free_port.h"

static const char *module_dir;

/* ---- helpers ------------------------------------------------------------ */

static uint8_t *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", module_dir, name);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f, "cannot open %s: %s", path, strerror(errno));
    uint8_t *buf = malloc(1 << 20);
    CHECK(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    CHECK(*len > 0);
    return buf;
}

/* Log lines of the host, for the checks that an error names an address. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void capture(void *user, water_log_level level, const char *msg)
{
    (void)user;
    pthread_mutex_lock(&log_lock);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "[%d] %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_lock);
}

static const char *logged(void)
{
    return log_text; /* read after the runs: no lock needed */
}

typedef struct setup {
    const char *module;
    const void *config;
    size_t config_len;
    const char *dial, *listen; /* one allow-list entry each, or NULL */
} setup;

static water_runner *make(const setup *s, water_error *err)
{
    size_t len;
    uint8_t *wasm = load(s->module, &len);
    const char *dial[1] = {s->dial}, *listen[1] = {s->listen};
    water_options o = {
        .allow_dial = dial, .nallow_dial = s->dial ? 1 : 0,
        .allow_listen = listen, .nallow_listen = s->listen ? 1 : 0,
        .log = capture, .log_level = WATER_LOG_DEBUG,
    };
    water_runner *r = water_runner_new(wasm, len, s->config, s->config_len, &o, err);
    free(wasm);
    return r;
}

/* Runs one entry of a fresh runner; returns the result, message in *err. */
static water_err run_entry(const setup *s, const char *entry, water_error *err)
{
    water_runner *r = make(s, err);
    CHECK_MSG(r, "water_runner_new(%s): %s", s->module, err->message);
    water_err e = water_runner_run(r, entry, err);
    water_runner_free(r);
    return e;
}

#define RUN_OK(s, entry)                                                       \
    do {                                                                       \
        water_error e_;                                                        \
        water_err c_ = run_entry((s), (entry), &e_);                           \
        CHECK_MSG(c_ == WATER_OK, "%s: %s (%s)", (entry), water_strerror(c_),  \
                  e_.message);                                                 \
    } while (0)

/* A bincode record {addr, port, name}. Returns its length. */
static size_t record(uint8_t *out, const char *addr, uint32_t port, const char *name)
{
    size_t n = 0, al = strlen(addr), nl = strlen(name);
    for (int i = 0; i < 8; i++)
        out[n++] = (uint8_t)((uint64_t)al >> (8 * i));
    memcpy(out + n, addr, al);
    n += al;
    for (int i = 0; i < 4; i++)
        out[n++] = (uint8_t)(port >> (8 * i));
    for (int i = 0; i < 8; i++)
        out[n++] = (uint8_t)((uint64_t)nl >> (8 * i));
    memcpy(out + n, name, nl);
    return n + nl;
}

/* A listening socket on 127.0.0.1 and an ephemeral port. */
static int listener(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(fd, 16) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}


/* Reads exactly len bytes within timeout_ms. */
static void read_exact(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        CHECK_MSG(poll(&p, 1, timeout_ms) == 1, "read: timed out after %zu bytes", got);
        ssize_t n = read(fd, buf + got, len - got);
        CHECK_MSG(n > 0, "read: %zd (%s) after %zu bytes", n, strerror(errno), got);
        got += (size_t)n;
    }
}

typedef struct bg_run {
    water_runner *r;
    const char *entry;
    water_err result;
    water_error err;
    pthread_t thread;
} bg_run;

static void *bg_main(void *arg)
{
    bg_run *b = arg;
    b->result = water_runner_run(b->r, b->entry, &b->err);
    return NULL;
}

static void bg_start(bg_run *b, water_runner *r, const char *entry)
{
    b->r = r;
    b->entry = entry;
    CHECK(pthread_create(&b->thread, NULL, bg_main, b) == 0);
}

/* Joins within timeout_ms or fails the test (exit ends the thread). */
static void bg_join(bg_run *b, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int rc = pthread_timedjoin_np(b->thread, NULL, &ts);
    CHECK_MSG(rc == 0, "the run of %s did not end within %d ms", b->entry, timeout_ms);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- tests --------------------------------------------------------------- */

static void test_entries(void)
{
    setup s = {.module = "entries"};
    water_error e;
    RUN_OK(&s, "started"); /* _start ran and its proc_exit(0) was a normal end */
    RUN_OK(&s, "void");
    RUN_OK(&s, "exit0");
    CHECK_EQ(run_entry(&s, "fail", &e), WATER_ERR_TRANSPORT);
    CHECK_CONTAINS(e.message, "fail returned 7");
    CHECK_EQ(run_entry(&s, "errno", &e), WATER_ERR_TRANSPORT);
    CHECK_CONTAINS(e.message, "returned -53 (ENOTCONN)");
    CHECK_EQ(run_entry(&s, "minint", &e), WATER_ERR_TRANSPORT);
    CHECK_CONTAINS(e.message, "minint returned -2147483648");
    CHECK_EQ(run_entry(&s, "exit3", &e), WATER_ERR_TRANSPORT);
    CHECK_CONTAINS(e.message, "exited with code 3");
    CHECK_EQ(run_entry(&s, "trap", &e), WATER_ERR_TRAP);
    CHECK_CONTAINS(e.message, "unreachable");
    CHECK_EQ(run_entry(&s, "takes_arg", &e), WATER_ERR_ABI);
    CHECK_CONTAINS(e.message, "must take no arguments");
    CHECK_EQ(run_entry(&s, "not_a_function", &e), WATER_ERR_ABI);
    CHECK_CONTAINS(e.message, "'not_a_function'");
    /* no entry given: "main", which this module lacks */
    CHECK_EQ(run_entry(&s, NULL, &e), WATER_ERR_ABI);
    CHECK_CONTAINS(e.message, "exports no function 'main'");
    CHECK_CONTAINS(e.message, "--entry");
    CHECK_CONTAINS(e.message, "started"); /* lists what the module exports */

    water_runner *r = make(&s, &e);
    CHECK(r);
    CHECK_EQ(water_runner_run(r, "void", &e), WATER_OK);
    CHECK_EQ(water_runner_run(r, "void", &e), WATER_ERR_ARGS); /* once only */
    water_runner_free(r);
    water_runner_free(NULL);
    water_runner_stop(NULL);
}

static void stop_during(const char *entry)
{
    setup s = {.module = "entries"};
    water_error e;
    water_runner *r = make(&s, &e);
    CHECK(r);
    bg_run b;
    bg_start(&b, r, entry);
    usleep(100 * 1000);
    double t0 = now_ms();
    water_runner_stop(r);
    bg_join(&b, 2000);
    double took = now_ms() - t0;
    CHECK_MSG(b.result == WATER_OK, "%s: %s", entry, b.err.message);
    CHECK_MSG(took < 1000, "%s: stopping took %.0f ms", entry, took);
    water_runner_free(r);
}

static void test_stop(void)
{
    stop_during("spin");  /* guest code: interrupted */
    stop_during("block"); /* waiting in poll_oneoff: woken */
    /* a stop before the run: the run returns at once */
    setup s = {.module = "entries"};
    water_error e;
    water_runner *r = make(&s, &e);
    CHECK(r);
    water_runner_stop(r);
    double t0 = now_ms();
    CHECK_EQ(water_runner_run(r, "block", &e), WATER_OK);
    CHECK(now_ms() - t0 < 1000);
    water_runner_free(r);
}

/* env.create_listen with a record from the config; a client gets "ok". */
static void test_preview_listen(void)
{
    unsigned port = free_port();
    CHECK(port != 0);
    uint8_t rec[128];
    size_t n = record(rec, "127.0.0.1", port, "runner-test");
    char allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%u", port);
    setup s = {.module = "preview", .config = rec, .config_len = n, .listen = allow};
    water_error e;
    water_runner *r = make(&s, &e);
    CHECK_MSG(r, "%s", e.message);
    bg_run b;
    bg_start(&b, r, "listen_cfg");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = -1;
    for (int tries = 0; tries < 500 && fd < 0; tries++) { /* up to 5 s */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
            close(fd);
            fd = -1;
            usleep(10 * 1000);
        }
    }
    CHECK_MSG(fd >= 0, "the module never listened on %s", allow);
    char buf[2];
    read_exact(fd, buf, 2, 5000);
    CHECK(memcmp(buf, "ok", 2) == 0);
    close(fd);
    bg_join(&b, 5000);
    CHECK_MSG(b.result == WATER_OK, "%s", b.err.message);
    water_runner_free(r);
}

/* env.connect_tcp with a record from the config; our listener gets "hello". */
static void test_preview_connect(void)
{
    unsigned port;
    int lfd = listener(&port);
    uint8_t rec[128];
    size_t n = record(rec, "127.0.0.1", port, "runner-test");
    char allow[64];
    snprintf(allow, sizeof allow, "127.0.0.1:%u", port);
    setup s = {.module = "preview", .config = rec, .config_len = n, .dial = allow};
    RUN_OK(&s, "connect_cfg"); /* the connect completes in the backlog */
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    CHECK(poll(&p, 1, 5000) == 1);
    int fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    char buf[5];
    read_exact(fd, buf, 5, 5000);
    CHECK(memcmp(buf, "hello", 5) == 0);
    close(fd);
    close(lfd);
}

/* Good records the allow-lists refuse: -EACCES, and a log line naming the
 * address. Deny by default (no list) and with a list that does not match. */
static void test_preview_denied(void)
{
    unsigned port;
    int lfd = listener(&port); /* a real listener: a dial would succeed */
    uint8_t rec[128];
    size_t n = record(rec, "127.0.0.1", port, "runner-test");
    char want[64], other[64];
    snprintf(want, sizeof want, "127.0.0.1:%u", port);
    snprintf(other, sizeof other, "127.0.0.1:%u", port == 65535 ? 1 : port + 1);

    setup s = {.module = "preview", .config = rec, .config_len = n};
    RUN_OK(&s, "connect_cfg_denied"); /* no lists at all */
    s.dial = other;
    s.listen = other;
    RUN_OK(&s, "connect_cfg_denied");
    s.listen = want; /* allowed to listen there is not allowed to dial */
    RUN_OK(&s, "connect_cfg_denied");
    s.listen = other;
    s.dial = want;   /* and the other way round */
    RUN_OK(&s, "listen_cfg_denied");
    CHECK_CONTAINS(logged(), "may not connect to 127.0.0.1:");
    char line[128];
    snprintf(line, sizeof line, "[0] connect_tcp: the module may not connect to %s", want);
    CHECK_CONTAINS(logged(), line); /* logged as an error, naming the address */
    snprintf(line, sizeof line, "[0] create_listen: the module may not listen on %s", want);
    CHECK_CONTAINS(logged(), line);
    /* nothing reached the listener */
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    CHECK_EQ(poll(&p, 1, 0), 0);
    close(lfd);
}

/* Hostile records and arguments give errors, never a trap or a crash. */
static void test_hostile(void)
{
    static const char *const entries[] = {
        "h_addr_len_huge", "h_addr_len_past", "h_name_len_past", "h_truncated",
        "h_empty", "h_port", "h_addr_nul", "h_ptr_oob", "h_len_oob", "h_len_huge",
        "h_denied", "x_ptr_oob", "x_too_long", "x_empty", "x_nul", "x_denied",
    };
    setup s = {.module = "preview"};
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        RUN_OK(&s, entries[i]);
    CHECK_CONTAINS(logged(), "[0] connect_tcp: the module may not connect to 127.0.0.1:9");
    CHECK_CONTAINS(logged(), "[0] tcp_connect: the module may not connect to 127.0.0.1:9");
    CHECK_CONTAINS(logged(), "not inside the module's memory");
}

static void test_link_errors(void)
{
    setup s = {.module = "needs-conn"};
    water_error e;
    CHECK(!make(&s, &e));
    CHECK_EQ(e.code, WATER_ERR_ABI);
    CHECK_CONTAINS(e.message, "water_accept");
    static const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0xff};
    CHECK(!water_runner_new(junk, sizeof junk, NULL, 0, NULL, &e));
    CHECK_EQ(e.code, WATER_ERR_MODULE);
    CHECK(!water_runner_new(NULL, 0, NULL, 0, NULL, &e));
    CHECK_EQ(e.code, WATER_ERR_ARGS);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"entries", test_entries},
        {"stop", test_stop},
        {"preview_listen", test_preview_listen},
        {"preview_connect", test_preview_connect},
        {"preview_denied", test_preview_denied},
        {"hostile", test_hostile},
        {"link_errors", test_link_errors},
    };
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODULE_DIR TEST\n", argv[0]);
        return 2;
    }
    module_dir = argv[1];
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!strcmp(argv[2], tests[i].name)) {
            tests[i].fn();
            printf("runner.lib.%s: ok\n", tests[i].name);
            return 0;
        }
    }
    fprintf(stderr, "unknown test %s\n", argv[2]);
    return 2;
}
