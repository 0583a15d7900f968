/*
 * tests/wasi/test_wasi_proc.c - the linker table, args, environ, clocks,
 * random_get, sched_yield, proc_exit, and the context's error reporting.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "wasi_test.h"

/* All of wasi_snapshot_preview1, with signatures derived by hand from the
 * witx (pointers/sizes/fds/flags i32; filesize, timestamp, rights,
 * filedelta, dircookie i64). */
static const struct {
    const char *name, *sig;
} preview1[] = {
    {"args_get", "ii->i"}, {"args_sizes_get", "ii->i"},
    {"environ_get", "ii->i"}, {"environ_sizes_get", "ii->i"},
    {"clock_res_get", "ii->i"}, {"clock_time_get", "iIi->i"},
    {"fd_advise", "iIIi->i"}, {"fd_allocate", "iII->i"},
    {"fd_close", "i->i"}, {"fd_datasync", "i->i"},
    {"fd_fdstat_get", "ii->i"}, {"fd_fdstat_set_flags", "ii->i"},
    {"fd_fdstat_set_rights", "iII->i"}, {"fd_filestat_get", "ii->i"},
    {"fd_filestat_set_size", "iI->i"}, {"fd_filestat_set_times", "iIIi->i"},
    {"fd_pread", "iiiIi->i"}, {"fd_prestat_get", "ii->i"},
    {"fd_prestat_dir_name", "iii->i"}, {"fd_pwrite", "iiiIi->i"},
    {"fd_read", "iiii->i"}, {"fd_readdir", "iiiIi->i"},
    {"fd_renumber", "ii->i"}, {"fd_seek", "iIii->i"},
    {"fd_sync", "i->i"}, {"fd_tell", "ii->i"},
    {"fd_write", "iiii->i"}, {"path_create_directory", "iii->i"},
    {"path_filestat_get", "iiiii->i"},
    {"path_filestat_set_times", "iiiiIIi->i"},
    {"path_link", "iiiiiii->i"}, {"path_open", "iiiiiIIii->i"},
    {"path_readlink", "iiiiii->i"}, {"path_remove_directory", "iii->i"},
    {"path_rename", "iiiiii->i"}, {"path_symlink", "iiiii->i"},
    {"path_unlink_file", "iii->i"}, {"poll_oneoff", "iiii->i"},
    {"proc_exit", "i->"}, {"proc_raise", "i->i"},
    {"sched_yield", "->i"}, {"random_get", "ii->i"},
    {"sock_accept", "iii->i"}, {"sock_recv", "iiiiii->i"},
    {"sock_send", "iiiii->i"}, {"sock_shutdown", "ii->i"},
};

static void test_link_defines_every_function(void **state)
{
    (void)state;
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasi_link(l), WASM_OK);
    size_t n = sizeof preview1 / sizeof preview1[0];
    assert_int_equal(n, 46);
    assert_int_equal(fake_linker_count(l), n);
    for (size_t i = 0; i < n; i++) {
        const char *sig =
            fake_linker_sig(l, "wasi_snapshot_preview1", preview1[i].name);
        if (!sig)
            fail_msg("%s is not defined", preview1[i].name);
        if (strcmp(sig, preview1[i].sig) != 0)
            fail_msg("%s: signature %s, want %s", preview1[i].name, sig,
                     preview1[i].sig);
    }
    for (size_t i = 0; i < fake_linker_count(l); i++)
        assert_string_equal(fake_linker_module(l, i), WASI_MODULE_NAME);
    wasm_linker_free(l);
}

static void test_stubs_return_their_errno(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    assert_int_equal(WCALL(&f, "proc_raise", 9), WASI_ENOSYS);
    assert_int_equal(WCALL(&f, "path_unlink_file", 3, A_PATH, 1),
                     WASI_ENOTCAPABLE);
    assert_int_equal(WCALL(&f, "path_symlink", A_PATH, 1, 3, A_PATH, 1),
                     WASI_ENOTCAPABLE);
    assert_int_equal(WCALL(&f, "path_readlink", 3, A_PATH, 1, A_BUF, 10,
                           A_OUT), WASI_ENOSYS);
    assert_int_equal(WCALL0(&f, "sched_yield"), 0);
    fx_fini(&f);
}

static void test_nothing_granted_by_default(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    assert_int_equal(WCALL(&f, "args_sizes_get", A_OUT, A_OUT + 4), 0);
    assert_int_equal(ld32(&f, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT + 4), 0);
    assert_int_equal(WCALL(&f, "environ_sizes_get", A_OUT, A_OUT + 4), 0);
    assert_int_equal(ld32(&f, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT + 4), 0);
    st_iov(&f, A_IOV, 0, A_BUF, 3);
    for (uint32_t fd = 0; fd < 8; fd++) {
        assert_int_equal(WCALL(&f, "fd_write", fd, A_IOV, 1, A_OUT),
                         WASI_EBADF);
        assert_int_equal(WCALL(&f, "fd_prestat_get", fd, A_OUT), WASI_EBADF);
    }
    fx_fini(&f);
}

