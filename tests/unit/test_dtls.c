/* test_dtls: two DTLS-SRTP endpoints handshake entirely in memory (datagrams
 * passed by hand, no sockets), then SRTP in both directions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media-worker/core/rtp.h"
#include "media-worker/shell/dtls.h"
#include "media-worker/shell/srtp.h"
#include "tests/unit/vctest.h"

#define TD_MAX_DGRAMS 64

typedef struct {
    size_t n;
    size_t len[TD_MAX_DGRAMS];
    uint8_t buf[TD_MAX_DGRAMS][1500];
    size_t max_len;
} td_outbox_t;

typedef struct {
    mw_dtls_identity_t *id_s, *id_c;
    td_outbox_t out_s, out_c;
    mw_dtls_t *s, *c;
} td_pair_t;

/* Send callback: queues the datagram. */
static void td_send(const uint8_t *dgram, size_t len, void *user)
{
    td_outbox_t *o = user;

    if (len > o->max_len)
        o->max_len = len;
    if (o->n >= TD_MAX_DGRAMS || len > sizeof(o->buf[0]))
        return;
    memcpy(o->buf[o->n], dgram, len);
    o->len[o->n++] = len;
}

/* Delivers everything queued in from to the endpoint to. Returns the count. */
static size_t td_deliver(td_outbox_t *from, mw_dtls_t *to)
{
    size_t n = from->n;
    static uint8_t copy[TD_MAX_DGRAMS][1500];
    size_t len[TD_MAX_DGRAMS];

    /* to may answer while we iterate: deliver a snapshot. */
    memcpy(copy, from->buf, sizeof(copy));
    memcpy(len, from->len, sizeof(len));
    from->n = 0;
    for (size_t i = 0; i < n; i++)
        mw_dtls_handle(to, copy[i], len[i]);
    return n;
}

/* Builds a pair; the client expects fp_c_expect (NULL: the server's real
 * fingerprint) and the server the client's real one unless fp_s_expect. */
static void td_pair_init(td_pair_t *p, const char *c_expect, const char *s_expect)
{
    mw_dtls_fp_t fs, fc;

    memset(p, 0, sizeof(*p));
    p->id_s = mw_dtls_identity_new();
    p->id_c = mw_dtls_identity_new();
    VCT_CHECK(p->id_s && p->id_c);
    if (!p->id_s || !p->id_c)
        return;
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-256",
                                      c_expect ? c_expect : mw_dtls_identity_fingerprint(p->id_s),
                                      &fc),
                     0);
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("SHA-256",
                                      s_expect ? s_expect : mw_dtls_identity_fingerprint(p->id_c),
                                      &fs),
                     0);
    p->s = mw_dtls_new(p->id_s, 1, &fs, td_send, &p->out_s);
    p->c = mw_dtls_new(p->id_c, 0, &fc, td_send, &p->out_c);
    VCT_CHECK(p->s && p->c);
}

/* Runs the handshake until nothing moves. */
static void td_pair_run(td_pair_t *p)
{
    if (!p->s || !p->c)
        return;
    mw_dtls_start(p->s);
    mw_dtls_start(p->c);
    for (int round = 0; round < 20; round++)
        if (td_deliver(&p->out_c, p->s) + td_deliver(&p->out_s, p->c) == 0)
            break;
}

/* Frees everything of a pair. */
static void td_pair_fini(td_pair_t *p)
{
    mw_dtls_free(p->s);
    mw_dtls_free(p->c);
    mw_dtls_identity_free(p->id_s);
    mw_dtls_identity_free(p->id_c);
}

