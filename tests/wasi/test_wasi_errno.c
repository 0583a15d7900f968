/*
 * tests/wasi/test_wasi_errno.c - the WASI errno numbering and the mapping
 * from host errno values. The expected numbers are written out here from
 * the preview 1 witx (typenames.witx, enum errno), independently of
 * src/wasi/wasi.h.
 */
#include <errno.h>
#include <string.h>

#include "wasi_test.h"

static const struct {
    int host;
    int wasi;
    const char *name;
} spec[] = {
    {E2BIG, 1, "E2BIG"},           {EACCES, 2, "EACCES"},
    {EADDRINUSE, 3, "EADDRINUSE"}, {EADDRNOTAVAIL, 4, "EADDRNOTAVAIL"},
    {EAFNOSUPPORT, 5, "EAFNOSUPPORT"}, {EAGAIN, 6, "EAGAIN"},
    {EALREADY, 7, "EALREADY"},     {EBADF, 8, "EBADF"},
    {EBADMSG, 9, "EBADMSG"},       {EBUSY, 10, "EBUSY"},
    {ECANCELED, 11, "ECANCELED"},  {ECHILD, 12, "ECHILD"},
    {ECONNABORTED, 13, "ECONNABORTED"}, {ECONNREFUSED, 14, "ECONNREFUSED"},
    {ECONNRESET, 15, "ECONNRESET"}, {EDEADLK, 16, "EDEADLK"},
    {EDESTADDRREQ, 17, "EDESTADDRREQ"}, {EDOM, 18, "EDOM"},
    {EDQUOT, 19, "EDQUOT"},        {EEXIST, 20, "EEXIST"},
    {EFAULT, 21, "EFAULT"},        {EFBIG, 22, "EFBIG"},
    {EHOSTUNREACH, 23, "EHOSTUNREACH"}, {EIDRM, 24, "EIDRM"},
    {EILSEQ, 25, "EILSEQ"},        {EINPROGRESS, 26, "EINPROGRESS"},
    {EINTR, 27, "EINTR"},          {EINVAL, 28, "EINVAL"},
    {EIO, 29, "EIO"},              {EISCONN, 30, "EISCONN"},
    {EISDIR, 31, "EISDIR"},        {ELOOP, 32, "ELOOP"},
    {EMFILE, 33, "EMFILE"},        {EMLINK, 34, "EMLINK"},
    {EMSGSIZE, 35, "EMSGSIZE"},    {EMULTIHOP, 36, "EMULTIHOP"},
    {ENAMETOOLONG, 37, "ENAMETOOLONG"}, {ENETDOWN, 38, "ENETDOWN"},
    {ENETRESET, 39, "ENETRESET"},  {ENETUNREACH, 40, "ENETUNREACH"},
    {ENFILE, 41, "ENFILE"},        {ENOBUFS, 42, "ENOBUFS"},
    {ENODEV, 43, "ENODEV"},        {ENOENT, 44, "ENOENT"},
    {ENOEXEC, 45, "ENOEXEC"},      {ENOLCK, 46, "ENOLCK"},
    {ENOLINK, 47, "ENOLINK"},      {ENOMEM, 48, "ENOMEM"},
    {ENOMSG, 49, "ENOMSG"},        {ENOPROTOOPT, 50, "ENOPROTOOPT"},
    {ENOSPC, 51, "ENOSPC"},        {ENOSYS, 52, "ENOSYS"},
    {ENOTCONN, 53, "ENOTCONN"},    {ENOTDIR, 54, "ENOTDIR"},
    {ENOTEMPTY, 55, "ENOTEMPTY"},  {ENOTRECOVERABLE, 56, "ENOTRECOVERABLE"},
    {ENOTSOCK, 57, "ENOTSOCK"},    {ENOTSUP, 58, "ENOTSUP"},
    {ENOTTY, 59, "ENOTTY"},        {ENXIO, 60, "ENXIO"},
    {EOVERFLOW, 61, "EOVERFLOW"},  {EOWNERDEAD, 62, "EOWNERDEAD"},
    {EPERM, 63, "EPERM"},          {EPIPE, 64, "EPIPE"},
    {EPROTO, 65, "EPROTO"},        {EPROTONOSUPPORT, 66, "EPROTONOSUPPORT"},
    {EPROTOTYPE, 67, "EPROTOTYPE"}, {ERANGE, 68, "ERANGE"},
    {EROFS, 69, "EROFS"},          {ESPIPE, 70, "ESPIPE"},
    {ESRCH, 71, "ESRCH"},          {ESTALE, 72, "ESTALE"},
    {ETIMEDOUT, 73, "ETIMEDOUT"},  {ETXTBSY, 74, "ETXTBSY"},
    {EXDEV, 75, "EXDEV"},
};

static void test_every_host_errno_maps_to_its_wasi_number(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        int got = wasi_errno_from_host(spec[i].host);
        if (got != spec[i].wasi)
            fail_msg("%s: host %d mapped to %d, want %d", spec[i].name,
                     spec[i].host, got, spec[i].wasi);
        assert_string_equal(wasi_errno_name(spec[i].wasi), spec[i].name);
    }
}

static void test_the_values_that_differ_from_linux(void **state)
{
    (void)state;
    /* The classic mistakes: passing Linux numbers through. */
    assert_int_equal(wasi_errno_from_host(EAGAIN), 6);
    assert_int_equal(wasi_errno_from_host(EWOULDBLOCK), 6);
    assert_int_equal(wasi_errno_from_host(ECANCELED), 11);
    assert_int_equal(wasi_errno_from_host(EOPNOTSUPP), 58);
    assert_int_equal(wasi_errno_from_host(ENOTCONN), 53);
    assert_int_equal(wasi_errno_from_host(EPIPE), 64);
    assert_int_equal(wasi_errno_from_host(0), 0);
    assert_int_equal(WASI_EAGAIN, 6);
    assert_int_equal(WASI_ECANCELED, 11);
    assert_int_equal(WASI_ENOTCAPABLE, 76);
}

static void test_unknown_host_errno_is_eio_and_all_results_valid(void **state)
{
    (void)state;
    assert_int_equal(wasi_errno_from_host(-1), WASI_EIO);
    assert_int_equal(wasi_errno_from_host(99999), WASI_EIO);
#ifdef EHWPOISON
    assert_int_equal(wasi_errno_from_host(EHWPOISON), WASI_EIO);
#endif
    for (int e = 1; e < 200; e++) {
        int w = wasi_errno_from_host(e);
        assert_in_range(w, 1, 75); /* never 0, never NOTCAPABLE */
    }
}

static void test_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(wasi_errno_name(0), "ESUCCESS");
    assert_string_equal(wasi_errno_name(76), "ENOTCAPABLE");
    assert_string_equal(wasi_errno_name(77), "E?");
    assert_string_equal(wasi_errno_name(-3), "E?");
    assert_string_equal(wasi_strerror(WASI_EBADF), "bad file descriptor");
    assert_string_equal(wasi_strerror(1000), "unknown error");
    for (int e = 0; e <= 76; e++) {
        assert_true(strlen(wasi_errno_name(e)) > 1);
        assert_string_not_equal(wasi_strerror(e), "unknown error");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_host_errno_maps_to_its_wasi_number),
        cmocka_unit_test(test_the_values_that_differ_from_linux),
        cmocka_unit_test(test_unknown_host_errno_is_eio_and_all_results_valid),
        cmocka_unit_test(test_names_and_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
