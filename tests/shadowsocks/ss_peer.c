/*
 * ss_peer.c - the helper program of the Shadowsocks tests and benchmark.
 *
 *   ss_peer echo PORT_FILE
 *       echo server on 127.0.0.1:0 (a thread per connection); writes the
 *       port to PORT_FILE once listening; runs until killed.
 *   ss_peer bulk HOST:PORT BYTES TIMEOUT_MS [SOCKS5_TARGET]
 *       connects, sends BYTES pseudo-random bytes while reading the echo,
 *       compares the SHA-256 of what went out and what came back; prints
 *       "ok BYTES bytes each way in S s: X MiB/s" and exits 0, or says what
 *       went wrong and exits 1. Never half-closes before everything came
 *       back (shadowsocks-libev tears down both directions on EOF). With
 *       SOCKS5_TARGET (host:port), HOST:PORT is a SOCKS5 proxy (ss-local)
 *       asked to connect there first.
 *   ss_peer port
 *       prints a port that is free on 127.0.0.1 (for ss-server -p).
 *   ss_peer wait-port HOST:PORT TIMEOUT_MS
 *       waits until HOST:PORT accepts a connection; exits 1 after the time.
 *   ss_peer expect-close HOST:PORT TIMEOUT_MS
 *       connects, sends 64 bytes, and waits for the connection to be closed
 *       (EOF or reset) without receiving data; exits 0 when that happens
 *       within TIMEOUT_MS (printing the time), 1 otherwise.
 *   ss_peer client CONFIG LISTEN SERVER
 *   ss_peer server CONFIG LISTEN ALLOW_DIAL
 *       the transport's native build (ss_native.c: OpenSSL and POSIX) as a
 *       Shadowsocks client (like `water dial`) or server (like `water
 *       relay`): accepts on LISTEN (port 0 picks one; prints "listening on
 *       127.0.0.1:PORT" on stderr like water), a thread per connection.
 */
#define _GNU_SOURCE
#include "ss_native.h"
#include "../common/free_port.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define BUF (64 * 1024)

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int listen_on(const char *address, int *port)
{
    char host[64];
    const char *colon = strrchr(address, ':');
    if (colon == NULL || (size_t)(colon - address) >= sizeof host)
        return -1;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = '\0';
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
        perror("listen");
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- echo ------------------------------------------------------------------ */

static void *echo_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char *buf = malloc(BUF);
    ssize_t n;
    while (buf && (n = read(fd, buf, BUF)) > 0) {
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (w <= 0)
                goto done;
            off += w;
        }
    }
done:
    free(buf);
    close(fd);
    return NULL;
}

static int cmd_echo(const char *port_file)
{
    int port;
    int lfd = listen_on("127.0.0.1:0", &port);
    if (lfd < 0)
        return 1;
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
        rename(tmp, port_file) != 0) {
        perror(port_file);
        return 1;
    }
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("accept");
            return 1;
        }
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, echo_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&at);
    }
}

/* ---- bulk ------------------------------------------------------------------ */

static void fill(uint8_t *buf, size_t n, uint64_t *state)
{
    uint64_t x = *state;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(buf + i, &x, 8);
    }
    *state = x;
}

static void hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

/* Reads exactly n bytes (blocking); 0 or -1. */
static int read_exact(int fd, uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, buf, n);
        if (r <= 0)
            return -1;
        buf += r;
        n -= (size_t)r;
    }
    return 0;
}

/* SOCKS5 CONNECT (RFC 1928, no authentication) to target over fd. */
static int socks5_connect(int fd, const char *target)
{
    uint8_t req[3 + SS_ADDR_MAX] = {5, 1, 0}, rep[4 + SS_ADDR_MAX];
    int n = ss_addr_encode(target, req + 3);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (n < 0) {
        fprintf(stderr, "bulk: bad SOCKS5 target %s\n", target);
        return -1;
    }
    if (write(fd, req, 3) != 3 || read_exact(fd, rep, 2) != 0 || rep[0] != 5 || rep[1] != 0 ||
        write(fd, req, (size_t)n + 3) != n + 3 || read_exact(fd, rep, 5) != 0 ||
        rep[0] != 5 || rep[1] != 0) {
        fprintf(stderr, "bulk: the SOCKS5 proxy refused %s\n", target);
        return -1;
    }
    size_t rest = rep[3] == 1 ? 4 + 2 - 1 : rep[3] == 4 ? 16 + 2 - 1 : (size_t)rep[4] + 2;
    if (read_exact(fd, rep + 5, rest) != 0) {
        fprintf(stderr, "bulk: short SOCKS5 reply\n");
        return -1;
    }
    return 0;
}