/* Protects one RTP and one RTCP packet with a, unprotects them with b. */
static void td_srtp_roundtrip(mw_srtp_t *a, mw_srtp_t *b, uint8_t seq)
{
    uint8_t rtp[200 + MW_SRTP_TRAILER_ROOM], rtcp[64 + MW_SRTP_TRAILER_ROOM], orig[200];
    size_t len = 200, rlen = 28;

    memset(rtp, 0, sizeof(rtp));
    rtp[0] = 0x80;
    rtp[1] = 96;
    rtp[3] = seq;
    rtp[11] = 0x42; /* SSRC */
    for (size_t i = 12; i < len; i++)
        rtp[i] = (uint8_t)(i * 7 + seq);
    memcpy(orig, rtp, len);
    VCT_CHECK_EQ_INT(mw_srtp_protect_rtp(a, rtp, &len), 0);
    VCT_CHECK(len > 200);
    VCT_CHECK(memcmp(rtp + 12, orig + 12, 188) != 0);
    VCT_CHECK_EQ_INT(mw_srtp_unprotect_rtp(b, rtp, &len), 0);
    VCT_CHECK_EQ_INT(len, 200);
    VCT_CHECK(memcmp(rtp, orig, 200) == 0);

    /* RTCP receiver report, RFC 3550 6.4.2, one block. */
    memset(rtcp, 0, sizeof(rtcp));
    rtcp[0] = 0x81;
    rtcp[1] = 201;
    rtcp[3] = 6;
    rtcp[7] = 0x43;
    memcpy(orig, rtcp, rlen);
    VCT_CHECK_EQ_INT(mw_srtp_protect_rtcp(a, rtcp, &rlen), 0);
    VCT_CHECK(rlen > 28);
    VCT_CHECK_EQ_INT(mw_srtp_unprotect_rtcp(b, rtcp, &rlen), 0);
    VCT_CHECK_EQ_INT(rlen, 28);
    VCT_CHECK(memcmp(rtcp, orig, 28) == 0);
}

/* Full handshake: both connected, keys crosswise equal, SRTP both ways. */
static void td_handshake_and_srtp(void)
{
    td_pair_t p;
    mw_srtp_keys_t ks, kc;
    mw_srtp_t ss, sc;

    td_pair_init(&p, NULL, NULL);
    td_pair_run(&p);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.s), MW_DTLS_CONNECTED);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_CONNECTED);
    VCT_CHECK(p.out_s.max_len <= MW_DTLS_MTU && p.out_c.max_len <= MW_DTLS_MTU);
    if (mw_dtls_srtp_keys(p.s, &ks) < 0 || mw_dtls_srtp_keys(p.c, &kc) < 0) {
        VCT_CHECK(!"keys");
        goto out;
    }
    VCT_CHECK_EQ_INT(ks.profile, kc.profile);
    VCT_CHECK_EQ_INT(ks.profile, mw_srtp_gcm_supported() ? MW_SRTP_AEAD_AES_128_GCM
                                                         : MW_SRTP_AES128_CM_SHA1_80);
    VCT_CHECK_EQ_INT(ks.len, mw_srtp_key_salt_len(ks.profile));
    VCT_CHECK(memcmp(ks.local, kc.remote, ks.len) == 0);
    VCT_CHECK(memcmp(ks.remote, kc.local, ks.len) == 0);
    VCT_CHECK(memcmp(ks.local, ks.remote, ks.len) != 0);
    VCT_CHECK_EQ_INT(mw_srtp_init(&ss, &ks), 0);
    VCT_CHECK_EQ_INT(mw_srtp_init(&sc, &kc), 0);
    for (uint8_t seq = 1; seq < 4; seq++) {
        td_srtp_roundtrip(&ss, &sc, seq);
        td_srtp_roundtrip(&sc, &ss, seq);
    }
    mw_srtp_fini(&ss);
    mw_srtp_fini(&sc);
out:
    td_pair_fini(&p);
}

/* Protects an RTP packet (ssrc, seq) with a; unprotects it with b unless
 * b is NULL. Returns b's result (0 for a NULL b). */
