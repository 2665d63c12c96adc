/* vp8 descriptor, h264 keyframes, rewrite continuity, simulcast selection,
 * keyframe request throttling and active-speaker events. */
#include "media-worker/core/audiolevel.h"
#include "media-worker/core/h264.h"
#include "media-worker/core/rewrite.h"
#include "media-worker/core/simulcast.h"
#include "media-worker/core/vp8.h"
#include <stdlib.h>

#include "tests/unit/vctest.h"

static void t_vp8_parse(void)
{
    /* X S; I (15-bit 0x0123) L (5) T K; keyframe 640x360 */
    uint8_t k[] = {0x90, 0xf0, 0x81, 0x23, 0x05, 0x7f, 0x10, 0x02,
                   0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01};
    vp8_desc_t d;
    VCT_CHECK_EQ_INT(vp8_parse(k, sizeof(k), &d), VP8_OK);
    VCT_CHECK(d.start && d.has_picid && d.picid_15 && d.picid == 0x123);
    VCT_CHECK(d.has_tl0 && d.tl0picidx == 5 && d.tid == 1 && d.layer_sync && d.keyidx == 31);
    VCT_CHECK_EQ_INT(d.hdr_len, 6);
    VCT_CHECK(d.keyframe && d.width == 640 && d.height == 360);
    vp8_rewrite(k, &d, 0x7abc, 9);
    VCT_CHECK_EQ_INT(vp8_parse(k, sizeof(k), &d), VP8_OK);
    VCT_CHECK(d.picid == 0x7abc && d.tl0picidx == 9);
    uint8_t delta[] = {0x80, 0x80, 0x12, 0x01}; /* 7-bit picid, not S */
    VCT_CHECK_EQ_INT(vp8_parse(delta, sizeof(delta), &d), VP8_OK);
    VCT_CHECK(!d.keyframe && !d.picid_15 && d.picid == 0x12);
    VCT_CHECK_EQ_INT(vp8_parse(delta, 2, &d), VP8_ERR_SHORT);
}

static void t_h264(void)
{
    uint8_t idr[] = {0x65, 0}, nonidr[] = {0x41, 0}, stap[] = {0x18, 0, 2, 0x67, 0, 0, 1, 0x68};
    uint8_t fu_start[] = {0x7c, 0x85, 0}, fu_mid[] = {0x7c, 0x05, 0};
    VCT_CHECK(h264_is_keyframe(idr, 2) && !h264_is_keyframe(nonidr, 2));
    VCT_CHECK(h264_is_keyframe(stap, sizeof(stap)));
    VCT_CHECK(h264_is_keyframe(fu_start, 3) && !h264_is_keyframe(fu_mid, 3));
}

/* Chrome's (OpenH264, packetization-mode=1) key frame as it goes on the
 * wire: a STAP-A (NRI 3) with SPS and PPS, then the IDR in FU-As. Only the
 * STAP-A and the first FU-A (S bit) start a key frame; the simulcast gate
 * switches a subscriber on the STAP-A and forwards the rest of the layer. */
