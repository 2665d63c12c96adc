/* util: allocation that aborts on out-of-memory, random ids, the clock for
 * shells. Protocol cores must not call vc_now_*; they take time as input. */
#ifndef VC_UTIL_H
#define VC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define VC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

void *vc_malloc(size_t n);
void *vc_calloc(size_t count, size_t n);
void *vc_realloc(void *p, size_t n);
char *vc_strdup(const char *s);
char *vc_strndup(const char *s, size_t n);

/* Fills buf with n cryptographically random bytes (getrandom). */
void vc_random_bytes(void *buf, size_t n);
/* Writes 2*nbytes lowercase hex characters plus NUL into out (size >= 2*nbytes+1). */
void vc_random_hex(char *out, size_t nbytes);
/* A room id people can read aloud: "abc-defg-hij" (12 chars + NUL). */
void vc_random_room_id(char out[13]);

/* Monotonic clock in milliseconds / microseconds. Shells only. */
uint64_t vc_now_ms(void);
uint64_t vc_now_us(void);
/* The calling thread's CPU time in nanoseconds (a system call: not per
 * packet). */
uint64_t vc_thread_cpu_ns(void);
/* A CPU meter around a piece of work: t0 = vc_cpu_meter_begin(on) reads
 * the thread's clock only when on (else 0: no system call), and
 * vc_cpu_meter_end(&sum, t0) adds the time since t0 to sum if it was read. */
static inline uint64_t vc_cpu_meter_begin(int on)
{
    return on ? vc_thread_cpu_ns() : 0;
}

static inline void vc_cpu_meter_end(uint64_t *sum, uint64_t t0)
{
    if (t0 != 0)
        *sum += vc_thread_cpu_ns() - t0;
}

/* True if s (len bytes) consists only of [a-z0-9-] and is 1..max long. */
int vc_is_token(const char *s, size_t len, size_t max);

#endif
