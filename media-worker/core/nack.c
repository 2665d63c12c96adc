#include "media-worker/core/nack.h"

#include <string.h>

void nack_gen_init(nack_gen_t *g, uint64_t rtt_us)
{
    memset(g, 0, sizeof(*g));
    g->rtt_us = rtt_us;
    g->hold_us = 5000;
    g->max_age_us = 1000000; /* the sender's cache holds about one second */
    g->max_tries = 10;
}

void nack_gen_set_rtt(nack_gen_t *g, uint64_t rtt_us)
{
    g->rtt_us = rtt_us;
}

static void nack_gen_remove(nack_gen_t *g, size_t i)
{
    g->m[i] = g->m[--g->n];
}

int nack_gen_packet(nack_gen_t *g, uint16_t seq, uint64_t now_us)
{
    if (!g->started) {
        g->started = 1;
        g->max_seq = seq;
        return 0;
    }
    int16_t d = (int16_t)(seq - g->max_seq);
    if (d <= 0) {
        for (size_t i = 0; i < g->n; i++)
            if (g->m[i].seq == seq) {
                nack_gen_remove(g, i);
                g->st.recovered++;
                return 1;
            }
        return 0;
    }
    if (d > NACK_MAX_MISSING) {
        /* Too much lost to repair by retransmission. */
        g->st.given_up += g->n + (size_t)d - 1;
        g->n = 0;
        g->need_keyframe = 1;
    } else {
        for (uint16_t s = (uint16_t)(g->max_seq + 1); s != seq; s++) {
            if (g->n == NACK_MAX_MISSING) {
                /* Drop the oldest. */
                size_t old = 0;
                for (size_t i = 1; i < g->n; i++)
                    if (g->m[i].first_us < g->m[old].first_us)
                        old = i;
                nack_gen_remove(g, old);
                g->st.given_up++;
                g->need_keyframe = 1;
            }
            g->m[g->n++] =
                (nack_miss_t){.seq = s, .first_us = now_us, .next_us = now_us + g->hold_us};
        }
    }
    g->max_seq = seq;
    return 0;
}

/* Retry interval: a round trip plus a margin for the sender's turnaround. */
static uint64_t nack_gen_interval(const nack_gen_t *g)
{
    uint64_t iv = g->rtt_us + g->rtt_us / 4 + 5000;
    return iv < 20000 ? 20000 : iv;
}

size_t nack_gen_poll(nack_gen_t *g, uint64_t now_us, uint16_t *seqs, size_t max)
{
    size_t out = 0;
    for (size_t i = 0; i < g->n;) {
        nack_miss_t *m = &g->m[i];
        if (m->tries >= g->max_tries || now_us - m->first_us > g->max_age_us) {
            nack_gen_remove(g, i);
            g->st.given_up++;
            g->need_keyframe = 1;
            continue;
        }
        if (m->next_us <= now_us && out < max) {
            seqs[out++] = m->seq;
            m->tries++;
            m->next_us = now_us + nack_gen_interval(g);
            g->st.requested++;
        }
        i++;
    }
    /* Order by distance behind max_seq (wrap-aware) for PID+BLP packing. */
    for (size_t i = 1; i < out; i++) {
        uint16_t v = seqs[i];
        uint16_t kv = (uint16_t)(v - g->max_seq - 1);
        size_t j = i;
        while (j > 0 && (uint16_t)(seqs[j - 1] - g->max_seq - 1) > kv) {
            seqs[j] = seqs[j - 1];
            j--;
        }
        seqs[j] = v;
    }
    return out;
}

uint64_t nack_gen_deadline(const nack_gen_t *g)
{
    uint64_t d = UINT64_MAX;
    for (size_t i = 0; i < g->n; i++)
        if (g->m[i].next_us < d)
            d = g->m[i].next_us;
    return d;
}

int nack_gen_take_keyframe(nack_gen_t *g)
{
    int k = g->need_keyframe;
    g->need_keyframe = 0;
    return k;
}

