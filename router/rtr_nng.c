#include "router/rtr_nng.h"

#include <errno.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "proto/proto.h"

typedef enum {
    RTR_NNG_RECV, /* waiting in nng_ctx_recv */
    RTR_NNG_BUSY, /* queued for, or owned by, the libevent thread */
    RTR_NNG_SEND, /* waiting in nng_ctx_send */
} rtr_nng_state_t;

struct rtr_nng_req {
    rtr_nng_t *n;
    nng_ctx ctx;
    nng_aio *aio;
    rtr_nng_state_t state;
    rtr_nng_req_t *next; /* in the ready queue */
};

struct rtr_nng {
    nng_socket sock;
    int open;
    rtr_nng_req_t *reqs;
    int nreq;
    int efd;
    struct event *ev;
    rtr_nng_req_fn fn;
    void *arg;
    pthread_mutex_t mu; /* guards head, tail, closing */
    rtr_nng_req_t *head, *tail;
    int closing;
};

/* Starts q receiving unless the socket is closing. Any thread. */
static void rtr_nng_recv(rtr_nng_req_t *q)
{
    rtr_nng_t *n = q->n;
    pthread_mutex_lock(&n->mu);
    int closing = n->closing;
    if (!closing)
        q->state = RTR_NNG_RECV;
    pthread_mutex_unlock(&n->mu);
    if (!closing)
        nng_ctx_recv(q->ctx, q->aio);
}

/* NNG thread: a receive or send finished. Received requests go to the
 * libevent thread; finished sends start the next receive. */
static void rtr_nng_aio_cb(void *arg)
{
    rtr_nng_req_t *q = arg;
    rtr_nng_t *n = q->n;
    int rv = nng_aio_result(q->aio);
    if (q->state == RTR_NNG_SEND) {
        if (rv != 0) {
            nng_msg_free(nng_aio_get_msg(q->aio));
            nng_aio_set_msg(q->aio, NULL);
        }
        rtr_nng_recv(q);
        return;
    }
    if (rv != 0) {
        /* ECLOSED/ECANCELED at shutdown; anything else: keep serving. */
        if (rv != NNG_ECLOSED && rv != NNG_ECANCELED)
            rtr_nng_recv(q);
        return;
    }
    pthread_mutex_lock(&n->mu);
    q->state = RTR_NNG_BUSY;
    q->next = NULL;
    if (n->tail != NULL)
        n->tail->next = q;
    else
        n->head = q;
    n->tail = q;
    pthread_mutex_unlock(&n->mu);
    uint64_t one = 1;
    ssize_t w = write(n->efd, &one, sizeof(one));
    (void)w; /* a full counter still leaves the fd readable */
}

/* Takes the first queued request, or NULL. */
static rtr_nng_req_t *rtr_nng_pop(rtr_nng_t *n)
{
    pthread_mutex_lock(&n->mu);
    rtr_nng_req_t *q = n->head;
    if (q != NULL) {
        n->head = q->next;
        if (n->head == NULL)
            n->tail = NULL;
        q->next = NULL;
    }
    pthread_mutex_unlock(&n->mu);
    return q;
}

/* libevent thread: hands every queued request to the callback. */
static void rtr_nng_on_wakeup(evutil_socket_t fd, short what, void *arg)
{
    rtr_nng_t *n = arg;
    uint64_t cnt;
    ssize_t r = read(fd, &cnt, sizeof(cnt));
    (void)r;
    rtr_nng_req_t *q;
    while ((q = rtr_nng_pop(n)) != NULL) {
        nng_msg *m = nng_aio_get_msg(q->aio);
        nng_aio_set_msg(q->aio, NULL);
        size_t len = nng_msg_len(m);
        if (len > VC_PROTO_MAX_NNG_MSG) {
            json_t *e = vc_proto_error(VC_ERR_TOO_LARGE, NULL, NULL);
            rtr_nng_reply(q, e);
            json_decref(e);
        } else {
            n->fn(n->arg, q, nng_msg_body(m), len);
        }
        nng_msg_free(m);
    }
}

/* Opens the socket and the contexts before listening, so no request arrives
 * before a context can take it. */
