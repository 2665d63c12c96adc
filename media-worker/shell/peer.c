/* peer: ICE (libnice) + DTLS-SRTP (dtls.c, srtp.c) for one browser. See
 * peer.h. Everything runs on the worker's GLib main context. */
#include "media-worker/shell/peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <liburing.h>
#include <nice/agent.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/dtls.h"
#include "media-worker/shell/shard.h"
#include "media-worker/shell/srtp.h"

#define MW_PEER_COMPONENT 1
#define MW_PEER_MAX_LOCAL 16            /* local candidates kept */
#define MW_PEER_MAX_REMOTE 32           /* remote candidates accepted */
#define MW_PEER_MAX_LINE 512            /* longest remote candidate line */
#define MW_PEER_PKT_MAX MW_PEER_RTP_MAX /* longest RTP/RTCP packet we handle */
#define MW_PEER_BUF (MW_PEER_PKT_MAX + MW_SRTP_TRAILER_ROOM)
#define MW_PEER_HELD_MAX 8  /* DTLS datagrams held until a pair is selected */
#define MW_TX_SLOTS 4096    /* worker-wide send slots (about 6 MB, touched lazily) */
#define MW_TX_QUEUE 32      /* packets queued per peer before it is flushed early */
#define MW_TX_GSO_MAX 60000 /* bytes in one UDP GSO send (under 64 kB) */
#define MW_RX_BATCH 32      /* datagrams per recvmmsg() */
#define MW_RX_ROUNDS 2      /* recvmmsg() calls per peer per wake-up (fairness) */

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif

/* A DTLS datagram that could not be sent yet (handshake only). */
typedef struct {
    size_t len;
    uint8_t *data;
} mw_peer_held_t;

struct mw_peer {
    NiceAgent *agent;
    guint stream;
    GMainContext *ctx;     /* the owner's: our timers and idles */
    GMainContext *ice_ctx; /* libnice's: its shard's child context */
    mw_shard_t *ice;       /* that shard, NULL: ice_ctx is ctx */
    mw_dtls_identity_t *id;
    const mw_peer_callbacks_t *cb;
    void *user;
    mw_peer_state_t state;

    NiceAddress announced;
    int has_announced;
    gchar *ufrag, *pwd;
    char *local[MW_PEER_MAX_LOCAL];
    size_t n_local;
    GSource *gathered_idle;

    int remote_set;
    GSList *pending; /* NiceCandidate *, before mw_peer_set_remote */
    size_t n_remote;

    int ice_up;
    mw_peer_held_t held[MW_PEER_HELD_MAX];
    size_t n_held;
    mw_dtls_t *dtls;
    GSource *dtls_timer;
    mw_srtp_t srtp;

    /* The selected pair's local UDP socket and remote address: media goes
     * out with one sendto() instead of nice_agent_send() (which takes the
     * agent lock and walks stream, component and pair per packet). -1 when
     * there is no plain UDP socket (a relayed pair): libnice sends then. */
    int tx_fd;
    GSocket *tx_sock;
    struct sockaddr_storage tx_addr;
    socklen_t tx_addrlen;
    int ur_file;     /* tx_fd's index in the ring's fixed file table, -1: none */
    unsigned ur_gen; /* the ring that table belongs to */

    /* Send batching: slot numbers, lengths and RTCP flags of the queued
     * copies, and the link in the list of peers with a queue. */
    uint16_t txq[MW_TX_QUEUE];
    uint16_t txlen[MW_TX_QUEUE];
    uint32_t txrtcp; /* bit i: txq[i] is RTCP */
    unsigned n_txq;
    int tx_hold; /* slot lent by mw_peer_rtp_buf(), -1: none */
    int tx_listed;
    mw_peer_t *tx_next;

    /* Fast receive path: the selected socket is read by the worker's epoll
     * set, libnice's sources are parked (see mw_peer_fast_rx_start). */
    int rx_fast;
    int controlling;
    uint64_t tie; /* ICE tie-breaker for our STUN replies */

    mw_peer_stats_t stats;
    uint8_t rx[MW_PEER_BUF];
    uint8_t tx[MW_PEER_BUF];
};

/* The worker-wide send pool (one thread: no locks). */
static struct {
    int on;
    int no_gso; /* the kernel refused UDP_SEGMENT once: plain sendmmsg */
    uint8_t (*buf)[MW_PEER_BUF];
    uint16_t free[MW_TX_SLOTS];
    size_t n_free;
    mw_peer_t *listed;  /* peers with a queue */
    gint64 first_us;    /* when the oldest queued copy was queued */
    gint64 max_wait_us; /* flush early once the oldest copy waited this long */
    mw_peer_io_stats_t st;
} mw_tx = {.max_wait_us = 200};

/* The worker-wide fast receive path: one epoll set with the selected socket
 * of every connected peer, one GLib source for it, recvmmsg() batches, and
 * a STUN agent answering the browser's checks (consent) with libnice's STUN
 * code. park is a context nobody iterates: libnice's socket sources move
 * there so that nothing else reads those sockets. */
