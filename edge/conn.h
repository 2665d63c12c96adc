/* conn: one client connection as a sans-IO state machine: bytes in, bytes out,
 * HTTP/1.1 requests (http-parser) then optionally WebSocket messages (wslay).
 * Not the I/O shell: no sockets, no clock, no libevent; the shell feeds bytes
 * with edge_conn_input() and drains edge_conn_out(). */
#ifndef EDGE_CONN_H
#define EDGE_CONN_H

#include <stddef.h>
#include <stdint.h>

#define EDGE_MAX_HEADER_BYTES (16 * 1024) /* request line + headers */
#define EDGE_MAX_HEADERS 64
#define EDGE_MAX_BODY (64 * 1024)
#define EDGE_MAX_WS_MSG (64 * 1024)
#define EDGE_MAX_PENDING_IN (256 * 1024) /* unparsed input while a response is due */

/* A growable byte buffer. */
typedef struct {
    char *data;
    size_t len, cap;
} edge_buf_t;

void edge_buf_append(edge_buf_t *b, const void *p, size_t n);
void edge_buf_printf(edge_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drops the first n bytes. */
void edge_buf_consume(edge_buf_t *b, size_t n);
void edge_buf_fini(edge_buf_t *b);

typedef struct {
    char *name, *value;
} edge_header_t;

/* One parsed HTTP request; borrowed by the on_request callback and valid until
 * the response is sent with edge_conn_respond()/edge_conn_accept_ws(). */
typedef struct {
    int method;     /* enum http_method */
    char *url;      /* raw request target */
    char *path;     /* target without query, not decoded */
    int keep_alive; /* http_should_keep_alive() */
    int upgrade;    /* an Upgrade request */
    edge_header_t headers[EDGE_MAX_HEADERS];
    int nheaders;
    edge_buf_t body;
} edge_http_req_t;

typedef struct edge_conn edge_conn_t;

/* What the conn tells its owner. Each callback is optional. */
typedef struct {
    /* A complete request. The owner answers now or later with
     * edge_conn_respond() or edge_conn_accept_ws(); input waits until then. */
    void (*on_request)(edge_conn_t *c, edge_http_req_t *req, void *ud);
    /* A complete text message: valid UTF-8, at most EDGE_MAX_WS_MSG bytes. */
    void (*on_ws_text)(edge_conn_t *c, const char *msg, size_t len, void *ud);
    /* The HTTP layer rejected the input (code is the HTTP status sent). */
    void (*on_http_error)(edge_conn_t *c, int status, void *ud);
    /* The WebSocket layer saw a protocol error and is closing (code sent). */
    void (*on_ws_error)(edge_conn_t *c, int close_code, void *ud);
} edge_conn_ops_t;

edge_conn_t *edge_conn_new(const edge_conn_ops_t *ops, void *ud);
void edge_conn_free(edge_conn_t *c);

/* Feeds received bytes (copied). Callbacks run from inside this call. */
void edge_conn_input(edge_conn_t *c, const void *data, size_t len);
/* Bytes to send; the owner consumes them with edge_buf_consume(). */
edge_buf_t *edge_conn_out(edge_conn_t *c);
/* True once the connection should be closed after its output is sent. */
int edge_conn_done(const edge_conn_t *c);
int edge_conn_is_ws(const edge_conn_t *c);
/* True while a request was handed to on_request and not answered yet. */
int edge_conn_busy(const edge_conn_t *c);
/* True while a request has started but its headers are incomplete. */
int edge_conn_reading_headers(const edge_conn_t *c);

/* Sends a response to the pending request. extra_headers: "" or lines each
 * ending in "\r\n". close != 0 closes the connection after it. */
void edge_conn_respond(edge_conn_t *c, int status, const char *content_type,
                       const char *extra_headers, const void *body, size_t len, int close);
/* JSON error body {"error":{"code","name","message"}} with proto code. */
void edge_conn_respond_error(edge_conn_t *c, int status, int code, const char *message);

/* Returns the request's header value (case-insensitive name) or NULL. */
const char *edge_http_header(const edge_http_req_t *req, const char *name);
/* Validates an RFC 6455 4.2.1 upgrade request; 0 if acceptable. */
int edge_ws_check_upgrade(const edge_http_req_t *req);
/* RFC 6455 4.2.2: base64(SHA-1(key + GUID)) into out (>= 29 bytes). */
void edge_ws_accept_key(const char *key, char out[29]);
/* Answers the pending upgrade request with 101 (or 400 if invalid) and
 * switches to WebSocket. Returns 0 if switched. */
int edge_conn_accept_ws(edge_conn_t *c, edge_http_req_t *req);

/* Queues a text message (copied). */
void edge_conn_ws_send_text(edge_conn_t *c, const char *msg, size_t len);
void edge_conn_ws_ping(edge_conn_t *c);
/* Queues a close frame; the conn is done once it is sent. */
void edge_conn_ws_close(edge_conn_t *c, uint16_t code, const char *reason);

#endif
