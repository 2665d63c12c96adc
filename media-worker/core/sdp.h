/* sdp: the worker's SDP offer (unified plan, BUNDLE, rtcp-mux, fixed payload
 * types shared by every participant) and a bounded, line-based parser for the
 * browser's answer. Not negotiation state: room.c decides the m-lines. */
#ifndef MW_SDP_H
#define MW_SDP_H

#include <stddef.h>
#include <stdint.h>

/* Payload types every participant uses, so forwarding never rewrites them. */
#define SDP_PT_OPUS 111
#define SDP_PT_VP8 96
#define SDP_PT_VP8_RTX 97
#define SDP_PT_H264 102
#define SDP_PT_H264_RTX 103

/* RTP header extension ids the worker offers (RFC 8285); the same ids on
 * every m-line of the BUNDLE group. Browsers keep the offerer's ids. */
#define SDP_EXT_AUDIO_LEVEL 1 /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
#define SDP_EXT_TWCC 3        /* draft-holmer-rmcat-transport-wide-cc-extensions-01 */
#define SDP_EXT_MID 4         /* urn:ietf:params:rtp-hdrext:sdes:mid */
#define SDP_EXT_RID 10        /* urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id */
#define SDP_EXT_RRID 11       /* urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id */

/* Simulcast layers the worker asks publishers for (RFC 8853), lowest first:
 * the rid order of a=simulcast is the layer index. */
#define SDP_MAX_RIDS 3
#define SDP_MAX_RID 16
extern const char *const sdp_rids[SDP_MAX_RIDS];

/* Data channels (RFC 8841): one m=application section, mid SDP_APP_MID,
 * placed after the first SDP_APP_INDEX media m-lines (the publish slots),
 * so media m-lines keep mid == their index and order stays stable as
 * subscriptions are appended. */
#define SDP_APP_MID "dc"
#define SDP_APP_INDEX 2
#define SDP_SCTP_PORT 5000
#define SDP_MAX_MESSAGE_SIZE 262144

/* Media m-lines an answer may have: room.h's ROOM_MAX_MLINES fits. */
#define SDP_MAX_MLINES 64
#define SDP_MAX_SSRCS 8
#define SDP_MAX_CANDIDATES 16
#define SDP_MAX_CANDIDATE 512
#define SDP_MAX_MID 32
#define SDP_MAX_ICE 256
#define SDP_MAX_FP 160

typedef enum { SDP_KIND_AUDIO = 0, SDP_KIND_VIDEO = 1, SDP_KIND_OTHER = 2 } sdp_kind_t;

typedef enum {
    SDP_DIR_NONE = 0, /* not given */
    SDP_DIR_SENDRECV,
    SDP_DIR_SENDONLY,
    SDP_DIR_RECVONLY,
    SDP_DIR_INACTIVE,
} sdp_dir_t;

typedef enum {
    SDP_SETUP_NONE = 0,
    SDP_SETUP_ACTIVE,
    SDP_SETUP_PASSIVE,
    SDP_SETUP_ACTPASS,
} sdp_setup_t;

/* One m-line of the offer. */
typedef struct {
    sdp_kind_t kind;
    sdp_dir_t dir;
    const char *msid_stream; /* sendonly: the publishing participant's id */
    const char *msid_track;  /* sendonly: its track id */
    uint32_t ssrc, rtx_ssrc; /* 0: unknown (no ssrc lines) */
    int simulcast; /* recvonly video: ask for SDP_MAX_RIDS layers (a=rid, a=simulcast:recv) */
} sdp_offer_mline_t;

typedef struct {
    uint64_t session_id, version;
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint;       /* sha-256, "AB:CD:..." */
    const char *const *candidates; /* "candidate:..." without "a=", in the first m-line */
    size_t n_candidates;
    const sdp_offer_mline_t *mlines;
    size_t n_mlines;
    int datachannel; /* 1: add the m=application section (SDP_APP_MID) */
} sdp_offer_t;

/* Writes the offer with CRLF line ends and a NUL into buf: ICE and DTLS
 * attributes once at session level, candidates once in the first m-line
 * (everything is BUNDLEd). Returns 0 and *len, or -1 if it does not fit in
 * cap or the input is invalid. */
int sdp_build_offer(const sdp_offer_t *o, char *buf, size_t cap, size_t *len);

/* One m-line of an answer. */
typedef struct {
    sdp_kind_t kind;
    char mid[SDP_MAX_MID];
    int rejected; /* port 0 */
    sdp_dir_t dir;
    uint8_t pts[16]; /* bitmap of payload types in the m= line */
    uint32_t ssrcs[SDP_MAX_SSRCS];
    size_t n_ssrcs;
    uint32_t fid_ssrc, fid_rtx; /* a=ssrc-group:FID, 0 if none */
    /* a=extmap ids the answer kept (0: not negotiated) */
    uint8_t ext_audio_level, ext_twcc, ext_mid, ext_rid, ext_rrid;
    /* a=rid:<id> send lines, in order (simulcast publishers) */
    char rids[SDP_MAX_RIDS][SDP_MAX_RID];
    size_t n_rids;
} sdp_answer_mline_t;

typedef struct {
    char ice_ufrag[SDP_MAX_ICE], ice_pwd[SDP_MAX_ICE];
    char fp_alg[16], fp[SDP_MAX_FP];
    sdp_setup_t setup;
    sdp_answer_mline_t mlines[SDP_MAX_MLINES];
    size_t n_mlines;
    char candidates[SDP_MAX_CANDIDATES][SDP_MAX_CANDIDATE];
    size_t n_candidates;
    /* The m=application section, kept apart from mlines[] (which mirror
     * the offer's media m-lines one to one). */
    struct {
        int present;  /* the answer has one */
        int accepted; /* port != 0, UDP/DTLS/SCTP (or TCP/...) webrtc-datachannel */
        char mid[SDP_MAX_MID];
        uint16_t sctp_port;        /* a=sctp-port, SDP_SCTP_PORT if absent */
        uint32_t max_message_size; /* a=max-message-size, 65536 if absent (RFC 8841 6) */
    } app;
} sdp_answer_t;

/* Parses an answer (len bytes, need not be NUL-terminated). Session-level
 * ice/fingerprint/setup apply to all m-lines; the first media-level value
 * wins otherwise. Returns 0, or -1 with err saying what is wrong. */
int sdp_parse_answer(const char *sdp, size_t len, sdp_answer_t *out, char *err, size_t errlen);

/* 1 if payload type pt is in the m-line's format list. */
static inline int sdp_mline_has_pt(const sdp_answer_mline_t *m, uint8_t pt)
{
    return pt < 128 && (m->pts[pt >> 3] >> (pt & 7)) & 1;
}

/* The publisher SSRCs of an answer m-line: FID group if any, else the first
 * a=ssrc. Returns 0 if none. */
uint32_t sdp_mline_media_ssrc(const sdp_answer_mline_t *m, uint32_t *rtx);

#endif
