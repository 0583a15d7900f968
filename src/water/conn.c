/*
 * conn.c - the life of one connection: a fresh instance, `_start`, init,
 * the role call (which makes the module dial or accept through imports.c),
 * the control pipe, then the worker export on a thread of its own.
 *
 * Stopping: one byte 0x00 on the control pipe; if the worker has not
 * returned after stop_timeout_ms, the instance is interrupted (guest code)
 * and its WASI context woken (host waits). The worker frees the instance
 * as soon as it returns; `done` (under `lock`) tells the closer whether the
 * instance still exists, so an interrupt never reaches a freed instance.
 */
#define _GNU_SOURCE
#include "host.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WORKER_STACK (512 * 1024)

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void free_instance(water_conn *c)
{
    water_ext_free(c->g.ext);
    c->g.ext = NULL;
    wasm_instance_free(c->inst);
    c->inst = NULL;
    wasi_ctx_free(c->wasi); /* closes every fd the module holds */
    c->wasi = NULL;
}

static void conn_free(water_conn *c)
{
    free_instance(c);
    close_fd(&c->app_fd);
    close_fd(&c->ctrl_w);
    close_fd(&c->pending_net_fd);
    free(c->network);
    free(c->address);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c);
}

/* Calls an export (i32 args) -> i32. Returns true with *result, or false
 * with err filled (a trap, or the instance is gone). */
static bool call_export(water_conn *c, const char *name, const int32_t *args,
                        uint32_t nargs, int32_t *result, water_error *err)
{
    wasm_func *f = wasm_instance_func(c->inst, name);
    if (!f) {
        water_error_set(err, WATER_ERR_ABI, "the module has no export %s", name);
        return false;
    }
    wasm_val a[2], r[1];
    for (uint32_t i = 0; i < nargs; i++)
        a[i] = (wasm_val){.type = WASM_I32, .of.i32 = args[i]};
    water_meter(c->t, c->inst);
    wasm_error e;
    wasm_functype_info ft = wasm_func_type(f);
    if (wasm_call(c->inst, f, a, nargs, r, ft.nresults, &e) != WASM_OK) {
        water_call_error(c->t, name, &e, err);
        return false;
    }
    *result = ft.nresults ? r[0].of.i32 : 0;
    return true;
}

/* Calls a setup export that must return >= 0; the message names the host's
 * own reason when an import failed during the call. */
static bool setup_call(water_conn *c, const char *name, const int32_t *args,
                       uint32_t nargs, int32_t *result, water_error *err)
{
    int32_t r;
    c->host_error.code = WATER_OK;
    if (!call_export(c, name, args, nargs, &r, err))
        return false;
    if (r < 0) {
        if (c->host_error.code != WATER_OK)
            water_error_set(err, c->host_error.code, "%s (module: %s returned %d, %s)",
                            c->host_error.message, name, r, wasi_errno_name(-r));
        else
            water_error_set(err, WATER_ERR_TRANSPORT, "module: %s returned %d (%s)", name,
                            r, wasi_errno_name(-r));
        return false;
    }
    if (result)
        *result = r;
    return true;
}

static bool run_start(water_conn *c, water_error *err)
{
    if (!c->t->has_start)
        return true;
    wasm_func *f = wasm_instance_func(c->inst, "_start");
    wasm_error e;
    if (wasm_call(c->inst, f, NULL, 0, NULL, 0, &e) == WASM_OK)
        return true;
    /* proc_exit(0) inside _start is a normal return (TinyGo). */
    if (e.code == WASM_ERR_TRAP && e.trap == WASM_TRAP_EXIT && e.exit_code == 0)
        return true;
    water_error_set(err, WATER_ERR_TRAP, "module: _start: %s", e.message);
    return false;
}

/* co (may be NULL) may give the connection a config of its own. */
static bool make_instance(water_conn *c, const water_conn_options *co, water_error *err)
{
    water_transport *t = c->t;
    wasi_options wo = {.config = t->has_config ? t->config : NULL,
                       .config_len = t->config_len,
                       .user = c};
    if (co && co->config) {
        wo.config = co->config; /* copied by wasi_ctx_new */
        wo.config_len = co->config_len;
    }
    if (t->opts.stdio) {
        wo.stdio[1] = WASI_STDIO_INHERIT;
        wo.stdio[2] = WASI_STDIO_INHERIT;
    }
    char msg[200];
    c->wasi = wasi_ctx_new(&wo, msg, sizeof msg);
    if (!c->wasi) {
        water_error_set(err, WATER_ERR_SYSTEM, "WASI: %s", msg);
        return false;
    }
    wasm_instance_config cfg = {.max_memory_pages = t->opts.max_memory_pages,
                                .userdata = c->wasi};
    wasm_error e;
    c->inst = wasm_instance_new(t->module, t->linker, &cfg, &e);
    if (!c->inst) {
        water_error_set(err, e.code == WASM_ERR_LIMIT ? WATER_ERR_MODULE : WATER_ERR_TRAP,
                        "module: instantiation failed: %s", e.message);
        return false;
    }
    return true;
}