size_t nack_build(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media, const uint16_t *seqs,
                  size_t n)
{
    if (n == 0 || cap < 16)
        return 0;
    size_t o = 12;
    for (size_t i = 0; i < n;) {
        if (cap - o < 4 || o / 4 > 0xffff)
            return 0;
        uint16_t pid = seqs[i++];
        uint16_t blp = 0;
        while (i < n) {
            uint16_t d = (uint16_t)(seqs[i] - pid);
            if (d == 0) {
                i++;
                continue;
            }
            if (d > 16)
                break;
            blp |= (uint16_t)(1u << (d - 1));
            i++;
        }
        rtp_wr16(buf + o, pid);
        rtp_wr16(buf + o + 2, blp);
        o += 4;
    }
    buf[0] = 0x80 | 1;
    buf[1] = 205;
    rtp_wr16(buf + 2, (uint16_t)(o / 4 - 1));
    rtp_wr32(buf + 4, sender);
    rtp_wr32(buf + 8, media);
    return o;
}

nack_err_t nack_parse(const uint8_t *buf, size_t len, uint32_t *media, uint16_t *seqs, size_t max,
                      size_t *n)
{
    if (len < 12)
        return NACK_ERR_SHORT;
    if ((buf[0] >> 6) != 2 || (buf[0] & 0x1f) != 1 || buf[1] != 205)
        return NACK_ERR_HEADER;
    size_t plen = ((size_t)rtp_rd16(buf + 2) + 1) * 4;
    if (plen > len)
        return NACK_ERR_SHORT;
    if (buf[0] & 0x20) {
        uint8_t pad = buf[plen - 1];
        if (pad == 0 || pad > plen - 12)
            return NACK_ERR_SHORT;
        plen -= pad;
    }
    size_t out = 0;
    for (size_t o = 12; o + 4 <= plen; o += 4) {
        uint16_t pid = rtp_rd16(buf + o), blp = rtp_rd16(buf + o + 2);
        if (out < max)
            seqs[out++] = pid;
        for (int b = 0; b < 16; b++)
            if ((blp >> b) & 1 && out < max)
                seqs[out++] = (uint16_t)(pid + b + 1);
    }
    *media = rtp_rd32(buf + 8);
    *n = out;
    return NACK_OK;
}

size_t nack_rtx_wrap(uint8_t *out, size_t cap, const uint8_t *pkt, const rtp_header_t *h,
                     uint8_t rtx_pt, uint32_t rtx_ssrc, uint16_t rtx_seq)
{
    size_t need = h->payload_off + 2 + h->payload_len;
    if (need > cap)
        return 0;
    memcpy(out, pkt, h->payload_off);
    out[0] &= (uint8_t)~0x20; /* no padding */
    out[1] = (uint8_t)((out[1] & 0x80) | (rtx_pt & 0x7f));
    rtp_wr16(out + 2, rtx_seq);
    rtp_wr32(out + 8, rtx_ssrc);
    rtp_wr16(out + h->payload_off, h->seq); /* OSN */
    memcpy(out + h->payload_off + 2, pkt + h->payload_off, h->payload_len);
    return need;
}

size_t nack_rtx_unwrap(uint8_t *out, size_t cap, const uint8_t *rtx, const rtp_header_t *h,
                       uint8_t media_pt, uint32_t media_ssrc)
{
    if (h->payload_len < 2)
        return 0; /* padding-only probe or malformed */
    size_t need = h->payload_off + h->payload_len - 2;
    if (need > cap)
        return 0;
    memcpy(out, rtx, h->payload_off);
    out[0] &= (uint8_t)~0x20;
    out[1] = (uint8_t)((out[1] & 0x80) | (media_pt & 0x7f));
    rtp_wr16(out + 2, rtp_rd16(rtx + h->payload_off));
    rtp_wr32(out + 8, media_ssrc);
    memcpy(out + h->payload_off, rtx + h->payload_off + 2, h->payload_len - 2);
    return need;
}
