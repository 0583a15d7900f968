/*
 * harness.c - native test fixtures (see harness.h).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void make_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        perror("socketpair");
        abort();
    }
}

void fixture_open(struct conn_fixture *f)
{
    int a[2], n[2], c[2];
    make_pair(a);
    make_pair(n);
    make_pair(c);
    f->app = a[0];
    f->internal = a[1];
    f->network = n[0];
    f->peer = n[1];
    f->ctrl_host = c[0];
    f->ctrl = c[1];
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void fixture_close(struct conn_fixture *f)
{
    close_fd(&f->app);
    close_fd(&f->internal);
    close_fd(&f->network);
    close_fd(&f->peer);
    close_fd(&f->ctrl_host);
    close_fd(&f->ctrl);
}

static void *worker_main(void *arg)
{
    struct worker_run *w = arg;
    w->result = watm_worker_run(w->t, w->role, w->internal, w->network, w->ctrl);
    return NULL;
}

void worker_spawn(struct worker_run *w, const struct watm_transport *t,
                  enum watm_role role, int internal, int network, int ctrl)
{
    w->t = t;
    w->role = role;
    w->internal = internal;
    w->network = network;
    w->ctrl = ctrl;
    w->result = 1; /* not a possible result */
    if (pthread_create(&w->th, NULL, worker_main, w) != 0)
        abort();
}

int worker_wait(struct worker_run *w)
{
    pthread_join(w->th, NULL);
    return w->result;
}

static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint8_t *test_data(size_t len, uint64_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    if (p == NULL)
        abort();
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = next(&seed);
        for (size_t k = 0; k < 8 && i + k < len; k++)
            p[i + k] = (uint8_t)(v >> (8 * k));
    }
    return p;
}

int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = send(fd, p, len, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

int read_is_eof(int fd)
{
    uint8_t b;
    ssize_t r;
    do
        r = read(fd, &b, 1);
    while (r < 0 && errno == EINTR);
    return r == 0 ? 1 : r > 0 ? 0 : -1;
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    uint64_t seed = s->chunk_seed;
    size_t off = 0;
    while (off < s->len) {
        size_t n = 1 + (size_t)(next(&seed) % 65536);
        if (n > s->len - off)
            n = s->len - off;
        if (write_full(s->fd, s->data + off, n) != 0) {
            s->error = errno ? errno : EIO;
            return NULL;
        }
        off += n;
    }
    if (s->shut_after && shutdown(s->fd, SHUT_WR) != 0)
        s->error = errno;
    return NULL;
}

void sender_spawn(struct sender *s, int fd, const uint8_t *data, size_t len,
                  uint64_t chunk_seed, bool shut_after)
{
    s->fd = fd;
    s->data = data;
    s->len = len;
    s->chunk_seed = chunk_seed;
    s->shut_after = shut_after;
    s->error = 0;
    if (pthread_create(&s->th, NULL, sender_main, s) != 0)
        abort();
}

int sender_wait(struct sender *s)
{
    pthread_join(s->th, NULL);
    return s->error;
}

static void *receiver_main(void *arg)
{
    struct receiver *r = arg;
    if (r->delay_ms) {
        struct timespec ts = {r->delay_ms / 1000, (long)(r->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (;;) {
        uint8_t tmp[8192];
        ssize_t n = read(r->fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r->error = errno;
            return NULL;
        }
        if (n == 0)
            return NULL;
        if ((size_t)n > r->cap - r->got) {
            r->error = EMSGSIZE;
            return NULL;
        }
        memcpy(r->buf + r->got, tmp, (size_t)n);
        r->got += (size_t)n;
    }
}

void receiver_spawn(struct receiver *r, int fd, size_t cap, unsigned delay_ms)
{
    r->fd = fd;
    r->delay_ms = delay_ms;
    r->cap = cap;
    r->got = 0;
    r->error = 0;
    r->buf = malloc(cap ? cap : 1);
    if (r->buf == NULL || pthread_create(&r->th, NULL, receiver_main, r) != 0)
        abort();
}

int receiver_wait(struct receiver *r)
{
    pthread_join(r->th, NULL);
    return r->error;
}
