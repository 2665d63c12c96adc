#include "media-worker/core/bwe.h"

#include <string.h>

#define BWE_MASK (BWE_HISTORY - 1)
#define BWE_BURST_US 5000 /* packets sent within 5 ms form a group */
#define BWE_SMOOTHING 0.9 /* trendline delay smoothing */
#define BWE_THRESHOLD_GAIN 4.0
#define BWE_K_UP 0.0087 /* adaptive threshold (GCC 5.4) */
#define BWE_K_DOWN 0.039
#define BWE_OVERUSE_TIME_MS 10.0
#define BWE_BETA 0.85          /* multiplicative decrease (GCC 5.5) */
#define BWE_ACK_SPAN_US 500000 /* acked bitrate window */
#define BWE_LOSS_MIN_PACKETS 20
#define BWE_NO_CAP 1e18 /* loss-based cap not engaged */

/* exp(x) for |x| <= 1 by its series: the cores do not link libm. */
static double bwe_exp(double x)
{
    double sum = 1, term = 1;
    for (int i = 1; i < 16; i++) {
        term *= x / i;
        sum += term;
    }
    return sum;
}
#define BWE_LN2 0.6931471805599453
#define BWE_LN108 0.0769610411361284 /* ln 1.08 */
static double bwe_abs(double x)
{
    return x < 0 ? -x : x;
}

static double bwe_clamp(const bwe_t *b, double r)
{
    if (r < (double)b->cfg.min_bps)
        r = (double)b->cfg.min_bps;
    if (r > (double)b->cfg.max_bps)
        r = (double)b->cfg.max_bps;
    return r;
}

void bwe_init(bwe_t *b, const bwe_cfg_t *cfg)
{
    memset(b, 0, sizeof(*b));
    b->cfg = *cfg;
    if (!b->cfg.min_bps)
        b->cfg.min_bps = 30000;
    if (!b->cfg.max_bps)
        b->cfg.max_bps = 20000000;
    if (!b->cfg.start_bps)
        b->cfg.start_bps = 300000;
    b->sent_max = -1;
    b->threshold = 12.5;
    b->time_over = -1;
    b->first_arr = -1;
    b->rate = bwe_clamp(b, (double)b->cfg.start_bps);
    b->ramp_up = 1;
    b->loss_cap = BWE_NO_CAP;
    b->rtt_us = 100000;
}

void bwe_set_rtt(bwe_t *b, uint64_t rtt_us)
{
    b->rtt_us = rtt_us;
}

void bwe_on_sent(bwe_t *b, uint16_t twseq, size_t size, uint64_t now_us)
{
    int64_t ext = twcc_seq_unwrap(b->sent_max, twseq);
    if (ext > b->sent_max)
        b->sent_max = ext;
    bwe_sent_t *s = &b->sent[ext & BWE_MASK];
    s->tag = (uint16_t)ext;
    s->send_lo = (uint32_t)now_us;
    s->size = size > BWE_SIZE_MAX ? BWE_SIZE_MAX : (uint16_t)size;
    s->used = 1;
    s->acked = 0;
    if (now_us > b->last_sent_us)
        b->last_sent_us = now_us;
}

/* The full send time of an entry: its low 32 bits are at most 71 minutes
 * behind the latest send. */
static int64_t bwe_send_us(const bwe_t *b, const bwe_sent_t *s)
{
    return (int64_t)(b->last_sent_us - (uint32_t)((uint32_t)b->last_sent_us - s->send_lo));
}

/* Least-squares slope of (tx, ty) (GCC 5.3, libwebrtc's trendline). */
static double bwe_slope(const bwe_t *b)
{
    double sx = 0, sy = 0;
    for (size_t i = 0; i < b->tn; i++) {
        sx += b->tx[i];
        sy += b->ty[i];
    }
    double mx = sx / (double)b->tn, my = sy / (double)b->tn, num = 0, den = 0;
    for (size_t i = 0; i < b->tn; i++) {
        num += (b->tx[i] - mx) * (b->ty[i] - my);
        den += (b->tx[i] - mx) * (b->tx[i] - mx);
    }
    return den == 0 ? 0 : num / den;
}

static void bwe_threshold_update(bwe_t *b, double modified, int64_t arr_us)
{
    if (b->last_thr_update == 0)
        b->last_thr_update = arr_us;
    double am = bwe_abs(modified);
    if (am > b->threshold + 15.0) { /* a spike: do not adapt to it */
        b->last_thr_update = arr_us;
        return;
    }
    double k = am < b->threshold ? BWE_K_DOWN : BWE_K_UP;
    double dt = (double)(arr_us - b->last_thr_update) / 1000.0;
    if (dt > 100)
        dt = 100;
    b->threshold += k * (am - b->threshold) * dt;
    if (b->threshold < 6)
        b->threshold = 6;
    if (b->threshold > 600)
        b->threshold = 600;
    b->last_thr_update = arr_us;
}

