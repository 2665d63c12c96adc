/* media: the receive path as a chain of small stages. RTP: parse -> header
 * extensions (transport-wide seq, audio level, rid) -> classify the SSRC
 * (audio, a video layer, its RTX) -> account (stats, NACK generator, packet
 * cache, key frames) -> per subscriber: layer gate, rewrite into the
 * subscriber's one continuous stream, transport-wide seq, send. RTCP: SR
 * rewritten to subscribers; from subscribers: transport-cc feedback and
 * REMB/RR to their estimator, NACKs answered from the cache (RTX where
 * negotiated), PLI/FIR coalesced per publisher layer. No allocation and no
 * logging per packet. */
#include <string.h>

#include "common/util.h"
#include "media-worker/core/h264.h"
#include "media-worker/core/rtcp.h"
#include "media-worker/core/rtp.h"
#include "media-worker/core/rtpext.h"
#include "media-worker/core/vp8.h"
#include "media-worker/shell/worker.h"

#define MW_MAX_FANOUT ROOM_MAX_PARTICIPANTS /* subscribers of one packet */
#define MW_REMB_BPS 2500000u
#define MW_RTCP_BUF 1500
#define MW_PKT_MAX 1600
#define MW_CACHE_SLOTS 1024 /* ~1 s of a 2.5 Mbit/s layer */
#define MW_CACHE_AGE_US 1000000
#define MW_KF_INTERVAL_US 300000 /* one PLI per layer per 300 ms */
#define MW_NACK_RTT_US 100000
#define MW_RTX_REPEAT_US 40000 /* ignore repeated NACKs for a packet this long */
#define MW_TWCC_MAX 1024

/* One received packet as it moves through the stages. */
typedef struct {
    mw_session_t *s;
    sdp_kind_t kind;
    int layer;
    uint8_t *pkt;
    size_t len;
    rtp_header_t h;
    vp8_desc_t vp8;
    int has_vp8, keyframe;
    int has_level;
    uint8_t level_byte; /* RFC 6464 byte as received */
    uint64_t now_us;
} mw_rx_t;

/* ---- publisher state ---- */

/* The publisher half of s, created on first use. */
static mw_pub_t *mw_media_pub(mw_session_t *s, uint32_t media_ssrc)
{
    if (s->pub != NULL)
        return s->pub;
    mw_pub_t *p = vc_calloc(1, sizeof(*p));
    twcc_rx_init(&p->twcc, s->w->rtcp_ssrc, media_ssrc);
    sc_dyn_init(&p->dyn, SC_MAX_LAYERS, 2000000);
    p->told_active = 0xff;
    s->pub = p;
    return p;
}

/* Claims layer idx of pub for media ssrc (allocating its cache once). */
static mw_layer_t *mw_media_layer_init(mw_pub_t *pub, int idx)
{
    mw_layer_t *l = &pub->lay[idx];
    if (l->used)
        return l;
    l->used = 1;
    pktcache_init(&l->cache, MW_CACHE_SLOTS, MW_PKT_MAX, MW_CACHE_AGE_US);
    nack_gen_init(&l->nack, MW_NACK_RTT_US);
    sc_kf_init(&l->kf, MW_KF_INTERVAL_US);
    rtp_rx_init(&l->rx, 90000);
    /* A guess until a VP8 key frame tells: q/h/f of a 1280x720 source. */
    pub->info[idx].width = (uint16_t)(1280 >> (SC_MAX_LAYERS - 1 - idx));
    pub->info[idx].height = (uint16_t)(720 >> (SC_MAX_LAYERS - 1 - idx));
    if ((size_t)idx + 1 > pub->n_lay)
        pub->n_lay = (size_t)idx + 1;
    return l;
}

/* Layer index of a rid: its place in the offer's a=simulcast, else the
 * first free slot, else -1. */
static int mw_media_rid_index(const mw_pub_t *pub, const uint8_t *v, size_t n)
{
    for (int i = 0; i < SDP_MAX_RIDS && i < SC_MAX_LAYERS; i++)
        if (strlen(sdp_rids[i]) == n && memcmp(sdp_rids[i], v, n) == 0)
            return i;
    for (int i = 0; i < SC_MAX_LAYERS; i++)
        if (!pub->lay[i].used)
            return i;
    return -1;
}

/* The video layer (and whether RTX) of a known SSRC, or -1. */
static int mw_media_layer_of(const mw_pub_t *pub, uint32_t ssrc, int *is_rtx)
{
    if (pub == NULL)
        return -1;
    for (int i = 0; i < SC_MAX_LAYERS; i++) {
        if (!pub->lay[i].used)
            continue;
        if (pub->lay[i].ssrc == ssrc) {
            *is_rtx = 0;
            return i;
        }
        if (pub->lay[i].rtx == ssrc) {
            *is_rtx = 1;
            return i;
        }
    }
    return -1;
}

static int mw_media_is_video_pt(uint8_t pt)
{
    return pt == SDP_PT_VP8 || pt == SDP_PT_H264;
}

