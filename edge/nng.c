/* nng: the edge's NNG sockets: req contexts to the router (completions
 * marshalled into the loop thread through a mutex-protected queue and an
 * eventfd), cached push sockets to workers, and the events pull socket. */
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/nngmsg.h"
#include "common/util.h"
#include "edge/edge.h"

#define EDGE_ROUTER_GRACE_MS 1000 /* at startup, wait for a pipe before failing fast */
#define EDGE_EVENTS_PER_TURN 256
/* Messages queued for a worker that has not read them yet: NNG's most. A
 * big room ending sends a leave per participant at once; with 1024 the
 * bench's 2660 leaves into a saturated worker overflowed, and joins right
 * after failed with "unavailable". */
#define EDGE_WORKER_SENDBUF 8192

/* NNG thread: counts connected router pipes. */
static void edge_router_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    edge_t *e = arg;
    __atomic_add_fetch(&e->router_pipes, ev == NNG_PIPE_EV_ADD_POST ? 1 : -1, __ATOMIC_SEQ_CST);
}

/* Any thread: queues a finished request for the loop thread. */
static void edge_rreq_finish(edge_rreq_t *r)
{
    edge_t *e = r->e;
    uint64_t one = 1;
    pthread_mutex_lock(&e->rdone_mu);
    r->next = NULL;
    if (e->rdone_tail)
        e->rdone_tail->next = r;
    else
        e->rdone_head = r;
    e->rdone_tail = r;
    pthread_mutex_unlock(&e->rdone_mu);
    if (write(e->rdone_fd, &one, sizeof(one)) < 0)
        VC_DEBUG("eventfd write failed");
}

/* NNG thread: after the send, receive; after the receive (or a failure), done. */
static void edge_rreq_aio_cb(void *arg)
{
    edge_rreq_t *r = arg;
    int rv = nng_aio_result(r->aio);
    if (rv == 0 && r->stage == 0) {
        r->stage = 1;
        nng_ctx_recv(r->ctx, r->aio);
        return;
    }
    if (rv == 0)
        r->reply = nng_aio_get_msg(r->aio);
    else if (r->stage == 0)
        nng_msg_free(nng_aio_get_msg(r->aio)); /* a failed send leaves us the message */
    r->rv = rv;
    edge_rreq_finish(r);
}

/* Unlinks r from the list of requests and frees it. */
static void edge_rreq_free(edge_t *e, edge_rreq_t *r)
{
    for (edge_rreq_t **pp = &e->rreqs; *pp != NULL; pp = &(*pp)->all_next) {
        if (*pp == r) {
            *pp = r->all_next;
            break;
        }
    }
    if (r->aio)
        nng_aio_free(r->aio);
    nng_ctx_close(r->ctx);
    if (r->reply)
        nng_msg_free(r->reply);
    if (r->client && r->client->req == r)
        r->client->req = NULL;
    free(r);
}

/* Loop thread: turns a finished request into (rc, reply) for its callback. */
static void edge_rreq_complete(edge_t *e, edge_rreq_t *r)
{
    json_t *reply = NULL;
    const char *type = NULL;
    char err[256] = "";
    vc_err_t rc = VC_OK;
    if (r->rv == NNG_ETIMEDOUT && __atomic_load_n(&e->router_pipes, __ATOMIC_SEQ_CST) > 0) {
        rc = VC_ERR_TIMEOUT;
        e->m.router_timeout++;
    } else if (r->rv != 0) {
        rc = VC_ERR_UNAVAILABLE;
        e->m.router_unavailable++;
        snprintf(err, sizeof(err), "the router is unavailable");
    } else {
        rc = vc_proto_parse(VC_CH_ROUTER_EDGE, nng_msg_body(r->reply), nng_msg_len(r->reply),
                            &reply, &type, err, sizeof(err));
        if (rc != VC_OK) {
            VC_WARN("invalid router reply: %s", err);
            rc = VC_ERR_INTERNAL;
            e->m.router_error++;
        } else if (strcmp(type, "error") == 0) {
            rc = (vc_err_t)json_integer_value(json_object_get(reply, "code"));
            snprintf(err, sizeof(err), "%s", json_string_value(json_object_get(reply, "message")));
            if (rc == VC_OK)
                rc = VC_ERR_INTERNAL;
            e->m.router_error++;
        } else {
            e->m.router_ok++;
        }
    }
    edge_client_t *cl = r->client;
    if (cl != NULL)
        cl->req = NULL;
    r->cb(e, cl, rc, rc == VC_OK ? reply : NULL, err[0] ? err : NULL, r->arg);
    json_decref(reply);
    edge_rreq_free(e, r);
}

