/*
 * tests/wasi/test_wasi_engine.c - the WASI layer under the real engine:
 * guest/wasi_guest.c (built with clang --target=wasm32-wasi) run per
 * scenario, plus guest/iovec.wat (hostile pointers through real calls) and
 * guest/link_all.wat (every preview 1 import links).
 *
 * Usage: test_wasi_engine [SCENARIO]; the argument is a cmocka test-name
 * filter, so CTest runs one scenario per test. Modules are read from
 * WASI_TEST_DIR (the build directory).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wasi/wasi.h"
#include "water/wasm.h"

static wasm_module *load(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", WASI_TEST_DIR, name);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("%s: %s", path, strerror(errno));
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)len);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    wasm_error err;
    wasm_module *m = wasm_module_new(bytes, (size_t)len, &err);
    free(bytes);
    if (!m)
        fail_msg("%s: %s", name, err.message);
    return m;
}

static wasm_instance *instantiate(wasm_module *m, wasm_linker *l,
                                  wasi_ctx *ctx)
{
    wasm_error err;
    wasm_instance_config cfg = {.userdata = ctx};
    wasm_instance *inst = wasm_instance_new(m, l, &cfg, &err);
    if (!inst)
        fail_msg("wasm_instance_new: %s", err.message);
    assert_ptr_equal(wasi_ctx_of(inst), ctx);
    return inst;
}

/* Runs _start of wasi_guest.wasm under ctx; returns the exit code. */
static int run_guest(wasi_ctx *ctx)
{
    wasm_module *m = load("wasi_guest.wasm");
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasi_link(l), WASM_OK);
    wasm_instance *inst = instantiate(m, l, ctx);
    wasm_func *start = wasm_instance_func(inst, "_start");
    assert_non_null(start);
    wasm_error err;
    wasm_err rc = wasm_call(inst, start, NULL, 0, NULL, 0, &err);
    int code = 0, wcode = -1;
    if (rc == WASM_ERR_TRAP && err.trap == WASM_TRAP_EXIT) {
        code = err.exit_code;
        assert_true(wasi_exit_code(ctx, &wcode));
        assert_int_equal(wcode, code);
    } else if (rc != WASM_OK) {
        fail_msg("_start: %s", err.message);
    }
    wasm_instance_free(inst);
    wasm_linker_free(l);
    wasm_module_free(m);
    return code;
}

static wasi_ctx *new_ctx(wasi_options *o, const char *const *args,
                         size_t nargs)
{
    char err[256];
    o->args = args;
    o->nargs = nargs;
    o->stdio[2] = WASI_STDIO_INHERIT; /* guest diagnostics reach the log */
    wasi_ctx *ctx = wasi_ctx_new(o, err, sizeof err);
    if (!ctx)
        fail_msg("wasi_ctx_new: %s", err);
    return ctx;
}

static void test_stdout(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    const char *args[] = {"wasi_guest", "stdout"};
    wasi_options o = {.stdio = {0, WASI_STDIO_FD}, .stdio_fd = {-1, p[1]}};
    wasi_ctx *ctx = new_ctx(&o, args, 2);
    assert_int_equal(run_guest(ctx), 0);
    wasi_ctx_free(ctx);
    close(p[1]);
    char buf[64] = {0};
    assert_int_equal(read(p[0], buf, sizeof buf - 1), 16);
    assert_string_equal(buf, "hello from wasm\n");
    close(p[0]);
}

static void test_args(void **state)
{
    (void)state;
    const char *args[] = {"wasi_guest", "args", "two words", ""};
    const char *env[] = {"WATER_TEST=yes", "EMPTY="};
    wasi_options o = {.env = env, .nenv = 2};
    wasi_ctx *ctx = new_ctx(&o, args, 4);
    assert_int_equal(run_guest(ctx), 0);
    wasi_ctx_free(ctx);
}

static void test_exit_code(void **state)
{
    (void)state;
    const char *args[] = {"wasi_guest", "exit_code"};
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, args, 2);
    assert_int_equal(run_guest(ctx), 42);
    wasi_ctx_free(ctx);
}

