/*
 * tests/wasi/test_wasi_path.c - preopened directories, path_open
 * confinement (.., absolute paths, symlinks), read-only and writable
 * grants, file fd ops, fd_readdir, and the /conf/ config directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/internal.h" /* wasi_path_set_openat2 */
#include "wasi_test.h"

#define FILETYPE_DIRECTORY 3
#define FILETYPE_REGULAR_FILE 4
#define OFLAG_CREAT 1
#define OFLAG_DIRECTORY 2
#define OFLAG_EXCL 4
#define OFLAG_TRUNC 8
#define LOOKUP_FOLLOW 1
#define R_READ (1ull << 1)
#define R_SEEK (1ull << 2)
#define R_TELL (1ull << 5)
#define R_WRITE (1ull << 6)
#define R_READDIR (1ull << 14)
#define R_FILESTAT (1ull << 21)
#define R_ALL 0x3FFFFFFFull
/* what wasi-libc asks for on O_RDONLY: everything but the write rights */
#define R_RO (R_ALL & ~(R_WRITE | (1ull << 0) | (1ull << 8) | (1ull << 22)))

typedef struct dir_fx {
    fx f;
    char root[64]; /* root/data is granted as "/data"; root/outside.txt not */
} dir_fx;

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void make_tree(dir_fx *d)
{
    char p[256];
    strcpy(d->root, "/tmp/water-wasi-XXXXXX");
    assert_non_null(mkdtemp(d->root));
    snprintf(p, sizeof p, "%s/data", d->root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/data/sub", d->root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/data/hello.txt", d->root);
    write_file(p, "hello, file\n");
    snprintf(p, sizeof p, "%s/outside.txt", d->root);
    write_file(p, "secret\n");
    snprintf(p, sizeof p, "%s/data/escape", d->root);
    assert_int_equal(symlink("../outside.txt", p), 0);
    snprintf(p, sizeof p, "%s/data/abs", d->root);
    assert_int_equal(symlink("/etc/passwd", p), 0);
    snprintf(p, sizeof p, "%s/data/inner", d->root);
    assert_int_equal(symlink("hello.txt", p), 0);
    snprintf(p, sizeof p, "%s/data/sub/up", d->root);
    assert_int_equal(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/data/sub/up2", d->root);
    assert_int_equal(symlink("../..", p), 0);
    snprintf(p, sizeof p, "%s/data/sub/loop", d->root);
    assert_int_equal(symlink("loop", p), 0);
    snprintf(p, sizeof p, "%s/data/sub/chain", d->root);
    assert_int_equal(symlink("up/inner", p), 0);
}

static int setup_common(void **state, bool writable)
{
    static dir_fx d;
    make_tree(&d);
    char host[128];
    snprintf(host, sizeof host, "%s/data", d.root);
    wasi_preopen p = {.host_path = host, .guest_path = "/data",
                      .writable = writable};
    wasi_options o = {.preopens = &p, .npreopens = 1};
    fx_init(&d.f, &o);
    *state = &d;
    return 0;
}

static int setup_ro(void **state) { return setup_common(state, false); }
static int setup_rw(void **state) { return setup_common(state, true); }

static int teardown(void **state)
{
    dir_fx *d = *state;
    fx_fini(&d->f);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    return system(cmd) == 0 ? 0 : -1;
}

/* path_open on fd 3 (the preopen); returns the errno, fd in *out. */
static int32_t open_at(fx *f, const char *path, uint32_t lookup,
                       uint32_t oflags, uint64_t rights, uint32_t fdflags,
                       uint32_t *out)
{
    uint32_t n = st_str(f, A_PATH, path);
    int32_t r = WCALL(f, "path_open", 3, lookup, A_PATH, n, oflags, rights,
                      rights, fdflags, A_OUT);
    if (out)
        *out = r == 0 ? ld32(f, A_OUT) : 0;
    return r;
}

static void test_prestat(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    memset(f->mem + A_BUF, 0xEE, 8);
    assert_int_equal(WCALL(f, "fd_prestat_get", 3, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF], 0);
    assert_int_equal(f->mem[A_BUF + 1], 0);
    assert_int_equal(ld32(f, A_BUF + 4), 5);
    assert_int_equal(WCALL(f, "fd_prestat_dir_name", 3, A_BUF + 16, 5), 0);
    assert_memory_equal(f->mem + A_BUF + 16, "/data", 5);
    assert_int_equal(WCALL(f, "fd_prestat_dir_name", 3, A_BUF + 16, 4),
                     WASI_ENAMETOOLONG);
    assert_int_equal(WCALL(f, "fd_prestat_get", 4, A_BUF), WASI_EBADF);
    assert_int_equal(WCALL(f, "fd_fdstat_get", 3, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF], FILETYPE_DIRECTORY);
    assert_true(ld64(f, A_BUF + 16) & R_READ); /* inheriting */
}

static void test_read_a_granted_file(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    uint32_t fd;
    assert_int_equal(open_at(f, "hello.txt", 0, 0, R_RO, 0, &fd), 0);
    assert_int_equal(fd, 4);
    st_iov(f, A_IOV, 0, A_BUF, 5);
    st_iov(f, A_IOV, 1, A_BUF + 5, 100);
    assert_int_equal(WCALL(f, "fd_read", fd, A_IOV, 2, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 12);
    assert_memory_equal(f->mem + A_BUF, "hello, file\n", 12);
    assert_int_equal(WCALL(f, "fd_tell", fd, A_OUT), 0);
    assert_int_equal(ld64(f, A_OUT), 12);
    assert_int_equal(WCALL(f, "fd_seek", fd, (uint64_t)-5, 2, A_OUT), 0);
    assert_int_equal(ld64(f, A_OUT), 7);
    assert_int_equal(WCALL(f, "fd_seek", fd, 0, 3, A_OUT), WASI_EINVAL);
    st_iov(f, A_IOV, 0, A_BUF + 200, 4);
    assert_int_equal(WCALL(f, "fd_pread", fd, A_IOV, 1, 7, A_OUT), 0);
    assert_memory_equal(f->mem + A_BUF + 200, "file", 4);
    assert_int_equal(WCALL(f, "fd_filestat_get", fd, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF + 16], FILETYPE_REGULAR_FILE);
    assert_int_equal(ld64(f, A_BUF + 32), 12);
    assert_int_equal(WCALL(f, "fd_fdstat_get", fd, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF], FILETYPE_REGULAR_FILE);
    assert_false(ld64(f, A_BUF + 8) & R_WRITE); /* read-only grant */
    /* paths that stay inside are fine */
    assert_int_equal(open_at(f, "sub/../hello.txt", 0, 0, R_READ, 0, NULL), 0);
    assert_int_equal(open_at(f, "./sub/./../hello.txt", 0, 0, R_READ, 0,
                             NULL), 0);
    assert_int_equal(open_at(f, "inner", LOOKUP_FOLLOW, 0, R_READ, 0, NULL),
                     0);
    assert_int_equal(open_at(f, "nope.txt", 0, 0, R_READ, 0, NULL),
                     WASI_ENOENT);
    assert_int_equal(open_at(f, "hello.txt", 0, OFLAG_DIRECTORY, R_READ, 0,
                             NULL), WASI_ENOTDIR);
    assert_int_equal(open_at(f, "hello.txt/", 0, 0, R_READ, 0, NULL),
                     WASI_ENOTDIR);
}

static void test_escapes_are_refused(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    assert_int_equal(open_at(f, "../outside.txt", 0, 0, R_READ, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "sub/../../outside.txt", 0, 0, R_READ, 0,
                             NULL), WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "..", 0, 0, R_READ, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "/etc/passwd", 0, 0, R_READ, 0, NULL),
                     WASI_ENOTCAPABLE);
    /* symlinks pointing out: refused whether followed or not */
    int32_t r = open_at(f, "escape", LOOKUP_FOLLOW, 0, R_READ, 0, NULL);
    assert_true(r == WASI_ENOTCAPABLE || r == WASI_ELOOP);
    r = open_at(f, "abs", LOOKUP_FOLLOW, 0, R_READ, 0, NULL);
    assert_true(r == WASI_ENOTCAPABLE || r == WASI_ELOOP);
    assert_int_equal(open_at(f, "escape", 0, 0, R_READ, 0, NULL), WASI_ELOOP);
    /* embedded NUL */
    memcpy(f->mem + A_PATH, "hello.txt\0x", 11);
    assert_int_equal(WCALL(f, "path_open", 3, 0, A_PATH, 11, 0, R_READ, 0, 0,
                           A_OUT), WASI_EILSEQ);
    assert_int_equal(WCALL(f, "path_open", 3, 0, A_PATH, 0, 0, R_READ, 0, 0,
                           A_OUT), WASI_ENOENT);
    assert_int_equal(WCALL(f, "path_open", 3, 0, A_PATH, 5000, 0, R_READ, 0,
                           0, A_OUT), WASI_ENAMETOOLONG);
    /* path_filestat_get follows the same rules */
    uint32_t n = st_str(f, A_PATH, "../outside.txt");
    assert_int_equal(WCALL(f, "path_filestat_get", 3, 0, A_PATH, n, A_BUF),
                     WASI_ENOTCAPABLE);
    n = st_str(f, A_PATH, "hello.txt");
    assert_int_equal(WCALL(f, "path_filestat_get", 3, 0, A_PATH, n, A_BUF), 0);
    assert_int_equal(ld64(f, A_BUF + 32), 12);
    n = st_str(f, A_PATH, "inner");
    assert_int_equal(WCALL(f, "path_filestat_get", 3, 0, A_PATH, n, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF + 16], 7); /* the link itself */
}

static void test_symlinks_inside_the_tree(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    uint32_t fd;
    /* a link in the middle of the path, pointing up but staying inside */
    assert_int_equal(open_at(f, "sub/up/hello.txt", 0, 0, R_RO, 0, &fd), 0);
    st_iov(f, A_IOV, 0, A_BUF, 5);
    assert_int_equal(WCALL(f, "fd_read", fd, A_IOV, 1, A_OUT), 0);
    assert_memory_equal(f->mem + A_BUF, "hello", 5);
    /* a chain: sub/chain -> up/inner -> ../inner -> hello.txt */
    assert_int_equal(open_at(f, "sub/chain", LOOKUP_FOLLOW, 0, R_RO, 0, &fd),
                     0);
    assert_int_equal(WCALL(f, "fd_filestat_get", fd, A_BUF), 0);
    assert_int_equal(ld64(f, A_BUF + 32), 12);
    /* a link in the middle that climbs out */
    assert_int_equal(open_at(f, "sub/up2/outside.txt", 0, 0, R_RO, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "sub/up2/data/hello.txt", 0, 0, R_RO, 0,
                             NULL), WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "sub/loop", LOOKUP_FOLLOW, 0, R_RO, 0, NULL),
                     WASI_ELOOP);
    assert_int_equal(open_at(f, "sub/loop/x", 0, 0, R_RO, 0, NULL),
                     WASI_ELOOP);
    uint32_t n = st_str(f, A_PATH, "sub/chain");
    assert_int_equal(WCALL(f, "path_filestat_get", 3, LOOKUP_FOLLOW, A_PATH,
                           n, A_BUF), 0);
    assert_int_equal(f->mem[A_BUF + 16], FILETYPE_REGULAR_FILE);
}

