/* peer_rx: the peer's receive path: the demux of a datagram (SRTP, SRTCP,
 * DTLS; libnice's receive callback and the fast path share it) and the
 * worker-wide fast path (recvmmsg() from one epoll set, STUN checks
 * answered here). See peer.h and peer_int.h. */
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <glib-unix.h>
#include <nice/agent.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/dtls.h"
#include "media-worker/shell/peer.h"
#include "media-worker/shell/peer_int.h"
#include "media-worker/shell/srtp.h"
#include "media-worker/shell/stun_known.h"

#define MW_RX_BATCH 32      /* datagrams per recvmmsg() */
#define MW_RX_ROUNDS 2      /* recvmmsg() calls per peer per wake-up (fairness) */
#define MW_RX_GRO_MAX 65535 /* one coalesced message: a whole UDP GSO train */

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

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
        uint8_t b[CMSG_SPACE(sizeof(struct timespec)) + CMSG_SPACE(sizeof(int))];
    } ctl[MW_RX_BATCH];
    /* MW_PEER_RX_GRO (tools): UDP_GRO on each socket, so that a sender's
     * UDP GSO train over loopback stays one message (gro: MW_RX_BATCH
     * buffers of MW_RX_GRO_MAX), split here at its segment size. */
    uint8_t (*gro)[MW_RX_GRO_MAX];
} mw_rx = {.epfd = -1};

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
        if (G_UNLIKELY(p->work_open))
            mw_peer_work_close(p);
        if (p->cb->on_rtp)
            p->cb->on_rtp(p, p->rx, n, p->user);
    }
}

/* One datagram that is not STUN: demultiplexed by the first byte (RFC 7983
 * 7). */
void mw_peer_rx_datagram(mw_peer_t *p, const uint8_t *b, size_t len)
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

/* A received message's SO_TIMESTAMPNS stamp in ns (0 if none) and its
 * UDP_GRO segment size (0 if it is one datagram). */
static uint64_t mw_peer_cmsg_read(struct msghdr *h, size_t *seg)
{
    uint64_t stamp = 0;
    *seg = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(c), sizeof(ts));
            stamp = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int g;
            memcpy(&g, CMSG_DATA(c), sizeof(g));
            *seg = g > 0 ? (size_t)g : 0;
        }
    }
    return stamp;
}

/* One received datagram on the fast path: STUN or the demux. */
static void mw_peer_rx_one(mw_peer_t *p, const uint8_t *b, size_t len,
                           const struct sockaddr_storage *from, socklen_t from_len)
{
    if (len > MW_PEER_PKT_MAX)
        p->stats.dropped++; /* not ours */
    else if (len > 0 && b[0] < 4)
        mw_peer_rx_stun(p, b, len, from, from_len);
    else
        mw_peer_rx_datagram(p, b, len);
}

/* Reads what p's socket holds (a bounded number of batches; the epoll set
 * is level-triggered, the rest comes next wake-up). */
