/* mod: host actions on the worker that owns the room (admit, deny,
 * admit_all, set_lobby, mute, ask_unmute, remove, promote, end). The
 * decisions (who may, which target, where a joiner goes) are the room
 * core's (core/room.c); this file turns them into messages, registry
 * updates and session removals. Nothing here trusts the client or the UI. */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/worker.h"

#define MW_ENDED_KEEP_MS 60000 /* an ended room refuses joins this long */

/* {v, type, kind, by} for muted / unmute_request. */
static json_t *mw_mod_kind_msg(const char *type, const char *kind, const char *by)
{
    json_t *m = vc_proto_msg(type);
    json_object_set_new(m, "kind", json_string(kind));
    json_object_set_new(m, "by", json_string(by));
    return m;
}

/* participant_updated{p} to everyone in p's room but except (may be NULL). */
static void mw_mod_updated(room_part_t *p, const room_part_t *except)
{
    json_t *m = vc_proto_msg("participant_updated");
    json_object_set_new(m, "participant", mw_part_json(p));
    mw_room_broadcast(p->room, except, m);
}

/* set_lobby: store it, tell the call, and when off admit whoever waits
 * (except removed identities: they wait for an explicit admit). */
static void mw_mod_set_lobby(mw_session_t *s, int enabled)
{
    room_t *r = s->room;
    r->lobby_enabled = enabled;
    VC_INFO("room %s: lobby %s by %s", r->id, enabled ? "on" : "off", s->part->id);
    if (s->w->reg != NULL)
        mw_registry_set_lobby(s->w->reg, r->id, enabled);
    json_t *m = vc_proto_msg("room_updated");
    json_object_set_new(m, "lobby_enabled", json_boolean(enabled));
    mw_room_broadcast(r, NULL, m);
    if (enabled)
        return;
    room_waiter_t *wt = r->lobby;
    while (wt != NULL) {
        room_waiter_t *next = wt->next;
        if (!wt->removed_before)
            mw_lobby_admit(r, wt);
        wt = next;
    }
}

/* admit_all: everyone waiting, in arrival order. */
static void mw_mod_admit_all(room_t *r)
{
    while (r->lobby != NULL)
        mw_lobby_admit(r, r->lobby);
}

/* mute: hold the track (forwarding stops now), tell the target and the call. */
static void mw_mod_mute(mw_session_t *s, room_part_t *t, const char *kind)
{
    sdp_kind_t k = strcmp(kind, "audio") == 0 ? SDP_KIND_AUDIO : SDP_KIND_VIDEO;
    room_hold(t, k);
    VC_INFO("room %s: %s %s forwarding held by %s", s->room->id, t->id, kind, s->part->id);
    mw_deliver(t->user, mw_mod_kind_msg("muted", kind, s->part->id));
    mw_mod_updated(t, t);
}

/* promote: the target learns its role too, and sees the lobby. */
static void mw_mod_promote(mw_session_t *s, room_part_t *t)
{
    int was = room_part_privileged(t);
    room_promote(t);
    VC_INFO("room %s: %s promoted to %s by %s", s->room->id, t->id, t->role, s->part->id);
    mw_mod_updated(t, NULL);
    if (was)
        return;
    for (room_waiter_t *wt = s->room->lobby; wt != NULL; wt = wt->next) {
        json_t *m = vc_proto_msg("lobby_request");
        json_object_set_new(m, "participant", mw_waiter_json(wt));
        mw_deliver(t->user, m);
    }
}

/* remove: ban the identity, close the target's session (its peer goes at
 * the end of this loop turn; the room stops forwarding to and from it now). */
static void mw_mod_remove(mw_session_t *s, room_part_t *t, room_waiter_t *wt)
{
    room_t *r = s->room;
    const char *reason = vc_err_message(VC_ERR_REMOVED);
    if (wt != NULL) {
        room_ban(r, wt->identity);
        VC_INFO("room %s: waiting %s removed by %s", r->id, wt->id, s->part->id);
        mw_lobby_deny(r, wt, VC_ERR_REMOVED, reason);
        return;
    }
    room_ban(r, t->identity);
    VC_INFO("room %s: %s removed by %s", r->id, t->id, s->part->id);
    mw_session_remove(t->user, 1, mw_closed_msg(VC_ERR_REMOVED, reason));
}

