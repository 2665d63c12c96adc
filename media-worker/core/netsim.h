/* netsim: a simulated one-way network path on a virtual clock for the
 * deterministic simulations: random and burst (Gilbert-Elliott) loss, a
 * bottleneck link with a drop-tail queue, propagation delay, jitter and
 * reordering. Not used on the media path; no clock, no sockets. */
#ifndef MW_NETSIM_H
#define MW_NETSIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t seed;
    double loss;        /* random loss probability */
    double burst_enter; /* P(good -> bad) per packet; 0: no bursts */
    double burst_exit;  /* P(bad -> good) per packet */
    double burst_loss;  /* loss probability in the bad state */
    uint64_t rate_bps;  /* bottleneck; 0: unlimited */
    size_t queue_bytes; /* drop-tail queue in front of the bottleneck */
    uint64_t delay_us;  /* propagation delay */
    uint64_t jitter_us; /* uniform extra delay 0..jitter (may reorder) */
    double reorder;     /* probability of an extra reorder_us delay */
    uint64_t reorder_us;
} netsim_cfg_t;

typedef struct {
    uint64_t sent, delivered, lost_random, lost_burst, lost_queue;
} netsim_stats_t;

typedef struct netsim netsim_t;

typedef enum { NETSIM_QUEUED = 0, NETSIM_LOST, NETSIM_DROPPED } netsim_result_t;

/* Allocates a path holding up to max_pkts packets in flight of up to
 * max_len bytes each. */
netsim_t *netsim_new(const netsim_cfg_t *cfg, size_t max_pkts, size_t max_len);
void netsim_free(netsim_t *ns);
/* Changes the bottleneck rate from now on (e.g. a step in a scenario). */
void netsim_set_rate(netsim_t *ns, uint64_t rate_bps);
/* Offers a packet at now_us; tag is returned with it on delivery. */
netsim_result_t netsim_send(netsim_t *ns, uint64_t now_us, const uint8_t *buf, size_t len,
                            uint64_t tag);
/* Delivers the earliest packet due at or before now_us: returns 1 and fills
 * buf (cap bytes), *len, *tag, *at (its delivery time); 0 if none is due. */
int netsim_recv(netsim_t *ns, uint64_t now_us, uint8_t *buf, size_t cap, size_t *len, uint64_t *tag,
                uint64_t *at);
/* The delivery time of the next packet, or UINT64_MAX. */
uint64_t netsim_next(const netsim_t *ns);
const netsim_stats_t *netsim_stats(const netsim_t *ns);
/* The simulator's deterministic PRNG, exposed for scenario scripts. */
uint32_t netsim_rand(uint32_t *state);
double netsim_uniform(uint32_t *state);

#endif
