/* sctp: data channels over usrsctp (AF_CONN, no threads). See sctp.h.
 *
 * usrsctp calls back from inside usrsctp_conninput / usrsctp_sendv /
 * usrsctp_handle_timers. Its receive callback only queues what arrived; the
 * queue is dispatched to the owner after usrsctp returns, so the owner may
 * send (on this or any other association) from its callbacks without
 * re-entering usrsctp. Associations are registered with usrsctp under a
 * small integer id, never a pointer, so a late callback for a freed
 * association finds nothing instead of freed memory. */
#include "media-worker/shell/sctp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <glib.h>
#include <usrsctp.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/core/dcep.h"
#include "media-worker/core/sctppkt.h"

/* Streams we ask for both ways. usrsctp keeps per-stream state for each
 * (1024 cost about 100 kB per association); 64 leaves 32 stream ids per
 * side (RFC 8832 6: even for the DTLS client, odd for the server), twice
 * MW_SCTP_MAX_CHANNELS, and an association costs about 17 kB. RFC 8831 6.2
 * suggests 65535 (a SHOULD); the count is the minimum of both sides'. */
#define MW_SCTP_STREAMS 64
#define MW_SCTP_BUF (1024 * 1024)

typedef enum {
    MW_SCTP_EV_MSG,    /* a whole message */
    MW_SCTP_EV_NOTIFY, /* an SCTP notification */
} mw_sctp_ev_kind_t;

/* Something usrsctp handed us, waiting for dispatch. */
typedef struct mw_sctp_ev {
    mw_sctp_ev_kind_t kind;
    uint16_t sid;
    uint32_t ppid;
    size_t len;
    struct mw_sctp_ev *next;
    uint8_t data[];
} mw_sctp_ev_t;

typedef enum {
    MW_SCTP_CH_FREE = 0,
    MW_SCTP_CH_OPENING, /* we sent OPEN, no ACK yet: we may send already */
    MW_SCTP_CH_OPEN,
} mw_sctp_ch_state_t;

typedef struct {
    mw_sctp_ch_state_t state;
    uint16_t sid;
    uint8_t type; /* DCEP channel type */
    uint32_t reliability;
    char label[MW_SCTP_MAX_LABEL + 1];
} mw_sctp_ch_t;

struct mw_sctp {
    uintptr_t id; /* usrsctp's address for us */
    struct socket *sock;
    const mw_sctp_callbacks_t *cb;
    void *user;
    uint16_t remote_port;
    int up, closing, dispatching;
    mw_sctp_ev_t *ev_head, **ev_tail;
    /* a message arriving in pieces (partial delivery) */
    uint8_t *part;
    size_t part_len, part_cap;
    mw_sctp_ch_t ch[MW_SCTP_MAX_CHANNELS];
    mw_sctp_stats_t stats;
};

static int mw_sctp_inited;
static uintptr_t mw_sctp_next_id = 1;
static GHashTable *mw_sctp_live; /* id -> mw_sctp_t* */

static void mw_sctp_dispatch(mw_sctp_t *s);

/* The association registered under addr, or NULL. */
static mw_sctp_t *mw_sctp_lookup(void *addr)
{
    return mw_sctp_live ? g_hash_table_lookup(mw_sctp_live, addr) : NULL;
}

/* usrsctp's output: one SCTP packet for the association at addr. */
static int mw_sctp_conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    mw_sctp_t *s = mw_sctp_lookup(addr);

    if (s == NULL || s->cb->send == NULL)
        return 0;
    s->stats.pkts_out++;
    s->cb->send(buf, len, s->user);
    return 0;
}

int mw_sctp_global_init(void)
{
    if (mw_sctp_inited)
        return 0;
    mw_sctp_inited = 1;
    /* Port 0: no SCTP-over-UDP encapsulation, AF_CONN only. */
    usrsctp_init_nothreads(0, mw_sctp_conn_output, NULL);
    /* RFC 8831 6.2: no ECN over DTLS; a short delayed SACK for chat latency. */
    usrsctp_sysctl_set_sctp_ecn_enable(0);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
    usrsctp_sysctl_set_sctp_blackhole(2);
    mw_sctp_live = g_hash_table_new(g_direct_hash, g_direct_equal);
    return 0;
}