static struct {
    int epfd;
    GSource *src;
    GMainContext *park;
    StunAgent stun;
    uint8_t buf[MW_RX_BATCH][MW_PEER_BUF];
    struct sockaddr_storage from[MW_RX_BATCH];
    /* Kernel receive stamps (tools): SO_TIMESTAMPNS on each fast-path
     * socket, one control buffer per message, and the stamp of the
     * datagram being handled (0: none). */
    int stamps;
    uint64_t stamp_ns;
    union {
        struct cmsghdr align;
        uint8_t b[CMSG_SPACE(sizeof(struct timespec))];
    } ctl[MW_RX_BATCH];
} mw_rx = {.epfd = -1};

static void mw_peer_dtls_after(mw_peer_t *p, mw_dtls_state_t st);

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

    g_source_unref(p->gathered_idle);
    p->gathered_idle = NULL;
    if (p->cb->on_gathered)
        p->cb->on_gathered(p, p->user);
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

static void mw_peer_tx_flush_one(mw_peer_t *p);
static void mw_peer_tx_unlist(mw_peer_t *p);
static void mw_peer_rx_fast_begin(mw_peer_t *p);
static void mw_peer_rx_fast_end(mw_peer_t *p);
static void mw_peer_on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                            gpointer data);

static void mw_peer_ur_file_add(mw_peer_t *p);
static void mw_peer_ur_file_del(mw_peer_t *p);

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

    g_source_unref(p->dtls_timer);
    p->dtls_timer = NULL;
    mw_peer_dtls_after(p, mw_dtls_handle_timeout(p->dtls));
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
static void mw_peer_dtls_after(mw_peer_t *p, mw_dtls_state_t st)
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

/* RFC 5761 4 / RFC 7983: SRTP or SRTCP (first byte 128..191). */
static void mw_peer_rx_srtp(mw_peer_t *p, const uint8_t *buf, size_t len)
{
    /* RFC 5761 4: RTCP packet types 192..223 sit where RTP has the marker
     * bit set and payload types 64..95. */
    int is_rtcp = buf[1] >= 192 && buf[1] <= 223;
    size_t n = len;

    if (!mw_srtp_ready(&p->srtp) || len > MW_PEER_PKT_MAX) {
        p->stats.dropped++;
        return;
    }
    if (!is_rtcp && p->cb->on_srtp_peek && !p->cb->on_srtp_peek(p, buf, len, p->user)) {
        p->stats.rtp_in++;
        return;
    }
    memcpy(p->rx, buf, len);
    if (is_rtcp) {
        if (mw_srtp_unprotect_rtcp(&p->srtp, p->rx, &n) < 0) {
            p->stats.srtp_errors++;
            return;
        }
        p->stats.rtcp_in++;
        if (p->cb->on_rtcp)
            p->cb->on_rtcp(p, p->rx, n, p->user);
    } else {
        if (mw_srtp_unprotect_rtp(&p->srtp, p->rx, &n) < 0) {
            p->stats.srtp_errors++;
            return;
        }
        p->stats.rtp_in++;
        if (p->cb->on_rtp)
            p->cb->on_rtp(p, p->rx, n, p->user);
    }
}

/* One datagram that is not STUN: demultiplexed by the first byte (RFC 7983
 * 7). */
static void mw_peer_rx_datagram(mw_peer_t *p, const uint8_t *b, size_t len)
{
    if (len == 0)
        return;
    p->stats.bytes_in += len;
    if (b[0] >= 128 && b[0] <= 191 && len >= 2) {
        mw_peer_rx_srtp(p, b, len);
    } else if (b[0] >= 20 && b[0] <= 63 && p->dtls && p->state != MW_PEER_FAILED &&
               p->state != MW_PEER_CLOSED) {
        mw_peer_dtls_after(p, mw_dtls_handle(p->dtls, b, len));
    } else {
        p->stats.dropped++;
    }
}

/* libnice receive callback. STUN (0..3) never gets here: libnice consumes
 * it. */
static void mw_peer_on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                            gpointer data)
{
    mw_peer_rx_datagram(data, (const uint8_t *)buf, len);
}

/* STUN validater: "<our ufrag>:<theirs>" is keyed with our password. */
static bool mw_peer_stun_key(StunAgent *agent, StunMessage *msg, uint8_t *user, uint16_t user_len,
                             uint8_t **key, size_t *key_len, void *data)
{
    mw_peer_t *p = data;
    size_t n = strlen(p->ufrag);

    if (user_len <= n || memcmp(user, p->ufrag, n) != 0 || user[n] != ':')
        return false;
    *key = (uint8_t *)p->pwd;
    *key_len = strlen(p->pwd);
    return true;
}

/* A STUN datagram on the fast path: a valid Binding request for our
 * credentials (the browser's checks and consent, RFC 7675) is answered
 * like libnice answers it; anything else is dropped and counted. */
