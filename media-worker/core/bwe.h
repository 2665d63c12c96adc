/* bwe: send-side bandwidth estimation toward one subscriber, GCC-like
 * (draft-ietf-rmcat-gcc-02): a trendline delay-gradient detector over
 * transport-wide feedback, AIMD rate control, a loss-based cap, and REMB or
 * receiver-report loss where TWCC is not negotiated. Not a pacer and not a
 * layer selector: it only says how many bits per second the path carries. */
#ifndef MW_BWE_H
#define MW_BWE_H

#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/twcc.h"

/* Sent packets remembered, power of 2: 512 cover 0.8 s at 6 Mbit/s (the
 * estimate's ceiling) of 1.2 kB packets, 0.5 s with seven 50 pps audio
 * streams on top, still twice the 50-250 ms between feedback reports. At
 * 8 bytes an entry that is 4 kB per subscriber (it was 96 kB, then 12). */
#define BWE_HISTORY 512
#define BWE_TREND_WINDOW 20
#define BWE_ACK_WINDOW 64 /* acked-bitrate samples */

typedef enum { BWE_NORMAL = 0, BWE_OVERUSE, BWE_UNDERUSE } bwe_usage_t;
typedef enum { BWE_HOLD = 0, BWE_INCREASE, BWE_DECREASE } bwe_state_t;

typedef struct {
    uint64_t start_bps, min_bps, max_bps;
} bwe_cfg_t;

/* One sent packet in 8 bytes: the slot index gives the low bits of the
 * extended seq, tag its low 16 bits (a slot is rewritten every
 * BWE_HISTORY sends, so 16 bits tell the laps apart); send_lo the low 32
 * bits of the send time (the high bits come from last_sent_us: the history
 * spans seconds). */
#define BWE_SIZE_MAX 0x3fff /* size saturates here: far above any datagram */
typedef struct {
    uint32_t send_lo;
    uint16_t tag;
    uint16_t size : 14; /* bytes on the wire, saturated */
    uint16_t used : 1, acked : 1;
} bwe_sent_t;

typedef struct {
    bwe_cfg_t cfg;
    /* sent history */
    bwe_sent_t sent[BWE_HISTORY];
    int64_t sent_max;      /* highest extended seq sent, -1 none */
    uint64_t last_sent_us; /* send time of the latest bwe_on_sent */
    /* inter-arrival grouping (5 ms bursts) */
    int grp_valid, prev_valid;
    int64_t grp_first_send, grp_last_send, grp_last_arr;
    int64_t prev_last_send, prev_last_arr;
    /* trendline */
    double acc_delay, smoothed;
    int64_t first_arr;
    double tx[BWE_TREND_WINDOW], ty[BWE_TREND_WINDOW];
    size_t tn, tpos;
    uint32_t num_deltas;
    double prev_trend, threshold;
    double time_over;
    int over_count;
    int64_t last_thr_update;
    bwe_usage_t usage;
    /* acked bitrate: bytes per arrival time over a sliding window */
    int64_t ack_t[BWE_ACK_WINDOW];
    uint32_t ack_b[BWE_ACK_WINDOW];
    size_t ack_n, ack_pos;
    uint64_t acked_bps;
    /* AIMD */
    bwe_state_t state;
    double rate;
    double link_cap; /* acked rate at the last decrease, 0 unknown */
    int ramp_up;     /* no decrease yet: fast start */
    uint64_t last_update_us, last_decrease_us;
    uint64_t rtt_us;
    /* loss-based cap */
    double loss_cap;
    uint32_t loss_lost, loss_total;
    uint64_t loss_last_us;
    double last_loss;
    /* REMB mode */
    uint64_t remb_bps;
} bwe_t;

void bwe_init(bwe_t *b, const bwe_cfg_t *cfg);
/* One media or RTX packet sent with transport-wide seq (size bytes on the
 * wire, at now_us). */
void bwe_on_sent(bwe_t *b, uint16_t twseq, size_t size, uint64_t now_us);
/* One parsed transport-cc feedback arrived at now_us. */
void bwe_on_feedback(bwe_t *b, const twcc_pkt_t *pkts, size_t n, uint64_t now_us);
/* The subscriber's REMB (when TWCC is not negotiated): caps the estimate. */
void bwe_on_remb(bwe_t *b, uint64_t bps, uint64_t now_us);
/* A receiver report's fraction lost (RFC 3550 6.4.1, /256) over packets. */
void bwe_on_loss(bwe_t *b, uint8_t fraction_lost, uint32_t packets, uint64_t now_us);
void bwe_set_rtt(bwe_t *b, uint64_t rtt_us);

uint64_t bwe_estimate(const bwe_t *b);
uint64_t bwe_acked_bps(const bwe_t *b);
bwe_usage_t bwe_usage(const bwe_t *b);

#endif
