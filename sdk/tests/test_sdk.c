/*
 * test_sdk.c - the SDK's plain-C pieces: output bounds, the transform
 * contract (watm_transform_run), the JSON string lookup, hex decoding,
 * dial_address handling and the config hand-over.
 */
#include "check.h"
#include "internal.h"

#include <stdint.h>

/* ---- bounds and the transform contract --------------------------------- */

static void test_bound_out(void)
{
    CHECK_EQ(watm_bound_out((struct watm_bound){0, 0}, 100), 100);
    CHECK_EQ(watm_bound_out((struct watm_bound){1, 0}, 100), 100);
    CHECK_EQ(watm_bound_out((struct watm_bound){2, 5}, 100), 205);
    CHECK_EQ(watm_bound_out((struct watm_bound){3, 7}, 0), 7);
    CHECK(watm_bound_out((struct watm_bound){SIZE_MAX / 2, 0}, 3) == SIZE_MAX);
    CHECK(watm_bound_out((struct watm_bound){1, SIZE_MAX - 1}, 2) == SIZE_MAX);
}

static ssize_t frame_wrap(struct watm_stream *s, const uint8_t *in, size_t len,
                          uint8_t *out, size_t cap)
{
    (void)s;
    (void)cap;
    out[0] = (uint8_t)len;
    memcpy(out + 1, in, len);
    return (ssize_t)len + 1;
}

static ssize_t too_much(struct watm_stream *s, const uint8_t *in, size_t len,
                        uint8_t *out, size_t cap)
{
    (void)s;
    (void)in;
    (void)len;
    (void)out;
    return (ssize_t)cap + 1;
}

static ssize_t refuse(struct watm_stream *s, const uint8_t *in, size_t len,
                      uint8_t *out, size_t cap)
{
    (void)s;
    (void)in;
    (void)len;
    (void)out;
    (void)cap;
    return -WATM_EPROTO;
}

static void test_transform_run_copy(void)
{
    const struct watm_transport t = {.name = "copy"};
    struct watm_stream s = {.dir = WATM_WRAP};
    uint8_t out[8];
    CHECK_EQ(watm_transform_run(&t, &s, (const uint8_t *)"abcd", 4, out, sizeof out), 4);
    CHECK_MEM(out, "abcd", 4);
    CHECK_EQ(s.in_pos, 4);
    CHECK_EQ(s.out_pos, 4);
    /* In place (the worker reads straight into the output buffer). */
    memcpy(out, "wxyz", 4);
    CHECK_EQ(watm_transform_run(&t, &s, out, 4, out, 4), 4);
    CHECK_MEM(out, "wxyz", 4);
    CHECK_EQ(s.in_pos, 8);
    /* End of stream. */
    CHECK_EQ(watm_transform_run(&t, &s, NULL, 0, out, sizeof out), 0);
    CHECK_EQ(s.in_pos, 8);
    /* Output room below the bound. */
    CHECK_EQ(watm_transform_run(&t, &s, (const uint8_t *)"abcd", 4, out, 3), -WATM_ENOBUFS);
    CHECK_EQ(s.in_pos, 8);
    /* NULL input with a length is a caller bug. */
    CHECK_EQ(watm_transform_run(&t, &s, NULL, 1, out, sizeof out), -WATM_EINVAL);
}

static void test_transform_run_contract(void)
{
    const struct watm_transport t = {
        .name = "frame",
        .wrap = frame_wrap,
        .wrap_bound = {1, 1},
        .unwrap = too_much,
    };
    struct watm_stream w = {.dir = WATM_WRAP};
    struct watm_stream u = {.dir = WATM_UNWRAP};
    uint8_t out[16];

    CHECK_EQ(watm_transform_run(&t, &w, (const uint8_t *)"abc", 3, out, 4), 4);
    CHECK_EQ(out[0], 3);
    CHECK_MEM(out + 1, "abc", 3);
    CHECK_EQ(w.in_pos, 3);
    CHECK_EQ(w.out_pos, 4);
    /* The declared bound is 3 + 1: 3 bytes of room are refused up front. */
    CHECK_EQ(watm_transform_run(&t, &w, (const uint8_t *)"abc", 3, out, 3), -WATM_ENOBUFS);
    /* A transform that claims more than out_cap is caught. */
    CHECK_EQ(watm_transform_run(&t, &u, (const uint8_t *)"abc", 3, out, sizeof out),
             -WATM_EOVERFLOW);
    CHECK_EQ(u.in_pos, 0);

    const struct watm_transport r = {.name = "refuse", .unwrap = refuse};
    CHECK_EQ(watm_transform_run(&r, &u, (const uint8_t *)"abc", 3, out, sizeof out),
             -WATM_EPROTO);
    CHECK_EQ(u.in_pos, 0);
}

