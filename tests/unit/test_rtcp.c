/* Unit tests for media-worker/core/rtcp.c: compound parsing of packets
 * aiortc serialized (tests/fuzz/corpus/rtcp), malformed compounds, and the
 * RR / PLI / REMB builders round-tripped through the parser. */
#include <stdint.h>

#include "media-worker/core/rtcp.h"
#include "tests/unit/vctest.h"

static const uint8_t pkt_sr_sdes[] = {
    0x81, 0xc8, 0x00, 0x0c, 0x98, 0x17, 0xda, 0xa9, 0xe7, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6,
    0x07, 0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x2e, 0xe0, 0x00, 0x00,
    0x04, 0xd2, 0x03, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x11, 0x70, 0x00, 0x00, 0x00, 0x1e, 0x00,
    0x00, 0x12, 0x34, 0x00, 0x00, 0x00, 0x10, 0x81, 0xca, 0x00, 0x0b, 0x98, 0x17, 0xda, 0xa9,
    0x01, 0x24, 0x33, 0x35, 0x30, 0x33, 0x38, 0x61, 0x38, 0x64, 0x2d, 0x32, 0x64, 0x31, 0x35,
    0x2d, 0x34, 0x37, 0x61, 0x32, 0x2d, 0x62, 0x66, 0x39, 0x39, 0x2d, 0x63, 0x37, 0x66, 0x62,
    0x32, 0x64, 0x65, 0x38, 0x32, 0x32, 0x30, 0x33, 0x00, 0x00};
static const uint8_t pkt_rr_remb[] = {
    0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x98, 0x17, 0xda, 0xa9, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x8f, 0xce, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x52, 0x45, 0x4d, 0x42, 0x01, 0x12, 0x62, 0x5a, 0x98, 0x17, 0xda, 0xa9};
static const uint8_t pkt_pli[] = {0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x98, 0x17, 0xda,
                                  0xa9, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
                                  0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81,
                                  0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x98, 0x17, 0xda, 0xa9};
static const uint8_t pkt_nack[] = {0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x98, 0x17, 0xda,
                                   0xa9, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00,
                                   0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x81,
                                   0xcd, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x98, 0x17, 0xda, 0xa9,
                                   0x00, 0x64, 0x00, 0x11, 0x00, 0x78, 0x00, 0x00};
static const uint8_t pkt_bye[] = {0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x98, 0x17,
                                  0xda, 0xa9, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8,
                                  0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x00, 0x81, 0xcb, 0x00, 0x01, 0x98, 0x17, 0xda, 0xa9};

