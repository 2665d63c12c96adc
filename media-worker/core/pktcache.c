#include "media-worker/core/pktcache.h"

#include <stdlib.h>
#include <string.h>

void pktcache_init(pktcache_t *c, size_t nslots, size_t slot_size, uint64_t max_age_us)
{
    size_t n = 1;
    while (n < nslots)
        n <<= 1;
    memset(c, 0, sizeof(*c));
    c->nslots = n;
    c->slot_size = slot_size;
    c->max_age_us = max_age_us;
    c->cap = n * slot_size;
    if (c->cap > UINT32_MAX)
        c->cap = UINT32_MAX; /* offsets are 32-bit */
    c->lap = 1;
    c->slots = calloc(n, sizeof(*c->slots));
    /* malloc, not calloc: pages of the ring stay untouched until written. */
    c->data = malloc(c->cap > 0 ? c->cap : 1);
    if (!c->slots || !c->data)
        abort(); /* out of memory aborts (STYLE) */
}

void pktcache_fini(pktcache_t *c)
{
    free(c->slots);
    free(c->data);
    memset(c, 0, sizeof(*c));
}

/* True if the bytes of s are still in the ring: written in this lap, or in
 * the previous one at or past the current write offset. */
static int pktcache_intact(const pktcache_t *c, const pktcache_slot_t *s)
{
    if (s->lap == c->lap)
        return 1;
    return s->lap + 1 == c->lap && s->off >= c->wpos;
}

int pktcache_put(pktcache_t *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    if (len > c->slot_size || len > 0xffff || len > c->cap)
        return -1;
    /* A new lap when the ring is full, or early once everything from the
     * start of this lap is too old to be asked for. */
    if (c->wpos + len > c->cap || (c->wpos > 0 && now_us - c->lap_start_us > c->max_age_us)) {
        c->lap++;
        c->wpos = 0;
    }
    if (c->wpos == 0)
        c->lap_start_us = now_us;
    size_t i = seq & (c->nslots - 1);
    c->slots[i] = (pktcache_slot_t){.used = 1,
                                    .seq = seq,
                                    .len = (uint16_t)len,
                                    .off = (uint32_t)c->wpos,
                                    .lap = c->lap,
                                    .at_us = now_us};
    memcpy(c->data + c->wpos, pkt, len);
    c->wpos += len;
    return 0;
}

const uint8_t *pktcache_get(const pktcache_t *c, uint16_t seq, uint64_t now_us, size_t *len)
{
    if (!c->slots)
        return NULL;
    size_t i = seq & (c->nslots - 1);
    const pktcache_slot_t *s = &c->slots[i];
    if (!s->used || s->seq != seq || now_us - s->at_us > c->max_age_us || !pktcache_intact(c, s))
        return NULL;
    *len = s->len;
    return c->data + s->off;
}
