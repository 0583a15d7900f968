/*
 * wasi/wasi.h - WASI preview 1 ("wasi_snapshot_preview1") on top of the
 * engine's public API (water/wasm.h) and libc. Knows nothing of WATER.
 *
 * Model
 * -----
 * One wasi_ctx per instance. It holds the instance's fd table (guest fd
 * numbers mapped to host fds through our own table, never passed through
 * raw), its arguments, environment, preopened directories, the optional
 * read-only config directory "/conf/" and the exit status.
 *
 * Linking: wasi_link() defines every wasi_snapshot_preview1 function once on
 * a linker; the linker may then serve any number of instances on any number
 * of threads. At call time each host function finds its context through
 * wasm_instance_userdata(caller), which MUST be the wasi_ctx * of that
 * instance: pass it as wasm_instance_config.userdata, or set it with
 * wasm_instance_set_userdata() before the first call. A host layer above
 * keeps its own per-instance data in the context's `user` pointer
 * (wasi_options.user, wasi_ctx_user()). A call from an instance whose
 * userdata is not a wasi_ctx traps (WASM_TRAP_HOST) instead of guessing.
 *
 * Nothing is granted by default: no stdio, no environment, no arguments, no
 * filesystem, no sockets. Guest fds 0, 1 and 2 are reserved for stdio even
 * when stdio is not granted (they then give EBADF), preopens follow from 3
 * in the order given (the config directory first), and every fd inserted or
 * opened later takes the lowest free number above the preopens.
 *
 * Errors: functions that return `int` return 0 or a WASI errno (wasi_errno,
 * the WASI numbering, NOT the host's). A host function that fails for the
 * guest returns the errno to the guest and never traps, except proc_exit
 * (WASM_TRAP_EXIT) and a wake-up (WASM_TRAP_INTERRUPTED, see wasi_ctx_wake).
 *
 * Threads: a context is used by one thread at a time (the one running its
 * instance); only wasi_ctx_wake() may be called from any thread.
 *
 * Blocking: sockets, pipes and character devices that the table owns are put
 * in O_NONBLOCK mode on the host; when the guest has not set FDFLAG_NONBLOCK
 * the layer emulates blocking by waiting in poll(2) together with the wake
 * fd, so that every blocking call (fd_read, fd_write, sock_*, poll_oneoff)
 * can be ended by wasi_ctx_wake(). Borrowed stdio fds keep their host flags.
 *
 * SIGPIPE: writes to sockets use MSG_NOSIGNAL. A write to a pipe whose
 * reader is gone raises SIGPIPE on the host; the embedding program must
 * ignore SIGPIPE (signal(SIGPIPE, SIG_IGN)) if it hands pipes to guests.
 */
#ifndef WATER_WASI_H
#define WATER_WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "water/wasm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The import module name every function is defined under. */
#define WASI_MODULE_NAME "wasi_snapshot_preview1"
/* Guest name of the config directory and of the file in it. */
#define WASI_CONFIG_DIR "/conf/"
#define WASI_CONFIG_FILE "watm.cfg"

/* ---- errno: the WASI numbering (witx `errno`, u16) -------------------- */

