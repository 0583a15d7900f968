/*
 * pt_env.c - the pure parts of the Tor pluggable-transport front end
 * (PT spec 1.0): k=v argument lists with backslash escapes, the TOR_PT_*
 * environment, SMETHOD ARGS, and merging arguments into a JSON module
 * config.
 */
#define _GNU_SOURCE
#include "front.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- key/value lists ------------------------------------------------------ */

void front_kvlist_free(front_kvlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].key);
        free(l->items[i].value);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

const char *front_kvlist_get(const front_kvlist *l, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; l && i < l->n; i++)
        if (!strcmp(l->items[i].key, key))
            v = l->items[i].value;
    return v;
}

static bool kv_add(front_kvlist *l, char *key, char *value)
{
    front_kv *items = realloc(l->items, (l->n + 1) * sizeof *items);
    if (!items)
        return false;
    l->items = items;
    l->items[l->n++] = (front_kv){key, value};
    return true;
}

/* Copies s[0..n) without its escaping backslashes. */
static char *unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n)
            i++;
        *o++ = s[i];
    }
    *o = '\0';
    return out;
}

int front_pt_parse_args(const char *s, size_t len, front_kvlist *out, char *why,
                        size_t whylen)
{
    size_t i = 0;
    while (i <= len) {
        size_t start = i, eq = (size_t)-1;
        while (i < len && s[i] != ';') {
            if (s[i] == '\\') {
                if (i + 1 == len)
                    return fail(why, whylen, "argument list ends with a lone backslash");
                i += 2;
                continue;
            }
            if (s[i] == '=' && eq == (size_t)-1)
                eq = i;
            i++;
        }
        if (i > start) {
            if (eq == (size_t)-1)
                return fail(why, whylen, "argument '%.*s' is not key=value",
                            (int)(i - start > 60 ? 60 : i - start), s + start);
            if (eq == start)
                return fail(why, whylen, "argument '%.*s' has an empty key",
                            (int)(i - start > 60 ? 60 : i - start), s + start);
            char *k = unescape(s + start, eq - start);
            char *v = unescape(s + eq + 1, i - eq - 1);
            if (!k || !v || !kv_add(out, k, v)) {
                free(k);
                free(v);
                return fail(why, whylen, "out of memory");
            }
        }
        i++; /* past the ';' (or the end) */
    }
    return 0;
}

static size_t escaped_len(const char *s, const char *special)
{
    size_t n = 0;
    for (; *s; s++)
        n += strchr(special, *s) ? 2 : 1;
    return n;
}

static char *put_escaped(char *o, const char *s, const char *special)
{
    for (; *s; s++) {
        if (strchr(special, *s))
            *o++ = '\\';
        *o++ = *s;
    }
    return o;
}

char *front_pt_smethod_args(const front_kvlist *l)
{
    static const char special[] = "\\=,";
    size_t n = 1;
    for (size_t i = 0; i < l->n; i++)
        n += escaped_len(l->items[i].key, special) + escaped_len(l->items[i].value, special) + 2;
    char *out = malloc(n), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < l->n; i++) {
        if (i)
            *o++ = ',';
        o = put_escaped(o, l->items[i].key, special);
        *o++ = '=';
        o = put_escaped(o, l->items[i].value, special);
    }
    *o = '\0';
    return out;
}