static int mw_media_is_rtx_pt(uint8_t pt)
{
    return pt == SDP_PT_VP8_RTX || pt == SDP_PT_H264_RTX;
}

/* Stage: a new video SSRC. The rid / repaired-rid extension names its layer
 * (RFC 8852); without rids the publisher has one layer (first SSRC with a
 * video payload type is the media, with an RTX type its repair stream). */
static int mw_media_learn_video(mw_session_t *s, const mw_rx_t *rx, const uint8_t *rid,
                                size_t rid_len, const uint8_t *rrid, size_t rrid_len, int *is_rtx)
{
    uint8_t pt = rx->h.pt;
    if (!mw_media_is_video_pt(pt) && !mw_media_is_rtx_pt(pt))
        return -1;
    mw_pub_t *pub = mw_media_pub(s, rx->h.ssrc);
    int idx;
    if (rid != NULL && mw_media_is_video_pt(pt)) {
        idx = mw_media_rid_index(pub, rid, rid_len);
        if (idx < 0)
            return -1;
        pub->simulcast = 1;
        mw_media_layer_init(pub, idx)->ssrc = rx->h.ssrc;
        *is_rtx = 0;
    } else if (rrid != NULL && mw_media_is_rtx_pt(pt)) {
        idx = mw_media_rid_index(pub, rrid, rrid_len);
        if (idx < 0 || !pub->lay[idx].used)
            return -1; /* RTX before its layer: wait for the layer */
        pub->lay[idx].rtx = rx->h.ssrc;
        *is_rtx = 1;
    } else if (!pub->simulcast && mw_media_is_video_pt(pt) &&
               (!pub->lay[0].used || pub->lay[0].ssrc == 0)) {
        idx = 0;
        mw_media_layer_init(pub, 0)->ssrc = rx->h.ssrc;
        *is_rtx = 0;
    } else if (!pub->simulcast && mw_media_is_rtx_pt(pt) && pub->lay[0].used &&
               pub->lay[0].rtx == 0) {
        idx = 0;
        pub->lay[0].rtx = rx->h.ssrc;
        *is_rtx = 1;
    } else {
        return -1;
    }
    room_part_t *p = s->part;
    if (!*is_rtx && p->ssrc[SDP_KIND_VIDEO] == 0) {
        room_set_published(p, SDP_KIND_VIDEO, rx->h.ssrc, 0);
        mw_room_renegotiate(s->room);
    }
    return idx;
}

/* ---- receive path ---- */

/* Stage: header extensions once per packet. */
static void mw_media_exts(mw_rx_t *rx, const uint8_t **rid, size_t *rid_len, const uint8_t **rrid,
                          size_t *rrid_len)
{
    mw_session_t *s = rx->s;
    const room_part_t *p = s->part;
    *rid = *rrid = NULL;
    rx->has_level = 0;
    if (!rx->h.extension)
        return;
    rtpext_list_t el;
    const uint8_t *data = rx->pkt + rx->h.ext_off;
    if (rtpext_parse(rx->h.ext_profile, data, rx->h.ext_len, &el) != RTPEXT_OK)
        return;
    uint8_t tw_id = p->ml[1].ext_twcc ? p->ml[1].ext_twcc : p->ml[0].ext_twcc;
    for (size_t i = 0; i < el.n; i++) {
        const rtpext_elem_t *e = &el.e[i];
        const uint8_t *v = data + e->off;
        if (e->id == tw_id && e->len >= 2) {
            mw_pub_t *pub = mw_media_pub(s, rx->h.ssrc);
            pub->twcc_on = 1;
            twcc_rx_packet(&pub->twcc, rtpext_twcc_seq(v), rx->now_us);
        } else if (e->id == p->ml[0].ext_audio_level && e->len >= 1) {
            rx->has_level = 1;
            rx->level_byte = v[0];
        } else if (e->id == p->ml[1].ext_rid && e->len >= 1) {
            *rid = v;
            *rid_len = e->len;
        } else if (e->id == p->ml[1].ext_rrid && e->len >= 1) {
            *rrid = v;
            *rrid_len = e->len;
        }
    }
}

/* Stage: audio SSRC; an unknown one with the Opus type is latched once. */
static int mw_media_audio(mw_session_t *s, const rtp_header_t *h)
{
    room_part_t *p = s->part;
    if (h->ssrc == p->ssrc[SDP_KIND_AUDIO] && h->ssrc != 0)
        return 1;
    if (h->pt != SDP_PT_OPUS || p->ssrc[SDP_KIND_AUDIO] != 0)
        return 0;
    room_set_published(p, SDP_KIND_AUDIO, h->ssrc, 0);
    mw_room_renegotiate(s->room);
    return 1;
}

/* Stage: payload descriptor and key frame start. */
static void mw_media_codec(mw_rx_t *rx)
{
    const uint8_t *pl = rx->pkt + rx->h.payload_off;
    rx->has_vp8 = rx->keyframe = 0;
    if (rx->h.payload_len == 0)
        return;
    if (rx->h.pt == SDP_PT_VP8) {
        if (vp8_parse(pl, rx->h.payload_len, &rx->vp8) == VP8_OK) {
            rx->has_vp8 = 1;
            rx->keyframe = rx->vp8.keyframe;
        }
    } else if (rx->h.pt == SDP_PT_H264) {
        rx->keyframe = h264_is_keyframe(pl, rx->h.payload_len);
    }
}

