/* registry: the worker's presence in Redis (hiredis async on the GLib main
 * context): heartbeat every second with a 3 s TTL, load score, and release of
 * rooms that emptied. Not placement: the router decides (router/). */
#ifndef MW_REGISTRY_H
#define MW_REGISTRY_H

#include <glib.h>

typedef struct mw_registry mw_registry_t;

typedef struct {
    const char *id;          /* worker id */
    const char *region;      /* e.g. "local" */
    const char *control_url; /* NNG pull address edges push commands to */
    const char *host;        /* hostname, informational */
} mw_registry_info_t;

/* Connects asynchronously, heartbeats at once and every second after, and
 * reconnects (logging once per outage) when Redis goes away. Strings copied.
 * Returns NULL if redis_url is malformed. */
mw_registry_t *mw_registry_new(GMainContext *ctx, const char *redis_url,
                               const mw_registry_info_t *info);
/* The load reported at the next heartbeat: participants + rooms. */
void mw_registry_set_load(mw_registry_t *r, int load);
/* A room emptied on this worker: HDEL vc:room:<room> worker (only if it
 * names this worker), SREM vc:worker_rooms:<id> <room>. */
void mw_registry_release_room(mw_registry_t *r, const char *room);
/* A host switched the room's lobby: HSET vc:room:<room> lobby 0/1 (only if
 * the room still exists), so GET /api/rooms/<room> and later placements see
 * it. Best effort. */
void mw_registry_set_lobby(mw_registry_t *r, const char *room, int enabled);
/* A host ended the room: DEL vc:room:<room> (unless another worker holds
 * it), SREM vc:worker_rooms:<id> <room>. Best effort. */
void mw_registry_end_room(mw_registry_t *r, const char *room);
/* Deletes vc:worker:<id> and its zset entry best-effort, then disconnects. */
void mw_registry_free(mw_registry_t *r);

#endif
