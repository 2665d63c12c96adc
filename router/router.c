/* vc-router: placement. Answers edges' room_create / room_get / room_place
 * over an NNG rep socket, with Redis (hiredis async on libevent) as the only
 * truth; see docs/internals.md. Request logic lives in rtr_req.c. */
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "common/redis_scripts.h"
#include "common/redis_url.h"
#include "common/util.h"
#include "router/rtr_nng.h"
#include "router/rtr_req.h"

#define RTR_BACKOFF_MIN_MS 100
#define RTR_BACKOFF_MAX_MS 2000
#define RTR_DEAD_MAX 64 /* dead workers whose lost rooms were logged */

typedef struct {
    struct event_base *base;
    rtr_nng_t *nng;
    redisAsyncContext *ac; /* NULL while disconnected */
    int redis_up;          /* connected and usable */
    int outage_logged;
    int ready_logged;
    int closing;
    int backoff_ms;
    struct event *reconnect_ev;
    struct event *sig_ev[2];
    vc_redis_url_t url;
    char region[RTR_REGION_MAX + 1];
    char dead[RTR_DEAD_MAX][VC_PROTO_MAX_ID + 1];
    int ndead;
    char sha_place[41]; /* SHA1 of the scripts once loaded; "" before */
    char sha_create[41];
} rtr_t;

/* One request waiting for Redis. */
typedef struct {
    rtr_t *r;
    rtr_nng_req_t *q;
    rtr_req_t req;
    int tries;
    int eval; /* fell back from EVALSHA to EVAL */
} rtr_call_t;

static void rtr_redis_connect(rtr_t *r);

/* Answers the call's request and frees the call. */
static void rtr_call_done(rtr_call_t *c, json_t *reply)
{
    rtr_nng_reply(c->q, reply);
    json_decref(reply);
    rtr_req_fini(&c->req);
    free(c);
}

/* Logs "ready" once: listening and connected to Redis. */
static void rtr_maybe_ready(rtr_t *r)
{
    if (r->ready_logged || !r->redis_up || r->nng == NULL)
        return;
    r->ready_logged = 1;
    VC_INFO("ready (region %s)", r->region);
}

/* Schedules the next connection attempt with exponential backoff. */
static void rtr_redis_schedule(rtr_t *r)
{
    if (r->closing)
        return;
    struct timeval tv = {r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000};
    evtimer_add(r->reconnect_ev, &tv);
    r->backoff_ms *= 2;
    if (r->backoff_ms > RTR_BACKOFF_MAX_MS)
        r->backoff_ms = RTR_BACKOFF_MAX_MS;
}

/* Connection lost or never made: one warning per outage, then retries. */
static void rtr_redis_down(rtr_t *r, const char *why)
{
    r->ac = NULL;
    r->redis_up = 0;
    if (!r->outage_logged && !r->closing) {
        VC_WARN("redis: unavailable (%s); retrying", why);
        r->outage_logged = 1;
    }
    rtr_redis_schedule(r);
}

/* SCRIPT LOAD answer: the script's SHA1 into priv (41 bytes). */
static void rtr_on_script_load(redisAsyncContext *ac, void *reply, void *priv)
{
    redisReply *rep = reply;
    if (rep != NULL && rep->type == REDIS_REPLY_STRING && rep->len == 40)
        memcpy(priv, rep->str, 41);
    else if (rep != NULL)
        VC_WARN("redis: SCRIPT LOAD failed; using EVAL");
}

/* Loads script so later calls can use EVALSHA. */
static void rtr_script_load(redisAsyncContext *ac, char *sha, const char *script)
{
    if (ac != NULL)
        redisAsyncCommand(ac, rtr_on_script_load, sha, "SCRIPT LOAD %s", script);
}

/* hiredis: the connection attempt finished (status REDIS_OK or not). */
static void rtr_redis_on_connect(const redisAsyncContext *ac, int status)
{
    rtr_t *r = ac->data;
    VC_DEBUG("redis: connect callback %p status %d", (const void *)ac, status);
    if (status != REDIS_OK) {
        rtr_redis_down(r, ac->errstr); /* hiredis frees ac after this */
        return;
    }
    r->redis_up = 1;
    r->backoff_ms = RTR_BACKOFF_MIN_MS;
    rtr_script_load(r->ac, r->sha_place, vc_redis_script_place);
    rtr_script_load(r->ac, r->sha_create, vc_redis_script_create);
    if (r->outage_logged)
        VC_INFO("redis: connected again");
    r->outage_logged = 0;
    rtr_maybe_ready(r);
}

