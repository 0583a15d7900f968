/*
 * test_front.c - unit tests of the front ends (src/front/): SOCKS5 parsing
 * and handshakes with malformed input, the Tor PT environment and argument
 * parsing (escapes, bad versions, missing variables), config merging, and
 * the Extended ORPort cookie file and SAFE_COOKIE handshake against a fake
 * bridge.
 */
#define _GNU_SOURCE
#include "front/front.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#define B(...) ((const uint8_t[]){__VA_ARGS__})
#define NB(...) sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- SOCKS5 parsers -------------------------------------------------------- */

static void test_greeting(void **state)
{
    (void)state;
    front_socks5_greeting g;
    assert_int_equal(front_socks5_parse_greeting(B(0), 0, &g), 2);
    assert_int_equal(front_socks5_parse_greeting(B(5), 1, &g), 1);
    assert_int_equal(front_socks5_parse_greeting(B(5, 2), 2, &g), 2);
    assert_int_equal(front_socks5_parse_greeting(B(5, 2, 0), 3, &g), 1);
    assert_int_equal(front_socks5_parse_greeting(B(5, 2, 0, 2), 4, &g), 0);
    assert_true(g.no_auth && g.userpass);
    assert_int_equal(front_socks5_parse_greeting(B(5, 1, 2), 3, &g), 0);
    assert_true(!g.no_auth && g.userpass);
    assert_int_equal(front_socks5_parse_greeting(B(5, 1, 1), 3, &g), 0); /* GSSAPI only */
    assert_true(!g.no_auth && !g.userpass);
    /* Malformed: SOCKS4, no methods, trailing bytes. */
    assert_int_equal(front_socks5_parse_greeting(B(4, 1, 0), 3, &g), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_greeting(B(5, 0), 2, &g), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_greeting(B(5, 1, 0, 0), 4, &g), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_greeting(B('G', 'E', 'T'), 3, &g), FRONT_PARSE_BAD);
}

static void test_userpass(void **state)
{
    (void)state;
    front_socks5_creds c;
    assert_int_equal(front_socks5_parse_userpass(B(1), 1, &c), 1);
    assert_int_equal(front_socks5_parse_userpass(B(1, 3, 'b', 'o'), 4, &c), 2);
    assert_int_equal(front_socks5_parse_userpass(B(1, 3, 'b', 'o', 'b'), 5, &c), 1);
    assert_int_equal(front_socks5_parse_userpass(B(1, 3, 'b', 'o', 'b', 2, 'p'), 7, &c), 1);
    assert_int_equal(front_socks5_parse_userpass(B(1, 3, 'b', 'o', 'b', 2, 'p', 'w'), 8, &c), 0);
    assert_int_equal(c.ulen, 3);
    assert_string_equal(c.user, "bob");
    assert_int_equal(c.plen, 2);
    assert_string_equal(c.pass, "pw");
    /* An empty password and a NUL password (Tor PT) parse. */
    assert_int_equal(front_socks5_parse_userpass(B(1, 1, 'a', 0), 4, &c), 0);
    assert_int_equal(c.plen, 0);
    assert_int_equal(front_socks5_parse_userpass(B(1, 1, 'a', 1, 0), 5, &c), 0);
    assert_int_equal(c.plen, 1);
    assert_int_equal(c.pass[0], 0);
    /* Malformed: version 5 instead of 1, empty user name, trailing. */
    assert_int_equal(front_socks5_parse_userpass(B(5, 1, 'a', 0), 4, &c), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_userpass(B(1, 0, 0), 3, &c), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_userpass(B(1, 1, 'a', 0, 'x'), 5, &c), FRONT_PARSE_BAD);
}

static void test_request(void **state)
{
    (void)state;
    front_socks5_request r;
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0), 3, &r), 2);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 1, 127), 5, &r), 5);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90), 10, &r),
                     0);
    assert_int_equal(r.cmd, FRONT_SOCKS5_CONNECT);
    assert_int_equal(r.atyp, FRONT_SOCKS5_ATYP_IPV4);
    assert_int_equal(r.port, 8080);
    assert_string_equal(r.address, "127.0.0.1:8080");

    uint8_t v6[22] = {5, 1, 0, 4};
    v6[4 + 15] = 1; /* ::1 */
    v6[20] = 0x01;
    v6[21] = 0xbb;
    assert_int_equal(front_socks5_parse_request(v6, 21, &r), 1);
    assert_int_equal(front_socks5_parse_request(v6, 22, &r), 0);
    assert_string_equal(r.host, "::1");
    assert_string_equal(r.address, "[::1]:443");

    static const uint8_t dom[] = {5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                  '.', 'c', 'o', 'm', 0, 80};
    assert_int_equal(front_socks5_parse_request(dom, 5, &r), 13);
    assert_int_equal(front_socks5_parse_request(dom, sizeof dom, &r), 0);
    assert_int_equal(r.atyp, FRONT_SOCKS5_ATYP_DOMAIN);
    assert_string_equal(r.address, "example.com:80");

    /* BIND and UDP ASSOCIATE parse (the handshake refuses them). */
    assert_int_equal(front_socks5_parse_request(B(5, 2, 0, 1, 1, 2, 3, 4, 0, 1), 10, &r), 0);
    assert_int_equal(r.cmd, FRONT_SOCKS5_BIND);
    assert_int_equal(front_socks5_parse_request(B(5, 3, 0, 1, 0, 0, 0, 0, 0, 0), 10, &r), 0);
    assert_int_equal(r.cmd, FRONT_SOCKS5_UDP_ASSOCIATE);

    /* Unknown address type; malformed version, names, trailing bytes. */
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 9, 0), 5, &r), FRONT_PARSE_BAD_ATYP);
    assert_int_equal(front_socks5_parse_request(B(4, 1, 0, 1, 0), 5, &r), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 3, 0, 0, 80), 7, &r), FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 3, 2, 'a', '\n', 0, 80), 9, &r),
                     FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 3, 3, 'a', ':', 'b', 0, 80), 10, &r),
                     FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 3, 1, 'a', ' ', 0, 80), 9, &r),
                     FRONT_PARSE_BAD);
    assert_int_equal(front_socks5_parse_request(B(5, 1, 0, 1, 1, 2, 3, 4, 0, 1, 7), 11, &r),
                     FRONT_PARSE_BAD);
}

