/* session: one browser session on the worker: join / resume / detach /
 * leave, the lobby (wait, admit, deny), the roster events, and offer/answer
 * driven by the room core. The peer (ICE/DTLS/SRTP) is created when the
 * session enters the call and freed at the end of the loop turn after the
 * session is removed, never inside its callbacks. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/core/sdp.h"
#include "media-worker/shell/worker.h"

#define MW_MAX_CANDS 16

/* {id, name, role, audio, video, screen} of a participant, for roster messages. */
json_t *mw_part_json(const room_part_t *p)
{
    const mw_session_t *s = p->user;
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "id", p->id, "name", p->name, "role",
                     p->role, "audio", p->audio, "video", p->video, "screen",
                     s != NULL && s->screen);
}

/* {id, name, removed_before} of a waiting guest, for hosts. */
json_t *mw_waiter_json(const room_waiter_t *wt)
{
    return json_pack("{s:s, s:s, s:b}", "id", wt->id, "name", wt->name, "removed_before",
                     wt->removed_before);
}

/* Sends msg (taken) to every participant of r but except. */
void mw_room_broadcast(room_t *r, const room_part_t *except, json_t *msg)
{
    for (room_part_t *q = r->parts; q != NULL; q = q->next)
        if (q != except)
            mw_deliver(q->user, json_incref(msg));
    json_decref(msg);
}

/* Sends msg (taken) to every host and cohost in the call. */
void mw_room_hosts_send(room_t *r, json_t *msg)
{
    for (room_part_t *q = r->parts; q != NULL; q = q->next)
        if (room_part_privileged(q))
            mw_deliver(q->user, json_incref(msg));
    json_decref(msg);
}

/* lobby_left{participant, reason} to the hosts. */
static void mw_lobby_left_msg(room_t *r, const char *pid, const char *reason)
{
    json_t *m = vc_proto_msg("lobby_left");
    json_object_set_new(m, "participant", json_string(pid));
    json_object_set_new(m, "reason", json_string(reason));
    mw_room_hosts_send(r, m);
}

/* The lobby as hosts see it: an array of waiter objects. */
json_t *mw_lobby_json(const room_t *r)
{
    json_t *a = json_array();
    for (const room_waiter_t *wt = r->lobby; wt != NULL; wt = wt->next)
        json_array_append_new(a, mw_waiter_json(wt));
    return a;
}

/* Reports participants + rooms to the registry. */
static void mw_load_update(mw_worker_t *w)
{
    int load = (int)g_hash_table_size(w->rooms);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->rooms);
    while (g_hash_table_iter_next(&it, &k, &v))
        load += (int)((room_t *)v)->n_parts;
    if (w->reg != NULL)
        mw_registry_set_load(w->reg, load);
}

/* closed{code, reason} */
json_t *mw_closed_msg(int code, const char *reason)
{
    json_t *m = vc_proto_msg("closed");
    json_object_set_new(m, "code", json_integer(code));
    json_object_set_new(m, "reason", json_string(reason));
    return m;
}

/* Sends an error to the session's browser. */
void mw_session_error(mw_session_t *s, vc_err_t code, const char *detail, const char *ref)
{
    mw_deliver(s, vc_proto_error(code, detail, ref));
}

/* joined{session, participant, room, role, resume, participants}. */
static void mw_send_joined(mw_session_t *s)
{
    json_t *list = json_array();
    for (room_part_t *q = s->room->parts; q != NULL; q = q->next)
        json_array_append_new(list, mw_part_json(q));
    json_t *m = vc_proto_msg("joined");
    json_object_set_new(m, "session", json_string(s->id));
    json_object_set_new(m, "participant", json_string(s->part->id));
    json_object_set_new(m, "room", json_string(s->room->id));
    json_object_set_new(m, "role", json_string(s->part->role));
    json_object_set_new(m, "resume", json_string(s->id));
    json_object_set_new(m, "participants", list);
    json_object_set_new(m, "lobby_enabled", json_boolean(s->room->lobby_enabled));
    json_object_set_new(m, "lobby",
                        room_part_privileged(s->part) ? mw_lobby_json(s->room) : json_array());
    mw_deliver(s, m);
}

/* lobby_waiting{room, session, resume}: the guest waits for a host. */
static void mw_send_lobby_waiting(mw_session_t *s)
{
    json_t *m = vc_proto_msg("lobby_waiting");
    json_object_set_new(m, "room", json_string(s->room->id));
    json_object_set_new(m, "session", json_string(s->id));
    json_object_set_new(m, "resume", json_string(s->id));
    mw_deliver(s, m);
}