/* hiredis: an established connection ended; ours only if it is the current one. */
static void rtr_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    rtr_t *r = ac->data;
    if (r->ac != ac)
        return;
    rtr_redis_down(r, status == REDIS_OK ? "closed" : ac->errstr);
}

/* Backoff timer: the next connection attempt. */
static void rtr_redis_on_timer(evutil_socket_t fd, short what, void *arg)
{
    rtr_redis_connect(arg);
}

/* Starts an asynchronous connection. hiredis 0.14 reports it on the first
 * write, so a PING is queued at once. */
static void rtr_redis_connect(rtr_t *r)
{
    redisAsyncContext *ac = r->url.is_unix ? redisAsyncConnectUnix(r->url.path)
                                           : redisAsyncConnect(r->url.host, r->url.port);
    if (ac == NULL) {
        rtr_redis_down(r, "out of memory");
        return;
    }
    if (ac->err) {
        char why[128];
        snprintf(why, sizeof(why), "%s", ac->errstr);
        redisAsyncFree(ac);
        rtr_redis_down(r, why);
        return;
    }
    ac->data = r;
    r->ac = ac;
    VC_DEBUG("redis: connecting %p", (void *)ac);
    redisLibeventAttach(ac, r->base);
    redisAsyncSetConnectCallback(ac, rtr_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, rtr_redis_on_disconnect);
    redisAsyncCommand(ac, NULL, NULL, "PING");
}

/* SMEMBERS answer for a dead worker's rooms: logged once per worker. */
static void rtr_on_lost_rooms(redisAsyncContext *ac, void *reply, void *priv)
{
    char *worker = priv;
    redisReply *rep = reply;
    if (rep != NULL && rep->type == REDIS_REPLY_ARRAY) {
        char list[1024] = "";
        size_t used = 0;
        for (size_t i = 0; i < rep->elements && used < sizeof(list) - 80; i++) {
            const redisReply *e = rep->element[i];
            if (e->type == REDIS_REPLY_STRING)
                used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%.64s",
                                         used ? " " : "", e->str);
        }
        VC_WARN("worker %s is gone; its %zu room(s) are lost: %s%s", worker, rep->elements, list,
                used >= sizeof(list) - 80 ? " ..." : "");
    }
    free(worker);
}

/* Remembers worker as dead; returns 1 the first time. */
static int rtr_dead_first(rtr_t *r, const char *worker)
{
    for (int i = 0; i < RTR_DEAD_MAX && i < r->ndead; i++)
        if (strcmp(r->dead[i], worker) == 0)
            return 0;
    snprintf(r->dead[r->ndead % RTR_DEAD_MAX], sizeof(r->dead[0]), "%s", worker);
    r->ndead++;
    return 1;
}

/* A worker id answered as alive again (restarted under the same id): its
 * next death is logged again. */
static void rtr_dead_forget(rtr_t *r, const char *worker)
{
    for (int i = 0; i < RTR_DEAD_MAX && i < r->ndead; i++)
        if (strcmp(r->dead[i], worker) == 0)
            r->dead[i][0] = '\0';
}

static int rtr_send_script(rtr_call_t *c);

/* NOSCRIPT (Redis restarted, or SCRIPT FLUSH): the call is sent once more
 * with the script's text. Returns 1 if it was resent. */
static int rtr_noscript_retry(rtr_call_t *c, const redisReply *rep)
{
    if (rep == NULL || rep->type != REDIS_REPLY_ERROR || c->eval || rep->str == NULL ||
        strncmp(rep->str, "NOSCRIPT", 8) != 0)
        return 0;
    c->eval = 1;
    return rtr_send_script(c) == 0;
}

/* Placement script answer: reply, and log a newly dead worker's rooms once. */
static void rtr_on_place(redisAsyncContext *ac, void *reply, void *priv)
{
    rtr_call_t *c = priv;
    if (rtr_noscript_retry(c, reply))
        return;
    char lost[VC_PROTO_MAX_ID + 1];
    json_t *out = rtr_req_on_place(&c->req, reply, lost);
    const char *placed = json_string_value(json_object_get(out, "worker"));
    if (placed != NULL && c->r->ndead > 0)
        rtr_dead_forget(c->r, placed);
    if (lost[0] != '\0' && c->r->ac != NULL && !c->r->closing && rtr_dead_first(c->r, lost))
        redisAsyncCommand(c->r->ac, rtr_on_lost_rooms, vc_strdup(lost),
                          "SMEMBERS " VC_REDIS_PREFIX "worker_rooms:%s", lost);
    rtr_call_done(c, out);
}