bool front_pt_valid_name(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

/* ---- merging arguments into a JSON config ---------------------------------- */

typedef struct buf {
    char *p;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_json_string(buf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
}

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool hex4(const char *s, size_t n, size_t i, unsigned *out)
{
    if (i + 4 > n)
        return false;
    unsigned v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hexval(s[i + k]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

static void put_utf8(buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    put(b, u, n);
}

/* Scans the JSON string at s[i] == '"'; returns the index after it, or 0.
 * Decodes it into *dec when dec is not NULL. */
static size_t scan_string(const char *s, size_t n, size_t i, buf *dec)
{
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (c != '\\') {
            if (dec)
                put(dec, (const char *)&c, 1);
            continue;
        }
        if (++i == n)
            return 0;
        const char *simple = strchr("\"\\/bfnrt", s[i]);
        if (simple && s[i]) {
            static const char to[] = "\"\\/\b\f\n\r\t";
            if (dec)
                put(dec, &to[simple - "\"\\/bfnrt"], 1);
            continue;
        }
        unsigned cp;
        if (s[i] != 'u' || !hex4(s, n, i + 1, &cp))
            return 0;
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00) { /* a surrogate pair */
            unsigned lo;
            if (i + 2 >= n || s[i + 1] != '\\' || s[i + 2] != 'u' ||
                !hex4(s, n, i + 3, &lo) || lo < 0xdc00 || lo >= 0xe000)
                return 0;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            i += 6;
        }
        if (dec)
            put_utf8(dec, cp);
    }
    return 0;
}

/* Skips one JSON value at s[i]; returns the index after it, or 0. Nested
 * containers are matched by their brackets, scalars end at a delimiter. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i >= n)
        return 0;
    if (s[i] == '"')
        return scan_string(s, n, i, NULL);
    if (s[i] == '{' || s[i] == '[') {
        char stack[64];
        size_t depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                if (!(i = scan_string(s, n, i, NULL)))
                    return 0;
                continue;
            }
            if (c == '{' || c == '[') {
                if (depth == sizeof stack)
                    return 0;
                stack[depth++] = c == '{' ? '}' : ']';
            } else if (c == '}' || c == ']') {
                if (!depth || stack[depth - 1] != c)
                    return 0;
                if (--depth == 0)
                    return i + 1;
            }
            i++;
        }
        return 0;
    }
    size_t start = i;
    while (i < n && !strchr(",}] \t\r\n", s[i]))
        i++;
    return i > start ? i : 0;
}

int front_config_merge(const uint8_t *base, size_t base_len, const front_kvlist *args,
                       uint8_t **out, size_t *out_len, char *why, size_t whylen)
{
    *out = NULL;
    *out_len = 0;
    const char *s = (const char *)base;
    size_t n = base ? base_len : 0;
    if (!args || args->n == 0) {
        if (!base)
            return 0;
        *out = malloc(n ? n : 1);
        if (!*out)
            return fail(why, whylen, "out of memory");
        memcpy(*out, base, n);
        *out_len = n;
        return 0;
    }
    buf b = {0};
    put(&b, "{", 1);
    size_t members = 0;
    size_t i = skip_ws(s, n, 0);
    if (i < n) {
        if (s[i] != '{') {
            free(b.p);
            return fail(why, whylen, "the transport's config is not a JSON object: cannot "
                                     "add the arguments to it");
        }
        i = skip_ws(s, n, i + 1);
        bool first = true;
        while (i < n && s[i] != '}') {
            if (!first) {
                if (s[i] != ',')
                    break;
                i = skip_ws(s, n, i + 1);
            }
            first = false;
            size_t start = i;
            buf key = {0};
            if (i >= n || s[i] != '"' || !(i = scan_string(s, n, i, &key))) {
                free(key.p);
                i = n;
                break;
            }
            i = skip_ws(s, n, i);
            size_t end = i < n && s[i] == ':' ? skip_value(s, n, skip_ws(s, n, i + 1)) : 0;
            if (!end) {
                free(key.p);
                i = n;
                break;
            }
            bool replaced = front_kvlist_get(args, key.p ? key.p : "") != NULL;
            free(key.p);
            if (!replaced) {
                if (members++)
                    put(&b, ",", 1);
                put(&b, s + start, end - start);
            }
            i = skip_ws(s, n, end);
        }
        if (i >= n || s[i] != '}' || skip_ws(s, n, i + 1) != n) {
            free(b.p);
            return fail(why, whylen, "the transport's config is not valid JSON: cannot add "
                                     "the arguments to it");
        }
    }
    for (size_t k = 0; k < args->n; k++) {
        /* A key given twice: the last value wins, written once. */
        if (front_kvlist_get(args, args->items[k].key) != args->items[k].value)
            continue;
        if (members++)
            put(&b, ",", 1);
        put_json_string(&b, args->items[k].key);
        put(&b, ":", 1);
        put_json_string(&b, args->items[k].value);
    }
    put(&b, "}", 1);
    if (b.oom) {
        free(b.p);
        return fail(why, whylen, "out of memory");
    }
    *out = (uint8_t *)b.p;
    *out_len = b.n;
    return 0;
}

