/*
 * server.h - the accept loop of the role commands (src/front/serve.c: one
 * thread per client that opens a WATER connection and waits for its end),
 * SIGINT/SIGTERM to stop accepting, stop every connection and exit within
 * about a second.
 */
#ifndef WATER_CLI_SERVER_H
#define WATER_CLI_SERVER_H

#include "water.h"

/* Opens the WATER connection for one accepted client (client_fd is taken
 * over). Returns NULL with *err filled on failure. */
typedef water_conn *(*cli_open_fn)(void *arg, int client_fd, water_error *err);

/* Listens on `listen_addr`, prints "listening on HOST:PORT" to stderr, and
 * serves until SIGINT or SIGTERM. Returns the exit code. */
int cli_serve(const char *listen_addr, cli_open_fn open, void *arg);

/* Installs the SIGINT/SIGTERM handlers (once) and returns the fd that
 * becomes readable when one arrives, or -1. SIGPIPE is ignored. */
int cli_stop_fd(void);

#endif
