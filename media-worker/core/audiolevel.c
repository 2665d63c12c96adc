#include "media-worker/core/audiolevel.h"

#include <string.h>

/* Levels are -dBov: speech sits around 20-50, silence near 127. Activity is
 * 1 at 30 or louder, 0 at 70 or quieter. */
#define AL_LOUD 30
#define AL_QUIET 70
#define AL_ALPHA 0.25 /* per packet (20 ms): tau about 70 ms */
#define AL_ON 0.5     /* speaking hysteresis */
#define AL_OFF 0.2
#define AL_MARGIN 0.15     /* a challenger must lead the dominant by this */
#define AL_STALE_US 100000 /* no packets (DTX, muted): decay */

void al_init(al_room_t *r)
{
    memset(r, 0, sizeof(*r));
}

static al_part_t *al_find(al_room_t *r, uint32_t id)
{
    for (size_t i = 0; i < AL_MAX_PARTS; i++)
        if (r->p[i].id == id)
            return &r->p[i];
    return NULL;
}

int al_add(al_room_t *r, uint32_t id)
{
    if (id == 0 || al_find(r, id))
        return -1;
    al_part_t *p = al_find(r, 0);
    if (!p)
        return -1;
    memset(p, 0, sizeof(*p));
    p->id = id;
    return 0;
}

void al_remove(al_room_t *r, uint32_t id)
{
    al_part_t *p = id ? al_find(r, id) : NULL;
    if (!p)
        return;
    memset(p, 0, sizeof(*p));
    if (r->dominant == id)
        r->dominant = 0;
}

void al_level(al_room_t *r, uint32_t id, uint8_t level, uint64_t now_us)
{
    al_part_t *p = id ? al_find(r, id) : NULL;
    if (!p)
        return;
    level &= 0x7f;
    double a = level <= AL_LOUD    ? 1.0
               : level >= AL_QUIET ? 0.0
                                   : (double)(AL_QUIET - level) / (AL_QUIET - AL_LOUD);
    p->score += (a - p->score) * AL_ALPHA;
    p->last_us = now_us;
}

static size_t al_emit(al_event_t *ev, size_t n, size_t max, al_ev_kind_t k, uint32_t id)
{
    if (n < max)
        ev[n] = (al_event_t){.kind = k, .id = id};
    return n < max ? n + 1 : n;
}

size_t al_tick(al_room_t *r, uint64_t now_us, al_event_t *ev, size_t max)
{
    size_t n = 0;
    al_part_t *best = NULL, *dom = NULL;
    for (size_t i = 0; i < AL_MAX_PARTS; i++) {
        al_part_t *p = &r->p[i];
        if (!p->id)
            continue;
        if (now_us - p->last_us > AL_STALE_US)
            p->score *= 0.5;
        if (!p->speaking && p->score >= AL_ON) {
            p->speaking = 1;
            n = al_emit(ev, n, max, AL_EV_SPEAKING, p->id);
        } else if (p->speaking && p->score < AL_OFF) {
            p->speaking = 0;
            n = al_emit(ev, n, max, AL_EV_SILENT, p->id);
        }
        if (p->id == r->dominant)
            dom = p;
        if (!best || p->score > best->score)
            best = p;
    }
    if (best && best != dom && best->speaking && (!dom || best->score > dom->score + AL_MARGIN)) {
        r->dominant = best->id;
        n = al_emit(ev, n, max, AL_EV_DOMINANT, best->id);
    }
    r->next_tick = now_us + AL_TICK_US;
    return n;
}

uint64_t al_deadline(const al_room_t *r)
{
    return r->next_tick;
}

uint32_t al_dominant(const al_room_t *r)
{
    return r->dominant;
}
