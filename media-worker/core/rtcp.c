#include "media-worker/core/rtcp.h"

#include <string.h>

#include "media-worker/core/rtp.h"

#define RTCP_HDR 4
#define RTCP_SR_INFO 20
#define RTCP_BLOCK 24

/* The minimum length of a sub-packet of type pt with count c, or 0 if the
 * type is not checked beyond its header. */
static size_t rtcp_min_len(uint8_t pt, uint8_t c)
{
    switch (pt) {
    case RTCP_SR:
        return RTCP_HDR + 4 + RTCP_SR_INFO + (size_t)c * RTCP_BLOCK;
    case RTCP_RR:
        return RTCP_HDR + 4 + (size_t)c * RTCP_BLOCK;
    case RTCP_BYE:
        return RTCP_HDR + (size_t)c * 4;
    case RTCP_RTPFB:
    case RTCP_PSFB:
        return RTCP_HDR + 8; /* RFC 4585 6.1: sender and media SSRC */
    case RTCP_APP:
        return RTCP_HDR + 8;
    default:
        return RTCP_HDR;
    }
}

/* Checks one sub-packet at buf[off..] and fills *p. */
static rtcp_err_t rtcp_parse_one(const uint8_t *buf, size_t len, size_t off, rtcp_packet_t *p)
{
    if (len - off < RTCP_HDR)
        return RTCP_ERR_SHORT;
    const uint8_t *h = buf + off;
    if ((h[0] >> 6) != 2)
        return RTCP_ERR_VERSION;
    if (h[1] < 192 || h[1] > 223)
        return RTCP_ERR_TYPE;
    size_t plen = ((size_t)rtp_rd16(h + 2) + 1) * 4;
    if (plen > len - off)
        return RTCP_ERR_SHORT;
    memset(p, 0, sizeof(*p));
    p->pt = h[1];
    p->count = h[0] & 0x1f;
    p->off = off;
    p->len = plen;
    size_t body = plen;
    if (h[0] & 0x20) { /* padding: last octet counts it (RFC 3550 6.4.1) */
        uint8_t pad = h[plen - 1];
        if (pad == 0 || pad > plen - RTCP_HDR)
            return RTCP_ERR_LENGTH;
        body -= pad;
    }
    if (body < rtcp_min_len(p->pt, p->count))
        return RTCP_ERR_LENGTH;
    if (p->pt == RTCP_SDES && p->count > 0 && body < RTCP_HDR + 4)
        return RTCP_ERR_LENGTH;
    if (body >= RTCP_HDR + 4 && p->pt != RTCP_SDES && !(p->pt == RTCP_BYE && p->count == 0))
        p->sender_ssrc = rtp_rd32(h + 4);
    else if (p->pt == RTCP_SDES && p->count > 0)
        p->sender_ssrc = rtp_rd32(h + 4);
    if (p->pt == RTCP_RTPFB || p->pt == RTCP_PSFB)
        p->media_ssrc = rtp_rd32(h + 8);
    return RTCP_OK;
}

/* Walks the compound packet (RFC 3550 6.1) sub-packet by sub-packet. */
rtcp_err_t rtcp_parse(const uint8_t *buf, size_t len, rtcp_compound_t *out)
{
    rtcp_compound_t c;
    c.n = 0;
    if (len < RTCP_HDR)
        return RTCP_ERR_SHORT;
    size_t off = 0;
    while (off < len) {
        if (c.n == RTCP_MAX_PACKETS)
            return RTCP_ERR_TOO_MANY;
        rtcp_err_t e = rtcp_parse_one(buf, len, off, &c.pkts[c.n]);
        if (e != RTCP_OK)
            return e;
        off += c.pkts[c.n].len;
        c.n++;
    }
    out->n = c.n;
    memcpy(out->pkts, c.pkts, c.n * sizeof(c.pkts[0]));
    return RTCP_OK;
}

/* Names an rtcp_err_t. */
const char *rtcp_err_str(rtcp_err_t e)
{
    switch (e) {
    case RTCP_OK:
        return "ok";
    case RTCP_ERR_SHORT:
        return "truncated RTCP packet";
    case RTCP_ERR_VERSION:
        return "RTCP version is not 2";
    case RTCP_ERR_LENGTH:
        return "RTCP length does not fit its type";
    case RTCP_ERR_TOO_MANY:
        return "too many RTCP packets in a compound";
    case RTCP_ERR_TYPE:
        return "not an RTCP packet type";
    }
    return "unknown";
}