/* One inter-group delay variation sample (ms) at arrival time arr_us. */
static void bwe_trend_update(bwe_t *b, double delta_ms, double send_delta_ms, int64_t arr_us)
{
    if (b->first_arr < 0)
        b->first_arr = arr_us;
    if (b->num_deltas < 1000)
        b->num_deltas++;
    b->acc_delay += delta_ms;
    b->smoothed = BWE_SMOOTHING * b->smoothed + (1 - BWE_SMOOTHING) * b->acc_delay;
    b->tx[b->tpos] = (double)(arr_us - b->first_arr) / 1000.0;
    b->ty[b->tpos] = b->smoothed;
    b->tpos = (b->tpos + 1) % BWE_TREND_WINDOW;
    if (b->tn < BWE_TREND_WINDOW)
        b->tn++;
    double trend = b->prev_trend;
    if (b->tn == BWE_TREND_WINDOW)
        trend = bwe_slope(b);

    double modified = (b->num_deltas < 60 ? b->num_deltas : 60) * trend * BWE_THRESHOLD_GAIN;
    if (modified > b->threshold) {
        if (b->time_over < 0)
            b->time_over = send_delta_ms / 2;
        else
            b->time_over += send_delta_ms;
        b->over_count++;
        if (b->time_over > BWE_OVERUSE_TIME_MS && b->over_count > 1 && trend >= b->prev_trend) {
            b->time_over = 0;
            b->over_count = 0;
            b->usage = BWE_OVERUSE;
        }
    } else if (modified < -b->threshold) {
        b->time_over = -1;
        b->over_count = 0;
        b->usage = BWE_UNDERUSE;
    } else {
        b->time_over = -1;
        b->over_count = 0;
        b->usage = BWE_NORMAL;
    }
    b->prev_trend = trend;
    bwe_threshold_update(b, modified, arr_us);
}

/* Packet groups (GCC 5.2): a group is the packets sent within 5 ms of its
 * first; its delay variation against the previous group feeds the trend. */
static void bwe_group_packet(bwe_t *b, int64_t send_us, int64_t arr_us)
{
    if (!b->grp_valid) {
        b->grp_valid = 1;
        b->grp_first_send = b->grp_last_send = send_us;
        b->grp_last_arr = arr_us;
        return;
    }
    if (send_us < b->grp_first_send)
        return; /* reordered into an older group */
    if (send_us - b->grp_first_send <= BWE_BURST_US) {
        if (send_us > b->grp_last_send)
            b->grp_last_send = send_us;
        if (arr_us > b->grp_last_arr)
            b->grp_last_arr = arr_us;
        return;
    }
    if (b->prev_valid) {
        double sd = (double)(b->grp_last_send - b->prev_last_send) / 1000.0;
        double ad = (double)(b->grp_last_arr - b->prev_last_arr) / 1000.0;
        bwe_trend_update(b, ad - sd, sd, b->grp_last_arr);
    }
    b->prev_valid = 1;
    b->prev_last_send = b->grp_last_send;
    b->prev_last_arr = b->grp_last_arr;
    b->grp_first_send = b->grp_last_send = send_us;
    b->grp_last_arr = arr_us;
}

static void bwe_ack_add(bwe_t *b, int64_t arr_us, uint32_t size)
{
    b->ack_t[b->ack_pos] = arr_us;
    b->ack_b[b->ack_pos] = size;
    b->ack_pos = (b->ack_pos + 1) % BWE_ACK_WINDOW;
    if (b->ack_n < BWE_ACK_WINDOW)
        b->ack_n++;
}

/* Received bits per second over the last BWE_ACK_SPAN_US of arrivals (or the
 * last BWE_ACK_WINDOW packets, whichever is shorter). */
static void bwe_ack_rate(bwe_t *b)
{
    if (b->ack_n < 2)
        return;
    size_t newest = (b->ack_pos + BWE_ACK_WINDOW - 1) % BWE_ACK_WINDOW;
    int64_t tn = b->ack_t[newest], t0 = tn;
    uint64_t bytes = 0;
    for (size_t k = 0; k < b->ack_n; k++) {
        size_t i = (newest + BWE_ACK_WINDOW - k) % BWE_ACK_WINDOW;
        if (tn - b->ack_t[i] > BWE_ACK_SPAN_US)
            break;
        if (k > 0)
            bytes += b->ack_b[(i + 1) % BWE_ACK_WINDOW];
        t0 = b->ack_t[i];
    }
    if (tn - t0 < 20000)
        return;
    b->acked_bps = bytes * 8 * 1000000 / (uint64_t)(tn - t0);
}

static void bwe_loss_update(bwe_t *b, uint32_t lost, uint32_t total, uint64_t now_us)
{
    b->loss_lost += lost;
    b->loss_total += total;
    if (b->loss_total < BWE_LOSS_MIN_PACKETS)
        return;
    double loss = (double)b->loss_lost / (double)b->loss_total;
    b->last_loss = loss;
    b->loss_lost = b->loss_total = 0;
    double dt = b->loss_last_us ? (double)(now_us - b->loss_last_us) / 1e6 : 0;
    b->loss_last_us = now_us;
    /* GCC 6: above 10% loss cut by half the loss; below 2% lift the cap by 8%
     * per second; in between hold. */
    if (loss > 0.10) {
        double cur = b->rate < b->loss_cap ? b->rate : b->loss_cap;
        b->loss_cap = bwe_clamp(b, cur * (1 - 0.5 * loss));
    } else if (loss < 0.02) {
        if (b->loss_cap < BWE_NO_CAP) {
            b->loss_cap *= bwe_exp(BWE_LN108 * (dt < 1 ? dt : 1));
            b->loss_cap += 1000;
            if (b->loss_cap > 2 * b->rate)
                b->loss_cap = BWE_NO_CAP;
        }
    } else if (b->loss_cap >= BWE_NO_CAP) {
        b->loss_cap = b->rate;
    }
}