#define WASI_ERRNO_LIST(X)                                                   \
    X(SUCCESS, 0, "success")                                                 \
    X(2BIG, 1, "argument list too long")                                     \
    X(ACCES, 2, "permission denied")                                         \
    X(ADDRINUSE, 3, "address in use")                                        \
    X(ADDRNOTAVAIL, 4, "address not available")                              \
    X(AFNOSUPPORT, 5, "address family not supported")                        \
    X(AGAIN, 6, "resource unavailable, or operation would block")            \
    X(ALREADY, 7, "connection already in progress")                          \
    X(BADF, 8, "bad file descriptor")                                        \
    X(BADMSG, 9, "bad message")                                              \
    X(BUSY, 10, "device or resource busy")                                   \
    X(CANCELED, 11, "operation canceled")                                    \
    X(CHILD, 12, "no child processes")                                       \
    X(CONNABORTED, 13, "connection aborted")                                 \
    X(CONNREFUSED, 14, "connection refused")                                 \
    X(CONNRESET, 15, "connection reset")                                     \
    X(DEADLK, 16, "resource deadlock would occur")                           \
    X(DESTADDRREQ, 17, "destination address required")                       \
    X(DOM, 18, "mathematics argument out of domain of function")             \
    X(DQUOT, 19, "reserved")                                                 \
    X(EXIST, 20, "file exists")                                              \
    X(FAULT, 21, "bad address")                                              \
    X(FBIG, 22, "file too large")                                            \
    X(HOSTUNREACH, 23, "host is unreachable")                                \
    X(IDRM, 24, "identifier removed")                                        \
    X(ILSEQ, 25, "illegal byte sequence")                                    \
    X(INPROGRESS, 26, "operation in progress")                               \
    X(INTR, 27, "interrupted function")                                      \
    X(INVAL, 28, "invalid argument")                                         \
    X(IO, 29, "i/o error")                                                   \
    X(ISCONN, 30, "socket is connected")                                     \
    X(ISDIR, 31, "is a directory")                                           \
    X(LOOP, 32, "too many levels of symbolic links")                         \
    X(MFILE, 33, "file descriptor value too large")                          \
    X(MLINK, 34, "too many links")                                           \
    X(MSGSIZE, 35, "message too large")                                      \
    X(MULTIHOP, 36, "reserved")                                              \
    X(NAMETOOLONG, 37, "filename too long")                                  \
    X(NETDOWN, 38, "network is down")                                        \
    X(NETRESET, 39, "connection aborted by network")                         \
    X(NETUNREACH, 40, "network unreachable")                                 \
    X(NFILE, 41, "too many files open in system")                            \
    X(NOBUFS, 42, "no buffer space available")                               \
    X(NODEV, 43, "no such device")                                           \
    X(NOENT, 44, "no such file or directory")                                \
    X(NOEXEC, 45, "executable file format error")                            \
    X(NOLCK, 46, "no locks available")                                       \
    X(NOLINK, 47, "reserved")                                                \
    X(NOMEM, 48, "not enough space")                                         \
    X(NOMSG, 49, "no message of the desired type")                           \
    X(NOPROTOOPT, 50, "protocol not available")                              \
    X(NOSPC, 51, "no space left on device")                                  \
    X(NOSYS, 52, "function not supported")                                   \
    X(NOTCONN, 53, "the socket is not connected")                            \
    X(NOTDIR, 54, "not a directory or a symbolic link to a directory")       \
    X(NOTEMPTY, 55, "directory not empty")                                   \
    X(NOTRECOVERABLE, 56, "state not recoverable")                           \
    X(NOTSOCK, 57, "not a socket")                                           \
    X(NOTSUP, 58, "not supported, or operation not supported on socket")     \
    X(NOTTY, 59, "inappropriate i/o control operation")                      \
    X(NXIO, 60, "no such device or address")                                 \
    X(OVERFLOW, 61, "value too large to be stored in data type")             \
    X(OWNERDEAD, 62, "previous owner died")                                  \
    X(PERM, 63, "operation not permitted")                                   \
    X(PIPE, 64, "broken pipe")                                               \
    X(PROTO, 65, "protocol error")                                           \
    X(PROTONOSUPPORT, 66, "protocol not supported")                          \
    X(PROTOTYPE, 67, "protocol wrong type for socket")                       \
    X(RANGE, 68, "result too large")                                         \
    X(ROFS, 69, "read-only file system")                                     \
    X(SPIPE, 70, "invalid seek")                                             \
    X(SRCH, 71, "no such process")                                           \
    X(STALE, 72, "reserved")                                                 \
    X(TIMEDOUT, 73, "connection timed out")                                  \
    X(TXTBSY, 74, "text file busy")                                          \
    X(XDEV, 75, "cross-device link")                                         \
    X(NOTCAPABLE, 76, "capabilities insufficient")

#define WASI_ERRNO_ENUM_ROW(name, num, msg) WASI_E##name = num,
typedef enum wasi_errno { WASI_ERRNO_LIST(WASI_ERRNO_ENUM_ROW) } wasi_errno;
#undef WASI_ERRNO_ENUM_ROW

