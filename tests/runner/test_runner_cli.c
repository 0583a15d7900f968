/*
 * test_runner_cli.c - `water run` as a process: the echo-server example
 * serving 50 concurrent clients from one instance (64 KiB each, every byte
 * checked, "> CONNECTED" printed once per client), SIGTERM and SIGINT
 * stopping it with exit 0 within a second, refused listen and dial
 * addresses named in the error, a missing entry function, --help.
 *
 * usage: test_runner_cli WATER_BIN ECHO_SERVER_WASM MODULE_DIR TEST
 * Exit 77 (skip) when the echo-server module was not built (no wasm32
 * toolchain). Everything runs on 127.0.0.1; every wait is bounded; every
 * child is killed and reaped.
 */
#define _GNU_SOURCE
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/free_port.h"

#define CLIENTS 50
#define PER_CLIENT (64 * 1024)

static const char *water_bin, *echo_wasm, *module_dir;
static char tmpdir[] = "/tmp/water-runner-XXXXXX";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- child processes ------------------------------------------------------ */

typedef struct child {
    pid_t pid;
    int out;          /* read end of its stdout */
    char err_path[256]; /* its stderr, in a file */
} child;

static pid_t live_child = -1;

static void kill_live_child(void)
{
    if (live_child > 0) {
        kill(live_child, SIGKILL);
        waitpid(live_child, NULL, 0);
        live_child = -1;
    }
}

static void spawn(child *c, char *const argv[])
{
    static int serial;
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    snprintf(c->err_path, sizeof c->err_path, "%s/stderr.%d", tmpdir, serial++);
    int err = open(c->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(err >= 0);
    c->pid = fork();
    CHECK(c->pid >= 0);
    if (c->pid == 0) {
        dup2(p[1], 1);
        dup2(err, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    live_child = c->pid;
    close(p[1]);
    close(err);
    c->out = p[0];
}

/* Waits up to timeout_ms for the child to exit; returns its wait status, or
 * -1 on timeout (the child is then killed). */
static int wait_exit(child *c, int timeout_ms)
{
    double end = now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(c->pid, &status, WNOHANG);
        if (r == c->pid) {
            live_child = -1;
            return status;
        }
        if (now_ms() >= end) {
            kill_live_child();
            return -1;
        }
        usleep(2000);
    }
}

/* Everything the child wrote to stdout (call after it exited). */
static char *read_all(int fd)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    CHECK(buf);
    for (;;) {
        if (n + 1 >= cap) {
            buf = realloc(buf, cap *= 2);
            CHECK(buf);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    close(fd);
    return buf;
}

static char *read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    return read_all(fd);
}

/* Waits until the child's stderr holds `text` (the module's "listening"
 * line), within timeout_ms. */
static void wait_stderr(child *c, const char *text, int timeout_ms)
{
    double end = now_ms() + timeout_ms;
    for (;;) {
        char *s = read_file(c->err_path);
        bool found = strstr(s, text) != NULL;
        if (!found && now_ms() >= end) {
            kill_live_child();
            CHECK_FAIL("\"%s\" did not appear on stderr within %d ms: %s", text,
                       timeout_ms, s);
        }
        free(s);
        if (found)
            return;
        int status;
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            live_child = -1;
            CHECK_FAIL("water run exited early (status %d): %s", status,
                       read_file(c->err_path));
        }
        usleep(5000);
    }
}


/* Starts the echo server on a free port; fills *port. */
static void start_echo(child *c, unsigned *port)
{
    *port = free_port();
    CHECK(*port != 0);
    char cfg_path[300], cfg[64], allow[64];
    snprintf(cfg_path, sizeof cfg_path, "%s/echo.json", tmpdir);
    snprintf(allow, sizeof allow, "127.0.0.1:%u", *port);
    int n = snprintf(cfg, sizeof cfg, "{\"listen\": \"%s\"}\n", allow);
    FILE *f = fopen(cfg_path, "w");
    CHECK(f && fwrite(cfg, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    char *argv[] = {(char *)water_bin, "run", "-t", (char *)echo_wasm, "-c", cfg_path,
                    "--allow-listen", allow, NULL};
    spawn(c, argv);
    wait_stderr(c, "echo-server: listening", 10000);
}

/* Sends sig and checks that water run exits 0 within a second. */
static void stop_with(child *c, int sig)
{
    double t0 = now_ms();
    CHECK(kill(c->pid, sig) == 0);
    int status = wait_exit(c, 5000);
    double took = now_ms() - t0;
    CHECK_MSG(status != -1, "water run did not exit within 5 s of signal %d", sig);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "water run ended with status %#x after signal %d: %s", status, sig,
              read_file(c->err_path));
    CHECK_MSG(took < 1000, "water run took %.0f ms to exit after signal %d", took, sig);
}

/* ---- echo clients ---------------------------------------------------------- */

typedef struct client {
    int fd;
    uint8_t *data;   /* what it sends, and expects back */
    size_t sent, got;
    bool shut, done;
} client;

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* A non-blocking connection to the echo server; bufsize > 0 shrinks its
 * socket buffers. */
static int connect_buf(unsigned port, int bufsize)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    if (bufsize > 0) {
        CHECK(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize) == 0);
        CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize) == 0);
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_MSG(connect(fd, (struct sockaddr *)&a, sizeof a) == 0, "connect: %s",
              strerror(errno));
    CHECK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    return fd;
}

