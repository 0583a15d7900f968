/*
 * check.h - tiny assertion macros for the SDK's native tests.
 *
 * A failed CHECK prints the file, line, expression and (for the _EQ forms)
 * both values, counts the failure and returns from the current test
 * function; check_main() returns non-zero when any check failed, so CTest
 * sees the failure.
 */
#ifndef WATM_CHECK_H
#define WATM_CHECK_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int check_failures;
static int check_tests;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__,      \
                    #cond);                                                       \
            check_failures++;                                                     \
            return;                                                               \
        }                                                                         \
    } while (0)

#define CHECK_EQ(a, b)                                                            \
    do {                                                                          \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);           \
        if (check_a_ != check_b_) {                                               \
            fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n",     \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);              \
            check_failures++;                                                     \
            return;                                                               \
        }                                                                         \
    } while (0)

#define CHECK_MEM(a, b, n)                                                        \
    do {                                                                          \
        size_t check_n_ = (size_t)(n);                                            \
        const unsigned char *check_a_ = (const unsigned char *)(a);               \
        const unsigned char *check_b_ = (const unsigned char *)(b);               \
        for (size_t check_i_ = 0; check_i_ < check_n_; check_i_++) {              \
            if (check_a_[check_i_] != check_b_[check_i_]) {                       \
                fprintf(stderr,                                                   \
                        "%s:%d: CHECK_MEM(%s, %s, %zu) failed at byte %zu: "      \
                        "0x%02x != 0x%02x\n",                                     \
                        __FILE__, __LINE__, #a, #b, check_n_, check_i_,           \
                        check_a_[check_i_], check_b_[check_i_]);                  \
                check_failures++;                                                 \
                return;                                                           \
            }                                                                     \
        }                                                                         \
    } while (0)

#define CHECK_STR(a, b)                                                           \
    do {                                                                          \
        const char *check_a_ = (a), *check_b_ = (b);                              \
        if (check_a_ == NULL || check_b_ == NULL || strcmp(check_a_, check_b_)) { \
            fprintf(stderr, "%s:%d: CHECK_STR(%s, %s) failed: \"%s\" != \"%s\"\n",\
                    __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",   \
                    check_b_ ? check_b_ : "(null)");                              \
            check_failures++;                                                     \
            return;                                                               \
        }                                                                         \
    } while (0)

#define RUN(test)                                                                 \
    do {                                                                          \
        int check_before_ = check_failures;                                       \
        check_tests++;                                                            \
        test();                                                                   \
        printf("%s %s\n", check_failures == check_before_ ? "ok  " : "FAIL",      \
               #test);                                                            \
        fflush(stdout);                                                           \
    } while (0)

static void check_timeout(int sig)
{
    (void)sig;
    static const char msg[] = "TIMEOUT: the test program hung; failing the run\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
    _exit(EXIT_FAILURE);
}

/* Fails the whole program (with a message) if it runs longer than seconds. */
static inline void check_watchdog(unsigned seconds)
{
    signal(SIGALRM, check_timeout);
    alarm(seconds);
}

static inline int check_main_result(void)
{
    printf("%d tests, %d failed\n", check_tests, check_failures);
    return check_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* WATM_CHECK_H */
