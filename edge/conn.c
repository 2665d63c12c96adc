#include "edge/conn.h"

#include <limits.h>
#include <http_parser.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#include "common/util.h"
#include "proto/proto.h"
#include "common/utf8.h"

typedef enum {
    EDGE_MODE_HTTP,
    EDGE_MODE_WS,
} edge_mode_t;

struct edge_conn {
    const edge_conn_ops_t *ops;
    void *ud;
    edge_mode_t mode;
    edge_buf_t in, out;
    /* HTTP */
    http_parser hp;
    int in_headers; /* a request has begun and its headers are incomplete */
    int complete;   /* on_message_complete seen, not yet dispatched */
    int busy;       /* dispatched, not yet answered */
    int err_status; /* set by a callback that refused the request */
    int last_was_value;
    size_t hdr_bytes;
    edge_buf_t url;
    edge_buf_t hdrs; /* "name\0value\0..." */
    size_t name_off[EDGE_MAX_HEADERS], val_off[EDGE_MAX_HEADERS];
    int nheaders;
    edge_buf_t body;
    edge_http_req_t req;
    /* WebSocket */
    wslay_event_context_ptr ws;
    int ws_closing;
    /* both */
    int done;
    int in_process;
};

/* ---- buffers ---- */

/* Appends n bytes, growing geometrically. */
void edge_buf_append(edge_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->cap - b->len < n + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n + 1)
            cap *= 2;
        b->data = vc_realloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

/* Appends formatted text. */
void edge_buf_printf(edge_buf_t *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(tmp)) {
        edge_buf_append(b, tmp, (size_t)n);
        return;
    }
    char *big = vc_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    edge_buf_append(b, big, (size_t)n);
    free(big);
}

/* Drops the first n bytes (memmove; buffers here are small). */
void edge_buf_consume(edge_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* Frees the storage. */
void edge_buf_fini(edge_buf_t *b)
{
    free(b->data);
    *b = (edge_buf_t){0};
}

/* ---- HTTP callbacks ---- */

/* Counts request-line and header bytes against EDGE_MAX_HEADER_BYTES. */
static int edge_http_count(edge_conn_t *c, const char *at, size_t len)
{
    if (memchr(at, '\0', len) != NULL)
        return -1; /* no NUL anywhere in the head */
    c->hdr_bytes += len;
    if (c->hdr_bytes > EDGE_MAX_HEADER_BYTES) {
        c->err_status = 431;
        return -1;
    }
    return 0;
}

/* Resets per-request state. */
static int edge_http_on_begin(http_parser *p)
{
    edge_conn_t *c = p->data;
    c->in_headers = 1;
    c->complete = 0;
    c->hdr_bytes = 0;
    c->url.len = 0;
    c->hdrs.len = 0;
    c->body.len = 0;
    c->nheaders = 0;
    c->last_was_value = 0;
    return 0;
}

/* Accumulates the request target. */
static int edge_http_on_url(http_parser *p, const char *at, size_t len)
{
    edge_conn_t *c = p->data;
    if (edge_http_count(c, at, len) != 0)
        return -1;
    edge_buf_append(&c->url, at, len);
    return 0;
}

/* Accumulates a header name; a name after a value starts a new header. */
static int edge_http_on_field(http_parser *p, const char *at, size_t len)
{
    edge_conn_t *c = p->data;
    if (edge_http_count(c, at, len) != 0)
        return -1;
    if (c->nheaders == 0 || c->last_was_value) {
        if (c->nheaders == EDGE_MAX_HEADERS) {
            c->err_status = 431;
            return -1;
        }
        if (c->nheaders > 0)
            edge_buf_append(&c->hdrs, "", 1);
        c->name_off[c->nheaders++] = c->hdrs.len;
        c->last_was_value = 0;
    }
    edge_buf_append(&c->hdrs, at, len);
    return 0;
}

/* Accumulates a header value. */
static int edge_http_on_value(http_parser *p, const char *at, size_t len)
{
    edge_conn_t *c = p->data;
    if (edge_http_count(c, at, len) != 0 || c->nheaders == 0)
        return -1;
    if (!c->last_was_value) {
        edge_buf_append(&c->hdrs, "", 1);
        c->val_off[c->nheaders - 1] = c->hdrs.len;
        c->last_was_value = 1;
    }
    edge_buf_append(&c->hdrs, at, len);
    return 0;
}

/* Rejects bodies announced larger than EDGE_MAX_BODY before reading them. */
static int edge_http_on_headers(http_parser *p)
{
    edge_conn_t *c = p->data;
    c->in_headers = 0;
    if (c->nheaders > 0 && !c->last_was_value) {
        edge_buf_append(&c->hdrs, "", 1);
        c->val_off[c->nheaders - 1] = c->hdrs.len;
    }
    edge_buf_append(&c->hdrs, "", 1);
    if (!(p->flags & F_CHUNKED) && p->content_length != ULLONG_MAX &&
        p->content_length > EDGE_MAX_BODY) {
        c->err_status = 413;
        return -1;
    }
    return 0;
}

/* Accumulates the body up to EDGE_MAX_BODY. */
static int edge_http_on_body(http_parser *p, const char *at, size_t len)
{
    edge_conn_t *c = p->data;
    if (c->body.len + len > EDGE_MAX_BODY) {
        c->err_status = 413;
        return -1;
    }
    edge_buf_append(&c->body, at, len);
    return 0;
}

/* Stops the parser after each request so pipelined ones wait their turn. An
 * upgrade stops the parser by itself (pausing there would leave a byte). */
static int edge_http_on_complete(http_parser *p)
{
    edge_conn_t *c = p->data;
    c->complete = 1;
    if (!p->upgrade)
        http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings edge_http_settings = {
    .on_message_begin = edge_http_on_begin,
    .on_url = edge_http_on_url,
    .on_header_field = edge_http_on_field,
    .on_header_value = edge_http_on_value,
    .on_headers_complete = edge_http_on_headers,
    .on_body = edge_http_on_body,
    .on_message_complete = edge_http_on_complete,
};

/* ---- WebSocket callbacks ---- */

/* wslay reads from the input buffer; empty means "would block". */
static ssize_t edge_ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                               void *ud)
{
    edge_conn_t *c = ud;
    if (c->in.len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < c->in.len ? len : c->in.len;
    memcpy(buf, c->in.data, n);
    edge_buf_consume(&c->in, n);
    return (ssize_t)n;
}

/* wslay writes into the output buffer, which always accepts. */
static ssize_t edge_ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                               int flags, void *ud)
{
    edge_conn_t *c = ud;
    edge_buf_append(&c->out, data, len);
    return (ssize_t)len;
}

/* Queues a close after a protocol violation and tells the owner. */
static void edge_ws_fail(edge_conn_t *c, uint16_t code, const char *reason)
{
    if (c->ws_closing)
        return;
    c->ws_closing = 1;
    wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, strlen(reason));
    if (c->ops->on_ws_error)
        c->ops->on_ws_error(c, code, c->ud);
}