void mw_sctp_timers(uint32_t elapsed_ms)
{
    GHashTableIter it;
    gpointer k, v;
    GPtrArray *pending;

    if (!mw_sctp_inited)
        return;
    usrsctp_handle_timers(elapsed_ms);
    /* Timers may queue notifications (association lost). */
    pending = g_ptr_array_new();
    g_hash_table_iter_init(&it, mw_sctp_live);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (((mw_sctp_t *)v)->ev_head != NULL)
            g_ptr_array_add(pending, v);
    for (guint i = 0; i < pending->len; i++)
        mw_sctp_dispatch(pending->pdata[i]);
    g_ptr_array_free(pending, TRUE);
}

size_t mw_sctp_count(void)
{
    return mw_sctp_live ? g_hash_table_size(mw_sctp_live) : 0;
}

/* Appends one event (data copied). */
static void mw_sctp_queue(mw_sctp_t *s, mw_sctp_ev_kind_t kind, uint16_t sid, uint32_t ppid,
                          const void *data, size_t len)
{
    mw_sctp_ev_t *e = vc_malloc(sizeof(*e) + len);

    e->kind = kind;
    e->sid = sid;
    e->ppid = ppid;
    e->len = len;
    e->next = NULL;
    if (len)
        memcpy(e->data, data, len);
    *s->ev_tail = e;
    s->ev_tail = &e->next;
}

/* usrsctp's receive callback: a message or a notification, maybe in
 * pieces (no MSG_EOR yet). data is ours to free. */
static int mw_sctp_on_recv(struct socket *sock, union sctp_sockstore addr, void *data, size_t len,
                           struct sctp_rcvinfo rcv, int flags, void *ulp)
{
    mw_sctp_t *s = mw_sctp_lookup(ulp);

    if (data == NULL)
        return 1;
    if (s == NULL || s->closing) {
        free(data);
        return 1;
    }
    if (flags & MSG_NOTIFICATION) {
        mw_sctp_queue(s, MW_SCTP_EV_NOTIFY, 0, 0, data, len);
        free(data);
        return 1;
    }
    if (!(flags & MSG_EOR) || s->part_len > 0) {
        /* Partial delivery: collect up to the size we offered. */
        if (s->part_len + len > MW_SCTP_MAX_MESSAGE) {
            s->part_len = 0;
            s->stats.dropped_in++;
            free(data);
            return 1;
        }
        if (s->part_len + len > s->part_cap) {
            s->part_cap = s->part_len + len;
            s->part = vc_realloc(s->part, s->part_cap);
        }
        memcpy(s->part + s->part_len, data, len);
        s->part_len += len;
        free(data);
        if (!(flags & MSG_EOR))
            return 1;
        mw_sctp_queue(s, MW_SCTP_EV_MSG, rcv.rcv_sid, ntohl(rcv.rcv_ppid), s->part, s->part_len);
        s->part_len = 0;
        return 1;
    }
    mw_sctp_queue(s, MW_SCTP_EV_MSG, rcv.rcv_sid, ntohl(rcv.rcv_ppid), data, len);
    free(data);
    return 1;
}

/* Sets one socket option; logs nothing (the caller decides). */
static int mw_sctp_opt(struct socket *so, int level, int name, const void *v, socklen_t n)
{
    return usrsctp_setsockopt(so, level, name, v, n);
}

