/* rtr_nng: the router's NNG rep socket, served by a pool of contexts whose
 * completions are handed to the libevent thread (a locked queue plus an
 * eventfd), so many requests are in flight at once. Not request logic. */
#ifndef RTR_NNG_H
#define RTR_NNG_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

typedef struct rtr_nng rtr_nng_t;
typedef struct rtr_nng_req rtr_nng_req_t; /* one request in flight (one nng_ctx) */

/* Called on the libevent thread for each request; buf is borrowed for the
 * call. The callee must answer every q exactly once with rtr_nng_reply. */
typedef void (*rtr_nng_req_fn)(void *arg, rtr_nng_req_t *q, const char *buf, size_t len);

/* Binds a rep socket at url and starts nctx contexts receiving. Returns NULL
 * with err filled on failure. */
rtr_nng_t *rtr_nng_new(struct event_base *base, const char *url, int nctx, rtr_nng_req_fn fn,
                       void *arg, char *err, size_t errlen);
/* Sends reply (borrowed) for q and returns q's context to receiving. After
 * rtr_nng_close it only releases q. */
void rtr_nng_reply(rtr_nng_req_t *q, const json_t *reply);
/* Stops receiving and closes the socket; requests still in flight may be
 * answered (no-ops) until rtr_nng_free. */
void rtr_nng_close(rtr_nng_t *n);
void rtr_nng_free(rtr_nng_t *n);

#endif
