/* lg_janus: vc-loadgen's participants against Janus VideoRoom (--target
 * janus), over Janus's WebSocket API (subprotocol "janus-protocol", the
 * protocol janus.js speaks). Each participant creates a session and attaches
 * a janus.plugin.videoroom handle; one more control handle creates the
 * rooms. A publisher joins as publisher, then configures with our offer once
 * its candidates are gathered (Janus answers). A subscriber joins with the
 * streams of its room's live feeds (skipping its own in a meeting), takes
 * Janus's offer and sends our answer with start. Candidates go in the SDP,
 * then a trickle "completed"; a keepalive every 20 s holds the sessions. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/peer.h"
#include "tools/loadgen/lg.h"
#include "tools/loadgen/lg_run.h"

/* Sends one Janus request: transaction "<kind><n>", session and handle
 * when known. Takes m. */
void lg_janus_send(lg_part_t *p, const char *janus, char kind, json_t *m)
{
    char tx[32];
    snprintf(tx, sizeof(tx), "%c%llu", kind, (unsigned long long)++p->lg->jtx);
    json_object_set_new(m, "janus", json_string(janus));
    json_object_set_new(m, "transaction", json_string(tx));
    if (p->jsession)
        json_object_set_new(m, "session_id", json_integer((json_int_t)p->jsession));
    if (p->jhandle)
        json_object_set_new(m, "handle_id", json_integer((json_int_t)p->jhandle));
    lg_send_json(p, m);
}

static void lg_janus_message(lg_part_t *p, char kind, json_t *body, json_t *jsep)
{
    json_t *m = json_pack("{s:o}", "body", body);
    if (jsep)
        json_object_set_new(m, "jsep", jsep);
    lg_janus_send(p, "message", kind, m);
}

/* Our ICE/DTLS parameters and candidates, for an offer or an answer. */
static lg_answer_params_t lg_janus_params(lg_part_t *p, const char **cands)
{
    size_t nc = mw_peer_local_candidates(p->peer, cands, 16);
    return (lg_answer_params_t){
        .ufrag = mw_peer_ice_ufrag(p->peer),
        .pwd = mw_peer_ice_pwd(p->peer),
        .fp = mw_dtls_identity_fingerprint(p->lg->id),
        .cands = cands,
        .n_cands = nc,
        .audio_ssrc = p->assrc,
        .video_ssrc = p->vl[0].ssrc,
        .simulcast = p->n_vl > 1,
        .label = p->label,
        .version = ++p->version,
        .recv_all = 1,
    };
}

/* Remote ICE/DTLS parameters and candidates from Janus's SDP. */
static void lg_janus_remote(lg_part_t *p, const lg_offer_t *o, mw_dtls_role_t role)
{
    if (p->remote_set)
        return;
    if (mw_peer_set_remote(p->peer, o->ufrag, o->pwd, "sha-256", o->fp, role) != 0) {
        lg_part_fail(p, "bad remote ICE/DTLS parameters");
        return;
    }
    for (size_t i = 0; i < o->n_cands; i++)
        mw_peer_add_remote_candidate(p->peer, o->cands[i]);
    p->remote_set = 1;
}

/* Candidates gathered: a publisher offers (configure), a subscriber answers
 * the offer it holds (start). */
void lg_janus_gathered(lg_part_t *p)
{
    const char *cands[16];
    lg_answer_params_t a = lg_janus_params(p, cands);
    char *sdp;
    if (p->publish) {
        sdp = lg_sdp_offer(&a);
        p->rid_ext = LG_RID_EXT;
        p->mid_ext = LG_MID_EXT;
        json_t *jsep = json_pack("{s:s,s:s}", "type", "offer", "sdp", sdp);
        if (a.simulcast) /* our a=simulcast lists the lowest layer first */
            json_object_set_new(jsep, "rid_order", json_string("lmh"));
        lg_janus_message(p, 'o',
                         json_pack("{s:s,s:b,s:b}", "request", "configure", "audio", 1, "video", 1),
                         jsep);
    } else {
        if (!p->offer)
            return;
        sdp = lg_sdp_answer(p->offer, &a);
        lg_janus_message(p, 's', json_pack("{s:s}", "request", "start"),
                         json_pack("{s:s,s:s}", "type", "answer", "sdp", sdp));
        lg_janus_remote(p, p->offer, MW_DTLS_ROLE_CLIENT);
        g_free(p->offer);
        p->offer = NULL;
    }
    g_free(sdp);
    lg_janus_send(p, "trickle", 't', json_pack("{s:{s:b}}", "candidate", "completed", 1));
}

