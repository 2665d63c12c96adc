/* vc-worker: the media worker process. One thread, one GLib main loop: the
 * NNG control socket, the Redis registry, every peer's ICE/DTLS/SRTP, and a
 * periodic tick (detach grace, edge silence, RTCP reports) all run on it. */
#include <glib-unix.h>
#include <malloc.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/dtls.h"
#include "media-worker/shell/gpoll.h"
#include "media-worker/shell/worker.h"

#define MW_TICK_MS 100
#define MW_RTCP_INTERVAL_MS 1000

/* Splits the comma list of ICE addresses (empty: libnice's default). */
static void mw_split_addresses(mw_worker_t *w, const char *list)
{
    w->ice_addresses = g_strsplit(list, ",", -1);
    size_t n = 0;
    for (size_t i = 0; w->ice_addresses[i] != NULL; i++) {
        g_strstrip(w->ice_addresses[i]);
        if (w->ice_addresses[i][0] != '\0')
            w->ice_addresses[n++] = w->ice_addresses[i];
        else
            g_free(w->ice_addresses[i]);
    }
    w->ice_addresses[n] = NULL;
    w->n_ice_addresses = n;
}

/* Reads every key; exit code 2 on a bad or unknown one. */
static int mw_config(mw_worker_t *w, vc_config_t *c, long *cpu)
{
    char err[256];
    w->id = vc_config_str(c, "id", NULL);
    w->control_url = vc_config_str(c, "control_url", NULL);
    w->redis_url = vc_config_str(c, "redis_url", NULL);
    w->region = vc_config_str(c, "region", "local");
    w->announced_ip = vc_config_str(c, "announced_ip", NULL);
    if (w->announced_ip != NULL && w->announced_ip[0] == '\0')
        w->announced_ip = NULL;
    mw_split_addresses(w, vc_config_str(c, "ice_addresses", ""));
    const char *nom = vc_config_str(c, "ice_nomination", "aggressive");
    if (strcmp(nom, "aggressive") != 0 && strcmp(nom, "regular") != 0) {
        snprintf(err, sizeof(err), "ice_nomination must be 'aggressive' or 'regular'");
        goto fail;
    }
    w->regular_nomination = strcmp(nom, "regular") == 0;
    if (vc_config_int(c, "cpu", -1, -1, 4095, cpu, err, sizeof(err)) != 0 ||
        vc_config_int(c, "port_min", 40000, 1, 65535, &w->port_min, err, sizeof(err)) != 0 ||
        vc_config_int(c, "port_max", 49999, 1, 65535, &w->port_max, err, sizeof(err)) != 0 ||
        vc_config_int(c, "detach_grace_ms", 5000, 0, 3600000, &w->detach_grace_ms, err,
                      sizeof(err)) != 0 ||
        vc_config_int(c, "edge_timeout_ms", 2000, 100, 3600000, &w->edge_timeout_ms, err,
                      sizeof(err)) != 0 ||
        vc_config_int(c, "room_max_participants", ROOM_MAX_PARTICIPANTS, 2, ROOM_MAX_PARTICIPANTS,
                      &w->room_max_parts, err, sizeof(err)) != 0 ||
        vc_config_int(c, "udp_gso", 1, 0, 1, &w->udp_gso, err, sizeof(err)) != 0 ||
        vc_config_int(c, "io_uring", 1, 0, 1, &w->io_uring, err, sizeof(err)) != 0 ||
        vc_config_int(c, "send_batch_us", 200, 0, 100000, &w->batch_wait_us, err, sizeof(err)) != 0)
        goto fail;
    const char *unused = vc_config_unused(c);
    if (unused != NULL) {
        snprintf(err, sizeof(err), "unknown config key '%s'", unused);
        goto fail;
    }
    if (w->id == NULL || !vc_proto_id_ok(w->id) || w->control_url == NULL || w->redis_url == NULL) {
        snprintf(err, sizeof(err), "id (an id), control_url and redis_url are required");
        goto fail;
    }
    if (w->port_min > w->port_max) {
        snprintf(err, sizeof(err), "port_min is larger than port_max");
        goto fail;
    }
    return 0;
fail:
    VC_ERROR("config: %s", err);
    return -1;
}