/* The socket options every association gets (as Janus and mediasoup do). */
static int mw_sctp_setup_socket(mw_sctp_t *s)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC,
                                  .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
    struct sctp_initmsg init = {.sinit_num_ostreams = MW_SCTP_STREAMS,
                                .sinit_max_instreams = MW_SCTP_STREAMS};
    static const uint16_t events[] = {SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT,
                                      SCTP_SEND_FAILED_EVENT, SCTP_REMOTE_ERROR};
    int on = 1, buf = MW_SCTP_BUF;

    if (usrsctp_set_non_blocking(s->sock, 1) < 0)
        return -1;
    /* Close aborts at once: the DTLS session goes right after. */
    if (mw_sctp_opt(s->sock, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
        return -1;
    if (mw_sctp_opt(s->sock, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av, sizeof(av)) < 0)
        return -1;
    if (mw_sctp_opt(s->sock, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on)) < 0)
        return -1;
    if (mw_sctp_opt(s->sock, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof(init)) < 0)
        return -1;
    (void)mw_sctp_opt(s->sock, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
    (void)mw_sctp_opt(s->sock, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    for (size_t i = 0; i < VC_ARRAY_LEN(events); i++) {
        struct sctp_event ev = {.se_assoc_id = SCTP_ALL_ASSOC, .se_on = 1, .se_type = events[i]};
        if (mw_sctp_opt(s->sock, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) < 0)
            return -1;
    }
    return 0;
}

/* An AF_CONN address: port and our id. */
static struct sockaddr_conn mw_sctp_addr(const mw_sctp_t *s, uint16_t port)
{
    struct sockaddr_conn a;

    memset(&a, 0, sizeof(a));
    a.sconn_family = AF_CONN;
    a.sconn_port = htons(port);
    a.sconn_addr = (void *)s->id;
    return a;
}

/* RFC 8831 6.6 / RFC 8261 5: packets must fit one DTLS record within our
 * DTLS MTU, so path MTU discovery is off and the MTU fixed. */
static void mw_sctp_set_mtu(mw_sctp_t *s)
{
    struct sctp_paddrparams pp;
    struct sockaddr_conn r = mw_sctp_addr(s, s->remote_port);

    memset(&pp, 0, sizeof(pp));
    memcpy(&pp.spp_address, &r, sizeof(r));
    pp.spp_flags = SPP_PMTUD_DISABLE;
    pp.spp_pathmtu = MW_SCTP_MTU;
    if (mw_sctp_opt(s->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &pp, sizeof(pp)) < 0)
        VC_DEBUG("sctp %lu: cannot set the path MTU (%d)", (unsigned long)s->id, errno);
}

mw_sctp_t *mw_sctp_new(uint16_t local_port, uint16_t remote_port, const mw_sctp_callbacks_t *cb,
                       void *user)
{
    mw_sctp_t *s = vc_calloc(1, sizeof(*s));
    struct sockaddr_conn la, ra;

    mw_sctp_global_init();
    s->cb = cb;
    s->user = user;
    s->remote_port = remote_port;
    s->ev_tail = &s->ev_head;
    s->id = mw_sctp_next_id++;
    if (s->id == 0)
        s->id = mw_sctp_next_id++;
    g_hash_table_insert(mw_sctp_live, (void *)s->id, s);
    usrsctp_register_address((void *)s->id);
    s->sock =
        usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, mw_sctp_on_recv, NULL, 0, (void *)s->id);
    if (s->sock == NULL || mw_sctp_setup_socket(s) < 0)
        goto fail;
    la = mw_sctp_addr(s, local_port);
    if (usrsctp_bind(s->sock, (struct sockaddr *)&la, sizeof(la)) < 0)
        goto fail;
    ra = mw_sctp_addr(s, remote_port);
    if (usrsctp_connect(s->sock, (struct sockaddr *)&ra, sizeof(ra)) < 0 && errno != EINPROGRESS)
        goto fail;
    mw_sctp_set_mtu(s);
    mw_sctp_dispatch(s);
    return s;
fail:
    VC_WARN("sctp: cannot create an association (errno %d)", errno);
    mw_sctp_free(s);
    return NULL;
}

void mw_sctp_free(mw_sctp_t *s)
{
    if (s == NULL)
        return;
    s->closing = 1;
    if (s->sock != NULL) {
        usrsctp_set_ulpinfo(s->sock, NULL);
        usrsctp_close(s->sock); /* may send ABORT through cb->send */
    }
    usrsctp_deregister_address((void *)s->id);
    g_hash_table_remove(mw_sctp_live, (void *)s->id);
    while (s->ev_head != NULL) {
        mw_sctp_ev_t *e = s->ev_head;
        s->ev_head = e->next;
        free(e);
    }
    free(s->part);
    free(s);
}

void mw_sctp_input(mw_sctp_t *s, const uint8_t *pkt, size_t len)
{
    if (s->closing || len == 0)
        return;
    s->stats.pkts_in++;
    if (sctp_pkt_check(pkt, len) != SCTP_PKT_OK) {
        s->stats.bad_pkts++;
        return;
    }
    usrsctp_conninput((void *)s->id, pkt, len, 0);
    mw_sctp_dispatch(s);
}

/* The channel on sid, or NULL. */
static mw_sctp_ch_t *mw_sctp_ch(mw_sctp_t *s, uint16_t sid)
{
    for (size_t i = 0; i < MW_SCTP_MAX_CHANNELS; i++)
        if (s->ch[i].state != MW_SCTP_CH_FREE && s->ch[i].sid == sid)
            return &s->ch[i];
    return NULL;
}

/* A free channel slot, or NULL. */
static mw_sctp_ch_t *mw_sctp_ch_alloc(mw_sctp_t *s)
{
    for (size_t i = 0; i < MW_SCTP_MAX_CHANNELS; i++)
        if (s->ch[i].state == MW_SCTP_CH_FREE)
            return &s->ch[i];
    return NULL;
}

/* One SCTP user message with the channel's delivery rules. */
static int mw_sctp_sendv(mw_sctp_t *s, const mw_sctp_ch_t *ch, uint16_t sid, uint32_t ppid,
                         const void *data, size_t len)
{
    struct sctp_sendv_spa spa;

    memset(&spa, 0, sizeof(spa));
    spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
    spa.sendv_sndinfo.snd_sid = sid;
    spa.sendv_sndinfo.snd_ppid = htonl(ppid);
    spa.sendv_sndinfo.snd_flags = SCTP_EOR;
    if (ch != NULL && !dcep_channel_ordered(ch->type))
        spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
    /* RFC 8831 6.4: partially reliable channels use PR-SCTP (RFC 3758). */
    if (ch != NULL && (ch->type & 0x7f) != DCEP_CHANNEL_RELIABLE) {
        spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
        spa.sendv_prinfo.pr_policy = (ch->type & 0x7f) == DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT
                                         ? SCTP_PR_SCTP_RTX
                                         : SCTP_PR_SCTP_TTL;
        spa.sendv_prinfo.pr_value = ch->reliability;
    }
    if (usrsctp_sendv(s->sock, data, len, NULL, 0, &spa, sizeof(spa), SCTP_SENDV_SPA, 0) < 0) {
        s->stats.dropped_out++;
        return -1;
    }
    s->stats.msgs_out++;
    return 0;
}

/* RFC 8831 6.7: closing resets our outgoing stream. */
static void mw_sctp_reset_stream(mw_sctp_t *s, uint16_t sid)
{
    size_t n = sizeof(struct sctp_reset_streams) + sizeof(uint16_t);
    struct sctp_reset_streams *rs = vc_calloc(1, n);

    rs->srs_assoc_id = SCTP_ALL_ASSOC;
    rs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
    rs->srs_number_streams = 1;
    rs->srs_stream_list[0] = sid;
    if (mw_sctp_opt(s->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, rs, (socklen_t)n) < 0)
        VC_DEBUG("sctp %lu: stream %u reset failed (%d)", (unsigned long)s->id, sid, errno);
    free(rs);
}

/* RFC 8832 6: DATA_CHANNEL_OPEN from the remote -> ACK, channel open. */
static void mw_sctp_on_dcep_open(mw_sctp_t *s, uint16_t sid, const dcep_open_t *o)
{
    mw_sctp_ch_t *ch = mw_sctp_ch(s, sid);
    uint8_t ack[1];
    int full;

    if (ch != NULL) {
        s->stats.dropped_in++; /* RFC 8832 6: an OPEN for a used stream is an error */
        return;
    }
    ch = mw_sctp_ch_alloc(s);
    if (ch == NULL) {
        s->stats.dropped_in++;
        mw_sctp_reset_stream(s, sid); /* too many channels: refuse this one */
        return;
    }
    memset(ch, 0, sizeof(*ch));
    ch->sid = sid;
    ch->type = o->channel_type;
    ch->reliability = o->reliability;
    full = o->label_len <= MW_SCTP_MAX_LABEL;
    memcpy(ch->label, o->label, full ? o->label_len : MW_SCTP_MAX_LABEL);
    /* A NUL inside the label would make it look like a shorter one. */
    if (memchr(ch->label, '\0', full ? o->label_len : MW_SCTP_MAX_LABEL) != NULL)
        full = 0;
    ch->state = MW_SCTP_CH_OPEN;
    /* RFC 8832 6: the ACK goes on the same stream, ordered. */
    if (mw_sctp_sendv(s, NULL, sid, DCEP_PPID_CONTROL, ack, dcep_build_ack(ack, sizeof(ack))) < 0)
        VC_DEBUG("sctp %lu: DATA_CHANNEL_ACK on %u not sent", (unsigned long)s->id, sid);
    if (s->cb->on_open)
        s->cb->on_open(s, sid, ch->label, full, s->user);
}

/* PPID 50: DCEP. */
static void mw_sctp_on_control(mw_sctp_t *s, uint16_t sid, const uint8_t *data, size_t len)
{
    dcep_msg_t m;
    dcep_err_t e = dcep_parse(data, len, &m);
    mw_sctp_ch_t *ch;

    if (e != DCEP_OK) {
        s->stats.dropped_in++;
        VC_DEBUG("sctp %lu: bad DCEP message on %u: %s", (unsigned long)s->id, sid,
                 dcep_err_str(e));
        return;
    }
    if (m.type == DCEP_MSG_OPEN) {
        mw_sctp_on_dcep_open(s, sid, &m.open);
        return;
    }
    ch = mw_sctp_ch(s, sid);
    if (ch != NULL && ch->state == MW_SCTP_CH_OPENING) {
        ch->state = MW_SCTP_CH_OPEN;
        if (s->cb->on_open)
            s->cb->on_open(s, sid, ch->label, 1, s->user);
    }
}

/* A user message: DCEP or data on an open channel. */
static void mw_sctp_on_msg(mw_sctp_t *s, const mw_sctp_ev_t *e)
{
    mw_sctp_ch_t *ch;
    int binary;
    size_t len = e->len;

    if (e->ppid == DCEP_PPID_CONTROL) {
        mw_sctp_on_control(s, e->sid, e->data, e->len);
        return;
    }
    ch = mw_sctp_ch(s, e->sid);
    switch (e->ppid) {
    case DCEP_PPID_STRING:
    case DCEP_PPID_STRING_PARTIAL:
        binary = 0;
        break;
    case DCEP_PPID_BINARY:
    case DCEP_PPID_BINARY_PARTIAL:
        binary = 1;
        break;
    case DCEP_PPID_STRING_EMPTY:
        binary = 0, len = 0;
        break;
    case DCEP_PPID_BINARY_EMPTY:
        binary = 1, len = 0;
        break;
    default:
        s->stats.dropped_in++;
        return;
    }
    if (ch == NULL) {
        s->stats.dropped_in++;
        return;
    }
    /* RFC 8832 6: data before the ACK implies it (the remote got our OPEN). */
    if (ch->state == MW_SCTP_CH_OPENING) {
        ch->state = MW_SCTP_CH_OPEN;
        if (s->cb->on_open)
            s->cb->on_open(s, ch->sid, ch->label, 1, s->user);
    }
    s->stats.msgs_in++;
    if (s->cb->on_message)
        s->cb->on_message(s, e->sid, binary, e->data, len, s->user);
}

/* RFC 8831 6.7: the remote reset its outgoing streams: close the channels
 * and reset ours in turn. */
static void mw_sctp_on_reset(mw_sctp_t *s, const struct sctp_stream_reset_event *ev, size_t len)
{
    size_t n;

    if (len < sizeof(*ev) || ev->strreset_length > len || ev->strreset_length < sizeof(*ev))
        return;
    if (!(ev->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) ||
        (ev->strreset_flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED)))
        return;
    n = (ev->strreset_length - sizeof(*ev)) / sizeof(uint16_t);
    for (size_t i = 0; i < n; i++) {
        uint16_t sid = ev->strreset_stream_list[i];
        mw_sctp_ch_t *ch = mw_sctp_ch(s, sid);
        if (ch == NULL)
            continue;
        ch->state = MW_SCTP_CH_FREE;
        mw_sctp_reset_stream(s, sid);
        if (s->cb->on_close)
            s->cb->on_close(s, sid, s->user);
    }
}