/* Writes pkt (parsed as h) into out with the subscriber's own header
 * extensions (transport-wide seq, audio level) instead of the publisher's:
 * its mid / rid must not reach another m-line. Returns the length and the
 * output header in *oh, or 0 if it does not fit. */
static size_t mw_media_rebuild(const uint8_t *pkt, size_t len, const rtp_header_t *h,
                               const room_mline_t *m, uint16_t twseq, const mw_rx_t *rx,
                               uint8_t *out, size_t cap, rtp_header_t *oh)
{
    size_t fixed = RTP_HEADER_MIN + 4u * h->csrc_count;
    size_t tail = len - h->payload_off;
    if (fixed + 4 + 8 + tail > cap)
        return 0;
    rtpext_item_t it[2];
    size_t ni = 0;
    uint8_t tw[2];
    if (m->ext_twcc) {
        rtp_wr16(tw, twseq);
        it[ni++] = (rtpext_item_t){.id = m->ext_twcc, .len = 2, .data = tw};
    }
    if (rx != NULL && rx->has_level && m->ext_audio_level)
        it[ni++] = (rtpext_item_t){.id = m->ext_audio_level, .len = 1, .data = &rx->level_byte};
    memcpy(out, pkt, fixed);
    size_t el = 0;
    if (ni > 0) {
        el = rtpext_write(out + fixed, cap - fixed, it, ni);
        if (el == 0)
            return 0;
        out[0] |= 0x10;
    } else {
        out[0] &= (uint8_t)~0x10;
    }
    memcpy(out + fixed + el, pkt + h->payload_off, tail);
    *oh = *h;
    oh->extension = ni > 0;
    oh->payload_off = fixed + el;
    return fixed + el + tail;
}

/* Accounts a packet built for subscriber s's m-line (its estimator). */
static void mw_media_sent(mw_session_t *s, const room_mline_t *m, uint16_t twseq, size_t n,
                          uint64_t now_us)
{
    if (m->ext_twcc && s->bwe != NULL)
        bwe_on_sent(s->bwe, twseq, n, now_us);
    s->sent_bytes += n;
}

/* Sends a packet built for subscriber s's m-line, feeding its estimator. */
static void mw_media_send_out(mw_session_t *s, const room_mline_t *m, uint16_t twseq,
                              const uint8_t *out, size_t n, uint64_t now_us)
{
    mw_media_sent(s, m, twseq, n, now_us);
    if (mw_peer_send_rtp(s->peer, out, n) != 0)
        s->fwd_fail++;
}

/* Stage: one subscriber m-line. Simulcast layers pass the selector's gate
 * (switching at key frames only); everything is rewritten into the
 * m-line's continuous stream. */
static void mw_media_forward_one(mw_session_t *q, size_t i, const mw_rx_t *rx)
{
    const room_mline_t *m = &q->part->ml[i];
    mw_sub_t *sub = mw_media_sub(q, i);
    mw_pub_t *pub = rx->s->pub;
    if (rx->kind == SDP_KIND_VIDEO && pub != NULL && pub->simulcast &&
        sc_on_packet(&sub->sc, rx->layer, rx->keyframe) == SC_DROP)
        return;
    rw_out_t o;
    const vp8_desc_t *d = rx->has_vp8 ? &rx->vp8 : NULL;
    if (rw_map(&sub->rw, rx->layer, rx->h.seq, rx->h.ts, d, rx->now_us, &o) == RW_DROP)
        return;
    /* Built straight into the peer's send slot: protected there, no copy. */
    uint8_t *out = mw_peer_rtp_buf(q->peer);
    rtp_header_t oh;
    uint16_t tw = q->twseq;
    size_t n = mw_media_rebuild(rx->pkt, rx->len, &rx->h, m, tw, rx, out, MW_PEER_RTP_MAX, &oh);
    if (n == 0)
        return;
    if (m->ext_twcc)
        q->twseq++;
    rw_apply(out, &oh, d, &o);
    if (sub->hist != NULL)
        rw_hist_put(sub->hist, rx->layer, rx->h.seq, &o);
    sub->pkts++;
    mw_media_sent(q, m, tw, n, rx->now_us);
    if (mw_peer_send_rtp_buf(q->peer, n) != 0)
        q->fwd_fail++;
}

/* Rebuilds s's list of who receives its kind packets with payload type pt:
 * every subscriber m-line bound to it, live, that accepted pt. */
