/* signal: the WebSocket signaling relay (docs/internals.md "Flows"): join
 * with token check and placement, relay of session messages to the worker,
 * worker events back to the right WebSocket, sessions by id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/util.h"
#include "edge/edge.h"
#include "edge/jwt.h"

/* FNV-1a bucket of a session id. */
static size_t edge_sig_bucket(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h % EDGE_SESSION_BUCKETS;
}

/* The client holding session s, or NULL. */
static edge_client_t *edge_sig_find(edge_t *e, const char *s)
{
    for (edge_client_t *cl = e->sessions[edge_sig_bucket(s)]; cl != NULL; cl = cl->snext)
        if (strcmp(cl->session, s) == 0)
            return cl;
    return NULL;
}

/* Registers the client's session (it must not be registered yet). */
static void edge_sig_add(edge_client_t *cl)
{
    edge_t *e = cl->e;
    size_t b = edge_sig_bucket(cl->session);
    cl->snext = e->sessions[b];
    e->sessions[b] = cl;
    e->nsessions++;
    cl->joined = 1;
    cl->worker->nsessions++;
}

/* Forgets the client's session (no message is sent). */
static void edge_sig_forget(edge_client_t *cl)
{
    if (!cl->joined)
        return;
    edge_t *e = cl->e;
    edge_client_t **pp = &e->sessions[edge_sig_bucket(cl->session)];
    while (*pp != NULL && *pp != cl)
        pp = &(*pp)->snext;
    if (*pp == cl)
        *pp = cl->snext;
    cl->snext = NULL;
    e->nsessions--;
    cl->joined = 0;
    cl->worker->nsessions--;
    cl->worker = NULL;
}

/* Sends a message (borrowed) to the client's WebSocket. */
void edge_sig_send(edge_client_t *cl, const json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    if (s == NULL)
        return;
    edge_conn_ws_send_text(cl->conn, s, strlen(s));
    free(s);
    cl->e->m.ws_out++;
    edge_client_pump(cl);
}

/* Sends error{code,name,message,ref} to this client only. */
void edge_sig_error(edge_client_t *cl, vc_err_t code, const char *detail, const char *ref)
{
    json_t *m = vc_proto_error(code, detail, ref);
    edge_metrics_error(cl->e, code);
    edge_sig_send(cl, m);
    json_decref(m);
}

/* Pushes msg (borrowed) plus "session" to the client's worker. */
static int edge_sig_push(edge_client_t *cl, json_t *msg, const char *ref)
{
    json_object_set_new(msg, "session", json_string(cl->session));
    if (edge_worker_send(cl->e, cl->worker, msg) != 0) {
        edge_sig_error(cl, VC_ERR_UNAVAILABLE, NULL, ref);
        return -1;
    }
    return 0;
}

/* room_place answered: sends join to the worker and registers the session. */
static void edge_sig_placed(edge_t *e, edge_client_t *cl, vc_err_t rc, const json_t *reply,
                            const char *errmsg, void *arg)
{
    if (cl == NULL || cl->dead)
        return;
    cl->joining = 0;
    if (rc != VC_OK) {
        edge_sig_error(cl, rc, errmsg, "join");
        return;
    }
    edge_client_t *old = edge_sig_find(e, cl->session);
    if (old != NULL) {
        /* a resume from a new connection wins over one not yet seen closing */
        edge_sig_forget(old);
        edge_conn_ws_close(old->conn, 1000, "session resumed on another connection");
        edge_client_pump(old);
    }
    edge_worker_t *w = edge_worker_get(e, json_string_value(json_object_get(reply, "worker_url")));
    json_t *m = vc_proto_msg("join");
    json_object_set_new(m, "session", json_string(cl->session));
    json_object_set_new(m, "edge", json_string(e->id));
    json_object_set_new(m, "edge_url", json_string(e->events_url));
    json_object_set_new(m, "room", json_string(cl->room));
    json_object_set_new(m, "name", json_string(cl->name));
    json_object_set_new(m, "role", json_string(cl->role));
    json_object_set_new(m, "resume", json_boolean(cl->resume));
    if (cl->identity[0] != '\0')
        json_object_set_new(m, "identity", json_string(cl->identity));
    const json_t *lobby = json_object_get(reply, "lobby");
    json_object_set_new(m, "lobby", json_boolean(lobby == NULL || json_is_true(lobby)));
    int rv = edge_worker_send(e, w, m);
    json_decref(m);
    if (rv != 0) {
        edge_sig_error(cl, VC_ERR_UNAVAILABLE, NULL, "join");
        return;
    }
    cl->worker = w;
    edge_sig_add(cl);
}

