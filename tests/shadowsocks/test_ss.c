/*
 * test_ss.c - native unit tests of the Shadowsocks transport's core and
 * loop (transports/shadowsocks), with OpenSSL standing in for the host's
 * crypto and POSIX for WASI (ss_native.c).
 *
 * The wire format is checked against an independent construction made here
 * with OpenSSL directly (EVP_BytesToKey, HKDF-SHA1, explicit nonces), the
 * loop by running a client and a server over real sockets, including the
 * failure paths (wrong password, silent client, forbidden target, cancel).
 * Interoperability with shadowsocks-libev is tested by ss_e2e.sh.
 */
#define _GNU_SOURCE
#include "check.h"
#include "ss_native.h"

#include <errno.h>
#include <poll.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/evp.h>

static const enum ss_method all_methods[] = {SS_CHACHA20_IETF_POLY1305, SS_AES_128_GCM,
                                             SS_AES_256_GCM};

static int parse(struct ss_config *c, const char *json)
{
    return ss_config_parse(c, (const uint8_t *)json, strlen(json));
}

/* ---- core ------------------------------------------------------------------ */

static void test_methods(void)
{
    CHECK_EQ(ss_method_from_name("chacha20-ietf-poly1305"), SS_CHACHA20_IETF_POLY1305);
    CHECK_EQ(ss_method_from_name("aes-128-gcm"), SS_AES_128_GCM);
    CHECK_EQ(ss_method_from_name("aes-256-gcm"), SS_AES_256_GCM);
    CHECK_EQ(ss_method_from_name("aes-192-gcm"), SS_METHOD_NONE);
    CHECK_EQ(ss_method_from_name("AES-256-GCM"), SS_METHOD_NONE);
    CHECK_EQ(ss_method_key_len(SS_CHACHA20_IETF_POLY1305), 32);
    CHECK_EQ(ss_method_key_len(SS_AES_128_GCM), 16);
    CHECK_EQ(ss_method_key_len(SS_AES_256_GCM), 32);
    CHECK_STR(ss_method_name(SS_AES_128_GCM), "aes-128-gcm");
}

static void test_derive_key(void)
{
    static const char *const passwords[] = {"a", "password", "中文密码 with spaces",
                                            "0123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++) {
        const char *pw = passwords[i];
        for (int k = 0; k < 2; k++) {
            const EVP_CIPHER *c = k ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
            uint8_t want[64], iv[64], got[SS_KEY_MAX];
            int n = EVP_BytesToKey(c, EVP_md5(), NULL, (const uint8_t *)pw, (int)strlen(pw), 1,
                                   want, iv);
            CHECK(n == (k ? 32 : 16));
            CHECK_EQ(ss_derive_key(pw, strlen(pw), got, (size_t)n), 0);
            CHECK_MEM(got, want, n);
        }
    }
    uint8_t key[32];
    CHECK_EQ(ss_derive_key("", 0, key, 32), -WATM_EINVAL);
}

/* RFC 5869 A.4 (HKDF-SHA1) through the backend the core uses. */
static void test_hkdf_backend(void)
{
    uint8_t ikm[11], salt[13], info[10], okm[42];
    static const uint8_t want[42] = {
        0x08, 0x5a, 0x01, 0xea, 0x1b, 0x10, 0xf3, 0x69, 0x33, 0x06, 0x8b, 0x56, 0xef, 0xa5,
        0xad, 0x81, 0xa4, 0xf1, 0x4b, 0x82, 0x2f, 0x5b, 0x09, 0x15, 0x68, 0xa9, 0xcd, 0xd4,
        0xf1, 0x55, 0xfd, 0xa2, 0xc2, 0x2e, 0x42, 0x24, 0x78, 0xd3, 0x05, 0xf3, 0xf8, 0x96};
    memset(ikm, 0x0b, sizeof ikm);
    for (int i = 0; i < 13; i++)
        salt[i] = (uint8_t)i;
    for (int i = 0; i < 10; i++)
        info[i] = (uint8_t)(0xf0 + i);
    CHECK_EQ(ss_crypto_hkdf_sha1(ikm, 11, salt, 13, info, 10, okm, 42), 42);
    CHECK_MEM(okm, want, 42);
}

