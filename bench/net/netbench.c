/*
 * netbench.c - the traffic tool of the transport benchmark and the demo:
 * a sink/echo server and the clients that measure through it.
 *
 *   netbench server  --listen HOST:PORT
 *   netbench bulk    --connect HOST:PORT --size MiB [--mode sink|echo] [--reps N]
 *   netbench latency --connect HOST:PORT [--count N] [--warmup N] [--samples FILE]
 *   netbench idle    --connect HOST:PORT --count N [--hold SECONDS]
 *   netbench copy    --connect HOST:PORT --in FILE --out FILE
 *   netbench port
 *
 * Protocol: the client's first byte picks what the server does with the
 * connection.
 *   'P'               ping: the server answers one byte 'p', then reads
 *                     until EOF and closes.
 *   'S' len(8, LE)    sink: the server reads exactly len bytes, checks them
 *                     against the test pattern, answers one line
 *                     "ok BYTES\n" or "bad BYTES OFFSET\n", then waits for EOF.
 *   'E' len(8, LE)    echo: the server sends back every byte it reads (len
 *                     is informative, the echo runs until EOF), then
 *                     half-closes and closes at EOF.
 *
 * The test pattern is a pseudo-random byte sequence with a period of
 * PATLEN (a prime, so that chunks of any power-of-two size that arrive
 * reordered, duplicated or lost are caught); the receiving side compares
 * every byte against it, so a bulk run is verified byte for byte, beside the
 * byte count. `copy` echoes a file instead and writes what came back, for
 * checks with sha256sum.
 *
 * Output: one line of key=value pairs per result on stdout, for scripts;
 * errors on stderr and a non-zero exit status.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PATLEN 1048573u          /* period of the test pattern (prime) */
#define IOBUF (256u * 1024u)     /* per read/write */
#define SERVER_STACK (256u * 1024u)

static uint8_t *pattern;         /* PATLEN + IOBUF bytes: any window is contiguous */

/* ---- small helpers -------------------------------------------------------- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("netbench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void make_pattern(void)
{
    size_t n = PATLEN + IOBUF;
    pattern = malloc(n);
    if (!pattern)
        die("out of memory");
    uint64_t s = UINT64_C(0x5741544552); /* fixed seed: both ends agree */
    for (size_t i = 0; i < PATLEN; i += 8) {
        uint64_t w = splitmix(&s);
        for (size_t j = 0; j < 8 && i + j < PATLEN; j++)
            pattern[i + j] = (uint8_t)(w >> (8 * j));
    }
    memcpy(pattern + PATLEN, pattern, IOBUF); /* wrap-around window */
}

/* Position of the first byte of buf[0..len) that differs from the pattern
 * at stream offset pos, or -1 when all match. */
static int64_t pattern_mismatch(const uint8_t *buf, size_t len, uint64_t pos)
{
    size_t done = 0;
    while (done < len) {
        size_t at = (size_t)((pos + done) % PATLEN);
        size_t n = len - done;
        if (n > IOBUF)
            n = IOBUF;
        if (memcmp(buf + done, pattern + at, n) != 0) {
            for (size_t i = 0; i < n; i++)
                if (buf[done + i] != pattern[at + i])
                    return (int64_t)(done + i);
        }
        done += n;
    }
    return -1;
}

/* "HOST:PORT" (numeric IPv4) -> sockaddr. */
static void parse_addr(const char *text, struct sockaddr_in *sa)
{
    char host[64];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host)
        die("bad address '%s' (want HOST:PORT)", text);
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        die("bad port in '%s'", text);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        die("bad IPv4 address in '%s'", text);
}

static int connect_to(const struct sockaddr_in *sa)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    while (connect(fd, (const struct sockaddr *)sa, sizeof *sa) != 0) {
        if (errno != EINTR)
            die("connect: %s", strerror(errno));
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t r = send(fd, p, len, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            die("send: %s", strerror(errno));
        }
        p += r;
        len -= (size_t)r;
    }
}

