/* peer_loop: two mw_peer on one GLib main loop over 127.0.0.1 (run inside
 * `unshare -n`): ICE, DTLS (one server, one client), then RTP and RTCP both
 * ways, checked after decryption; then close_notify. Twice: packets one by
 * one through libnice, then as the worker sends (batched, UDP GSO trains)
 * into the fast receive path as the load generator reads (kernel stamps,
 * UDP_GRO: a train arrives as one message and is split). Exits 0 on
 * success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "common/log.h"
#include "media-worker/shell/peer.h"

#define PL_RTP_COUNT 50
#define PL_RTCP_COUNT 10
#define PL_TIMEOUT_MS 10000

typedef struct pl_side pl_side_t;

typedef struct {
    GMainLoop *loop;
    pl_side_t *a, *b;
    int failed;
    const char *why;
    int sent;
    int closing;
    int fast; /* batched GSO sends into the fast path with UDP_GRO */
} pl_test_t;

struct pl_side {
    const char *name;
    mw_dtls_identity_t *id;
    mw_peer_t *p;
    mw_dtls_role_t role;
    uint32_t ssrc;
    int gathered, connected;
    mw_peer_state_t last;
    int rtp_rx, rtcp_rx;
    pl_test_t *t;
    pl_side_t *other;
};

/* Fails the test with a reason and stops the loop. */
static void pl_fail(pl_test_t *t, const char *why)
{
    if (!t->failed) {
        t->failed = 1;
        t->why = why;
    }
    g_main_loop_quit(t->loop);
}

/* Fills an RTP packet whose payload depends on ssrc and seq. */
static size_t pl_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq)
{
    size_t len = 12 + 160;

    buf[0] = 0x80;
    buf[1] = seq == 0 ? 0x80 | 111 : 111; /* marker on the first */
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    memset(buf + 4, 0, 4);
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 12; i < len; i++)
        buf[i] = (uint8_t)(seq * 3 + i + ssrc);
    return len;
}

/* Fills an RTCP sender report (RFC 3550 6.4.1, no report blocks). */
static size_t pl_rtcp(uint8_t *buf, uint32_t ssrc, uint16_t n)
{
    memset(buf, 0, 28);
    buf[0] = 0x80;
    buf[1] = 200;
    buf[3] = 6;
    buf[4] = (uint8_t)(ssrc >> 24);
    buf[5] = (uint8_t)(ssrc >> 16);
    buf[6] = (uint8_t)(ssrc >> 8);
    buf[7] = (uint8_t)ssrc;
    buf[20] = (uint8_t)(n >> 8);
    buf[21] = (uint8_t)n; /* packet count: identifies the report */
    return 28;
}

/* Sends all RTP and RTCP of one side. */
static void pl_send_all(pl_side_t *s)
{
    uint8_t buf[256];

    for (uint16_t i = 0; i < PL_RTP_COUNT; i++)
        if (mw_peer_send_rtp(s->p, buf, pl_rtp(buf, s->ssrc, i)) < 0)
            pl_fail(s->t, "send_rtp failed");
    for (uint16_t i = 0; i < PL_RTCP_COUNT; i++)
        if (mw_peer_send_rtcp(s->p, buf, pl_rtcp(buf, s->ssrc, i)) < 0)
            pl_fail(s->t, "send_rtcp failed");
}

/* Both received everything: done. */
static void pl_check_done(pl_test_t *t)
{
    if (t->a->rtp_rx == PL_RTP_COUNT && t->b->rtp_rx == PL_RTP_COUNT &&
        t->a->rtcp_rx == PL_RTCP_COUNT && t->b->rtcp_rx == PL_RTCP_COUNT)
        g_main_loop_quit(t->loop);
}

/* Exchanges parameters: a gets candidates before credentials (buffered),
 * b after; plus lines that must be ignored or refused. */
static void pl_exchange(pl_side_t *s, pl_side_t *o, int cands_first)
{
    const char *c[16];
    size_t n = mw_peer_local_candidates(o->p, c, 16);
    int ok = 1;

    if (n == 0)
        pl_fail(s->t, "no local candidates");
    for (int pass = 0; pass < 2; pass++) {
        if (pass == (cands_first ? 1 : 0)) {
            if (mw_peer_set_remote(s->p, mw_peer_ice_ufrag(o->p), mw_peer_ice_pwd(o->p), "sha-256",
                                   mw_dtls_identity_fingerprint(o->id), s->role) != 0)
                pl_fail(s->t, "set_remote failed");
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            char line[600];
            snprintf(line, sizeof(line), "%s%s\r\n", i % 2 ? "a=" : "", c[i]);
            ok &= mw_peer_add_remote_candidate(s->p, line) == 0;
        }
    }
    ok &= mw_peer_add_remote_candidate(
              s->p, "candidate:9 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active") == 0;
    ok &= mw_peer_add_remote_candidate(
              s->p, "candidate:8 1 udp 2122260223 1f2e3d4c-aaaa.local 50000 typ host") == 0;
    ok &= mw_peer_add_remote_candidate(s->p, "candidate:7 1 udp garbage") == -1;
    ok &= mw_peer_add_remote_candidate(s->p, "hello") == -1;
    if (!ok)
        pl_fail(s->t, "add_remote_candidate results");
}

