/*
 * smoke.c - runs one built transport module (translated by wasm2c) through
 * every role its ABI offers, over real socketpairs, with minihost.c as the
 * host. Compiled once per module with:
 *   WATM_MOD         the wasm2c module name (plain, xor_v0, ...)
 *   WATM_MOD_HEADER  its generated header, as a string
 *   WATM_KIND        0 plain, 1 reverse, 2 xor
 *   WATM_V0          defined for v0 modules
 * The bytes each side must see are computed with the same transport compiled
 * natively (plain.c, reverse.c, xor.c), so this also checks that the wasm
 * and native builds agree.
 */
#define _GNU_SOURCE
#include "check.h"
#include "harness.h"
#include "minihost.h"

#include WATM_MOD_HEADER
#include "wasm-rt-impl.h"

#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAT_(a, b, c) a##b##c
#define CAT(a, b, c) CAT_(a, b, c)
#define EXPORT(name) CAT(Z_, WATM_MOD, Z_##name)
#define INSTANCE_T CAT(Z_, WATM_MOD, _instance_t)
#define MOD_FN(name) CAT(Z_, WATM_MOD, _##name)

extern const struct watm_transport plain_transport;
extern const struct watm_transport reverse_transport;
extern const struct watm_transport xor_transport;

#if WATM_KIND == 0
#define NATIVE plain_transport
#elif WATM_KIND == 1
#define NATIVE reverse_transport
#else
#define NATIVE xor_transport
#endif

static const char config_json[] =
    "{\"key\":\"smoke test key\",\"dial_address\":\"127.0.0.1:7\"}";
static char conf_dir[64];
static char conf_file[96];

#define ERR(e) ((uint32_t) - (e)) /* a negative WASI errno as an i32 result */

/* One module instance with its host. */
struct inst {
    INSTANCE_T m;
    struct minihost h;
};

static void inst_new(struct inst *in, bool with_config)
{
    mh_init(&in->h, with_config ? conf_dir : NULL, with_config ? conf_file : NULL);
    MOD_FN(instantiate)(&in->m, &in->h.env, &in->h.wasi);
    in->h.mem = EXPORT(memory)(&in->m);
    EXPORT(_start)(&in->m);
}

static void inst_free(struct inst *in)
{
    MOD_FN(free)(&in->m);
    mh_close_all(&in->h);
}

/* ABI-neutral names for the exports. */
#ifdef WATM_V0
#define CALL_INIT(in) EXPORT(_water_init)(&(in)->m)
#define CALL_CTRL(in, fd) EXPORT(_water_cancel_with)(&(in)->m, fd)
#define CALL_DIAL(in, fd) EXPORT(_water_dial)(&(in)->m, fd)
#define CALL_ACCEPT(in, fd) EXPORT(_water_accept)(&(in)->m, fd)
#define CALL_ASSOCIATE(in) EXPORT(_water_associate)(&(in)->m)
#define CALL_START(in) EXPORT(_water_worker)(&(in)->m)
#else
#define CALL_INIT(in) EXPORT(watm_init_v1)(&(in)->m)
#define CALL_CTRL(in, fd) EXPORT(watm_ctrlpipe_v1)(&(in)->m, fd)
#define CALL_DIAL(in, fd) EXPORT(watm_dial_v1)(&(in)->m, fd)
#define CALL_ACCEPT(in, fd) EXPORT(watm_accept_v1)(&(in)->m, fd)
#define CALL_ASSOCIATE(in) EXPORT(watm_associate_v1)(&(in)->m)
#define CALL_START(in) EXPORT(watm_start_v1)(&(in)->m)
#endif

/* The worker export on its own thread, as the host runs it. */
struct start_thread {
    pthread_t th;
    struct inst *in;
    uint32_t result;
    int trap;
};

static void *start_main(void *arg)
{
    struct start_thread *t = arg;
    t->trap = wasm_rt_impl_try();
    if (t->trap == 0)
        t->result = CALL_START(t->in);
    return NULL;
}

static void start_spawn(struct start_thread *t, struct inst *in)
{
    t->in = in;
    t->result = 12345;
    t->trap = 0;
    if (pthread_create(&t->th, NULL, start_main, t) != 0)
        abort();
}

