/* vc-srtp-check: checks the worker's native AES-CM/HMAC-SHA1-80 and GCM RTP
 * protect (media-worker/shell/srtp.c) byte for byte against libsrtp2 over
 * sequence wraps and reordering, and its native unprotect's verdicts and
 * plaintext against libsrtp2's (wraps, reordering, replays, too old, a
 * flipped bit), and native SRTCP both ways against libsrtp2 (bytes, several
 * SSRCs, reordering, a replay, a flipped bit), then times protect on 1.2 kB
 * packets: the per-packet crypto part of the physical loop. Exits 1 on a
 * mismatch. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "media-worker/shell/srtp.h"

static size_t sc_packet(uint8_t *b, uint32_t ssrc, uint16_t seq, size_t payload)
{
    b[0] = 0x80;
    b[1] = 96;
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    memset(b + 4, 0x11, 4);
    b[8] = (uint8_t)(ssrc >> 24);
    b[9] = (uint8_t)(ssrc >> 16);
    b[10] = (uint8_t)(ssrc >> 8);
    b[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload; i++)
        b[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload;
}

/* ns per protect of a 1.2 kB packet; deferred: the tags of two buffers
 * computed at once, as the worker's fan-out does. */
static double sc_time_ns(mw_srtp_t *s, int n, int deferred)
{
    uint8_t b[2][1500 + MW_SRTP_TRAILER_ROOM];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < n; i++) {
        uint8_t *p = b[i & 1];
        size_t len = sc_packet(p, 0x1234, (uint16_t)i, 1160);
        if (deferred)
            mw_srtp_protect_rtp_defer(s, p, &len);
        else
            mw_srtp_protect_rtp(s, p, &len);
    }
    mw_srtp_tags_finish();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n;
}

