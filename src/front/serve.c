/*
 * serve.c - an accept loop over several listeners (one per Tor transport).
 *
 * Each accepted client gets a detached thread that opens its connection
 * (a SOCKS5 handshake, an ExtORPort handshake, a dial: all bounded, and
 * cut short by the quit pipe) and then waits for the connection's end.
 * Live clients are listed so that stopping reaches them all; stopping
 * waits a bounded time for their threads.
 */
#define _GNU_SOURCE
#include "front.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_STACK (256 * 1024)
#define MAX_LISTENERS 32
#define STOP_CHECK_MS 200
#define STOP_WAIT_MS 3000

typedef struct listener {
    int fd;
    front_open_fn open;
    void *arg;
} listener;

typedef struct client {
    struct client *next, *prev;
    struct front_server *srv;
    const listener *l;
    int fd;
    water_conn *conn;      /* once open, under lock */
} client;

struct front_server {
    listener ls[MAX_LISTENERS];
    size_t nls;
    front_report_fn report;
    void *report_user;
    int quit[2];           /* written once when stopping; never read */
    pthread_mutex_t lock;
    pthread_cond_t idle;
    client *clients;
    unsigned nclients;
    bool stopping;
};

front_server *front_server_new(front_report_fn report, void *report_user)
{
    front_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pipe2(s->quit, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(s);
        return NULL;
    }
    s->report = report;
    s->report_user = report_user;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->idle, NULL);
    return s;
}

int front_server_quit_fd(const front_server *s)
{
    return s->quit[0];
}

bool front_server_add(front_server *s, int listen_fd, front_open_fn open, void *arg)
{
    if (s->nls == MAX_LISTENERS) {
        close(listen_fd);
        return false;
    }
    s->ls[s->nls++] = (listener){listen_fd, open, arg};
    return true;
}

static void unlink_client(front_server *s, client *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients--;
    pthread_cond_broadcast(&s->idle);
}

static bool is_stopping(front_server *s)
{
    pthread_mutex_lock(&s->lock);
    bool stop = s->stopping;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void *client_main(void *arg)
{
    client *c = arg;
    front_server *s = c->srv;
    water_error err = {WATER_OK, ""};
    water_conn *conn = c->l->open(c->l->arg, c->fd, &err);
    if (!conn && s->report && !is_stopping(s))
        s->report(s->report_user, err.message);
    pthread_mutex_lock(&s->lock);
    c->conn = conn;
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    if (conn) {
        if (stopping)
            water_conn_stop(conn);
        /* Once stopping, go on to water_close(), which interrupts a worker
         * that does not watch its control pipe. */
        while (!water_conn_wait(conn, STOP_CHECK_MS, NULL) && !is_stopping(s))
            ;
        pthread_mutex_lock(&s->lock);
        c->conn = NULL;
        pthread_mutex_unlock(&s->lock);
        water_close(conn);
    }
    pthread_mutex_lock(&s->lock);
    unlink_client(s, c);
    pthread_mutex_unlock(&s->lock);
    free(c);
    return NULL;
}

static void start_client(front_server *s, const listener *l, int fd)
{
    client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->l = l;
    c->fd = fd;
    pthread_mutex_lock(&s->lock);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients++;
    pthread_mutex_unlock(&s->lock);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, CLIENT_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with the caller */
    pthread_t th;
    int rc = pthread_create(&th, &attr, client_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        if (s->report)
            s->report(s->report_user, "cannot start a client thread");
        close(fd);
        pthread_mutex_lock(&s->lock);
        unlink_client(s, c);
        pthread_mutex_unlock(&s->lock);
        free(c);
    }
}

static unsigned shut_down(front_server *s)
{
    static const uint8_t b = 1;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    if (write(s->quit[1], &b, 1) < 0) {
        /* the pipe is empty and ours: cannot fail */
    }
    for (client *c = s->clients; c; c = c->next)
        if (c->conn)
            water_conn_stop(c->conn);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += STOP_WAIT_MS / 1000;
    while (s->nclients > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &ts) == ETIMEDOUT)
            break;
    unsigned left = s->nclients;
    pthread_mutex_unlock(&s->lock);
    if (left && s->report)
        s->report(s->report_user, "some connections did not stop in time");
    return left;
}

unsigned front_server_run(front_server *s, int stop_fd, int eof_fd)
{
    struct pollfd p[MAX_LISTENERS + 2];
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < s->nls; i++)
            p[n++] = (struct pollfd){.fd = s->ls[i].fd, .events = POLLIN};
        size_t stop_at = n, eof_at = n + 1;
        p[n++] = (struct pollfd){.fd = stop_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = eof_fd, .events = POLLIN};
        if (poll(p, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (stop_fd >= 0 && p[stop_at].revents)
            break;
        if (eof_fd >= 0 && p[eof_at].revents) {
            char buf[256];
            ssize_t got = read(eof_fd, buf, sizeof buf);
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
                break;
        }
        for (size_t i = 0; i < s->nls; i++) {
            if (!(p[i].revents & POLLIN))
                continue;
            int fd = accept4(s->ls[i].fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                start_client(s, &s->ls[i], fd);
            else if (errno == EMFILE || errno == ENFILE)
                poll(NULL, 0, 50); /* out of fds: let connections finish */
        }
    }
    for (size_t i = 0; i < s->nls; i++) {
        close(s->ls[i].fd);
        s->ls[i].fd = -1;
    }
    return shut_down(s);
}

void front_server_free(front_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nls; i++)
        if (s->ls[i].fd >= 0)
            close(s->ls[i].fd);
    close(s->quit[0]);
    close(s->quit[1]);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->idle);
    free(s);
}
