/* edge: the shell of the edge process: libevent loop, clients, HTTP handlers,
 * signaling relay, NNG to router and workers, metrics. Not the protocol
 * parsers: those are sans-IO in conn.c, route.c, jwt.c and rate.c. */
#ifndef EDGE_EDGE_H
#define EDGE_EDGE_H

#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <nng/nng.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdint.h>

#include "edge/conn.h"
#include "edge/rate.h"
#include "proto/proto.h"

#define EDGE_ROUTER_TIMEOUT_MS 3000
#define EDGE_HEADER_TIMEOUT_MS 10000
#define EDGE_LINGER_MS 2000 /* RFC 9112 9.6: read what the client still sends before closing */
#define EDGE_HTTP_IDLE_MS 60000
#define EDGE_WS_PING_MS 20000
#define EDGE_WS_IDLE_MS 60000
#define EDGE_EDGE_PING_MS 500
#define EDGE_RATE_PER_S 50
#define EDGE_RATE_BURST 100
#define EDGE_RATE_ABUSE 100               /* messages refused in a row before closing */
#define EDGE_MAX_OUTPUT (4 * 1024 * 1024) /* unsent bytes before a slow client is dropped */
#define EDGE_SESSION_BUCKETS 4096

typedef struct edge edge_t;
typedef struct edge_client edge_client_t;
typedef struct edge_rreq edge_rreq_t;
typedef struct edge_worker edge_worker_t;

/* Runs in the loop thread when a router request finishes. rc is VC_OK with
 * reply (borrowed, validated, not "error"), or the error code and message. */
typedef void (*edge_rreq_cb_t)(edge_t *e, edge_client_t *cl, vc_err_t rc, const json_t *reply,
                               const char *errmsg, void *arg);

/* A router request in flight: owned by the router client; the requesting
 * client is cleared if it goes away first. */
struct edge_rreq {
    edge_t *e;
    edge_client_t *client;
    edge_rreq_cb_t cb;
    void *arg;
    nng_ctx ctx;
    nng_aio *aio;
    int stage; /* 0 sending, 1 receiving */
    int rv;
    nng_msg *reply;
    edge_rreq_t *next;     /* done queue */
    edge_rreq_t *all_next; /* every request */
};

/* One cached push socket to a worker's control_url. */
struct edge_worker {
    char *url;
    nng_socket sock;
    int nsessions;
    int warned;
    edge_worker_t *next;
};

struct edge_client {
    edge_t *e;
    struct bufferevent *bev;
    edge_conn_t *conn;
    edge_client_t *prev, *next; /* all clients */
    edge_client_t *reap_next;
    int dead;
    int ws_counted;
    uint64_t linger_until_ms; /* nonzero: response sent, draining input until then */
    uint64_t last_rx_ms, hdr_start_ms, last_ping_ms;
    edge_rate_t rate;
    int refused;
    edge_rreq_t *req;
    /* signaling */
    int joining;
    int joined;
    char session[VC_PROTO_MAX_ID + 1];
    char room[VC_PROTO_MAX_ID + 1];
    char role[16];
    char identity[VC_PROTO_MAX_ID + 1]; /* the credential's sub */
    char *name;
    int resume;
    edge_worker_t *worker;
    edge_client_t *snext; /* session hash chain */
};

typedef struct {
    uint64_t http[16]; /* by status index, see metrics.c */
    uint64_t ws_in, ws_out;
    uint64_t errors[64]; /* by proto error index, see metrics.c */
    uint64_t router_ok, router_error, router_unavailable, router_timeout;
} edge_metrics_t;

struct edge {
    /* config */
    char *id, *http_addr, *router_url, *events_url, *ui_dir, *region, *jwt_secret, *jwt_secret_prev,
        *public_url, *tls_cert, *tls_key;
    long http_port, max_connections;
    /* loop */
    struct event_base *base;
    struct evconnlistener *listener;
    SSL_CTX *ssl;
    struct event *sigint, *sigterm, *sweep, *edge_ping, *reap, *rdone, *events_ev;
    edge_client_t *clients;
    edge_client_t *reap_list;
    int nclients;
    int stopping;
    uint64_t started_ms;
    /* sessions */
    edge_client_t *sessions[EDGE_SESSION_BUCKETS];
    int nsessions;
    /* NNG */
    nng_socket router, events;
    int router_open, events_open;
    volatile int router_pipes;
    int rdone_fd;
    pthread_mutex_t rdone_mu;
    edge_rreq_t *rdone_head, *rdone_tail;
    edge_rreq_t *rreqs;
    edge_worker_t *workers;
    edge_metrics_t m;
};

/* server.c */
int edge_server_start(edge_t *e);
void edge_server_stop(edge_t *e);
void edge_client_pump(edge_client_t *cl);
void edge_client_close(edge_client_t *cl);

/* api.c */
void edge_api_request(edge_conn_t *c, edge_http_req_t *req, void *ud);

/* signal.c */
void edge_sig_text(edge_conn_t *c, const char *msg, size_t len, void *ud);
void edge_sig_send(edge_client_t *cl, const json_t *msg);
void edge_sig_error(edge_client_t *cl, vc_err_t code, const char *detail, const char *ref);
void edge_sig_client_gone(edge_client_t *cl);
void edge_sig_event(edge_t *e, const json_t *msg, const char *type);
void edge_sig_edge_ping(edge_t *e);

/* nng.c */
int edge_nng_start(edge_t *e);
void edge_nng_stop(edge_t *e);
/* Sends msg (taken) to the router; cb runs later in the loop thread. */
void edge_router_request(edge_t *e, edge_client_t *cl, json_t *msg, edge_rreq_cb_t cb, void *arg);
/* The cached push socket for url (created on first use). */
edge_worker_t *edge_worker_get(edge_t *e, const char *url);
/* Non-blocking send to the worker; 0 or an NNG error (logged once). */
int edge_worker_send(edge_t *e, edge_worker_t *w, const json_t *msg);

/* metrics.c */
void edge_metrics_http(edge_t *e, int status);
void edge_metrics_error(edge_t *e, vc_err_t code);
char *edge_metrics_render(edge_t *e);

#endif