/* ---- JSON ------------------------------------------------------------------ */

static ssize_t js(const char *json, const char *key, char *out, size_t cap)
{
    return watm_json_string((const uint8_t *)json, strlen(json), key, out, cap);
}

static void test_json_found(void)
{
    char v[64];
    CHECK_EQ(js("{\"key\":\"abc\"}", "key", v, sizeof v), 3);
    CHECK_STR(v, "abc");
    CHECK_EQ(js(" \n{ \"a\" : 1 , \"key\" :\t\"x y\" } ", "key", v, sizeof v), 3);
    CHECK_STR(v, "x y");
    /* Skips every kind of value before the match. */
    CHECK_EQ(js("{\"n\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,\"s\":\"k\\\"ey\","
                "\"o\":{\"key\":\"inner\",\"arr\":[1,[2,{}],\"]\"]},\"a\":[],"
                "\"key\":\"outer\"}",
                "key", v, sizeof v),
             5);
    CHECK_STR(v, "outer");
    /* First match wins. */
    CHECK_EQ(js("{\"key\":\"one\",\"key\":\"two\"}", "key", v, sizeof v), 3);
    CHECK_STR(v, "one");
    /* Empty string value. */
    CHECK_EQ(js("{\"key\":\"\"}", "key", v, sizeof v), 0);
    CHECK_STR(v, "");
}

