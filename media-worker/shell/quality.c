/* quality: the worker's 20 ms media timer. Per publisher: transport-cc
 * feedback for the browser's own estimator, upstream NACKs, coalesced PLIs,
 * layer bitrates. Per room every 50 ms: each subscriber's bandwidth share ->
 * layer selection (key frames asked for the target layer), dynacast
 * (layers{} to publishers), the active speaker. Per subscriber: padding
 * probes on its RTX stream so its estimate can grow toward the layer its
 * tile wants. The decisions are the sans-IO cores'; this file only feeds
 * them and sends what they say. */
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/core/rtcp.h"
#include "media-worker/core/rtpext.h"
#include "media-worker/shell/worker.h"

#define MW_Q_TICK_MS 20
#define MW_Q_ROOM_US 50000
#define MW_Q_TWCC_US 50000
#define MW_Q_RATE_US 500000
#define MW_Q_STALE_US 1000000
#define MW_Q_AUDIO_BPS 40000
#define MW_Q_MIN_SHARE 50000
#define MW_Q_PAD_LEN 224
#define MW_Q_PAD_MAX_PER_TICK 8
#define MW_Q_NO_ESTIMATE 5000000

static uint64_t mw_q_next_room_us;

/* Sends the transport-cc feedback s's browser waits for (every 50 ms, or
 * sooner when many packets are pending). */
static void mw_q_twcc(mw_session_t *s, mw_pub_t *pub, uint64_t now_us)
{
    if (!pub->twcc_on || (now_us < pub->next_twcc_us && twcc_rx_pending(&pub->twcc) < 100))
        return;
    pub->next_twcc_us = now_us + MW_Q_TWCC_US;
    uint8_t buf[1200];
    for (int i = 0; i < 4; i++) {
        size_t n = twcc_rx_build(&pub->twcc, buf, sizeof(buf));
        if (n == 0)
            break;
        mw_peer_send_rtcp(s->peer, buf, n);
    }
}

/* One layer: upstream NACKs when due, PLIs the throttle lets through, its
 * bitrate and availability for the selector. */
static void mw_q_layer(mw_session_t *s, mw_pub_t *pub, int i, uint64_t now_us)
{
    mw_layer_t *l = &pub->lay[i];
    sc_layer_t *info = &pub->info[i];
    if (nack_gen_deadline(&l->nack) <= now_us) {
        uint16_t seqs[64];
        size_t n = nack_gen_poll(&l->nack, now_us, seqs, 64);
        uint8_t buf[400];
        size_t len = n ? nack_build(buf, sizeof(buf), s->w->rtcp_ssrc, l->ssrc, seqs, n) : 0;
        if (len > 0)
            mw_peer_send_rtcp(s->peer, buf, len);
    }
    if (nack_gen_take_keyframe(&l->nack))
        sc_kf_request(&l->kf);
    if (sc_kf_poll(&l->kf, now_us))
        mw_media_pli_layer(s, i);
    uint8_t bit = (uint8_t)(1u << i);
    if (l->rate_since_us == 0) {
        l->rate_since_us = now_us;
        l->bytes = 0;
    } else if (now_us - l->rate_since_us >= MW_Q_RATE_US) {
        uint64_t bps = l->bytes * 8 * 1000000 / (now_us - l->rate_since_us);
        if (bps > 0 || (pub->dyn.active & bit))
            info->bps = info->bps ? (info->bps + bps) / 2 : bps;
        l->bytes = 0;
        l->rate_since_us = now_us;
    }
    int fresh = l->last_pkt_us != 0 && now_us - l->last_pkt_us < MW_Q_STALE_US;
    int paused = pub->simulcast && !(pub->dyn.active & bit) && l->last_pkt_us != 0;
    info->available = l->ssrc != 0 && (fresh || paused);
}

static void mw_q_pub_tick(mw_session_t *s, uint64_t now_us)
{
    mw_pub_t *pub = s->pub;
    mw_q_twcc(s, pub, now_us);
    for (int i = 0; i < SC_MAX_LAYERS; i++)
        if (pub->lay[i].used)
            mw_q_layer(s, pub, i, now_us);
}

/* The publisher session of subscription m-line m, if it sends simulcast. */
static mw_session_t *mw_q_simulcast_pub(const room_mline_t *m)
{
    if (m->pub == NULL || m->kind != SDP_KIND_VIDEO || !m->live)
        return NULL;
    mw_session_t *ps = m->pub->user;
    return ps->pub != NULL && ps->pub->simulcast ? ps : NULL;
}

