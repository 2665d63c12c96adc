#include "media-worker/core/simulcast.h"

#include <string.h>

void sc_sub_init(sc_sub_t *s)
{
    memset(s, 0, sizeof(*s));
    s->current = s->target = s->up_cand = -1;
    s->upgrade_hold_us = 500000;
}

void sc_sub_set_size(sc_sub_t *s, uint16_t w, uint16_t h)
{
    s->want_w = w;
    s->want_h = h;
}

void sc_sub_set_bw(sc_sub_t *s, uint64_t bps)
{
    s->bw_bps = bps;
}

/* The smallest available layer that covers the shown size (within 20%), or
 * the largest available one. */
static int sc_size_layer(const sc_sub_t *s, const sc_layer_t *l, size_t n)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!l[i].available)
            continue;
        best = (int)i;
        if ((uint32_t)l[i].width * 5 >= (uint32_t)s->want_w * 4 &&
            (uint32_t)l[i].height * 5 >= (uint32_t)s->want_h * 4)
            break;
    }
    return best;
}

int sc_select(sc_sub_t *s, const sc_layer_t *l, size_t n, uint64_t now_us)
{
    int old = s->target, want;
    if (n > SC_MAX_LAYERS)
        n = SC_MAX_LAYERS;
    if (s->want_w == 0 && s->want_h == 0) {
        want = -1;
    } else {
        int top = sc_size_layer(s, l, n);
        want = -1;
        for (int i = 0; i <= top; i++)
            if (l[i].available && l[i].bps <= s->bw_bps)
                want = i;
        if (want < 0) /* congested: the lowest available layer */
            for (int i = 0; i <= top && want < 0; i++)
                if (l[i].available)
                    want = i;
    }
    int ref = s->target >= 0 ? s->target : s->current;
    if (want > ref && ref >= 0 && l[ref].available) {
        /* Upgrade only once the bandwidth has held. */
        if (s->up_cand != want) {
            s->up_cand = want;
            s->up_since = now_us;
        }
        if (now_us - s->up_since < s->upgrade_hold_us)
            want = s->target;
        else
            s->up_cand = -1;
    } else {
        s->up_cand = -1;
    }
    s->target = want;
    if (want < 0)
        s->current = -1; /* hidden: stop at once */
    return s->target != old;
}

sc_res_t sc_on_packet(sc_sub_t *s, int layer, int keyframe_start)
{
    if (layer == s->target && s->target != s->current && keyframe_start) {
        s->current = layer;
        s->switches++;
        return SC_SWITCH;
    }
    return layer == s->current ? SC_FORWARD : SC_DROP;
}

int sc_wants_keyframe(const sc_sub_t *s)
{
    return s->target >= 0 && s->target != s->current ? s->target : -1;
}

void sc_kf_init(sc_kf_t *k, uint64_t min_interval_us)
{
    memset(k, 0, sizeof(*k));
    k->min_interval_us = min_interval_us;
}

void sc_kf_request(sc_kf_t *k)
{
    if (k->pending)
        k->coalesced++;
    k->pending = 1;
}

int sc_kf_poll(sc_kf_t *k, uint64_t now_us)
{
    if (!k->pending || (k->sent && now_us - k->last_sent_us < k->min_interval_us))
        return 0;
    k->pending = 0;
    k->last_sent_us = now_us;
    k->sent++;
    return 1;
}

void sc_kf_received(sc_kf_t *k)
{
    k->pending = 0;
}

uint64_t sc_kf_deadline(const sc_kf_t *k)
{
    if (!k->pending)
        return UINT64_MAX;
    return k->sent ? k->last_sent_us + k->min_interval_us : 0;
}

void sc_dyn_init(sc_dyn_t *d, size_t nlayers, uint64_t pause_delay_us)
{
    memset(d, 0, sizeof(*d));
    if (nlayers > SC_MAX_LAYERS)
        nlayers = SC_MAX_LAYERS;
    d->active = (uint8_t)((1u << nlayers) - 1);
    d->pause_delay_us = pause_delay_us;
}

void sc_dyn_begin(sc_dyn_t *d)
{
    d->needed = 0;
}

void sc_dyn_need(sc_dyn_t *d, const sc_sub_t *s)
{
    if (s->current >= 0 && s->current < SC_MAX_LAYERS)
        d->needed |= (uint8_t)(1u << s->current);
    if (s->target >= 0 && s->target < SC_MAX_LAYERS)
        d->needed |= (uint8_t)(1u << s->target);
}

void sc_dyn_keep(sc_dyn_t *d, uint8_t mask)
{
    d->needed |= mask;
}

int sc_dyn_end(sc_dyn_t *d, uint64_t now_us, uint8_t *active)
{
    uint8_t old = d->active;
    for (int i = 0; i < SC_MAX_LAYERS; i++) {
        uint8_t bit = (uint8_t)(1u << i);
        if (d->needed & bit) {
            d->active |= bit;
            d->unneeded_since[i] = 0;
        } else if (d->active & bit) {
            if (!d->unneeded_since[i])
                d->unneeded_since[i] = now_us ? now_us : 1;
            else if (now_us - d->unneeded_since[i] >= d->pause_delay_us)
                d->active &= (uint8_t)~bit;
        }
    }
    *active = d->active;
    return d->active != old;
}
