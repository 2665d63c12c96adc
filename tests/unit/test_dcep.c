/* Unit tests: DCEP messages (core/dcep.c, RFC 8832) and the chat rules
 * (core/chat.c): a table of named cases. */
#include <stdint.h>
#include <string.h>

#include "media-worker/core/chat.h"
#include "media-worker/core/dcep.h"
#include "media-worker/core/sctppkt.h"
#include "media-worker/core/sdp.h"
#include "tests/unit/vctest.h"

/* A browser's OPEN for a reliable ordered channel "chat" (Chrome's bytes). */
static const uint8_t open_chat[] = {0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x04, 0x00, 0x00, 'c',  'h',  'a',  't'};

static void t_parse_open(void)
{
    dcep_msg_t m;
    VCT_CHECK_EQ_INT(dcep_parse(open_chat, sizeof(open_chat), &m), DCEP_OK);
    VCT_CHECK_EQ_INT(m.type, DCEP_MSG_OPEN);
    VCT_CHECK_EQ_INT(m.open.channel_type, DCEP_CHANNEL_RELIABLE);
    VCT_CHECK_EQ_INT(m.open.label_len, 4);
    VCT_CHECK(memcmp(m.open.label, "chat", 4) == 0);
    VCT_CHECK_EQ_INT(m.open.protocol_len, 0);
    VCT_CHECK(dcep_channel_ordered(m.open.channel_type));
}

static void t_parse_open_protocol(void)
{
    const uint8_t b[] = {0x03, 0x81, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05,
                         0x00, 0x01, 0x00, 0x02, 'x',  'p',  'q'};
    dcep_msg_t m;
    VCT_CHECK_EQ_INT(dcep_parse(b, sizeof(b), &m), DCEP_OK);
    VCT_CHECK_EQ_INT(m.open.channel_type, 0x81);
    VCT_CHECK(!dcep_channel_ordered(m.open.channel_type));
    VCT_CHECK_EQ_INT(m.open.priority, 256);
    VCT_CHECK_EQ_INT(m.open.reliability, 5);
    VCT_CHECK(m.open.label[0] == 'x' && m.open.protocol[0] == 'p' && m.open.protocol_len == 2);
}

static void t_parse_ack(void)
{
    const uint8_t b[] = {0x02}, b2[] = {0x02, 0x00};
    dcep_msg_t m;
    VCT_CHECK_EQ_INT(dcep_parse(b, 1, &m), DCEP_OK);
    VCT_CHECK_EQ_INT(m.type, DCEP_MSG_ACK);
    VCT_CHECK_EQ_INT(dcep_parse(b2, 2, &m), DCEP_ERR_TRAILING);
}