/* The layer the subscriber's tile size asks for (ignoring bandwidth). */
static int mw_q_size_layer(const sc_sub_t *sc, const sc_layer_t *l, size_t n)
{
    int best = -1;
    if (sc->want_w == 0 && sc->want_h == 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!l[i].available)
            continue;
        best = (int)i;
        if ((uint32_t)l[i].width * 5 >= (uint32_t)sc->want_w * 4 &&
            (uint32_t)l[i].height * 5 >= (uint32_t)sc->want_h * 4)
            break;
    }
    return best;
}

/* Padding on one RTX stream of s (RFC 4588 allows padding-only packets),
 * so its estimate can grow toward what its tiles want: up to the estimate,
 * never past what is wanted. */
static void mw_q_probe(mw_session_t *s, uint64_t want_bps, uint64_t now_us)
{
    room_part_t *p = s->part;
    if (s->bwe == NULL || want_bps == 0 || bwe_usage(s->bwe) != BWE_NORMAL)
        return;
    uint64_t est = bwe_estimate(s->bwe);
    uint64_t goal = est < want_bps ? est : want_bps;
    if (goal <= s->send_bps + 20000)
        return;
    size_t i;
    for (i = 2; i < p->n_ml; i++) {
        const room_mline_t *m = &p->ml[i];
        if (m->kind == SDP_KIND_VIDEO && m->live && m->out_rtx && m->ext_twcc && s->sub[i] &&
            s->sub[i]->out_ssrc == m->out_ssrc && s->sub[i]->rw.started &&
            ((m->pts[SDP_PT_VP8_RTX >> 3] >> (SDP_PT_VP8_RTX & 7)) & 1))
            break;
    }
    if (i >= p->n_ml)
        return;
    const room_mline_t *m = &p->ml[i];
    mw_sub_t *sub = s->sub[i];
    uint64_t bytes = (goal - s->send_bps) * MW_Q_TICK_MS / 8000;
    size_t npk = (size_t)(bytes / (MW_Q_PAD_LEN + 20)) + 1;
    if (npk > MW_Q_PAD_MAX_PER_TICK)
        npk = MW_Q_PAD_MAX_PER_TICK;
    for (size_t k = 0; k < npk; k++) {
        uint8_t pkt[RTP_HEADER_MIN + 16 + MW_Q_PAD_LEN];
        uint8_t tw[2];
        rtp_wr16(tw, s->twseq);
        rtpext_item_t it = {.id = m->ext_twcc, .len = 2, .data = tw};
        pkt[0] = 0x80 | 0x20 | 0x10;
        pkt[1] = SDP_PT_VP8_RTX;
        rtp_wr16(pkt + 2, sub->rtx_seq++);
        rtp_wr32(pkt + 4, sub->rw.last_ts);
        rtp_wr32(pkt + 8, m->out_rtx);
        size_t el = rtpext_write(pkt + RTP_HEADER_MIN, 16, &it, 1);
        if (el == 0)
            return;
        size_t n = RTP_HEADER_MIN + el;
        memset(pkt + n, 0, MW_Q_PAD_LEN);
        n += MW_Q_PAD_LEN;
        pkt[n - 1] = MW_Q_PAD_LEN;
        bwe_on_sent(s->bwe, s->twseq++, n, now_us);
        s->pad_bytes += n;
        mw_peer_send_rtp(s->peer, pkt, n);
    }
}

/* Subscriber qs: bandwidth share per video tile, layer selection, key
 * frame asks for switches, and padding toward what the tiles want. */
