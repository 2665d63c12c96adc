#include "media-worker/core/twcc.h"

#include <string.h>

#define TWCC_MASK (TWCC_RX_WINDOW - 1)
#define TWCC_HDR 20 /* RTCP header, two SSRCs, base seq, count, ref time, fb count */
#define TWCC_MAX_PER_FB 1024

enum { TWCC_NOT_RECEIVED = 0, TWCC_SMALL = 1, TWCC_LARGE = 2 };

static void twcc_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void twcc_wr32(uint8_t *p, uint32_t v)
{
    twcc_wr16(p, (uint16_t)(v >> 16));
    twcc_wr16(p + 2, (uint16_t)v);
}
static uint16_t twcc_rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t twcc_rd32(const uint8_t *p)
{
    return ((uint32_t)twcc_rd16(p) << 16) | twcc_rd16(p + 2);
}

void twcc_rx_init(twcc_rx_t *rx, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    memset(rx, 0, sizeof(*rx));
    rx->sender_ssrc = sender_ssrc;
    rx->media_ssrc = media_ssrc;
}

int64_t twcc_seq_unwrap(int64_t ref, uint16_t seq)
{
    if (ref < 0)
        return 0x10000 + seq; /* keeps early unwraps non-negative */
    int64_t v = (ref & ~(int64_t)0xffff) | seq;
    if (v < ref - 0x8000)
        v += 0x10000;
    else if (v > ref + 0x8000)
        v -= 0x10000;
    return v;
}

void twcc_rx_packet(twcc_rx_t *rx, uint16_t seq, uint64_t now_us)
{
    int64_t ext;
    if (!rx->started) {
        ext = 0x10000 + seq; /* keeps early unwraps non-negative */
        rx->started = 1;
        rx->next_seq = ext;
        rx->max_seq = ext;
    } else {
        ext = twcc_seq_unwrap(rx->max_seq, seq);
    }
    if (ext < rx->next_seq)
        return; /* already reported (or too old) */
    if (ext > rx->max_seq)
        rx->max_seq = ext;
    /* Keep the unreported range inside the window: older ones are given up. */
    if (rx->max_seq - rx->next_seq >= TWCC_RX_WINDOW)
        rx->next_seq = rx->max_seq - TWCC_RX_WINDOW + 1;
    if (ext < rx->next_seq)
        return;
    size_t i = (size_t)(ext & TWCC_MASK);
    rx->tag[i] = (uint32_t)ext;
    rx->arrival_lo[i] = (uint32_t)now_us;
    rx->present[i / 64] |= 1ull << (i % 64);
    if (now_us > rx->last_arrival_us)
        rx->last_arrival_us = now_us;
}

size_t twcc_rx_pending(const twcc_rx_t *rx)
{
    if (!rx->started || rx->max_seq < rx->next_seq)
        return 0;
    return (size_t)(rx->max_seq - rx->next_seq + 1);
}

static int twcc_rx_has(const twcc_rx_t *rx, int64_t ext)
{
    size_t i = (size_t)(ext & TWCC_MASK);
    return (rx->present[i / 64] >> (i % 64) & 1) && rx->tag[i] == (uint32_t)ext;
}

/* The full arrival time of a packet twcc_rx_has() found. */
static uint64_t twcc_rx_arrival(const twcc_rx_t *rx, int64_t ext)
{
    uint32_t lo = rx->arrival_lo[ext & TWCC_MASK];
    return rx->last_arrival_us - (uint32_t)((uint32_t)rx->last_arrival_us - lo);
}

/* Writes the packet status chunks for st[0..n) at out; returns bytes written
 * or 0 if they do not fit in cap. Greedy: a run-length chunk for runs of 14+
 * (or the tail), else a 1-bit vector (14 symbols) when no large delta is in
 * it, else a 2-bit vector (7 symbols) (draft 3.1.3, 3.1.4). */
