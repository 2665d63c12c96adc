/* server: accepts TCP (or TLS) connections, moves bytes between bufferevents
 * and each client's sans-IO conn, enforces timeouts, and reaps clients at the
 * end of the loop turn. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "edge/edge.h"

static void edge_client_on_http_error(edge_conn_t *c, int status, void *ud);
static void edge_client_on_ws_error(edge_conn_t *c, int code, void *ud);

static const edge_conn_ops_t edge_client_ops = {
    .on_request = edge_api_request,
    .on_ws_text = edge_sig_text,
    .on_http_error = edge_client_on_http_error,
    .on_ws_error = edge_client_on_ws_error,
};

/* Counts HTTP errors the parser layer answered by itself. */
static void edge_client_on_http_error(edge_conn_t *c, int status, void *ud)
{
    edge_client_t *cl = ud;
    edge_metrics_http(cl->e, status);
    edge_metrics_error(cl->e, status == 400 ? VC_ERR_BAD_HTTP : VC_ERR_TOO_LARGE);
}

/* Counts WebSocket protocol errors (the conn already queued the close). */
static void edge_client_on_ws_error(edge_conn_t *c, int code, void *ud)
{
    edge_client_t *cl = ud;
    edge_metrics_error(cl->e, code == 1009 ? VC_ERR_TOO_LARGE : VC_ERR_BAD_WEBSOCKET);
    VC_DEBUG("client closed with %d", code);
}

/* Frees a client; only from the reap event, never from its own callbacks. */
static void edge_client_free(edge_client_t *cl)
{
    edge_t *e = cl->e;
    edge_sig_client_gone(cl);
    if (cl->req != NULL)
        cl->req->client = NULL;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        e->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    e->nclients--;
    if (cl->bev)
        bufferevent_free(cl->bev);
    edge_conn_free(cl->conn);
    free(cl->name);
    free(cl);
}

/* Frees the clients queued by edge_client_close(). */
static void edge_server_reap(evutil_socket_t fd, short what, void *arg)
{
    edge_t *e = arg;
    while (e->reap_list != NULL) {
        edge_client_t *cl = e->reap_list;
        e->reap_list = cl->reap_next;
        edge_client_free(cl);
    }
    if (e->stopping && e->nclients == 0)
        event_base_loopexit(e->base, NULL);
}

/* Queues the client for freeing at the end of this loop turn. */
void edge_client_close(edge_client_t *cl)
{
    if (cl->dead)
        return;
    cl->dead = 1;
    if (cl->bev)
        bufferevent_disable(cl->bev, EV_READ | EV_WRITE);
    cl->reap_next = cl->e->reap_list;
    cl->e->reap_list = cl;
    event_active(cl->e->reap, EV_TIMEOUT, 0);
}

/* The response is written; the connection must end. Closing a TCP socket
 * with unread input makes the kernel send RST, which can destroy the
 * response before the client reads it (RFC 9112 9.6). So half-close, then
 * drain input until the client closes or EDGE_LINGER_MS passes. TLS
 * connections close at once (a TLS shutdown is not worth lingering for). */
static void edge_client_linger(edge_client_t *cl)
{
    if (cl->linger_until_ms != 0)
        return;
    if (cl->e->ssl != NULL) {
        edge_client_close(cl);
        return;
    }
    cl->linger_until_ms = vc_now_ms() + EDGE_LINGER_MS;
    shutdown(bufferevent_getfd(cl->bev), SHUT_WR);
    bufferevent_disable(cl->bev, EV_WRITE);
    bufferevent_enable(cl->bev, EV_READ);
}

/* Lingers once everything queued has been written. libevent may call this
 * while output is still queued (a deferred callback from an earlier drain),
 * so the buffer is checked, not assumed empty. */