/* After a failed check mid-exchange the worker may still be running: stop
 * it through the control pipe so that joining it cannot hang. */
static void stop_if_failed(int failures_before, int ctrl_host)
{
    if (check_failures != failures_before)
        (void)write_full(ctrl_host, "\0", 1);
}

/* Native reference: what `role` produces in direction `dir` for msg. */
static size_t native(enum watm_role role, enum watm_dir dir, const uint8_t *msg, size_t len,
                     uint8_t *out)
{
    struct watm_stream s = {.dir = dir, .role = role};
    ssize_t r = watm_transform_run(&NATIVE, &s, msg, len, out, len);
    return r < 0 ? 0 : (size_t)r;
}

/*
 * Exchanges data through a running module: `app` is the plaintext side,
 * `wire` the transformed side; role is the module's. Small messages first
 * (reverse works per read), then for chunk-independent transports 1 MiB
 * from the app side. Ends with both half-closes.
 */
static void exchange(int app, int wire, enum watm_role role, enum watm_role peer_role)
{
    uint8_t want[64], buf[64];
    const char *m1 = "hello from the application";
    size_t n1 = strlen(m1);
    size_t w1 = native(role, WATM_WRAP, (const uint8_t *)m1, n1, want);
    CHECK_EQ(w1, n1);
    CHECK_EQ(write_full(app, m1, n1), 0);
    CHECK_EQ(read_full(wire, buf, w1), 0);
    CHECK_MEM(buf, want, w1);

    /* The peer speaks the transport too: it wraps as its own role. */
    const char *m2 = "a reply from the peer";
    size_t n2 = strlen(m2);
    size_t w2 = native(peer_role, WATM_WRAP, (const uint8_t *)m2, n2, want);
    CHECK_EQ(write_full(wire, want, w2), 0);
    CHECK_EQ(read_full(app, buf, n2), 0);
    CHECK_MEM(buf, m2, n2);

#if WATM_KIND != 1
    /* Bulk, continuing both streams' positions. */
    const size_t big = 1u << 20;
    uint8_t *data = test_data(big, 77);
    uint8_t *all = malloc(n1 + big), *expect = malloc(n1 + big);
    memcpy(all, m1, n1);
    memcpy(all + n1, data, big);
    native(role, WATM_WRAP, all, n1 + big, expect);
    struct sender s;
    struct receiver r;
    receiver_spawn(&r, wire, big + 1, 0);
    sender_spawn(&s, app, data, big, 99, true);
    int se = sender_wait(&s), re = receiver_wait(&r);
    int same = r.got == big && memcmp(r.buf, expect + n1, big) == 0;
    free(r.buf);
    free(data);
    free(all);
    free(expect);
    CHECK_EQ(se, 0);
    CHECK_EQ(re, 0); /* EOF: the app's half-close crossed the module */
    CHECK(same);
#else
    CHECK_EQ(shutdown(app, SHUT_WR), 0);
    CHECK_EQ(read_is_eof(wire), 1);
#endif
    CHECK_EQ(shutdown(wire, SHUT_WR), 0);
    CHECK_EQ(read_is_eof(app), 1);
}

/* Dialer (or listener): module gets internal fd, asks the host for the
 * network fd, runs; data both ways; clean end. */
