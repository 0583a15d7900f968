/*
 * spec_value.c - values of the spec-test runner: parsing wast2json value
 * objects, matching results against expectations, printing both.
 *
 * wast2json writes every number as the decimal string of its bit pattern
 * ("4294967295" is i32 -1, "2143289344" is f32 NaN), so values are compared
 * bit for bit; only "nan:canonical" and "nan:arithmetic" accept a class of
 * patterns. An externref `ref.extern N` is the host pointer N+1, so that
 * `ref.extern 0` is not the null reference.
 */
#include "spec.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define F32_EXP_QUIET 0x7fc00000u            /* exponent all ones, quiet bit */
#define F32_ABS 0x7fffffffu
#define F64_EXP_QUIET 0x7ff8000000000000ull
#define F64_ABS 0x7fffffffffffffffull

void *spec_extern_ref(uint64_t n)
{
    return (void *)(uintptr_t)(n + 1);
}

static bool fail(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return false;
}

/* A decimal string of at most `max`, nothing else. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_type(const char *s, wasm_valtype *out)
{
    static const struct {
        const char *name;
        wasm_valtype type;
    } types[] = {
        {"i32", WASM_I32},         {"i64", WASM_I64},
        {"f32", WASM_F32},         {"f64", WASM_F64},
        {"v128", WASM_V128},       {"funcref", WASM_FUNCREF},
        {"externref", WASM_EXTERNREF},
    };
    if (!s)
        return false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0) {
            *out = types[i].type;
            return true;
        }
    }
    return false;
}

const char *spec_valtype_name(wasm_valtype t)
{
    switch (t) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    case WASM_V128: return "v128";
    case WASM_FUNCREF: return "funcref";
    case WASM_EXTERNREF: return "externref";
    }
    return "?";
}

/* Sets out->type and, when the value is a plain number or reference, its
 * value. `*special` receives a "nan:..." string, or NULL. */
static bool parse_common(const cJSON *json, wasm_val *out,
                         const char **special, char *why, size_t whylen)
{
    memset(out, 0, sizeof *out);
    *special = NULL;
    if (!cJSON_IsObject(json))
        return fail(why, whylen, "value is not a JSON object");
    const char *type = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(json, "type"));
    if (!parse_type(type, &out->type))
        return fail(why, whylen, "unknown value type %s",
                    type ? type : "(missing)");
    if (out->type == WASM_V128)
        return fail(why, whylen, "v128 values are not supported");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(json, "value");
    const char *s = cJSON_GetStringValue(value);
    if (!s)
        return fail(why, whylen, "%s value missing or not a string",
                    spec_valtype_name(out->type));

    uint64_t bits = 0;
    switch (out->type) {
    case WASM_I32:
    case WASM_F32:
    case WASM_I64:
    case WASM_F64:
        if (strncmp(s, "nan:", 4) == 0 &&
            (out->type == WASM_F32 || out->type == WASM_F64)) {
            *special = s;
            return true;
        }
        if (!parse_u64(s,
                       out->type == WASM_I32 || out->type == WASM_F32
                           ? UINT32_MAX
                           : UINT64_MAX,
                       &bits))
            return fail(why, whylen, "bad %s value \"%.40s\"",
                        spec_valtype_name(out->type), s);
        if (out->type == WASM_I32)
            out->of.i32 = (int32_t)(uint32_t)bits;
        else if (out->type == WASM_F32)
            out->of.f32_bits = (uint32_t)bits;
        else if (out->type == WASM_I64)
            out->of.i64 = (int64_t)bits;
        else
            out->of.f64_bits = bits;
        return true;
    case WASM_FUNCREF:
    case WASM_EXTERNREF:
        if (strcmp(s, "null") == 0) {
            out->of.ref = NULL;
            return true;
        }
        if (out->type == WASM_EXTERNREF &&
            parse_u64(s, (uint64_t)UINTPTR_MAX - 1, &bits)) {
            out->of.ref = spec_extern_ref(bits);
            return true;
        }
        *special = s; /* a non-null reference we cannot name */
        return true;
    case WASM_V128:
        break;
    }
    return fail(why, whylen, "unsupported value");
}

bool spec_parse_arg(const cJSON *json, wasm_val *out, char *why, size_t whylen)
{
    const char *special;
    if (!parse_common(json, out, &special, why, whylen))
        return false;
    if (special)
        return fail(why, whylen, "%s argument \"%.40s\" cannot be passed",
                    spec_valtype_name(out->type), special);
    return true;
}