/* Reads up to len bytes; returns 0 at EOF. Dies on errors. */
static size_t read_some(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t r = recv(fd, buf, len, 0);
        if (r >= 0)
            return (size_t)r;
        if (errno != EINTR)
            die("recv: %s", strerror(errno));
    }
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        die("fcntl: %s", strerror(errno));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- server ---------------------------------------------------------------- */

/* Server side I/O: errors end the connection, not the process. */
static bool srv_read_exact(int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t r = recv(fd, buf, len, 0);
        if (r == 0)
            return false;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        buf += r;
        len -= (size_t)r;
    }
    return true;
}

static bool srv_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t r = send(fd, buf, len, MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        buf += r;
        len -= (size_t)r;
    }
    return true;
}

static void srv_drain(int fd, uint8_t *buf)
{
    for (;;) {
        ssize_t r = recv(fd, buf, IOBUF, 0);
        if (r == 0 || (r < 0 && errno != EINTR))
            return;
    }
}

static void serve_sink(int fd, uint8_t *buf, uint64_t len)
{
    uint64_t got = 0;
    int64_t bad = -1;
    while (got < len) {
        size_t want = len - got < IOBUF ? (size_t)(len - got) : IOBUF;
        ssize_t r = recv(fd, buf, want, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (bad < 0) {
            int64_t m = pattern_mismatch(buf, (size_t)r, got);
            if (m >= 0)
                bad = (int64_t)got + m;
        }
        got += (uint64_t)r;
    }
    char line[80];
    int n;
    if (got == len && bad < 0)
        n = snprintf(line, sizeof line, "ok %" PRIu64 "\n", got);
    else
        n = snprintf(line, sizeof line, "bad %" PRIu64 " %" PRId64 "\n", got, bad);
    if (srv_write_all(fd, (const uint8_t *)line, (size_t)n))
        srv_drain(fd, buf);
}

static void serve_echo(int fd, uint8_t *buf)
{
    for (;;) {
        ssize_t r = recv(fd, buf, IOBUF, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (!srv_write_all(fd, buf, (size_t)r))
            return;
    }
    shutdown(fd, SHUT_WR);
}

static void *serve_conn(void *arg)
{
    int fd = (int)(intptr_t)arg;
    uint8_t hdr[9];
    uint8_t *buf = malloc(IOBUF);
    if (buf && srv_read_exact(fd, hdr, 1)) {
        switch (hdr[0]) {
        case 'P':
            if (srv_write_all(fd, (const uint8_t *)"p", 1))
                srv_drain(fd, buf);
            break;
        case 'S':
            if (srv_read_exact(fd, hdr + 1, 8))
                serve_sink(fd, buf, get_le64(hdr + 1));
            break;
        case 'E':
            if (srv_read_exact(fd, hdr + 1, 8))
                serve_echo(fd, buf);
            break;
        default:
            break;
        }
    }
    free(buf);
    close(fd);
    return NULL;
}

static int stop_pipe[2] = {-1, -1};

static void on_stop(int sig)
{
    int saved = errno;
    unsigned char b = (unsigned char)sig;
    ssize_t r = write(stop_pipe[1], &b, 1);
    (void)r;
    errno = saved;
}

static int cmd_server(const char *listen_addr)
{
    struct sockaddr_in sa;
    parse_addr(listen_addr, &sa);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind %s: %s", listen_addr, strerror(errno));
    if (listen(lfd, 1024) != 0)
        die("listen: %s", strerror(errno));
    socklen_t sl = sizeof sa;
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa.sin_addr, host, sizeof host);

    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        die("pipe: %s", strerror(errno));
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_stop;
    sigemptyset(&act.sa_mask);
    sigaction(SIGINT, &act, NULL);
    sigaction(SIGTERM, &act, NULL);
    signal(SIGPIPE, SIG_IGN);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SERVER_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

    fprintf(stderr, "listening on %s:%u\n", host, (unsigned)ntohs(sa.sin_port));
    fflush(stderr);
    for (;;) {
        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN},
                              {.fd = stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                poll(NULL, 0, 50);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t th;
        if (pthread_create(&th, &attr, serve_conn, (void *)(intptr_t)fd) != 0)
            close(fd);
    }
    pthread_attr_destroy(&attr);
    close(lfd);
    return 0; /* connection threads end with the process */
}

/* ---- echo engine: send a source while receiving into a sink ---------------- */

typedef struct echo_io {
    /* Fills up to cap bytes for stream offset pos; returns the count. */
    size_t (*source)(void *user, uint64_t pos, const uint8_t **data, size_t cap);
    /* Consumes received bytes at stream offset pos; false: stop (bad data). */
    bool (*sink)(void *user, uint64_t pos, const uint8_t *data, size_t len);
    void *user;
    double first_byte_at; /* when the first echoed byte arrived */
} echo_io;

/* After a failed non-blocking send: fine if it would block, else fatal. */
static void send_error_check(void)
{
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        die("echo: send: %s", strerror(errno));
}

/* Sends `total` bytes from io->source (after the header) while receiving
 * echoed bytes into io->sink, until `total` came back and the peer closed.
 * Returns the bytes received. */
static uint64_t echo_run(int fd, const uint8_t *hdr, size_t hdr_len, uint64_t total,
                         echo_io *io)
{
    uint8_t *rbuf = malloc(IOBUF);
    if (!rbuf)
        die("out of memory");
    set_nonblock(fd);
    size_t hdr_off = 0;
    uint64_t sent = 0, got = 0;
    bool shut = false, eof = false;
    const uint8_t *chunk = NULL;
    size_t chunk_len = 0, chunk_off = 0;
    io->first_byte_at = 0;
    while (!eof) {
        bool want_send = !shut;
        struct pollfd p = {.fd = fd, .events = POLLIN | (want_send ? POLLOUT : 0)};
        int pr = poll(&p, 1, 30000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            die("echo: no progress for 30 s (sent %" PRIu64 ", received %" PRIu64 ")",
                sent, got);
        }
        if (want_send && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            for (;;) {
                if (hdr_off < hdr_len) {
                    ssize_t r = send(fd, hdr + hdr_off, hdr_len - hdr_off, MSG_NOSIGNAL);
                    if (r < 0) {
                        send_error_check();
                        break;
                    }
                    hdr_off += (size_t)r;
                    continue;
                }
                if (sent == total) {
                    shutdown(fd, SHUT_WR);
                    shut = true;
                    break;
                }
                if (chunk_off == chunk_len) {
                    size_t cap = total - sent < IOBUF ? (size_t)(total - sent) : IOBUF;
                    chunk_len = io->source(io->user, sent, &chunk, cap);
                    chunk_off = 0;
                    if (chunk_len == 0)
                        die("echo: the source ended early at %" PRIu64, sent);
                }
                ssize_t r = send(fd, chunk + chunk_off, chunk_len - chunk_off, MSG_NOSIGNAL);
                if (r < 0) {
                    send_error_check();
                    break;
                }
                chunk_off += (size_t)r;
                sent += (uint64_t)r;
            }
        }
        if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
            for (;;) {
                ssize_t r = recv(fd, rbuf, IOBUF, 0);
                if (r < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                        break;
                    die("echo: recv: %s", strerror(errno));
                }
                if (r == 0) {
                    eof = true;
                    break;
                }
                if (got == 0)
                    io->first_byte_at = now_s();
                if (!io->sink(io->user, got, rbuf, (size_t)r))
                    die("echo: the data that came back differs at offset %" PRIu64, got);
                got += (uint64_t)r;
            }
        }
    }
    free(rbuf);
    return got;
}