/* Pins the process to one core (nginx's worker_cpu_affinity). */
static int mw_pin(long cpu)
{
    if (cpu < 0)
        return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        VC_ERROR("cannot pin to cpu %ld: %m", cpu);
        return -1;
    }
    return 0;
}

/* Periodic housekeeping; RTCP once a second. */
static gboolean mw_tick(gpointer data)
{
    mw_worker_t *w = data;
    uint64_t now = vc_now_ms();
    mw_sessions_tick(w, now);
    mw_mod_tick(w, now);
    if (now >= w->next_rtcp_ms) {
        w->next_rtcp_ms = now + MW_RTCP_INTERVAL_MS;
        mw_media_rtcp_tick(w, now);
        /* glibc gives back only the top of the heap by itself: freed pages
         * in the middle (offers, sessions that left) stay resident and are
         * handed out again dirty. Releasing them once a second costs well
         * under a millisecond and keeps RSS close to what is in use. */
        malloc_trim(0);
    }
    return G_SOURCE_CONTINUE;
}

/* SIGINT / SIGTERM: stop the loop; main() closes everything. */
static gboolean mw_on_signal(gpointer data)
{
    mw_worker_t *w = data;
    VC_INFO("signal: shutting down");
    g_main_loop_quit(w->loop);
    return G_SOURCE_CONTINUE;
}

/* Attaches a source to w->ctx and drops our reference. */
static guint mw_attach(mw_worker_t *w, GSource *src, GSourceFunc fn)
{
    g_source_set_callback(src, fn, w, NULL);
    guint id = g_source_attach(src, w->ctx);
    g_source_unref(src);
    return id;
}

/* Everything that needs the context: sockets, registry, timers, signals. */
static int mw_start(mw_worker_t *w)
{
    w->dtls = mw_dtls_identity_new();
    if (w->dtls == NULL) {
        VC_ERROR("cannot create the DTLS identity");
        return -1;
    }
    if (mw_ctl_start(w) != 0)
        return -1;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    mw_registry_info_t info = {
        .id = w->id, .region = w->region, .control_url = w->control_url, .host = host};
    w->reg = mw_registry_new(w->ctx, w->redis_url, &info);
    if (w->reg == NULL) {
        VC_ERROR("invalid redis_url '%s'", w->redis_url);
        return -1;
    }
    mw_registry_set_load(w->reg, 0);
    w->tick_src = g_timeout_source_new(MW_TICK_MS);
    g_source_ref(w->tick_src);
    mw_attach(w, w->tick_src, mw_tick);
    mw_quality_start(w);
    mw_attach(w, g_unix_signal_source_new(SIGINT), mw_on_signal);
    mw_attach(w, g_unix_signal_source_new(SIGTERM), mw_on_signal);
    return 0;
}

/* Closes sessions (telling edges), lets NNG flush, frees everything. */
static void mw_stop(mw_worker_t *w)
{
    mw_peer_io_stats_t io;
    mw_peer_io_stats(&io);
    if (io.send_calls > 0 || io.recv_calls > 0)
        VC_INFO("io: %llu datagrams sent in %llu sendmmsg calls (%llu messages, %.2f datagrams "
                "per call); %llu read in %llu recvmmsg calls (%.2f per call); %llu STUN checks "
                "answered or dropped",
                (unsigned long long)io.send_dgrams, (unsigned long long)io.send_calls,
                (unsigned long long)io.send_msgs,
                io.send_calls ? (double)io.send_dgrams / (double)io.send_calls : 0.0,
                (unsigned long long)io.recv_dgrams, (unsigned long long)io.recv_calls,
                io.recv_calls ? (double)io.recv_dgrams / (double)io.recv_calls : 0.0,
                (unsigned long long)io.stun_in);
    if (w->sessions != NULL) {
        mw_sessions_close_all(w);
        mw_sessions_reap(w);
    }
    if (w->edges != NULL)
        g_usleep(200 * 1000); /* NNG sends asynchronously; give the closes time */
    mw_ctl_stop(w);
    mw_quality_stop(w);
    if (w->tick_src != NULL) {
        g_source_destroy(w->tick_src);
        g_source_unref(w->tick_src);
    }
    if (w->reg != NULL)
        mw_registry_free(w->reg);
    if (w->dtls != NULL)
        mw_dtls_identity_free(w->dtls);
    if (w->sessions != NULL)
        g_hash_table_destroy(w->sessions);
    if (w->rooms != NULL)
        g_hash_table_destroy(w->rooms);
    if (w->ended != NULL)
        g_hash_table_destroy(w->ended);
    g_strfreev(w->ice_addresses);
}

