/* vc-loadgen: emulates many WebRTC participants against the cluster with the
 * real browser protocol (docs/protocol.md): WebSocket signaling, ICE, DTLS
 * and SRTP through the worker's own transport (media-worker/shell/peer.c).
 * Publishers send pre-packetized Opus (50 pps, ~100 B) and VP8 (30 fps at a
 * chosen bitrate in ~1.2 kB packets, paced like libwebrtc at --pacing x the
 * bitrate), each packet when it is due, by a timerfd that sleeps at least
 * --tick-us (50 us); nothing is encoded. The VP8 packets
 * are shaped as libwebrtc's (RFC 7741 descriptor with a 15-bit picture id
 * and TL0PICIDX; frame tag with the P bit; a key frame's start code and
 * size): a 5x key frame first, every 3 s and on PLI / FIR (at most one per
 * 300 ms per layer). With --simulcast 1 a publisher sends three layers by
 * rid (RFC 8853: q, h, f at a tenth, a third and all of the bitrate, 320x180
 * to 1280x720, each paced on its own), the mid and rid header extensions
 * until a receiver report covers the SSRC; it pauses and resumes layers as
 * the server's "layers" (dynacast) says; subscribers' tiles (video_size, or
 * Janus's substream) cycle over q, h, f, and they send an RR + REMB each
 * second. Every payload ends in a probe: the layer, a magic and the send
 * time. Subscribers measure loss (sequence gaps), jitter (RFC 3550 6.4.1),
 * the one-way latency through the server (same host, same clock) and which
 * layer each probe came from (the media side is lg_media.c).
 *
 * Scenarios (one JSON object per measured step on stdout, logs on stderr):
 *   fanout   rooms of 1 publisher + --subs-per-room subscribers; each step
 *            adds --step subscribers until loss > --loss-stop or --max-subs
 *   meeting  rooms of --room-size where everyone publishes and subscribes;
 *            each step adds --step rooms
 *   joins    1 publisher, then --joins subscribers join one at a time: time
 *            from WebSocket open to first media, and server CPU per join
 * --target janus runs the same scenarios against Janus VideoRoom (lg_janus.c:
 * its WebSocket API, subprotocol "janus-protocol"): publishers offer and Janus
 * answers, subscribers get Janus's offer and answer it; a meeting
 * participant is one publisher and one multistream subscriber handle.
 * --srtp cm (default) negotiates AES-CM-128/HMAC-SHA1-80 only; --srtp gcm
 * also offers AEAD_AES_128_GCM (preferred by our worker).
 * Every step reports the generator's own CPU use and how far it fell behind
 * its publishing schedule, so a saturated generator is visible instead of
 * being mistaken for a saturated server. Receivers count loss and jitter
 * from the RTP header (clear in SRTP) and decrypt one packet in
 * --decrypt-every for the latency probe. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>
#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/gpoll.h"
#include "media-worker/shell/peer.h"
#include "media-worker/shell/srtp.h"
#include "proto/proto.h"
#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_run.h"

#define LG_JOIN_PARALLEL 4
#define LG_JOIN_RETRIES 5     /* a join the service is too busy for: tries again */
#define LG_JOIN_RETRY_MS 100u /* after 100 ms, doubling */
#define LG_READY_TIMEOUT_MS 30000
#define LG_LATE_MS 250   /* publisher schedule lag that means the generator is saturated */
#define LG_CPU_FULL 0.97 /* the generator's own core: past this it measures itself */

uint64_t lg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sum of on-CPU ns over all threads of pid (schedstat), 0 if unknown. */
static uint64_t lg_proc_cpu_ns(int pid)
{
    char path[64];
    uint64_t sum = 0;
    if (pid <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    GDir *d = g_dir_open(path, 0, NULL);
    if (!d)
        return 0;
    const char *t;
    while ((t = g_dir_read_name(d)) != NULL) {
        char p2[128];
        unsigned long long ns = 0;
        snprintf(p2, sizeof(p2), "/proc/%d/task/%s/schedstat", pid, t);
        FILE *f = fopen(p2, "r");
        if (f) {
            if (fscanf(f, "%llu", &ns) == 1)
                sum += ns;
            fclose(f);
        }
    }
    g_dir_close(d);
    return sum;
}

static uint64_t lg_servers_cpu_ns(lg_t *lg)
{
    uint64_t s = 0;
    for (size_t i = 0; i < lg->n_server_pids; i++)
        s += lg_proc_cpu_ns(lg->server_pids[i]);
    return s;
}

/* VmRSS of pid in kB, 0 if unknown. */
static long lg_proc_rss_kb(int pid)
{
    char path[64], line[256];
    long kb = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static uint64_t lg_self_cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

/* ---- signaling ---- */

void lg_part_fail(lg_part_t *p, const char *why)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (!p->jctl && (!p->joined || !p->connected)) {
        if (p->lg->pending_joins > 0 && !p->connected)
            p->lg->pending_joins--;
    }
    VC_WARN("%s: %s", p->label, why);
}

void lg_send_json(lg_part_t *p, json_t *m)
{
    char *s = json_dumps(m, JSON_COMPACT);
    if (lg_ws_send(p->ws, s, strlen(s)) != 0)
        lg_part_fail(p, "websocket send failed");
    free(s);
    json_decref(m);
}

/* Answers the offer (our candidates are known): ICE/DTLS on the first. */
static void lg_answer(lg_part_t *p, lg_offer_t *o)
{
    const char *cands[16];
    size_t nc = mw_peer_local_candidates(p->peer, cands, 16);
    lg_answer_params_t a = {
        .ufrag = mw_peer_ice_ufrag(p->peer),
        .pwd = mw_peer_ice_pwd(p->peer),
        .fp = mw_dtls_identity_fingerprint(p->lg->id),
        .cands = cands,
        .n_cands = nc,
        .audio_ssrc = p->publish ? p->assrc : 0,
        .video_ssrc = p->publish ? p->vl[0].ssrc : 0,
        .label = p->label,
        .version = ++p->version,
        .simulcast = p->n_vl > 1,
    };
    if (o->n_ml > 1) {
        p->rid_ext = o->ml[1].rid_ext;
        p->mid_ext = o->ml[1].mid_ext;
    }
    if (p->n_vl > 1 && p->publish &&
        (p->rid_ext <= 0 || p->rid_ext > 14 || p->mid_ext <= 0 || p->mid_ext > 14 ||
         strcmp(o->ml[1].mid, "1") != 0)) {
        lg_part_fail(p, "simulcast: the offer's mid 1 lacks one-byte mid / rid extensions");
        return;
    }
    char *sdp = lg_sdp_answer(o, &a);
    lg_send_json(p, json_pack("{s:i,s:s,s:s}", "v", 1, "type", "answer", "sdp", sdp));
    g_free(sdp);
    p->n_expected = 0;
    for (size_t i = 2; i < o->n_ml; i++)
        if (o->ml[i].dir == LG_DIR_SENDONLY && o->ml[i].ssrc != 0)
            p->n_expected++;
    if (!p->remote_set) {
        if (mw_peer_set_remote(p->peer, o->ufrag, o->pwd, "sha-256", o->fp, MW_DTLS_ROLE_CLIENT) !=
            0) {
            lg_part_fail(p, "bad remote ICE/DTLS parameters");
            return;
        }
        for (size_t i = 0; i < o->n_cands; i++)
            mw_peer_add_remote_candidate(p->peer, o->cands[i]);
        p->remote_set = 1;
    }
}

static void lg_on_state(mw_peer_t *peer, mw_peer_state_t st, void *user)
{
    lg_part_t *p = user;
    if (st == MW_PEER_CONNECTED && !p->connected) {
        p->connected = 1;
        p->t_conn_ns = lg_now_ns();
        if (getenv("LG_DEBUG_SDP"))
            VC_INFO("%s: connected", p->label);
        /* The generator shares a core with others: a 100 ms stall must not
         * overflow its receive buffers and pass for server loss. */
        int fd = mw_peer_fd(peer), sz = 4 << 20;
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) != 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (p->lg->pending_joins > 0)
            p->lg->pending_joins--;
        uint64_t now = lg_now_ns();
        p->next_audio_ns = now;
        p->next_video_ns = now;
        for (size_t i = 0; i < p->n_vl; i++)
            p->vl[i].next_pkt_ns = now;
    } else if (st == MW_PEER_FAILED || st == MW_PEER_CLOSED) {
        lg_part_fail(p, st == MW_PEER_FAILED ? "media transport failed" : "DTLS closed");
    }
}

