/* nack: generator timing and limits, NACK build/parse, RTX wrap/unwrap,
 * and the packet cache. */
#include "media-worker/core/nack.h"
#include "media-worker/core/pktcache.h"
#include "tests/unit/vctest.h"

static void t_gap_then_retry(void)
{
    nack_gen_t g;
    uint16_t s[NACK_MAX_MISSING];
    nack_gen_init(&g, 40000);
    nack_gen_packet(&g, 65534, 0);
    nack_gen_packet(&g, 2, 1000);                        /* 65535, 0, 1 missing across the wrap */
    VCT_CHECK_EQ_INT(nack_gen_poll(&g, 2000, s, 16), 0); /* reorder hold */
    VCT_CHECK_EQ_INT(nack_gen_poll(&g, 6000, s, 16), 3);
    VCT_CHECK(s[0] == 65535 && s[1] == 0 && s[2] == 1);
    VCT_CHECK_EQ_INT(nack_gen_poll(&g, 7000, s, 16), 0); /* waits an RTT */
    VCT_CHECK_EQ_INT(nack_gen_packet(&g, 0, 8000), 1);
    VCT_CHECK_EQ_INT(nack_gen_poll(&g, 6000 + 60000, s, 16), 2);
    VCT_CHECK_EQ_INT(g.st.recovered, 1);
}

static void t_limits(void)
{
    nack_gen_t g;
    uint16_t s[NACK_MAX_MISSING];
    nack_gen_init(&g, 10000);
    nack_gen_packet(&g, 10, 0);
    nack_gen_packet(&g, 12, 0);
    uint64_t t = 10000;
    for (int i = 0; i < 20; i++, t += 30000)
        nack_gen_poll(&g, t, s, 16);
    VCT_CHECK_EQ_INT(g.st.requested, 10); /* max_tries */
    VCT_CHECK_EQ_INT(g.st.given_up, 1);
    VCT_CHECK_EQ_INT(nack_gen_take_keyframe(&g), 1);
    VCT_CHECK_EQ_INT(nack_gen_take_keyframe(&g), 0);
    nack_gen_packet(&g, 12 + 1000, t); /* too large a gap: keyframe instead */
    VCT_CHECK_EQ_INT(g.n, 0);
    VCT_CHECK_EQ_INT(nack_gen_take_keyframe(&g), 1);
}

static void t_build_parse(void)
{
    uint16_t in[] = {100, 101, 116, 117, 300, 65535};
    uint8_t b[128];
    size_t n = nack_build(b, sizeof(b), 1, 0xabc, in, 6);
    VCT_CHECK_EQ_INT(n, 12 + 4 * 4); /* 100+{101,116}, 117, 300, 65535 */
    uint16_t out[64];
    size_t m;
    uint32_t media;
    VCT_CHECK_EQ_INT(nack_parse(b, n, &media, out, 64, &m), NACK_OK);
    VCT_CHECK_EQ_INT(media, 0xabc);
    VCT_CHECK_EQ_INT(m, 6);
    for (size_t i = 0; i < 6 && i < m; i++)
        VCT_CHECK_EQ_INT(out[i], in[i]);
    b[0] = 0x82;
    VCT_CHECK_EQ_INT(nack_parse(b, n, &media, out, 64, &m), NACK_ERR_HEADER);
    VCT_CHECK_EQ_INT(nack_parse(b, 8, &media, out, 64, &m), NACK_ERR_SHORT);
}

static void t_rtx_roundtrip(void)
{
    uint8_t pkt[] = {0xa0, 0x80 | 96, 0x12, 0x34, 0, 0, 0, 9, 0, 0, 0, 7, 'a', 'b', 'c', 0, 2};
    rtp_header_t h, rh, oh;
    VCT_CHECK_EQ_INT(rtp_parse(pkt, sizeof(pkt), &h), RTP_OK);
    uint8_t rtx[64], back[64];
    size_t n = nack_rtx_wrap(rtx, sizeof(rtx), pkt, &h, 97, 0x77, 5);
    VCT_CHECK_EQ_INT(n, 12 + 2 + 3);
    VCT_CHECK_EQ_INT(rtp_parse(rtx, n, &rh), RTP_OK);
    VCT_CHECK(rh.pt == 97 && rh.ssrc == 0x77 && rh.seq == 5 && rh.marker && !rh.padding);
    size_t m = nack_rtx_unwrap(back, sizeof(back), rtx, &rh, 96, 7);
    VCT_CHECK_EQ_INT(rtp_parse(back, m, &oh), RTP_OK);
    VCT_CHECK(oh.seq == 0x1234 && oh.ssrc == 7 && oh.pt == 96 && oh.payload_len == 3 &&
              back[oh.payload_off] == 'a');
}

