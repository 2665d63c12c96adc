/* Unit tests for media-worker/core/sdp.c: the worker's offer carries what
 * browsers need; real Chrome, Firefox and aiortc answers parse; malformed
 * answers fail with an error instead of crashing. */
#include <stdlib.h>

#include "media-worker/core/sdp.h"
#include "tests/unit/vctest.h"

/* Answers to the 4 m-line offer of t_offer (mids 0..3: audio, video
 * publish; audio, video subscription), as the clients produced them. */
static const char sdp_chrome[] =
    "v=0\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0 1 2 3\n"
    "a=extmap-allow-mixed\n"
    "a=msid-semantic: WMS 5b3d3d1c-3bd5-4a1f-9d51-7c1b2f0a6e11\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 0.0.0.0\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=ice-ufrag:Hj3K\n"
    "a=ice-pwd:kQ8mDdP7y4nF1ycAWnvA0hsE\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 "
    "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"
    "08\n"
    "a=setup:active\n"
    "a=mid:0\n"
    "a=sendonly\n"
    "a=msid:5b3d3d1c-3bd5-4a1f-9d51-7c1b2f0a6e11 0c8b8b9e-5d0a-4bde-a5d4-7b3b1bd0d7a2\n"
    "a=rtcp-mux\n"
    "a=rtcp-rsize\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\n"
    "a=ssrc:3722921553 cname:hK2Wf1Qm7dNnS0x9\n"
    "a=ssrc:3722921553 msid:5b3d3d1c-3bd5-4a1f-9d51-7c1b2f0a6e11 "
    "0c8b8b9e-5d0a-4bde-a5d4-7b3b1bd0d7a2\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\n"
    "c=IN IP4 0.0.0.0\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=ice-ufrag:Hj3K\n"
    "a=ice-pwd:kQ8mDdP7y4nF1ycAWnvA0hsE\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 "
    "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"
    "08\n"
    "a=setup:active\n"
    "a=mid:1\n"
    "a=sendonly\n"
    "a=msid:5b3d3d1c-3bd5-4a1f-9d51-7c1b2f0a6e11 f2f6f0b1-9c55-4c4b-8f58-2d3b7a1c9e40\n"
    "a=rtcp-mux\n"
    "a=rtcp-rsize\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtcp-fb:96 goog-remb\n"
    "a=rtcp-fb:96 ccm fir\n"
    "a=rtcp-fb:96 nack\n"
    "a=rtcp-fb:96 nack pli\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=fmtp:97 apt=96\n"
    "a=rtpmap:102 H264/90000\n"
    "a=rtcp-fb:102 goog-remb\n"
    "a=rtcp-fb:102 ccm fir\n"
    "a=rtcp-fb:102 nack\n"
    "a=rtcp-fb:102 nack pli\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\n"
    "a=rtpmap:103 rtx/90000\n"
    "a=fmtp:103 apt=102\n"
    "a=ssrc-group:FID 1283756203 2219861097\n"
    "a=ssrc:1283756203 cname:hK2Wf1Qm7dNnS0x9\n"
    "a=ssrc:1283756203 msid:5b3d3d1c-3bd5-4a1f-9d51-7c1b2f0a6e11 "
    "f2f6f0b1-9c55-4c4b-8f58-2d3b7a1c9e40\n"
    "a=ssrc:2219861097 cname:hK2Wf1Qm7dNnS0x9\n"
    "a=ssrc:2219861097 msid:5b3d3d1c-3bd5-4a1f-9d51-7c1b2f0a6e11 "
    "f2f6f0b1-9c55-4c4b-8f58-2d3b7a1c9e40\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 0.0.0.0\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=ice-ufrag:Hj3K\n"
    "a=ice-pwd:kQ8mDdP7y4nF1ycAWnvA0hsE\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 "
    "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"
    "08\n"
    "a=setup:active\n"
    "a=mid:2\n"
    "a=recvonly\n"
    "a=rtcp-mux\n"
    "a=rtcp-rsize\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
    "c=IN IP4 0.0.0.0\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=ice-ufrag:Hj3K\n"
    "a=ice-pwd:kQ8mDdP7y4nF1ycAWnvA0hsE\n"
    "a=ice-options:trickle\n"
    "a=fingerprint:sha-256 "
    "6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:"
    "08\n"
    "a=setup:active\n"
    "a=mid:3\n"
    "a=recvonly\n"
    "a=rtcp-mux\n"
    "a=rtcp-rsize\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtcp-fb:96 goog-remb\n"
    "a=rtcp-fb:96 ccm fir\n"
    "a=rtcp-fb:96 nack\n"
    "a=rtcp-fb:96 nack pli\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=fmtp:97 apt=96\n";