/* The room's publishers, in join order. */
static size_t lg_janus_pubs(lg_t *lg, int room, lg_part_t **out, size_t max)
{
    size_t n = 0;
    for (guint i = 0; i < lg->parts->len && n < max; i++) {
        lg_part_t *q = g_ptr_array_index(lg->parts, i);
        if (q->room == room && q->publish && !q->jctl)
            out[n++] = q;
    }
    return n;
}

/* Attached: publishers join as publishers, subscribers subscribe to every
 * live feed of the room but the one they skip (their own in a meeting). */
void lg_janus_join(lg_part_t *p)
{
    lg_t *lg = p->lg;
    uint64_t room = g_array_index(lg->rooms, lg_room_t, p->room).jroom;
    if (p->publish) {
        lg_janus_message(p, 'j',
                         json_pack("{s:s,s:s,s:I,s:s}", "request", "join", "ptype", "publisher",
                                   "room", (json_int_t)room, "display", p->label),
                         NULL);
        return;
    }
    lg_part_t *pubs[LG_MAX_STREAMS];
    size_t n = lg_janus_pubs(lg, p->room, pubs, LG_MAX_STREAMS);
    json_t *streams = json_array();
    for (size_t i = 0; i < n; i++) {
        if ((int)i == p->jskip || !pubs[i]->jfeed || pubs[i]->failed)
            continue;
        json_int_t feed = (json_int_t)pubs[i]->jfeed;
        if (lg->simulcast) { /* the publisher's mids: 0 audio, 1 video (our offer) */
            json_array_append_new(streams, json_pack("{s:I,s:s}", "feed", feed, "mid", "0"));
            json_array_append_new(streams, json_pack("{s:I,s:s,s:i}", "feed", feed, "mid", "1",
                                                     "substream", lg_want_layer(lg, p)));
        } else {
            json_array_append_new(streams, json_pack("{s:I}", "feed", feed));
        }
    }
    if (json_array_size(streams) == 0) {
        json_decref(streams);
        lg_part_fail(p, "no live Janus feed to subscribe to");
        return;
    }
    lg_janus_message(p, 'j',
                     json_pack("{s:s,s:s,s:I,s:o}", "request", "join", "ptype", "subscriber",
                               "room", (json_int_t)room, "streams", streams),
                     NULL);
}

#define LG_JANUS_FEED_RETRIES 50 /* every LG_JANUS_FEED_RETRY_MS: 1 s */
#define LG_JANUS_FEED_RETRY_MS 20

/* A plugin event: joined (publisher), attached + offer (subscriber), an
 * answer (publisher), or an error. */
