/* hmac_sha1: HMAC-SHA1 (RFC 2104) over many independent messages at once,
 * for the SRTP tags of a packet's copies (RFC 3711 4.2). One SHA-1 stream
 * with the CPU's SHA extensions is bound by the latency of its round
 * instruction; two streams interleaved use the unit's throughput instead.
 * Keys are absorbed once (the ipad and opad blocks), so a tag costs the
 * message's blocks plus one. A single tag, and every tag on a CPU without
 * the SHA extensions, goes through OpenSSL's SHA-1. */
#ifndef MW_HMAC_SHA1_H
#define MW_HMAC_SHA1_H

#include <stddef.h>
#include <stdint.h>

/* The SHA-1 states after the key's ipad block and after its opad block. */
typedef struct {
    uint32_t in[5], out[5];
} mw_hmac_sha1_key_t;

/* One tag to compute: HMAC(key, msg[0..len)), its first tag_len bytes
 * (at most 20) written to tag (which may overlap msg's end: it is written
 * after msg was read). */
typedef struct {
    const mw_hmac_sha1_key_t *key;
    const uint8_t *msg;
    size_t len;
    uint8_t *tag;
} mw_hmac_sha1_job_t;

/* Absorbs a key of len bytes (at most 64; SRTP's is 20). */
void mw_hmac_sha1_key(mw_hmac_sha1_key_t *k, const uint8_t *key, size_t len);

/* HMAC of a || b (b may be NULL with blen 0), whole, with OpenSSL's SHA-1:
 * for a single tag, and for one whose message is in two pieces. */
void mw_hmac_sha1_two(const mw_hmac_sha1_key_t *k, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, uint8_t md[20]);

/* Computes n tags of tag_len bytes, two at a time when the CPU allows. */
void mw_hmac_sha1_run(const mw_hmac_sha1_job_t *jobs, size_t n, size_t tag_len);

/* 1 if the interleaved SHA-extensions path is in use; 0 for OpenSSL's.
 * mw_hmac_sha1_force_portable(1) turns it off (tests compare both). */
int mw_hmac_sha1_accelerated(void);
void mw_hmac_sha1_force_portable(int on);

#endif
