/* lg_ws: a minimal WebSocket client for the load generator (RFC 6455 client
 * framing by wslay, the HTTP upgrade done by hand, blocking for the short
 * handshake) and a one-shot HTTP POST. Test tool only: no TLS, no proxies. */
#include "tools/loadgen/lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <wslay/wslay.h>

#include "common/util.h"
#include "media-worker/shell/shard.h"

struct lg_ws {
    int fd;
    wslay_event_context_ptr ev;
    GSource *src;
    mw_shard_t *shard; /* src's, NULL: src is on ctx */
    lg_ws_on_msg cb;
    void *user;
    int closed;
};

/* Blocking TCP connect to host:port (numeric or resolvable). -1 on failure. */
static int lg_tcp_connect(const char *host, int port)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char ps[16];
    int fd = -1;

    snprintf(ps, sizeof(ps), "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0)
        return -1;
    fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* Writes all of buf (blocking socket). */
static int lg_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads an HTTP response head (up to CRLFCRLF) into buf; returns the head
 * length (bytes after it stay in buf, count in *extra) or -1. */
static ssize_t lg_read_head(int fd, char *buf, size_t cap, size_t *total)
{
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        char *e = strstr(buf, "\r\n\r\n");
        if (e) {
            *total = n;
            return e + 4 - buf;
        }
    }
    return -1;
}

