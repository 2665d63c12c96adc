/* api: the HTTP handlers: the UI bundle, /healthz, /metrics, the rooms API
 * (answered after a router round trip) and the WebSocket upgrade. */
#include <errno.h>
#include <fcntl.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "edge/edge.h"
#include "edge/jwt.h"
#include "edge/route.h"

#define EDGE_MAX_FILE (32 * 1024 * 1024)

/* Sends a response and counts it. */
static void edge_api_respond(edge_client_t *cl, int status, const char *ctype, const char *extra,
                             const void *body, size_t len)
{
    edge_metrics_http(cl->e, status);
    edge_conn_respond(cl->conn, status, ctype, extra, body, len, 0);
}

/* Sends the API's JSON error shape and counts it. */
static void edge_api_error(edge_client_t *cl, int status, vc_err_t code, const char *message)
{
    edge_metrics_http(cl->e, status);
    edge_metrics_error(cl->e, code);
    edge_conn_respond_error(cl->conn, status, code, message);
}

/* Sends a JSON object (borrowed) with Cache-Control: no-store. */
static void edge_api_json(edge_client_t *cl, int status, const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    edge_api_respond(cl, status, "application/json", "Cache-Control: no-store\r\n", s, strlen(s));
    free(s);
}

/* HTTP status for a proto error code. */
static int edge_api_status(vc_err_t code)
{
    switch (code) {
    case VC_ERR_UNAVAILABLE:
    case VC_ERR_NO_WORKER:
        return 503;
    case VC_ERR_TIMEOUT:
        return 504;
    case VC_ERR_INTERNAL:
        return 500;
    default:
        break;
    }
    if (code >= 1000 && code < 2000)
        return 400;
    if (code >= 2000 && code < 3000)
        return 404;
    if (code >= 3000 && code < 4000)
        return 403;
    return 500;
}

/* Serves one file below ui_dir, with an ETag from size and mtime. */
static void edge_api_file(edge_client_t *cl, edge_http_req_t *req, const char *rel,
                          const char *ctype, const char *cache)
{
    char path[1024], etag[64], extra[256];
    char *data = NULL;
    snprintf(path, sizeof(path), "%s/%s", cl->e->ui_dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > EDGE_MAX_FILE) {
        edge_api_error(cl, 404, VC_ERR_BAD_HTTP, "no such file");
        goto out;
    }
    snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtime);
    snprintf(extra, sizeof(extra), "Cache-Control: %s\r\nETag: %s\r\n", cache, etag);
    const char *inm = edge_http_header(req, "If-None-Match");
    if (inm != NULL && strcmp(inm, etag) == 0) {
        edge_metrics_http(cl->e, 304);
        edge_conn_respond(cl->conn, 304, ctype, extra, "", 0, 0);
        goto out;
    }
    data = vc_malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, data + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    edge_api_respond(cl, 200, ctype, extra, data, got);
out:
    free(data);
    if (fd >= 0)
        close(fd);
}

/* POST /api/rooms answered: signs the host credential and answers 201. */
static void edge_api_created(edge_t *e, edge_client_t *cl, vc_err_t rc, const json_t *reply,
                             const char *errmsg, void *arg)
{
    if (cl == NULL)
        return;
    if (rc != VC_OK) {
        edge_api_error(cl, edge_api_status(rc), rc, errmsg);
        goto out;
    }
    const char *room = json_string_value(json_object_get(reply, "room"));
    int lobby = json_is_true(json_object_get(reply, "lobby"));
    char *jwt = edge_jwt_sign(e->jwt_secret, room, (int64_t)time(NULL), EDGE_JWT_TTL_S);
    if (jwt == NULL) {
        edge_api_error(cl, 500, VC_ERR_INTERNAL, "cannot sign the host credential");
        goto out;
    }
    const char *base = e->public_url ? e->public_url : "";
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    char url[512];
    snprintf(url, sizeof(url), "%.*s/r/%s", (int)bl, base, room);
    json_t *j = json_pack("{s:s, s:s, s:s++, s:b}", "room", room, "url", url, "host_url", url,
                          "#host=", jwt, "lobby", lobby);
    free(jwt);
    edge_api_json(cl, 201, j);
    json_decref(j);
out:
    edge_client_pump(cl);
}

/* GET /api/rooms/<room> answered. */
static void edge_api_got(edge_t *e, edge_client_t *cl, vc_err_t rc, const json_t *reply,
                         const char *errmsg, void *arg)
{
    if (cl == NULL)
        return;
    if (rc != VC_OK) {
        edge_api_error(cl, edge_api_status(rc), rc, errmsg);
    } else {
        json_t *j = json_pack("{s:O, s:O}", "room", json_object_get(reply, "room"), "lobby",
                              json_object_get(reply, "lobby"));
        edge_api_json(cl, 200, j);
        json_decref(j);
    }
    edge_client_pump(cl);
}

