/*
 * ss_core.c - Shadowsocks AEAD core (portable): methods, the config, key
 * derivation, SOCKS5 addresses, sealing and opening chunks in place.
 * The wire format is described in ss.h. No I/O here, so the whole file is
 * unit-tested natively.
 */
#include "ss.h"

#include <string.h>

#define PASSWORD_MAX 1024
#define DEFAULT_HEADER_TIMEOUT_S 60
#define MAX_HEADER_TIMEOUT_S 3600

/* ---- logging ------------------------------------------------------------ */

void ss_log(const char *msg, const char *detail)
{
    char line[200 + SS_ADDR_TEXT_MAX];
    size_t n = 0;
    for (const char *s = "shadowsocks: "; *s; s++)
        line[n++] = *s;
    for (const char *s = msg; s && *s && n < 200; s++)
        line[n++] = *s;
    for (const char *s = detail; s && *s && n < sizeof line - 1; s++)
        line[n++] = *s;
    line[n] = '\0';
    watm_log(line);
}

/* ---- methods -------------------------------------------------------------- */

static const struct {
    const char *name;
    enum ss_method method;
    size_t key_len;
} methods[] = {
    {"chacha20-ietf-poly1305", SS_CHACHA20_IETF_POLY1305, 32},
    {"aes-128-gcm", SS_AES_128_GCM, 16},
    {"aes-256-gcm", SS_AES_256_GCM, 32},
};

size_t ss_method_key_len(enum ss_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == m)
            return methods[i].key_len;
    return 0;
}

enum ss_method ss_method_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(methods[i].name, name) == 0)
            return methods[i].method;
    return SS_METHOD_NONE;
}

const char *ss_method_name(enum ss_method m)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].method == m)
            return methods[i].name;
    return "?";
}

/* ---- key derivation ------------------------------------------------------- */

int ss_derive_key(const char *password, size_t password_len, uint8_t *key, size_t key_len)
{
    uint8_t buf[16 + PASSWORD_MAX];
    uint8_t d[16];
    size_t have = 0, prev = 0;

    if (password_len == 0 || password_len > PASSWORD_MAX || key_len > SS_KEY_MAX)
        return -WATM_EINVAL;
    while (have < key_len) {
        /* D_i = MD5(D_{i-1} || password), D_0 empty. */
        memcpy(buf, d, prev);
        memcpy(buf + prev, password, password_len);
        int r = ss_crypto_md5(buf, prev + password_len, d);
        if (r < 0)
            return r;
        size_t take = key_len - have < 16 ? key_len - have : 16;
        memcpy(key + have, d, take);
        have += take;
        prev = 16;
    }
    return 0;
}

/* ---- SOCKS5 addresses ---------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Dotted quad s[0..len) -> out[4]; strict: 4 parts, 0..255, no leading 0s. */
static bool parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && is_digit(s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return false;
        out[part] = (uint8_t)v;
    }
    return i == len;
}

/* Textual IPv6 s[0..len) (RFC 4291 2.2, with "::" and a trailing dotted
 * quad) -> out[16]. */
static bool parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
    uint16_t g[8];
    int ng = 0, gap = -1; /* gap: group index where "::" stands */
    size_t i = 0;

    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
    } else if (len >= 1 && s[0] == ':') {
        return false;
    }
    while (i < len) {
        /* A dotted quad may end the address, in place of two groups. */
        size_t j = i;
        while (j < len && s[j] != ':' && s[j] != '.')
            j++;
        if (j < len && s[j] == '.') {
            uint8_t v4[4];
            if (ng > 6 || !parse_ipv4(s + i, len - i, v4))
                return false;
            g[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
            g[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
            i = len;
            break;
        }
        unsigned v = 0;
        size_t start = i;
        while (i < len && i - start < 4 && hex_digit(s[i]) >= 0)
            v = v << 4 | (unsigned)hex_digit(s[i++]);
        if (i == start || ng == 8)
            return false;
        g[ng++] = (uint16_t)v;
        if (i == len)
            break;
        if (s[i] != ':')
            return false;
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0)
                return false;
            gap = ng;
            i++;
        } else if (i == len) {
            return false; /* a single trailing ':' */
        }
    }
    if (gap < 0 ? ng != 8 : ng > 7)
        return false;
    memset(out, 0, 16);
    int tail = gap < 0 ? 0 : ng - gap;
    for (int k = 0; k < ng; k++) {
        int pos = (gap < 0 || k < gap) ? k : 8 - tail + (k - gap);
        out[2 * pos] = (uint8_t)(g[k] >> 8);
        out[2 * pos + 1] = (uint8_t)g[k];
    }
    return true;
}

