/* vp8: the VP8 RTP payload descriptor (RFC 7741 4.2): parse, keyframe and
 * resolution detection, in-place rewrite of picture id and TL0PICIDX. Not a
 * depacketizer: no frame assembly. */
#ifndef MW_VP8_H
#define MW_VP8_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t start;               /* S: first packet of a partition */
    uint8_t pid;                 /* partition index */
    uint8_t has_picid, picid_15; /* M: 15-bit picture id */
    uint16_t picid;
    uint8_t has_tl0;
    uint8_t tl0picidx;
    uint8_t has_tid, has_keyidx;
    uint8_t tid, layer_sync, keyidx;
    uint8_t keyframe;          /* first packet of a key frame */
    uint16_t width, height;    /* from a key frame's header, else 0 */
    size_t hdr_len;            /* descriptor length; the VP8 payload starts here */
    size_t picid_off, tl0_off; /* offsets inside the descriptor */
} vp8_desc_t;

typedef enum { VP8_OK = 0, VP8_ERR_SHORT } vp8_err_t;

/* Parses the descriptor at the start of an RTP payload. Writes *out only on
 * success. Never reads beyond len. */
vp8_err_t vp8_parse(const uint8_t *payload, size_t len, vp8_desc_t *out);

/* Writes picture id (modulo the field's width) and TL0PICIDX in place into
 * a payload whose descriptor d was parsed from; fields the descriptor lacks
 * are left alone. */
void vp8_rewrite(uint8_t *payload, const vp8_desc_t *d, uint16_t picid, uint8_t tl0picidx);

#endif
