/*
 * watm.h - the C SDK for writing WATER transport modules (WATMs).
 *
 * A transport module sits between two byte streams: the *internal* side (the
 * application's plaintext, or in the relay role the accepted connection) and
 * the *network* side (what goes on the wire). The SDK owns everything that is
 * the same for every transport: the exports and imports of the WATM ABI (v1,
 * or v0 when the transport is compiled with -DWATM_ABI_V0), reading the
 * config, asking the host for connections, and the worker loop that polls,
 * reads, writes, buffers, applies backpressure, half-closes and stops on the
 * control pipe. A transport supplies only `struct watm_transport`:
 *
 *   - configure(): parse the config once per instance (optional);
 *   - handshake(): blocking exchange before data flows (optional);
 *   - wrap():   transform internal -> network (NULL = copy unchanged);
 *   - unwrap(): transform network -> internal (NULL = copy unchanged).
 *
 * One instance serves exactly one connection (the host instantiates the module
 * afresh for each), so a transport may keep per-connection state in ordinary
 * static variables. The module is single-threaded.
 *
 * Everything declared here except the I/O helpers (watm_send_all, watm_recv,
 * watm_recv_exact, watm_log) is plain C without WASI calls, so transform code
 * compiles and can be unit-tested natively.
 *
 * All results follow the ABI: >= 0 is success, a negative value is minus a
 * WASI errno (the WATM_E* constants below; WASI numbers differ from Linux).
 */
#ifndef WATM_H
#define WATM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

/* WASI preview 1 errno values (not the host's errno.h numbering). */
#define WATM_EACCES 2
#define WATM_EAGAIN 6
#define WATM_EBADF 8
#define WATM_EBUSY 10
#define WATM_ECANCELED 11
#define WATM_ECONNRESET 15
#define WATM_EFBIG 22
#define WATM_EINVAL 28
#define WATM_EIO 29
#define WATM_EMSGSIZE 35
#define WATM_ENOBUFS 42
#define WATM_ENODEV 43
#define WATM_ENOENT 44
#define WATM_ENOMEM 48
#define WATM_ENOSYS 52
#define WATM_ENOTCONN 53
#define WATM_ENOTSUP 58
#define WATM_EOVERFLOW 61
#define WATM_EPIPE 64
#define WATM_EPROTO 65

/* Which role the host asked the module to play. */
enum watm_role {
    WATM_ROLE_NONE = 0,
    WATM_ROLE_DIALER,       /* watm_dial_v1 / _water_dial: host picks the remote */
    WATM_ROLE_FIXED_DIALER, /* watm_dial_fixed_v1: the config picks the remote */
    WATM_ROLE_LISTENER,     /* watm_accept_v1 / _water_accept */
    WATM_ROLE_RELAY         /* watm_associate_v1 / _water_associate */
};

/* Direction of a byte stream through the module. */
enum watm_dir {
    WATM_WRAP = 0,  /* internal -> network (plaintext in, wire bytes out) */
    WATM_UNWRAP = 1 /* network -> internal (wire bytes in, plaintext out) */
};

/* 1 when this instance plays the connecting side (dialer, fixed dialer,
 * relay: its network side is a connection it dialed), 0 for the listener.
 * Lets a transport tell "client-to-server" bytes from "server-to-client"
 * bytes: wrap on the initiator and unwrap on the listener carry the same
 * stream. */
static inline int watm_role_is_initiator(enum watm_role role)
{
    return role != WATM_ROLE_LISTENER;
}

/*
 * The state of one direction, owned by the SDK and passed to every call of
 * that direction's transform. in_pos/out_pos count the bytes fed to and
 * produced by the transform *before* the current call, so a transform can
 * derive per-position state (a keystream offset) without storing it.
 * `user` is free for the transport (NULL at the start).
 */
struct watm_stream {
    enum watm_dir dir;
    enum watm_role role;
    uint64_t in_pos;
    uint64_t out_pos;
    void *user;
};

