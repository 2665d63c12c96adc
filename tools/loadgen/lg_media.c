/* lg_media: vc-loadgen's media (see loadgen.c for the whole tool). Out:
 * each publisher's Opus and VP8 (one layer, or q/h/f with --simulcast),
 * shaped as libwebrtc's, paced, with key frames on PLI / FIR, and the
 * subscribers' receiver feedback. In: loss and jitter from the RTP header,
 * the probe at a payload's end (latency, layer), and the RTCP a publisher
 * gets. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "common/log.h"
#include "media-worker/core/rtcp.h"
#include "media-worker/core/rtp.h"
#include "media-worker/shell/peer.h"
#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_run.h"

#define LG_MAGIC 0x56434c47u  /* "VCLG" */
#define LG_VIDEO_PAYLOAD 1160 /* + 12 header + 10 SRTP tag: ~1.2 kB on the wire */
#define LG_AUDIO_PAYLOAD 100
#define LG_FPS 30
#define LG_KEYFRAME_EVERY 90 /* frames: every 3 s */
#define LG_KEYFRAME_MULT 5

/* The probe clock: CLOCK_REALTIME, the clock of kernel receive timestamps. */
static uint64_t lg_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* When the kernel queued the packet being handled: from the fast receive
 * path's control message, or for fd (SIOCGSTAMPNS, the first call switches
 * stamping on): the generator's own queueing delay is
 * not the server's. Falls back to now. */
static uint64_t lg_rx_stamp(int fd)
{
    struct timespec ts;
    uint64_t fast = mw_peer_rx_stamp_ns(); /* recvmmsg's SO_TIMESTAMPNS */
    if (fast != 0)
        return fast;
    if (fd >= 0 && ioctl(fd, SIOCGSTAMPNS, &ts) == 0)
        return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return lg_wall_ns();
}

static void lg_wr64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t lg_rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- media out ---- */

static void lg_hist_add(lg_hist_t *h, uint64_t ns)
{
    uint64_t us = ns / 1000;
    size_t b = us < LG_HIST_FINE ? us : LG_HIST_FINE + (us - LG_HIST_FINE) / 100;
    if (b > LG_HIST_FINE + LG_HIST_COARSE)
        b = LG_HIST_FINE + LG_HIST_COARSE;
    h->b[b]++;
    h->n++;
}

/* The probe at a payload's end (where no server rewrites anything): the
 * layer (LG_PROBE_AUDIO for audio), the magic, the probe's number and the
 * send time, at these offsets. */
enum { LG_PROBE_MAGIC = 1, LG_PROBE_ID = 5, LG_PROBE_TIME = 9, LG_PROBE_LEN = 17 };
#define LG_PROBE_AUDIO 0xff
#define LG_KF_MIN_NS 300000000ull /* key frames on request: at most one per 300 ms */

static void lg_probe_put(lg_t *lg, uint8_t *pl, size_t len, uint8_t layer)
{
    uint8_t *q = pl + len - LG_PROBE_LEN;
    q[0] = layer;
    rtp_wr32(q + LG_PROBE_MAGIC, LG_MAGIC);
    rtp_wr32(q + LG_PROBE_ID, ++lg->probe_id);
    lg_wr64(q + LG_PROBE_TIME, lg_wall_ns());
}

/* Sends b, whose probe was just written, and keeps the kernel's send stamp
 * by the probe's number: the time the generator spent on SRTP and in its
 * send call before the packet left is not the target's. */
static void lg_send(lg_part_t *p, const uint8_t *b, size_t len)
{
    lg_t *lg = p->lg;
    if (mw_peer_send_rtp(p->peer, b, len) != 0)
        return;
    lg->sent_pkts++;
    lg->sent_bytes += len;
    const uint8_t *q = b + len - LG_PROBE_LEN;
    uint64_t tx = mw_peer_tx_stamp_ns(p->peer), sent = lg_rd64(q + LG_PROBE_TIME);
    if (tx >= sent && tx - sent < UINT32_MAX) {
        uint32_t id = rtp_rd32(q + LG_PROBE_ID);
        lg->txr[id % LG_TXR].id = id;
        lg->txr[id % LG_TXR].delta_ns = (uint32_t)(tx - sent);
    }
}

/* One Opus packet: TOC, silence, the probe. */
static void lg_send_audio(lg_part_t *p)
{
    uint8_t b[12 + LG_AUDIO_PAYLOAD];
    b[0] = 0x80;
    b[1] = 111;
    rtp_wr16(b + 2, p->aseq++);
    rtp_wr32(b + 4, p->ats);
    rtp_wr32(b + 8, p->assrc);
    memset(b + 12, 0, LG_AUDIO_PAYLOAD);
    b[12] = 0x78; /* Opus TOC: SILK WB 20 ms */
    lg_probe_put(p->lg, b + 12, LG_AUDIO_PAYLOAD, LG_PROBE_AUDIO);
    lg_send(p, b, sizeof(b));
    p->win_audio++;
}

