/* Active speaker: three participants sending RFC 6464 levels every 20 ms
 * with noise; speech turns, a short interjection, and overlapping talk. */
#include "media-worker/core/audiolevel.h"
#include "media-worker/core/netsim.h"
#include "tests/sim/sim.h"

/* Scripted loudness (-dBov) of participant id at t. */
static uint8_t sp_level(uint32_t id, uint64_t t, uint32_t *rng)
{
    int speech = 0;
    uint64_t ms = t / 1000;
    if (id == 1)
        speech = ms < 3000 || (ms >= 9000 && ms < 12000);
    if (id == 2)
        speech = (ms >= 3000 && ms < 6000) || (ms >= 10000 && ms < 10120); /* interjection */
    if (id == 3)
        speech = ms >= 6000 && ms < 9000;
    int base = speech ? 28 : 100;
    if (id == 3 && ms >= 9000 && ms < 12000)
        base = 55; /* murmuring under participant 1 */
    int jitter = (int)(netsim_rand(rng) % 21) - 10;
    int l = base + jitter;
    return (uint8_t)(l < 0 ? 0 : l > 127 ? 127 : l);
}

void sim_speaker(void)
{
    al_room_t r;
    al_init(&r);
    for (uint32_t id = 1; id <= 3; id++)
        al_add(&r, id);
    uint32_t rng = 99;
    /* expected dominant changes: (time, speaker) */
    static const struct {
        uint64_t t;
        uint32_t id;
    } want[] = {{0, 1}, {3000000, 2}, {6000000, 3}, {9000000, 1}};
    uint64_t got_t[8];
    uint32_t got_id[8];
    size_t nch = 0;
    for (uint64_t now = 0; now < 12000000; now += 10000) {
        if (now % 20000 == 0)
            for (uint32_t id = 1; id <= 3; id++)
                al_level(&r, id, sp_level(id, now, &rng), now + id * 1000);
        if (now >= al_deadline(&r)) {
            al_event_t ev[8];
            size_t n = al_tick(&r, now, ev, 8);
            for (size_t i = 0; i < n; i++)
                if (ev[i].kind == AL_EV_DOMINANT && nch < 8) {
                    got_t[nch] = now;
                    got_id[nch] = ev[i].id;
                    nch++;
                }
        }
    }
    int ok = nch == 4;
    double worst = 0;
    for (size_t i = 0; ok && i < 4; i++) {
        double lat = (double)(got_t[i] - want[i].t) / 1000.0;
        if (got_id[i] != want[i].id || lat > 300)
            ok = 0;
        if (lat > worst)
            worst = lat;
    }
    sim_result(ok, "active-speaker",
               "%zu dominant-speaker changes (4 expected: turns at 0, 3, 6, 9 s; a 120 ms "
               "interjection and a murmur ignored); worst latency %.0f ms (limit 300)",
               nch, worst);
}
