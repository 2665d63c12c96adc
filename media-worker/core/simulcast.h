/* simulcast: per-subscriber layer selection (from the subscriber's
 * bandwidth and the size its UI shows the video at), switching only at key
 * frames; coalesced, throttled key frame requests per publisher layer; and
 * dynacast (which layers anyone needs, so unneeded ones pause at the
 * publisher). Not the rewriting (rewrite.c) nor the estimate (bwe.c). */
#ifndef MW_SIMULCAST_H
#define MW_SIMULCAST_H

#include <stddef.h>
#include <stdint.h>

#define SC_MAX_LAYERS 3

/* One layer of a published track, ordered low (0) to high. */
typedef struct {
    uint16_t width, height;
    uint64_t bps;  /* measured (or announced) bitrate */
    int available; /* sent by the publisher, or paused by dynacast (resumable) */
} sc_layer_t;

typedef struct {
    int current; /* layer being forwarded, -1 none */
    int target;  /* layer wanted, -1 none (hidden) */
    uint16_t want_w, want_h;
    uint64_t bw_bps; /* bandwidth this track may use */
    int up_cand;     /* pending upgrade candidate, -1 none */
    uint64_t up_since;
    uint64_t upgrade_hold_us;
    uint32_t switches;
} sc_sub_t;

void sc_sub_init(sc_sub_t *s);
/* The size the subscriber shows the video at; 0x0: not visible. */
void sc_sub_set_size(sc_sub_t *s, uint16_t w, uint16_t h);
void sc_sub_set_bw(sc_sub_t *s, uint64_t bps);
/* Picks the target layer from layers[0..n) at now_us. Downgrades at once;
 * upgrades after the bandwidth has held for upgrade_hold_us. Returns 1 if
 * the target changed. While target != current, request a key frame of the
 * target (sc_kf_request). */
int sc_select(sc_sub_t *s, const sc_layer_t *layers, size_t n, uint64_t now_us);

typedef enum { SC_DROP = 0, SC_FORWARD, SC_SWITCH } sc_res_t;
/* Decides for one packet of layer: SC_SWITCH when it starts a key frame of
 * the target layer (current becomes target; rewrite with rw_map), SC_FORWARD
 * for the current layer, else SC_DROP. */
sc_res_t sc_on_packet(sc_sub_t *s, int layer, int keyframe_start);
/* The layer to request a key frame of (target != current), or -1. */
int sc_wants_keyframe(const sc_sub_t *s);

/* Key frame requests for one publisher layer: many asks, one PLI per
 * min_interval (RFC 4585 allows; browsers throttle anyway). */
typedef struct {
    int pending;
    uint64_t last_sent_us, min_interval_us;
    uint64_t sent, coalesced;
} sc_kf_t;

void sc_kf_init(sc_kf_t *k, uint64_t min_interval_us);
void sc_kf_request(sc_kf_t *k);
/* 1 if a PLI should go out now (then it counts as sent). */
int sc_kf_poll(sc_kf_t *k, uint64_t now_us);
/* A key frame arrived: outstanding asks are satisfied. */
void sc_kf_received(sc_kf_t *k);
uint64_t sc_kf_deadline(const sc_kf_t *k);

/* Dynacast for one published track. */
typedef struct {
    uint8_t needed; /* collected between begin and end */
    uint8_t active; /* layers the publisher is told to send */
    uint64_t unneeded_since[SC_MAX_LAYERS];
    uint64_t pause_delay_us;
} sc_dyn_t;

void sc_dyn_init(sc_dyn_t *d, size_t nlayers, uint64_t pause_delay_us);
void sc_dyn_begin(sc_dyn_t *d);
/* Marks a subscriber's current and target layers as needed. */
void sc_dyn_need(sc_dyn_t *d, const sc_sub_t *s);
/* Layers in mask stay active whatever the subscribers need: a layer the
 * publisher has not sent yet cannot be chosen by anyone, so pausing it for
 * want of takers would keep it away for good (the browser starts its upper
 * layers only as its estimate grows). Between begin and end. */
void sc_dyn_keep(sc_dyn_t *d, uint8_t mask);
/* Resumes needed layers at once, pauses layers unneeded for pause_delay.
 * Returns 1 if the active mask changed (*active: bit per layer) - tell the
 * publisher (RTCRtpSender encodings[i].active). */
int sc_dyn_end(sc_dyn_t *d, uint64_t now_us, uint8_t *active);

#endif
