/* room: the sans-IO model of one room on a worker: its participants, what
 * each one publishes, each subscriber's m-line layout (subscription m-lines
 * only for published tracks; an unpublished track's m-line goes inactive and
 * is reused for the next track of its kind), the offer/answer state (one
 * outstanding offer, dirty flag, what that offer said so it can be sent
 * again), and moderation: roles, the lobby, removed identities, host-muted
 * tracks and who may do what. Not I/O: the shell sends offers, packets and
 * the messages these decisions imply. */
#ifndef MW_ROOM_H
#define MW_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/sdp.h"

#define ROOM_MAX_ID 64
#define ROOM_MAX_NAME 64
#define ROOM_PLI_INTERVAL_MS 500
/* Subscription m-lines per participant: tracks of others it can see at
 * once (24 participants' audio and video). Published tracks beyond it are
 * not offered (room_part_t.n_hidden) until an m-line frees up. Bounded by
 * the browser's answer, which must fit VC_PROTO_MAX_SDP (48 KiB): Chromium
 * answers about 0.8 kB per subscription m-line (our offer 0.65 kB), so 64
 * would not fit. */
#define ROOM_MAX_VISIBLE 48
#define ROOM_MAX_MLINES (2 + ROOM_MAX_VISIBLE)
_Static_assert(ROOM_MAX_MLINES <= SDP_MAX_MLINES, "answers must fit sdp_answer_t");
/* Participants in one room's call unless room_t.max_parts says otherwise. */
#define ROOM_MAX_PARTICIPANTS 500

typedef struct room room_t;
typedef struct room_part room_part_t;
typedef struct room_waiter room_waiter_t;
typedef struct room_ident room_ident_t;

/* One m-line of a participant's PeerConnection. Index 0/1: what it publishes
 * (audio/video, recvonly from the worker); 2..: subscriptions. */
typedef struct {
    sdp_kind_t kind;
    room_part_t *pub;      /* subscription: the publisher, NULL when unbound */
    int offered_inactive;  /* the outstanding/last offer had it inactive */
    int answered_inactive; /* an answer confirmed it inactive: reusable */
    int live;              /* an answer accepted it bound to pub */
    uint8_t pts[16];       /* payload types the answer accepted */
    /* subscription: the worker's own SSRCs for the one continuous stream it
     * sends (rewritten from the publisher's layers); fixed per binding */
    uint32_t out_ssrc, out_rtx;
    /* header extension ids the answer kept for this m-line (0: none) */
    uint8_t ext_audio_level, ext_twcc, ext_rid, ext_rrid;
    /* What the outstanding/last offer said about a sendonly m-line (the
     * binding may change before the answer): msid and SSRCs. */
    char stream[ROOM_MAX_ID + 1];
    char track[ROOM_MAX_ID + 3];
    uint32_t offered_ssrc, offered_rtx;
} room_mline_t;

struct room_part {
    char id[ROOM_MAX_ID + 1];
    char name[ROOM_MAX_NAME + 1];
    char role[16];                  /* "host", "cohost" or "guest" */
    char identity[ROOM_MAX_ID + 1]; /* the credential's sub; "" if none */
    int audio, video;               /* media_state */
    /* per kind: muted by a host, not forwarded until the participant
     * turns it on again */
    int held[2];
    room_t *room;
    int published[2];         /* per kind: it sends (its answer or its RTP says so) */
    uint32_t ssrc[2], rtx[2]; /* what it publishes, per kind; 0: unknown */
    room_mline_t *ml;         /* n_ml used of cap_ml (at most ROOM_MAX_MLINES) */
    size_t n_ml, cap_ml;
    size_t n_offered; /* m-lines in the outstanding offer */
    int offer_out;    /* an offer waits for its answer */
    int dirty;        /* the layout changed since the last offer */
    int overflow;     /* a published track found no m-line (see n_hidden) */
    size_t n_hidden;  /* published tracks of others not offered (no m-line
                       * left), as of the last offer */
    uint64_t version; /* offer count, for o= */
    uint64_t last_pli_ms[2];
    void *user;
    room_part_t *next;
};

/* A guest waiting in the lobby: not a participant yet (no m-lines). */
struct room_waiter {
    char id[ROOM_MAX_ID + 1]; /* becomes the participant id when admitted */
    char name[ROOM_MAX_NAME + 1];
    char identity[ROOM_MAX_ID + 1];
    int removed_before; /* a host removed this identity earlier */
    void *user;
    room_waiter_t *next;
};

