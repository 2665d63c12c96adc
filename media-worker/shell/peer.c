/* peer: ICE (libnice) + DTLS-SRTP (dtls.c, srtp.c) for one browser. See
 * peer.h. Everything runs on the worker's GLib main context. Here: the ICE
 * glue and the peer's lifecycle; the send path is in peer_tx.c, the fast
 * receive path and the demux in peer_rx.c, what they share in peer_int.h. */
#include "media-worker/shell/peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <nice/agent.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/dtls.h"
#include "media-worker/shell/peer_int.h"
#include "media-worker/shell/shard.h"
#include "media-worker/shell/srtp.h"

#define MW_PEER_MAX_REMOTE 32 /* remote candidates accepted */
#define MW_PEER_MAX_LINE 512  /* longest remote candidate line */

/* libnice's contexts: every agent (its timers, and its sockets until the
 * fast path takes them) lives on one of MW_ICE_SHARDS child contexts
 * (shard.h), so that GLib walks an agent's sources only when its shard has
 * something to do. With one context for 450 agents that walk was about
 * 190 us per timer, a hundred times a second, and forwarding waited behind
 * it. */
#define MW_ICE_SHARDS 16
static mw_shard_t *mw_ice[MW_ICE_SHARDS];
static unsigned mw_ice_next; /* round robin over the shards */

/* Drops the child contexts (after every peer is freed). */
void mw_peer_ice_stop(void)
{
    for (size_t i = 0; i < MW_ICE_SHARDS; i++) {
        mw_shard_free(mw_ice[i]);
        mw_ice[i] = NULL;
    }
}

/* Moves the state forward and tells the owner; FAILED and CLOSED are final,
 * and nothing goes back from CONNECTED to CONNECTING. */
static void mw_peer_set_state(mw_peer_t *p, mw_peer_state_t s)
{
    if (p->state == s || p->state == MW_PEER_FAILED || p->state == MW_PEER_CLOSED)
        return;
    if (s == MW_PEER_CONNECTING && p->state == MW_PEER_CONNECTED)
        return;
    p->state = s;
    if (p->cb->on_state)
        p->cb->on_state(p, s, p->user);
}

/* Idle source: reports gathering done outside libnice's signal emission
 * (and never from inside mw_peer_new). */
static gboolean mw_peer_on_gathered_idle(gpointer data)
{
    mw_peer_t *p = data;
    uint64_t t0 = vc_cpu_meter_begin(p->work_open);

    g_source_unref(p->gathered_idle);
    p->gathered_idle = NULL;
    if (p->cb->on_gathered)
        p->cb->on_gathered(p, p->user);
    vc_cpu_meter_end(&p->work_ns, t0);
    return G_SOURCE_REMOVE;
}

/* Formats one local candidate as an SDP attribute value, with the announced
 * address (same IP family) instead of the local one. */
static char *mw_peer_format_candidate(mw_peer_t *p, NiceCandidate *c)
{
    NiceCandidate *copy = nice_candidate_copy(c);
    gchar *sdp;
    char *out = NULL;

    if (p->has_announced &&
        nice_address_ip_version(&c->addr) == nice_address_ip_version(&p->announced)) {
        guint port = nice_address_get_port(&c->addr);
        copy->addr = p->announced;
        nice_address_set_port(&copy->addr, port);
    }
    sdp = nice_agent_generate_local_candidate_sdp(p->agent, copy);
    if (sdp)
        out = vc_strdup(strncmp(sdp, "a=", 2) == 0 ? sdp + 2 : sdp);
    g_free(sdp);
    nice_candidate_free(copy);
    return out;
}

/* libnice "candidate-gathering-done": keeps the UDP candidates as SDP lines. */
static void mw_peer_on_gathering_done(NiceAgent *agent, guint stream, gpointer data)
{
    mw_peer_t *p = data;
    GSList *list = nice_agent_get_local_candidates(agent, stream, MW_PEER_COMPONENT);

    for (GSList *l = list; l && p->n_local < MW_PEER_MAX_LOCAL; l = l->next) {
        NiceCandidate *c = l->data;
        char *line;
        if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP)
            continue;
        line = mw_peer_format_candidate(p, c);
        if (line)
            p->local[p->n_local++] = line;
    }
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
    if (!p->gathered_idle) {
        p->gathered_idle = g_idle_source_new();
        g_source_set_callback(p->gathered_idle, mw_peer_on_gathered_idle, p, NULL);
        g_source_attach(p->gathered_idle, p->ctx);
    }
}

