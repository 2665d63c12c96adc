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

#include "media-worker/core/audiolevel.h"
#include "media-worker/core/bwe.h"
#include "media-worker/core/chat.h"
#include "media-worker/core/nack.h"
#include "media-worker/core/pktcache.h"
#include "media-worker/core/rewrite.h"
#include "media-worker/core/rtcp.h"
#include "media-worker/core/room.h"
#include "media-worker/core/rtp.h"
#include "media-worker/core/simulcast.h"
#include "media-worker/core/twcc.h"
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

/* One received video layer of a publisher: a simulcast rid, or the only
 * layer of a publisher without rids (aiortc, Firefox-like). */
typedef struct {
    int used;
    uint32_t ssrc, rtx;
    pktcache_t cache; /* ~1 s, answers subscriber NACKs */
    nack_gen_t nack;  /* upstream NACKs for gaps */
    sc_kf_t kf;       /* coalesced, throttled PLIs */
    rtp_rx_stats_t rx;
    uint64_t bytes, rate_since_us, last_pkt_us;
} mw_layer_t;

/* The publisher half of a session's media (allocated on its first video or
 * transport-wide packet). */
typedef struct {
    mw_layer_t lay[SC_MAX_LAYERS];
    sc_layer_t info[SC_MAX_LAYERS]; /* what the selector sees */
    size_t n_lay;                   /* highest used index + 1 */
    int simulcast;                  /* layers identified by rid */
    sc_dyn_t dyn;
    uint8_t told_active; /* last layers{} mask sent, 0xff: none yet */
    twcc_rx_t twcc;      /* feedback for the browser's own estimator */
    int twcc_on;
    uint64_t next_twcc_us;
} mw_pub_t;

/* One subscription m-line's outgoing stream: layer choice and rewriting. */
typedef struct {
    uint32_t out_ssrc; /* the binding this state belongs to */
    sc_sub_t sc;
    rw_t rw;
    rw_hist_t *hist; /* video only: what each output seq was, for NACKs */
    uint16_t rtx_seq;
    uint64_t pkts, rtx_sent;
} mw_sub_t;

/* Per room: active speaker. */
typedef struct {
    al_room_t al;
    uint32_t next_id;
} mw_room_media_t;

/* Requested tile sizes that arrive before the m-line's stream exists. */
#define MW_SIZE_DEFAULT_W 1920
#define MW_SIZE_DEFAULT_H 1080

/* One browser session: its participant in a room and its peer. */
/* Who receives a publisher's packets of one kind (media.c): kept, not
 * scanned from the room per packet. */
typedef struct mw_fan {
    uint64_t gen; /* the room's gen it was built at; 0: never built */
    uint8_t pt;   /* the payload type it was built for */
    size_t n, cap;
    struct mw_session **ss; /* receivers' sessions */
    uint8_t *ml;            /* and their m-line indexes */
} mw_fan_t;
_Static_assert(ROOM_MAX_MLINES <= 256, "m-line indexes fit mw_fan_t.ml");

typedef struct mw_session {
    char id[VC_PROTO_MAX_ID + 1];
    mw_worker_t *w;
    room_t *room;
    room_part_t *part;                  /* NULL while in the lobby and once removed */
    room_waiter_t *waiter;              /* non-NULL while waiting in the lobby */
    char identity[VC_PROTO_MAX_ID + 1]; /* the credential's sub */
    char role[16];                      /* the role it has (or will have once admitted) */
    mw_edge_t *edge;                    /* NULL while detached */
    uint64_t detached_at_ms;
    mw_peer_t *peer;
    int gathered, remote_set, connected, dead;
    uint64_t sdp_session_id;
    rtp_rx_stats_t rx[2];
    uint64_t rtp_garbage, rtcp_garbage, unknown_ssrc, fwd_fail;
    /* media quality (media.c, quality.c) */
    mw_pub_t *pub;                  /* what it publishes (video layers, TWCC) */
    mw_fan_t fan[2];                /* per kind: who receives its packets */
    mw_sub_t *sub[ROOM_MAX_MLINES]; /* per subscription m-line */
    bwe_t *bwe;                     /* estimate toward this subscriber */
    uint16_t twseq;                 /* its transport-wide sequence */
    uint32_t al_id;                 /* active-speaker handle, 0: none */
    uint64_t nack_in, nack_answered, nack_missed, nack_unsent, pad_bytes;
    uint64_t sent_bytes, send_bps, rate_since_us; /* media sent to it */
    uint64_t probe_until_us, probe_next_us, probe_backoff_us;
    rtcp_rtt_t rtt; /* round trip: forwarded SRs against its RRs */
    /* data channels and chat (chat.c) */
    struct mw_sctp *sctp; /* the SCTP association, once DTLS is up */
    uint16_t sctp_port;   /* the answer's a=sctp-port; 0: no data channels */
    uint16_t chat_sid;    /* the "chat" channel's stream, if chat_open */
    int chat_open;
    int screen; /* media_state.screen: presenting */
    chat_rate_t chat_rate;
    struct mw_session *next_dead;
    /* Join work: from its join message until media flows, the worker's CPU
     * in its control messages (work_ns) and its peer (on_first_media). */
    int joining;
    uint64_t join_us;
    uint64_t work_ns;
} mw_session_t;