struct addr_case {
    const char *in;
    int len;          /* encoded length, or -1 invalid */
    uint8_t atyp;
    const char *text; /* decoded text (NULL: same as in) */
};

static void test_addr(void)
{
    static const struct addr_case cases[] = {
        {"127.0.0.1:8080", 7, 1, NULL},
        {"0.0.0.0:1", 7, 1, NULL},
        {"255.255.255.255:65535", 7, 1, NULL},
        {"example.com:443", 2 + 11 + 2, 3, NULL},
        {"localhost:80", 2 + 9 + 2, 3, NULL},
        {"256.1.1.1:80", 2 + 9 + 2, 3, NULL},   /* not an IPv4 literal: a name */
        {"01.2.3.4:80", 2 + 8 + 2, 3, NULL},    /* leading zero: a name too */
        {"[::1]:53", 19, 4, NULL},
        {"[::]:1", 19, 4, NULL},
        {"[2001:DB8::1]:443", 19, 4, "[2001:db8::1]:443"},
        {"[2001:db8:0:0:1:0:0:1]:1", 19, 4, "[2001:db8::1:0:0:1]:1"},
        {"[1:0:0:2:0:0:0:3]:1", 19, 4, "[1:0:0:2::3]:1"},
        {"[1:2:3:4:5:6:7:8]:9", 19, 4, NULL},
        {"[1:0:3:4:5:6:7:8]:9", 19, 4, NULL},   /* one zero group: no "::" */
        {"[fe80::0001:0a00]:9", 19, 4, "[fe80::1:a00]:9"},
        {"[::ffff:10.1.2.3]:7", 19, 4, NULL},
        {"[64:ff9b::192.0.2.33]:7", 19, 4, "[64:ff9b::c000:221]:7"},
        {":80", -1, 0, NULL},
        {"host", -1, 0, NULL},
        {"host:", -1, 0, NULL},
        {"host:0", -1, 0, NULL},
        {"host:65536", -1, 0, NULL},
        {"host:08", -1, 0, NULL},
        {"host:8a", -1, 0, NULL},
        {"ho st:80", -1, 0, NULL},
        {"a/b:80", -1, 0, NULL},
        {"::1:80", -1, 0, NULL},                /* IPv6 needs brackets */
        {"[::1]80", -1, 0, NULL},
        {"[::1:80", -1, 0, NULL},
        {"[:::1]:80", -1, 0, NULL},
        {"[1::2::3]:80", -1, 0, NULL},
        {"[1:2:3:4:5:6:7:8:9]:80", -1, 0, NULL},
        {"[1:2:3:4:5:6:7]:80", -1, 0, NULL},
        {"[12345::]:80", -1, 0, NULL},
        {"[1:]:80", -1, 0, NULL},
        {"[g::]:80", -1, 0, NULL},
        {"[1.2.3.4]:80", -1, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct addr_case *c = &cases[i];
        uint8_t out[SS_ADDR_MAX];
        char text[SS_ADDR_TEXT_MAX];
        int n = ss_addr_encode(c->in, out);
        if (n != (c->len < 0 ? -WATM_EINVAL : c->len))
            fprintf(stderr, "case %s\n", c->in);
        CHECK_EQ(n, c->len < 0 ? -WATM_EINVAL : c->len);
        if (n < 0)
            continue;
        CHECK_EQ(out[0], c->atyp);
        for (int k = 0; k < n; k++) /* every prefix is "need more" */
            CHECK_EQ(ss_addr_decode(out, (size_t)k, text), 0);
        CHECK_EQ(ss_addr_decode(out, (size_t)n + 5, text), n);
        CHECK_STR(text, c->text ? c->text : c->in);
    }

    /* A 255-byte name is the longest; 256 is refused. */
    char name[300];
    memset(name, 'a', 255);
    strcpy(name + 255, ":1");
    uint8_t out[SS_ADDR_MAX];
    char text[SS_ADDR_TEXT_MAX];
    CHECK_EQ(ss_addr_encode(name, out), SS_ADDR_MAX);
    CHECK_EQ(ss_addr_decode(out, SS_ADDR_MAX, text), SS_ADDR_MAX);
    CHECK_STR(text, name);
    memset(name, 'a', 256);
    strcpy(name + 256, ":1");
    CHECK_EQ(ss_addr_encode(name, out), -WATM_EINVAL);

    /* Decoding refuses what it cannot dial safely. */
    static const uint8_t bad_atyp[] = {2, 1, 2, 3, 4, 0, 80};
    static const uint8_t empty_name[] = {3, 0, 0, 80};
    static const uint8_t colon_name[] = {3, 3, 'a', ':', 'b', 0, 80};
    static const uint8_t ctl_name[] = {3, 2, 'a', '\n', 0, 80};
    static const uint8_t port0[] = {1, 127, 0, 0, 1, 0, 0};
    CHECK_EQ(ss_addr_decode(bad_atyp, sizeof bad_atyp, text), -WATM_EINVAL);
    CHECK_EQ(ss_addr_decode(empty_name, sizeof empty_name, text), -WATM_EINVAL);
    CHECK_EQ(ss_addr_decode(colon_name, sizeof colon_name, text), -WATM_EINVAL);
    CHECK_EQ(ss_addr_decode(ctl_name, sizeof ctl_name, text), -WATM_EINVAL);
    CHECK_EQ(ss_addr_decode(port0, sizeof port0, text), -WATM_EINVAL);
}

static void test_config(void)
{
    struct ss_config c;
    CHECK_EQ(parse(&c, "{\"method\":\"aes-128-gcm\",\"password\":\"pw\","
                       "\"target\":\"127.0.0.1:9\"}"),
             0);
    CHECK_EQ(c.method, SS_AES_128_GCM);
    CHECK_EQ(c.key_len, 16);
    CHECK_EQ(c.target_len, 7);
    CHECK_STR(c.target_text, "127.0.0.1:9");
    CHECK_EQ(c.header_timeout_ms, 60000);

    /* Whitespace, escapes, other members, nested values, "timeout". */
    CHECK_EQ(parse(&c, " {\n \"server\": {\"a\": [1, 2, {\"b\": null}]},\n"
                       " \"method\" : \"chacha20-ietf-poly1305\", \"timeout\": 5,\n"
                       " \"password\": \"p\\u00e4ss\\\"w\", \"fast_open\": false }"),
             0);
    CHECK_EQ(c.method, SS_CHACHA20_IETF_POLY1305);
    CHECK_EQ(c.target_len, 0);
    CHECK_EQ(c.header_timeout_ms, 5000);
    uint8_t key[32];
    CHECK_EQ(ss_derive_key("p\xc3\xa4ss\"w", 7, key, 32), 0);
    CHECK_MEM(c.key, key, 32);
    CHECK_EQ(parse(&c, "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"timeout\":\"7\"}"), 0);
    CHECK_EQ(c.header_timeout_ms, 7000);

    static const char *const bad[] = {
        "",
        "not json",
        "[\"method\"]",
        "{\"password\":\"x\"}",
        "{\"method\":\"rc4-md5\",\"password\":\"x\"}",
        "{\"method\":\"aes-256-gcm\"}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"\"}",
        "{\"method\":\"aes-256-gcm\",\"password\":12}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"target\":\"nope\"}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"target\":80}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"timeout\":0}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"timeout\":-3}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"timeout\":\"soon\"}",
        "{\"method\":\"aes-256-gcm\",\"password\":\"x\",\"timeout\":[1]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(&c, bad[i]) != -WATM_EINVAL)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK_EQ(parse(&c, bad[i]), -WATM_EINVAL);
    }
    CHECK_EQ(ss_config_parse(&c, NULL, 0), -WATM_EINVAL);
}

/* Reference AEAD with an explicit nonce counter value. */
static void ref_nonce(uint64_t n, uint8_t nonce[12])
{
    memset(nonce, 0, 12);
    for (int i = 0; i < 8; i++)
        nonce[i] = (uint8_t)(n >> (8 * i));
}

static void test_chunks(void)
{
    for (size_t mi = 0; mi < 3; mi++) {
        struct ss_config cfg;
        char json[128];
        snprintf(json, sizeof json, "{\"method\":\"%s\",\"password\":\"secret\"}",
                 ss_method_name(all_methods[mi]));
        CHECK_EQ(parse(&cfg, json), 0);
        uint8_t salt[32];
        for (int i = 0; i < 32; i++)
            salt[i] = (uint8_t)(i * 7 + 1);

        /* Subkey: HKDF-SHA1(master, salt, "ss-subkey") done here directly. */
        uint8_t subkey[32];
        CHECK_EQ(ss_crypto_hkdf_sha1(cfg.key, cfg.key_len, salt, cfg.key_len,
                                     (const uint8_t *)"ss-subkey", 9, subkey, cfg.key_len),
                 (int)cfg.key_len);
        struct ss_cipher enc, dec;
        CHECK_EQ(ss_cipher_init(&enc, &cfg, salt), 0);
        CHECK_EQ(ss_cipher_init(&dec, &cfg, salt), 0);
        CHECK_MEM(enc.subkey, subkey, cfg.key_len);

        /* 300 chunks: the nonce counter carries from byte 0 into byte 1. */
        static uint8_t frame[SS_FRAME_MAX], ref[SS_FRAME_MAX], plain[SS_PAYLOAD_MAX];
        for (uint64_t k = 0; k < 300; k++) {
            size_t n = k == 7 ? SS_PAYLOAD_MAX : 1 + (k * 37) % 200;
            for (size_t i = 0; i < n; i++)
                plain[i] = (uint8_t)(k + i);
            memcpy(frame + SS_LEN_FRAME, plain, n);
            CHECK_EQ(ss_seal_chunk(&enc, frame, n), (int)(n + SS_CHUNK_OVERHEAD));
            /* Reference: [be16 len] with nonce 2k, payload with nonce 2k+1. */
            uint8_t nonce[12], len_be[2] = {(uint8_t)(n >> 8), (uint8_t)n};
            ref_nonce(2 * k, nonce);
            CHECK_EQ(ss_crypto_seal(cfg.method, subkey, nonce, len_be, 2, ref), 18);
            ref_nonce(2 * k + 1, nonce);
            CHECK_EQ(ss_crypto_seal(cfg.method, subkey, nonce, plain, n, ref + 18),
                     (int)n + 16);
            CHECK_MEM(frame, ref, n + SS_CHUNK_OVERHEAD);
            /* And back, in place. */
            CHECK_EQ(ss_open_len(&dec, frame), (int)n);
            CHECK_EQ(ss_open_payload(&dec, frame + SS_LEN_FRAME, n), 0);
            CHECK_MEM(frame + SS_LEN_FRAME, plain, n);
        }
        CHECK_EQ(enc.nonce[0], 600 % 256);
        CHECK_EQ(enc.nonce[1], 600 / 256);

        /* Tampering is caught: a flipped bit in the length block, in a
         * payload, or a replayed chunk (wrong nonce). */
        struct ss_cipher e2, d2;
        ss_cipher_init(&e2, &cfg, salt);
        memset(frame + SS_LEN_FRAME, 'x', 10);
        ss_seal_chunk(&e2, frame, 10);
        memcpy(ref, frame, 44);
        ss_cipher_init(&d2, &cfg, salt);
        frame[1] ^= 1;
        CHECK_EQ(ss_open_len(&d2, frame), -SS_EBADMSG);
        memcpy(frame, ref, 44);
        ss_cipher_init(&d2, &cfg, salt);
        frame[30] ^= 0x80;
        CHECK_EQ(ss_open_len(&d2, frame), 10);
        CHECK_EQ(ss_open_payload(&d2, frame + SS_LEN_FRAME, 10), -SS_EBADMSG);
        memcpy(frame, ref, 44);
        ss_cipher_init(&d2, &cfg, salt);
        CHECK_EQ(ss_open_len(&d2, frame), 10);
        CHECK_EQ(ss_open_payload(&d2, frame + SS_LEN_FRAME, 10), 0);
        memcpy(frame, ref, 44);
        CHECK_EQ(ss_open_len(&d2, frame), -SS_EBADMSG);

        /* A length with the top bits set is refused even when authentic. */
        uint8_t nonce[12], big[18] = {0x40, 0x00};
        ref_nonce(0, nonce);
        ss_crypto_seal(cfg.method, subkey, nonce, big, 2, big);
        ss_cipher_init(&d2, &cfg, salt);
        CHECK_EQ(ss_open_len(&d2, big), -WATM_EPROTO);

        /* A wrong password means a wrong master key: authentication fails. */
        struct ss_config other;
        snprintf(json, sizeof json, "{\"method\":\"%s\",\"password\":\"secreT\"}",
                 ss_method_name(all_methods[mi]));
        CHECK_EQ(parse(&other, json), 0);
        memcpy(frame, ref, 44);
        ss_cipher_init(&d2, &other, salt);
        CHECK_EQ(ss_open_len(&d2, frame), -SS_EBADMSG);

        CHECK_EQ(ss_seal_chunk(&e2, frame, 0), -WATM_EINVAL);
        CHECK_EQ(ss_seal_chunk(&e2, frame, SS_PAYLOAD_MAX + 1), -WATM_EINVAL);
    }
}

/* ---- the loop over real sockets --------------------------------------------- */

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

/* An echo server for one connection at a time, until its listener closes. */
static void *echo_main(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        static _Thread_local char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
            if (write(fd, buf, (size_t)n) != n)
                break;
        close(fd);
    }
}

