/*
 * minihost.c - the WASI preview 1 and WATER env imports for wasm2c-translated
 * transports (test-only; see minihost.h).
 *
 * Every guest pointer goes through mem_at(), which checks ptr + len against
 * the current memory size (memory can grow between calls, so the data
 * pointer is re-read each time).
 */
#define _GNU_SOURCE
#include "minihost.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* WASI errno values used here. */
enum {
    WE_OK = 0, WE_ACCES = 2, WE_AGAIN = 6, WE_BADF = 8, WE_CONNRESET = 15, WE_FAULT = 21,
    WE_INVAL = 28, WE_IO = 29, WE_NOENT = 44, WE_NOTCONN = 53, WE_NOTSOCK = 57,
    WE_NOTSUP = 58, WE_PIPE = 64,
};

static uint32_t werr(int e)
{
    switch (e) {
    case EAGAIN: return WE_AGAIN;
    case EBADF: return WE_BADF;
    case ECONNRESET: return WE_CONNRESET;
    case EINVAL: return WE_INVAL;
    case ENOENT: return WE_NOENT;
    case ENOTCONN: return WE_NOTCONN;
    case ENOTSOCK: return WE_NOTSOCK;
    case EPIPE: return WE_PIPE;
    case EACCES: return WE_ACCES;
    default: return WE_IO;
    }
}

static uint8_t *mem_at(struct minihost *h, uint32_t ptr, uint64_t len)
{
    if ((uint64_t)ptr + len > h->mem->size)
        return NULL;
    return h->mem->data + ptr;
}

static uint32_t ld32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const uint8_t *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void st64(uint8_t *p, uint64_t v)
{
    st32(p, (uint32_t)v);
    st32(p + 4, (uint32_t)(v >> 32));
}

void mh_init(struct minihost *h, const char *conf_dir, const char *conf_file)
{
    memset(h, 0, sizeof *h);
    for (int i = 0; i < MH_FDS; i++)
        h->fds[i] = i < 3 ? i : -1;
    if (conf_dir != NULL) {
        int d = open(conf_dir, O_RDONLY | O_DIRECTORY);
        if (d >= 0) {
            h->fds[3] = d;
            h->conf_preopen = true;
        }
    }
    h->conf_file = conf_file;
    h->dial_fd = h->accept_fd = -1;
    h->env.h = h;
    h->wasi.h = h;
}

void mh_close_all(struct minihost *h)
{
    for (int i = 3; i < MH_FDS; i++) {
        if (h->fds[i] >= 0)
            close(h->fds[i]);
        h->fds[i] = -1;
    }
    if (h->dial_fd >= 0)
        close(h->dial_fd);
    if (h->accept_fd >= 0)
        close(h->accept_fd);
    h->dial_fd = h->accept_fd = -1;
}

int mh_insert(struct minihost *h, int host_fd)
{
    for (int i = 3; i < MH_FDS; i++) {
        if (h->fds[i] < 0) {
            h->fds[i] = host_fd;
            return i;
        }
    }
    return -1;
}

int mh_host_fd(const struct minihost *h, int guest_fd)
{
    if (guest_fd < 0 || guest_fd >= MH_FDS)
        return -1;
    return h->fds[guest_fd];
}

/* Builds host iovecs from a guest (c)iovec array. */
static uint32_t iovecs(struct minihost *h, uint32_t iovs, uint32_t n, struct iovec *out,
                       int *count)
{
    if (n > 16)
        return WE_INVAL;
    const uint8_t *arr = mem_at(h, iovs, (uint64_t)n * 8);
    if (arr == NULL)
        return WE_FAULT;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t ptr = ld32(arr + 8 * i), len = ld32(arr + 8 * i + 4);
        uint8_t *p = mem_at(h, ptr, len);
        if (p == NULL)
            return WE_FAULT;
        out[i].iov_base = p;
        out[i].iov_len = len;
    }
    *count = (int)n;
    return WE_OK;
}

#define HOST(inst) ((inst)->h)
#define FD_OR_BADF(h, fd, var)                                                    \
    int var = mh_host_fd(h, (int)(fd));                                           \
    if (var < 0)                                                                  \
        return WE_BADF

