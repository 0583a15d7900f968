/*
 * test_session.c - the session layer both ABIs share: role bookkeeping,
 * the checks before start, and handshakes run through the blocking helpers
 * (watm_send_all / watm_recv_exact), including a cancel during a handshake.
 */
#include "check.h"
#include "harness.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

/* Initiator: sends "HELO", expects "OK". Listener: the reverse. */
static int hello_handshake(const struct watm_session *s)
{
    char buf[4];
    int r;
    if (watm_role_is_initiator(s->role)) {
        if ((r = watm_send_all(s, s->network_fd, "HELO", 4)) < 0)
            return r;
        if ((r = watm_recv_exact(s, s->network_fd, buf, 2)) < 0)
            return r;
        return memcmp(buf, "OK", 2) == 0 ? 0 : -WATM_EPROTO;
    }
    if ((r = watm_recv_exact(s, s->network_fd, buf, 4)) < 0)
        return r;
    if (memcmp(buf, "HELO", 4) != 0)
        return -WATM_EPROTO;
    return watm_send_all(s, s->network_fd, "OK", 2);
}

static const struct watm_transport hello_transport = {
    .name = "hello",
    .handshake = hello_handshake,
};

const struct watm_transport *const watm_registered_transport = &hello_transport;

static void reset_state(void)
{
    watm_state.role = WATM_ROLE_NONE;
    watm_state.internal_fd = watm_state.network_fd = watm_state.ctrl_fd = -1;
}

static int start_result;

static void *start_main(void *arg)
{
    (void)arg;
    start_result = watm_session_start();
    return NULL;
}

static void test_start_preconditions(void)
{
    reset_state();
    CHECK_EQ(watm_session_start(), -WATM_ENOTCONN);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_DIALER, 5, -1), -WATM_EBADF);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_DIALER, 5, 6), 0);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_LISTENER, 7, 8), -WATM_EBUSY);
    CHECK_EQ(watm_state.role, WATM_ROLE_DIALER);
    CHECK_EQ(watm_session_start(), -WATM_EBADF); /* no control pipe yet */
    CHECK_EQ(watm_session_set_ctrl(-1), -WATM_EBADF);
    reset_state();
}

static void test_handshake_then_data(void)
{
    reset_state();
    struct conn_fixture f;
    fixture_open(&f);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_DIALER, f.internal, f.network), 0);
    CHECK_EQ(watm_session_set_ctrl(f.ctrl), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, start_main, NULL), 0);

    /* The app may write before the handshake is done: it waits in the socket. */
    CHECK_EQ(write_full(f.app, "early", 5), 0);
    char buf[8];
    CHECK_EQ(read_full(f.peer, buf, 4), 0);
    CHECK_MEM(buf, "HELO", 4);
    CHECK_EQ(write_full(f.peer, "OK", 2), 0);
    CHECK_EQ(read_full(f.peer, buf, 5), 0);
    CHECK_MEM(buf, "early", 5);
    CHECK_EQ(write_full(f.peer, "reply", 5), 0);
    CHECK_EQ(read_full(f.app, buf, 5), 0);
    CHECK_MEM(buf, "reply", 5);
    CHECK_EQ(shutdown(f.app, SHUT_WR), 0);
    CHECK_EQ(shutdown(f.peer, SHUT_WR), 0);
    pthread_join(th, NULL);
    CHECK_EQ(start_result, 0);
    fixture_close(&f);
    reset_state();
}

static void test_handshake_listener_rejects(void)
{
    reset_state();
    struct conn_fixture f;
    fixture_open(&f);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_LISTENER, f.internal, f.network), 0);
    CHECK_EQ(watm_session_set_ctrl(f.ctrl), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, start_main, NULL), 0);
    CHECK_EQ(write_full(f.peer, "NOPE", 4), 0);
    pthread_join(th, NULL);
    CHECK_EQ(start_result, -WATM_EPROTO);
    fixture_close(&f);
    reset_state();
}

static void test_handshake_early_eof(void)
{
    reset_state();
    struct conn_fixture f;
    fixture_open(&f);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_LISTENER, f.internal, f.network), 0);
    CHECK_EQ(watm_session_set_ctrl(f.ctrl), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, start_main, NULL), 0);
    CHECK_EQ(write_full(f.peer, "HE", 2), 0);
    CHECK_EQ(shutdown(f.peer, SHUT_WR), 0);
    pthread_join(th, NULL);
    CHECK_EQ(start_result, -WATM_EPIPE);
    fixture_close(&f);
    reset_state();
}

static void test_handshake_cancel(void)
{
    reset_state();
    struct conn_fixture f;
    fixture_open(&f);
    CHECK_EQ(watm_session_set_role(WATM_ROLE_RELAY, f.internal, f.network), 0);
    CHECK_EQ(watm_session_set_ctrl(f.ctrl), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, start_main, NULL), 0);
    char buf[4];
    CHECK_EQ(read_full(f.peer, buf, 4), 0); /* HELO sent; now it waits for OK */
    usleep(20 * 1000);
    CHECK_EQ(write_full(f.ctrl_host, "\0", 1), 0);
    pthread_join(th, NULL);
    CHECK_EQ(start_result, -WATM_ECANCELED);
    fixture_close(&f);
    reset_state();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    check_watchdog(60);
    RUN(test_start_preconditions);
    RUN(test_handshake_then_data);
    RUN(test_handshake_listener_rejects);
    RUN(test_handshake_early_eof);
    RUN(test_handshake_cancel);
    return check_main_result();
}
