/* nack: loss recovery. Upstream, a generator that finds gaps in a
 * publisher's sequence numbers and says which to NACK when, with retry
 * limits; downstream, RFC 4585 6.2.1 NACK build/parse and RFC 4588 RTX
 * wrap/unwrap. Not a cache (pktcache.c) and not a timer: callers poll. */
#ifndef MW_NACK_H
#define MW_NACK_H

#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/rtp.h"

#define NACK_MAX_MISSING 256

typedef struct {
    uint16_t seq;
    uint8_t tries;
    uint64_t first_us, next_us;
} nack_miss_t;

typedef struct {
    uint64_t requested; /* NACK entries sent (retries included) */
    uint64_t recovered; /* missing packets that arrived later */
    uint64_t given_up;  /* missing packets abandoned (tries or age) */
} nack_stats_t;

typedef struct {
    int started;
    uint16_t max_seq;
    nack_miss_t m[NACK_MAX_MISSING];
    size_t n;
    uint64_t rtt_us;
    uint64_t hold_us;    /* wait this long for reordering before the first NACK */
    uint64_t max_age_us; /* give up after this */
    uint8_t max_tries;
    int need_keyframe;
    nack_stats_t st;
} nack_gen_t;

/* rtt_us: initial round-trip estimate (retry interval), updatable. */
void nack_gen_init(nack_gen_t *g, uint64_t rtt_us);
void nack_gen_set_rtt(nack_gen_t *g, uint64_t rtt_us);
/* Accounts a received packet (media or RTX-restored). Returns 1 if it filled
 * a gap (a recovered packet), else 0. */
int nack_gen_packet(nack_gen_t *g, uint16_t seq, uint64_t now_us);
/* The sequence numbers to NACK now (at most max, in order), counting a try
 * for each. */
size_t nack_gen_poll(nack_gen_t *g, uint64_t now_us, uint16_t *seqs, size_t max);
/* When poll has something next, or UINT64_MAX. */
uint64_t nack_gen_deadline(const nack_gen_t *g);
/* 1 once if a gap was too large or a packet was given up: ask for a
 * keyframe instead (PLI). */
int nack_gen_take_keyframe(nack_gen_t *g);

/* Builds an RTPFB NACK (header included) for seqs (ascending, wrap-aware),
 * packing runs into PID+BLP. Returns its length, 0 if it does not fit. */
size_t nack_build(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media, const uint16_t *seqs,
                  size_t n);

typedef enum {
    NACK_OK = 0,
    NACK_ERR_SHORT,
    NACK_ERR_HEADER, /* not an RTPFB FMT 1 packet */
} nack_err_t;
/* Expands one NACK sub-packet (header included) into up to max sequence
 * numbers. Writes outputs only on success. */
nack_err_t nack_parse(const uint8_t *buf, size_t len, uint32_t *media, uint16_t *seqs, size_t max,
                      size_t *n);

/* RFC 4588 4: wraps pkt (parsed as h) into an RTX packet: same header with
 * rtx pt/ssrc/seq and without padding, the original seq (OSN) as the first
 * two payload bytes. Returns the length, 0 if it does not fit. */
size_t nack_rtx_wrap(uint8_t *out, size_t cap, const uint8_t *pkt, const rtp_header_t *h,
                     uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq);
/* Restores the original packet from an RTX packet (parsed as h): OSN as seq,
 * media pt and ssrc. Returns the length, 0 if malformed or too long. */
size_t nack_rtx_unwrap(uint8_t *out, size_t cap, const uint8_t *rtx, const rtp_header_t *h,
                       uint8_t media_pt, uint32_t media_ssrc);

#endif
