#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static void vc_oom(void)
{
    fputs("out of memory\n", stderr);
    abort();
}

void *vc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        vc_oom();
    return p;
}

void *vc_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL)
        vc_oom();
    return p;
}

void *vc_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (p == NULL)
        vc_oom();
    return p;
}

char *vc_strdup(const char *s)
{
    return vc_strndup(s, strlen(s));
}

char *vc_strndup(const char *s, size_t n)
{
    char *p = vc_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void vc_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            abort();
        }
        p += r;
        n -= (size_t)r;
    }
}

void vc_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    size_t o = 0;
    while (nbytes > 0) {
        size_t k = nbytes < sizeof(b) ? nbytes : sizeof(b);
        vc_random_bytes(b, k);
        for (size_t i = 0; i < k; i++) {
            out[o++] = hex[b[i] >> 4];
            out[o++] = hex[b[i] & 15];
        }
        nbytes -= k;
    }
    out[o] = '\0';
}

void vc_random_room_id(char out[13])
{
    unsigned char b[10];
    vc_random_bytes(b, sizeof(b));
    int j = 0;
    for (int i = 0; i < 10; i++) {
        if (i == 3 || i == 7)
            out[j++] = '-';
        out[j++] = (char)('a' + b[i] % 26);
    }
    out[j] = '\0';
}

uint64_t vc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t vc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t vc_thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int vc_is_token(const char *s, size_t len, size_t max)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}
