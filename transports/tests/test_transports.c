/*
 * test_transports.c - native tests of plain, reverse and xor: their
 * transforms through watm_transform_run (as the worker calls them), xor's
 * config formats, chunking independence and documented keystream, and each
 * transport through real workers over socketpairs.
 */
#include "check.h"
#include "harness.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

extern const struct watm_transport plain_transport;
extern const struct watm_transport reverse_transport;
extern const struct watm_transport xor_transport;

/* Runs in[0..len) through t in one direction as the given chunk sizes
 * (cycled; 0-terminated list), then the end-of-stream call. Returns the
 * output length or a negative errno. */
static ssize_t run_chunks(const struct watm_transport *t, enum watm_dir dir,
                          enum watm_role role, const uint8_t *in, size_t len,
                          const size_t *chunks, uint8_t *out, size_t cap)
{
    struct watm_stream s = {.dir = dir, .role = role};
    size_t off = 0, n = 0, c = 0;
    while (off < len) {
        size_t k = chunks[c] ? chunks[c++] : len;
        if (chunks[c] == 0)
            c = 0;
        if (k > len - off)
            k = len - off;
        ssize_t r = watm_transform_run(t, &s, in + off, k, out + n, cap - n);
        if (r < 0)
            return r;
        off += k;
        n += (size_t)r;
    }
    ssize_t r = watm_transform_run(t, &s, NULL, 0, out + n, cap - n);
    return r < 0 ? r : (ssize_t)(n + (size_t)r);
}

static const size_t whole[] = {0};

/* ---- plain ------------------------------------------------------------------ */

static void test_plain_identity(void)
{
    const uint8_t msg[] = "plain bytes";
    uint8_t out[32];
    static const size_t odd[] = {1, 3, 2, 0};
    CHECK(plain_transport.configure == NULL && plain_transport.handshake == NULL);
    CHECK_EQ(run_chunks(&plain_transport, WATM_WRAP, WATM_ROLE_DIALER, msg, 11, odd, out,
                        sizeof out),
             11);
    CHECK_MEM(out, msg, 11);
    CHECK_EQ(run_chunks(&plain_transport, WATM_UNWRAP, WATM_ROLE_LISTENER, msg, 11, whole,
                        out, sizeof out),
             11);
    CHECK_MEM(out, msg, 11);
}

/* ---- reverse ------------------------------------------------------------------ */

static void test_reverse_chunks(void)
{
    uint8_t out[32];
    static const size_t threes[] = {3, 0};
    static const size_t ones[] = {1, 0};
    for (int d = 0; d < 2; d++) {
        enum watm_dir dir = d ? WATM_UNWRAP : WATM_WRAP;
        CHECK_EQ(run_chunks(&reverse_transport, dir, WATM_ROLE_DIALER,
                            (const uint8_t *)"abcdef", 6, whole, out, sizeof out),
                 6);
        CHECK_MEM(out, "fedcba", 6);
        /* Each chunk is reversed on its own: boundaries matter. */
        CHECK_EQ(run_chunks(&reverse_transport, dir, WATM_ROLE_LISTENER,
                            (const uint8_t *)"abcdefg", 7, threes, out, sizeof out),
                 7);
        CHECK_MEM(out, "cbafedg", 7);
        CHECK_EQ(run_chunks(&reverse_transport, dir, WATM_ROLE_RELAY,
                            (const uint8_t *)"xyz", 3, ones, out, sizeof out),
                 3);
        CHECK_MEM(out, "xyz", 3);
    }
    /* Reversing twice with the same chunking restores the bytes. */
    uint8_t *data = test_data(5000, 7);
    uint8_t *once = malloc(5000), *twice = malloc(5000);
    static const size_t mixed[] = {1000, 17, 1, 2000, 0};
    CHECK_EQ(run_chunks(&reverse_transport, WATM_WRAP, WATM_ROLE_DIALER, data, 5000, mixed,
                        once, 5000),
             5000);
    CHECK_EQ(run_chunks(&reverse_transport, WATM_UNWRAP, WATM_ROLE_LISTENER, once, 5000,
                        mixed, twice, 5000),
             5000);
    int same = memcmp(data, twice, 5000) == 0, changed = memcmp(data, once, 5000) != 0;
    free(data);
    free(once);
    free(twice);
    CHECK(same);
    CHECK(changed);
}

/* ---- xor: config ---------------------------------------------------------------- */

static int xor_config(const char *cfg)
{
    return xor_transport.configure((const uint8_t *)cfg, cfg ? strlen(cfg) : 0);
}

/* The first n wire bytes for plaintext zeros, dialer wrap. */
static void xor_sample(uint8_t *out, size_t n)
{
    uint8_t zeros[64] = {0};
    struct watm_stream s = {.dir = WATM_WRAP, .role = WATM_ROLE_DIALER};
    if (watm_transform_run(&xor_transport, &s, zeros, n, out, n) != (ssize_t)n)
        memset(out, 0, n);
}