static void test_exit_zero(void **state)
{
    (void)state;
    const char *args[] = {"wasi_guest", "exit_zero"};
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, args, 2);
    assert_int_equal(run_guest(ctx), 0);
    int code = -1;
    assert_true(wasi_exit_code(ctx, &code));
    assert_int_equal(code, 0);
    wasi_ctx_free(ctx);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_files(void **state)
{
    (void)state;
    char root[] = "/tmp/water-wasi-engine-XXXXXX", p[256], data[256];
    assert_non_null(mkdtemp(root));
    snprintf(data, sizeof data, "%s/data", root);
    assert_int_equal(mkdir(data, 0755), 0);
    snprintf(p, sizeof p, "%s/data/sub", root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/data/hello.txt", root);
    write_file(p, "hello, file\n");
    snprintf(p, sizeof p, "%s/outside.txt", root);
    write_file(p, "secret\n");
    const char *args[] = {"wasi_guest", "files"};
    wasi_preopen pre = {.host_path = data, .guest_path = "/data"};
    wasi_options o = {.preopens = &pre, .npreopens = 1};
    wasi_ctx *ctx = new_ctx(&o, args, 2);
    int code = run_guest(ctx);
    wasi_ctx_free(ctx);
    snprintf(p, sizeof p, "%s/data/new.txt", root);
    bool created = access(p, F_OK) == 0;
    snprintf(p, sizeof p, "rm -rf '%s'", root);
    assert_int_equal(system(p), 0);
    assert_int_equal(code, 0);
    assert_false(created);
}

static void test_nonblock(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char *args[] = {"wasi_guest", "nonblock", "3"};
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, args, 3);
    uint32_t fd;
    assert_int_equal(wasi_fd_insert(ctx, sv[1], WASI_FD_AUTO, &fd), 0);
    assert_int_equal(fd, 3);
    assert_int_equal(run_guest(ctx), 0);
    char buf[8] = {0};
    assert_int_equal(read(sv[0], buf, sizeof buf), 4);
    assert_string_equal(buf, "ping");
    wasi_ctx_free(ctx);
    close(sv[0]);
}

static void test_poll_clock(void **state)
{
    (void)state;
    const char *args[] = {"wasi_guest", "poll_clock"};
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, args, 2);
    assert_int_equal(run_guest(ctx), 0);
    wasi_ctx_free(ctx);
}

static void *late_writer(void *arg)
{
    struct timespec ts = {0, 100 * 1000000};
    nanosleep(&ts, NULL);
    ssize_t r = write(*(int *)arg, "abc", 3);
    (void)r;
    return NULL;
}

static void test_poll_socket(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char *args[] = {"wasi_guest", "poll_socket", "3"};
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, args, 3);
    uint32_t fd;
    assert_int_equal(wasi_fd_insert(ctx, sv[1], WASI_FD_AUTO, &fd), 0);
    assert_int_equal(fd, 3);
    pthread_t t;
    pthread_create(&t, NULL, late_writer, &sv[0]);
    int code = run_guest(ctx);
    pthread_join(t, NULL);
    assert_int_equal(code, 0);
    wasi_ctx_free(ctx);
    close(sv[0]);
}

static void test_random(void **state)
{
    (void)state;
    const char *args[] = {"wasi_guest", "random"};
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, args, 2);
    assert_int_equal(run_guest(ctx), 0);
    wasi_ctx_free(ctx);
}

static void test_config(void **state)
{
    (void)state;
    const char *cfg = "{\"key\": \"value\"}\nline 2\n";
    const char *args[] = {"wasi_guest", "config", cfg};
    wasi_options o = {.config = cfg, .config_len = strlen(cfg)};
    wasi_ctx *ctx = new_ctx(&o, args, 3);
    assert_int_equal(run_guest(ctx), 0);
    wasi_ctx_free(ctx);
}

/* Calls an export (i32 x4 -> i32) of iovec.wasm. */
static int32_t call4(wasm_instance *inst, const char *name, uint32_t a,
                     uint32_t b, uint32_t c, uint32_t d)
{
    wasm_func *f = wasm_instance_func(inst, name);
    assert_non_null(f);
    wasm_val args[4] = {{.type = WASM_I32, .of.i32 = (int32_t)a},
                        {.type = WASM_I32, .of.i32 = (int32_t)b},
                        {.type = WASM_I32, .of.i32 = (int32_t)c},
                        {.type = WASM_I32, .of.i32 = (int32_t)d}};
    wasm_val res[1];
    wasm_error err;
    if (wasm_call(inst, f, args, 4, res, 1, &err) != WASM_OK)
        fail_msg("%s: %s", name, err.message);
    return res[0].of.i32;
}

