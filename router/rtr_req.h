/* rtr_req: the router's request logic without I/O: it decodes an edge request
 * into the Redis operation it needs and turns Redis answers into replies.
 * Not the event loop, the NNG socket or the Redis connection (router.c). */
#ifndef RTR_REQ_H
#define RTR_REQ_H

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>

#include "proto/proto.h"

#define RTR_REGION_MAX 64
#define RTR_CREATE_TRIES 8 /* room id collisions tolerated per room_create */

typedef enum {
    RTR_OP_REPLY,  /* answer at once with req->reply (an error) */
    RTR_OP_CREATE, /* run the create script for a fresh id */
    RTR_OP_GET,    /* HMGET vc:room:<room> lobby */
    RTR_OP_PLACE,  /* run the placement script */
} rtr_op_t;

typedef struct {
    rtr_op_t op;
    const char *type;                /* request type, static; NULL if unknown */
    json_t *reply;                   /* RTR_OP_REPLY only; owned */
    char room[VC_PROTO_MAX_ID + 1];  /* GET, PLACE; CREATE: see rtr_req_new_room */
    char region[RTR_REGION_MAX + 1]; /* CREATE, PLACE */
    int lobby;                       /* CREATE */
} rtr_req_t;

/* Decodes len bytes of one request (not NUL-terminated) received from an
 * edge. Always fills *req; invalid input gives RTR_OP_REPLY with an error
 * reply. def_region is used when the request names none. */
void rtr_req_decode(const char *buf, size_t len, const char *def_region, rtr_req_t *req);
/* Releases what decode allocated. */
void rtr_req_fini(rtr_req_t *req);

/* Picks a fresh random room id into req->room (RTR_OP_CREATE). */
void rtr_req_new_room(rtr_req_t *req);

/* Replies built from the Redis answer to each op. A NULL reply means the
 * connection to Redis failed (-> 5001 unavailable). Each returns a new
 * reference, or NULL from rtr_req_on_create when the id collided and the
 * caller should retry with a new one. */
json_t *rtr_req_on_create(const rtr_req_t *req, const redisReply *r);
json_t *rtr_req_on_get(const rtr_req_t *req, const redisReply *r);
/* On room_lost, lost (size VC_PROTO_MAX_ID + 1) receives the dead worker's id;
 * otherwise lost[0] is set to '\0'. */
json_t *rtr_req_on_place(const rtr_req_t *req, const redisReply *r, char *lost);

#endif