/* "EAGAIN", "ENOTCAPABLE", ...; "ESUCCESS" for 0; "E?" for an unknown
 * number. Static strings. */
const char *wasi_errno_name(int wasi_errno);
/* The spec's one-line description; "unknown error" for an unknown number. */
const char *wasi_strerror(int wasi_errno);
/* Maps a host errno value (errno.h) to the WASI numbering. 0 maps to 0; a
 * host value with no WASI counterpart maps to WASI_EIO. */
int wasi_errno_from_host(int host_errno);

/* ---- the context ------------------------------------------------------ */

typedef struct wasi_ctx wasi_ctx;

/* What a table entry is. WASI_FD_AUTO (insert only) detects it with
 * fstat(2)/getsockopt(2). The last two are internal (never inserted). */
typedef enum wasi_fd_kind {
    WASI_FD_AUTO = 0,
    WASI_FD_FILE,          /* regular file: FILETYPE_REGULAR_FILE, seekable */
    WASI_FD_DIR,           /* directory: FILETYPE_DIRECTORY */
    WASI_FD_PIPE,          /* pipe or FIFO: FILETYPE_UNKNOWN, ESPIPE on seek */
    WASI_FD_CHAR,          /* tty, /dev/null...: FILETYPE_CHARACTER_DEVICE */
    WASI_FD_SOCKET_STREAM, /* FILETYPE_SOCKET_STREAM (also listening ones) */
    WASI_FD_SOCKET_DGRAM,  /* FILETYPE_SOCKET_DGRAM */
    WASI_FD_MEMFILE,       /* internal: the config bytes, read-only */
    WASI_FD_CONFIG_DIR,    /* internal: the virtual /conf/ directory */
} wasi_fd_kind;

/* How guest fds 0, 1, 2 are backed. The zero value gives no stdio. */
typedef enum wasi_stdio_mode {
    WASI_STDIO_NONE = 0, /* not granted: the guest gets EBADF */
    WASI_STDIO_INHERIT,  /* this process's fd 0, 1 or 2 (borrowed) */
    WASI_STDIO_FD,       /* wasi_options.stdio_fd[i] (borrowed) */
} wasi_stdio_mode;

/* A host directory the guest may use under `guest_path`. */
typedef struct wasi_preopen {
    const char *host_path;  /* opened by wasi_ctx_new() */
    const char *guest_path; /* e.g. "/data"; reported by fd_prestat_dir_name */
    bool writable;          /* false: path_open refuses to create, truncate
                               or open for writing (ENOTCAPABLE) */
} wasi_preopen;

/*
 * Everything the context grants. All pointers are read during
 * wasi_ctx_new() only; strings, arrays and the config bytes are copied.
 * A zero-initialised wasi_options grants nothing.
 */
typedef struct wasi_options {
    const char *const *args; /* argv[0..nargs), argv[0] is the program name */
    size_t nargs;
    const char *const *env;  /* "KEY=VALUE" strings */
    size_t nenv;
    wasi_stdio_mode stdio[3];
    int stdio_fd[3]; /* host fds for WASI_STDIO_FD; borrowed: the caller keeps
                        them open while the context lives and closes them */
    const wasi_preopen *preopens;
    size_t npreopens;
    const void *config; /* non-NULL: expose it read-only as /conf/watm.cfg */
    size_t config_len;  /* may be 0 (an empty config) */
    uint32_t max_fds;   /* size limit of the fd table; 0: 1024 */
    void *user;         /* for the host above: wasi_ctx_user() */
} wasi_options;

/*
 * Creates a context. Opens every preopened host directory (O_RDONLY |
 * O_DIRECTORY) and a wake fd. Returns NULL on failure and, when errbuf is
 * not NULL, writes a NUL-terminated message such as
 * "preopen /srv/data: No such file or directory" into errbuf[0..errlen).
 * The caller owns the result and frees it with wasi_ctx_free().
 */
wasi_ctx *wasi_ctx_new(const wasi_options *opts, char *errbuf, size_t errlen);

