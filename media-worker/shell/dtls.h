/* dtls: DTLS-SRTP key agreement (RFC 5763/5764) over datagrams in memory:
 * datagrams go in through mw_dtls_handle() and come out through a send
 * callback; the caller drives the retransmission timer. Not ICE, not SRTP. */
#ifndef MW_DTLS_H
#define MW_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "media-worker/shell/peer.h"
#include "media-worker/shell/srtp.h"

/* Largest datagram we send (RFC 8261 6.1 / common WebRTC practice: stay
 * below typical path MTUs after IP, UDP and TURN overhead). */
#define MW_DTLS_MTU 1200
#define MW_DTLS_FP_MAX 64 /* SHA-512 */

typedef struct mw_dtls mw_dtls_t;

typedef enum {
    MW_DTLS_HANDSHAKING, /* before or during the handshake */
    MW_DTLS_CONNECTED,   /* handshake done, fingerprint verified, keys exported */
    MW_DTLS_FAILED,      /* fatal alert, timeout, no SRTP profile, fingerprint mismatch */
    MW_DTLS_CLOSED,      /* close_notify received */
} mw_dtls_state_t;

typedef enum {
    MW_DTLS_FP_SHA1,
    MW_DTLS_FP_SHA256,
    MW_DTLS_FP_SHA384,
    MW_DTLS_FP_SHA512,
} mw_dtls_fp_alg_t;

/* An expected certificate fingerprint (RFC 8122 5: a=fingerprint). */
typedef struct {
    mw_dtls_fp_alg_t alg;
    size_t len;
    uint8_t digest[MW_DTLS_FP_MAX];
} mw_dtls_fp_t;

/* Called once per outgoing datagram, from inside mw_dtls_* calls. */
typedef void (*mw_dtls_send_fn)(const uint8_t *dgram, size_t len, void *user);

/* Parses alg ("sha-256", case-insensitive) and "AB:CD:..." (case-insensitive,
 * exactly as many bytes as the algorithm's digest). Returns 0 or -1. */
int mw_dtls_fp_parse(const char *alg, const char *fp, mw_dtls_fp_t *out);

/* One DTLS endpoint. id and the expected fingerprint are borrowed / copied;
 * send(user) gets every outgoing datagram. Never NULL (out of memory aborts,
 * an unusable identity returns NULL). */
mw_dtls_t *mw_dtls_new(mw_dtls_identity_t *id, int is_server, const mw_dtls_fp_t *expect,
                       mw_dtls_send_fn send, void *user);
void mw_dtls_free(mw_dtls_t *d);

/* Starts the handshake: a client sends its ClientHello, a server only waits.
 * Idempotent. Returns the state. */
mw_dtls_state_t mw_dtls_start(mw_dtls_t *d);
/* One received datagram (first byte 20..63). Starts a server implicitly.
 * Application data after the handshake is discarded (counted). */
mw_dtls_state_t mw_dtls_handle(mw_dtls_t *d, const uint8_t *dgram, size_t len);
/* Milliseconds until mw_dtls_handle_timeout() is due, or -1 if no timer runs. */
int mw_dtls_timeout_ms(mw_dtls_t *d);
/* Retransmits the last flight if its timer expired. Returns the state. */
mw_dtls_state_t mw_dtls_handle_timeout(mw_dtls_t *d);
mw_dtls_state_t mw_dtls_state(const mw_dtls_t *d);
/* Why the endpoint failed (for one log line), or "" */
const char *mw_dtls_error(const mw_dtls_t *d);
int mw_dtls_is_server(const mw_dtls_t *d);

/* SRTP keys once CONNECTED (RFC 5764 4.2 split, local = ours). 0 or -1. */
int mw_dtls_srtp_keys(const mw_dtls_t *d, mw_srtp_keys_t *out);
/* Sends close_notify if connected; the endpoint is CLOSED afterwards. */
void mw_dtls_close(mw_dtls_t *d);

/* Decrypted application data (SCTP for data channels, RFC 8261), one record
 * per call, borrowed for the call. Set it before the handshake ends;
 * without one, application data is discarded (counted). */
typedef void (*mw_dtls_app_fn)(const uint8_t *data, size_t len, void *user);
void mw_dtls_set_app_cb(mw_dtls_t *d, mw_dtls_app_fn fn, void *user);
/* Encrypts data as one application data record and sends it through the
 * send callback. Returns 0, or -1 if not connected or it does not fit one
 * record within MW_DTLS_MTU. */
int mw_dtls_write(mw_dtls_t *d, const uint8_t *data, size_t len);

/* Lets connected endpoints give their finished handshake's 16 kB buffer
 * back to the kernel (see dtls.c). Call first thing in main(), before
 * anything uses OpenSSL: returns -1 (and changes nothing) after that. */
int mw_dtls_mem_hooks(void);

#endif
