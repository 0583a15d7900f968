/*
 * wasi/fdtable.c - the fd table of one context: guest fd numbers to entries
 * (host fd, kind, rights, flags). Host fds never reach the guest; the guest
 * only ever names entries of this table.
 *
 * The table is an array indexed by guest fd, grown by doubling up to
 * ctx->max_fds. New numbers are the lowest free one at or above
 * ctx->first_free, so stdio numbers and preopens are never reused by
 * inserts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/internal.h"

wasi_fd *wasi_fd_get(wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= ctx->nfds || !ctx->fds[fd].used)
        return NULL;
    return &ctx->fds[fd];
}

static bool grow(wasi_ctx *ctx)
{
    if (ctx->nfds >= ctx->max_fds)
        return false;
    uint64_t want = ctx->nfds < 8 ? 16 : (uint64_t)ctx->nfds * 2;
    if (want > ctx->max_fds)
        want = ctx->max_fds;
    wasi_fd *n = realloc(ctx->fds, (size_t)want * sizeof *n);
    if (!n)
        return false;
    for (uint64_t i = ctx->nfds; i < want; i++) {
        memset(&n[i], 0, sizeof n[i]);
        n[i].host_fd = -1;
    }
    ctx->fds = n;
    ctx->nfds = (uint32_t)want;
    return true;
}

int wasi_fd_alloc(wasi_ctx *ctx, uint32_t *fd, wasi_fd **entry)
{
    uint32_t i = ctx->first_free;
    while (i < ctx->nfds && ctx->fds[i].used)
        i++;
    if (i >= ctx->nfds) {
        if (ctx->nfds >= ctx->max_fds)
            return WASI_EMFILE;
        if (!grow(ctx))
            return WASI_ENOMEM;
    }
    wasi_fd *e = &ctx->fds[i];
    memset(e, 0, sizeof *e);
    e->used = true;
    e->host_fd = -1;
    *fd = i;
    *entry = e;
    return 0;
}

void wasi_fd_release(wasi_ctx *ctx, uint32_t fd)
{
    if (fd >= ctx->nfds)
        return;
    wasi_fd *e = &ctx->fds[fd];
    if (e->used && e->owned && e->host_fd >= 0)
        close(e->host_fd); /* even on EINTR the fd is gone (Linux) */
    free(e->name);
    memset(e, 0, sizeof *e);
    e->host_fd = -1;
}

uint8_t wasi_fd_filetype(const wasi_fd *e)
{
    switch ((wasi_fd_kind)e->kind) {
    case WASI_FD_FILE:
    case WASI_FD_MEMFILE: return WASI_FILETYPE_REGULAR_FILE;
    case WASI_FD_DIR:
    case WASI_FD_CONFIG_DIR: return WASI_FILETYPE_DIRECTORY;
    case WASI_FD_CHAR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case WASI_FD_SOCKET_STREAM: return WASI_FILETYPE_SOCKET_STREAM;
    case WASI_FD_SOCKET_DGRAM: return WASI_FILETYPE_SOCKET_DGRAM;
    case WASI_FD_PIPE: /* WASI has no pipe type */
    case WASI_FD_AUTO: break;
    }
    return WASI_FILETYPE_UNKNOWN;
}

#define RIGHTS_STREAM                                                        \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_WRITE |                              \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET |           \
     WASI_RIGHT_POLL_FD_READWRITE)
#define RIGHTS_FILE_RO                                                       \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL |          \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET |           \
     WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_DATASYNC |    \
     WASI_RIGHT_POLL_FD_READWRITE)
#define RIGHTS_FILE_WRITE                                                    \
    (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |                          \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE)
#define RIGHTS_DIR_RO                                                        \
    (WASI_RIGHT_PATH_OPEN | WASI_RIGHT_FD_READDIR |                          \
     WASI_RIGHT_PATH_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_GET |             \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC)
#define RIGHTS_DIR_WRITE (WASI_RIGHT_PATH_CREATE_FILE)

uint64_t wasi_kind_rights(wasi_fd_kind kind, bool writable)
{
    switch (kind) {
    case WASI_FD_FILE:
        return RIGHTS_FILE_RO | (writable ? RIGHTS_FILE_WRITE : 0);
    case WASI_FD_MEMFILE: return RIGHTS_FILE_RO;
    case WASI_FD_DIR: return RIGHTS_DIR_RO | (writable ? RIGHTS_DIR_WRITE : 0);
    case WASI_FD_CONFIG_DIR: return RIGHTS_DIR_RO & ~WASI_RIGHT_FD_SYNC;
    case WASI_FD_PIPE:
    case WASI_FD_CHAR: return RIGHTS_STREAM;
    case WASI_FD_SOCKET_STREAM:
    case WASI_FD_SOCKET_DGRAM:
        return RIGHTS_STREAM | WASI_RIGHT_SOCK_SHUTDOWN |
               WASI_RIGHT_SOCK_ACCEPT;
    case WASI_FD_AUTO: break;
    }
    return 0;
}

