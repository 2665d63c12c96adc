/* pktcache: a per-track ring of recently received RTP packets (about one
 * second), keyed by sequence number, to answer NACKs. Preallocated at
 * creation; put/get never allocate. Not a jitter buffer: no ordering. */
#ifndef MW_PKTCACHE_H
#define MW_PKTCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t at_us;
    uint32_t off; /* where the bytes start in data */
    uint32_t lap; /* the data lap they were written in */
    uint16_t seq;
    uint16_t len;
    uint8_t used;
} pktcache_slot_t;

/* Packets are stored back to back in one byte ring (not one slot_size
 * stride each), and the ring starts over as soon as its oldest bytes are
 * older than max_age: only about bitrate x max_age of it is ever touched,
 * so memory follows the track's rate (a 1.5 Mbit/s layer keeps about
 * 190 kB resident, not nslots x slot_size). */
typedef struct {
    size_t nslots;    /* power of 2 */
    size_t slot_size; /* max packet length */
    uint64_t max_age_us;
    pktcache_slot_t *slots;
    uint8_t *data;
    size_t cap;   /* bytes in data: nslots x slot_size */
    size_t wpos;  /* next write offset in the current lap */
    uint32_t lap; /* starts at 1; slots of lap 0 are unused */
    uint64_t lap_start_us;
} pktcache_t;

/* Allocates nslots (rounded up to a power of 2) entries and a ring of
 * nslots x slot_size bytes (reserved, touched only as it fills); packets
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
