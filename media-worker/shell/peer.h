/* peer: one browser's media transport on the worker: ICE (libnice, one stream
 * with one component: BUNDLE + rtcp-mux), DTLS-SRTP key agreement (OpenSSL),
 * and SRTP (libsrtp2). Not SDP and not rooms: callers pass parsed ICE/DTLS
 * parameters in and get decrypted RTP/RTCP out. Runs on the worker's GLib
 * main context; every callback is called on it. */
#ifndef MW_PEER_H
#define MW_PEER_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* The worker's DTLS certificate (ECDSA P-256, self-signed), shared by all
 * peers of the worker. */
typedef struct mw_dtls_identity mw_dtls_identity_t;
mw_dtls_identity_t *mw_dtls_identity_new(void);
void mw_dtls_identity_free(mw_dtls_identity_t *id);
/* "AB:CD:..." uppercase SHA-256 fingerprint of the certificate (for a=fingerprint:sha-256). */
const char *mw_dtls_identity_fingerprint(const mw_dtls_identity_t *id);

typedef struct mw_peer mw_peer_t;

typedef enum {
    MW_PEER_NEW,        /* created, gathering or waiting for remote parameters */
    MW_PEER_CONNECTING, /* ICE checks or DTLS handshake running */
    MW_PEER_CONNECTED,  /* DTLS done, fingerprint verified, SRTP keys installed */
    MW_PEER_FAILED,     /* ICE failed, DTLS failed, or fingerprint mismatch */
    MW_PEER_CLOSED,     /* DTLS close_notify received */
} mw_peer_state_t;

typedef enum {
    MW_DTLS_ROLE_SERVER, /* remote answered a=setup:active: we are the DTLS server */
    MW_DTLS_ROLE_CLIENT, /* remote answered a=setup:passive */
} mw_dtls_role_t;

typedef struct {
    GMainContext *ctx;
    const char *const *ice_addresses; /* local IPs to gather on; n == 0: libnice default */
    size_t n_ice_addresses;
    const char *announced_ip; /* NULL, or replaces the address in local candidates */
    uint16_t port_min, port_max;
    int ice_controlled; /* 1: ICE controlled (the remote offered); 0: controlling */
    /* Controlling only. 0: aggressive nomination (USE-CANDIDATE on every
     * check: media after one check round, as Janus's libnice default);
     * 1: regular (a second round nominates the best valid pair). */
    int regular_nomination;
} mw_peer_config_t;

typedef struct {
    void (*on_state)(mw_peer_t *p, mw_peer_state_t state, void *user);
    /* Local candidates are all gathered; mw_peer_local_candidates() is complete. */
    void (*on_gathered)(mw_peer_t *p, void *user);
    /* One decrypted RTP / RTCP packet. pkt is borrowed for the call only; the
     * callee may modify it in place. Never free p from inside a callback. */
    void (*on_rtp)(mw_peer_t *p, uint8_t *pkt, size_t len, void *user);
    void (*on_rtcp)(mw_peer_t *p, uint8_t *pkt, size_t len, void *user);
    /* Optional (load generator): sees each SRTP packet before it is
     * decrypted (RFC 3711 3.1: the RTP header is in the clear) and returns
     * 0 to skip unprotect and on_rtp for it, 1 to go on. The worker leaves
     * it NULL: every packet is authenticated. */
    int (*on_srtp_peek)(mw_peer_t *p, const uint8_t *pkt, size_t len, void *user);
    /* Decrypted DTLS application data: one SCTP packet (data channels, RFC
     * 8261), borrowed for the call. May be NULL (discarded). */
    void (*on_app_data)(mw_peer_t *p, const uint8_t *data, size_t len, void *user);
    /* Optional (the worker): media flows, the first RTP packet from p was
     * decrypted or the first one to p queued or sent (whichever is first).
     * work_ns is the join work on the peer's side since mw_peer_new(): the
     * thread CPU time of its idle and DTLS timer callbacks, its fast-path
     * reads, and its libnice shard's queries and dispatches (all agents on
     * that shard meanwhile, see mw_shard_meter). Set, it also turns that
     * metering on; NULL costs nothing. */
    void (*on_first_media)(mw_peer_t *p, uint64_t work_ns, void *user);
} mw_peer_callbacks_t;