/* Reads the SR sender info (RFC 3550 6.4.1). */
void rtcp_sr_info(const uint8_t *buf, const rtcp_packet_t *p, rtcp_sr_t *out)
{
    const uint8_t *h = buf + p->off;
    out->ssrc = rtp_rd32(h + 4);
    out->ntp = ((uint64_t)rtp_rd32(h + 8) << 32) | rtp_rd32(h + 12);
    out->rtp_ts = rtp_rd32(h + 16);
    out->packets = rtp_rd32(h + 20);
    out->octets = rtp_rd32(h + 24);
}

/* Reads report block i of an SR or RR. */
void rtcp_report_block(const uint8_t *buf, const rtcp_packet_t *p, size_t i,
                       rtcp_report_block_t *out)
{
    size_t first = RTCP_HDR + 4 + (p->pt == RTCP_SR ? RTCP_SR_INFO : 0);
    const uint8_t *b = buf + p->off + first + i * RTCP_BLOCK;
    out->ssrc = rtp_rd32(b);
    out->fraction_lost = b[4];
    uint32_t cl = ((uint32_t)b[5] << 16) | ((uint32_t)b[6] << 8) | b[7];
    out->cumulative_lost = (cl & 0x800000) ? (int32_t)(cl | 0xff000000u) : (int32_t)cl;
    out->ext_highest_seq = rtp_rd32(b + 8);
    out->jitter = rtp_rd32(b + 12);
    out->lsr = rtp_rd32(b + 16);
    out->dlsr = rtp_rd32(b + 20);
}

/* REMB: "REMB", num SSRC, 6-bit exponent, 18-bit mantissa, SSRC list. */
int rtcp_remb_parse(const uint8_t *buf, const rtcp_packet_t *p, uint64_t *bps, uint32_t *ssrcs,
                    size_t max, size_t *n)
{
    if (p->pt != RTCP_PSFB || p->count != RTCP_FMT_AFB || p->len < RTCP_HDR + 16)
        return -1;
    const uint8_t *h = buf + p->off;
    if (memcmp(h + 12, "REMB", 4) != 0)
        return -1;
    size_t num = h[16];
    if (p->len < RTCP_HDR + 16 + num * 4)
        return -1;
    uint8_t exp = h[17] >> 2;
    uint64_t mant = ((uint64_t)(h[17] & 3) << 16) | ((uint64_t)h[18] << 8) | h[19];
    *bps = exp > 46 ? UINT64_MAX : mant << exp;
    size_t k = 0;
    for (; k < num && k < max; k++)
        ssrcs[k] = rtp_rd32(h + 20 + 4 * k);
    *n = k;
    return 0;
}

/* Number of NACK FCI entries (4 bytes each after the two SSRCs). */
size_t rtcp_nack_count(const rtcp_packet_t *p)
{
    if (p->pt != RTCP_RTPFB || p->count != RTCP_FMT_NACK)
        return 0;
    return (p->len - RTCP_HDR - 8) / 4;
}

/* Entry i of a NACK. */
void rtcp_nack_entry(const uint8_t *buf, const rtcp_packet_t *p, size_t i, uint16_t *pid,
                     uint16_t *blp)
{
    const uint8_t *e = buf + p->off + RTCP_HDR + 8 + 4 * i;
    *pid = rtp_rd16(e);
    *blp = rtp_rd16(e + 2);
}

/* Number of FIR entries (8 bytes each). */
size_t rtcp_fir_count(const rtcp_packet_t *p)
{
    if (p->pt != RTCP_PSFB || p->count != RTCP_FMT_FIR)
        return 0;
    return (p->len - RTCP_HDR - 8) / 8;
}

/* SSRC of FIR entry i. */
uint32_t rtcp_fir_ssrc(const uint8_t *buf, const rtcp_packet_t *p, size_t i)
{
    return rtp_rd32(buf + p->off + RTCP_HDR + 8 + 8 * i);
}

/* Writes a common header: V=2, no padding, count, pt, length in words - 1. */
static void rtcp_wr_hdr(uint8_t *buf, uint8_t count, uint8_t pt, size_t len)
{
    buf[0] = (uint8_t)(0x80 | (count & 0x1f));
    buf[1] = pt;
    rtp_wr16(buf + 2, (uint16_t)(len / 4 - 1));
}

