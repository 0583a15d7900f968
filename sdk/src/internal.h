/*
 * internal.h - what the SDK's files share and the public header does not say.
 *
 * Two layers inside the SDK:
 *   - portable core (stream.c, config.c, io.c, worker.c, session.c): plain
 *     C11 over the system layer of watm_sys.h (public: transports with their
 *     own loop use it too); compiles natively so the worker itself can be
 *     unit-tested over socketpairs (sdk/tests/sys_posix.c stands in for
 *     WASI);
 *   - WASI bindings (sys_wasi.c, host_v1.c, abi_v1.c, abi_v1_fixed.c,
 *     abi_v0.c; runner.c and ext.c behind the optional headers): the system
 *     layer on WASI preview 1, the exports and the host imports. Built for
 *     wasm32 only.
 *
 * Every watm_sys_* result is >= 0 on success or minus a WASI errno (WATM_E*).
 */
#ifndef WATM_INTERNAL_H
#define WATM_INTERNAL_H

#include "watm.h"
#include "watm_sys.h"

#include <stdbool.h>

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
 * pipe fires. 0, -WATM_ECANCELED, or a negative errno. (watm_ctrl_check,
 * the other half of the control pipe, is public: watm_sys.h.) */
int watm_wait_fd(const struct watm_session *s, int fd, bool want_write);

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
/* Hands a config (NULL/0 = none) to the registered transport:
 * watm_config_apply(watm_registered_transport, ...). The apply step of both
 * ABIs' init (watm_init_once). 0 or -errno. */
int watm_session_configure(const uint8_t *cfg, size_t len);
/* The blocking worker export: handshake, then watm_worker_run. */
int watm_session_start(void);

#endif /* WATM_INTERNAL_H */