/* Loop thread: the eventfd fired; handles every finished request. */
static void edge_rreq_on_done(evutil_socket_t fd, short what, void *arg)
{
    edge_t *e = arg;
    uint64_t n;
    if (read(fd, &n, sizeof(n)) < 0)
        VC_DEBUG("eventfd read failed");
    pthread_mutex_lock(&e->rdone_mu);
    edge_rreq_t *r = e->rdone_head;
    e->rdone_head = e->rdone_tail = NULL;
    pthread_mutex_unlock(&e->rdone_mu);
    while (r != NULL) {
        edge_rreq_t *next = r->next;
        edge_rreq_complete(e, r);
        r = next;
    }
}

void edge_router_request(edge_t *e, edge_client_t *cl, json_t *msg, edge_rreq_cb_t cb, void *arg)
{
    edge_rreq_t *r = vc_calloc(1, sizeof(*r));
    r->e = e;
    r->client = cl;
    r->cb = cb;
    r->arg = arg;
    r->all_next = e->rreqs;
    e->rreqs = r;
    if (cl != NULL)
        cl->req = r;
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    nng_msg *m = NULL;
    int pipes = __atomic_load_n(&e->router_pipes, __ATOMIC_SEQ_CST);
    if (pipes == 0 && vc_now_ms() - e->started_ms > EDGE_ROUTER_GRACE_MS) {
        r->rv = NNG_ECONNREFUSED; /* fail fast: no router connected */
        goto fail;
    }
    if ((r->rv = nng_ctx_open(&r->ctx, e->router)) != 0 ||
        (r->rv = nng_aio_alloc(&r->aio, edge_rreq_aio_cb, r)) != 0 ||
        (r->rv = nng_msg_alloc(&m, 0)) != 0 || (r->rv = nng_msg_append(m, s, strlen(s))) != 0)
        goto fail;
    free(s);
    nng_aio_set_timeout(r->aio, EDGE_ROUTER_TIMEOUT_MS);
    nng_aio_set_msg(r->aio, m);
    nng_ctx_send(r->ctx, r->aio);
    return;
fail:
    free(s);
    if (m)
        nng_msg_free(m);
    edge_rreq_finish(r);
}

/* ---- workers ---- */

edge_worker_t *edge_worker_get(edge_t *e, const char *url)
{
    for (edge_worker_t *w = e->workers; w != NULL; w = w->next)
        if (strcmp(w->url, url) == 0)
            return w;
    edge_worker_t *w = vc_calloc(1, sizeof(*w));
    w->url = vc_strdup(url);
    int rv = nng_push0_open(&w->sock);
    if (rv == 0) {
        nng_socket_set_int(w->sock, NNG_OPT_SENDBUF, EDGE_WORKER_SENDBUF);
        rv = nng_dial(w->sock, url, NULL, NNG_FLAG_NONBLOCK);
        if (rv != 0)
            VC_WARN("worker %s: dial: %s", url, nng_strerror(rv));
    } else {
        VC_ERROR("push socket: %s", nng_strerror(rv));
        w->sock = (nng_socket)NNG_SOCKET_INITIALIZER;
    }
    w->next = e->workers;
    e->workers = w;
    return w;
}

int edge_worker_send(edge_t *e, edge_worker_t *w, const json_t *msg)
{
    int rv = vc_nng_send_json(w->sock, msg);
    if (rv != 0) {
        if (!w->warned)
            VC_WARN("worker %s: send failed: %s", w->url, nng_strerror(rv));
        w->warned = 1;
        edge_metrics_error(e, VC_ERR_UNAVAILABLE);
    } else {
        w->warned = 0;
    }
    return rv;
}

/* ---- events from workers ---- */

