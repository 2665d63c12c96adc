/* lg_run: vc-loadgen's run state (options, participants, rooms), shared by the
 * scenario driver (loadgen.c) and the Janus VideoRoom side (lg_janus.c).
 * Private to vc-loadgen, not an API; the WebSocket and SDP helpers are lg.h. */
#ifndef LG_RUN_H
#define LG_RUN_H

#include <glib.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "media-worker/shell/peer.h"
#include "tools/loadgen/lg.h"

#define LG_MAX_STREAMS 64
#define LG_HIST_FINE 2000   /* 1 us buckets up to 2 ms */
#define LG_HIST_COARSE 1000 /* then 100 us buckets up to 102 ms */
#define LG_TXR (1u << 18)   /* send stamps kept by probe number */
#define LG_FRAMEQ 16        /* video frames waiting for the pacer */
#define LG_MAX_LAYERS 3     /* simulcast: q, h, f */
#define LG_TOP_W 1280       /* the (top) layer's size */
#define LG_TOP_H 720
#define LG_FB_SLICES 20 /* receiver feedback: a twentieth of them every 50 ms */
/* The media clock's shortest sleep (--tick-us): about a NIC's interrupt
 * moderation, which gathers a server's arrivals as finely. */
#define LG_TICK_US 50
#define LG_RX_POLL_US 250    /* --rx-poll's unit */
#define LG_TICK_IDLE_US 1000 /* the media clock's longest sleep */

typedef struct {
    uint64_t b[LG_HIST_FINE + LG_HIST_COARSE + 1];
    uint64_t n;
} lg_hist_t;

typedef struct lg lg_t;

typedef struct {
    uint32_t ssrc, clock;
    int started;
    uint16_t max_seq;
    uint32_t cycles;
    uint32_t win_base; /* ext seq at window start */
    int win_base_set;
    uint64_t win_recv;
    int64_t transit;
    double jitter; /* timestamp units */
    uint64_t n_rx;
} lg_stream_t;

/* One video layer a publisher sends (one, or three with --simulcast):
 * its stream, VP8 picture numbering, key frame requests and pacer. */
typedef struct {
    uint32_t ssrc;
    uint16_t seq, picid;
    uint8_t tl0picidx;
    uint16_t width, height;
    int kbps;
    int active;           /* sent; dynacast ("layers") may pause it */
    int rid_acked;        /* a receiver report covered it: no rid extension */
    int kf_wanted;        /* PLI / FIR: a key frame is owed */
    uint64_t kf_last_ns;  /* when the last key frame was captured */
    uint64_t kf_requests; /* PLI / FIR entries for it */
    uint64_t key_frames;
    /* The pacer (as libwebrtc's: frames leave at pacing x the bitrate, not
     * as one burst): packets per queued frame, their RTP timestamps, key
     * or not, the next packet's index in the head frame, when it may leave. */
    uint16_t fq_pkts[LG_FRAMEQ];
    uint32_t fq_ts[LG_FRAMEQ];
    uint8_t fq_key[LG_FRAMEQ];
    uint64_t fq_due[LG_FRAMEQ]; /* when the frame was captured */
    unsigned fq_head, fq_n, fq_pos;
    uint64_t next_pkt_ns;
    uint64_t win_sent; /* RTP packets of this layer sent in the window */
} lg_layer_t;