static void test_json_escapes(void)
{
    char v[64];
    CHECK_EQ(js("{\"k\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"}", "k", v, sizeof v), 12);
    CHECK_STR(v, "a\"b\\c/d\n\t\r\b\f");
    /* \u escapes become UTF-8: e-acute, euro sign, U+1F600 via surrogates. */
    CHECK_EQ(js("{\"k\":\"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"}", "k", v, sizeof v), 10);
    CHECK_MEM(v, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A", 10);
    /* Escaped member names match their decoded form. */
    CHECK_EQ(js("{\"\\u006bey\":\"v\"}", "key", v, sizeof v), 1);
    CHECK_STR(v, "v");
}

static void test_json_errors(void)
{
    char v[8];
    CHECK_EQ(js("{}", "key", v, sizeof v), -WATM_ENOENT);
    CHECK_EQ(js("{\"other\":\"x\"}", "key", v, sizeof v), -WATM_ENOENT);
    CHECK_EQ(js("{\"o\":{\"key\":\"nested only\"}}", "key", v, sizeof v), -WATM_ENOENT);
    CHECK_EQ(js("", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("key=value", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("[\"key\",\"v\"]", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\":1}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\":\"unterminated}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\" \"v\"}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"a\":tru,\"key\":\"v\"}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"a\":1 \"key\":\"v\"}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\":\"bad \\x escape\"}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\":\"\\ud83d alone\"}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\":\"\\ude00\"}", "key", v, sizeof v), -WATM_EINVAL);
    CHECK_EQ(js("{\"key\":\"raw\ncontrol\"}", "key", v, sizeof v), -WATM_EINVAL);
    /* Too long for the buffer (which needs room for the NUL). */
    CHECK_EQ(js("{\"key\":\"12345678\"}", "key", v, sizeof v), -WATM_ENOBUFS);
    CHECK_EQ(js("{\"key\":\"1234567\"}", "key", v, sizeof v), 7);
    /* Deep nesting is refused, not recursed into without limit. */
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep + n, sizeof deep - n, "{\"a\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    n += (size_t)snprintf(deep + n, sizeof deep - n, ",\"key\":\"v\"}");
    CHECK_EQ(watm_json_string((const uint8_t *)deep, n, "key", v, sizeof v), -WATM_EINVAL);
    /* Length-bounded: the NUL-free tail past len is not read. */
    CHECK_EQ(watm_json_string((const uint8_t *)"{\"key\":\"v\"}", 8, "key", v, sizeof v),
             -WATM_EINVAL);
}

static void test_hex(void)
{
    uint8_t out[4];
    CHECK_EQ(watm_hex_decode("00ffA5b6", 8, out, sizeof out), 4);
    CHECK_MEM(out, "\x00\xff\xa5\xb6", 4);
    CHECK_EQ(watm_hex_decode("", 0, out, sizeof out), 0);
    CHECK_EQ(watm_hex_decode("abc", 3, out, sizeof out), -WATM_EINVAL);
    CHECK_EQ(watm_hex_decode("zz", 2, out, sizeof out), -WATM_EINVAL);
    CHECK_EQ(watm_hex_decode("0011223344", 10, out, sizeof out), -WATM_ENOBUFS);
}

/* ---- config hand-over -------------------------------------------------------- */

static const uint8_t *seen_cfg;
static size_t seen_len;
static int configure_calls;

static int record_configure(const uint8_t *cfg, size_t len)
{
    configure_calls++;
    seen_cfg = cfg;
    seen_len = len;
    return len == 3 && cfg && memcmp(cfg, "bad", 3) == 0 ? -WATM_EINVAL : 0;
}

static void test_config_apply(void)
{
    const struct watm_transport t = {.name = "cfg", .configure = record_configure};
    const char *json = "{\"dial_address\":\"127.0.0.1:9000\",\"key\":\"k\"}";

    CHECK_EQ(watm_config_apply(&t, NULL, 0), 0);
    CHECK_EQ(configure_calls, 1);
    CHECK(seen_cfg == NULL);
    CHECK_EQ(seen_len, 0);
    CHECK(watm_dial_address() == NULL);

    CHECK_EQ(watm_config_apply(&t, (const uint8_t *)json, strlen(json)), 0);
    CHECK_EQ(configure_calls, 2);
    CHECK_EQ(seen_len, strlen(json));
    CHECK_STR(watm_dial_address(), "127.0.0.1:9000");

    /* Not JSON: passed through untouched, no dial address change. */
    CHECK_EQ(watm_config_apply(&t, (const uint8_t *)"raw key bytes", 13), 0);
    CHECK_EQ(seen_len, 13);
    CHECK_STR(watm_dial_address(), "127.0.0.1:9000");

    /* The transport's verdict is init's. */
    CHECK_EQ(watm_config_apply(&t, (const uint8_t *)"bad", 3), -WATM_EINVAL);

    /* dial_address must be a non-empty string of at most 256 bytes. */
    CHECK_EQ(watm_config_apply(&t, (const uint8_t *)"{\"dial_address\":\"\"}", 19),
             -WATM_EINVAL);
    char big[400];
    int n = snprintf(big, sizeof big, "{\"dial_address\":\"%0300d\"}", 1);
    CHECK_EQ(watm_config_apply(&t, (const uint8_t *)big, (size_t)n), -WATM_EINVAL);

    CHECK_EQ(watm_set_dial_address("example.com:443"), 0);
    CHECK_STR(watm_dial_address(), "example.com:443");
    CHECK_EQ(watm_set_dial_address(""), -WATM_EINVAL);
    CHECK_STR(watm_dial_address(), "example.com:443");

    /* No configure hook: fine. */
    const struct watm_transport none = {.name = "none"};
    CHECK_EQ(watm_config_apply(&none, (const uint8_t *)"x", 1), 0);
}

int main(void)
{
    RUN(test_bound_out);
    RUN(test_transform_run_copy);
    RUN(test_transform_run_contract);
    RUN(test_json_found);
    RUN(test_json_escapes);
    RUN(test_json_errors);
    RUN(test_hex);
    RUN(test_config_apply);
    return check_main_result();
}
