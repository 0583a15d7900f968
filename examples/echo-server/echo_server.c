/*
 * echo_server.c - a TCP echo server for runner mode (`water run`), written
 * with the SDK (watm_runner.h). One instance serves every client at once:
 * all fds are non-blocking and one event loop (one poll_oneoff per round)
 * multiplexes the listener and the clients.
 *
 *   water run -t echo-server.wasm --allow-listen 127.0.0.1:9005
 *   water run -t echo-server.wasm -c echo.json --allow-listen 127.0.0.1:7000
 *       with echo.json: {"listen": "127.0.0.1:7000"}
 *
 * Prints "> CONNECTED" on stdout for each client it accepts.
 *
 * Each client has a buffer of BUF_CAP bytes: the server reads while there
 * is room and writes while there is data, so nothing is dropped, and a
 * client that does not read its echo stops being read from (backpressure)
 * instead of making the server buffer without bound. When a client ends its
 * sending side, the server echoes what is left, then closes.
 */
#include "watm_runner.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_LISTEN "127.0.0.1:9005"
#define BUF_CAP (32 * 1024)

/* The listening fd, paused while accepting fails (out of fds) and resumed
 * when a client leaves. */
static int listen_fd = -1;
static bool listen_paused;

struct client {
    int fd;
    size_t head, len; /* pending echo: buf[head, head + len) */
    bool eof;         /* the client has finished sending */
    uint8_t buf[BUF_CAP];
};

static unsigned interest(const struct client *c)
{
    unsigned ev = 0;
    if (!c->eof && c->head + c->len < BUF_CAP)
        ev |= WATM_EV_READ;
    if (c->len > 0)
        ev |= WATM_EV_WRITE;
    return ev;
}

static void drop(struct watm_loop *loop, struct client *c)
{
    watm_loop_del(loop, c->fd);
    (void)watm_close(c->fd);
    free(c);
    if (listen_paused) {
        listen_paused = false;
        watm_loop_set(loop, listen_fd, WATM_EV_READ);
    }
}

/* Writes what is pending; false on an error (the client is gone). */
static bool flush(struct client *c)
{
    while (c->len > 0) {
        ssize_t n = watm_write(c->fd, c->buf + c->head, c->len);
        if (n == -WATM_EAGAIN)
            return true;
        if (n <= 0)
            return false;
        c->head += (size_t)n;
        c->len -= (size_t)n;
    }
    c->head = 0;
    return true;
}

/* Reads once into the free room; false on an error. */
static bool fill(struct client *c)
{
    if (c->head > 0 && c->head + c->len == BUF_CAP) { /* make room at the end */
        memmove(c->buf, c->buf + c->head, c->len);
        c->head = 0;
    }
    size_t end = c->head + c->len;
    ssize_t n = watm_read(c->fd, c->buf + end, BUF_CAP - end);
    if (n == -WATM_EAGAIN)
        return true;
    if (n < 0)
        return false;
    if (n == 0)
        c->eof = true;
    c->len += (size_t)n;
    return true;
}

static void on_client(struct watm_loop *loop, int fd, unsigned events, void *user)
{
    (void)fd;
    struct client *c = user;
    bool ok = true;
    if (events & WATM_EV_READ)
        ok = fill(c);
    if (ok && c->len > 0) /* try at once: usually the socket has room */
        ok = flush(c);
    if (!ok || (c->eof && c->len == 0)) {
        if (ok)
            (void)watm_shutdown_write(c->fd);
        drop(loop, c);
        return;
    }
    watm_loop_set(loop, c->fd, interest(c));
}

static void on_listener(struct watm_loop *loop, int fd, unsigned events, void *user)
{
    (void)events;
    (void)user;
    for (;;) {
        int cfd = watm_accept(fd);
        if (cfd == -WATM_EAGAIN)
            return;
        struct client *c = cfd < 0 ? NULL : calloc(1, sizeof *c);
        if (c && watm_loop_add(loop, cfd, WATM_EV_READ, on_client, c) < 0) {
            free(c);
            c = NULL;
        }
        if (!c) {
            /* Out of fds or memory: stop accepting until a client leaves
             * (polling a listener we cannot serve would spin). */
            if (cfd < 0)
                watm_log_num("echo-server: accept failed, pausing; errno", -cfd);
            else
                (void)watm_close(cfd);
            listen_paused = true;
            watm_loop_set(loop, fd, 0);
            return;
        }
        c->fd = cfd;
        watm_print("> CONNECTED\n");
    }
}

/* The listen address: the config's "listen" member, else the default. */
static int listen_address(char *addr, size_t cap)
{
    uint8_t *cfg;
    size_t len;
    int r = watm_runner_config(&cfg, &len);
    if (r < 0)
        return r;
    ssize_t n = cfg ? watm_json_string(cfg, len, "listen", addr, cap) : -WATM_ENOENT;
    free(cfg);
    if (n == -WATM_ENOENT) {
        strcpy(addr, DEFAULT_LISTEN);
        return 0;
    }
    if (n <= 0) {
        watm_log("echo-server: the config's \"listen\" must be a string \"host:port\"");
        return n < 0 ? (int)n : -WATM_EINVAL;
    }
    return 0;
}

static int serve(void)
{
    char addr[256];
    int r = listen_address(addr, sizeof addr);
    if (r < 0)
        return r;
    listen_fd = watm_tcp_listen(addr);
    if (listen_fd < 0) {
        watm_log_num("echo-server: cannot listen (is the address allowed with "
                     "--allow-listen?), errno", -listen_fd);
        return listen_fd;
    }
    struct watm_loop *loop = watm_loop_new();
    if (!loop || watm_loop_add(loop, listen_fd, WATM_EV_READ, on_listener, NULL) < 0)
        return -WATM_ENOMEM;
    watm_log("echo-server: listening");
    r = watm_loop_run(loop); /* until the host stops us */
    watm_loop_free(loop);
    (void)watm_close(listen_fd);
    return r;
}

WATM_RUNNER_MAIN(serve);
