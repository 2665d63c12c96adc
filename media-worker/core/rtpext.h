/* rtpext: RFC 8285 RTP header extensions, one-byte (0xBEDE) and two-byte
 * (0x100X) forms: parse into (id, offset, length) elements, write blocks,
 * rewrite values in place. Not a negotiation: callers map ids from the SDP. */
#ifndef MW_RTPEXT_H
#define MW_RTPEXT_H

#include <stddef.h>
#include <stdint.h>

#define RTPEXT_PROFILE_ONE_BYTE 0xBEDE
#define RTPEXT_PROFILE_TWO_BYTE 0x1000 /* low 4 bits: appbits */
#define RTPEXT_MAX_ELEMS 16

typedef struct {
    uint8_t id, len;
    uint16_t off; /* from the start of the extension data */
} rtpext_elem_t;

typedef struct {
    uint8_t two_byte;
    uint8_t n;
    rtpext_elem_t e[RTPEXT_MAX_ELEMS];
} rtpext_list_t;

typedef enum {
    RTPEXT_OK = 0,
    RTPEXT_ERR_PROFILE,  /* neither one-byte nor two-byte profile */
    RTPEXT_ERR_SHORT,    /* an element runs past the data */
    RTPEXT_ERR_TOO_MANY, /* more than RTPEXT_MAX_ELEMS elements */
    RTPEXT_ERR_ARG,      /* writer: id or length not representable */
} rtpext_err_t;

/* Parses the extension data (data/len: after the 4-byte extension header, as
 * located by rtp_parse in ext_off/ext_len) of profile. Writes *out only on
 * success. Never reads beyond len. */
rtpext_err_t rtpext_parse(uint16_t profile, const uint8_t *data, size_t len, rtpext_list_t *out);
const char *rtpext_err_str(rtpext_err_t e);

/* The element with id, or NULL; *len gets its length. */
const rtpext_elem_t *rtpext_find(const rtpext_list_t *l, uint8_t id);

/* Convenience over a whole RTP packet: finds id in pkt (already parsed by
 * rtp_parse into ext fields). Returns a pointer into pkt, or NULL. */
const uint8_t *rtpext_get(const uint8_t *pkt, uint16_t profile, size_t ext_off, size_t ext_len,
                          uint8_t id, size_t *len);

typedef struct {
    uint8_t id, len;
    const uint8_t *data;
} rtpext_item_t;

/* Writes a complete extension block (4-byte header: profile + length in
 * words, then the elements, zero-padded to 32 bits) into buf. Uses the
 * one-byte form when every id is 1..14 and every length 1..16, else the
 * two-byte form (RFC 8285 4.3). Returns the length, 0 if it does not fit or
 * an item is not representable. */
size_t rtpext_write(uint8_t *buf, size_t cap, const rtpext_item_t *items, size_t n);

/* Overwrites the value of extension id in pkt with val (same length). Returns
 * 0, or -1 if the packet has no such element of that length. */
int rtpext_set(uint8_t *pkt, uint16_t profile, size_t ext_off, size_t ext_len, uint8_t id,
               const uint8_t *val, size_t len);

/* Value helpers for the extensions the worker reads. */
static inline uint16_t rtpext_twcc_seq(const uint8_t *v)
{
    return (uint16_t)((v[0] << 8) | v[1]);
}
/* RFC 6464 3: V bit and level in -dBov (0 loudest, 127 silence). */
static inline void rtpext_audio_level(const uint8_t *v, uint8_t *level, int *voice)
{
    *level = v[0] & 0x7f;
    *voice = v[0] >> 7;
}

#endif
