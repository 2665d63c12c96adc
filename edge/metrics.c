/* metrics: counters and gauges of the edge in Prometheus text format. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "edge/edge.h"

static const int edge_metrics_codes[] = {101, 200, 201, 304, 400, 403, 404,
                                         405, 408, 413, 431, 500, 503, 504};
#define EDGE_METRICS_OTHER 15

static const vc_err_t edge_metrics_errs[] = {
    VC_ERR_BAD_JSON,          VC_ERR_BAD_MESSAGE,
    VC_ERR_UNKNOWN_TYPE,      VC_ERR_TOO_LARGE,
    VC_ERR_BAD_VERSION,       VC_ERR_NOT_JOINED,
    VC_ERR_ALREADY_JOINED,    VC_ERR_BAD_HTTP,
    VC_ERR_BAD_WEBSOCKET,     VC_ERR_RATE_LIMITED,
    VC_ERR_ROOM_NOT_FOUND,    VC_ERR_ROOM_LOST,
    VC_ERR_SESSION_NOT_FOUND, VC_ERR_UNAUTHORIZED,
    VC_ERR_FORBIDDEN,         VC_ERR_TOKEN_EXPIRED,
    VC_ERR_INTERNAL,          VC_ERR_UNAVAILABLE,
    VC_ERR_NO_WORKER,         VC_ERR_TIMEOUT,
    VC_ERR_ROOM_FULL,         VC_ERR_ROOM_ENDED,
    VC_ERR_BAD_STATE,         VC_ERR_BAD_SDP,
    VC_ERR_BAD_CANDIDATE,     VC_ERR_PARTICIPANT_NOT_FOUND,
};

/* Counts one HTTP response by status. */
void edge_metrics_http(edge_t *e, int status)
{
    for (size_t i = 0; i < VC_ARRAY_LEN(edge_metrics_codes); i++) {
        if (edge_metrics_codes[i] == status) {
            e->m.http[i]++;
            return;
        }
    }
    e->m.http[EDGE_METRICS_OTHER]++;
}

/* Counts one error by proto code (unknown codes count as internal). */
void edge_metrics_error(edge_t *e, vc_err_t code)
{
    for (size_t i = 0; i < VC_ARRAY_LEN(edge_metrics_errs); i++) {
        if (edge_metrics_errs[i] == code) {
            e->m.errors[i]++;
            return;
        }
    }
    e->m.errors[16]++; /* internal */
}

/* Renders every metric; returns a new string (free()). */
char *edge_metrics_render(edge_t *e)
{
    edge_buf_t b = {0};
    int ws = 0;
    for (edge_client_t *cl = e->clients; cl != NULL; cl = cl->next)
        ws += !cl->dead && edge_conn_is_ws(cl->conn);
    edge_buf_printf(&b, "# TYPE vc_edge_http_requests_total counter\n");
    for (size_t i = 0; i < VC_ARRAY_LEN(edge_metrics_codes); i++)
        edge_buf_printf(&b, "vc_edge_http_requests_total{code=\"%d\"} %llu\n",
                        edge_metrics_codes[i], (unsigned long long)e->m.http[i]);
    edge_buf_printf(&b, "vc_edge_http_requests_total{code=\"other\"} %llu\n",
                    (unsigned long long)e->m.http[EDGE_METRICS_OTHER]);
    edge_buf_printf(&b, "# TYPE vc_edge_connections gauge\nvc_edge_connections %d\n", e->nclients);
    edge_buf_printf(&b, "# TYPE vc_edge_ws_connections gauge\nvc_edge_ws_connections %d\n", ws);
    edge_buf_printf(&b,
                    "# TYPE vc_edge_ws_messages_in_total counter\n"
                    "vc_edge_ws_messages_in_total %llu\n",
                    (unsigned long long)e->m.ws_in);
    edge_buf_printf(&b,
                    "# TYPE vc_edge_ws_messages_out_total counter\n"
                    "vc_edge_ws_messages_out_total %llu\n",
                    (unsigned long long)e->m.ws_out);
    edge_buf_printf(&b, "# TYPE vc_edge_errors_total counter\n");
    for (size_t i = 0; i < VC_ARRAY_LEN(edge_metrics_errs); i++)
        edge_buf_printf(&b, "vc_edge_errors_total{name=\"%s\"} %llu\n",
                        vc_err_name(edge_metrics_errs[i]), (unsigned long long)e->m.errors[i]);
    edge_buf_printf(&b, "# TYPE vc_edge_sessions gauge\nvc_edge_sessions %d\n", e->nsessions);
    edge_buf_printf(&b,
                    "# TYPE vc_edge_router_requests_total counter\n"
                    "vc_edge_router_requests_total{result=\"ok\"} %llu\n"
                    "vc_edge_router_requests_total{result=\"error\"} %llu\n"
                    "vc_edge_router_requests_total{result=\"unavailable\"} %llu\n"
                    "vc_edge_router_requests_total{result=\"timeout\"} %llu\n",
                    (unsigned long long)e->m.router_ok, (unsigned long long)e->m.router_error,
                    (unsigned long long)e->m.router_unavailable,
                    (unsigned long long)e->m.router_timeout);
    return b.data;
}