/* The pull socket is readable: handles up to EDGE_EVENTS_PER_TURN events. */
static void edge_events_on_read(evutil_socket_t fd, short what, void *arg)
{
    edge_t *e = arg;
    for (int i = 0; i < EDGE_EVENTS_PER_TURN; i++) {
        json_t *msg = NULL;
        char err[256];
        int rv = vc_nng_recv_json(e->events, &msg, err, sizeof(err));
        if (rv == NNG_EAGAIN)
            return;
        if (rv != 0) {
            VC_WARN("invalid worker event dropped: %s", err);
            continue;
        }
        const char *type;
        vc_err_t rc = vc_proto_validate(VC_CH_WORKER_EDGE, msg, &type, err, sizeof(err));
        if (rc != VC_OK)
            VC_WARN("invalid worker event dropped: %s", err);
        else
            edge_sig_event(e, msg, type);
        json_decref(msg);
    }
    event_active(e->events_ev, EV_READ, 0); /* more may be queued; let others run first */
}

/* Every 500 ms. */
static void edge_nng_on_ping(evutil_socket_t fd, short what, void *arg)
{
    edge_sig_edge_ping(arg);
}

/* Opens the router req socket, the events pull socket and the eventfd. */
int edge_nng_start(edge_t *e)
{
    int rv;
    pthread_mutex_init(&e->rdone_mu, NULL);
    e->rdone_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (e->rdone_fd < 0)
        return -1;
    e->rdone = event_new(e->base, e->rdone_fd, EV_READ | EV_PERSIST, edge_rreq_on_done, e);
    event_add(e->rdone, NULL);
    if ((rv = nng_req0_open(&e->router)) != 0)
        goto fail;
    e->router_open = 1;
    nng_pipe_notify(e->router, NNG_PIPE_EV_ADD_POST, edge_router_pipe_cb, e);
    nng_pipe_notify(e->router, NNG_PIPE_EV_REM_POST, edge_router_pipe_cb, e);
    if ((rv = nng_dial(e->router, e->router_url, NULL, NNG_FLAG_NONBLOCK)) != 0) {
        VC_ERROR("router_url %s: %s", e->router_url, nng_strerror(rv));
        goto fail;
    }
    if ((rv = nng_pull0_open(&e->events)) != 0)
        goto fail;
    e->events_open = 1;
    nng_socket_set_size(e->events, NNG_OPT_RECVMAXSZ, VC_PROTO_MAX_NNG_MSG + 1024);
    if ((rv = nng_listen(e->events, e->events_url, NULL, 0)) != 0) {
        VC_ERROR("events_url %s: %s", e->events_url, nng_strerror(rv));
        goto fail;
    }
    int fd = vc_nng_recv_fd(e->events);
    if (fd < 0)
        goto fail;
    e->events_ev = event_new(e->base, fd, EV_READ | EV_PERSIST, edge_events_on_read, e);
    event_add(e->events_ev, NULL);
    e->edge_ping = event_new(e->base, -1, EV_PERSIST, edge_nng_on_ping, e);
    struct timeval tv = {0, EDGE_EDGE_PING_MS * 1000};
    event_add(e->edge_ping, &tv);
    return 0;
fail:
    if (rv != 0)
        VC_ERROR("nng: %s", nng_strerror(rv));
    return -1;
}

/* Closes sockets (aborting requests in flight) and frees everything. */
void edge_nng_stop(edge_t *e)
{
    if (e->router_open)
        nng_close(e->router);
    e->router_open = 0;
    while (e->rreqs != NULL)
        edge_rreq_free(e, e->rreqs); /* nng_aio_free waits for a running callback */
    e->rdone_head = e->rdone_tail = NULL;
    if (e->events_open)
        nng_close(e->events);
    e->events_open = 0;
    while (e->workers != NULL) {
        edge_worker_t *w = e->workers;
        e->workers = w->next;
        nng_close(w->sock);
        free(w->url);
        free(w);
    }
    struct event **evs[] = {&e->rdone, &e->events_ev, &e->edge_ping};
    for (size_t i = 0; i < VC_ARRAY_LEN(evs); i++) {
        if (*evs[i])
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    if (e->rdone_fd > 0)
        close(e->rdone_fd);
    e->rdone_fd = -1;
    pthread_mutex_destroy(&e->rdone_mu);
}