struct side {
    const struct ss_config *cfg;
    int plain, net, ctrl;
    bool server;
    bool keep_fds; /* leave the fds open after the run (pair_finish closes) */
    int result;
};

static void *side_main(void *arg)
{
    struct side *s = arg;
    s->result = s->server ? ss_run_server(s->cfg, s->net, s->ctrl)
                          : ss_run_client(s->cfg, s->plain, s->net, s->ctrl);
    /* Like the host: the module's fds close when its worker returns. */
    if (!s->keep_fds) {
        close(s->net);
        if (s->plain >= 0)
            close(s->plain);
    }
    return NULL;
}

static uint64_t now_ms(void)
{
    return watm_sys_now_ms();
}

/* Writes `len` pattern bytes to fd while reading the echo; returns 0 when
 * every byte came back in order. */
static int pump_echo(int fd, size_t len, int timeout_ms)
{
    static uint8_t out[65536], in[65536];
    size_t sent = 0, got = 0;
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    watm_sys_set_nonblock(fd);
    while (got < len) {
        if (now_ms() > end)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0)};
        if (poll(&p, 1, 100) < 0)
            return -1;
        if ((p.revents & POLLOUT) && sent < len) {
            size_t n = len - sent < sizeof out ? len - sent : sizeof out;
            for (size_t i = 0; i < n; i++)
                out[i] = (uint8_t)((sent + i) * 131 + ((sent + i) >> 16));
            ssize_t w = send(fd, out, n, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = read(fd, in, sizeof in);
            if (r == 0 || (r < 0 && errno != EAGAIN))
                return -2;
            for (ssize_t i = 0; i < r; i++)
                if (in[i] != (uint8_t)((got + (size_t)i) * 131 + ((got + (size_t)i) >> 16)))
                    return -3;
            if (r > 0)
                got += (size_t)r;
        }
    }
    return 0;
}