static void mw_media_fan_build(mw_session_t *s, sdp_kind_t kind, uint8_t pt)
{
    room_part_t *pub = s->part;
    mw_fan_t *f = &s->fan[kind];
    f->n = 0;
    for (room_part_t *q = pub->room->parts; q != NULL && f->n < MW_MAX_FANOUT; q = q->next) {
        if (q == pub)
            continue;
        for (size_t i = 2; i < q->n_ml; i++) {
            const room_mline_t *m = &q->ml[i];
            if (m->pub == pub && m->kind == kind && m->live && pt < 128 &&
                ((m->pts[pt >> 3] >> (pt & 7)) & 1)) {
                if (f->n == f->cap) {
                    f->cap = f->cap ? f->cap * 2 : 8;
                    f->ss = vc_realloc(f->ss, f->cap * sizeof(*f->ss));
                    f->ml = vc_realloc(f->ml, f->cap * sizeof(*f->ml));
                }
                f->ss[f->n] = q->user;
                f->ml[f->n++] = (uint8_t)i;
                break;
            }
        }
    }
    f->gen = pub->room->gen;
    f->pt = pt;
}

/* Prefetch stages for a fan-out's receiver q on m-line i, each run over a
 * chunk of receivers once the stage before is in cache: the session, then
 * what it points to, then what those point to. At moderate load each
 * wake-up serves another room than the last, and a copy taken on its own
 * waited for about ten dependent cache misses (the session, its
 * participant's m-lines, its subscriber state, its peer, the peer's SRTP
 * state and SSRC table); a pass per stage overlaps them. */
#define MW_FAN_CHUNK 16
/* A fan-out to this many or more sends its first half before encrypting
 * the second when nothing waits behind its packet: the median copy leaves
 * one half's SRTP earlier, for one more system call. */
#define MW_FAN_EARLY 8

static void mw_media_prefetch(const mw_session_t *q, size_t i, int stage)
{
    switch (stage) {
    case 0:
        __builtin_prefetch(&q->dead);
        __builtin_prefetch(&q->part);
        __builtin_prefetch(&q->sub[i]);
        __builtin_prefetch(&q->twseq);
        break;
    case 1:
        if (q->part != NULL)
            __builtin_prefetch(&q->part->ml);
        if (q->sub[i] != NULL)
            __builtin_prefetch(q->sub[i]);
        if (q->peer != NULL)
            mw_peer_prefetch(q->peer, 0);
        break;
    default:
        if (stage == 2 && q->part != NULL && i < q->part->n_ml)
            __builtin_prefetch(&q->part->ml[i].out_ssrc);
        if (q->peer != NULL)
            mw_peer_prefetch(q->peer, stage - 1);
        break;
    }
}

/* Stage: every connected subscriber m-line of (publisher, kind) that
 * accepted the payload type. The list is kept per publisher and kind, and
 * rebuilt when the room changes (room_t.gen) or the payload type does, not
 * scanned per packet. Sessions in it outlive the loop turn even if a send
 * triggers a removal (they are freed when the turn ends). */
static void mw_media_fanout(const mw_rx_t *rx)
{
    mw_session_t *s = rx->s;
    room_part_t *pub = s->part;
    if (pub->held[rx->kind])
        return;
    mw_fan_t *f = &s->fan[rx->kind];
    if (f->gen != pub->room->gen || f->gen == 0 || f->pt != rx->h.pt)
        mw_media_fan_build(s, rx->kind, rx->h.pt);
    mw_session_t **ss = f->ss;
    const uint8_t *ml = f->ml;
    /* The second half's first receiver; 0: no early flush. */
    size_t half = f->n >= MW_FAN_EARLY ? (f->n + 1) / 2 : 0;
    for (size_t k0 = 0, n = f->n; k0 < n; k0 += MW_FAN_CHUNK) {
        size_t end = k0 + MW_FAN_CHUNK < n ? k0 + MW_FAN_CHUNK : n;
        for (int stage = 0; stage < 4; stage++)
            for (size_t k = k0; k < end; k++)
                mw_media_prefetch(ss[k], ml[k], stage);
        for (size_t k = k0; k < end; k++) {
            mw_session_t *q = ss[k];
            if (half && k == half)
                mw_peer_flush_lone();
            if (q->dead || !q->connected || q->part == NULL)
                continue;
            mw_media_forward_one(q, ml[k], rx);
        }
    }
}

/* Stage: a video packet's layer bookkeeping: statistics, gaps for upstream
 * NACKs, the cache, key frames. */
static void mw_media_video_account(mw_rx_t *rx, mw_layer_t *l, int recovered_rtx)
{
    mw_pub_t *pub = rx->s->pub;
    if (!recovered_rtx)
        rtp_rx_update(&l->rx, rx->h.seq, rx->h.ts, rx->now_us);
    nack_gen_packet(&l->nack, rx->h.seq, rx->now_us);
    pktcache_put(&l->cache, rx->h.seq, rx->pkt, rx->len, rx->now_us);
    l->bytes += rx->len;
    l->last_pkt_us = rx->now_us;
    mw_media_codec(rx);
    if (rx->keyframe) {
        sc_kf_received(&l->kf);
        if (rx->has_vp8 && rx->vp8.width != 0) {
            pub->info[rx->layer].width = rx->vp8.width;
            pub->info[rx->layer].height = rx->vp8.height;
        }
    }
}

