/* Loss recovery: a sender with a one-second packet cache, a receiver that
 * NACKs gaps, RTX retransmissions; loss on both directions. */
#include <stdlib.h>
#include <string.h>

#include "media-worker/core/nack.h"
#include "media-worker/core/netsim.h"
#include "media-worker/core/pktcache.h"
#include "media-worker/core/rtp.h"
#include "tests/sim/sim.h"

#define SN_PKTS 4000 /* 10 s at 400 packets/s */
#define SN_INTERVAL_US 2500
#define SN_SEQ0 64000 /* crosses the 16-bit wrap */
#define SN_SSRC 0x1111
#define SN_RTX_SSRC 0x2222
#define SN_PT 96
#define SN_RTX_PT 97

static size_t sn_packet(uint8_t *b, uint16_t seq, size_t len)
{
    memset(b, 0, len);
    b[0] = 0x80;
    b[1] = SN_PT;
    rtp_wr16(b + 2, seq);
    rtp_wr32(b + 4, (uint32_t)seq * 3000);
    rtp_wr32(b + 8, SN_SSRC);
    b[12] = (uint8_t)seq; /* payload marker to check RTX integrity */
    return len;
}

typedef struct {
    double delivered_pct, recovered_pct_of_lost, mean_ms, p95_ms, max_ms;
    uint64_t lost_first, nacks, rtx, given_up, corrupt;
} sn_out_t;

static int sn_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void sn_run(const netsim_cfg_t *fwdc, const netsim_cfg_t *revc, sn_out_t *o)
{
    netsim_t *fwd = netsim_new(fwdc, 1024, 1500), *rev = netsim_new(revc, 256, 1500);
    pktcache_t cache;
    pktcache_init(&cache, 512, 1500, 1000000);
    nack_gen_t g;
    nack_gen_init(&g, 60000);
    static uint64_t sent_at[SN_PKTS], got_at[SN_PKTS];
    static uint8_t first_try_ok[SN_PKTS];
    static double lat[SN_PKTS];
    memset(got_at, 0, sizeof(got_at));
    memset(first_try_ok, 0, sizeof(first_try_ok));
    memset(o, 0, sizeof(*o));
    uint8_t buf[1500], out[1500];
    uint16_t rtx_seq = 100, seqs[NACK_MAX_MISSING];
    size_t next = 0;
    for (uint64_t now = 0; now < SN_PKTS * SN_INTERVAL_US + 2000000; now += 500) {
        /* sender: media */
        while (next < SN_PKTS && next * SN_INTERVAL_US <= now) {
            uint16_t seq = (uint16_t)(SN_SEQ0 + next);
            size_t n = sn_packet(buf, seq, 1000);
            pktcache_put(&cache, seq, buf, n, now);
            sent_at[next] = now;
            netsim_send(fwd, now, buf, n, 0);
            next++;
        }
        /* receiver */
        size_t len;
        uint64_t tag, at;
        while (netsim_recv(fwd, now, buf, sizeof(buf), &len, &tag, &at)) {
            rtp_header_t h;
            if (rtp_parse(buf, len, &h) != RTP_OK)
                continue;
            if (h.pt == SN_RTX_PT) {
                size_t n = nack_rtx_unwrap(out, sizeof(out), buf, &h, SN_PT, SN_SSRC);
                if (!n || rtp_parse(out, n, &h) != RTP_OK) {
                    o->corrupt++;
                    continue;
                }
                memcpy(buf, out, n);
            }
            size_t idx = (uint16_t)(h.seq - (uint16_t)SN_SEQ0);
            if (idx >= SN_PKTS || h.ssrc != SN_SSRC || buf[h.payload_off] != (uint8_t)h.seq) {
                o->corrupt++;
                continue;
            }
            if (!got_at[idx])
                got_at[idx] = at;
            nack_gen_packet(&g, h.seq, at);
        }
        size_t k = nack_gen_poll(&g, now, seqs, NACK_MAX_MISSING);
        if (k) {
            size_t n = nack_build(buf, sizeof(buf), 1, SN_SSRC, seqs, k);
            netsim_send(rev, now, buf, n, 0);
            o->nacks++;
        }
        nack_gen_take_keyframe(&g);
        /* sender: NACKs */
        while (netsim_recv(rev, now, buf, sizeof(buf), &len, &tag, &at)) {
            uint32_t media;
            size_t cnt;
            if (nack_parse(buf, len, &media, seqs, NACK_MAX_MISSING, &cnt) != NACK_OK)
                continue;
            for (size_t i = 0; i < cnt; i++) {
                size_t plen;
                const uint8_t *p = pktcache_get(&cache, seqs[i], now, &plen);
                rtp_header_t h;
                if (!p || rtp_parse(p, plen, &h) != RTP_OK)
                    continue;
                size_t n =
                    nack_rtx_wrap(out, sizeof(out), p, &h, SN_RTX_PT, SN_RTX_SSRC, rtx_seq++);
                netsim_send(fwd, now, out, n, 1);
                o->rtx++;
            }
        }
    }
    const netsim_stats_t *fs = netsim_stats(fwd);
    (void)fs;
    size_t got = 0, nl = 0;
    for (size_t i = 0; i < SN_PKTS; i++) {
        if (!got_at[i])
            continue;
        got++;
        double l = (double)(got_at[i] - sent_at[i]) / 1000.0;
        if (l > 40) /* came by retransmission (one-way delay is 30 ms + jitter) */
            lat[nl++] = l;
    }
    qsort(lat, nl, sizeof(lat[0]), sn_cmp);
    double sum = 0;
    for (size_t i = 0; i < nl; i++)
        sum += lat[i];
    o->delivered_pct = 100.0 * (double)got / SN_PKTS;
    o->lost_first = g.st.recovered + (SN_PKTS - got);
    o->recovered_pct_of_lost =
        o->lost_first ? 100.0 * (double)g.st.recovered / (double)o->lost_first : 100;
    o->mean_ms = nl ? sum / (double)nl : 0;
    o->p95_ms = nl ? lat[nl * 95 / 100] : 0;
    o->max_ms = nl ? lat[nl - 1] : 0;
    o->given_up = g.st.given_up;
    if (getenv("SIM_VERBOSE"))
        for (size_t i = 0; i < SN_PKTS; i++)
            if (!got_at[i])
                printf("    never delivered: index %zu\n", i);
    pktcache_fini(&cache);
    netsim_free(fwd);
    netsim_free(rev);
}