/* AIMD rate control (GCC 5.5) driven by the detector's last signal. */
static void bwe_aimd(bwe_t *b, uint64_t now_us)
{
    double dt = b->last_update_us ? (double)(now_us - b->last_update_us) / 1e6 : 0;
    if (dt > 1)
        dt = 1;
    b->last_update_us = now_us;
    double acked = (double)b->acked_bps;
    switch (b->usage) {
    case BWE_OVERUSE:
        b->state = BWE_DECREASE;
        break;
    case BWE_UNDERUSE:
        b->state = BWE_HOLD;
        break;
    case BWE_NORMAL:
        if (b->state != BWE_INCREASE)
            b->state = BWE_INCREASE;
        break;
    }
    if (b->state == BWE_INCREASE) {
        if (b->link_cap > 0 && acked > b->link_cap * 1.5)
            b->link_cap = 0; /* the path got wider: search again */
        double inc;
        if (b->ramp_up) {
            /* Stands in for libwebrtc's initial probing: double per second
             * until the first overuse. */
            inc = b->rate * (bwe_exp(BWE_LN2 * dt) - 1);
        } else if (b->link_cap > 0 && b->rate > b->link_cap * 0.9) {
            /* Near the last known capacity: one packet per response time. */
            double resp = (double)(b->rtt_us + 100000) / 1e6;
            inc = 1200.0 * 8 * dt / resp;
        } else {
            inc = b->rate * (bwe_exp(BWE_LN108 * dt) - 1);
            if (inc < 1000 * dt)
                inc = 1000 * dt;
        }
        double r = b->rate + inc;
        if (acked > 0 && r > 1.5 * acked + 10000)
            r = b->rate > 1.5 * acked + 10000 ? b->rate : 1.5 * acked + 10000;
        b->rate = bwe_clamp(b, r);
    } else if (b->state == BWE_DECREASE) {
        uint64_t gap = b->rtt_us < 10000 ? 10000 : b->rtt_us > 200000 ? 200000 : b->rtt_us;
        if (now_us - b->last_decrease_us >= gap && acked > 0) {
            double r = BWE_BETA * acked;
            if (r < b->rate)
                b->rate = bwe_clamp(b, r);
            b->link_cap = b->link_cap > 0 ? 0.95 * b->link_cap + 0.05 * acked : acked;
            b->last_decrease_us = now_us;
            b->ramp_up = 0;
        }
        b->state = BWE_HOLD;
        b->usage = BWE_NORMAL;
    }
}

void bwe_on_feedback(bwe_t *b, const twcc_pkt_t *pkts, size_t n, uint64_t now_us)
{
    uint32_t lost = 0, total = 0;
    /* Feedback lists packets in sequence order; arrival order is close enough
     * for the grouping, which skips reordered packets. */
    for (size_t i = 0; i < n; i++) {
        int64_t ext = twcc_seq_unwrap(b->sent_max, pkts[i].seq);
        bwe_sent_t *s = &b->sent[ext & BWE_MASK];
        if (!s->used || s->tag != (uint16_t)ext || ext > b->sent_max)
            continue; /* unknown or too old */
        if (!pkts[i].received) {
            if (!s->acked)
                lost++, total++;
            continue;
        }
        if (s->acked)
            continue; /* a duplicate report */
        s->acked = 1;
        total++;
        bwe_ack_add(b, pkts[i].arrival_us, s->size);
        bwe_group_packet(b, bwe_send_us(b, s), pkts[i].arrival_us);
    }
    if (total == 0)
        return;
    bwe_ack_rate(b);
    bwe_loss_update(b, lost, total, now_us);
    bwe_aimd(b, now_us);
}

void bwe_on_remb(bwe_t *b, uint64_t bps, uint64_t now_us)
{
    b->remb_bps = bps;
    b->rate = bwe_clamp(b, (double)bps);
    b->ramp_up = 0;
}

void bwe_on_loss(bwe_t *b, uint8_t fraction_lost, uint32_t packets, uint64_t now_us)
{
    uint32_t lost = (uint32_t)(((uint64_t)packets * fraction_lost) / 256);
    bwe_loss_update(b, lost, packets, now_us);
}

uint64_t bwe_estimate(const bwe_t *b)
{
    double r = b->rate;
    if (r > b->loss_cap)
        r = b->loss_cap;
    return (uint64_t)bwe_clamp(b, r);
}

uint64_t bwe_acked_bps(const bwe_t *b)
{
    return b->acked_bps;
}

bwe_usage_t bwe_usage(const bwe_t *b)
{
    return b->usage;
}