/* on_rtp: one decrypted RTP packet from publisher s. */
void mw_media_on_rtp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user)
{
    mw_session_t *s = user;
    mw_rx_t rx = {.s = s, .pkt = pkt, .len = len};
    if (s->dead || s->part == NULL)
        return;
    if (rtp_parse(pkt, len, &rx.h) != RTP_OK) {
        s->rtp_garbage++;
        return;
    }
    rx.now_us = vc_now_us();
    const uint8_t *rid, *rrid;
    size_t rid_len = 0, rrid_len = 0;
    mw_media_exts(&rx, &rid, &rid_len, &rrid, &rrid_len);
    if (mw_media_audio(s, &rx.h)) {
        rx.kind = SDP_KIND_AUDIO;
        rtp_rx_update(&s->rx[SDP_KIND_AUDIO], rx.h.seq, rx.h.ts, rx.now_us);
        if (rx.has_level && s->room->media != NULL && s->al_id != 0)
            al_level(&((mw_room_media_t *)s->room->media)->al, s->al_id, rx.level_byte & 0x7f,
                     rx.now_us);
        mw_media_fanout(&rx);
        return;
    }
    int is_rtx = 0;
    int layer = mw_media_layer_of(s->pub, rx.h.ssrc, &is_rtx);
    if (layer < 0)
        layer = mw_media_learn_video(s, &rx, rid, rid_len, rrid, rrid_len, &is_rtx);
    if (layer < 0) {
        s->unknown_ssrc++;
        return;
    }
    mw_layer_t *l = &s->pub->lay[layer];
    rx.kind = SDP_KIND_VIDEO;
    rx.layer = layer;
    uint8_t restored[MW_PKT_MAX];
    if (is_rtx) {
        /* RFC 4588 4: restore the original; padding-only probes end here. */
        uint8_t mpt = rx.h.pt == SDP_PT_H264_RTX ? SDP_PT_H264 : SDP_PT_VP8;
        size_t n = nack_rtx_unwrap(restored, sizeof(restored), pkt, &rx.h, mpt, l->ssrc);
        if (n == 0 || rtp_parse(restored, n, &rx.h) != RTP_OK)
            return;
        rx.pkt = restored;
        rx.len = n;
    }
    mw_media_video_account(&rx, l, is_rtx);
    mw_media_fanout(&rx);
}

/* ---- keyframes ---- */

/* PLI to one of pub's video layers. */
void mw_media_pli_layer(mw_session_t *pub, int layer)
{
    if (pub->dead || !pub->connected || pub->pub == NULL || layer < 0 || layer >= SC_MAX_LAYERS ||
        !pub->pub->lay[layer].used)
        return;
    uint8_t buf[16];
    size_t n = rtcp_build_pli(buf, sizeof(buf), pub->w->rtcp_ssrc, pub->pub->lay[layer].ssrc);
    if (n > 0)
        mw_peer_send_rtcp(pub->peer, buf, n);
}

/* Asks one layer for a key frame through its coalescing throttle. */
static void mw_media_kf_layer(mw_session_t *pub, int layer, uint64_t now_us)
{
    if (pub->pub == NULL || layer < 0 || layer >= SC_MAX_LAYERS || !pub->pub->lay[layer].used)
        return;
    sc_kf_t *k = &pub->pub->lay[layer].kf;
    sc_kf_request(k);
    if (sc_kf_poll(k, now_us))
        mw_media_pli_layer(pub, layer);
}

/* Asks pub for a keyframe on kind: every video layer (throttled each). */
void mw_media_keyframe(mw_session_t *pub, sdp_kind_t kind, uint64_t now_ms)
{
    if (kind != SDP_KIND_VIDEO || pub->dead || !pub->connected || pub->part == NULL)
        return;
    if (pub->pub == NULL) {
        if (pub->part->ssrc[kind] == 0 || !room_pli_allow(pub->part, kind, now_ms))
            return;
        uint8_t buf[16];
        size_t n = rtcp_build_pli(buf, sizeof(buf), pub->w->rtcp_ssrc, pub->part->ssrc[kind]);
        if (n > 0)
            mw_peer_send_rtcp(pub->peer, buf, n);
        return;
    }
    for (int i = 0; i < SC_MAX_LAYERS; i++)
        mw_media_kf_layer(pub, i, now_ms * 1000);
}

/* Keyframes for each live video subscription of s. */
void mw_media_subscriber_keyframes(mw_session_t *s, uint64_t now_ms)
{
    if (s->part == NULL || !s->connected)
        return;
    for (size_t i = 2; i < s->part->n_ml; i++) {
        room_mline_t *m = &s->part->ml[i];
        if (m->live && m->pub != NULL && m->kind == SDP_KIND_VIDEO)
            mw_media_keyframe(m->pub->user, SDP_KIND_VIDEO, now_ms);
    }
}

/* ---- subscriber state ---- */

