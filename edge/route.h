/* route: maps an HTTP method and path to what the edge serves, and checks
 * static file names. Pure functions; not the handlers (see api.c). */
#ifndef EDGE_ROUTE_H
#define EDGE_ROUTE_H

#include <stddef.h>

typedef enum {
    EDGE_ROUTE_NOT_FOUND,
    EDGE_ROUTE_BAD_PATH, /* traversal, encoded characters, NUL */
    EDGE_ROUTE_BAD_METHOD,
    EDGE_ROUTE_INDEX, /* GET / and /r/<room> */
    EDGE_ROUTE_ASSET, /* arg: file name under assets/ */
    EDGE_ROUTE_HEALTHZ,
    EDGE_ROUTE_METRICS,
    EDGE_ROUTE_ROOM_CREATE,
    EDGE_ROUTE_ROOM_GET, /* arg: room */
    EDGE_ROUTE_WS,
} edge_route_kind_t;

typedef struct {
    edge_route_kind_t kind;
    const char *allow; /* for EDGE_ROUTE_BAD_METHOD: the Allow header value */
    char arg[256];
} edge_route_t;

/* method is an enum http_method; path is the undecoded path without query. */
void edge_route(int method, const char *path, edge_route_t *out);

/* 1 if name is a safe relative file name: [A-Za-z0-9._~-] segments separated
 * by '/', none empty or starting with '.', at most 200 bytes. */
int edge_asset_name_ok(const char *name);

/* Content-Type by extension, or NULL if the extension is not served. */
const char *edge_content_type(const char *name);

#endif