static void t_h264_chrome(void)
{
    uint8_t stap[] = {0x78, 0, 4, 0x67, 0x42, 0xc0, 0x1f, 0, 4, 0x68, 0xce, 0x3c, 0x80};
    uint8_t fu_idr_s[] = {0x7c, 0x85, 0x88, 0x84}, fu_idr_m[] = {0x7c, 0x05, 0x11};
    uint8_t fu_idr_e[] = {0x7c, 0x45, 0x22}, fu_p_s[] = {0x5c, 0x81, 0x9a};
    /* A STAP-A without SPS or IDR; one whose NAL size runs past the end. */
    uint8_t stap_pps_p[] = {0x78, 0, 2, 0x68, 0xce, 0, 2, 0x41, 0x9a};
    uint8_t stap_short[] = {0x78, 0, 9, 0x67, 0x42};
    uint8_t sei_only[] = {0x06, 0x05};
    VCT_CHECK(h264_is_keyframe(stap, sizeof(stap)));
    VCT_CHECK(h264_is_keyframe(fu_idr_s, sizeof(fu_idr_s)));
    VCT_CHECK(!h264_is_keyframe(fu_idr_m, sizeof(fu_idr_m)));
    VCT_CHECK(!h264_is_keyframe(fu_idr_e, sizeof(fu_idr_e)));
    VCT_CHECK(!h264_is_keyframe(fu_p_s, sizeof(fu_p_s)));
    VCT_CHECK(!h264_is_keyframe(stap_pps_p, sizeof(stap_pps_p)));
    VCT_CHECK(!h264_is_keyframe(stap_short, sizeof(stap_short)));
    VCT_CHECK(!h264_is_keyframe(sei_only, sizeof(sei_only)));
    VCT_CHECK(!h264_is_keyframe(stap, 0) && !h264_is_keyframe(fu_idr_s, 1));

    /* Layer 0 to layer 2 (a tile grown from 320x180 to 1280x720). */
    sc_layer_t l[3] = {{320, 180, 150000, 1}, {640, 360, 500000, 1}, {1280, 720, 1500000, 1}};
    sc_sub_t s;
    sc_sub_init(&s);
    sc_sub_set_bw(&s, 5000000);
    sc_sub_set_size(&s, 320, 180);
    sc_select(&s, l, 3, 0);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 0, h264_is_keyframe(stap, sizeof(stap))), SC_SWITCH);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 0, h264_is_keyframe(fu_idr_s, sizeof(fu_idr_s))), SC_FORWARD);
    sc_sub_set_size(&s, 1280, 720);
    sc_select(&s, l, 3, 1000);
    sc_select(&s, l, 3, 600000);
    VCT_CHECK_EQ_INT(sc_wants_keyframe(&s), 2);
    /* Delta frames of the new layer wait; the old layer keeps flowing. */
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 2, h264_is_keyframe(fu_p_s, sizeof(fu_p_s))), SC_DROP);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 2, h264_is_keyframe(fu_idr_m, sizeof(fu_idr_m))), SC_DROP);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 0, 0), SC_FORWARD);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 2, h264_is_keyframe(stap, sizeof(stap))), SC_SWITCH);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 2, h264_is_keyframe(fu_idr_s, sizeof(fu_idr_s))), SC_FORWARD);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 2, h264_is_keyframe(fu_idr_e, sizeof(fu_idr_e))), SC_FORWARD);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 0, 0), SC_DROP);
    VCT_CHECK_EQ_INT(sc_wants_keyframe(&s), -1);
}

/* A layer that never switches again goes on for hours: every packet of
 * 300000 (4.6 wraps of the 16-bit seq, half an hour of video) is forwarded
 * with a continuous output seq; a packet from before the switch is still
 * dropped after the wraps, a late one from after it is not. */
static void t_rewrite_long_run(void)
{
    rw_t r;
    rw_out_t o;
    rw_init(&r, 0x77, 90000);
    uint16_t seq = 65000, out0 = 0;
    size_t fwd = 0;
    for (uint32_t i = 0; i < 300000; i++, seq++) {
        if (rw_map(&r, 0, seq, 3000 * i, NULL, 33333ull * i, &o) == RW_FORWARD) {
            if (fwd == 0)
                out0 = o.seq;
            VCT_CHECK(o.seq == (uint16_t)(out0 + fwd));
            fwd++;
        }
    }
    VCT_CHECK_EQ_INT(fwd, 300000);
    /* late: 100 packets back, forwarded (NACK answers and reordering) */
    VCT_CHECK_EQ_INT(rw_map(&r, 0, (uint16_t)(seq - 100), 0, NULL, 0, &o), RW_FORWARD);
    /* a switch, then a packet of the new layer from before it */
    VCT_CHECK_EQ_INT(rw_map(&r, 1, 1000, 0, NULL, 0, &o), RW_FORWARD);
    for (uint32_t i = 1; i < 70000; i++)
        rw_map(&r, 1, (uint16_t)(1000 + i), 0, NULL, 0, &o);
    VCT_CHECK_EQ_INT(rw_map(&r, 1, (uint16_t)(1000 + 70000 - 200), 0, NULL, 0, &o), RW_FORWARD);
    rw_init(&r, 0x77, 90000);
    rw_map(&r, 0, 10, 0, NULL, 0, &o);
    VCT_CHECK_EQ_INT(rw_map(&r, 0, 9, 0, NULL, 0, &o), RW_DROP);
    VCT_CHECK_EQ_INT(rw_map(&r, 0, (uint16_t)(10 - 20000), 0, NULL, 0, &o), RW_DROP);
}