static void test_xor_config_formats(void)
{
    uint8_t def[32], a[32], b[32];
    CHECK_EQ(xor_config(NULL), 0);
    xor_sample(def, sizeof def);

    /* Equivalent spellings of the same key. */
    CHECK_EQ(xor_config("{\"key\":\"secret\"}"), 0);
    xor_sample(a, sizeof a);
    CHECK_EQ(xor_config("{\"key_hex\":\"736563726574\"}"), 0);
    xor_sample(b, sizeof b);
    CHECK_MEM(a, b, sizeof a);
    CHECK_EQ(xor_config("secret\n"), 0);
    xor_sample(b, sizeof b);
    CHECK_MEM(a, b, sizeof a);
    CHECK_EQ(xor_config("secret"), 0);
    xor_sample(b, sizeof b);
    CHECK_MEM(a, b, sizeof a);
    CHECK_EQ(xor_config("{\"key\":\"not used\",\"key_hex\":\"736563726574\"}"), 0);
    xor_sample(b, sizeof b);
    CHECK_MEM(a, b, sizeof a); /* key_hex wins */
    CHECK(memcmp(a, def, sizeof a) != 0);

    /* A different key gives different bytes. */
    CHECK_EQ(xor_config("{\"key\":\"secreu\"}"), 0);
    xor_sample(b, sizeof b);
    CHECK(memcmp(a, b, sizeof a) != 0);

    /* Default key: no config, blank config, JSON without a key member, or
     * the default spelled out. */
    const char *defaults[] = {"", " \n", "{}", "{\"dial_address\":\"127.0.0.1:1\"}",
                              "WATER-in-C xor transport default key"};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
        CHECK_EQ(xor_config(defaults[i]), 0);
        xor_sample(b, sizeof b);
        CHECK_MEM(def, b, sizeof def);
    }

    /* Rejected configs. */
    CHECK_EQ(xor_config("{\"key_hex\":\"abc\"}"), -WATM_EINVAL);
    CHECK_EQ(xor_config("{\"key_hex\":\"zz\"}"), -WATM_EINVAL);
    CHECK_EQ(xor_config("{\"key_hex\":\"\"}"), -WATM_EINVAL);
    CHECK_EQ(xor_config("{\"key\":\"\"}"), -WATM_EINVAL);
    CHECK_EQ(xor_config("{\"key\":42}"), -WATM_EINVAL);
    CHECK_EQ(xor_config("{\"key\":\"unterminated}"), -WATM_EINVAL);
    char big[1100];
    memset(big, 'k', sizeof big);
    CHECK_EQ(xor_transport.configure((const uint8_t *)big, 1025), -WATM_EINVAL);
    CHECK_EQ(xor_transport.configure((const uint8_t *)big, 1024), 0);

    CHECK_EQ(xor_config(NULL), 0);
}

/* ---- xor: the keystream as documented in xor.c --------------------------------- */

static uint64_t ref_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint8_t ref_ks(const char *key, uint64_t label, uint64_t p)
{
    const uint64_t g = UINT64_C(0x9e3779b97f4a7c15);
    size_t k = strlen(key);
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < k; i++)
        h = (h ^ (uint8_t)key[i]) * UINT64_C(0x100000001b3);
    uint64_t seed = ref_mix(h ^ (label + 1) * g);
    uint64_t w = ref_mix(seed + (p / 8 + 1) * g);
    return (uint8_t)(w >> (8 * (p % 8))) ^ (uint8_t)key[p % k];
}

