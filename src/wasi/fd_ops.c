/*
 * wasi/fd_ops.c - the fd_* functions of WASI preview 1 that work on an open
 * fd: read, write, pread, pwrite, close, renumber, fdstat, seek, tell,
 * filestat, sync, advise, allocate.
 *
 * Each one checks, in this order: the fd (EBADF), the kind where the kind
 * decides the answer (ESPIPE on sockets and pipes, EISDIR on directories),
 * the rights (ENOTCAPABLE), every guest pointer (EFAULT) before any side
 * effect, then calls the kernel and maps its errno.
 * The config file (WASI_FD_MEMFILE) is served from the context's copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasi/internal.h"

/* Copies config bytes from `off` into the iovecs; returns the count. */
static size_t memfile_read(const wasi_ctx *ctx, uint64_t off,
                           const struct iovec *iov, int n)
{
    size_t done = 0;
    for (int i = 0; i < n && off < ctx->config_len; i++) {
        size_t k = iov[i].iov_len;
        if (k > ctx->config_len - off)
            k = (size_t)(ctx->config_len - off);
        memcpy(iov[i].iov_base, ctx->config + off, k);
        off += k;
        done += k;
    }
    return done;
}

static bool is_stream(const wasi_fd *e)
{
    return wasi_kind_blocks((wasi_fd_kind)e->kind); /* not seekable */
}

static bool is_dir(const wasi_fd *e)
{
    return e->kind == WASI_FD_DIR || e->kind == WASI_FD_CONFIG_DIR;
}

int wasi_impl_fd_read(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (is_dir(e))
        return WASI_EISDIR;
    if (!(e->rights_base & WASI_RIGHT_FD_READ))
        return WASI_ENOTCAPABLE;
    if (!wasi_mem(c, a[3].u32, 4))
        return WASI_EFAULT;
    struct iovec iov[WASI_IOV_MAX];
    int n;
    size_t total, done = 0;
    int err = wasi_iovecs(c, a[1].u32, a[2].u32, iov, &n, &total);
    if (err)
        return err;
    if (e->kind == WASI_FD_MEMFILE) {
        done = memfile_read(c->ctx, e->offset, iov, n);
        e->offset += done;
    } else if ((err = wasi_io_read(c, e, iov, n, &done)) != 0) {
        return err;
    }
    return wasi_put32(c, a[3].u32, (uint32_t)done);
}

int wasi_impl_fd_write(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (is_dir(e))
        return WASI_EISDIR;
    if (!(e->rights_base & WASI_RIGHT_FD_WRITE))
        return WASI_ENOTCAPABLE;
    if (!wasi_mem(c, a[3].u32, 4))
        return WASI_EFAULT;
    struct iovec iov[WASI_IOV_MAX];
    int n;
    size_t total, done = 0;
    int err = wasi_iovecs(c, a[1].u32, a[2].u32, iov, &n, &total);
    if (err)
        return err;
    if ((err = wasi_io_write(c, e, iov, n, &done)) != 0)
        return err;
    return wasi_put32(c, a[3].u32, (uint32_t)done);
}

/* fd_pread and fd_pwrite: (fd, iovs, iovs_len, offset u64, retptr). */
static int positioned(wasi_call *c, const wasm_slot *a, bool write)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (is_stream(e))
        return WASI_ESPIPE;
    if (is_dir(e))
        return WASI_EISDIR;
    uint64_t need = (write ? WASI_RIGHT_FD_WRITE : WASI_RIGHT_FD_READ) |
                    WASI_RIGHT_FD_SEEK;
    if ((e->rights_base & need) != need)
        return WASI_ENOTCAPABLE;
    uint64_t off = a[3].u64;
    if (off > INT64_MAX)
        return WASI_EINVAL;
    if (!wasi_mem(c, a[4].u32, 4))
        return WASI_EFAULT;
    struct iovec iov[WASI_IOV_MAX];
    int n;
    size_t total;
    int err = wasi_iovecs(c, a[1].u32, a[2].u32, iov, &n, &total);
    if (err)
        return err;
    ssize_t r;
    if (e->kind == WASI_FD_MEMFILE) {
        r = (ssize_t)memfile_read(c->ctx, off, iov, n);
    } else {
        do {
            r = write ? pwritev(e->host_fd, iov, n, (off_t)off)
                      : preadv(e->host_fd, iov, n, (off_t)off);
        } while (r < 0 && errno == EINTR);
        if (r < 0)
            return wasi_errno_from_host(errno);
    }
    return wasi_put32(c, a[4].u32, (uint32_t)r);
}

int wasi_impl_fd_pread(wasi_call *c, const wasm_slot *a)
{
    return positioned(c, a, false);
}

int wasi_impl_fd_pwrite(wasi_call *c, const wasm_slot *a)
{
    return positioned(c, a, true);
}

int wasi_impl_fd_close(wasi_call *c, const wasm_slot *a)
{
    return wasi_fd_close(c->ctx, a[0].u32);
}