/* Issues a guest credential (a fresh identity) and sends credential{token}
 * so the client presents it on later joins of this room. */
static int edge_sig_guest_credential(edge_client_t *cl, const char *room)
{
    edge_t *e = cl->e;
    vc_random_hex(cl->identity, 16);
    char *tok = edge_jwt_sign_role(e->jwt_secret, room, "guest", cl->identity, (int64_t)time(NULL),
                                   EDGE_JWT_TTL_S);
    if (tok == NULL)
        return -1;
    json_t *m = vc_proto_msg("credential");
    json_object_set_new(m, "token", json_string(tok));
    edge_sig_send(cl, m);
    json_decref(m);
    free(tok);
    return 0;
}

/* Sets cl's role and identity from the join's token (or a new guest
 * credential). A bad token is an error, never a silent downgrade. */
static vc_err_t edge_sig_credential(edge_client_t *cl, const char *room, const char *token)
{
    edge_t *e = cl->e;
    snprintf(cl->role, sizeof(cl->role), "guest");
    cl->identity[0] = '\0';
    if (token == NULL || token[0] == '\0')
        return edge_sig_guest_credential(cl, room) == 0 ? VC_OK : VC_ERR_INTERNAL;
    vc_err_t rc =
        edge_jwt_verify_sub(token, e->jwt_secret, e->jwt_secret_prev, room, (int64_t)time(NULL),
                            cl->role, sizeof(cl->role), cl->identity, sizeof(cl->identity));
    if (rc != VC_OK) {
        snprintf(cl->role, sizeof(cl->role), "guest");
        cl->identity[0] = '\0';
    }
    return rc;
}

/* join: checks the token, picks the session id, asks the router to place. */
static void edge_sig_join(edge_client_t *cl, json_t *msg)
{
    edge_t *e = cl->e;
    if (cl->joined || cl->joining) {
        edge_sig_error(cl, VC_ERR_ALREADY_JOINED, NULL, "join");
        return;
    }
    const char *room = json_string_value(json_object_get(msg, "room"));
    const char *token = json_string_value(json_object_get(msg, "token"));
    const char *resume = json_string_value(json_object_get(msg, "resume"));
    vc_err_t rc = edge_sig_credential(cl, room, token);
    if (rc != VC_OK) {
        edge_sig_error(cl, rc, NULL, "join");
        return;
    }
    if (resume != NULL && resume[0] != '\0') {
        if (!vc_proto_id_ok(resume)) {
            edge_sig_error(cl, VC_ERR_BAD_MESSAGE, "field 'resume' is invalid", "join");
            return;
        }
        snprintf(cl->session, sizeof(cl->session), "%s", resume);
        cl->resume = 1;
    } else {
        vc_random_hex(cl->session, 16);
        cl->resume = 0;
    }
    snprintf(cl->room, sizeof(cl->room), "%s", room);
    free(cl->name);
    cl->name = vc_strdup(json_string_value(json_object_get(msg, "name")));
    cl->joining = 1;
    json_t *m = vc_proto_msg("room_place");
    json_object_set_new(m, "room", json_string(room));
    json_object_set_new(m, "region", json_string(e->region));
    edge_router_request(e, cl, m, edge_sig_placed, NULL);
}

