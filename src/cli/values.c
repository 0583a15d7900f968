/*
 * values.c - parsing command-line arguments into wasm values and printing
 * results (integers as signed decimals, floats as the shortest decimal
 * that reads back to the same bits).
 */
#include "values.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_int(const char *s, int bits, uint64_t *out)
{
    char *end;
    errno = 0;
    if (s[0] == '-') {
        long long v = strtoll(s, &end, 0);
        if (errno || *end || end == s)
            return false;
        if (bits == 32 && v < INT32_MIN)
            return false;
        *out = (uint64_t)v;
    } else {
        unsigned long long v = strtoull(s, &end, 0);
        if (errno || *end || end == s)
            return false;
        if (bits == 32 && v > UINT32_MAX)
            return false;
        *out = v;
    }
    return true;
}

bool value_parse(const char *s, wasm_valtype t, wasm_val *out)
{
    char *end;
    uint64_t u;
    out->type = t;
    switch (t) {
    case WASM_I32:
        if (!parse_int(s, 32, &u))
            return false;
        out->of.i32 = (int32_t)(uint32_t)u;
        return true;
    case WASM_I64:
        if (!parse_int(s, 64, &u))
            return false;
        out->of.i64 = (int64_t)u;
        return true;
    case WASM_F32:
        out->of.f32 = strtof(s, &end);
        return *s && !*end;
    case WASM_F64:
        out->of.f64 = strtod(s, &end);
        return *s && !*end;
    default:
        if (strcmp(s, "null") != 0)
            return false;
        out->of.ref = NULL;
        return true;
    }
}

static void shortest_double(char *buf, size_t n, double d)
{
    if (isnan(d)) {
        snprintf(buf, n, "%snan", signbit(d) ? "-" : "");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static void shortest_float(char *buf, size_t n, float f)
{
    if (isnan(f)) {
        snprintf(buf, n, "%snan", signbit(f) ? "-" : "");
        return;
    }
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)f);
        if (strtof(buf, NULL) == f)
            return;
    }
}

void value_format(char *buf, size_t n, const wasm_val *v)
{
    switch (v->type) {
    case WASM_I32:
        snprintf(buf, n, "%" PRId32, v->of.i32);
        break;
    case WASM_I64:
        snprintf(buf, n, "%" PRId64, v->of.i64);
        break;
    case WASM_F32:
        shortest_float(buf, n, v->of.f32);
        break;
    case WASM_F64:
        shortest_double(buf, n, v->of.f64);
        break;
    default:
        if (v->of.ref)
            snprintf(buf, n, "ref:%p", v->of.ref);
        else
            snprintf(buf, n, "null");
        break;
    }
}