static void lg_on_gathered(mw_peer_t *peer, void *user)
{
    lg_part_t *p = user;
    p->gathered = 1;
    if (p->lg->janus) {
        lg_janus_gathered(p);
        return;
    }
    if (p->offer) {
        lg_answer(p, p->offer);
        g_free(p->offer);
        p->offer = NULL;
    }
}

/* The participant's transport: libnice on 127.0.0.1, our DTLS identity. */
void lg_peer_create(lg_part_t *p, int controlled)
{
    mw_peer_config_t cfg = {
        .ctx = p->lg->ctx,
        .ice_addresses = (const char *const[]){p->lg->ice_ip},
        .n_ice_addresses = 1,
        .port_min = 50000,
        .port_max = 65000,
        .ice_controlled = controlled,
    };
    p->peer = mw_peer_new(&cfg, p->lg->id, &p->lg->cb, p);
    if (!p->peer)
        lg_part_fail(p, "peer setup failed");
    else if (p->publish)
        mw_peer_set_tx_stamps(p->peer, 1);
}

/* The size each video tile shows (video_size, once per offer's video
 * track): the layer lg_want_layer picks, at that layer's own size. */
static void lg_tile_sizes(lg_part_t *p, json_t *tracks)
{
    int l = lg_want_layer(p->lg, p);
    size_t i;
    json_t *t;
    json_array_foreach(tracks, i, t)
    {
        const char *kind = json_string_value(json_object_get(t, "kind"));
        const char *who = json_string_value(json_object_get(t, "participant"));
        if (kind && who && strcmp(kind, "video") == 0)
            lg_send_json(p, json_pack("{s:i,s:s,s:s,s:i,s:i}", "v", 1, "type", "video_size",
                                      "participant", who, "width", LG_TOP_W >> (2 - l), "height",
                                      LG_TOP_H >> (2 - l)));
    }
}

/* layers{active}: dynacast. A paused layer captures nothing; a resumed one
 * starts with a key frame, as an encoder does. */
static void lg_dynacast(lg_part_t *p, json_t *active)
{
    for (size_t i = 0; i < p->n_vl && i < json_array_size(active); i++) {
        int on = json_is_true(json_array_get(active, i));
        if (on && !p->vl[i].active) {
            p->vl[i].kf_wanted = 1;
            p->vl[i].kf_last_ns = 0;
        }
        p->vl[i].active = on;
    }
}

/* Sends p's join for its room (Janus: on its attached handle). */
static void lg_join(lg_part_t *p)
{
    if (p->lg->janus) {
        lg_janus_join(p);
        return;
    }
    lg_room_t *r = &g_array_index(p->lg->rooms, lg_room_t, p->room);
    json_t *j =
        json_pack("{s:i,s:s,s:s,s:s}", "v", 1, "type", "join", "room", r->id, "name", p->label);
    if (r->token[0])
        json_object_set_new(j, "token", json_string(r->token));
    lg_send_json(p, j);
}

static gboolean lg_rejoin(gpointer data)
{
    lg_part_t *p = data;
    g_source_unref(p->retry);
    p->retry = NULL;
    if (!p->failed)
        lg_join(p);
    return G_SOURCE_REMOVE;
}

void lg_join_later(lg_part_t *p, unsigned ms)
{
    if (p->retry)
        return;
    p->retries++;
    p->lg->join_retries++;
    p->retry = g_timeout_source_new(ms);
    g_source_set_callback(p->retry, lg_rejoin, p, NULL);
    g_source_attach(p->retry, p->lg->ctx);
}

static void lg_on_ws(lg_ws_t *ws, const char *msg, size_t len, void *user)
{
    lg_part_t *p = user;
    lg_t *lg = p->lg;
    if (!msg) {
        if (!p->failed)
            lg_part_fail(p, "websocket closed");
        return;
    }
    lg->sig_last_ns = lg_now_ns();
    json_t *m = json_loadb(msg, len, 0, NULL);
    const char *type = json_string_value(json_object_get(m, "type"));
    if (!type) {
        json_decref(m);
        return;
    }
    if (getenv("LG_DEBUG_SDP"))
        VC_INFO("%s: got %s", p->label, type);
    if (strcmp(type, "joined") == 0) {
        p->joined = 1;
        snprintf(p->sid, sizeof(p->sid), "%s",
                 json_string_value(json_object_get(m, "session")) ?: "");
        /* The worker offers, so it controls ICE (RFC 8445 6.1.1), as with
         * a browser: answering as controlling too cost a role conflict. */
        lg_peer_create(p, 1);
    } else if (strcmp(type, "offer") == 0 && p->peer) {
        if (lg->simulcast)
            lg_tile_sizes(p, json_object_get(m, "tracks"));
        lg_offer_t *o = g_malloc(sizeof(*o));
        if (getenv("LG_DEBUG_SDP"))
            VC_INFO("%s: offer of %zu bytes: %s", p->label,
                    strlen(json_string_value(json_object_get(m, "sdp"))),
                    getenv("LG_DEBUG_SDP")[0] == '2' ? json_string_value(json_object_get(m, "sdp"))
                                                     : "");
        if (lg_sdp_parse_offer(json_string_value(json_object_get(m, "sdp")), o) != 0) {
            lg_part_fail(p, "unparsable offer");
            g_free(o);
        } else if (!p->gathered) {
            g_free(p->offer);
            p->offer = o;
        } else {
            lg_answer(p, o);
            g_free(o);
        }
    } else if (strcmp(type, "layers") == 0 && p->publish) {
        lg_dynacast(p, json_object_get(m, "active"));
    } else if (strcmp(type, "error") == 0 && !p->joined && p->retries < LG_JOIN_RETRIES &&
               json_integer_value(json_object_get(m, "code")) == VC_ERR_UNAVAILABLE) {
        /* The service is busy (a worker's control queue full): again
         * after a backoff, as the UI does. */
        lg_join_later(p, LG_JOIN_RETRY_MS << p->retries);
    } else if (strcmp(type, "closed") == 0 || strcmp(type, "error") == 0) {
        char why[256];
        snprintf(why, sizeof(why), "%s: %s", type, msg);
        lg_part_fail(p, why);
    }
    json_decref(m);
}