/* HMGET answer for room_get. */
static void rtr_on_get(redisAsyncContext *ac, void *reply, void *priv)
{
    rtr_call_t *c = priv;
    rtr_call_done(c, rtr_req_on_get(&c->req, reply));
}

/* Create script answer: reply, or retry with a fresh id on collision. */
static void rtr_on_create(redisAsyncContext *ac, void *reply, void *priv)
{
    rtr_call_t *c = priv;
    if (rtr_noscript_retry(c, reply))
        return;
    json_t *out = rtr_req_on_create(&c->req, reply);
    if (out == NULL) {
        rtr_req_new_room(&c->req);
        if (++c->tries < RTR_CREATE_TRIES && rtr_send_script(c) == 0)
            return;
        VC_ERROR("room_create: no free room id after %d tries", c->tries);
        out = vc_proto_error(VC_ERR_INTERNAL, NULL, c->req.type);
    }
    rtr_call_done(c, out);
}

/* Runs the create or placement script: EVALSHA once SCRIPT LOAD told us the
 * hash, EVAL before that or after a NOSCRIPT. Returns 0, or -1 if Redis is
 * not usable. */
static int rtr_send_script(rtr_call_t *c)
{
    rtr_t *r = c->r;
    if (r->ac == NULL || !r->redis_up)
        return -1;
    int place = c->req.op == RTR_OP_PLACE;
    const char *sha = place ? r->sha_place : r->sha_create;
    int use_sha = !c->eval && sha[0] != '\0';
    const char *cmd = use_sha ? "EVALSHA" : "EVAL";
    const char *body = use_sha ? sha : place ? vc_redis_script_place : vc_redis_script_create;
    int rv;
    if (place) {
        rv =
            redisAsyncCommand(r->ac, rtr_on_place, c,
                              "%s %s 2 " VC_REDIS_PREFIX "room:%s " VC_REDIS_PREFIX "workers:%s %s",
                              cmd, body, c->req.room, c->req.region, c->req.room);
    } else {
        char created[32], ttl[16];
        snprintf(created, sizeof(created), "%lld", (long long)time(NULL));
        snprintf(ttl, sizeof(ttl), "%d", VC_REDIS_ROOM_TTL_S);
        rv = redisAsyncCommand(r->ac, rtr_on_create, c,
                               "%s %s 1 " VC_REDIS_PREFIX "room:%s %s %s %s %s", cmd, body,
                               c->req.room, c->req.lobby ? "1" : "0", created, c->req.region, ttl);
    }
    return rv == REDIS_OK ? 0 : -1;
}

/* Issues the Redis work for a decoded request. Returns 0, or -1 if Redis is
 * not usable (the caller answers 5001). */
static int rtr_dispatch(rtr_call_t *c)
{
    rtr_t *r = c->r;
    if (r->ac == NULL || !r->redis_up)
        return -1;
    switch (c->req.op) {
    case RTR_OP_CREATE:
        rtr_req_new_room(&c->req);
        return rtr_send_script(c);
    case RTR_OP_PLACE:
        return rtr_send_script(c);
    case RTR_OP_GET:
        return redisAsyncCommand(r->ac, rtr_on_get, c, "HMGET " VC_REDIS_PREFIX "room:%s lobby",
                                 c->req.room) == REDIS_OK
                   ? 0
                   : -1;
    default:
        return -1;
    }
}

/* A request from an edge (libevent thread). */
static void rtr_on_request(void *arg, rtr_nng_req_t *q, const char *buf, size_t len)
{
    rtr_t *r = arg;
    rtr_call_t *c = vc_calloc(1, sizeof(*c));
    c->r = r;
    c->q = q;
    rtr_req_decode(buf, len, r->region, &c->req);
    if (c->req.op == RTR_OP_REPLY) {
        VC_DEBUG("bad request: %s", json_string_value(json_object_get(c->req.reply, "message")));
        json_t *reply = json_incref(c->req.reply);
        rtr_call_done(c, reply);
        return;
    }
    if (rtr_dispatch(c) != 0)
        rtr_call_done(c, vc_proto_error(VC_ERR_UNAVAILABLE, NULL, c->req.type));
}

