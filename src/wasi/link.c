/*
 * wasi/link.c - the table of all wasi_snapshot_preview1 functions and their
 * definition on a linker.
 *
 * Every function of the preview 1 witx has a row, in witx order: name,
 * engine signature, implementation. Rows that this layer does not provide
 * point to explicit stubs returning ENOSYS (no such facility here) or
 * ENOTCAPABLE (changes to the filesystem, which are never granted), so any
 * preview 1 module links and gets a clean error.
 *
 * One trampoline serves every row (the row is the host function's env): it
 * finds the wasi_ctx through the caller's userdata, runs the implementation
 * and stores its WASI errno as the i32 result.
 */
#include "wasi/internal.h"

typedef struct wasi_row {
    const char *name;
    const char *sig;
    wasi_impl_fn impl;
} wasi_row;

static int wasi_stub_nosys(wasi_call *c, const wasm_slot *a)
{
    (void)c;
    (void)a;
    return WASI_ENOSYS;
}

static int wasi_stub_notcapable(wasi_call *c, const wasm_slot *a)
{
    (void)c;
    (void)a;
    return WASI_ENOTCAPABLE;
}

/* Signatures: pointers, sizes, fds and flags are i32; filesize, timestamp,
 * rights, filedelta, dircookie and userdata are i64. */
static const wasi_row wasi_rows[] = {
    {"args_get", "ii->i", wasi_impl_args_get},
    {"args_sizes_get", "ii->i", wasi_impl_args_sizes_get},
    {"environ_get", "ii->i", wasi_impl_environ_get},
    {"environ_sizes_get", "ii->i", wasi_impl_environ_sizes_get},
    {"clock_res_get", "ii->i", wasi_impl_clock_res_get},
    {"clock_time_get", "iIi->i", wasi_impl_clock_time_get},
    {"fd_advise", "iIIi->i", wasi_impl_fd_advise},
    {"fd_allocate", "iII->i", wasi_impl_fd_allocate},
    {"fd_close", "i->i", wasi_impl_fd_close},
    {"fd_datasync", "i->i", wasi_impl_fd_datasync},
    {"fd_fdstat_get", "ii->i", wasi_impl_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii->i", wasi_impl_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII->i", wasi_impl_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii->i", wasi_impl_fd_filestat_get},
    {"fd_filestat_set_size", "iI->i", wasi_impl_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi->i", wasi_stub_notcapable},
    {"fd_pread", "iiiIi->i", wasi_impl_fd_pread},
    {"fd_prestat_get", "ii->i", wasi_impl_fd_prestat_get},
    {"fd_prestat_dir_name", "iii->i", wasi_impl_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi->i", wasi_impl_fd_pwrite},
    {"fd_read", "iiii->i", wasi_impl_fd_read},
    {"fd_readdir", "iiiIi->i", wasi_impl_fd_readdir},
    {"fd_renumber", "ii->i", wasi_impl_fd_renumber},
    {"fd_seek", "iIii->i", wasi_impl_fd_seek},
    {"fd_sync", "i->i", wasi_impl_fd_sync},
    {"fd_tell", "ii->i", wasi_impl_fd_tell},
    {"fd_write", "iiii->i", wasi_impl_fd_write},
    {"path_create_directory", "iii->i", wasi_stub_notcapable},
    {"path_filestat_get", "iiiii->i", wasi_impl_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi->i", wasi_stub_notcapable},
    {"path_link", "iiiiiii->i", wasi_stub_notcapable},
    {"path_open", "iiiiiIIii->i", wasi_impl_path_open},
    {"path_readlink", "iiiiii->i", wasi_stub_nosys},
    {"path_remove_directory", "iii->i", wasi_stub_notcapable},
    {"path_rename", "iiiiii->i", wasi_stub_notcapable},
    {"path_symlink", "iiiii->i", wasi_stub_notcapable},
    {"path_unlink_file", "iii->i", wasi_stub_notcapable},
    {"poll_oneoff", "iiii->i", wasi_impl_poll_oneoff},
    {"proc_exit", "i->", wasi_impl_proc_exit},
    {"proc_raise", "i->i", wasi_stub_nosys},
    {"sched_yield", "->i", wasi_impl_sched_yield},
    {"random_get", "ii->i", wasi_impl_random_get},
    {"sock_accept", "iii->i", wasi_impl_sock_accept},
    {"sock_recv", "iiiiii->i", wasi_impl_sock_recv},
    {"sock_send", "iiiii->i", wasi_impl_sock_send},
    {"sock_shutdown", "ii->i", wasi_impl_sock_shutdown},
};

static wasm_trap wasi_trampoline(wasm_instance *caller, void *env,
                                 wasm_slot *slots)
{
    const wasi_row *row = env;
    wasi_call c = {.ctx = wasi_ctx_of(caller), .inst = caller,
                   .trap = WASM_TRAP_NONE};
    if (!c.ctx) {
        wasm_instance_set_trap_message(
            caller, "wasi: %s: the instance's userdata is not a wasi_ctx",
            row->name);
        return WASM_TRAP_HOST;
    }
    int err = row->impl(&c, slots);
    if (c.trap != WASM_TRAP_NONE)
        return c.trap;
    slots[0].u64 = 0;
    slots[0].i32 = err;
    return WASM_TRAP_NONE;
}

wasm_err wasi_link(wasm_linker *l)
{
    for (size_t i = 0; i < sizeof wasi_rows / sizeof wasi_rows[0]; i++) {
        const wasi_row *r = &wasi_rows[i];
        wasm_err e = wasm_linker_define_func(l, WASI_MODULE_NAME, r->name,
                                             r->sig, wasi_trampoline,
                                             (void *)r);
        if (e != WASM_OK)
            return e;
    }
    return WASM_OK;
}
