/* rewrite: one continuous outgoing stream per subscriber track out of
 * several source layers (simulcast): SSRC, sequence number, timestamp and
 * the VP8 picture id / TL0PICIDX are mapped so a switch between layers shows
 * no gap or jump; and a history of what was sent, to answer NACKs. Not the
 * switch decision (simulcast.c says when a switch is allowed). */
#ifndef MW_REWRITE_H
#define MW_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/rtp.h"
#include "media-worker/core/vp8.h"

typedef struct {
    uint32_t ssrc;
    uint16_t seq;
    uint32_t ts;
    uint16_t picid; /* 15 bits */
    uint8_t tl0;
} rw_out_t;

typedef struct {
    uint32_t out_ssrc, clock_rate;
    int started;
    int layer; /* current source layer */
    /* The current layer's source seqs extended past their wraps (RFC 3550
     * A.1 style; the first one is 65536, so late ones stay positive): the
     * first one forwarded, and the highest seen. A packet from before the
     * switch is told apart from one 32768 packets later by these, not by
     * a 16-bit difference (which dropped half of every 65536 packets after
     * the first 32768: video 3 minutes into a call, audio after 11). */
    uint32_t switch_ext, high_ext;
    uint16_t seq_off;
    uint32_t ts_off;
    uint16_t picid_off;
    uint8_t tl0_off;
    /* highest forwarded, in output space */
    uint16_t last_seq;
    uint32_t last_ts;
    uint64_t last_us;
    uint16_t last_picid;
    uint8_t last_tl0;
    uint32_t switches;
} rw_t;

typedef enum { RW_FORWARD = 0, RW_DROP } rw_res_t;

void rw_init(rw_t *r, uint32_t out_ssrc, uint32_t clock_rate);
/* Maps one source packet (layer, seq, ts; vp8 is its parsed descriptor or
 * NULL) forwarded at now_us. A layer other than the current one is a switch:
 * the caller passes the first packet of a key frame there. Returns
 * RW_FORWARD with *out, or RW_DROP for a late packet from before the
 * current layer's switch point. */
rw_res_t rw_map(rw_t *r, int layer, uint16_t seq, uint32_t ts, const vp8_desc_t *vp8,
                uint64_t now_us, rw_out_t *out);
/* Writes o into the packet (header parsed as h, descriptor d or NULL). */
void rw_apply(uint8_t *pkt, const rtp_header_t *h, const vp8_desc_t *d, const rw_out_t *o);

/* What was sent under each output seq, to rebuild a packet for a NACK.
 * 16 bytes an entry (the SSRC is the subscriber's, not stored): 8 kB per
 * video subscription, the last 512 packets: 0.8 s at 6 Mbit/s (the
 * estimator's ceiling) of 1.2 kB packets, 2 s of a 2.5 Mbit/s simulcast
 * layer. A retransmission later than that misses the receiver's playout
 * anyway (its jitter buffer holds a few hundred ms); 1024 entries cost
 * 8 kB more per video subscription for nothing. */
#define RW_HIST 512 /* power of 2 */
typedef struct {
    uint32_t ts;
    uint32_t last_rtx_ms; /* low 32 bits of the last retransmission, 0: none */
    uint16_t seq;         /* the output seq */
    uint16_t src_seq;
    uint16_t picid;
    uint8_t tl0;
    uint8_t layer1; /* source layer + 1; 0: empty */
} rw_hist_entry_t;

typedef struct {
    rw_hist_entry_t e[RW_HIST];
} rw_hist_t;

void rw_hist_init(rw_hist_t *h);
void rw_hist_put(rw_hist_t *h, int layer, uint16_t src_seq, const rw_out_t *o);
/* The entry for output seq, or NULL. */
rw_hist_entry_t *rw_hist_get(rw_hist_t *h, uint16_t out_seq);
/* The mapping an entry was sent with, on output SSRC ssrc. */
rw_out_t rw_hist_out(const rw_hist_entry_t *e, uint32_t ssrc);

#endif
