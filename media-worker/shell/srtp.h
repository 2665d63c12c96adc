/* srtp: one peer's SRTP/SRTCP session pair (libsrtp2): inbound keyed with the
 * remote's DTLS-exported keys, outbound with ours. Not key agreement (dtls.c). */
#ifndef MW_SRTP_H
#define MW_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* Longest master key + salt of any supported profile. */
#define MW_SRTP_MAX_KEY_SALT 30
/* Room a caller must leave after a packet for mw_srtp_protect_*: the SRTP
 * tag and MKI, plus the SRTCP index (libsrtp2 writes SRTP_MAX_TRAILER_LEN+4). */
#define MW_SRTP_TRAILER_ROOM 64

typedef enum {
    MW_SRTP_AES128_CM_SHA1_80, /* RFC 5764: key 16, salt 14 */
    MW_SRTP_AEAD_AES_128_GCM,  /* RFC 7714: key 16, salt 12 */
} mw_srtp_profile_t;

/* Master key || master salt for each direction, as libsrtp2 expects them. */
typedef struct {
    mw_srtp_profile_t profile;
    size_t len; /* key + salt bytes in local and remote */
    uint8_t local[MW_SRTP_MAX_KEY_SALT];
    uint8_t remote[MW_SRTP_MAX_KEY_SALT];
} mw_srtp_keys_t;

/* SRTP and SRTCP (AES-CM-128/HMAC-SHA1-80, RFC 3711, and AEAD_AES_128_GCM,
 * RFC 7714) done here with OpenSSL instead of libsrtp2, whose Debian build
 * goes through NSS with locks per packet and about 45 kB of key state per
 * peer. libsrtp2 sessions are made only when a native SSRC table is full,
 * or for every peer with mw_srtp_set_native(0). Opaque, see srtp.c. */
typedef struct mw_srtp_fast mw_srtp_fast_t;

typedef struct {
    int ready;               /* mw_srtp_init succeeded */
    void *in;                /* srtp_t for unprotect, or NULL (made on demand) */
    void *out;               /* srtp_t for protect, or NULL (made on demand) */
    mw_srtp_fast_t *fast;    /* native protect (RTP, RTCP), or NULL */
    mw_srtp_fast_t *fast_in; /* native unprotect (RTP, RTCP), or NULL */
    mw_srtp_keys_t keys;     /* for the on-demand libsrtp2 sessions */
} mw_srtp_t;

/* Prefetches what protecting the next packet touches (no effect on any
 * result): stage 0 the native sender state, stage 1 (once that is in
 * cache) its SSRC table and cipher context. (The key schedule behind that
 * context is the provider's, out of reach.) */
void mw_srtp_prefetch(const mw_srtp_t *s, int stage);

/* srtp_init() once per process (thread-safe). Returns 0 or -1. */
int mw_srtp_global_init(void);
/* True if this libsrtp2 build supports AES-GCM (it needs an OpenSSL backend). */
int mw_srtp_gcm_supported(void);
/* 0: mw_srtp_gcm_supported() says no from now on, so DTLS identities made
 * afterwards offer only AES-CM-128/HMAC-SHA1-80 (benchmarks: one profile per
 * run). Default 1. */
void mw_srtp_set_gcm_allowed(int on);
/* Key length + salt length of a profile. */
size_t mw_srtp_key_salt_len(mw_srtp_profile_t profile);

/* Creates both sessions; replay window 1024, repeated sends allowed (we
 * forward retransmissions). On failure s is left zeroed. Returns 0 or -1. */
int mw_srtp_init(mw_srtp_t *s, const mw_srtp_keys_t *keys);
/* Turns the native outbound transform off (1) or on (0) for sessions made
 * afterwards; for comparisons in benchmarks. */
void mw_srtp_set_native(int on);

/* Frees both sessions; safe on a zeroed or already finished s. */
void mw_srtp_fini(mw_srtp_t *s);
static inline int mw_srtp_ready(const mw_srtp_t *s)
{
    return s->ready;
}

/* In place. *len is the packet length in, the protected length out; buf must
 * have room for *len + MW_SRTP_TRAILER_ROOM bytes. Returns 0 or -1. */
int mw_srtp_protect_rtp(mw_srtp_t *s, uint8_t *buf, size_t *len);
int mw_srtp_protect_rtcp(mw_srtp_t *s, uint8_t *buf, size_t *len);
/* As mw_srtp_protect_rtp, but with AES-CM + HMAC-SHA1 the tag may be left
 * pending until the next deferred protect on this thread, which computes
 * both tags at once (two SHA-1 streams interleaved, hmac_sha1.h), or
 * until mw_srtp_tags_finish(). *len already counts the tag. buf must stay
 * untouched and alive until then: call mw_srtp_tags_finish() before
 * sending, reusing or freeing it. */
int mw_srtp_protect_rtp_defer(mw_srtp_t *s, uint8_t *buf, size_t *len);
/* Writes the pending tag, if any. */
void mw_srtp_tags_finish(void);
/* In place; on success *len is the plain length. Returns 0 or -1 (auth
 * failure, replay, malformed). */
int mw_srtp_unprotect_rtp(mw_srtp_t *s, uint8_t *buf, size_t *len);
int mw_srtp_unprotect_rtcp(mw_srtp_t *s, uint8_t *buf, size_t *len);

#endif
