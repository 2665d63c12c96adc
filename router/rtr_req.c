#include "router/rtr_req.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"

/* Makes req an immediate error reply. */
static void rtr_req_fail(rtr_req_t *req, vc_err_t code, const char *detail)
{
    req->op = RTR_OP_REPLY;
    req->reply = vc_proto_error(code, detail, req->type);
}

/* Copies an optional string field (already validated) or def into dst. */
static void rtr_req_copy(char *dst, size_t cap, const json_t *msg, const char *key, const char *def)
{
    const json_t *v = json_object_get(msg, key);
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : def);
}

/* proto validates shape and lengths; this adds the region rule and maps the
 * type to an operation. */
void rtr_req_decode(const char *buf, size_t len, const char *def_region, rtr_req_t *req)
{
    memset(req, 0, sizeof(*req));
    char err[200];
    const char *type = NULL;
    json_t *msg = NULL;
    vc_err_t rc = vc_proto_parse(VC_CH_EDGE_ROUTER, buf, len, &msg, &type, err, sizeof(err));
    if (rc != VC_OK) {
        rtr_req_fail(req, rc, err);
        return;
    }
    req->type = type;
    rtr_req_copy(req->region, sizeof(req->region), msg, "region", def_region);
    if (!vc_proto_id_ok(req->region)) {
        rtr_req_fail(req, VC_ERR_BAD_MESSAGE, "field 'region' is invalid");
        goto done;
    }
    if (strcmp(type, "room_create") == 0) {
        const json_t *lobby = json_object_get(msg, "lobby");
        req->op = RTR_OP_CREATE;
        req->lobby = lobby == NULL || json_is_true(lobby);
    } else if (strcmp(type, "room_get") == 0) {
        req->op = RTR_OP_GET;
        rtr_req_copy(req->room, sizeof(req->room), msg, "room", "");
    } else if (strcmp(type, "room_place") == 0) {
        req->op = RTR_OP_PLACE;
        rtr_req_copy(req->room, sizeof(req->room), msg, "room", "");
    } else {
        rtr_req_fail(req, VC_ERR_UNKNOWN_TYPE, NULL);
    }
done:
    json_decref(msg);
}

/* Drops the error reply, if any. */
void rtr_req_fini(rtr_req_t *req)
{
    json_decref(req->reply);
    req->reply = NULL;
}

/* Random ids collide rarely; the create script detects it and the caller retries. */
void rtr_req_new_room(rtr_req_t *req)
{
    vc_random_room_id(req->room);
}

/* The error for a Redis answer that is missing or an error; NULL if r is usable. */
static json_t *rtr_req_redis_error(const rtr_req_t *req, const redisReply *r)
{
    if (r == NULL)
        return vc_proto_error(VC_ERR_UNAVAILABLE, NULL, req->type);
    if (r->type == REDIS_REPLY_ERROR) {
        VC_ERROR("redis: %s failed: %.200s", req->type, r->str ? r->str : "?");
        return vc_proto_error(VC_ERR_INTERNAL, NULL, req->type);
    }
    return NULL;
}

/* The reply for an answer of an unexpected shape (a script or server mismatch). */
static json_t *rtr_req_bad_shape(const rtr_req_t *req)
{
    VC_ERROR("redis: unexpected answer to %s", req->type);
    return vc_proto_error(VC_ERR_INTERNAL, NULL, req->type);
}

/* A new {"v":1,"type":type,"room":room,"lobby":lobby}. */
static json_t *rtr_req_room_msg(const char *type, const char *room, int lobby)
{
    json_t *m = vc_proto_msg(type);
    json_object_set_new(m, "room", json_string(room));
    json_object_set_new(m, "lobby", json_boolean(lobby));
    return m;
}

/* Integer 1: created; 0: the id was taken. */
json_t *rtr_req_on_create(const rtr_req_t *req, const redisReply *r)
{
    json_t *e = rtr_req_redis_error(req, r);
    if (e != NULL)
        return e;
    if (r->type != REDIS_REPLY_INTEGER)
        return rtr_req_bad_shape(req);
    if (r->integer == 0)
        return NULL;
    return rtr_req_room_msg("room_created", req->room, req->lobby);
}

/* HMGET returns [nil] for a missing room. */
json_t *rtr_req_on_get(const rtr_req_t *req, const redisReply *r)
{
    json_t *e = rtr_req_redis_error(req, r);
    if (e != NULL)
        return e;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 1)
        return rtr_req_bad_shape(req);
    const redisReply *lobby = r->element[0];
    if (lobby == NULL || lobby->type == REDIS_REPLY_NIL)
        return vc_proto_error(VC_ERR_ROOM_NOT_FOUND, NULL, req->type);
    if (lobby->type != REDIS_REPLY_STRING)
        return rtr_req_bad_shape(req);
    return rtr_req_room_msg("room_info", req->room, strcmp(lobby->str, "0") != 0);
}

/* True if element i of array r is a string (an id when id is set) that fits. */
static int rtr_req_elem_ok(const redisReply *r, size_t i, int id, size_t max)
{
    if (i >= r->elements || r->element[i] == NULL)
        return 0;
    const redisReply *e = r->element[i];
    if (e->type != REDIS_REPLY_STRING || e->len > max || strlen(e->str) != e->len)
        return 0;
    return !id || vc_proto_id_ok(e->str);
}

/* Maps the placement script's status array (redis_scripts.h) to a reply. */
json_t *rtr_req_on_place(const rtr_req_t *req, const redisReply *r, char *lost)
{
    lost[0] = '\0';
    json_t *e = rtr_req_redis_error(req, r);
    if (e != NULL)
        return e;
    if (r->type != REDIS_REPLY_ARRAY || !rtr_req_elem_ok(r, 0, 0, 32))
        return rtr_req_bad_shape(req);
    const char *what = r->element[0]->str;
    if (strcmp(what, "not_found") == 0)
        return vc_proto_error(VC_ERR_ROOM_NOT_FOUND, NULL, req->type);
    if (strcmp(what, "no_worker") == 0)
        return vc_proto_error(VC_ERR_NO_WORKER, NULL, req->type);
    if (strcmp(what, "lost") == 0) {
        if (rtr_req_elem_ok(r, 1, 1, VC_PROTO_MAX_ID))
            snprintf(lost, VC_PROTO_MAX_ID + 1, "%s", r->element[1]->str);
        return vc_proto_error(VC_ERR_ROOM_LOST, NULL, req->type);
    }
    if (strcmp(what, "placed") != 0 || !rtr_req_elem_ok(r, 1, 1, VC_PROTO_MAX_ID) ||
        !rtr_req_elem_ok(r, 2, 0, VC_PROTO_MAX_URL))
        return rtr_req_bad_shape(req);
    json_t *m = vc_proto_msg("room_placed");
    json_object_set_new(m, "room", json_string(req->room));
    json_object_set_new(m, "worker", json_string(r->element[1]->str));
    json_object_set_new(m, "worker_url", json_string(r->element[2]->str));
    /* older scripts had no lobby element: the safe default is a lobby */
    int lobby = !rtr_req_elem_ok(r, 3, 0, 8) || strcmp(r->element[3]->str, "0") != 0;
    json_object_set_new(m, "lobby", json_boolean(lobby));
    return m;
}