/* RR with up to 31 report blocks (RFC 3550 6.4.2). */
size_t rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t sender, const rtcp_report_block_t *blocks,
                     size_t n)
{
    if (n > 31)
        n = 31;
    size_t len = RTCP_HDR + 4 + n * RTCP_BLOCK;
    if (len > cap)
        return 0;
    rtcp_wr_hdr(buf, (uint8_t)n, RTCP_RR, len);
    rtp_wr32(buf + 4, sender);
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = buf + 8 + i * RTCP_BLOCK;
        const rtcp_report_block_t *r = &blocks[i];
        uint32_t cl = (uint32_t)r->cumulative_lost & 0xffffff;
        rtp_wr32(b, r->ssrc);
        b[4] = r->fraction_lost;
        b[5] = (uint8_t)(cl >> 16);
        b[6] = (uint8_t)(cl >> 8);
        b[7] = (uint8_t)cl;
        rtp_wr32(b + 8, r->ext_highest_seq);
        rtp_wr32(b + 12, r->jitter);
        rtp_wr32(b + 16, r->lsr);
        rtp_wr32(b + 20, r->dlsr);
    }
    return len;
}

/* PLI (RFC 4585 6.3.1): PSFB FMT 1, no FCI. */
size_t rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media)
{
    if (cap < 12)
        return 0;
    rtcp_wr_hdr(buf, RTCP_FMT_PLI, RTCP_PSFB, 12);
    rtp_wr32(buf + 4, sender);
    rtp_wr32(buf + 8, media);
    return 12;
}

/* REMB with the bitrate as exponent and 18-bit mantissa; media SSRC 0. */
size_t rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bps,
                       const uint32_t *ssrcs, size_t n)
{
    if (n > 255)
        n = 255;
    size_t len = 20 + 4 * n;
    if (len > cap)
        return 0;
    uint8_t exp = 0;
    while ((bps >> exp) > 0x3ffff)
        exp++;
    uint32_t mant = (uint32_t)(bps >> exp);
    rtcp_wr_hdr(buf, RTCP_FMT_AFB, RTCP_PSFB, len);
    rtp_wr32(buf + 4, sender);
    rtp_wr32(buf + 8, 0);
    memcpy(buf + 12, "REMB", 4);
    buf[16] = (uint8_t)n;
    buf[17] = (uint8_t)((exp << 2) | (mant >> 16));
    buf[18] = (uint8_t)(mant >> 8);
    buf[19] = (uint8_t)mant;
    for (size_t i = 0; i < n; i++)
        rtp_wr32(buf + 20 + 4 * i, ssrcs[i]);
    return len;
}

/* Copies sub-packet p with a new sender SSRC (feedback we relay). */
size_t rtcp_copy_as(uint8_t *buf, size_t cap, const uint8_t *src, const rtcp_packet_t *p,
                    uint32_t sender)
{
    if (p->len > cap || p->len < 8)
        return 0;
    memcpy(buf, src + p->off, p->len);
    rtp_wr32(buf + 4, sender);
    return p->len;
}

/* Copies an SR's header and sender info only, RC set to 0 and padding dropped. */
size_t rtcp_copy_sr_only(uint8_t *buf, size_t cap, const uint8_t *src, const rtcp_packet_t *p)
{
    size_t len = RTCP_HDR + 4 + RTCP_SR_INFO;
    if (p->pt != RTCP_SR || cap < len || p->len < len)
        return 0;
    memcpy(buf, src + p->off, len);
    rtcp_wr_hdr(buf, 0, RTCP_SR, len);
    return len;
}

void rtcp_rtt_sent(rtcp_rtt_t *r, uint64_t ntp, uint64_t now_us)
{
    r->sr[r->next % RTCP_RTT_SRS].lsr = (uint32_t)(ntp >> 16);
    r->sr[r->next % RTCP_RTT_SRS].at_us = now_us;
    r->next++;
}

int rtcp_rtt_block(rtcp_rtt_t *r, uint32_t lsr, uint32_t dlsr, uint64_t now_us, uint64_t *rtt_us)
{
    if (lsr == 0) /* RFC 3550 6.4.1: no SR received yet */
        return 0;
    for (size_t k = 0; k < RTCP_RTT_SRS; k++) {
        if (r->sr[k].at_us == 0 || r->sr[k].lsr != lsr)
            continue;
        if (now_us < r->sr[k].at_us)
            return 0;
        uint64_t held = (uint64_t)dlsr * 1000000 / 65536;
        uint64_t since = now_us - r->sr[k].at_us;
        if (since < held || since - held > RTCP_RTT_MAX_US)
            return 0;
        uint64_t rtt = since - held;
        r->srtt_us = r->srtt_us != 0 ? (7 * r->srtt_us + rtt) / 8 : rtt;
        *rtt_us = r->srtt_us;
        return 1;
    }
    return 0;
}