static int sc_profile(mw_srtp_profile_t prof, const char *name)
{
    mw_srtp_keys_t k = {.profile = prof, .len = mw_srtp_key_salt_len(prof)};
    mw_srtp_t fast, ref, defer;
    vc_random_bytes(k.local, sizeof(k.local));
    vc_random_bytes(k.remote, sizeof(k.remote));
    mw_srtp_set_native(1);
    if (mw_srtp_init(&fast, &k) < 0 || mw_srtp_init(&defer, &k) < 0)
        return 1;
    mw_srtp_set_native(0);
    if (mw_srtp_init(&ref, &k) < 0)
        return 1;
    /* Wraps, reordering, a too-old packet, then window shifts of several
     * 64-bit words with late packets just inside and outside the window. */
    static const uint16_t seqs[] = {65530, 65531, 65533, 65532, 65535, 0,    1,     65534,
                                    2,     3,     40000, 40001, 7,     8,    65535, 0,
                                    108,   100,   9,     810,   107,   200,  2000,  977,
                                    976,   1100,  2001,  1999,  30000, 29999};
    int bad = 0, dbad = 0;
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        /* The deferred protect's tags are written in pairs (and the odd
         * one by mw_srtp_tags_finish): compared once all three are done. */
        uint8_t d[3][1500 + MW_SRTP_TRAILER_ROOM], r[3][sizeof(d[0])];
        size_t ld[3], lr[3];
        int rd[3], rr[3];
        for (uint32_t ssrc = 1; ssrc <= 3; ssrc++) {
            uint8_t a[1500 + MW_SRTP_TRAILER_ROOM], b[sizeof(a)];
            size_t la = sc_packet(a, ssrc * 0x01010101u, seqs[i], 100 + (i % 20) * 50), lb = la;
            memcpy(b, a, la);
            memcpy(d[ssrc - 1], a, la);
            ld[ssrc - 1] = la;
            int ra = mw_srtp_protect_rtp(&fast, a, &la), rb = mw_srtp_protect_rtp(&ref, b, &lb);
            rd[ssrc - 1] = mw_srtp_protect_rtp_defer(&defer, d[ssrc - 1], &ld[ssrc - 1]);
            memcpy(r[ssrc - 1], b, lb);
            lr[ssrc - 1] = lb, rr[ssrc - 1] = rb;
            if (ra != rb || (ra == 0 && (la != lb || memcmp(a, b, la) != 0))) {
                printf("mismatch at seq %u ssrc %u\n", seqs[i], ssrc);
                bad = 1;
            }
        }
        mw_srtp_tags_finish();
        for (int j = 0; j < 3; j++)
            if (rd[j] != rr[j] ||
                (rd[j] == 0 && (ld[j] != lr[j] || memcmp(d[j], r[j], ld[j]) != 0))) {
                printf("deferred mismatch at seq %u ssrc %d\n", seqs[i], j + 1);
                dbad = 1;
            }
    }
    printf("srtp-check: %s: native protect %s libsrtp2\n", name, bad ? "DIFFERS from" : "matches");
    printf("srtp-check: %s: native protect, tags in pairs, %s libsrtp2\n", name,
           dbad ? "DIFFERS from" : "matches");
    bad |= dbad;
    /* Unprotect: a libsrtp2 sender keyed with our remote keys; native and
     * libsrtp2 receivers must agree on every verdict (wraps, reordering,
     * replays, too old, a flipped bit) and on the plaintext. */
    mw_srtp_keys_t kt = k;
    memcpy(kt.local, k.remote, sizeof(kt.local));
    memcpy(kt.remote, k.local, sizeof(kt.remote));
    mw_srtp_t tx;
    mw_srtp_set_native(0);
    if (mw_srtp_init(&tx, &kt) < 0)
        return 1;
    int ubad = 0, acc = 0, ref_n = 0;
    for (size_t i = 0; i < 2 * sizeof(seqs) / sizeof(seqs[0]); i++) {
        size_t j = i % (sizeof(seqs) / sizeof(seqs[0])); /* second round: all replays */
        uint8_t p[1500 + MW_SRTP_TRAILER_ROOM], a[sizeof(p)], b[sizeof(p)];
        size_t lp = sc_packet(p, 0x0a0b0c0d, seqs[j], 100 + (j % 20) * 50), plain = lp;
        uint8_t clear[sizeof(p)];
        memcpy(clear, p, lp);
        if (i < sizeof(seqs) / sizeof(seqs[0]) && mw_srtp_protect_rtp(&tx, p, &lp) != 0)
            continue;
        if (i >= sizeof(seqs) / sizeof(seqs[0])) {
            lp = plain; /* re-protecting would be refused; replay the old bytes */
            if (mw_srtp_protect_rtp(&tx, p, &lp) != 0)
                continue;
        }
        for (int flip = 0; flip < 2; flip++) {
            size_t la = lp, lb = lp;
            memcpy(a, p, lp);
            if (flip)
                a[lp / 2] ^= 0x40;
            memcpy(b, a, lp);
            int ra = mw_srtp_unprotect_rtp(&fast, a, &la), rb = mw_srtp_unprotect_rtp(&ref, b, &lb);
            acc += ra == 0;
            ref_n += ra != 0;
            if (ra != rb || (ra == 0 && (la != plain || memcmp(a, clear, plain) != 0 ||
                                         memcmp(a, b, la) != 0))) {
                printf("unprotect mismatch at seq %u flip %d: native %d libsrtp2 %d\n", seqs[j],
                       flip, ra, rb);
                ubad = 1;
            }
        }
    }
    mw_srtp_fini(&tx);
    printf("srtp-check: %s: native unprotect %s libsrtp2 (%d accepted, %d refused)\n", name,
           ubad ? "DIFFERS from" : "matches", acc, ref_n);
    bad |= ubad;
    int n = 100000;
    printf(
        "srtp-check: %s: protect 1.2 kB: native %.0f ns (tags in pairs %.0f), libsrtp2 %.0f ns\n",
        name, sc_time_ns(&fast, n, 0), sc_time_ns(&defer, n, 1), sc_time_ns(&ref, n, 0));
    mw_srtp_fini(&fast);
    mw_srtp_fini(&defer);
    mw_srtp_fini(&ref);
    return bad;
}

/* An RTCP sender report-like packet of ssrc, its body varied by i. */
static size_t sc_rtcp(uint8_t *b, uint32_t ssrc, int i)
{
    size_t n = 8 + 24 + (size_t)(i % 5) * 4;
    b[0] = 0x81;
    b[1] = 200;
    b[2] = 0;
    b[3] = (uint8_t)(n / 4 - 1);
    b[4] = (uint8_t)(ssrc >> 24);
    b[5] = (uint8_t)(ssrc >> 16);
    b[6] = (uint8_t)(ssrc >> 8);
    b[7] = (uint8_t)ssrc;
    for (size_t k = 8; k < n; k++)
        b[k] = (uint8_t)(k * 13 + (size_t)i);
    return n;
}

