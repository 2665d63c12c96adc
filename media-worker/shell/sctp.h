/* sctp: WebRTC data channels (RFC 8831) over usrsctp in AF_CONN mode: one
 * SCTP association per peer, its packets carried by the caller (inside
 * DTLS), DCEP (RFC 8832, core/dcep.c) to open channels, and whole messages
 * in and out. Not DTLS and not the chat: the owner moves packets and reads
 * messages. usrsctp runs without threads (usrsctp_init_nothreads): every
 * callback comes from inside an mw_sctp_* call on the caller's thread. */
#ifndef MW_SCTP_H
#define MW_SCTP_H

#include <stddef.h>
#include <stdint.h>

#define MW_SCTP_PORT 5000                /* a=sctp-port (RFC 8841 5) */
#define MW_SCTP_MAX_MESSAGE (256 * 1024) /* a=max-message-size we offer */
#define MW_SCTP_MTU 1100                 /* SCTP packet size: fits a DTLS record in MW_DTLS_MTU */
#define MW_SCTP_MAX_CHANNELS 16
#define MW_SCTP_MAX_LABEL 64
#define MW_SCTP_TICK_MS 10 /* how often the owner should call mw_sctp_timers */

typedef struct mw_sctp mw_sctp_t;

typedef struct {
    /* One SCTP packet for the remote (to be sent in a DTLS record). */
    void (*send)(const uint8_t *pkt, size_t len, void *user);
    /* The association is up (1) or gone (0: aborted, shut down, lost). */
    void (*on_state)(mw_sctp_t *s, int up, void *user);
    /* A channel opened: by the remote (DATA_CHANNEL_ACK already sent), or
     * ours acknowledged. label is NUL-terminated (truncated at
     * MW_SCTP_MAX_LABEL bytes; label_full says whether it was). */
    void (*on_open)(mw_sctp_t *s, uint16_t sid, const char *label, int label_full, void *user);
    /* One whole message on an open channel; empty messages (PPID 56/57)
     * come with len 0. data is borrowed for the call. */
    void (*on_message)(mw_sctp_t *s, uint16_t sid, int binary, const uint8_t *data, size_t len,
                       void *user);
    /* The remote closed a channel (stream reset, RFC 8831 6.7). */
    void (*on_close)(mw_sctp_t *s, uint16_t sid, void *user);
} mw_sctp_callbacks_t;

typedef struct {
    uint64_t pkts_in, pkts_out, msgs_in, msgs_out;
    uint64_t dropped_in;  /* messages for unknown channels, too large, bad DCEP */
    uint64_t dropped_out; /* send buffer full, too large, channel not open */
    uint64_t bad_pkts;    /* malformed packets (core/sctppkt.c), never given to usrsctp */
} mw_sctp_stats_t;

/* Initialises usrsctp once per process (idempotent). Returns 0. */
int mw_sctp_global_init(void);
/* Drives usrsctp's timers: elapsed_ms since the last call. Call every
 * MW_SCTP_TICK_MS while mw_sctp_count() > 0. */
void mw_sctp_timers(uint32_t elapsed_ms);
/* Live associations in this process. */
size_t mw_sctp_count(void);

/* Creates an association endpoint bound to local_port and connects it to
 * remote_port (WebRTC: both sides connect, RFC 8841 / simultaneous open).
 * cb is borrowed and must outlive s. NULL if usrsctp refuses. */
mw_sctp_t *mw_sctp_new(uint16_t local_port, uint16_t remote_port, const mw_sctp_callbacks_t *cb,
                       void *user);
/* Aborts the association (an ABORT may still go out through cb->send)
 * and frees s. Never from inside one of s's callbacks. */
void mw_sctp_free(mw_sctp_t *s);

/* One SCTP packet from the remote (a DTLS application data record). */
void mw_sctp_input(mw_sctp_t *s, const uint8_t *pkt, size_t len);

/* Opens a channel on sid (even for the DTLS client, odd for the server,
 * RFC 8832 6): DATA_CHANNEL_OPEN, ordered and reliable. 0 or -1. */
int mw_sctp_open(mw_sctp_t *s, uint16_t sid, const char *label);
/* Sends one message on an open channel (PPID 51/53, 56/57 when len is 0).
 * Returns 0, or -1 if the channel is not open, the message is larger than
 * MW_SCTP_MAX_MESSAGE or the send buffer is full (counted, not logged). */
int mw_sctp_send(mw_sctp_t *s, uint16_t sid, int binary, const uint8_t *data, size_t len);
/* Closes our side of a channel (outgoing stream reset). */
void mw_sctp_close_channel(mw_sctp_t *s, uint16_t sid);

int mw_sctp_is_up(const mw_sctp_t *s);
void mw_sctp_stats(const mw_sctp_t *s, mw_sctp_stats_t *out);

#endif
