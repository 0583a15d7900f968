/*
 * wasi/internal.h - shared between the .c files of src/wasi/ only.
 *
 * Invariants:
 *  - ctx->fds[i].used says whether guest fd i is open; i < ctx->nfds.
 *  - An entry with host_fd >= 0 and owned == true is closed exactly once,
 *    by wasi_fd_release().
 *  - host_nb is true only for fds whose O_NONBLOCK we set ourselves (owned
 *    sockets, pipes, character devices); for them blocking is emulated.
 *  - Every guest pointer goes through wasm_memory_ptr() (guest.c) before
 *    use, and no host array is sized by a guest value without a constant cap.
 *  - Implementations return a WASI errno; to trap they set call->trap.
 */
#ifndef WATER_WASI_INTERNAL_H
#define WATER_WASI_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "wasi/abi.h"
#include "wasi/wasi.h"
#include "water/wasm.h"

#define WASI_CTX_MAGIC 0x57415349u /* "WASI" */
#define WASI_IOV_MAX 1024          /* iovecs per call, as Linux IOV_MAX */
#define WASI_POLL_MAX 4096         /* subscriptions per poll_oneoff */
#define WASI_MAX_FDS_DEFAULT 1024
#define WASI_PATH_MAX 4096         /* guest path bytes, NUL excluded */
#define WASI_RW_MAX 0x7ffff000u    /* bytes per read/write, as Linux */
#define WASI_SYMLINK_MAX 40        /* links expanded per path, as Linux */

typedef struct wasi_fd {
    bool used;
    bool owned;    /* close(host_fd) when the entry goes */
    bool preopen;  /* visible to fd_prestat_get */
    bool writable; /* directories: the grant allows writes below it */
    bool host_nb;  /* we set O_NONBLOCK on host_fd: emulate blocking */
    uint8_t kind;  /* wasi_fd_kind */
    uint16_t fdflags; /* guest-visible WASI fdflags */
    int host_fd;      /* -1 for the config file and directory */
    uint64_t rights_base, rights_inheriting;
    char *name;       /* preopens: the guest path (owned) */
    uint64_t offset;  /* WASI_FD_MEMFILE: read position */
} wasi_fd;

/* One parsed subscription of poll_oneoff (poll.c). */
typedef struct wasi_psub {
    uint64_t userdata;
    uint64_t deadline; /* clocks: monotonic ns */
    uint64_t nbytes;
    int pidx;          /* index into the pollfd array, or -1 */
    uint16_t error;
    uint16_t flags;
    uint8_t type;
    bool ready;
} wasi_psub;

struct wasi_ctx {
    uint32_t magic;
    void *user;
    char **args;
    uint32_t nargs, args_bytes; /* bytes incl. each NUL */
    char **env;
    uint32_t nenv, env_bytes;
    uint8_t *config; /* NULL: no config */
    size_t config_len;
    wasi_fd *fds;
    uint32_t nfds;     /* allocated entries */
    uint32_t max_fds;  /* limit on nfds */
    uint32_t first_free; /* first number above stdio and preopens */
    int wake_rd, wake_wr; /* the same fd for an eventfd */
    atomic_bool woken;
    bool exited;
    int exit_code;
    struct pollfd *pfds; /* poll_oneoff scratch, poll_cap entries each */
    wasi_psub *psubs;
    uint32_t poll_cap;
};

/* The state of one host call. */
typedef struct wasi_call {
    wasi_ctx *ctx;
    wasm_instance *inst;
    wasm_trap trap; /* WASM_TRAP_NONE unless the call must trap */
} wasi_call;

/* Every implementation: reads its arguments from a[], returns a WASI errno
 * (the linker writes it as the i32 result), or sets c->trap. */
typedef int (*wasi_impl_fn)(wasi_call *c, const wasm_slot *a);

/* ---- little-endian access to guest bytes (any alignment) -------------- */

static inline uint16_t wasi_ld16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t wasi_ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline uint64_t wasi_ld64(const uint8_t *p)
{
    return (uint64_t)wasi_ld32(p) | ((uint64_t)wasi_ld32(p + 4) << 32);
}
static inline void wasi_st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wasi_st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi_st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- guest memory (guest.c): the only users of wasm_memory_ptr ------- */

/* [ptr, ptr+len) of linear memory, or NULL when any byte is outside. */
uint8_t *wasi_mem(wasi_call *c, uint32_t ptr, uint64_t len);
/* Store a result; 0 or WASI_EFAULT. */
int wasi_put32(wasi_call *c, uint32_t ptr, uint32_t v);
int wasi_put64(wasi_call *c, uint32_t ptr, uint64_t v);
/* Turns a guest (c)iovec array into host iovecs that point straight into
 * linear memory. iov must hold WASI_IOV_MAX entries. Drops empty buffers,
 * caps the total at WASI_RW_MAX. EINVAL when n > WASI_IOV_MAX, EFAULT when
 * the array or any buffer is out of bounds. */
int wasi_iovecs(wasi_call *c, uint32_t ptr, uint32_t n, struct iovec *iov,
                int *niov, size_t *total);
/* Copies a guest path into out[0..WASI_PATH_MAX] with a NUL. ENAMETOOLONG,
 * EFAULT, or EILSEQ for an embedded NUL byte. */