static void lg_janus_event(lg_part_t *p, json_t *m)
{
    json_t *data = json_object_get(json_object_get(m, "plugindata"), "data");
    json_t *jsep = json_object_get(m, "jsep");
    const char *vr = json_string_value(json_object_get(data, "videoroom"));
    const char *jtype = json_string_value(json_object_get(jsep, "type"));
    const char *sdp = json_string_value(json_object_get(jsep, "sdp"));
    /* 428 "No such feed": a publisher this side saw connected whose
     * WebRTC Janus has not marked up yet (it lists a feed only then; as the
     * DTLS client it finishes after us). Janus's own clients wait for the
     * "publishers" event; the generator retries the join for a while. */
    if (json_integer_value(json_object_get(data, "error_code")) == 428 && !p->publish &&
        p->retries < LG_JANUS_FEED_RETRIES) {
        lg_join_later(p, LG_JANUS_FEED_RETRY_MS);
        return;
    }
    if (json_object_get(data, "error")) {
        char why[512];
        snprintf(why, sizeof(why), "janus: %s", json_string_value(json_object_get(data, "error")));
        lg_part_fail(p, why);
        return;
    }
    if (vr && strcmp(vr, "joined") == 0 && p->publish && !p->peer) {
        p->joined = 1;
        p->jfeed = (uint64_t)json_integer_value(json_object_get(data, "id"));
        lg_peer_create(p, 0);
        return;
    }
    if (!jtype || !sdp || !(jtype[0] == 'a' || jtype[0] == 'o'))
        return;
    lg_offer_t *o = g_malloc(sizeof(*o));
    if (getenv("LG_DEBUG_SDP"))
        VC_INFO("%s: janus %s:\n%s", p->label, jtype, sdp);
    if (lg_sdp_parse_offer(sdp, o) != 0) {
        lg_part_fail(p, "unparsable Janus SDP");
        g_free(o);
        return;
    }
    if (jtype[0] == 'a' && p->publish && p->peer && p->n_vl > 1 &&
        (o->n_ml < 2 || o->ml[1].rid_ext != LG_RID_EXT || o->ml[1].mid_ext != LG_MID_EXT)) {
        lg_part_fail(p, "janus: the answer drops the mid or rid extension (no simulcast)");
        g_free(o);
    } else if (jtype[0] == 'a' && p->publish && p->peer) {
        /* RFC 5763 5: the answerer's setup:active makes us the DTLS server. */
        lg_janus_remote(
            p, o, strcmp(o->setup, "passive") == 0 ? MW_DTLS_ROLE_CLIENT : MW_DTLS_ROLE_SERVER);
        g_free(o);
    } else if (jtype[0] == 'o' && !p->publish && !p->peer) {
        p->joined = 1;
        p->n_expected = 0;
        for (size_t i = 0; i < o->n_ml; i++)
            p->n_expected += !o->ml[i].app && o->ml[i].dir == LG_DIR_SENDONLY;
        p->offer = o;
        lg_peer_create(p, 1);
    } else {
        g_free(o);
    }
}

static void lg_on_janus_ws(lg_ws_t *ws, const char *msg, size_t len, void *user)
{
    lg_part_t *p = user;
    if (!msg) {
        if (!p->failed)
            lg_part_fail(p, "websocket closed");
        return;
    }
    p->lg->sig_last_ns = lg_now_ns();
    json_t *m = json_loadb(msg, len, 0, NULL);
    const char *j = json_string_value(json_object_get(m, "janus"));
    const char *tx = json_string_value(json_object_get(m, "transaction"));
    json_t *data = json_object_get(m, "data");
    if (!j) {
    } else if (strcmp(j, "success") == 0 && tx && tx[0] == 'c') {
        p->jsession = (uint64_t)json_integer_value(json_object_get(data, "id"));
        lg_janus_send(p, "attach", 'a', json_pack("{s:s}", "plugin", "janus.plugin.videoroom"));
    } else if (strcmp(j, "success") == 0 && tx && tx[0] == 'a') {
        p->jhandle = (uint64_t)json_integer_value(json_object_get(data, "id"));
        if (p->jctl)
            p->jctl_state = 1;
        else
            lg_janus_join(p);
    } else if (strcmp(j, "success") == 0 && tx && tx[0] == 'r') {
        json_t *pd = json_object_get(json_object_get(m, "plugindata"), "data");
        const char *vr = json_string_value(json_object_get(pd, "videoroom"));
        p->jctl_state = vr && strcmp(vr, "created") == 0 ? 2 : -1;
        if (p->jctl_state < 0)
            VC_ERROR("janus: room create: %s", msg);
    } else if (strcmp(j, "event") == 0) {
        lg_janus_event(p, m);
    } else if (strcmp(j, "trickle") == 0 && p->peer) {
        const char *c =
            json_string_value(json_object_get(json_object_get(m, "candidate"), "candidate"));
        if (c)
            mw_peer_add_remote_candidate(p->peer, c);
    } else if (strcmp(j, "error") == 0) {
        char why[512];
        snprintf(why, sizeof(why), "janus error: %s", msg);
        if (p->jctl)
            p->jctl_state = -1;
        lg_part_fail(p, why);
    }
    json_decref(m);
}