/* One VP8 packet of layer li, as libwebrtc packetizes (RFC 7741): with
 * simulcast the mid and rid extensions until a receiver report covers the
 * SSRC; the payload descriptor with a 15-bit picture id and TL0PICIDX; at
 * a frame's start the frame tag (P bit clear on key frames, RFC 6386 9.1)
 * and on key frames the start code and the layer's size. The packet stays
 * 1.2 kB. */
static void lg_send_video(lg_part_t *p, size_t li, int marker, int first, int key, uint32_t ts)
{
    lg_layer_t *l = &p->vl[li];
    uint8_t b[12 + LG_VIDEO_PAYLOAD];
    size_t o = 12;
    b[0] = 0x80;
    b[1] = (uint8_t)((marker ? 0x80 : 0) | 96);
    rtp_wr16(b + 2, l->seq++);
    rtp_wr32(b + 4, ts);
    rtp_wr32(b + 8, l->ssrc);
    if (p->n_vl > 1 && !l->rid_acked) { /* RFC 8285 one-byte: mid "1", the rid */
        b[0] |= 0x10;
        const uint8_t ext[8] = {0xbe,
                                0xde,
                                0,
                                1,
                                (uint8_t)(p->mid_ext << 4),
                                '1',
                                (uint8_t)(p->rid_ext << 4),
                                (uint8_t)lg_rids[li][0]};
        memcpy(b + o, ext, sizeof(ext));
        o += sizeof(ext);
    }
    uint8_t *pl = b + o;
    size_t n = sizeof(b) - o;
    memset(pl, 0, n);
    pl[0] = (uint8_t)(0x80 | (first ? 0x10 : 0)); /* X, S */
    pl[1] = 0xc0;                                 /* I, L */
    pl[2] = (uint8_t)(0x80 | (l->picid >> 8));    /* M: 15 bits */
    pl[3] = (uint8_t)l->picid;
    pl[4] = l->tl0picidx;
    if (first) {
        pl[5] = key ? 0x10 : 0x11; /* show_frame; P */
        if (key) {
            const uint8_t sc[7] = {0x9d,
                                   0x01,
                                   0x2a,
                                   (uint8_t)l->width,
                                   (uint8_t)(l->width >> 8),
                                   (uint8_t)l->height,
                                   (uint8_t)(l->height >> 8)};
            memcpy(pl + 8, sc, sizeof(sc));
        }
    }
    lg_probe_put(p->lg, pl, n, (uint8_t)li);
    lg_send(p, b, sizeof(b));
    l->win_sent++;
}

/* A captured frame of layer l at t: a key frame first, every
 * LG_KEYFRAME_EVERY frames and when asked (PLI / FIR, throttled as an
 * encoder is); into the pacer queue. */
static void lg_layer_capture(lg_t *lg, lg_part_t *p, lg_layer_t *l, uint64_t t, uint32_t ts)
{
    if (!l->active)
        return;
    int key = l->key_frames == 0 || p->frame % LG_KEYFRAME_EVERY == 0 ||
              (l->kf_wanted && t - l->kf_last_ns >= LG_KF_MIN_NS);
    size_t bytes = (size_t)l->kbps * 1000 / 8 / LG_FPS;
    if (key) {
        bytes *= LG_KEYFRAME_MULT;
        l->kf_wanted = 0;
        l->kf_last_ns = t;
        l->key_frames++;
    }
    size_t n = (bytes + LG_VIDEO_PAYLOAD - 1) / LG_VIDEO_PAYLOAD;
    if (l->fq_n == LG_FRAMEQ) { /* pacer hopelessly behind: saturated; the frame is dropped */
        if (lg->max_late_ns < 1000000000ull)
            lg->max_late_ns = 1000000000ull;
        return;
    }
    unsigned q = (l->fq_head + l->fq_n++) % LG_FRAMEQ;
    l->fq_pkts[q] = (uint16_t)(n > 0 ? n : 1);
    l->fq_ts[q] = ts;
    l->fq_key[q] = (uint8_t)key;
    l->fq_due[q] = t;
    if (l->fq_n == 1 && l->next_pkt_ns < t)
        l->next_pkt_ns = t;
}

/* Layer li's pacer at now: the packets it lets out. Returns when the next
 * one may leave (UINT64_MAX: nothing queued). */