/* Reads until EOF or error; returns ms waited, or -1 past the deadline. */
static long wait_closed(int fd, int timeout_ms)
{
    uint64_t start = now_ms();
    char buf[4096];
    for (;;) {
        long left = timeout_ms - (long)(now_ms() - start);
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            return (long)(now_ms() - start);
    }
}

struct pair {
    int app;           /* the application's end (client plaintext) */
    int ctrl_w[2];     /* write ends of the control pipes */
    pthread_t th[2];
    struct side cs, ss;
};

/* Client and server threads joined by a TCP connection; the client's app
 * side is a socketpair. */
static int pair_start2(struct pair *p, const struct ss_config *ccfg,
                       const struct ss_config *scfg, bool keep_fds)
{
    int sv[2], port, c2s[2], cp[2], sp[2];
    int lfd = listen_any(&port);
    if (lfd < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || pipe(cp) != 0 ||
        pipe(sp) != 0)
        return -1;
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    c2s[0] = ss_native_connect(addr);
    c2s[1] = accept(lfd, NULL, NULL);
    close(lfd);
    if (c2s[0] < 0 || c2s[1] < 0)
        return -1;
    p->app = sv[0];
    p->ctrl_w[0] = cp[1];
    p->ctrl_w[1] = sp[1];
    p->cs = (struct side){.cfg = ccfg, .plain = sv[1], .net = c2s[0], .ctrl = cp[0]};
    p->ss = (struct side){.cfg = scfg, .plain = -1, .net = c2s[1], .ctrl = sp[0],
                          .server = true};
    p->cs.keep_fds = p->ss.keep_fds = keep_fds;
    pthread_create(&p->th[0], NULL, side_main, &p->cs);
    pthread_create(&p->th[1], NULL, side_main, &p->ss);
    return 0;
}