static void test_reply_and_codes(void **state)
{
    (void)state;
    uint8_t out[10];
    assert_int_equal(front_socks5_reply(out, FRONT_SOCKS5_CONNECTION_REFUSED), 10);
    assert_memory_equal(out, B(5, 5, 0, 1, 0, 0, 0, 0, 0, 0), 10);
    assert_string_equal(front_socks5_reply_name(5), "connection refused");
    assert_string_equal(front_socks5_reply_name(7), "command not supported");

    water_error e = {WATER_ERR_DIAL, ""};
    snprintf(e.message, sizeof e.message, "dial 127.0.0.1:9: %s (module: x)", strerror(ECONNREFUSED));
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_CONNECTION_REFUSED);
    snprintf(e.message, sizeof e.message, "dial 10.0.0.1:9: %s", strerror(ENETUNREACH));
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_NETWORK_UNREACHABLE);
    snprintf(e.message, sizeof e.message, "dial 10.0.0.1:9: %s", strerror(EHOSTUNREACH));
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_HOST_UNREACHABLE);
    snprintf(e.message, sizeof e.message, "x.invalid:80: unknown host or port (...)");
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_HOST_UNREACHABLE);
    snprintf(e.message, sizeof e.message, "something else");
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_GENERAL_FAILURE);
    e.code = WATER_ERR_TIMEOUT;
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_HOST_UNREACHABLE);
    e.code = WATER_ERR_DENIED;
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_NOT_ALLOWED);
    e.code = WATER_ERR_TRAP;
    assert_int_equal(front_socks5_code_for(&e), FRONT_SOCKS5_GENERAL_FAILURE);
    assert_int_equal(front_socks5_code_for(NULL), FRONT_SOCKS5_GENERAL_FAILURE);
}

/* ---- SOCKS5 handshakes over a socket pair ------------------------------------- */

typedef struct pair {
    int client, server;
} pair;

static pair make_pair(void)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    return (pair){sv[0], sv[1]};
}

static void close_pair(pair p)
{
    close(p.client);
    close(p.server);
}

static void send_bytes(int fd, const uint8_t *b, size_t n)
{
    assert_int_equal(write(fd, b, n), (ssize_t)n);
}

/* Everything the server wrote, after it closed or shut down its side. */
static size_t drain(int fd, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t got = recv(fd, buf + n, cap - n, MSG_DONTWAIT);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    return n;
}

static int handshake(pair p, const front_socks5_server_opts *o, front_socks5_request *r,
                     front_socks5_creds *c, bool *used, char *why)
{
    return front_socks5_handshake(p.server, o, r, c, used, why, 300);
}

static void test_handshake_connect_exact(void **state)
{
    (void)state;
    pair p = make_pair();
    /* Greeting, request and payload at once: the handshake must read the
     * request exactly and leave the payload for the module. */
    static const uint8_t all[] = {5, 1, 0, 5, 1, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h',
                                  'o', 's', 't', 0x1f, 0x90, 'P', 'A', 'Y'};
    send_bytes(p.client, all, sizeof all);
    front_socks5_server_opts o = {.timeout_ms = 2000, .stop_fd = -1};
    front_socks5_request r;
    front_socks5_creds c;
    bool used;
    char why[300];
    assert_int_equal(handshake(p, &o, &r, &c, &used, why), 0);
    assert_false(used);
    assert_string_equal(r.address, "localhost:8080");
    uint8_t rest[8];
    assert_int_equal(read(p.server, rest, sizeof rest), 3);
    assert_memory_equal(rest, "PAY", 3);
    uint8_t got[4];
    assert_int_equal(drain(p.client, got, sizeof got), 2);
    assert_memory_equal(got, B(5, 0), 2); /* method: no authentication */
    close_pair(p);
}

static void expect_refusal(const uint8_t *msg, size_t n, const uint8_t *reply, size_t rn,
                           const char *why_has, const front_socks5_server_opts *opts)
{
    pair p = make_pair();
    send_bytes(p.client, msg, n);
    shutdown(p.client, SHUT_WR);
    front_socks5_server_opts o = {.timeout_ms = 2000, .stop_fd = -1};
    if (opts)
        o = *opts;
    front_socks5_request r;
    front_socks5_creds c;
    bool used;
    char why[300] = "";
    assert_int_equal(handshake(p, &o, &r, &c, &used, why), -1);
    if (!strstr(why, why_has))
        fail_msg("why '%s' lacks '%s'", why, why_has);
    uint8_t got[64];
    size_t gn = drain(p.client, got, sizeof got);
    assert_int_equal(gn, rn);
    if (rn)
        assert_memory_equal(got, reply, rn);
    close_pair(p);
}