static void t_parse_errors(void)
{
    static const struct {
        const char *name;
        uint8_t b[20];
        size_t len;
        dcep_err_t want;
    } cases[] = {
        {"empty", {0}, 0, DCEP_ERR_SHORT},
        {"unknown type", {0x04}, 1, DCEP_ERR_TYPE},
        {"open header cut", {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 11, DCEP_ERR_SHORT},
        {"bad channel type", {0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, DCEP_ERR_CHANNEL_TYPE},
        {"bad channel type hi",
         {0x03, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
         12,
         DCEP_ERR_CHANNEL_TYPE},
        {"label longer than message",
         {0x03, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 'a'},
         13,
         DCEP_ERR_SHORT},
        {"protocol longer", {0x03, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 'a'}, 13, DCEP_ERR_SHORT},
        {"trailing", {0x03, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'a', 'b'}, 14, DCEP_ERR_TRAILING},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dcep_msg_t m;
        dcep_err_t e = dcep_parse(cases[i].b, cases[i].len, &m);
        if (e != cases[i].want)
            fprintf(stderr, "  case '%s': got %s\n", cases[i].name, dcep_err_str(e));
        VCT_CHECK_EQ_INT(e, cases[i].want);
    }
    VCT_CHECK_EQ_INT(dcep_parse(NULL, 3, NULL), DCEP_ERR_SHORT);
}

static void t_build_roundtrip(void)
{
    uint8_t buf[64];
    dcep_open_t o = {.channel_type = DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED,
                     .priority = 128,
                     .reliability = 3000,
                     .label = (const uint8_t *)"chat",
                     .label_len = 4,
                     .protocol = (const uint8_t *)"json",
                     .protocol_len = 4};
    size_t n = dcep_build_open(&o, buf, sizeof(buf));
    dcep_msg_t m;
    VCT_CHECK_EQ_INT(n, DCEP_OPEN_HEADER + 8);
    VCT_CHECK_EQ_INT(dcep_parse(buf, n, &m), DCEP_OK);
    VCT_CHECK_EQ_INT(m.open.channel_type, DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED);
    VCT_CHECK_EQ_INT(m.open.priority, 128);
    VCT_CHECK_EQ_INT(m.open.reliability, 3000);
    VCT_CHECK(memcmp(m.open.protocol, "json", 4) == 0);
    /* Reliable: the parameter is written as 0 (RFC 8832 5.1). */
    o.channel_type = DCEP_CHANNEL_RELIABLE;
    n = dcep_build_open(&o, buf, sizeof(buf));
    VCT_CHECK_EQ_INT(dcep_parse(buf, n, &m), DCEP_OK);
    VCT_CHECK_EQ_INT(m.open.reliability, 0);
    /* Same bytes as the browser's for a plain "chat". */
    dcep_open_t c = {.label = (const uint8_t *)"chat", .label_len = 4};
    n = dcep_build_open(&c, buf, sizeof(buf));
    VCT_CHECK(n == sizeof(open_chat) && memcmp(buf, open_chat, n) == 0);
}

static void t_build_limits(void)
{
    uint8_t buf[16];
    dcep_open_t o = {.label = (const uint8_t *)"toolonglabel", .label_len = 12};
    VCT_CHECK_EQ_INT(dcep_build_open(&o, buf, 15), 0);
    o.channel_type = 0x05;
    o.label_len = 0;
    VCT_CHECK_EQ_INT(dcep_build_open(&o, buf, sizeof(buf)), 0);
    VCT_CHECK_EQ_INT(dcep_build_ack(buf, 0), 0);
    VCT_CHECK_EQ_INT(dcep_build_ack(buf, 1), 1);
    VCT_CHECK_EQ_INT(buf[0], DCEP_MSG_ACK);
}

static void t_chat_text(void)
{
    static char big[CHAT_MAX_TEXT + 2];
    static const struct {
        const char *name, *text;
        chat_text_t want;
    } cases[] = {
        {"plain", "hello", CHAT_TEXT_OK},
        {"utf8", "h\xc3\xa9llo \xf0\x9f\x98\x80", CHAT_TEXT_OK},
        {"newlines", "a\nb\r\n\tc", CHAT_TEXT_OK},
        {"empty", "", CHAT_TEXT_EMPTY},
        {"blank", " \n\t ", CHAT_TEXT_EMPTY},
        {"control", "a\x01", CHAT_TEXT_BAD},
        {"del", "a\x7f", CHAT_TEXT_BAD},
        {"overlong", "\xc0\xaf", CHAT_TEXT_BAD},
        {"surrogate", "\xed\xa0\x80", CHAT_TEXT_BAD},
        {"cut", "\xe2\x82", CHAT_TEXT_BAD},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        chat_text_t r = chat_text_check(cases[i].text, strlen(cases[i].text));
        if (r != cases[i].want)
            fprintf(stderr, "  case '%s': got %d\n", cases[i].name, r);
        VCT_CHECK_EQ_INT(r, cases[i].want);
    }
    memset(big, 'x', sizeof(big));
    VCT_CHECK_EQ_INT(chat_text_check(big, CHAT_MAX_TEXT), CHAT_TEXT_OK);
    VCT_CHECK_EQ_INT(chat_text_check(big, CHAT_MAX_TEXT + 1), CHAT_TEXT_TOO_LONG);
    VCT_CHECK_EQ_INT(chat_text_check("a\0b", 3), CHAT_TEXT_BAD);
}

static void t_chat_rate(void)
{
    chat_rate_t r = {0};
    int ok = 0;
    /* Burst of 10 at once, then nothing. */
    for (int i = 0; i < 15; i++)
        ok += chat_rate_take(&r, 1000);
    VCT_CHECK_EQ_INT(ok, CHAT_RATE_BURST);
    /* 200 ms later: one more (5 per second). */
    VCT_CHECK_EQ_INT(chat_rate_take(&r, 1199), 0);
    VCT_CHECK_EQ_INT(chat_rate_take(&r, 1200), 1);
    VCT_CHECK_EQ_INT(chat_rate_take(&r, 1200), 0);
    /* A long pause refills to the burst, not beyond. */
    ok = 0;
    for (int i = 0; i < 20; i++)
        ok += chat_rate_take(&r, 100000);
    VCT_CHECK_EQ_INT(ok, CHAT_RATE_BURST);
    /* A clock going backwards refills nothing and does not underflow. */
    VCT_CHECK_EQ_INT(chat_rate_take(&r, 50), 0);
    /* Sustained 5/s passes. */
    chat_rate_t s = {0};
    ok = 0;
    for (int i = 0; i < 100; i++)
        ok += chat_rate_take(&s, 5000 + (uint64_t)i * 200);
    VCT_CHECK_EQ_INT(ok, 100);
}

static void t_sctp_pkt(void)
{
    /* header + DATA chunk (len 17, padded to 20) + SACK chunk (len 16) */
    uint8_t ok[12 + 20 + 16] = {0};
    ok[12] = 0, ok[14] = 0, ok[15] = 17;
    ok[32] = 3, ok[34] = 0, ok[35] = 16;
    VCT_CHECK_EQ_INT(sctp_pkt_check(ok, sizeof(ok)), SCTP_PKT_OK);
    /* last chunk without its padding is fine */
    VCT_CHECK_EQ_INT(sctp_pkt_check(ok, 12 + 17), SCTP_PKT_OK);
    VCT_CHECK_EQ_INT(sctp_pkt_check(ok, 12), SCTP_PKT_SHORT);
    VCT_CHECK_EQ_INT(sctp_pkt_check(NULL, 40), SCTP_PKT_SHORT);
    ok[35] = 3;
    VCT_CHECK_EQ_INT(sctp_pkt_check(ok, sizeof(ok)), SCTP_PKT_CHUNK_LEN);
    ok[35] = 17;
    VCT_CHECK_EQ_INT(sctp_pkt_check(ok, sizeof(ok)), SCTP_PKT_CHUNK_LEN);
    /* INIT with one good parameter, then with a zero-length one (the
     * packet that hung usrsctp 0.9.5). */
    uint8_t init[12 + 20 + 8] = {0};
    init[12] = 1, init[15] = 28;
    init[32] = 0x80, init[33] = 0x00, init[34] = 0, init[35] = 8;
    VCT_CHECK_EQ_INT(sctp_pkt_check(init, sizeof(init)), SCTP_PKT_OK);
    init[35] = 0;
    VCT_CHECK_EQ_INT(sctp_pkt_check(init, sizeof(init)), SCTP_PKT_PARAM_LEN);
    init[35] = 12;
    VCT_CHECK_EQ_INT(sctp_pkt_check(init, sizeof(init)), SCTP_PKT_PARAM_LEN);
    init[15] = 16;
    VCT_CHECK_EQ_INT(sctp_pkt_check(init, 12 + 16), SCTP_PKT_FIXED_LEN);
}

/* The offer's m=application sits after the publish m-lines (mid "dc"). */
static void t_sdp_app_offer(void)
{
    sdp_offer_mline_t ml[3] = {{.kind = SDP_KIND_AUDIO, .dir = SDP_DIR_RECVONLY},
                               {.kind = SDP_KIND_VIDEO, .dir = SDP_DIR_RECVONLY},
                               {.kind = SDP_KIND_AUDIO, .dir = SDP_DIR_INACTIVE}};
    const char *cands[1] = {"candidate:1 1 UDP 2015363327 127.0.0.1 40000 typ host"};
    sdp_offer_t o = {.session_id = 1,
                     .version = 1,
                     .ice_ufrag = "abcd",
                     .ice_pwd = "0123456789012345678901",
                     .fingerprint = "AB:CD",
                     .candidates = cands,
                     .n_candidates = 1,
                     .mlines = ml,
                     .n_mlines = 3,
                     .datachannel = 1};
    static char buf[16384];
    size_t len;
    VCT_CHECK_EQ_INT(sdp_build_offer(&o, buf, sizeof(buf), &len), 0);
    VCT_CHECK(strstr(buf, "a=group:BUNDLE 0 1 dc 2\r\n") != NULL);
    const char *app = strstr(buf, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
    VCT_CHECK(app != NULL);
    if (app == NULL)
        return;
    VCT_CHECK(strstr(app, "a=mid:dc\r\n") != NULL);
    VCT_CHECK(strstr(app, "a=sctp-port:5000\r\n") != NULL);
    VCT_CHECK(strstr(app, "a=max-message-size:262144\r\n") != NULL);
    /* after mid 1, before mid 2 */
    VCT_CHECK(strstr(buf, "a=mid:1\r\n") < app && strstr(buf, "a=mid:2\r\n") > app);
    o.n_mlines = 2;
    VCT_CHECK_EQ_INT(sdp_build_offer(&o, buf, sizeof(buf), &len), 0);
    VCT_CHECK(strstr(buf, "a=group:BUNDLE 0 1 dc\r\n") != NULL);
    o.datachannel = 0;
    VCT_CHECK_EQ_INT(sdp_build_offer(&o, buf, sizeof(buf), &len), 0);
    VCT_CHECK(strstr(buf, "m=application") == NULL);
}

static const char *ans_head = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                              "a=group:BUNDLE 0 1 dc\r\n"
                              "a=ice-ufrag:wxyz\r\na=ice-pwd:0123456789012345678901\r\n"
                              "a=fingerprint:sha-256 AB:CD\r\na=setup:active\r\n"
                              "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=sendonly\r\n"
                              "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=sendonly\r\n";

/* The answer's m=application goes to a->app, not to mlines[]. */
static void t_sdp_app_answer(void)
{
    static const struct {
        const char *name, *app;
        int rc, present, accepted, port;
        unsigned max;
    } cases[] = {
        {"accepted",
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n"
         "a=sctp-port:5001\r\na=max-message-size:1000\r\n",
         0, 1, 1, 5001, 1000},
        {"defaults", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n", 0, 1, 1,
         5000, 65536},
        {"rejected", "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n", 0, 1, 0,
         5000, 65536},
        {"old sctpmap", "m=application 9 DTLS/SCTP 5000\r\na=mid:dc\r\n", 0, 1, 0, 5000, 65536},
        {"absent", "", 0, 0, 0, 0, 0},
        {"wrong mid", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:x\r\n", -1, 0, 0,
         0, 0},
        {"bad port",
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n"
         "a=sctp-port:0\r\n",
         -1, 0, 0, 0, 0},
        {"two",
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n"
         "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:dc\r\n",
         -1, 0, 0, 0, 0},
    };
    static sdp_answer_t a;
    static char sdp[4096];
    char err[200];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(sdp, sizeof(sdp), "%s%s", ans_head, cases[i].app);
        int rc = sdp_parse_answer(sdp, strlen(sdp), &a, err, sizeof(err));
        if (rc != cases[i].rc)
            fprintf(stderr, "  case '%s': rc %d (%s)\n", cases[i].name, rc, err);
        VCT_CHECK_EQ_INT(rc, cases[i].rc);
        if (rc != 0)
            continue;
        VCT_CHECK_EQ_INT(a.n_mlines, 2);
        VCT_CHECK_EQ_INT(a.app.present, cases[i].present);
        VCT_CHECK_EQ_INT(a.app.accepted, cases[i].accepted);
        if (cases[i].present) {
            VCT_CHECK_EQ_INT(a.app.sctp_port, cases[i].port);
            VCT_CHECK_EQ_INT(a.app.max_message_size, cases[i].max);
        }
    }
}

int main(void)
{
    static const vct_case_t cases[] = {
        {"parse_open", t_parse_open},
        {"parse_open_protocol", t_parse_open_protocol},
        {"parse_ack", t_parse_ack},
        {"parse_errors", t_parse_errors},
        {"build_roundtrip", t_build_roundtrip},
        {"build_limits", t_build_limits},
        {"chat_text", t_chat_text},
        {"chat_rate", t_chat_rate},
        {"sctp_pkt", t_sctp_pkt},
        {"sdp_app_offer", t_sdp_app_offer},
        {"sdp_app_answer", t_sdp_app_answer},
    };
    return vct_run("dcep", cases, sizeof(cases) / sizeof(cases[0]));
}
