/*
 * wasi/path.c - preopened directories and paths below them: fd_prestat_get,
 * fd_prestat_dir_name, path_open, path_filestat_get; the virtual config
 * directory "/conf/" with its one file.
 *
 * Confinement, in two independent layers:
 *  1. Lexical: a guest path must be relative; "." and empty components are
 *     dropped and ".." may not climb above the directory it starts from
 *     (ENOTCAPABLE).
 *  2. Kernel: the normalised path is opened with openat2(RESOLVE_BENEATH |
 *     RESOLVE_NO_MAGICLINKS), so that no symlink can lead outside either.
 *     Where openat2 does not exist (ENOSYS: Linux before 5.6) the path is
 *     walked one component at a time with O_NOFOLLOW, and symlinks are
 *     expanded here and normalised again by layer 1.
 *
 * A directory granted read-only refuses O_CREAT, O_TRUNC, APPEND and every
 * write right with ENOTCAPABLE before anything is opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "wasi/internal.h"

int wasi_impl_fd_prestat_get(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e || !e->preopen)
        return WASI_EBADF; /* wasi-libc stops its preopen scan on EBADF */
    uint8_t *p = wasi_mem(c, a[1].u32, WASI_PRESTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    memset(p, 0, WASI_PRESTAT_SIZE);
    p[0] = WASI_PREOPENTYPE_DIR;
    wasi_st32(p + 4, (uint32_t)strlen(e->name));
    return 0;
}

int wasi_impl_fd_prestat_dir_name(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e || !e->preopen)
        return WASI_EBADF;
    size_t n = strlen(e->name);
    if (a[2].u32 < n)
        return WASI_ENAMETOOLONG;
    if (n == 0)
        return 0;
    uint8_t *p = wasi_mem(c, a[1].u32, n);
    if (!p)
        return WASI_EFAULT;
    memcpy(p, e->name, n);
    return 0;
}

/*
 * Lexical normalisation (layer 1). `out` has room for WASI_PATH_MAX + 1
 * bytes; the result is never longer than the input. "." stands for the
 * directory itself. *want_dir is set when the path ends with a slash.
 */
static int normalize(const char *in, char *out, bool *want_dir)
{
    size_t len = strlen(in);
    *want_dir = len > 0 && in[len - 1] == '/';
    if (len == 0)
        return WASI_ENOENT;
    if (in[0] == '/')
        return WASI_ENOTCAPABLE;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (o == 0)
                return WASI_ENOTCAPABLE; /* would climb out */
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* the separator before the dropped component */
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return 0;
}

static int path_errno(int e)
{
    return e == EXDEV ? WASI_ENOTCAPABLE : wasi_errno_from_host(e);
}

/* Cleared when the kernel has no openat2 (or by tests, to exercise the
 * portable walk). */
static atomic_bool use_openat2 = true;

void wasi_path_set_openat2(bool enabled)
{
    atomic_store(&use_openat2, enabled);
}

/*
 * Replaces the component path[start..end), a symlink in directory `at`, by
 * the link's target, then normalises the whole path again (layer 1), so
 * that a link can never lead above the starting directory.
 */
