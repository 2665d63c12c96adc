/* peer_int: what the peer's three files share (peer.c: ICE glue and
 * lifecycle; peer_tx.c: send path; peer_rx.c: receive demux and fast path).
 * Private to peer*.c: nothing else includes it, the API is peer.h. */
#ifndef MW_PEER_INT_H
#define MW_PEER_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <gio/gio.h>
#include <nice/agent.h>

#include "media-worker/shell/dtls.h"
#include "media-worker/shell/peer.h"
#include "media-worker/shell/shard.h"
#include "media-worker/shell/srtp.h"

#define MW_PEER_COMPONENT 1
#define MW_PEER_MAX_LOCAL 16            /* local candidates kept */
#define MW_PEER_PKT_MAX MW_PEER_RTP_MAX /* longest RTP/RTCP packet we handle */
#define MW_PEER_BUF (MW_PEER_PKT_MAX + MW_SRTP_TRAILER_ROOM)
#define MW_PEER_HELD_MAX 8 /* DTLS datagrams held until a pair is selected */
#define MW_TX_SLOTS 4096   /* worker-wide send slots (about 6 MB, touched lazily) */
#define MW_TX_QUEUE 32     /* packets queued per peer before it is flushed early */

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
    /* Kernel send stamps (tools, mw_peer_set_tx_stamps): the socket they
     * are reported on (-1: not set up yet) and the last RTP packet's. */
    int tx_stamps, tx_stamp_fd;
    uint64_t tx_stamp_ns;

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

    /* Join work (cb->on_first_media): metered until media flows. */
    int work_open;
    uint64_t work_ns, work_shard0;

    mw_peer_stats_t stats;
    uint8_t rx[MW_PEER_BUF];
    uint8_t tx[MW_PEER_BUF];
};

/* The worker-wide send pool (one thread: no locks), in peer_tx.c; the
 * receive path counts its calls in st and flushes early by it. */
typedef struct {
    int on;
    int no_gso; /* the kernel refused UDP_SEGMENT once: plain sendmmsg */
    uint8_t (*buf)[MW_PEER_BUF];
    uint16_t free[MW_TX_SLOTS];
    size_t n_free;
    mw_peer_t *listed;  /* peers with a queue */
    gint64 first_us;    /* when the oldest queued copy was queued */
    gint64 max_wait_us; /* flush early once the oldest copy waited this long */
    int lone;           /* the packet being handled is the only one read */
    mw_peer_io_stats_t st;
} mw_peer_tx_pool_t;
extern mw_peer_tx_pool_t mw_tx;

/* peer.c */
void mw_peer_dtls_after(mw_peer_t *p, mw_dtls_state_t st);
void mw_peer_on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf,
                     gpointer data);

/* peer_tx.c */
void mw_peer_tx_flush_one(mw_peer_t *p);
void mw_peer_work_close(mw_peer_t *p);
void mw_peer_tx_unlist(mw_peer_t *p);
void mw_peer_ur_file_add(mw_peer_t *p);
void mw_peer_ur_file_del(mw_peer_t *p);

/* peer_rx.c */
void mw_peer_rx_datagram(mw_peer_t *p, const uint8_t *b, size_t len);
void mw_peer_rx_fast_begin(mw_peer_t *p);
void mw_peer_rx_fast_end(mw_peer_t *p);

#endif