static void t_cache(void)
{
    pktcache_t c;
    pktcache_init(&c, 500, 100, 1000000);
    uint8_t p[8] = {1, 2, 3};
    size_t len;
    VCT_CHECK_EQ_INT(pktcache_put(&c, 5, p, 8, 0), 0);
    VCT_CHECK(pktcache_get(&c, 5, 999999, &len) && len == 8);
    VCT_CHECK(pktcache_get(&c, 5, 1000001, &len) == NULL);  /* too old */
    VCT_CHECK(pktcache_get(&c, 5 + 512, 10, &len) == NULL); /* other seq, same slot */
    pktcache_put(&c, 5 + 512, p, 8, 10);
    VCT_CHECK(pktcache_get(&c, 5, 10, &len) == NULL); /* overwritten */
    uint8_t big[200] = {0};
    VCT_CHECK_EQ_INT(pktcache_put(&c, 6, big, sizeof(big), 0), -1);
    pktcache_fini(&c);
}

/* The byte ring: packets back to back, a new lap once the lap's first
 * bytes are too old or the ring is full, older laps' bytes invalid once the
 * writer passed them. */
static void t_cache_ring(void)
{
    pktcache_t c;
    pktcache_init(&c, 8, 50, 1000); /* 8 entries, a 400-byte ring, 1 ms */
    uint8_t p[100];
    size_t len;
    for (int i = 0; i < 100; i++)
        p[i] = (uint8_t)i;
    /* Stored back to back: three 50-byte packets use 150 bytes. */
    for (uint16_t s = 0; s < 3; s++)
        VCT_CHECK_EQ_INT(pktcache_put(&c, s, p, 50, 0), 0);
    VCT_CHECK_EQ_INT(c.wpos, 150);
    const uint8_t *g = pktcache_get(&c, 1, 0, &len);
    VCT_CHECK(g != NULL && len == 50 && g == c.data + 50 && g[49] == 49);
    /* Past max_age since the lap started: the next put starts a new lap at
     * offset 0 and only packet 0's bytes are lost. */
    VCT_CHECK_EQ_INT(pktcache_put(&c, 3, p, 40, 900), 0);
    VCT_CHECK_EQ_INT(pktcache_put(&c, 4, p, 30, 1001), 0);
    VCT_CHECK_EQ_INT(c.wpos, 30);
    VCT_CHECK(pktcache_get(&c, 4, 1001, &len) != NULL && len == 30);
    VCT_CHECK(pktcache_get(&c, 0, 1000, &len) == NULL); /* at 0, overwritten */
    VCT_CHECK(pktcache_get(&c, 1, 1000, &len) != NULL); /* at 50, past 30 */
    VCT_CHECK(pktcache_get(&c, 3, 1001, &len) != NULL); /* at 150 */
    /* The writer reaches packet 1's bytes: gone, though not too old. */
    VCT_CHECK_EQ_INT(pktcache_put(&c, 5, p, 40, 1001), 0);
    VCT_CHECK(pktcache_get(&c, 1, 1000, &len) == NULL);
    VCT_CHECK(pktcache_get(&c, 2, 1000, &len) != NULL); /* at 100, past 70 */
    /* Full ring: a packet that does not fit starts a new lap too. */
    pktcache_t d;
    pktcache_init(&d, 2, 100, 1000000);
    VCT_CHECK_EQ_INT(pktcache_put(&d, 0, p, 100, 0), 0);
    VCT_CHECK_EQ_INT(pktcache_put(&d, 1, p, 90, 0), 0);
    VCT_CHECK_EQ_INT(pktcache_put(&d, 2, p, 20, 0), 0); /* 190 + 20 > 200 */
    VCT_CHECK_EQ_INT(d.wpos, 20);
    VCT_CHECK(pktcache_get(&d, 1, 0, &len) != NULL && len == 90);
    pktcache_fini(&d);
    pktcache_fini(&c);
}

static const vct_case_t cases[] = {
    {"gap_then_retry", t_gap_then_retry}, {"limits", t_limits}, {"build_parse", t_build_parse},
    {"rtx_roundtrip", t_rtx_roundtrip},   {"cache", t_cache},   {"cache_ring", t_cache_ring},
};
VCT_MAIN("nack", cases)