static void edge_client_on_write(struct bufferevent *bev, void *arg)
{
    edge_client_t *cl = arg;
    if (edge_conn_done(cl->conn) && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        edge_client_linger(cl);
}

/* Moves the conn's output to the socket; closes when the conn is done. */
void edge_client_pump(edge_client_t *cl)
{
    if (cl->dead)
        return;
    edge_buf_t *out = edge_conn_out(cl->conn);
    if (out->len > 0) {
        bufferevent_write(cl->bev, out->data, out->len);
        edge_buf_consume(out, out->len);
    }
    if (edge_conn_is_ws(cl->conn) && !cl->ws_counted) {
        cl->ws_counted = 1;
        cl->last_ping_ms = vc_now_ms();
    }
    struct evbuffer *ob = bufferevent_get_output(cl->bev);
    if (evbuffer_get_length(ob) > EDGE_MAX_OUTPUT) {
        VC_WARN("dropping a client that does not read (%zu bytes queued)", evbuffer_get_length(ob));
        edge_client_close(cl);
        return;
    }
    if (edge_conn_done(cl->conn)) {
        bufferevent_disable(cl->bev, EV_READ);
        if (evbuffer_get_length(ob) == 0)
            edge_client_linger(cl);
    }
}

/* Feeds received bytes into the conn. */
static void edge_client_on_read(struct bufferevent *bev, void *arg)
{
    edge_client_t *cl = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (cl->linger_until_ms != 0) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    uint64_t now = vc_now_ms();
    cl->last_rx_ms = now;
    while (!cl->dead && evbuffer_get_length(in) > 0 && !edge_conn_done(cl->conn)) {
        char buf[16384];
        if (!edge_conn_reading_headers(cl->conn))
            cl->hdr_start_ms = now;
        int n = evbuffer_remove(in, buf, sizeof(buf));
        if (n <= 0)
            break;
        edge_conn_input(cl->conn, buf, (size_t)n);
        edge_client_pump(cl);
    }
    if (!cl->dead && evbuffer_get_length(in) > 0)
        evbuffer_drain(in, evbuffer_get_length(in));
}

/* EOF, error or TLS failure: the client is gone. */
static void edge_client_on_event(struct bufferevent *bev, short what, void *arg)
{
    edge_client_t *cl = arg;
    if (what & BEV_EVENT_ERROR) {
        unsigned long err = bufferevent_get_openssl_error(bev);
        if (err)
            VC_DEBUG("TLS error: %s", ERR_reason_error_string(err));
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        edge_client_close(cl);
}

/* New connection: refuses beyond max_connections, else wraps it. */
static void edge_server_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                                  int salen, void *arg)
{
    edge_t *e = arg;
    if (e->stopping || e->nclients >= e->max_connections) {
        edge_metrics_error(e, VC_ERR_UNAVAILABLE);
        evutil_closesocket(fd);
        return;
    }
    /* Signaling is small messages in both directions: without NODELAY a
     * second frame waits for the peer's delayed ACK (~40 ms per join). */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct bufferevent *bev;
    int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    if (e->ssl != NULL) {
        SSL *ssl = SSL_new(e->ssl);
        bev = bufferevent_openssl_socket_new(e->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
    } else {
        bev = bufferevent_socket_new(e->base, fd, opts);
    }
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    edge_client_t *cl = vc_calloc(1, sizeof(*cl));
    cl->e = e;
    cl->bev = bev;
    cl->conn = edge_conn_new(&edge_client_ops, cl);
    cl->last_rx_ms = cl->hdr_start_ms = vc_now_ms();
    edge_rate_init(&cl->rate, EDGE_RATE_PER_S, EDGE_RATE_BURST, cl->last_rx_ms);
    cl->next = e->clients;
    if (e->clients)
        e->clients->prev = cl;
    e->clients = cl;
    e->nclients++;
    bufferevent_setcb(bev, edge_client_on_read, edge_client_on_write, edge_client_on_event, cl);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* Once a second: header and idle timeouts, WebSocket keepalive pings. */
static void edge_server_sweep(evutil_socket_t fd, short what, void *arg)
{
    edge_t *e = arg;
    uint64_t now = vc_now_ms();
    for (edge_client_t *cl = e->clients; cl != NULL; cl = cl->next) {
        if (cl->dead)
            continue;
        if (cl->linger_until_ms != 0) {
            if (now >= cl->linger_until_ms)
                edge_client_close(cl);
            continue;
        }
        if (edge_conn_is_ws(cl->conn)) {
            if (now - cl->last_rx_ms > EDGE_WS_IDLE_MS) {
                VC_DEBUG("WebSocket silent for 60 s, closing");
                edge_conn_ws_close(cl->conn, 1001, "idle timeout");
                edge_client_pump(cl);
                if (!cl->dead)
                    edge_client_close(cl);
            } else if (now - cl->last_ping_ms >= EDGE_WS_PING_MS) {
                cl->last_ping_ms = now;
                edge_conn_ws_ping(cl->conn);
                edge_client_pump(cl);
            }
            continue;
        }
        if (edge_conn_busy(cl->conn))
            continue;
        if ((edge_conn_reading_headers(cl->conn) &&
             now - cl->hdr_start_ms > EDGE_HEADER_TIMEOUT_MS) ||
            now - cl->last_rx_ms > EDGE_HTTP_IDLE_MS)
            edge_client_close(cl);
    }
}

/* SIGINT/SIGTERM: stop accepting, say "going away" to WebSockets, and leave
 * the loop once the clients are gone (or after a second). */
static void edge_server_on_signal(evutil_socket_t sig, short what, void *arg)
{
    edge_t *e = arg;
    if (e->stopping)
        return;
    VC_INFO("signal %d: shutting down", (int)sig);
    e->stopping = 1;
    if (e->listener) {
        evconnlistener_free(e->listener);
        e->listener = NULL;
    }
    for (edge_client_t *cl = e->clients; cl != NULL; cl = cl->next) {
        if (cl->dead)
            continue;
        if (cl->linger_until_ms != 0) {
            edge_client_close(cl);
            continue;
        }
        if (edge_conn_is_ws(cl->conn)) {
            edge_conn_ws_close(cl->conn, 1001, "going away");
            edge_client_pump(cl);
        } else if (!edge_conn_busy(cl->conn)) {
            edge_client_close(cl);
        }
    }
    struct timeval tv = {1, 0};
    event_base_loopexit(e->base, &tv);
    event_active(e->reap, EV_TIMEOUT, 0);
}

/* Loads the certificate chain and key for TLS. */
static int edge_server_tls(edge_t *e)
{
    e->ssl = SSL_CTX_new(TLS_server_method());
    if (e->ssl == NULL)
        return -1;
    SSL_CTX_set_min_proto_version(e->ssl, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(e->ssl, e->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(e->ssl, e->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(e->ssl) != 1) {
        VC_ERROR("tls: cannot load %s / %s: %s", e->tls_cert, e->tls_key,
                 ERR_reason_error_string(ERR_get_error()));
        return -1;
    }
    return 0;
}

/* Binds the listener and starts the timers. */
int edge_server_start(edge_t *e)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    char addr[300];
    snprintf(addr, sizeof(addr), strchr(e->http_addr, ':') ? "[%s]:%ld" : "%s:%ld", e->http_addr,
             e->http_port);
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) != 0) {
        VC_ERROR("http_addr: cannot parse '%s'", addr);
        return -1;
    }
    if (e->tls_cert && e->tls_key && edge_server_tls(e) != 0)
        return -1;
    e->listener =
        evconnlistener_new_bind(e->base, edge_server_on_accept, e,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                1024, (struct sockaddr *)&ss, sslen);
    if (e->listener == NULL) {
        VC_ERROR("listen on %s: %s", addr, strerror(errno));
        return -1;
    }
    e->reap = event_new(e->base, -1, 0, edge_server_reap, e);
    e->sweep = event_new(e->base, -1, EV_PERSIST, edge_server_sweep, e);
    e->sigint = evsignal_new(e->base, SIGINT, edge_server_on_signal, e);
    e->sigterm = evsignal_new(e->base, SIGTERM, edge_server_on_signal, e);
    struct timeval one = {1, 0};
    event_add(e->sweep, &one);
    event_add(e->sigint, NULL);
    event_add(e->sigterm, NULL);
    VC_INFO("ready: listening on %s%s port %ld (id %s)", addr, e->ssl ? " (TLS)" : "", e->http_port,
            e->id);
    return 0;
}

/* Frees every client and the server's events. */
void edge_server_stop(edge_t *e)
{
    if (e->listener)
        evconnlistener_free(e->listener);
    e->listener = NULL;
    if (e->reap)
        edge_server_reap(-1, 0, e);
    while (e->clients != NULL) {
        edge_client_t *cl = e->clients;
        edge_client_free(cl);
    }
    struct event **evs[] = {&e->reap, &e->sweep, &e->sigint, &e->sigterm};
    for (size_t i = 0; i < VC_ARRAY_LEN(evs); i++) {
        if (*evs[i])
            event_free(*evs[i]);
        *evs[i] = NULL;
    }
    if (e->ssl)
        SSL_CTX_free(e->ssl);
    e->ssl = NULL;
}