static uint64_t lg_layer_pace(lg_t *lg, lg_part_t *p, size_t li, uint64_t now)
{
    lg_layer_t *l = &p->vl[li];
    uint64_t gap = lg->pacing > 0
                       ? (uint64_t)(8e9 * (LG_VIDEO_PAYLOAD + 12) / (l->kbps * 1000.0 * lg->pacing))
                       : 0;
    while (l->fq_n > 0 && l->next_pkt_ns <= now) {
        unsigned h = l->fq_head, n = l->fq_pkts[h];
        lg_hist_add(&lg->emit, now - l->next_pkt_ns);
        if (l->fq_pos == 0) {
            l->picid = (uint16_t)((l->picid + 1) & 0x7fff);
            l->tl0picidx++;
        }
        lg_send_video(p, li, l->fq_pos + 1 == n, l->fq_pos == 0, l->fq_key[h], l->fq_ts[h]);
        if (++l->fq_pos == n) {
            l->fq_pos = 0;
            l->fq_head = (h + 1) % LG_FRAMEQ;
            l->fq_n--;
        }
        l->next_pkt_ns += gap;
    }
    /* The pacer's backlog counts as lateness too (a keyframe drains in
     * about 75 ms at 1.5 Mbit/s; a saturated generator falls far behind). */
    if (l->fq_n > 0 && now > l->fq_due[l->fq_head] && now - l->fq_due[l->fq_head] > lg->max_late_ns)
        lg->max_late_ns = now - l->fq_due[l->fq_head];
    return l->fq_n > 0 ? l->next_pkt_ns : UINT64_MAX;
}

/* Receiver feedback, as a browser's: an RR and a REMB of LG_REMB_BPS for
 * the video it receives, each subscriber once a second (a twentieth of them
 * every 50 ms). The server's layer choice follows its estimate of the
 * receiver's bandwidth; without feedback that stays at its start value. */
#define LG_REMB_BPS 5000000u

gboolean lg_feedback_tick(gpointer data)
{
    lg_t *lg = data;
    guint n = lg->parts->len, per = (n + LG_FB_SLICES - 1) / LG_FB_SLICES;
    for (guint k = 0; k < per && n > 0; k++, lg->fb_next++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, lg->fb_next % n);
        if (p->failed || !p->connected || p->n_expected == 0)
            continue;
        uint32_t vs[8];
        size_t nv = 0;
        for (size_t i = 0; i < p->n_st && nv < 8; i++)
            if (p->st[i].clock == 90000)
                vs[nv++] = p->st[i].ssrc;
        uint8_t b[128];
        size_t len = rtcp_build_rr(b, sizeof(b), p->assrc, NULL, 0);
        if (nv > 0 && len > 0)
            len += rtcp_build_remb(b + len, sizeof(b) - len, p->assrc, LG_REMB_BPS, vs, nv);
        if (len > 0)
            mw_peer_send_rtcp(p->peer, b, len);
    }
    return G_SOURCE_CONTINUE;
}

/* Sends what is due for one publisher at now: audio every 20 ms, a video
 * frame of each layer every 1/LG_FPS s into its pacer queue, and the
 * packets the pacers let out (all of a frame at once when pacing is 0). */
static uint64_t lg_pub_tick(lg_t *lg, lg_part_t *p, uint64_t now)
{
    if (now > p->next_video_ns && now - p->next_video_ns > lg->max_late_ns)
        lg->max_late_ns = now - p->next_video_ns;
    while (p->next_audio_ns <= now) {
        lg_hist_add(&lg->emit, now - p->next_audio_ns);
        lg_send_audio(p);
        p->ats += 960;
        p->next_audio_ns += 20000000ull;
    }
    while (p->next_video_ns <= now) {
        for (size_t i = 0; i < p->n_vl; i++)
            lg_layer_capture(lg, p, &p->vl[i], p->next_video_ns, p->vts);
        p->vts += 90000 / LG_FPS;
        p->frame++;
        p->next_video_ns += 1000000000ull / LG_FPS;
    }
    uint64_t next = p->next_audio_ns < p->next_video_ns ? p->next_audio_ns : p->next_video_ns;
    for (size_t i = 0; i < p->n_vl; i++) {
        uint64_t t = lg_layer_pace(lg, p, i, now);
        next = t < next ? t : next;
    }
    return next;
}

/* Every publisher's due packets at now; lg->pub_next_ns: the next one due. */
static void lg_pub_all(lg_t *lg, uint64_t now)
{
    uint64_t next = UINT64_MAX;
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->publish && p->connected && !p->failed) {
            uint64_t t = lg_pub_tick(lg, p, now);
            if (t < next)
                next = t;
        }
    }
    lg->pub_next_ns = next;
}

