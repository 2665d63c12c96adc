/* Fuzzes the VP8 payload descriptor parser and the in-place rewrite. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "media-worker/core/h264.h"
#include "media-worker/core/vp8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vp8_desc_t d, d2;
    (void)h264_is_keyframe(data, size);
    if (vp8_parse(data, size, &d) != VP8_OK)
        return 0;
    if (d.hdr_len > size)
        __builtin_trap();
    uint8_t buf[64];
    size_t n = size < sizeof(buf) ? size : sizeof(buf);
    if (d.hdr_len > n)
        return 0;
    memcpy(buf, data, n);
    vp8_rewrite(buf, &d, 0x1234, 0x56);
    if (vp8_parse(buf, n, &d2) != VP8_OK || d2.hdr_len != d.hdr_len)
        __builtin_trap();
    if (d2.has_picid && d2.picid != (d.picid_15 ? 0x1234 : 0x34))
        __builtin_trap();
    return 0;
}
