/* vctest: a table of named cases per test binary; no sockets, no sleeps.
 * Each binary prints "<name>: N passed, N failed" and exits non-zero on failure. */
#ifndef VC_TEST_H
#define VC_TEST_H

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} vct_case_t;

static int vct_fail;

#define VCT_CHECK(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);             \
            vct_fail = 1;                                                                          \
        }                                                                                          \
    } while (0)

#define VCT_CHECK_EQ_INT(a, b)                                                                     \
    do {                                                                                           \
        long long vct_a = (long long)(a), vct_b = (long long)(b);                                  \
        if (vct_a != vct_b) {                                                                      \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, vct_a, \
                    vct_b);                                                                        \
            vct_fail = 1;                                                                          \
        }                                                                                          \
    } while (0)

#define VCT_CHECK_EQ_STR(a, b)                                                                     \
    do {                                                                                           \
        const char *vct_a = (a), *vct_b = (b);                                                     \
        if (vct_a == NULL || vct_b == NULL || strcmp(vct_a, vct_b) != 0) {                         \
            fprintf(stderr, "  %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                    vct_a ? vct_a : "(null)", vct_b ? vct_b : "(null)");                           \
            vct_fail = 1;                                                                          \
        }                                                                                          \
    } while (0)

static inline int vct_run(const char *suite, const vct_case_t *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        vct_fail = 0;
        cases[i].fn();
        if (vct_fail) {
            failed++;
            printf("not ok - %s/%s\n", suite, cases[i].name);
        } else {
            passed++;
            printf("ok - %s/%s\n", suite, cases[i].name);
        }
    }
    printf("%s: %d passed, %d failed\n", suite, passed, failed);
    return failed ? 1 : 0;
}

#define VCT_MAIN(suite, cases)                                                                     \
    int main(void)                                                                                 \
    {                                                                                              \
        return vct_run(suite, cases, sizeof(cases) / sizeof(cases[0]));                            \
    }

#endif
