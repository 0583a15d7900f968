/*
 * wasi/readdir.c - fd_readdir on host directories and on the virtual
 * config directory.
 *
 * Cookies are entry indexes: the entry at index i carries d_next = i + 1,
 * and a call with cookie k starts at the k-th entry. Each call reads the
 * directory afresh through a new descriptor (so the guest's cookie is all
 * the state there is); directories in this layer's use are small.
 *
 * Entries are packed as the spec says: a 24-byte dirent header followed by
 * the name, and the last one is cut off when the buffer is full (the guest
 * then sees bufused == buf_len and retries with a bigger buffer).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "wasi/internal.h"

typedef struct dir_out {
    uint8_t *buf;
    uint32_t len, used;
} dir_out;

/* Appends one entry, truncated to the space left; false once full. */
static bool emit(dir_out *o, uint64_t next, uint64_t ino, const char *name,
                 uint8_t type)
{
    uint8_t hdr[WASI_DIRENT_SIZE] = {0};
    size_t nlen = strlen(name);
    wasi_st64(hdr + WASI_DIRENT_NEXT, next);
    wasi_st64(hdr + WASI_DIRENT_INO, ino);
    wasi_st32(hdr + WASI_DIRENT_NAMLEN, (uint32_t)nlen);
    hdr[WASI_DIRENT_TYPE] = type;
    uint32_t room = o->len - o->used;
    uint32_t k = room < WASI_DIRENT_SIZE ? room : WASI_DIRENT_SIZE;
    memcpy(o->buf + o->used, hdr, k);
    o->used += k;
    room -= k;
    k = room < nlen ? room : (uint32_t)nlen;
    memcpy(o->buf + o->used, name, k);
    o->used += k;
    return o->used < o->len;
}

static uint8_t type_of_dt(unsigned char t)
{
    switch (t) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

static int read_host_dir(int dirfd, uint64_t cookie, dir_out *o)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wasi_errno_from_host(errno);
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int saved = errno;
        close(fd);
        return wasi_errno_from_host(saved);
    }
    uint64_t index = 0;
    int err = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(dir);
        if (!de) {
            err = errno ? wasi_errno_from_host(errno) : 0;
            break;
        }
        if (index++ < cookie)
            continue;
        if (!emit(o, index, (uint64_t)de->d_ino, de->d_name,
                  type_of_dt(de->d_type)))
            break;
    }
    closedir(dir);
    return err;
}

static void read_config_dir(uint64_t cookie, dir_out *o)
{
    static const struct {
        const char *name;
        uint8_t type;
    } ents[] = {
        {".", WASI_FILETYPE_DIRECTORY},
        {"..", WASI_FILETYPE_DIRECTORY},
        {WASI_CONFIG_FILE, WASI_FILETYPE_REGULAR_FILE},
    };
    for (uint64_t i = cookie; i < sizeof ents / sizeof ents[0]; i++)
        if (!emit(o, i + 1, i + 1, ents[i].name, ents[i].type))
            break;
}

/* fd_readdir(fd, buf, buf_len, cookie u64, retptr) */
int wasi_impl_fd_readdir(wasi_call *c, const wasm_slot *a)
{
    wasi_fd *e = wasi_fd_get(c->ctx, a[0].u32);
    if (!e)
        return WASI_EBADF;
    if (e->kind != WASI_FD_DIR && e->kind != WASI_FD_CONFIG_DIR)
        return WASI_ENOTDIR;
    if (!(e->rights_base & WASI_RIGHT_FD_READDIR))
        return WASI_ENOTCAPABLE;
    dir_out o = {.len = a[2].u32};
    if (!wasi_mem(c, a[4].u32, 4))
        return WASI_EFAULT;
    if (o.len == 0)
        return wasi_put32(c, a[4].u32, 0);
    o.buf = wasi_mem(c, a[1].u32, o.len);
    if (!o.buf)
        return WASI_EFAULT;
    if (e->kind == WASI_FD_CONFIG_DIR) {
        read_config_dir(a[3].u64, &o);
    } else {
        int err = read_host_dir(e->host_fd, a[3].u64, &o);
        if (err)
            return err;
    }
    return wasi_put32(c, a[4].u32, o.used);
}