/* on_gathered: once both sides have gathered, exchange parameters. */
static void pl_on_gathered(mw_peer_t *p, void *user)
{
    pl_side_t *s = user;
    pl_test_t *t = s->t;

    s->gathered = 1;
    if (!t->a->gathered || !t->b->gathered)
        return;
    if (mw_peer_set_remote(t->a->p, "x", "y", "sha-256", "00", MW_DTLS_ROLE_SERVER) != -1)
        pl_fail(t, "malformed set_remote accepted");
    pl_exchange(t->a, t->b, 1);
    pl_exchange(t->b, t->a, 0);
}

/* Both sides' packets, then the flush (batched: one GSO train per run). */
static gboolean pl_send_both(gpointer data)
{
    pl_test_t *t = data;
    pl_send_all(t->a);
    pl_send_all(t->b);
    if (t->fast)
        mw_peer_flush();
    return G_SOURCE_REMOVE;
}

/* on_state: both connected -> send; failures end the test. */
static void pl_on_state(mw_peer_t *p, mw_peer_state_t st, void *user)
{
    pl_side_t *s = user;
    pl_test_t *t = s->t;

    s->last = st;
    fprintf(stderr, "peer_loop: %s state %d\n", s->name, (int)st);
    if (st == MW_PEER_FAILED)
        pl_fail(t, "a peer failed");
    if (st == MW_PEER_CLOSED) {
        if (t->closing)
            g_main_loop_quit(t->loop);
        else
            pl_fail(t, "closed early");
    }
    if (st != MW_PEER_CONNECTED)
        return;
    s->connected = 1;
    if (t->a->connected && t->b->connected && !t->sent) {
        t->sent = 1;
        if (!t->fast) {
            pl_send_both(t);
        } else { /* once this callback is over: both on the fast path */
            GSource *idle = g_idle_source_new();
            g_source_set_callback(idle, pl_send_both, t, NULL);
            g_source_attach(idle, g_main_loop_get_context(t->loop));
            g_source_unref(idle);
        }
    }
}

/* on_rtp: checks the decrypted packet against what the other side sent. */
static void pl_on_rtp(mw_peer_t *p, uint8_t *pkt, size_t len, void *user)
{
    pl_side_t *s = user;
    uint8_t want[256];
    uint16_t seq;

    if (len < 12) {
        pl_fail(s->t, "short rtp");
        return;
    }
    seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
    if (len != pl_rtp(want, s->other->ssrc, seq) || memcmp(pkt, want, len) != 0) {
        pl_fail(s->t, "rtp content differs");
        return;
    }
    if (s->t->fast && mw_peer_rx_stamp_ns() == 0) {
        pl_fail(s->t, "no kernel receive stamp on the fast path");
        return;
    }
    s->rtp_rx++;
    pl_check_done(s->t);
}

/* on_rtcp: same for RTCP. */
static void pl_on_rtcp(mw_peer_t *p, uint8_t *pkt, size_t len, void *user)
{
    pl_side_t *s = user;
    uint8_t want[64];

    if (len != 28 || len != pl_rtcp(want, s->other->ssrc, (uint16_t)(pkt[20] << 8 | pkt[21])) ||
        memcmp(pkt, want, len) != 0) {
        pl_fail(s->t, "rtcp content differs");
        return;
    }
    s->rtcp_rx++;
    pl_check_done(s->t);
}

/* The 10 s limit. */
static gboolean pl_on_timeout(gpointer data)
{
    pl_fail(data, "timeout");
    return G_SOURCE_REMOVE;
}

static const mw_peer_callbacks_t pl_cb = {
    .on_state = pl_on_state,
    .on_gathered = pl_on_gathered,
    .on_rtp = pl_on_rtp,
    .on_rtcp = pl_on_rtcp,
};