static void test_handshake_refusals(void **state)
{
    (void)state;
    /* BIND and UDP ASSOCIATE: "command not supported". */
    expect_refusal(B(5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80),
                   NB(5, 1, 0, 5, 2, 0, 1, 1, 2, 3, 4, 0, 80),
                   B(5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0), 12, "not supported", NULL);
    expect_refusal(B(5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0),
                   NB(5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0),
                   B(5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0), 12, "not supported", NULL);
    /* An unknown address type: "address type not supported". */
    expect_refusal(B(5, 1, 0, 5, 1, 0, 7, 1, 2), NB(5, 1, 0, 5, 1, 0, 7, 1, 2),
                   B(5, 0, 5, 8, 0, 1, 0, 0, 0, 0, 0, 0), 12, "address type", NULL);
    /* Malformed greetings and requests: closed without a reply. */
    expect_refusal(B(4, 1, 0, 80, 127, 0, 0, 1, 0), NB(4, 1, 0, 80, 127, 0, 0, 1, 0), NULL, 0,
                   "malformed SOCKS5 greeting", NULL);
    expect_refusal(B('G', 'E', 'T', ' ', '/'), 5, NULL, 0, "malformed", NULL);
    expect_refusal(B(5, 1, 0, 4, 1, 0, 1, 0), NB(5, 1, 0, 4, 1, 0, 1, 0), B(5, 0), 2,
                   "malformed SOCKS5 request", NULL);
    /* A client that stops half way: closed. */
    expect_refusal(B(5, 2, 0), 3, NULL, 0, "closed by the client", NULL);
    /* Only GSSAPI offered: no acceptable method. */
    expect_refusal(B(5, 1, 1), 3, B(5, 0xff), 2, "no acceptable", NULL);
    /* Credentials required: no-auth only is refused, a wrong password
     * gets status 1. */
    front_socks5_server_opts auth = {.timeout_ms = 2000, .stop_fd = -1,
                                     .username = "alice", .password = "s3cret"};
    expect_refusal(B(5, 1, 0), 3, B(5, 0xff), 2, "username/password required", &auth);
    expect_refusal(B(5, 1, 2, 1, 5, 'a', 'l', 'i', 'c', 'e', 2, 'n', 'o'),
                   NB(5, 1, 2, 1, 5, 'a', 'l', 'i', 'c', 'e', 2, 'n', 'o'),
                   B(5, 2, 1, 1), 4, "wrong username or password", &auth);
    expect_refusal(B(5, 1, 2, 1, 3, 'b', 'o', 'b', 6, 's', '3', 'c', 'r', 'e', 't'),
                   NB(5, 1, 2, 1, 3, 'b', 'o', 'b', 6, 's', '3', 'c', 'r', 'e', 't'),
                   B(5, 2, 1, 1), 4, "wrong username or password", &auth);
}

static void test_handshake_auth(void **state)
{
    (void)state;
    pair p = make_pair();
    static const uint8_t msg[] = {5, 2, 0, 2, 1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3',
                                  'c', 'r', 'e', 't', 5, 1, 0, 1, 10, 1, 2, 3, 0, 22};
    send_bytes(p.client, msg, sizeof msg);
    front_socks5_server_opts o = {.timeout_ms = 2000, .stop_fd = -1,
                                  .username = "alice", .password = "s3cret"};
    front_socks5_request r;
    front_socks5_creds c;
    bool used;
    char why[300];
    assert_int_equal(handshake(p, &o, &r, &c, &used, why), 0);
    assert_true(used);
    assert_string_equal(c.user, "alice");
    assert_string_equal(r.address, "10.1.2.3:22");
    uint8_t got[8];
    assert_int_equal(drain(p.client, got, sizeof got), 4);
    assert_memory_equal(got, B(5, 2, 1, 0), 4);
    close_pair(p);

    /* Tor PT: username/password preferred when offered (the arguments). */
    p = make_pair();
    static const uint8_t pt[] = {5, 2, 0, 2, 1, 5, 'k', '=', 'v', ';', 'x', 1, 0,
                                 5, 1, 0, 1, 127, 0, 0, 1, 0, 80};
    send_bytes(p.client, pt, sizeof pt);
    front_socks5_server_opts po = {.timeout_ms = 2000, .stop_fd = -1, .prefer_userpass = true};
    assert_int_equal(handshake(p, &po, &r, &c, &used, why), 0);
    assert_true(used);
    assert_int_equal(c.ulen, 5);
    assert_int_equal(c.plen, 1);
    close_pair(p);
}

static void test_handshake_timeout_and_stop(void **state)
{
    (void)state;
    pair p = make_pair();
    front_socks5_server_opts o = {.timeout_ms = 200, .stop_fd = -1};
    front_socks5_request r;
    front_socks5_creds c;
    bool used;
    char why[300];
    int64_t t0 = front_now_ms();
    assert_int_equal(handshake(p, &o, &r, &c, &used, why), -1);
    int64_t took = front_now_ms() - t0;
    assert_true(took >= 150 && took < 2000);
    assert_non_null(strstr(why, "timed out"));
    /* Half a greeting, then silence: still bounded. */
    send_bytes(p.client, B(5, 3, 0), 3);
    assert_int_equal(handshake(p, &o, &r, &c, &used, why), -1);
    assert_non_null(strstr(why, "timed out"));
    close_pair(p);

    int stop[2];
    assert_int_equal(pipe(stop), 0);
    assert_int_equal(write(stop[1], "x", 1), 1);
    p = make_pair();
    o = (front_socks5_server_opts){.timeout_ms = 60000, .stop_fd = stop[0]};
    t0 = front_now_ms();
    assert_int_equal(handshake(p, &o, &r, &c, &used, why), -1);
    assert_true(front_now_ms() - t0 < 1000);
    assert_non_null(strstr(why, "stopping"));
    close_pair(p);
    close(stop[0]);
    close(stop[1]);
}

