/* Simulcast: a VP8 publisher with three layers, one subscriber whose
 * bandwidth and shown size change over time; the selector switches at key
 * frames only (requested by PLI), the rewriter keeps one continuous stream,
 * dynacast pauses the unwatched layers. */
#include <string.h>

#include "media-worker/core/rewrite.h"
#include "media-worker/core/rtp.h"
#include "media-worker/core/simulcast.h"
#include "media-worker/core/vp8.h"
#include "tests/sim/sim.h"

#define SS_FPS 30
#define SS_FRAME_US (1000000 / SS_FPS)
#define SS_KF_DELAY_US 80000 /* publisher's PLI-to-keyframe time */

typedef struct {
    uint32_t ssrc;
    uint16_t seq, picid;
    uint32_t ts;
    uint8_t tl0;
    int kf_due; /* next frame is a key frame */
    uint64_t kf_at;
} ss_pub_layer_t;

static const sc_layer_t ss_layers[3] = {
    {.width = 320, .height = 180, .bps = 150000, .available = 1},
    {.width = 640, .height = 360, .bps = 500000, .available = 1},
    {.width = 1280, .height = 720, .bps = 1500000, .available = 1},
};

/* Scenario script: at t, the subscriber's bandwidth and shown size. */
static const struct {
    uint64_t t_us, bw;
    uint16_t w, h;
} ss_script[] = {
    {0, 2000000, 1280, 720},        {4000000, 600000, 1280, 720},  {8000000, 200000, 1280, 720},
    {12000000, 3000000, 320, 180},  {15000000, 3000000, 640, 360}, {18000000, 0, 0, 0},
    {20000000, 3000000, 1280, 720},
};

static size_t ss_build(uint8_t *b, ss_pub_layer_t *L, int kf, int first, int last)
{
    memset(b, 0, 1200);
    b[0] = 0x80;
    b[1] = (uint8_t)(96 | (last ? 0x80 : 0));
    rtp_wr16(b + 2, L->seq++);
    rtp_wr32(b + 4, L->ts);
    rtp_wr32(b + 8, L->ssrc);
    uint8_t *p = b + 12;
    p[0] = (uint8_t)(0x80 | (first ? 0x10 : 0)); /* X, S, PID 0 */
    p[1] = 0xc0;                                 /* I, L */
    p[2] = (uint8_t)(0x80 | (L->picid >> 8));
    p[3] = (uint8_t)L->picid;
    p[4] = L->tl0;
    p[5] = kf ? 0x00 : 0x01; /* P bit */
    return 1200;
}

