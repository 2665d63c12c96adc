/* Unit tests for media-worker/core/rtp.c: header parsing (CSRC, extension,
 * padding, truncation, garbage) and receive statistics. Packets below were
 * serialized by aiortc (tests/fuzz/corpus/rtp). */
#include <stdint.h>

#include "media-worker/core/rtp.h"
#include "tests/unit/vctest.h"

static const uint8_t pkt_opus[] = {0x80, 0x6f, 0x03, 0xe8, 0x00, 0x00, 0x03, 0xc0, 0x1e, 0xef, 0xdd,
                                   0x28, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                                   0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
                                   0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                   0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27};
static const uint8_t pkt_vp8_ext[] = {
    0x90, 0xe0, 0xff, 0xff, 0x00, 0x00, 0x0b, 0xb8, 0x98, 0x17, 0xda, 0xa9, 0xbe, 0xde, 0x00,
    0x02, 0x10, 0x31, 0x32, 0x12, 0x34, 0x56, 0x00, 0x00, 0x90, 0x80, 0x00, 0x9d, 0x01, 0x2a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t pkt_rtx[] = {
    0xa2, 0x61, 0x00, 0x07, 0x00, 0x00, 0x0b, 0xb8, 0xa9, 0xd7, 0x9c, 0x9c, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x02, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5, 0x7c, 0x41, 0x04};

static void t_opus(void)
{
    rtp_header_t h;
    VCT_CHECK_EQ_INT(rtp_parse(pkt_opus, sizeof(pkt_opus), &h), RTP_OK);
    VCT_CHECK_EQ_INT(h.pt, 111);
    VCT_CHECK_EQ_INT(h.seq, 1000);
    VCT_CHECK_EQ_INT(h.ts, 960);
    VCT_CHECK_EQ_INT(h.ssrc, 519036200u);
    VCT_CHECK_EQ_INT(h.payload_off, 12);
    VCT_CHECK_EQ_INT(h.payload_len, 40);
}

static void t_extension(void)
{
    rtp_header_t h;
    VCT_CHECK_EQ_INT(rtp_parse(pkt_vp8_ext, sizeof(pkt_vp8_ext), &h), RTP_OK);
    VCT_CHECK_EQ_INT(h.marker, 1);
    VCT_CHECK_EQ_INT(h.pt, 96);
    VCT_CHECK_EQ_INT(h.seq, 65535);
    VCT_CHECK_EQ_INT(h.extension, 1);
    VCT_CHECK_EQ_INT(h.ext_profile, 0xbede);
    VCT_CHECK_EQ_INT(h.ext_off, 16);
    VCT_CHECK_EQ_INT(h.ext_len, 8);
    VCT_CHECK_EQ_INT(h.payload_off, 24);
    VCT_CHECK_EQ_INT(h.payload_len, sizeof(pkt_vp8_ext) - 24);
}

static void t_csrc_padding(void)
{
    rtp_header_t h;
    VCT_CHECK_EQ_INT(rtp_parse(pkt_rtx, sizeof(pkt_rtx), &h), RTP_OK);
    VCT_CHECK_EQ_INT(h.csrc_count, 2);
    VCT_CHECK_EQ_INT(h.padding, 1);
    VCT_CHECK_EQ_INT(h.pad_len, 4);
    VCT_CHECK_EQ_INT(h.payload_off, 20);
    VCT_CHECK_EQ_INT(h.payload_len, 52);
}

static void t_garbage(void)
{
    static const struct {
        const char *name;
        uint8_t b[24];
        size_t len;
        rtp_err_t want;
    } bad[] = {
        {"empty", {0}, 0, RTP_ERR_SHORT},
        {"short", {0x80, 111, 0, 1}, 4, RTP_ERR_SHORT},
        {"version 1", {0x40, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, 12, RTP_ERR_VERSION},
        {"version 0", {0}, 12, RTP_ERR_VERSION},
        {"rtcp pt", {0x80, 200, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, 12, RTP_ERR_RTCP},
        {"csrc past end", {0x8f, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 16, RTP_ERR_SHORT},
        {"ext header cut",
         {0x90, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde},
         14,
         RTP_ERR_SHORT},
        {"ext len past end",
         {0x90, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 9},
         16,
         RTP_ERR_SHORT},
        {"padding 0", {0xa0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 0}, 16, RTP_ERR_PADDING},
        {"padding too big",
         {0xa0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 9},
         16,
         RTP_ERR_PADDING},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rtp_header_t h = {.seq = 77};
        rtp_err_t e = rtp_parse(bad[i].b, bad[i].len, &h);
        if (e != bad[i].want)
            fprintf(stderr, "  case '%s': %s\n", bad[i].name, rtp_err_str(e));
        VCT_CHECK_EQ_INT(e, bad[i].want);
        VCT_CHECK_EQ_INT(h.seq, 77); /* untouched on error */
    }
    /* padding that eats the whole payload is valid (RFC 3550 5.1) */
    static const uint8_t pad_only[] = {0xa0, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
    rtp_header_t h;
    VCT_CHECK_EQ_INT(rtp_parse(pad_only, sizeof(pad_only), &h), RTP_OK);
    VCT_CHECK_EQ_INT(h.payload_len, 0);
}

static void t_rx_stats(void)
{
    rtp_rx_stats_t s;
    rtp_rx_init(&s, 90000);
    uint64_t t = 1000000;
    /* 65530..65535, 0..9 with 3 and 4 lost: wraps once */
    for (uint32_t i = 0; i < 16; i++) {
        uint16_t seq = (uint16_t)(65530 + i);
        if (seq == 3 || seq == 4)
            continue;
        rtp_rx_update(&s, seq, 3000 * i, t + i * 33333);
    }
    rtp_rx_report_t r;
    rtp_rx_report(&s, t + 600000, &r);
    VCT_CHECK_EQ_INT(r.ext_highest_seq, 65536 + 9);
    VCT_CHECK_EQ_INT(r.cumulative_lost, 2);
    VCT_CHECK_EQ_INT(r.fraction_lost, (2 * 256) / 16);
    VCT_CHECK(r.jitter < 10); /* evenly paced: almost no jitter */
    VCT_CHECK_EQ_INT(r.lsr, 0);
    /* SR then report: LSR is the middle of the NTP time, DLSR 0.5 s */
    rtp_rx_sr(&s, 0x1122334455667788ULL, t + 1000000);
    rtp_rx_report(&s, t + 1500000, &r);
    VCT_CHECK_EQ_INT(r.lsr, 0x33445566u);
    VCT_CHECK_EQ_INT(r.dlsr, 32768);
    VCT_CHECK_EQ_INT(r.fraction_lost, 0); /* nothing new in this interval */
    /* a duplicate counts but does not move the highest sequence */
    rtp_rx_update(&s, 9, 3000 * 15, t + 1600000);
    rtp_rx_report(&s, t + 1700000, &r);
    VCT_CHECK_EQ_INT(r.ext_highest_seq, 65536 + 9);
}

static const vct_case_t cases[] = {
    {"opus", t_opus},       {"extension", t_extension}, {"csrc_padding", t_csrc_padding},
    {"garbage", t_garbage}, {"rx_stats", t_rx_stats},
};
VCT_MAIN("rtp", cases)