static void test_args_and_environ(void **state)
{
    (void)state;
    const char *args[] = {"prog", "two words", ""};
    const char *env[] = {"A=1", "WATER=yes"};
    wasi_options o = {.args = args, .nargs = 3, .env = env, .nenv = 2};
    fx f;
    fx_init(&f, &o);
    assert_int_equal(WCALL(&f, "args_sizes_get", A_OUT, A_OUT + 4), 0);
    assert_int_equal(ld32(&f, A_OUT), 3);
    assert_int_equal(ld32(&f, A_OUT + 4), 5 + 10 + 1);
    assert_int_equal(WCALL(&f, "args_get", A_IOV, A_BUF), 0);
    for (uint32_t i = 0; i < 3; i++)
        assert_string_equal((char *)f.mem + ld32(&f, A_IOV + 4 * i), args[i]);
    assert_int_equal(ld32(&f, A_IOV), A_BUF);
    assert_int_equal(WCALL(&f, "environ_sizes_get", A_OUT, A_OUT + 4), 0);
    assert_int_equal(ld32(&f, A_OUT), 2);
    assert_int_equal(ld32(&f, A_OUT + 4), 4 + 10);
    assert_int_equal(WCALL(&f, "environ_get", A_IOV, A_BUF), 0);
    assert_string_equal((char *)f.mem + ld32(&f, A_IOV), "A=1");
    assert_string_equal((char *)f.mem + ld32(&f, A_IOV + 4), "WATER=yes");
    fx_fini(&f);
}

static void test_clocks(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    assert_int_equal(WCALL(&f, "clock_time_get", 1, 0, A_OUT), 0);
    uint64_t m1 = ld64(&f, A_OUT);
    assert_int_equal(WCALL(&f, "clock_time_get", 1, 1000, A_OUT), 0);
    assert_true(ld64(&f, A_OUT) >= m1);
    assert_int_equal(WCALL(&f, "clock_time_get", 0, 0, A_OUT), 0);
    uint64_t real = ld64(&f, A_OUT) / 1000000000u;
    uint64_t now = (uint64_t)time(NULL);
    assert_true(real + 2 >= now && real <= now + 2);
    for (uint32_t id = 0; id < 4; id++) {
        assert_int_equal(WCALL(&f, "clock_res_get", id, A_OUT), 0);
        assert_true(ld64(&f, A_OUT) > 0);
        assert_int_equal(WCALL(&f, "clock_time_get", id, 0, A_OUT), 0);
    }
    assert_int_equal(WCALL(&f, "clock_time_get", 4, 0, A_OUT), WASI_EINVAL);
    assert_int_equal(WCALL(&f, "clock_res_get", 99, A_OUT), WASI_EINVAL);
    fx_fini(&f);
}

static void test_random_get(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    memset(f.mem + A_BUF, 0, 128);
    assert_int_equal(WCALL(&f, "random_get", A_BUF, 64), 0);
    assert_int_equal(WCALL(&f, "random_get", A_BUF + 64, 64), 0);
    static const uint8_t zero[64];
    assert_memory_not_equal(f.mem + A_BUF, zero, 64);
    assert_memory_not_equal(f.mem + A_BUF, f.mem + A_BUF + 64, 64);
    assert_int_equal(WCALL(&f, "random_get", A_BUF, 0), 0);
    /* The whole memory at once: straight into linear memory. */
    assert_int_equal(WCALL(&f, "random_get", 0, MEM_SIZE), 0);
    fx_fini(&f);
}

static void test_proc_exit(void **state)
{
    (void)state;
    fx f;
    fx_init(&f, NULL);
    int code = -1;
    assert_false(wasi_exit_code(f.ctx, &code));
    assert_int_equal(WTRAP(&f, "proc_exit", 42), WASM_TRAP_EXIT);
    assert_int_equal(fake_exit_code(f.inst), 42);
    assert_true(wasi_exit_code(f.ctx, &code));
    assert_int_equal(code, 42);
    fx_fini(&f);
}

static void test_userdata_must_be_a_ctx(void **state)
{
    (void)state;
    int not_a_ctx = 7;
    wasm_linker *l = wasm_linker_new();
    assert_int_equal(wasi_link(l), WASM_OK);
    wasm_instance *inst = fake_instance_new(MEM_SIZE, &not_a_ctx);
    assert_int_equal(fake_call(l, inst, "sched_yield", NULL, 0, NULL),
                     WASM_TRAP_HOST);
    assert_non_null(strstr(fake_trap_message(inst), "not a wasi_ctx"));
    wasm_instance_set_userdata(inst, NULL);
    assert_int_equal(fake_call(l, inst, "sched_yield", NULL, 0, NULL),
                     WASM_TRAP_HOST);
    fake_instance_free(inst);
    wasm_linker_free(l);
}

static void test_ctx_new_reports_errors(void **state)
{
    (void)state;
    char err[256];
    wasi_preopen p = {.host_path = "/nonexistent/dir", .guest_path = "/d"};
    wasi_options o = {.preopens = &p, .npreopens = 1};
    assert_null(wasi_ctx_new(&o, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir"));
    wasi_options o2 = {.stdio = {WASI_STDIO_FD}, .stdio_fd = {-1}};
    assert_null(wasi_ctx_new(&o2, err, sizeof err));
    assert_non_null(strstr(err, "stdio 0"));
    wasi_options o3 = {.max_fds = 2};
    assert_null(wasi_ctx_new(&o3, err, sizeof err));
    assert_null(wasi_ctx_new(&o3, NULL, 0));
    int u;
    wasi_options o4 = {.user = &u};
    wasi_ctx *ctx = wasi_ctx_new(&o4, err, sizeof err);
    assert_non_null(ctx);
    assert_ptr_equal(wasi_ctx_user(ctx), &u);
    wasi_ctx_set_user(ctx, NULL);
    assert_null(wasi_ctx_user(ctx));
    wasi_ctx_free(ctx);
    wasi_ctx_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_defines_every_function),
        cmocka_unit_test(test_stubs_return_their_errno),
        cmocka_unit_test(test_nothing_granted_by_default),
        cmocka_unit_test(test_args_and_environ),
        cmocka_unit_test(test_clocks),
        cmocka_unit_test(test_random_get),
        cmocka_unit_test(test_proc_exit),
        cmocka_unit_test(test_userdata_must_be_a_ctx),
        cmocka_unit_test(test_ctx_new_reports_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