static int connect_to(unsigned port)
{
    return connect_buf(port, 0);
}

/* One step of client i: send what the socket takes, read and check what came
 * back. */
static void client_io(client *c, int i, short revents)
{
    if ((revents & POLLOUT) && c->sent < PER_CLIENT) {
        ssize_t n = send(c->fd, c->data + c->sent, PER_CLIENT - c->sent, MSG_NOSIGNAL);
        CHECK_MSG(n > 0 || errno == EAGAIN, "client %d: send: %s", i, strerror(errno));
        if (n > 0)
            c->sent += (size_t)n;
        if (c->sent == PER_CLIENT && !c->shut) {
            CHECK(shutdown(c->fd, SHUT_WR) == 0);
            c->shut = true;
        }
    }
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        uint8_t buf[16384];
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EAGAIN)
            return;
        CHECK_MSG(n >= 0, "client %d: recv: %s after %zu bytes", i, strerror(errno), c->got);
        if (n == 0) {
            CHECK_MSG(c->got == PER_CLIENT, "client %d: EOF after %zu of %d bytes", i,
                      c->got, PER_CLIENT);
            c->done = true;
            return;
        }
        CHECK_MSG(c->got + (size_t)n <= PER_CLIENT, "client %d: more echoed than sent", i);
        CHECK_MSG(memcmp(buf, c->data + c->got, (size_t)n) == 0,
                  "client %d: echo differs within bytes %zu..%zu", i, c->got,
                  c->got + (size_t)n);
        c->got += (size_t)n;
    }
}

static void test_echo(void)
{
    child srv;
    unsigned port;
    start_echo(&srv, &port);

    static client cl[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) { /* all connected before any data */
        cl[i].data = malloc(PER_CLIENT);
        CHECK(cl[i].data);
        fill_pattern(cl[i].data, PER_CLIENT, (uint32_t)i + 1);
        cl[i].fd = connect_to(port);
    }
    double end = now_ms() + 60000;
    int left = CLIENTS;
    while (left > 0) {
        struct pollfd p[CLIENTS];
        int idx[CLIENTS], n = 0;
        for (int i = 0; i < CLIENTS; i++) {
            if (cl[i].done)
                continue;
            p[n] = (struct pollfd){.fd = cl[i].fd,
                                   .events = (short)(POLLIN | (cl[i].sent < PER_CLIENT ? POLLOUT : 0))};
            idx[n++] = i;
        }
        double wait = end - now_ms();
        if (wait <= 0) {
            size_t total = 0;
            for (int i = 0; i < CLIENTS; i++)
                total += cl[i].got;
            kill_live_child();
            CHECK_FAIL("echo: %d clients unfinished after 60 s (%zu bytes echoed)", left,
                       total);
        }
        int r = poll(p, (nfds_t)n, (int)wait);
        CHECK_MSG(r >= 0 || errno == EINTR, "poll: %s", strerror(errno));
        for (int k = 0; k < n && r > 0; k++) {
            if (!p[k].revents)
                continue;
            client_io(&cl[idx[k]], idx[k], p[k].revents);
            if (cl[idx[k]].done)
                left--;
        }
    }
    for (int i = 0; i < CLIENTS; i++) {
        close(cl[i].fd);
        free(cl[i].data);
    }
    stop_with(&srv, SIGTERM);
    char *out = read_all(srv.out);
    int lines = 0, connected = 0;
    for (char *s = out, *nl; (nl = strchr(s, '\n')); s = nl + 1) {
        lines++;
        connected += (size_t)(nl - s) == strlen("> CONNECTED") &&
                     !strncmp(s, "> CONNECTED", strlen("> CONNECTED"));
    }
    CHECK_MSG(connected == CLIENTS && lines == CLIENTS,
              "stdout has %d \"> CONNECTED\" lines of %d (want %d): %s", connected, lines,
              CLIENTS, out);
    free(out);
}