static int pair_start(struct pair *p, const struct ss_config *ccfg,
                      const struct ss_config *scfg)
{
    return pair_start2(p, ccfg, scfg, false);
}

static void pair_finish(struct pair *p)
{
    for (int i = 0; i < 2; i++) {
        pthread_join(p->th[i], NULL);
        close(p->ctrl_w[i]);
    }
    close(p->app);
    close(p->cs.ctrl);
    close(p->ss.ctrl);
    if (p->cs.keep_fds) {
        close(p->cs.plain);
        close(p->cs.net);
        close(p->ss.net);
    }
}

static int echo_port;

static void make_configs(struct ss_config *c, struct ss_config *s, enum ss_method m,
                         const char *cpw, const char *spw, const char *extra)
{
    char json[256];
    snprintf(json, sizeof json,
             "{\"method\":\"%s\",\"password\":\"%s\",\"target\":\"127.0.0.1:%d\"%s}",
             ss_method_name(m), cpw, echo_port, extra ? extra : "");
    parse(c, json);
    snprintf(json, sizeof json, "{\"method\":\"%s\",\"password\":\"%s\"%s}",
             ss_method_name(m), spw, extra ? extra : "");
    parse(s, json);
}

static void test_loop_bulk(void)
{
    static const size_t sizes[] = {1, 100, SS_PAYLOAD_MAX, SS_PAYLOAD_MAX + 1, 70000,
                                   3u << 20};
    for (size_t mi = 0; mi < 3; mi++) {
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            struct ss_config c, s;
            make_configs(&c, &s, all_methods[mi], "pw", "pw", NULL);
            struct pair p;
            CHECK_EQ(pair_start(&p, &c, &s), 0);
            int r = pump_echo(p.app, sizes[si], 20000);
            shutdown(p.app, SHUT_WR);
            long w = wait_closed(p.app, 5000);
            pair_finish(&p);
            CHECK_EQ(r, 0);
            CHECK(w >= 0);
            CHECK_EQ(p.cs.result, 0);
            CHECK_EQ(p.ss.result, 0);
        }
    }
}

