#include "media-worker/core/netsim.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    int used;
    uint64_t at, tag, order;
    size_t len;
} netsim_slot_t;

struct netsim {
    netsim_cfg_t cfg;
    uint32_t rng;
    int bad; /* Gilbert-Elliott state */
    uint64_t link_free_at;
    uint64_t order;
    size_t max_pkts, max_len;
    netsim_slot_t *slots;
    uint8_t *data;
    netsim_stats_t st;
};

uint32_t netsim_rand(uint32_t *s)
{
    /* xorshift32 */
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

double netsim_uniform(uint32_t *s)
{
    return (double)(netsim_rand(s) >> 8) / (double)(1u << 24);
}

netsim_t *netsim_new(const netsim_cfg_t *cfg, size_t max_pkts, size_t max_len)
{
    netsim_t *ns = calloc(1, sizeof(*ns));
    if (!ns)
        abort();
    ns->cfg = *cfg;
    /* Small seeds give small first xorshift outputs: scramble and warm up. */
    ns->rng = (cfg->seed * 2654435761u) ^ 0x9e3779b9u;
    for (int i = 0; i < 8; i++)
        netsim_rand(&ns->rng);
    ns->max_pkts = max_pkts;
    ns->max_len = max_len;
    ns->slots = calloc(max_pkts, sizeof(*ns->slots));
    ns->data = malloc(max_pkts * max_len);
    if (!ns->slots || !ns->data)
        abort();
    return ns;
}

void netsim_free(netsim_t *ns)
{
    if (!ns)
        return;
    free(ns->slots);
    free(ns->data);
    free(ns);
}

void netsim_set_rate(netsim_t *ns, uint64_t rate_bps)
{
    ns->cfg.rate_bps = rate_bps;
}

netsim_result_t netsim_send(netsim_t *ns, uint64_t now_us, const uint8_t *buf, size_t len,
                            uint64_t tag)
{
    const netsim_cfg_t *c = &ns->cfg;
    ns->st.sent++;
    if (c->burst_enter > 0) {
        if (!ns->bad && netsim_uniform(&ns->rng) < c->burst_enter)
            ns->bad = 1;
        else if (ns->bad && netsim_uniform(&ns->rng) < c->burst_exit)
            ns->bad = 0;
        if (ns->bad && netsim_uniform(&ns->rng) < c->burst_loss) {
            ns->st.lost_burst++;
            return NETSIM_LOST;
        }
    }
    if (c->loss > 0 && netsim_uniform(&ns->rng) < c->loss) {
        ns->st.lost_random++;
        return NETSIM_LOST;
    }
    uint64_t leave = now_us;
    if (c->rate_bps) {
        uint64_t start = ns->link_free_at > now_us ? ns->link_free_at : now_us;
        uint64_t backlog = (start - now_us) * c->rate_bps / 8000000;
        if (c->queue_bytes && backlog + len > c->queue_bytes) {
            ns->st.lost_queue++;
            return NETSIM_DROPPED;
        }
        ns->link_free_at = start + (uint64_t)len * 8 * 1000000 / c->rate_bps;
        leave = ns->link_free_at;
    }
    size_t i;
    for (i = 0; i < ns->max_pkts && ns->slots[i].used; i++)
        ;
    if (i == ns->max_pkts || len > ns->max_len) {
        ns->st.lost_queue++;
        return NETSIM_DROPPED;
    }
    uint64_t at = leave + c->delay_us;
    if (c->jitter_us)
        at += netsim_rand(&ns->rng) % (c->jitter_us + 1);
    if (c->reorder > 0 && netsim_uniform(&ns->rng) < c->reorder)
        at += c->reorder_us;
    ns->slots[i] =
        (netsim_slot_t){.used = 1, .at = at, .tag = tag, .order = ns->order++, .len = len};
    memcpy(ns->data + i * ns->max_len, buf, len);
    return NETSIM_QUEUED;
}

static size_t netsim_earliest(const netsim_t *ns)
{
    size_t best = ns->max_pkts;
    for (size_t i = 0; i < ns->max_pkts; i++) {
        const netsim_slot_t *s = &ns->slots[i];
        if (!s->used)
            continue;
        if (best == ns->max_pkts || s->at < ns->slots[best].at ||
            (s->at == ns->slots[best].at && s->order < ns->slots[best].order))
            best = i;
    }
    return best;
}

int netsim_recv(netsim_t *ns, uint64_t now_us, uint8_t *buf, size_t cap, size_t *len, uint64_t *tag,
                uint64_t *at)
{
    size_t i = netsim_earliest(ns);
    if (i == ns->max_pkts || ns->slots[i].at > now_us)
        return 0;
    netsim_slot_t *s = &ns->slots[i];
    size_t n = s->len < cap ? s->len : cap;
    if (buf)
        memcpy(buf, ns->data + i * ns->max_len, n);
    *len = n;
    *tag = s->tag;
    *at = s->at;
    s->used = 0;
    ns->st.delivered++;
    return 1;
}

uint64_t netsim_next(const netsim_t *ns)
{
    size_t i = netsim_earliest(ns);
    return i == ns->max_pkts ? UINT64_MAX : ns->slots[i].at;
}

const netsim_stats_t *netsim_stats(const netsim_t *ns)
{
    return &ns->st;
}