/* Association changes and stream resets. */
static void mw_sctp_on_notify(mw_sctp_t *s, const uint8_t *data, size_t len)
{
    union sctp_notification n;

    if (len < sizeof(n.sn_header))
        return;
    memset(&n, 0, sizeof(n));
    memcpy(&n, data, len < sizeof(n) ? len : sizeof(n));
    if (n.sn_header.sn_type == SCTP_ASSOC_CHANGE && len >= sizeof(n.sn_assoc_change)) {
        int up = n.sn_assoc_change.sac_state == SCTP_COMM_UP ||
                 n.sn_assoc_change.sac_state == SCTP_RESTART;
        int down = n.sn_assoc_change.sac_state == SCTP_COMM_LOST ||
                   n.sn_assoc_change.sac_state == SCTP_SHUTDOWN_COMP ||
                   n.sn_assoc_change.sac_state == SCTP_CANT_STR_ASSOC;
        if ((up && !s->up) || (down && s->up)) {
            s->up = up;
            if (s->cb->on_state)
                s->cb->on_state(s, up, s->user);
        }
        if (down)
            memset(s->ch, 0, sizeof(s->ch));
    } else if (n.sn_header.sn_type == SCTP_STREAM_RESET_EVENT) {
        /* The stream list follows the fixed part: read it from data. */
        struct sctp_stream_reset_event *ev = vc_malloc(len);
        memcpy(ev, data, len);
        mw_sctp_on_reset(s, ev, len);
        free(ev);
    }
}