rtr_nng_t *rtr_nng_new(struct event_base *base, const char *url, int nctx, rtr_nng_req_fn fn,
                       void *arg, char *err, size_t errlen)
{
    rtr_nng_t *n = vc_calloc(1, sizeof(*n));
    n->fn = fn;
    n->arg = arg;
    n->efd = -1;
    pthread_mutex_init(&n->mu, NULL);
    int rv = nng_rep0_open(&n->sock);
    if (rv != 0) {
        snprintf(err, errlen, "nng_rep0_open: %s", nng_strerror(rv));
        goto fail;
    }
    n->open = 1;
    /* Oversized requests get a too_large reply instead of a dropped pipe. */
    nng_socket_set_size(n->sock, NNG_OPT_RECVMAXSZ, 4 * VC_PROTO_MAX_NNG_MSG);
    n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->efd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto fail;
    }
    n->ev = event_new(base, n->efd, EV_READ | EV_PERSIST, rtr_nng_on_wakeup, n);
    event_add(n->ev, NULL);
    n->reqs = vc_calloc((size_t)nctx, sizeof(*n->reqs));
    for (int i = 0; i < nctx; i++) {
        rtr_nng_req_t *q = &n->reqs[i];
        q->n = n;
        if ((rv = nng_ctx_open(&q->ctx, n->sock)) != 0 ||
            (rv = nng_aio_alloc(&q->aio, rtr_nng_aio_cb, q)) != 0) {
            snprintf(err, errlen, "nng context: %s", nng_strerror(rv));
            goto fail;
        }
        n->nreq++;
    }
    if ((rv = nng_listen(n->sock, url, NULL, 0)) != 0) {
        snprintf(err, errlen, "listen %s: %s", url, nng_strerror(rv));
        goto fail;
    }
    for (int i = 0; i < n->nreq; i++)
        rtr_nng_recv(&n->reqs[i]);
    return n;
fail:
    rtr_nng_close(n);
    rtr_nng_free(n);
    return NULL;
}

/* libevent thread: serializes reply into a new message; the send completion
 * restarts the receive (rtr_nng_aio_cb). */
void rtr_nng_reply(rtr_nng_req_t *q, const json_t *reply)
{
    rtr_nng_t *n = q->n;
    pthread_mutex_lock(&n->mu);
    int closing = n->closing;
    if (!closing)
        q->state = RTR_NNG_SEND;
    pthread_mutex_unlock(&n->mu);
    if (closing)
        return;
    char *buf = json_dumps(reply, JSON_COMPACT);
    nng_msg *m = NULL;
    if (buf == NULL || nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, buf, strlen(buf)) != 0) {
        /* Nothing to send: the edge times out; keep the context serving. */
        VC_ERROR("nng: cannot build a reply");
        free(buf);
        nng_msg_free(m);
        rtr_nng_recv(q);
        return;
    }
    free(buf);
    nng_aio_set_msg(q->aio, m);
    nng_ctx_send(q->ctx, q->aio);
}

/* Sets closing under the lock first so no callback restarts a receive. */
void rtr_nng_close(rtr_nng_t *n)
{
    pthread_mutex_lock(&n->mu);
    n->closing = 1;
    pthread_mutex_unlock(&n->mu);
    if (n->open)
        nng_close(n->sock);
    n->open = 0;
    /* Waits for running callbacks; none restarts once closing is set. */
    for (int i = 0; i < n->nreq; i++)
        nng_aio_stop(n->reqs[i].aio);
}

/* Frees messages still held by queued or unanswered contexts, then the rest. */
void rtr_nng_free(rtr_nng_t *n)
{
    if (n == NULL)
        return;
    for (int i = 0; i < n->nreq; i++) {
        rtr_nng_req_t *q = &n->reqs[i];
        nng_msg *m = nng_aio_get_msg(q->aio);
        if (m != NULL)
            nng_msg_free(m);
        nng_aio_free(q->aio);
    }
    free(n->reqs);
    if (n->ev != NULL)
        event_free(n->ev);
    if (n->efd >= 0)
        close(n->efd);
    pthread_mutex_destroy(&n->mu);
    free(n);
}
