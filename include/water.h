/*
 * water.h - libwater: carry an application's TCP streams through WATER
 * transport modules (WATMs, WebAssembly files).
 *
 * A transport is loaded once (water_transport_new/_load): the module is
 * decoded, validated and compiled, its ABI version (v0 or v1) and roles are
 * detected, and a trial instance proves that it links. A transport is
 * immutable and may be used from any number of threads at once.
 *
 * Every connection gets a fresh instance of the module and its own worker
 * thread; a trap, a limit or an error in one connection closes that
 * connection only. The application only ever sees file descriptors:
 *
 *   app fd ==socketpair== module ==TCP== network
 *
 * Roles (WATM-ABI.md):
 *   water_dial        dialer: the host dials `address` for the module
 *   water_dial_fixed  fixed dialer: the module names the destination, checked
 *                     against the allow-list (deny all by default)
 *   water_serve       listener: the module serves an accepted connection
 *   water_relay       relay: the module pairs an accepted connection with
 *                     one the host dials
 *
 * File descriptors passed in (app_fd, net_fd) are always taken over by the
 * library, which closes them, also when the call fails. Pass app_fd = -1 to
 * have the library create a socket pair; water_conn_fd() is then the
 * application's end, owned by the connection and closed by water_close().
 *
 * Errors: calls that can fail fill a caller-owned water_error whose message
 * names what failed and where ("dial 127.0.0.1:9: connection refused",
 * "module: watm_dial_v1 returned -53 (ENOTCONN)").
 *
 * SIGPIPE: the library writes to sockets with MSG_NOSIGNAL and to pipes it
 * owns; programs that hand pipes to modules should ignore SIGPIPE.
 */
#ifndef WATER_H
#define WATER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WATER_ERROR_LIST(X)                                                  \
    X(WATER_OK, "ok")                                                        \
    X(WATER_ERR_ARGS, "bad arguments")                                       \
    X(WATER_ERR_MODULE, "bad module")                                        \
    X(WATER_ERR_ABI, "not a usable WATER transport")                         \
    X(WATER_ERR_ROLE, "role not offered by the transport")                   \
    X(WATER_ERR_CONFIG, "bad config")                                        \
    X(WATER_ERR_DIAL, "dial failed")                                         \
    X(WATER_ERR_DENIED, "address not allowed")                               \
    X(WATER_ERR_TRANSPORT, "the transport module failed")                    \
    X(WATER_ERR_TRAP, "the transport module trapped")                        \
    X(WATER_ERR_TIMEOUT, "timed out")                                        \
    X(WATER_ERR_SYSTEM, "system error")                                      \
    X(WATER_ERR_NOMEM, "out of memory")

#define WATER_ENUM_ROW(name, msg) name,
typedef enum water_err { WATER_ERROR_LIST(WATER_ENUM_ROW) } water_err;
#undef WATER_ENUM_ROW

typedef struct water_error {
    water_err code;
    char message[400];
} water_error;

const char *water_strerror(water_err code);

typedef enum water_log_level {
    WATER_LOG_ERROR,
    WATER_LOG_WARN,
    WATER_LOG_INFO,
    WATER_LOG_DEBUG,
} water_log_level;

/* Called from any thread (setup and worker threads): keep it thread-safe. */
typedef void (*water_log_fn)(void *user, water_log_level level, const char *msg);

/* TLS for modules that use the water_ext_v1 TLS functions
 * (docs/host-extension.md). The files are read when the transport loads,
 * and only if the module imports those functions; a bad one fails the load
 * with a message naming it. */
typedef struct water_tls_options {
    const char *ca_file;    /* client: verify the server against these CAs;
                               NULL: the system's default CAs */
    const char *cert_file;  /* server: certificate chain (PEM) */
    const char *key_file;   /* server: private key (PEM) */
    const char *sni;        /* client: server name (or IP address) to send
                               and verify; NULL: the chain only */
    const char *alpn;       /* comma-separated protocols, e.g. "h2,http/1.1" */
    bool insecure;          /* client: do not verify the server (tests only) */
} water_tls_options;

/* About 2^31 loop iterations: seconds of pure computation in one go,
 * which no transport needs between two reads or polls. */
#define WATER_SPIN_FUEL_DEFAULT (UINT64_C(1) << 31)