/* One complete message: text goes to the owner, binary closes with 1003
 * (RFC 6455 7.4.1), invalid UTF-8 with 1007 (RFC 6455 8.1). */
static void edge_ws_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                           void *ud)
{
    edge_conn_t *c = ud;
    if (c->ws_closing)
        return;
    if (a->opcode == WSLAY_CONNECTION_CLOSE) {
        c->ws_closing = 1; /* wslay answers the close itself */
        return;
    }
    if (a->opcode == WSLAY_BINARY_FRAME) {
        edge_ws_fail(c, 1003, "text messages only");
        return;
    }
    if (a->opcode != WSLAY_TEXT_FRAME)
        return;
    if (a->msg_length > EDGE_MAX_WS_MSG) {
        edge_ws_fail(c, 1009, "message too large");
        return;
    }
    if (!vc_utf8_valid(a->msg, a->msg_length)) {
        edge_ws_fail(c, 1007, "invalid UTF-8");
        return;
    }
    if (c->ops->on_ws_text)
        c->ops->on_ws_text(c, (const char *)a->msg, a->msg_length, c->ud);
}

static const struct wslay_event_callbacks edge_ws_callbacks = {
    .recv_callback = edge_ws_recv_cb,
    .send_callback = edge_ws_send_cb,
    .on_msg_recv_callback = edge_ws_msg_cb,
};

/* ---- conn ---- */

/* Creates a conn in HTTP mode. */
edge_conn_t *edge_conn_new(const edge_conn_ops_t *ops, void *ud)
{
    edge_conn_t *c = vc_calloc(1, sizeof(*c));
    c->ops = ops;
    c->ud = ud;
    http_parser_init(&c->hp, HTTP_REQUEST);
    c->hp.data = c;
    return c;
}

/* Frees the conn and everything it holds. */
void edge_conn_free(edge_conn_t *c)
{
    if (c == NULL)
        return;
    if (c->ws)
        wslay_event_context_free(c->ws);
    edge_buf_fini(&c->in);
    edge_buf_fini(&c->out);
    edge_buf_fini(&c->url);
    edge_buf_fini(&c->hdrs);
    edge_buf_fini(&c->body);
    free(c);
}

edge_buf_t *edge_conn_out(edge_conn_t *c)
{
    return &c->out;
}

int edge_conn_done(const edge_conn_t *c)
{
    return c->done;
}