static int expand_link(int at, const char *name, char *path, size_t start,
                       size_t end)
{
    char target[WASI_PATH_MAX + 1], joined[2 * WASI_PATH_MAX + 2];
    ssize_t n = readlinkat(at, name, target, WASI_PATH_MAX);
    if (n < 0)
        return path_errno(errno);
    if (n >= WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    target[n] = '\0';
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;
    int len = snprintf(joined, sizeof joined, "%.*s%s%s", (int)start, path,
                       target, path + end);
    if (len < 0 || len > WASI_PATH_MAX)
        return WASI_ENAMETOOLONG;
    bool want_dir;
    return normalize(joined, path, &want_dir);
}

#define WALK_RESTART (-1)

/* One pass over a normalised path: opens every directory with O_NOFOLLOW;
 * on a symlink that must be followed, rewrites `path` and returns
 * WALK_RESTART. */
static int walk_once(int dirfd, char *path, int flags, mode_t mode,
                     bool follow, int *out)
{
    int cur = dirfd, ret;
    size_t start = 0;
    for (;;) {
        char *slash = strchr(path + start, '/');
        size_t end = slash ? (size_t)(slash - path) : strlen(path);
        char comp[NAME_MAX + 1];
        if (end - start > NAME_MAX) {
            ret = WASI_ENAMETOOLONG;
            break;
        }
        memcpy(comp, path + start, end - start);
        comp[end - start] = '\0';
        struct stat st;
        if ((slash || follow) &&
            fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
            ret = expand_link(cur, comp, path, start, end);
            ret = ret ? ret : WALK_RESTART;
            break;
        }
        if (!slash) { /* the last component */
            int fd;
            do {
                fd = openat(cur, comp, flags | O_NOFOLLOW, mode);
            } while (fd < 0 && errno == EINTR);
            ret = fd < 0 ? path_errno(errno) : 0;
            if (fd >= 0)
                *out = fd;
            break;
        }
        int next = openat(cur, comp,
                          O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0) {
            ret = path_errno(errno);
            break;
        }
        if (cur != dirfd)
            close(cur);
        cur = next;
        start = end + 1;
    }
    if (cur != dirfd)
        close(cur);
    return ret;
}

/*
 * Layer 2 without openat2: walks the path component by component, opening
 * each with O_NOFOLLOW (so nothing can be swapped under us into a link that
 * the kernel would follow), and expands symlinks itself, at most
 * WASI_SYMLINK_MAX of them.
 */
static int walk_open(int dirfd, const char *path, int flags, mode_t mode,
                     bool follow, int *out)
{
    char buf[WASI_PATH_MAX + 1];
    snprintf(buf, sizeof buf, "%s", path);
    for (int hops = 0; hops <= WASI_SYMLINK_MAX; hops++) {
        int r = walk_once(dirfd, buf, flags, mode, follow, out);
        if (r != WALK_RESTART)
            return r;
    }
    return WASI_ELOOP;
}

/* Opens a normalised path below dirfd (layer 2). */
static int resolve_open(int dirfd, const char *path, int flags, bool follow,
                        int *out)
{
    const mode_t mode = 0644;
#ifdef SYS_openat2
    if (atomic_load(&use_openat2)) {
        struct open_how how = {
            .flags = (uint64_t)(flags | (follow ? 0 : O_NOFOLLOW)),
            .mode = (flags & O_CREAT) ? mode : 0,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
        };
        long fd;
        do {
            fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
        if (fd >= 0) {
            *out = (int)fd;
            return 0;
        }
        if (errno != ENOSYS)
            return path_errno(errno);
        atomic_store(&use_openat2, false);
    }
#endif
    return walk_open(dirfd, path, flags, mode, follow, out);
}

/* The config directory: "watm.cfg" and "." exist, nothing else. */
static int config_open(wasi_call *c, const char *path, uint32_t oflags,
                       uint64_t base, bool wants_write, uint32_t out)
{
    bool file = strcmp(path, WASI_CONFIG_FILE) == 0;
    bool self = strcmp(path, ".") == 0;
    if (!file && !self)
        return (oflags & WASI_OFLAG_CREAT) ? WASI_ENOTCAPABLE : WASI_ENOENT;
    if ((oflags & WASI_OFLAG_CREAT) && (oflags & WASI_OFLAG_EXCL))
        return WASI_EEXIST;
    if (wants_write)
        return WASI_ENOTCAPABLE;
    if (file && (oflags & WASI_OFLAG_DIRECTORY))
        return WASI_ENOTDIR;
    uint32_t fd;
    wasi_fd *e;
    int err = wasi_fd_alloc(c->ctx, &fd, &e);
    if (err)
        return err;
    e->kind = file ? WASI_FD_MEMFILE : WASI_FD_CONFIG_DIR;
    e->rights_base = base & wasi_kind_rights((wasi_fd_kind)e->kind, false);
    if (self)
        e->rights_inheriting = wasi_kind_rights(WASI_FD_MEMFILE, false);
    return wasi_put32(c, out, fd);
}

/* The open(2) flags for a path_open request on a host directory. */
static int open_flags(uint32_t oflags, uint64_t base, uint32_t fdflags,
                      bool want_dir, bool *wr)
{
    bool rd = (base & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR)) != 0;
    *wr = (base & (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |
                   WASI_RIGHT_FD_FILESTAT_SET_SIZE)) != 0 ||
          (fdflags & WASI_FDFLAG_APPEND) || (oflags & WASI_OFLAG_TRUNC);
    if (oflags & WASI_OFLAG_DIRECTORY)
        *wr = false; /* a directory is never opened for writing */
    int f = O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    f |= *wr ? (rd ? O_RDWR : O_WRONLY) : O_RDONLY;
    if (oflags & WASI_OFLAG_CREAT)
        f |= O_CREAT;
    if (oflags & WASI_OFLAG_EXCL)
        f |= O_EXCL;
    if (oflags & WASI_OFLAG_TRUNC)
        f |= O_TRUNC;
    if ((oflags & WASI_OFLAG_DIRECTORY) || want_dir)
        f |= O_DIRECTORY;
    if (fdflags & WASI_FDFLAG_APPEND)
        f |= O_APPEND;
    if (fdflags & WASI_FDFLAG_DSYNC)
        f |= O_DSYNC;
    if (fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_RSYNC))
        f |= O_SYNC;
    return f;
}

/* path_open(fd, dirflags, path, path_len, oflags, rights_base,
 *           rights_inheriting, fdflags, retptr) */