/* ---- the environment ------------------------------------------------------- */

static const char *get_var(front_getenv_fn get, void *user, const char *name)
{
    return get ? get(user, name) : getenv(name);
}

/* Splits s at sep into a new array of copies (empty items skipped). */
static bool split_list(const char *s, char sep, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == sep;
    char **items = calloc(cap, sizeof *items);
    if (!items)
        return false;
    *out = items;
    for (const char *p = s;;) {
        const char *e = strchr(p, sep);
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len) {
            if (!(items[*n] = strndup(p, len)))
                return false;
            (*n)++;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return true;
}

static void free_list(char **items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        free(items[i]);
    free(items);
}

static bool version_ok(const char *list)
{
    const char *p = list;
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 1 && p[0] == '1')
            return true;
        if (!e)
            return false;
        p = e + 1;
    }
}

/* "IP:port" or "[IP6]:port" with a numeric address (no host names). */
static bool numeric_addrport(const char *a)
{
    char host[64];
    const char *port;
    if (a[0] == '[') {
        const char *close = strchr(a, ']');
        if (!close || close[1] != ':' || (size_t)(close - a - 1) >= sizeof host)
            return false;
        memcpy(host, a + 1, (size_t)(close - a - 1));
        host[close - a - 1] = '\0';
        port = close + 2;
        struct in6_addr v6;
        if (inet_pton(AF_INET6, host, &v6) != 1)
            return false;
    } else {
        const char *colon = strrchr(a, ':');
        if (!colon || (size_t)(colon - a) >= sizeof host)
            return false;
        memcpy(host, a, (size_t)(colon - a));
        host[colon - a] = '\0';
        port = colon + 1;
        struct in_addr v4;
        if (inet_pton(AF_INET, host, &v4) != 1)
            return false;
    }
    if (!*port || strlen(port) > 5)
        return false;
    for (const char *p = port; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return atol(port) <= 65535;
}

static bool parse_bindaddr(front_pt_env *env, const char *s, char *why, size_t whylen)
{
    char **items;
    size_t n;
    if (!split_list(s, ',', &items, &n)) {
        free_list(items, n);
        return fail(why, whylen, "out of memory") == 0;
    }
    bool ok = true;
    env->bind_names = calloc(n + 1, sizeof *env->bind_names);
    env->bind_addrs = calloc(n + 1, sizeof *env->bind_addrs);
    if (!env->bind_names || !env->bind_addrs) {
        fail(why, whylen, "out of memory");
        ok = false;
    }
    for (size_t i = 0; ok && i < n; i++) {
        char *dash = strchr(items[i], '-');
        if (!dash) {
            fail(why, whylen, "TOR_PT_SERVER_BINDADDR: '%s' is not NAME-ADDRESS:PORT", items[i]);
            ok = false;
            break;
        }
        *dash = '\0';
        if (!front_pt_valid_name(items[i]) || !numeric_addrport(dash + 1)) {
            fail(why, whylen, "TOR_PT_SERVER_BINDADDR: bad entry '%s-%s' (want NAME-IP:PORT)",
                 items[i], dash + 1);
            ok = false;
            break;
        }
        char *name = strdup(items[i]), *addr = strdup(dash + 1);
        if (!name || !addr) {
            free(name);
            free(addr);
            fail(why, whylen, "out of memory");
            ok = false;
            break;
        }
        env->bind_names[env->nbind] = name;
        env->bind_addrs[env->nbind++] = addr;
    }
    free_list(items, n);
    return ok;
}

/* "name:k=v;name:k=v" with ':', ';', '=' and '\' escaped in k and v. */
static bool parse_options(front_pt_env *env, const char *s, char *why, size_t whylen)
{
    size_t len = strlen(s), i = 0;
    while (i <= len) {
        size_t start = i, colon = (size_t)-1;
        while (i < len && s[i] != ';') {
            if (s[i] == '\\') {
                if (i + 1 == len)
                    return fail(why, whylen, "TOR_PT_SERVER_TRANSPORT_OPTIONS ends with a "
                                             "lone backslash") == 0;
                i += 2;
                continue;
            }
            if (s[i] == ':' && colon == (size_t)-1)
                colon = i;
            i++;
        }
        if (i > start) {
            if (colon == (size_t)-1)
                return fail(why, whylen, "TOR_PT_SERVER_TRANSPORT_OPTIONS: '%.*s' is not "
                            "TRANSPORT:KEY=VALUE", (int)(i - start), s + start) == 0;
            char *name = strndup(s + start, colon - start);
            if (!name)
                return fail(why, whylen, "out of memory") == 0;
            if (!front_pt_valid_name(name)) {
                fail(why, whylen, "TOR_PT_SERVER_TRANSPORT_OPTIONS: '%s' is not a transport "
                     "name", name);
                free(name);
                return false;
            }
            size_t k = 0;
            while (k < env->noptions && strcmp(env->option_names[k], name))
                k++;
            if (k == env->noptions) {
                char **names = realloc(env->option_names, (k + 1) * sizeof *names);
                front_kvlist *opts = names ? realloc(env->options, (k + 1) * sizeof *opts)
                                           : NULL;
                if (names)
                    env->option_names = names;
                if (opts)
                    env->options = opts;
                if (!names || !opts) {
                    free(name);
                    return fail(why, whylen, "out of memory") == 0;
                }
                env->option_names[k] = name;
                env->options[k] = (front_kvlist){0};
                env->noptions++;
            } else {
                free(name);
            }
            /* The k=v part: one pair, still escaped. */
            char msg[200];
            if (front_pt_parse_args(s + colon + 1, i - colon - 1, &env->options[k], msg,
                                    sizeof msg) != 0)
                return fail(why, whylen, "TOR_PT_SERVER_TRANSPORT_OPTIONS: %s", msg) == 0;
        }
        i++;
    }
    return true;
}

static bool dup_var(char **dst, const char *v, char *why, size_t whylen)
{
    if (!v)
        return true;
    *dst = strdup(v);
    return *dst || fail(why, whylen, "out of memory") == 0;
}

front_pt_status front_pt_env_parse(front_getenv_fn get, void *user, front_pt_env *env,
                                   char *why, size_t whylen)
{
    memset(env, 0, sizeof *env);
    const char *ver = get_var(get, user, "TOR_PT_MANAGED_TRANSPORT_VER");
    if (!ver || !version_ok(ver)) {
        fail(why, whylen, ver ? "no supported version in '%s' (this proxy speaks 1)"
                              : "TOR_PT_MANAGED_TRANSPORT_VER is not set%s", ver ? ver : "");
        return FRONT_PT_VERSION_ERROR;
    }
    const char *state = get_var(get, user, "TOR_PT_STATE_LOCATION");
    const char *client = get_var(get, user, "TOR_PT_CLIENT_TRANSPORTS");
    const char *server = get_var(get, user, "TOR_PT_SERVER_TRANSPORTS");
    const char *stdin_close = get_var(get, user, "TOR_PT_EXIT_ON_STDIN_CLOSE");
    if (!state || !*state) {
        fail(why, whylen, "TOR_PT_STATE_LOCATION is not set");
        goto bad;
    }
    if (state[0] != '/') {
        fail(why, whylen, "TOR_PT_STATE_LOCATION is not an absolute path: %s", state);
        goto bad;
    }
    if (client && server) {
        fail(why, whylen, "both TOR_PT_CLIENT_TRANSPORTS and TOR_PT_SERVER_TRANSPORTS are "
                          "set: a proxy is a client or a server");
        goto bad;
    }
    if (!client && !server) {
        fail(why, whylen, "neither TOR_PT_CLIENT_TRANSPORTS nor TOR_PT_SERVER_TRANSPORTS "
                          "is set");
        goto bad;
    }
    env->server = server != NULL;
    env->exit_on_stdin_close = stdin_close && !strcmp(stdin_close, "1");
    if (!dup_var(&env->state_location, state, why, whylen))
        goto bad;
    if (!split_list(server ? server : client, ',', &env->transports, &env->ntransports)) {
        fail(why, whylen, "out of memory");
        goto bad;
    }
    if (!server) {
        if (!dup_var(&env->proxy, get_var(get, user, "TOR_PT_PROXY"), why, whylen))
            goto bad;
        return FRONT_PT_OK;
    }
    const char *bind = get_var(get, user, "TOR_PT_SERVER_BINDADDR");
    const char *options = get_var(get, user, "TOR_PT_SERVER_TRANSPORT_OPTIONS");
    const char *orport = get_var(get, user, "TOR_PT_ORPORT");
    const char *ext = get_var(get, user, "TOR_PT_EXTENDED_SERVER_PORT");
    const char *cookie = get_var(get, user, "TOR_PT_AUTH_COOKIE_FILE");
    if (bind && *bind && !parse_bindaddr(env, bind, why, whylen))
        goto bad;
    if (options && *options && !parse_options(env, options, why, whylen))
        goto bad;
    if (ext && !*ext)
        ext = NULL; /* "" means: no Extended ORPort */
    if (orport && !*orport)
        orport = NULL;
    if (!orport && !ext) {
        fail(why, whylen, "neither TOR_PT_ORPORT nor TOR_PT_EXTENDED_SERVER_PORT is set");
        goto bad;
    }
    if (ext && (!cookie || !*cookie)) {
        fail(why, whylen, "no TOR_PT_AUTH_COOKIE_FILE when TOR_PT_EXTENDED_SERVER_PORT is set");
        goto bad;
    }
    if ((orport && !strchr(orport, ':')) || (ext && !strchr(ext, ':'))) {
        fail(why, whylen, "TOR_PT_ORPORT / TOR_PT_EXTENDED_SERVER_PORT: want ADDRESS:PORT");
        goto bad;
    }
    if (!dup_var(&env->orport, orport, why, whylen) ||
        !dup_var(&env->ext_orport, ext, why, whylen) ||
        !dup_var(&env->auth_cookie_file, ext ? cookie : NULL, why, whylen))
        goto bad;
    return FRONT_PT_OK;
bad:
    front_pt_env_free(env);
    return FRONT_PT_ENV_ERROR;
}

void front_pt_env_free(front_pt_env *env)
{
    free_list(env->transports, env->ntransports);
    free(env->state_location);
    free(env->proxy);
    free_list(env->bind_names, env->nbind);
    free_list(env->bind_addrs, env->nbind);
    free_list(env->option_names, env->noptions);
    for (size_t i = 0; i < env->noptions; i++)
        front_kvlist_free(&env->options[i]);
    free(env->options);
    free(env->orport);
    free(env->ext_orport);
    free(env->auth_cookie_file);
    memset(env, 0, sizeof *env);
}

const char *front_pt_env_bindaddr(const front_pt_env *env, const char *name)
{
    for (size_t i = 0; i < env->nbind; i++)
        if (!strcmp(env->bind_names[i], name))
            return env->bind_addrs[i];
    return NULL;
}

const front_kvlist *front_pt_env_options(const front_pt_env *env, const char *name)
{
    for (size_t i = 0; i < env->noptions; i++)
        if (!strcmp(env->option_names[i], name))
            return &env->options[i];
    return NULL;
}