int edge_conn_is_ws(const edge_conn_t *c)
{
    return c->mode == EDGE_MODE_WS;
}

int edge_conn_busy(const edge_conn_t *c)
{
    return c->busy;
}

int edge_conn_reading_headers(const edge_conn_t *c)
{
    return c->mode == EDGE_MODE_HTTP && !c->busy && (c->in_headers || c->in.len > 0);
}

/* Fills c->req from the parser's buffers and hands it to the owner. */
static void edge_http_dispatch(edge_conn_t *c)
{
    edge_http_req_t *r = &c->req;
    c->complete = 0;
    c->busy = 1;
    r->method = (int)c->hp.method;
    edge_buf_append(&c->url, "", 1);
    c->url.len--;
    r->url = c->url.data;
    r->path = c->url.data;
    char *q = strchr(c->url.data, '?');
    if (q != NULL)
        *q = '\0'; /* url keeps only the path from here on */
    r->keep_alive = http_should_keep_alive(&c->hp);
    r->upgrade = c->hp.upgrade;
    r->nheaders = c->nheaders;
    for (int i = 0; i < c->nheaders; i++) {
        r->headers[i].name = c->hdrs.data + c->name_off[i];
        r->headers[i].value = c->hdrs.data + c->val_off[i];
    }
    r->body = c->body;
    if (c->ops->on_request)
        c->ops->on_request(c, r, c->ud);
    else
        edge_conn_respond_error(c, 404, VC_ERR_BAD_HTTP, "not found");
}

/* Answers a malformed request and closes. */
static void edge_http_fail(edge_conn_t *c)
{
    int status = c->err_status ? c->err_status : 400;
    c->busy = 1;
    if (status == 413)
        edge_conn_respond_error(c, 413, VC_ERR_TOO_LARGE, "request body exceeds 64 KiB");
    else if (status == 431)
        edge_conn_respond_error(c, 431, VC_ERR_TOO_LARGE, "request headers exceed 16 KiB");
    else
        edge_conn_respond_error(c, 400, VC_ERR_BAD_HTTP,
                                http_errno_name(HTTP_PARSER_ERRNO(&c->hp)));
    c->done = 1;
    if (c->ops->on_http_error)
        c->ops->on_http_error(c, status, c->ud);
}

/* Lets wslay read what is buffered and write what is queued. */
static void edge_ws_pump(edge_conn_t *c)
{
    if (c->done)
        return;
    if (wslay_event_want_read(c->ws) && c->in.len > 0) {
        int rv = wslay_event_recv(c->ws);
        if (rv != 0)
            edge_ws_fail(c, 1002, "protocol error");
    }
    if (wslay_event_send(c->ws) != 0) {
        c->done = 1;
        return;
    }
    if (wslay_event_get_close_sent(c->ws) ||
        (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws)))
        c->done = 1;
}

/* Runs the parser over buffered input until it needs more, or a request
 * waits for its answer, or the connection is finished. */
static void edge_conn_process(edge_conn_t *c)
{
    if (c->in_process)
        return;
    c->in_process = 1;
    while (!c->done) {
        if (c->mode == EDGE_MODE_WS) {
            edge_ws_pump(c);
            break;
        }
        if (c->busy || c->in.len == 0)
            break;
        size_t n = http_parser_execute(&c->hp, &edge_http_settings, c->in.data, c->in.len);
        enum http_errno e = HTTP_PARSER_ERRNO(&c->hp);
        if (e == HPE_PAUSED)
            http_parser_pause(&c->hp, 0);
        else if (e != HPE_OK) {
            edge_http_fail(c);
            break;
        }
        edge_buf_consume(&c->in, n);
        if (c->complete)
            edge_http_dispatch(c);
        else if (c->hp.upgrade || n == 0)
            break; /* need more bytes */
    }
    c->in_process = 0;
}

/* Buffers the bytes and processes what can be processed. */
void edge_conn_input(edge_conn_t *c, const void *data, size_t len)
{
    if (c->done || len == 0)
        return;
    edge_buf_append(&c->in, data, len);
    if (c->busy && c->in.len > EDGE_MAX_PENDING_IN) {
        c->done = 1; /* a client that pipelines this much is not a browser */
        return;
    }
    edge_conn_process(c);
}

/* Writes status line, common headers and body into the output buffer. */
void edge_conn_respond(edge_conn_t *c, int status, const char *ctype, const char *extra,
                       const void *body, size_t len, int close)
{
    if (!c->busy || c->mode != EDGE_MODE_HTTP)
        return;
    c->busy = 0;
    if (!c->req.keep_alive || c->req.upgrade)
        close = 1;
    const char *reason = http_status_str((enum http_status)status);
    edge_buf_printf(&c->out,
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                    "X-Content-Type-Options: nosniff\r\n%s%s\r\n",
                    status, reason, ctype, len, close ? "Connection: close\r\n" : "",
                    extra ? extra : "");
    if (c->req.method != HTTP_HEAD)
        edge_buf_append(&c->out, body, len);
    if (close)
        c->done = 1;
    edge_conn_process(c);
}