static void mw_peer_rx_stun(mw_peer_t *p, const uint8_t *b, size_t len,
                            const struct sockaddr_storage *from, socklen_t from_len)
{
    StunMessage req, reply;
    uint8_t out[512];
    size_t olen = sizeof(out);
    bool control = p->controlling;

    p->stats.bytes_in += len;
    mw_tx.st.stun_in++;
    if (stun_message_validate_buffer_length(b, len, true) <= 0 ||
        stun_agent_validate(&mw_rx.stun, &req, b, len, mw_peer_stun_key, p) !=
            STUN_VALIDATION_SUCCESS ||
        stun_message_get_class(&req) != STUN_REQUEST ||
        stun_message_get_method(&req) != STUN_BINDING) {
        p->stats.dropped++;
        return;
    }
    StunUsageIceReturn r = stun_usage_ice_conncheck_create_reply(
        &mw_rx.stun, &req, &reply, out, &olen, from, from_len, &control, p->tie,
        STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if ((r != STUN_USAGE_ICE_RETURN_SUCCESS && r != STUN_USAGE_ICE_RETURN_ROLE_CONFLICT) ||
        olen == 0 ||
        sendto(p->tx_fd, out, olen, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)from,
               from_len) < 0)
        p->stats.dropped++;
}

/* The SO_TIMESTAMPNS stamp of a received message in ns, 0 if none. */
static uint64_t mw_peer_cmsg_stamp(struct msghdr *h)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        }
    }
    return 0;
}

/* Reads what p's socket holds (a bounded number of batches; the epoll set
 * is level-triggered, the rest comes next wake-up). */
static void mw_peer_rx_drain(mw_peer_t *p)
{
    struct mmsghdr msg[MW_RX_BATCH];
    struct iovec iov[MW_RX_BATCH];

    for (int round = 0; round < MW_RX_ROUNDS; round++) {
        for (int i = 0; i < MW_RX_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = mw_rx.buf[i], .iov_len = MW_PEER_PKT_MAX};
            msg[i].msg_hdr = (struct msghdr){.msg_name = &mw_rx.from[i],
                                             .msg_namelen = sizeof(mw_rx.from[i]),
                                             .msg_iov = &iov[i],
                                             .msg_iovlen = 1};
            if (mw_rx.stamps) {
                msg[i].msg_hdr.msg_control = mw_rx.ctl[i].b;
                msg[i].msg_hdr.msg_controllen = sizeof(mw_rx.ctl[i].b);
            }
        }
        int n = recvmmsg(p->tx_fd, msg, MW_RX_BATCH, MSG_DONTWAIT, NULL);
        mw_tx.st.recv_calls++;
        if (n <= 0)
            return;
        mw_tx.st.recv_dgrams += (uint64_t)n;
        for (int i = 0; i < n && p->rx_fast; i++) {
            const uint8_t *b = mw_rx.buf[i];
            size_t len = msg[i].msg_len;
            if (mw_rx.stamps)
                mw_rx.stamp_ns = mw_peer_cmsg_stamp(&msg[i].msg_hdr);
            if (msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
                p->stats.dropped++; /* over MW_PEER_PKT_MAX: not ours */
            } else if (len > 0 && b[0] < 4) {
                mw_peer_rx_stun(p, b, len, &mw_rx.from[i], msg[i].msg_hdr.msg_namelen);
            } else {
                mw_peer_rx_datagram(p, b, len);
            }
            /* Bounded batching: copies do not wait for the rest of a long
             * loop turn (latency), only for what fits in max_wait_us. */
            if (mw_tx.listed && g_get_monotonic_time() - mw_tx.first_us >= mw_tx.max_wait_us)
                mw_peer_flush();
        }
        mw_rx.stamp_ns = 0;
        if (n < MW_RX_BATCH || !p->rx_fast)
            return;
    }
}

uint64_t mw_peer_rx_stamp_ns(void)
{
    return mw_rx.stamp_ns;
}

#define MW_RX_READY 64 /* ready peers taken per epoll_wait() */

/* Drains the ready peers: one batch of them, or (all) until none is left,
 * calling between(arg) after each peer when given. */
static void mw_peer_rx_ready(int all, void (*between)(void *), void *arg)
{
    struct epoll_event ev[MW_RX_READY];
    int n;
    do {
        n = epoll_wait(mw_rx.epfd, ev, MW_RX_READY, 0);
        for (int i = 0; i < n; i++) {
            mw_peer_rx_drain(ev[i].data.ptr);
            if (between != NULL)
                between(arg);
        }
    } while (all && n == MW_RX_READY);
}

/* GLib source on the epoll set: a batch of ready peers per loop turn (the
 * rest stay ready for the next turn, after the flush). */
static gboolean mw_peer_rx_dispatch(gint fd, GIOCondition cond, gpointer data)
{
    mw_peer_rx_ready(0, NULL, NULL);
    return G_SOURCE_CONTINUE;
}

/* Moves a connected peer onto the fast path: its selected socket joins the
 * epoll set and libnice's sources for it are parked. Only plain UDP pairs
 * (tx_fd): relayed ones stay with libnice. */