/* A set member: an identity (removed, or promoted to cohost). */
struct room_ident {
    char id[ROOM_MAX_ID + 1];
    room_ident_t *next;
};

struct room {
    char id[ROOM_MAX_ID + 1];
    room_part_t *parts;
    size_t n_parts;
    size_t max_parts; /* room_join refuses more (ROOM_MAX_PARTICIPANTS) */
    int lobby_enabled;
    room_waiter_t *lobby; /* arrival order */
    size_t n_lobby;
    room_ident_t *banned;  /* removed identities: they knock again */
    room_ident_t *cohosts; /* promoted identities, for the room's life */
    uint32_t ssrc_seq;     /* salts subscription SSRCs */
    uint64_t gen;          /* changes (to a value unique in the process) with every change
                            * of who receives what (participants, subscription m-lines,
                            * answers): caches of room_subscribers() hold while it stays */
    void *user;
    void *media; /* the shell's media state for the room (owned by the shell) */
};

typedef enum {
    ROOM_OK = 0,
    ROOM_ERR_FULL,     /* the room has max_parts participants */
    ROOM_ERR_STATE,    /* no offer outstanding */
    ROOM_ERR_MISMATCH, /* the answer does not match the offer */
} room_err_t;

room_t *room_new(const char *id, void *user);
/* Frees the room, every participant and waiter still in it. */
void room_free(room_t *r);

/* Adds a participant with its two publish m-lines and one subscription
 * m-line per track published in the room (up to ROOM_MAX_VISIBLE); marks
 * only the newcomer dirty: nobody else's layout changes until it
 * publishes. Returns NULL if the room is full (room unchanged). */
room_part_t *room_join(room_t *r, const char *id, const char *name, const char *role, void *user);
/* As room_join, recording the participant's identity (may be NULL). */
room_part_t *room_join_as(room_t *r, const char *id, const char *name, const char *role,
                          const char *identity, void *user);
/* Removes p: others' m-lines for its tracks become inactive (those
 * subscribers are dirty); frees p. */
void room_leave(room_t *r, room_part_t *p);

/* p starts (on) or stops publishing kind. Starting binds an m-line of every
 * other participant to it (reusing one confirmed inactive, else a new one;
 * none when it already has ROOM_MAX_MLINES: that track is hidden from it);
 * stopping turns those m-lines inactive. Bound or unbound subscribers
 * become dirty. Returns 1 if something changed. */
int room_publish(room_part_t *p, sdp_kind_t kind, int on);

/* p's SSRCs for kind (from its answer or its first RTP packet). A non-zero
 * ssrc also means p publishes kind (room_publish). Subscriptions are not
 * renegotiated for a new SSRC: they carry the worker's own SSRCs. Returns 1
 * if something changed. */
int room_set_published(room_part_t *p, sdp_kind_t kind, uint32_t ssrc, uint32_t rtx);

/* Starts an offer if p is dirty (or force) and none is outstanding: fills
 * out[0..*n) (borrowing strings from p) and returns 1; else 0. */
int room_offer_begin(room_part_t *p, int force, sdp_offer_mline_t *out, size_t max, size_t *n);

/* The outstanding offer's m-lines again, exactly as room_offer_begin gave
 * them (to send the same offer after a resume). Returns 1, or 0 if no offer
 * is outstanding. */
int room_offer_again(room_part_t *p, sdp_offer_mline_t *out, size_t max, size_t *n);

/* Applies the answer to the outstanding offer. Validates first: on error
 * nothing changes and err says why. Publish m-lines answered sendonly or
 * sendrecv publish (room_publish); inactive, recvonly or rejected ones do
 * not. Hidden tracks get the m-lines this answer confirmed inactive. */
room_err_t room_apply_answer(room_part_t *p, const sdp_answer_t *a, char *err, size_t errlen);

#define ROOM_PT_ANY 0xff
/* Subscribers of (p, kind) that accepted payload type pt (ROOM_PT_ANY: any),
 * into out. None while a host holds p's kind. */
size_t room_subscribers(const room_part_t *p, sdp_kind_t kind, uint8_t pt, room_part_t **out,
                        size_t max);
