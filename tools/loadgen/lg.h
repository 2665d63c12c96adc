/* lg: the load generator's shared pieces: a minimal WebSocket client (wslay
 * framing over a plain TCP socket, hand-rolled upgrade), a one-shot HTTP
 * POST, and the SDP side of a participant (parse the server's offer, write
 * the answer). Not a browser and not a general client: just what
 * docs/protocol.md needs, for benchmarks. */
#ifndef LG_H
#define LG_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* ---- WebSocket (lg_ws.c) ---- */

typedef struct lg_ws lg_ws_t;
/* One text message (NUL-terminated copy valid for the call) or, with
 * msg == NULL, the connection closed or failed. */
typedef void (*lg_ws_on_msg)(lg_ws_t *ws, const char *msg, size_t len, void *user);

/* Connects to ws://host:port/path (blocking handshake, then driven by ctx).
 * Returns NULL on failure. */
lg_ws_t *lg_ws_open(GMainContext *ctx, const char *host, int port, const char *path,
                    lg_ws_on_msg cb, void *user);
/* The same with a Sec-WebSocket-Protocol (e.g. "janus-protocol"), or NULL. */
lg_ws_t *lg_ws_open_proto(GMainContext *ctx, const char *host, int port, const char *path,
                          const char *proto, lg_ws_on_msg cb, void *user);
/* Queues and sends one text message. Returns 0 or -1 (closed). */
int lg_ws_send(lg_ws_t *ws, const char *msg, size_t len);
void lg_ws_free(lg_ws_t *ws);
/* Drops the connections' child contexts (after every connection is freed). */
void lg_ws_stop(void);

/* POST path with body to host:port (Connection: close). Returns the
 * response body (g_free) or NULL; *status gets the HTTP status. */
char *lg_http_post(const char *host, int port, const char *path, const char *body, int *status);

/* ---- SDP (lg_sdp.c) ---- */

#define LG_MAX_MLINES 130
#define LG_MAX_CANDS 16

typedef struct {
    int video; /* m=video, else audio (or other, see app) */
    int app;   /* neither audio nor video (m=application): rejected */
    int pt;    /* first payload type on the m= line, -1 if none */
    int dir;   /* LG_DIR_* as offered */
    char mid[16];
    uint32_t ssrc; /* first a=ssrc, 0 if none */
    int rid_ext;   /* a=extmap id of sdes:rtp-stream-id, 0 if none */
    int mid_ext;   /* a=extmap id of sdes:mid, 0 if none */
} lg_mline_t;

#define LG_RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define LG_MID_URI "urn:ietf:params:rtp-hdrext:sdes:mid"
#define LG_RID_EXT 10 /* the ids a Janus publisher offers for them */
#define LG_MID_EXT 4
/* The simulcast layers' rids, lowest first (as the server's a=simulcast). */
extern const char *const lg_rids[3];

enum { LG_DIR_INACTIVE, LG_DIR_SENDONLY, LG_DIR_RECVONLY, LG_DIR_SENDRECV };

typedef struct {
    char ufrag[257], pwd[257], fp[160];
    char setup[16]; /* a=setup value: actpass, active, passive */
    char cands[LG_MAX_CANDS][512];
    size_t n_cands;
    lg_mline_t ml[LG_MAX_MLINES];
    size_t n_ml;
} lg_offer_t;

/* Parses the server's offer. Returns 0 or -1. */
int lg_sdp_parse_offer(const char *sdp, lg_offer_t *out);

typedef struct {
    const char *ufrag, *pwd, *fp; /* ours */
    const char *const *cands;     /* ours, "candidate:..." */
    size_t n_cands;
    uint32_t audio_ssrc, video_ssrc; /* 0: do not publish that kind */
    uint32_t video_rtx_ssrc;
    const char *label; /* cname / msid stream */
    uint64_t version;
    int recv_all;  /* answer every audio/video m-line recvonly (Janus subscriber) */
    int simulcast; /* video sends q, h, f by rid (RFC 8853), no a=ssrc */
} lg_answer_params_t;

/* Writes the answer for offer into a new string (g_free). */
char *lg_sdp_answer(const lg_offer_t *offer, const lg_answer_params_t *a);
/* Writes a publisher's offer (audio mid 0 + video mid 1, sendonly, a=ssrc,
 * a=setup:actpass, our candidates): what a browser sends to Janus. */
char *lg_sdp_offer(const lg_answer_params_t *a);

#endif