/* Sends and receives on a non-blocking fd until `total` bytes went each way
 * (the echo of data[]), checking every byte, within timeout_ms. */
static void exchange(int fd, const uint8_t *data, size_t total, size_t sent, int timeout_ms)
{
    size_t got = 0;
    double end = now_ms() + timeout_ms;
    static uint8_t buf[65536];
    while (got < total) {
        struct pollfd p = {.fd = fd, .events = (short)(POLLIN | (sent < total ? POLLOUT : 0))};
        double wait = end - now_ms();
        CHECK_MSG(wait > 0, "exchange: %zu of %zu bytes echoed before the deadline", got,
                  total);
        if (poll(&p, 1, (int)wait) <= 0)
            continue;
        if ((p.revents & POLLOUT) && sent < total) {
            ssize_t n = send(fd, data + sent, total - sent, MSG_NOSIGNAL);
            CHECK_MSG(n > 0 || errno == EAGAIN, "send: %s", strerror(errno));
            sent += n > 0 ? (size_t)n : 0;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n < 0 && errno == EAGAIN)
                continue;
            CHECK_MSG(n > 0, "recv: %zd (%s) after %zu bytes", n, strerror(errno), got);
            CHECK_MSG(got + (size_t)n <= total && !memcmp(buf, data + got, (size_t)n),
                      "echo differs within bytes %zu..%zu", got, got + (size_t)n);
            got += (size_t)n;
        }
    }
}

/* A client that sends without reading fills the buffers on its way; the
 * server then stops reading it (backpressure) instead of buffering without
 * bound, goes on serving other clients, and once the client reads, every
 * byte comes back in order. */
static void test_backpressure(void)
{
    child srv;
    unsigned port;
    start_echo(&srv, &port);
    const size_t total = 16u << 20;
    uint8_t *data = malloc(total);
    CHECK(data);
    fill_pattern(data, total, 77);
    int a = connect_buf(port, 64 * 1024);
    size_t sent = 0;
    double end = now_ms() + 20000;
    while (sent < total && now_ms() < end) { /* until no progress for 300 ms */
        struct pollfd p = {.fd = a, .events = POLLOUT};
        if (poll(&p, 1, 300) == 0)
            break;
        ssize_t n = send(a, data + sent, total - sent, MSG_NOSIGNAL);
        CHECK_MSG(n > 0 || errno == EAGAIN, "send: %s", strerror(errno));
        sent += n > 0 ? (size_t)n : 0;
    }
    CHECK_MSG(sent < total, "all %zu bytes went in without the client reading: no "
              "backpressure", total);
    /* another client is served meanwhile */
    uint8_t small[1024];
    fill_pattern(small, sizeof small, 5);
    int b = connect_to(port);
    exchange(b, small, sizeof small, 0, 5000);
    close(b);
    /* the stalled client reads: everything comes back */
    exchange(a, data, total, sent, 60000);
    close(a);
    free(data);
    stop_with(&srv, SIGTERM);
    char *out = read_all(srv.out);
    CHECK_MSG(!strcmp(out, "> CONNECTED\n> CONNECTED\n"), "stdout: %s", out);
    free(out);
}

static void test_signal(int sig)
{
    child srv;
    unsigned port;
    start_echo(&srv, &port);
    /* a client in the middle of a conversation does not hold the stop up */
    int fd = connect_to(port);
    CHECK(send(fd, "abc", 3, MSG_NOSIGNAL) == 3);
    usleep(50 * 1000);
    stop_with(&srv, sig);
    close(fd);
    close(srv.out);
}

/* Runs `water run` to its end (10 s at most); returns the exit code and
 * the stderr text in *err. */
static int run_to_end(char *const argv[], char **err)
{
    child c;
    spawn(&c, argv);
    int status = wait_exit(&c, 10000);
    CHECK_MSG(status != -1, "water run did not end within 10 s");
    close(c.out);
    *err = read_file(c.err_path);
    CHECK_MSG(WIFEXITED(status), "water run died (status %#x): %s", status, *err);
    return WEXITSTATUS(status);
}

