/* media: the receive path as a chain of small stages. RTP: parse -> classify
 * the SSRC against the publisher -> account -> fan out to subscribers. RTCP:
 * parse the compound -> per sub-packet: SR to subscribers, PLI/FIR/NACK to
 * the publisher they name. No allocation and no logging per packet. */
#include <string.h>

#include "common/util.h"
#include "media-worker/core/rtcp.h"
#include "media-worker/core/rtp.h"
#include "media-worker/shell/worker.h"

#define MW_MAX_FANOUT 64
#define MW_REMB_BPS 2500000u
#define MW_RTCP_BUF 1500

/* Stage: forward pkt to every connected subscriber of (pub, kind) that
 * accepted pt. Sessions (not parts) are collected first: they outlive the
 * loop turn even if a send triggers a removal. */
static void mw_media_fanout(mw_session_t *pub, sdp_kind_t kind, uint8_t pt, const uint8_t *pkt,
                            size_t len, int rtcp)
{
    room_part_t *subs[MW_MAX_FANOUT];
    mw_session_t *ss[MW_MAX_FANOUT];
    size_t n = room_subscribers(pub->part, kind, pt, subs, MW_MAX_FANOUT);
    for (size_t i = 0; i < n; i++)
        ss[i] = subs[i]->user;
    for (size_t i = 0; i < n; i++) {
        mw_session_t *s = ss[i];
        if (s->dead || !s->connected)
            continue;
        int rv = rtcp ? mw_peer_send_rtcp(s->peer, pkt, len) : mw_peer_send_rtp(s->peer, pkt, len);
        if (rv != 0)
            s->fwd_fail++;
    }
}

/* Stage: an unknown SSRC with a known payload type before the answer told
 * us its SSRC (or from a browser that omits a=ssrc) is latched once. */
static int mw_media_latch(mw_session_t *s, const rtp_header_t *h, int *is_rtx)
{
    room_part_t *p = s->part;
    sdp_kind_t kind;
    uint32_t rtx = 0, ssrc = h->ssrc;
    if (h->pt == SDP_PT_OPUS && p->ssrc[SDP_KIND_AUDIO] == 0) {
        kind = SDP_KIND_AUDIO;
    } else if ((h->pt == SDP_PT_VP8 || h->pt == SDP_PT_H264) && p->ssrc[SDP_KIND_VIDEO] == 0) {
        kind = SDP_KIND_VIDEO;
    } else if ((h->pt == SDP_PT_VP8_RTX || h->pt == SDP_PT_H264_RTX) &&
               p->ssrc[SDP_KIND_VIDEO] != 0 && p->rtx[SDP_KIND_VIDEO] == 0) {
        kind = SDP_KIND_VIDEO;
        rtx = ssrc;
        ssrc = p->ssrc[SDP_KIND_VIDEO];
    } else {
        return -1;
    }
    room_set_published(p, kind, ssrc, rtx);
    mw_room_renegotiate(s->room);
    *is_rtx = rtx != 0;
    return kind;
}

/* on_rtp: one decrypted RTP packet from publisher s. */
void mw_media_on_rtp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user)
{
    mw_session_t *s = user;
    rtp_header_t h;
    if (s->dead || s->part == NULL)
        return;
    if (rtp_parse(pkt, len, &h) != RTP_OK) {
        s->rtp_garbage++;
        return;
    }
    int is_rtx = 0;
    int kind = room_part_kind_of(s->part, h.ssrc, &is_rtx);
    if (kind < 0)
        kind = mw_media_latch(s, &h, &is_rtx);
    if (kind < 0) {
        s->unknown_ssrc++;
        return;
    }
    if (!is_rtx)
        rtp_rx_update(&s->rx[kind], h.seq, h.ts, vc_now_us());
    mw_media_fanout(s, (sdp_kind_t)kind, h.pt, pkt, len, 0);
}