static size_t pattern_source(void *user, uint64_t pos, const uint8_t **data, size_t cap)
{
    (void)user;
    *data = pattern + pos % PATLEN;
    return cap; /* cap <= IOBUF: the window is contiguous */
}

static bool pattern_sink(void *user, uint64_t pos, const uint8_t *data, size_t len)
{
    (void)user;
    return pattern_mismatch(data, len, pos) < 0;
}

/* ---- bulk -------------------------------------------------------------------- */

static double bulk_sink(const struct sockaddr_in *sa, uint64_t total)
{
    double t0 = now_s();
    int fd = connect_to(sa);
    uint8_t hdr[9] = {'S'};
    put_le64(hdr + 1, total);
    write_all(fd, hdr, sizeof hdr);
    uint64_t sent = 0;
    while (sent < total) {
        size_t n = total - sent < IOBUF ? (size_t)(total - sent) : IOBUF;
        write_all(fd, pattern + sent % PATLEN, n);
        sent += n;
    }
    char line[80];
    size_t have = 0;
    while (have < sizeof line - 1 && (have == 0 || line[have - 1] != '\n')) {
        size_t r = read_some(fd, line + have, sizeof line - 1 - have);
        if (r == 0)
            break;
        have += r;
    }
    double t1 = now_s();
    line[have] = '\0';
    close(fd);
    uint64_t got;
    if (sscanf(line, "ok %" SCNu64, &got) != 1 || got != total) {
        line[strcspn(line, "\n")] = '\0';
        die("sink: the server reported '%s' for %" PRIu64 " bytes sent", line, total);
    }
    return t1 - t0;
}

