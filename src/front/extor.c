/*
 * extor.c - the transport side of Tor's Extended ORPort: SAFE_COOKIE
 * authentication (HMAC-SHA256 over both nonces with the cookie from
 * TOR_PT_AUTH_COOKIE_FILE), then USERADDR, TRANSPORT and DONE, after
 * which the bridge answers OKAY (or DENY) and the connection carries the
 * client's OR traffic.
 */
#include "front.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define AUTH_SAFE_COOKIE 0x01
#define CMD_DONE 0x0000
#define CMD_USERADDR 0x0001
#define CMD_TRANSPORT 0x0002
#define REPLY_OKAY 0x1000
#define REPLY_DENY 0x1001
#define MAX_AUTH_TYPES 256

static const char cookie_header[32] = "! Extended ORPort Auth Cookie !\n";

static int fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whylen, const char *fmt, ...)
{
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int front_extor_read_cookie(const char *path, uint8_t cookie[32], char *why, size_t whylen)
{
    if (!path || !*path)
        return fail(why, whylen, "no auth cookie file");
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(why, whylen, "%s: %s", path, strerror(errno));
    uint8_t buf[65];
    size_t n = fread(buf, 1, sizeof buf, f);
    bool err = ferror(f);
    fclose(f);
    if (err)
        return fail(why, whylen, "%s: cannot read", path);
    if (n != 64)
        return fail(why, whylen, "%s: not an Extended ORPort cookie file (%s than 64 bytes)",
                    path, n < 64 ? "shorter" : "longer");
    if (memcmp(buf, cookie_header, sizeof cookie_header) != 0)
        return fail(why, whylen, "%s: not an Extended ORPort cookie file (bad header)", path);
    memcpy(cookie, buf + 32, 32);
    return 0;
}

void front_extor_hash(const uint8_t cookie[32], bool server_to_client,
                      const uint8_t client_nonce[32], const uint8_t server_nonce[32],
                      uint8_t out[32])
{
    static const char s2c[] = "ExtORPort authentication server-to-client hash";
    static const char c2s[] = "ExtORPort authentication client-to-server hash";
    const char *label = server_to_client ? s2c : c2s;
    size_t llen = strlen(label);
    uint8_t msg[64 + 64];
    memcpy(msg, label, llen);
    memcpy(msg + llen, client_nonce, 32);
    memcpy(msg + llen + 32, server_nonce, 32);
    unsigned olen = 32;
    HMAC(EVP_sha256(), cookie, 32, msg, llen + 64, out, &olen);
}

static const char *io_reason(int rc)
{
    return rc == -ETIMEDOUT ? "timed out"
         : rc == -ECONNRESET ? "closed by the bridge"
         : rc == -ECANCELED ? "stopping" : strerror(-rc);
}

static int send_command(int fd, uint16_t cmd, const char *body, int64_t deadline,
                        int stop_fd)
{
    size_t len = body ? strlen(body) : 0;
    if (len > 0xffff)
        return -EINVAL;
    uint8_t msg[4 + 300];
    if (len > sizeof msg - 4)
        return -EINVAL;
    msg[0] = (uint8_t)(cmd >> 8);
    msg[1] = (uint8_t)cmd;
    msg[2] = (uint8_t)(len >> 8);
    msg[3] = (uint8_t)len;
    if (len)
        memcpy(msg + 4, body, len);
    return front_write_all(fd, msg, 4 + len, deadline, stop_fd);
}

int front_extor_handshake(int fd, const uint8_t cookie[32], const char *useraddr,
                          const char *transport, uint32_t timeout_ms, int stop_fd,
                          char *why, size_t whylen)
{
    int64_t deadline = front_now_ms() + (timeout_ms ? timeout_ms : 10000);
    int rc;
    /* The bridge lists its authentication types, ending with 0. */
    bool safe_cookie = false;
    for (int i = 0;; i++) {
        uint8_t type;
        if ((rc = front_read_exact(fd, &type, 1, deadline, stop_fd)) < 0)
            return fail(why, whylen, "ExtORPort: auth types: %s", io_reason(rc));
        if (type == 0)
            break;
        if (i == MAX_AUTH_TYPES)
            return fail(why, whylen, "ExtORPort: endless list of auth types");
        safe_cookie |= type == AUTH_SAFE_COOKIE;
    }
    if (!safe_cookie) {
        uint8_t none = 0;
        front_write_all(fd, &none, 1, deadline, stop_fd);
        return fail(why, whylen, "ExtORPort: the bridge does not offer SAFE_COOKIE");
    }
    uint8_t choice = AUTH_SAFE_COOKIE, client_nonce[32];
    /* getrandom(2), not RAND_bytes: OpenSSL's per-thread DRBG would
     * outlive this short-lived client thread's TLS. */
    if (getrandom(client_nonce, sizeof client_nonce, 0) != (ssize_t)sizeof client_nonce)
        return fail(why, whylen, "ExtORPort: no random bytes");
    uint8_t hello[33];
    hello[0] = choice;
    memcpy(hello + 1, client_nonce, 32);
    if ((rc = front_write_all(fd, hello, sizeof hello, deadline, stop_fd)) < 0)
        return fail(why, whylen, "ExtORPort: sending the nonce: %s", io_reason(rc));
    uint8_t server[64], expect[32];
    if ((rc = front_read_exact(fd, server, sizeof server, deadline, stop_fd)) < 0)
        return fail(why, whylen, "ExtORPort: server hash: %s", io_reason(rc));
    front_extor_hash(cookie, true, client_nonce, server + 32, expect);
    if (CRYPTO_memcmp(expect, server, 32) != 0)
        return fail(why, whylen, "ExtORPort: the bridge's hash does not match the cookie "
                                 "(a stale or foreign cookie file?)");
    uint8_t client_hash[32];
    front_extor_hash(cookie, false, client_nonce, server + 32, client_hash);
    if ((rc = front_write_all(fd, client_hash, 32, deadline, stop_fd)) < 0)
        return fail(why, whylen, "ExtORPort: sending our hash: %s", io_reason(rc));
    uint8_t status;
    if ((rc = front_read_exact(fd, &status, 1, deadline, stop_fd)) < 0)
        return fail(why, whylen, "ExtORPort: auth status: %s", io_reason(rc));
    if (status != 1)
        return fail(why, whylen, "ExtORPort: authentication refused by the bridge");

    if ((useraddr && (rc = send_command(fd, CMD_USERADDR, useraddr, deadline, stop_fd)) < 0) ||
        (rc = send_command(fd, CMD_TRANSPORT, transport, deadline, stop_fd)) < 0 ||
        (rc = send_command(fd, CMD_DONE, NULL, deadline, stop_fd)) < 0)
        return fail(why, whylen, "ExtORPort: sending commands: %s", io_reason(rc));
    for (;;) {
        uint8_t head[4];
        if ((rc = front_read_exact(fd, head, 4, deadline, stop_fd)) < 0)
            return fail(why, whylen, "ExtORPort: reply: %s", io_reason(rc));
        uint16_t cmd = (uint16_t)(head[0] << 8 | head[1]);
        size_t len = (size_t)(head[2] << 8 | head[3]);
        uint8_t skip[256];
        while (len > 0) { /* bodies are ignored */
            size_t k = len < sizeof skip ? len : sizeof skip;
            if ((rc = front_read_exact(fd, skip, k, deadline, stop_fd)) < 0)
                return fail(why, whylen, "ExtORPort: reply: %s", io_reason(rc));
            len -= k;
        }
        if (cmd == REPLY_OKAY)
            return 0;
        if (cmd == REPLY_DENY)
            return fail(why, whylen, "ExtORPort: the bridge denied the connection");
        /* Unknown replies are ignored (ext-orport-spec 3.1). */
    }
}