/* Sends a PLI for pub's kind if the throttle allows. */
void mw_media_keyframe(mw_session_t *pub, sdp_kind_t kind, uint64_t now_ms)
{
    if (pub->dead || !pub->connected || pub->part == NULL || pub->part->ssrc[kind] == 0 ||
        !room_pli_allow(pub->part, kind, now_ms))
        return;
    uint8_t buf[16];
    size_t n = rtcp_build_pli(buf, sizeof(buf), pub->w->rtcp_ssrc, pub->part->ssrc[kind]);
    if (n > 0)
        mw_peer_send_rtcp(pub->peer, buf, n);
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

/* Stage: feedback from subscriber s naming media_ssrc goes to its publisher. */
static void mw_media_feedback(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                              uint64_t now_ms)
{
    sdp_kind_t kind;
    int is_rtx;
    if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_FIR) {
        for (size_t i = 0; i < rtcp_fir_count(p); i++) {
            room_part_t *pub = room_find_ssrc(s->room, rtcp_fir_ssrc(buf, p, i), &kind, &is_rtx);
            if (pub != NULL && pub != s->part)
                mw_media_keyframe(pub->user, kind, now_ms);
        }
        return;
    }
    room_part_t *pub = room_find_ssrc(s->room, p->media_ssrc, &kind, &is_rtx);
    if (pub == NULL || pub == s->part)
        return;
    mw_session_t *ps = pub->user;
    if (p->pt == RTCP_PSFB && p->count == RTCP_FMT_PLI) {
        mw_media_keyframe(ps, kind, now_ms);
    } else if (p->pt == RTCP_RTPFB && p->count == RTCP_FMT_NACK && !is_rtx && ps->connected) {
        uint8_t out[MW_RTCP_BUF];
        size_t n = rtcp_copy_as(out, sizeof(out), buf, p, s->w->rtcp_ssrc);
        if (n > 0)
            mw_peer_send_rtcp(ps->peer, out, n);
    }
}

/* Stage: a publisher's SR feeds LSR/DLSR and goes on to its subscribers. */
static void mw_media_sr(mw_session_t *s, const uint8_t *buf, const rtcp_packet_t *p,
                        uint64_t now_us)
{
    int is_rtx;
    int kind = room_part_kind_of(s->part, p->sender_ssrc, &is_rtx);
    if (kind < 0 || is_rtx)
        return;
    rtcp_sr_t sr;
    rtcp_sr_info(buf, p, &sr);
    rtp_rx_sr(&s->rx[kind], sr.ntp, now_us);
    uint8_t out[64];
    size_t n = rtcp_copy_sr_only(out, sizeof(out), buf, p);
    if (n > 0)
        mw_media_fanout(s, (sdp_kind_t)kind, ROOM_PT_ANY, out, n, 1);
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
    for (size_t i = 0; i < c.n && !s->dead; i++) {
        const rtcp_packet_t *p = &c.pkts[i];
        if (p->pt == RTCP_SR)
            mw_media_sr(s, pkt, p, now_us);
        else if (p->pt == RTCP_RTPFB || p->pt == RTCP_PSFB)
            mw_media_feedback(s, pkt, p, now_us / 1000);
    }
}

/* RR for each SSRC s publishes + REMB for its video. */
static void mw_media_rtcp_one(mw_session_t *s, uint64_t now_us)
{
    rtcp_report_block_t blocks[2];
    size_t nb = 0;
    for (int k = 0; k < 2; k++) {
        if (s->part->ssrc[k] == 0 || !s->rx[k].started)
            continue;
        rtp_rx_report_t r;
        rtp_rx_report(&s->rx[k], now_us, &r);
        blocks[nb] = (rtcp_report_block_t){
            .ssrc = s->part->ssrc[k],
            .fraction_lost = r.fraction_lost,
            .cumulative_lost = r.cumulative_lost,
            .ext_highest_seq = r.ext_highest_seq,
            .jitter = r.jitter,
            .lsr = r.lsr,
            .dlsr = r.dlsr,
        };
        nb++;
    }
    uint8_t buf[256];
    size_t n = rtcp_build_rr(buf, sizeof(buf), s->w->rtcp_ssrc, blocks, nb);
    uint32_t vs = s->part->ssrc[SDP_KIND_VIDEO];
    if (vs != 0)
        n += rtcp_build_remb(buf + n, sizeof(buf) - n, s->w->rtcp_ssrc, MW_REMB_BPS, &vs, 1);
    if (nb > 0 || vs != 0)
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
