/*
 * watm_runner.h - runner mode: modules that drive their own networking.
 *
 * A transport module (watm.h) serves one connection per instance and never
 * sees a listening socket. A *runner* module is run once by `water run`
 * (or water_runner_run() in libwater): the host instantiates it, runs
 * `_start`, then calls its entry function, which runs until the module is
 * done or the host stops it (SIGINT/SIGTERM on `water run`: the host
 * interrupts the module wherever it is; no cleanup code runs, the host
 * closes every fd). The module opens its own sockets through the host's
 * water_ext_v1 extension, and the host allows only the addresses it was
 * told to (`--allow-listen`, `--allow-dial`; nothing by default).
 *
 * One instance can serve many clients at once: make every fd non-blocking
 * and multiplex them with the event loop below (one poll_oneoff over all of
 * them per round).
 *
 *   #include "watm_runner.h"
 *
 *   static void on_listener(struct watm_loop *loop, int fd, unsigned ev, void *u)
 *   {
 *       int c;
 *       while ((c = watm_accept(fd)) >= 0)
 *           watm_loop_add(loop, c, WATM_EV_READ, on_client, NULL);
 *   }
 *
 *   static int serve(void)
 *   {
 *       int fd = watm_tcp_listen("127.0.0.1:9005");
 *       if (fd < 0)
 *           return fd;                  // e.g. -WATM_EACCES: not allowed
 *       struct watm_loop *loop = watm_loop_new();
 *       watm_loop_add(loop, fd, WATM_EV_READ, on_listener, NULL);
 *       return watm_loop_run(loop);
 *   }
 *   WATM_RUNNER_MAIN(serve);            // exports "main", the default entry
 *
 * Build: compile with the SDK's flags and link with libwatm.a exactly as a
 * transport (`-nostartfiles -Wl,--no-entry`); the SDK provides `_start`.
 * examples/echo-server is a complete module.
 *
 * All results follow the WATM convention: >= 0 is success, a negative value
 * is minus a WASI errno (WATM_E* in watm.h). Everything here is wasm32-only
 * (it calls WASI and the host).
 */
#ifndef WATM_RUNNER_H
#define WATM_RUNNER_H

#include "watm.h"

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* WASI errno values the socket calls add to watm.h's. */
#define WATM_EADDRINUSE 3
#define WATM_ECONNREFUSED 14
#define WATM_EMFILE 33
#define WATM_ETIMEDOUT 73

/* ---- the entry function --------------------------------------------------- */

/* Runs the module's C constructors once, then fn; returns fn's result. */
int watm_runner_enter(int (*fn)(void));

/*
 * WATM_RUNNER_ENTRY(name, fn): exports `name`, a function () -> i32 that
 * runs `int fn(void)` (the host reports a non-zero result as a failure).
 * WATM_RUNNER_MAIN(fn) exports it as "main", the host's default entry.
 * Use either once, at file scope, followed by a semicolon.
 */
#if defined(__wasm__)
#define WATM__ENTRY_ATTR(name) __attribute__((export_name(#name)))
#else
#define WATM__ENTRY_ATTR(name)
#endif
#define WATM_RUNNER_ENTRY(name, fn)                                               \
    WATM__ENTRY_ATTR(name) int watm__entry_##name(void)                           \
    {                                                                             \
        return watm_runner_enter(fn);                                             \
    }                                                                             \
    extern int watm__entry_##name(void)
#define WATM_RUNNER_MAIN(fn) WATM_RUNNER_ENTRY(main, fn)

/* ---- sockets through the host -------------------------------------------- */

/* Listens on "host:port" (water_ext_v1.tcp_listen). Returns the listening
 * fd, already non-blocking, or -WATM_EACCES when the host does not allow the
 * address, -WATM_EINVAL for a bad address, or another -errno. */
int watm_tcp_listen(const char *addr);

/* Connects to "host:port" (water_ext_v1.tcp_connect; the host waits for the
 * connection, up to its dial timeout). Returns the connected fd, already
 * non-blocking, or -WATM_EACCES when the host does not allow the address, or
 * another -errno (-WATM_ECONNREFUSED...). */
int watm_tcp_connect(const char *addr);