static void mw_peer_rx_read(mw_peer_t *p)
{
    struct mmsghdr msg[MW_RX_BATCH];
    struct iovec iov[MW_RX_BATCH];

    for (int round = 0; round < MW_RX_ROUNDS; round++) {
        for (int i = 0; i < MW_RX_BATCH; i++) {
            iov[i] = mw_rx.gro != NULL
                         ? (struct iovec){.iov_base = mw_rx.gro[i], .iov_len = MW_RX_GRO_MAX}
                         : (struct iovec){.iov_base = mw_rx.buf[i], .iov_len = MW_PEER_PKT_MAX};
            msg[i].msg_hdr = (struct msghdr){.msg_name = &mw_rx.from[i],
                                             .msg_namelen = sizeof(mw_rx.from[i]),
                                             .msg_iov = &iov[i],
                                             .msg_iovlen = 1};
            if (mw_rx.stamps || mw_rx.gro != NULL) {
                msg[i].msg_hdr.msg_control = mw_rx.ctl[i].b;
                msg[i].msg_hdr.msg_controllen = sizeof(mw_rx.ctl[i].b);
            }
        }
        int n = recvmmsg(p->tx_fd, msg, MW_RX_BATCH, MSG_DONTWAIT, NULL);
        mw_tx.st.recv_calls++;
        if (n <= 0)
            return;
        mw_tx.st.recv_dgrams += (uint64_t)n;
        mw_tx.lone = n == 1;
        for (int i = 0; i < n && p->rx_fast; i++) {
            const uint8_t *b = iov[i].iov_base;
            size_t len = msg[i].msg_len, seg = 0;
            if (msg[i].msg_hdr.msg_control != NULL)
                mw_rx.stamp_ns = mw_peer_cmsg_read(&msg[i].msg_hdr, &seg);
            if (msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
                p->stats.dropped++; /* over the buffer: not ours */
            } else if (seg > 0 && seg < len) {
                for (size_t off = 0; off < len && p->rx_fast; off += seg)
                    mw_peer_rx_one(p, b + off, len - off < seg ? len - off : seg, &mw_rx.from[i],
                                   msg[i].msg_hdr.msg_namelen);
            } else {
                mw_peer_rx_one(p, b, len, &mw_rx.from[i], msg[i].msg_hdr.msg_namelen);
            }
            /* Bounded batching: copies do not wait for the rest of a long
             * loop turn (latency), only for what fits in max_wait_us. */
            if (mw_tx.listed && g_get_monotonic_time() - mw_tx.first_us >= mw_tx.max_wait_us)
                mw_peer_flush();
        }
        /* A lone packet (the worker keeps up): its copies leave now
         * instead of waiting for other publishers' fan-outs, which they
         * gain nothing from. A backlog keeps batching (bounded above), so
         * that a subscriber's run of copies is one GSO send. */
        if (n == 1 && mw_tx.listed)
            mw_peer_flush();
        mw_tx.lone = 0;
        mw_rx.stamp_ns = 0;
        if (n < MW_RX_BATCH || !p->rx_fast)
            return;
    }
}

static void mw_peer_rx_drain(mw_peer_t *p)
{
    uint64_t t0 = vc_cpu_meter_begin(p->work_open);
    mw_peer_rx_read(p);
    vc_cpu_meter_end(&p->work_ns, t0);
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
void mw_peer_rx_fast_begin(mw_peer_t *p)
{
    if (mw_rx.epfd < 0 || p->rx_fast || p->tx_fd < 0)
        return;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
    if (epoll_ctl(mw_rx.epfd, EPOLL_CTL_ADD, p->tx_fd, &ev) < 0) {
        VC_WARN("peer %s: epoll_ctl: %s (libnice keeps receiving)", p->ufrag, strerror(errno));
        return;
    }
    int on = 1;
    if (mw_rx.stamps)
        setsockopt(p->tx_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
    if (mw_rx.gro != NULL && setsockopt(p->tx_fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) < 0)
        VC_WARN("peer %s: UDP_GRO: %s", p->ufrag, strerror(errno));
    nice_agent_attach_recv(p->agent, p->stream, MW_PEER_COMPONENT, mw_rx.park, mw_peer_on_recv, p);
    p->rx_fast = 1;
}

/* Takes p off the fast path (before its socket goes away). */
void mw_peer_rx_fast_end(mw_peer_t *p)
{
    if (!p->rx_fast)
        return;
    epoll_ctl(mw_rx.epfd, EPOLL_CTL_DEL, p->tx_fd, NULL);
    p->rx_fast = 0;
}

/* Starts the fast receive path on ctx. */
int mw_peer_fast_rx_start(GMainContext *ctx, int flags)
{
    static const uint16_t known[] = MW_STUN_KNOWN_ATTRIBUTES;
    if (mw_rx.epfd >= 0)
        return 0;
    mw_rx.stamps = (flags & MW_PEER_RX_STAMPS) != 0;
    mw_rx.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (mw_rx.epfd < 0) {
        VC_WARN("peer: epoll_create1: %s; libnice receives", strerror(errno));
        return -1;
    }
    /* After the epoll set: a failed start leaves nothing to free. */
    if ((flags & MW_PEER_RX_GRO) && (mw_rx.gro = malloc(MW_RX_BATCH * MW_RX_GRO_MAX)) == NULL)
        VC_WARN("peer: no memory for UDP_GRO buffers; datagrams one by one");
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
    free(mw_rx.gro);
    mw_rx.gro = NULL;
    close(mw_rx.epfd);
    mw_rx.epfd = -1;
    mw_rx.src = NULL;
    mw_rx.park = NULL;
}