struct mw_worker {
    GMainContext *ctx;
    GMainLoop *loop;
    /* config */
    const char *id, *control_url, *region, *redis_url, *announced_ip;
    char **ice_addresses;
    size_t n_ice_addresses;
    long port_min, port_max, detach_grace_ms, edge_timeout_ms;
    long room_max_parts;    /* room_max_participants */
    long io_uring;          /* 1: flush through io_uring when the kernel allows */
    long udp_gso;           /* 1: UDP GSO for batched sends */
    int regular_nomination; /* ice_nomination = regular */
    long batch_wait_us;     /* send_batch_us */
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
    mw_session_t *dead; /* reaped at the end of the loop turn */
    uint32_t rtcp_ssrc; /* sender SSRC of RTCP the worker originates */
    GSource *media_src; /* the 20 ms media timer (quality.c) */
    uint64_t next_rtcp_ms;
    uint64_t bad_msgs;
    GSource *sctp_src; /* usrsctp timers, while associations exist (chat.c) */
    int64_t sctp_last_us;
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
void mw_session_on_first_media(mw_peer_t *p, uint64_t work_ns, void *user);
/* Bills the thread CPU since t0 (vc_thread_cpu_ns) to the join work of the
 * session control message m names, if that session is still joining. */
void mw_session_bill(mw_worker_t *w, const json_t *m, uint64_t t0);

/* chat.c: data channels (SCTP over the peer's DTLS) and the room chat. */
/* The answer's m=application: remembers the SCTP port (first answer). */
void mw_chat_on_answer(mw_session_t *s, const sdp_answer_t *a);
/* DTLS is up: starts the SCTP association if the answer accepted one. */
void mw_chat_on_connected(mw_session_t *s);
/* mw_peer_callbacks_t.on_app_data; user is the session. */
void mw_chat_on_app_data(mw_peer_t *p, const uint8_t *data, size_t len, void *user);
/* chat{session, text} over the WebSocket (clients without data channels). */
void mw_on_chat(mw_session_t *s, const json_t *m, uint64_t now_ms);
/* Frees the association (before the peer: it may still send an ABORT). */
void mw_chat_session_fini(mw_session_t *s);

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
/* Frees a session's media state (on reap). */
void mw_media_session_free(mw_session_t *s);
/* The subscription state of s's m-line i (created or reset to its binding). */
mw_sub_t *mw_media_sub(mw_session_t *s, size_t i);
/* Sends a PLI for pub's video layer (no throttle: the caller's sc_kf is). */
void mw_media_pli_layer(mw_session_t *pub, int layer);

/* quality.c: timers for layer selection, dynacast, TWCC feedback toward
 * publishers, upstream NACKs, probing and the active speaker. */
void mw_quality_start(mw_worker_t *w);
void mw_quality_stop(mw_worker_t *w);
/* video_size{participant, width, height} from s's UI. */
void mw_on_video_size(mw_session_t *s, const json_t *m);
/* s joined / left its room's call: active-speaker bookkeeping. */
void mw_quality_join(mw_session_t *s);
void mw_quality_leave(mw_session_t *s);
/* Frees r's media state (before room_free). */
void mw_quality_room_free(room_t *r);

#endif