/* Answers with the JSON error shape of the HTTP API. */
void edge_conn_respond_error(edge_conn_t *c, int status, int code, const char *message)
{
    json_t *j =
        json_pack("{s:{s:i, s:s, s:s}}", "error", "code", code, "name", vc_err_name((vc_err_t)code),
                  "message", message ? message : vc_err_message((vc_err_t)code));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    edge_conn_respond(c, status, "application/json", "Cache-Control: no-store\r\n", s, strlen(s),
                      0);
    free(s);
}

const char *edge_http_header(const edge_http_req_t *req, const char *name)
{
    for (int i = 0; i < req->nheaders; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* True if the comma-separated list s holds token (case-insensitive). */
static int edge_http_has_token(const char *s, const char *token)
{
    size_t tl = strlen(token);
    while (s && *s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == tl && strncasecmp(s, token, tl) == 0)
            return 1;
        s = e;
    }
    return 0;
}

/* RFC 6455 4.2.1: GET, Upgrade: websocket, Connection: Upgrade, version 13,
 * and a key that is base64 of 16 bytes. */
int edge_ws_check_upgrade(const edge_http_req_t *req)
{
    if (req->method != HTTP_GET)
        return -1;
    if (!edge_http_has_token(edge_http_header(req, "Upgrade"), "websocket") ||
        !edge_http_has_token(edge_http_header(req, "Connection"), "upgrade"))
        return -1;
    const char *v = edge_http_header(req, "Sec-WebSocket-Version");
    if (v == NULL || strcmp(v, "13") != 0)
        return -1;
    const char *k = edge_http_header(req, "Sec-WebSocket-Key");
    if (k == NULL || strlen(k) != 24 || k[22] != '=' || k[23] != '=')
        return -1;
    unsigned char raw[24];
    if (EVP_DecodeBlock(raw, (const unsigned char *)k, 24) != 18)
        return -1;
    return 0;
}

void edge_ws_accept_key(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char cat[128];
    int n = snprintf(cat, sizeof(cat), "%.64s%s", key, guid);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(cat, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* Sends 101 and hands the rest of the input to wslay. */
int edge_conn_accept_ws(edge_conn_t *c, edge_http_req_t *req)
{
    if (!c->busy || c->mode != EDGE_MODE_HTTP)
        return -1;
    if (!req->upgrade || edge_ws_check_upgrade(req) != 0) {
        edge_conn_respond_error(c, 400, VC_ERR_BAD_WEBSOCKET, "invalid WebSocket upgrade");
        return -1;
    }
    char accept[29];
    edge_ws_accept_key(edge_http_header(req, "Sec-WebSocket-Key"), accept);
    edge_buf_printf(&c->out,
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                    accept);
    c->busy = 0;
    c->mode = EDGE_MODE_WS;
    if (wslay_event_context_server_init(&c->ws, &edge_ws_callbacks, c) != 0)
        abort(); /* only fails on out of memory */
    wslay_event_config_set_max_recv_msg_length(c->ws, EDGE_MAX_WS_MSG);
    edge_conn_process(c);
    return 0;
}

/* Queues a message of the given opcode and writes it out. */
static void edge_ws_queue(edge_conn_t *c, uint8_t opcode, const char *msg, size_t len)
{
    if (c->mode != EDGE_MODE_WS || c->done || c->ws_closing)
        return;
    struct wslay_event_msg m = {.opcode = opcode, .msg = (const uint8_t *)msg, .msg_length = len};
    if (wslay_event_queue_msg(c->ws, &m) != 0)
        return;
    if (!c->in_process)
        edge_ws_pump(c);
}

void edge_conn_ws_send_text(edge_conn_t *c, const char *msg, size_t len)
{
    edge_ws_queue(c, WSLAY_TEXT_FRAME, msg, len);
}

void edge_conn_ws_ping(edge_conn_t *c)
{
    edge_ws_queue(c, WSLAY_PING, "", 0);
}

void edge_conn_ws_close(edge_conn_t *c, uint16_t code, const char *reason)
{
    if (c->mode != EDGE_MODE_WS) {
        c->done = 1;
        return;
    }
    if (c->done || c->ws_closing)
        return;
    c->ws_closing = 1;
    wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, reason ? strlen(reason) : 0);
    if (!c->in_process)
        edge_ws_pump(c);
}
