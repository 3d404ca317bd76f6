/* check: the unit-test harness.  Each test file is a program whose main() calls RUN() on
 * its tests and returns check_done(); it prints TAP ("ok 3 - name", "not ok 4 - name")
 * that tests/run counts.  EXPECT_DIE runs a statement that must end in die() with a given
 * exit code (die() is diverted into a longjmp while it runs). */
#ifndef RUNNEL_TESTS_CHECK_H
#define RUNNEL_TESTS_CHECK_H

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

static int check_count, check_failed, check_test_failed;
static jmp_buf check_die_jmp;

static void check_fail_(const char *file, int line, const char *what)
{
    printf("#   %s:%d: %s\n", file, line, what);
    check_test_failed = 1;
}

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond))                                                                     \
            check_fail_(__FILE__, __LINE__, "failed: " #cond);                           \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                               \
    do {                                                                                 \
        long long a_ = (long long)(a), b_ = (long long)(b);                              \
        if (a_ != b_) {                                                                  \
            char m_[256];                                                                \
            snprintf(m_, sizeof m_, "%s == %s: %lld != %lld", #a, #b, a_, b_);           \
            check_fail_(__FILE__, __LINE__, m_);                                         \
        }                                                                                \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
    do {                                                                                 \
        double a_ = (a), b_ = (b);                                                       \
        if (!(fabs(a_ - b_) <= (tol))) {                                                 \
            char m_[256];                                                                \
            snprintf(m_, sizeof m_, "%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_,    \
                     (double)(tol));                                                     \
            check_fail_(__FILE__, __LINE__, m_);                                         \
        }                                                                                \
    } while (0)

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (strcmp(a_, b_) != 0) {                                                       \
            char m_[512];                                                                \
            snprintf(m_, sizeof m_, "%s == %s: \"%s\" != \"%s\"", #a, #b, a_, b_);       \
            check_fail_(__FILE__, __LINE__, m_);                                         \
        }                                                                                \
    } while (0)

__attribute__((unused)) static void check_exit_hook_(int code) { longjmp(check_die_jmp, code ? code : -1); }

/* Run stmt; it must die() with exit code `code`. */
#define EXPECT_DIE(code, stmt)                                                           \
    do {                                                                                 \
        int got_;                                                                        \
        err_set_exit_hook(check_exit_hook_);                                             \
        if ((got_ = setjmp(check_die_jmp)) == 0) {                                       \
            stmt;                                                                        \
            check_fail_(__FILE__, __LINE__, "expected die(" #code "): " #stmt);          \
        } else if (got_ != (code)) {                                                     \
            char m_[256];                                                                \
            snprintf(m_, sizeof m_, "%s: died with %d, expected %d", #stmt, got_, code); \
            check_fail_(__FILE__, __LINE__, m_);                                         \
        }                                                                                \
        err_set_exit_hook(NULL);                                                         \
    } while (0)

#define RUN(fn)                                                                          \
    do {                                                                                 \
        check_test_failed = 0;                                                           \
        fn();                                                                            \
        check_count++;                                                                   \
        if (check_test_failed)                                                           \
            check_failed++;                                                              \
        printf("%sok %d - %s\n", check_test_failed ? "not " : "", check_count, #fn);     \
        fflush(stdout);                                                                  \
    } while (0)

static inline int check_done(void)
{
    printf("1..%d\n", check_count);
    return check_failed ? 1 : 0;
}

#endif