static size_t twcc_chunks(const uint8_t *st, size_t n, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        if (cap - o < 2)
            return 0;
        size_t run = 1;
        while (i + run < n && st[i + run] == st[i] && run < 0x1fff)
            run++;
        uint16_t chunk;
        if (run >= 14 || i + run == n) {
            chunk = (uint16_t)((st[i] << 13) | run);
            i += run;
        } else {
            size_t k = 0;
            int large = 0;
            for (k = 0; k < 14 && i + k < n; k++)
                if (st[i + k] == TWCC_LARGE)
                    large = 1;
            if (!large) {
                chunk = 0x8000;
                for (k = 0; k < 14 && i < n; k++, i++)
                    chunk |= (uint16_t)(st[i] << (13 - k));
            } else {
                chunk = 0xc000;
                for (k = 0; k < 7 && i < n; k++, i++)
                    chunk |= (uint16_t)(st[i] << (12 - 2 * k));
            }
        }
        twcc_wr16(out + o, chunk);
        o += 2;
    }
    return o;
}

size_t twcc_rx_build(twcc_rx_t *rx, uint8_t *buf, size_t cap)
{
    size_t pending = twcc_rx_pending(rx);
    if (pending == 0 || cap < TWCC_HDR + 8)
        return 0;
    int64_t base = rx->next_seq;
    /* The reference time comes from the first received packet. */
    int64_t first = -1;
    for (int64_t s = base; s <= rx->max_seq; s++)
        if (twcc_rx_has(rx, s)) {
            first = s;
            break;
        }
    if (first < 0)
        return 0; /* only losses so far: wait for an arrival to anchor them */
    uint64_t ref = twcc_rx_arrival(rx, first) / TWCC_REF_US;
    int64_t last_q = (int64_t)(ref * TWCC_REF_US);

    uint8_t st[TWCC_MAX_PER_FB];
    int16_t dl[TWCC_MAX_PER_FB];
    size_t n = 0, delta_bytes = 0;
    size_t room = cap - TWCC_HDR - 3; /* 3: worst-case padding */
    for (int64_t s = base; s <= rx->max_seq && n < TWCC_MAX_PER_FB; s++) {
        uint8_t sym = TWCC_NOT_RECEIVED;
        int64_t d = 0;
        if (twcc_rx_has(rx, s)) {
            int64_t a = (int64_t)twcc_rx_arrival(rx, s);
            int64_t diff = a - last_q;
            d = diff >= 0 ? (diff + TWCC_DELTA_US / 2) / TWCC_DELTA_US
                          : -((-diff + TWCC_DELTA_US / 2) / TWCC_DELTA_US);
            if (d < -32768 || d > 32767)
                break; /* the rest goes into the next feedback */
            sym = (d >= 0 && d <= 255) ? TWCC_SMALL : TWCC_LARGE;
        }
        /* Worst case per packet: 2 bytes of chunk (a 2-bit vector holds 7,
         * but a 1-symbol tail costs a whole chunk) + its delta. */
        size_t db = sym == TWCC_SMALL ? 1 : sym == TWCC_LARGE ? 2 : 0;
        if (2 * (n + 1) + delta_bytes + db > room)
            break;
        st[n] = sym;
        dl[n] = (int16_t)d;
        if (sym != TWCC_NOT_RECEIVED)
            last_q += d * TWCC_DELTA_US;
        delta_bytes += db;
        n++;
    }
    if (n == 0)
        return 0;
    size_t o = TWCC_HDR;
    size_t cl = twcc_chunks(st, n, buf + o, cap - o);
    if (cl == 0)
        return 0;
    o += cl;
    for (size_t i = 0; i < n; i++) {
        if (st[i] == TWCC_SMALL) {
            buf[o++] = (uint8_t)dl[i];
        } else if (st[i] == TWCC_LARGE) {
            twcc_wr16(buf + o, (uint16_t)dl[i]);
            o += 2;
        }
    }
    while (o % 4)
        buf[o++] = 0;
    buf[0] = 0x80 | TWCC_FMT;
    buf[1] = 205;
    twcc_wr16(buf + 2, (uint16_t)(o / 4 - 1));
    twcc_wr32(buf + 4, rx->sender_ssrc);
    twcc_wr32(buf + 8, rx->media_ssrc);
    twcc_wr16(buf + 12, (uint16_t)base);
    twcc_wr16(buf + 14, (uint16_t)n);
    buf[16] = (uint8_t)(ref >> 16);
    buf[17] = (uint8_t)(ref >> 8);
    buf[18] = (uint8_t)ref;
    buf[19] = rx->fb_count++;
    for (int64_t s = base; s < base + (int64_t)n; s++) {
        size_t i = (size_t)(s & TWCC_MASK);
        rx->present[i / 64] &= ~(1ull << (i % 64));
    }
    rx->next_seq = base + (int64_t)n;
    return o;
}

