/* rtp: RFC 3550 RTP header parsing and per-SSRC receive statistics (sequence
 * extension, loss, jitter) for the worker's receiver reports. Not SRTP and not
 * routing: callers pass decrypted packets and the arrival time in. */
#ifndef MW_RTP_H
#define MW_RTP_H

#include <stddef.h>
#include <stdint.h>

#define RTP_HEADER_MIN 12

typedef struct {
    uint8_t padding, extension, csrc_count, marker, pt;
    uint16_t seq;
    uint32_t ts, ssrc;
    uint16_t ext_profile;            /* valid when extension */
    size_t ext_off, ext_len;         /* extension data (after the 4-byte ext header), bytes */
    size_t payload_off, payload_len; /* without padding */
    uint8_t pad_len;
} rtp_header_t;

typedef enum {
    RTP_OK = 0,
    RTP_ERR_SHORT,   /* shorter than the header it announces */
    RTP_ERR_VERSION, /* version is not 2 */
    RTP_ERR_PADDING, /* padding count is 0 or larger than the payload */
    RTP_ERR_RTCP,    /* PT 64..95: an RTCP packet (RFC 5761 4) */
} rtp_err_t;

/* Parses the fixed header, CSRCs, extension and padding of buf. Writes *out
 * only on success. Never reads beyond len. */
rtp_err_t rtp_parse(const uint8_t *buf, size_t len, rtp_header_t *out);
const char *rtp_err_str(rtp_err_t e);

/* Receive statistics of one SSRC (RFC 3550 A.1, A.3, A.8). */
typedef struct {
    int started;
    uint16_t max_seq;
    uint32_t cycles, base_seq, bad_seq, probation;
    uint32_t received, expected_prior, received_prior;
    int64_t transit;
    uint32_t jitter_q4; /* jitter in timestamp units << 4 */
    uint32_t clock_rate;
    uint32_t last_sr_mid; /* middle 32 bits of the last SR's NTP time */
    uint64_t last_sr_us;  /* arrival of that SR, 0 if none */
} rtp_rx_stats_t;

void rtp_rx_init(rtp_rx_stats_t *s, uint32_t clock_rate);
/* Accounts one packet with sequence seq and timestamp ts that arrived at now_us. */
void rtp_rx_update(rtp_rx_stats_t *s, uint16_t seq, uint32_t ts, uint64_t now_us);
/* Records an SR (its NTP timestamp) for LSR/DLSR. */
void rtp_rx_sr(rtp_rx_stats_t *s, uint64_t ntp, uint64_t now_us);

/* One report block's values (RFC 3550 6.4.1), computed at now_us; advances
 * the interval counters (call once per report). */
typedef struct {
    uint8_t fraction_lost;
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t ext_highest_seq, jitter, lsr, dlsr;
} rtp_rx_report_t;
void rtp_rx_report(rtp_rx_stats_t *s, uint64_t now_us, rtp_rx_report_t *out);

static inline uint16_t rtp_rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t rtp_rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void rtp_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void rtp_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