static bool parse_port(const char *s, size_t len, uint16_t *port)
{
    unsigned v = 0;
    if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

static bool name_byte_ok(uint8_t c)
{
    return c > 0x20 && c < 0x7f && c != ':' && c != '/' && c != '[' && c != ']';
}

int ss_addr_encode(const char *text, uint8_t out[SS_ADDR_MAX])
{
    size_t len = strlen(text);
    const char *host, *port_s;
    size_t host_len;
    uint16_t port;
    size_t n;

    if (len > 0 && text[0] == '[') {
        const char *close = memchr(text, ']', len);
        if (close == NULL || close[1] != ':')
            return -WATM_EINVAL;
        host = text + 1;
        host_len = (size_t)(close - host);
        port_s = close + 2;
        if (!parse_ipv6(host, host_len, out + 1))
            return -WATM_EINVAL;
        out[0] = 4;
        n = 17;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL)
            return -WATM_EINVAL;
        host = text;
        host_len = (size_t)(colon - text);
        port_s = colon + 1;
        if (parse_ipv4(host, host_len, out + 1)) {
            out[0] = 1;
            n = 5;
        } else {
            if (host_len == 0 || host_len > 255)
                return -WATM_EINVAL;
            for (size_t i = 0; i < host_len; i++)
                if (!name_byte_ok((uint8_t)host[i]))
                    return -WATM_EINVAL;
            out[0] = 3;
            out[1] = (uint8_t)host_len;
            memcpy(out + 2, host, host_len);
            n = 2 + host_len;
        }
    }
    if (!parse_port(port_s, strlen(port_s), &port))
        return -WATM_EINVAL;
    out[n] = (uint8_t)(port >> 8);
    out[n + 1] = (uint8_t)port;
    return (int)(n + 2);
}

static size_t put_str(char *out, size_t n, const char *s)
{
    while (*s)
        out[n++] = *s++;
    return n;
}

static size_t put_dec(char *out, size_t n, unsigned v)
{
    char d[8];
    size_t k = 0;
    do
        d[k++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (k > 0)
        out[n++] = d[--k];
    return n;
}

static size_t put_ipv4(char *out, size_t n, const uint8_t a[4])
{
    for (int i = 0; i < 4; i++) {
        if (i)
            out[n++] = '.';
        n = put_dec(out, n, a[i]);
    }
    return n;
}

/* RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero
 * groups as "::" (the first such run on a tie); ::ffff:a.b.c.d for
 * IPv4-mapped addresses. */
static size_t put_ipv6(char *out, size_t n, const uint8_t a[16])
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
        n = put_str(out, n, "::ffff:");
        return put_ipv4(out, n, a + 12);
    }
    unsigned g[8];
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        if (g[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            n = put_str(out, n, "::");
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            out[n++] = ':';
        bool lead = true;
        for (int s = 12; s >= 0; s -= 4) {
            unsigned h = (g[i] >> s) & 15;
            if (h == 0 && lead && s > 0)
                continue;
            lead = false;
            out[n++] = "0123456789abcdef"[h];
        }
    }
    return n;
}

int ss_addr_decode(const uint8_t *in, size_t len, char *text)
{
    size_t need, host_len;
    if (len < 1)
        return 0;
    switch (in[0]) {
    case 1:
        host_len = 4;
        need = 1 + 4 + 2;
        break;
    case 4:
        host_len = 16;
        need = 1 + 16 + 2;
        break;
    case 3:
        if (len < 2)
            return 0;
        host_len = in[1];
        if (host_len == 0)
            return -WATM_EINVAL;
        need = 2 + host_len + 2;
        break;
    default:
        return -WATM_EINVAL;
    }
    if (len < need)
        return 0;
    unsigned port = (unsigned)in[need - 2] << 8 | in[need - 1];
    if (port == 0)
        return -WATM_EINVAL;
    if (text == NULL)
        return (int)need;
    size_t n = 0;
    if (in[0] == 1) {
        n = put_ipv4(text, n, in + 1);
    } else if (in[0] == 4) {
        text[n++] = '[';
        n = put_ipv6(text, n, in + 1);
        text[n++] = ']';
    } else {
        for (size_t i = 0; i < host_len; i++) {
            if (!name_byte_ok(in[2 + i]))
                return -WATM_EINVAL;
            text[n++] = (char)in[2 + i];
        }
    }
    text[n++] = ':';
    n = put_dec(text, n, port);
    text[n] = '\0';
    return (int)need;
}

/* ---- config --------------------------------------------------------------- */