/* Peer state changes: connected -> keyframes; failed/closed -> removal. */
void mw_session_on_state(mw_peer_t *p, mw_peer_state_t st, void *user)
{
    mw_session_t *s = user;
    if (s->dead)
        return;
    if (st == MW_PEER_CONNECTED) {
        s->connected = 1;
        VC_INFO("session %.8s: media connected", s->id);
        mw_media_subscriber_keyframes(s, vc_now_ms());
        mw_chat_on_connected(s);
    } else if (st == MW_PEER_FAILED || st == MW_PEER_CLOSED) {
        s->connected = 0;
        VC_INFO("session %.8s: media %s", s->id, st == MW_PEER_FAILED ? "failed" : "closed");
        mw_session_remove(s, 1,
                          mw_closed_msg(VC_ERR_UNAVAILABLE, st == MW_PEER_FAILED
                                                                ? "media connection failed"
                                                                : "media connection closed"));
    }
}

/* All local candidates are known: the first offer can go. */
void mw_session_on_gathered(mw_peer_t *p, void *user)
{
    mw_session_t *s = user;
    if (s->dead || s->gathered)
        return;
    s->gathered = 1;
    mw_session_offer(s);
}

/* Returns the room id's room, creating it on first join with the lobby
 * setting the join carries (from the room's Redis hash). */
static room_t *mw_room_get(mw_worker_t *w, const char *id, int lobby)
{
    room_t *r = g_hash_table_lookup(w->rooms, id);
    if (r == NULL) {
        r = room_new(id, w);
        r->lobby_enabled = lobby;
        r->max_parts = (size_t)w->room_max_parts;
        g_hash_table_insert(w->rooms, r->id, r);
        VC_INFO("room %s created (lobby %s)", id, lobby ? "on" : "off");
    }
    return r;
}

/* Destroys r if nobody is in it or waits for it, and tells the registry. */
static void mw_room_maybe_free(mw_worker_t *w, room_t *r)
{
    if (!room_empty(r))
        return;
    VC_INFO("room %s empty, released", r->id);
    if (w->reg != NULL)
        mw_registry_release_room(w->reg, r->id);
    g_hash_table_remove(w->rooms, r->id);
    mw_quality_room_free(r);
    room_free(r);
}

/* Creates the session's peer with the worker's ICE settings. */
static mw_peer_t *mw_session_peer(mw_worker_t *w, mw_session_t *s)
{
    mw_peer_config_t cfg = {
        .ctx = w->ctx,
        .ice_addresses = (const char *const *)w->ice_addresses,
        .n_ice_addresses = w->n_ice_addresses,
        .announced_ip = w->announced_ip,
        .port_min = (uint16_t)w->port_min,
        .port_max = (uint16_t)w->port_max,
        .regular_nomination = w->regular_nomination,
    };
    return mw_peer_new(&cfg, w->dtls, &w->peer_cb, s);
}

/* Puts s into the call as participant pid: peer, joined, roster to everyone.
 * On failure s stays outside the call (the caller removes it). */
static int mw_session_enter(mw_session_t *s, const char *pid, const char *name)
{
    mw_worker_t *w = s->w;
    room_t *r = s->room;
    room_part_t *p = room_join_as(r, pid, name, s->role, s->identity, s);
    if (p == NULL) {
        mw_session_error(s, VC_ERR_ROOM_FULL, NULL, "join");
        return -1;
    }
    s->part = p;
    s->peer = mw_session_peer(w, s);
    if (s->peer == NULL) {
        room_leave(r, p);
        s->part = NULL;
        mw_session_error(s, VC_ERR_INTERNAL, "cannot create the media transport", "join");
        return -1;
    }
    /* Host candidates are usually gathered inside mw_peer_new: then the
     * first offer goes out right behind joined, in this loop turn (else
     * mw_session_on_gathered sends it). */
    const char *cand[1];
    if (mw_peer_local_candidates(s->peer, cand, 1) > 0)
        s->gathered = 1;
    VC_INFO("session %.8s joined room %s as %s (%s)", s->id, r->id, p->id, s->role);
    mw_send_joined(s);
    mw_session_offer(s);
    /* Nobody else renegotiates: the newcomer gets m-lines in their offers
     * only once its answer shows it publishes (room_apply_answer). */
    mw_room_broadcast(r, p,
                      json_pack("{s:i, s:s, s:o}", "v", VC_PROTO_VERSION, "type",
                                "participant_joined", "participant", mw_part_json(p)));
    mw_quality_join(s);
    mw_load_update(w);
    return 0;
}

