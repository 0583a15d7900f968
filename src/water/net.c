/*
 * net.c - TCP for the host: "host:port" parsing, connect with a timeout,
 * listening sockets, and the allow-lists (water_dial and runner-mode dials;
 * runner-mode listens).
 */
#include "host.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

/* Splits "host:port" or "[v6]:port" into host and port (copies). */
static bool split_address(const char *address, char *host, size_t hlen,
                          char *port, size_t plen)
{
    const char *colon;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close[1] != ':')
            return false;
        size_t n = (size_t)(close - address - 1);
        if (n >= hlen)
            return false;
        memcpy(host, address + 1, n);
        host[n] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(address, ':');
        if (!colon)
            return false;
        size_t n = (size_t)(colon - address);
        if (n >= hlen)
            return false;
        memcpy(host, address, n);
        host[n] = '\0';
    }
    if (!colon[1] || strlen(colon + 1) >= plen)
        return false;
    strcpy(port, colon + 1);
    /* getaddrinfo() would take "99999" as port 34463: refuse numbers out of
     * range ("*" is the allow-list's wildcard; names are services). */
    if (isdigit((unsigned char)port[0])) {
        char *end;
        unsigned long n = strtoul(port, &end, 10);
        if (*end || n > 65535)
            return false;
    }
    return true;
}

static int resolve(const char *address, bool passive, struct addrinfo **out,
                   water_error *err)
{
    char host[256], port[32];
    if (!split_address(address, host, sizeof host, port, sizeof port)) {
        water_error_set(err, WATER_ERR_ARGS, "bad address '%s': want host:port with a port from 0 to 65535", address);
        errno = EINVAL;
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (passive)
        hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, out);
    if (rc != 0) {
        water_error_set(err, WATER_ERR_DIAL, "%s: unknown host or port (%s)", address,
                        gai_strerror(rc));
        errno = EHOSTUNREACH;
        return -1;
    }
    return 0;
}

/* Waits for a non-blocking connect; returns 0 or an errno value. */
static int finish_connect(int fd, uint32_t timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int rc;
    do
        rc = poll(&p, 1, (int)timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc == 0)
        return ETIMEDOUT;
    if (rc < 0)
        return errno;
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        return errno;
    return soerr;
}

int water_connect_tcp(const char *address, uint32_t timeout_ms, water_error *err)
{
    struct addrinfo *ai;
    if (resolve(address, false, &ai, err) != 0)
        return -1;
    if (!timeout_ms)
        timeout_ms = 10000;
    int fd = -1, last = ECONNREFUSED;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        last = rc == 0 ? 0 : errno == EINPROGRESS ? finish_connect(fd, timeout_ms) : errno;
        if (last == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        water_error_set(err, last == ETIMEDOUT ? WATER_ERR_TIMEOUT : WATER_ERR_DIAL,
                        "dial %s: %s", address, strerror(last));
        errno = last;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void format_bound(int fd, char *bound, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *s = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
            port = ntohs(s->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
            port = ntohs(s->sin6_port);
            snprintf(bound, len, "[%s]:%u", host, port);
            return;
        }
    }
    snprintf(bound, len, "%s:%u", host, port);
}

int water_listen_tcp(const char *address, char *bound, size_t bound_len,
                     water_error *err)
{
    struct addrinfo *ai;
    if (resolve(address, true, &ai, err) != 0)
        return -1;
    int fd = -1, last = EADDRNOTAVAIL;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 512) == 0)
            break;
        last = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        water_error_set(err, WATER_ERR_SYSTEM, "listen %s: %s", address, strerror(last));
        errno = last;
        return -1;
    }
    if (bound && bound_len)
        format_bound(fd, bound, bound_len);
    return fd;
}

/* One allow-list pattern: "*", or "host:port" where either part may be "*". */
static bool pattern_matches(const char *pattern, const char *address)
{
    if (strcmp(pattern, "*") == 0)
        return true;
    char ph[256], pp[32], ah[256], ap[32];
    if (!split_address(pattern, ph, sizeof ph, pp, sizeof pp) ||
        !split_address(address, ah, sizeof ah, ap, sizeof ap))
        return false;
    return (strcmp(ph, "*") == 0 || strcasecmp(ph, ah) == 0) &&
           (strcmp(pp, "*") == 0 || strcmp(pp, ap) == 0);
}

static bool listed(char *const *list, size_t n, const char *address)
{
    for (size_t i = 0; i < n; i++)
        if (pattern_matches(list[i], address))
            return true;
    return false;
}

bool water_address_allowed(const water_transport *t, const char *address)
{
    return listed(t->allow, t->nallow, address);
}

bool water_listen_allowed(const water_transport *t, const char *address)
{
    return listed(t->listen_allow, t->nlisten_allow, address);
}