static void mw_peer_rx_fast_begin(mw_peer_t *p)
{
    if (mw_rx.epfd < 0 || p->rx_fast || p->tx_fd < 0)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
    if (epoll_ctl(mw_rx.epfd, EPOLL_CTL_ADD, p->tx_fd, &ev) < 0) {
        VC_WARN("peer %s: epoll_ctl: %s (libnice keeps receiving)", p->ufrag, strerror(errno));
        return;
    }
    if (mw_rx.stamps) {
        int on = 1;
        setsockopt(p->tx_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    }
    nice_agent_attach_recv(p->agent, p->stream, MW_PEER_COMPONENT, mw_rx.park, mw_peer_on_recv, p);
    p->rx_fast = 1;
}

/* Takes p off the fast path (before its socket goes away). */
static void mw_peer_rx_fast_end(mw_peer_t *p)
{
    if (!p->rx_fast)
        return;
    epoll_ctl(mw_rx.epfd, EPOLL_CTL_DEL, p->tx_fd, NULL);
    p->rx_fast = 0;
}

/* Starts the fast receive path on ctx. */
int mw_peer_fast_rx_start(GMainContext *ctx, int stamps)
{
    static const uint16_t known[] = {STUN_ATTRIBUTE_USERNAME,
                                     STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
                                     STUN_ATTRIBUTE_ERROR_CODE,
                                     STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES,
                                     STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,
                                     STUN_ATTRIBUTE_PRIORITY,
                                     STUN_ATTRIBUTE_USE_CANDIDATE,
                                     STUN_ATTRIBUTE_FINGERPRINT,
                                     STUN_ATTRIBUTE_ICE_CONTROLLED,
                                     STUN_ATTRIBUTE_ICE_CONTROLLING,
                                     0};
    if (mw_rx.epfd >= 0)
        return 0;
    mw_rx.stamps = stamps;
    mw_rx.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (mw_rx.epfd < 0) {
        VC_WARN("peer: epoll_create1: %s; libnice receives", strerror(errno));
        return -1;
    }
    stun_agent_init(&mw_rx.stun, known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    mw_rx.park = g_main_context_new();
    if (ctx == NULL)
        return 0; /* the caller polls: mw_peer_fast_rx_poll() */
    mw_rx.src = g_unix_fd_source_new(mw_rx.epfd, G_IO_IN);
    g_source_set_callback(mw_rx.src, (GSourceFunc)(void (*)(void))mw_peer_rx_dispatch, NULL, NULL);
    g_source_attach(mw_rx.src, ctx);
    return 0;
}

void mw_peer_fast_rx_poll(void (*between)(void *), void *arg)
{
    if (mw_rx.epfd >= 0)
        mw_peer_rx_ready(1, between, arg);
}

/* Stops it (after every peer is freed). */
void mw_peer_fast_rx_stop(void)
{
    if (mw_rx.epfd < 0)
        return;
    if (mw_rx.src != NULL) {
        g_source_destroy(mw_rx.src);
        g_source_unref(mw_rx.src);
    }
    g_main_context_unref(mw_rx.park);
    close(mw_rx.epfd);
    mw_rx.epfd = -1;
    mw_rx.src = NULL;
    mw_rx.park = NULL;
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
    if (mw_srtp_global_init() < 0 || !id)
        goto fail;
    /* Aggressive nomination unless cfg asks for regular: RFC 8445 8.1.1
     * deprecates it, but media starts a check round sooner (peer.h). */
    p->ice = mw_shard_pick(mw_ice, MW_ICE_SHARDS, &mw_ice_next, cfg->ctx);
    p->ice_ctx = p->ice ? mw_shard_context(p->ice) : cfg->ctx;
    mw_shard_changed(p->ice);
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

/* Counts one copy that left (or did not). */
static void mw_peer_tx_count(mw_peer_t *p, size_t n, int rtcp, int ok)
{
    if (!ok) {
        p->stats.dropped++;
        return;
    }
    p->stats.bytes_out += n;
    if (rtcp)
        p->stats.rtcp_out++;
    else
        p->stats.rtp_out++;
}

/* Turns batching on or off (flushing what is queued). */
void mw_peer_set_batching(int on)
{
    if (!on)
        mw_peer_flush();
    mw_tx.on = on;
}

/* How long a queued copy may wait for the end of the loop turn. */
void mw_peer_set_batch_wait(long us)
{
    mw_tx.max_wait_us = us;
}

/* UDP GSO for runs of equal-size copies to one peer (on by default). */
void mw_peer_set_gso(int on)
{
    mw_tx.no_gso = !on;
}

/* Takes a free slot, allocating the pool on first use; flushes every queue
 * when the pool is empty. Returns the slot number. */
static uint16_t mw_peer_tx_slot(void)
{
    if (!mw_tx.buf) {
        mw_tx.buf = vc_malloc(sizeof(*mw_tx.buf) * MW_TX_SLOTS);
        for (size_t i = 0; i < MW_TX_SLOTS; i++)
            mw_tx.free[i] = (uint16_t)(MW_TX_SLOTS - 1 - i);
        mw_tx.n_free = MW_TX_SLOTS;
    }
    if (mw_tx.n_free == 0)
        mw_peer_flush();
    return mw_tx.free[--mw_tx.n_free];
}

/* Fills up to MW_TX_QUEUE messages for p's queue from index i on: a run of
 * equal sizes (the last one may be shorter) becomes one UDP GSO message.
 * Returns the number of messages; first[m] is the queue index message m
 * starts at and nseg[m] how many copies it carries. */
static unsigned mw_peer_tx_build(mw_peer_t *p, int gso, struct mmsghdr *msg, struct iovec *iov,
                                 uint8_t (*cbuf)[CMSG_SPACE(sizeof(uint16_t))], unsigned *first,
                                 unsigned *nseg)
{
    unsigned nm = 0;

    for (unsigned i = 0; i < p->n_txq;) {
        unsigned j = i + 1;
        size_t seg = p->txlen[i], total = seg;
        if (gso && !mw_tx.no_gso) {
            while (j < p->n_txq && total + p->txlen[j] <= MW_TX_GSO_MAX && p->txlen[j] <= seg) {
                total += p->txlen[j];
                if (p->txlen[j++] < seg)
                    break; /* a shorter copy ends the run */
            }
        }
        struct msghdr *h = &msg[nm].msg_hdr;
        memset(h, 0, sizeof(*h));
        h->msg_name = &p->tx_addr;
        h->msg_namelen = p->tx_addrlen;
        for (unsigned k = i; k < j; k++)
            iov[k] = (struct iovec){.iov_base = mw_tx.buf[p->txq[k]], .iov_len = p->txlen[k]};
        h->msg_iov = &iov[i];
        h->msg_iovlen = j - i;
        if (j - i > 1) {
            h->msg_control = cbuf[nm];
            h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
            struct cmsghdr *cm = CMSG_FIRSTHDR(h);
            cm->cmsg_level = SOL_UDP;
            cm->cmsg_type = UDP_SEGMENT;
            cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t gs = (uint16_t)seg;
            memcpy(CMSG_DATA(cm), &gs, sizeof(gs));
        }
        first[nm] = i;
        nseg[nm++] = j - i;
        i = j;
    }
    return nm;
}

/* Sends p's queue: one sendmmsg() for all of it. A GSO message the kernel
 * refuses is sent again as single datagrams (and GSO is off for good if
 * the kernel or device cannot do it). */
static void mw_peer_tx_flush_one(mw_peer_t *p)
{
    struct mmsghdr msg[MW_TX_QUEUE];
    struct iovec iov[MW_TX_QUEUE];
    uint8_t cbuf[MW_TX_QUEUE][CMSG_SPACE(sizeof(uint16_t))];
    unsigned first[MW_TX_QUEUE], nseg[MW_TX_QUEUE];
    int gso = 1;

    if (p->n_txq == 0)
        return;
    unsigned nm = mw_peer_tx_build(p, gso, msg, iov, cbuf, first, nseg);
    for (unsigned m = 0; m < nm;) {
        int r = sendmmsg(p->tx_fd, msg + m, nm - m, MSG_DONTWAIT | MSG_NOSIGNAL);
        mw_tx.st.send_calls++;
        if (r > 0) {
            mw_tx.st.send_msgs += (uint64_t)r;
            for (unsigned k = m; k < m + (unsigned)r; k++)
                for (unsigned q = first[k]; q < first[k] + nseg[k]; q++) {
                    mw_peer_tx_count(p, p->txlen[q], (int)(p->txrtcp >> q) & 1, 1);
                    mw_tx.st.send_dgrams++;
                }
            m += (unsigned)r;
            continue;
        }
        if (errno == EINTR)
            continue;
        if (nseg[m] > 1 && gso) {
            /* EIO: no checksum offload; EINVAL: a segment over the MTU. */
            if (errno == EIO || errno == ENOPROTOOPT || errno == EOPNOTSUPP)
                mw_tx.no_gso = 1;
            gso = 0;
            unsigned from = first[m];
            nm = mw_peer_tx_build(p, 0, msg, iov, cbuf, first, nseg);
            m = from; /* without GSO message k carries queue entry k */
            continue;
        }
        /* EAGAIN / ENOBUFS or a refused datagram: it is lost, go on. */
        for (unsigned q = first[m]; q < first[m] + nseg[m]; q++)
            mw_peer_tx_count(p, p->txlen[q], (int)(p->txrtcp >> q) & 1, 0);
        m++;
    }
    for (unsigned i = 0; i < p->n_txq; i++)
        mw_tx.free[mw_tx.n_free++] = p->txq[i];
    p->n_txq = 0;
    p->txrtcp = 0;
}

/* io_uring for the flush: every peer's queue goes to the kernel in one
 * io_uring_enter() (an operation per message on each peer's own socket,
 * registered as a fixed file: a send carrying the address for a single
 * datagram, a sendmsg for a GSO run) instead of one sendmmsg() per peer. With paced publishers most
 * peers have one datagram per flush, and on this kind of machine the
 * system call around it cost as much as the datagram (vc-physloop: 172k
 * pps per core as sendmmsg per socket, 273k through io_uring). The
 * staging arrays live until the completions are reaped. */
#define MW_UR_ENTRIES 256
#define MW_UR_FILES 65536

static struct {
    struct io_uring ring;
    struct mmsghdr msg[MW_TX_SLOTS]; /* a message per copy at most */
    struct iovec iov[MW_TX_SLOTS];
    uint8_t cbuf[MW_TX_SLOTS][CMSG_SPACE(sizeof(uint16_t))];
    mw_peer_t *peer[MW_TX_SLOTS]; /* message i is peer[i]'s */
    unsigned first[MW_TX_SLOTS], nseg[MW_TX_SLOTS];
    uint8_t plain[MW_TX_SLOTS]; /* message i went as a send with an address */
    /* The selected sockets in the ring's fixed file table: no file lookup
     * per send. free_file[] holds the unused indexes. */
    int *free_file;
    unsigned n_free_file;
    int no_send_addr; /* the kernel refused a send with an address (before 6.0) */
} * mw_ur;
static int mw_ur_broken;   /* the ring failed: dropped at the end of the flush */
static unsigned mw_ur_gen; /* which ring a peer's ur_file belongs to */

void mw_peer_uring_stop(void);

int mw_peer_set_uring(int on)
{
    if (!on)
        mw_peer_uring_stop();
    if (!on || mw_ur != NULL)
        return 0;
    mw_ur = vc_calloc(1, sizeof(*mw_ur));
    int rv = io_uring_queue_init(MW_UR_ENTRIES, &mw_ur->ring, 0);
    if (rv < 0) {
        VC_WARN("io_uring unavailable (%s): one sendmmsg per peer", strerror(-rv));
        free(mw_ur);
        mw_ur = NULL;
        return -1;
    }
    /* As many fixed files as this process may have fds (the kernel's
     * limit too), at most MW_UR_FILES. */
    struct rlimit rl;
    unsigned nf = MW_UR_FILES;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < nf)
        nf = (unsigned)rl.rlim_cur;
    if ((rv = io_uring_register_files_sparse(&mw_ur->ring, nf)) < 0) {
        VC_INFO("io_uring: no fixed file table (%s)", strerror(-rv));
        nf = 0;
    }
    mw_ur->free_file = vc_malloc((nf ? nf : 1) * sizeof(int));
    for (unsigned i = 0; i < nf; i++)
        mw_ur->free_file[i] = (int)(nf - 1 - i);
    mw_ur->n_free_file = nf;
    mw_ur_gen++;
    return 0;
}

void mw_peer_uring_stop(void)
{
    if (mw_ur == NULL)
        return;
    io_uring_queue_exit(&mw_ur->ring); /* the fixed file table with it */
    free(mw_ur->free_file);
    free(mw_ur);
    mw_ur = NULL;
    mw_ur_gen++;
}

/* Puts p's selected socket in the ring's fixed file table (if there is a
 * ring with room). */
static void mw_peer_ur_file_add(mw_peer_t *p)
{
    if (mw_ur == NULL || p->ur_file >= 0 || p->tx_fd < 0 || mw_ur->n_free_file == 0)
        return;
    int i = mw_ur->free_file[--mw_ur->n_free_file];
    int rv = io_uring_register_files_update(&mw_ur->ring, (unsigned)i, &p->tx_fd, 1);
    if (rv != 1) {
        mw_ur->free_file[mw_ur->n_free_file++] = i;
        return;
    }
    p->ur_file = i;
    p->ur_gen = mw_ur_gen;
}

/* Takes p's socket out of the table: the table holds a reference to the
 * file, which would keep the port bound after libnice closes it. */
static void mw_peer_ur_file_del(mw_peer_t *p)
{
    if (p->ur_file < 0)
        return;
    if (mw_ur != NULL && p->ur_gen == mw_ur_gen) {
        int none = -1;
        int rv = io_uring_register_files_update(&mw_ur->ring, (unsigned)p->ur_file, &none, 1);
        if (rv == 1)
            mw_ur->free_file[mw_ur->n_free_file++] = p->ur_file;
        else
            VC_WARN("io_uring: fixed file %d not released (%s)", p->ur_file, strerror(-rv));
    }
    p->ur_file = -1;
}

/* Message i came back with res (bytes, or -errno). A GSO message the
 * kernel refused, or a send whose address it refused, goes again as
 * single datagrams. */
static void mw_peer_ur_done(unsigned i, int res)
{
    mw_peer_t *p = mw_ur->peer[i];
    unsigned from = mw_ur->first[i], to = from + mw_ur->nseg[i];

    /* A kernel before 6.0 takes no address with IORING_OP_SEND. */
    int no_addr = res < 0 && mw_ur->plain[i] && (res == -EINVAL || res == -EDESTADDRREQ);
    if (no_addr && !mw_ur->no_send_addr) {
        VC_INFO("io_uring: no send with an address here (%s): sendmsg operations", strerror(-res));
        mw_ur->no_send_addr = 1;
    }
    if (res >= 0)
        mw_tx.st.send_msgs++;
    if (res < 0 && (no_addr || to - from > 1)) {
        if (res == -EIO || res == -ENOPROTOOPT || res == -EOPNOTSUPP)
            mw_tx.no_gso = 1;
        for (unsigned q = from; q < to; q++) {
            ssize_t r =
                sendto(p->tx_fd, mw_tx.buf[p->txq[q]], p->txlen[q], MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&p->tx_addr, p->tx_addrlen);
            mw_tx.st.send_calls++;
            mw_tx.st.send_dgrams += r >= 0;
            mw_peer_tx_count(p, p->txlen[q], (int)(p->txrtcp >> q) & 1, r >= 0);
        }
        return;
    }
    for (unsigned q = from; q < to; q++) {
        mw_tx.st.send_dgrams += res >= 0;
        mw_peer_tx_count(p, p->txlen[q], (int)(p->txrtcp >> q) & 1, res >= 0);
    }
}

/* Submits messages [m, m + n) and reaps their completions. Every one
 * completes at once (MSG_DONTWAIT: a full socket buffer is -EAGAIN, never
 * a wait). If the kernel takes fewer (or a completion cannot be read), the
 * rest go by plain sendmsg() and the ring is dropped after this flush. */
static void mw_peer_ur_send(unsigned m, unsigned n)
{
    struct io_uring_cqe *cqe;
    unsigned done = 0;
    if (!mw_ur_broken) {
        for (unsigned i = m; i < m + n; i++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&mw_ur->ring);
            mw_peer_t *p = mw_ur->peer[i];
            int fixed = p->ur_file >= 0 && p->ur_gen == mw_ur_gen;
            int fd = fixed ? p->ur_file : p->tx_fd;
            const struct msghdr *h = &mw_ur->msg[i].msg_hdr;
            /* One datagram: a send with the address, no msghdr for the
             * kernel to copy and walk. */
            mw_ur->plain[i] = h->msg_controllen == 0 && h->msg_iovlen == 1 && !mw_ur->no_send_addr;
            if (mw_ur->plain[i]) {
                io_uring_prep_send(sqe, fd, h->msg_iov[0].iov_base, h->msg_iov[0].iov_len,
                                   MSG_DONTWAIT | MSG_NOSIGNAL);
                io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)h->msg_name,
                                            (uint16_t)h->msg_namelen);
            } else {
                io_uring_prep_sendmsg(sqe, fd, h, MSG_DONTWAIT | MSG_NOSIGNAL);
            }
            if (fixed)
                sqe->flags |= IOSQE_FIXED_FILE;
            io_uring_sqe_set_data(sqe, (void *)(uintptr_t)i);
        }
        int rv;
        do {
            rv = io_uring_submit_and_wait(&mw_ur->ring, n);
        } while (rv == -EINTR);
        mw_tx.st.send_calls++;
        unsigned submitted = rv > 0 ? (unsigned)rv : 0;
        for (; done < submitted; done++) {
            if (io_uring_wait_cqe(&mw_ur->ring, &cqe) != 0)
                break;
            unsigned i = (unsigned)(uintptr_t)io_uring_cqe_get_data(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&mw_ur->ring, cqe);
            mw_peer_ur_done(i, res);
        }
        if (done < n) {
            VC_WARN("io_uring took %u of %u sends (%s): sendmmsg from now on", done, n,
                    rv < 0 ? strerror(-rv) : "completions lost");
            mw_ur_broken = 1;
        }
    }
    /* Without the ring (after a failure): the messages not completed. With
     * a lost completion, which messages completed is unknown; sending
     * the rest again may repeat a datagram, which RTP tolerates. */
    for (unsigned i = m + done; i < m + n; i++) {
        ssize_t r =
            sendmsg(mw_ur->peer[i]->tx_fd, &mw_ur->msg[i].msg_hdr, MSG_DONTWAIT | MSG_NOSIGNAL);
        mw_tx.st.send_calls++;
        mw_peer_ur_done(i, r >= 0 ? (int)r : -errno);
    }
}