int wasi_impl_path_open(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *d = wasi_fd_get(c->ctx, a[0].u32);
    if (!d)
        return WASI_EBADF;
    if (d->kind != WASI_FD_DIR && d->kind != WASI_FD_CONFIG_DIR)
        return WASI_ENOTDIR;
    if (!(d->rights_base & WASI_RIGHT_PATH_OPEN))
        return WASI_ENOTCAPABLE;
    char raw[WASI_PATH_MAX + 1], path[WASI_PATH_MAX + 1];
    bool want_dir, wr;
    int err = wasi_guest_path(c, a[2].u32, a[3].u32, raw);
    if (err || (err = normalize(raw, path, &want_dir)) != 0)
        return err;
    uint32_t out = a[8].u32, oflags = a[4].u32, fdflags = a[7].u32;
    uint64_t base = a[5].u64, inh = a[6].u64;
    if (oflags > 0xf || fdflags > 0x1f)
        return WASI_EINVAL;
    if (!wasi_mem(c, out, 4))
        return WASI_EFAULT;
    int flags = open_flags(oflags, base, fdflags, want_dir, &wr);
    if ((wr || (oflags & WASI_OFLAG_CREAT)) && !d->writable)
        return d->kind == WASI_FD_CONFIG_DIR
                   ? config_open(c, path, oflags, base, true, out)
                   : WASI_ENOTCAPABLE;
    if (d->kind == WASI_FD_CONFIG_DIR)
        return config_open(c, path, oflags, base, false, out);
    bool d_writable = d->writable;
    uint64_t d_inh = d->rights_inheriting;
    int hfd = -1;
    err = resolve_open(d->host_fd, path, flags,
                       (a[1].u32 & WASI_LOOKUP_SYMLINK_FOLLOW) != 0, &hfd);
    if (err)
        return err;
    wasi_fd_kind kind = wasi_kind_of_host_fd(hfd);
    uint32_t fd;
    wasi_fd *e;
    if (kind == WASI_FD_AUTO || kind == WASI_FD_SOCKET_STREAM ||
        kind == WASI_FD_SOCKET_DGRAM)
        err = WASI_ENOTSUP;
    else
        err = wasi_fd_alloc(c->ctx, &fd, &e); /* d is invalid from here */
    if (err) {
        close(hfd);
        return err;
    }
    e->kind = (uint8_t)kind;
    e->host_fd = hfd;
    e->owned = true;
    e->host_nb = wasi_kind_blocks(kind); /* opened with O_NONBLOCK */
    e->writable = kind == WASI_FD_DIR ? d_writable : wr;
    e->fdflags = (uint16_t)fdflags;
    e->rights_base = base & d_inh & wasi_kind_rights(kind, e->writable);
    e->rights_inheriting = kind == WASI_FD_DIR ? (inh & d_inh) : 0;
    return wasi_put32(c, out, fd);
}

/* path_filestat_get(fd, lookupflags, path, path_len, buf) */
int wasi_impl_path_filestat_get(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *d = wasi_fd_get(c->ctx, a[0].u32);
    if (!d)
        return WASI_EBADF;
    if (d->kind != WASI_FD_DIR && d->kind != WASI_FD_CONFIG_DIR)
        return WASI_ENOTDIR;
    if (!(d->rights_base & WASI_RIGHT_PATH_FILESTAT_GET))
        return WASI_ENOTCAPABLE;
    char raw[WASI_PATH_MAX + 1], path[WASI_PATH_MAX + 1];
    bool want_dir;
    int err = wasi_guest_path(c, a[2].u32, a[3].u32, raw);
    if (err || (err = normalize(raw, path, &want_dir)) != 0)
        return err;
    uint8_t *p = wasi_mem(c, a[4].u32, WASI_FILESTAT_SIZE);
    if (!p)
        return WASI_EFAULT;
    struct stat st;
    memset(&st, 0, sizeof st);
    if (d->kind == WASI_FD_CONFIG_DIR) {
        bool file = strcmp(path, WASI_CONFIG_FILE) == 0;
        if (!file && strcmp(path, ".") != 0)
            return WASI_ENOENT;
        if (file && want_dir)
            return WASI_ENOTDIR;
        st.st_nlink = 1;
        st.st_mode = file ? S_IFREG : S_IFDIR;
        st.st_size = file ? (off_t)c->ctx->config_len : 0;
    } else {
        int fd;
        int flags = O_PATH | O_CLOEXEC | (want_dir ? O_DIRECTORY : 0);
        err = resolve_open(d->host_fd, path, flags,
                           (a[1].u32 & WASI_LOOKUP_SYMLINK_FOLLOW) != 0, &fd);
        if (err)
            return err;
        int r = fstat(fd, &st);
        int saved = errno;
        close(fd);
        if (r != 0)
            return wasi_errno_from_host(saved);
    }
    wasi_filestat_fill(p, &st);
    return 0;
}