/* Inserts fd into the module's table; takes it over either way. */
static bool insert(water_conn *c, int fd, wasi_fd_kind kind, int32_t *guest,
                   water_error *err)
{
    uint32_t g;
    int e = wasi_fd_insert(c->wasi, fd, kind, &g);
    if (e) {
        close(fd);
        water_error_set(err, WATER_ERR_SYSTEM, "cannot give an fd to the module: %s",
                        wasi_strerror(e));
        return false;
    }
    *guest = (int32_t)g;
    return true;
}

/* The module's internal fd: app_fd as given, or one end of a new pair. */
static bool internal_fd(water_conn *c, int app_fd, int32_t *guest, water_error *err)
{
    if (app_fd >= 0)
        return insert(c, app_fd, WASI_FD_AUTO, guest, err);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        water_error_set(err, WATER_ERR_SYSTEM, "socketpair: %s", strerror(errno));
        return false;
    }
    c->app_fd = sv[0];
    return insert(c, sv[1], WASI_FD_SOCKET_STREAM, guest, err);
}

static bool control_pipe(water_conn *c, water_error *err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        water_error_set(err, WATER_ERR_SYSTEM, "pipe: %s", strerror(errno));
        return false;
    }
    c->ctrl_w = p[1];
    int32_t guest;
    return insert(c, p[0], WASI_FD_PIPE, &guest, err) &&
           setup_call(c, c->t->names.ctrl, &guest, 1, NULL, err);
}