static void t_sr_sdes(void)
{
    rtcp_compound_t c;
    VCT_CHECK_EQ_INT(rtcp_parse(pkt_sr_sdes, sizeof(pkt_sr_sdes), &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.n, 2);
    VCT_CHECK_EQ_INT(c.pkts[0].pt, RTCP_SR);
    VCT_CHECK_EQ_INT(c.pkts[0].count, 1);
    VCT_CHECK_EQ_INT(c.pkts[1].pt, RTCP_SDES);
    rtcp_sr_t sr;
    rtcp_sr_info(pkt_sr_sdes, &c.pkts[0], &sr);
    VCT_CHECK_EQ_INT(sr.ssrc, 2551700137u);
    VCT_CHECK(sr.ntp == 0xe7a1b2c3d4e5f607ULL);
    VCT_CHECK_EQ_INT(sr.rtp_ts, 123456);
    VCT_CHECK_EQ_INT(sr.packets, 100);
    rtcp_report_block_t b;
    rtcp_report_block(pkt_sr_sdes, &c.pkts[0], 0, &b);
    VCT_CHECK_EQ_INT(b.ssrc, 1234);
    VCT_CHECK_EQ_INT(b.fraction_lost, 3);
    VCT_CHECK_EQ_INT(b.cumulative_lost, 10);
    VCT_CHECK_EQ_INT(b.ext_highest_seq, 70000);
    uint8_t out[64];
    size_t n = rtcp_copy_sr_only(out, sizeof(out), pkt_sr_sdes, &c.pkts[0]);
    VCT_CHECK_EQ_INT(n, 28);
    VCT_CHECK_EQ_INT(rtcp_parse(out, n, &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.pkts[0].count, 0);
}

static void t_feedback(void)
{
    rtcp_compound_t c;
    VCT_CHECK_EQ_INT(rtcp_parse(pkt_pli, sizeof(pkt_pli), &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.n, 2);
    VCT_CHECK_EQ_INT(c.pkts[1].pt, RTCP_PSFB);
    VCT_CHECK_EQ_INT(c.pkts[1].count, RTCP_FMT_PLI);
    VCT_CHECK_EQ_INT(c.pkts[1].media_ssrc, 2551700137u);
    VCT_CHECK_EQ_INT(rtcp_parse(pkt_nack, sizeof(pkt_nack), &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.pkts[1].pt, RTCP_RTPFB);
    VCT_CHECK_EQ_INT(rtcp_nack_count(&c.pkts[1]), 2);
    uint16_t pid, blp;
    rtcp_nack_entry(pkt_nack, &c.pkts[1], 0, &pid, &blp);
    VCT_CHECK_EQ_INT(pid, 100);
    VCT_CHECK_EQ_INT(blp, 0x11); /* 101 and 105 */
    uint8_t out[128];
    size_t n = rtcp_copy_as(out, sizeof(out), pkt_nack, &c.pkts[1], 0xabcdef01u);
    VCT_CHECK_EQ_INT(n, c.pkts[1].len);
    VCT_CHECK_EQ_INT(rtcp_parse(out, n, &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.pkts[0].sender_ssrc, 0xabcdef01u);
    VCT_CHECK_EQ_INT(c.pkts[0].media_ssrc, 2551700137u);
    VCT_CHECK_EQ_INT(rtcp_parse(pkt_bye, sizeof(pkt_bye), &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.pkts[1].pt, RTCP_BYE);
}

static void t_remb(void)
{
    rtcp_compound_t c;
    VCT_CHECK_EQ_INT(rtcp_parse(pkt_rr_remb, sizeof(pkt_rr_remb), &c), RTCP_OK);
    uint64_t bps;
    uint32_t ss[4];
    size_t n;
    VCT_CHECK_EQ_INT(rtcp_remb_parse(pkt_rr_remb, &c.pkts[1], &bps, ss, 4, &n), 0);
    VCT_CHECK_EQ_INT(n, 1);
    VCT_CHECK_EQ_INT(ss[0], 2551700137u);
    VCT_CHECK(bps > 2490000 && bps <= 2500000);
    VCT_CHECK_EQ_INT(rtcp_remb_parse(pkt_rr_remb, &c.pkts[0], &bps, ss, 4, &n), -1);
}

static void t_builders(void)
{
    uint8_t buf[512];
    rtcp_report_block_t blocks[2] = {
        {.ssrc = 11,
         .fraction_lost = 25,
         .cumulative_lost = -3,
         .ext_highest_seq = 70000,
         .jitter = 12,
         .lsr = 0x11223344,
         .dlsr = 65536},
        {.ssrc = 22, .cumulative_lost = 0x7fffff},
    };
    size_t n = rtcp_build_rr(buf, sizeof(buf), 99, blocks, 2);
    VCT_CHECK_EQ_INT(n, 8 + 48);
    uint32_t ss[2] = {22, 33};
    n += rtcp_build_remb(buf + n, sizeof(buf) - n, 99, 2500000, ss, 2);
    n += rtcp_build_pli(buf + n, sizeof(buf) - n, 99, 22);
    rtcp_compound_t c;
    VCT_CHECK_EQ_INT(rtcp_parse(buf, n, &c), RTCP_OK);
    VCT_CHECK_EQ_INT(c.n, 3);
    rtcp_report_block_t b;
    rtcp_report_block(buf, &c.pkts[0], 0, &b);
    VCT_CHECK_EQ_INT(b.cumulative_lost, -3);
    VCT_CHECK_EQ_INT(b.fraction_lost, 25);
    VCT_CHECK_EQ_INT(b.lsr, 0x11223344);
    rtcp_report_block(buf, &c.pkts[0], 1, &b);
    VCT_CHECK_EQ_INT(b.cumulative_lost, 0x7fffff);
    uint64_t bps;
    uint32_t got[4];
    size_t k;
    VCT_CHECK_EQ_INT(rtcp_remb_parse(buf, &c.pkts[1], &bps, got, 4, &k), 0);
    VCT_CHECK(bps <= 2500000 && bps > 2499000);
    VCT_CHECK_EQ_INT(k, 2);
    VCT_CHECK_EQ_INT(got[1], 33);
    VCT_CHECK_EQ_INT(c.pkts[2].count, RTCP_FMT_PLI);
    VCT_CHECK_EQ_INT(c.pkts[2].sender_ssrc, 99);
    VCT_CHECK_EQ_INT(c.pkts[2].media_ssrc, 22);
    VCT_CHECK_EQ_INT(rtcp_build_pli(buf, 8, 1, 2), 0); /* too small */
    VCT_CHECK_EQ_INT(rtcp_build_rr(buf, 20, 1, blocks, 2), 0);
}

static void t_malformed(void)
{
    static const struct {
        const char *name;
        uint8_t b[32];
        size_t len;
        rtcp_err_t want;
    } bad[] = {
        {"empty", {0}, 0, RTCP_ERR_SHORT},
        {"short", {0x80, 201}, 2, RTCP_ERR_SHORT},
        {"version", {0x40, 201, 0, 1, 0, 0, 0, 1}, 8, RTCP_ERR_VERSION},
        {"rtp pt", {0x80, 96, 0, 1, 0, 0, 0, 1}, 8, RTCP_ERR_TYPE},
        {"length past end", {0x80, 201, 0, 9, 0, 0, 0, 1}, 8, RTCP_ERR_SHORT},
        {"rr count vs length", {0x81, 201, 0, 1, 0, 0, 0, 1}, 8, RTCP_ERR_LENGTH},
        {"sr too short", {0x80, 200, 0, 1, 0, 0, 0, 1}, 8, RTCP_ERR_LENGTH},
        {"pli too short", {0x81, 206, 0, 1, 0, 0, 0, 1}, 8, RTCP_ERR_LENGTH},
        {"bad padding", {0xa0, 201, 0, 1, 0, 0, 0, 0}, 8, RTCP_ERR_LENGTH},
        {"trailing bytes", {0x80, 201, 0, 1, 0, 0, 0, 1, 0x80}, 9, RTCP_ERR_SHORT},
        {"bye count", {0x82, 203, 0, 1, 0, 0, 0, 1}, 8, RTCP_ERR_LENGTH},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rtcp_compound_t c = {.n = 7};
        rtcp_err_t e = rtcp_parse(bad[i].b, bad[i].len, &c);
        if (e != bad[i].want)
            fprintf(stderr, "  case '%s': %s\n", bad[i].name, rtcp_err_str(e));
        VCT_CHECK_EQ_INT(e, bad[i].want);
        VCT_CHECK_EQ_INT(c.n, 7);
    }
    /* 33 empty RRs: more sub-packets than we track */
    uint8_t many[33 * 8];
    for (int i = 0; i < 33; i++) {
        static const uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0, 1};
        memcpy(many + 8 * i, rr, 8);
    }
    rtcp_compound_t c;
    VCT_CHECK_EQ_INT(rtcp_parse(many, sizeof(many), &c), RTCP_ERR_TOO_MANY);
}

/* RFC 3550 6.4.1 round trip: SR sent at t, echoed with DLSR, back at t+x. */
static void t_rtt(void)
{
    static const struct {
        const char *name;
        uint32_t lsr, dlsr; /* as the block carries them */
        uint64_t now_us;
        int want;
        uint64_t want_us;
    } c[] = {
        /* SR with NTP 0x00012345.00000000 sent at 1 s: LSR (middle 32 bits) 0x23450000 */
        {"no sr yet (lsr 0)", 0, 0, 1010000, 0, 0},
        {"unknown lsr", 0x00054321, 0, 1010000, 0, 0},
        {"held 0, back after 10 ms", 0x23450000, 0, 1010000, 1, 10000},
        {"held 0.5 s, back after 0.52 s: 20 ms, smoothed", 0x23450000, 32768, 1520000, 1,
         (7 * 10000 + 20000) / 8},
        {"held longer than elapsed", 0x23450000, 65536, 1500000, 0, 0},
        {"stale (over 5 s)", 0x23450000, 0, 7000000, 0, 0},
        {"before it was sent", 0x23450000, 0, 500000, 0, 0},
    };
    rtcp_rtt_t r;
    memset(&r, 0, sizeof(r));
    rtcp_rtt_sent(&r, 0x0001234500000000ull, 1000000);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint64_t rtt = 0;
        int got = rtcp_rtt_block(&r, c[i].lsr, c[i].dlsr, c[i].now_us, &rtt);
        if (got != c[i].want || (got && rtt != c[i].want_us))
            fprintf(stderr, "  case '%s': got %d, %llu us\n", c[i].name, got,
                    (unsigned long long)rtt);
        VCT_CHECK_EQ_INT(got, c[i].want);
        if (got)
            VCT_CHECK_EQ_INT(rtt, c[i].want_us);
    }
    /* only the last RTCP_RTT_SRS SRs are remembered */
    for (unsigned k = 0; k < RTCP_RTT_SRS; k++)
        rtcp_rtt_sent(&r, (uint64_t)(0x00100000u + k) << 16, 2000000 + k);
    uint64_t rtt;
    VCT_CHECK_EQ_INT(rtcp_rtt_block(&r, 0x23450000, 0, 2100000, &rtt), 0);
    VCT_CHECK_EQ_INT(rtcp_rtt_block(&r, 0x00100000, 0, 2100000, &rtt), 1);
}

static const vct_case_t cases[] = {
    {"sr_sdes", t_sr_sdes},   {"feedback", t_feedback},   {"remb", t_remb},
    {"builders", t_builders}, {"malformed", t_malformed}, {"rtt", t_rtt},
};
VCT_MAIN("rtcp", cases)