/* Every listed peer's queue through io_uring, then the slots back. */
static void mw_peer_flush_uring(void)
{
    unsigned nm = 0, ncopies = 0;
    mw_peer_t *list = mw_tx.listed;

    mw_tx.listed = NULL;
    for (mw_peer_t *p = list; p != NULL; p = p->tx_next) {
        p->tx_listed = 0;
        unsigned k = mw_peer_tx_build(p, 1, mw_ur->msg + nm, mw_ur->iov + ncopies, mw_ur->cbuf + nm,
                                      mw_ur->first + nm, mw_ur->nseg + nm);
        for (unsigned i = nm; i < nm + k; i++)
            mw_ur->peer[i] = p;
        nm += k;
        ncopies += p->n_txq;
    }
    for (unsigned m = 0; m < nm; m += MW_UR_ENTRIES)
        mw_peer_ur_send(m, nm - m < MW_UR_ENTRIES ? nm - m : MW_UR_ENTRIES);
    for (mw_peer_t *p = list, *next; p != NULL; p = next) {
        next = p->tx_next;
        p->tx_next = NULL;
        for (unsigned i = 0; i < p->n_txq; i++)
            mw_tx.free[mw_tx.n_free++] = p->txq[i];
        p->n_txq = 0;
        p->txrtcp = 0;
    }
    if (mw_ur_broken) {
        mw_peer_uring_stop();
        mw_ur_broken = 0;
    }
}