typedef struct lg_part {
    lg_t *lg;
    int idx, room;
    int sub_idx; /* a subscriber's place in its room (its tile size), -1 */
    char label[32];
    char sid[80]; /* ours: the session id "joined" gave */
    lg_ws_t *ws;
    mw_peer_t *peer;
    int publish;
    uint32_t assrc;
    uint16_t aseq;
    uint32_t ats, vts;
    uint64_t next_audio_ns, next_video_ns, frame;
    lg_layer_t vl[LG_MAX_LAYERS];
    size_t n_vl;
    uint64_t win_audio;   /* audio packets sent in the window */
    int rid_ext, mid_ext; /* the rid and mid extensions' ids (simulcast) */
    int joined, gathered, remote_set, connected, failed;
    lg_offer_t *offer; /* waiting for gathering */
    uint64_t version;
    size_t n_expected;                         /* subscribed streams in the last offer */
    uint64_t win_layer_rx[LG_MAX_LAYERS];      /* a subscriber's probes per layer */
    uint64_t t_open_ns, t_first_ns, t_conn_ns; /* WS open, first media, DTLS done */
    lg_stream_t st[LG_MAX_STREAMS];
    size_t n_st;
    /* Janus: session, handle, our publisher feed id, the room publisher
     * (by order) a meeting subscriber skips (-1: none), control handle. */
    uint64_t jsession, jhandle, jfeed;
    int jskip, jctl, jctl_state;
    /* A join's retries (ours: the service busy, as the UI retries; Janus:
     * a subscriber's feed not live yet) and the timer of the next one. */
    int retries;
    GSource *retry;
} lg_part_t;

typedef struct {
    char id[80];
    char token[1024];
    size_t n_parts;
    uint64_t jroom; /* Janus room number */
} lg_room_t;

struct lg {
    GMainContext *ctx;
    GMainLoop *loop;
    mw_dtls_identity_t *id;
    mw_peer_callbacks_t cb;
    /* options */
    const char *host, *scenario, *ice_ip;
    const char *worker_log; /* ours: the worker's log, its own join work per session */
    int port, subs_per_room, room_size, step, max_subs, start, max_steps, joins;
    double window_s, warmup_s, loss_stop;
    int video_kbps, worker_pid, janus, gcm, ready_ms, decrypt_every, fast_rx;
    int simulcast;        /* publishers send q, h, f; subscribers' tiles cycle over them */
    int tile_layers;      /* how many of them the tiles cycle over (from q up) */
    int rx_poll;          /* drain the fast path every rx_poll x LG_RX_POLL_US, never woken by
                           * arrivals; 0: woken by them */
    int tick_us;          /* the media clock's shortest sleep: packets due within it of a
                           * wake-up wait for the next (0: each leaves when due) */
    int rx_gro;           /* UDP_GRO on the subscribers' sockets: a GSO train stays one
                           * message over loopback (see mw_peer_fast_rx_start) */
    int tfd;              /* the media clock: a one-shot timerfd */
    uint64_t wake_ns;     /* when it last fired */
    uint64_t rx_next_ns;  /* the next drain of the subscribers' sockets */
    guint fb_next;        /* the next participant whose receiver feedback is due */
    uint64_t pub_next_ns; /* when the next publisher's packet is due */
    double pacing;        /* video leaves at pacing x its bitrate; 0: a frame is one burst */
    lg_part_t *jctl;      /* Janus: the handle that creates rooms */
    uint64_t jtx;
    int server_pids[8];
    size_t n_server_pids;
    /* state */
    GPtrArray *parts;
    GArray *rooms;
    size_t pending_joins;
    uint64_t stuck_check_ns; /* when joins were last checked against their deadline */
    int step_no;
    uint64_t sig_last_ns; /* last signaling message seen by anyone */
    uint64_t sent_pkts, sent_bytes;
    uint64_t recv_pkts;    /* media packets every subscriber received */
    uint64_t join_retries; /* joins sent again (lg_join_later) */
    uint64_t max_late_ns;  /* worst publisher schedule lag in the window */
    double last_cpu;       /* the generator's own CPU fraction in the last step */
    /* Latency the target added: from the kernel's send stamp of the
     * publisher's packet (lat), and from the generator's clock read before
     * its SRTP and send (lat_user; what runs before the eleventh session
     * measured). */
    lg_hist_t lat, lat_user;
    /* How late publishers' packets left, after their pacer's or the audio
     * clock's due time: the media clock's own precision. */
    lg_hist_t emit;
    /* The send stamps by probe number: probe id, and the send stamp less
     * the probe's time (ns). */
    struct {
        uint32_t id, delta_ns;
    } * txr;
    uint32_t probe_id;
    uint64_t lat_stamped; /* samples in lat measured from a send stamp */
    uint64_t layer_wrong; /* probes of another layer than the tile's */
    int rc;
};