static void role_test(bool listener, bool with_config)
{
    struct inst in;
    int app[2], net[2], ctl[2];
    make_pair(app);
    make_pair(net);
    make_pair(ctl);
    inst_new(&in, with_config);
    if (listener)
        in.h.accept_fd = net[0];
    else
        in.h.dial_fd = net[0];
    int internal = mh_insert(&in.h, app[1]);
    int ctrl = mh_insert(&in.h, ctl[1]);

    CHECK_EQ(CALL_INIT(&in), 0);
    uint32_t netfd = listener ? CALL_ACCEPT(&in, (uint32_t)internal)
                              : CALL_DIAL(&in, (uint32_t)internal);
    CHECK(netfd < MH_FDS && mh_host_fd(&in.h, (int)netfd) == net[0]);
    CHECK_EQ(listener ? in.h.accept_calls : in.h.dial_fixed_calls, 1);
    CHECK_EQ(CALL_CTRL(&in, (uint32_t)ctrl), 0);
    /* A second role in the same instance is refused. */
    CHECK_EQ(CALL_DIAL(&in, (uint32_t)internal), ERR(WATM_EBUSY));

    struct start_thread t;
    int before = check_failures;
    start_spawn(&t, &in);
    if (listener)
        exchange(app[0], net[1], WATM_ROLE_LISTENER, WATM_ROLE_DIALER);
    else
        exchange(app[0], net[1], WATM_ROLE_DIALER, WATM_ROLE_LISTENER);
    stop_if_failed(before, ctl[0]);
    pthread_join(t.th, NULL);
    CHECK_EQ(t.trap, 0);
    CHECK_EQ(t.result, 0);
#ifdef WATM_V0
    CHECK_EQ(in.h.defer_calls, 1);
    CHECK_EQ(in.h.pull_config_calls, 1);
#endif
    inst_free(&in);
    close(app[0]);
    close(net[1]);
    close(ctl[0]);
}

static void test_dialer(void)
{
    role_test(false, true);
}

static void test_listener(void)
{
    role_test(true, true);
}

static void test_dialer_without_config(void)
{
    role_test(false, false);
}

/* Relay: accept one, dial one, move bytes between them. */
static void test_relay(void)
{
    struct inst in;
    int client[2], server[2], ctl[2];
    make_pair(client);
    make_pair(server);
    make_pair(ctl);
    inst_new(&in, true);
    in.h.accept_fd = client[0];
    in.h.dial_fd = server[0];
    int ctrl = mh_insert(&in.h, ctl[1]);
    CHECK_EQ(CALL_INIT(&in), 0);
    CHECK_EQ(CALL_ASSOCIATE(&in), 0);
    CHECK_EQ(in.h.accept_calls, 1);
    CHECK_EQ(in.h.dial_fixed_calls, 1);
    CHECK_EQ(CALL_CTRL(&in, (uint32_t)ctrl), 0);
    struct start_thread t;
    int before = check_failures;
    start_spawn(&t, &in);
    /* The accepted side is the plaintext side; the relay wraps like a dialer. */
    exchange(client[1], server[1], WATM_ROLE_RELAY, WATM_ROLE_LISTENER);
    stop_if_failed(before, ctl[0]);
    pthread_join(t.th, NULL);
    CHECK_EQ(t.trap, 0);
    CHECK_EQ(t.result, 0);
    inst_free(&in);
    close(client[1]);
    close(server[1]);
    close(ctl[0]);
}

/* Cancel through the control pipe: a byte, then (new instance) EOF. */
static void cancel_test(bool by_eof)
{
    struct inst in;
    int app[2], net[2], ctl[2];
    make_pair(app);
    make_pair(net);
    make_pair(ctl);
    inst_new(&in, true);
    in.h.dial_fd = net[0];
    int internal = mh_insert(&in.h, app[1]);
    int ctrl = mh_insert(&in.h, ctl[1]);
    CHECK_EQ(CALL_INIT(&in), 0);
    CHECK(CALL_DIAL(&in, (uint32_t)internal) < MH_FDS);
    CHECK_EQ(CALL_CTRL(&in, (uint32_t)ctrl), 0);
    struct start_thread t;
    start_spawn(&t, &in);
    usleep(20 * 1000);
    if (by_eof) {
        close(ctl[0]);
        ctl[0] = -1;
    } else {
        CHECK_EQ(write_full(ctl[0], "\0", 1), 0);
    }
    pthread_join(t.th, NULL);
    CHECK_EQ(t.trap, 0);
    CHECK_EQ(t.result, ERR(WATM_ECANCELED));
    inst_free(&in);
    close(app[0]);
    close(net[1]);
    if (ctl[0] >= 0)
        close(ctl[0]);
}

static void test_cancel_byte(void)
{
    cancel_test(false);
}

static void test_cancel_eof(void)
{
    cancel_test(true);
}

/* Errors reported cleanly: start before any role, dial refused. */
static void test_errors(void)
{
    struct inst in;
    inst_new(&in, true);
    CHECK_EQ(CALL_INIT(&in), 0);
    CHECK_EQ(CALL_START(&in), ERR(WATM_ENOTCONN));
    CHECK_EQ(CALL_DIAL(&in, 5), ERR(WATM_ENOTCONN)); /* the host has no dial fd */
    inst_free(&in);
}