/* Between two subscribers' drains: publishers whose packets are due send
 * them now, not after the whole drain (which takes a good part of a
 * millisecond at the top of a ramp and would leave as one burst). */
static void lg_pub_due(void *arg)
{
    lg_t *lg = arg;
    uint64_t now = lg_now_ns();
    if (now >= lg->pub_next_ns)
        lg_pub_all(lg, now);
}

void lg_media_arm(lg_t *lg)
{
    uint64_t t = lg->pub_next_ns, now = lg_now_ns();
    if (lg->rx_poll && lg->rx_next_ns < t)
        t = lg->rx_next_ns;
    if (t > now + LG_TICK_IDLE_US * 1000ull)
        t = now + LG_TICK_IDLE_US * 1000ull;
    if (t < lg->wake_ns + (uint64_t)lg->tick_us * 1000)
        t = lg->wake_ns + (uint64_t)lg->tick_us * 1000;
    if (t < now)
        t = now; /* fires at once (0 would disarm it) */
    struct itimerspec its = {.it_value = {(time_t)(t / 1000000000ull), (long)(t % 1000000000ull)}};
    if (timerfd_settime(lg->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
        VC_ERROR("media clock: %s", strerror(errno));
}

gboolean lg_on_media_tick(gint fd, GIOCondition cond, gpointer data)
{
    lg_t *lg = data;
    uint64_t expirations;
    if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        return G_SOURCE_CONTINUE;
    lg->wake_ns = lg_now_ns();
    lg_pub_all(lg, lg->wake_ns);
    /* Every rx_poll x 250 us: fewer, fuller recvmmsg calls per socket. */
    if (lg->rx_poll && lg->wake_ns >= lg->rx_next_ns) {
        lg->rx_next_ns = lg->wake_ns + (uint64_t)lg->rx_poll * LG_RX_POLL_US * 1000;
        mw_peer_fast_rx_poll(lg_pub_due, lg);
    }
    lg_media_arm(lg);
    return G_SOURCE_CONTINUE;
}

/* ---- media in ---- */

static lg_stream_t *lg_stream(lg_part_t *p, uint32_t ssrc, int video)
{
    for (size_t i = 0; i < p->n_st; i++)
        if (p->st[i].ssrc == ssrc)
            return &p->st[i];
    if (p->n_st == LG_MAX_STREAMS)
        return NULL;
    lg_stream_t *s = &p->st[p->n_st++];
    memset(s, 0, sizeof(*s));
    s->ssrc = ssrc;
    s->clock = video ? 90000 : 48000;
    return s;
}

double lg_hist_pct(const lg_hist_t *h, double q)
{
    uint64_t want = (uint64_t)ceil(q * (double)h->n), acc = 0;
    for (size_t b = 0; b <= LG_HIST_FINE + LG_HIST_COARSE; b++) {
        acc += h->b[b];
        if (acc >= want && acc > 0)
            return b < LG_HIST_FINE ? (double)b : LG_HIST_FINE + (double)(b - LG_HIST_FINE) * 100;
    }
    return 0;
}

/* RFC 3550 A.1 sequence extension (no probation) and 6.4.1 jitter, from
 * the RTP header (in the clear in SRTP too). Returns the stream or NULL. */
static lg_stream_t *lg_account(lg_part_t *p, const uint8_t *pkt, size_t len, rtp_header_t *hp)
{
    rtp_header_t h;
    uint64_t now = lg_now_ns();
    if (rtp_parse(pkt, len, &h) != RTP_OK)
        return NULL;
    *hp = h;
    lg_stream_t *s = lg_stream(p, h.ssrc, h.pt == 96);
    if (!s)
        return NULL;
    if (p->t_first_ns == 0)
        p->t_first_ns = now;
    if (!s->started) {
        s->started = 1;
        s->max_seq = h.seq;
    } else {
        int16_t d = (int16_t)(h.seq - s->max_seq);
        if (d > 0) {
            if (h.seq < s->max_seq)
                s->cycles += 65536;
            s->max_seq = h.seq;
        }
    }
    if (!s->win_base_set) {
        s->win_base = s->cycles + s->max_seq - 1;
        s->win_base_set = 1;
    }
    s->win_recv++;
    p->lg->recv_pkts++;
    /* Arrival as the kernel stamped it (the generator drains on its own
     * clock, up to a tick later), moved onto the monotonic clock. */
    uint64_t st = mw_peer_rx_stamp_ns(), at = now;
    if (st != 0) {
        uint64_t wall = lg_wall_ns();
        if (wall > st && wall - st < now)
            at = now - (wall - st);
    }
    int64_t arrival = (int64_t)(at / 1000) * s->clock / 1000000;
    int64_t transit = arrival - (int64_t)h.ts;
    if (s->transit != 0) {
        double d = fabs((double)(transit - s->transit));
        s->jitter += (d - s->jitter) / 16.0;
    }
    s->transit = transit;
    s->n_rx++;
    return s;
}

/* on_srtp_peek: counts every packet from its clear header; only every
 * --decrypt-every'th packet of a stream (and its first) is decrypted, for
 * the latency probe, so the generator stays cheaper than the server. */
int lg_on_srtp_peek(mw_peer_t *peer, const uint8_t *pkt, size_t len, void *user)
{
    lg_part_t *p = user;
    rtp_header_t h;
    lg_stream_t *s = lg_account(p, pkt, len, &h);
    return s && (s->n_rx == 1 || s->n_rx % (uint64_t)p->lg->decrypt_every == 0);
}

int lg_want_layer(const lg_t *lg, const lg_part_t *p)
{
    return lg->simulcast && p->sub_idx >= 0 ? p->sub_idx % lg->tile_layers : 0;
}

/* on_rtp: a decrypted packet: accounting unless the peek did it, then the
 * probe at the payload's end (layer, magic, number, send time). */
void lg_on_rtp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user)
{
    lg_part_t *p = user;
    lg_t *lg = p->lg;
    rtp_header_t h;
    if (lg->decrypt_every > 1) {
        if (rtp_parse(pkt, len, &h) != RTP_OK)
            return;
    } else if (!lg_account(p, pkt, len, &h)) {
        return;
    }
    const uint8_t *q = pkt + h.payload_off + h.payload_len - LG_PROBE_LEN;
    if (h.payload_len >= LG_PROBE_LEN && rtp_rd32(q + LG_PROBE_MAGIC) == LG_MAGIC) {
        uint32_t id = rtp_rd32(q + LG_PROBE_ID);
        uint64_t sent = lg_rd64(q + LG_PROBE_TIME), rx = lg_rx_stamp(mw_peer_fd(peer));
        if (rx >= sent)
            lg_hist_add(&lg->lat_user, rx - sent);
        /* Without the send stamp (not read back, or overwritten in the
         * ring after a long delay) the user-space time stands in. */
        if (lg->txr[id % LG_TXR].id == id) {
            sent += lg->txr[id % LG_TXR].delta_ns;
            lg->lat_stamped++;
        }
        if (rx >= sent)
            lg_hist_add(&lg->lat, rx - sent);
        if (q[0] < LG_MAX_LAYERS) {
            p->win_layer_rx[q[0]]++;
            lg->layer_wrong += q[0] != lg_want_layer(lg, p);
        }
    }
}

/* The publisher's layer with that SSRC, or NULL. */
static lg_layer_t *lg_layer_of(lg_part_t *p, uint32_t ssrc)
{
    for (size_t i = 0; i < p->n_vl; i++)
        if (p->vl[i].ssrc == ssrc)
            return &p->vl[i];
    return NULL;
}

static void lg_kf_asked(lg_layer_t *l)
{
    if (l == NULL)
        return;
    l->kf_wanted = 1;
    l->kf_requests++;
}

/* on_rtcp, to a publisher: a receiver report ends the rid extension on the
 * SSRCs it covers (as libwebrtc does); PLI and FIR ask for a key frame. */
void lg_on_rtcp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user)
{
    lg_part_t *p = user;
    rtcp_compound_t c;
    if (!p->publish || rtcp_parse(pkt, len, &c) != RTCP_OK)
        return;
    for (size_t i = 0; i < c.n; i++) {
        const rtcp_packet_t *k = &c.pkts[i];
        if (k->pt == RTCP_RR || k->pt == RTCP_SR) {
            for (size_t b = 0; b < k->count; b++) {
                rtcp_report_block_t rb;
                rtcp_report_block(pkt, k, b, &rb);
                lg_layer_t *l = lg_layer_of(p, rb.ssrc);
                if (l != NULL)
                    l->rid_acked = 1;
            }
        } else if (k->pt == RTCP_PSFB && k->count == RTCP_FMT_PLI) {
            lg_kf_asked(lg_layer_of(p, k->media_ssrc));
        } else if (k->pt == RTCP_PSFB && k->count == RTCP_FMT_FIR) {
            for (size_t f = 0; f < rtcp_fir_count(k); f++)
                lg_kf_asked(lg_layer_of(p, rtcp_fir_ssrc(pkt, k, f)));
        }
    }
}