/* Runs the scenario; returns 0 on success. */
static int pl_run(GMainContext *ctx, int fast)
{
    static const char *addrs[] = {"127.0.0.1"};
    pl_test_t t = {0};
    pl_side_t a = {.name = "a", .role = MW_DTLS_ROLE_SERVER, .ssrc = 0x11111111};
    pl_side_t b = {.name = "b", .role = MW_DTLS_ROLE_CLIENT, .ssrc = 0x22222222};
    mw_peer_config_t cfg = {
        .ctx = ctx, .ice_addresses = addrs, .n_ice_addresses = 1, .port_min = 0, .port_max = 0};
    GSource *timer = g_timeout_source_new(PL_TIMEOUT_MS);
    mw_peer_stats_t sa, sb;
    mw_peer_io_stats_t io0, io1;

    t.fast = fast;
    if (fast) {
        if (mw_peer_fast_rx_start(ctx, MW_PEER_RX_STAMPS | MW_PEER_RX_GRO) != 0)
            pl_fail(&t, "fast receive path");
        mw_peer_set_batching(1);
    }
    mw_peer_io_stats(&io0);
    t.loop = g_main_loop_new(ctx, FALSE);
    t.a = &a;
    t.b = &b;
    a.t = b.t = &t;
    a.other = &b;
    b.other = &a;
    a.id = mw_dtls_identity_new();
    b.id = mw_dtls_identity_new();
    if (!a.id || !b.id)
        pl_fail(&t, "identity");
    a.p = a.id ? mw_peer_new(&cfg, a.id, &pl_cb, &a) : NULL;
    b.p = b.id ? mw_peer_new(&cfg, b.id, &pl_cb, &b) : NULL;
    if (!a.p || !b.p)
        pl_fail(&t, "mw_peer_new");
    g_source_set_callback(timer, pl_on_timeout, &t, NULL);
    g_source_attach(timer, ctx);
    if (!t.failed)
        g_main_loop_run(t.loop);
    if (!t.failed) {
        mw_peer_stats(a.p, &sa);
        mw_peer_stats(b.p, &sb);
        fprintf(
            stderr,
            "peer_loop: a rtp in/out %llu/%llu rtcp in/out %llu/%llu dropped %llu srtp_err %llu\n",
            (unsigned long long)sa.rtp_in, (unsigned long long)sa.rtp_out,
            (unsigned long long)sa.rtcp_in, (unsigned long long)sa.rtcp_out,
            (unsigned long long)sa.dropped, (unsigned long long)sa.srtp_errors);
        if (sa.rtp_out != PL_RTP_COUNT || sb.rtp_in != PL_RTP_COUNT || sb.rtcp_out != PL_RTCP_COUNT)
            pl_fail(&t, "stats");
        /* Trains arrived whole: far fewer messages than datagrams. */
        mw_peer_io_stats(&io1);
        unsigned long long msgs = (unsigned long long)(io1.recv_dgrams - io0.recv_dgrams);
        fprintf(stderr, "peer_loop: %s: %llu messages on the fast path for %d datagrams\n",
                fast ? "batched, UDP_GRO" : "one by one", msgs, 2 * (PL_RTP_COUNT + PL_RTCP_COUNT));
        if (fast && (msgs == 0 || msgs > (PL_RTP_COUNT + PL_RTCP_COUNT) / 2))
            pl_fail(&t, "GSO trains not received as whole messages");
        /* mw_peer_free sends close_notify: b must see CLOSED. */
        t.closing = 1;
        mw_peer_free(a.p);
        a.p = NULL;
        g_main_loop_run(t.loop);
        if (b.last != MW_PEER_CLOSED)
            pl_fail(&t, "no close_notify");
    }
    g_source_destroy(timer);
    g_source_unref(timer);
    mw_peer_free(a.p);
    mw_peer_free(b.p);
    mw_dtls_identity_free(a.id);
    mw_dtls_identity_free(b.id);
    g_main_loop_unref(t.loop);
    if (fast) {
        mw_peer_set_batching(0);
        mw_peer_fast_rx_stop();
    }
    if (t.failed)
        fprintf(stderr, "peer_loop: failed: %s\n", t.why);
    return t.failed ? -1 : 0;
}

/* Both cases, one summary line. */
int main(void)
{
    GMainContext *ctx = g_main_context_new();
    int passed = 0, failed = 0;

    vc_log_init("peer-loop", VC_LOG_INFO);
    for (int fast = 0; fast <= 1; fast++) {
        if (pl_run(ctx, fast) == 0)
            passed++;
        else
            failed++;
        /* Let libnice's pending closures run before the next case. */
        while (g_main_context_iteration(ctx, FALSE))
            ;
    }
    mw_peer_ice_stop();
    g_main_context_unref(ctx);
    printf("peer_loop: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
