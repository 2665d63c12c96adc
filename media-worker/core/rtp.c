#include "media-worker/core/rtp.h"

#include <string.h>

#define RTP_SEQ_MOD (1u << 16)
#define RTP_MAX_DROPOUT 3000
#define RTP_MAX_MISORDER 100
#define RTP_MIN_SEQUENTIAL 2

/* Reads the header extension (RFC 3550 5.3.1) starting at *off. */
static rtp_err_t rtp_parse_ext(const uint8_t *buf, size_t len, size_t *off, rtp_header_t *h)
{
    if (len - *off < 4)
        return RTP_ERR_SHORT;
    h->ext_profile = rtp_rd16(buf + *off);
    size_t words = rtp_rd16(buf + *off + 2);
    *off += 4;
    if (len - *off < words * 4)
        return RTP_ERR_SHORT;
    h->ext_off = *off;
    h->ext_len = words * 4;
    *off += words * 4;
    return RTP_OK;
}

/* Parses the whole header, then strips padding (RFC 3550 5.1: the last octet
 * counts the padding octets, itself included). */
rtp_err_t rtp_parse(const uint8_t *buf, size_t len, rtp_header_t *out)
{
    rtp_header_t h;
    memset(&h, 0, sizeof(h));
    if (len < RTP_HEADER_MIN)
        return RTP_ERR_SHORT;
    if ((buf[0] >> 6) != 2)
        return RTP_ERR_VERSION;
    h.padding = (buf[0] >> 5) & 1;
    h.extension = (buf[0] >> 4) & 1;
    h.csrc_count = buf[0] & 0x0f;
    h.marker = buf[1] >> 7;
    h.pt = buf[1] & 0x7f;
    if (h.pt >= 64 && h.pt <= 95)
        return RTP_ERR_RTCP;
    h.seq = rtp_rd16(buf + 2);
    h.ts = rtp_rd32(buf + 4);
    h.ssrc = rtp_rd32(buf + 8);
    size_t off = RTP_HEADER_MIN + 4u * h.csrc_count;
    if (off > len)
        return RTP_ERR_SHORT;
    if (h.extension) {
        rtp_err_t e = rtp_parse_ext(buf, len, &off, &h);
        if (e != RTP_OK)
            return e;
    }
    size_t end = len;
    if (h.padding) {
        h.pad_len = buf[len - 1];
        if (h.pad_len == 0 || h.pad_len > len - off)
            return RTP_ERR_PADDING;
        end -= h.pad_len;
    }
    h.payload_off = off;
    h.payload_len = end - off;
    *out = h;
    return RTP_OK;
}

/* Names an rtp_err_t for logs and tests. */
const char *rtp_err_str(rtp_err_t e)
{
    switch (e) {
    case RTP_OK:
        return "ok";
    case RTP_ERR_SHORT:
        return "truncated RTP header";
    case RTP_ERR_VERSION:
        return "RTP version is not 2";
    case RTP_ERR_PADDING:
        return "invalid RTP padding";
    case RTP_ERR_RTCP:
        return "RTCP payload type in RTP packet";
    }
    return "unknown";
}

/* Starts statistics for a new SSRC with the given media clock. */
void rtp_rx_init(rtp_rx_stats_t *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate ? clock_rate : 90000;
}

/* RFC 3550 A.1 init_seq. */
static void rtp_rx_init_seq(rtp_rx_stats_t *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = RTP_SEQ_MOD + 1;
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
}

/* RFC 3550 A.1 update_seq without probation (SRTP already authenticated the
 * source). Returns 1 if the packet counts. */
static int rtp_rx_seq(rtp_rx_stats_t *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta < RTP_MAX_DROPOUT) {
        if (seq < s->max_seq)
            s->cycles += RTP_SEQ_MOD;
        s->max_seq = seq;
    } else if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
        if (seq == s->bad_seq) {
            rtp_rx_init_seq(s, seq); /* the source restarted */
        } else {
            s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
            return 0;
        }
    }
    /* else: duplicate or reordered packet, counted */
    return 1;
}

/* Accounts one packet: sequence tracking and interarrival jitter (A.8). */
void rtp_rx_update(rtp_rx_stats_t *s, uint16_t seq, uint32_t ts, uint64_t now_us)
{
    if (!s->started) {
        rtp_rx_init_seq(s, seq);
        s->started = 1;
        s->received = 1;
        s->transit = (int64_t)(now_us * s->clock_rate / 1000000u) - (int64_t)ts;
        return;
    }
    if (!rtp_rx_seq(s, seq))
        return;
    s->received++;
    uint32_t arrival = (uint32_t)(now_us * s->clock_rate / 1000000u);
    int32_t transit = (int32_t)(arrival - ts);
    int32_t d = transit - (int32_t)s->transit;
    s->transit = transit;
    if (d < 0)
        d = -d;
    /* J += (|D| - J) / 16, kept scaled by 16 */
    s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
}

/* Keeps the middle 32 bits of an SR's NTP timestamp (RFC 3550 6.4.1 LSR). */
void rtp_rx_sr(rtp_rx_stats_t *s, uint64_t ntp, uint64_t now_us)
{
    s->last_sr_mid = (uint32_t)(ntp >> 16);
    s->last_sr_us = now_us ? now_us : 1;
}

/* RFC 3550 A.3: loss over the whole session and the last interval. */
void rtp_rx_report(rtp_rx_stats_t *s, uint64_t now_us, rtp_rx_report_t *out)
{
    memset(out, 0, sizeof(*out));
    uint32_t ext_max = s->cycles + s->max_seq;
    uint32_t expected = ext_max - s->base_seq + 1;
    int64_t lost = (int64_t)expected - (int64_t)s->received;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t exp_int = expected - s->expected_prior;
    uint32_t rec_int = s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = s->received;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
    out->fraction_lost = (exp_int == 0 || lost_int <= 0) ? 0 : (uint8_t)((lost_int << 8) / exp_int);
    out->cumulative_lost = (int32_t)lost;
    out->ext_highest_seq = ext_max;
    out->jitter = s->jitter_q4 >> 4;
    if (s->last_sr_us != 0) {
        out->lsr = s->last_sr_mid;
        /* DLSR in units of 1/65536 s */
        out->dlsr = (uint32_t)(((now_us - s->last_sr_us) * 65536u) / 1000000u);
    }
}