mw_sub_t *mw_media_sub(mw_session_t *s, size_t i)
{
    room_mline_t *m = &s->part->ml[i];
    mw_sub_t *sub = s->sub[i];
    if (sub != NULL && sub->out_ssrc == m->out_ssrc)
        return sub;
    if (sub == NULL)
        sub = s->sub[i] = vc_calloc(1, sizeof(*sub));
    sub->out_ssrc = m->out_ssrc;
    /* The NACK history (8 kB) only where NACKs are answered: video. */
    if (m->kind == SDP_KIND_VIDEO && sub->hist == NULL)
        sub->hist = vc_malloc(sizeof(*sub->hist));
    if (m->kind != SDP_KIND_VIDEO && sub->hist != NULL) {
        free(sub->hist);
        sub->hist = NULL;
    }
    sc_sub_init(&sub->sc);
    sc_sub_set_size(&sub->sc, MW_SIZE_DEFAULT_W, MW_SIZE_DEFAULT_H);
    rw_init(&sub->rw, m->out_ssrc, m->kind == SDP_KIND_AUDIO ? 48000 : 90000);
    if (sub->hist != NULL)
        rw_hist_init(sub->hist);
    sub->rtx_seq = (uint16_t)(m->out_ssrc >> 3);
    sub->pkts = sub->rtx_sent = 0;
    if (s->bwe == NULL) {
        s->bwe = vc_malloc(sizeof(*s->bwe));
        bwe_cfg_t cfg = {.start_bps = 1000000, .min_bps = 50000, .max_bps = 6000000};
        bwe_init(s->bwe, &cfg);
    }
    return sub;
}

void mw_media_session_free(mw_session_t *s)
{
    for (int k = 0; k < 2; k++) {
        free(s->fan[k].ss);
        free(s->fan[k].ml);
    }
    for (size_t i = 0; i < ROOM_MAX_MLINES; i++) {
        if (s->sub[i] != NULL)
            free(s->sub[i]->hist);
        free(s->sub[i]);
    }
    if (s->pub != NULL) {
        for (int i = 0; i < SC_MAX_LAYERS; i++)
            if (s->pub->lay[i].used)
                pktcache_fini(&s->pub->lay[i].cache);
        free(s->pub);
    }
    free(s->bwe);
}

/* ---- RTCP from subscribers ---- */

/* Answers one NACKed output seq of s's m-line i from the publisher's cache:
 * the same packet rewritten again, as RTX (RFC 4588) when negotiated. */
static void mw_media_nack_one(mw_session_t *s, size_t i, uint16_t seq, uint64_t now_us)
{
    const room_mline_t *m = &s->part->ml[i];
    mw_sub_t *sub = s->sub[i];
    if (sub == NULL || m->pub == NULL || sub->out_ssrc != m->out_ssrc)
        return;
    mw_session_t *ps = m->pub->user;
    rw_hist_entry_t *e = sub->hist != NULL ? rw_hist_get(sub->hist, seq) : NULL;
    int layer = e != NULL ? e->layer1 - 1 : -1;
    if (ps->pub == NULL || e == NULL || layer < 0 || layer >= SC_MAX_LAYERS) {
        s->nack_unsent++; /* e.g. lost upstream: forwarded when its RTX comes */
        return;
    }
    uint32_t now_ms = (uint32_t)(now_us / 1000);
    if (e->last_rtx_ms != 0 && now_ms - e->last_rtx_ms < MW_RTX_REPEAT_US / 1000)
        return;
    size_t len;
    const uint8_t *src = pktcache_get(&ps->pub->lay[layer].cache, e->src_seq, now_us, &len);
    rtp_header_t h, oh;
    if (src == NULL || rtp_parse(src, len, &h) != RTP_OK) {
        s->nack_missed++;
        return;
    }
    vp8_desc_t d;
    int has_vp8 = h.pt == SDP_PT_VP8 && vp8_parse(src + h.payload_off, h.payload_len, &d) == VP8_OK;
    uint8_t out[MW_PKT_MAX + 64], rtx[MW_PKT_MAX + 80];
    uint16_t tw = s->twseq;
    size_t n = mw_media_rebuild(src, len, &h, m, tw, NULL, out, sizeof(out), &oh);
    if (n == 0)
        return;
    if (m->ext_twcc)
        s->twseq++;
    rw_out_t eo = rw_hist_out(e, sub->out_ssrc);
    rw_apply(out, &oh, has_vp8 ? &d : NULL, &eo);
    uint8_t rpt = (uint8_t)(h.pt + 1); /* 97 = rtx of 96, 103 of 102 */
    if (m->out_rtx != 0 && rpt < 128 && ((m->pts[rpt >> 3] >> (rpt & 7)) & 1)) {
        oh.seq = e->seq; /* the OSN the subscriber asked for */
        size_t rn = nack_rtx_wrap(rtx, sizeof(rtx), out, &oh, rpt, m->out_rtx, sub->rtx_seq++);
        if (rn == 0)
            return;
        mw_media_send_out(s, m, tw, rtx, rn, now_us);
    } else {
        mw_media_send_out(s, m, tw, out, n, now_us);
    }
    e->last_rtx_ms = now_ms != 0 ? now_ms : 1;
    sub->rtx_sent++;
    s->nack_answered++;
}

