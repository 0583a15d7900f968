/*
 * check.h - assertions for the runner tests: each prints what it compared
 * (both values) and where, and fails the test program (exit 1).
 */
#ifndef WATER_TESTS_RUNNER_CHECK_H
#define WATER_TESTS_RUNNER_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_FAIL(...)                                                        \
    do {                                                                       \
        fprintf(stderr, "%s:%d: FAILED: ", __FILE__, __LINE__);               \
        fprintf(stderr, __VA_ARGS__);                                          \
        fputc('\n', stderr);                                                   \
        exit(1);                                                               \
    } while (0)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            CHECK_FAIL("%s", #cond);                                           \
    } while (0)

#define CHECK_MSG(cond, ...)                                                   \
    do {                                                                       \
        if (!(cond))                                                           \
            CHECK_FAIL(__VA_ARGS__);                                           \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);        \
        if (check_a_ != check_b_)                                              \
            CHECK_FAIL("%s == %s: %lld != %lld", #a, #b, check_a_, check_b_);  \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                            \
    do {                                                                       \
        const char *check_h_ = (hay), *check_n_ = (needle);                    \
        if (!check_h_ || !strstr(check_h_, check_n_))                          \
            CHECK_FAIL("\"%s\" not found in: %s", check_n_,                    \
                       check_h_ ? check_h_ : "(null)");                        \
    } while (0)

#endif