int wasi_impl_fd_renumber(wasi_call *c, const wasm_slot *a)
{
    uint32_t from = a[0].u32, to = a[1].u32;
    if (!wasi_fd_get(c->ctx, from) || !wasi_fd_get(c->ctx, to))
        return WASI_EBADF;
    if (from == to)
        return 0;
    wasi_fd_release(c->ctx, to);
    c->ctx->fds[to] = c->ctx->fds[from];
    memset(&c->ctx->fds[from], 0, sizeof c->ctx->fds[from]);
    c->ctx->fds[from].host_fd = -1;
    return 0;
}

int wasi_impl_fd_fdstat_get(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    uint8_t *p = wasi_mem(c, a[1].u32, WASI_FDSTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    memset(p, 0, WASI_FDSTAT_SIZE);
    p[WASI_FDSTAT_FILETYPE] = wasi_fd_filetype(e);
    wasi_st16(p + WASI_FDSTAT_FLAGS, e->fdflags);
    wasi_st64(p + WASI_FDSTAT_RIGHTS, e->rights_base);
    wasi_st64(p + WASI_FDSTAT_INHERIT, e->rights_inheriting);
    return 0;
}

int wasi_impl_fd_fdstat_set_flags(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!(e->rights_base & WASI_RIGHT_FD_FDSTAT_SET_FLAGS))
        return WASI_ENOTCAPABLE;
    uint32_t want = a[1].u32;
    const uint32_t settable = WASI_FDFLAG_NONBLOCK | WASI_FDFLAG_APPEND;
    if (want > 0xffff)
        return WASI_EINVAL;
    if (want & ~settable & ~(uint32_t)e->fdflags)
        return WASI_ENOTSUP; /* sync flags are set at open, not later */
    want = (want & settable) | (e->fdflags & ~settable);
    bool append = (want & WASI_FDFLAG_APPEND) != 0;
    if (append != ((e->fdflags & WASI_FDFLAG_APPEND) != 0)) {
        if (e->kind != WASI_FD_FILE || !e->owned)
            return WASI_ENOTSUP;
        int fl = fcntl(e->host_fd, F_GETFL);
        if (fl < 0)
            return wasi_errno_from_host(errno);
        fl = append ? (fl | O_APPEND) : (fl & ~O_APPEND);
        if (fcntl(e->host_fd, F_SETFL, fl) < 0)
            return wasi_errno_from_host(errno);
    }
    /* NONBLOCK is ours: see io.c. */
    e->fdflags = (uint16_t)want;
    return 0;
}

int wasi_impl_fd_fdstat_set_rights(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    uint64_t base = a[1].u64, inh = a[2].u64;
    if ((base & ~e->rights_base) || (inh & ~e->rights_inheriting))
        return WASI_ENOTCAPABLE; /* rights can only be dropped */
    e->rights_base = base;
    e->rights_inheriting = inh;
    return 0;
}

/* Shared by fd_seek and fd_tell. */
static int seek(wasi_call *c, uint32_t fd, int64_t delta, uint32_t whence,
                uint32_t out, uint64_t right)
{
    wasi_fd *e = wasi_fd_get(c->ctx, fd);
    if (!e)
        return WASI_EBADF;
    if (is_stream(e) || e->kind == WASI_FD_CONFIG_DIR)
        return WASI_ESPIPE;
    if (!(e->rights_base & right))
        return WASI_ENOTCAPABLE;
    if (whence > WASI_WHENCE_END)
        return WASI_EINVAL;
    if (!wasi_mem(c, out, 8))
        return WASI_EFAULT;
    uint64_t pos;
    if (e->kind == WASI_FD_MEMFILE) {
        int64_t base = whence == WASI_WHENCE_SET   ? 0
                       : whence == WASI_WHENCE_CUR ? (int64_t)e->offset
                                                   : (int64_t)c->ctx->config_len;
        int64_t np;
        if (__builtin_add_overflow(base, delta, &np) || np < 0)
            return WASI_EINVAL;
        e->offset = (uint64_t)np;
        pos = e->offset;
    } else {
        static const int how[] = {SEEK_SET, SEEK_CUR, SEEK_END};
        off_t r = lseek(e->host_fd, (off_t)delta, how[whence]);
        if (r < 0)
            return wasi_errno_from_host(errno);
        pos = (uint64_t)r;
    }
    return wasi_put64(c, out, pos);
}

int wasi_impl_fd_seek(wasi_call *c, const wasm_slot *a)
{
    /* Moving needs FD_SEEK; asking the position (0, CUR) only FD_TELL. */
    uint64_t right = (a[1].i64 == 0 && a[2].u32 == WASI_WHENCE_CUR)
                         ? WASI_RIGHT_FD_TELL
                         : WASI_RIGHT_FD_SEEK;
    return seek(c, a[0].u32, a[1].i64, a[2].u32, a[3].u32, right);
}