static void test_xor_keystream_spec(void)
{
    const char *key = "abc"; /* short key: exercises the K[p % k] wrap */
    CHECK_EQ(xor_config(key), 0);
    uint8_t zeros[100] = {0}, out[100];
    struct {
        enum watm_dir dir;
        enum watm_role role;
        uint64_t label;
    } cases[] = {
        {WATM_WRAP, WATM_ROLE_DIALER, 0},     {WATM_UNWRAP, WATM_ROLE_LISTENER, 0},
        {WATM_WRAP, WATM_ROLE_FIXED_DIALER, 0}, {WATM_WRAP, WATM_ROLE_RELAY, 0},
        {WATM_UNWRAP, WATM_ROLE_DIALER, 1},   {WATM_WRAP, WATM_ROLE_LISTENER, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        /* Start mid-stream to check positions, not just offsets in a call. */
        struct watm_stream s = {.dir = cases[c].dir, .role = cases[c].role, .in_pos = 1000};
        CHECK_EQ(watm_transform_run(&xor_transport, &s, zeros, 100, out, 100), 100);
        for (uint64_t i = 0; i < 100; i++)
            CHECK_EQ(out[i], ref_ks(key, cases[c].label, 1000 + i));
    }
    CHECK_EQ(xor_config(NULL), 0);
}

/* ---- xor: chunking independence, round trips, the wire ------------------------- */

static void test_xor_chunking_independent(void)
{
    const size_t len = 100000;
    uint8_t *data = test_data(len, 9);
    uint8_t *ref = malloc(len), *got = malloc(len);
    static const size_t c1[] = {1, 0};
    static const size_t c2[] = {7, 4096, 3, 1, 65536, 0};
    static const size_t c3[] = {8, 0};
    static const size_t c4[] = {16384, 5, 0};
    const size_t *chunkings[] = {c1, c2, c3, c4};
    int ok = 1;
    for (int d = 0; d < 2 && ok; d++) {
        for (int role = WATM_ROLE_DIALER; role <= WATM_ROLE_RELAY && ok; role++) {
            enum watm_dir dir = d ? WATM_UNWRAP : WATM_WRAP;
            ok = run_chunks(&xor_transport, dir, role, data, len, whole, ref, len) ==
                 (ssize_t)len;
            for (size_t k = 0; k < 4 && ok; k++)
                ok = run_chunks(&xor_transport, dir, role, data, len, chunkings[k], got,
                                len) == (ssize_t)len &&
                     memcmp(ref, got, len) == 0;
        }
    }
    free(data);
    free(ref);
    free(got);
    CHECK(ok);
}

static size_t same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += a[i] == b[i];
    return k;
}

static void test_xor_round_trips(void)
{
    const size_t len = 65536;
    uint8_t *plain = test_data(len, 10);
    uint8_t *wire = malloc(len), *back = malloc(len), *other = malloc(len);
    static const size_t a[] = {1000, 1, 0};
    static const size_t b[] = {333, 0};

    /* Initiator -> listener. */
    CHECK_EQ(run_chunks(&xor_transport, WATM_WRAP, WATM_ROLE_DIALER, plain, len, a, wire, len),
             (ssize_t)len);
    CHECK(same_bytes(plain, wire, len) < len / 64); /* about 1/256 by chance */
    CHECK_EQ(run_chunks(&xor_transport, WATM_UNWRAP, WATM_ROLE_LISTENER, wire, len, b, back,
                        len),
             (ssize_t)len);
    CHECK_MEM(back, plain, len);

    /* Listener -> initiator uses another keystream. */
    CHECK_EQ(run_chunks(&xor_transport, WATM_WRAP, WATM_ROLE_LISTENER, plain, len, b, other,
                        len),
             (ssize_t)len);
    CHECK(same_bytes(wire, other, len) < len / 64);
    CHECK_EQ(run_chunks(&xor_transport, WATM_UNWRAP, WATM_ROLE_DIALER, other, len, a, back,
                        len),
             (ssize_t)len);
    CHECK_MEM(back, plain, len);

    /* The relay wraps as an initiator. */
    CHECK_EQ(run_chunks(&xor_transport, WATM_WRAP, WATM_ROLE_RELAY, plain, len, whole, other,
                        len),
             (ssize_t)len);
    CHECK_MEM(other, wire, len);

    /* A listener with another key does not recover the plaintext. */
    CHECK_EQ(xor_config("{\"key\":\"other\"}"), 0);
    CHECK_EQ(run_chunks(&xor_transport, WATM_UNWRAP, WATM_ROLE_LISTENER, wire, len, b, back,
                        len),
             (ssize_t)len);
    CHECK(same_bytes(back, plain, len) < len / 64);
    CHECK_EQ(xor_config(NULL), 0);

    free(plain);
    free(wire);
    free(back);
    free(other);
}

/* ---- through real workers ------------------------------------------------------ */

static void test_reverse_worker(void)
{
    struct conn_fixture f;
    fixture_open(&f);
    struct worker_run w;
    worker_spawn(&w, &reverse_transport, WATM_ROLE_DIALER, f.internal, f.network, f.ctrl);
    char buf[16];
    CHECK_EQ(write_full(f.app, "hello world", 11), 0);
    CHECK_EQ(read_full(f.peer, buf, 11), 0);
    CHECK_MEM(buf, "dlrow olleh", 11);
    CHECK_EQ(write_full(f.peer, "!dlrow", 6), 0);
    CHECK_EQ(read_full(f.app, buf, 6), 0);
    CHECK_MEM(buf, "world!", 6);
    CHECK_EQ(write_full(f.ctrl_host, "\0", 1), 0);
    CHECK_EQ(worker_wait(&w), -WATM_ECANCELED);
    fixture_close(&f);
}

/* app1 -> [xor dialer] -> wire (captured) -> [xor listener] -> app2, one
 * direction at a time so the wire bytes can be checked exactly. */
