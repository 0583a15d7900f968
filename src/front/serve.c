/*
 * serve.c - an accept loop over several listeners (one per Tor transport).
 *
 * Each accepted client gets a short-lived detached thread that opens its
 * connection (a SOCKS5 handshake, an ExtORPort handshake, a dial: all
 * bounded, and cut short by the quit pipe) and exits; the connection then
 * costs only its own worker thread. The accept loop reaps connections
 * whose worker has ended. Stopping reaches every live connection (control
 * pipe, then an interrupt) and waits a bounded time.
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
#define REAP_MS 100        /* how often ended connections are collected */
#define INTERRUPT_MS 1000  /* after a stop, interrupt workers still running */
#define STOP_WAIT_MS 3000  /* then give up waiting */

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
}

static void *client_main(void *arg)
{
    client *c = arg;
    front_server *s = c->srv;
    water_error err = {WATER_OK, ""};
    water_conn *conn = c->l->open(c->l->arg, c->fd, &err);
    pthread_mutex_lock(&s->lock);
    bool stopping = s->stopping;
    if (conn) {
        c->conn = conn; /* the accept loop reaps it once its worker ends */
        if (stopping)
            water_conn_stop(conn);
        pthread_mutex_unlock(&s->lock);
        return NULL;
    }
    unlink_client(s, c);
    pthread_mutex_unlock(&s->lock);
    free(c);
    if (s->report && !stopping)
        s->report(s->report_user, err.message);
    return NULL;
}

/* Closes every connection whose worker has ended; returns how many
 * clients (open or opening) are left. */
static unsigned reap(front_server *s)
{
    client *done = NULL;
    pthread_mutex_lock(&s->lock);
    for (client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (c->conn && water_conn_wait(c->conn, 0, NULL)) {
            unlink_client(s, c);
            c->next = done;
            done = c;
        }
    }
    unsigned left = s->nclients;
    pthread_mutex_unlock(&s->lock);
    for (client *c = done, *next; c; c = next) {
        next = c->next;
        water_close(c->conn); /* the worker has ended: only joins and frees */
        free(c);
    }
    return left;
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

/* Stops every connection: the control pipe first, an interrupt for the
 * workers still running after INTERRUPT_MS; gives up after STOP_WAIT_MS.
 * Returns how many clients are left (still opening, or unstoppable). */
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
    pthread_mutex_unlock(&s->lock);
    int64_t start = front_now_ms();
    bool interrupted = false;
    unsigned left;
    while ((left = reap(s)) > 0 && front_now_ms() - start < STOP_WAIT_MS) {
        if (!interrupted && front_now_ms() - start >= INTERRUPT_MS) {
            pthread_mutex_lock(&s->lock);
            for (client *c = s->clients; c; c = c->next)
                if (c->conn)
                    water_conn_interrupt(c->conn);
            pthread_mutex_unlock(&s->lock);
            interrupted = true;
        }
        poll(NULL, 0, 20);
    }
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
        int ready = poll(p, n, REAP_MS);
        if (ready < 0 && errno != EINTR)
            break;
        reap(s);
        if (ready <= 0)
            continue;
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
    free(s);
}