static void *worker(void *arg)
{
    water_conn *c = arg;
    water_error how = {WATER_OK, ""};
    int32_t r = 0;
    if (call_export(c, c->t->names.start, NULL, 0, &r, &how) && r < 0 &&
        r != -WASI_ECANCELED)
        water_error_set(&how, WATER_ERR_TRANSPORT, "module: %s returned %d (%s)",
                        c->t->names.start, r, wasi_errno_name(-r));
    if (how.code != WATER_OK)
        water_log(c->t, WATER_LOG_WARN, "connection closed: %s", how.message);
    pthread_mutex_lock(&c->lock);
    c->done = true;
    c->result = how;
    pthread_mutex_unlock(&c->lock);
    free_instance(c); /* safe: nobody touches it once done is set */
    pthread_mutex_lock(&c->lock);
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static bool start_worker(water_conn *c, water_error *err)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    /* The worker must not take the application's signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&c->thread, &attr, worker, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        water_error_set(err, WATER_ERR_SYSTEM, "cannot start a worker thread: %s",
                        strerror(rc));
        return false;
    }
    c->thread_started = true;
    return true;
}

static water_conn *conn_new(water_transport *t, water_role role, water_error *err)
{
    water_conn *c = calloc(1, sizeof *c);
    if (!c) {
        water_error_set(err, WATER_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->t = c->g.t = t;
    c->role = role;
    c->app_fd = c->ctrl_w = c->pending_net_fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    return c;
}

static bool role_offered(water_transport *t, water_role role, water_error *err)
{
    static const char *const names[] = {"dialer", "fixed dialer", "listener", "relay"};
    bool ok = role == ROLE_DIAL ? t->info.dial
            : role == ROLE_DIAL_FIXED ? t->info.dial_fixed
            : role == ROLE_ACCEPT ? t->info.accept : t->info.relay;
    if (!ok)
        water_error_set(err, WATER_ERR_ROLE, "the transport (WATM v%d) offers no %s role",
                        t->info.abi_version, names[role]);
    return ok;
}

/* Everything from a fresh instance to a running worker. Takes over app_fd
 * and net_fd. co (may be NULL): per-connection settings. */
static water_conn *conn_open(water_transport *t, water_role role, int app_fd,
                             int net_fd, const char *network, const char *address,
                             const water_conn_options *co, water_error *err)
{
    water_error dummy;
    if (!err)
        err = &dummy;
    err->code = WATER_OK;
    err->message[0] = '\0';
    water_conn *c = t ? conn_new(t, role, err) : NULL;
    if (!t)
        water_error_set(err, WATER_ERR_ARGS, "no transport");
    if (!c || !role_offered(t, role, err))
        goto fail;
    c->pending_net_fd = net_fd;
    net_fd = -1;
    if (address && (!(c->network = strdup(network ? network : "tcp")) ||
                    !(c->address = strdup(address)))) {
        water_error_set(err, WATER_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!make_instance(c, co, err) || !run_start(c, err))
        goto fail;
    if (t->names.init && !setup_call(c, t->names.init, NULL, 0, NULL, err))
        goto fail;
    int32_t internal;
    switch (role) {
    case ROLE_DIAL:
    case ROLE_DIAL_FIXED:
    case ROLE_ACCEPT: {
        const char *fn = role == ROLE_DIAL ? t->names.dial
                       : role == ROLE_DIAL_FIXED ? t->names.dial_fixed : t->names.accept;
        bool ok = internal_fd(c, app_fd, &internal, err);
        app_fd = -1;
        if (!ok || !setup_call(c, fn, &internal, 1, NULL, err))
            goto fail;
        break;
    }
    case ROLE_RELAY:
        if (!setup_call(c, t->names.associate, NULL, 0, NULL, err))
            goto fail;
        break;
    }
    close_fd(&c->pending_net_fd); /* not taken by the module: not needed */
    if (!control_pipe(c, err))
        goto fail;
    if (co && co->ready)
        co->ready(co->user); /* the module has not touched app_fd yet */
    if (!start_worker(c, err))
        goto fail;
    return c;
fail:
    if (app_fd >= 0)
        close(app_fd);
    if (net_fd >= 0)
        close(net_fd);
    if (c)
        conn_free(c);
    return NULL;
}

water_conn *water_dial_with(water_transport *t, const char *network,
                            const char *address, int app_fd,
                            const water_conn_options *co, water_error *err)
{
    if (!address) {
        if (app_fd >= 0)
            close(app_fd);
        water_error_set(err, WATER_ERR_ARGS, "no address to dial");
        return NULL;
    }
    return conn_open(t, ROLE_DIAL, app_fd, -1, network, address, co, err);
}

water_conn *water_dial(water_transport *t, const char *network, const char *address,
                       int app_fd, water_error *err)
{
    return water_dial_with(t, network, address, app_fd, NULL, err);
}

water_conn *water_dial_fixed(water_transport *t, int app_fd, water_error *err)
{
    return conn_open(t, ROLE_DIAL_FIXED, app_fd, -1, NULL, NULL, NULL, err);
}

water_conn *water_serve(water_transport *t, int net_fd, int app_fd, water_error *err)
{
    return conn_open(t, ROLE_ACCEPT, app_fd, net_fd, NULL, NULL, NULL, err);
}

water_conn *water_relay(water_transport *t, int net_fd, const char *network,
                        const char *address, water_error *err)
{
    if (!address) {
        if (net_fd >= 0)
            close(net_fd);
        water_error_set(err, WATER_ERR_ARGS, "no address to dial");
        return NULL;
    }
    return conn_open(t, ROLE_RELAY, -1, net_fd, network, address, NULL, err);
}

int water_conn_fd(const water_conn *c) { return c ? c->app_fd : -1; }

/* A write to a pipe whose reader is gone must not kill the process with
 * SIGPIPE: block it for this thread and consume it if it was raised. */
static void write_no_sigpipe(int fd, const void *buf, size_t len)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ssize_t n = write(fd, buf, len);
    if (n < 0 && errno == EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Waits (lock held) until done or the deadline; true when done. */
static bool wait_done_locked(water_conn *c, int timeout_ms)
{
    if (timeout_ms < 0) {
        while (!c->done)
            pthread_cond_wait(&c->cond, &c->lock);
        return true;
    }
    struct timespec ts;
    deadline_in(&ts, timeout_ms);
    while (!c->done)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
            break;
    return c->done;
}

bool water_conn_wait(water_conn *c, int timeout_ms, water_error *how)
{
    pthread_mutex_lock(&c->lock);
    bool done = wait_done_locked(c, timeout_ms);
    if (done && how)
        *how = c->result;
    pthread_mutex_unlock(&c->lock);
    return done;
}

void water_conn_stop(water_conn *c)
{
    static const uint8_t stop = 0x00;
    pthread_mutex_lock(&c->lock);
    if (!c->done && c->ctrl_w >= 0 && !c->stop_sent) {
        write_no_sigpipe(c->ctrl_w, &stop, 1);
        c->stop_sent = true;
    }
    pthread_mutex_unlock(&c->lock);
}

void water_conn_interrupt(water_conn *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->thread_started && !c->done) {
        wasm_instance_interrupt(c->inst);
        wasi_ctx_wake(c->wasi);
    }
    pthread_mutex_unlock(&c->lock);
}

void water_close(water_conn *c)
{
    if (!c)
        return;
    if (c->thread_started) {
        water_conn_stop(c);
        pthread_mutex_lock(&c->lock);
        if (!wait_done_locked(c, (int)c->t->opts.stop_timeout_ms)) {
            water_log(c->t, WATER_LOG_INFO, "worker did not stop within %u ms; interrupting",
                      c->t->opts.stop_timeout_ms);
            wasm_instance_interrupt(c->inst);
            wasi_ctx_wake(c->wasi);
        }
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->thread, NULL);
    }
    conn_free(c);
}