/* 1 unless room was ended by a host in the last MW_ENDED_KEEP_MS: a join
 * placed before the end must not bring the room back on this worker. */
int mw_worker_accepts(mw_worker_t *w, const char *room)
{
    gpointer at = g_hash_table_lookup(w->ended, room);
    return at == NULL || vc_now_ms() - (uint64_t)(uintptr_t)at > MW_ENDED_KEEP_MS;
}

/* end: closed{2004} to everyone (the call and the lobby) first, so nobody
 * sees the room fall apart participant by participant; then the sessions
 * go, the room with them, and its Redis state. */
static void mw_mod_end(mw_session_t *s)
{
    mw_worker_t *w = s->w;
    room_t *r = s->room;
    VC_INFO("room %s ended by %s", r->id, s->part->id);
    g_hash_table_replace(w->ended, g_strdup(r->id), (gpointer)(uintptr_t)vc_now_ms());
    if (w->reg != NULL)
        mw_registry_end_room(w->reg, r->id);
    GPtrArray *all = g_ptr_array_new();
    for (room_waiter_t *wt = r->lobby; wt != NULL; wt = wt->next)
        g_ptr_array_add(all, wt->user);
    for (room_part_t *q = r->parts; q != NULL; q = q->next)
        g_ptr_array_add(all, q->user);
    for (guint i = 0; i < all->len; i++) {
        mw_session_t *t = all->pdata[i];
        mw_send_close(t, mw_closed_msg(VC_ERR_ROOM_ENDED, "A host ended the meeting."));
        t->edge = NULL;
    }
    for (guint i = 0; i < all->len; i++)
        mw_session_remove(all->pdata[i], 0, NULL);
    g_ptr_array_free(all, TRUE);
}

/* Runs a checked action. */
static void mw_mod_apply(mw_session_t *s, room_act_t act, const json_t *m, room_part_t *t,
                         room_waiter_t *wt)
{
    const char *kind = json_string_value(json_object_get(m, "kind"));
    switch (act) {
    case ROOM_ACT_ADMIT:
        mw_lobby_admit(s->room, wt);
        break;
    case ROOM_ACT_DENY:
        mw_lobby_deny(s->room, wt, VC_ERR_FORBIDDEN, "A host denied your request to join.");
        break;
    case ROOM_ACT_ADMIT_ALL:
        mw_mod_admit_all(s->room);
        break;
    case ROOM_ACT_SET_LOBBY:
        mw_mod_set_lobby(s, json_is_true(json_object_get(m, "enabled")));
        break;
    case ROOM_ACT_MUTE:
        mw_mod_mute(s, t, kind);
        break;
    case ROOM_ACT_ASK_UNMUTE:
        mw_deliver(t->user, mw_mod_kind_msg("unmute_request", kind, s->part->id));
        break;
    case ROOM_ACT_REMOVE:
        mw_mod_remove(s, t, wt);
        break;
    case ROOM_ACT_PROMOTE:
        mw_mod_promote(s, t);
        break;
    case ROOM_ACT_END:
        mw_mod_end(s);
        break;
    case ROOM_ACT_NONE:
        break;
    }
}

/* A host action from session s: the room core checks the sender's role and
 * finds the target in the sender's room only. */
void mw_on_host_action(mw_session_t *s, const json_t *m, const char *type)
{
    room_act_t act = room_act_parse(type);
    const char *target = json_string_value(json_object_get(m, "participant"));
    room_part_t *t = NULL;
    room_waiter_t *wt = NULL;
    room_mod_t rc = room_mod_check(s->room, s->part, act, target, &t, &wt);
    if (rc == ROOM_MOD_FORBIDDEN) {
        VC_INFO("session %.8s: %s refused: not a host", s->id, type);
        mw_session_error(s, VC_ERR_FORBIDDEN, NULL, type);
        return;
    }
    if (rc == ROOM_MOD_NOT_FOUND) {
        mw_session_error(s, VC_ERR_PARTICIPANT_NOT_FOUND, NULL, type);
        return;
    }
    mw_mod_apply(s, act, m, t, wt);
}

/* Forgets ended rooms after MW_ENDED_KEEP_MS. */
void mw_mod_tick(mw_worker_t *w, uint64_t now_ms)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, w->ended);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (now_ms - (uint64_t)(uintptr_t)v > MW_ENDED_KEEP_MS)
            g_hash_table_iter_remove(&it);
}