/* RTPFB NACK from subscriber s. */
static void mw_media_nack(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                          uint64_t now_us)
{
    uint32_t media;
    uint16_t seqs[NACK_MAX_MISSING];
    size_t n;
    if (nack_parse(buf + p->off, p->len, &media, seqs, NACK_MAX_MISSING, &n) != NACK_OK)
        return;
    int is_rtx;
    int i = room_sub_mline_of(s->part, media, &is_rtx);
    if (i < 0 || is_rtx || s->part->ml[i].kind != SDP_KIND_VIDEO)
        return;
    s->nack_in += n;
    for (size_t k = 0; k < n && !s->dead; k++)
        mw_media_nack_one(s, (size_t)i, seqs[k], now_us);
}

/* A key frame for what subscriber s shows on m-line i: the layer it
 * forwards (or is switching to). */
static void mw_media_sub_keyframe(mw_session_t *s, uint32_t ssrc, uint64_t now_us)
{
    int is_rtx;
    int i = room_sub_mline_of(s->part, ssrc, &is_rtx);
    if (i < 0 || s->part->ml[i].kind != SDP_KIND_VIDEO)
        return;
    mw_session_t *ps = s->part->ml[i].pub->user;
    if (ps->pub == NULL) {
        mw_media_keyframe(ps, SDP_KIND_VIDEO, now_us / 1000);
        return;
    }
    mw_sub_t *sub = s->sub[i];
    int layer = 0;
    if (sub != NULL && ps->pub->simulcast)
        layer = sub->sc.current >= 0 ? sub->sc.current : sub->sc.target;
    mw_media_kf_layer(ps, layer, now_us);
}

/* Transport-cc feedback (draft-holmer 3.1) for what the worker sent s. */
static void mw_media_twcc_fb(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                             uint64_t now_us)
{
    static twcc_pkt_t pk[MW_TWCC_MAX]; /* one loop thread */
    twcc_fb_t hdr;
    size_t n;
    if (s->bwe == NULL || twcc_fb_parse(buf + p->off, p->len, &hdr, pk, MW_TWCC_MAX, &n) != TWCC_OK)
        return;
    bwe_on_feedback(s->bwe, pk, n, now_us);
}

/* Feedback from s: about the streams the worker sends it. */
static void mw_media_feedback(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                              uint64_t now_us)
{
    if (p->pt == RTCP_RTPFB && p->count == TWCC_FMT) {
        mw_media_twcc_fb(s, buf, p, now_us);
    } else if (p->pt == RTCP_RTPFB && p->count == RTCP_FMT_NACK) {
        mw_media_nack(s, buf, p, now_us);
    } else if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_PLI) {
        mw_media_sub_keyframe(s, p->media_ssrc, now_us);
    } else if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_FIR) {
        for (size_t i = 0; i < rtcp_fir_count(p); i++)
            mw_media_sub_keyframe(s, rtcp_fir_ssrc(buf, p, i), now_us);
    } else if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_AFB && s->bwe != NULL) {
        uint64_t bps;
        uint32_t ssrcs[8];
        size_t n;
        if (rtcp_remb_parse(buf, p, &bps, ssrcs, 8, &n) == 0)
            bwe_on_remb(s->bwe, bps, now_us);
    }
}

/* RFC 3550 6.4.1: round trip from one report block of s whose LSR names an
 * SR the worker forwarded to s. It paces the upstream NACK retries of what
 * s publishes and feeds s's estimator. */
static void mw_media_rtt(mw_session_t *s, const rtcp_report_block_t *rb, uint64_t now_us)
{
    uint64_t rtt;
    if (!rtcp_rtt_block(&s->rtt, rb->lsr, rb->dlsr, now_us, &rtt))
        return;
    if (s->bwe != NULL)
        bwe_set_rtt(s->bwe, rtt);
    for (int i = 0; s->pub != NULL && i < SC_MAX_LAYERS; i++)
        if (s->pub->lay[i].used)
            nack_gen_set_rtt(&s->pub->lay[i].nack, rtt);
}

/* Report blocks about the worker's streams to s: round trip, and loss for
 * its estimator. */
static void mw_media_rr(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                        uint64_t now_us)
{
    for (size_t i = 0; i < p->count; i++) {
        rtcp_report_block_t rb;
        rtcp_report_block(buf, p, i, &rb);
        int is_rtx;
        int ml = room_sub_mline_of(s->part, rb.ssrc, &is_rtx);
        if (ml < 0 || is_rtx)
            continue;
        mw_media_rtt(s, &rb, now_us);
        if (s->bwe != NULL && s->part->ml[ml].kind == SDP_KIND_VIDEO)
            bwe_on_loss(s->bwe, rb.fraction_lost, 50, now_us);
    }
}

/* Stage: a publisher's SR goes on to each subscriber forwarding that SSRC,
 * in the subscriber's stream's terms (SSRC, RTP timestamp offset). */
