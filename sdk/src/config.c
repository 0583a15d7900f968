/*
 * config.c - config helpers (portable): a minimal JSON string lookup, hex
 * decoding, the fixed dialer's destination, and handing the config to the
 * transport.
 *
 * The JSON reader is deliberately small: it walks one top-level object,
 * decodes member names and string values, and skips any other value (nested
 * objects and arrays included) without interpreting it. It never allocates
 * and never reads outside json[0..len).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64
#define DIAL_ADDRESS_MAX 256

struct json {
    const uint8_t *p;
    const uint8_t *end;
};

static void json_ws(struct json *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int json_hex4(struct json *j, uint32_t *cu)
{
    if (j->end - j->p < 4)
        return -WATM_EINVAL;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_value(j->p[i]);
        if (d < 0)
            return -WATM_EINVAL;
        v = v << 4 | (uint32_t)d;
    }
    j->p += 4;
    *cu = v;
    return 0;
}

/* Appends one byte to out when it fits; counts it anyway. */
static void put(uint8_t *out, size_t cap, size_t *n, uint8_t c)
{
    if (out && *n < cap)
        out[*n] = c;
    (*n)++;
}

static void put_utf8(uint8_t *out, size_t cap, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        put(out, cap, n, (uint8_t)cp);
    } else if (cp < 0x800) {
        put(out, cap, n, (uint8_t)(0xC0 | cp >> 6));
        put(out, cap, n, (uint8_t)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        put(out, cap, n, (uint8_t)(0xE0 | cp >> 12));
        put(out, cap, n, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        put(out, cap, n, (uint8_t)(0x80 | (cp & 0x3F)));
    } else {
        put(out, cap, n, (uint8_t)(0xF0 | cp >> 18));
        put(out, cap, n, (uint8_t)(0x80 | ((cp >> 12) & 0x3F)));
        put(out, cap, n, (uint8_t)(0x80 | ((cp >> 6) & 0x3F)));
        put(out, cap, n, (uint8_t)(0x80 | (cp & 0x3F)));
    }
}

/*
 * Parses the string at j->p (which must be '"'), decoding into out[0..cap)
 * when out is non-NULL. *n receives the full decoded length, which exceeds
 * cap when the string did not fit. 0 or -WATM_EINVAL.
 */
static int json_string(struct json *j, uint8_t *out, size_t cap, size_t *n)
{
    *n = 0;
    if (j->p >= j->end || *j->p != '"')
        return -WATM_EINVAL;
    j->p++;
    while (j->p < j->end) {
        uint8_t c = *j->p++;
        if (c == '"')
            return 0;
        if (c < 0x20)
            return -WATM_EINVAL;
        if (c != '\\') {
            put(out, cap, n, c);
            continue;
        }
        if (j->p >= j->end)
            return -WATM_EINVAL;
        c = *j->p++;
        switch (c) {
        case '"': case '\\': case '/': put(out, cap, n, c); break;
        case 'b': put(out, cap, n, '\b'); break;
        case 'f': put(out, cap, n, '\f'); break;
        case 'n': put(out, cap, n, '\n'); break;
        case 'r': put(out, cap, n, '\r'); break;
        case 't': put(out, cap, n, '\t'); break;
        case 'u': {
            uint32_t cp, lo;
            if (json_hex4(j, &cp) < 0)
                return -WATM_EINVAL;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return -WATM_EINVAL; /* lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                    return -WATM_EINVAL;
                j->p += 2;
                if (json_hex4(j, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return -WATM_EINVAL;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(out, cap, n, cp);
            break;
        }
        default:
            return -WATM_EINVAL;
        }
    }
    return -WATM_EINVAL; /* unterminated */
}

static int json_skip_value(struct json *j, int depth);

static bool is_number_char(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' ||
           c == 'E';
}

/* Skips the members of an object or the elements of an array; j->p is just
 * past the opening bracket. */
static int json_skip_container(struct json *j, uint8_t close, int depth)
{
    size_t n;
    json_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return 0;
    }
    for (;;) {
        json_ws(j);
        if (close == '}') {
            if (json_string(j, NULL, 0, &n) < 0)
                return -WATM_EINVAL;
            json_ws(j);
            if (j->p >= j->end || *j->p++ != ':')
                return -WATM_EINVAL;
        }
        if (json_skip_value(j, depth + 1) < 0)
            return -WATM_EINVAL;
        json_ws(j);
        if (j->p >= j->end)
            return -WATM_EINVAL;
        uint8_t c = *j->p++;
        if (c == close)
            return 0;
        if (c != ',')
            return -WATM_EINVAL;
    }
}

static int json_skip_value(struct json *j, int depth)
{
    size_t n;
    if (depth > JSON_MAX_DEPTH)
        return -WATM_EINVAL;
    json_ws(j);
    if (j->p >= j->end)
        return -WATM_EINVAL;
    uint8_t c = *j->p;
    if (c == '"')
        return json_string(j, NULL, 0, &n);
    if (c == '{' || c == '[') {
        j->p++;
        return json_skip_container(j, c == '{' ? '}' : ']', depth);
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t l = strlen(literals[i]);
        if ((size_t)(j->end - j->p) >= l && memcmp(j->p, literals[i], l) == 0) {
            j->p += l;
            return 0;
        }
    }
    /* A number: accepted loosely as a run of number characters. */
    const uint8_t *start = j->p;
    while (j->p < j->end && is_number_char(*j->p))
        j->p++;
    return j->p > start ? 0 : -WATM_EINVAL;
}

ssize_t watm_json_string(const uint8_t *json, size_t len, const char *key,
                         char *out, size_t cap)
{
    struct json j = {json, json + len};
    size_t keylen = strlen(key);
    uint8_t name[128];
    size_t n;

    if (json == NULL)
        return -WATM_EINVAL;
    json_ws(&j);
    if (j.p >= j.end || *j.p++ != '{')
        return -WATM_EINVAL;
    json_ws(&j);
    if (j.p < j.end && *j.p == '}')
        return -WATM_ENOENT;
    for (;;) {
        json_ws(&j);
        if (json_string(&j, name, sizeof name, &n) < 0)
            return -WATM_EINVAL;
        bool match = n == keylen && n <= sizeof name && memcmp(name, key, n) == 0;
        json_ws(&j);
        if (j.p >= j.end || *j.p++ != ':')
            return -WATM_EINVAL;
        json_ws(&j);
        if (match) {
            if (j.p >= j.end || *j.p != '"')
                return -WATM_EINVAL;
            if (json_string(&j, (uint8_t *)out, cap, &n) < 0)
                return -WATM_EINVAL;
            if (cap == 0 || n > cap - 1)
                return -WATM_ENOBUFS;
            out[n] = '\0';
            return (ssize_t)n;
        }
        if (json_skip_value(&j, 1) < 0)
            return -WATM_EINVAL;
        json_ws(&j);
        if (j.p >= j.end)
            return -WATM_EINVAL;
        uint8_t c = *j.p++;
        if (c == '}')
            return -WATM_ENOENT;
        if (c != ',')
            return -WATM_EINVAL;
    }
}

ssize_t watm_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap)
{
    if (len % 2)
        return -WATM_EINVAL;
    if (len / 2 > cap)
        return -WATM_ENOBUFS;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value((unsigned char)hex[i]);
        int lo = hex_value((unsigned char)hex[i + 1]);
        if (hi < 0 || lo < 0)
            return -WATM_EINVAL;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (ssize_t)(len / 2);
}

/* ---- fixed dialer destination ------------------------------------------- */

static char dial_address[DIAL_ADDRESS_MAX + 1];

int watm_set_dial_address(const char *addr)
{
    size_t n = addr ? strlen(addr) : 0;
    if (n == 0 || n > DIAL_ADDRESS_MAX)
        return -WATM_EINVAL;
    memcpy(dial_address, addr, n + 1);
    return 0;
}

const char *watm_dial_address(void)
{
    return dial_address[0] ? dial_address : NULL;
}

/* ---- applying a config ---------------------------------------------------- */

int watm_config_apply(const struct watm_transport *t, const uint8_t *cfg, size_t len)
{
    if (cfg != NULL && len > 0) {
        char addr[DIAL_ADDRESS_MAX + 1];
        ssize_t r = watm_json_string(cfg, len, "dial_address", addr, sizeof addr);
        if (r >= 0) {
            if (watm_set_dial_address(addr) < 0) {
                watm_log("config: dial_address is empty");
                return -WATM_EINVAL;
            }
        } else if (r == -WATM_ENOBUFS) {
            watm_log("config: dial_address is longer than 256 bytes");
            return -WATM_EINVAL;
        }
        /* -ENOENT: no such member; -EINVAL: not JSON, the transport's format. */
    } else {
        cfg = NULL;
        len = 0;
    }
    if (t->configure == NULL)
        return 0;
    int r = t->configure(cfg, len);
    if (r < 0)
        watm_log_num("config: the transport rejected its config, errno", -r);
    return r < 0 ? r : 0;
}

int watm_config_read_fd(int fd, uint8_t **out, size_t *len)
{
    size_t cap = 1024, n = 0;
    uint8_t *buf = malloc(cap + 1);
    if (buf == NULL)
        return -WATM_ENOMEM;
    for (;;) {
        if (n == cap) {
            if (cap >= WATM_CONFIG_MAX) {
                free(buf);
                watm_log("config: 1 MiB or larger");
                return -WATM_EFBIG;
            }
            cap *= 2;
            uint8_t *grown = realloc(buf, cap + 1);
            if (grown == NULL) {
                free(buf);
                return -WATM_ENOMEM;
            }
            buf = grown;
        }
        ssize_t r = watm_sys_read(fd, buf + n, cap - n);
        if (r < 0) {
            free(buf);
            return (int)r;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0'; /* convenience; not counted */
    *out = buf;
    *len = n;
    return 0;
}