int wasi_impl_fd_tell(wasi_call *c, const wasm_slot *a)
{
    return seek(c, a[0].u32, 0, WASI_WHENCE_CUR, a[1].u32,
                WASI_RIGHT_FD_TELL);
}

static uint64_t ts_ns(struct timespec t)
{
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint8_t filetype_of_mode(mode_t m)
{
    if (S_ISREG(m))
        return WASI_FILETYPE_REGULAR_FILE;
    if (S_ISDIR(m))
        return WASI_FILETYPE_DIRECTORY;
    if (S_ISCHR(m))
        return WASI_FILETYPE_CHARACTER_DEVICE;
    if (S_ISBLK(m))
        return WASI_FILETYPE_BLOCK_DEVICE;
    if (S_ISLNK(m))
        return WASI_FILETYPE_SYMBOLIC_LINK;
    if (S_ISSOCK(m))
        return WASI_FILETYPE_SOCKET_STREAM;
    return WASI_FILETYPE_UNKNOWN;
}

void wasi_filestat_fill(uint8_t *p, const struct stat *st)
{
    memset(p, 0, WASI_FILESTAT_SIZE);
    wasi_st64(p + WASI_FILESTAT_DEV, (uint64_t)st->st_dev);
    wasi_st64(p + WASI_FILESTAT_INO, (uint64_t)st->st_ino);
    p[WASI_FILESTAT_FILETYPE] = filetype_of_mode(st->st_mode);
    wasi_st64(p + WASI_FILESTAT_NLINK, (uint64_t)st->st_nlink);
    wasi_st64(p + WASI_FILESTAT_SIZE_OFF, (uint64_t)st->st_size);
    wasi_st64(p + WASI_FILESTAT_ATIM, ts_ns(st->st_atim));
    wasi_st64(p + WASI_FILESTAT_MTIM, ts_ns(st->st_mtim));
    wasi_st64(p + WASI_FILESTAT_CTIM, ts_ns(st->st_ctim));
}

int wasi_impl_fd_filestat_get(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!(e->rights_base & WASI_RIGHT_FD_FILESTAT_GET))
        return WASI_ENOTCAPABLE;
    uint8_t *p = wasi_mem(c, a[1].u32, WASI_FILESTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    struct stat st;
    if (e->host_fd >= 0) {
        if (fstat(e->host_fd, &st) != 0)
            return wasi_errno_from_host(errno);
    } else {
        memset(&st, 0, sizeof st);
        st.st_nlink = 1;
        st.st_mode = e->kind == WASI_FD_MEMFILE ? S_IFREG : S_IFDIR;
        st.st_size = e->kind == WASI_FD_MEMFILE ? (off_t)c->ctx->config_len : 0;
    }
    wasi_filestat_fill(p, &st);
    p[WASI_FILESTAT_FILETYPE] = wasi_fd_filetype(e); /* agree with fdstat */
    return 0;
}

int wasi_impl_fd_filestat_set_size(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (!(e->rights_base & WASI_RIGHT_FD_FILESTAT_SET_SIZE) ||
        e->kind != WASI_FD_FILE)
        return WASI_ENOTCAPABLE;
    if (a[1].u64 > INT64_MAX)
        return WASI_EINVAL;
    if (ftruncate(e->host_fd, (off_t)a[1].u64) != 0)
        return wasi_errno_from_host(errno);
    return 0;
}

static int sync_fd(wasi_call *c, uint32_t fd, bool data_only)
{
    wasi_fd *e = wasi_fd_get(c->ctx, fd);
    if (!e)
        return WASI_EBADF;
    uint64_t right = data_only ? WASI_RIGHT_FD_DATASYNC : WASI_RIGHT_FD_SYNC;
    if (!(e->rights_base & right))
        return WASI_ENOTCAPABLE;
    if (e->host_fd < 0)
        return 0; /* the config lives in memory */
    if ((data_only ? fdatasync(e->host_fd) : fsync(e->host_fd)) != 0)
        return wasi_errno_from_host(errno);
    return 0;
}

int wasi_impl_fd_sync(wasi_call *c, const wasm_slot *a)
{
    return sync_fd(c, a[0].u32, false);
}

int wasi_impl_fd_datasync(wasi_call *c, const wasm_slot *a)
{
    return sync_fd(c, a[0].u32, true);
}

int wasi_impl_fd_advise(wasi_call *c, const wasm_slot *a)
{
    /* (fd, offset, len, advice): advice only, so a no-op. */
    if (!wasi_fd_get(c->ctx, a[0].u32))
        return WASI_EBADF;
    return a[3].u32 > WASI_ADVICE_MAX ? WASI_EINVAL : 0;
}

int wasi_impl_fd_allocate(wasi_call *c, const wasm_slot *a)
{
    if (!wasi_fd_get(c->ctx, a[0].u32))
        return WASI_EBADF;
    return WASI_ENOTSUP;
}
