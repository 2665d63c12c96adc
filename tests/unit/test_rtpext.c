/* rtpext: RFC 8285 one-byte and two-byte header extensions. */
#include "media-worker/core/rtpext.h"
#include "tests/unit/vctest.h"

static void t_one_byte(void)
{
    /* id 1 len 1, padding, id 3 len 2, then id 15 stops parsing */
    static const uint8_t d[] = {0x10, 0x85, 0x00, 0x31, 0x12, 0x34, 0xf0, 0x99};
    rtpext_list_t l;
    VCT_CHECK_EQ_INT(rtpext_parse(0xBEDE, d, sizeof(d), &l), RTPEXT_OK);
    VCT_CHECK_EQ_INT(l.n, 2);
    const rtpext_elem_t *e = rtpext_find(&l, 3);
    VCT_CHECK(e && e->len == 2 && rtpext_twcc_seq(d + e->off) == 0x1234);
    uint8_t level;
    int voice;
    rtpext_audio_level(d + rtpext_find(&l, 1)->off, &level, &voice);
    VCT_CHECK_EQ_INT(level, 5);
    VCT_CHECK_EQ_INT(voice, 1);
}

static void t_two_byte(void)
{
    static const uint8_t d[] = {0x01, 0x00, 0x00, 0x14, 0x03, 0xaa, 0xbb, 0xcc};
    rtpext_list_t l;
    VCT_CHECK_EQ_INT(rtpext_parse(0x1005, d, sizeof(d), &l), RTPEXT_OK);
    VCT_CHECK_EQ_INT(l.n, 2);
    VCT_CHECK_EQ_INT(l.e[0].len, 0);
    VCT_CHECK_EQ_INT(l.e[1].id, 20);
    VCT_CHECK_EQ_INT(l.e[1].len, 3);
}

static void t_errors(void)
{
    static const uint8_t over[] = {0x13, 0x00};
    static const uint8_t two_short[] = {0x05};
    rtpext_list_t l;
    VCT_CHECK_EQ_INT(rtpext_parse(0xBEDE, over, sizeof(over), &l), RTPEXT_ERR_SHORT);
    VCT_CHECK_EQ_INT(rtpext_parse(0x1000, two_short, 1, &l), RTPEXT_ERR_SHORT);
    VCT_CHECK_EQ_INT(rtpext_parse(0x1234, over, 2, &l), RTPEXT_ERR_PROFILE);
    uint8_t many[40];
    for (size_t i = 0; i < sizeof(many); i++)
        many[i] = 0x10; /* id 1, 1 byte, repeated */
    VCT_CHECK_EQ_INT(rtpext_parse(0xBEDE, many, sizeof(many), &l), RTPEXT_ERR_TOO_MANY);
}

static void t_write_roundtrip(void)
{
    uint8_t tw[2] = {0xab, 0xcd}, al[1] = {0x90}, big[20] = {0};
    rtpext_item_t one[] = {{3, 2, tw}, {1, 1, al}};
    uint8_t b[64];
    size_t n = rtpext_write(b, sizeof(b), one, 2);
    VCT_CHECK_EQ_INT(n, 12);
    VCT_CHECK(b[0] == 0xBE && b[1] == 0xDE && b[3] == 2);
    rtpext_list_t l;
    VCT_CHECK_EQ_INT(rtpext_parse(0xBEDE, b + 4, n - 4, &l), RTPEXT_OK);
    VCT_CHECK_EQ_INT(l.n, 2);
    rtpext_item_t two[] = {{3, 2, tw}, {1, 20, big}};
    n = rtpext_write(b, sizeof(b), two, 2);
    VCT_CHECK(n > 0 && b[0] == 0x10 && b[1] == 0x00);
    VCT_CHECK_EQ_INT(rtpext_parse(0x1000, b + 4, n - 4, &l), RTPEXT_OK);
    VCT_CHECK_EQ_INT(l.n, 2);
    VCT_CHECK_EQ_INT(rtpext_write(b, 6, one, 2), 0);
}

static void t_set_in_packet(void)
{
    uint8_t pkt[] = {0x90, 96,   0,    1, 0, 0,    0,    2,    0,    0,  0,
                     3,    0xBE, 0xDE, 0, 1, 0x31, 0x00, 0x01, 0x00, 'x'};
    uint8_t v[2] = {0x55, 0x66};
    VCT_CHECK_EQ_INT(rtpext_set(pkt, 0xBEDE, 16, 4, 3, v, 2), 0);
    size_t len;
    const uint8_t *p = rtpext_get(pkt, 0xBEDE, 16, 4, 3, &len);
    VCT_CHECK(p && len == 2 && rtpext_twcc_seq(p) == 0x5566);
    VCT_CHECK_EQ_INT(rtpext_set(pkt, 0xBEDE, 16, 4, 4, v, 2), -1);
}

static const vct_case_t cases[] = {
    {"one_byte", t_one_byte},
    {"two_byte", t_two_byte},
    {"errors", t_errors},
    {"write_roundtrip", t_write_roundtrip},
    {"set_in_packet", t_set_in_packet},
};
VCT_MAIN("rtpext", cases)