/*
 * A transform: turns one chunk of input into output.
 *
 *   in, in_len   the chunk, exactly as one read returned it (never split or
 *                merged by the SDK). Owned by the SDK; valid during the call
 *                only. The transform must consume all of it: whatever it
 *                cannot emit yet (a partial frame) it keeps in its own state.
 *   in == NULL, in_len == 0
 *                end of stream: the source side reached EOF. Called once per
 *                direction so the transform can emit trailing bytes; then the
 *                SDK flushes and shuts down the destination's write side.
 *   out, out_cap SDK-owned output space, never overlapping `in`. out_cap is at
 *                least watm_bound_out(bound, in_len) for the direction's
 *                declared bound (see struct watm_transport).
 *
 * Returns the number of bytes written to `out` (0 is fine: nothing to emit
 * yet), or a negative WATM_E* value to close the connection with that error.
 * Returning more than out_cap is a bug the SDK reports as -WATM_EOVERFLOW.
 */
typedef ssize_t (*watm_transform_fn)(struct watm_stream *s, const uint8_t *in,
                                     size_t in_len, uint8_t *out, size_t out_cap);

/*
 * Upper bound on a transform's output for a given input length:
 * out <= in_len * mul + add. {0, 0} (the default) means {1, 0}: output never
 * longer than input. A framing transport that adds a 5-byte header per chunk
 * declares {1, 5}; one that may release a buffered frame of up to 16 KiB on
 * any call declares {1, 16384}. `add` is also the room given to the
 * end-of-stream call.
 */
struct watm_bound {
    size_t mul;
    size_t add;
};

/* in_len * mul + add with mul 0 read as 1; SIZE_MAX on overflow. */
size_t watm_bound_out(struct watm_bound b, size_t in_len);

/* What a handshake sees: the role and the module's fds for this connection. */
struct watm_session {
    enum watm_role role;
    int internal_fd; /* application side (relay: the accepted connection) */
    int network_fd;  /* wire side (relay: the dialed connection) */
    int ctrl_fd;     /* control pipe; the helpers below stop when it fires */
};

struct watm_transport {
    const char *name; /* a short name for humans; the SDK does not interpret it */

    /* Called once per instance from watm_init_v1 / _water_init with the
     * config file's bytes (cfg == NULL, len == 0 when the host gave none or
     * an empty one).
     * The bytes are valid during the call only: copy what you keep.
     * Returns 0, or a negative WATM_E* value that makes init fail.
     * Optional. */
    int (*configure)(const uint8_t *cfg, size_t len);

    /* Called on the worker thread once the fds are connected and set
     * non-blocking, before any transform. May exchange bytes with the peer
     * using watm_send_all / watm_recv_exact, which return -WATM_ECANCELED
     * when the host cancels. Must not read more from a socket than the
     * handshake owns: whatever it reads never reaches the transforms.
     * Returns 0, or a negative WATM_E* value that ends the connection.
     * Optional. */
    int (*handshake)(const struct watm_session *s);

    watm_transform_fn wrap;   /* internal -> network; NULL copies */
    watm_transform_fn unwrap; /* network -> internal; NULL copies */
    struct watm_bound wrap_bound;
    struct watm_bound unwrap_bound;
};

/*
 * Feeds one chunk (or the end-of-stream call when in == NULL && in_len == 0)
 * through the transform of s->dir, enforcing the contract above: checks that
 * out_cap covers the declared bound (-WATM_ENOBUFS if not), copies when the
 * transform is NULL, checks the result and advances s->in_pos/out_pos.
 * Returns the number of bytes written to out or a negative WATM_E* value.
 * This is what the worker calls; unit tests call it the same way.
 */
ssize_t watm_transform_run(const struct watm_transport *t, struct watm_stream *s,
                           const uint8_t *in, size_t in_len, uint8_t *out,
                           size_t out_cap);

/* ---- Config helpers (plain C) ------------------------------------------ */

