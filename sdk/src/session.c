/*
 * session.c - the one connection an instance serves (portable).
 *
 * Both ABIs funnel into these functions: the init hands the config to the
 * registered transport, the role exports record the fds, the control export
 * records the control pipe, the worker export runs the handshake and the
 * worker. One instance = one connection, so the state is
 * a single static struct; a second role call is refused with -WATM_EBUSY.
 */
#include "internal.h"

struct watm_state watm_state = {
    .role = WATM_ROLE_NONE,
    .internal_fd = -1,
    .network_fd = -1,
    .ctrl_fd = -1,
};

int watm_session_set_role(enum watm_role role, int internal_fd, int network_fd)
{
    if (watm_state.role != WATM_ROLE_NONE) {
        watm_log("a role was already set up in this instance");
        return -WATM_EBUSY;
    }
    if (internal_fd < 0 || network_fd < 0)
        return -WATM_EBADF;
    watm_state.role = role;
    watm_state.internal_fd = internal_fd;
    watm_state.network_fd = network_fd;
    return 0;
}

int watm_session_configure(const uint8_t *cfg, size_t len)
{
    return watm_config_apply(watm_registered_transport, cfg, len);
}

int watm_session_set_ctrl(int ctrl_fd)
{
    if (ctrl_fd < 0)
        return -WATM_EBADF;
    int r = watm_sys_set_nonblock(ctrl_fd);
    if (r < 0) {
        watm_log_num("control fd non-blocking, errno", -r);
        return r;
    }
    watm_state.ctrl_fd = ctrl_fd;
    return 0;
}

int watm_session_start(void)
{
    const struct watm_transport *t = watm_registered_transport;
    const struct watm_state *st = &watm_state;

    if (st->role == WATM_ROLE_NONE) {
        watm_log("start: no role was set up (dial, accept or associate first)");
        return -WATM_ENOTCONN;
    }
    if (st->ctrl_fd < 0) {
        watm_log("start: no control pipe was given");
        return -WATM_EBADF;
    }
    if (t->handshake != NULL) {
        int r;
        if ((r = watm_sys_set_nonblock(st->internal_fd)) < 0 ||
            (r = watm_sys_set_nonblock(st->network_fd)) < 0)
            return r;
        struct watm_session s = {
            .role = st->role,
            .internal_fd = st->internal_fd,
            .network_fd = st->network_fd,
            .ctrl_fd = st->ctrl_fd,
        };
        r = t->handshake(&s);
        if (r < 0) {
            if (r != -WATM_ECANCELED)
                watm_log_num("start: handshake failed, errno", -r);
            return r;
        }
    }
    return watm_worker_run(t, st->role, st->internal_fd, st->network_fd, st->ctrl_fd);
}