char *lg_http_post(const char *host, int port, const char *path, const char *body, int *status)
{
    int fd = lg_tcp_connect(host, port);
    char *req, buf[16384];
    size_t total = 0;
    if (fd < 0)
        return NULL;
    req = g_strdup_printf("POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          path, host, port, strlen(body), body);
    int ok = lg_write_all(fd, req, strlen(req)) == 0;
    g_free(req);
    ssize_t head = ok ? lg_read_head(fd, buf, sizeof(buf), &total) : -1;
    if (head < 0) {
        close(fd);
        return NULL;
    }
    /* Read the rest until the server closes. */
    while (total + 1 < sizeof(buf)) {
        ssize_t r = recv(fd, buf + total, sizeof(buf) - 1 - total, 0);
        if (r <= 0)
            break;
        total += (size_t)r;
    }
    buf[total] = '\0';
    close(fd);
    if (sscanf(buf, "HTTP/1.%*d %d", status) != 1)
        return NULL;
    return g_strdup(buf + head);
}

/* wslay: read what is there without blocking. */
static ssize_t lg_ws_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                             void *user)
{
    lg_ws_t *ws = user;
    ssize_t n;
    do
        n = recv(ws->fd, buf, len, MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        wslay_event_set_error(ctx, errno == EAGAIN || errno == EWOULDBLOCK
                                       ? WSLAY_ERR_WOULDBLOCK
                                       : WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    /* Diagnosis only (a browser does not do this): no delayed ACKs, to
     * show what the server's Nagle + our delayed ACK cost per message. */
    static int quickack = -1;
    if (quickack < 0)
        quickack = getenv("LG_QUICKACK") != NULL;
    if (quickack) {
        int one = 1;
        setsockopt(ws->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
    }
    return n;
}

/* wslay: the socket stays blocking for writes (messages are small and the
 * peer is local), which keeps this client free of write watches. */
static ssize_t lg_ws_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                             int flags, void *user)
{
    lg_ws_t *ws = user;
    if (lg_write_all(ws->fd, data, len) < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static int lg_ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
    vc_random_bytes(buf, len);
    return 0;
}

static void lg_ws_on_msg_cb(wslay_event_context_ptr ctx,
                            const struct wslay_event_on_msg_recv_arg *arg, void *user)
{
    lg_ws_t *ws = user;
    if (arg->opcode != WSLAY_TEXT_FRAME)
        return;
    char *s = g_strndup((const char *)arg->msg, arg->msg_length);
    ws->cb(ws, s, arg->msg_length, ws->user);
    g_free(s);
}

/* fd readable: let wslay read and dispatch; report a close once. */
static gboolean lg_ws_on_io(gint fd, GIOCondition cond, gpointer data)
{
    lg_ws_t *ws = data;
    if (ws->closed)
        return G_SOURCE_CONTINUE;
    /* wslay queues the pong to a ping (and a close reply) but sends only
     * when asked: without this the server's keepalive times us out. */
    if (wslay_event_recv(ws->ev) != 0 ||
        (wslay_event_want_write(ws->ev) && wslay_event_send(ws->ev) != 0) ||
        !wslay_event_want_read(ws->ev) || (cond & (G_IO_HUP | G_IO_ERR))) {
        ws->closed = 1;
        ws->cb(ws, NULL, 0, ws->user);
    }
    return G_SOURCE_CONTINUE;
}

/* The connections' sources, spread over child contexts (shard.h): with one
 * source per participant on the generator's context, GLib walked about a
 * thousand idle WebSockets on each of its 4000 media ticks a second (42 %
 * of the generator's core at 1100 subscribers). */
#define LG_WS_SHARDS 16
static mw_shard_t *lg_ws_shards[LG_WS_SHARDS];
static unsigned lg_ws_next;

void lg_ws_stop(void)
{
    for (size_t i = 0; i < LG_WS_SHARDS; i++) {
        mw_shard_free(lg_ws_shards[i]);
        lg_ws_shards[i] = NULL;
    }
}

lg_ws_t *lg_ws_open(GMainContext *ctx, const char *host, int port, const char *path,
                    lg_ws_on_msg cb, void *user)
{
    return lg_ws_open_proto(ctx, host, port, path, NULL, cb, user);
}

lg_ws_t *lg_ws_open_proto(GMainContext *ctx, const char *host, int port, const char *path,
                          const char *proto, lg_ws_on_msg cb, void *user)
{
    static const struct wslay_event_callbacks cbs = {
        .recv_callback = lg_ws_recv_cb,
        .send_callback = lg_ws_send_cb,
        .genmask_callback = lg_ws_genmask_cb,
        .on_msg_recv_callback = lg_ws_on_msg_cb,
    };
    uint8_t key[16];
    char buf[4096];
    size_t total = 0;
    int fd = lg_tcp_connect(host, port);
    if (fd < 0)
        return NULL;
    vc_random_bytes(key, sizeof(key));
    gchar *k64 = g_base64_encode(key, sizeof(key));
    char *req = g_strdup_printf("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                                "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                                path, host, port, k64, proto ? "Sec-WebSocket-Protocol: " : "",
                                proto ? proto : "", proto ? "\r\n" : "");
    int ok = lg_write_all(fd, req, strlen(req)) == 0;
    g_free(req);
    g_free(k64);
    ssize_t head = ok ? lg_read_head(fd, buf, sizeof(buf), &total) : -1;
    if (head < 0 || strncmp(buf, "HTTP/1.1 101", 12) != 0 || (size_t)head != total) {
        close(fd);
        return NULL;
    }
    lg_ws_t *ws = vc_calloc(1, sizeof(*ws));
    ws->fd = fd;
    ws->cb = cb;
    ws->user = user;
    wslay_event_context_client_init(&ws->ev, &cbs, ws);
    ws->src = g_unix_fd_source_new(fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(ws->src, (GSourceFunc)(void (*)(void))lg_ws_on_io, ws, NULL);
    ws->shard = mw_shard_pick(lg_ws_shards, LG_WS_SHARDS, &lg_ws_next, ctx);
    g_source_attach(ws->src, ws->shard ? mw_shard_context(ws->shard) : ctx);
    mw_shard_changed(ws->shard);
    return ws;
}

int lg_ws_send(lg_ws_t *ws, const char *msg, size_t len)
{
    struct wslay_event_msg m = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)msg, .msg_length = len};
    if (ws->closed || wslay_event_queue_msg(ws->ev, &m) != 0 || wslay_event_send(ws->ev) != 0)
        return -1;
    return 0;
}

void lg_ws_free(lg_ws_t *ws)
{
    if (!ws)
        return;
    if (ws->src) {
        g_source_destroy(ws->src);
        g_source_unref(ws->src);
        mw_shard_changed(ws->shard);
    }
    wslay_event_context_free(ws->ev);
    close(ws->fd);
    free(ws);
}