#ifndef WATM_V0
/* Fixed dialer: the module names "tcp" and the config's dial_address. */
static void test_fixed_dialer(void)
{
    struct inst in;
    int app[2], net[2], ctl[2];
    make_pair(app);
    make_pair(net);
    make_pair(ctl);
    inst_new(&in, true);
    in.h.dial_fd = net[0];
    int internal = mh_insert(&in.h, app[1]);
    int ctrl = mh_insert(&in.h, ctl[1]);
    CHECK_EQ(CALL_INIT(&in), 0);
    uint32_t netfd = EXPORT(watm_dial_fixed_v1)(&in.m, (uint32_t)internal);
    CHECK(netfd < MH_FDS && mh_host_fd(&in.h, (int)netfd) == net[0]);
    CHECK_EQ(in.h.dial_calls, 1);
    CHECK_EQ(in.h.dial_fixed_calls, 0);
    CHECK_STR(in.h.dial_network, "tcp");
    CHECK_STR(in.h.dial_address, "127.0.0.1:7");
    CHECK_EQ(CALL_CTRL(&in, (uint32_t)ctrl), 0);
    struct start_thread t;
    int before = check_failures;
    start_spawn(&t, &in);
    exchange(app[0], net[1], WATM_ROLE_FIXED_DIALER, WATM_ROLE_LISTENER);
    stop_if_failed(before, ctl[0]);
    pthread_join(t.th, NULL);
    CHECK_EQ(t.result, 0);
    inst_free(&in);
    close(app[0]);
    close(net[1]);
    close(ctl[0]);
}

static void test_fixed_dialer_without_address(void)
{
    struct inst in;
    inst_new(&in, false);
    in.h.dial_fd = -1;
    CHECK_EQ(CALL_INIT(&in), 0);
    CHECK_EQ(EXPORT(watm_dial_fixed_v1)(&in.m, 5), ERR(WATM_EINVAL));
    CHECK_EQ(in.h.dial_calls, 0);
    inst_free(&in);
}
#endif

#if WATM_KIND == 2
static void test_bad_config(void)
{
    FILE *f = fopen(conf_file, "w");
    CHECK(f != NULL);
    fputs("{\"key_hex\":\"zz\"}", f);
    fclose(f);
    struct inst in;
    inst_new(&in, true);
    uint32_t r = CALL_INIT(&in);
    inst_free(&in);
    f = fopen(conf_file, "w");
    CHECK(f != NULL);
    fputs(config_json, f);
    fclose(f);
    CHECK_EQ(r, ERR(WATM_EINVAL));
}
#endif

static void set_native_key(bool with_config)
{
    if (NATIVE.configure != NULL)
        NATIVE.configure(with_config ? (const uint8_t *)config_json : NULL,
                         with_config ? strlen(config_json) : 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    check_watchdog(120);
    snprintf(conf_dir, sizeof conf_dir, "/tmp/watm-smoke-%d", (int)getpid());
    snprintf(conf_file, sizeof conf_file, "%s/watm.cfg", conf_dir);
    if (mkdir(conf_dir, 0700) != 0) {
        perror(conf_dir);
        return EXIT_FAILURE;
    }
    FILE *f = fopen(conf_file, "w");
    if (f == NULL) {
        perror(conf_file);
        return EXIT_FAILURE;
    }
    fputs(config_json, f);
    fclose(f);

    wasm_rt_init();
    MOD_FN(init_module)();

    set_native_key(true);
    RUN(test_dialer);
    RUN(test_listener);
    RUN(test_relay);
    RUN(test_cancel_byte);
    RUN(test_cancel_eof);
    RUN(test_errors);
#ifndef WATM_V0
    RUN(test_fixed_dialer);
    RUN(test_fixed_dialer_without_address);
#endif
#if WATM_KIND == 2
    RUN(test_bad_config);
#endif
    set_native_key(false);
    RUN(test_dialer_without_config);

    unlink(conf_file);
    rmdir(conf_dir);
    wasm_rt_free();
    return check_main_result();
}
