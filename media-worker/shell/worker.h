/* worker: the media worker's shell state shared by its I/O modules: the GLib
 * loop, the NNG control and edge sockets (ctl.c), sessions and rooms
 * (session.c), and the media glue between peers and the room cores (media.c).
 * Not protocol logic: SDP, RTP/RTCP and room layout live in core/. */
#ifndef MW_WORKER_H
#define MW_WORKER_H

#include <glib.h>
#include <jansson.h>
#include <nng/nng.h>
#include <stdint.h>

#include "media-worker/core/room.h"
#include "media-worker/core/rtp.h"
#include "media-worker/shell/peer.h"
#include "media-worker/shell/registry.h"
#include "proto/proto.h"

#define MW_CLOSE_SHUTDOWN VC_ERR_UNAVAILABLE /* closed{5001} on shutdown */

typedef struct mw_worker mw_worker_t;

/* One edge we push events to (cached per edge_url). */
typedef struct mw_edge {
    char id[VC_PROTO_MAX_ID + 1];
    char url[VC_PROTO_MAX_URL + 1];
    nng_socket sock;
    uint64_t last_seen_ms;
    uint64_t send_drops;
    struct mw_edge *next;
} mw_edge_t;

/* One browser session: its participant in a room and its peer. */
typedef struct mw_session {
    char id[VC_PROTO_MAX_ID + 1];
    mw_worker_t *w;
    room_t *room;
    room_part_t *part; /* NULL while in the lobby and once removed */
    room_waiter_t *waiter; /* non-NULL while waiting in the lobby */
    char identity[VC_PROTO_MAX_ID + 1]; /* the credential's sub */
    char role[16];     /* the role it has (or will have once admitted) */
    mw_edge_t *edge;   /* NULL while detached */
    uint64_t detached_at_ms;
    mw_peer_t *peer;
    int gathered, remote_set, connected, dead;
    uint64_t sdp_session_id;
    json_t *last_offer; /* the outstanding offer message, for resume */
    rtp_rx_stats_t rx[2];
    uint64_t rtp_garbage, rtcp_garbage, unknown_ssrc, fwd_fail;
    struct mw_session *next_dead;
} mw_session_t;

struct mw_worker {
    GMainContext *ctx;
    GMainLoop *loop;
    /* config */
    const char *id, *control_url, *region, *redis_url, *announced_ip;
    char **ice_addresses;
    size_t n_ice_addresses;
    long port_min, port_max, detach_grace_ms, edge_timeout_ms;
    /* I/O */
    nng_socket ctl;
    GSource *ctl_src, *tick_src, *reap_src;
    mw_dtls_identity_t *dtls;
    mw_registry_t *reg;
    mw_peer_callbacks_t peer_cb;
    /* state */
    GHashTable *sessions; /* id -> mw_session_t* */
    GHashTable *rooms;    /* id -> room_t* */
    GHashTable *ended;    /* room id (owned) -> ms a host ended it */
    mw_edge_t *edges;
    mw_session_t *dead;   /* reaped at the end of the loop turn */
    uint32_t rtcp_ssrc;   /* sender SSRC of RTCP the worker originates */
    uint64_t next_rtcp_ms;
    uint64_t bad_msgs;
};

/* ctl.c */
int mw_ctl_start(mw_worker_t *w);
void mw_ctl_stop(mw_worker_t *w);
mw_edge_t *mw_edge_get(mw_worker_t *w, const char *id, const char *url, uint64_t now_ms);
/* Sends msg (borrowed) on e; drops and counts it if the buffer is full. */
void mw_edge_send(mw_edge_t *e, const json_t *msg);
/* deliver{session, msg} to the session's edge; msg is taken. No-op if detached. */
void mw_deliver(mw_session_t *s, json_t *msg);
/* close{session, msg?}; msg (may be NULL) is taken. */
void mw_send_close(mw_session_t *s, json_t *msg);

/* session.c */
void mw_on_join(mw_worker_t *w, const json_t *m, uint64_t now_ms);
void mw_on_answer(mw_session_t *s, const json_t *m, uint64_t now_ms);
void mw_on_candidate(mw_session_t *s, const json_t *m);
void mw_on_media_state(mw_session_t *s, const json_t *m, uint64_t now_ms);
void mw_session_error(mw_session_t *s, vc_err_t code, const char *detail, const char *ref);
json_t *mw_part_json(const room_part_t *p);
json_t *mw_waiter_json(const room_waiter_t *wt);
json_t *mw_lobby_json(const room_t *r);
/* msg (taken) to everyone in r's call but except (may be NULL). */
void mw_room_broadcast(room_t *r, const room_part_t *except, json_t *msg);
/* msg (taken) to every host and cohost in r's call. */
void mw_room_hosts_send(room_t *r, json_t *msg);
/* Moves wt's session from the lobby into the call (frees wt). */
void mw_lobby_admit(room_t *r, room_waiter_t *wt);
/* Sends wt's session away with closed{code, reason} (lobby_denied first
 * when code is VC_ERR_FORBIDDEN); frees wt. */
void mw_lobby_deny(room_t *r, room_waiter_t *wt, int code, const char *reason);
void mw_session_detach(mw_session_t *s, uint64_t now_ms);
/* Takes s out of its room (telling the others) and queues it for reaping.
 * closed (may be NULL) is sent to its edge as close{msg}; taken. */
void mw_session_remove(mw_session_t *s, int notify, json_t *closed);
void mw_session_offer(mw_session_t *s);
void mw_room_renegotiate(room_t *r);
void mw_sessions_tick(mw_worker_t *w, uint64_t now_ms);
void mw_sessions_close_all(mw_worker_t *w);
void mw_sessions_reap(mw_worker_t *w);
json_t *mw_closed_msg(int code, const char *reason);
/* mw_peer_callbacks_t entries; user is the session. */
void mw_session_on_state(mw_peer_t *p, mw_peer_state_t st, void *user);
void mw_session_on_gathered(mw_peer_t *p, void *user);

/* mod.c */
/* admit, deny, admit_all, set_lobby, mute, ask_unmute, remove, promote, end. */
void mw_on_host_action(mw_session_t *s, const json_t *m, const char *type);
/* 0 if a host ended room moments ago (joins to it are refused). */
int mw_worker_accepts(mw_worker_t *w, const char *room);
void mw_mod_tick(mw_worker_t *w, uint64_t now_ms);

/* media.c */
void mw_media_on_rtp(mw_peer_t *p, uint8_t *pkt, size_t len, void *user);
void mw_media_on_rtcp(mw_peer_t *p, uint8_t *pkt, size_t len, void *user);
/* Asks pub for a keyframe on kind (throttled). */
void mw_media_keyframe(mw_session_t *pub, sdp_kind_t kind, uint64_t now_ms);
/* PLI for every live video subscription of s (it just connected or got one). */
void mw_media_subscriber_keyframes(mw_session_t *s, uint64_t now_ms);
/* Receiver reports + REMB to every publisher (every second). */
void mw_media_rtcp_tick(mw_worker_t *w, uint64_t now_ms);

#endif