/* libnice "component-state-changed". */
static void mw_peer_on_ice_state(NiceAgent *agent, guint stream, guint component, guint state,
                                 gpointer data)
{
    mw_peer_t *p = data;

    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
        mw_peer_set_state(p, MW_PEER_CONNECTING);
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        if (p->ice_up)
            break;
        p->ice_up = 1;
        mw_peer_set_state(p, MW_PEER_CONNECTING);
        /* RFC 5763 5: the DTLS client speaks first once ICE works; the
         * server waits for the ClientHello (or already answered it). */
        if (p->dtls)
            mw_peer_dtls_after(p, mw_dtls_start(p->dtls));
        break;
    case NICE_COMPONENT_STATE_FAILED:
        if (p->state != MW_PEER_FAILED && p->state != MW_PEER_CLOSED)
            VC_INFO("peer %s: ICE failed", p->ufrag);
        mw_peer_set_state(p, MW_PEER_FAILED);
        break;
    default:
        break;
    }
}

/* Forgets the held DTLS datagrams. */
static void mw_peer_held_clear(mw_peer_t *p)
{
    for (size_t i = 0; i < p->n_held; i++)
        free(p->held[i].data);
    p->n_held = 0;
}

/* dtls send callback: one datagram on the selected pair. A server may
 * answer a ClientHello that arrived before libnice selected a pair; that
 * flight is held and sent once a pair exists, instead of a second later by
 * the retransmission timer. Handshake only: never on the media path. */
static void mw_peer_dtls_send(const uint8_t *dgram, size_t len, void *user)
{
    mw_peer_t *p = user;

    if (nice_agent_send(p->agent, p->stream, MW_PEER_COMPONENT, (guint)len, (const gchar *)dgram) >
        0) {
        p->stats.bytes_out += len;
        return;
    }
    if (mw_dtls_state(p->dtls) != MW_DTLS_HANDSHAKING || p->n_held >= MW_PEER_HELD_MAX)
        return;
    p->held[p->n_held].data = vc_malloc(len);
    memcpy(p->held[p->n_held].data, dgram, len);
    p->held[p->n_held++].len = len;
}

/* Forgets the direct send path (libnice sends until the next selection);
 * queued copies leave first, to the old address. */
static void mw_peer_tx_clear(mw_peer_t *p)
{
    mw_peer_tx_flush_one(p);
    mw_peer_rx_fast_end(p);
    mw_peer_ur_file_del(p); /* before the socket can close */
    if (p->tx_sock)
        g_object_unref(p->tx_sock);
    p->tx_sock = NULL;
    p->tx_fd = -1;
}

/* Caches the selected pair's socket and remote address for sendto(). Only
 * for a host or server-reflexive local candidate over UDP: anything relayed
 * needs libnice's TURN framing. */
static void mw_peer_tx_use(mw_peer_t *p, NiceCandidate *local, NiceCandidate *remote)
{
    if (local->type == NICE_CANDIDATE_TYPE_RELAYED || remote->type == NICE_CANDIDATE_TYPE_RELAYED ||
        local->transport != NICE_CANDIDATE_TRANSPORT_UDP)
        return;
    GSocket *sock = nice_agent_get_selected_socket(p->agent, p->stream, MW_PEER_COMPONENT);
    if (!sock)
        return;
    memset(&p->tx_addr, 0, sizeof(p->tx_addr));
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&p->tx_addr);
    p->tx_addrlen =
        p->tx_addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    p->tx_sock = sock;
    p->tx_fd = g_socket_get_fd(sock);
    mw_peer_ur_file_add(p);
}

/* A (new) selected pair. libnice may select another pair after DTLS is up
 * (aggressive nomination nominates every pair that works, and the best
 * nominated one wins): then the fast path follows the new pair's socket,
 * or, for a relayed pair, libnice reads again. Before this, nobody read
 * the socket after such a switch: no data channel, then no consent. */