static int cmd_bulk(const char *addr, long long total, long timeout_ms, const char *socks_target)
{
    int fd = ss_native_connect(addr);
    if (fd < 0) {
        fprintf(stderr, "bulk: cannot connect to %s\n", addr);
        return 1;
    }
    if (socks_target != NULL && socks5_connect(fd, socks_target) != 0) {
        close(fd);
        return 1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    uint8_t *out = malloc(BUF), *in = malloc(BUF);
    EVP_MD_CTX *hs = EVP_MD_CTX_new(), *hr = EVP_MD_CTX_new();
    EVP_DigestInit_ex(hs, EVP_sha256(), NULL);
    EVP_DigestInit_ex(hr, EVP_sha256(), NULL);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    long long sent = 0, got = 0;
    size_t out_off = 0, out_len = 0;
    double t0 = now_s(), deadline = t0 + (double)timeout_ms / 1000.0;
    int rc = 0;

    while (got < total) {
        double left = deadline - now_s();
        if (left <= 0) {
            fprintf(stderr, "bulk: timed out: sent %lld, received %lld of %lld bytes\n", sent,
                    got, total);
            rc = 1;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0)};
        int pr = poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR) {
            perror("poll");
            rc = 1;
            break;
        }
        if ((p.revents & POLLOUT) && sent < total) {
            if (out_off == out_len) {
                size_t n = total - sent < BUF ? (size_t)(total - sent) : BUF;
                fill(out, BUF, &state);
                EVP_DigestUpdate(hs, out, n);
                out_off = 0;
                out_len = n;
            }
            ssize_t w = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
            if (w > 0) {
                out_off += (size_t)w;
                sent += w;
            } else if (w < 0 && errno != EAGAIN) {
                fprintf(stderr, "bulk: send: %s after %lld bytes\n", strerror(errno), sent);
                rc = 1;
                break;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(fd, in, BUF);
            if (r == 0 || (r < 0 && errno != EAGAIN)) {
                fprintf(stderr, "bulk: connection closed after receiving %lld of %lld bytes%s%s\n",
                        got, total, r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
                rc = 1;
                break;
            }
            if (r > 0) {
                if (got + r > total) {
                    fprintf(stderr, "bulk: received more than was sent\n");
                    rc = 1;
                    break;
                }
                EVP_DigestUpdate(hr, in, (size_t)r);
                got += r;
            }
        }
    }
    double took = now_s() - t0;
    if (rc == 0) {
        uint8_t ds[32], dr[32];
        char xs[65], xr[65];
        EVP_DigestFinal_ex(hs, ds, NULL);
        EVP_DigestFinal_ex(hr, dr, NULL);
        hex(ds, xs);
        hex(dr, xr);
        if (memcmp(ds, dr, 32) != 0) {
            fprintf(stderr, "bulk: SHA-256 differ: sent %s, received %s\n", xs, xr);
            rc = 1;
        } else {
            printf("ok %lld bytes each way in %.3f s: %.1f MiB/s (sha256 %s)\n", total, took,
                   (double)total / 1048576.0 / took, xs);
        }
    }
    EVP_MD_CTX_free(hs);
    EVP_MD_CTX_free(hr);
    free(out);
    free(in);
    close(fd);
    return rc;
}

/* ---- expect-close ---------------------------------------------------------- */

static int cmd_expect_close(const char *addr, long timeout_ms)
{
    int fd = ss_native_connect(addr);
    if (fd < 0) {
        fprintf(stderr, "expect-close: cannot connect to %s\n", addr);
        return 1;
    }
    char buf[4096];
    memset(buf, 'q', 64);
    double t0 = now_s();
    if (send(fd, buf, 64, MSG_NOSIGNAL) != 64) {
        printf("closed at once (send failed: %s)\n", strerror(errno));
        close(fd);
        return 0;
    }
    for (;;) {
        long left = timeout_ms - (long)((now_s() - t0) * 1000);
        if (left <= 0) {
            fprintf(stderr, "expect-close: still open after %ld ms\n", timeout_ms);
            close(fd);
            return 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
            fprintf(stderr, "expect-close: received %zd bytes instead\n", r);
            close(fd);
            return 1;
        }
        if (r == 0 || errno != EINTR) {
            printf("closed after %.0f ms (%s)\n", (now_s() - t0) * 1000,
                   r == 0 ? "EOF" : strerror(errno));
            close(fd);
            return 0;
        }
    }
}

/* ---- ports ------------------------------------------------------------------ */

/* A port that was free a moment ago, for programs that want one given
 * (below the ephemeral range: tests/common/free_port.h). */
static int cmd_port(void)
{
    unsigned port = free_port();
    if (port == 0)
        return 1;
    printf("%u\n", port);
    return 0;
}

/* Waits until something accepts connections on addr. */
static int cmd_wait_port(const char *addr, long timeout_ms)
{
    double t0 = now_s();
    while ((now_s() - t0) * 1000 < (double)timeout_ms) {
        int fd = ss_native_connect(addr);
        if (fd >= 0) {
            close(fd);
            return 0;
        }
        usleep(20000);
    }
    fprintf(stderr, "wait-port: nothing listens on %s after %ld ms\n", addr, timeout_ms);
    return 1;
}

/* ---- native client and server -------------------------------------------- */

static struct ss_config cfg;
static const char *remote;

static void *proxy_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    int cp[2];
    if (pipe(cp) != 0) {
        close(fd);
        return NULL;
    }
    int r;
    if (remote != NULL) {
        int net = ss_native_connect(remote);
        if (net < 0) {
            fprintf(stderr, "client: cannot connect to %s\n", remote);
            r = net;
        } else {
            r = ss_run_client(&cfg, fd, net, cp[0]);
            close(net);
        }
    } else {
        r = ss_run_server(&cfg, fd, cp[0]);
    }
    if (r < 0)
        fprintf(stderr, "connection closed: errno %d\n", -r);
    close(fd);
    close(cp[0]);
    close(cp[1]);
    return NULL;
}