/* ---- PT arguments, names, ARGS ------------------------------------------------ */

static void test_pt_args(void **state)
{
    (void)state;
    front_kvlist l = {0};
    char why[200];
    const char *s = "shared-secret=rahasia;secrets-file=/tmp/blob";
    assert_int_equal(front_pt_parse_args(s, strlen(s), &l, why, sizeof why), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].key, "shared-secret");
    assert_string_equal(l.items[0].value, "rahasia");
    assert_string_equal(front_kvlist_get(&l, "secrets-file"), "/tmp/blob");
    front_kvlist_free(&l);

    /* Escapes: \; \= \\ inside keys and values; '=' after the first one
     * belongs to the value; empty pairs are skipped. */
    s = ";k\\;x=v\\=w\\\\z;;a=b=c;";
    assert_int_equal(front_pt_parse_args(s, strlen(s), &l, why, sizeof why), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.items[0].key, "k;x");
    assert_string_equal(l.items[0].value, "v=w\\z");
    assert_string_equal(l.items[1].key, "a");
    assert_string_equal(l.items[1].value, "b=c");
    front_kvlist_free(&l);

    /* Empty value; a repeated key: the last wins. */
    s = "a=;a=2";
    assert_int_equal(front_pt_parse_args(s, strlen(s), &l, why, sizeof why), 0);
    assert_string_equal(front_kvlist_get(&l, "a"), "2");
    assert_null(front_kvlist_get(&l, "b"));
    front_kvlist_free(&l);

    /* Errors. */
    static const char *const bad[] = {"novalue", "a=1;novalue", "=v", "a=1\\", "\\=v"};
    static const char *const expect[] = {"not key=value", "not key=value", "empty key",
                                         "lone backslash", "not key=value"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(front_pt_parse_args(bad[i], strlen(bad[i]), &l, why, sizeof why), -1);
        if (!strstr(why, expect[i]))
            fail_msg("'%s': why '%s' lacks '%s'", bad[i], why, expect[i]);
        front_kvlist_free(&l);
    }
    /* A NUL inside the bytes (the SOCKS password of tor) is data. */
    assert_int_equal(front_pt_parse_args("", 0, &l, why, sizeof why), 0);
    assert_int_equal(l.n, 0);
}

static void test_pt_names_and_smethod_args(void **state)
{
    (void)state;
    assert_true(front_pt_valid_name("obfs4"));
    assert_true(front_pt_valid_name("_x_1"));
    assert_false(front_pt_valid_name("4obfs"));
    assert_false(front_pt_valid_name("a-b"));
    assert_false(front_pt_valid_name(""));
    assert_false(front_pt_valid_name(NULL));

    front_kvlist l = {0};
    char why[100];
    const char *s = "key=a,b=c;x\\;y=\\\\";
    assert_int_equal(front_pt_parse_args(s, strlen(s), &l, why, sizeof why), 0);
    char *args = front_pt_smethod_args(&l);
    assert_string_equal(args, "key=a\\,b\\=c,x;y=\\\\");
    free(args);
    front_kvlist_free(&l);
    args = front_pt_smethod_args(&l);
    assert_string_equal(args, "");
    free(args);
}

/* ---- config merge --------------------------------------------------------------- */

static void expect_merge(const char *base, const char *args, const char *want)
{
    front_kvlist l = {0};
    char why[200];
    if (args)
        assert_int_equal(front_pt_parse_args(args, strlen(args), &l, why, sizeof why), 0);
    uint8_t *out;
    size_t n;
    int rc = front_config_merge((const uint8_t *)base, base ? strlen(base) : 0, &l, &out, &n,
                                why, sizeof why);
    front_kvlist_free(&l);
    if (!want) {
        assert_int_equal(rc, -1);
        assert_null(out);
        return;
    }
    assert_int_equal(rc, 0);
    if (!out) {
        assert_string_equal(want, "(none)");
        return;
    }
    char *text = strndup((const char *)out, n);
    if (strcmp(text, want))
        fail_msg("merge of %s and %s: got %s, want %s", base, args, text, want);
    free(text);
    free(out);
}

