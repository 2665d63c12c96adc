/* room: the sans-IO model of one room on a worker: its participants, what
 * each one publishes (SSRCs), each subscriber's m-line layout (allocation,
 * reuse of inactive m-lines), and the offer/answer state (one outstanding
 * offer, dirty flag). Not I/O: the shell sends offers and packets. */
#ifndef MW_ROOM_H
#define MW_ROOM_H

#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/sdp.h"

#define ROOM_MAX_ID 64
#define ROOM_MAX_NAME 64
#define ROOM_PLI_INTERVAL_MS 500
#define ROOM_MAX_MLINES SDP_MAX_MLINES

typedef struct room room_t;
typedef struct room_part room_part_t;

/* One m-line of a participant's PeerConnection. Index 0/1: what it publishes
 * (audio/video, recvonly from the worker); 2..: subscriptions. */
typedef struct {
    sdp_kind_t kind;
    room_part_t *pub;      /* subscription: the publisher, NULL when inactive */
    char track[ROOM_MAX_ID + 3];
    int offered_inactive;  /* the outstanding/last offer had it inactive */
    int answered_inactive; /* an answer confirmed it inactive: reusable */
    int live;              /* an answer accepted it bound to pub */
    uint8_t pts[16];       /* payload types the answer accepted */
} room_mline_t;

struct room_part {
    char id[ROOM_MAX_ID + 1];
    char name[ROOM_MAX_NAME + 1];
    char role[16];
    int audio, video; /* media_state */
    room_t *room;
    uint32_t ssrc[2], rtx[2]; /* what it publishes, per kind; 0: unknown */
    room_mline_t ml[ROOM_MAX_MLINES];
    size_t n_ml;
    size_t n_offered; /* m-lines in the outstanding offer */
    int offer_out;    /* an offer waits for its answer */
    int dirty;        /* the layout changed since the last offer */
    uint64_t version; /* offer count, for o= */
    uint64_t last_pli_ms[2];
    void *user;
    room_part_t *next;
};

struct room {
    char id[ROOM_MAX_ID + 1];
    room_part_t *parts;
    size_t n_parts;
    void *user;
};

typedef enum {
    ROOM_OK = 0,
    ROOM_ERR_FULL,     /* no m-line left for a subscription */
    ROOM_ERR_STATE,    /* no offer outstanding */
    ROOM_ERR_MISMATCH, /* the answer does not match the offer */
} room_err_t;

room_t *room_new(const char *id, void *user);
/* Frees the room and every participant still in it. */
void room_free(room_t *r);

/* Adds a participant and the m-lines it and everyone else need; marks all
 * of them dirty. Returns NULL if the room is full (room unchanged). */
room_part_t *room_join(room_t *r, const char *id, const char *name, const char *role,
                       void *user);
/* Removes p: others' m-lines for it become inactive (dirty); frees p. */
void room_leave(room_t *r, room_part_t *p);

/* What p publishes on kind; subscribers whose offers lack it become dirty.
 * Returns 1 if something changed. */
int room_set_published(room_part_t *p, sdp_kind_t kind, uint32_t ssrc, uint32_t rtx);

/* Starts an offer if p is dirty (or force) and none is outstanding: fills
 * out[0..*n) (borrowing strings from the room) and returns 1; else 0. */
int room_offer_begin(room_part_t *p, int force, sdp_offer_mline_t *out, size_t max, size_t *n);

/* Applies the answer to the outstanding offer. Validates first: on error
 * nothing changes and err says why. */
room_err_t room_apply_answer(room_part_t *p, const sdp_answer_t *a, char *err, size_t errlen);

#define ROOM_PT_ANY 0xff
/* Subscribers of (p, kind) that accepted payload type pt (ROOM_PT_ANY: any),
 * into out. */
size_t room_subscribers(const room_part_t *p, sdp_kind_t kind, uint8_t pt, room_part_t **out,
                        size_t max);
/* The participant publishing ssrc (as media or RTX) in r, or NULL. */
room_part_t *room_find_ssrc(room_t *r, uint32_t ssrc, sdp_kind_t *kind, int *is_rtx);
/* The kind ssrc is on for publisher p; -1 if p does not publish it. */
int room_part_kind_of(const room_part_t *p, uint32_t ssrc, int *is_rtx);
/* 1 if a PLI to p's kind may go now (at most one per ROOM_PLI_INTERVAL_MS). */
int room_pli_allow(room_part_t *p, sdp_kind_t kind, uint64_t now_ms);

#endif