/* ---- loadgen.c ---- */

/* CLOCK_MONOTONIC in ns: signaling times and the publishers' schedule. */
uint64_t lg_now_ns(void);
/* Marks p failed (once), frees its join slot and logs why. */
void lg_part_fail(lg_part_t *p, const char *why);
/* Sends m on p's WebSocket and takes m; a failed send fails p. */
void lg_send_json(lg_part_t *p, json_t *m);
/* p's transport (libnice on --ice-ip, our DTLS identity); failure fails p. */
void lg_peer_create(lg_part_t *p, int controlled);

/* Sends p's join again after ms (once at a time; counts p->retries and
 * lg->join_retries): ours when the service was busy, Janus's when a feed
 * was not live yet. */
void lg_join_later(lg_part_t *p, unsigned ms);

/* A condition for lg_run_until: nonzero when it holds. */
typedef int (*lg_cond_fn)(lg_t *lg, void *arg);
/* Runs the loop for ms or until cond holds: 1 held, 0 timed out, -1 stopped. */
int lg_run_until(lg_t *lg, lg_cond_fn cond, void *arg, uint64_t ms);

/* ---- lg_media.c ---- */

/* The media clock's timerfd fired: publishers send what is due, and every
 * --rx-poll x 250 us the subscribers' sockets are drained; then it is armed
 * again for what comes next. data: the lg_t. */
gboolean lg_on_media_tick(gint fd, GIOCondition cond, gpointer data);
/* Arms the media clock for the next packet due or drain, whichever comes
 * first, but not within --tick-us of the last wake-up (nor further than
 * LG_TICK_IDLE_US away, for publishers that connect meanwhile). */
void lg_media_arm(lg_t *lg);
/* GLib timeout every 1000 / LG_FB_SLICES ms (simulcast runs): the next
 * slice of subscribers sends an RR and a REMB. */
gboolean lg_feedback_tick(gpointer data);
/* Peer callbacks (user: the lg_part_t): loss and jitter from the clear
 * header (peek: whether to decrypt), the probe of a decrypted packet, and
 * a publisher's RTCP (rid acknowledged, PLI / FIR). */
int lg_on_srtp_peek(mw_peer_t *peer, const uint8_t *pkt, size_t len, void *user);
void lg_on_rtp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user);
void lg_on_rtcp(mw_peer_t *peer, uint8_t *pkt, size_t len, void *user);
/* A latency histogram's q-quantile in µs. */
double lg_hist_pct(const lg_hist_t *h, double q);
/* The simulcast layer p's tiles show (its place in the room, cycling q, h,
 * f, in a meeting q, h; Janus: the substream it asks for); 0 without
 * simulcast. */
int lg_want_layer(const lg_t *lg, const lg_part_t *p);

/* ---- lg_janus.c ---- */

/* Opens p's Janus WebSocket and creates its session. Returns 0 or -1. */
int lg_janus_open(lg_part_t *p);
/* Sends one Janus request with p's session and handle when known; takes m. */
void lg_janus_send(lg_part_t *p, const char *janus, char kind, json_t *m);
/* p's candidates are gathered: a publisher offers, a subscriber answers. */
void lg_janus_gathered(lg_part_t *p);
/* Sends p's videoroom join on its attached handle: a publisher's, or a
 * subscriber's to every live feed of the room but the one it skips. */
void lg_janus_join(lg_part_t *p);
/* Creates a Janus room (and the control handle, once). Returns its number or 0. */
uint64_t lg_janus_room_new(lg_t *lg);
/* lg_cond_fn, arg the room index: no publisher of the room still connecting. */
int lg_janus_pubs_live(lg_t *lg, void *arg);
/* GLib timeout, data the lg_t: keeps every Janus session from timing out. */
gboolean lg_janus_keepalive(gpointer data);

#endif