static void test_config_merge(void **state)
{
    (void)state;
    expect_merge(NULL, NULL, "(none)");
    expect_merge("raw key bytes", NULL, "raw key bytes");
    expect_merge(NULL, "key=secret", "{\"key\":\"secret\"}");
    expect_merge("  \n", "key=secret", "{\"key\":\"secret\"}");
    expect_merge("{}", "key=a\"b\\\\c", "{\"key\":\"a\\\"b\\\\c\"}");
    expect_merge("{\"key\":\"old\",\"dial_address\":\"127.0.0.1:1\"}", "key=new",
                 "{\"dial_address\":\"127.0.0.1:1\",\"key\":\"new\"}");
    expect_merge(" { \"n\" : 5 , \"o\" : {\"key\":[1,\"}\",{}]}, \"t\":true } ", "key=v",
                 "{\"n\" : 5,\"o\" : {\"key\":[1,\"}\",{}]},\"t\":true,\"key\":\"v\"}");
    /* An escaped key in the base is the same key. */
    expect_merge("{\"\\u006bey\":\"old\"}", "key=new", "{\"key\":\"new\"}");
    expect_merge("{\"a\":1}", "b=2;b=3", "{\"a\":1,\"b\":\"3\"}");
    /* Not a JSON object, or broken JSON: refused. */
    expect_merge("raw key bytes", "key=v", NULL);
    expect_merge("[1,2]", "key=v", NULL);
    expect_merge("{\"a\":1", "key=v", NULL);
    expect_merge("{\"a\" 1}", "key=v", NULL);
    expect_merge("{\"a\":1} x", "key=v", NULL);
    expect_merge("{\"a\":\"unterminated}", "key=v", NULL);
    expect_merge("{\"a\":[1,2}", "key=v", NULL);
}

/* ---- the PT environment ------------------------------------------------------------ */

typedef struct env_table {
    const char *kv[16][2];
} env_table;

static const char *table_get(void *user, const char *name)
{
    env_table *t = user;
    for (size_t i = 0; i < 16 && t->kv[i][0]; i++)
        if (!strcmp(t->kv[i][0], name))
            return t->kv[i][1];
    return NULL;
}

static front_pt_status parse_env(env_table *t, front_pt_env *env, char *why)
{
    return front_pt_env_parse(table_get, t, env, why, 300);
}

static void expect_env_error(env_table t, front_pt_status want, const char *why_has)
{
    front_pt_env env;
    char why[300] = "";
    assert_int_equal(parse_env(&t, &env, why), want);
    if (!strstr(why, why_has))
        fail_msg("why '%s' lacks '%s'", why, why_has);
}

static void test_pt_env_versions(void **state)
{
    (void)state;
    static const char *const good[] = {"1", "1,1a,2b,this_is_a_valid_ver", "2,1", "0,1,3"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        env_table t = {{{"TOR_PT_MANAGED_TRANSPORT_VER", good[i]},
                        {"TOR_PT_STATE_LOCATION", "/tmp/state"},
                        {"TOR_PT_CLIENT_TRANSPORTS", "water"}}};
        front_pt_env env;
        char why[300];
        assert_int_equal(parse_env(&t, &env, why), FRONT_PT_OK);
        front_pt_env_free(&env);
    }
    static const char *const bad[] = {"2", "11", "1a,2", "", " 1", "1.0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", bad[i]},
                                      {"TOR_PT_STATE_LOCATION", "/tmp/state"},
                                      {"TOR_PT_CLIENT_TRANSPORTS", "water"}}},
                         FRONT_PT_VERSION_ERROR, "no supported version");
    expect_env_error((env_table){{{"TOR_PT_STATE_LOCATION", "/tmp/state"},
                                  {"TOR_PT_CLIENT_TRANSPORTS", "water"}}},
                     FRONT_PT_VERSION_ERROR, "not set");
}

static void test_pt_env_missing(void **state)
{
    (void)state;
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_CLIENT_TRANSPORTS", "water"}}},
                     FRONT_PT_ENV_ERROR, "TOR_PT_STATE_LOCATION is not set");
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_STATE_LOCATION", "state"},
                                  {"TOR_PT_CLIENT_TRANSPORTS", "water"}}},
                     FRONT_PT_ENV_ERROR, "not an absolute path");
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_STATE_LOCATION", "/s"}}},
                     FRONT_PT_ENV_ERROR, "neither TOR_PT_CLIENT_TRANSPORTS");
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_STATE_LOCATION", "/s"},
                                  {"TOR_PT_CLIENT_TRANSPORTS", "a"},
                                  {"TOR_PT_SERVER_TRANSPORTS", "a"}}},
                     FRONT_PT_ENV_ERROR, "both");
    /* Server: no ORPort of either kind; an ExtORPort without a cookie. */
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_STATE_LOCATION", "/s"},
                                  {"TOR_PT_SERVER_TRANSPORTS", "a"},
                                  {"TOR_PT_EXTENDED_SERVER_PORT", ""}}},
                     FRONT_PT_ENV_ERROR, "neither TOR_PT_ORPORT");
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_STATE_LOCATION", "/s"},
                                  {"TOR_PT_SERVER_TRANSPORTS", "a"},
                                  {"TOR_PT_EXTENDED_SERVER_PORT", "127.0.0.1:4200"}}},
                     FRONT_PT_ENV_ERROR, "no TOR_PT_AUTH_COOKIE_FILE");
    expect_env_error((env_table){{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                                  {"TOR_PT_STATE_LOCATION", "/s"},
                                  {"TOR_PT_SERVER_TRANSPORTS", "a"},
                                  {"TOR_PT_ORPORT", "9001"}}},
                     FRONT_PT_ENV_ERROR, "want ADDRESS:PORT");
}