/* ---- participants and rooms ---- */

static int lg_room_new(lg_t *lg)
{
    if (lg->janus) {
        lg_room_t r = {0};
        r.jroom = lg_janus_room_new(lg);
        if (r.jroom == 0)
            return -1;
        g_array_append_val(lg->rooms, r);
        return (int)lg->rooms->len - 1;
    }
    int status = 0;
    char *body = lg_http_post(lg->host, lg->port, "/api/rooms", "{\"lobby\":false}", &status);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    const char *room = json_string_value(json_object_get(j, "room"));
    const char *host_url = json_string_value(json_object_get(j, "host_url"));
    const char *tok = host_url ? strstr(host_url, "#host=") : NULL;
    int rv = -1;
    if (status == 201 && room) {
        lg_room_t r = {0};
        g_strlcpy(r.id, room, sizeof(r.id));
        if (tok)
            g_strlcpy(r.token, tok + 6, sizeof(r.token));
        g_array_append_val(lg->rooms, r);
        rv = (int)lg->rooms->len - 1;
    } else {
        VC_ERROR("POST /api/rooms: status %d %s", status, body ? body : "(no answer)");
    }
    json_decref(j);
    g_free(body);
    return rv;
}

static lg_part_t *lg_part_add(lg_t *lg, int room, int publish)
{
    lg_room_t *r = &g_array_index(lg->rooms, lg_room_t, room);
    lg_part_t *p = vc_calloc(1, sizeof(*p));
    p->lg = lg;
    p->idx = (int)lg->parts->len;
    p->room = room;
    p->publish = publish;
    snprintf(p->label, sizeof(p->label), "lg%d", p->idx);
    p->jskip = -1;
    p->sub_idx = (int)r->n_parts;
    vc_random_bytes(&p->assrc, sizeof(p->assrc));
    p->assrc |= 1;
    /* One layer at the full rate, or q, h, f at a tenth, a third and all
     * of it (Chrome's 720p simulcast: about 150, 500 and 1500 kbit/s). */
    p->n_vl = lg->simulcast ? LG_MAX_LAYERS : 1;
    for (size_t i = 0; i < p->n_vl; i++) {
        lg_layer_t *l = &p->vl[i];
        int shift = (int)(p->n_vl - 1 - i);
        vc_random_bytes(&l->ssrc, sizeof(l->ssrc));
        vc_random_bytes(&l->picid, sizeof(l->picid));
        l->ssrc |= 1;
        l->picid &= 0x7fff;
        l->width = (uint16_t)(LG_TOP_W >> shift);
        l->height = (uint16_t)(LG_TOP_H >> shift);
        l->kbps = shift == 0 ? lg->video_kbps : lg->video_kbps / (shift == 1 ? 3 : 10);
        l->active = 1;
    }
    g_ptr_array_add(lg->parts, p);
    r->n_parts++;
    lg->pending_joins++;
    p->t_open_ns = lg_now_ns();
    if (lg->janus) {
        if (lg_janus_open(p) < 0)
            lg_part_fail(p, "websocket open failed");
        return p;
    }
    p->ws = lg_ws_open(lg->ctx, lg->host, lg->port, "/ws", lg_on_ws, p);
    if (!p->ws) {
        lg_part_fail(p, "websocket open failed");
        return p;
    }
    lg_join(p);
    return p;
}

static void lg_part_free(lg_part_t *p)
{
    if (p->lg->janus && p->ws && p->jsession) {
        p->jhandle = 0; /* "destroy" is a session request */
        lg_janus_send(p, "destroy", 'd', json_object());
    } else if (p->ws && !p->failed) {
        json_t *j = json_pack("{s:i,s:s}", "v", 1, "type", "leave");
        char *s = json_dumps(j, JSON_COMPACT);
        lg_ws_send(p->ws, s, strlen(s));
        free(s);
        json_decref(j);
    }
    if (p->retry) {
        g_source_destroy(p->retry);
        g_source_unref(p->retry);
    }
    mw_peer_free(p->peer);
    lg_ws_free(p->ws);
    g_free(p->offer);
    free(p);
}

/* ---- running the loop until a condition ---- */

static gboolean lg_quit_cb(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static volatile int lg_stop;

/* Runs the loop for ms, or until cond holds (checked every 10 ms). Returns
 * 1 if cond held, 0 on timeout, -1 on a stop signal. */
int lg_run_until(lg_t *lg, lg_cond_fn cond, void *arg, uint64_t ms)
{
    uint64_t end = lg_now_ns() + ms * 1000000ull;
    while (!lg_stop) {
        if (cond && cond(lg, arg))
            return 1;
        uint64_t now = lg_now_ns();
        if (now >= end)
            return cond ? 0 : 1;
        uint64_t left = (end - now) / 1000000ull;
        GSource *t = g_timeout_source_new((guint)(left < 10 ? left + 1 : 10));
        g_source_set_callback(t, lg_quit_cb, lg->loop, NULL);
        g_source_attach(t, lg->ctx);
        g_main_loop_run(lg->loop);
        g_source_destroy(t);
        g_source_unref(t);
    }
    return -1;
}

/* A join that has neither connected nor failed LG_JOIN_DEADLINE_MS after
 * its WebSocket opened fails, naming the stage it reached. Without it, a
 * lost answer or a check that never ends held a slot of the join throttle
 * for good, every later join waited out the throttle's 30 s, and the step
 * ended silently at the bench's timeout. Checked every 100 ms. */
#define LG_JOIN_DEADLINE_MS 20000
static void lg_fail_stuck(lg_t *lg)
{
    uint64_t now = lg_now_ns();
    if (now - lg->stuck_check_ns < 100000000ull)
        return;
    lg->stuck_check_ns = now;
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->failed || p->connected || p->jctl || p->t_open_ns == 0 ||
            now - p->t_open_ns < LG_JOIN_DEADLINE_MS * 1000000ull)
            continue;
        char why[160];
        snprintf(why, sizeof(why),
                 "join not done %d s after the WebSocket opened (joined %d, offer gathered %d, "
                 "remote set %d)",
                 LG_JOIN_DEADLINE_MS / 1000, p->joined, p->gathered, p->remote_set);
        lg_part_fail(p, why);
    }
}

