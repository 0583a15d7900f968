/* free_port.h - a free 127.0.0.1 port for a child that must be told one.
 *
 * Chosen below the kernel's ephemeral range, so that no outgoing connection
 * of a test running in parallel can take it before the child binds it. */
#ifndef TESTS_COMMON_FREE_PORT_H
#define TESTS_COMMON_FREE_PORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* 0 when no port could be bound at all. */
static inline unsigned free_port(void)
{
    unsigned lo = 32768;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        if (fscanf(f, "%u", &lo) != 1)
            lo = 32768;
        fclose(f);
    }
    unsigned seed = (unsigned)getpid() ^ (unsigned)time(NULL);
    for (int i = 0; i < 200; i++) {
        /* the last try lets the kernel pick (port 0) */
        unsigned port = (lo > 12000 && i < 199) ? 10000 + rand_r(&seed) % (lo - 10000) : 0;
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t al = sizeof a;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
                 getsockname(fd, (struct sockaddr *)&a, &al) == 0;
        if (fd >= 0)
            close(fd);
        if (ok)
            return ntohs(a.sin_port);
    }
    return 0;
}

#endif
