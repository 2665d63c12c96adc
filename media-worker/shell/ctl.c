/* ctl: the worker's NNG side. A pull socket bound at control_url, polled
 * through its NNG_OPT_RECVFD on the GLib context, receives edge commands;
 * one cached push socket per edge_url carries events back. */
#include <glib-unix.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/nngmsg.h"
#include "common/util.h"
#include "media-worker/shell/worker.h"

#define MW_CTL_BATCH 256 /* messages per wakeup, then yield to media */
#define MW_EDGE_SENDBUF 1024

/* Finds the session a command names; NULL (dropped) if unknown. */
static mw_session_t *mw_ctl_session(mw_worker_t *w, const json_t *m, uint64_t now_ms)
{
    const char *id = json_string_value(json_object_get(m, "session"));
    mw_session_t *s = id ? g_hash_table_lookup(w->sessions, id) : NULL;
    if (s != NULL && s->edge != NULL)
        s->edge->last_seen_ms = now_ms;
    return s;
}

/* A detach names the edge that lost the WebSocket; a late one from an edge
 * the session already left (resumed elsewhere) must not detach it again. */
static int mw_ctl_from_session_edge(const mw_session_t *s, const json_t *m)
{
    const char *edge = json_string_value(json_object_get(m, "edge"));
    return edge == NULL || (s->edge != NULL && strcmp(s->edge->id, edge) == 0);
}

/* Routes one validated command to its handler. */
static void mw_ctl_dispatch(mw_worker_t *w, const json_t *m, const char *type, uint64_t now_ms)
{
    if (strcmp(type, "join") == 0) {
        mw_on_join(w, m, now_ms);
        return;
    }
    if (strcmp(type, "edge_ping") == 0) {
        mw_edge_get(w, json_string_value(json_object_get(m, "edge")),
                    json_string_value(json_object_get(m, "edge_url")), now_ms);
        return;
    }
    mw_session_t *s = mw_ctl_session(w, m, now_ms);
    if (s == NULL || s->dead) {
        VC_DEBUG("%s for unknown session dropped", type);
        return;
    }
    if (room_act_parse(type) != ROOM_ACT_NONE) {
        mw_on_host_action(s, m, type);
        return;
    }
    int media = strcmp(type, "answer") == 0 || strcmp(type, "candidate") == 0 ||
                strcmp(type, "media_state") == 0 || strcmp(type, "video_size") == 0;
    if (media && s->part == NULL) {
        mw_session_error(s, VC_ERR_BAD_STATE, "waiting in the lobby", type);
        return;
    }
    if (strcmp(type, "answer") == 0)
        mw_on_answer(s, m, now_ms);
    else if (strcmp(type, "candidate") == 0)
        mw_on_candidate(s, m);
    else if (strcmp(type, "media_state") == 0)
        mw_on_media_state(s, m, now_ms);
    else if (strcmp(type, "video_size") == 0)
        mw_on_video_size(s, m);
    else if (strcmp(type, "chat") == 0)
        mw_on_chat(s, m, now_ms);
    else if (strcmp(type, "leave") == 0)
        mw_session_remove(s, 1, NULL);
    else if (strcmp(type, "detach") == 0 && mw_ctl_from_session_edge(s, m))
        mw_session_detach(s, now_ms);
}

/* Drains the control socket: NNG's recv fd stays readable until it is empty. */
static gboolean mw_ctl_readable(gint fd, GIOCondition cond, gpointer data)
{
    mw_worker_t *w = data;
    uint64_t now_ms = vc_now_ms();
    for (int i = 0; i < MW_CTL_BATCH; i++) {
        json_t *m = NULL;
        char err[200];
        uint64_t t0 = vc_thread_cpu_ns(); /* receive and parse are join work too */
        int rv = vc_nng_recv_json(w->ctl, &m, err, sizeof(err));
        if (rv == NNG_EAGAIN)
            break;
        if (rv != 0) {
            if (w->bad_msgs++ == 0 || rv != NNG_EINVAL)
                VC_WARN("control message dropped: %s", rv == NNG_EINVAL ? err : nng_strerror(rv));
            if (rv != NNG_EINVAL)
                break;
            continue;
        }
        const char *type;
        if (vc_proto_validate(VC_CH_EDGE_WORKER, m, &type, err, sizeof(err)) != VC_OK) {
            VC_WARN("invalid control message dropped: %s", err);
            w->bad_msgs++;
        } else {
            mw_ctl_dispatch(w, m, type, now_ms);
            mw_session_bill(w, m, t0);
        }
        json_decref(m);
    }
    return G_SOURCE_CONTINUE;
}