/* The client's target goes out even when the application sends nothing:
 * the echo server then sees a connection and an EOF. */
static void test_loop_empty(void)
{
    struct ss_config c, s;
    make_configs(&c, &s, SS_AES_128_GCM, "pw", "pw", NULL);
    struct pair p;
    CHECK_EQ(pair_start(&p, &c, &s), 0);
    usleep(50000);
    CHECK_STR(ss_native_last_dial, c.target_text);
    shutdown(p.app, SHUT_WR);
    long w = wait_closed(p.app, 5000);
    pair_finish(&p);
    CHECK(w >= 0);
    CHECK_EQ(p.cs.result, 0);
    CHECK_EQ(p.ss.result, 0);
}

static void test_loop_wrong_password(void)
{
    for (size_t mi = 0; mi < 3; mi++) {
        struct ss_config c, s;
        make_configs(&c, &s, all_methods[mi], "right", "wrong", NULL);
        struct pair p;
        CHECK_EQ(pair_start(&p, &c, &s), 0);
        (void)!write(p.app, "hello", 5);
        long w = wait_closed(p.app, 3000);
        shutdown(p.app, SHUT_WR);
        pair_finish(&p);
        CHECK(w >= 0 && w < 2000);
        CHECK_EQ(p.ss.result, -SS_EBADMSG);
        CHECK(p.cs.result <= 0);
    }
}

