/* h264: keyframe detection in H.264 RTP payloads (RFC 6184: single NAL,
 * STAP-A, FU-A). Not a depacketizer. */
#ifndef MW_H264_H
#define MW_H264_H

#include <stddef.h>
#include <stdint.h>

/* 1 if the payload starts a key frame (an IDR slice or an SPS, alone, in a
 * STAP-A or at the start of an FU-A), else 0. Never reads beyond len. */
int h264_is_keyframe(const uint8_t *payload, size_t len);

#endif