/* Everyone is connected (or failed) and receives every stream offered. */
static int lg_all_ready(lg_t *lg, void *arg)
{
    lg_fail_stuck(lg);
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->failed)
            continue;
        if (!p->connected || p->n_st < p->n_expected)
            return 0;
        size_t live = 0;
        for (size_t k = 0; k < p->n_st; k++)
            live += p->st[k].started;
        if (live < p->n_expected)
            return 0;
    }
    return 1;
}

static int lg_joins_below(lg_t *lg, void *arg)
{
    lg_fail_stuck(lg);
    return lg->pending_joins < (size_t)(uintptr_t)arg;
}

/* ---- measurement windows ---- */

static void lg_window_reset(lg_t *lg)
{
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        p->win_audio = 0;
        memset(p->win_layer_rx, 0, sizeof(p->win_layer_rx));
        for (size_t l = 0; l < p->n_vl; l++)
            p->vl[l].win_sent = 0;
        for (size_t k = 0; k < p->n_st; k++) {
            lg_stream_t *s = &p->st[k];
            s->win_recv = 0;
            s->win_base_set = s->started;
            s->win_base = s->cycles + s->max_seq;
        }
    }
    memset(&lg->lat, 0, sizeof(lg->lat));
    memset(&lg->lat_user, 0, sizeof(lg->lat_user));
    memset(&lg->emit, 0, sizeof(lg->emit));
    lg->lat_stamped = 0;
    lg->layer_wrong = 0;
    lg->sent_pkts = lg->sent_bytes = 0;
    lg->max_late_ns = 0;
}

/* What publisher q sent in the window that a receiver showing layer
 * `layer` gets: its audio and that layer (its only one without simulcast). */
static uint64_t lg_sent_for(const lg_part_t *q, int layer)
{
    return q->win_audio + q->vl[(size_t)layer < q->n_vl ? (size_t)layer : 0].win_sent;
}

/* What the publisher a Janus meeting subscriber skips (its own
 * participant's, the jskip-th publisher of the room) sent in the window. */
static uint64_t lg_skipped_sent(lg_t *lg, const lg_part_t *p, int layer)
{
    int n = 0;
    if (p->jskip < 0)
        return 0;
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *q = g_ptr_array_index(lg->parts, i);
        if (q->room == p->room && q->publish && !q->jctl && n++ == p->jskip)
            return lg_sent_for(q, layer);
    }
    return 0;
}

/* Packets the window's receivers should have got: every packet each
 * publisher of their room sent, but their own (the scenarios subscribe
 * everyone to every other publisher of the room), of the layer their tiles
 * show. Sequence gaps alone miss what a saturated server never read: it
 * numbers what it forwards without gaps. log (after a lossy window): also
 * the receivers that got under 95 % of theirs, to tell a server that falls
 * behind everywhere from receivers that lost a stream. */
static uint64_t lg_delivery_expected(lg_t *lg, int log)
{
    uint64_t(*sent)[LG_MAX_LAYERS] = g_malloc0_n(lg->rooms->len + 1, sizeof(*sent));
    uint64_t total = 0;
    size_t shown = 0, short_n = 0, zero = 0;
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->publish && p->room >= 0 && (guint)p->room < lg->rooms->len)
            for (int l = 0; l < LG_MAX_LAYERS; l++)
                sent[p->room][l] += lg_sent_for(p, l);
    }
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->failed || p->n_expected == 0 || p->room < 0 || (guint)p->room >= lg->rooms->len)
            continue;
        int l = lg_want_layer(lg, p);
        uint64_t want = sent[p->room][l] - (p->publish ? lg_sent_for(p, l) : 0) -
                        lg_skipped_sent(lg, p, l),
                 got = 0;
        total += want;
        if (!log)
            continue;
        for (size_t k = 0; k < p->n_st; k++)
            got += p->st[k].win_recv;
        if (want == 0 || got * 100 >= want * 95)
            continue;
        short_n++;
        zero += got == 0;
        if (shown++ < 12)
            VC_INFO("  %s (room %d, layer %d): got %llu of %llu packets; %zu streams, %zu "
                    "expected; probes per layer %llu/%llu/%llu",
                    p->label, p->room, l, (unsigned long long)got, (unsigned long long)want,
                    p->n_st, p->n_expected, (unsigned long long)p->win_layer_rx[0],
                    (unsigned long long)p->win_layer_rx[1], (unsigned long long)p->win_layer_rx[2]);
    }
    if (log)
        VC_INFO("  %zu receivers under 95 %% of their room's packets, %zu with none", short_n,
                zero);
    g_free(sent);
    return total;
}

/* Measures one window and prints its JSON line. Returns the loss: the
 * larger of sequence-gap loss and the delivery shortfall. */