static void mw_peer_tx_select(mw_peer_t *p, NiceCandidate *local, NiceCandidate *remote)
{
    int was_fast = p->rx_fast;
    mw_peer_tx_clear(p);
    mw_peer_tx_use(p, local, remote);
    if (!was_fast)
        return;
    VC_INFO("peer %s: another pair selected after DTLS (%s)", p->ufrag,
            p->tx_fd >= 0 ? "the fast path follows it" : "relayed: libnice reads again");
    mw_peer_rx_fast_begin(p);
    if (!p->rx_fast)
        nice_agent_attach_recv(p->agent, p->stream, MW_PEER_COMPONENT, p->ice_ctx, mw_peer_on_recv,
                               p);
}

/* libnice "new-selected-pair-full": sending works now; flush held DTLS. */
static void mw_peer_on_selected_pair(NiceAgent *agent, guint stream, guint component,
                                     NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    mw_peer_t *p = data;

    mw_peer_tx_select(p, local, remote);

    for (size_t i = 0; i < p->n_held; i++)
        if (nice_agent_send(p->agent, p->stream, MW_PEER_COMPONENT, (guint)p->held[i].len,
                            (const gchar *)p->held[i].data) > 0)
            p->stats.bytes_out += p->held[i].len;
    mw_peer_held_clear(p);
}

/* GLib timeout: the DTLS retransmission timer expired. */
static gboolean mw_peer_on_dtls_timer(gpointer data)
{
    mw_peer_t *p = data;
    uint64_t t0 = vc_cpu_meter_begin(p->work_open);

    g_source_unref(p->dtls_timer);
    p->dtls_timer = NULL;
    mw_peer_dtls_after(p, mw_dtls_handle_timeout(p->dtls));
    vc_cpu_meter_end(&p->work_ns, t0);
    return G_SOURCE_REMOVE;
}

/* Stops the DTLS timer source if any. */
static void mw_peer_dtls_timer_stop(mw_peer_t *p)
{
    if (!p->dtls_timer)
        return;
    g_source_destroy(p->dtls_timer);
    g_source_unref(p->dtls_timer);
    p->dtls_timer = NULL;
}

/* (Re)arms the GLib timer from OpenSSL's DTLS timer. */
static void mw_peer_dtls_timer_arm(mw_peer_t *p)
{
    int ms = mw_dtls_timeout_ms(p->dtls);

    mw_peer_dtls_timer_stop(p);
    if (ms < 0)
        return;
    p->dtls_timer = g_timeout_source_new((guint)ms);
    g_source_set_callback(p->dtls_timer, mw_peer_on_dtls_timer, p, NULL);
    g_source_attach(p->dtls_timer, p->ctx);
}

/* After any DTLS step: timer, SRTP keys on success, final states. */
void mw_peer_dtls_after(mw_peer_t *p, mw_dtls_state_t st)
{
    mw_srtp_keys_t keys;

    mw_peer_dtls_timer_arm(p);
    if (st != MW_DTLS_HANDSHAKING)
        mw_peer_held_clear(p);
    switch (st) {
    case MW_DTLS_CONNECTED:
        if (mw_srtp_ready(&p->srtp) || p->state == MW_PEER_FAILED)
            break;
        if (mw_dtls_srtp_keys(p->dtls, &keys) < 0 || mw_srtp_init(&p->srtp, &keys) < 0) {
            VC_WARN("peer %s: SRTP setup failed", p->ufrag);
            mw_peer_set_state(p, MW_PEER_FAILED);
        } else {
            mw_peer_set_state(p, MW_PEER_CONNECTED);
            mw_peer_rx_fast_begin(p);
        }
        memset(&keys, 0, sizeof(keys));
        break;
    case MW_DTLS_FAILED:
        if (p->state != MW_PEER_FAILED && p->state != MW_PEER_CLOSED)
            VC_WARN("peer %s: DTLS failed: %s", p->ufrag, mw_dtls_error(p->dtls));
        mw_peer_set_state(p, MW_PEER_FAILED);
        break;
    case MW_DTLS_CLOSED:
        mw_peer_set_state(p, MW_PEER_CLOSED);
        break;
    default:
        break;
    }
}

