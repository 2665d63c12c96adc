/* pktcache: a per-track ring of recently received RTP packets (about one
 * second), keyed by sequence number, to answer NACKs. Preallocated at
 * creation; put/get never allocate. Not a jitter buffer: no ordering. */
#ifndef MW_PKTCACHE_H
#define MW_PKTCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int used;
    uint16_t seq;
    uint16_t len;
    uint64_t at_us;
} pktcache_slot_t;

typedef struct {
    size_t nslots;     /* power of 2 */
    size_t slot_size;  /* max packet length */
    uint64_t max_age_us;
    pktcache_slot_t *slots;
    uint8_t *data;
} pktcache_t;

/* Allocates nslots (rounded up to a power of 2) of slot_size bytes; packets
 * older than max_age_us are not returned. */
void pktcache_init(pktcache_t *c, size_t nslots, size_t slot_size, uint64_t max_age_us);
void pktcache_fini(pktcache_t *c);
/* Stores a copy of pkt (sequence seq, arrived at now_us). Packets longer
 * than slot_size are not stored; returns 0 or -1. */
int pktcache_put(pktcache_t *c, uint16_t seq, const uint8_t *pkt, size_t len, uint64_t now_us);
/* The stored packet with seq, not older than max_age at now_us, or NULL.
 * The pointer stays valid until the next put. */
const uint8_t *pktcache_get(const pktcache_t *c, uint16_t seq, uint64_t now_us, size_t *len);

#endif