static void mw_q_select(mw_session_t *qs, uint64_t now_us)
{
    room_part_t *q = qs->part;
    size_t nv = 0, na = 0;
    for (size_t i = 2; i < q->n_ml; i++) {
        const room_mline_t *m = &q->ml[i];
        if (m->live && m->pub != NULL)
            *(m->kind == SDP_KIND_AUDIO ? &na : &nv) += 1;
    }
    if (nv == 0)
        return;
    uint64_t est = qs->bwe != NULL ? bwe_estimate(qs->bwe) : MW_Q_NO_ESTIMATE;
    uint64_t audio = na * MW_Q_AUDIO_BPS;
    uint64_t avail = est > audio + MW_Q_MIN_SHARE ? est - audio : MW_Q_MIN_SHARE;
    uint64_t share = avail / nv, want = 0;
    int below = 0;
    for (size_t i = 2; i < q->n_ml; i++) {
        mw_session_t *ps = mw_q_simulcast_pub(&q->ml[i]);
        if (ps == NULL)
            continue;
        mw_pub_t *pub = ps->pub;
        mw_sub_t *sub = mw_media_sub(qs, i);
        sc_sub_set_bw(&sub->sc, share);
        if (sc_select(&sub->sc, pub->info, pub->n_lay, now_us))
            VC_INFO("session %.8s: %s layer %d -> %d (share %llu bps, layers %llu/%llu/%llu, "
                    "tile %ux%u)",
                    qs->id, ps->part->id, sub->sc.current, sub->sc.target,
                    (unsigned long long)share, (unsigned long long)pub->info[0].bps,
                    (unsigned long long)pub->info[1].bps, (unsigned long long)pub->info[2].bps,
                    sub->sc.want_w, sub->sc.want_h);
        int kl = sc_wants_keyframe(&sub->sc);
        if (kl >= 0 && pub->lay[kl].used)
            sc_kf_request(&pub->lay[kl].kf);
        int top = mw_q_size_layer(&sub->sc, pub->info, pub->n_lay);
        if (top >= 0) {
            want += pub->info[top].bps + pub->info[top].bps / 5;
            if (sub->sc.target < top)
                below = 1;
        }
    }
    if (below)
        mw_q_probe(qs, want + audio, now_us);
}

/* layers{active} to a publisher: which simulcast encodings to send. */
static void mw_q_layers_msg(mw_session_t *ps, uint8_t active)
{
    json_t *a = json_array();
    for (int i = 0; i < SC_MAX_LAYERS; i++)
        json_array_append_new(a, json_boolean(active & (1u << i)));
    json_t *m = vc_proto_msg("layers");
    json_object_set_new(m, "active", a);
    mw_deliver(ps, m);
}

/* Dynacast for publisher p: layers no subscriber forwards or targets pause. */
static void mw_q_dynacast(room_part_t *p, uint64_t now_us)
{
    mw_session_t *ps = p->user;
    mw_pub_t *pub = ps->pub;
    if (pub == NULL || !pub->simulcast || ps->dead || !ps->connected)
        return;
    sc_dyn_begin(&pub->dyn);
    for (room_part_t *q = p->room->parts; q != NULL; q = q->next) {
        mw_session_t *qs = q->user;
        if (q == p || qs->dead)
            continue;
        for (size_t i = 2; i < q->n_ml; i++) {
            const room_mline_t *m = &q->ml[i];
            if (m->pub == p && m->kind == SDP_KIND_VIDEO && m->live && qs->sub[i] != NULL &&
                qs->sub[i]->out_ssrc == m->out_ssrc)
                sc_dyn_need(&pub->dyn, &qs->sub[i]->sc);
        }
    }
    uint8_t unseen = 0;
    for (int i = 0; i < SC_MAX_LAYERS; i++) /* as negotiated: all rids start active */
        if (!pub->lay[i].used || pub->lay[i].last_pkt_us == 0)
            unseen |= (uint8_t)(1u << i);
    sc_dyn_keep(&pub->dyn, unseen);
    uint8_t active;
    int changed = sc_dyn_end(&pub->dyn, now_us, &active);
    if (changed || pub->told_active == 0xff) {
        VC_INFO("session %.8s: dynacast layers %c%c%c", ps->id, active & 1 ? 'q' : '-',
                active & 2 ? 'h' : '-', active & 4 ? 'f' : '-');
        pub->told_active = active;
        mw_q_layers_msg(ps, active);
    }
}

/* active_speaker{participant} to the room when the dominant speaker changes. */
static void mw_q_speaker(room_t *r, uint64_t now_us)
{
    mw_room_media_t *rm = r->media;
    if (rm == NULL || now_us < al_deadline(&rm->al))
        return;
    al_event_t ev[8];
    size_t n = al_tick(&rm->al, now_us, ev, 8);
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind != AL_EV_DOMINANT)
            continue;
        for (room_part_t *q = r->parts; q != NULL; q = q->next) {
            mw_session_t *qs = q->user;
            if (qs->al_id != ev[i].id)
                continue;
            json_t *m = vc_proto_msg("active_speaker");
            json_object_set_new(m, "participant", json_string(q->id));
            mw_room_broadcast(r, NULL, m);
            break;
        }
    }
}