/*
 * Looks up `key` among the members of the top-level JSON object in
 * json[0..len) and, when its value is a string, decodes it (escapes
 * included, \uXXXX to UTF-8) into out[0..cap) followed by a NUL.
 * Returns the decoded length (>= 0) when found, -WATM_ENOENT when the key is
 * absent, -WATM_EINVAL when the text is not a JSON object or the value is not
 * a string, -WATM_ENOBUFS when the value does not fit (cap must leave room for
 * the NUL). Nested values are skipped, not searched.
 */
ssize_t watm_json_string(const uint8_t *json, size_t len, const char *key,
                         char *out, size_t cap);

/* Decodes hex digits (either case, even count) into out[0..cap).
 * Returns the byte count, -WATM_EINVAL on a bad digit or odd length,
 * -WATM_ENOBUFS when out is too small. */
ssize_t watm_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap);

/*
 * Sets the destination of the fixed dialer role ("host:port", TCP, at most
 * 256 bytes). By default the SDK takes it from the config's JSON member
 * "dial_address"; a configure() hook may call this to override it or to set
 * it from another config format. Returns 0 or -WATM_EINVAL.
 */
int watm_set_dial_address(const char *addr);
/* The current fixed-dialer destination, or NULL when none is set. */
const char *watm_dial_address(void);

/* ---- I/O helpers for handshakes (use WASI; not for transforms) --------- */

/* Writes all len bytes to fd, waiting as needed. 0, -WATM_ECANCELED when the
 * control pipe fires, or another negative WATM_E* value. */
int watm_send_all(const struct watm_session *s, int fd, const void *buf, size_t len);
/* Reads at least 1 byte (up to len) from fd, waiting as needed. The byte
 * count, 0 at EOF, -WATM_ECANCELED or another negative WATM_E* value. */
ssize_t watm_recv(const struct watm_session *s, int fd, void *buf, size_t len);
/* Reads exactly len bytes. 0, -WATM_EPIPE on EOF before len bytes,
 * -WATM_ECANCELED or another negative WATM_E* value. */
int watm_recv_exact(const struct watm_session *s, int fd, void *buf, size_t len);

/* Writes "watm: <msg>" to stderr when the host provides one (best effort). */
void watm_log(const char *msg);
/* Same, followed by ": <what> <n>" (for errno values and counts). */
void watm_log_num(const char *msg, long n);

/* ---- Registering the transport ------------------------------------------ */

/*
 * WATM_REGISTER(my_transport);  in exactly one .c file of the module, after
 * the definition of `const struct watm_transport my_transport`. It makes the
 * transport the module's, and pulls the ABI glue out of libwatm.a: v1 by
 * default, v0 when compiled with -DWATM_ABI_V0.
 *
 * WATM_OFFER_FIXED_DIALER();  additionally exports watm_dial_fixed_v1 (v1
 * only; v0 has no such role): the module dials "dial_address" itself through
 * the host's water_dial import.
 *
 * In native (non-wasm) builds both expand to declarations only, so several
 * transports can be linked into one unit-test program; give each transport
 * object a unique external name (NAME_transport) for that.
 */
#if defined(__wasm__)
#define WATM__USE(sym)                                                            \
    extern const char sym;                                                        \
    __attribute__((used)) static const char *const WATM__REF_##sym = &sym
#if defined(WATM_ABI_V0)
#define WATM__USE_ABI WATM__USE(watm__abi_v0)
#define WATM_OFFER_FIXED_DIALER() extern const struct watm_transport *const watm_registered_transport
#else
#define WATM__USE_ABI WATM__USE(watm__abi_v1)
#define WATM_OFFER_FIXED_DIALER() WATM__USE(watm__abi_v1_fixed)
#endif
#define WATM_REGISTER(t)                                                          \
    const struct watm_transport *const watm_registered_transport = &(t);          \
    WATM__USE_ABI
#else /* native build: unit tests */
#define WATM_REGISTER(t) extern const struct watm_transport t
#define WATM_OFFER_FIXED_DIALER() extern const struct watm_transport *const watm_registered_transport
#endif

#ifdef __cplusplus
}
#endif
#endif /* WATM_H */