/* Config, pinning, loop; exit 2 on a config error, 1 if startup fails. */
int main(int argc, char **argv)
{
    mw_worker_t w;
    memset(&w, 0, sizeof(w));
    long cpu = -1;
    char err[256];
    int rc = 1;
    /* Before anything allocates through OpenSSL (see dtls.c). */
    int dtls_hooks = mw_dtls_mem_hooks();
    vc_log_init("worker", VC_LOG_INFO);
    if (dtls_hooks != 0)
        VC_WARN("dtls: OpenSSL allocated before main: handshake buffers stay resident");
    vc_config_t *c = vc_config_new();
    if (vc_config_from_args(c, argc, argv, err, sizeof(err)) != 0) {
        VC_ERROR("%s", err);
        vc_config_free(c);
        return 2;
    }
    if (mw_config(&w, c, &cpu) != 0) {
        g_strfreev(w.ice_addresses);
        vc_config_free(c);
        return 2;
    }
    if (mw_pin(cpu) != 0)
        goto out;
    w.ctx = g_main_context_new();
    g_main_context_push_thread_default(w.ctx);
    w.loop = g_main_loop_new(w.ctx, TRUE); /* running until g_main_loop_quit() */
    w.sessions = g_hash_table_new(g_str_hash, g_str_equal);
    w.rooms = g_hash_table_new(g_str_hash, g_str_equal);
    w.ended = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    w.peer_cb = (mw_peer_callbacks_t){.on_state = mw_session_on_state,
                                      .on_gathered = mw_session_on_gathered,
                                      .on_rtp = mw_media_on_rtp,
                                      .on_rtcp = mw_media_on_rtcp,
                                      .on_app_data = mw_chat_on_app_data,
                                      .on_first_media = mw_session_on_first_media};
    vc_random_bytes(&w.rtcp_ssrc, sizeof(w.rtcp_ssrc));
    if (mw_start(&w) != 0)
        goto out;
    VC_INFO("ready id=%s control_url=%s region=%s cpu=%ld", w.id, w.control_url, w.region, cpu);
    /* One iteration dispatches every ready source (libnice drains each
     * readable socket); the copies they queued leave together after it. */
    mw_peer_set_batching(1);
    mw_peer_set_gso((int)w.udp_gso);
    mw_peer_set_batch_wait(w.batch_wait_us);
    mw_peer_set_uring((int)w.io_uring);
    mw_peer_fast_rx_start(w.ctx, 0);
    mw_gpoll_attach(w.ctx);
    while (g_main_loop_is_running(w.loop)) {
        g_main_context_iteration(w.ctx, TRUE);
        mw_peer_flush();
    }
    rc = 0;
out:
    mw_stop(&w);
    if (w.loop != NULL)
        g_main_loop_unref(w.loop);
    if (w.ctx != NULL) {
        /* let the registry's last commands and the sources finish */
        while (g_main_context_iteration(w.ctx, FALSE))
            ;
        mw_peer_fast_rx_stop();
        mw_peer_ice_stop();
        mw_peer_uring_stop();
        mw_gpoll_detach(w.ctx);
        g_main_context_pop_thread_default(w.ctx);
        g_main_context_unref(w.ctx);
    }
    vc_config_free(c);
    return rc;
}