static const char sdp_firefox[] =
    "v=0\n"
    "o=mozilla...THIS_IS_SDPARTA-115.5.0 5742183463538462043 0 IN IP4 0.0.0.0\n"
    "s=-\n"
    "t=0 0\n"
    "a=fingerprint:sha-256 "
    "3C:A1:7E:0B:52:93:64:8C:D4:F9:1B:0E:6D:A2:50:77:C8:E5:11:9A:5F:3B:42:D0:6E:8C:9B:27:F1:40:AA:"
    "13\n"
    "a=group:BUNDLE 0 1 2 3\n"
    "a=ice-options:trickle\n"
    "a=msid-semantic:WMS *\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 0.0.0.0\n"
    "a=sendonly\n"
    "a=fmtp:111 maxplaybackrate=48000;stereo=1;useinbandfec=1\n"
    "a=ice-pwd:c0a1a4c2f3e47f2bb0b64d7c3e3b0d8e\n"
    "a=ice-ufrag:5d4e2f1a\n"
    "a=mid:0\n"
    "a=msid:{8b5f3a70-1f2e-4f5c-9c1d-2a6b0e7d9f31} {0e6f4b1a-7c2d-4e8f-a1b3-5c9d2e7f0a46}\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=setup:active\n"
    "a=ssrc:2904538291 cname:{a4e1c2d3-5b6f-4a7e-8c9d-0e1f2a3b4c5d}\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\n"
    "c=IN IP4 0.0.0.0\n"
    "a=sendonly\n"
    "a=fmtp:96 max-fs=12288;max-fr=60\n"
    "a=fmtp:97 apt=96\n"
    "a=ice-pwd:c0a1a4c2f3e47f2bb0b64d7c3e3b0d8e\n"
    "a=ice-ufrag:5d4e2f1a\n"
    "a=mid:1\n"
    "a=msid:{8b5f3a70-1f2e-4f5c-9c1d-2a6b0e7d9f31} {6a2d9c4e-3b1f-4d7a-8e5c-1f0b2a9d3c74}\n"
    "a=rtcp-fb:96 nack\n"
    "a=rtcp-fb:96 nack pli\n"
    "a=rtcp-fb:96 ccm fir\n"
    "a=rtcp-fb:96 goog-remb\n"
    "a=rtcp-mux\n"
    "a=rtcp-rsize\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=setup:active\n"
    "a=ssrc:1735429012 cname:{a4e1c2d3-5b6f-4a7e-8c9d-0e1f2a3b4c5d}\n"
    "a=ssrc:3011842677 cname:{a4e1c2d3-5b6f-4a7e-8c9d-0e1f2a3b4c5d}\n"
    "a=ssrc-group:FID 1735429012 3011842677\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 0.0.0.0\n"
    "a=recvonly\n"
    "a=fmtp:111 maxplaybackrate=48000;stereo=1;useinbandfec=1\n"
    "a=ice-pwd:c0a1a4c2f3e47f2bb0b64d7c3e3b0d8e\n"
    "a=ice-ufrag:5d4e2f1a\n"
    "a=mid:2\n"
    "a=rtcp-mux\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=setup:active\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\n"
    "c=IN IP4 0.0.0.0\n"
    "a=inactive\n"
    "a=mid:3\n"
    "a=rtpmap:96 VP8/90000\n";