/* Creates the ICE agent (controlling) and starts gathering. cfg strings are
 * copied; id and cb are borrowed and must outlive the peer. */
mw_peer_t *mw_peer_new(const mw_peer_config_t *cfg, mw_dtls_identity_t *id,
                       const mw_peer_callbacks_t *cb, void *user);
/* Never from inside one of this peer's callbacks (queue it, free it later). */
void mw_peer_free(mw_peer_t *p);

const char *mw_peer_ice_ufrag(const mw_peer_t *p);
const char *mw_peer_ice_pwd(const mw_peer_t *p);
/* Local candidates as SDP attribute values ("candidate:1 1 UDP 2015363327
 * 127.0.0.1 40000 typ host"), at most max of them, into out[i] (borrowed,
 * valid until the peer is freed). Returns the count. */
size_t mw_peer_local_candidates(const mw_peer_t *p, const char **out, size_t max);
mw_peer_state_t mw_peer_state(const mw_peer_t *p);

/* Remote ICE credentials and the expected DTLS fingerprint from the answer
 * (alg e.g. "sha-256", fp as in SDP, case-insensitive). Returns 0, or -1 if
 * they are malformed or the algorithm unsupported. */
int mw_peer_set_remote(mw_peer_t *p, const char *ufrag, const char *pwd, const char *fp_alg,
                       const char *fp, mw_dtls_role_t role);
/* One remote candidate ("candidate:..." with or without the "a=" prefix).
 * Returns 0, or -1 if malformed (the peer is unaffected). Candidates given
 * before mw_peer_set_remote() are kept and applied then. */
int mw_peer_add_remote_candidate(mw_peer_t *p, const char *line);

/* Protects a copy of pkt with SRTP / SRTCP and sends it on the selected pair.
 * Returns 0, or -1 if not connected or protection failed (counted, not logged
 * per packet). pkt is not modified. */
int mw_peer_send_rtp(mw_peer_t *p, const uint8_t *pkt, size_t len);
int mw_peer_send_rtcp(mw_peer_t *p, const uint8_t *pkt, size_t len);

/* Send batching (the worker): with it on, mw_peer_send_rtp/rtcp protect
 * each copy into a slot of one worker-wide pool and queue it on its peer;
 * mw_peer_flush() sends every peer's queue with one sendmmsg(), runs of
 * equal-size packets as one UDP GSO send (UDP_SEGMENT). Call mw_peer_flush()
 * after every main-loop iteration. Off (the default, the load generator):
 * every packet leaves at once. Packets of one peer keep their order. */
void mw_peer_set_batching(int on);
void mw_peer_flush(void);
/* UDP GSO for a peer's equal-size runs: on by default, off for good once
 * the kernel refuses it (EIO: no checksum offload on the device). */
void mw_peer_set_gso(int on);
/* A queued copy waits at most this long (µs, default 200) for the rest of
 * the loop turn: the receive path flushes early once the oldest one has. */
void mw_peer_set_batch_wait(long us);
/* Called by a fan-out once half its copies are queued: if the packet is the
 * only one the last read brought (nothing waits behind it), those copies
 * leave now instead of after the other half's encryption. */
void mw_peer_flush_lone(void);
/* io_uring for mw_peer_flush(): all peers' queues in one io_uring_enter()
 * instead of one sendmmsg() per peer. Returns 0, or -1 if the kernel has
 * no io_uring for us (then sendmmsg it is). Stop before exit. */
int mw_peer_set_uring(int on);
void mw_peer_uring_stop(void);
/* Zero-copy mw_peer_send_rtp for the fan-out: mw_peer_rtp_buf() lends a
 * buffer of MW_PEER_RTP_MAX bytes (a send slot when batching) to build the
 * packet in; mw_peer_send_rtp_buf() protects it there and queues or sends
 * it. A lent buffer that is not sent is lent again by the next call. */
