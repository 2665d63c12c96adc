/* rtcp: RFC 3550 / 4585 / 5104 compound RTCP parsing (SR, RR, SDES, BYE,
 * RTPFB NACK, PSFB PLI/FIR/REMB) and builders for what the worker originates
 * (RR, PLI, REMB). Not a session: no timers, no state; callers pass bytes. */
#ifndef MW_RTCP_H
#define MW_RTCP_H

#include <stddef.h>
#include <stdint.h>

enum {
    RTCP_SR = 200,
    RTCP_RR = 201,
    RTCP_SDES = 202,
    RTCP_BYE = 203,
    RTCP_APP = 204,
    RTCP_RTPFB = 205,
    RTCP_PSFB = 206,
    RTCP_XR = 207,
};
enum { RTCP_FMT_NACK = 1 };
enum { RTCP_FMT_PLI = 1, RTCP_FMT_FIR = 4, RTCP_FMT_AFB = 15 };

#define RTCP_MAX_PACKETS 32 /* sub-packets per compound packet */

/* One sub-packet of a compound packet; off/len locate it (header included). */
typedef struct {
    uint8_t pt, count; /* count: RC/SC or FMT */
    size_t off, len;
    uint32_t sender_ssrc; /* 0 when the packet has none (empty SDES / BYE) */
    uint32_t media_ssrc;  /* feedback (RTPFB/PSFB) only */
} rtcp_packet_t;

typedef struct {
    rtcp_packet_t pkts[RTCP_MAX_PACKETS];
    size_t n;
} rtcp_compound_t;

typedef enum {
    RTCP_OK = 0,
    RTCP_ERR_SHORT,   /* a header or length runs past the buffer */
    RTCP_ERR_VERSION, /* version is not 2 */
    RTCP_ERR_LENGTH,  /* a sub-packet's length contradicts its type */
    RTCP_ERR_TOO_MANY,
    RTCP_ERR_TYPE, /* the first packet is not SR/RR (RFC 3550 6.1), or PT < 192 */
} rtcp_err_t;

/* Splits buf into sub-packets and checks each one's length against its type.
 * Writes *out only on success. Reduced-size RTCP (RFC 5506) is accepted: the
 * first packet may be any type. */
rtcp_err_t rtcp_parse(const uint8_t *buf, size_t len, rtcp_compound_t *out);
const char *rtcp_err_str(rtcp_err_t e);

typedef struct {
    uint32_t ssrc;
    uint64_t ntp;
    uint32_t rtp_ts, packets, octets;
} rtcp_sr_t;
/* Sender info of an SR sub-packet (validated by rtcp_parse). */
void rtcp_sr_info(const uint8_t *buf, const rtcp_packet_t *p, rtcp_sr_t *out);

typedef struct {
    uint32_t ssrc;
    uint8_t fraction_lost;
    int32_t cumulative_lost;
    uint32_t ext_highest_seq, jitter, lsr, dlsr;
} rtcp_report_block_t;
/* Report block i (< p->count) of an SR or RR sub-packet. */
void rtcp_report_block(const uint8_t *buf, const rtcp_packet_t *p, size_t i,
                       rtcp_report_block_t *out);

/* REMB (draft-alvestrand-rmcat-remb): bitrate and the SSRCs it names.
 * Returns 0, or -1 if the PSFB packet is not a valid REMB. */
int rtcp_remb_parse(const uint8_t *buf, const rtcp_packet_t *p, uint64_t *bps, uint32_t *ssrcs,
                    size_t max, size_t *n);

/* NACK FCI entry i of an RTPFB NACK (RFC 4585 6.2.1): PID and BLP. */
size_t rtcp_nack_count(const rtcp_packet_t *p);
void rtcp_nack_entry(const uint8_t *buf, const rtcp_packet_t *p, size_t i, uint16_t *pid,
                     uint16_t *blp);
/* FIR entry i (RFC 5104 4.3.1.1): the SSRC it asks a keyframe from. */
size_t rtcp_fir_count(const rtcp_packet_t *p);
uint32_t rtcp_fir_ssrc(const uint8_t *buf, const rtcp_packet_t *p, size_t i);

/* Builders: write into buf (cap bytes), return the length, or 0 if it does
 * not fit. */
size_t rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t sender, const rtcp_report_block_t *blocks,
                     size_t n);
size_t rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media);
size_t rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bps,
                       const uint32_t *ssrcs, size_t n);
/* Copies sub-packet p of src into buf with its sender SSRC replaced. */
size_t rtcp_copy_as(uint8_t *buf, size_t cap, const uint8_t *src, const rtcp_packet_t *p,
                    uint32_t sender);
/* Copies an SR sub-packet without its report blocks (for forwarding). */
size_t rtcp_copy_sr_only(uint8_t *buf, size_t cap, const uint8_t *src, const rtcp_packet_t *p);

/* Round trip toward one peer from its report blocks (RFC 3550 6.4.1), for a
 * sender that forwards other sources' SRs: the last RTCP_RTT_SRS SRs sent
 * to the peer, by the middle 32 bits of their NTP time (what the peer
 * echoes as LSR), with the local time they left. */
#define RTCP_RTT_SRS 16
#define RTCP_RTT_MAX_US 5000000 /* a longer "round trip" is a stale match */
typedef struct {
    struct {
        uint32_t lsr;
        uint64_t at_us;
    } sr[RTCP_RTT_SRS];
    unsigned next;
    uint64_t srtt_us; /* smoothed (7/8 old + 1/8 new); 0 until a block matched */
} rtcp_rtt_t;

/* An SR with NTP time ntp sent to the peer at now_us. */
void rtcp_rtt_sent(rtcp_rtt_t *r, uint64_t ntp, uint64_t now_us);
/* A report block's LSR and DLSR (1/65536 s) received at now_us. Returns 1
 * and the smoothed round trip in *rtt_us if LSR names an SR sent and the
 * sample is sane (not negative, under RTCP_RTT_MAX_US), else 0. */
int rtcp_rtt_block(rtcp_rtt_t *r, uint32_t lsr, uint32_t dlsr, uint64_t now_us, uint64_t *rtt_us);

#endif