/* libnice receive callback. STUN (0..3) never gets here: libnice consumes
 * it. */
void mw_peer_on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                     gpointer data)
{
    mw_peer_rx_datagram(data, (const uint8_t *)buf, len);
}

/* Configures the agent: controlling full ICE over UDP only, no STUN/TURN,
 * no UPnP, the configured addresses and ports. Returns 0 or -1. */
static int mw_peer_setup_agent(mw_peer_t *p, const mw_peer_config_t *cfg)
{
    /* Full ICE is the default (no NICE_AGENT_OPTION_LITE_MODE). */
    p->controlling = !cfg->ice_controlled;
    vc_random_bytes(&p->tie, sizeof(p->tie));
    g_object_set(p->agent, "controlling-mode", cfg->ice_controlled ? FALSE : TRUE, "ice-tcp", FALSE,
                 "ice-udp", TRUE, "upnp", FALSE, NULL);
    for (size_t i = 0; i < cfg->n_ice_addresses; i++) {
        NiceAddress a;
        nice_address_init(&a);
        if (!cfg->ice_addresses[i] || !nice_address_set_from_string(&a, cfg->ice_addresses[i]) ||
            !nice_agent_add_local_address(p->agent, &a)) {
            VC_ERROR("peer: bad ice address '%s'",
                     cfg->ice_addresses[i] ? cfg->ice_addresses[i] : "(null)");
            return -1;
        }
    }
    if (cfg->announced_ip && cfg->announced_ip[0]) {
        nice_address_init(&p->announced);
        if (!nice_address_set_from_string(&p->announced, cfg->announced_ip)) {
            VC_ERROR("peer: bad announced ip '%s'", cfg->announced_ip);
            return -1;
        }
        p->has_announced = 1;
    }
    p->stream = nice_agent_add_stream(p->agent, 1);
    if (p->stream == 0)
        return -1;
    if (cfg->port_min || cfg->port_max)
        nice_agent_set_port_range(p->agent, p->stream, MW_PEER_COMPONENT, cfg->port_min,
                                  cfg->port_max);
    if (!nice_agent_get_local_credentials(p->agent, p->stream, &p->ufrag, &p->pwd))
        return -1;
    return 0;
}

/* Creates the agent, hooks its signals and receive callback, gathers. */
mw_peer_t *mw_peer_new(const mw_peer_config_t *cfg, mw_dtls_identity_t *id,
                       const mw_peer_callbacks_t *cb, void *user)
{
    mw_peer_t *p = vc_calloc(1, sizeof(*p));

    p->ctx = cfg->ctx;
    p->id = id;
    p->cb = cb;
    p->user = user;
    p->state = MW_PEER_NEW;
    p->tx_fd = -1;
    p->ur_file = -1;
    p->tx_hold = -1;
    p->tx_stamp_fd = -1;
    if (mw_srtp_global_init() < 0 || !id)
        goto fail;
    /* Aggressive nomination unless cfg asks for regular: RFC 8445 8.1.1
     * deprecates it, but media starts a check round sooner (peer.h). */
    p->ice = mw_shard_pick(mw_ice, MW_ICE_SHARDS, &mw_ice_next, cfg->ctx);
    p->ice_ctx = p->ice ? mw_shard_context(p->ice) : cfg->ctx;
    mw_shard_changed(p->ice);
    if (cb->on_first_media != NULL) {
        p->work_open = 1;
        mw_shard_meter(p->ice, 1);
        p->work_shard0 = mw_shard_cpu_ns(p->ice);
    }
    p->agent = nice_agent_new_full(p->ice_ctx, NICE_COMPATIBILITY_RFC5245,
                                   cfg->regular_nomination ? NICE_AGENT_OPTION_REGULAR_NOMINATION
                                                           : NICE_AGENT_OPTION_NONE);
    if (!p->agent || mw_peer_setup_agent(p, cfg) < 0)
        goto fail;
    g_signal_connect(p->agent, "candidate-gathering-done", G_CALLBACK(mw_peer_on_gathering_done),
                     p);
    g_signal_connect(p->agent, "component-state-changed", G_CALLBACK(mw_peer_on_ice_state), p);
    g_signal_connect(p->agent, "new-selected-pair-full", G_CALLBACK(mw_peer_on_selected_pair), p);
    nice_agent_attach_recv(p->agent, p->stream, MW_PEER_COMPONENT, p->ice_ctx, mw_peer_on_recv, p);
    if (!nice_agent_gather_candidates(p->agent, p->stream)) {
        VC_ERROR("peer: candidate gathering failed (ports %u-%u)", cfg->port_min, cfg->port_max);
        goto fail;
    }
    return p;
fail:
    mw_peer_free(p);
    return NULL;
}