/* Hands queued events to the owner, oldest first; not re-entrant (a
 * nested call leaves the rest to the outer loop). */
static void mw_sctp_dispatch(mw_sctp_t *s)
{
    if (s->dispatching)
        return;
    s->dispatching = 1;
    while (s->ev_head != NULL && !s->closing) {
        mw_sctp_ev_t *e = s->ev_head;
        s->ev_head = e->next;
        if (s->ev_head == NULL)
            s->ev_tail = &s->ev_head;
        if (e->kind == MW_SCTP_EV_NOTIFY)
            mw_sctp_on_notify(s, e->data, e->len);
        else
            mw_sctp_on_msg(s, e);
        free(e);
    }
    s->dispatching = 0;
}

int mw_sctp_open(mw_sctp_t *s, uint16_t sid, const char *label)
{
    uint8_t buf[DCEP_OPEN_HEADER + MW_SCTP_MAX_LABEL];
    size_t ll = strlen(label);
    dcep_open_t o = {.channel_type = DCEP_CHANNEL_RELIABLE,
                     .label = (const uint8_t *)label,
                     .label_len = (uint16_t)ll};
    mw_sctp_ch_t *ch;
    size_t n;

    if (ll > MW_SCTP_MAX_LABEL || mw_sctp_ch(s, sid) != NULL || (ch = mw_sctp_ch_alloc(s)) == NULL)
        return -1;
    n = dcep_build_open(&o, buf, sizeof(buf));
    if (n == 0 || mw_sctp_sendv(s, NULL, sid, DCEP_PPID_CONTROL, buf, n) < 0)
        return -1;
    memset(ch, 0, sizeof(*ch));
    ch->sid = sid;
    ch->type = DCEP_CHANNEL_RELIABLE;
    memcpy(ch->label, label, ll);
    ch->state = MW_SCTP_CH_OPENING;
    mw_sctp_dispatch(s);
    return 0;
}