/*
 * Finds the top-level member `key` of a JSON object whose value is a number
 * and stores its integer part. 1 found, 0 absent (or not a number), -1 when
 * the text is not a JSON object this small scanner can walk. Strings are
 * left to watm_json_string (which decodes escapes).
 */
struct scan {
    const uint8_t *p, *end;
};

static void scan_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Skips a string at s->p (which is '"'); matches it against key when given. */
static bool scan_string(struct scan *s, const char *key, bool *match)
{
    size_t klen = key ? strlen(key) : 0, i = 0;
    bool same = key != NULL;
    s->p++;
    while (s->p < s->end && *s->p != '"') {
        if (*s->p == '\\') {
            same = false; /* keys with escapes never match: fine for ours */
            s->p++;
            if (s->p >= s->end)
                return false;
        } else if (same && (i >= klen || (uint8_t)key[i] != *s->p)) {
            same = false;
        }
        i++;
        s->p++;
    }
    if (s->p >= s->end)
        return false;
    s->p++;
    if (match)
        *match = same && i == klen;
    return true;
}

static bool scan_value(struct scan *s, int depth)
{
    scan_ws(s);
    if (s->p >= s->end || depth > 32)
        return false;
    uint8_t c = *s->p;
    if (c == '"')
        return scan_string(s, NULL, NULL);
    if (c == '{' || c == '[') {
        uint8_t close = c == '{' ? '}' : ']';
        s->p++;
        scan_ws(s);
        if (s->p < s->end && *s->p == close) {
            s->p++;
            return true;
        }
        for (;;) {
            if (c == '{') {
                scan_ws(s);
                if (s->p >= s->end || *s->p != '"' || !scan_string(s, NULL, NULL))
                    return false;
                scan_ws(s);
                if (s->p >= s->end || *s->p != ':')
                    return false;
                s->p++;
            }
            if (!scan_value(s, depth + 1))
                return false;
            scan_ws(s);
            if (s->p >= s->end)
                return false;
            if (*s->p == close) {
                s->p++;
                return true;
            }
            if (*s->p != ',')
                return false;
            s->p++;
        }
    }
    const uint8_t *start = s->p;
    while (s->p < s->end && (is_digit((char)*s->p) || *s->p == '-' || *s->p == '+' ||
                             *s->p == '.' || *s->p == 'e' || *s->p == 'E' ||
                             (*s->p >= 'a' && *s->p <= 'z')))
        s->p++;
    return s->p > start;
}

static int json_number(const uint8_t *json, size_t len, const char *key, long *out)
{
    struct scan s = {json, json + len};
    scan_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -1;
    s.p++;
    scan_ws(&s);
    if (s.p < s.end && *s.p == '}')
        return 0;
    for (;;) {
        bool match = false;
        scan_ws(&s);
        if (s.p >= s.end || *s.p != '"' || !scan_string(&s, key, &match))
            return -1;
        scan_ws(&s);
        if (s.p >= s.end || *s.p != ':')
            return -1;
        s.p++;
        scan_ws(&s);
        if (match && s.p < s.end && (is_digit((char)*s.p) || *s.p == '-')) {
            long v = 0;
            bool neg = *s.p == '-';
            if (neg)
                s.p++;
            while (s.p < s.end && is_digit((char)*s.p)) {
                if (v < 100000000)
                    v = v * 10 + (*s.p - '0');
                s.p++;
            }
            *out = neg ? -v : v;
            return 1;
        }
        if (!scan_value(&s, 0))
            return -1;
        scan_ws(&s);
        if (s.p >= s.end)
            return -1;
        if (*s.p == '}')
            return 0;
        if (*s.p != ',')
            return -1;
        s.p++;
    }
}

static int config_timeout(struct ss_config *c, const uint8_t *json, size_t len)
{
    char text[16];
    long v = DEFAULT_HEADER_TIMEOUT_S;
    ssize_t n = watm_json_string(json, len, "timeout", text, sizeof text);
    if (n >= 0) {
        size_t i = 0;
        v = 0;
        if (n == 0)
            v = -1;
        for (; i < (size_t)n; i++) {
            if (!is_digit(text[i])) {
                v = -1;
                break;
            }
            if (v < 100000000)
                v = v * 10 + (text[i] - '0');
        }
    } else if (n == -WATM_EINVAL) {
        int r = json_number(json, len, "timeout", &v);
        if (r <= 0)
            v = -1;
    } else if (n != -WATM_ENOENT) {
        v = -1;
    }
    if (v <= 0 || v > MAX_HEADER_TIMEOUT_S) {
        ss_log("config: \"timeout\" must be 1 to 3600 (seconds)", NULL);
        return -WATM_EINVAL;
    }
    c->header_timeout_ms = (uint32_t)v * 1000u;
    return 0;
}