/* SIGINT/SIGTERM (libevent delivers them in the loop): stop the loop. */
static void rtr_on_signal(evutil_socket_t sig, short what, void *arg)
{
    rtr_t *r = arg;
    VC_INFO("signal %d: stopping", (int)sig);
    event_base_loopbreak(r->base);
}

/* Reads the config; returns 0, or 2 (usage error) with a message printed. */
static int rtr_config(rtr_t *r, int argc, char **argv, char *listen, size_t listen_cap, long *nctx)
{
    char err[300];
    int rc = 2;
    vc_config_t *cfg = vc_config_new();
    if (vc_config_from_args(cfg, argc, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "vc-router: %s\n", err);
        goto done;
    }
    const char *l = vc_config_str(cfg, "listen", NULL);
    const char *url = vc_config_str(cfg, "redis_url", NULL);
    const char *region = vc_config_str(cfg, "region", "local");
    if (vc_config_int(cfg, "contexts", 64, 1, 4096, nctx, err, sizeof(err)) != 0) {
        fprintf(stderr, "vc-router: %s\n", err);
        goto done;
    }
    const char *unused = vc_config_unused(cfg);
    if (unused != NULL) {
        fprintf(stderr, "vc-router: unknown config key '%s'\n", unused);
        goto done;
    }
    if (l == NULL || url == NULL) {
        fprintf(stderr, "vc-router: '%s' is required\n", l == NULL ? "listen" : "redis_url");
        goto done;
    }
    if (vc_redis_url_parse(url, &r->url, err, sizeof(err)) != 0) {
        fprintf(stderr, "vc-router: redis_url '%s': %s\n", url, err);
        goto done;
    }
    if (strlen(region) > RTR_REGION_MAX || !vc_proto_id_ok(region)) {
        fprintf(stderr, "vc-router: region '%s' must be [A-Za-z0-9_-]{1,64}\n", region);
        goto done;
    }
    snprintf(r->region, sizeof(r->region), "%s", region);
    snprintf(listen, listen_cap, "%s", l);
    rc = 0;
done:
    vc_config_free(cfg);
    return rc;
}

/* Tears down in dependency order: no new requests, then Redis (pending
 * callbacks answer into the closed socket), then the contexts. */
static void rtr_fini(rtr_t *r)
{
    r->closing = 1;
    if (r->nng != NULL)
        rtr_nng_close(r->nng);
    if (r->ac != NULL) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac);
    }
    rtr_nng_free(r->nng);
    for (int i = 0; i < 2; i++)
        if (r->sig_ev[i] != NULL)
            event_free(r->sig_ev[i]);
    if (r->reconnect_ev != NULL)
        event_free(r->reconnect_ev);
    if (r->base != NULL)
        event_base_free(r->base);
}

/* Config, loop, NNG and Redis; exits 0 on a signal, 1 on a startup failure, 2 on
 * a configuration error. */
int main(int argc, char **argv)
{
    vc_log_init("router", VC_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    rtr_t r = {.backoff_ms = RTR_BACKOFF_MIN_MS};
    char listen[VC_PROTO_MAX_URL + 1], err[300];
    long nctx;
    int rc = rtr_config(&r, argc, argv, listen, sizeof(listen), &nctx);
    if (rc != 0)
        return rc;
    rc = 1;
    r.base = event_base_new();
    if (r.base == NULL)
        goto fail;
    r.reconnect_ev = evtimer_new(r.base, rtr_redis_on_timer, &r);
    r.sig_ev[0] = evsignal_new(r.base, SIGINT, rtr_on_signal, &r);
    r.sig_ev[1] = evsignal_new(r.base, SIGTERM, rtr_on_signal, &r);
    event_add(r.sig_ev[0], NULL);
    event_add(r.sig_ev[1], NULL);
    r.nng = rtr_nng_new(r.base, listen, (int)nctx, rtr_on_request, &r, err, sizeof(err));
    if (r.nng == NULL) {
        VC_ERROR("%s", err);
        goto fail;
    }
    VC_INFO("listening on %s", listen);
    rtr_redis_connect(&r);
    event_base_dispatch(r.base);
    rc = 0;
fail:
    rtr_fini(&r);
    return rc;
}