/* Puts s in r's lobby as pid and shows it to the hosts. */
static void mw_lobby_enter(mw_session_t *s, const char *pid, const char *name, int removed)
{
    s->waiter = room_lobby_add(s->room, pid, name, s->identity, removed, s);
    VC_INFO("session %.8s waits in the lobby of room %s as %s%s", s->id, s->room->id, pid,
            removed ? " (removed before)" : "");
    mw_send_lobby_waiting(s);
    json_t *m = vc_proto_msg("lobby_request");
    json_object_set_new(m, "participant", mw_waiter_json(s->waiter));
    mw_room_hosts_send(s->room, m);
}

/* A waiting identity knocks again from a new session (its edge died and
 * the client rejoined with its credential): the new session takes the
 * waiter's place, unseen by the hosts; the old one is closed. 1 if done. */
static int mw_lobby_take_over(mw_session_t *s)
{
    if (s->identity[0] == '\0')
        return 0;
    room_waiter_t *wt = s->room->lobby;
    while (wt != NULL && strcmp(wt->identity, s->identity) != 0)
        wt = wt->next;
    if (wt == NULL)
        return 0;
    mw_session_t *old = wt->user;
    old->waiter = NULL;
    wt->user = s;
    s->waiter = wt;
    VC_INFO("session %.8s takes over the lobby place of %.8s (%s)", s->id, old->id, wt->id);
    mw_session_remove(old, 1,
                      mw_closed_msg(VC_ERR_ALREADY_JOINED, "You joined from another connection."));
    mw_send_lobby_waiting(s);
    return 1;
}

/* A fresh join: into the call or the lobby, as the room decides. */
static void mw_join_fresh(mw_worker_t *w, mw_session_t *s, const json_t *m)
{
    const json_t *lobby = json_object_get(m, "lobby");
    room_t *r = mw_room_get(w, json_string_value(json_object_get(m, "room")),
                            lobby == NULL || json_is_true(lobby));
    const char *identity = json_string_value(json_object_get(m, "identity"));
    const char *name = json_string_value(json_object_get(m, "name"));
    snprintf(s->identity, sizeof(s->identity), "%s", identity ? identity : "");
    int removed = 0;
    room_admit_t where = room_admission(r, json_string_value(json_object_get(m, "role")),
                                        s->identity, s->role, sizeof(s->role), &removed);
    char pid[VC_PROTO_MAX_ID + 1];
    pid[0] = 'p';
    vc_random_hex(pid + 1, 8);
    s->room = r;
    g_hash_table_insert(w->sessions, s->id, s);
    if (where == ROOM_ADMIT_WAIT) {
        if (!mw_lobby_take_over(s))
            mw_lobby_enter(s, pid, name, removed);
        return;
    }
    if (mw_session_enter(s, pid, name) != 0)
        mw_session_remove(s, 0, NULL);
}

/* Admits waiter wt of r into the call (a host decided, or the lobby went
 * off). A full room closes the guest's session with room_full. */
void mw_lobby_admit(room_t *r, room_waiter_t *wt)
{
    mw_session_t *s = wt->user;
    char pid[ROOM_MAX_ID + 1], name[ROOM_MAX_NAME + 1];
    snprintf(pid, sizeof(pid), "%s", wt->id);
    snprintf(name, sizeof(name), "%s", wt->name);
    room_lobby_remove(r, wt);
    s->waiter = NULL;
    VC_INFO("session %.8s admitted to room %s", s->id, r->id);
    mw_lobby_left_msg(r, pid, "admitted");
    if (mw_session_enter(s, pid, name) != 0)
        mw_session_remove(s, 1, mw_closed_msg(VC_ERR_ROOM_FULL, vc_err_message(VC_ERR_ROOM_FULL)));
}

/* Sends wt's guest away: lobby_denied (or closed{code}) and the hosts see
 * it leave with reason "denied". */
