/* audiolevel: active-speaker detection for a room from the RFC 6464
 * client-to-mixer audio level extension: per-participant decaying scores,
 * speaking on/off with hysteresis, and a dominant speaker that changes within
 * 300 ms of a new voice. Not the extension parser (rtpext.c) and not a VAD. */
#ifndef MW_AUDIOLEVEL_H
#define MW_AUDIOLEVEL_H

#include <stddef.h>
#include <stdint.h>

#define AL_MAX_PARTS 64
#define AL_TICK_US 50000 /* evaluation period */

typedef struct {
    uint32_t id;      /* participant (caller's handle), 0: free slot */
    double score;     /* 0..1, smoothed activity */
    uint64_t last_us; /* last level seen */
    int speaking;
} al_part_t;

typedef enum { AL_EV_SPEAKING = 1, AL_EV_SILENT, AL_EV_DOMINANT } al_ev_kind_t;

typedef struct {
    al_ev_kind_t kind;
    uint32_t id; /* AL_EV_DOMINANT: the new dominant speaker */
} al_event_t;

typedef struct {
    al_part_t p[AL_MAX_PARTS];
    uint32_t dominant; /* 0 none */
    uint64_t next_tick;
} al_room_t;

void al_init(al_room_t *r);
/* Adds participant id (non-zero). Returns 0, or -1 if the room is full or
 * id is already present. */
int al_add(al_room_t *r, uint32_t id);
void al_remove(al_room_t *r, uint32_t id);
/* One audio packet's level (RFC 6464: 0..127, -dBov) from id at now_us. */
void al_level(al_room_t *r, uint32_t id, uint8_t level, uint64_t now_us);
/* Evaluates at now_us (call when al_deadline is reached); writes up to max
 * events. Returns their number. */
size_t al_tick(al_room_t *r, uint64_t now_us, al_event_t *ev, size_t max);
uint64_t al_deadline(const al_room_t *r);
uint32_t al_dominant(const al_room_t *r);

#endif
