/*
 * conn_bench.c - the cost of one WATER connection, through the library API:
 * how long water_dial() and water_serve() take to return a connection whose
 * worker runs (a fresh instance, _start, init, the role call, the control
 * pipe, the worker thread), how long until the first byte crosses it, and
 * how long water_close() takes. A plain TCP connect to the same local echo
 * server is the baseline.
 *
 *   netbench_conn --transport FILE.wasm [--count N] [--warmup N]
 *
 * Everything runs in this process on 127.0.0.1: an echo server thread, then
 * N connections one after the other per measurement. Prints one line of
 * key=value pairs per measurement (microseconds).
 */
#define _GNU_SOURCE
#include "water.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what, const char *why)
{
    fprintf(stderr, "netbench_conn: %s: %s\n", what, why);
    exit(1);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

/* ---- in-process echo server ------------------------------------------------- */

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r)
            break;
    }
    close(fd);
    return NULL;
}

static void *echo_server(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break;
        }
        pthread_t th;
        if (pthread_create(&th, &attr, echo_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
    }
    return NULL;
}

/* ---- statistics ------------------------------------------------------------------ */

typedef struct series {
    const char *name;
    double *v;
    int n;
} series;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void report(series *s)
{
    double sum = 0;
    for (int i = 0; i < s->n; i++)
        sum += s->v[i];
    qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_double);
    int p99 = (s->n * 99 + 99) / 100 - 1;
    printf("conn what=%s count=%d mean_us=%.1f median_us=%.1f p99_us=%.1f min_us=%.1f\n",
           s->name, s->n, sum / s->n, s->v[(s->n - 1) / 2], s->v[p99], s->v[0]);
}

/* One byte through fd and one back (echo), or fail. */
static void round_trip(int fd, const char *what)
{
    char c = 'x';
    if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
        die(what, strerror(errno));
    ssize_t r;
    for (;;) {
        /* water_connect_tcp() gives a non-blocking fd: wait in poll. */
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, 5000);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            die(what, "no answer within 5 s");
        r = recv(fd, &c, 1, 0);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        break;
    }
    /* Any byte: through a keyed transport (xor) and a plain echo server
     * the answer is the echo transformed twice, not 'x'. */
    if (r != 1)
        die(what, "the byte did not come back");
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    int count = 300, warmup = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: netbench_conn --transport FILE.wasm [--count N] [--warmup N]");
            return 0;
        }
        if (i + 1 >= argc)
            die(argv[i], "needs a value");
        if (!strcmp(argv[i], "--transport") || !strcmp(argv[i], "-t"))
            path = argv[++i];
        else if (!strcmp(argv[i], "--count"))
            count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup"))
            warmup = atoi(argv[++i]);
        else
            die(argv[i], "unknown option");
    }
    if (!path || count < 1 || warmup < 0)
        die("usage", "netbench_conn --transport FILE.wasm [--count N] [--warmup N]");
    signal(SIGPIPE, SIG_IGN);

    water_error err;
    double t0 = now_us();
    water_transport *t = water_transport_load(path, NULL, 0, NULL, &err);
    double load_us = now_us() - t0;
    if (!t)
        die(path, err.message);
    printf("conn what=transport_load count=1 mean_us=%.1f\n", load_us);

    char addr[128];
    int lfd = water_listen_tcp("127.0.0.1:0", addr, sizeof addr, &err);
    if (lfd < 0)
        die("listen", err.message);
    pthread_t srv;
    if (pthread_create(&srv, NULL, echo_server, (void *)(intptr_t)lfd) != 0)
        die("pthread_create", "failed");

    enum { TCP, DIAL, DIAL_BYTE, SERVE, SERVE_BYTE, CLOSE, NSERIES };
    series s[NSERIES] = {
        {"tcp_connect", NULL, 0},         {"water_dial", NULL, 0},
        {"dial_first_byte", NULL, 0},     {"water_serve", NULL, 0},
        {"serve_first_byte", NULL, 0},    {"water_close", NULL, 0},
    };
    for (int k = 0; k < NSERIES; k++)
        if (!(s[k].v = calloc((size_t)count, sizeof(double))))
            die("calloc", "out of memory");

    for (int i = -warmup; i < count; i++) {
        bool keep = i >= 0;
        /* Baseline: a TCP connect and one echoed byte, no WATER. */
        double a = now_us();
        int fd = water_connect_tcp(addr, 5000, &err);
        if (fd < 0)
            die("connect", err.message);
        round_trip(fd, "tcp");
        double b = now_us();
        close(fd);
        if (keep)
            s[TCP].v[s[TCP].n++] = b - a;

        /* Dialer: water_dial to the echo server, then one byte through. */
        a = now_us();
        water_conn *c = water_dial(t, "tcp", addr, -1, &err);
        b = now_us();
        if (!c)
            die("water_dial", err.message);
        round_trip(water_conn_fd(c), "dial");
        double d = now_us();
        water_close(c);
        double e = now_us();
        if (keep) {
            s[DIAL].v[s[DIAL].n++] = b - a;
            s[DIAL_BYTE].v[s[DIAL_BYTE].n++] = d - a;
            s[CLOSE].v[s[CLOSE].n++] = e - d;
        }

        /* Listener: water_serve on one end of a socket pair (no network at
         * all), then one byte from the "network" end to the app end. */
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
            die("socketpair", strerror(errno));
        a = now_us();
        c = water_serve(t, sv[1], -1, &err);
        b = now_us();
        if (!c)
            die("water_serve", err.message);
        char x = 'x';
        if (send(sv[0], &x, 1, MSG_NOSIGNAL) != 1 || recv(water_conn_fd(c), &x, 1, 0) != 1)
            die("serve", "the byte did not cross");
        d = now_us();
        water_close(c);
        close(sv[0]);
        if (keep) {
            s[SERVE].v[s[SERVE].n++] = b - a;
            s[SERVE_BYTE].v[s[SERVE_BYTE].n++] = d - a;
        }
    }
    for (int k = 0; k < NSERIES; k++) {
        report(&s[k]);
        free(s[k].v);
    }
    water_transport_free(t);
    /* The echo server thread blocks in accept; exiting ends it. */
    return 0;
}