void mw_lobby_deny(room_t *r, room_waiter_t *wt, int code, const char *reason)
{
    mw_session_t *s = wt->user;
    mw_lobby_left_msg(r, wt->id, "denied");
    room_lobby_remove(r, wt);
    s->waiter = NULL;
    VC_INFO("session %.8s sent away from the lobby of room %s (%d)", s->id, r->id, code);
    if (code == VC_ERR_FORBIDDEN)
        mw_deliver(s, vc_proto_msg("lobby_denied"));
    mw_session_remove(s, 1, mw_closed_msg(code, reason));
}

static void mw_session_offer_again(mw_session_t *s);

/* Re-attaches a detached (or moved) session to a new edge. */
static void mw_join_resume(mw_session_t *s, mw_edge_t *e)
{
    s->edge = e;
    s->detached_at_ms = 0;
    VC_INFO("session %.8s resumed on edge %s", s->id, e->id);
    if (s->part == NULL) {
        mw_send_lobby_waiting(s);
        return;
    }
    mw_send_joined(s);
    mw_session_offer_again(s);
}

/* join{session, edge, edge_url, room, name, role, resume?} */
void mw_on_join(mw_worker_t *w, const json_t *m, uint64_t now_ms)
{
    const char *sid = json_string_value(json_object_get(m, "session"));
    const char *room = json_string_value(json_object_get(m, "room"));
    mw_edge_t *e = mw_edge_get(w, json_string_value(json_object_get(m, "edge")),
                               json_string_value(json_object_get(m, "edge_url")), now_ms);
    if (e == NULL)
        return;
    mw_session_t *s = g_hash_table_lookup(w->sessions, sid);
    int resume = json_is_true(json_object_get(m, "resume"));
    if (s != NULL && !s->dead && resume && strcmp(s->room->id, room) == 0) {
        mw_join_resume(s, e);
        return;
    }
    mw_session_t tmp = {.edge = e};
    snprintf(tmp.id, sizeof(tmp.id), "%s", sid);
    if (resume) {
        mw_session_error(&tmp, VC_ERR_SESSION_NOT_FOUND, NULL, "join");
        return;
    }
    if (s != NULL) {
        mw_session_error(&tmp, VC_ERR_ALREADY_JOINED, NULL, "join");
        return;
    }
    s = vc_calloc(1, sizeof(*s));
    *s = tmp;
    s->w = w;
    if (!mw_worker_accepts(w, room)) {
        mw_session_error(s, VC_ERR_ROOM_ENDED, NULL, "join");
        free(s);
        return;
    }
    vc_random_bytes(&s->sdp_session_id, sizeof(s->sdp_session_id));
    s->sdp_session_id &= 0x7fffffffffffffffULL;
    s->joining = 1;
    s->join_us = vc_now_us();
    rtp_rx_init(&s->rx[SDP_KIND_AUDIO], 48000);
    rtp_rx_init(&s->rx[SDP_KIND_VIDEO], 90000);
    mw_join_fresh(w, s, m);
}

void mw_session_bill(mw_worker_t *w, const json_t *m, uint64_t t0)
{
    const char *id = json_string_value(json_object_get(m, "session"));
    mw_session_t *s = id ? g_hash_table_lookup(w->sessions, id) : NULL;
    if (s != NULL && !s->dead && s->joining)
        s->work_ns += vc_thread_cpu_ns() - t0;
}

/* Media flows to or from the session's peer: its join is done. */
void mw_session_on_first_media(mw_peer_t *p, uint64_t work_ns, void *user)
{
    mw_session_t *s = user;
    if (!s->joining)
        return;
    s->joining = 0;
    VC_INFO("session %s: media flows %.1f ms after its join; join work %.2f ms of the worker's "
            "CPU (signaling %.2f, transport %.2f)",
            s->id, (double)(vc_now_us() - s->join_us) / 1e3, (double)(s->work_ns + work_ns) / 1e6,
            (double)s->work_ns / 1e6, (double)work_ns / 1e6);
}

/* The tracks array of an offer: its sendonly subscription m-lines. */
static json_t *mw_offer_tracks(const sdp_offer_mline_t *ml, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 2; i < n; i++) {
        if (ml[i].dir != SDP_DIR_SENDONLY)
            continue;
        char mid[24];
        snprintf(mid, sizeof(mid), "%zu", i);
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "mid", mid, "participant",
                                           ml[i].msid_stream, "kind",
                                           ml[i].kind == SDP_KIND_AUDIO ? "audio" : "video"));
    }
    return a;
}

