/*
 * server.c - the accept loop shared by dial, listen and relay.
 *
 * Each accepted client gets a small thread that opens its WATER connection
 * (which may block on a dial) and then waits for the connection's end, so
 * a slow remote never stalls the accept loop. Live connections are kept in
 * a list so that a signal can stop them all at once.
 */
#define _GNU_SOURCE
#include "server.h"

#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_STACK (256 * 1024)

typedef struct client {
    struct client *next, *prev;
    water_conn *conn;      /* set once open, under lock */
    int fd;
    struct server *srv;
} client;

typedef struct server {
    cli_open_fn open;
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t idle;   /* signalled when nclients drops */
    client *clients;
    unsigned nclients;
    bool stopping;
} server;

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(signal_pipe[1], &b, 1) < 0) {
        /* nothing to do: the loop also polls the flag through the pipe */
    }
    errno = saved;
}

static void unlink_client(server *s, client *c)
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

static void *client_main(void *arg)
{
    client *c = arg;
    server *s = c->srv;
    water_error err;
    water_conn *conn = s->open(s->arg, c->fd, &err);
    if (!conn)
        cli_error("connection failed: %s", err.message);
    pthread_mutex_lock(&s->lock);
    c->conn = conn;
    bool stopping = s->stopping;
    pthread_mutex_unlock(&s->lock);
    if (conn) {
        if (stopping)
            water_conn_stop(conn);
        water_conn_wait(conn, -1, NULL);
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

static void start_client(server *s, int fd)
{
    client *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->srv = s;
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
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int rc = pthread_create(&th, &attr, client_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        cli_error("cannot start a thread: %s", strerror(rc));
        close(fd);
        pthread_mutex_lock(&s->lock);
        unlink_client(s, c);
        pthread_mutex_unlock(&s->lock);
        free(c);
    }
}

/* Stops every connection and waits (bounded) for the client threads. */
static void shut_down(server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    for (client *c = s->clients; c; c = c->next)
        if (c->conn)
            water_conn_stop(c->conn);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 2;
    while (s->nclients > 0)
        if (pthread_cond_timedwait(&s->idle, &s->lock, &ts) == ETIMEDOUT)
            break;
    unsigned left = s->nclients;
    pthread_mutex_unlock(&s->lock);
    if (left)
        cli_error("%u connections did not stop in time", left);
}

int cli_serve(const char *listen_addr, cli_open_fn open, void *arg)
{
    water_error err;
    char bound[128];
    int lfd = water_listen_tcp(listen_addr, bound, sizeof bound, &err);
    if (lfd < 0) {
        cli_error("%s", err.message);
        return 1;
    }
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        cli_error("pipe: %s", strerror(errno));
        close(lfd);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    server s = {.open = open, .arg = arg};
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.idle, NULL);
    fprintf(stderr, "listening on %s\n", bound);
    fflush(stderr);
    for (;;) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN},
                              {.fd = signal_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            cli_error("poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                start_client(&s, fd);
            else if (errno == EMFILE || errno == ENFILE)
                poll(NULL, 0, 50); /* out of fds: let connections finish */
        }
    }
    close(lfd);
    shut_down(&s);
    fprintf(stderr, "stopped\n");
    return 0;
}