static const char sdp_aiortc[] =
    "v=0\n"
    "o=- 4004479699 4004479699 IN IP4 0.0.0.0\n"
    "s=-\n"
    "t=0 0\n"
    "a=group:BUNDLE 0 1 2 3\n"
    "a=msid-semantic:WMS *\n"
    "m=audio 46336 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 127.0.0.1\n"
    "a=sendonly\n"
    "a=mid:0\n"
    "a=msid:0ea883f0-e05c-4709-aaac-a1fac300c884 e85fa7ac-fae3-4348-a778-a3bc48b82e3c\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=rtcp-mux\n"
    "a=ssrc:519036200 cname:35038a8d-2d15-47a2-bf99-c7fb2de82203\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=candidate:16572de626da4e5384a0ce2d0d93678a 1 udp 2130706431 127.0.0.1 46336 typ host\n"
    "a=end-of-candidates\n"
    "a=ice-ufrag:4fdC\n"
    "a=ice-pwd:EYNUYZZY0M42pjPleryYUE\n"
    "a=fingerprint:sha-256 "
    "0E:3C:04:15:34:65:3F:34:7C:FC:B7:3B:B4:B5:17:4F:1F:42:B8:92:05:F8:53:18:57:F3:8A:C4:66:68:79:"
    "B5\n"
    "a=setup:active\n"
    "m=video 46336 UDP/TLS/RTP/SAVPF 96 97 102 103\n"
    "c=IN IP4 127.0.0.1\n"
    "a=sendonly\n"
    "a=mid:1\n"
    "a=msid:0ea883f0-e05c-4709-aaac-a1fac300c884 adcbfb2b-d036-437c-beb4-27d8f1250d6d\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=rtcp-mux\n"
    "a=ssrc-group:FID 2551700137 2849479836\n"
    "a=ssrc:2551700137 cname:35038a8d-2d15-47a2-bf99-c7fb2de82203\n"
    "a=ssrc:2849479836 cname:35038a8d-2d15-47a2-bf99-c7fb2de82203\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtcp-fb:96 nack\n"
    "a=rtcp-fb:96 nack pli\n"
    "a=rtcp-fb:96 goog-remb\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=fmtp:97 apt=96\n"
    "a=rtpmap:102 H264/90000\n"
    "a=rtcp-fb:102 nack\n"
    "a=rtcp-fb:102 nack pli\n"
    "a=rtcp-fb:102 goog-remb\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\n"
    "a=rtpmap:103 rtx/90000\n"
    "a=fmtp:103 apt=102\n"
    "a=candidate:16572de626da4e5384a0ce2d0d93678a 1 udp 2130706431 127.0.0.1 46336 typ host\n"
    "a=end-of-candidates\n"
    "a=ice-ufrag:4fdC\n"
    "a=ice-pwd:EYNUYZZY0M42pjPleryYUE\n"
    "a=fingerprint:sha-256 "
    "0E:3C:04:15:34:65:3F:34:7C:FC:B7:3B:B4:B5:17:4F:1F:42:B8:92:05:F8:53:18:57:F3:8A:C4:66:68:79:"
    "B5\n"
    "a=setup:active\n"
    "m=audio 46336 UDP/TLS/RTP/SAVPF 111\n"
    "c=IN IP4 127.0.0.1\n"
    "a=recvonly\n"
    "a=mid:2\n"
    "a=msid:0ea883f0-e05c-4709-aaac-a1fac300c884 d47f028f-7be1-46ce-a317-1a27e7e9a013\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=rtcp-mux\n"
    "a=ssrc:3199935080 cname:35038a8d-2d15-47a2-bf99-c7fb2de82203\n"
    "a=rtpmap:111 opus/48000/2\n"
    "a=candidate:16572de626da4e5384a0ce2d0d93678a 1 udp 2130706431 127.0.0.1 46336 typ host\n"
    "a=end-of-candidates\n"
    "a=ice-ufrag:4fdC\n"
    "a=ice-pwd:EYNUYZZY0M42pjPleryYUE\n"
    "a=fingerprint:sha-256 "
    "0E:3C:04:15:34:65:3F:34:7C:FC:B7:3B:B4:B5:17:4F:1F:42:B8:92:05:F8:53:18:57:F3:8A:C4:66:68:79:"
    "B5\n"
    "a=setup:active\n"
    "m=video 46336 UDP/TLS/RTP/SAVPF 96 97 102 103\n"
    "c=IN IP4 127.0.0.1\n"
    "a=recvonly\n"
    "a=mid:3\n"
    "a=msid:0ea883f0-e05c-4709-aaac-a1fac300c884 d7fff224-af29-4622-a202-0aacb7e3fe70\n"
    "a=rtcp:9 IN IP4 0.0.0.0\n"
    "a=rtcp-mux\n"
    "a=ssrc-group:FID 2097556930 2287906921\n"
    "a=ssrc:2097556930 cname:35038a8d-2d15-47a2-bf99-c7fb2de82203\n"
    "a=ssrc:2287906921 cname:35038a8d-2d15-47a2-bf99-c7fb2de82203\n"
    "a=rtpmap:96 VP8/90000\n"
    "a=rtcp-fb:96 nack\n"
    "a=rtcp-fb:96 nack pli\n"
    "a=rtcp-fb:96 goog-remb\n"
    "a=rtpmap:97 rtx/90000\n"
    "a=fmtp:97 apt=96\n"
    "a=rtpmap:102 H264/90000\n"
    "a=rtcp-fb:102 nack\n"
    "a=rtcp-fb:102 nack pli\n"
    "a=rtcp-fb:102 goog-remb\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\n"
    "a=rtpmap:103 rtx/90000\n"
    "a=fmtp:103 apt=102\n"
    "a=candidate:16572de626da4e5384a0ce2d0d93678a 1 udp 2130706431 127.0.0.1 46336 typ host\n"
    "a=end-of-candidates\n"
    "a=ice-ufrag:4fdC\n"
    "a=ice-pwd:EYNUYZZY0M42pjPleryYUE\n"
    "a=fingerprint:sha-256 "
    "0E:3C:04:15:34:65:3F:34:7C:FC:B7:3B:B4:B5:17:4F:1F:42:B8:92:05:F8:53:18:57:F3:8A:C4:66:68:79:"
    "B5\n"
    "a=setup:active\n";