/* Renders the SDP for the m-lines room_offer_begin chose. NULL if too big. */
static char *mw_offer_sdp(mw_session_t *s, const sdp_offer_mline_t *ml, size_t n)
{
    const char *cands[MW_MAX_CANDS];
    sdp_offer_t o = {
        .session_id = s->sdp_session_id,
        .version = s->part->version,
        .ice_ufrag = mw_peer_ice_ufrag(s->peer),
        .ice_pwd = mw_peer_ice_pwd(s->peer),
        .fingerprint = mw_dtls_identity_fingerprint(s->w->dtls),
        .candidates = cands,
        .n_candidates = mw_peer_local_candidates(s->peer, cands, MW_MAX_CANDS),
        .mlines = ml,
        .n_mlines = n,
        .datachannel = 1,
    };
    char *buf = vc_malloc(VC_PROTO_MAX_SDP);
    size_t len;
    if (sdp_build_offer(&o, buf, VC_PROTO_MAX_SDP, &len) == 0)
        return buf;
    free(buf);
    return NULL;
}

/* offer{sdp, tracks, hidden_tracks?} for m-lines ml[0..n). NULL if the SDP
 * is too big. */
static json_t *mw_offer_msg(mw_session_t *s, const sdp_offer_mline_t *ml, size_t n)
{
    char *sdp = mw_offer_sdp(s, ml, n);
    if (sdp == NULL)
        return NULL;
    json_t *m = vc_proto_msg("offer");
    json_object_set_new(m, "sdp", json_string(sdp));
    json_object_set_new(m, "tracks", mw_offer_tracks(ml, n));
    if (s->part->n_hidden > 0)
        json_object_set_new(m, "hidden_tracks", json_integer((json_int_t)s->part->n_hidden));
    free(sdp);
    return m;
}

/* Sends the next offer if the layout changed and none is outstanding. */
void mw_session_offer(mw_session_t *s)
{
    if (s->dead || !s->gathered || s->part == NULL)
        return;
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    if (!room_offer_begin(s->part, 0, ml, ROOM_MAX_MLINES, &n))
        return;
    json_t *m = mw_offer_msg(s, ml, n);
    if (m == NULL) {
        VC_ERROR("session %.8s: offer exceeds %d bytes", s->id, VC_PROTO_MAX_SDP);
        s->part->offer_out = 0;
        return;
    }
    mw_deliver(s, m);
}

/* The outstanding offer again, byte for byte (rebuilt from what the room
 * core remembers of it, not kept as text): after a resume. */
static void mw_session_offer_again(mw_session_t *s)
{
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    if (s->peer == NULL || !room_offer_again(s->part, ml, ROOM_MAX_MLINES, &n))
        return;
    json_t *m = mw_offer_msg(s, ml, n);
    if (m != NULL)
        mw_deliver(s, m);
}

/* Offers to every dirty participant of r. */
void mw_room_renegotiate(room_t *r)
{
    for (room_part_t *q = r->parts; q != NULL; q = q->next)
        mw_session_offer(q->user);
}

/* First answer only: ICE credentials and DTLS role/fingerprint to the peer. */
static int mw_answer_transport(mw_session_t *s, const sdp_answer_t *a)
{
    if (s->remote_set)
        return 0;
    mw_dtls_role_t role = a->setup == SDP_SETUP_ACTIVE ? MW_DTLS_ROLE_SERVER : MW_DTLS_ROLE_CLIENT;
    if (mw_peer_set_remote(s->peer, a->ice_ufrag, a->ice_pwd, a->fp_alg, a->fp, role) != 0)
        return -1;
    s->remote_set = 1;
    return 0;
}

/* Validates and applies the answer; bad_sdp / bad_state leave state as is. */
static vc_err_t mw_answer_apply(mw_session_t *s, const char *sdp, char *err, size_t errlen)
{
    sdp_answer_t *a = vc_malloc(sizeof(*a));
    vc_err_t rc = VC_ERR_BAD_SDP;
    if (!s->part->offer_out) {
        snprintf(err, errlen, "no offer is outstanding");
        rc = VC_ERR_BAD_STATE;
        goto out;
    }
    if (sdp_parse_answer(sdp, strlen(sdp), a, err, errlen) != 0)
        goto out;
    room_err_t re = room_apply_answer(s->part, a, err, errlen);
    if (re != ROOM_OK) {
        rc = re == ROOM_ERR_STATE ? VC_ERR_BAD_STATE : VC_ERR_BAD_SDP;
        goto out;
    }
    if (mw_answer_transport(s, a) != 0) {
        snprintf(err, errlen, "unusable ICE credentials or DTLS fingerprint");
        goto out;
    }
    for (size_t i = 0; i < a->n_candidates; i++)
        mw_peer_add_remote_candidate(s->peer, a->candidates[i]);
    mw_chat_on_answer(s, a);
    rc = VC_OK;
out:
    free(a);
    return rc;
}

