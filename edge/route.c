#include "edge/route.h"

#include <http_parser.h>
#include <stdio.h>
#include <string.h>

#include "proto/proto.h"

int edge_asset_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > 200)
        return 0;
    int seg_start = 1;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == '/') {
            if (seg_start)
                return 0; /* empty segment or leading '/' */
            seg_start = 1;
            continue;
        }
        if (seg_start && c == '.')
            return 0; /* "..", ".hidden" */
        seg_start = 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '~'))
            return 0; /* includes '%' (encoded dots and NULs), '\\' */
    }
    return !seg_start;
}

const char *edge_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".html", "text/html; charset=utf-8"},
        {".map", "application/json"},
        {".json", "application/json"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return NULL;
}

/* Checks the method against what a route allows. */
static void edge_route_set(edge_route_t *out, edge_route_kind_t kind, int method, int want,
                           const char *allow)
{
    int ok = method == want || (want == HTTP_GET && method == HTTP_HEAD && kind != EDGE_ROUTE_WS);
    out->kind = ok ? kind : EDGE_ROUTE_BAD_METHOD;
    out->allow = allow;
}

void edge_route(int method, const char *path, edge_route_t *out)
{
    out->kind = EDGE_ROUTE_NOT_FOUND;
    out->allow = NULL;
    out->arg[0] = '\0';
    if (path == NULL || path[0] != '/')
        return;
    if (strstr(path, "..") != NULL || strchr(path, '%') != NULL || strchr(path, '\\') != NULL) {
        out->kind = EDGE_ROUTE_BAD_PATH;
        return;
    }
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        edge_route_set(out, EDGE_ROUTE_INDEX, method, HTTP_GET, "GET, HEAD");
    } else if (strncmp(path, "/r/", 3) == 0) {
        /* "/r/<room>/" is the same page: links get pasted with a slash. */
        snprintf(out->arg, sizeof(out->arg), "%s", path + 3);
        size_t n = strlen(out->arg);
        if (n > 0 && out->arg[n - 1] == '/')
            out->arg[n - 1] = '\0';
        if (!vc_proto_id_ok(out->arg)) {
            out->arg[0] = '\0';
            return;
        }
        edge_route_set(out, EDGE_ROUTE_INDEX, method, HTTP_GET, "GET, HEAD");
    } else if (strncmp(path, "/assets/", 8) == 0) {
        if (!edge_asset_name_ok(path + 8)) {
            out->kind = EDGE_ROUTE_BAD_PATH;
            return;
        }
        snprintf(out->arg, sizeof(out->arg), "%s", path + 8);
        edge_route_set(out, EDGE_ROUTE_ASSET, method, HTTP_GET, "GET, HEAD");
    } else if (strcmp(path, "/healthz") == 0) {
        edge_route_set(out, EDGE_ROUTE_HEALTHZ, method, HTTP_GET, "GET, HEAD");
    } else if (strcmp(path, "/metrics") == 0) {
        edge_route_set(out, EDGE_ROUTE_METRICS, method, HTTP_GET, "GET, HEAD");
    } else if (strcmp(path, "/api/rooms") == 0 || strcmp(path, "/api/rooms/") == 0) {
        edge_route_set(out, EDGE_ROUTE_ROOM_CREATE, method, HTTP_POST, "POST");
    } else if (strncmp(path, "/api/rooms/", 11) == 0) {
        if (!vc_proto_id_ok(path + 11))
            return;
        snprintf(out->arg, sizeof(out->arg), "%s", path + 11);
        edge_route_set(out, EDGE_ROUTE_ROOM_GET, method, HTTP_GET, "GET, HEAD");
    } else if (strcmp(path, "/ws") == 0) {
        edge_route_set(out, EDGE_ROUTE_WS, method, HTTP_GET, "GET");
    }
}