/* Binds the pull socket and watches its receive fd on w->ctx. */
int mw_ctl_start(mw_worker_t *w)
{
    int rv = nng_pull0_open(&w->ctl);
    if (rv != 0)
        goto fail;
    rv = nng_listen(w->ctl, w->control_url, NULL, 0);
    if (rv != 0)
        goto fail_close;
    int fd = vc_nng_recv_fd(w->ctl);
    if (fd < 0) {
        rv = NNG_EINVAL;
        goto fail_close;
    }
    w->ctl_src = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(w->ctl_src, G_SOURCE_FUNC(mw_ctl_readable), w, NULL);
    g_source_attach(w->ctl_src, w->ctx);
    return 0;
fail_close:
    nng_close(w->ctl);
fail:
    VC_ERROR("cannot bind control_url %s: %s", w->control_url, nng_strerror(rv));
    return -1;
}

/* Stops polling, closes the control socket and every edge socket. */
void mw_ctl_stop(mw_worker_t *w)
{
    if (w->ctl_src != NULL) {
        g_source_destroy(w->ctl_src);
        g_source_unref(w->ctl_src);
        w->ctl_src = NULL;
        nng_close(w->ctl);
    }
    while (w->edges != NULL) {
        mw_edge_t *e = w->edges;
        w->edges = e->next;
        nng_close(e->sock);
        free(e);
    }
}

/* Returns the cached edge for url, dialing a new push socket if needed, and
 * marks it seen at now_ms. NULL if the socket cannot be opened. */
mw_edge_t *mw_edge_get(mw_worker_t *w, const char *id, const char *url, uint64_t now_ms)
{
    for (mw_edge_t *e = w->edges; e != NULL; e = e->next) {
        if (strcmp(e->url, url) == 0) {
            e->last_seen_ms = now_ms;
            if (id != NULL)
                snprintf(e->id, sizeof(e->id), "%s", id);
            return e;
        }
    }
    mw_edge_t *e = vc_calloc(1, sizeof(*e));
    snprintf(e->url, sizeof(e->url), "%s", url);
    snprintf(e->id, sizeof(e->id), "%s", id ? id : "");
    int rv = nng_push0_open(&e->sock);
    if (rv != 0)
        goto fail;
    nng_socket_set_int(e->sock, NNG_OPT_SENDBUF, MW_EDGE_SENDBUF);
    rv = nng_dial(e->sock, url, NULL, NNG_FLAG_NONBLOCK);
    if (rv != 0)
        goto fail_close;
    e->last_seen_ms = now_ms;
    e->next = w->edges;
    w->edges = e;
    VC_INFO("edge %s at %s", e->id, e->url);
    return e;
fail_close:
    nng_close(e->sock);
fail:
    VC_WARN("cannot dial edge %s: %s", url, nng_strerror(rv));
    free(e);
    return NULL;
}

/* Non-blocking send; a full buffer drops the event (logged once per edge). */
void mw_edge_send(mw_edge_t *e, const json_t *msg)
{
    int rv = vc_nng_send_json(e->sock, msg);
    if (rv != 0 && e->send_drops++ == 0)
        VC_WARN("edge %s: event dropped: %s", e->url, nng_strerror(rv));
}

/* deliver{session, msg} */
void mw_deliver(mw_session_t *s, json_t *msg)
{
    if (s->edge != NULL) {
        json_t *d = vc_proto_msg("deliver");
        json_object_set_new(d, "session", json_string(s->id));
        json_object_set(d, "msg", msg);
        mw_edge_send(s->edge, d);
        json_decref(d);
    }
    json_decref(msg);
}

/* close{session, msg?} */
void mw_send_close(mw_session_t *s, json_t *msg)
{
    if (s->edge != NULL) {
        json_t *d = vc_proto_msg("close");
        json_object_set_new(d, "session", json_string(s->id));
        if (msg != NULL)
            json_object_set(d, "msg", msg);
        mw_edge_send(s->edge, d);
        json_decref(d);
    }
    json_decref(msg);
}