/* Sends close_notify if connected, then releases everything. */
void mw_peer_free(mw_peer_t *p)
{
    if (!p)
        return;
    mw_shard_changed(p->ice);
    if (p->work_open)
        mw_shard_meter(p->ice, 0);
    mw_peer_rx_fast_end(p);
    if (p->agent && p->stream) {
        if (p->dtls && mw_dtls_state(p->dtls) == MW_DTLS_CONNECTED)
            mw_dtls_close(p->dtls);
        nice_agent_attach_recv(p->agent, p->stream, MW_PEER_COMPONENT, p->ice_ctx, NULL, NULL);
    }
    if (p->agent)
        g_signal_handlers_disconnect_by_data(p->agent, p);
    mw_peer_dtls_timer_stop(p);
    if (p->gathered_idle) {
        g_source_destroy(p->gathered_idle);
        g_source_unref(p->gathered_idle);
    }
    mw_peer_held_clear(p);
    mw_peer_tx_clear(p);
    mw_peer_tx_unlist(p);
    mw_dtls_free(p->dtls);
    mw_srtp_fini(&p->srtp);
    g_slist_free_full(p->pending, (GDestroyNotify)nice_candidate_free);
    if (p->agent)
        g_object_unref(p->agent);
    for (size_t i = 0; i < p->n_local; i++)
        free(p->local[i]);
    g_free(p->ufrag);
    g_free(p->pwd);
    free(p);
}

/* Our ICE username fragment. */
const char *mw_peer_ice_ufrag(const mw_peer_t *p)
{
    return p->ufrag;
}

/* Our ICE password. */
const char *mw_peer_ice_pwd(const mw_peer_t *p)
{
    return p->pwd;
}

/* The gathered local candidates (none before on_gathered). */
size_t mw_peer_local_candidates(const mw_peer_t *p, const char **out, size_t max)
{
    size_t n = p->n_local < max ? p->n_local : max;

    for (size_t i = 0; i < n; i++)
        out[i] = p->local[i];
    return n;
}

/* Current state. */
mw_peer_state_t mw_peer_state(const mw_peer_t *p)
{
    return p->state;
}

/* RFC 8839 5.4: ice-char = ALPHA / DIGIT / "+" / "/", length min..max. */
static int mw_peer_ice_chars_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;

    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/'))
            return 0;
    }
    return 1;
}

/* Hands candidates to libnice (they are copied there). */
static void mw_peer_apply_candidates(mw_peer_t *p, GSList *cands)
{
    if (cands)
        nice_agent_set_remote_candidates(p->agent, p->stream, MW_PEER_COMPONENT, cands);
}

/* dtls application data callback: one SCTP packet for the owner. */
static void mw_peer_dtls_app(const uint8_t *data, size_t len, void *user)
{
    mw_peer_t *p = user;

    if (p->cb->on_app_data && p->state != MW_PEER_FAILED && p->state != MW_PEER_CLOSED)
        p->cb->on_app_data(p, data, len, p->user);
}