gboolean lg_janus_keepalive(gpointer data)
{
    lg_t *lg = data;
    for (guint i = 0; i < lg->parts->len; i++) {
        lg_part_t *p = g_ptr_array_index(lg->parts, i);
        if (p->jsession && !p->failed)
            lg_janus_send(p, "keepalive", 'k', json_object());
    }
    if (lg->jctl && lg->jctl->jsession && !lg->jctl->failed)
        lg_janus_send(lg->jctl, "keepalive", 'k', json_object());
    return G_SOURCE_CONTINUE;
}

/* Opens a participant's (or the control handle's) Janus session. */
int lg_janus_open(lg_part_t *p)
{
    p->ws = lg_ws_open_proto(p->lg->ctx, p->lg->host, p->lg->port, "/", "janus-protocol",
                             lg_on_janus_ws, p);
    if (!p->ws)
        return -1;
    lg_janus_send(p, "create", 'c', json_object());
    return 0;
}

static int lg_janus_ctl_at(lg_t *lg, void *arg)
{
    return lg->jctl->jctl_state != (int)(intptr_t)arg || lg->jctl->failed;
}

/* Creates a Janus room (not permanent) for 64 publishers, no bitrate cap
 * that the load could hit. Returns its number or 0. */
uint64_t lg_janus_room_new(lg_t *lg)
{
    static uint64_t next;
    if (!lg->jctl) {
        lg->jctl = vc_calloc(1, sizeof(*lg->jctl));
        lg->jctl->lg = lg;
        lg->jctl->jctl = 1;
        lg->jctl->room = -1;
        g_strlcpy(lg->jctl->label, "ctl", sizeof(lg->jctl->label));
        if (lg_janus_open(lg->jctl) < 0 ||
            lg_run_until(lg, lg_janus_ctl_at, (void *)(intptr_t)0, 10000) <= 0 ||
            lg->jctl->jctl_state != 1) {
            VC_ERROR("janus: no control handle on port %d", lg->port);
            return 0;
        }
    }
    if (next == 0)
        next = 100000ull * (uint64_t)(getpid() % 10000) + 1;
    uint64_t room = next++;
    lg_janus_message(lg->jctl, 'r',
                     json_pack("{s:s,s:I,s:i,s:i,s:s,s:s,s:b,s:b,s:i}", "request", "create", "room",
                               (json_int_t)room, "publishers", 64, "bitrate", 10000000,
                               "audiocodec", "opus", "videocodec", "vp8", "permanent", 0,
                               "notify_joining", 0, "fir_freq", 0),
                     NULL);
    if (lg_run_until(lg, lg_janus_ctl_at, (void *)(intptr_t)1, 10000) <= 0 ||
        lg->jctl->jctl_state != 2) {
        VC_ERROR("janus: room %llu not created", (unsigned long long)room);
        return 0;
    }
    lg->jctl->jctl_state = 1;
    return room;
}

/* A subscriber may join once every publisher of its room is connected. */
int lg_janus_pubs_live(lg_t *lg, void *arg)
{
    lg_part_t *pubs[LG_MAX_STREAMS];
    size_t n = lg_janus_pubs(lg, (int)(intptr_t)arg, pubs, LG_MAX_STREAMS);
    for (size_t i = 0; i < n; i++)
        if (!pubs[i]->failed && !pubs[i]->connected)
            return 0;
    return 1;
}