#define LONG60 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define LONG600 LONG60 LONG60 LONG60 LONG60 LONG60 LONG60 LONG60 LONG60 LONG60 LONG60
#define FP                                                                                         \
    "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:"   \
    "88:99"

/* Builds the 4 m-line offer the fixtures answer. */
static int t_build(char *buf, size_t cap)
{
    static const char *cands[] = {"candidate:1 1 UDP 2015363327 127.0.0.1 43000 typ host",
                                  "candidate:2 1 UDP 2015363071 10.0.0.1 43001 typ host"};
    sdp_offer_mline_t ml[5] = {
        {.kind = SDP_KIND_AUDIO, .dir = SDP_DIR_RECVONLY},
        {.kind = SDP_KIND_VIDEO, .dir = SDP_DIR_RECVONLY},
        {.kind = SDP_KIND_AUDIO,
         .dir = SDP_DIR_SENDONLY,
         .msid_stream = "pb",
         .msid_track = "pb-a",
         .ssrc = 1111},
        {.kind = SDP_KIND_VIDEO,
         .dir = SDP_DIR_SENDONLY,
         .msid_stream = "pb",
         .msid_track = "pb-v",
         .ssrc = 2222,
         .rtx_ssrc = 3333},
        {.kind = SDP_KIND_VIDEO, .dir = SDP_DIR_INACTIVE},
    };
    sdp_offer_t o = {.session_id = 42,
                     .version = 3,
                     .ice_ufrag = "abcd",
                     .ice_pwd = "0123456789abcdef012345",
                     .fingerprint = FP,
                     .candidates = cands,
                     .n_candidates = 2,
                     .mlines = ml,
                     .n_mlines = 5};
    size_t len;
    if (sdp_build_offer(&o, buf, cap, &len) != 0)
        return -1;
    return strlen(buf) == len ? 0 : -1;
}

