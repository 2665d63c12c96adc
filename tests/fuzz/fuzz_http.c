/* Fuzzes the edge's HTTP layer: raw bytes into a conn whose owner answers
 * every request at once (routing included) and accepts WebSocket upgrades. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edge/conn.h"
#include "edge/route.h"

/* Routes the request and answers it, as the shell would. */
static void fz_on_request(edge_conn_t *c, edge_http_req_t *req, void *ud)
{
    edge_route_t r;
    edge_route(req->method, req->path, &r);
    (void)edge_http_header(req, "Host");
    if (r.kind == EDGE_ROUTE_WS) {
        edge_conn_accept_ws(c, req);
        return;
    }
    if (r.kind == EDGE_ROUTE_ASSET)
        (void)edge_content_type(r.arg);
    edge_conn_respond(c, r.kind == EDGE_ROUTE_NOT_FOUND ? 404 : 200, "text/plain", "",
                      req->body.data, req->body.len, 0);
}

static void fz_on_text(edge_conn_t *c, const char *msg, size_t len, void *ud)
{
    edge_conn_ws_send_text(c, msg, len);
}

static const edge_conn_ops_t fz_ops = {
    .on_request = fz_on_request,
    .on_ws_text = fz_on_text,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* whole, then byte-split at a data-dependent point */
    edge_conn_t *c = edge_conn_new(&fz_ops, NULL);
    edge_conn_input(c, data, size);
    edge_conn_free(c);
    c = edge_conn_new(&fz_ops, NULL);
    size_t cut = size ? data[0] % (size + 1) : 0;
    edge_conn_input(c, data, cut);
    edge_buf_consume(edge_conn_out(c), edge_conn_out(c)->len);
    edge_conn_input(c, data + cut, size - cut);
    edge_conn_free(c);
    return 0;
}