/* Remote ICE credentials and DTLS parameters; applies buffered candidates. */
int mw_peer_set_remote(mw_peer_t *p, const char *ufrag, const char *pwd, const char *fp_alg,
                       const char *fp, mw_dtls_role_t role)
{
    mw_dtls_fp_t expect;

    if (p->remote_set || p->state == MW_PEER_FAILED || p->state == MW_PEER_CLOSED)
        return -1;
    /* RFC 8839 5.4: ufrag 4..256 and pwd 22..256 ice-chars. */
    if (!mw_peer_ice_chars_ok(ufrag, 4, 256) || !mw_peer_ice_chars_ok(pwd, 22, 256))
        return -1;
    if (mw_dtls_fp_parse(fp_alg, fp, &expect) < 0)
        return -1;
    if (role != MW_DTLS_ROLE_SERVER && role != MW_DTLS_ROLE_CLIENT)
        return -1;
    if (!nice_agent_set_remote_credentials(p->agent, p->stream, ufrag, pwd))
        return -1;
    p->dtls = mw_dtls_new(p->id, role == MW_DTLS_ROLE_SERVER, &expect, mw_peer_dtls_send, p);
    if (!p->dtls)
        return -1;
    mw_dtls_set_app_cb(p->dtls, mw_peer_dtls_app, p);
    p->remote_set = 1;
    mw_peer_apply_candidates(p, p->pending);
    g_slist_free_full(p->pending, (GDestroyNotify)nice_candidate_free);
    p->pending = NULL;
    return 0;
}

/* Splits a candidate line's first fields (RFC 8839 5.1): component,
 * transport and address. Returns 0 or -1 if there are too few. */
static int mw_peer_candidate_fields(const char *attr, char *comp, char *transport, char *addr)
{
    /* foundation component transport priority address port "typ" type */
    char typ[8];

    if (sscanf(attr, "candidate:%*32s %7s %15s %*31s %255s %*7s %7s %*s", comp, transport, addr,
               typ) != 4)
        return -1;
    return strcmp(typ, "typ") == 0 ? 0 : -1;
}

/* One remote candidate: UDP ones go to libnice (or wait for set_remote);
 * TCP, mDNS hostnames and other components are skipped without error. */
int mw_peer_add_remote_candidate(mw_peer_t *p, const char *line)
{
    char buf[MW_PEER_MAX_LINE + 3], comp[8], transport[16], addr[256];
    size_t n, alen;
    NiceCandidate *c;

    if (!line)
        return -1;
    if (strncmp(line, "a=", 2) == 0)
        line += 2;
    n = strcspn(line, "\r\n");
    /* One line: a trailing CRLF is tolerated, anything after it is not. */
    if (strncmp(line, "candidate:", 10) != 0 || n > MW_PEER_MAX_LINE ||
        strspn(line + n, "\r\n") != strlen(line + n))
        return -1;
    memcpy(buf, "a=", 2);
    memcpy(buf + 2, line, n);
    buf[n + 2] = '\0';
    if (mw_peer_candidate_fields(buf + 2, comp, transport, addr) < 0)
        return -1;
    alen = strlen(addr);
    if (strcasecmp(transport, "udp") != 0 ||
        (alen > 6 && strcasecmp(addr + alen - 6, ".local") == 0))
        return 0; /* not for us: ICE-TCP is off, mDNS is not resolved */
    if (strcmp(comp, "1") != 0)
        return 0; /* rtcp-mux: component 1 only */
    c = nice_agent_parse_remote_candidate_sdp(p->agent, p->stream, buf);
    if (!c)
        return -1;
    if (p->n_remote >= MW_PEER_MAX_REMOTE || p->state == MW_PEER_FAILED ||
        p->state == MW_PEER_CLOSED) {
        nice_candidate_free(c);
        return 0;
    }
    p->n_remote++;
    if (p->remote_set) {
        GSList one = {.data = c, .next = NULL};
        mw_peer_apply_candidates(p, &one);
        nice_candidate_free(c);
    } else {
        p->pending = g_slist_append(p->pending, c);
    }
    return 0;
}

/* The selected pair's UDP socket, or -1. */
int mw_peer_fd(const mw_peer_t *p)
{
    return p->tx_fd;
}

/* Copies the counters. */
void mw_peer_stats(const mw_peer_t *p, mw_peer_stats_t *out)
{
    *out = p->stats;
}

/* One DTLS application data record (data channels); goes through the DTLS
 * send callback, i.e. libnice, like the handshake. */
int mw_peer_send_app(mw_peer_t *p, const uint8_t *data, size_t len)
{
    if (!p->dtls || p->state != MW_PEER_CONNECTED)
        return -1;
    return mw_dtls_write(p->dtls, data, len);
}