/* Closes every host fd the table owns (preopens, inserted fds, fds the guest
 * opened, the wake fd; never borrowed stdio) and frees the context. The
 * instance must not run again afterwards. NULL is ignored. */
void wasi_ctx_free(wasi_ctx *ctx);

/* The host's pointer (wasi_options.user). */
void *wasi_ctx_user(const wasi_ctx *ctx);
void wasi_ctx_set_user(wasi_ctx *ctx, void *user);

/* The context of an instance (its userdata), or NULL if the userdata is not
 * a wasi_ctx. For host functions of the layer above. */
wasi_ctx *wasi_ctx_of(const wasm_instance *inst);

/* ---- linking ---------------------------------------------------------- */

/*
 * Defines all 46 functions of wasi_snapshot_preview1 on `l` (module name
 * WASI_MODULE_NAME). Functions this layer does not implement are explicit
 * entries that return ENOSYS (no such facility) or ENOTCAPABLE (filesystem
 * changes, never granted), so that any preview 1 module links. Returns
 * WASM_OK or the first error of wasm_linker_define_func().
 */
wasm_err wasi_link(wasm_linker *l);

/* ---- the fd table, for the host --------------------------------------- */

/*
 * Appends `host_fd` to the table under the lowest free guest number above
 * the preopens and stores that number in *guest_fd. On success the table
 * owns host_fd: it closes it on fd_close, on wasi_fd_close() and in
 * wasi_ctx_free(); sockets, pipes and character devices are switched to
 * O_NONBLOCK on the host (see "Blocking" above). On failure (EBADF for a bad
 * fd, EINVAL for an internal or undetectable kind, EMFILE when the table is
 * full, ENOMEM) the caller still owns host_fd.
 */
int wasi_fd_insert(wasi_ctx *ctx, int host_fd, wasi_fd_kind kind,
                   uint32_t *guest_fd);

/* Removes a guest fd as fd_close would (closing the host fd if owned).
 * Returns 0 or WASI_EBADF. */
int wasi_fd_close(wasi_ctx *ctx, uint32_t guest_fd);

/* The host fd behind a guest fd (still owned by the table), or -1 if the
 * guest fd is not open or has no host fd (config file and directory). */
int wasi_fd_host(const wasi_ctx *ctx, uint32_t guest_fd);

/*
 * Opens the config bytes as a new read-only, seekable guest fd (as path_open
 * of /conf/watm.cfg would, each fd with its own offset), for hosts that hand
 * the config over as an fd (WATM v0 pull_config). Returns 0, WASI_ENOENT when
 * the context has no config, or WASI_EMFILE / WASI_ENOMEM.
 */
int wasi_config_fd_open(wasi_ctx *ctx, uint32_t *guest_fd);

/* ---- exit and wake-up ------------------------------------------------- */

/* True once the guest called proc_exit; *code (if not NULL) receives its
 * code (the guest passes a u32; it is stored as int). The engine also
 * reports it: wasm_call() fails with WASM_TRAP_EXIT and err->exit_code. */
bool wasi_exit_code(const wasi_ctx *ctx, int *code);

/*
 * Ends every current and future blocking wait of the context: poll_oneoff and
 * the emulated blocking of fd_read, fd_write, sock_recv, sock_send and
 * sock_accept return at once with the trap WASM_TRAP_INTERRUPTED (message
 * "wasi: woken by wasi_ctx_wake"), so the guest does not run on. The state
 * is sticky until wasi_ctx_clear_wake(). Safe from any thread and from a
 * signal handler (an atomic store and a write(2) to an eventfd or pipe).
 * Use it together with wasm_instance_interrupt() to stop a running guest:
 * the interrupt stops guest code, the wake stops a guest that waits in the
 * host.
 */
void wasi_ctx_wake(wasi_ctx *ctx);
/* True after wasi_ctx_wake() until wasi_ctx_clear_wake(). Any thread. */
bool wasi_ctx_woken(const wasi_ctx *ctx);
/* Re-arms blocking. Only while no call runs in the instance. */
void wasi_ctx_clear_wake(wasi_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif /* WATER_WASI_H */