/* answer{session, sdp} */
void mw_on_answer(mw_session_t *s, const json_t *m, uint64_t now_ms)
{
    char err[200];
    const char *sdp = json_string_value(json_object_get(m, "sdp"));
    vc_err_t rc = mw_answer_apply(s, sdp, err, sizeof(err));
    if (rc != VC_OK) {
        VC_INFO("session %.8s: answer rejected: %s", s->id, err);
        mw_session_error(s, rc, err, "answer");
        return;
    }
    if (s->connected)
        mw_media_subscriber_keyframes(s, now_ms);
    /* What it now publishes (or stopped) dirties the others; m-lines this
     * answer freed may re-offer it hidden tracks. */
    mw_room_renegotiate(s->room);
}

/* candidate{session, candidate, sdpMid?}: null or "" ends the candidates. */
void mw_on_candidate(mw_session_t *s, const json_t *m)
{
    const char *c = json_string_value(json_object_get(m, "candidate"));
    if (c == NULL || c[0] == '\0')
        return;
    if (mw_peer_add_remote_candidate(s->peer, c) != 0)
        mw_session_error(s, VC_ERR_BAD_CANDIDATE, NULL, "candidate");
}

/* media_state{session, audio, video, screen?} -> participant_updated to the
 * others. Turning on a kind a host muted resumes its forwarding. */
void mw_on_media_state(mw_session_t *s, const json_t *m, uint64_t now_ms)
{
    s->screen = json_is_true(json_object_get(m, "screen"));
    unsigned released = room_media_state(s->part, json_is_true(json_object_get(m, "audio")),
                                         json_is_true(json_object_get(m, "video")));
    if (released & (1u << SDP_KIND_AUDIO))
        VC_INFO("session %.8s (%s): audio forwarding resumed", s->id, s->part->id);
    if (released & (1u << SDP_KIND_VIDEO)) {
        VC_INFO("session %.8s (%s): video forwarding resumed", s->id, s->part->id);
        mw_media_keyframe(s, SDP_KIND_VIDEO, now_ms);
    }
    mw_room_broadcast(s->room, s->part,
                      json_pack("{s:i, s:s, s:o}", "v", VC_PROTO_VERSION, "type",
                                "participant_updated", "participant", mw_part_json(s->part)));
}

/* The WebSocket went away: keep the session detach_grace_ms. */
void mw_session_detach(mw_session_t *s, uint64_t now_ms)
{
    if (s->edge == NULL)
        return;
    s->edge = NULL;
    s->detached_at_ms = now_ms ? now_ms : 1;
    VC_INFO("session %.8s detached", s->id);
}

/* End of the loop turn: free what mw_session_remove queued. */
static gboolean mw_reap_idle(gpointer data)
{
    mw_worker_t *w = data;
    g_source_unref(w->reap_src);
    w->reap_src = NULL;
    mw_sessions_reap(w);
    return G_SOURCE_REMOVE;
}

/* Queues one high-priority idle source that reaps the dead sessions. */
static void mw_reap_schedule(mw_worker_t *w)
{
    if (w->reap_src != NULL)
        return;
    w->reap_src = g_idle_source_new();
    g_source_set_priority(w->reap_src, G_PRIORITY_HIGH);
    g_source_set_callback(w->reap_src, mw_reap_idle, w, NULL);
    g_source_attach(w->reap_src, w->ctx);
}

