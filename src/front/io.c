/*
 * io.c - bounded reads and writes for the front ends' handshakes: every
 * wait has a deadline and may be cut short by a stop fd.
 */
#define _GNU_SOURCE
#include "front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t front_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for `events` on fd; 0 when ready, else minus an errno value. */
static int wait_for(int fd, short events, int64_t deadline, int stop_fd)
{
    for (;;) {
        int64_t left = deadline - front_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p[2] = {{.fd = fd, .events = events},
                              {.fd = stop_fd, .events = POLLIN}};
        int rc = poll(p, stop_fd >= 0 ? 2 : 1, left > 60000 ? 60000 : (int)left);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (rc == 0)
            continue; /* the loop checks the deadline */
        if (stop_fd >= 0 && p[1].revents)
            return -ECANCELED;
        if (p[0].revents & POLLNVAL)
            return -EBADF;
        return 0; /* ready, or an error/hang-up the next call reports */
    }
}

int front_read_exact(int fd, void *buf, size_t n, int64_t deadline, int stop_fd)
{
    uint8_t *p = buf;
    while (n > 0) {
        int rc = wait_for(fd, POLLIN, deadline, stop_fd);
        if (rc < 0)
            return rc;
        ssize_t got = read(fd, p, n);
        if (got == 0)
            return -ECONNRESET;
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -errno;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int front_write_all(int fd, const void *buf, size_t n, int64_t deadline, int stop_fd)
{
    const uint8_t *p = buf;
    while (n > 0) {
        int rc = wait_for(fd, POLLOUT, deadline, stop_fd);
        if (rc < 0)
            return rc;
        ssize_t put = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (put < 0 && errno == ENOTSOCK)
            put = write(fd, p, n);
        if (put < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return -errno;
        }
        p += put;
        n -= (size_t)put;
    }
    return 0;
}

bool front_peer_address(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return false;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&ss;
        if (!inet_ntop(AF_INET, &s->sin_addr, host, sizeof host))
            return false;
        return snprintf(out, len, "%s:%u", host, ntohs(s->sin_port)) < (int)len;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&ss;
        if (!inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host))
            return false;
        return snprintf(out, len, "[%s]:%u", host, ntohs(s->sin6_port)) < (int)len;
    }
    return false;
}
