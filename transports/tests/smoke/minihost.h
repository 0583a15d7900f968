/*
 * minihost.h - a minimal WASI preview 1 + WATER env host for modules
 * translated to C by wabt's wasm2c; test-only.
 *
 * It runs the real .wasm transports (through wasm2c) against real sockets so
 * the SDK's WASI glue is exercised before the project's own host exists:
 * subscription and event layouts in poll_oneoff, the /conf preopen lookup,
 * water_dial's iovec arguments, v0's pull_config, the control pipe.
 *
 * Guest fds map through a small table to host fds (0-2 pass through; the
 * /conf preopen, when present, is guest fd 3). Only the calls the SDK makes
 * are implemented; anything else is simply not linked.
 */
#ifndef WATM_MINIHOST_H
#define WATM_MINIHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "wasm-rt.h"

#define MH_FDS 64

struct minihost;

/* wasm2c passes these to every import; both just point at the host. */
struct Z_env_instance_t {
    struct minihost *h;
};
struct Z_wasi_snapshot_preview1_instance_t {
    struct minihost *h;
};

struct minihost {
    wasm_rt_memory_t *mem; /* set after instantiation */
    int fds[MH_FDS];       /* guest fd -> host fd, -1 when free */
    bool conf_preopen;     /* guest fd 3 is the /conf directory */
    const char *conf_file; /* host path of watm.cfg for v0's pull_config */

    /* What the env imports hand over (ownership passes to the fd table). */
    int dial_fd;   /* water_dial_fixed, water_dial, host_dial */
    int accept_fd; /* water_accept, host_accept */

    /* What the module asked for. */
    int dial_fixed_calls, dial_calls, accept_calls, defer_calls, pull_config_calls;
    char dial_network[300];
    char dial_address[300];

    struct Z_env_instance_t env;
    struct Z_wasi_snapshot_preview1_instance_t wasi;
};

/* conf_dir: a host directory exposed as /conf (NULL: none); conf_file: the
 * file v0's pull_config opens (NULL: -EACCES). */
void mh_init(struct minihost *h, const char *conf_dir, const char *conf_file);
/* Closes every fd left in the table. */
void mh_close_all(struct minihost *h);
/* Inserts host_fd (ownership passes) and returns the guest fd, or -1. */
int mh_insert(struct minihost *h, int host_fd);
/* The host fd behind a guest fd, or -1. */
int mh_host_fd(const struct minihost *h, int guest_fd);

#endif /* WATM_MINIHOST_H */