static void test_read_only_grant_refuses_writes(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    assert_int_equal(open_at(f, "hello.txt", 0, 0, R_READ | R_WRITE, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "new.txt", 0, OFLAG_CREAT, R_READ, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "hello.txt", 0, OFLAG_TRUNC, R_READ, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(f, "hello.txt", 0, 0, R_READ, 1 /* APPEND */,
                             NULL), WASI_ENOTCAPABLE);
    uint32_t fd;
    assert_int_equal(open_at(f, "hello.txt", 0, 0, R_READ, 0, &fd), 0);
    st_iov(f, A_IOV, 0, A_BUF, 3);
    assert_int_equal(WCALL(f, "fd_write", fd, A_IOV, 1, A_OUT),
                     WASI_ENOTCAPABLE);
    assert_int_equal(WCALL(f, "fd_filestat_set_size", fd, 0),
                     WASI_ENOTCAPABLE);
    char p[128];
    snprintf(p, sizeof p, "%s/data/new.txt", d->root);
    assert_int_equal(access(p, F_OK), -1);
}

static void test_writable_grant(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    uint32_t fd;
    assert_int_equal(open_at(f, "sub/new.txt", 0, OFLAG_CREAT | OFLAG_EXCL,
                             R_ALL, 0, &fd), 0);
    uint32_t n = st_str(f, A_BUF, "written");
    st_iov(f, A_IOV, 0, A_BUF, n);
    assert_int_equal(WCALL(f, "fd_write", fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 7);
    assert_int_equal(WCALL(f, "fd_pwrite", fd, A_IOV, 1, 7, A_OUT), 0);
    assert_int_equal(WCALL(f, "fd_sync", fd), 0);
    assert_int_equal(WCALL(f, "fd_datasync", fd), 0);
    assert_int_equal(WCALL(f, "fd_close", fd), 0);
    char p[128], buf[32] = {0};
    snprintf(p, sizeof p, "%s/data/sub/new.txt", d->root);
    FILE *fp = fopen(p, "r");
    assert_non_null(fp);
    assert_int_equal(fread(buf, 1, sizeof buf, fp), 14);
    fclose(fp);
    assert_string_equal(buf, "writtenwritten");
    assert_int_equal(open_at(f, "sub/new.txt", 0, OFLAG_CREAT | OFLAG_EXCL,
                             R_ALL, 0, NULL), WASI_EEXIST);
    assert_int_equal(open_at(f, "../evil.txt", 0, OFLAG_CREAT, R_ALL, 0,
                             NULL), WASI_ENOTCAPABLE);
    /* APPEND and truncation */
    assert_int_equal(open_at(f, "sub/new.txt", 0, OFLAG_TRUNC, R_ALL, 0, &fd),
                     0);
    assert_int_equal(WCALL(f, "fd_fdstat_set_flags", fd, 1 /* APPEND */), 0);
    assert_int_equal(WCALL(f, "fd_write", fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(WCALL(f, "fd_filestat_set_size", fd, 3), 0);
    assert_int_equal(WCALL(f, "fd_filestat_get", fd, A_BUF + 100), 0);
    assert_int_equal(ld64(f, A_BUF + 132), 3);
}

static void test_readdir(void **state)
{
    dir_fx *d = *state;
    fx *f = &d->f;
    assert_int_equal(WCALL(f, "fd_readdir", 3, A_BIG, 4096, 0, A_OUT), 0);
    uint32_t used = ld32(f, A_OUT);
    assert_true(used > 24 && used < 4096);
    bool hello = false;
    uint32_t count = 0;
    for (uint32_t o = 0; o + 24 <= used; count++) {
        uint32_t nl = ld32(f, A_BIG + o + 16);
        if (nl == 9 && !memcmp(f->mem + A_BIG + o + 24, "hello.txt", 9)) {
            hello = true;
            assert_int_equal(f->mem[A_BIG + o + 20], FILETYPE_REGULAR_FILE);
        }
        assert_int_equal(ld64(f, A_BIG + o), count + 1); /* d_next */
        o += 24 + nl;
    }
    assert_true(hello);
    assert_int_equal(count, 7); /* . .. sub hello.txt escape abs inner */
    /* resume from a cookie; a short buffer is filled to the brim */
    assert_int_equal(WCALL(f, "fd_readdir", 3, A_BIG, 4096, 6, A_OUT), 0);
    assert_int_equal(ld64(f, A_BIG), 7);
    assert_int_equal(WCALL(f, "fd_readdir", 3, A_BIG, 30, 0, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 30);
    assert_int_equal(WCALL(f, "fd_readdir", 3, A_BIG, 4096, 100, A_OUT), 0);
    assert_int_equal(ld32(f, A_OUT), 0);
    uint32_t fd;
    assert_int_equal(open_at(f, "hello.txt", 0, 0, R_RO, 0, &fd), 0);
    assert_int_equal(WCALL(f, "fd_readdir", fd, A_BIG, 4096, 0, A_OUT),
                     WASI_ENOTDIR);
    assert_int_equal(open_at(f, "sub", 0, OFLAG_DIRECTORY, R_RO, 0, &fd), 0);
    assert_int_equal(WCALL(f, "fd_readdir", fd, A_BIG, 4096, 0, A_OUT), 0);
    /* . .. up up2 loop chain */
    assert_int_equal(ld32(f, A_OUT), 6 * 24 + 1 + 2 + 2 + 3 + 4 + 5);
}

static void test_config_directory(void **state)
{
    (void)state;
    const char cfg[] = "key=value";
    wasi_options o = {.config = cfg, .config_len = 9};
    fx f;
    fx_init(&f, &o);
    assert_int_equal(WCALL(&f, "fd_prestat_get", 3, A_BUF), 0);
    assert_int_equal(ld32(&f, A_BUF + 4), 6);
    assert_int_equal(WCALL(&f, "fd_prestat_dir_name", 3, A_BUF, 6), 0);
    assert_memory_equal(f.mem + A_BUF, "/conf/", 6);
    assert_int_equal(WCALL(&f, "fd_prestat_get", 4, A_BUF), WASI_EBADF);
    uint32_t fd;
    assert_int_equal(open_at(&f, "watm.cfg", 0, 0, R_RO, 0, &fd), 0);
    st_iov(&f, A_IOV, 0, A_BUF, 4);
    st_iov(&f, A_IOV, 1, A_BUF + 4, 100);
    assert_int_equal(WCALL(&f, "fd_read", fd, A_IOV, 2, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 9);
    assert_memory_equal(f.mem + A_BUF, "key=value", 9);
    assert_int_equal(WCALL(&f, "fd_read", fd, A_IOV, 2, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 0);
    assert_int_equal(WCALL(&f, "fd_seek", fd, 4, 0, A_OUT), 0);
    st_iov(&f, A_IOV, 0, A_BUF + 200, 100);
    assert_int_equal(WCALL(&f, "fd_read", fd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 5);
    assert_memory_equal(f.mem + A_BUF + 200, "value", 5);
    assert_int_equal(WCALL(&f, "fd_seek", fd, (uint64_t)-20, 1, A_OUT),
                     WASI_EINVAL);
    assert_int_equal(WCALL(&f, "fd_pread", fd, A_IOV, 1, 8, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 1);
    assert_int_equal(WCALL(&f, "fd_filestat_get", fd, A_BUF), 0);
    assert_int_equal(ld64(&f, A_BUF + 32), 9);
    assert_int_equal(f.mem[A_BUF + 16], FILETYPE_REGULAR_FILE);
    assert_int_equal(WCALL(&f, "fd_write", fd, A_IOV, 1, A_OUT),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(&f, "watm.cfg", 0, 0, R_READ | R_WRITE, 0, NULL),
                     WASI_ENOTCAPABLE);
    assert_int_equal(open_at(&f, "other", 0, 0, R_READ, 0, NULL), WASI_ENOENT);
    assert_int_equal(open_at(&f, "../etc", 0, 0, R_READ, 0, NULL),
                     WASI_ENOTCAPABLE);
    uint32_t n = st_str(&f, A_PATH, "watm.cfg");
    assert_int_equal(WCALL(&f, "path_filestat_get", 3, 0, A_PATH, n, A_BUF), 0);
    assert_int_equal(ld64(&f, A_BUF + 32), 9);
    assert_int_equal(WCALL(&f, "fd_readdir", 3, A_BIG, 4096, 0, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 3 * 24 + 1 + 2 + 8);
    /* the v0 way: an fd of its own, with its own offset */
    uint32_t cfd;
    assert_int_equal(wasi_config_fd_open(f.ctx, &cfd), 0);
    assert_true(cfd > fd);
    st_iov(&f, A_IOV, 0, A_BUF, 100);
    assert_int_equal(WCALL(&f, "fd_read", cfd, A_IOV, 1, A_OUT), 0);
    assert_int_equal(ld32(&f, A_OUT), 9);
    fx_fini(&f);
    /* no config: no /conf/ and no config fd */
    fx_init(&f, NULL);
    assert_int_equal(wasi_config_fd_open(f.ctx, &cfd), WASI_ENOENT);
    assert_int_equal(WCALL(&f, "fd_prestat_get", 3, A_BUF), WASI_EBADF);
    fx_fini(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prestat, setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_read_a_granted_file, setup_ro,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_escapes_are_refused, setup_ro,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_inside_the_tree,
                                        setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_grant_refuses_writes,
                                        setup_ro, teardown),
        cmocka_unit_test_setup_teardown(test_writable_grant, setup_rw,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_readdir, setup_ro, teardown),
        cmocka_unit_test(test_config_directory),
    };
    /* Once with openat2(RESOLVE_BENEATH), once with the portable walk that
     * older kernels get. */
    int failed = cmocka_run_group_tests_name("openat2", tests, NULL, NULL);
    wasi_path_set_openat2(false);
    failed += cmocka_run_group_tests_name("walk", tests, NULL, NULL);
    return failed;
}
