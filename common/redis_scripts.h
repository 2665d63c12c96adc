/* redis_scripts: the Lua scripts that keep placement atomic in Redis, shared
 * by the router (create, place) and the worker (heartbeat, release). Not a
 * client: callers send them with EVAL through their own hiredis context. */
#ifndef VC_REDIS_SCRIPTS_H
#define VC_REDIS_SCRIPTS_H

#define VC_REDIS_PREFIX "vc:"
#define VC_REDIS_ROOM_TTL_S 86400 /* vc:room:<room> lives 24 h */
#define VC_REDIS_WORKER_TTL_S 3   /* vc:worker:<id>, refreshed every second */

/* room_create. KEYS[1] = vc:room:<room>. ARGV = lobby (0/1), created (unix s),
 * region, ttl (s). Returns 1 if created, 0 if the id is taken (retry with
 * another id). */
extern const char vc_redis_script_create[];

/* room_place, docs/internals.md "Placement". KEYS[1] = vc:room:<room>,
 * KEYS[2] = vc:workers:<region>. ARGV[1] = room. Returns an array whose first
 * element says what happened:
 *   {"placed", worker, url, lobby}   the room's live worker (new or existing)
 *                             and its lobby setting ("0"/"1")
 *   {"lost", worker}          the room's worker is dead
 *   {"not_found"}             no such room
 *   {"no_worker"}             no live worker in the region */
extern const char vc_redis_script_place[];

/* Worker heartbeat. KEYS[1] = vc:worker:<id>, KEYS[2] = vc:workers:<region>.
 * ARGV = id, url, region, host, load, pid, ttl (s). Returns 1. */
extern const char vc_redis_script_heartbeat[];

/* A room emptied on a worker. KEYS[1] = vc:room:<room>,
 * KEYS[2] = vc:worker_rooms:<id>. ARGV = id, room. Clears the room's worker
 * only if it is this one. Returns 1 if it was, else 0. */
extern const char vc_redis_script_release[];

/* A host switched the lobby. KEYS[1] = vc:room:<room>. ARGV[1] = 0/1.
 * Only an existing room is updated. Returns 1 if it was, else 0. */
extern const char vc_redis_script_set_lobby[];

/* A host ended the meeting. KEYS[1] = vc:room:<room>,
 * KEYS[2] = vc:worker_rooms:<id>. ARGV = id, room. Deletes the room unless
 * another worker holds it. Returns 1 if deleted, else 0. */
extern const char vc_redis_script_end[];

#endif