static void test_xor_workers_wire(void)
{
    CHECK_EQ(xor_config("{\"key\":\"end to end\",\"dial_address\":\"x:1\"}"), 0);
    const size_t len = 1u << 20;
    uint8_t *plain = test_data(len, 12);
    uint8_t *expect = malloc(len);
    CHECK_EQ(run_chunks(&xor_transport, WATM_WRAP, WATM_ROLE_DIALER, plain, len, whole, expect,
                        len),
             (ssize_t)len);

    /* Dialer: plaintext in, wire bytes out. */
    struct conn_fixture d;
    fixture_open(&d);
    struct worker_run wd;
    worker_spawn(&wd, &xor_transport, WATM_ROLE_DIALER, d.internal, d.network, d.ctrl);
    struct sender s;
    struct receiver wire;
    receiver_spawn(&wire, d.peer, len + 1, 0);
    sender_spawn(&s, d.app, plain, len, 41, true);
    CHECK_EQ(sender_wait(&s), 0);
    CHECK_EQ(receiver_wait(&wire), 0); /* EOF: the app's half-close crossed */
    CHECK_EQ(wire.got, len);
    CHECK_MEM(wire.buf, expect, len);
    CHECK(same_bytes(wire.buf, plain, len) < len / 64);
    CHECK_EQ(shutdown(d.peer, SHUT_WR), 0);
    CHECK_EQ(worker_wait(&wd), 0);

    /* Listener: the captured wire bytes in, plaintext out. */
    struct conn_fixture l;
    fixture_open(&l);
    struct worker_run wl;
    worker_spawn(&wl, &xor_transport, WATM_ROLE_LISTENER, l.internal, l.network, l.ctrl);
    struct receiver app;
    receiver_spawn(&app, l.app, len + 1, 0);
    sender_spawn(&s, l.peer, wire.buf, len, 42, true);
    CHECK_EQ(sender_wait(&s), 0);
    CHECK_EQ(receiver_wait(&app), 0);
    CHECK_EQ(app.got, len);
    CHECK_MEM(app.buf, plain, len);
    CHECK_EQ(shutdown(l.app, SHUT_WR), 0);
    CHECK_EQ(worker_wait(&wl), 0);

    free(app.buf);
    free(wire.buf);
    free(plain);
    free(expect);
    fixture_close(&d);
    fixture_close(&l);
    CHECK_EQ(xor_config(NULL), 0);
}

/* Both directions at once through a dialer and a listener joined by a wire. */
static void test_xor_workers_both_ways(void)
{
    int app1[2], wirep[2], app2[2], c1[2], c2[2];
    make_pair(app1);
    make_pair(wirep);
    make_pair(app2);
    make_pair(c1);
    make_pair(c2);
    const size_t a_len = 3u << 20, b_len = 2u << 20;
    uint8_t *a = test_data(a_len, 13), *b = test_data(b_len, 14);
    struct worker_run w1, w2;
    struct sender sa, sb;
    struct receiver ra, rb;
    worker_spawn(&w1, &xor_transport, WATM_ROLE_DIALER, app1[1], wirep[0], c1[1]);
    worker_spawn(&w2, &xor_transport, WATM_ROLE_LISTENER, app2[1], wirep[1], c2[1]);
    receiver_spawn(&rb, app2[0], a_len + 1, 0);
    receiver_spawn(&ra, app1[0], b_len + 1, 100);
    sender_spawn(&sa, app1[0], a, a_len, 51, true);
    sender_spawn(&sb, app2[0], b, b_len, 52, true);
    int errs = sender_wait(&sa) | sender_wait(&sb) | receiver_wait(&ra) | receiver_wait(&rb);
    int r1 = worker_wait(&w1), r2 = worker_wait(&w2);
    int a_ok = rb.got == a_len && memcmp(rb.buf, a, a_len) == 0;
    int b_ok = ra.got == b_len && memcmp(ra.buf, b, b_len) == 0;
    free(ra.buf);
    free(rb.buf);
    free(a);
    free(b);
    int fds[] = {app1[0], app1[1], wirep[0], wirep[1], app2[0], app2[1], c1[0], c1[1], c2[0], c2[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        close(fds[i]);
    CHECK_EQ(errs, 0);
    CHECK(a_ok);
    CHECK(b_ok);
    CHECK_EQ(r1, 0);
    CHECK_EQ(r2, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    check_watchdog(120);
    RUN(test_plain_identity);
    RUN(test_reverse_chunks);
    RUN(test_xor_config_formats);
    RUN(test_xor_keystream_spec);
    RUN(test_xor_chunking_independent);
    RUN(test_xor_round_trips);
    RUN(test_reverse_worker);
    RUN(test_xor_workers_wire);
    RUN(test_xor_workers_both_ways);
    return check_main_result();
}
