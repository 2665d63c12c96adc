/* shard: a child GLib main context that its owner context sees as one
 * source. GLib walks every source of a context on every iteration; sources
 * that rarely have work (libnice agents' timers and sockets, the load
 * generator's WebSockets) go on shards, so the owner's iterations (one per
 * packet wake-up) walk one source per shard, and a shard's own sources are
 * walked only when one of its fds is ready or its next deadline is due.
 * The shard waits on an epoll set that mirrors the child's fds. */
#ifndef MW_SHARD_H
#define MW_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

typedef struct mw_shard mw_shard_t;

/* A shard whose source is on owner; NULL if epoll is unavailable. */
mw_shard_t *mw_shard_new(GMainContext *owner);
/* The child context: create sources on it. */
GMainContext *mw_shard_context(mw_shard_t *s);
/* Sources with fds were added to or removed from the child (a closed fd
 * leaves the epoll set by itself and its number may come back as another
 * socket): the next iteration queries the child again. NULL is ignored. */
void mw_shard_changed(mw_shard_t *s);
/* Metering (join work): while at least one meter is on (on: 1 adds one, 0
 * takes one off), the thread CPU time of the child's queries and
 * dispatches is summed into mw_shard_cpu_ns(): all of its sources, so a
 * metering agent is also billed for the other agents' timers meanwhile.
 * NULL is ignored (0). */
void mw_shard_meter(mw_shard_t *s, int on);
uint64_t mw_shard_cpu_ns(const mw_shard_t *s);
/* Destroys the shard's source and the child context (NULL is ignored). */
void mw_shard_free(mw_shard_t *s);
/* Round robin over a pool of n shards: the one at (*next)++ % n, created
 * on owner on first use; NULL (use owner itself) if that fails. */
mw_shard_t *mw_shard_pick(mw_shard_t **pool, size_t n, unsigned *next, GMainContext *owner);

#endif
