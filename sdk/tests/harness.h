/*
 * harness.h - native test fixtures: socketpairs standing in for the host's
 * fds, a worker on its own thread (as the host runs it), and sender and
 * receiver threads that push and check deterministic byte streams.
 *
 * Test-side fds stay blocking; the worker makes its own fds non-blocking.
 */
#ifndef WATM_HARNESS_H
#define WATM_HARNESS_H

#include "internal.h"

#include <pthread.h>

/* One module connection: app <-> internal, network <-> peer, ctrl pipe. */
struct conn_fixture {
    int app;       /* the application's end (test side) */
    int internal;  /* the module's internal fd */
    int network;   /* the module's network fd */
    int peer;      /* the remote end (test side) */
    int ctrl_host; /* the host's end of the control pipe */
    int ctrl;      /* the module's control fd */
};

/* Creates the three socketpairs; aborts the test program on failure. */
void fixture_open(struct conn_fixture *f);
/* Closes every fd that is still >= 0. */
void fixture_close(struct conn_fixture *f);
/* socketpair(AF_UNIX, SOCK_STREAM) or abort. */
void make_pair(int fds[2]);

struct worker_run {
    pthread_t th;
    const struct watm_transport *t;
    enum watm_role role;
    int internal, network, ctrl;
    int result;
};

void worker_spawn(struct worker_run *w, const struct watm_transport *t,
                  enum watm_role role, int internal, int network, int ctrl);
/* Joins the worker thread; returns watm_worker_run's result. */
int worker_wait(struct worker_run *w);

/* len deterministic pseudo-random bytes (malloc'd; caller frees). */
uint8_t *test_data(size_t len, uint64_t seed);

/* Writes data in pseudo-random chunk sizes (1..64 KiB, from chunk_seed),
 * then shuts down the write side if shut_after. */
struct sender {
    pthread_t th;
    int fd;
    const uint8_t *data;
    size_t len;
    uint64_t chunk_seed;
    bool shut_after;
    int error; /* 0 or errno */
};
void sender_spawn(struct sender *s, int fd, const uint8_t *data, size_t len,
                  uint64_t chunk_seed, bool shut_after);
int sender_wait(struct sender *s);

/* Sleeps delay_ms, then reads until EOF into a buffer of cap bytes
 * (error EMSGSIZE when more than cap arrive). */
struct receiver {
    pthread_t th;
    int fd;
    unsigned delay_ms;
    uint8_t *buf;
    size_t cap;
    size_t got;
    int error; /* 0 or errno */
};
void receiver_spawn(struct receiver *r, int fd, size_t cap, unsigned delay_ms);
/* Joins; returns the error (0 when EOF was reached cleanly). The caller
 * frees r->buf. */
int receiver_wait(struct receiver *r);

/* Reads exactly len bytes (blocking); 0 or -1. */
int read_full(int fd, void *buf, size_t len);
/* Writes all len bytes (blocking); 0 or -1. */
int write_full(int fd, const void *buf, size_t len);
/* 1 when fd is at EOF (read returns 0), 0 when data arrived, -1 on error. */
int read_is_eof(int fd);

#endif /* WATM_HARNESS_H */