#define MW_PEER_RTP_MAX 1500
uint8_t *mw_peer_rtp_buf(mw_peer_t *p);
/* Prefetches what queueing an RTP packet to p touches, in stages 0 to 2,
 * each once the one before is in cache (no effect on any result): for a
 * fan-out that overlaps its receivers' cache misses. */
void mw_peer_prefetch(const mw_peer_t *p, int stage);
int mw_peer_send_rtp_buf(mw_peer_t *p, size_t len);
/* Batching counters since start: sendmmsg() calls, the messages they
 * carried (a GSO message is several datagrams) and datagrams; recvmmsg()
 * calls on the fast path and datagrams read; STUN requests seen there. */
typedef struct {
    uint64_t send_calls, send_msgs, send_dgrams, recv_calls, recv_dgrams, stun_in;
} mw_peer_io_stats_t;
void mw_peer_io_stats(mw_peer_io_stats_t *out);

/* Fast receive path (the worker): once a peer's DTLS is up on a plain UDP
 * pair, its socket is read with recvmmsg() from one epoll set (one GLib
 * source on ctx for all peers instead of one per peer, which GLib walks
 * every iteration), and the browser's STUN checks on it are answered here
 * (libnice's STUN code); libnice no longer reads that socket. Returns 0 or
 * -1 (libnice keeps receiving). Stop after every peer is freed. flags
 * (tools): MW_PEER_RX_STAMPS asks the kernel for each datagram's receive
 * time (SO_TIMESTAMPNS), read with mw_peer_rx_stamp_ns() from the receive
 * callbacks; MW_PEER_RX_GRO sets UDP_GRO on each socket, so that a UDP GSO
 * train sent over loopback reaches the socket as one message (the kernel
 * does not split it into datagrams, which would charge the sender's core
 * with a receive stack per datagram that a NIC with segmentation offload
 * never runs) and is split here into its datagrams. ctx NULL:
 * no source; the caller drains on its own clock with mw_peer_fast_rx_poll()
 * (the load generator: arriving datagrams then never wake it), which calls
 * between(arg), when given, after each ready peer (so a long drain need not
 * hold back the caller's own sending). */
enum { MW_PEER_RX_STAMPS = 1, MW_PEER_RX_GRO = 2 };
int mw_peer_fast_rx_start(GMainContext *ctx, int flags);
void mw_peer_fast_rx_poll(void (*between)(void *), void *arg);
void mw_peer_fast_rx_stop(void);
/* The kernel receive time (CLOCK_REALTIME ns) of the datagram being
 * handled on the fast path, 0 outside it or without stamps. */
uint64_t mw_peer_rx_stamp_ns(void);
/* libnice's agents share one child context, driven by one source on the
 * owner's context (created with the first peer). Call after every peer is
 * freed, before the owner's context goes. */
void mw_peer_ice_stop(void);

/* The selected pair's local UDP socket (for kernel receive timestamps in
 * tools), or -1 before selection or on a relayed pair. Borrowed. */
int mw_peer_fd(const mw_peer_t *p);
/* Kernel send stamps (tools): with them on, each RTP packet p sends at
 * once (no batching) asks the kernel for the time it went to the device
 * (SO_TIMESTAMPING, software; loopback and NIC drivers stamp in their
 * transmit path), read from the socket's error queue right after the send.
 * mw_peer_tx_stamp_ns() is the last one (CLOCK_REALTIME ns), 0 if the
 * kernel gave none or on a relayed pair. */
void mw_peer_set_tx_stamps(mw_peer_t *p, int on);
uint64_t mw_peer_tx_stamp_ns(const mw_peer_t *p);

/* Sends one SCTP packet as a DTLS application data record on the selected
 * pair. Returns 0, or -1 if DTLS is not connected or it is too large. */
int mw_peer_send_app(mw_peer_t *p, const uint8_t *data, size_t len);

typedef struct {
    uint64_t rtp_in, rtp_out, rtcp_in, rtcp_out, bytes_in, bytes_out;
    uint64_t srtp_errors, dropped; /* failed unprotect/protect; garbage or pre-DTLS packets */
} mw_peer_stats_t;
void mw_peer_stats(const mw_peer_t *p, mw_peer_stats_t *out);

#endif
