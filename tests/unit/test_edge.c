/* Unit tests of the edge's sans-IO layers: HTTP parsing and limits, routing
 * and path traversal, the WebSocket handshake and frames, the rate limiter. */
#include <http_parser.h>
#include <stdlib.h>

#include "common/util.h"
#include "edge/conn.h"
#include "edge/rate.h"
#include "edge/route.h"
#include "proto/proto.h"
#include "tests/unit/vctest.h"

/* What a test conn saw. */
typedef struct {
    int requests;
    int method;
    char path[256];
    char host[64];
    char body[256];
    int upgrade;
    int accept_ws; /* accept upgrades */
    int respond;   /* answer 200 at once */
    int texts;
    char text[256];
    size_t text_len;
    int ws_error;
    int http_error;
} t_sink_t;

static void t_on_request(edge_conn_t *c, edge_http_req_t *req, void *ud)
{
    t_sink_t *s = ud;
    s->requests++;
    s->method = req->method;
    s->upgrade = req->upgrade;
    snprintf(s->path, sizeof(s->path), "%s", req->path);
    const char *h = edge_http_header(req, "host");
    snprintf(s->host, sizeof(s->host), "%s", h ? h : "");
    snprintf(s->body, sizeof(s->body), "%.*s", (int)req->body.len,
             req->body.data ? req->body.data : "");
    if (s->accept_ws && req->upgrade)
        edge_conn_accept_ws(c, req);
    else if (s->respond)
        edge_conn_respond(c, 200, "text/plain", "", "ok", 2, 0);
}

static void t_on_text(edge_conn_t *c, const char *msg, size_t len, void *ud)
{
    t_sink_t *s = ud;
    s->texts++;
    s->text_len = len;
    snprintf(s->text, sizeof(s->text), "%.*s", (int)(len < 200 ? len : 200), msg);
}

static void t_on_ws_error(edge_conn_t *c, int code, void *ud)
{
    ((t_sink_t *)ud)->ws_error = code;
}

static void t_on_http_error(edge_conn_t *c, int status, void *ud)
{
    ((t_sink_t *)ud)->http_error = status;
}

static const edge_conn_ops_t t_ops = {
    .on_request = t_on_request,
    .on_ws_text = t_on_text,
    .on_ws_error = t_on_ws_error,
    .on_http_error = t_on_http_error,
};

static void t_feed(edge_conn_t *c, const char *s)
{
    edge_conn_input(c, s, strlen(s));
}

/* True if the output starts with prefix. */
static int t_out_starts(edge_conn_t *c, const char *prefix)
{
    edge_buf_t *o = edge_conn_out(c);
    return o->len >= strlen(prefix) && memcmp(o->data, prefix, strlen(prefix)) == 0;
}

static void t_http_basic(void)
{
    t_sink_t s = {.respond = 1};
    edge_conn_t *c = edge_conn_new(&t_ops, &s);
    t_feed(c, "GET /assets/app.js?x=1 HTTP/1.1\r\nX-Empty:\r\nHost: a\r\n\r\n");
    VCT_CHECK_EQ_INT(s.requests, 1);
    VCT_CHECK_EQ_STR(s.path, "/assets/app.js");
    VCT_CHECK_EQ_STR(s.host, "a");
    VCT_CHECK(t_out_starts(c, "HTTP/1.1 200 OK\r\n"));
    VCT_CHECK(strstr(edge_conn_out(c)->data, "X-Content-Type-Options: nosniff") != NULL);
    VCT_CHECK(!edge_conn_done(c));
    edge_conn_free(c);
}

static void t_http_split_and_pipelined(void)
{
    t_sink_t s = {.respond = 0};
    edge_conn_t *c = edge_conn_new(&t_ops, &s);
    t_feed(c, "POST /api/rooms HTTP/1.1\r\nHo");
    t_feed(c, "st: a\r\nContent-Length: 2\r\n\r\n{}GET /healthz HTTP/1.1\r\n\r\n");
    VCT_CHECK_EQ_INT(s.requests, 1); /* the second waits for the first answer */
    VCT_CHECK_EQ_STR(s.body, "{}");
    VCT_CHECK(edge_conn_busy(c));
    s.respond = 1;
    edge_conn_respond(c, 201, "application/json", "", "{}", 2, 0);
    VCT_CHECK_EQ_INT(s.requests, 2);
    VCT_CHECK_EQ_STR(s.path, "/healthz");
    edge_conn_free(c);
}