static int t_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void t_offer(void)
{
    static char buf[16384];
    VCT_CHECK_EQ_INT(t_build(buf, sizeof(buf)), 0);
    VCT_CHECK(strncmp(buf, "v=0\r\n", 5) == 0);
    VCT_CHECK(strstr(buf, "a=group:BUNDLE 0 1 2 3 4\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=msid-semantic: WMS *\r\n") != NULL);
    /* ICE and DTLS once, at session level (before the first m=) */
    const char *m0 = strstr(buf, "\r\nm=");
    VCT_CHECK(m0 != NULL);
    VCT_CHECK_EQ_INT(t_count(buf, "a=fingerprint:sha-256 " FP "\r\n"), 1);
    VCT_CHECK(strstr(buf, "a=fingerprint:") < m0);
    VCT_CHECK_EQ_INT(t_count(buf, "a=setup:actpass\r\n"), 1);
    VCT_CHECK_EQ_INT(t_count(buf, "a=ice-ufrag:abcd\r\n"), 1);
    VCT_CHECK(strstr(buf, "a=ice-pwd:") < m0);
    VCT_CHECK_EQ_INT(t_count(buf, "a=rtcp-mux\r\n"), 5);
    VCT_CHECK_EQ_INT(t_count(buf, "a=rtcp:"), 0);
    /* candidates once, in mid 0 (everything is BUNDLEd) */
    VCT_CHECK_EQ_INT(t_count(buf, "a=candidate:1 1 UDP 2015363327 127.0.0.1 43000 typ host\r\n"),
                     1);
    VCT_CHECK_EQ_INT(t_count(buf, "a=end-of-candidates\r\n"), 1);
    VCT_CHECK(strstr(buf, "a=end-of-candidates\r\n") < strstr(buf, "a=mid:1\r\n"));
    VCT_CHECK_EQ_INT(t_count(buf, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), 2);
    VCT_CHECK_EQ_INT(t_count(buf, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\n"), 3);
    VCT_CHECK_EQ_INT(t_count(buf, "a=recvonly\r\n"), 2);
    VCT_CHECK_EQ_INT(t_count(buf, "a=sendonly\r\n"), 2);
    VCT_CHECK_EQ_INT(t_count(buf, "a=inactive\r\n"), 1);
    VCT_CHECK(strstr(buf, "a=rtpmap:111 opus/48000/2\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=fmtp:97 apt=96\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=fmtp:103 apt=102\r\n") != NULL);
    VCT_CHECK(strstr(buf, "packetization-mode=1") != NULL);
    VCT_CHECK(strstr(buf, "a=rtcp-fb:96 goog-remb\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=rtcp-fb:96 nack pli\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=msid:pb pb-a\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=ssrc:1111 cname:pb\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=ssrc-group:FID 2222 3333\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=ssrc:3333 cname:pb\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=msid:pb pb-v\r\n") != NULL);
    VCT_CHECK_EQ_INT(t_count(buf, " msid:"), 0); /* a=msid only, no legacy ssrc msid */
    /* header extensions: same ids on every m-line of the bundle */
    VCT_CHECK_EQ_INT(t_count(buf, "a=extmap:3 http://www.ietf.org/id/"
                                  "draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"),
                     5);
    VCT_CHECK_EQ_INT(t_count(buf, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"), 2);
    VCT_CHECK_EQ_INT(t_count(buf, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"), 5);
    /* rid extensions only where the worker receives video */
    VCT_CHECK_EQ_INT(t_count(buf, "sdes:rtp-stream-id\r\n"), 1);
    VCT_CHECK_EQ_INT(t_count(buf, "sdes:repaired-rtp-stream-id\r\n"), 1);
    VCT_CHECK(strstr(buf, "a=rtcp-fb:96 transport-cc\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=rtcp-fb:111 transport-cc\r\n") != NULL);
    VCT_CHECK(strstr(buf, "a=simulcast") == NULL); /* not asked for */
}

/* The publish video m-line asks for three layers (RFC 8853), lowest first,
 * and a Chrome-like answer's extmap ids and rids are read back. */
static void t_simulcast(void)
{
    static char buf[16384];
    sdp_offer_mline_t ml[2] = {
        {.kind = SDP_KIND_AUDIO, .dir = SDP_DIR_RECVONLY},
        {.kind = SDP_KIND_VIDEO, .dir = SDP_DIR_RECVONLY, .simulcast = 1},
    };
    sdp_offer_t o = {.session_id = 1,
                     .version = 1,
                     .ice_ufrag = "abcd",
                     .ice_pwd = "0123456789abcdef012345",
                     .fingerprint = FP,
                     .mlines = ml,
                     .n_mlines = 2};
    size_t len;
    VCT_CHECK_EQ_INT(sdp_build_offer(&o, buf, sizeof(buf), &len), 0);
    VCT_CHECK(strstr(buf, "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n"
                          "a=simulcast:recv q;h;f\r\n") != NULL);
    static const char ans[] =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "a=ice-ufrag:uf\r\na=ice-pwd:pwpwpwpwpwpwpwpwpwpwpw\r\n"
        "a=fingerprint:sha-256 " FP "\r\na=setup:active\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\na=mid:1\r\na=sendonly\r\n"
        "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
        "a=extmap:11/sendonly urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
        "a=extmap:14 urn:example:unknown\r\n"
        "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n";
    static sdp_answer_t a;
    char err[200];
    VCT_CHECK_EQ_INT(sdp_parse_answer(ans, strlen(ans), &a, err, sizeof(err)), 0);
    VCT_CHECK_EQ_INT(a.mlines[0].ext_audio_level, 1);
    VCT_CHECK_EQ_INT(a.mlines[0].ext_twcc, 3);
    VCT_CHECK_EQ_INT(a.mlines[0].ext_rid, 0);
    VCT_CHECK_EQ_INT(a.mlines[1].ext_twcc, 3);
    VCT_CHECK_EQ_INT(a.mlines[1].ext_mid, 4);
    VCT_CHECK_EQ_INT(a.mlines[1].ext_rid, 10);
    VCT_CHECK_EQ_INT(a.mlines[1].ext_rrid, 11);
    VCT_CHECK_EQ_INT(a.mlines[1].n_rids, 3);
    VCT_CHECK_EQ_STR(a.mlines[1].rids[0], "q");
    VCT_CHECK_EQ_STR(a.mlines[1].rids[2], "f");
    static const char bad[] = "v=0\r\nm=video 9 X 96\r\na=extmap:x urn:a\r\n";
    VCT_CHECK_EQ_INT(sdp_parse_answer(bad, strlen(bad), &a, err, sizeof(err)), -1);
}

static void t_offer_small(void)
{
    static char buf[16384];
    VCT_CHECK_EQ_INT(t_build(buf, 200), -1); /* does not fit: an error, no overflow */
}

/* The offer parses with the answer parser once setup is made an answer's. */
static void t_offer_roundtrip(void)
{
    static char buf[16384];
    VCT_CHECK_EQ_INT(t_build(buf, sizeof(buf)), 0);
    char *p;
    while ((p = strstr(buf, "actpass")) != NULL)
        memcpy(p, "passive", 7);
    sdp_answer_t *a = malloc(sizeof(*a));
    char err[200];
    VCT_CHECK_EQ_INT(sdp_parse_answer(buf, strlen(buf), a, err, sizeof(err)), 0);
    VCT_CHECK_EQ_INT(a->n_mlines, 5);
    VCT_CHECK_EQ_INT(a->setup, SDP_SETUP_PASSIVE);
    VCT_CHECK_EQ_INT(a->mlines[4].dir, SDP_DIR_INACTIVE);
    uint32_t rtx;
    VCT_CHECK_EQ_INT(sdp_mline_media_ssrc(&a->mlines[3], &rtx), 2222);
    VCT_CHECK_EQ_INT(rtx, 3333);
    VCT_CHECK_EQ_INT(a->n_candidates, 2);
    free(a);
}

static sdp_answer_t *t_parse_ok(const char *sdp)
{
    sdp_answer_t *a = malloc(sizeof(*a));
    char err[200] = "";
    int rv = sdp_parse_answer(sdp, strlen(sdp), a, err, sizeof(err));
    if (rv != 0)
        fprintf(stderr, "  parse error: %s\n", err);
    VCT_CHECK_EQ_INT(rv, 0);
    return a;
}

static void t_chrome(void)
{
    sdp_answer_t *a = t_parse_ok(sdp_chrome);
    uint32_t rtx;
    VCT_CHECK_EQ_STR(a->ice_ufrag, "Hj3K");
    VCT_CHECK_EQ_STR(a->ice_pwd, "kQ8mDdP7y4nF1ycAWnvA0hsE");
    VCT_CHECK_EQ_STR(a->fp_alg, "sha-256");
    VCT_CHECK(strncmp(a->fp, "6B:8B:F0", 8) == 0);
    VCT_CHECK_EQ_INT(a->setup, SDP_SETUP_ACTIVE);
    VCT_CHECK_EQ_INT(a->n_mlines, 4);
    VCT_CHECK_EQ_STR(a->mlines[0].mid, "0");
    VCT_CHECK_EQ_INT(a->mlines[0].kind, SDP_KIND_AUDIO);
    VCT_CHECK_EQ_INT(a->mlines[0].dir, SDP_DIR_SENDONLY);
    VCT_CHECK_EQ_INT(sdp_mline_media_ssrc(&a->mlines[0], &rtx), 3722921553u);
    VCT_CHECK_EQ_INT(rtx, 0);
    VCT_CHECK_EQ_INT(sdp_mline_media_ssrc(&a->mlines[1], &rtx), 1283756203u);
    VCT_CHECK_EQ_INT(rtx, 2219861097u);
    VCT_CHECK(sdp_mline_has_pt(&a->mlines[1], 102));
    VCT_CHECK(sdp_mline_has_pt(&a->mlines[3], 96));
    VCT_CHECK(!sdp_mline_has_pt(&a->mlines[3], 102)); /* H264 declined there */
    VCT_CHECK_EQ_INT(a->mlines[3].dir, SDP_DIR_RECVONLY);
    VCT_CHECK_EQ_INT(a->n_candidates, 0); /* Chrome trickles */
    free(a);
}

static void t_firefox(void)
{
    sdp_answer_t *a = t_parse_ok(sdp_firefox);
    uint32_t rtx;
    VCT_CHECK_EQ_STR(a->ice_ufrag, "5d4e2f1a");
    VCT_CHECK_EQ_STR(a->fp_alg, "sha-256"); /* session-level fingerprint */
    VCT_CHECK(strncmp(a->fp, "3C:A1:7E", 8) == 0);
    VCT_CHECK_EQ_INT(a->setup, SDP_SETUP_ACTIVE);
    VCT_CHECK_EQ_INT(a->n_mlines, 4);
    VCT_CHECK_EQ_INT(sdp_mline_media_ssrc(&a->mlines[1], &rtx), 1735429012u);
    VCT_CHECK_EQ_INT(rtx, 3011842677u);
    VCT_CHECK_EQ_INT(a->mlines[3].rejected, 1);
    VCT_CHECK_EQ_STR(a->mlines[3].mid, "3");
    VCT_CHECK(!sdp_mline_has_pt(&a->mlines[1], 102));
    free(a);
}

static void t_aiortc(void)
{
    sdp_answer_t *a = t_parse_ok(sdp_aiortc);
    uint32_t rtx;
    VCT_CHECK_EQ_STR(a->ice_ufrag, "4fdC");
    VCT_CHECK_EQ_INT(a->setup, SDP_SETUP_ACTIVE);
    VCT_CHECK_EQ_INT(a->n_mlines, 4);
    VCT_CHECK_EQ_INT(sdp_mline_media_ssrc(&a->mlines[0], &rtx), 519036200u);
    VCT_CHECK_EQ_INT(sdp_mline_media_ssrc(&a->mlines[1], &rtx), 2551700137u);
    VCT_CHECK_EQ_INT(rtx, 2849479836u);
    VCT_CHECK_EQ_INT(a->n_candidates, 1); /* inline in each m-line, kept once */
    VCT_CHECK(strncmp(a->candidates[0], "candidate:", 10) == 0);
    free(a);
}

/* Malformed answers: each must fail cleanly with an error message. */
static void t_malformed(void)
{
    static const struct {
        const char *name, *sdp;
    } bad[] = {
        {"empty", ""},
        {"not sdp", "hello world"},
        {"no v first", "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n"},
        {"v=1", "v=1\r\n"},
        {"no m-lines", "v=0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n"},
        {"no ice", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
                   "a=fingerprint:sha-256 AA\r\na=setup:active\r\n"},
        {"no fingerprint", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
                           "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=setup:active\r\n"},
        {"setup actpass", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:u\r\n"
                          "a=ice-pwd:p\r\na=fingerprint:sha-256 AA\r\na=setup:actpass\r\n"},
        {"setup junk", "v=0\r\nm=audio 9 X 111\r\na=setup:sideways\r\n"},
        {"bad port", "v=0\r\nm=audio x UDP 111\r\n"},
        {"port too big", "v=0\r\nm=audio 70000 UDP 111\r\n"},
        {"m no space", "v=0\r\nm=audio\r\n"},
        {"no mid", "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\n"
                   "a=fingerprint:sha-256 AA\r\na=setup:active\r\n"},
        {"bad fingerprint", "v=0\r\na=fingerprint:sha-256\r\n"},
        {"bad ssrc", "v=0\r\nm=audio 9 X 111\r\na=ssrc:abc cname:x\r\n"},
        {"bad fid", "v=0\r\nm=video 9 X 96\r\na=ssrc-group:FID 12\r\n"},
        {"control char", "v=0\r\nm=audio 9 X 111\r\na=mid:\x01\r\n"},
        {"line without =", "v=0\r\nxyz\r\n"},
        {"long candidate", "v=0\r\na=candidate:" LONG600 "\r\n"},
        {"empty ufrag", "v=0\r\na=ice-ufrag:\r\n"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sdp_answer_t *a = malloc(sizeof(*a));
        char err[200] = "";
        int rv = sdp_parse_answer(bad[i].sdp, strlen(bad[i].sdp), a, err, sizeof(err));
        if (rv != -1 || err[0] == '\0')
            fprintf(stderr, "  case '%s' did not fail cleanly\n", bad[i].name);
        VCT_CHECK_EQ_INT(rv, -1);
        VCT_CHECK(err[0] != '\0');
        free(a);
    }
}

/* Limits: too many m-lines, too long values, embedded NUL. */
static void t_limits(void)
{
    size_t cap = 200 * 64 + 64;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, "v=0\r\n");
    for (int i = 0; i < SDP_MAX_MLINES + 1; i++)
        n += (size_t)snprintf(s + n, cap - n, "m=audio 9 X 111\r\na=mid:%d\r\n", i);
    sdp_answer_t *a = malloc(sizeof(*a));
    char err[200] = "";
    VCT_CHECK_EQ_INT(sdp_parse_answer(s, n, a, err, sizeof(err)), -1);
    VCT_CHECK(strstr(err, "m-lines") != NULL);
    n = (size_t)snprintf(s, cap, "v=0\r\na=ice-ufrag:");
    memset(s + n, 'u', 400);
    n += 400;
    VCT_CHECK_EQ_INT(sdp_parse_answer(s, n, a, err, sizeof(err)), -1);
    static const char nul[] = "v=0\r\nm=audio 9 X 111\r\na=mid:0\0\r\n";
    VCT_CHECK_EQ_INT(sdp_parse_answer(nul, sizeof(nul) - 1, a, err, sizeof(err)), -1);
    /* LF-only line ends and a missing final newline are fine */
    static const char lf[] = "v=0\nm=audio 9 X 111\na=mid:0\na=ice-ufrag:u\na=ice-pwd:p\n"
                             "a=fingerprint:SHA-256 AA\na=setup:passive";
    VCT_CHECK_EQ_INT(sdp_parse_answer(lf, sizeof(lf) - 1, a, err, sizeof(err)), 0);
    VCT_CHECK_EQ_STR(a->fp_alg, "sha-256");
    free(a);
    free(s);
}

static const vct_case_t cases[] = {
    {"offer", t_offer},
    {"offer_small", t_offer_small},
    {"offer_roundtrip", t_offer_roundtrip},
    {"chrome", t_chrome},
    {"firefox", t_firefox},
    {"aiortc", t_aiortc},
    {"malformed", t_malformed},
    {"limits", t_limits},
    {"simulcast", t_simulcast},
};
VCT_MAIN("sdp", cases)