bool spec_parse_expect(const cJSON *json, spec_expect *out, char *why,
                       size_t whylen)
{
    const char *special;
    out->kind = SPEC_EXACT;
    if (!parse_common(json, &out->val, &special, why, whylen))
        return false;
    if (!special)
        return true;
    if (out->val.type == WASM_FUNCREF || out->val.type == WASM_EXTERNREF)
        out->kind = SPEC_ANY_NONNULL;
    else if (strcmp(special, "nan:canonical") == 0)
        out->kind = SPEC_NAN_CANON;
    else if (strcmp(special, "nan:arithmetic") == 0)
        out->kind = SPEC_NAN_ARITH;
    else
        return fail(why, whylen, "unknown %s value \"%.40s\"",
                    spec_valtype_name(out->val.type), special);
    return true;
}

bool spec_expect_match(const spec_expect *e, const wasm_val *v)
{
    if (v->type != e->val.type)
        return false;
    switch (e->kind) {
    case SPEC_NAN_CANON:
        if (v->type == WASM_F32)
            return (v->of.f32_bits & F32_ABS) == F32_EXP_QUIET;
        return (v->of.f64_bits & F64_ABS) == F64_EXP_QUIET;
    case SPEC_NAN_ARITH:
        if (v->type == WASM_F32)
            return (v->of.f32_bits & F32_EXP_QUIET) == F32_EXP_QUIET;
        return (v->of.f64_bits & F64_EXP_QUIET) == F64_EXP_QUIET;
    case SPEC_ANY_NONNULL:
        return v->of.ref != NULL;
    case SPEC_EXACT:
        break;
    }
    switch (v->type) {
    case WASM_I32: return v->of.i32 == e->val.of.i32;
    case WASM_I64: return v->of.i64 == e->val.of.i64;
    case WASM_F32: return v->of.f32_bits == e->val.of.f32_bits;
    case WASM_F64: return v->of.f64_bits == e->val.of.f64_bits;
    case WASM_FUNCREF:
    case WASM_EXTERNREF: return v->of.ref == e->val.of.ref;
    case WASM_V128: break;
    }
    return false;
}

char *spec_fmt_val(char *buf, size_t len, const wasm_val *v)
{
    const char *t = spec_valtype_name(v->type);
    switch (v->type) {
    case WASM_I32:
        snprintf(buf, len, "i32:%" PRId32, v->of.i32);
        break;
    case WASM_I64:
        snprintf(buf, len, "i64:%" PRId64, v->of.i64);
        break;
    case WASM_F32: {
        float f;
        uint32_t bits = v->of.f32_bits;
        memcpy(&f, &bits, sizeof f);
        snprintf(buf, len, "f32:%.9g (0x%08" PRIx32 ")", (double)f, bits);
        break;
    }
    case WASM_F64: {
        double d;
        uint64_t bits = v->of.f64_bits;
        memcpy(&d, &bits, sizeof d);
        snprintf(buf, len, "f64:%.17g (0x%016" PRIx64 ")", d, bits);
        break;
    }
    case WASM_FUNCREF:
    case WASM_EXTERNREF: {
        uintptr_t p = (uintptr_t)v->of.ref;
        if (!p)
            snprintf(buf, len, "%s:null", t);
        else if (v->type == WASM_EXTERNREF && p <= UINT32_MAX)
            snprintf(buf, len, "%s:%" PRIuPTR, t, p - 1);
        else
            snprintf(buf, len, "%s:%p", t, v->of.ref);
        break;
    }
    default:
        snprintf(buf, len, "<type 0x%x>", (unsigned)v->type);
        break;
    }
    return buf;
}

char *spec_fmt_expect(char *buf, size_t len, const spec_expect *e)
{
    const char *t = spec_valtype_name(e->val.type);
    switch (e->kind) {
    case SPEC_NAN_CANON:
        snprintf(buf, len, "%s:nan:canonical", t);
        return buf;
    case SPEC_NAN_ARITH:
        snprintf(buf, len, "%s:nan:arithmetic", t);
        return buf;
    case SPEC_ANY_NONNULL:
        snprintf(buf, len, "%s:non-null", t);
        return buf;
    case SPEC_EXACT:
        break;
    }
    return spec_fmt_val(buf, len, &e->val);
}

char *spec_fmt_name(char *buf, size_t len, const char *s)
{
    size_t n = 0;
    if (len == 0)
        return buf;
#define PUT(c)                                                               \
    do {                                                                     \
        if (n + 1 < len)                                                     \
            buf[n++] = (c);                                                  \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (strncmp((const char *)p, NUL_MARK, strlen(NUL_MARK)) == 0 &&
            n + 4 < len) {
            memcpy(buf + n, "\\x00", 4);
            n += 4;
            p += strlen(NUL_MARK) - 1;
        } else if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\') {
            PUT((char)*p);
        } else if (n + 4 < len) {
            static const char hex[] = "0123456789abcdef";
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = hex[*p >> 4];
            buf[n++] = hex[*p & 15];
        } else {
            break;
        }
    }
    PUT('"');
#undef PUT
    buf[n] = '\0';
    return buf;
}