static void t_http_errors(void)
{
    static const struct {
        const char *name, *in;
        int status;
    } cases[] = {
        {"garbage", "\x01\x02 nonsense\r\n\r\n", 400},
        {"bad version", "GET / HTTP/9.9x\r\n\r\n", 400},
        {"big body", "POST /api/rooms HTTP/1.1\r\nContent-Length: 70000\r\n\r\n", 413},
        {"bad length", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
        {"nul in header", "GET / HTTP/1.1\r\nA: \0b\r\n\r\n", 400},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        t_sink_t s = {.respond = 1};
        edge_conn_t *c = edge_conn_new(&t_ops, &s);
        size_t len = strlen(cases[i].in);
        if (strcmp(cases[i].name, "nul in header") == 0)
            len = 25;
        edge_conn_input(c, cases[i].in, len);
        if (s.http_error != cases[i].status)
            fprintf(stderr, "  case %s\n", cases[i].name);
        VCT_CHECK_EQ_INT(s.http_error, cases[i].status);
        VCT_CHECK(edge_conn_done(c));
        VCT_CHECK(edge_conn_out(c)->data && strstr(edge_conn_out(c)->data, "\"error\"") != NULL);
        edge_conn_free(c);
    }
}

static void t_http_header_limit(void)
{
    t_sink_t s = {.respond = 1};
    edge_conn_t *c = edge_conn_new(&t_ops, &s);
    t_feed(c, "GET / HTTP/1.1\r\n");
    char line[1100];
    memset(line, 'a', sizeof(line));
    memcpy(line, "X-Pad: ", 7);
    memcpy(line + sizeof(line) - 2, "\r\n", 2);
    for (int i = 0; i < 20 && !edge_conn_done(c); i++)
        edge_conn_input(c, line, sizeof(line));
    VCT_CHECK_EQ_INT(s.http_error, 431);
    VCT_CHECK(t_out_starts(c, "HTTP/1.1 431"));
    VCT_CHECK_EQ_INT(s.requests, 0);
    edge_conn_free(c);
    /* many small headers */
    t_sink_t s2 = {.respond = 1};
    c = edge_conn_new(&t_ops, &s2);
    t_feed(c, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++)
        t_feed(c, "A: b\r\n");
    VCT_CHECK_EQ_INT(s2.http_error, 431);
    VCT_CHECK(t_out_starts(c, "HTTP/1.1 431"));
    edge_conn_free(c);
    /* many small headers arriving in one read */
    t_sink_t s3 = {.respond = 1};
    c = edge_conn_new(&t_ops, &s3);
    char req[4096];
    int n = snprintf(req, sizeof(req), "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 200; i++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "X-H%d: v\r\n", i);
    n += snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
    edge_conn_input(c, req, (size_t)n);
    VCT_CHECK_EQ_INT(s3.http_error, 431);
    VCT_CHECK(t_out_starts(c, "HTTP/1.1 431"));
    VCT_CHECK(edge_conn_done(c));
    edge_conn_free(c);
}

static void t_http_chunked_limit(void)
{
    t_sink_t s = {.respond = 1};
    edge_conn_t *c = edge_conn_new(&t_ops, &s);
    t_feed(c, "POST /api/rooms HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 40 && !edge_conn_done(c); i++)
        t_feed(c, "800\r\n"); /* 2 KiB chunk header, then the data */
    edge_conn_free(c);
    c = edge_conn_new(&t_ops, &s);
    memset(&s, 0, sizeof(s));
    s.respond = 1;
    t_feed(c, "POST /api/rooms HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    static char chunk[8192 + 8];
    memcpy(chunk, "2000\r\n", 6);
    memset(chunk + 6, 'x', 8192);
    memcpy(chunk + 6 + 8192, "\r\n", 2);
    for (int i = 0; i < 10 && !edge_conn_done(c); i++)
        edge_conn_input(c, chunk, sizeof(chunk));
    VCT_CHECK_EQ_INT(s.http_error, 413);
    edge_conn_free(c);
}

static void t_http_keepalive_close(void)
{
    t_sink_t s = {.respond = 1};
    edge_conn_t *c = edge_conn_new(&t_ops, &s);
    t_feed(c, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    VCT_CHECK(edge_conn_done(c));
    VCT_CHECK(strstr(edge_conn_out(c)->data, "Connection: close") != NULL);
    edge_conn_free(c);
    c = edge_conn_new(&t_ops, &s);
    t_feed(c, "GET / HTTP/1.0\r\n\r\n");
    VCT_CHECK(edge_conn_done(c));
    edge_conn_free(c);
}

static void t_routes(void)
{
    static const struct {
        int method;
        const char *path;
        edge_route_kind_t kind;
        const char *arg;
    } cases[] = {
        {HTTP_GET, "/", EDGE_ROUTE_INDEX, ""},
        {HTTP_HEAD, "/", EDGE_ROUTE_INDEX, ""},
        {HTTP_GET, "/r/abc-defg-hij", EDGE_ROUTE_INDEX, "abc-defg-hij"},
        {HTTP_GET, "/r/abc-defg-hij/", EDGE_ROUTE_INDEX, "abc-defg-hij"},
        {HTTP_GET, "/r//", EDGE_ROUTE_NOT_FOUND, ""},
        {HTTP_GET, "/r/a b", EDGE_ROUTE_NOT_FOUND, ""},
        {HTTP_GET, "/r/", EDGE_ROUTE_NOT_FOUND, ""},
        {HTTP_GET, "/assets/index-1a2b.js", EDGE_ROUTE_ASSET, "index-1a2b.js"},
        {HTTP_GET, "/assets/fonts/x.woff2", EDGE_ROUTE_ASSET, "fonts/x.woff2"},
        {HTTP_GET, "/assets/../etc/passwd", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/assets/%2e%2e/x", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/assets/.%2e/x", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/assets/a%00.js", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/assets/.hidden", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/assets//etc/passwd", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/assets/a\\..\\b", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/r/../../etc", EDGE_ROUTE_BAD_PATH, ""},
        {HTTP_GET, "/healthz", EDGE_ROUTE_HEALTHZ, ""},
        {HTTP_GET, "/metrics", EDGE_ROUTE_METRICS, ""},
        {HTTP_POST, "/api/rooms", EDGE_ROUTE_ROOM_CREATE, ""},
        {HTTP_GET, "/api/rooms", EDGE_ROUTE_BAD_METHOD, ""},
        {HTTP_GET, "/api/rooms/abc", EDGE_ROUTE_ROOM_GET, "abc"},
        {HTTP_POST, "/api/rooms/abc", EDGE_ROUTE_BAD_METHOD, "abc"},
        {HTTP_GET, "/ws", EDGE_ROUTE_WS, ""},
        {HTTP_POST, "/ws", EDGE_ROUTE_BAD_METHOD, ""},
        {HTTP_GET, "/nope", EDGE_ROUTE_NOT_FOUND, ""},
        {HTTP_GET, "*", EDGE_ROUTE_NOT_FOUND, ""},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        edge_route_t r;
        edge_route(cases[i].method, cases[i].path, &r);
        if ((int)r.kind != (int)cases[i].kind)
            fprintf(stderr, "  case %s\n", cases[i].path);
        VCT_CHECK_EQ_INT(r.kind, cases[i].kind);
        VCT_CHECK_EQ_STR(r.arg, cases[i].arg);
    }
}

static void t_content_types(void)
{
    VCT_CHECK_EQ_STR(edge_content_type("a.js"), "text/javascript; charset=utf-8");
    VCT_CHECK_EQ_STR(edge_content_type("a.css"), "text/css; charset=utf-8");
    VCT_CHECK_EQ_STR(edge_content_type("a.svg"), "image/svg+xml");
    VCT_CHECK_EQ_STR(edge_content_type("a.png"), "image/png");
    VCT_CHECK_EQ_STR(edge_content_type("a.ico"), "image/x-icon");
    VCT_CHECK_EQ_STR(edge_content_type("a.woff2"), "font/woff2");
    VCT_CHECK_EQ_STR(edge_content_type("a.html"), "text/html; charset=utf-8");
    VCT_CHECK_EQ_STR(edge_content_type("a.js.map"), "application/json");
    VCT_CHECK(edge_content_type("a.exe") == NULL);
    VCT_CHECK(edge_content_type("noext") == NULL);
}

static void t_ws_accept_key(void)
{
    char out[29];
    edge_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out); /* RFC 6455 1.3 */
    VCT_CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#define T_UPGRADE_FMT                                                                              \
    "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: %s\r\nConnection: %s\r\n"                             \
    "Sec-WebSocket-Version: %s\r\nSec-WebSocket-Key: %s\r\n\r\n"

/* Sends an upgrade request to a fresh conn that accepts WebSockets. */
static edge_conn_t *t_ws_open(t_sink_t *s, const char *upg, const char *conn, const char *ver,
                              const char *key)
{
    char req[512];
    snprintf(req, sizeof(req), T_UPGRADE_FMT, upg, conn, ver, key);
    s->accept_ws = 1;
    edge_conn_t *c = edge_conn_new(&t_ops, s);
    t_feed(c, req);
    return c;
}

static void t_ws_upgrade(void)
{
    static const struct {
        const char *upg, *conn, *ver, *key;
        int ok;
    } cases[] = {
        {"websocket", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", 1},
        {"WebSocket", "keep-alive, Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", 1},
        {"websocket", "Upgrade", "8", "dGhlIHNhbXBsZSBub25jZQ==", 0},
        {"h2c", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==", 0},
        {"websocket", "Upgrade", "13", "short", 0},
        {"websocket", "Upgrade", "13", "!!!!!!!!!!!!!!!!!!!!!!==", 0},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        t_sink_t s = {0};
        edge_conn_t *c = t_ws_open(&s, cases[i].upg, cases[i].conn, cases[i].ver, cases[i].key);
        VCT_CHECK_EQ_INT(edge_conn_is_ws(c), cases[i].ok);
        if (cases[i].ok)
            VCT_CHECK(strstr(edge_conn_out(c)->data,
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != NULL);
        else
            VCT_CHECK(t_out_starts(c, "HTTP/1.1 400"));
        edge_conn_free(c);
    }
}

/* Writes a masked client frame into out; returns its length. */
static size_t t_frame(unsigned char *out, int fin, int opcode, const void *payload, size_t len)
{
    static const unsigned char mask[4] = {1, 2, 3, 4};
    size_t n = 0;
    out[n++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        out[n++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        out[n++] = 0x80 | 126;
        out[n++] = (unsigned char)(len >> 8);
        out[n++] = (unsigned char)len;
    } else {
        out[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(out + n, mask, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        out[n + i] = ((const unsigned char *)payload)[i] ^ mask[i % 4];
    return n + len;
}

/* An open WebSocket conn with its handshake output discarded. */
static edge_conn_t *t_ws_ready(t_sink_t *s)
{
    edge_conn_t *c = t_ws_open(s, "websocket", "Upgrade", "13", "dGhlIHNhbXBsZSBub25jZQ==");
    edge_buf_consume(edge_conn_out(c), edge_conn_out(c)->len);
    return c;
}

/* The close code in a server close frame at the start of the output. */
static int t_close_code(edge_conn_t *c)
{
    edge_buf_t *o = edge_conn_out(c);
    if (o->len < 4 || (unsigned char)o->data[0] != 0x88)
        return -1;
    return ((unsigned char)o->data[2] << 8) | (unsigned char)o->data[3];
}

static void t_ws_text_message(void)
{
    t_sink_t s = {0};
    edge_conn_t *c = t_ws_ready(&s);
    unsigned char f[256];
    const char *msg = "{\"type\":\"ping\",\"id\":1}";
    size_t n = t_frame(f, 1, 1, msg, strlen(msg));
    edge_conn_input(c, f, 3); /* split frame */
    VCT_CHECK_EQ_INT(s.texts, 0);
    edge_conn_input(c, f + 3, n - 3);
    VCT_CHECK_EQ_INT(s.texts, 1);
    VCT_CHECK_EQ_STR(s.text, msg);
    json_t *j = NULL;
    const char *type = NULL;
    char err[128];
    VCT_CHECK_EQ_INT(vc_proto_parse(VC_CH_CLIENT, s.text, s.text_len, &j, &type, err, sizeof(err)),
                     VC_OK);
    VCT_CHECK_EQ_STR(type, "ping");
    json_decref(j);
    /* fragmented: "ab" + "cd" */
    n = t_frame(f, 0, 1, "ab", 2);
    n += t_frame(f + n, 1, 0, "cd", 2);
    edge_conn_input(c, f, n);
    VCT_CHECK_EQ_INT(s.texts, 2);
    VCT_CHECK_EQ_STR(s.text, "abcd");
    /* a reply */
    edge_conn_ws_send_text(c, "hi", 2);
    edge_buf_t *o = edge_conn_out(c);
    VCT_CHECK(o->len == 4 && (unsigned char)o->data[0] == 0x81 && o->data[1] == 2);
    VCT_CHECK(!edge_conn_done(c));
    edge_conn_free(c);
}

static void t_ws_ping_pong(void)
{
    t_sink_t s = {0};
    edge_conn_t *c = t_ws_ready(&s);
    unsigned char f[64];
    size_t n = t_frame(f, 1, 9, "x", 1);
    edge_conn_input(c, f, n);
    edge_buf_t *o = edge_conn_out(c);
    VCT_CHECK(o->len == 3 && (unsigned char)o->data[0] == 0x8a);
    edge_conn_free(c);
}

static void t_ws_closes(void)
{
    static const struct {
        const char *name;
        int opcode;
        const char *payload;
        size_t len;
        int code;
    } cases[] = {
        {"binary", 2, "\x01\x02", 2, 1003},        {"bad utf8", 1, "\xc3\x28", 2, 1007},
        {"overlong utf8", 1, "\xc0\xaf", 2, 1007}, {"bad opcode", 3, "", 0, 1002},
        {"close", 8, "\x03\xe8", 2, 1000},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        t_sink_t s = {0};
        edge_conn_t *c = t_ws_ready(&s);
        unsigned char f[64];
        size_t n = t_frame(f, 1, cases[i].opcode, cases[i].payload, cases[i].len);
        edge_conn_input(c, f, n);
        if (t_close_code(c) != cases[i].code)
            fprintf(stderr, "  case %s\n", cases[i].name);
        VCT_CHECK_EQ_INT(t_close_code(c), cases[i].code);
        VCT_CHECK(edge_conn_done(c));
        VCT_CHECK_EQ_INT(s.texts, 0);
        edge_conn_free(c);
    }
}

static void t_ws_unmasked(void)
{
    t_sink_t s = {0};
    edge_conn_t *c = t_ws_ready(&s);
    edge_conn_input(c, "\x81\x02hi", 4); /* RFC 6455 5.1: clients must mask */
    VCT_CHECK_EQ_INT(t_close_code(c), 1002);
    VCT_CHECK_EQ_INT(s.texts, 0);
    edge_conn_free(c);
}

static void t_ws_too_large(void)
{
    t_sink_t s = {0};
    edge_conn_t *c = t_ws_ready(&s);
    size_t len = EDGE_MAX_WS_MSG + 1;
    char *big = malloc(len);
    memset(big, 'a', len);
    unsigned char *f = malloc(len + 16);
    size_t n = t_frame(f, 1, 1, big, len);
    edge_conn_input(c, f, n);
    VCT_CHECK_EQ_INT(t_close_code(c), 1009);
    VCT_CHECK_EQ_INT(s.texts, 0);
    VCT_CHECK(edge_conn_done(c));
    edge_conn_free(c);
    free(big);
    free(f);
}

static void t_ws_server_close(void)
{
    t_sink_t s = {0};
    edge_conn_t *c = t_ws_ready(&s);
    edge_conn_ws_close(c, 1001, "going away");
    VCT_CHECK_EQ_INT(t_close_code(c), 1001);
    VCT_CHECK(edge_conn_done(c));
    edge_conn_free(c);
}

static void t_rate(void)
{
    edge_rate_t r;
    edge_rate_init(&r, 50, 100, 1000);
    int ok = 0;
    for (int i = 0; i < 150; i++)
        ok += edge_rate_take(&r, 1000);
    VCT_CHECK_EQ_INT(ok, 100); /* the burst */
    VCT_CHECK_EQ_INT(edge_rate_take(&r, 1010), 0);
    VCT_CHECK_EQ_INT(edge_rate_take(&r, 1020), 1); /* 20 ms = one token at 50/s */
    /* sustained: 10 s at 100/s lets about 500 through */
    edge_rate_init(&r, 50, 100, 2000);
    for (int i = 0; i < 100; i++)
        edge_rate_take(&r, 2000);
    ok = 0;
    for (int i = 1; i <= 1000; i++)
        ok += edge_rate_take(&r, 2000 + (uint64_t)i * 10);
    VCT_CHECK(ok >= 495 && ok <= 505);
    /* the bucket never holds more than the burst */
    ok = 0;
    for (int i = 0; i < 300; i++)
        ok += edge_rate_take(&r, 1000000);
    VCT_CHECK_EQ_INT(ok, 100);
}

static const vct_case_t cases[] = {
    {"http_basic", t_http_basic},
    {"http_split_and_pipelined", t_http_split_and_pipelined},
    {"http_errors", t_http_errors},
    {"http_header_limit", t_http_header_limit},
    {"http_chunked_limit", t_http_chunked_limit},
    {"http_keepalive_close", t_http_keepalive_close},
    {"routes", t_routes},
    {"content_types", t_content_types},
    {"ws_accept_key", t_ws_accept_key},
    {"ws_upgrade", t_ws_upgrade},
    {"ws_text_message", t_ws_text_message},
    {"ws_ping_pong", t_ws_ping_pong},
    {"ws_closes", t_ws_closes},
    {"ws_unmasked", t_ws_unmasked},
    {"ws_too_large", t_ws_too_large},
    {"ws_server_close", t_ws_server_close},
    {"rate", t_rate},
};

VCT_MAIN("edge", cases)