static int td_srtp_send(mw_srtp_t *a, mw_srtp_t *b, uint32_t ssrc, uint16_t seq)
{
    uint8_t rtp[100 + MW_SRTP_TRAILER_ROOM];
    size_t len = 100;

    memset(rtp, 0, sizeof(rtp));
    rtp[0] = 0x80;
    rtp[1] = 96;
    rtp_wr16(rtp + 2, seq);
    rtp_wr32(rtp + 8, ssrc);
    VCT_CHECK_EQ_INT(mw_srtp_protect_rtp(a, rtp, &len), 0);
    return b ? mw_srtp_unprotect_rtp(b, rtp, &len) : 0;
}

/* The native sender's SSRC table grows as SSRCs come (16 slots first): an
 * SSRC's rollover counter survives the moves (RFC 3711 3.3.1), so its
 * receiver still authenticates it past the wrap. */
static void td_srtp_table_growth(void)
{
    td_pair_t p;
    mw_srtp_keys_t ks, kc;
    mw_srtp_t ss, sc;

    td_pair_init(&p, NULL, NULL);
    td_pair_run(&p);
    if (mw_dtls_srtp_keys(p.s, &ks) < 0 || mw_dtls_srtp_keys(p.c, &kc) < 0) {
        VCT_CHECK(!"keys");
        goto out;
    }
    VCT_CHECK_EQ_INT(mw_srtp_init(&ss, &ks), 0);
    VCT_CHECK_EQ_INT(mw_srtp_init(&sc, &kc), 0);
    VCT_CHECK_EQ_INT(td_srtp_send(&ss, &sc, 0x1234, 65534), 0);
    VCT_CHECK_EQ_INT(td_srtp_send(&ss, &sc, 0x1234, 65535), 0);
    for (uint32_t i = 0; i < 100; i++)
        td_srtp_send(&ss, NULL, 0x50000 + i * 7919, 1);
    VCT_CHECK_EQ_INT(td_srtp_send(&ss, &sc, 0x1234, 0), 0);
    VCT_CHECK_EQ_INT(td_srtp_send(&ss, &sc, 0x1234, 1), 0);
    mw_srtp_fini(&ss);
    mw_srtp_fini(&sc);
out:
    td_pair_fini(&p);
}

/* The client expects another certificate: nobody connects. */
static void td_wrong_fp_client(void)
{
    td_pair_t p;
    mw_dtls_identity_t *other = mw_dtls_identity_new();

    td_pair_init(&p, mw_dtls_identity_fingerprint(other), NULL);
    td_pair_run(&p);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_FAILED);
    VCT_CHECK(mw_dtls_state(p.s) != MW_DTLS_CONNECTED);
    VCT_CHECK(strstr(mw_dtls_error(p.c), "fingerprint") != NULL);
    td_pair_fini(&p);
    mw_dtls_identity_free(other);
}

/* The server expects another certificate: nobody connects. */
static void td_wrong_fp_server(void)
{
    td_pair_t p;
    mw_dtls_identity_t *other = mw_dtls_identity_new();

    td_pair_init(&p, NULL, mw_dtls_identity_fingerprint(other));
    td_pair_run(&p);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.s), MW_DTLS_FAILED);
    VCT_CHECK(mw_dtls_state(p.c) != MW_DTLS_CONNECTED);
    td_pair_fini(&p);
    mw_dtls_identity_free(other);
}

/* close_notify from one side closes the other. */
static void td_close_notify(void)
{
    td_pair_t p;

    td_pair_init(&p, NULL, NULL);
    td_pair_run(&p);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_CONNECTED);
    mw_dtls_close(p.c);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_CLOSED);
    VCT_CHECK_EQ_INT(td_deliver(&p.out_c, p.s), 1);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.s), MW_DTLS_CLOSED);
    td_pair_fini(&p);
}

