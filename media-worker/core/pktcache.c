#include "media-worker/core/pktcache.h"

#include <stdlib.h>
#include <string.h>

void pktcache_init(pktcache_t *c, size_t nslots, size_t slot_size, uint64_t max_age_us)
{
    size_t n = 1;
    while (n < nslots)
        n <<= 1;
    c->nslots = n;
    c->slot_size = slot_size;
    c->max_age_us = max_age_us;
    c->slots = calloc(n, sizeof(*c->slots));
    c->data = malloc(n * slot_size);
    if (!c->slots || !c->data)
        abort(); /* out of memory aborts (STYLE) */
}

void pktcache_fini(pktcache_t *c)
{
    free(c->slots);
    free(c->data);
    memset(c, 0, sizeof(*c));
}

int pktcache_put(pktcache_t *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_us)
{
    if (len > c->slot_size || len > 0xffff)
        return -1;
    size_t i = seq & (c->nslots - 1);
    c->slots[i] = (pktcache_slot_t){.used = 1, .seq = seq, .len = (uint16_t)len, .at_us = now_us};
    memcpy(c->data + i * c->slot_size, pkt, len);
    return 0;
}

const uint8_t *pktcache_get(const pktcache_t *c, uint16_t seq, uint64_t now_us, size_t *len)
{
    if (!c->slots)
        return NULL;
    size_t i = seq & (c->nslots - 1);
    const pktcache_slot_t *s = &c->slots[i];
    if (!s->used || s->seq != seq || now_us - s->at_us > c->max_age_us)
        return NULL;
    *len = s->len;
    return c->data + i * c->slot_size;
}