/* A server whose client sends nothing gives up after "timeout". */
static void test_loop_header_timeout(void)
{
    struct ss_config c, s;
    make_configs(&c, &s, SS_AES_256_GCM, "pw", "pw", ",\"timeout\":1");
    int port, cp[2];
    int lfd = listen_any(&port);
    CHECK(lfd >= 0 && pipe(cp) == 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    int cfd = ss_native_connect(addr);
    int sfd = accept(lfd, NULL, NULL);
    close(lfd);
    (void)!write(cfd, "0123456789", 10); /* part of a salt, then silence */
    uint64_t t0 = now_ms();
    int r = ss_run_server(&s, sfd, cp[0]);
    uint64_t took = now_ms() - t0;
    close(cfd);
    close(sfd);
    close(cp[0]);
    close(cp[1]);
    CHECK_EQ(r, -SS_ETIMEDOUT);
    CHECK(took >= 900 && took < 3000);
}

/* A client whose server never answers (shadowsocks-libev with a wrong
 * password reads on and says nothing) gives up after "timeout". */
static void test_loop_reply_timeout(void)
{
    struct ss_config c, s;
    make_configs(&c, &s, SS_AES_128_GCM, "pw", "pw", ",\"timeout\":1");
    int sv[2], port, cp[2];
    int lfd = listen_any(&port);
    CHECK(lfd >= 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(cp) == 0);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    struct side cs = {.cfg = &c, .plain = sv[1], .net = ss_native_connect(addr), .ctrl = cp[0]};
    int peer = accept(lfd, NULL, NULL);
    close(lfd);
    (void)!write(sv[0], "request", 7);
    uint64_t t0 = now_ms();
    side_main(&cs);
    uint64_t took = now_ms() - t0;
    char buf[256];
    CHECK(read(peer, buf, sizeof buf) > 16 + 18 + 7 + 16); /* it did send */
    close(peer);
    close(sv[0]);
    close(cp[0]);
    close(cp[1]);
    CHECK_EQ(cs.result, -SS_ETIMEDOUT);
    CHECK(took >= 900 && took < 3000);
}

/* The server dials only what the host allows. */
static void test_loop_forbidden_target(void)
{
    struct ss_config c, s;
    make_configs(&c, &s, SS_AES_256_GCM, "pw", "pw", NULL);
    const char *saved = ss_native_allow;
    ss_native_allow = "127.0.0.1:1";
    struct pair p;
    CHECK_EQ(pair_start(&p, &c, &s), 0);
    (void)!write(p.app, "hello", 5);
    long w = wait_closed(p.app, 3000);
    shutdown(p.app, SHUT_WR);
    pair_finish(&p);
    ss_native_allow = saved;
    CHECK(w >= 0);
    CHECK_EQ(p.ss.result, -WATM_ENOTCONN);
}

/* A stop byte on the control pipe ends both sides mid-transfer. */
static void test_loop_cancel(void)
{
    struct ss_config c, s;
    make_configs(&c, &s, SS_CHACHA20_IETF_POLY1305, "pw", "pw", NULL);
    struct pair p;
    /* The fds stay open after a side stops, so that neither side sees the
     * other's end as EOF before its own stop byte. */
    CHECK_EQ(pair_start2(&p, &c, &s, true), 0);
    CHECK_EQ(pump_echo(p.app, 100000, 5000), 0);
    (void)!write(p.ctrl_w[0], "", 1);
    (void)!write(p.ctrl_w[1], "", 1);
    pair_finish(&p);
    CHECK_EQ(p.cs.result, -WATM_ECANCELED);
    CHECK_EQ(p.ss.result, -WATM_ECANCELED);
}

/* A client talking to something that is not a Shadowsocks server with its
 * key: garbage back fails authentication; a truncated chunk is an error. */
static void test_loop_bad_server(void)
{
    struct ss_config c, s;
    make_configs(&c, &s, SS_AES_128_GCM, "pw", "pw", NULL);
    for (int mode = 0; mode < 2; mode++) {
        int sv[2], port, cp[2];
        int lfd = listen_any(&port);
        CHECK(lfd >= 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && pipe(cp) == 0);
        char addr[32];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
        struct side cs = {.cfg = &c, .plain = sv[1], .net = ss_native_connect(addr),
                          .ctrl = cp[0]};
        int peer = accept(lfd, NULL, NULL);
        close(lfd);
        pthread_t th;
        pthread_create(&th, NULL, side_main, &cs);
        uint8_t junk[100];
        for (int i = 0; i < 100; i++)
            junk[i] = (uint8_t)(i * 13);
        (void)!write(peer, junk, mode == 0 ? 100 : 16 + 10); /* salt + part */
        if (mode == 1)
            shutdown(peer, SHUT_WR);
        long w = wait_closed(sv[0], 3000);
        shutdown(sv[0], SHUT_WR);
        pthread_join(th, NULL);
        CHECK(w >= 0);
        CHECK_EQ(cs.result, mode == 0 ? -SS_EBADMSG : -WATM_EPROTO);
        close(peer);
        close(sv[0]);
        close(cp[0]);
        close(cp[1]);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    check_watchdog(120);
    int lfd = listen_any(&echo_port);
    if (lfd < 0) {
        perror("listen");
        return 1;
    }
    pthread_t echo;
    pthread_create(&echo, NULL, echo_main, (void *)(intptr_t)lfd);
    pthread_detach(echo);
    static char allow[32];
    snprintf(allow, sizeof allow, "127.0.0.1:%d", echo_port);
    ss_native_allow = allow;

    RUN(test_methods);
    RUN(test_derive_key);
    RUN(test_hkdf_backend);
    RUN(test_addr);
    RUN(test_config);
    RUN(test_chunks);
    RUN(test_loop_bulk);
    RUN(test_loop_empty);
    RUN(test_loop_wrong_password);
    RUN(test_loop_header_timeout);
    RUN(test_loop_reply_timeout);
    RUN(test_loop_forbidden_target);
    RUN(test_loop_cancel);
    RUN(test_loop_bad_server);
    return check_main_result();
}