typedef struct water_options {
    uint32_t max_memory_pages;  /* per instance, 64 KiB pages; 0: 4096 (256 MiB) */
    uint32_t dial_timeout_ms;   /* connect timeout; 0: 10000 */
    uint32_t stop_timeout_ms;   /* after the control pipe, before interrupting
                                   a worker; 0: 1000 */
    uint64_t fuel;              /* per call into the module (setup calls and
                                   the worker), 0: unlimited; ignored while
                                   spin_fuel is not unlimited, which resets
                                   the fuel at each host call */
    uint64_t spin_fuel;         /* loop iterations and calls a module may run
                                   without calling the host (a poll, a read,
                                   a write...): past it the call traps with
                                   "fuel exhausted", so a worker spinning in
                                   a loop is reclaimed on its own.
                                   0: WATER_SPIN_FUEL_DEFAULT; UINT64_MAX:
                                   unlimited */
    /* Addresses the module may dial itself (fixed dialer and relay-style
     * modules calling water_dial): "host:port" with "*" allowed for either
     * part ("127.0.0.1:*", "*:443", "*"). None: deny all. Copied. */
    const char *const *allow_dial;
    size_t nallow_dial;
    /* Addresses a module in runner mode may listen on, as allow_dial. */
    const char *const *allow_listen;
    size_t nallow_listen;
    water_tls_options tls;      /* strings copied */
    water_log_fn log;           /* NULL: log to stderr */
    void *log_user;
    water_log_level log_level;  /* messages above this level are dropped;
                                   the zero value logs errors only */
    bool stdio;                 /* give modules this process's stdio */
} water_options;

/* ---- transports -------------------------------------------------------- */

typedef struct water_transport water_transport;

/* Loads a transport from bytes (copied) or a file, with optional config
 * bytes (copied; NULL for none) exposed to the module as /conf/watm.cfg (v1)
 * or through pull_config (v0). `opts` may be NULL. Returns NULL and fills
 * *err on failure. */
water_transport *water_transport_new(const uint8_t *wasm, size_t wasm_len,
                                     const void *config, size_t config_len,
                                     const water_options *opts, water_error *err);
water_transport *water_transport_load(const char *path, const void *config,
                                      size_t config_len, const water_options *opts,
                                      water_error *err);
/* Frees the transport. Every connection of it must be closed first. */
void water_transport_free(water_transport *t);

typedef struct water_info {
    int abi_version;     /* 0 or 1 */
    bool dial;           /* water_dial */
    bool dial_fixed;     /* water_dial_fixed (v1 only) */
    bool accept;         /* water_serve */
    bool relay;          /* water_relay */
    bool uses_water_dial; /* imports env.water_dial (dials on its own) */
} water_info;

void water_transport_info(const water_transport *t, water_info *out);

/* ---- connections ------------------------------------------------------- */

typedef struct water_conn water_conn;

/* Dialer role: the module wraps app traffic, the host dials `address`
 * ("host:port") over `network` ("tcp") when the module asks. Returns when
 * the connection is up and its worker runs. */
water_conn *water_dial(water_transport *t, const char *network,
                       const char *address, int app_fd, water_error *err);
/* Fixed dialer role (v1): the module picks the destination itself. */
water_conn *water_dial_fixed(water_transport *t, int app_fd, water_error *err);

/* Per-connection settings (water_dial_with); the zero value changes nothing. */
typedef struct water_conn_options {
    /* This connection's config in place of the transport's (copied; the
     * module sees it as /conf/watm.cfg, or through pull_config in v0).
     * NULL: the transport's config. Front ends use it to hand one
     * connection its own settings (a Tor bridge line's arguments). */
    const void *config;
    size_t config_len;
    /* Called once on the calling thread when the role call has succeeded
     * (for a dialer: the destination is connected) and before the worker
     * starts, so before the module reads or writes app_fd: a front end
     * answers its client here (a SOCKS5 success reply). NULL: none. */
    void (*ready)(void *user);
    void *user;
} water_conn_options;

/* water_dial with per-connection settings (`co` may be NULL). */
water_conn *water_dial_with(water_transport *t, const char *network,
                            const char *address, int app_fd,
                            const water_conn_options *co, water_error *err);
/* Listener role: the module serves net_fd, an accepted connection. */
water_conn *water_serve(water_transport *t, int net_fd, int app_fd,
                        water_error *err);