static void test_deny(void)
{
    char listen_mod[1024], connect_mod[1024], *err;
    snprintf(listen_mod, sizeof listen_mod, "%s/deny-listen.wasm", module_dir);
    snprintf(connect_mod, sizeof connect_mod, "%s/deny-connect.wasm", module_dir);

    char *a1[] = {(char *)water_bin, "run", "-t", listen_mod, NULL};
    CHECK_EQ(run_to_end(a1, &err), 1);
    CHECK_CONTAINS(err, "may not listen on 127.0.0.1:7: not in the allow-list");
    CHECK_CONTAINS(err, "main returned -2 (EACCES)");
    free(err);
    /* an allow-list that does not match, and one for dialing only */
    char *a2[] = {(char *)water_bin, "run", "-t", listen_mod, "--allow-listen",
                  "127.0.0.1:8", "--allow-dial", "127.0.0.1:7", NULL};
    CHECK_EQ(run_to_end(a2, &err), 1);
    CHECK_CONTAINS(err, "may not listen on 127.0.0.1:7");
    free(err);

    char *a3[] = {(char *)water_bin, "run", "-t", connect_mod, NULL};
    CHECK_EQ(run_to_end(a3, &err), 1);
    CHECK_CONTAINS(err, "may not connect to 127.0.0.1:9: not in the allow-list");
    CHECK_CONTAINS(err, "main returned -2 (EACCES)");
    free(err);
    char *a4[] = {(char *)water_bin, "run", "-t", connect_mod, "--allow-listen",
                  "127.0.0.1:9", "--allow-dial", "127.0.0.1:10", NULL};
    CHECK_EQ(run_to_end(a4, &err), 1);
    CHECK_CONTAINS(err, "may not connect to 127.0.0.1:9");
    free(err);

    /* the echo server on an address it may not use: it says so and fails */
    char *a5[] = {(char *)water_bin, "run", "-t", (char *)echo_wasm, NULL};
    CHECK_EQ(run_to_end(a5, &err), 1);
    CHECK_CONTAINS(err, "may not listen on 127.0.0.1:9005");
    free(err);
}

static void test_entry(void)
{
    char *err;
    char *a1[] = {(char *)water_bin, "run", "-t", (char *)echo_wasm, "--entry",
                  "serve_forever", NULL};
    CHECK_EQ(run_to_end(a1, &err), 1);
    CHECK_CONTAINS(err, "exports no function 'serve_forever'");
    CHECK_CONTAINS(err, "main"); /* lists the module's functions */
    free(err);
    char mod[1024];
    snprintf(mod, sizeof mod, "%s/deny-listen.wasm", module_dir);
    char *a2[] = {(char *)water_bin, "run", "-t", mod, "--entry-fn", "v1_listen", NULL};
    CHECK_EQ(run_to_end(a2, &err), 1);
    CHECK_CONTAINS(err, "exports no function 'v1_listen'");
    free(err);
}

static void test_usage(void)
{
    child c;
    char *a1[] = {(char *)water_bin, "run", "--help", NULL};
    spawn(&c, a1);
    int status = wait_exit(&c, 10000);
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char *out = read_all(c.out);
    CHECK_CONTAINS(out, "usage: water run -t FILE.wasm");
    CHECK_CONTAINS(out, "--allow-listen");
    free(out);
    char *err;
    char *a2[] = {(char *)water_bin, "run", "--entry", NULL};
    CHECK_EQ(run_to_end(a2, &err), 2);
    free(err);
    char *a3[] = {(char *)water_bin, "run", "-t", "/nonexistent/x.wasm", NULL};
    CHECK_EQ(run_to_end(a3, &err), 1);
    CHECK_CONTAINS(err, "/nonexistent/x.wasm");
    free(err);
}

static void test_sigterm(void) { test_signal(SIGTERM); }
static void test_sigint(void) { test_signal(SIGINT); }

static void cleanup(void)
{
    kill_live_child();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"echo50", test_echo},   {"backpressure", test_backpressure},
        {"sigterm", test_sigterm}, {"sigint", test_sigint},
        {"deny", test_deny},     {"entry", test_entry},     {"usage", test_usage},
    };
    if (argc != 5) {
        fprintf(stderr, "usage: %s WATER_BIN ECHO_SERVER_WASM MODULE_DIR TEST\n", argv[0]);
        return 2;
    }
    water_bin = argv[1];
    echo_wasm = argv[2];
    module_dir = argv[3];
    signal(SIGPIPE, SIG_IGN);
    struct stat st;
    if (stat(echo_wasm, &st) != 0) {
        printf("skipped: %s was not built (no wasm32-wasi toolchain)\n", echo_wasm);
        return 77;
    }
    CHECK(mkdtemp(tmpdir));
    atexit(cleanup);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!strcmp(argv[4], tests[i].name)) {
            tests[i].fn();
            printf("runner.cli.%s: ok\n", tests[i].name);
            return 0;
        }
    }
    fprintf(stderr, "unknown test %s\n", argv[4]);
    return 2;
}