static void mw_media_sr(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                        uint64_t now_us)
{
    int is_rtx = 0, layer = 0;
    sdp_kind_t kind;
    rtcp_sr_t sr;
    rtcp_sr_info(buf, p, &sr);
    if (sr.ssrc == s->part->ssrc[SDP_KIND_AUDIO] && sr.ssrc != 0) {
        kind = SDP_KIND_AUDIO;
        rtp_rx_sr(&s->rx[kind], sr.ntp, now_us);
    } else if ((layer = mw_media_layer_of(s->pub, sr.ssrc, &is_rtx)) >= 0 && !is_rtx) {
        kind = SDP_KIND_VIDEO;
        rtp_rx_sr(&s->pub->lay[layer].rx, sr.ntp, now_us);
    } else {
        return;
    }
    uint8_t out[64];
    size_t n = rtcp_copy_sr_only(out, sizeof(out), buf, p);
    if (n < 28)
        return;
    room_part_t *pub = s->part;
    for (room_part_t *q = pub->room->parts; q != NULL; q = q->next) {
        mw_session_t *qs = q->user;
        if (q == pub || qs->dead || !qs->connected)
            continue;
        for (size_t i = 2; i < q->n_ml; i++) {
            const room_mline_t *m = &q->ml[i];
            mw_sub_t *sub = qs->sub[i];
            if (m->pub != pub || m->kind != kind || !m->live || sub == NULL ||
                sub->out_ssrc != m->out_ssrc || !sub->rw.started || sub->rw.layer != layer)
                continue;
            rtp_wr32(out + 4, m->out_ssrc);
            rtp_wr32(out + 16, sr.rtp_ts + sub->rw.ts_off);
            rtcp_rtt_sent(&qs->rtt, sr.ntp, now_us);
            mw_peer_send_rtcp(qs->peer, out, n);
        }
    }
}

/* on_rtcp: one decrypted compound RTCP packet from s. */
void mw_media_on_rtcp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user)
{
    mw_session_t *s = user;
    rtcp_compound_t c;
    if (s->dead || s->part == NULL)
        return;
    if (rtcp_parse(pkt, len, &c) != RTCP_OK) {
        s->rtcp_garbage++;
        return;
    }
    uint64_t now_us = vc_now_us();
    for (size_t i = 0; i < c.n && !s->dead && s->part != NULL; i++) {
        const rtcp_packet_t *p = &c.pkts[i];
        if (p->pt == RTCP_SR) {
            mw_media_sr(s, pkt, p, now_us);
            mw_media_rr(s, pkt, p, now_us);
        } else if (p->pt == RTCP_RR) {
            mw_media_rr(s, pkt, p, now_us);
        } else if (p->pt == RTCP_RTPFB || p->pt == RTCP_PSFB) {
            mw_media_feedback(s, pkt, p, now_us);
        }
    }
}

/* ---- RTCP to publishers ---- */

/* One report block from receive statistics. */
static void mw_media_block(rtp_rx_stats_t *rx, uint32_t ssrc, uint64_t now_us,
                           rtcp_report_block_t *b)
{
    rtp_rx_report_t r;
    rtp_rx_report(rx, now_us, &r);
    *b = (rtcp_report_block_t){
        .ssrc = ssrc,
        .fraction_lost = r.fraction_lost,
        .cumulative_lost = r.cumulative_lost,
        .ext_highest_seq = r.ext_highest_seq,
        .jitter = r.jitter,
        .lsr = r.lsr,
        .dlsr = r.dlsr,
    };
}

/* RR for each SSRC s publishes + REMB for its video layers. */
static void mw_media_rtcp_one(mw_session_t *s, uint64_t now_us)
{
    rtcp_report_block_t blocks[1 + SC_MAX_LAYERS];
    uint32_t vs[SC_MAX_LAYERS];
    size_t nb = 0, nv = 0;
    if (s->part->ssrc[SDP_KIND_AUDIO] != 0 && s->rx[SDP_KIND_AUDIO].started)
        mw_media_block(&s->rx[SDP_KIND_AUDIO], s->part->ssrc[SDP_KIND_AUDIO], now_us,
                       &blocks[nb++]);
    for (int i = 0; s->pub != NULL && i < SC_MAX_LAYERS; i++) {
        mw_layer_t *l = &s->pub->lay[i];
        if (!l->used || l->ssrc == 0)
            continue;
        vs[nv++] = l->ssrc;
        if (l->rx.started)
            mw_media_block(&l->rx, l->ssrc, now_us, &blocks[nb++]);
    }
    uint8_t buf[256];
    size_t n = rtcp_build_rr(buf, sizeof(buf), s->w->rtcp_ssrc, blocks, nb);
    if (nv > 0)
        n += rtcp_build_remb(buf + n, sizeof(buf) - n, s->w->rtcp_ssrc, MW_REMB_BPS, vs, nv);
    if (nb > 0 || nv > 0)
        mw_peer_send_rtcp(s->peer, buf, n);
}

/* Every second: receiver reports and bandwidth to every connected publisher. */
void mw_media_rtcp_tick(mw_worker_t *w, uint64_t now_ms)
{
    uint64_t now_us = now_ms * 1000;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->sessions);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        mw_session_t *s = v;
        if (!s->dead && s->connected && s->part != NULL)
            mw_media_rtcp_one(s, now_us);
    }
}