static void t_rewrite_switch(void)
{
    rw_t r;
    rw_out_t o;
    vp8_desc_t a = {.has_picid = 1, .picid_15 = 1, .picid = 100, .has_tl0 = 1, .tl0picidx = 7};
    rw_init(&r, 0x55, 90000);
    VCT_CHECK_EQ_INT(rw_map(&r, 0, 500, 1000, &a, 0, &o), RW_FORWARD);
    VCT_CHECK(o.seq == 500 && o.ts == 1000 && o.ssrc == 0x55 && o.picid == 100);
    a.picid = 101, a.tl0picidx = 8;
    rw_map(&r, 0, 501, 4000, &a, 33333, &o);
    vp8_desc_t b = {.has_picid = 1, .picid_15 = 1, .picid = 9000, .has_tl0 = 1, .tl0picidx = 200};
    VCT_CHECK_EQ_INT(rw_map(&r, 2, 60000, 123456, &b, 66666, &o), RW_FORWARD);
    VCT_CHECK(o.seq == 502 && o.ts == 7000 && o.picid == 102 && o.tl0 == 9);
    VCT_CHECK_EQ_INT(rw_map(&r, 2, 59999, 123456, &b, 66667, &o), RW_DROP); /* before switch */
    b.picid = 9001;
    rw_map(&r, 2, 60001, 126456, &b, 99999, &o);
    VCT_CHECK(o.seq == 503 && o.ts == 10000 && o.picid == 103);
    rw_hist_t *h = calloc(1, sizeof(*h));
    rw_hist_put(h, 2, 60001, &o);
    rw_hist_entry_t *e = rw_hist_get(h, 503);
    VCT_CHECK(e && e->src_seq == 60001 && e->layer1 == 3 && rw_hist_get(h, 504) == NULL);
    rw_out_t back = rw_hist_out(e, o.ssrc);
    VCT_CHECK(back.seq == o.seq && back.ts == o.ts && back.picid == o.picid && back.tl0 == o.tl0 &&
              back.ssrc == o.ssrc);
    free(h);
}

static void t_simulcast_select(void)
{
    sc_layer_t l[3] = {{320, 180, 150000, 1}, {640, 360, 500000, 1}, {1280, 720, 1500000, 1}};
    sc_sub_t s;
    sc_sub_init(&s);
    sc_sub_set_size(&s, 640, 360);
    sc_sub_set_bw(&s, 5000000);
    sc_select(&s, l, 3, 0);
    VCT_CHECK_EQ_INT(s.target, 1);                     /* size-limited */
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 1, 0), SC_DROP); /* waits for a key frame */
    VCT_CHECK_EQ_INT(sc_wants_keyframe(&s), 1);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 1, 1), SC_SWITCH);
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 1, 0), SC_FORWARD);
    sc_sub_set_size(&s, 1280, 720);
    sc_select(&s, l, 3, 1000);
    VCT_CHECK_EQ_INT(s.target, 1); /* upgrade held */
    sc_select(&s, l, 3, 600000);
    VCT_CHECK_EQ_INT(s.target, 2);
    sc_sub_set_bw(&s, 100000);
    sc_select(&s, l, 3, 600001);
    VCT_CHECK_EQ_INT(s.target, 0);                        /* congested: lowest, at once */
    VCT_CHECK_EQ_INT(sc_on_packet(&s, 1, 0), SC_FORWARD); /* until layer 0 key frame */
    sc_sub_set_size(&s, 0, 0);
    sc_select(&s, l, 3, 700000);
    VCT_CHECK(s.target == -1 && s.current == -1);
}

