/* Fuzzes the edge's WebSocket layer: a valid handshake, then raw bytes as
 * frames; text messages are validated as client messages and echoed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edge/conn.h"
#include "proto/proto.h"

static void fz_on_request(edge_conn_t *c, edge_http_req_t *req, void *ud)
{
    edge_conn_accept_ws(c, req);
}

/* Parses the message like the signaling layer and answers something. */
static void fz_on_text(edge_conn_t *c, const char *msg, size_t len, void *ud)
{
    json_t *j = NULL;
    const char *type;
    char err[256];
    if (vc_proto_parse(VC_CH_CLIENT, msg, len, &j, &type, err, sizeof(err)) == VC_OK) {
        json_decref(j);
        edge_conn_ws_send_text(c, "{}", 2);
    } else {
        edge_conn_ws_send_text(c, err, strlen(err));
    }
    if (len > 0 && msg[0] == 'c')
        edge_conn_ws_close(c, 1000, "bye");
}

static const edge_conn_ops_t fz_ops = {
    .on_request = fz_on_request,
    .on_ws_text = fz_on_text,
};

static const char fz_handshake[] = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
                                   "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edge_conn_t *c = edge_conn_new(&fz_ops, NULL);
    edge_conn_input(c, fz_handshake, sizeof(fz_handshake) - 1);
    /* feed in two pieces to exercise partial frames */
    size_t cut = size / 2;
    edge_conn_input(c, data, cut);
    edge_buf_consume(edge_conn_out(c), edge_conn_out(c)->len);
    edge_conn_input(c, data + cut, size - cut);
    edge_conn_ws_ping(c);
    edge_conn_free(c);
    return 0;
}