static double lg_measure(lg_t *lg, const char *scenario)
{
    lg_window_reset(lg);
    uint64_t t0 = lg_now_ns(), c0 = lg_self_cpu_ns(), w0 = lg_proc_cpu_ns(lg->worker_pid);
    if (lg_run_until(lg, NULL, NULL, (uint64_t)(lg->window_s * 1000)) < 0)
        return 1;
    double wall = (double)(lg_now_ns() - t0) / 1e9;
    double self = (double)(lg_self_cpu_ns() - c0) / 1e9 / wall;
    double wcpu = lg->worker_pid ? (double)(lg_proc_cpu_ns(lg->worker_pid) - w0) / 1e9 / wall : 0;
    uint64_t recv = 0, expected = 0;
    double jsum = 0, jmax = 0;
    size_t nst = 0, pubs = 0, subs = 0, failed = 0;
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->failed) {
            failed++;
            continue;
        }
        pubs += p->publish;
        subs += p->n_expected > 0;
        for (size_t k = 0; k < p->n_st; k++) {
            lg_stream_t *s = &p->st[k];
            uint32_t ext = s->cycles + s->max_seq;
            recv += s->win_recv;
            expected += s->win_base_set && ext > s->win_base ? ext - s->win_base : 0;
            double jms = s->jitter * 1000.0 / s->clock;
            jsum += jms;
            jmax = jms > jmax ? jms : jmax;
            nst++;
        }
    }
    double loss =
        expected > 0 && expected > recv ? (double)(expected - recv) / (double)expected : 0;
    uint64_t want = lg_delivery_expected(lg, 0);
    double shortfall = want > recv ? (double)(want - recv) / (double)want : 0;
    if (shortfall > loss)
        loss = shortfall;
    if (loss > lg->loss_stop)
        (void)lg_delivery_expected(lg, 1);
    lg->last_cpu = self;
    json_t *o = json_pack(
        "{s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:i,s:i}",
        "scenario", scenario, "step", lg->step_no, "rooms", (int)lg->rooms->len, "publishers",
        (int)pubs, "subscribers", (int)subs, "streams", (int)nst, "failed", (int)failed, "window_s",
        wall, "sent_pps", (double)lg->sent_pkts / wall, "fwd_pps", (double)recv / wall,
        "expected_pps", (double)expected / wall, "loss", loss, "jitter_ms_mean",
        nst ? jsum / (double)nst : 0.0, "jitter_ms_max", jmax, "lat_us_p50",
        lg_hist_pct(&lg->lat, 0.5), "lat_us_p99", lg_hist_pct(&lg->lat, 0.99), "lat_us_max",
        lg_hist_pct(&lg->lat, 1.0), "lg_cpu", self, "worker_cpu", wcpu, "worker_rss_kb",
        (int)lg_proc_rss_kb(lg->worker_pid), "lat_samples", (int)lg->lat.n);
    /* From the generator's clock before its SRTP and send, as before the
     * kernel's send stamps: comparable with earlier runs. */
    json_object_set_new(o, "lat_user_us_p50", json_real(lg_hist_pct(&lg->lat_user, 0.5)));
    json_object_set_new(o, "lat_user_us_p99", json_real(lg_hist_pct(&lg->lat_user, 0.99)));
    json_object_set_new(o, "lat_tx_stamped", json_integer((json_int_t)lg->lat_stamped));
    json_object_set_new(o, "lg_late_ms", json_real((double)lg->max_late_ns / 1e6));
    json_object_set_new(o, "lg_emit_us_p50", json_real(lg_hist_pct(&lg->emit, 0.5)));
    json_object_set_new(o, "lg_emit_us_p99", json_real(lg_hist_pct(&lg->emit, 0.99)));
    json_object_set_new(o, "join_retries", json_integer((json_int_t)lg->join_retries));
    json_object_set_new(o, "delivery_pps", json_real((double)want / wall));
    json_object_set_new(o, "delivery_shortfall", json_real(shortfall));
    if (lg->simulcast) {
        uint64_t kf = 0, asks = 0, lsent[LG_MAX_LAYERS] = {0}, probes[LG_MAX_LAYERS] = {0};
        for (guint i = 0; i < lg->parts->len; i++) {
            lg_part_t *p = g_ptr_array_index(lg->parts, i);
            for (size_t k = 0; k < LG_MAX_LAYERS; k++)
                probes[k] += p->win_layer_rx[k];
            for (size_t k = 0; p->publish && k < p->n_vl; k++) {
                kf += p->vl[k].key_frames;
                asks += p->vl[k].kf_requests;
                lsent[k] += p->vl[k].win_sent;
            }
        }
        json_object_set_new(o, "layer_sent_pps",
                            json_pack("[f,f,f]", (double)lsent[0] / wall, (double)lsent[1] / wall,
                                      (double)lsent[2] / wall));
        json_object_set_new(o, "layer_probes",
                            json_pack("[I,I,I]", (json_int_t)probes[0], (json_int_t)probes[1],
                                      (json_int_t)probes[2]));
        json_object_set_new(o, "layer_wrong", json_integer((json_int_t)lg->layer_wrong));
        /* since the start, not per window */
        json_object_set_new(o, "key_frames", json_integer((json_int_t)kf));
        json_object_set_new(o, "kf_requests", json_integer((json_int_t)asks));
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
    VC_INFO("step %d: %zu subs, fwd %.0f pps, loss %.4f, p50 %.0f us, lg cpu %.2f, worker cpu %.2f",
            lg->step_no, subs, (double)recv / wall, loss, lg_hist_pct(&lg->lat, 0.5), self, wcpu);
    return loss;
}

/* Measures a step; a lossy window is measured once more before it counts
 * (the machine is shared: one descheduled moment must not end a ramp that
 * the server still carries). Both windows are printed; the last decides. */
static double lg_measure_step(lg_t *lg, const char *scenario)
{
    double loss = lg_measure(lg, scenario);
    if (loss > lg->loss_stop && !lg_stop) {
        VC_INFO("step %d: loss %.4f, measuring again", lg->step_no, loss);
        loss = lg_measure(lg, scenario);
    }
    return loss;
}

/* The generator could not keep its publishers' schedule (more than
 * LG_LATE_MS behind): past this point it, not the target, is measured. */
static int lg_saturated(lg_t *lg)
{
    /* Participants that could not join carry no load and show no loss:
     * past the first failure the step says nothing about the target. */
    for (guint i = 0; i < lg->parts->len; i++)
        if (((lg_part_t *)g_ptr_array_index(lg->parts, i))->failed) {
            VC_WARN("step %d: a participant failed to join; ramp ends", lg->step_no);
            return 1;
        }
    if (lg->last_cpu >= LG_CPU_FULL) {
        VC_WARN("step %d: generator at %.0f %% of its core; ramp ends", lg->step_no,
                lg->last_cpu * 100);
        return 1;
    }
    if (lg->max_late_ns <= LG_LATE_MS * 1000000ull)
        return 0;
    VC_WARN("step %d: generator saturated (publishers %.0f ms behind); ramp ends", lg->step_no,
            (double)lg->max_late_ns / 1e6);
    return 1;
}

/* Adds one participant, keeping at most LG_JOIN_PARALLEL joins in flight. */
static lg_part_t *lg_add_throttled(lg_t *lg, int room, int publish)
{
    if (lg_run_until(lg, lg_joins_below, (void *)(uintptr_t)LG_JOIN_PARALLEL,
                     LG_READY_TIMEOUT_MS) == 0)
        VC_WARN("%zu joins still in flight after %d s", lg->pending_joins,
                LG_READY_TIMEOUT_MS / 1000);
    /* Janus lists a feed for subscription only once it publishes. */
    if (lg->janus && !publish)
        lg_run_until(lg, lg_janus_pubs_live, (void *)(intptr_t)room, LG_READY_TIMEOUT_MS);
    return lg_part_add(lg, room, publish);
}

static int lg_settle(lg_t *lg)
{
    int r = lg_run_until(lg, lg_all_ready, NULL, (uint64_t)lg->ready_ms);
    if (r == 0)
        VC_WARN("not every participant became ready in %d ms", lg->ready_ms);
    if (r >= 0)
        lg_run_until(lg, NULL, NULL, (uint64_t)(lg->warmup_s * 1000));
    return r;
}

static int lg_count_subs(lg_t *lg)
{
    int n = 0;
    for (guint i = 0; i < lg->parts->len; i++)
        n += !((lg_part_t *)g_ptr_array_index(lg->parts, i))->publish;
    return n;
}