/* The client's timer runs after its ClientHello; a lost one comes again. */
static void td_timer(void)
{
    td_pair_t p;
    int ms;

    td_pair_init(&p, NULL, NULL);
    VCT_CHECK_EQ_INT(mw_dtls_timeout_ms(p.c), -1);
    mw_dtls_start(p.c);
    VCT_CHECK_EQ_INT(p.out_c.n, 1);
    ms = mw_dtls_timeout_ms(p.c);
    VCT_CHECK(ms > 0 && ms <= 1000);
    p.out_c.n = 0;               /* lost */
    mw_dtls_handle_timeout(p.c); /* not due yet: nothing sent */
    VCT_CHECK_EQ_INT(p.out_c.n, 0);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_HANDSHAKING);
    VCT_CHECK_EQ_INT(mw_dtls_timeout_ms(p.s), -1); /* the server waits */
    td_pair_fini(&p);
}

/* Garbage and truncated records into a server neither crash nor connect. */
static void td_garbage(void)
{
    td_pair_t p;
    uint8_t junk[300];

    td_pair_init(&p, NULL, NULL);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 31 + 7);
    junk[0] = 22;
    mw_dtls_handle(p.s, junk, sizeof(junk));
    mw_dtls_handle(p.s, junk, 5);
    mw_dtls_handle(p.s, junk, 1);
    VCT_CHECK(mw_dtls_state(p.s) != MW_DTLS_CONNECTED);
    td_pair_fini(&p);
}

/* Fingerprint syntax: RFC 8122 5 names, hex pairs with colons. */
static void td_fp_parse(void)
{
    mw_dtls_fp_t fp;
    char sha1[60], sha512[200];

    memset(sha1, 0, sizeof(sha1));
    for (int i = 0; i < 20; i++)
        memcpy(sha1 + 3 * i, i < 19 ? "aB:" : "aB", 3);
    memset(sha512, 0, sizeof(sha512));
    for (int i = 0; i < 64; i++)
        memcpy(sha512 + 3 * i, i < 63 ? "01:" : "01", 3);
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-1", sha1, &fp), 0);
    VCT_CHECK_EQ_INT(fp.len, 20);
    VCT_CHECK_EQ_INT(fp.digest[0], 0xab);
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-512", sha512, &fp), 0);
    VCT_CHECK_EQ_INT(fp.len, 64);
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-256", sha1, &fp), -1);
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("md5", sha1, &fp), -1);
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse(NULL, sha1, &fp), -1);
    sha1[5] = 'x';
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-1", sha1, &fp), -1);
    sha1[5] = ':';
    sha1[4] = '-';
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-1", sha1, &fp), -1);
}