static void mw_q_room_tick(room_t *r, uint64_t now_us)
{
    for (room_part_t *q = r->parts; q != NULL; q = q->next) {
        mw_session_t *qs = q->user;
        if (!qs->dead && qs->connected)
            mw_q_select(qs, now_us);
    }
    for (room_part_t *p = r->parts; p != NULL; p = p->next)
        mw_q_dynacast(p, now_us);
    mw_q_speaker(r, now_us);
}

/* Media send rate of s over the last window (for padding). */
static void mw_q_rate(mw_session_t *s, uint64_t now_us)
{
    if (s->rate_since_us == 0) {
        s->rate_since_us = now_us;
    } else if (now_us - s->rate_since_us >= MW_Q_RATE_US / 2) {
        s->send_bps = s->sent_bytes * 8 * 1000000 / (now_us - s->rate_since_us);
        s->sent_bytes = 0;
        s->rate_since_us = now_us;
    }
}

static gboolean mw_q_tick(gpointer data)
{
    mw_worker_t *w = data;
    uint64_t now_us = vc_now_us();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->sessions);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        mw_session_t *s = v;
        if (s->dead || !s->connected || s->part == NULL)
            continue;
        mw_q_rate(s, now_us);
        if (s->pub != NULL)
            mw_q_pub_tick(s, now_us);
    }
    if (now_us >= mw_q_next_room_us) {
        mw_q_next_room_us = now_us + MW_Q_ROOM_US;
        g_hash_table_iter_init(&it, w->rooms);
        while (g_hash_table_iter_next(&it, &k, &v))
            mw_q_room_tick(v, now_us);
    }
    return G_SOURCE_CONTINUE;
}

void mw_quality_start(mw_worker_t *w)
{
    w->media_src = g_timeout_source_new(MW_Q_TICK_MS);
    g_source_set_callback(w->media_src, mw_q_tick, w, NULL);
    g_source_attach(w->media_src, w->ctx);
}

void mw_quality_stop(mw_worker_t *w)
{
    if (w->media_src == NULL)
        return;
    g_source_destroy(w->media_src);
    g_source_unref(w->media_src);
    w->media_src = NULL;
}

/* video_size{participant, width, height}: the size s shows that
 * participant's video at (CSS pixels times devicePixelRatio); 0x0 hides. */
void mw_on_video_size(mw_session_t *s, const json_t *m)
{
    const char *pid = json_string_value(json_object_get(m, "participant"));
    json_int_t w = json_integer_value(json_object_get(m, "width"));
    json_int_t h = json_integer_value(json_object_get(m, "height"));
    if (pid == NULL || w < 0 || h < 0 || w > 16384 || h > 16384) {
        mw_session_error(s, VC_ERR_BAD_MESSAGE, "width and height must be 0..16384", "video_size");
        return;
    }
    room_part_t *p = s->part;
    for (size_t i = 2; i < p->n_ml; i++) {
        room_mline_t *ml = &p->ml[i];
        if (ml->pub != NULL && ml->kind == SDP_KIND_VIDEO && strcmp(ml->pub->id, pid) == 0) {
            sc_sub_set_size(&mw_media_sub(s, i)->sc, (uint16_t)w, (uint16_t)h);
            return;
        }
    }
}

void mw_quality_join(mw_session_t *s)
{
    room_t *r = s->room;
    if (r->media == NULL) {
        mw_room_media_t *rm = vc_calloc(1, sizeof(*rm));
        al_init(&rm->al);
        r->media = rm;
    }
    mw_room_media_t *rm = r->media;
    s->al_id = ++rm->next_id;
    if (al_add(&rm->al, s->al_id) != 0)
        s->al_id = 0;
    uint32_t dom = al_dominant(&rm->al);
    for (room_part_t *q = r->parts; dom != 0 && q != NULL; q = q->next) {
        if (((mw_session_t *)q->user)->al_id == dom) {
            json_t *m = vc_proto_msg("active_speaker");
            json_object_set_new(m, "participant", json_string(q->id));
            mw_deliver(s, m);
        }
    }
}

void mw_quality_leave(mw_session_t *s)
{
    mw_room_media_t *rm = s->room != NULL ? s->room->media : NULL;
    if (rm != NULL && s->al_id != 0)
        al_remove(&rm->al, s->al_id);
    s->al_id = 0;
}

void mw_quality_room_free(room_t *r)
{
    free(r->media);
    r->media = NULL;
}