void sim_nack(void)
{
    struct {
        const char *name;
        netsim_cfg_t f, r;
    } cases[] = {
        {"nack-random-5pct",
         {.seed = 11, .loss = 0.05, .delay_us = 30000, .jitter_us = 2000},
         {.seed = 12, .loss = 0.05, .delay_us = 30000}},
        {"nack-bursts",
         {.seed = 21,
          .loss = 0.01,
          .burst_enter = 0.01,
          .burst_exit = 0.25,
          .burst_loss = 1.0,
          .delay_us = 30000,
          .jitter_us = 2000},
         {.seed = 22,
          .loss = 0.02,
          .burst_enter = 0.02,
          .burst_exit = 0.3,
          .burst_loss = 1.0,
          .delay_us = 30000}},
        {"nack-reorder",
         {.seed = 31, .loss = 0.03, .delay_us = 30000, .reorder = 0.02, .reorder_us = 4000},
         {.seed = 32, .loss = 0.03, .delay_us = 30000}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sn_out_t o;
        sn_run(&cases[i].f, &cases[i].r, &o);
        int ok = o.delivered_pct >= 99.9 && o.corrupt == 0 && o.p95_ms < 300;
        sim_result(ok, cases[i].name,
                   "%d packets, %llu lost on first try, %.2f%% recovered, %.3f%% delivered in "
                   "the end; recovery latency mean %.0f ms p95 %.0f ms max %.0f ms; %llu NACK "
                   "packets, %llu RTX, %llu given up",
                   SN_PKTS, (unsigned long long)o.lost_first, o.recovered_pct_of_lost,
                   o.delivered_pct, o.mean_ms, o.p95_ms, o.max_ms, (unsigned long long)o.nacks,
                   (unsigned long long)o.rtx, (unsigned long long)o.given_up);
    }
}