uint64_t wasi_dir_inheriting(bool writable)
{
    return wasi_kind_rights(WASI_FD_FILE, writable) |
           wasi_kind_rights(WASI_FD_DIR, writable);
}

bool wasi_kind_blocks(wasi_fd_kind kind)
{
    return kind == WASI_FD_PIPE || kind == WASI_FD_CHAR ||
           kind == WASI_FD_SOCKET_STREAM || kind == WASI_FD_SOCKET_DGRAM;
}

int wasi_fd_make_host_nb(wasi_fd *e)
{
    if (!wasi_kind_blocks((wasi_fd_kind)e->kind) || e->host_fd < 0)
        return 0;
    int fl = fcntl(e->host_fd, F_GETFL);
    if (fl < 0 || fcntl(e->host_fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return wasi_errno_from_host(errno);
    e->host_nb = true;
    return 0;
}

wasi_fd_kind wasi_kind_of_host_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return WASI_FD_AUTO;
    if (S_ISREG(st.st_mode))
        return WASI_FD_FILE;
    if (S_ISDIR(st.st_mode))
        return WASI_FD_DIR;
    if (S_ISFIFO(st.st_mode))
        return WASI_FD_PIPE;
    if (S_ISCHR(st.st_mode))
        return WASI_FD_CHAR;
    if (S_ISSOCK(st.st_mode)) {
        int type = 0;
        socklen_t len = sizeof type;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
            return WASI_FD_AUTO;
        if (type == SOCK_STREAM || type == SOCK_SEQPACKET)
            return WASI_FD_SOCKET_STREAM;
        if (type == SOCK_DGRAM)
            return WASI_FD_SOCKET_DGRAM;
    }
    return WASI_FD_AUTO;
}

int wasi_fd_insert(wasi_ctx *ctx, int host_fd, wasi_fd_kind kind,
                   uint32_t *guest_fd)
{
    if (!ctx || !guest_fd)
        return WASI_EINVAL;
    int fl = host_fd >= 0 ? fcntl(host_fd, F_GETFL) : -1;
    if (fl < 0)
        return WASI_EBADF;
    if (kind == WASI_FD_AUTO)
        kind = wasi_kind_of_host_fd(host_fd);
    if (kind == WASI_FD_AUTO || kind == WASI_FD_MEMFILE ||
        kind == WASI_FD_CONFIG_DIR || (unsigned)kind > WASI_FD_CONFIG_DIR)
        return WASI_EINVAL;
    uint32_t fd;
    wasi_fd *e;
    int err = wasi_fd_alloc(ctx, &fd, &e);
    if (err)
        return err;
    e->kind = (uint8_t)kind;
    e->host_fd = host_fd;
    e->fdflags = (fl & O_APPEND) ? WASI_FDFLAG_APPEND : 0;
    e->rights_base = wasi_kind_rights(kind, (fl & O_ACCMODE) != O_RDONLY);
    e->rights_inheriting =
        kind == WASI_FD_DIR ? wasi_dir_inheriting(false) : 0;
    err = wasi_fd_make_host_nb(e);
    if (err) {
        wasi_fd_release(ctx, fd); /* not owned yet: host_fd stays open */
        return err;
    }
    e->owned = true;
    *guest_fd = fd;
    return 0;
}

int wasi_fd_close(wasi_ctx *ctx, uint32_t guest_fd)
{
    if (!wasi_fd_get(ctx, guest_fd))
        return WASI_EBADF;
    wasi_fd_release(ctx, guest_fd);
    return 0;
}

int wasi_fd_host(const wasi_ctx *ctx, uint32_t guest_fd)
{
    if (guest_fd >= ctx->nfds || !ctx->fds[guest_fd].used)
        return -1;
    return ctx->fds[guest_fd].host_fd;
}

int wasi_config_fd_open(wasi_ctx *ctx, uint32_t *guest_fd)
{
    if (!ctx->config)
        return WASI_ENOENT;
    wasi_fd *e;
    int err = wasi_fd_alloc(ctx, guest_fd, &e);
    if (err)
        return err;
    e->kind = WASI_FD_MEMFILE;
    e->rights_base = wasi_kind_rights(WASI_FD_MEMFILE, false);
    return 0;
}