static double bulk_echo(const struct sockaddr_in *sa, uint64_t total)
{
    double t0 = now_s();
    int fd = connect_to(sa);
    uint8_t hdr[9] = {'E'};
    put_le64(hdr + 1, total);
    echo_io io = {pattern_source, pattern_sink, NULL, 0};
    uint64_t got = echo_run(fd, hdr, sizeof hdr, total, &io);
    double t1 = now_s();
    close(fd);
    if (got != total)
        die("echo: %" PRIu64 " bytes came back of %" PRIu64, got, total);
    return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmd_bulk(const char *addr, double mib, const char *mode, int reps)
{
    struct sockaddr_in sa;
    parse_addr(addr, &sa);
    bool echo = !strcmp(mode, "echo");
    if (!echo && strcmp(mode, "sink"))
        die("--mode must be sink or echo");
    if (mib <= 0 || reps < 1 || reps > 100)
        die("bad --size or --reps");
    uint64_t total = (uint64_t)(mib * 1048576.0);
    double *rate = calloc((size_t)reps, sizeof *rate);
    if (!rate)
        die("out of memory");
    for (int i = 0; i < reps; i++) {
        double s = echo ? bulk_echo(&sa, total) : bulk_sink(&sa, total);
        rate[i] = (double)total / 1048576.0 / s;
        printf("run mode=%s bytes=%" PRIu64 " seconds=%.4f mibps=%.1f verified=yes\n",
               mode, total, s, rate[i]);
        fflush(stdout);
    }
    qsort(rate, (size_t)reps, sizeof *rate, cmp_double);
    printf("bulk mode=%s bytes=%" PRIu64 " reps=%d median_mibps=%.1f best_mibps=%.1f "
           "verified=yes\n",
           mode, total, reps, rate[reps / 2], rate[reps - 1]);
    free(rate);
    return 0;
}

/* ---- latency ------------------------------------------------------------------ */

/* Connect, send 'P', wait for 'p': seconds from before connect() to the byte. */
static double ping_once(const struct sockaddr_in *sa, int *keep_fd)
{
    double t0 = now_s();
    int fd = connect_to(sa);
    write_all(fd, "P", 1);
    char c;
    size_t r = read_some(fd, &c, 1);
    double t1 = now_s();
    if (r != 1 || c != 'p')
        die("ping: no answer (the chain closed the connection)");
    if (keep_fd)
        *keep_fd = fd;
    else
        close(fd);
    return t1 - t0;
}

static int cmd_latency(const char *addr, int count, int warmup, const char *samples)
{
    struct sockaddr_in sa;
    parse_addr(addr, &sa);
    if (count < 1 || warmup < 0)
        die("bad --count or --warmup");
    for (int i = 0; i < warmup; i++)
        ping_once(&sa, NULL);
    double *us = calloc((size_t)count, sizeof *us);
    if (!us)
        die("out of memory");
    double sum = 0;
    for (int i = 0; i < count; i++) {
        us[i] = ping_once(&sa, NULL) * 1e6;
        sum += us[i];
    }
    if (samples) {
        FILE *f = fopen(samples, "a");
        if (!f)
            die("%s: %s", samples, strerror(errno));
        for (int i = 0; i < count; i++)
            fprintf(f, "%.1f\n", us[i]);
        if (fclose(f) != 0)
            die("%s: %s", samples, strerror(errno));
    }
    qsort(us, (size_t)count, sizeof *us, cmp_double);
    int p99 = (int)((count * 99 + 99) / 100) - 1; /* nearest rank */
    printf("latency count=%d median_us=%.0f p99_us=%.0f mean_us=%.0f min_us=%.0f "
           "max_us=%.0f\n",
           count, (us[(count - 1) / 2] + us[count / 2]) / 2, us[p99], sum / count, us[0],
           us[count - 1]);
    free(us);
    return 0;
}

/* ---- idle ------------------------------------------------------------------------ */

static int cmd_idle(const char *addr, int count, int hold)
{
    struct sockaddr_in sa;
    parse_addr(addr, &sa);
    if (count < 1 || hold < 1)
        die("bad --count or --hold");
    int *fds = calloc((size_t)count, sizeof *fds);
    if (!fds)
        die("out of memory");
    double t0 = now_s();
    for (int i = 0; i < count; i++)
        ping_once(&sa, &fds[i]); /* answered: the whole chain is up */
    printf("ready count=%d seconds=%.3f\n", count, now_s() - t0);
    fflush(stdout);
    /* Hold until stdin closes, a signal ends us, or the bound passes. */
    struct pollfd p = {.fd = 0, .events = POLLIN};
    double end = now_s() + hold;
    while (now_s() < end) {
        int r = poll(&p, 1, 200);
        if (r > 0) {
            char b[64];
            if (read(0, b, sizeof b) <= 0)
                break;
        }
    }
    for (int i = 0; i < count; i++)
        close(fds[i]);
    free(fds);
    printf("closed count=%d\n", count);
    return 0;
}

/* ---- copy (demo): echo a file and keep what came back ----------------------------- */

typedef struct file_io {
    FILE *in, *out;
    uint8_t *buf;
} file_io;

static size_t file_source(void *user, uint64_t pos, const uint8_t **data, size_t cap)
{
    (void)pos;
    file_io *f = user;
    size_t n = fread(f->buf, 1, cap, f->in);
    *data = f->buf;
    return n;
}

static bool file_sink(void *user, uint64_t pos, const uint8_t *data, size_t len)
{
    (void)pos;
    file_io *f = user;
    if (fwrite(data, 1, len, f->out) != len)
        die("write: %s", strerror(errno));
    return true;
}

static int cmd_copy(const char *addr, const char *in_path, const char *out_path)
{
    struct sockaddr_in sa;
    parse_addr(addr, &sa);
    file_io f = {fopen(in_path, "rb"), fopen(out_path, "wb"), malloc(IOBUF)};
    if (!f.in)
        die("%s: %s", in_path, strerror(errno));
    if (!f.out)
        die("%s: %s", out_path, strerror(errno));
    if (!f.buf)
        die("out of memory");
    if (fseeko(f.in, 0, SEEK_END) != 0)
        die("%s: cannot seek", in_path);
    uint64_t total = (uint64_t)ftello(f.in);
    rewind(f.in);

    double t0 = now_s();
    int fd = connect_to(&sa);
    double t_conn = now_s();
    uint8_t hdr[9] = {'E'};
    put_le64(hdr + 1, total);
    echo_io io = {file_source, file_sink, &f, 0};
    uint64_t got = echo_run(fd, hdr, sizeof hdr, total, &io);
    double t1 = now_s();
    close(fd);
    if (fclose(f.out) != 0)
        die("%s: %s", out_path, strerror(errno));
    fclose(f.in);
    free(f.buf);
    double secs = t1 - t0;
    printf("copy bytes_sent=%" PRIu64 " bytes_received=%" PRIu64 " connect_ms=%.3f "
           "first_byte_ms=%.3f seconds=%.3f mibps=%.1f\n",
           total, got, (t_conn - t0) * 1e3,
           io.first_byte_at > 0 ? (io.first_byte_at - t0) * 1e3 : -1.0, secs,
           (double)total / 1048576.0 / secs);
    return got == total ? 0 : 1;
}

/* ---- port: a free port for programs that cannot report theirs ---------------------- */

static int cmd_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    parse_addr("127.0.0.1:0", &sa);
    socklen_t sl = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
        die("cannot bind 127.0.0.1:0: %s", strerror(errno));
    printf("%u\n", (unsigned)ntohs(sa.sin_port));
    close(fd);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------- */

static const char usage[] =
    "usage:\n"
    "  netbench server  --listen HOST:PORT\n"
    "  netbench bulk    --connect HOST:PORT --size MiB [--mode sink|echo] [--reps N]\n"
    "  netbench latency --connect HOST:PORT [--count N] [--warmup N] [--samples FILE]\n"
    "  netbench idle    --connect HOST:PORT --count N [--hold SECONDS]\n"
    "  netbench copy    --connect HOST:PORT --in FILE --out FILE\n"
    "  netbench port\n"
    "\n"
    "server: sink/echo/ping server (prints 'listening on HOST:PORT' to stderr,\n"
    "        port 0 picks one; SIGINT/SIGTERM stop it).\n"
    "bulk:   sends MiB of test pattern one way (sink) or both ways (echo), every\n"
    "        byte checked; prints MiB/s per run and the median.\n"
    "latency: N sequential connects, each timed until one byte came back;\n"
    "        --samples appends every time (microseconds) to FILE, one a line.\n"
    "idle:   opens N connections (each answered once), holds them until stdin\n"
    "        closes or SECONDS (default 60) pass.\n"
    "copy:   echoes FILE through the server and writes what came back.\n"
    "port:   prints a port of 127.0.0.1 that was free a moment ago.\n";

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    const char *listen_addr = NULL, *connect_addr = NULL, *mode = "sink";
    const char *in_path = NULL, *out_path = NULL, *samples = NULL;
    double size = 0;
    int reps = 1, count = 200, warmup = 5, hold = 60;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (i + 1 >= argc)
            die("%s needs a value (--help for usage)", o);
        const char *v = argv[++i];
        if (!strcmp(o, "--listen"))
            listen_addr = v;
        else if (!strcmp(o, "--connect"))
            connect_addr = v;
        else if (!strcmp(o, "--mode"))
            mode = v;
        else if (!strcmp(o, "--size"))
            size = atof(v);
        else if (!strcmp(o, "--reps"))
            reps = atoi(v);
        else if (!strcmp(o, "--count"))
            count = atoi(v);
        else if (!strcmp(o, "--warmup"))
            warmup = atoi(v);
        else if (!strcmp(o, "--hold"))
            hold = atoi(v);
        else if (!strcmp(o, "--samples"))
            samples = v;
        else if (!strcmp(o, "--in"))
            in_path = v;
        else if (!strcmp(o, "--out"))
            out_path = v;
        else
            die("unknown option %s (--help for usage)", o);
    }
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(cmd, "port"))
        return cmd_port();
    if (!strcmp(cmd, "server")) {
        if (!listen_addr)
            die("server needs --listen");
        make_pattern();
        return cmd_server(listen_addr);
    }
    if (!connect_addr)
        die("%s needs --connect (--help for usage)", cmd);
    if (!strcmp(cmd, "bulk")) {
        make_pattern();
        return cmd_bulk(connect_addr, size, mode, reps);
    }
    if (!strcmp(cmd, "latency"))
        return cmd_latency(connect_addr, count, warmup, samples);
    if (!strcmp(cmd, "idle"))
        return cmd_idle(connect_addr, count, hold);
    if (!strcmp(cmd, "copy")) {
        if (!in_path || !out_path)
            die("copy needs --in and --out");
        return cmd_copy(connect_addr, in_path, out_path);
    }
    die("unknown command '%s' (--help for usage)", cmd);
}