static void test_pt_env_client(void **state)
{
    (void)state;
    env_table t = {{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                    {"TOR_PT_STATE_LOCATION", "/var/lib/tor/pt_state/"},
                    {"TOR_PT_EXIT_ON_STDIN_CLOSE", "1"},
                    {"TOR_PT_CLIENT_TRANSPORTS", "obfs4,,water"},
                    {"TOR_PT_PROXY", "socks5://127.0.0.1:8001"}}};
    front_pt_env env;
    char why[300];
    assert_int_equal(parse_env(&t, &env, why), FRONT_PT_OK);
    assert_false(env.server);
    assert_true(env.exit_on_stdin_close);
    assert_int_equal(env.ntransports, 2);
    assert_string_equal(env.transports[1], "water");
    assert_string_equal(env.proxy, "socks5://127.0.0.1:8001");
    assert_string_equal(env.state_location, "/var/lib/tor/pt_state/");
    front_pt_env_free(&env);

    t.kv[2][1] = "0"; /* only "1" means exit on stdin close */
    t.kv[4][0] = NULL;
    assert_int_equal(parse_env(&t, &env, why), FRONT_PT_OK);
    assert_false(env.exit_on_stdin_close);
    assert_null(env.proxy);
    front_pt_env_free(&env);
}

static void test_pt_env_server(void **state)
{
    (void)state;
    env_table t = {{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                    {"TOR_PT_STATE_LOCATION", "/s"},
                    {"TOR_PT_SERVER_TRANSPORTS", "water,other"},
                    {"TOR_PT_SERVER_BINDADDR", "water-127.0.0.1:1984,other-[::1]:4891"},
                    {"TOR_PT_SERVER_TRANSPORT_OPTIONS",
                     "water:key=ba\\:na\\;na;other:rule=110;water:url=http\\://x\\=1;other:d=3"},
                    {"TOR_PT_ORPORT", "127.0.0.1:9001"},
                    {"TOR_PT_EXTENDED_SERVER_PORT", "127.0.0.1:4200"},
                    {"TOR_PT_AUTH_COOKIE_FILE", "/s/cookie"}}};
    front_pt_env env;
    char why[300];
    assert_int_equal(parse_env(&t, &env, why), FRONT_PT_OK);
    assert_true(env.server);
    assert_string_equal(front_pt_env_bindaddr(&env, "water"), "127.0.0.1:1984");
    assert_string_equal(front_pt_env_bindaddr(&env, "other"), "[::1]:4891");
    assert_null(front_pt_env_bindaddr(&env, "third"));
    const front_kvlist *w = front_pt_env_options(&env, "water");
    assert_non_null(w);
    assert_int_equal(w->n, 2);
    assert_string_equal(front_kvlist_get(w, "key"), "ba:na;na");
    assert_string_equal(front_kvlist_get(w, "url"), "http://x=1");
    const front_kvlist *o = front_pt_env_options(&env, "other");
    assert_int_equal(o->n, 2);
    assert_string_equal(front_kvlist_get(o, "d"), "3");
    assert_null(front_pt_env_options(&env, "third"));
    assert_string_equal(env.ext_orport, "127.0.0.1:4200");
    assert_string_equal(env.auth_cookie_file, "/s/cookie");
    front_pt_env_free(&env);

    /* Bad bind addresses and options. */
    static const char *const bad_bind[] = {"water-localhost:5", "water127.0.0.1:5",
                                           "water-127.0.0.1", "water-127.0.0.1:99999",
                                           "4x-127.0.0.1:5"};
    for (size_t i = 0; i < sizeof bad_bind / sizeof bad_bind[0]; i++) {
        env_table b = t;
        b.kv[3][1] = bad_bind[i];
        expect_env_error(b, FRONT_PT_ENV_ERROR, "TOR_PT_SERVER_BINDADDR");
    }
    static const char *const bad_opts[] = {"water", "water:novalue", "4x:k=v", "water:k=v\\"};
    for (size_t i = 0; i < sizeof bad_opts / sizeof bad_opts[0]; i++) {
        env_table b = t;
        b.kv[4][1] = bad_opts[i];
        expect_env_error(b, FRONT_PT_ENV_ERROR, "TOR_PT_SERVER_TRANSPORT_OPTIONS");
    }
    /* An empty ExtORPort means none: the ORPort is used, no cookie needed. */
    env_table plain = t;
    plain.kv[6][1] = "";
    plain.kv[7][0] = NULL;
    assert_int_equal(parse_env(&plain, &env, why), FRONT_PT_OK);
    assert_null(env.ext_orport);
    assert_null(env.auth_cookie_file);
    assert_string_equal(env.orport, "127.0.0.1:9001");
    front_pt_env_free(&env);
}

/* front_pt_run answers on its output channel before loading anything. */
static char *run_pt(env_table *t, int *rc)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    front_pt_transport tr = {.name = "water", .wasm_path = "/nonexistent/water.wasm"};
    front_pt_options o = {.transports = &tr, .ntransports = 1, .out = out, .stop_fd = -1,
                          .stdin_fd = -1, .getenv = table_get, .getenv_user = t};
    *rc = front_pt_run(&o);
    fclose(out);
    return text;
}

