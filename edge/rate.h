/* rate: a token bucket per connection (sustained rate with a burst), on a
 * clock the caller passes in. Not a global limiter. */
#ifndef EDGE_RATE_H
#define EDGE_RATE_H

#include <stdint.h>

typedef struct {
    double tokens;
    double rate;  /* tokens per second */
    double burst; /* bucket size */
    uint64_t last_ms;
} edge_rate_t;

void edge_rate_init(edge_rate_t *r, double rate, double burst, uint64_t now_ms);
/* Takes one token: 1 if allowed, 0 if the bucket is empty. */
int edge_rate_take(edge_rate_t *r, uint64_t now_ms);

#endif