static void put_iov(wasm_instance *inst, uint32_t at, uint32_t buf,
                    uint32_t len)
{
    uint8_t *p = wasm_memory_ptr(inst, at, 8);
    assert_non_null(p);
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(buf >> (8 * i));
        p[4 + i] = (uint8_t)(len >> (8 * i));
    }
}

static void test_iovec_bounds(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, NULL, 0);
    uint32_t fd;
    assert_int_equal(wasi_fd_insert(ctx, sv[1], WASI_FD_AUTO, &fd), 0);
    wasm_module *m = load("iovec.wasm");
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasi_link(l), WASM_OK);
    wasm_instance *inst = instantiate(m, l, ctx);
    const uint32_t end = 65536, iov = 0x100, out = 0x200, buf = 0x1000;
    assert_int_equal(wasm_memory_size(inst), end);
    memcpy(wasm_memory_ptr(inst, buf, 4), "data", 4);
    put_iov(inst, iov, buf, 4);
    put_iov(inst, iov + 8, end - 2, 4); /* crosses the end */
    assert_int_equal(call4(inst, "write", fd, iov, 2, out), WASI_EFAULT);
    put_iov(inst, iov + 8, 0xFFFFFFF0u, 0x20); /* wraps around */
    assert_int_equal(call4(inst, "write", fd, iov, 2, out), WASI_EFAULT);
    assert_int_equal(call4(inst, "read", fd, iov, 2, out), WASI_EFAULT);
    assert_int_equal(call4(inst, "write", fd, end - 8, 2, out), WASI_EFAULT);
    assert_int_equal(call4(inst, "write", fd, iov, 1, end - 2), WASI_EFAULT);
    assert_int_equal(call4(inst, "write", fd, iov, 0x40000000u, out),
                     WASI_EINVAL);
    assert_int_equal(call4(inst, "poll", end - 40, 0x3000, 1, out),
                     WASI_EFAULT);
    char tmp[16];
    assert_int_equal(read(sv[0], tmp, sizeof tmp), -1); /* nothing sent */
    put_iov(inst, iov + 8, end - 4, 4);
    memcpy(wasm_memory_ptr(inst, end - 4, 4), "tail", 4);
    assert_int_equal(call4(inst, "write", fd, iov, 2, out), 0);
    assert_int_equal(read(sv[0], tmp, sizeof tmp), 8);
    assert_memory_equal(tmp, "datatail", 8);
    wasm_instance_free(inst);
    wasm_linker_free(l);
    wasm_module_free(m);
    wasi_ctx_free(ctx);
    close(sv[0]);
}

static void test_link_all(void **state)
{
    (void)state;
    wasi_options o = {0};
    wasi_ctx *ctx = new_ctx(&o, NULL, 0);
    wasm_module *m = load("link_all.wasm");
    assert_int_equal(wasm_module_import_count(m), 46);
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasi_link(l), WASM_OK);
    wasm_instance *inst = instantiate(m, l, ctx);
    wasm_val res[1];
    wasm_error err;
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "yield"), NULL,
                               0, res, 1, &err), WASM_OK);
    assert_int_equal(res[0].of.i32, 0);
    assert_int_equal(wasm_call(inst, wasm_instance_func(inst, "raise"), NULL,
                               0, res, 1, &err), WASM_OK);
    assert_int_equal(res[0].of.i32, WASI_ENOSYS);
    wasm_instance_free(inst);
    wasm_linker_free(l);
    wasm_module_free(m);
    wasi_ctx_free(ctx);
}

#define T(name) {#name, test_##name, NULL, NULL, NULL}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        T(stdout),      T(args),        T(exit_code), T(exit_zero),
        T(files),       T(nonblock),    T(poll_clock), T(poll_socket),
        T(random),      T(config),      T(iovec_bounds), T(link_all),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