static void t_kf_throttle(void)
{
    sc_kf_t k;
    sc_kf_init(&k, 300000);
    sc_kf_request(&k);
    sc_kf_request(&k);
    VCT_CHECK_EQ_INT(sc_kf_poll(&k, 1000), 1);
    sc_kf_request(&k);
    VCT_CHECK_EQ_INT(sc_kf_poll(&k, 200000), 0);
    VCT_CHECK_EQ_INT(sc_kf_deadline(&k), 301000);
    VCT_CHECK_EQ_INT(sc_kf_poll(&k, 301000), 1);
    VCT_CHECK_EQ_INT(k.coalesced, 1);
}

static void t_speaker(void)
{
    al_room_t r;
    al_event_t ev[8];
    al_init(&r);
    VCT_CHECK_EQ_INT(al_add(&r, 1), 0);
    VCT_CHECK_EQ_INT(al_add(&r, 1), -1);
    al_add(&r, 2);
    uint64_t t = 0, when = 0;
    for (; t < 400000; t += 20000) {
        al_level(&r, 1, 127, t);
        al_level(&r, 2, 25, t);
        if (t >= al_deadline(&r)) {
            size_t n = al_tick(&r, t, ev, 8);
            for (size_t i = 0; i < n; i++)
                if (ev[i].kind == AL_EV_DOMINANT && ev[i].id == 2 && !when)
                    when = t;
        }
    }
    VCT_CHECK(when > 0 && when <= 300000);
    VCT_CHECK_EQ_INT(al_dominant(&r), 2);
    al_remove(&r, 2);
    VCT_CHECK_EQ_INT(al_dominant(&r), 0);
}

/* Dynacast: a layer nobody needs pauses after the delay, but one the
 * publisher has not sent yet (kept) stays active: nobody could choose it. */
static void t_dynacast_keep(void)
{
    sc_dyn_t d;
    sc_sub_t s;
    uint8_t active = 0;
    sc_dyn_init(&d, 3, 2000000);
    sc_sub_init(&s);
    s.current = s.target = 0; /* the subscriber takes q, the only layer seen */
    for (uint64_t t = 1000; t <= 5000000; t += 100000) {
        sc_dyn_begin(&d);
        sc_dyn_need(&d, &s);
        sc_dyn_keep(&d, 0x4); /* f not sent yet; h was */
        sc_dyn_end(&d, t, &active);
    }
    VCT_CHECK_EQ_INT(active, 0x5);
    for (uint64_t t = 5100000; t <= 8000000; t += 100000) {
        sc_dyn_begin(&d);
        sc_dyn_need(&d, &s);
        sc_dyn_end(&d, t, &active); /* f has been seen: it may pause now */
    }
    VCT_CHECK_EQ_INT(active, 0x1);
}

static const vct_case_t cases[] = {
    {"vp8_parse", t_vp8_parse},
    {"h264_keyframe", t_h264},
    {"h264_chrome_keyframe_gate", t_h264_chrome},
    {"rewrite_switch", t_rewrite_switch},
    {"rewrite_long_run", t_rewrite_long_run},
    {"simulcast_select", t_simulcast_select},
    {"keyframe_throttle", t_kf_throttle},
    {"active_speaker", t_speaker},
    {"dynacast_keeps_unseen_layers", t_dynacast_keep},
};
VCT_MAIN("vp8", cases)
