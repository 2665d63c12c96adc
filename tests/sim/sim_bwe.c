/* Congestion control: a sender paced at the estimate, a bottleneck with a
 * drop-tail queue, TWCC feedback every 50 ms over the reverse path. */
#include <stdlib.h>
#include <string.h>

#include "media-worker/core/bwe.h"
#include "media-worker/core/netsim.h"
#include "media-worker/core/twcc.h"
#include "tests/sim/sim.h"

#define SIM_PKT 1200
#define SIM_STEP_US 1000

typedef struct {
    double conv_s;    /* first time the estimate reached 80% of the link */
    double mean_mbps; /* mean estimate over the second half */
    double max_mbps;  /* highest estimate after convergence */
    double loss_pct, mean_delay_ms;
    double est_at[64]; /* estimate each second */
} sim_bwe_out_t;

static void sim_bwe_run(uint64_t link_bps, uint64_t dur_us, uint32_t seed, sim_bwe_out_t *o)
{
    netsim_cfg_t fwd = {.seed = seed,
                        .rate_bps = link_bps,
                        .delay_us = 20000,
                        .jitter_us = 500,
                        .queue_bytes = link_bps * 300 / 8000};
    if (fwd.queue_bytes < 15000)
        fwd.queue_bytes = 15000;
    netsim_cfg_t rev = {.seed = seed + 1, .delay_us = 20000};
    netsim_t *f = netsim_new(&fwd, 4096, 1500), *r = netsim_new(&rev, 256, 1500);
    bwe_t *b = malloc(sizeof(*b));
    twcc_rx_t *rx = malloc(sizeof(*rx));
    bwe_cfg_t cfg = {.start_bps = 300000};
    bwe_init(b, &cfg);
    twcc_rx_init(rx, 1, 2);
    uint16_t twseq = 0;
    uint64_t next_send = 0, next_fb = 50000;
    uint8_t pkt[1500], fb[1500];
    double sum = 0, delay_sum = 0;
    uint64_t nsum = 0, ndelay = 0;
    memset(o, 0, sizeof(*o));
    o->conv_s = -1;
    for (uint64_t now = 0; now < dur_us; now += SIM_STEP_US) {
        while (next_send <= now) {
            memset(pkt, 0, SIM_PKT);
            pkt[0] = (uint8_t)(twseq >> 8);
            pkt[1] = (uint8_t)twseq;
            netsim_send(f, now, pkt, SIM_PKT, now);
            bwe_on_sent(b, twseq, SIM_PKT, now);
            twseq++;
            next_send += (uint64_t)SIM_PKT * 8 * 1000000 / bwe_estimate(b);
        }
        size_t len;
        uint64_t tag, at;
        while (netsim_recv(f, now, pkt, sizeof(pkt), &len, &tag, &at)) {
            twcc_rx_packet(rx, (uint16_t)((pkt[0] << 8) | pkt[1]), at);
            delay_sum += (double)(at - tag);
            ndelay++;
        }
        if (now >= next_fb) {
            next_fb += 50000;
            size_t n;
            while ((n = twcc_rx_build(rx, fb, sizeof(fb))) > 0)
                netsim_send(r, now, fb, n, 0);
        }
        while (netsim_recv(r, now, fb, sizeof(fb), &len, &tag, &at)) {
            twcc_fb_t h;
            static twcc_pkt_t pk[1100];
            size_t n;
            if (twcc_fb_parse(fb, len, &h, pk, 1100, &n) == TWCC_OK)
                bwe_on_feedback(b, pk, n, now);
        }
        double est = (double)bwe_estimate(b);
        if (o->conv_s < 0 && est >= 0.8 * (double)link_bps)
            o->conv_s = (double)now / 1e6;
        if (o->conv_s >= 0 && est / 1e6 > o->max_mbps)
            o->max_mbps = est / 1e6;
        if (now >= dur_us / 2) {
            sum += est;
            nsum++;
        }
        if (now % 1000000 == 0 && now / 1000000 < 64)
            o->est_at[now / 1000000] = est;
    }
    o->mean_mbps = sum / (double)nsum / 1e6;
    const netsim_stats_t *st = netsim_stats(f);
    o->loss_pct = 100.0 * (double)(st->lost_queue) / (double)st->sent;
    o->mean_delay_ms = delay_sum / (double)ndelay / 1000.0;
    netsim_free(f);
    netsim_free(r);
    free(b);
    free(rx);
}

void sim_bwe(void)
{
    static const struct {
        const char *name;
        uint64_t bps;
    } cases[] = {{"bwe-300k", 300000}, {"bwe-1M", 1000000}, {"bwe-3M", 3000000}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sim_bwe_out_t o;
        sim_bwe_run(cases[i].bps, 20000000, 7 + (uint32_t)i, &o);
        double link = (double)cases[i].bps / 1e6;
        int ok = o.conv_s >= 0 && o.conv_s <= 5.0 && o.mean_mbps >= 0.75 * link &&
                 o.mean_mbps <= 1.1 * link && o.mean_delay_ms < 200;
        sim_result(ok, cases[i].name,
                   "bottleneck %.2f Mbps: estimate reached 80%% after %.1f s, mean %.2f Mbps "
                   "(%.0f%%) over 10-20 s, peak %.2f Mbps, queue loss %.2f%%, mean one-way "
                   "delay %.0f ms",
                   link, o.conv_s, o.mean_mbps, 100 * o.mean_mbps / link, o.max_mbps, o.loss_pct,
                   o.mean_delay_ms);
        if (getenv("SIM_VERBOSE")) {
            for (int s = 0; s < 20; s++)
                printf("    t=%2d s est %.3f Mbps\n", s, o.est_at[s] / 1e6);
        }
    }
}
