/*
 * internal.h - what the SDK's files share and the public header does not say.
 *
 * Two layers inside the SDK:
 *   - portable core (stream.c, config.c, io.c, worker.c, session.c): plain
 *     C11 over the small "sys" interface below; compiles natively so the
 *     worker itself can be unit-tested over socketpairs;
 *   - WASI bindings (sys_wasi.c, abi_v1.c, abi_v1_fixed.c, abi_v0.c): the
 *     sys interface on WASI preview 1, the exports and the env imports.
 *     Built for wasm32 only.
 *
 * Every sys_* result is >= 0 on success or minus a WASI errno (WATM_E*).
 */
#ifndef WATM_INTERNAL_H
#define WATM_INTERNAL_H

#include "watm.h"

#include <stdbool.h>

/* ---- sys: the only system calls the core makes -------------------------- */

struct watm_pollfd {
    int fd;
    bool want_read, want_write; /* in */
    bool can_read, can_write;   /* out: ready, or an error/hangup to collect */
};

/* Blocks until at least one requested event is ready; fills can_*.
 * 0 or a negative errno. */
int watm_sys_poll(struct watm_pollfd *p, size_t n);
/* One read/write; -WATM_EAGAIN when it would block; read returns 0 at EOF. */
ssize_t watm_sys_read(int fd, void *buf, size_t len);
ssize_t watm_sys_write(int fd, const void *buf, size_t len);
int watm_sys_shutdown_wr(int fd);
int watm_sys_set_nonblock(int fd);
int watm_sys_close(int fd);
/* Writes len bytes to stderr, best effort. */
void watm_sys_log_write(const char *s, size_t len);

/* ---- worker.c ------------------------------------------------------------ */

/* Read size per direction, and the output room is sized from it. */
#define WATM_CHUNK 16384

/*
 * Moves bytes between internal_fd and network_fd through t's transforms until
 * both directions are closed (returns 0), the control pipe is readable or
 * closed (-WATM_ECANCELED), or an error (its negative errno). Sets all three
 * fds non-blocking first. Does not close any fd: the host owns them.
 */
int watm_worker_run(const struct watm_transport *t, enum watm_role role,
                    int internal_fd, int network_fd, int ctrl_fd);

/* ---- io.c ----------------------------------------------------------------- */

/* Waits until fd is readable (want_write false) or writable, or the control
 * pipe fires. 0, -WATM_ECANCELED, or a negative errno. */
int watm_wait_fd(const struct watm_session *s, int fd, bool want_write);
/* Reads the control pipe after it polled ready: -WATM_ECANCELED for a byte
 * or EOF, 0 for a spurious wake-up, another negative errno on error. */
int watm_ctrl_check(int ctrl_fd);

/* ---- config.c ------------------------------------------------------------- */

/* Takes a whole config (NULL/0 = none): sets the default dial address from
 * JSON "dial_address" when present, then runs t->configure. 0 or -errno. */
int watm_config_apply(const struct watm_transport *t, const uint8_t *cfg, size_t len);
/* Reads everything from fd into a malloc'd buffer (*out, *len); caps the size
 * at WATM_CONFIG_MAX (-WATM_EFBIG). Caller frees. 0 or -errno. */
#define WATM_CONFIG_MAX (1u << 20)
int watm_config_read_fd(int fd, uint8_t **out, size_t *len);

/* ---- session.c: the connection's state, shared by both ABIs -------------- */

struct watm_state {
    bool initialised;
    enum watm_role role;
    int internal_fd;
    int network_fd;
    int ctrl_fd;
};

extern struct watm_state watm_state;
/* Defined by the transport through WATM_REGISTER. */
extern const struct watm_transport *const watm_registered_transport;

/* Records the role's fds; -WATM_EBUSY when a role is already set. */
int watm_session_set_role(enum watm_role role, int internal_fd, int network_fd);
/* Stores the control fd. 0 or -errno. */
int watm_session_set_ctrl(int ctrl_fd);
/* The blocking worker export: handshake, then watm_worker_run. */
int watm_session_start(void);

#endif /* WATM_INTERNAL_H */