uint32_t Z_wasi_snapshot_preview1Z_fd_read(struct Z_wasi_snapshot_preview1_instance_t *w,
                                           uint32_t fd, uint32_t iovs, uint32_t n,
                                           uint32_t nread)
{
    struct minihost *h = HOST(w);
    FD_OR_BADF(h, fd, hfd);
    struct iovec v[16];
    int cnt = 0;
    uint32_t e = iovecs(h, iovs, n, v, &cnt);
    if (e)
        return e;
    uint8_t *out = mem_at(h, nread, 4);
    if (out == NULL)
        return WE_FAULT;
    ssize_t r = readv(hfd, v, cnt);
    if (r < 0)
        return werr(errno);
    st32(out, (uint32_t)r);
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_fd_write(struct Z_wasi_snapshot_preview1_instance_t *w,
                                            uint32_t fd, uint32_t iovs, uint32_t n,
                                            uint32_t nwritten)
{
    struct minihost *h = HOST(w);
    FD_OR_BADF(h, fd, hfd);
    struct iovec v[16];
    int cnt = 0;
    uint32_t e = iovecs(h, iovs, n, v, &cnt);
    if (e)
        return e;
    uint8_t *out = mem_at(h, nwritten, 4);
    if (out == NULL)
        return WE_FAULT;
    struct msghdr msg = {.msg_iov = v, .msg_iovlen = (size_t)cnt};
    ssize_t r = sendmsg(hfd, &msg, MSG_NOSIGNAL);
    if (r < 0 && errno == ENOTSOCK)
        r = writev(hfd, v, cnt);
    if (r < 0)
        return werr(errno);
    st32(out, (uint32_t)r);
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_fd_close(struct Z_wasi_snapshot_preview1_instance_t *w,
                                            uint32_t fd)
{
    struct minihost *h = HOST(w);
    FD_OR_BADF(h, fd, hfd);
    if (fd < 3)
        return WE_NOTSUP;
    close(hfd);
    h->fds[fd] = -1;
    if (fd == 3)
        h->conf_preopen = false;
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_get(struct Z_wasi_snapshot_preview1_instance_t *w,
                                                 uint32_t fd, uint32_t out)
{
    struct minihost *h = HOST(w);
    FD_OR_BADF(h, fd, hfd);
    uint8_t *p = mem_at(h, out, 24);
    if (p == NULL)
        return WE_FAULT;
    int fl = fcntl(hfd, F_GETFL);
    if (fl < 0)
        return werr(errno);
    memset(p, 0, 24);
    p[0] = 6; /* filetype: socket_stream (good enough here) */
    st16(p + 2, (uint16_t)((fl & O_NONBLOCK) ? 4 : 0));
    st64(p + 8, ~UINT64_C(0));
    st64(p + 16, ~UINT64_C(0));
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_fd_fdstat_set_flags(
    struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t fd, uint32_t flags)
{
    struct minihost *h = HOST(w);
    FD_OR_BADF(h, fd, hfd);
    if (flags & ~UINT32_C(4))
        return WE_NOTSUP; /* only NONBLOCK is supported */
    int fl = fcntl(hfd, F_GETFL);
    if (fl < 0)
        return werr(errno);
    fl = (flags & 4) ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(hfd, F_SETFL, fl) < 0 ? werr(errno) : WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_get(struct Z_wasi_snapshot_preview1_instance_t *w,
                                                  uint32_t fd, uint32_t out)
{
    struct minihost *h = HOST(w);
    if (fd != 3 || !h->conf_preopen)
        return WE_BADF; /* the only preopen is guest fd 3 */
    uint8_t *p = mem_at(h, out, 8);
    if (p == NULL)
        return WE_FAULT;
    memset(p, 0, 8);
    st32(p + 4, 5); /* strlen("/conf") */
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_fd_prestat_dir_name(
    struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t fd, uint32_t path, uint32_t len)
{
    struct minihost *h = HOST(w);
    if (fd != 3 || !h->conf_preopen)
        return WE_BADF;
    uint8_t *p = mem_at(h, path, len);
    if (p == NULL)
        return WE_FAULT;
    if (len < 5)
        return WE_INVAL;
    memcpy(p, "/conf", 5);
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_path_open(struct Z_wasi_snapshot_preview1_instance_t *w,
                                             uint32_t dirfd, uint32_t dirflags, uint32_t path,
                                             uint32_t path_len, uint32_t oflags,
                                             uint64_t rights, uint64_t rights_inh,
                                             uint32_t fdflags, uint32_t out)
{
    (void)dirflags;
    (void)rights;
    (void)rights_inh;
    struct minihost *h = HOST(w);
    if (dirfd != 3 || !h->conf_preopen)
        return WE_BADF;
    if (oflags != 0 || fdflags != 0)
        return WE_NOTSUP; /* read-only directory */
    const uint8_t *p = mem_at(h, path, path_len);
    uint8_t *o = mem_at(h, out, 4);
    if (p == NULL || o == NULL)
        return WE_FAULT;
    char name[256];
    if (path_len == 0 || path_len >= sizeof name || memchr(p, '/', path_len))
        return WE_INVAL;
    memcpy(name, p, path_len);
    name[path_len] = '\0';
    int fd = openat(h->fds[3], name, O_RDONLY);
    if (fd < 0)
        return werr(errno);
    int g = mh_insert(h, fd);
    if (g < 0) {
        close(fd);
        return WE_IO;
    }
    st32(o, (uint32_t)g);
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_poll_oneoff(struct Z_wasi_snapshot_preview1_instance_t *w,
                                               uint32_t in, uint32_t out, uint32_t nsubs,
                                               uint32_t nevents)
{
    struct minihost *h = HOST(w);
    if (nsubs == 0 || nsubs > 16)
        return WE_INVAL;
    const uint8_t *subs = mem_at(h, in, (uint64_t)nsubs * 48);
    uint8_t *evs = mem_at(h, out, (uint64_t)nsubs * 32);
    uint8_t *nev = mem_at(h, nevents, 4);
    if (subs == NULL || evs == NULL || nev == NULL)
        return WE_FAULT;
    struct pollfd pfd[16];
    for (uint32_t i = 0; i < nsubs; i++) {
        const uint8_t *s = subs + 48 * i;
        uint8_t tag = s[8];
        if (tag != 1 && tag != 2)
            return WE_NOTSUP; /* clocks are not needed by the SDK */
        int hfd = mh_host_fd(h, (int)ld32(s + 16));
        pfd[i].fd = hfd;
        pfd[i].events = tag == 1 ? POLLIN : POLLOUT;
        pfd[i].revents = 0;
    }
    int r;
    do
        r = poll(pfd, nsubs, -1);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return werr(errno);
    uint32_t k = 0;
    for (uint32_t i = 0; i < nsubs; i++) {
        if (pfd[i].revents == 0)
            continue;
        const uint8_t *s = subs + 48 * i;
        uint8_t *e = evs + 32 * k++;
        memset(e, 0, 32);
        st64(e, ld64(s));                          /* userdata */
        st16(e + 8, (pfd[i].revents & POLLNVAL) ? WE_BADF : 0);
        e[10] = s[8];                              /* type */
        st16(e + 24, (pfd[i].revents & POLLHUP) ? 1 : 0);
    }
    st32(nev, k);
    return WE_OK;
}

uint32_t Z_wasi_snapshot_preview1Z_sock_shutdown(struct Z_wasi_snapshot_preview1_instance_t *w,
                                                 uint32_t fd, uint32_t how)
{
    struct minihost *h = HOST(w);
    FD_OR_BADF(h, fd, hfd);
    int mode;
    if (how == 1)
        mode = SHUT_RD;
    else if (how == 2)
        mode = SHUT_WR;
    else if (how == 3)
        mode = SHUT_RDWR;
    else
        return WE_INVAL;
    return shutdown(hfd, mode) < 0 ? werr(errno) : WE_OK;
}

/* ---- env: WATER v1 -------------------------------------------------------- */

static uint32_t hand_over(struct minihost *h, int *fd)
{
    if (*fd < 0)
        return (uint32_t)-WE_NOTCONN;
    int g = mh_insert(h, *fd);
    if (g < 0)
        return (uint32_t)-WE_IO;
    *fd = -1;
    return (uint32_t)g;
}

uint32_t Z_envZ_water_dial_fixed(struct Z_env_instance_t *env)
{
    env->h->dial_fixed_calls++;
    return hand_over(env->h, &env->h->dial_fd);
}

uint32_t Z_envZ_water_accept(struct Z_env_instance_t *env)
{
    env->h->accept_calls++;
    return hand_over(env->h, &env->h->accept_fd);
}

/* Concatenates a guest ciovec array into out (NUL-terminated), max 256. */
static int gather(struct minihost *h, uint32_t iovs, uint32_t n, char *out, size_t cap)
{
    struct iovec v[16];
    int cnt = 0;
    if (iovecs(h, iovs, n, v, &cnt) != WE_OK)
        return -1;
    size_t len = 0;
    for (int i = 0; i < cnt; i++) {
        if (len + v[i].iov_len > 256 || len + v[i].iov_len >= cap)
            return -1;
        memcpy(out + len, v[i].iov_base, v[i].iov_len);
        len += v[i].iov_len;
    }
    out[len] = '\0';
    return 0;
}

uint32_t Z_envZ_water_dial(struct Z_env_instance_t *env, uint32_t net_iovs, uint32_t net_n,
                           uint32_t addr_iovs, uint32_t addr_n)
{
    struct minihost *h = env->h;
    h->dial_calls++;
    if (gather(h, net_iovs, net_n, h->dial_network, sizeof h->dial_network) < 0 ||
        gather(h, addr_iovs, addr_n, h->dial_address, sizeof h->dial_address) < 0)
        return (uint32_t)-WE_INVAL;
    return hand_over(h, &h->dial_fd);
}

/* ---- env: WATER v0 -------------------------------------------------------- */

uint32_t Z_envZ_host_dial(struct Z_env_instance_t *env)
{
    env->h->dial_fixed_calls++;
    return hand_over(env->h, &env->h->dial_fd);
}

uint32_t Z_envZ_host_accept(struct Z_env_instance_t *env)
{
    env->h->accept_calls++;
    return hand_over(env->h, &env->h->accept_fd);
}

uint32_t Z_envZ_pull_config(struct Z_env_instance_t *env)
{
    struct minihost *h = env->h;
    h->pull_config_calls++;
    if (h->conf_file == NULL)
        return (uint32_t)-WE_ACCES;
    int fd = open(h->conf_file, O_RDONLY);
    if (fd < 0)
        return (uint32_t)-werr(errno);
    return hand_over(h, &fd);
}

void Z_envZ_host_defer(struct Z_env_instance_t *env)
{
    env->h->defer_calls++;
}