/* The subscription m-line of sub that sends out_ssrc (as media or RTX), or
 * -1. */
int room_sub_mline_of(const room_part_t *sub, uint32_t ssrc, int *is_rtx);
/* The participant publishing ssrc (as media or RTX) in r, or NULL. */
room_part_t *room_find_ssrc(room_t *r, uint32_t ssrc, sdp_kind_t *kind, int *is_rtx);
/* The kind ssrc is on for publisher p; -1 if p does not publish it. */
int room_part_kind_of(const room_part_t *p, uint32_t ssrc, int *is_rtx);
/* 1 if a PLI to p's kind may go now (at most one per ROOM_PLI_INTERVAL_MS). */
int room_pli_allow(room_part_t *p, sdp_kind_t kind, uint64_t now_ms);

/* ---- moderation ---- */

typedef enum {
    ROOM_ADMIT_ENTER, /* straight into the call */
    ROOM_ADMIT_WAIT,  /* into the lobby */
} room_admit_t;

/* Where someone joining with credential role cred_role ("host"/"guest")
 * and identity (may be "" or NULL) goes, and the role they get (into role,
 * size rolelen). A removed identity always waits (even with the lobby off,
 * even with a host credential) and is a guest when admitted; a host
 * credential or a promoted identity enters; a guest waits while the lobby
 * is on. *removed_before says whether the identity was removed. */
room_admit_t room_admission(const room_t *r, const char *cred_role, const char *identity,
                            char *role, size_t rolelen, int *removed_before);

/* 1 if p may use host actions (host or cohost). */
int room_part_privileged(const room_part_t *p);

typedef enum {
    ROOM_ACT_ADMIT,
    ROOM_ACT_DENY,
    ROOM_ACT_ADMIT_ALL,
    ROOM_ACT_SET_LOBBY,
    ROOM_ACT_MUTE,
    ROOM_ACT_ASK_UNMUTE,
    ROOM_ACT_REMOVE,
    ROOM_ACT_PROMOTE,
    ROOM_ACT_END,
    ROOM_ACT_NONE, /* not a host action */
} room_act_t;

/* "admit" -> ROOM_ACT_ADMIT, ...; ROOM_ACT_NONE for other types. */
room_act_t room_act_parse(const char *type);

typedef enum {
    ROOM_MOD_OK = 0,
    ROOM_MOD_FORBIDDEN, /* the sender is not a host/cohost (or not in the call) */
    ROOM_MOD_NOT_FOUND, /* the target is not in the sender's room */
} room_mod_t;

/* Checks a host action by sender (NULL: a session waiting in the lobby) in
 * r against target (a participant or waiter id, NULL for actions without
 * one). Targets are looked up in r only: admit/deny in the lobby,
 * mute/ask_unmute/promote among participants, remove in either. On
 * ROOM_MOD_OK *part or *waiter (either may be NULL to not ask) is the
 * target found. */
room_mod_t room_mod_check(room_t *r, const room_part_t *sender, room_act_t act, const char *target,
                          room_part_t **part, room_waiter_t **waiter);

/* The participant with id in r, or NULL. */
room_part_t *room_find_part(room_t *r, const char *id);

/* Adds a waiter at the end of the lobby. */
room_waiter_t *room_lobby_add(room_t *r, const char *id, const char *name, const char *identity,
                              int removed_before, void *user);
/* The waiter with id in r's lobby, or NULL. */
room_waiter_t *room_lobby_find(room_t *r, const char *id);
/* Unlinks and frees w. */
void room_lobby_remove(room_t *r, room_waiter_t *w);
/* 1 if nobody is in the call and nobody waits. */
int room_empty(const room_t *r);

/* Removes identity from the call for good: later joins with it wait in the
 * lobby and it loses any cohost promotion. No-op for "" or NULL. */
void room_ban(room_t *r, const char *identity);
int room_is_banned(const room_t *r, const char *identity);
/* Makes p a cohost (a host stays host) and remembers its identity. */
void room_promote(room_part_t *p);
int room_is_cohost(const room_t *r, const char *identity);

/* A host muted p's kind: it is off and not forwarded. */
void room_hold(room_part_t *p, sdp_kind_t kind);
/* The participant's own media_state: a held kind turned on is released.
 * Returns the kinds released as a bit mask (1 << kind). */
unsigned room_media_state(room_part_t *p, int audio, int video);

#endif