void sim_simulcast(void)
{
    ss_pub_layer_t pub[3] = {
        {.ssrc = 0xa0, .seq = 1000, .picid = 32000, .ts = 111111, .tl0 = 250},
        {.ssrc = 0xa1, .seq = 60000, .picid = 5, .ts = 4000000000u, .tl0 = 7},
        {.ssrc = 0xa2, .seq = 30000, .picid = 20000, .ts = 99, .tl0 = 128},
    };
    sc_sub_t sub;
    sc_sub_init(&sub);
    sc_kf_t kf[3];
    for (int i = 0; i < 3; i++)
        sc_kf_init(&kf[i], 300000);
    sc_dyn_t dyn;
    sc_dyn_init(&dyn, 3, 2000000);
    rw_t rw;
    rw_init(&rw, 0xbeef, 90000);

    uint8_t pkt[1500];
    int out_started = 0, prev_layer = -1;
    uint16_t prev_seq = 0, prev_picid = 0;
    uint32_t prev_ts = 0;
    uint8_t prev_tl0 = 0;
    uint64_t seq_gaps = 0, ts_back = 0, ts_jumps = 0, pic_gaps = 0, tl0_gaps = 0, forwarded = 0;
    uint64_t switches = 0, bad_switches = 0, plis = 0, dyn_changes = 0, max_ts_step = 0;
    uint64_t last_fwd_us = 0, target_change_at = 0, switch_delay_max = 0, paused_l2_at = 0,
             resumed_l2_at = 0;
    size_t step = 0;
    uint8_t active = 7;
    for (uint64_t now = 0; now < 24000000; now += SS_FRAME_US) {
        while (step < sizeof(ss_script) / sizeof(ss_script[0]) && ss_script[step].t_us <= now) {
            sc_sub_set_bw(&sub, ss_script[step].bw);
            sc_sub_set_size(&sub, ss_script[step].w, ss_script[step].h);
            step++;
        }
        sc_layer_t layers[3];
        memcpy(layers, ss_layers, sizeof(layers));
        if (sc_select(&sub, layers, 3, now) && sub.target != sub.current)
            target_change_at = now;
        int want = sc_wants_keyframe(&sub);
        if (want >= 0)
            sc_kf_request(&kf[want]);
        for (int l = 0; l < 3; l++)
            if (sc_kf_poll(&kf[l], now)) {
                plis++;
                if (!pub[l].kf_due) {
                    pub[l].kf_due = 1;
                    pub[l].kf_at = now + SS_KF_DELAY_US;
                }
            }
        sc_dyn_begin(&dyn);
        sc_dyn_need(&dyn, &sub);
        if (sc_dyn_end(&dyn, now, &active)) {
            dyn_changes++;
            if (!(active & 4) && !paused_l2_at)
                paused_l2_at = now;
            if ((active & 4) && paused_l2_at && !resumed_l2_at)
                resumed_l2_at = now;
        }
        /* one frame per active layer; key frames every 10 s or on PLI */
        for (int l = 0; l < 3; l++) {
            ss_pub_layer_t *L = &pub[l];
            if (!(active & (1 << l))) /* paused by dynacast */
                continue;
            int key = now % 10000000 == 0 || (L->kf_due && now >= L->kf_at);
            if (key) {
                L->kf_due = 0;
                sc_kf_received(&kf[l]);
            }
            int npk = (int)(ss_layers[l].bps / SS_FPS / 8 / 1100) + 1;
            for (int k = 0; k < npk; k++) {
                size_t len = ss_build(pkt, L, key, k == 0, k == npk - 1);
                rtp_header_t h;
                vp8_desc_t d;
                if (rtp_parse(pkt, len, &h) != RTP_OK ||
                    vp8_parse(pkt + h.payload_off, h.payload_len, &d) != VP8_OK)
                    continue;
                sc_res_t r = sc_on_packet(&sub, l, d.keyframe);
                if (r == SC_DROP)
                    continue;
                rw_out_t o;
                if (rw_map(&rw, l, h.seq, h.ts, &d, now, &o) != RW_FORWARD)
                    continue;
                rw_apply(pkt, &h, &d, &o);
                /* subscriber side checks */
                rtp_header_t sh;
                vp8_desc_t sd;
                rtp_parse(pkt, len, &sh);
                vp8_parse(pkt + sh.payload_off, sh.payload_len, &sd);
                forwarded++;
                if (l != prev_layer) {
                    if (prev_layer >= 0) {
                        switches++;
                        if (now - target_change_at > switch_delay_max)
                            switch_delay_max = now - target_change_at;
                    }
                    if (!sd.keyframe)
                        bad_switches++;
                    prev_layer = l;
                }
                if (out_started) {
                    if (sh.seq != (uint16_t)(prev_seq + 1))
                        seq_gaps++;
                    int32_t dts = (int32_t)(sh.ts - prev_ts);
                    if (dts < 0)
                        ts_back++;
                    /* outside the hidden period the step must be a frame or two */
                    if (now - last_fwd_us < 200000 && (uint64_t)dts > max_ts_step)
                        max_ts_step = (uint64_t)dts;
                    if (now - last_fwd_us < 200000 && dts > 90000 * 2 / SS_FPS)
                        ts_jumps++;
                    if (sd.start) {
                        if (sd.picid != ((prev_picid + 1) & 0x7fff))
                            pic_gaps++;
                        if (sd.tl0picidx != (uint8_t)(prev_tl0 + 1))
                            tl0_gaps++;
                    }
                }
                if (sh.ssrc != 0xbeef)
                    seq_gaps++;
                out_started = 1;
                last_fwd_us = now;
                prev_seq = sh.seq;
                prev_ts = sh.ts;
                if (sd.start) {
                    prev_picid = sd.picid;
                    prev_tl0 = sd.tl0picidx;
                }
            }
            L->ts += 90000 / SS_FPS;
            L->picid = (uint16_t)((L->picid + 1) & 0x7fff);
            L->tl0++;
        }
    }
    int ok = switches >= 4 && bad_switches == 0 && seq_gaps == 0 && ts_back == 0 && pic_gaps == 0 &&
             tl0_gaps == 0 && ts_jumps == 0 && switch_delay_max <= 500000;
    sim_result(ok, "simulcast-switch",
               "%llu packets forwarded, %llu layer switches (all at key frames: %s), longest "
               "target-to-switch %.0f ms, %llu PLIs; seq gaps %llu, ts backwards %llu, largest ts "
               "step %llu ticks (frame = 3000), ts jumps > 2 frames %llu, picture id gaps %llu, "
               "TL0PICIDX gaps %llu",
               (unsigned long long)forwarded, (unsigned long long)switches,
               bad_switches ? "no" : "yes", (double)switch_delay_max / 1000.0,
               (unsigned long long)plis, (unsigned long long)seq_gaps, (unsigned long long)ts_back,
               (unsigned long long)max_ts_step, (unsigned long long)ts_jumps,
               (unsigned long long)pic_gaps, (unsigned long long)tl0_gaps);
    int dok = paused_l2_at && resumed_l2_at && paused_l2_at > 4000000 && resumed_l2_at >= 20000000;
    sim_result(dok, "dynacast",
               "%llu active-mask changes; top layer paused at %.1f s (unwatched since 4 s, "
               "2 s delay), resumed at %.1f s (watched again at 20 s)",
               (unsigned long long)dyn_changes, (double)paused_l2_at / 1e6,
               (double)resumed_l2_at / 1e6);
}