int mw_sctp_send(mw_sctp_t *s, uint16_t sid, int binary, const uint8_t *data, size_t len)
{
    mw_sctp_ch_t *ch = mw_sctp_ch(s, sid);
    static const uint8_t zero = 0;
    int rv;

    if (ch == NULL || s->closing || len > MW_SCTP_MAX_MESSAGE) {
        s->stats.dropped_out++;
        return -1;
    }
    /* RFC 8831 6.6: an empty message is one byte with PPID 56/57. */
    if (len == 0)
        rv = mw_sctp_sendv(s, ch, sid, binary ? DCEP_PPID_BINARY_EMPTY : DCEP_PPID_STRING_EMPTY,
                           &zero, 1);
    else
        rv = mw_sctp_sendv(s, ch, sid, binary ? DCEP_PPID_BINARY : DCEP_PPID_STRING, data, len);
    mw_sctp_dispatch(s);
    return rv;
}

void mw_sctp_close_channel(mw_sctp_t *s, uint16_t sid)
{
    mw_sctp_ch_t *ch = mw_sctp_ch(s, sid);

    if (ch == NULL)
        return;
    ch->state = MW_SCTP_CH_FREE;
    mw_sctp_reset_stream(s, sid);
    mw_sctp_dispatch(s);
}

int mw_sctp_is_up(const mw_sctp_t *s)
{
    return s->up;
}

void mw_sctp_stats(const mw_sctp_t *s, mw_sctp_stats_t *out)
{
    *out = s->stats;
}