/* The worker-wide batching counters. */
void mw_peer_io_stats(mw_peer_io_stats_t *out)
{
    *out = mw_tx.st;
}

/* Sends every queued copy of every peer. */
void mw_peer_flush(void)
{
    if (mw_ur != NULL && mw_tx.listed != NULL) {
        mw_peer_flush_uring();
        return;
    }
    while (mw_tx.listed) {
        mw_peer_t *p = mw_tx.listed;
        mw_tx.listed = p->tx_next;
        p->tx_next = NULL;
        p->tx_listed = 0;
        mw_peer_tx_flush_one(p);
    }
}

/* Takes p off the list of peers with a queue (before it is freed). */
static void mw_peer_tx_unlist(mw_peer_t *p)
{
    if (p->tx_hold >= 0)
        mw_tx.free[mw_tx.n_free++] = (uint16_t)p->tx_hold;
    p->tx_hold = -1;
    for (mw_peer_t **l = &mw_tx.listed; *l; l = &(*l)->tx_next)
        if (*l == p) {
            *l = p->tx_next;
            break;
        }
    p->tx_next = NULL;
    p->tx_listed = 0;
}

/* Protects a copy of pkt into a pool slot and queues it on p. */
static int mw_peer_tx_queue_slot(mw_peer_t *p, uint16_t slot, size_t len, int rtcp)
{
    uint8_t *b = mw_tx.buf[slot];
    size_t n = len;
    if ((rtcp ? mw_srtp_protect_rtcp(&p->srtp, b, &n) : mw_srtp_protect_rtp(&p->srtp, b, &n)) < 0) {
        mw_tx.free[mw_tx.n_free++] = slot;
        p->stats.srtp_errors++;
        return -1;
    }
    if (p->n_txq == MW_TX_QUEUE)
        mw_peer_tx_flush_one(p);
    p->txq[p->n_txq] = slot;
    p->txlen[p->n_txq] = (uint16_t)n;
    if (rtcp)
        p->txrtcp |= 1u << p->n_txq;
    p->n_txq++;
    if (!p->tx_listed) {
        if (!mw_tx.listed)
            mw_tx.first_us = g_get_monotonic_time();
        p->tx_listed = 1;
        p->tx_next = mw_tx.listed;
        mw_tx.listed = p;
    }
    return 0;
}