/* fanout: rooms of 1 publisher + subs_per_room subscribers. */
static void lg_run_fanout(lg_t *lg)
{
    int target = lg->start > 0 ? lg->start : lg->step;
    int room = -1;
    for (lg->step_no = 1; !lg_stop; lg->step_no++) {
        while (lg_count_subs(lg) < target && !lg_stop) {
            if (room < 0 || g_array_index(lg->rooms, lg_room_t, room).n_parts >=
                                (size_t)lg->subs_per_room + 1) {
                room = lg_room_new(lg);
                if (room < 0)
                    return;
                lg_add_throttled(lg, room, 1);
            }
            lg_add_throttled(lg, room, 0);
        }
        if (lg_settle(lg) < 0)
            return;
        double loss = lg_measure_step(lg, "fanout");
        if (lg_saturated(lg))
            return;
        if (loss > lg->loss_stop || target >= lg->max_subs || lg->step == 0 ||
            (lg->max_steps > 0 && lg->step_no >= lg->max_steps))
            return;
        target += lg->step;
    }
}

/* meeting: rooms of room_size where everyone publishes. */
static void lg_run_meeting(lg_t *lg)
{
    int rooms = lg->start > 0 ? lg->start : 1;
    for (lg->step_no = 1; !lg_stop; lg->step_no++) {
        while ((int)lg->rooms->len < rooms && !lg_stop) {
            int room = lg_room_new(lg);
            if (room < 0)
                return;
            for (int i = 0; i < lg->room_size; i++)
                lg_add_throttled(lg, room, 1);
            /* Janus: each participant's receiving side is a second
             * PeerConnection (one multistream subscriber handle). */
            for (int i = 0; lg->janus && i < lg->room_size; i++)
                lg_add_throttled(lg, room, 0)->jskip = i;
        }
        if (lg_settle(lg) < 0)
            return;
        double loss = lg_measure_step(lg, "meeting");
        if (lg_saturated(lg))
            return;
        if (loss > lg->loss_stop || lg->step == 0 ||
            (lg->max_steps > 0 && lg->step_no >= lg->max_steps))
            return;
        rooms += lg->step;
    }
}

static int lg_first_media(lg_t *lg, void *arg)
{
    lg_part_t *p = arg;
    return p->failed || p->t_first_ns != 0;
}

static int lg_quiet(lg_t *lg, void *arg)
{
    return lg_now_ns() - lg->sig_last_ns > 100000000ull;
}

static int lg_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double lg_pct(double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), lg_cmp_double);
    size_t i = (size_t)ceil(q * (double)n);
    return v[i == 0 ? 0 : i - 1];
}

/* The worker's own figure for a session's join work, in ms: its log line
 * "session <sid>: media flows ... join work X ms" (thread CPU from the join
 * message to the first media, see mw_session_on_first_media); -1 if absent. */
static double lg_worker_join_ms(const lg_t *lg, const char *sid)
{
    if (lg->worker_log == NULL || sid[0] == '\0')
        return -1;
    FILE *f = fopen(lg->worker_log, "r");
    if (f == NULL)
        return -1;
    char key[128], *line = NULL;
    size_t cap = 0;
    double ms = -1;
    snprintf(key, sizeof(key), "session %s: media flows", sid);
    while (ms < 0 && getline(&line, &cap, f) > 0) {
        const char *w = strstr(line, key) ? strstr(line, "join work ") : NULL;
        if (w != NULL)
            ms = atof(w + strlen("join work "));
    }
    free(line);
    fclose(f);
    return ms;
}

static double lg_mean(const double *v, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return n ? sum / (double)n : 0;
}

/* A room with one publisher, settled (not timed). Returns it or -1. */
static int lg_joins_room(lg_t *lg)
{
    int room = lg_room_new(lg);
    if (room < 0)
        return -1;
    lg_part_add(lg, room, 1);
    if (lg_settle(lg) < 0)
        return -1;
    if (lg->janus)
        lg_run_until(lg, lg_janus_pubs_live, (void *)(intptr_t)room, LG_READY_TIMEOUT_MS);
    return room;
}

/* joins: one publisher, then subscribers one at a time; a new room (and
 * publisher) every --subs-per-room joins. */
