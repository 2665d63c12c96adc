#include "media-worker/core/rewrite.h"

#include <string.h>

#define RW_PICID_MASK 0x7fff

void rw_init(rw_t *r, uint32_t out_ssrc, uint32_t clock_rate)
{
    memset(r, 0, sizeof(*r));
    r->out_ssrc = out_ssrc;
    r->clock_rate = clock_rate;
    r->layer = -1;
}

/* Sets the offsets so that this packet continues the output stream. */
static void rw_switch(rw_t *r, int layer, uint16_t seq, uint32_t ts, const vp8_desc_t *vp8,
                      uint64_t now_us)
{
    if (!r->started) {
        /* Output starts where the source does. */
        r->seq_off = 0;
        r->ts_off = 0;
        r->picid_off = 0;
        r->tl0_off = 0;
        r->last_seq = (uint16_t)(seq - 1);
        r->last_ts = ts;
        r->last_us = now_us;
        if (vp8) {
            r->last_picid = (uint16_t)((vp8->picid - 1) & RW_PICID_MASK);
            r->last_tl0 = (uint8_t)(vp8->tl0picidx - 1);
        }
        r->started = 1;
    } else {
        r->seq_off = (uint16_t)(r->last_seq + 1 - seq);
        /* The new layer's clock has its own random base: advance by the
         * wall time since the last forwarded packet (at least one tick). */
        uint64_t el = now_us > r->last_us ? now_us - r->last_us : 0;
        uint32_t adv = (uint32_t)((el * r->clock_rate + 500000) / 1000000);
        if (adv == 0)
            adv = 1;
        r->ts_off = r->last_ts + adv - ts;
        if (vp8) {
            r->picid_off = (uint16_t)((r->last_picid + 1 - vp8->picid) & RW_PICID_MASK);
            r->tl0_off = (uint8_t)(r->last_tl0 + 1 - vp8->tl0picidx);
        }
        r->switches++;
    }
    r->layer = layer;
    r->switch_ext = r->high_ext = 65536u + seq;
}

/* seq extended against the highest seen in the current layer (the
 * nearest of the three candidates around it); moves the highest. */
static uint32_t rw_extend(rw_t *r, uint16_t seq)
{
    uint32_t ext = r->high_ext + (uint32_t)(int32_t)(int16_t)(seq - (uint16_t)r->high_ext);
    if (ext > r->high_ext)
        r->high_ext = ext;
    return ext;
}

rw_res_t rw_map(rw_t *r, int layer, uint16_t seq, uint32_t ts, const vp8_desc_t *vp8,
                uint64_t now_us, rw_out_t *out)
{
    if (!r->started || layer != r->layer)
        rw_switch(r, layer, seq, ts, vp8, now_us);
    else if (rw_extend(r, seq) < r->switch_ext)
        return RW_DROP;
    rw_out_t o;
    o.ssrc = r->out_ssrc;
    o.seq = (uint16_t)(seq + r->seq_off);
    o.ts = ts + r->ts_off;
    o.picid = vp8 ? (uint16_t)((vp8->picid + r->picid_off) & RW_PICID_MASK) : 0;
    o.tl0 = vp8 ? (uint8_t)(vp8->tl0picidx + r->tl0_off) : 0;
    if ((int16_t)(o.seq - r->last_seq) > 0) {
        r->last_seq = o.seq;
        r->last_ts = o.ts;
        r->last_us = now_us;
    }
    if (vp8 && vp8->has_picid && ((o.picid - r->last_picid) & RW_PICID_MASK) < 0x4000)
        r->last_picid = o.picid;
    if (vp8 && vp8->has_tl0 && (int8_t)(o.tl0 - r->last_tl0) > 0)
        r->last_tl0 = o.tl0;
    *out = o;
    return RW_FORWARD;
}

void rw_apply(uint8_t *pkt, const rtp_header_t *h, const vp8_desc_t *d, const rw_out_t *o)
{
    rtp_wr16(pkt + 2, o->seq);
    rtp_wr32(pkt + 4, o->ts);
    rtp_wr32(pkt + 8, o->ssrc);
    if (d)
        vp8_rewrite(pkt + h->payload_off, d, o->picid, o->tl0);
}

void rw_hist_init(rw_hist_t *h)
{
    memset(h, 0, sizeof(*h));
}

void rw_hist_put(rw_hist_t *h, int layer, uint16_t src_seq, const rw_out_t *o)
{
    rw_hist_entry_t *e = &h->e[o->seq & (RW_HIST - 1)];
    e->layer1 = (uint8_t)(layer + 1);
    e->src_seq = src_seq;
    e->seq = o->seq;
    e->ts = o->ts;
    e->picid = o->picid;
    e->tl0 = o->tl0;
    e->last_rtx_ms = 0;
}

rw_hist_entry_t *rw_hist_get(rw_hist_t *h, uint16_t out_seq)
{
    rw_hist_entry_t *e = &h->e[out_seq & (RW_HIST - 1)];
    return e->layer1 != 0 && e->seq == out_seq ? e : NULL;
}

rw_out_t rw_hist_out(const rw_hist_entry_t *e, uint32_t ssrc)
{
    return (rw_out_t){.ssrc = ssrc, .seq = e->seq, .ts = e->ts, .picid = e->picid, .tl0 = e->tl0};
}