/* Sends b (p->tx or a slot; protected in place) at once. */
static int mw_peer_send_now(mw_peer_t *p, uint8_t *b, size_t len, int rtcp)
{
    size_t n = len;
    gint sent;

    if ((rtcp ? mw_srtp_protect_rtcp(&p->srtp, b, &n) : mw_srtp_protect_rtp(&p->srtp, b, &n)) < 0) {
        p->stats.srtp_errors++;
        return -1;
    }
    if (p->tx_fd >= 0) {
        ssize_t r;
        do
            r = sendto(p->tx_fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL,
                       (const struct sockaddr *)&p->tx_addr, p->tx_addrlen);
        while (r < 0 && errno == EINTR);
        sent = r < 0 ? -1 : (gint)r;
    } else {
        sent = nice_agent_send(p->agent, p->stream, MW_PEER_COMPONENT, (guint)n, (const gchar *)b);
    }
    mw_peer_tx_count(p, n, rtcp, sent >= 0 && (size_t)sent == n);
    return sent >= 0 && (size_t)sent == n ? 0 : -1;
}

/* Protects a copy of pkt and sends it (or queues it when batching): the
 * common part of RTP and RTCP. */
static int mw_peer_send_srtp(mw_peer_t *p, const uint8_t *pkt, size_t len, int rtcp)
{
    if (p->state != MW_PEER_CONNECTED || !pkt || len > MW_PEER_PKT_MAX) {
        p->stats.dropped++;
        return -1;
    }
    if (mw_tx.on && p->tx_fd >= 0) {
        uint16_t slot = mw_peer_tx_slot();
        memcpy(mw_tx.buf[slot], pkt, len);
        return mw_peer_tx_queue_slot(p, slot, len, rtcp);
    }
    memcpy(p->tx, pkt, len);
    return mw_peer_send_now(p, p->tx, len, rtcp);
}

