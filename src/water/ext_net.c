/*
 * ext_net.c - networking for modules that drive their own (runner mode,
 * docs/host-extension.md "Networking for runner mode"):
 *
 *   water_ext_v1.tcp_connect(addr, addr_len) -> fd   connect to "host:port"
 *   water_ext_v1.tcp_listen(addr, addr_len)  -> fd   listen on "host:port"
 *
 * and their water-rs "v1 preview" equivalents (WATM-ABI.md, end):
 *
 *   env.connect_tcp(ptr, len)   -> fd
 *   env.create_listen(ptr, len) -> fd
 *
 * whose argument is a bincode record {addr: string, port: u32, name: string}
 * (a string is a u64 little-endian length, then that many UTF-8 bytes; the
 * port is a u32 little-endian).
 *
 * Invariants:
 *  - every guest pointer and length goes through wasm_memory_ptr() (one
 *    checked door) before a byte is read; no host buffer is sized from a
 *    guest value; a u64 length is compared with what is left of the record
 *    before anything else is done with it;
 *  - nothing here traps because of an argument: a bad buffer gives -EFAULT,
 *    a bad record or string -EINVAL, an over-long buffer -EMSGSIZE;
 *  - every address is checked against the transport's allow-lists
 *    (allow_dial for connects, allow_listen for listens; deny all when none
 *    is configured) before any socket exists; a refusal returns -EACCES and
 *    logs an error that names the address;
 *  - the functions use only the caller's water_guest (for the options and
 *    the log) and its WASI context (for the fd table), so they are safe in
 *    every instance the host makes, connections and runners alike.
 *
 * Connects block the calling instance for at most dial_timeout_ms.
 */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_ADDR 255              /* bytes of a "host:port" string */
#define MAX_BUFFER (16u << 20)    /* water_ext_v1 cap per call */
#define MAX_NAME_SHOWN 64         /* bytes of a record's name kept for logs */

typedef enum net_op { NET_CONNECT, NET_LISTEN } net_op;

/* An address is printable ASCII without spaces: rules out NULs, control
 * bytes and text that would garble the log line naming it. */