/* Our own fingerprint is 32 uppercase hex pairs. */
static void td_identity_fp(void)
{
    mw_dtls_identity_t *id = mw_dtls_identity_new();
    mw_dtls_fp_t fp;
    const char *s;

    VCT_CHECK(id != NULL);
    if (!id)
        return;
    s = mw_dtls_identity_fingerprint(id);
    VCT_CHECK_EQ_INT(strlen(s), 95);
    for (const char *c = s; *c; c++)
        VCT_CHECK(*c == ':' || (*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F'));
    VCT_CHECK_EQ_INT(mw_dtls_fp_parse("sha-256", s, &fp), 0);
    mw_dtls_identity_free(id);
}

/* SRTP with the mandatory profile and fixed keys; tampering is caught. */
static void td_srtp_cm(void)
{
    mw_srtp_keys_t ka, kb;
    mw_srtp_t a, b;
    uint8_t pkt[100 + MW_SRTP_TRAILER_ROOM];
    size_t len = 100;

    memset(&ka, 0, sizeof(ka));
    ka.profile = MW_SRTP_AES128_CM_SHA1_80;
    ka.len = 30;
    for (int i = 0; i < 30; i++) {
        ka.local[i] = (uint8_t)i;
        ka.remote[i] = (uint8_t)(100 + i);
    }
    kb = ka;
    memcpy(kb.local, ka.remote, 30);
    memcpy(kb.remote, ka.local, 30);
    VCT_CHECK_EQ_INT(mw_srtp_init(&a, &ka), 0);
    VCT_CHECK_EQ_INT(mw_srtp_init(&b, &kb), 0);
    td_srtp_roundtrip(&a, &b, 9);
    td_srtp_roundtrip(&b, &a, 9);
    memset(pkt, 0, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[3] = 50;
    VCT_CHECK_EQ_INT(mw_srtp_protect_rtp(&a, pkt, &len), 0);
    pkt[20] ^= 1;
    VCT_CHECK_EQ_INT(mw_srtp_unprotect_rtp(&b, pkt, &len), -1);
    mw_srtp_fini(&a);
    mw_srtp_fini(&b);
    ka.len = 28; /* wrong for the profile */
    VCT_CHECK_EQ_INT(mw_srtp_init(&a, &ka), -1);
    VCT_CHECK(!mw_srtp_ready(&a));
}

/* Runs first: the worker's allocation hooks (dtls.c), so every later case
 * also runs with the handshake buffer released once connected. */
static void td_mem_hooks(void)
{
    VCT_CHECK_EQ_INT(mw_dtls_mem_hooks(), 0);
}

static void td_app_recv(const uint8_t *data, size_t len, void *user)
{
    td_outbox_t *o = user;
    td_send(data, len, o);
}

/* After the handshake (and the buffer release): the client's Finished
 * flight arrives again, as when the server's last flight was lost; both
 * stay connected (OpenSSL 3.0 does not resend its flight for it: same
 * with or without the release) and application data still flows both
 * ways. */
static void td_late_finished(void)
{
    td_pair_t p;
    td_outbox_t last, app_s, app_c;

    memset(&last, 0, sizeof(last));
    memset(&app_s, 0, sizeof(app_s));
    memset(&app_c, 0, sizeof(app_c));
    td_pair_init(&p, NULL, NULL);
    if (!p.s || !p.c)
        goto out;
    mw_dtls_set_app_cb(p.s, td_app_recv, &app_s);
    mw_dtls_set_app_cb(p.c, td_app_recv, &app_c);
    mw_dtls_start(p.s);
    mw_dtls_start(p.c);
    for (int round = 0; round < 20; round++) {
        if (p.out_c.n > 0)
            last = p.out_c;
        if (td_deliver(&p.out_c, p.s) + td_deliver(&p.out_s, p.c) == 0)
            break;
    }
    VCT_CHECK_EQ_INT(mw_dtls_state(p.s), MW_DTLS_CONNECTED);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_CONNECTED);
    VCT_CHECK(last.n > 0);
    td_deliver(&last, p.s);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.s), MW_DTLS_CONNECTED);
    td_deliver(&p.out_s, p.c);
    VCT_CHECK_EQ_INT(mw_dtls_state(p.c), MW_DTLS_CONNECTED);
    VCT_CHECK_EQ_INT(mw_dtls_write(p.c, (const uint8_t *)"ping", 4), 0);
    VCT_CHECK_EQ_INT(mw_dtls_write(p.s, (const uint8_t *)"pong!", 5), 0);
    td_deliver(&p.out_c, p.s);
    td_deliver(&p.out_s, p.c);
    VCT_CHECK(app_s.n == 1 && app_s.len[0] == 4 && memcmp(app_s.buf[0], "ping", 4) == 0);
    VCT_CHECK(app_c.n == 1 && app_c.len[0] == 5 && memcmp(app_c.buf[0], "pong!", 5) == 0);
out:
    td_pair_fini(&p);
}

static const vct_case_t td_cases[] = {
    {"mem_hooks", td_mem_hooks},
    {"handshake_and_srtp", td_handshake_and_srtp},
    {"late_finished_after_release", td_late_finished},
    {"wrong_fingerprint_client", td_wrong_fp_client},
    {"wrong_fingerprint_server", td_wrong_fp_server},
    {"close_notify", td_close_notify},
    {"retransmit_timer", td_timer},
    {"garbage", td_garbage},
    {"fp_parse", td_fp_parse},
    {"identity_fingerprint", td_identity_fp},
    {"srtp_cm_tamper", td_srtp_cm},
    {"srtp_table_growth", td_srtp_table_growth},
};

VCT_MAIN("dtls", td_cases)