/* Lends the buffer the next RTP packet for p is built in: a send slot
 * (held by p until sent) when batching, else p's own. */
uint8_t *mw_peer_rtp_buf(mw_peer_t *p)
{
    if (!mw_tx.on || p->tx_fd < 0 || p->state != MW_PEER_CONNECTED)
        return p->tx;
    if (p->tx_hold < 0)
        p->tx_hold = mw_peer_tx_slot();
    return mw_tx.buf[p->tx_hold];
}

/* Protects the packet built in the lent buffer in place and queues or
 * sends it: no copy. */
int mw_peer_send_rtp_buf(mw_peer_t *p, size_t len)
{
    int slot = p->tx_hold;

    p->tx_hold = -1;
    if (p->state != MW_PEER_CONNECTED || len > MW_PEER_PKT_MAX ||
        (slot >= 0 && (!mw_tx.on || p->tx_fd < 0))) {
        if (slot >= 0)
            mw_tx.free[mw_tx.n_free++] = (uint16_t)slot;
        p->stats.dropped++;
        return -1;
    }
    if (slot >= 0)
        return mw_peer_tx_queue_slot(p, (uint16_t)slot, len, 0);
    return mw_peer_send_now(p, p->tx, len, 0);
}

/* SRTP-protects and sends one RTP packet. */
int mw_peer_send_rtp(mw_peer_t *p, const uint8_t *pkt, size_t len)
{
    return mw_peer_send_srtp(p, pkt, len, 0);
}

/* SRTCP-protects and sends one RTCP packet. */
int mw_peer_send_rtcp(mw_peer_t *p, const uint8_t *pkt, size_t len)
{
    return mw_peer_send_srtp(p, pkt, len, 1);
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