static void test_pt_run_messages(void **state)
{
    (void)state;
    int rc;
    env_table t = {{{"TOR_PT_MANAGED_TRANSPORT_VER", "2,3"},
                    {"TOR_PT_STATE_LOCATION", "/tmp/none"},
                    {"TOR_PT_CLIENT_TRANSPORTS", "water"}}};
    char *text = run_pt(&t, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(text, "VERSION-ERROR no-version\n");
    free(text);

    t.kv[0][1] = "1";
    t.kv[1][0] = "UNRELATED";
    text = run_pt(&t, &rc);
    assert_int_equal(rc, 1);
    assert_string_equal(text, "VERSION 1\nENV-ERROR TOR_PT_STATE_LOCATION is not set\n");
    free(text);

    t.kv[1][0] = "TOR_PT_STATE_LOCATION";
    t.kv[3][0] = "TOR_PT_PROXY";
    t.kv[3][1] = "socks5://127.0.0.1:1";
    text = run_pt(&t, &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(text, "VERSION 1\nPROXY-ERROR "));
    free(text);

    /* A transport that does not load: CMETHOD-ERROR, then CMETHODS DONE. */
    t.kv[3][0] = NULL;
    text = run_pt(&t, &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(text, "VERSION 1\nCMETHOD-ERROR water /nonexistent/water.wasm"));
    assert_non_null(strstr(text, "\nCMETHODS DONE\n"));
    free(text);

    /* Unknown transports are ignored, without CMETHOD-ERROR. */
    t.kv[2][1] = "obfs4";
    text = run_pt(&t, &rc);
    assert_string_equal(text, "VERSION 1\nCMETHODS DONE\nLOG SEVERITY=error "
                              "MESSAGE=\"no transport could be launched\"\n");
    free(text);
}

/* ---- Extended ORPort ------------------------------------------------------------------ */

static const char header[] = "! Extended ORPort Auth Cookie !\n";

static char *write_tmp(const void *bytes, size_t n)
{
    char *path = strdup("/tmp/front-cookie-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_cookie_file(void **state)
{
    (void)state;
    uint8_t file[65], cookie[32];
    memcpy(file, header, 32);
    for (int i = 0; i < 33; i++)
        file[32 + i] = (uint8_t)i;
    char why[300];
    char *good = write_tmp(file, 64);
    assert_int_equal(front_extor_read_cookie(good, cookie, why, sizeof why), 0);
    assert_memory_equal(cookie, file + 32, 32);
    unlink(good);
    free(good);

    char *longer = write_tmp(file, 65);
    assert_int_equal(front_extor_read_cookie(longer, cookie, why, sizeof why), -1);
    assert_non_null(strstr(why, "longer"));
    unlink(longer);
    free(longer);

    char *shorter = write_tmp(file, 40);
    assert_int_equal(front_extor_read_cookie(shorter, cookie, why, sizeof why), -1);
    assert_non_null(strstr(why, "shorter"));
    unlink(shorter);
    free(shorter);

    file[0] = '?';
    char *bad = write_tmp(file, 64);
    assert_int_equal(front_extor_read_cookie(bad, cookie, why, sizeof why), -1);
    assert_non_null(strstr(why, "bad header"));
    unlink(bad);
    free(bad);

    assert_int_equal(front_extor_read_cookie("/nonexistent/cookie", cookie, why, sizeof why), -1);
    assert_non_null(strstr(why, "No such file"));
    assert_int_equal(front_extor_read_cookie("", cookie, why, sizeof why), -1);
}

/* A bad cookie file is an ENV-ERROR of the server proxy. */
static void test_pt_run_bad_cookie(void **state)
{
    (void)state;
    char *bad = write_tmp("not a cookie", 12);
    env_table t = {{{"TOR_PT_MANAGED_TRANSPORT_VER", "1"},
                    {"TOR_PT_STATE_LOCATION", "/tmp/none"},
                    {"TOR_PT_SERVER_TRANSPORTS", "water"},
                    {"TOR_PT_EXTENDED_SERVER_PORT", "127.0.0.1:4200"},
                    {"TOR_PT_AUTH_COOKIE_FILE", bad}}};
    int rc;
    char *text = run_pt(&t, &rc);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(text, "VERSION 1\nENV-ERROR TOR_PT_AUTH_COOKIE_FILE: "));
    assert_non_null(strstr(text, "not an Extended ORPort cookie file"));
    free(text);
    unlink(bad);
    free(bad);
}

static void hex(const char *s, uint8_t *out)
{
    for (size_t i = 0; s[2 * i]; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void test_extor_hash_vector(void **state)
{
    (void)state;
    /* Computed with Python's hmac module (an independent implementation). */
    uint8_t cookie[32], cn[32], sn[32], out[32], want[32];
    for (int i = 0; i < 32; i++) {
        cookie[i] = (uint8_t)i;
        cn[i] = (uint8_t)(32 + i);
        sn[i] = (uint8_t)(64 + i);
    }
    front_extor_hash(cookie, true, cn, sn, out);
    hex("67cb22838690cf4c49434d4ea3164fbdcc936e46fd90ee62f511639a8456d133", want);
    assert_memory_equal(out, want, 32);
    front_extor_hash(cookie, false, cn, sn, out);
    hex("4becde5c2fe8a9fed908d74f79be128d73abfbf82c009d3bdc17b4bc02740d58", want);
    assert_memory_equal(out, want, 32);
}

/* A fake bridge: the server side of the ExtORPort protocol. */
typedef struct bridge {
    int fd;
    uint8_t cookie[32];
    const uint8_t *auth_types; /* ending with 0 */
    size_t nauth;
    uint16_t reply;            /* OKAY or DENY */
    char useraddr[100], transport[100];
    bool client_hash_ok;
    bool done;
} bridge;

static bool rd(int fd, void *b, size_t n)
{
    return front_read_exact(fd, b, n, front_now_ms() + 5000, -1) == 0;
}

static void *bridge_main(void *arg)
{
    bridge *b = arg;
    if (write(b->fd, b->auth_types, b->nauth) != (ssize_t)b->nauth)
        return NULL;
    uint8_t hello[33];
    if (!rd(b->fd, hello, 1) || hello[0] != 1 || !rd(b->fd, hello + 1, 32))
        return NULL;
    uint8_t server[64], expect[32], got[32];
    memset(server + 32, 0x5a, 32);
    front_extor_hash(b->cookie, true, hello + 1, server + 32, server);
    if (write(b->fd, server, 64) != 64 || !rd(b->fd, got, 32))
        return NULL;
    front_extor_hash(b->cookie, false, hello + 1, server + 32, expect);
    b->client_hash_ok = !memcmp(got, expect, 32);
    uint8_t status = b->client_hash_ok;
    if (write(b->fd, &status, 1) != 1 || !status)
        return NULL;
    for (;;) {
        uint8_t h[4];
        char body[300];
        if (!rd(b->fd, h, 4))
            return NULL;
        size_t len = (size_t)(h[2] << 8 | h[3]);
        if (len >= sizeof body || !rd(b->fd, body, len))
            return NULL;
        body[len] = '\0';
        uint16_t cmd = (uint16_t)(h[0] << 8 | h[1]);
        if (cmd == 1)
            snprintf(b->useraddr, sizeof b->useraddr, "%.99s", body);
        else if (cmd == 2)
            snprintf(b->transport, sizeof b->transport, "%.99s", body);
        else if (cmd == 0)
            break;
    }
    b->done = true;
    uint8_t unknown[6] = {0x10, 0x02, 0, 2, 'h', 'i'}; /* CONTROL: ignored */
    uint8_t reply[4] = {(uint8_t)(b->reply >> 8), (uint8_t)b->reply, 0, 0};
    if (write(b->fd, unknown, sizeof unknown) != (ssize_t)sizeof unknown)
        return NULL;
    if (write(b->fd, reply, 4) != 4)
        return NULL;
    return NULL;
}

static int run_extor(bridge *b, const uint8_t cookie[32], char *why)
{
    pair p = make_pair();
    b->fd = p.server;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bridge_main, b), 0);
    int rc = front_extor_handshake(p.client, cookie, "192.0.2.7:5678", "water", 3000, -1, why,
                                   300);
    shutdown(p.client, SHUT_RDWR);
    pthread_join(th, NULL);
    close_pair(p);
    return rc;
}

static void test_extor_handshake(void **state)
{
    (void)state;
    static const uint8_t types[] = {3, 1, 0};
    bridge b = {.auth_types = types, .nauth = 3, .reply = 0x1000};
    for (int i = 0; i < 32; i++)
        b.cookie[i] = (uint8_t)(i * 7);
    char why[300] = "";
    assert_int_equal(run_extor(&b, b.cookie, why), 0);
    assert_true(b.client_hash_ok && b.done);
    assert_string_equal(b.useraddr, "192.0.2.7:5678");
    assert_string_equal(b.transport, "water");

    /* DENY. */
    bridge deny = b;
    deny.reply = 0x1001;
    deny.done = false;
    assert_int_equal(run_extor(&deny, b.cookie, why), -1);
    assert_non_null(strstr(why, "denied"));

    /* Our cookie differs from the bridge's: its hash does not verify. */
    uint8_t wrong[32] = {0};
    bridge other = b;
    other.done = false;
    assert_int_equal(run_extor(&other, wrong, why), -1);
    assert_non_null(strstr(why, "does not match"));
    assert_false(other.done);

    /* No SAFE_COOKIE offered. */
    static const uint8_t none[] = {2, 0};
    bridge nosafe = b;
    nosafe.auth_types = none;
    nosafe.nauth = 2;
    assert_int_equal(run_extor(&nosafe, b.cookie, why), -1);
    assert_non_null(strstr(why, "SAFE_COOKIE"));
}

static void test_extor_silent_bridge(void **state)
{
    (void)state;
    pair p = make_pair();
    uint8_t cookie[32] = {0};
    char why[300];
    int64_t t0 = front_now_ms();
    assert_int_equal(front_extor_handshake(p.client, cookie, NULL, "water", 200, -1, why,
                                           sizeof why), -1);
    assert_true(front_now_ms() - t0 < 2000);
    assert_non_null(strstr(why, "timed out"));
    close_pair(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greeting),
        cmocka_unit_test(test_userpass),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_reply_and_codes),
        cmocka_unit_test(test_handshake_connect_exact),
        cmocka_unit_test(test_handshake_refusals),
        cmocka_unit_test(test_handshake_auth),
        cmocka_unit_test(test_handshake_timeout_and_stop),
        cmocka_unit_test(test_pt_args),
        cmocka_unit_test(test_pt_names_and_smethod_args),
        cmocka_unit_test(test_config_merge),
        cmocka_unit_test(test_pt_env_versions),
        cmocka_unit_test(test_pt_env_missing),
        cmocka_unit_test(test_pt_env_client),
        cmocka_unit_test(test_pt_env_server),
        cmocka_unit_test(test_pt_run_messages),
        cmocka_unit_test(test_cookie_file),
        cmocka_unit_test(test_pt_run_bad_cookie),
        cmocka_unit_test(test_extor_hash_vector),
        cmocka_unit_test(test_extor_handshake),
        cmocka_unit_test(test_extor_silent_bridge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