/* Accepts the next connection waiting on a listening fd. Returns its fd,
 * non-blocking, or -WATM_EAGAIN when none is waiting (wait with the loop),
 * or another -errno. */
int watm_accept(int listen_fd);

/* ---- non-blocking I/O ------------------------------------------------------ */

/* One read: the byte count, 0 at end of stream, -WATM_EAGAIN when nothing is
 * there yet, or another -errno (-WATM_ECONNRESET...). */
ssize_t watm_read(int fd, void *buf, size_t len);
/* One write: the bytes taken (maybe fewer than len), -WATM_EAGAIN when the
 * socket's buffer is full, or another -errno (-WATM_EPIPE...). */
ssize_t watm_write(int fd, const void *buf, size_t len);
/* Ends the write side (the peer reads EOF); reading goes on. 0 or -errno. */
int watm_shutdown_write(int fd);
/* Closes the fd. Remove it from any loop first. 0 or -errno. */
int watm_close(int fd);
/* Makes an fd non-blocking (the three calls above set it already). */
int watm_set_nonblock(int fd);

/* ---- config and output ---------------------------------------------------- */

/* The config the host gave (/conf/watm.cfg) as a malloc'd buffer the caller
 * frees: *cfg = NULL, *len = 0 when there is none. 0 or -errno. Use
 * watm_json_string() (watm.h) to read members of a JSON config. */
int watm_runner_config(uint8_t **cfg, size_t *len);

/* Writes s to stdout at once (one write(2) on the host for a short line, no
 * libc buffering), e.g. "> CONNECTED\n". Best effort: no stdout, nothing. */
void watm_print(const char *s);

/* ---- the event loop ------------------------------------------------------- */

/* Interest and readiness bits. */
#define WATM_EV_READ 1u  /* readable: data, a connection to accept, EOF, or an error */
#define WATM_EV_WRITE 2u /* writable, or an error to collect by writing */
#define WATM_EV_HUP 4u   /* (readiness only) the peer hung up */
#define WATM_EV_ERROR 8u /* (readiness only) the host reported an error on the fd */

struct watm_loop;

/* Called when fd is ready. `events` holds the interest bits that are ready
 * plus HUP/ERROR; after HUP or ERROR read or write to learn the outcome.
 * The callback may add, change and remove any fd, itself included, and stop
 * the loop. */
typedef void (*watm_loop_fn)(struct watm_loop *loop, int fd, unsigned events,
                             void *user);

/* A new, empty loop, or NULL when out of memory. */
struct watm_loop *watm_loop_new(void);
/* Frees the loop (not the fds: close them yourself). */
void watm_loop_free(struct watm_loop *loop);

/* Watches fd for `interest` (READ, WRITE, both, or 0 to pause). 0,
 * -WATM_EBUSY when fd is already watched, -WATM_EBADF, -WATM_ENOMEM. */
int watm_loop_add(struct watm_loop *loop, int fd, unsigned interest, watm_loop_fn fn,
                  void *user);
/* Changes what fd is watched for (0 pauses it: backpressure). 0 or
 * -WATM_ENOENT when fd is not watched. */
int watm_loop_set(struct watm_loop *loop, int fd, unsigned interest);
/* Stops watching fd (no callback for it after this, even in the current
 * round). Does not close it. 0 or -WATM_ENOENT. */
int watm_loop_del(struct watm_loop *loop, int fd);
/* The `user` pointer of a watched fd, or NULL. */
void *watm_loop_user(const struct watm_loop *loop, int fd);

/* One round: waits until a watched fd is ready or timeout_ms passes (-1:
 * no limit), then calls the callbacks of every ready fd. Returns the number
 * of callbacks made (0 on timeout, or when no fd has any interest and
 * timeout_ms is -1: nothing could ever happen), or -errno. */
int watm_loop_poll(struct watm_loop *loop, int timeout_ms);
/* Rounds until watm_loop_stop() or until no fd has any interest. 0 or
 * -errno. */
int watm_loop_run(struct watm_loop *loop);
/* Makes watm_loop_run() return after the current round. */
void watm_loop_stop(struct watm_loop *loop);

#ifdef __cplusplus
}
#endif
#endif /* WATM_RUNNER_H */