static int cmd_proxy(const char *config, const char *listen_addr, const char *arg, bool client)
{
    static uint8_t json[65536];
    FILE *f = fopen(config, "rb");
    size_t n = f ? fread(json, 1, sizeof json, f) : 0;
    if (f)
        fclose(f);
    if (n == 0 || ss_config_parse(&cfg, json, n) < 0) {
        fprintf(stderr, "%s: bad or empty config\n", config);
        return 1;
    }
    if (client)
        remote = arg;
    else
        ss_native_allow = arg;
    int port;
    int lfd = listen_on(listen_addr, &port);
    if (lfd < 0)
        return 1;
    fprintf(stderr, "listening on 127.0.0.1:%d\n", port);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("accept");
            return 1;
        }
        pthread_t th;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &at, proxy_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&at);
    }
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return cmd_echo(argv[2]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "bulk") == 0)
        return cmd_bulk(argv[2], atoll(argv[3]), atol(argv[4]), argc == 6 ? argv[5] : NULL);
    if (argc == 2 && strcmp(argv[1], "port") == 0)
        return cmd_port();
    if (argc == 4 && strcmp(argv[1], "wait-port") == 0)
        return cmd_wait_port(argv[2], atol(argv[3]));
    if (argc == 4 && strcmp(argv[1], "expect-close") == 0)
        return cmd_expect_close(argv[2], atol(argv[3]));
    if (argc == 5 && (strcmp(argv[1], "client") == 0 || strcmp(argv[1], "server") == 0))
        return cmd_proxy(argv[2], argv[3], argv[4], argv[1][0] == 'c');
    fprintf(stderr,
            "usage: ss_peer echo PORT_FILE\n"
            "       ss_peer port\n"
            "       ss_peer wait-port HOST:PORT TIMEOUT_MS\n"
            "       ss_peer bulk HOST:PORT BYTES TIMEOUT_MS [SOCKS5_TARGET]\n"
            "       ss_peer expect-close HOST:PORT TIMEOUT_MS\n"
            "       ss_peer client CONFIG LISTEN SERVER\n"
            "       ss_peer server CONFIG LISTEN ALLOW_DIAL\n");
    return 2;
}