/* Relay role: the module takes net_fd (accepted) and the host dials
 * `address` for it; no app end. */
water_conn *water_relay(water_transport *t, int net_fd, const char *network,
                        const char *address, water_error *err);

/* The application's end when the library made the socket pair, else -1.
 * Owned by the connection. */
int water_conn_fd(const water_conn *c);

/* Waits up to timeout_ms (-1: forever) for the worker to end. Returns true
 * once it has ended; `how` (may be NULL) then tells how: WATER_OK for a
 * normal end (0 or -ECANCELED from the worker), else the error. */
bool water_conn_wait(water_conn *c, int timeout_ms, water_error *how);

/* Asks the worker to stop (one byte on the control pipe) without waiting;
 * water_close() still has to be called. Any thread. */
void water_conn_stop(water_conn *c);

/* Stops the worker at once without waiting: interrupts its guest code and
 * wakes it from any wait in the host (for a worker that ignores the
 * control pipe); water_close() still has to be called. Any thread. */
void water_conn_interrupt(water_conn *c);

/* Stops the worker (control pipe, then interrupt after stop_timeout_ms),
 * waits for it, closes every fd of the connection and frees it. */
void water_close(water_conn *c);

/* ---- runner mode -------------------------------------------------------- */

/*
 * A runner runs one module that drives its own networking (`water run`):
 * any WASI preview 1 module, no WATM export needed. One instance serves
 * every socket the module opens (typically a listener and its clients,
 * multiplexed with poll_oneoff). Besides WASI it may import
 *   water_ext_v1.tcp_connect / tcp_listen   ("host:port" strings), and the
 *   water-rs preview's env.connect_tcp / env.create_listen (bincode records),
 * and the rest of water_ext_v1 (docs/host-extension.md). Every address is
 * checked against opts->allow_dial (connects) or opts->allow_listen
 * (listens), deny all by default: a refused address gives the module
 * -EACCES (WASI errno 2) and logs an error naming the address.
 * opts->stdio gives the module this process's stdout and stderr.
 */
typedef struct water_runner water_runner;

/* Compiles the module (bytes copied), links it and makes its instance, with
 * the optional config (copied; NULL for none) as /conf/watm.cfg. `opts` may
 * be NULL (nothing allowed, no stdio). Returns NULL and fills *err on
 * failure (a bad module, an import this host does not provide). */
water_runner *water_runner_new(const uint8_t *wasm, size_t wasm_len,
                               const void *config, size_t config_len,
                               const water_options *opts, water_error *err);

/* Runs the module on the calling thread: `_start` if exported (proc_exit(0)
 * inside it is a normal return), then the exported function `entry` (NULL:
 * "main"), of type () -> () or () -> i32, until it returns. Once per runner.
 * Returns WATER_OK when the entry returned (0 if it returns an i32), called
 * proc_exit(0), or was stopped by water_runner_stop(); WATER_ERR_ABI when
 * the module has no such export (the message lists what it exports);
 * WATER_ERR_TRANSPORT for a non-zero result or exit code; WATER_ERR_TRAP
 * for a trap. *err (may be NULL) says which. */
water_err water_runner_run(water_runner *r, const char *entry, water_error *err);

/* Makes a run end soon with WATER_OK: interrupts guest code and wakes every
 * blocking WASI call of the instance. Any thread, and async-signal-safe (a
 * signal handler may call it). Sticky: a later water_runner_run() returns at
 * once. `r` must not be freed during the call. */
void water_runner_stop(water_runner *r);

/* Frees the runner and closes every socket the module holds. Not while
 * water_runner_run() runs. NULL is ignored. */
void water_runner_free(water_runner *r);

/* ---- listening sockets (plain TCP, for the listener and relay roles) ----- */

/* Binds and listens on "host:port" (port 0 picks one). Returns the fd or -1
 * with *err filled. `bound` (may be NULL) receives "host:port" as bound. */
int water_listen_tcp(const char *address, char *bound, size_t bound_len,
                     water_error *err);

/* Connects to "host:port" with a timeout (ms, 0: 10000). Returns the fd
 * (non-blocking, TCP_NODELAY, close-on-exec) or -1 with *err filled. */
int water_connect_tcp(const char *address, uint32_t timeout_ms, water_error *err);

#ifdef __cplusplus
}
#endif
#endif /* WATER_H */
