/* vc-edge: reads the config, starts NNG and the HTTP/WebSocket server, runs
 * the libevent loop until SIGINT/SIGTERM, then frees everything. */
#include <event2/event.h>
#include <nng/nng.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "edge/edge.h"

/* Copies an optional string key (NULL or empty stays NULL). */
static char *edge_main_opt(vc_config_t *c, const char *key)
{
    const char *v = vc_config_str(c, key, NULL);
    return v && v[0] ? vc_strdup(v) : NULL;
}

/* Reads every vc-edge key; 0, or -1 with err. */
static int edge_main_config(edge_t *e, vc_config_t *c, char *err, size_t errlen)
{
    char id[32];
    snprintf(id, sizeof(id), "e-");
    vc_random_hex(id + 2, 6);
    e->id = vc_strdup(vc_config_str(c, "id", id));
    e->http_addr = vc_strdup(vc_config_str(c, "http_addr", "127.0.0.1"));
    e->ui_dir = vc_strdup(vc_config_str(c, "ui_dir", "ui/dist"));
    e->region = vc_strdup(vc_config_str(c, "region", "local"));
    e->router_url = edge_main_opt(c, "router_url");
    e->events_url = edge_main_opt(c, "events_url");
    e->tls_cert = edge_main_opt(c, "tls_cert");
    e->tls_key = edge_main_opt(c, "tls_key");
    e->jwt_secret = edge_main_opt(c, "jwt_secret");
    e->jwt_secret_prev = edge_main_opt(c, "jwt_secret_previous");
    e->public_url = edge_main_opt(c, "public_url");
    if (vc_config_int(c, "http_port", 8080, 0, 65535, &e->http_port, err, errlen) != 0 ||
        vc_config_int(c, "max_connections", 10000, 1, 1000000, &e->max_connections, err, errlen) !=
            0)
        return -1;
    const char *unused = vc_config_unused(c);
    if (unused != NULL) {
        snprintf(err, errlen, "unknown config key '%s'", unused);
        return -1;
    }
    if (e->router_url == NULL || e->events_url == NULL) {
        snprintf(err, errlen, "router_url and events_url are required");
        return -1;
    }
    if (!vc_proto_id_ok(e->id)) {
        snprintf(err, errlen, "id '%s' must be [A-Za-z0-9_-], at most 64", e->id);
        return -1;
    }
    if ((e->tls_cert == NULL) != (e->tls_key == NULL)) {
        snprintf(err, errlen, "tls_cert and tls_key must be set together");
        return -1;
    }
    if (e->jwt_secret == NULL) {
        char s[65];
        vc_random_hex(s, 32);
        e->jwt_secret = vc_strdup(s);
        VC_WARN("jwt_secret is not set: using a random one (host links work on this edge only)");
    }
    return 0;
}

/* Frees the configuration strings. */
static void edge_main_free(edge_t *e)
{
    char **s[] = {&e->id,         &e->http_addr, &e->router_url, &e->events_url,
                  &e->ui_dir,     &e->region,    &e->jwt_secret, &e->jwt_secret_prev,
                  &e->public_url, &e->tls_cert,  &e->tls_key};
    for (size_t i = 0; i < VC_ARRAY_LEN(s); i++) {
        free(*s[i]);
        *s[i] = NULL;
    }
}

int main(int argc, char **argv)
{
    static edge_t edge;
    edge_t *e = &edge;
    char err[512];
    int rc = 1;
    vc_log_init("edge", VC_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    vc_config_t *c = vc_config_new();
    if (vc_config_from_args(c, argc, argv, err, sizeof(err)) != 0 ||
        edge_main_config(e, c, err, sizeof(err)) != 0) {
        fprintf(stderr, "vc-edge: %s\n", err);
        vc_config_free(c);
        edge_main_free(e);
        return 2;
    }
    vc_config_free(c);
    e->rdone_fd = -1;
    e->started_ms = vc_now_ms();
    e->base = event_base_new();
    if (e->base == NULL)
        goto fail;
    if (edge_nng_start(e) != 0 || edge_server_start(e) != 0)
        goto fail;
    event_base_dispatch(e->base);
    VC_INFO("stopped");
    rc = 0;
fail:
    edge_server_stop(e);
    edge_nng_stop(e);
    if (e->base)
        event_base_free(e->base);
    edge_main_free(e);
    nng_fini();
    return rc;
}