/* POST /api/rooms: the body is {} or {"lobby": bool}; empty means {}. */
static void edge_api_room_create(edge_client_t *cl, edge_http_req_t *req)
{
    json_t *body = NULL;
    if (req->body.len > 0) {
        json_error_t je;
        body = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &je);
        if (body == NULL || !json_is_object(body)) {
            json_decref(body);
            edge_api_error(cl, 400, VC_ERR_BAD_JSON, "the body must be a JSON object");
            return;
        }
    }
    json_t *lobby = json_object_get(body, "lobby");
    if (lobby != NULL && !json_is_boolean(lobby)) {
        json_decref(body);
        edge_api_error(cl, 400, VC_ERR_BAD_MESSAGE, "field 'lobby' must be a boolean");
        return;
    }
    json_t *m = vc_proto_msg("room_create");
    json_object_set_new(m, "region", json_string(cl->e->region));
    if (lobby != NULL)
        json_object_set(m, "lobby", lobby);
    json_decref(body);
    edge_router_request(cl->e, cl, m, edge_api_created, NULL);
}

/* GET /healthz. */
static void edge_api_healthz(edge_client_t *cl)
{
    json_t *j = json_pack("{s:s, s:s}", "status", "ok", "id", cl->e->id);
    edge_api_json(cl, 200, j);
    json_decref(j);
}

/* GET /metrics (Prometheus text format 0.0.4). */
static void edge_api_metrics(edge_client_t *cl)
{
    edge_metrics_http(cl->e, 200);
    char *s = edge_metrics_render(cl->e);
    edge_conn_respond(cl->conn, 200, "text/plain; version=0.0.4; charset=utf-8",
                      "Cache-Control: no-store\r\n", s, strlen(s), 0);
    free(s);
}

/* on_request: dispatches by route. */
void edge_api_request(edge_conn_t *c, edge_http_req_t *req, void *ud)
{
    edge_client_t *cl = ud;
    edge_route_t r;
    edge_route(req->method, req->path, &r);
    if (req->upgrade && r.kind != EDGE_ROUTE_WS) {
        edge_api_error(cl, 400, VC_ERR_BAD_HTTP, "upgrade is only possible on /ws");
        return;
    }
    switch (r.kind) {
    case EDGE_ROUTE_NOT_FOUND:
        edge_api_error(cl, 404, VC_ERR_BAD_HTTP, "no such path");
        break;
    case EDGE_ROUTE_BAD_PATH:
        edge_api_error(cl, 400, VC_ERR_BAD_HTTP, "invalid path");
        break;
    case EDGE_ROUTE_BAD_METHOD: {
        char allow[64];
        snprintf(allow, sizeof(allow), "Allow: %s\r\nCache-Control: no-store\r\n", r.allow);
        edge_metrics_http(cl->e, 405);
        edge_metrics_error(cl->e, VC_ERR_BAD_HTTP);
        const char *b = "{\"error\":{\"code\":1020,\"name\":\"bad_http\","
                        "\"message\":\"method not allowed\"}}";
        edge_conn_respond(cl->conn, 405, "application/json", allow, b, strlen(b), 0);
        break;
    }
    case EDGE_ROUTE_INDEX:
        edge_api_file(cl, req, "index.html", "text/html; charset=utf-8", "no-store");
        break;
    case EDGE_ROUTE_ASSET: {
        char rel[300];
        snprintf(rel, sizeof(rel), "assets/%s", r.arg);
        const char *ct = edge_content_type(r.arg);
        if (ct == NULL)
            edge_api_error(cl, 404, VC_ERR_BAD_HTTP, "no such file");
        else
            edge_api_file(cl, req, rel, ct, "no-cache");
        break;
    }
    case EDGE_ROUTE_HEALTHZ:
        edge_api_healthz(cl);
        break;
    case EDGE_ROUTE_METRICS:
        edge_api_metrics(cl);
        break;
    case EDGE_ROUTE_ROOM_CREATE:
        edge_api_room_create(cl, req);
        break;
    case EDGE_ROUTE_ROOM_GET: {
        json_t *m = vc_proto_msg("room_get");
        json_object_set_new(m, "room", json_string(r.arg));
        edge_router_request(cl->e, cl, m, edge_api_got, NULL);
        break;
    }
    case EDGE_ROUTE_WS:
        if (cl->e->stopping) {
            edge_api_error(cl, 503, VC_ERR_UNAVAILABLE, "shutting down");
        } else if (edge_conn_accept_ws(c, req) == 0) {
            edge_metrics_http(cl->e, 101);
            edge_rate_init(&cl->rate, EDGE_RATE_PER_S, EDGE_RATE_BURST, vc_now_ms());
        } else {
            edge_metrics_http(cl->e, 400);
            edge_metrics_error(cl->e, VC_ERR_BAD_WEBSOCKET);
        }
        break;
    }
}
