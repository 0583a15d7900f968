/*
 * server.c - the accept loop of dial, listen and relay (on the front
 * layer's server: one thread per client that opens its connection and
 * waits for its end), and the signal pipe every long-running command
 * stops on.
 */
#define _GNU_SOURCE
#include "server.h"

#include "cli.h"
#include "front/front.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    if (write(signal_pipe[1], &b, 1) < 0) {
        /* the pipe already holds a byte: enough */
    }
    errno = saved;
}

int cli_stop_fd(void)
{
    if (signal_pipe[0] >= 0)
        return signal_pipe[0];
    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        cli_error("pipe: %s", strerror(errno));
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signal_pipe[0];
}

static void report(void *user, const char *msg)
{
    (void)user;
    cli_error("connection failed: %s", msg);
}

int cli_serve(const char *listen_addr, cli_open_fn open, void *arg)
{
    water_error err;
    char bound[128];
    int stop = cli_stop_fd();
    if (stop < 0)
        return 1;
    int lfd = water_listen_tcp(listen_addr, bound, sizeof bound, &err);
    if (lfd < 0) {
        cli_error("%s", err.message);
        return 1;
    }
    front_server *s = front_server_new(report, NULL);
    if (!s || !front_server_add(s, lfd, open, arg)) {
        cli_error("out of memory");
        if (!s)
            close(lfd);
        front_server_free(s);
        return 1;
    }
    fprintf(stderr, "listening on %s\n", bound);
    fflush(stderr);
    unsigned left = front_server_run(s, stop, -1);
    if (left) {
        /* Their threads still use the server: leave it to the exit. */
        cli_error("%u connections did not stop in time", left);
        fprintf(stderr, "stopped\n");
        return 0;
    }
    front_server_free(s);
    fprintf(stderr, "stopped\n");
    return 0;
}