static void lg_run_joins(lg_t *lg)
{
    int room = lg_joins_room(lg);
    if (room < 0)
        return;
    double *ttfm = g_new0(double, lg->joins), *work = g_new0(double, lg->joins),
           *wwork = g_new0(double, lg->joins), *tconn = g_new0(double, lg->joins),
           *work_s = g_new0(double, lg->joins), *wself = g_new0(double, lg->joins),
           *work_self = g_new0(double, lg->joins);
    size_t n = 0, failed = 0, n_self = 0;
    for (int i = 0; i < lg->joins && !lg_stop; i++) {
        if (g_array_index(lg->rooms, lg_room_t, room).n_parts >= (size_t)lg->subs_per_room + 1 &&
            (room = lg_joins_room(lg)) < 0)
            break;
        /* Background: what the servers burn forwarding to those already
         * in. The worker's is taken per packet the subscribers receive, not
         * per second: a key frame (the publisher's own, or the one a join
         * asks for) in one window and not in the other is forwarding, not
         * join work. The other servers' (heartbeats) per second. */
        uint64_t b0 = lg_now_ns(), bc = lg_servers_cpu_ns(lg), bw = lg_proc_cpu_ns(lg->worker_pid),
                 bp = lg->recv_pkts;
        lg_run_until(lg, NULL, NULL, 300);
        double bwall = (double)(lg_now_ns() - b0), bpkts = (double)(lg->recv_pkts - bp);
        double bwcpu = (double)(lg_proc_cpu_ns(lg->worker_pid) - bw);
        double brate = (double)(lg_servers_cpu_ns(lg) - bc) / bwall;
        double borate = brate - bwcpu / bwall;
        double bwpp = bpkts > 0 ? bwcpu / bpkts : 0; /* worker ns per packet received */
        uint64_t c0 = lg_servers_cpu_ns(lg), w0 = lg_proc_cpu_ns(lg->worker_pid),
                 p0 = lg->recv_pkts;
        lg_part_t *p = lg_part_add(lg, room, 0);
        uint64_t t0 = p->t_open_ns;
        if (lg_run_until(lg, lg_first_media, p, 10000) <= 0 || p->failed) {
            failed++;
            continue;
        }
        lg_run_until(lg, lg_quiet, NULL, 2000);
        double wall = (double)(lg_now_ns() - t0), pkts = (double)(lg->recv_pkts - p0);
        double wcpu = (double)(lg_proc_cpu_ns(lg->worker_pid) - w0);
        double ocpu = (double)(lg_servers_cpu_ns(lg) - c0) - wcpu;
        ttfm[n] = (double)(p->t_first_ns - t0) / 1e6;
        tconn[n] = p->t_conn_ns > t0 ? (double)(p->t_conn_ns - t0) / 1e6 : 0;
        wwork[n] = (wcpu - bwpp * pkts) / 1e6;
        work[n] = wwork[n] + (ocpu - borate * wall) / 1e6;
        work_s[n] = (wcpu + ocpu - brate * wall) / 1e6; /* the older estimate: all per second */
        /* The worker's own account, where it gives one, needs no background:
         * the other servers' (small) still by difference. */
        wself[n] = lg_worker_join_ms(lg, p->sid);
        work_self[n] = wself[n] + (ocpu - borate * wall) / 1e6;
        n_self += wself[n] >= 0;
        VC_INFO("join %zu: first media %.1f ms; server cpu %.2f ms (worker %.2f) over %.0f ms; "
                "background: worker %.2f us per packet received (%.0f packets in the window), "
                "other servers %.2f %% of a core; the worker's own account %.2f ms",
                n, ttfm[n], work[n], wwork[n], wall / 1e6, bwpp / 1e3, pkts, borate * 100,
                wself[n]);
        n++;
    }
    /* The difference estimates stay under _diff keys; the main keys take
     * the worker's own account when every join has one (ours). */
    double diff_p99 = lg_pct(work, n, 0.99), wdiff_p99 = lg_pct(wwork, n, 0.99);
    double diff_mean = lg_mean(work, n), wdiff_mean = lg_mean(wwork, n);
    int self = n > 0 && n_self == n;
    if (self) {
        memcpy(work, work_self, n * sizeof(*work));
        memcpy(wwork, wself, n * sizeof(*wwork));
    }
    double mean = lg_mean(work, n), wmean = lg_mean(wwork, n);
    json_t *o =
        json_pack("{s:s,s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "scenario", "joins", "joins",
                  (int)n, "failed", (int)failed, "ttfm_ms_p50", lg_pct(ttfm, n, 0.5), "ttfm_ms_p99",
                  lg_pct(ttfm, n, 0.99), "join_cpu_ms_mean", mean, "join_cpu_ms_p50",
                  lg_pct(work, n, 0.5), "join_cpu_ms_p99", lg_pct(work, n, 0.99),
                  "worker_join_cpu_ms_mean", wmean, "worker_join_cpu_ms_p50", lg_pct(wwork, n, 0.5),
                  "worker_join_cpu_ms_p99", lg_pct(wwork, n, 0.99));
    /* Where the time to first media goes: up to DTLS done, then waiting. */
    json_object_set_new(o, "ttconn_ms_p50", json_real(lg_pct(tconn, n, 0.5)));
    json_object_set_new(o, "ttconn_ms_p99", json_real(lg_pct(tconn, n, 0.99)));
    /* The same joins with every server's background taken per second (the
     * estimate before 2026-11-24): key frames in one window and not the
     * other land in it. */
    json_object_set_new(o, "join_cpu_ms_p99_bg_per_s", json_real(lg_pct(work_s, n, 0.99)));
    json_object_set_new(o, "join_cpu_self", json_boolean(self));
    json_object_set_new(o, "join_cpu_ms_p99_diff", json_real(diff_p99));
    json_object_set_new(o, "join_cpu_ms_mean_diff", json_real(diff_mean));
    json_object_set_new(o, "worker_join_cpu_ms_p99_diff", json_real(wdiff_p99));
    json_object_set_new(o, "worker_join_cpu_ms_mean_diff", json_real(wdiff_mean));
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(o);
    g_free(ttfm);
    g_free(work);
    g_free(wwork);
    g_free(tconn);
    g_free(work_s);
    g_free(wself);
    g_free(work_self);
}

/* ---- main ---- */

static void lg_on_signal(int sig)
{
    lg_stop = 1;
}

static void lg_usage(void)
{
    fprintf(stderr, "usage: vc-loadgen [--host H] [--port P] --scenario fanout|meeting|joins\n"
                    "  [--subs-per-room N] [--room-size N] [--start N] [--step N] [--max-subs N]\n"
                    "  [--max-steps N] [--joins N] [--window S] [--warmup S] [--loss-stop F]\n"
                    "  [--video-kbps K] [--worker-pid PID] [--server-pid PID]...\n"
                    "  [--target ours|janus] [--srtp cm|gcm] [--ice-ip A] [--ready-timeout S]\n"
                    "  [--decrypt-every N] [--pacing F] [--fast-rx 0|1] [--rx-poll N x 250us]\n"
                    "  [--tick-us US]\n"
                    "  [--rx-gro 0|1] [--worker-log FILE] [--simulcast 0|1]\n");
}

