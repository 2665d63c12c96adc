#include "media-worker/core/room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* Creates an empty room. */
/* A new generation for r, unique across all rooms of the process: a list
 * kept for one room can never match another's (or a later room's at the
 * same address). */
static void room_bump(room_t *r)
{
    static uint64_t gen;
    r->gen = ++gen;
}

room_t *room_new(const char *id, void *user)
{
    room_t *r = vc_calloc(1, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->lobby_enabled = 1;
    r->max_parts = ROOM_MAX_PARTICIPANTS;
    r->user = user;
    return r;
}

/* Frees a list of identities. */
static void room_idents_free(room_ident_t *l)
{
    while (l != NULL) {
        room_ident_t *n = l->next;
        free(l);
        l = n;
    }
}

/* Frees one participant and its m-lines. */
static void room_part_free(room_part_t *p)
{
    free(p->ml);
    free(p);
}

/* Frees r and its participants. */
void room_free(room_t *r)
{
    if (r == NULL)
        return;
    while (r->parts != NULL) {
        room_part_t *p = r->parts;
        r->parts = p->next;
        room_part_free(p);
    }
    while (r->lobby != NULL)
        room_lobby_remove(r, r->lobby);
    room_idents_free(r->banned);
    room_idents_free(r->cohosts);
    free(r);
}

/* FNV-1a over a string, continuing from h. */
static uint32_t room_fnv(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* A stable, non-zero SSRC for one binding of a subscription m-line, salted
 * by the room's counter so a reused m-line gets a new one. */
static uint32_t room_out_ssrc(room_part_t *sub, const room_part_t *pub, size_t idx, int rtx)
{
    uint32_t h = room_fnv(2166136261u, sub->id);
    h = room_fnv(h ^ 0x5c, pub->id);
    h = (h ^ (uint32_t)idx) * 16777619u;
    h = (h ^ sub->room->ssrc_seq++) * 16777619u;
    h = (h ^ (uint32_t)rtx) * 16777619u;
    h ^= h >> 15;
    return h ? h : 1;
}

/* Appends a zeroed m-line of kind, growing the array (by doubling: most
 * participants see a few tracks). NULL when p has ROOM_MAX_MLINES. */
static room_mline_t *room_ml_append(room_part_t *p, sdp_kind_t kind)
{
    room_bump(p->room);
    if (p->n_ml == ROOM_MAX_MLINES)
        return NULL;
    if (p->n_ml == p->cap_ml) {
        size_t cap = p->cap_ml ? p->cap_ml * 2 : 4;
        if (cap > ROOM_MAX_MLINES)
            cap = ROOM_MAX_MLINES;
        p->ml = vc_realloc(p->ml, cap * sizeof(*p->ml));
        p->cap_ml = cap;
    }
    room_mline_t *m = &p->ml[p->n_ml++];
    memset(m, 0, sizeof(*m));
    m->kind = kind;
    return m;
}

/* The subscription m-line of sub bound to (pub, kind), or NULL. */
static room_mline_t *room_sub_find(room_part_t *sub, const room_part_t *pub, sdp_kind_t kind)
{
    for (size_t i = 2; i < sub->n_ml; i++)
        if (sub->ml[i].pub == pub && sub->ml[i].kind == kind)
            return &sub->ml[i];
    return NULL;
}

/* Binds an m-line of sub to publisher pub's kind: reuses an m-line an
 * answer confirmed inactive, else appends. What the outstanding offer said
 * about a reused m-line stays (room_offer_again, room_apply_answer read
 * it). Returns 0, or -1 when sub has no m-line left (sub->overflow). */
static int room_sub_bind(room_part_t *sub, room_part_t *pub, sdp_kind_t kind)
{
    room_bump(sub->room);
    room_mline_t *m = NULL;
    for (size_t i = 2; i < sub->n_ml && m == NULL; i++)
        if (sub->ml[i].pub == NULL && sub->ml[i].kind == kind && sub->ml[i].answered_inactive)
            m = &sub->ml[i];
    if (m == NULL && (m = room_ml_append(sub, kind)) == NULL) {
        sub->overflow = 1;
        return -1;
    }
    m->pub = pub;
    m->live = 0;
    m->answered_inactive = 0;
    size_t idx = (size_t)(m - sub->ml);
    m->out_ssrc = room_out_ssrc(sub, pub, idx, 0);
    m->out_rtx = kind == SDP_KIND_VIDEO ? room_out_ssrc(sub, pub, idx, 1) : 0;
    sub->dirty = 1;
    return 0;
}

/* sub's m-line for (pub, kind), if any, turns inactive. */
static void room_sub_unbind(room_part_t *sub, const room_part_t *pub, sdp_kind_t kind)
{
    room_bump(sub->room);
    room_mline_t *m = room_sub_find(sub, pub, kind);
    if (m == NULL)
        return; /* hidden from sub */
    m->pub = NULL;
    m->live = 0;
    sub->dirty = 1;
}

/* Binds every track published by others that sub does not have yet, in
 * join order, until its m-lines run out. */
static void room_sub_fill(room_part_t *sub)
{
    sub->overflow = 0;
    for (room_part_t *q = sub->room->parts; q != NULL; q = q->next) {
        if (q == sub)
            continue;
        for (int k = SDP_KIND_AUDIO; k <= SDP_KIND_VIDEO; k++)
            if (q->published[k] && room_sub_find(sub, q, (sdp_kind_t)k) == NULL &&
                room_sub_bind(sub, q, (sdp_kind_t)k) != 0)
                return;
    }
}

/* Published tracks of others sub has no m-line for. */
static size_t room_sub_hidden(room_part_t *sub)
{
    size_t n = 0;
    for (room_part_t *q = sub->room->parts; q != NULL; q = q->next)
        for (int k = SDP_KIND_AUDIO; k <= SDP_KIND_VIDEO; k++)
            if (q != sub && q->published[k] && room_sub_find(sub, q, (sdp_kind_t)k) == NULL)
                n++;
    return n;
}

/* Adds p without an identity. */
room_part_t *room_join(room_t *r, const char *id, const char *name, const char *role, void *user)
{
    return room_join_as(r, id, name, role, NULL, user);
}

/* Adds p with its two publish m-lines and subscriptions to what others
 * publish now; nobody else changes. */
room_part_t *room_join_as(room_t *r, const char *id, const char *name, const char *role,
                          const char *identity, void *user)
{
    if (r->n_parts >= r->max_parts)
        return NULL;
    room_part_t *p = vc_calloc(1, sizeof(*p));
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    snprintf(p->role, sizeof(p->role), "%s", role);
    snprintf(p->identity, sizeof(p->identity), "%s", identity ? identity : "");
    p->audio = p->video = 1;
    p->room = r;
    p->user = user;
    room_ml_append(p, SDP_KIND_AUDIO);
    room_ml_append(p, SDP_KIND_VIDEO);
    p->dirty = 1;
    room_part_t **tail = &r->parts; /* join order, for rosters */
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = p;
    r->n_parts++;
    room_bump(r);
    room_sub_fill(p);
    return p;
}

/* Unlinks and frees p; everyone's m-lines for its tracks turn inactive. A
 * participant that published nothing costs the others nothing. */
void room_leave(room_t *r, room_part_t *p)
{
    room_bump(r);
    room_part_t **pp = &r->parts;
    while (*pp != NULL && *pp != p)
        pp = &(*pp)->next;
    if (*pp == NULL)
        return;
    *pp = p->next;
    r->n_parts--;
    for (int k = SDP_KIND_AUDIO; k <= SDP_KIND_VIDEO; k++)
        if (p->published[k])
            for (room_part_t *q = r->parts; q != NULL; q = q->next)
                room_sub_unbind(q, p, (sdp_kind_t)k);
    room_part_free(p);
}

/* Binds or unbinds (p, kind) in every other participant. */
int room_publish(room_part_t *p, sdp_kind_t kind, int on)
{
    room_bump(p->room);
    on = on != 0;
    if (kind > SDP_KIND_VIDEO || p->published[kind] == on)
        return 0;
    p->published[kind] = on;
    for (room_part_t *q = p->room->parts; q != NULL; q = q->next) {
        if (q == p)
            continue;
        if (on)
            room_sub_bind(q, p, kind);
        else
            room_sub_unbind(q, p, kind);
    }
    return 1;
}

/* Records p's SSRCs for kind; a known SSRC publishes the kind. */
int room_set_published(room_part_t *p, sdp_kind_t kind, uint32_t ssrc, uint32_t rtx)
{
    if (kind > SDP_KIND_VIDEO)
        return 0;
    int changed = p->ssrc[kind] != ssrc || p->rtx[kind] != rtx;
    p->ssrc[kind] = ssrc;
    p->rtx[kind] = rtx;
    if (ssrc != 0)
        changed |= room_publish(p, kind, 1);
    return changed;
}

/* Records what the offer says about subscription m-line i of p. */
static void room_offer_snap(room_part_t *p, size_t i)
{
    room_mline_t *m = &p->ml[i];
    m->offered_inactive = m->pub == NULL;
    if (m->pub == NULL) {
        m->stream[0] = m->track[0] = '\0';
        m->offered_ssrc = m->offered_rtx = 0;
        return;
    }
    snprintf(m->stream, sizeof(m->stream), "%s", m->pub->id);
    snprintf(m->track, sizeof(m->track), "%s-%c", m->pub->id,
             m->kind == SDP_KIND_AUDIO ? 'a' : 'v');
    m->offered_ssrc = m->out_ssrc;
    m->offered_rtx = m->out_rtx;
}

/* Describes m-line i of p as the outstanding/last offer has it. */
static void room_offer_desc(const room_part_t *p, size_t i, sdp_offer_mline_t *o)
{
    const room_mline_t *m = &p->ml[i];
    memset(o, 0, sizeof(*o));
    o->kind = m->kind;
    if (i < 2) {
        o->dir = SDP_DIR_RECVONLY;
        o->simulcast = m->kind == SDP_KIND_VIDEO;
        return;
    }
    if (m->offered_inactive) {
        o->dir = SDP_DIR_INACTIVE;
        return;
    }
    o->dir = SDP_DIR_SENDONLY;
    o->msid_stream = m->stream;
    o->msid_track = m->track;
    /* The worker's rewritten stream: its SSRCs are fixed per binding. */
    o->ssrc = m->offered_ssrc;
    o->rtx_ssrc = m->offered_rtx;
}

/* One outstanding offer at a time; a dirty session gets the next one. */
int room_offer_begin(room_part_t *p, int force, sdp_offer_mline_t *out, size_t max, size_t *n)
{
    if (p->offer_out || (!p->dirty && !force) || max < p->n_ml)
        return 0;
    for (size_t i = 0; i < p->n_ml; i++) {
        if (i >= 2)
            room_offer_snap(p, i);
        room_offer_desc(p, i, &out[i]);
    }
    *n = p->n_ml;
    p->n_offered = p->n_ml;
    p->n_hidden = p->overflow ? room_sub_hidden(p) : 0;
    p->offer_out = 1;
    p->dirty = 0;
    p->version++;
    return 1;
}

/* From the snapshots room_offer_begin took: identical output. */
int room_offer_again(room_part_t *p, sdp_offer_mline_t *out, size_t max, size_t *n)
{
    if (!p->offer_out || max < p->n_offered)
        return 0;
    for (size_t i = 0; i < p->n_offered; i++)
        room_offer_desc(p, i, &out[i]);
    *n = p->n_offered;
    return 1;
}

/* Checks that the answer's m-lines are the offer's, in order. */
static room_err_t room_check_answer(const room_part_t *p, const sdp_answer_t *a, char *err,
                                    size_t errlen)
{
    if (!p->offer_out) {
        snprintf(err, errlen, "no offer is outstanding");
        return ROOM_ERR_STATE;
    }
    if (a->n_mlines != p->n_offered) {
        snprintf(err, errlen, "answer has %zu m-lines, the offer %zu", a->n_mlines, p->n_offered);
        return ROOM_ERR_MISMATCH;
    }
    for (size_t i = 0; i < a->n_mlines; i++) {
        char mid[24];
        snprintf(mid, sizeof(mid), "%zu", i);
        const sdp_answer_mline_t *am = &a->mlines[i];
        if (am->kind != p->ml[i].kind || (!am->rejected && strcmp(am->mid, mid) != 0)) {
            snprintf(err, errlen, "m-line %zu does not match the offer", i);
            return ROOM_ERR_MISMATCH;
        }
    }
    return ROOM_OK;
}

/* A publish m-line of the answer: sending directions publish (RFC 3264
 * 6.1: no direction attribute means sendrecv), and its SSRCs if listed. */
static void room_answer_publish(room_part_t *p, sdp_kind_t kind, const sdp_answer_mline_t *am)
{
    int on = !am->rejected && (am->dir == SDP_DIR_SENDONLY || am->dir == SDP_DIR_SENDRECV ||
                               am->dir == SDP_DIR_NONE);
    uint32_t rtx, ssrc = sdp_mline_media_ssrc(am, &rtx);
    if (on && ssrc != 0)
        room_set_published(p, kind, ssrc, rtx);
    room_publish(p, kind, on);
}

/* Validates, then takes accepted payload types, inactive confirmations and
 * what mids 0 and 1 publish; hidden tracks may take freed m-lines. */
room_err_t room_apply_answer(room_part_t *p, const sdp_answer_t *a, char *err, size_t errlen)
{
    room_bump(p->room);
    room_err_t rc = room_check_answer(p, a, err, errlen);
    if (rc != ROOM_OK)
        return rc;
    int freed = 0;
    for (size_t i = 0; i < a->n_mlines; i++) {
        const sdp_answer_mline_t *am = &a->mlines[i];
        room_mline_t *m = &p->ml[i];
        if (am->rejected)
            memset(m->pts, 0, sizeof(m->pts));
        else
            memcpy(m->pts, am->pts, sizeof(m->pts));
        m->ext_audio_level = am->rejected ? 0 : am->ext_audio_level;
        m->ext_twcc = am->rejected ? 0 : am->ext_twcc;
        m->ext_rid = am->rejected ? 0 : am->ext_rid;
        m->ext_rrid = am->rejected ? 0 : am->ext_rrid;
        if (i < 2)
            continue;
        m->answered_inactive = m->offered_inactive;
        m->live = !m->offered_inactive && m->pub != NULL && !am->rejected;
        freed |= m->answered_inactive && m->pub == NULL;
    }
    p->offer_out = 0;
    for (size_t i = 0; i < 2; i++)
        room_answer_publish(p, p->ml[i].kind, &a->mlines[i]);
    if (p->overflow && freed)
        room_sub_fill(p);
    return ROOM_OK;
}

/* Scans the room for m-lines bound to (p, kind) that accept pt. */
size_t room_subscribers(const room_part_t *p, sdp_kind_t kind, uint8_t pt, room_part_t **out,
                        size_t max)
{
    size_t n = 0;
    if (kind <= SDP_KIND_VIDEO && p->held[kind])
        return 0;
    for (room_part_t *q = p->room->parts; q != NULL && n < max; q = q->next) {
        if (q == p)
            continue;
        for (size_t i = 2; i < q->n_ml; i++) {
            const room_mline_t *m = &q->ml[i];
            if (m->pub == p && m->kind == kind && m->live &&
                (pt == ROOM_PT_ANY || (pt < 128 && ((m->pts[pt >> 3] >> (pt & 7)) & 1)))) {
                out[n++] = q;
                break;
            }
        }
    }
    return n;
}

/* Matches ssrc against p's media and RTX SSRCs. */
int room_part_kind_of(const room_part_t *p, uint32_t ssrc, int *is_rtx)
{
    if (ssrc == 0)
        return -1;
    for (int k = 0; k < 2; k++) {
        if (p->ssrc[k] == ssrc) {
            *is_rtx = 0;
            return k;
        }
        if (p->rtx[k] == ssrc) {
            *is_rtx = 1;
            return k;
        }
    }
    return -1;
}

/* Linear scan over sub's m-lines: per feedback packet only. */
int room_sub_mline_of(const room_part_t *sub, uint32_t ssrc, int *is_rtx)
{
    if (ssrc == 0)
        return -1;
    for (size_t i = 2; i < sub->n_ml; i++) {
        const room_mline_t *m = &sub->ml[i];
        if (m->pub == NULL)
            continue;
        if (m->out_ssrc == ssrc || m->out_rtx == ssrc) {
            *is_rtx = m->out_rtx == ssrc;
            return (int)i;
        }
    }
    return -1;
}

/* Linear scan: rooms are small and this runs per feedback packet only. */
room_part_t *room_find_ssrc(room_t *r, uint32_t ssrc, sdp_kind_t *kind, int *is_rtx)
{
    for (room_part_t *q = r->parts; q != NULL; q = q->next) {
        int k = room_part_kind_of(q, ssrc, is_rtx);
        if (k >= 0) {
            *kind = (sdp_kind_t)k;
            return q;
        }
    }
    return NULL;
}

/* Throttles keyframe requests per publisher track. */
int room_pli_allow(room_part_t *p, sdp_kind_t kind, uint64_t now_ms)
{
    if (kind > SDP_KIND_VIDEO)
        return 0;
    if (p->last_pli_ms[kind] != 0 && now_ms - p->last_pli_ms[kind] < ROOM_PLI_INTERVAL_MS)
        return 0;
    p->last_pli_ms[kind] = now_ms ? now_ms : 1;
    return 1;
}

/* ---- moderation ---- */

/* 1 if id is in the list l. */
static int room_ident_has(const room_ident_t *l, const char *id)
{
    if (id == NULL || id[0] == '\0')
        return 0;
    for (; l != NULL; l = l->next)
        if (strcmp(l->id, id) == 0)
            return 1;
    return 0;
}

/* Adds id to *l once. */
static void room_ident_add(room_ident_t **l, const char *id)
{
    if (id == NULL || id[0] == '\0' || room_ident_has(*l, id))
        return;
    room_ident_t *n = vc_calloc(1, sizeof(*n));
    snprintf(n->id, sizeof(n->id), "%s", id);
    n->next = *l;
    *l = n;
}

/* Removes id from *l if present. */
static void room_ident_del(room_ident_t **l, const char *id)
{
    for (room_ident_t **pp = l; *pp != NULL; pp = &(*pp)->next) {
        if (strcmp((*pp)->id, id) == 0) {
            room_ident_t *n = *pp;
            *pp = n->next;
            free(n);
            return;
        }
    }
}

/* Removed first: a removed host credential must not walk back in. */
room_admit_t room_admission(const room_t *r, const char *cred_role, const char *identity,
                            char *role, size_t rolelen, int *removed_before)
{
    *removed_before = room_is_banned(r, identity);
    if (*removed_before) {
        snprintf(role, rolelen, "guest");
        return ROOM_ADMIT_WAIT;
    }
    if (cred_role != NULL && strcmp(cred_role, "host") == 0) {
        snprintf(role, rolelen, "host");
        return ROOM_ADMIT_ENTER;
    }
    if (room_is_cohost(r, identity)) {
        snprintf(role, rolelen, "cohost");
        return ROOM_ADMIT_ENTER;
    }
    snprintf(role, rolelen, "guest");
    return r->lobby_enabled ? ROOM_ADMIT_WAIT : ROOM_ADMIT_ENTER;
}

int room_part_privileged(const room_part_t *p)
{
    return p != NULL && (strcmp(p->role, "host") == 0 || strcmp(p->role, "cohost") == 0);
}

static const char *const room_act_names[] = {
    [ROOM_ACT_ADMIT] = "admit",
    [ROOM_ACT_DENY] = "deny",
    [ROOM_ACT_ADMIT_ALL] = "admit_all",
    [ROOM_ACT_SET_LOBBY] = "set_lobby",
    [ROOM_ACT_MUTE] = "mute",
    [ROOM_ACT_ASK_UNMUTE] = "ask_unmute",
    [ROOM_ACT_REMOVE] = "remove",
    [ROOM_ACT_PROMOTE] = "promote",
    [ROOM_ACT_END] = "end",
};

room_act_t room_act_parse(const char *type)
{
    for (int a = 0; a < ROOM_ACT_NONE; a++)
        if (strcmp(room_act_names[a], type) == 0)
            return (room_act_t)a;
    return ROOM_ACT_NONE;
}

room_part_t *room_find_part(room_t *r, const char *id)
{
    for (room_part_t *q = r->parts; q != NULL; q = q->next)
        if (strcmp(q->id, id) == 0)
            return q;
    return NULL;
}

/* The sender's own room is the only place a target is looked for. */
room_mod_t room_mod_check(room_t *r, const room_part_t *sender, room_act_t act, const char *target,
                          room_part_t **part, room_waiter_t **waiter)
{
    if (act >= ROOM_ACT_NONE || !room_part_privileged(sender) || sender->room != r)
        return ROOM_MOD_FORBIDDEN;
    room_part_t *p = NULL;
    room_waiter_t *w = NULL;
    int in_call = act == ROOM_ACT_MUTE || act == ROOM_ACT_ASK_UNMUTE || act == ROOM_ACT_PROMOTE ||
                  act == ROOM_ACT_REMOVE;
    int in_lobby = act == ROOM_ACT_ADMIT || act == ROOM_ACT_DENY || act == ROOM_ACT_REMOVE;
    if (!in_call && !in_lobby)
        goto ok;
    if (target == NULL)
        return ROOM_MOD_NOT_FOUND;
    if (in_call)
        p = room_find_part(r, target);
    if (p == NULL && in_lobby)
        w = room_lobby_find(r, target);
    if (p == NULL && w == NULL)
        return ROOM_MOD_NOT_FOUND;
ok:
    if (part != NULL)
        *part = p;
    if (waiter != NULL)
        *waiter = w;
    return ROOM_MOD_OK;
}

room_waiter_t *room_lobby_add(room_t *r, const char *id, const char *name, const char *identity,
                              int removed_before, void *user)
{
    room_waiter_t *w = vc_calloc(1, sizeof(*w));
    snprintf(w->id, sizeof(w->id), "%s", id);
    snprintf(w->name, sizeof(w->name), "%s", name);
    snprintf(w->identity, sizeof(w->identity), "%s", identity ? identity : "");
    w->removed_before = removed_before;
    w->user = user;
    room_waiter_t **tail = &r->lobby;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = w;
    r->n_lobby++;
    return w;
}

room_waiter_t *room_lobby_find(room_t *r, const char *id)
{
    for (room_waiter_t *w = r->lobby; w != NULL; w = w->next)
        if (strcmp(w->id, id) == 0)
            return w;
    return NULL;
}

void room_lobby_remove(room_t *r, room_waiter_t *w)
{
    for (room_waiter_t **pp = &r->lobby; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            r->n_lobby--;
            free(w);
            return;
        }
    }
}

int room_empty(const room_t *r)
{
    return r->n_parts == 0 && r->n_lobby == 0;
}

void room_ban(room_t *r, const char *identity)
{
    if (identity == NULL || identity[0] == '\0')
        return;
    room_ident_add(&r->banned, identity);
    room_ident_del(&r->cohosts, identity);
}

int room_is_banned(const room_t *r, const char *identity)
{
    return room_ident_has(r->banned, identity);
}

void room_promote(room_part_t *p)
{
    if (strcmp(p->role, "host") != 0)
        snprintf(p->role, sizeof(p->role), "cohost");
    room_ident_add(&p->room->cohosts, p->identity);
}

int room_is_cohost(const room_t *r, const char *identity)
{
    return room_ident_has(r->cohosts, identity);
}

void room_hold(room_part_t *p, sdp_kind_t kind)
{
    if (kind > SDP_KIND_VIDEO)
        return;
    p->held[kind] = 1;
    if (kind == SDP_KIND_AUDIO)
        p->audio = 0;
    else
        p->video = 0;
}

/* Only the participant's own "on" releases a hold. */
unsigned room_media_state(room_part_t *p, int audio, int video)
{
    unsigned released = 0;
    p->audio = audio;
    p->video = video;
    if (audio && p->held[SDP_KIND_AUDIO]) {
        p->held[SDP_KIND_AUDIO] = 0;
        released |= 1u << SDP_KIND_AUDIO;
    }
    if (video && p->held[SDP_KIND_VIDEO]) {
        p->held[SDP_KIND_VIDEO] = 0;
        released |= 1u << SDP_KIND_VIDEO;
    }
    return released;
}