/* Takes s's participant out of the call: participant_left, renegotiation. */
static void mw_session_leave_call(mw_session_t *s)
{
    room_t *r = s->room;
    char pid[ROOM_MAX_ID + 1];
    snprintf(pid, sizeof(pid), "%s", s->part->id);
    mw_quality_leave(s);
    room_leave(r, s->part);
    s->part = NULL;
    VC_INFO("session %.8s (%s) left room %s; rtp garbage %llu, unknown ssrc %llu, "
            "rtcp garbage %llu, forward failures %llu; nacks in %llu answered %llu "
            "missed %llu not sent %llu; padding bytes %llu; rtt %llu us",
            s->id, pid, r->id, (unsigned long long)s->rtp_garbage,
            (unsigned long long)s->unknown_ssrc, (unsigned long long)s->rtcp_garbage,
            (unsigned long long)s->fwd_fail, (unsigned long long)s->nack_in,
            (unsigned long long)s->nack_answered, (unsigned long long)s->nack_missed,
            (unsigned long long)s->nack_unsent, (unsigned long long)s->pad_bytes,
            (unsigned long long)s->rtt.srtt_us);
    mw_room_broadcast(r, NULL,
                      json_pack("{s:i, s:s, s:s}", "v", VC_PROTO_VERSION, "type",
                                "participant_left", "participant", pid));
    mw_room_renegotiate(r);
}

/* A waiting guest gave up (leave, or the detach grace ran out). */
static void mw_session_leave_lobby(mw_session_t *s)
{
    room_t *r = s->room;
    char pid[ROOM_MAX_ID + 1];
    snprintf(pid, sizeof(pid), "%s", s->waiter->id);
    room_lobby_remove(r, s->waiter);
    s->waiter = NULL;
    VC_INFO("session %.8s (%s) left the lobby of room %s", s->id, pid, r->id);
    mw_lobby_left_msg(r, pid, "left");
}

/* Leaves the call or the lobby, notifies the edge, and queues the session;
 * the peer is freed by mw_sessions_reap. */
void mw_session_remove(mw_session_t *s, int notify, json_t *closed)
{
    mw_worker_t *w = s->w;
    if (s->dead) {
        json_decref(closed);
        return;
    }
    s->dead = 1;
    if (notify)
        mw_send_close(s, closed);
    else
        json_decref(closed);
    room_t *r = s->room;
    if (s->part != NULL)
        mw_session_leave_call(s);
    else if (s->waiter != NULL)
        mw_session_leave_lobby(s);
    if (r != NULL)
        mw_room_maybe_free(w, r);
    s->room = NULL;
    if (g_hash_table_lookup(w->sessions, s->id) == s)
        g_hash_table_remove(w->sessions, s->id);
    s->next_dead = w->dead;
    w->dead = s;
    mw_load_update(w);
    mw_reap_schedule(w);
}

/* Detach grace and edge silence, checked a few times per second. */
void mw_sessions_tick(mw_worker_t *w, uint64_t now_ms)
{
    GPtrArray *expired = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->sessions);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        mw_session_t *s = v;
        if (s->edge != NULL && now_ms - s->edge->last_seen_ms > (uint64_t)w->edge_timeout_ms) {
            VC_INFO("edge %s silent for %ld ms", s->edge->url, w->edge_timeout_ms);
            mw_session_detach(s, now_ms);
        }
        if (s->edge == NULL && now_ms - s->detached_at_ms > (uint64_t)w->detach_grace_ms)
            g_ptr_array_add(expired, s);
    }
    for (guint i = 0; i < expired->len; i++) {
        mw_session_t *s = expired->pdata[i];
        VC_INFO("session %.8s: detach grace over", s->id);
        mw_session_remove(s, 0, NULL);
    }
    g_ptr_array_free(expired, TRUE);
}

/* Shutdown: close{closed 5001} to every attached session, then remove all. */
void mw_sessions_close_all(mw_worker_t *w)
{
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->sessions);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_ptr_array_add(all, v);
    for (guint i = 0; i < all->len; i++)
        mw_session_remove(all->pdata[i], 1,
                          mw_closed_msg(MW_CLOSE_SHUTDOWN, "the media server is shutting down"));
    g_ptr_array_free(all, TRUE);
}

/* Frees sessions removed during this loop turn, with their peers. */
void mw_sessions_reap(mw_worker_t *w)
{
    if (w->reap_src != NULL) {
        g_source_destroy(w->reap_src);
        g_source_unref(w->reap_src);
        w->reap_src = NULL;
    }
    while (w->dead != NULL) {
        mw_session_t *s = w->dead;
        w->dead = s->next_dead;
        mw_chat_session_fini(s); /* before the peer: it may send an ABORT */
        if (s->peer != NULL)
            mw_peer_free(s->peer);
        mw_media_session_free(s);
        free(s);
    }
}