static bool printable(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

/* The host's errno after a failed connect or listen, as a WASI errno. */
static int32_t wasi_error_of(const water_error *e, int host_errno)
{
    if (e->code == WATER_ERR_TIMEOUT)
        return WASI_ETIMEDOUT;
    if (e->code == WATER_ERR_ARGS)
        return WASI_EINVAL;
    return host_errno ? wasi_errno_from_host(host_errno) : WASI_EIO;
}

/* Checks `address` against the allow-list, opens the socket and gives it to
 * the module. `label` names the import in log lines. Returns the guest fd or
 * minus a WASI errno. */
static int32_t net_open(wasm_instance *caller, net_op op, const char *address,
                        const char *label)
{
    water_guest *g = water_guest_of(caller);
    wasi_ctx *w = wasi_ctx_of(caller);
    if (!g || !g->t || !w)
        return -WASI_ENOSYS; /* an instance the host made without a guest */
    const water_transport *t = g->t;
    bool listen = op == NET_LISTEN;
    bool ok = listen ? water_listen_allowed(t, address) : water_address_allowed(t, address);
    if (!ok) {
        water_log(t, WATER_LOG_ERROR,
                  "%s: the module may not %s %s: not in the allow-list (%s)", label,
                  listen ? "listen on" : "connect to", address,
                  listen ? "--allow-listen" : "--allow-dial");
        return -WASI_EACCES;
    }
    water_error err = {WATER_OK, ""};
    char bound[128] = "";
    errno = 0;
    int fd = listen ? water_listen_tcp(address, bound, sizeof bound, &err)
                    : water_connect_tcp(address, t->opts.dial_timeout_ms, &err);
    if (fd < 0) {
        int32_t e = wasi_error_of(&err, errno);
        water_log(t, WATER_LOG_WARN, "%s: %s (%s to the module)", label, err.message,
                  wasi_errno_name(e));
        return -e;
    }
    uint32_t guest;
    int e = wasi_fd_insert(w, fd, WASI_FD_SOCKET_STREAM, &guest);
    if (e) {
        close(fd);
        water_log(t, WATER_LOG_WARN, "%s %s: cannot give the socket to the module: %s",
                  label, address, wasi_strerror(e));
        return -e;
    }
    if (listen)
        water_log(t, WATER_LOG_INFO, "%s: the module listens on %s (fd %u)", label, bound,
                  guest);
    else
        water_log(t, WATER_LOG_INFO, "%s: the module connected to %s (fd %u)", label,
                  address, guest);
    return (int32_t)guest;
}

/* ---- water_ext_v1 ------------------------------------------------------ */

/* Copies the guest string (ptr, len) into out[0..MAX_ADDR] with a NUL.
 * Returns 0 or a WASI errno. */
static int guest_address(wasm_instance *inst, uint32_t ptr, uint32_t len, char *out)
{
    if (len > MAX_BUFFER)
        return WASI_EMSGSIZE;
    const uint8_t *p = wasm_memory_ptr(inst, ptr, len);
    if (!p)
        return WASI_EFAULT;
    if (len == 0 || len > MAX_ADDR || !printable(p, len))
        return WASI_EINVAL;
    memcpy(out, p, len);
    out[len] = '\0';
    return 0;
}

static wasm_trap ext_net(wasm_instance *caller, wasm_slot *s, net_op op, const char *label)
{
    char address[MAX_ADDR + 1];
    int e = guest_address(caller, s[0].u32, s[1].u32, address);
    if (e) {
        water_guest *g = water_guest_of(caller);
        water_log(g ? g->t : NULL, WATER_LOG_WARN,
                  "%s: bad address argument (pointer %u, length %u): %s", label, s[0].u32,
                  s[1].u32, wasi_errno_name(e));
        s[0].i32 = -e;
        return WASM_TRAP_NONE;
    }
    s[0].i32 = net_open(caller, op, address, label);
    return WASM_TRAP_NONE;
}

static wasm_trap imp_tcp_connect(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    return ext_net(caller, s, NET_CONNECT, "tcp_connect");
}

static wasm_trap imp_tcp_listen(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    return ext_net(caller, s, NET_LISTEN, "tcp_listen");
}

wasm_err water_ext_net_define(wasm_linker *l)
{
    wasm_err e = wasm_linker_define_func(l, "water_ext_v1", "tcp_connect", "ii->i",
                                         imp_tcp_connect, NULL);
    if (e == WASM_OK)
        e = wasm_linker_define_func(l, "water_ext_v1", "tcp_listen", "ii->i",
                                    imp_tcp_listen, NULL);
    return e;
}

/* ---- water-rs v1 preview: bincode records ------------------------------ */

typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static bool read_u32(reader *r, uint32_t *v)
{
    if (r->left < 4)
        return false;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
         (uint32_t)r->p[3] << 24;
    r->p += 4;
    r->left -= 4;
    return true;
}

/* A bincode string: its bytes stay in guest memory (*s, *n); the length is
 * checked against what is left of the record before it is used. */
static bool read_string(reader *r, const uint8_t **s, size_t *n)
{
    uint32_t lo, hi;
    if (!read_u32(r, &lo) || !read_u32(r, &hi))
        return false;
    uint64_t len = (uint64_t)hi << 32 | lo;
    if (len > r->left)
        return false;
    *s = r->p;
    *n = (size_t)len;
    r->p += len;
    r->left -= (size_t)len;
    return true;
}

/* Decodes {addr, port, name} into "host:port" ("[host]:port" for an IPv6
 * literal) and the name (cut to fit, for logs). Trailing bytes after the
 * record are ignored, as bincode does. Returns 0 or WASI_EINVAL. */
static int parse_record(const uint8_t *rec, size_t len, char *address,
                        char name[MAX_NAME_SHOWN + 1])
{
    reader r = {rec, len};
    const uint8_t *host, *nm;
    size_t host_len, nm_len;
    uint32_t port;
    if (!read_string(&r, &host, &host_len) || !read_u32(&r, &port) ||
        !read_string(&r, &nm, &nm_len))
        return WASI_EINVAL;
    if (host_len == 0 || host_len > MAX_ADDR - 8 || !printable(host, host_len) ||
        port > 65535)
        return WASI_EINVAL;
    bool v6 = memchr(host, ':', host_len) != NULL;
    snprintf(address, MAX_ADDR + 1, "%s%.*s%s:%u", v6 ? "[" : "", (int)host_len,
             (const char *)host, v6 ? "]" : "", port);
    size_t shown = nm_len < MAX_NAME_SHOWN ? nm_len : MAX_NAME_SHOWN;
    for (size_t i = 0; i < shown; i++) /* logs only: keep it printable */
        name[i] = nm[i] >= 0x20 && nm[i] < 0x7f ? (char)nm[i] : '?';
    name[shown] = '\0';
    return 0;
}

static wasm_trap preview_net(wasm_instance *caller, wasm_slot *s, net_op op,
                             const char *label)
{
    uint32_t ptr = s[0].u32, len = s[1].u32;
    water_guest *g = water_guest_of(caller);
    const water_transport *t = g ? g->t : NULL;
    char address[MAX_ADDR + 1], name[MAX_NAME_SHOWN + 1];
    int e = len > MAX_BUFFER ? WASI_EMSGSIZE : 0;
    const uint8_t *rec = e ? NULL : wasm_memory_ptr(caller, ptr, len);
    if (!e && !rec)
        e = WASI_EFAULT;
    if (!e)
        e = parse_record(rec, len, address, name);
    if (e) {
        water_log(t, WATER_LOG_WARN,
                  "%s: bad record (pointer %u, length %u): %s; want bincode "
                  "{addr: string, port: u32, name: string}",
                  label, ptr, len,
                  e == WASI_EFAULT ? "not inside the module's memory"
                  : e == WASI_EMSGSIZE ? "too long"
                                       : "malformed (a length past its end, a bad address or port)");
        s[0].i32 = -e;
        return WASM_TRAP_NONE;
    }
    water_log(t, WATER_LOG_DEBUG, "%s: %s (name \"%s\")", label, address, name);
    s[0].i32 = net_open(caller, op, address, label);
    return WASM_TRAP_NONE;
}

static wasm_trap imp_connect_tcp(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    return preview_net(caller, s, NET_CONNECT, "connect_tcp");
}

static wasm_trap imp_create_listen(wasm_instance *caller, void *env, wasm_slot *s)
{
    (void)env;
    return preview_net(caller, s, NET_LISTEN, "create_listen");
}

wasm_err water_preview_net_define(wasm_linker *l)
{
    wasm_err e = wasm_linker_define_func(l, "env", "connect_tcp", "ii->i",
                                         imp_connect_tcp, NULL);
    if (e == WASM_OK)
        e = wasm_linker_define_func(l, "env", "create_listen", "ii->i", imp_create_listen,
                                    NULL);
    return e;
}