static void lg_opts(lg_t *lg, int argc, char **argv)
{
    /* One option per line. */
    /* clang-format off */
    static const struct option opts[] = {
        {"host", 1, 0, 'h'},
        {"port", 1, 0, 'p'},
        {"scenario", 1, 0, 's'},
        {"subs-per-room", 1, 0, 'S'},
        {"room-size", 1, 0, 'r'},
        {"start", 1, 0, 'a'},
        {"step", 1, 0, 't'},
        {"max-subs", 1, 0, 'm'},
        {"max-steps", 1, 0, 'M'},
        {"joins", 1, 0, 'j'},
        {"window", 1, 0, 'w'},
        {"warmup", 1, 0, 'W'},
        {"loss-stop", 1, 0, 'l'},
        {"video-kbps", 1, 0, 'v'},
        {"worker-pid", 1, 0, 'P'},
        {"server-pid", 1, 0, 'X'},
        {"target", 1, 0, 'T'},
        {"srtp", 1, 0, 'C'},
        {"ice-ip", 1, 0, 'I'},
        {"ready-timeout", 1, 0, 'R'},
        {"decrypt-every", 1, 0, 'D'},
        {"pacing", 1, 0, 'G'},
        {"fast-rx", 1, 0, 'F'},
        {"rx-poll", 1, 0, 'Q'},
        {"tick-us", 1, 0, 'K'},
        {"rx-gro", 1, 0, 'g'},
        {"worker-log", 1, 0, 'L'},
        {"simulcast", 1, 0, 'Y'},
        {0, 0, 0, 0},
    };
    /* clang-format on */
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            lg->host = optarg;
            break;
        case 'p':
            lg->port = atoi(optarg);
            break;
        case 's':
            lg->scenario = optarg;
            break;
        case 'S':
            lg->subs_per_room = atoi(optarg);
            break;
        case 'r':
            lg->room_size = atoi(optarg);
            break;
        case 'a':
            lg->start = atoi(optarg);
            break;
        case 't':
            lg->step = atoi(optarg);
            break;
        case 'm':
            lg->max_subs = atoi(optarg);
            break;
        case 'M':
            lg->max_steps = atoi(optarg);
            break;
        case 'j':
            lg->joins = atoi(optarg);
            break;
        case 'w':
            lg->window_s = atof(optarg);
            break;
        case 'W':
            lg->warmup_s = atof(optarg);
            break;
        case 'l':
            lg->loss_stop = atof(optarg);
            break;
        case 'v':
            lg->video_kbps = atoi(optarg);
            break;
        case 'P':
            lg->worker_pid = atoi(optarg);
            break;
        case 'T':
            lg->janus = strcmp(optarg, "janus") == 0;
            break;
        case 'I':
            lg->ice_ip = optarg;
            break;
        case 'D':
            lg->decrypt_every = atoi(optarg) > 0 ? atoi(optarg) : 1;
            break;
        case 'G':
            lg->pacing = atof(optarg) > 0 ? atof(optarg) : 0;
            break;
        case 'F':
            lg->fast_rx = atoi(optarg) != 0;
            break;
        case 'g':
            lg->rx_gro = atoi(optarg) != 0;
            break;
        case 'Q':
            lg->rx_poll = atoi(optarg) < 0 ? 0 : atoi(optarg);
            break;
        case 'K':
            lg->tick_us = atoi(optarg) < 0 ? 0 : atoi(optarg);
            break;
        case 'L':
            lg->worker_log = optarg;
            break;
        case 'R':
            lg->ready_ms = (int)(atof(optarg) * 1000);
            break;
        case 'C':
            lg->gcm = strcmp(optarg, "gcm") == 0;
            break;
        case 'Y':
            lg->simulcast = atoi(optarg) != 0;
            break;
        case 'X':
            if (lg->n_server_pids < VC_ARRAY_LEN(lg->server_pids))
                lg->server_pids[lg->n_server_pids++] = atoi(optarg);
            break;
        default:
            lg_usage();
            exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    lg_t lg = {
        .host = "127.0.0.1",
        .ice_ip = "127.0.0.1",
        .port = 8080,
        .scenario = "fanout",
        .subs_per_room = 40,
        .room_size = 8,
        .ready_ms = LG_READY_TIMEOUT_MS,
        .decrypt_every = 16,
        .pacing = 2.5, /* libwebrtc's pacing factor */
        .step = 20,
        .max_subs = 2000,
        .joins = 50,
        .window_s = 5,
        .warmup_s = 2,
        .loss_stop = 0.01,
        .video_kbps = 1500,
        .fast_rx = 1,
        .rx_poll = 8, /* every 2 ms */
        .tick_us = LG_TICK_US,
        .rx_gro = 1,
    };
    vc_log_init("loadgen", VC_LOG_INFO);
    lg_opts(&lg, argc, argv);
    /* A meeting's grid of 7 tiles shows q or h: seven f layers would not
     * fit a receiver's bandwidth (a server's estimate caps them). */
    lg.tile_layers = strcmp(lg.scenario, "meeting") == 0 ? LG_MAX_LAYERS - 1 : LG_MAX_LAYERS;
    if (lg.worker_pid && lg.n_server_pids == 0)
        lg.server_pids[lg.n_server_pids++] = lg.worker_pid;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, lg_on_signal);
    signal(SIGTERM, lg_on_signal);
    lg.ctx = g_main_context_new();
    lg.loop = g_main_loop_new(lg.ctx, FALSE);
    mw_gpoll_attach(lg.ctx); /* one socket per participant: epoll, not poll(2) */
    /* Subscribers read with recvmmsg once connected (as the worker does),
     * each datagram with its kernel receive time for the latency probe. */
    if (lg.fast_rx)
        mw_peer_fast_rx_start(lg.rx_poll ? NULL : lg.ctx,
                              MW_PEER_RX_STAMPS | (lg.rx_gro ? MW_PEER_RX_GRO : 0));
    /* Before the identity: its SSL_CTX fixes the offered SRTP profiles. */
    mw_srtp_set_gcm_allowed(lg.gcm);
    lg.id = mw_dtls_identity_new();
    lg.cb = (mw_peer_callbacks_t){.on_state = lg_on_state,
                                  .on_gathered = lg_on_gathered,
                                  .on_rtp = lg_on_rtp,
                                  .on_rtcp = lg_on_rtcp};
    if (lg.decrypt_every > 1)
        lg.cb.on_srtp_peek = lg_on_srtp_peek;
    lg.parts = g_ptr_array_new();
    lg.txr = vc_calloc(LG_TXR, sizeof(*lg.txr));
    lg.rooms = g_array_new(FALSE, TRUE, sizeof(lg_room_t));
    /* The media clock: a timerfd, finer than GLib's millisecond timeouts,
     * armed for the next packet due, so that publishers' packets leave when
     * they are due, not all in the same instant. */
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (tfd < 0) {
        VC_ERROR("timerfd: %s", strerror(errno));
        return 2;
    }
    lg.tfd = tfd;
    lg_media_arm(&lg);
    GSource *tick = g_unix_fd_source_new(tfd, G_IO_IN);
    g_source_set_priority(tick, G_PRIORITY_HIGH);
    g_source_set_callback(tick, (GSourceFunc)(void (*)(void))lg_on_media_tick, &lg, NULL);
    g_source_attach(tick, lg.ctx);
    GSource *fb = g_timeout_source_new(1000 / LG_FB_SLICES);
    g_source_set_callback(fb, lg_feedback_tick, &lg, NULL);
    if (lg.simulcast)
        g_source_attach(fb, lg.ctx);
    GSource *keep = g_timeout_source_new_seconds(20);
    g_source_set_callback(keep, lg_janus_keepalive, &lg, NULL);
    if (lg.janus)
        g_source_attach(keep, lg.ctx);

    if (strcmp(lg.scenario, "fanout") == 0)
        lg_run_fanout(&lg);
    else if (strcmp(lg.scenario, "meeting") == 0)
        lg_run_meeting(&lg);
    else if (strcmp(lg.scenario, "joins") == 0)
        lg_run_joins(&lg);
    else {
        lg_usage();
        lg.rc = 2;
    }

    g_source_destroy(tick);
    g_source_unref(tick);
    close(tfd); /* the media clock's timerfd (the source does not own it) */
    g_source_destroy(keep);
    g_source_unref(keep);
    g_source_destroy(fb);
    g_source_unref(fb);
    for (guint i = 0; i < lg.parts->len; i++)
        lg_part_free(g_ptr_array_index(lg.parts, i));
    g_ptr_array_free(lg.parts, TRUE);
    free(lg.txr);
    if (lg.jctl)
        lg_part_free(lg.jctl);
    g_array_free(lg.rooms, TRUE);
    mw_peer_fast_rx_stop();
    mw_peer_ice_stop();
    lg_ws_stop();
    mw_dtls_identity_free(lg.id);
    mw_gpoll_detach(lg.ctx);
    g_main_loop_unref(lg.loop);
    g_main_context_unref(lg.ctx);
    return lg_stop ? 1 : lg.rc;
}