/* SRTCP: native protect byte for byte equal to libsrtp2's (one SSRC: the
 * native index is per session, libsrtp2's per SSRC, both from 1) and
 * accepted by a libsrtp2 receiver; libsrtp2's packets of three SSRCs,
 * reordered, accepted by the native receiver, a replay and a flipped bit
 * refused. */
static int sc_rtcp_profile(mw_srtp_profile_t prof, const char *name)
{
    mw_srtp_keys_t k = {.profile = prof, .len = mw_srtp_key_salt_len(prof)}, kt;
    mw_srtp_t fast, ref, peer;
    int bad = 0;
    vc_random_bytes(k.local, sizeof(k.local));
    vc_random_bytes(k.remote, sizeof(k.remote));
    kt = k;
    memcpy(kt.local, k.remote, sizeof(kt.local));
    memcpy(kt.remote, k.local, sizeof(kt.remote));
    mw_srtp_set_native(1);
    if (mw_srtp_init(&fast, &k) < 0)
        return 1;
    mw_srtp_set_native(0);
    if (mw_srtp_init(&ref, &k) < 0 || mw_srtp_init(&peer, &kt) < 0)
        return 1;
    for (int i = 0; i < 50; i++) {
        uint8_t p[300], a[300], b[300];
        size_t n = sc_rtcp(p, 0xabcdef01, i), la = n, lb = n;
        memcpy(a, p, n);
        memcpy(b, p, n);
        if (mw_srtp_protect_rtcp(&fast, a, &la) != 0 || mw_srtp_protect_rtcp(&ref, b, &lb) != 0 ||
            la != lb || memcmp(a, b, la) != 0 || mw_srtp_unprotect_rtcp(&peer, a, &la) != 0 ||
            la != n || memcmp(a, p, n) != 0) {
            printf("srtcp protect mismatch at %d\n", i);
            bad = 1;
        }
    }
    static const int order[] = {0, 1, 2, 4, 3, 5, 7, 6, 8, 9, 11, 10, 12, 13, 14, 15, 16, 17};
    uint8_t q[18][300];
    size_t ql[18];
    for (int i = 0; i < 18; i++) {
        ql[i] = sc_rtcp(q[i], 0x100u + (uint32_t)(i % 3), i);
        if (mw_srtp_protect_rtcp(&peer, q[i], &ql[i]) != 0)
            bad = 1;
    }
    for (int j = 0; j < 18; j++) {
        int i = order[j];
        uint8_t c[300], plain[300];
        size_t n = ql[i], pn = sc_rtcp(plain, 0x100u + (uint32_t)(i % 3), i);
        memcpy(c, q[i], n);
        if (mw_srtp_unprotect_rtcp(&fast, c, &n) != 0 || n != pn || memcmp(c, plain, pn) != 0) {
            printf("srtcp unprotect refused packet %d\n", i);
            bad = 1;
        }
    }
    size_t n = ql[5];
    if (mw_srtp_unprotect_rtcp(&fast, q[5], &n) == 0) /* replay */
        bad = 1;
    n = sc_rtcp(q[0], 0x100, 99);
    if (mw_srtp_protect_rtcp(&peer, q[0], &n) != 0)
        bad = 1;
    q[0][10] ^= 1;
    if (mw_srtp_unprotect_rtcp(&fast, q[0], &n) == 0) /* flipped bit */
        bad = 1;
    printf("srtp-check: %s: native SRTCP %s libsrtp2\n", name, bad ? "DIFFERS from" : "matches");
    mw_srtp_fini(&fast);
    mw_srtp_fini(&ref);
    mw_srtp_fini(&peer);
    return bad;
}

int main(void)
{
    int bad = sc_profile(MW_SRTP_AES128_CM_SHA1_80, "AES-CM-128/HMAC-SHA1-80");
    bad |= sc_rtcp_profile(MW_SRTP_AES128_CM_SHA1_80, "AES-CM-128/HMAC-SHA1-80");
    if (mw_srtp_gcm_supported()) {
        bad |= sc_profile(MW_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM");
        bad |= sc_rtcp_profile(MW_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM");
    }
    return bad;
}