int ss_config_parse(struct ss_config *c, const uint8_t *json, size_t len)
{
    char method[32];
    static char password[PASSWORD_MAX + 1];
    char target[SS_ADDR_TEXT_MAX + 8];

    memset(c, 0, sizeof *c);
    if (json == NULL || len == 0) {
        ss_log("config: none given; want {\"method\": ..., \"password\": ..., "
               "\"target\": \"host:port\"}",
               NULL);
        return -WATM_EINVAL;
    }
    ssize_t n = watm_json_string(json, len, "method", method, sizeof method);
    if (n == -WATM_ENOENT) {
        ss_log("config: \"method\" is missing", NULL);
        return -WATM_EINVAL;
    }
    if (n < 0) {
        ss_log("config: not a JSON object with a string \"method\"", NULL);
        return -WATM_EINVAL;
    }
    c->method = ss_method_from_name(method);
    if (c->method == SS_METHOD_NONE) {
        ss_log("config: unknown method (want chacha20-ietf-poly1305, aes-128-gcm "
               "or aes-256-gcm): ",
               method);
        return -WATM_EINVAL;
    }
    c->key_len = ss_method_key_len(c->method);

    n = watm_json_string(json, len, "password", password, sizeof password);
    if (n <= 0) {
        ss_log(n == -WATM_ENOENT ? "config: \"password\" is missing"
                                 : "config: \"password\" must be a string of 1 to 1024 bytes",
               NULL);
        return -WATM_EINVAL;
    }
    int r = ss_derive_key(password, (size_t)n, c->key, c->key_len);
    memset(password, 0, sizeof password);
    if (r < 0) {
        ss_log("config: cannot derive the key from the password", NULL);
        return r;
    }

    n = watm_json_string(json, len, "target", target, sizeof target);
    if (n >= 0) {
        r = ss_addr_encode(target, c->target);
        if (r < 0) {
            ss_log("config: \"target\" must be host:port, [ipv6]:port or name:port: ",
                   target);
            return -WATM_EINVAL;
        }
        c->target_len = (size_t)r;
        (void)ss_addr_decode(c->target, c->target_len, c->target_text);
    } else if (n != -WATM_ENOENT) {
        ss_log("config: \"target\" must be a string host:port", NULL);
        return -WATM_EINVAL;
    }
    return config_timeout(c, json, len);
}

/* ---- chunks --------------------------------------------------------------- */

static void nonce_next(uint8_t nonce[SS_NONCE_LEN])
{
    for (int i = 0; i < SS_NONCE_LEN; i++)
        if (++nonce[i] != 0)
            break;
}

int ss_cipher_init(struct ss_cipher *c, const struct ss_config *cfg, const uint8_t *salt)
{
    static const uint8_t info[] = "ss-subkey";
    c->method = cfg->method;
    c->key_len = cfg->key_len;
    memset(c->nonce, 0, sizeof c->nonce);
    int r = ss_crypto_hkdf_sha1(cfg->key, cfg->key_len, salt, cfg->key_len, info,
                                sizeof info - 1, c->subkey, c->key_len);
    return r < 0 ? r : 0;
}

int ss_seal_chunk(struct ss_cipher *c, uint8_t *frame, size_t n)
{
    if (n == 0 || n > SS_PAYLOAD_MAX)
        return -WATM_EINVAL;
    frame[0] = (uint8_t)(n >> 8);
    frame[1] = (uint8_t)n;
    int r = ss_crypto_seal(c->method, c->subkey, c->nonce, frame, 2, frame);
    if (r < 0)
        return r;
    nonce_next(c->nonce);
    r = ss_crypto_seal(c->method, c->subkey, c->nonce, frame + SS_LEN_FRAME, n,
                       frame + SS_LEN_FRAME);
    if (r < 0)
        return r;
    nonce_next(c->nonce);
    return (int)(n + SS_CHUNK_OVERHEAD);
}

int ss_open_len(struct ss_cipher *c, uint8_t *block)
{
    int r = ss_crypto_open(c->method, c->subkey, c->nonce, block, SS_LEN_FRAME, block);
    if (r < 0)
        return r;
    nonce_next(c->nonce);
    unsigned n = (unsigned)block[0] << 8 | block[1];
    if (n > SS_PAYLOAD_MAX)
        return -WATM_EPROTO;
    return (int)n;
}

int ss_open_payload(struct ss_cipher *c, uint8_t *payload, size_t n)
{
    int r = ss_crypto_open(c->method, c->subkey, c->nonce, payload, n + SS_TAG_LEN, payload);
    if (r < 0)
        return r;
    nonce_next(c->nonce);
    return 0;
}
