/* twcc: feedback build/parse round trips and the estimator's reaction. */
#include "media-worker/core/bwe.h"
#include "media-worker/core/twcc.h"
#include "tests/unit/vctest.h"

static twcc_rx_t rx;
static twcc_pkt_t pk[2048];

/* Records arrivals (0: lost), builds, parses, compares. */
static void roundtrip(uint16_t seq0, const int64_t *arr, size_t n)
{
    twcc_rx_init(&rx, 1, 2);
    for (size_t i = 0; i < n; i++)
        if (arr[i] >= 0)
            twcc_rx_packet(&rx, (uint16_t)(seq0 + i), (uint64_t)arr[i]);
    uint8_t b[1500];
    size_t len = twcc_rx_build(&rx, b, sizeof(b));
    VCT_CHECK(len > 0 && len % 4 == 0);
    twcc_fb_t h;
    size_t m;
    VCT_CHECK_EQ_INT(twcc_fb_parse(b, len, &h, pk, 2048, &m), TWCC_OK);
    VCT_CHECK_EQ_INT(h.base_seq, seq0);
    /* trailing losses are not reported until a later arrival */
    size_t last = n;
    while (last > 0 && arr[last - 1] < 0)
        last--;
    VCT_CHECK_EQ_INT(m, last);
    for (size_t i = 0; i < m && i < n; i++) {
        VCT_CHECK_EQ_INT(pk[i].seq, (uint16_t)(seq0 + i));
        VCT_CHECK_EQ_INT(pk[i].received, arr[i] >= 0);
        if (arr[i] >= 0) {
            int64_t err = pk[i].arrival_us - arr[i];
            VCT_CHECK(err >= -250 && err <= 250);
        }
    }
    VCT_CHECK_EQ_INT(twcc_rx_pending(&rx), n - last);
}

static void t_all_received(void)
{
    int64_t a[40];
    for (int i = 0; i < 40; i++)
        a[i] = 1000000 + i * 3000;
    roundtrip(65530, a, 40); /* wraps */
}

static void t_losses_and_large(void)
{
    int64_t a[] = {5000000, -1, 5000900, 5100000, -1, -1, 5099000, 5200000, 5000000, -1, 5200100};
    roundtrip(100, a, sizeof(a) / sizeof(a[0]));
}

static void t_long_run_lost(void)
{
    static int64_t a[600];
    for (int i = 0; i < 600; i++)
        a[i] = (i == 0 || i == 599) ? 1000000 + i * 1000 : -1;
    roundtrip(7, a, 600);
}

static void t_parse_errors(void)
{
    uint8_t b[24] = {0x8f, 205, 0, 5, 0, 0, 0, 1, 0,    0, 0, 2,
                     0,    1,   0, 3, 0, 0, 1, 0, 0xf0, 0, 0, 0};
    twcc_fb_t h;
    size_t m;
    /* status count 3 but a 2-bit vector chunk with a reserved symbol */
    VCT_CHECK_EQ_INT(twcc_fb_parse(b, sizeof(b), &h, pk, 10, &m), TWCC_ERR_STATUS);
    b[20] = 0x20; /* run of small deltas, length 0x0003: needs 3 delta bytes */
    b[21] = 0x03;
    VCT_CHECK_EQ_INT(twcc_fb_parse(b, sizeof(b), &h, pk, 10, &m), TWCC_ERR_SHORT);
    b[0] = 0x81;
    VCT_CHECK_EQ_INT(twcc_fb_parse(b, sizeof(b), &h, pk, 10, &m), TWCC_ERR_HEADER);
}

static void t_bwe_overuse_decreases(void)
{
    static bwe_t b;
    bwe_cfg_t c = {.start_bps = 2000000};
    bwe_init(&b, &c);
    /* 1200-byte packets every 2 ms (4.8 Mbps) through a 2.4 Mbps link: the
     * queue (and the delay) grows by 2 ms per packet. */
    uint64_t t = 0;
    uint16_t s = 0;
    for (int round = 0; round < 40; round++) {
        twcc_pkt_t p[25];
        for (int i = 0; i < 25; i++, s++, t += 2000) {
            bwe_on_sent(&b, s, 1200, t);
            p[i] = (twcc_pkt_t){.seq = s, .received = 1, .arrival_us = (int64_t)(s * 4000 + 20000)};
        }
        bwe_on_feedback(&b, p, 25, t + 20000);
    }
    VCT_CHECK(bwe_estimate(&b) <= bwe_acked_bps(&b) * 9 / 10);
    VCT_CHECK(bwe_acked_bps(&b) > 2000000 && bwe_acked_bps(&b) < 2800000);
}

static const vct_case_t cases[] = {
    {"all_received", t_all_received},
    {"losses_and_large_deltas", t_losses_and_large},
    {"long_run_lost", t_long_run_lost},
    {"parse_errors", t_parse_errors},
    {"bwe_overuse_decreases", t_bwe_overuse_decreases},
};
VCT_MAIN("twcc", cases)
