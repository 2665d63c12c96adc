#include "media-worker/core/h264.h"

enum { H264_IDR = 5, H264_SPS = 7, H264_STAP_A = 24, H264_FU_A = 28 };

static int h264_key_nal(uint8_t type)
{
    return type == H264_IDR || type == H264_SPS;
}

int h264_is_keyframe(const uint8_t *p, size_t len)
{
    if (len < 1)
        return 0;
    uint8_t type = p[0] & 0x1f;
    if (type == H264_STAP_A) { /* RFC 6184 5.7.1: 16-bit size, NAL */
        size_t o = 1;
        while (o + 2 < len) {
            size_t sz = (size_t)((p[o] << 8) | p[o + 1]);
            o += 2;
            if (sz == 0 || sz > len - o)
                return 0;
            if (h264_key_nal(p[o] & 0x1f))
                return 1;
            o += sz;
        }
        return 0;
    }
    if (type == H264_FU_A) { /* RFC 6184 5.8: S bit, original type */
        if (len < 2)
            return 0;
        return (p[1] & 0x80) && h264_key_nal(p[1] & 0x1f);
    }
    return h264_key_nal(type);
}
