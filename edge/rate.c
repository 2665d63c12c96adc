#include "edge/rate.h"

/* Starts with a full bucket. */
void edge_rate_init(edge_rate_t *r, double rate, double burst, uint64_t now_ms)
{
    r->tokens = burst;
    r->rate = rate;
    r->burst = burst;
    r->last_ms = now_ms;
}

/* Refills by elapsed time, then takes one token if there is one. */
int edge_rate_take(edge_rate_t *r, uint64_t now_ms)
{
    if (now_ms > r->last_ms) {
        r->tokens += (double)(now_ms - r->last_ms) * r->rate / 1000.0;
        if (r->tokens > r->burst)
            r->tokens = r->burst;
        r->last_ms = now_ms;
    }
    if (r->tokens < 1.0)
        return 0;
    r->tokens -= 1.0;
    return 1;
}