/* Handles one valid client message. */
static void edge_sig_dispatch(edge_client_t *cl, json_t *msg, const char *type)
{
    if (strcmp(type, "ping") == 0) {
        json_t *p = vc_proto_msg("pong");
        json_t *id = json_object_get(msg, "id");
        if (id != NULL)
            json_object_set(p, "id", id);
        edge_sig_send(cl, p);
        json_decref(p);
        return;
    }
    if (strcmp(type, "join") == 0) {
        edge_sig_join(cl, msg);
        return;
    }
    if (!cl->joined) {
        edge_sig_error(cl, VC_ERR_NOT_JOINED, NULL, type);
        return;
    }
    /* Every other client type (answer, candidate, media_state, leave and the
     * host actions) is relayed with the session: the room's worker decides
     * what the sender may do. */
    json_t *fwd = json_deep_copy(msg);
    int rv = edge_sig_push(cl, fwd, type);
    json_decref(fwd);
    if (rv == 0 && strcmp(type, "leave") == 0)
        edge_sig_forget(cl);
}

/* on_ws_text: rate limit, parse, validate, dispatch. */
void edge_sig_text(edge_conn_t *c, const char *text, size_t len, void *ud)
{
    edge_client_t *cl = ud;
    edge_t *e = cl->e;
    e->m.ws_in++;
    if (cl->dead)
        return;
    if (!edge_rate_take(&cl->rate, vc_now_ms())) {
        if (++cl->refused > EDGE_RATE_ABUSE) {
            VC_INFO("closing a client that keeps exceeding the rate limit");
            edge_metrics_error(e, VC_ERR_RATE_LIMITED);
            edge_conn_ws_close(c, 1008, "rate limit exceeded");
            return;
        }
        if (cl->refused == 1 || cl->refused % 10 == 0)
            edge_sig_error(cl, VC_ERR_RATE_LIMITED, NULL, NULL);
        else
            edge_metrics_error(e, VC_ERR_RATE_LIMITED);
        return;
    }
    cl->refused = 0;
    json_t *msg = NULL;
    const char *type = NULL;
    char err[256];
    vc_err_t rc = vc_proto_parse(VC_CH_CLIENT, text, len, &msg, &type, err, sizeof(err));
    if (rc != VC_OK) {
        /* ref: the request type when it can be read at all */
        json_t *j = json_loadb(text, len, 0, NULL);
        const char *ref = json_string_value(json_object_get(j, "type"));
        char r[40];
        snprintf(r, sizeof(r), "%s", ref ? ref : "");
        json_decref(j);
        edge_sig_error(cl, rc, err, r[0] && vc_proto_id_ok(r) ? r : NULL);
        return;
    }
    edge_sig_dispatch(cl, msg, type);
    json_decref(msg);
}

/* The client is being freed: a joined session without leave is detached. */
void edge_sig_client_gone(edge_client_t *cl)
{
    if (!cl->joined)
        return;
    json_t *m = vc_proto_msg("detach");
    json_object_set_new(m, "session", json_string(cl->session));
    json_object_set_new(m, "edge", json_string(cl->e->id));
    edge_worker_send(cl->e, cl->worker, m);
    json_decref(m);
    edge_sig_forget(cl);
}

/* A validated worker event: deliver{session,msg} or close{session,msg?}. */
void edge_sig_event(edge_t *e, const json_t *msg, const char *type)
{
    const char *session = json_string_value(json_object_get(msg, "session"));
    edge_client_t *cl = edge_sig_find(e, session);
    if (cl == NULL || cl->dead) {
        VC_DEBUG("%s for unknown session %.16s..., dropped", type, session);
        return;
    }
    const json_t *inner = json_object_get(msg, "msg");
    if (inner != NULL)
        edge_sig_send(cl, inner);
    if (strcmp(type, "close") == 0) {
        edge_sig_forget(cl);
        edge_conn_ws_close(cl->conn, 1000, "closed");
        edge_client_pump(cl);
    }
}

/* Every 500 ms: edge_ping to each worker that has sessions from this edge. */
void edge_sig_edge_ping(edge_t *e)
{
    json_t *m = NULL;
    for (edge_worker_t *w = e->workers; w != NULL; w = w->next) {
        if (w->nsessions <= 0)
            continue;
        if (m == NULL) {
            m = vc_proto_msg("edge_ping");
            json_object_set_new(m, "edge", json_string(e->id));
            json_object_set_new(m, "edge_url", json_string(e->events_url));
        }
        edge_worker_send(e, w, m);
    }
    json_decref(m);
}