const char *twcc_err_str(twcc_err_t e)
{
    switch (e) {
    case TWCC_OK:
        return "ok";
    case TWCC_ERR_SHORT:
        return "feedback runs past the packet";
    case TWCC_ERR_HEADER:
        return "not a transport-cc feedback";
    case TWCC_ERR_STATUS:
        return "reserved packet status symbol";
    }
    return "?";
}

twcc_err_t twcc_fb_parse(const uint8_t *buf, size_t len, twcc_fb_t *hdr, twcc_pkt_t *pkts,
                         size_t max, size_t *n)
{
    if (len < TWCC_HDR)
        return TWCC_ERR_SHORT;
    if ((buf[0] >> 6) != 2 || (buf[0] & 0x1f) != TWCC_FMT || buf[1] != 205)
        return TWCC_ERR_HEADER;
    size_t plen = ((size_t)twcc_rd16(buf + 2) + 1) * 4;
    if (plen > len || plen < TWCC_HDR)
        return TWCC_ERR_SHORT;
    len = plen;
    if (buf[0] & 0x20) { /* RFC 3550 6.4.1 padding */
        uint8_t pad = buf[len - 1];
        if (pad == 0 || pad > len - TWCC_HDR)
            return TWCC_ERR_SHORT;
        len -= pad;
    }
    twcc_fb_t h;
    h.sender_ssrc = twcc_rd32(buf + 4);
    h.media_ssrc = twcc_rd32(buf + 8);
    h.base_seq = twcc_rd16(buf + 12);
    h.status_count = twcc_rd16(buf + 14);
    int32_t ref = (int32_t)(((uint32_t)buf[16] << 16) | ((uint32_t)buf[17] << 8) | buf[18]);
    if (ref & 0x800000)
        ref -= 0x1000000; /* 24-bit signed (draft 3.1) */
    h.ref_time = ref;
    h.fb_count = buf[19];

    /* Pass 1: walk the chunks to find where the deltas start. */
    size_t o = TWCC_HDR, seen = 0;
    while (seen < h.status_count) {
        if (len - o < 2)
            return TWCC_ERR_SHORT;
        uint16_t c = twcc_rd16(buf + o);
        o += 2;
        size_t k;
        if (!(c & 0x8000))
            k = c & 0x1fff;
        else if (!(c & 0x4000))
            k = 14;
        else
            k = 7;
        seen += k;
    }
    size_t doff = o;
    /* Pass 2: statuses and deltas together. */
    int64_t t = (int64_t)ref * TWCC_REF_US;
    size_t idx = 0, co = TWCC_HDR, out = 0;
    while (idx < h.status_count) {
        uint16_t c = twcc_rd16(buf + co);
        co += 2;
        size_t k;
        int kind; /* 0 run, 1 one-bit, 2 two-bit */
        if (!(c & 0x8000)) {
            k = c & 0x1fff;
            kind = 0;
        } else if (!(c & 0x4000)) {
            k = 14;
            kind = 1;
        } else {
            k = 7;
            kind = 2;
        }
        for (size_t j = 0; j < k && idx < h.status_count; j++, idx++) {
            uint8_t sym = kind == 0   ? (uint8_t)((c >> 13) & 3)
                          : kind == 1 ? (uint8_t)((c >> (13 - j)) & 1)
                                      : (uint8_t)((c >> (12 - 2 * j)) & 3);
            if (sym == 3)
                return TWCC_ERR_STATUS;
            int64_t d = 0;
            if (sym == TWCC_SMALL) {
                if (len - doff < 1)
                    return TWCC_ERR_SHORT;
                d = buf[doff++];
            } else if (sym == TWCC_LARGE) {
                if (len - doff < 2)
                    return TWCC_ERR_SHORT;
                d = (int16_t)twcc_rd16(buf + doff);
                doff += 2;
            }
            t += d * TWCC_DELTA_US;
            if (out < max) {
                pkts[out].seq = (uint16_t)(h.base_seq + idx);
                pkts[out].received = sym != TWCC_NOT_RECEIVED;
                pkts[out].arrival_us = sym != TWCC_NOT_RECEIVED ? t : 0;
                out++;
            }
        }
    }
    *hdr = h;
    *n = out;
    return TWCC_OK;
}
