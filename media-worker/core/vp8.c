#include "media-worker/core/vp8.h"

#include <string.h>

vp8_err_t vp8_parse(const uint8_t *p, size_t len, vp8_desc_t *out)
{
    vp8_desc_t d;
    memset(&d, 0, sizeof(d));
    if (len < 1)
        return VP8_ERR_SHORT;
    size_t o = 1;
    d.start = (p[0] >> 4) & 1;
    d.pid = p[0] & 0x07;
    if (p[0] & 0x80) { /* X */
        if (len < 2)
            return VP8_ERR_SHORT;
        uint8_t x = p[1];
        o = 2;
        if (x & 0x80) { /* I */
            if (len < o + 1)
                return VP8_ERR_SHORT;
            d.has_picid = 1;
            d.picid_off = o;
            if (p[o] & 0x80) {
                if (len < o + 2)
                    return VP8_ERR_SHORT;
                d.picid_15 = 1;
                d.picid = (uint16_t)(((p[o] & 0x7f) << 8) | p[o + 1]);
                o += 2;
            } else {
                d.picid = p[o] & 0x7f;
                o += 1;
            }
        }
        if (x & 0x40) { /* L */
            if (len < o + 1)
                return VP8_ERR_SHORT;
            d.has_tl0 = 1;
            d.tl0_off = o;
            d.tl0picidx = p[o++];
        }
        if (x & 0x30) { /* T or K share one octet */
            if (len < o + 1)
                return VP8_ERR_SHORT;
            d.has_tid = (x >> 5) & 1;
            d.has_keyidx = (x >> 4) & 1;
            d.tid = p[o] >> 6;
            d.layer_sync = (p[o] >> 5) & 1;
            d.keyidx = p[o] & 0x1f;
            o++;
        }
    }
    d.hdr_len = o;
    /* RFC 7741 4.3: the P bit of the first payload octet is 0 on key frames
     * (only meaningful at the start of partition 0). */
    if (d.start && d.pid == 0 && len > o && !(p[o] & 0x01)) {
        d.keyframe = 1;
        /* RFC 6386 9.1: 3-byte frame tag, start code 9d 01 2a, 14-bit sizes. */
        if (len >= o + 10 && p[o + 3] == 0x9d && p[o + 4] == 0x01 && p[o + 5] == 0x2a) {
            d.width = (uint16_t)((p[o + 6] | (p[o + 7] << 8)) & 0x3fff);
            d.height = (uint16_t)((p[o + 8] | (p[o + 9] << 8)) & 0x3fff);
        }
    }
    *out = d;
    return VP8_OK;
}

void vp8_rewrite(uint8_t *p, const vp8_desc_t *d, uint16_t picid, uint8_t tl0picidx)
{
    if (d->has_picid) {
        if (d->picid_15) {
            p[d->picid_off] = (uint8_t)(0x80 | ((picid >> 8) & 0x7f));
            p[d->picid_off + 1] = (uint8_t)picid;
        } else {
            p[d->picid_off] = (uint8_t)(picid & 0x7f);
        }
    }
    if (d->has_tl0)
        p[d->tl0_off] = tl0picidx;
}