int wasi_guest_path(wasi_call *c, uint32_t ptr, uint32_t len, char *out);

/* ---- the table (fdtable.c) -------------------------------------------- */

/* The open entry for a guest fd, or NULL. */
wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd);
/* Reserves the lowest free number >= ctx->first_free; the entry is zeroed
 * with host_fd = -1 and used = true. EMFILE or ENOMEM. The returned pointer
 * is valid until the next allocation; other entry pointers are invalidated. */
int wasi_fd_alloc(wasi_ctx *ctx, uint32_t *fd, wasi_fd **entry);
/* Frees an entry: closes the host fd if owned, frees its name. */
void wasi_fd_release(wasi_ctx *ctx, uint32_t fd);
/* The WASI filetype of an entry. */
uint8_t wasi_fd_filetype(const wasi_fd *e);
/* All rights that make sense for a kind (writable: files opened for write,
 * directories whose grant allows writes). */
uint64_t wasi_kind_rights(wasi_fd_kind kind, bool writable);
/* Rights a directory passes on to what is opened below it. */
uint64_t wasi_dir_inheriting(bool writable);
/* Sets O_NONBLOCK on an owned socket, pipe or character device and marks
 * the entry host_nb; no-op for other kinds. 0 or a WASI errno. */
int wasi_fd_make_host_nb(wasi_fd *e);
/* The kind of an open host fd, from fstat(2)/getsockopt(2); AUTO if none
 * fits. */
wasi_fd_kind wasi_kind_of_host_fd(int fd);

/* ---- I/O with blocking emulation (io.c) ------------------------------- */

/* Reads into / writes from guest buffers. *done receives the byte count. */
int wasi_io_read(wasi_call *c, wasi_fd *e, struct iovec *iov, int n,
                 size_t *done);
int wasi_io_write(wasi_call *c, wasi_fd *e, const struct iovec *iov, int n,
                  size_t *done);
/* recvmsg/sendmsg on a socket, MSG_* flags for recv (used by sock.c). */
int wasi_io_recv(wasi_call *c, wasi_fd *e, struct iovec *iov, int n,
                 int flags, size_t *done, int *msg_flags);
int wasi_io_send(wasi_call *c, wasi_fd *e, const struct iovec *iov, int n,
                 size_t *done);
/* Waits until host fd `fd` has `events` (POLLIN/POLLOUT) or the context is
 * woken (then sets c->trap and returns WASI_ECANCELED). */
int wasi_wait_fd(wasi_call *c, int fd, short events);
/* Sets the wake trap on c if the context is woken; returns true then. */
bool wasi_check_woken(wasi_call *c);
/* True if a kind can block (sockets, pipes, character devices). */
bool wasi_kind_blocks(wasi_fd_kind kind);

/* ---- misc ------------------------------------------------------------- */

/* Whether path resolution may use openat2(2) (default: yes, where the
 * kernel has it). Tests switch it off to exercise the portable walk. */
void wasi_path_set_openat2(bool enabled);

/* Current time of a WASI clock in ns; EINVAL for an unknown clock. */
int wasi_clock_now(uint32_t clock_id, uint64_t *ns);
/* Fills a 64-byte filestat at p from fstat(2) data. */
struct stat;
void wasi_filestat_fill(uint8_t *p, const struct stat *st);

/* ---- implementations, one per WASI function --------------------------- */

#define WASI_IMPL(name) int wasi_impl_##name(wasi_call *c, const wasm_slot *a)
/* proc.c */
WASI_IMPL(args_get);
WASI_IMPL(args_sizes_get);
WASI_IMPL(environ_get);
WASI_IMPL(environ_sizes_get);
WASI_IMPL(clock_res_get);
WASI_IMPL(clock_time_get);
WASI_IMPL(random_get);
WASI_IMPL(sched_yield);
WASI_IMPL(proc_exit);
/* fd_ops.c */
WASI_IMPL(fd_read);
WASI_IMPL(fd_write);
WASI_IMPL(fd_pread);
WASI_IMPL(fd_pwrite);
WASI_IMPL(fd_close);
WASI_IMPL(fd_renumber);
WASI_IMPL(fd_fdstat_get);
WASI_IMPL(fd_fdstat_set_flags);
WASI_IMPL(fd_fdstat_set_rights);
WASI_IMPL(fd_seek);
WASI_IMPL(fd_tell);
WASI_IMPL(fd_filestat_get);
WASI_IMPL(fd_filestat_set_size);
WASI_IMPL(fd_sync);
WASI_IMPL(fd_datasync);
WASI_IMPL(fd_advise);
WASI_IMPL(fd_allocate);
/* path.c */
WASI_IMPL(fd_prestat_get);
WASI_IMPL(fd_prestat_dir_name);
WASI_IMPL(path_open);
WASI_IMPL(path_filestat_get);
/* readdir.c */
WASI_IMPL(fd_readdir);
/* poll.c */
WASI_IMPL(poll_oneoff);
/* sock.c */
WASI_IMPL(sock_accept);
WASI_IMPL(sock_recv);
WASI_IMPL(sock_send);
WASI_IMPL(sock_shutdown);

#endif /* WATER_WASI_INTERNAL_H */
