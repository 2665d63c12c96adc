/* peer_tx: the peer's send path: the worker-wide pool of send slots,
 * per-peer queues flushed with sendmmsg() (UDP GSO for equal-size runs) or
 * io_uring, and the SRTP/SRTCP sends. See peer.h and peer_int.h. */
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <liburing.h>
#include <nice/agent.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/shell/peer.h"
#include "media-worker/shell/peer_int.h"
#include "media-worker/shell/srtp.h"

#define MW_TX_GSO_MAX 60000 /* bytes in one UDP GSO send (under 64 kB) */

#ifndef SOF_TIMESTAMPING_OPT_RX_FILTER
#define SOF_TIMESTAMPING_OPT_RX_FILTER (1 << 17) /* Linux 6.1 */
#endif

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif

/* The worker-wide send pool (peer_int.h). */
mw_peer_tx_pool_t mw_tx = {.max_wait_us = 200};

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
void mw_peer_tx_flush_one(mw_peer_t *p)
{
    struct mmsghdr msg[MW_TX_QUEUE];
    struct iovec iov[MW_TX_QUEUE];
    uint8_t cbuf[MW_TX_QUEUE][CMSG_SPACE(sizeof(uint16_t))];
    unsigned first[MW_TX_QUEUE], nseg[MW_TX_QUEUE];
    int gso = 1;

    mw_srtp_tags_finish(); /* a queued copy's tag may still be pending */
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
void mw_peer_ur_file_add(mw_peer_t *p)
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
void mw_peer_ur_file_del(mw_peer_t *p)
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
    mw_srtp_tags_finish();
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

void mw_peer_flush_lone(void)
{
    if (mw_tx.lone && mw_tx.listed != NULL)
        mw_peer_flush();
}

/* Takes p off the list of peers with a queue (before it is freed). */
void mw_peer_tx_unlist(mw_peer_t *p)
{
    mw_srtp_tags_finish(); /* before p's slots can be reused */
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
    /* RTP's tag may wait for the next copy's: two are computed at once.
     * Every path that sends or frees a queued slot finishes it first. */
    if ((rtcp ? mw_srtp_protect_rtcp(&p->srtp, b, &n)
              : mw_srtp_protect_rtp_defer(&p->srtp, b, &n)) < 0) {
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

void mw_peer_set_tx_stamps(mw_peer_t *p, int on)
{
    p->tx_stamps = on;
    p->tx_stamp_ns = 0;
}

uint64_t mw_peer_tx_stamp_ns(const mw_peer_t *p)
{
    return p->tx_stamp_ns;
}

/* Sends b with a software send stamp asked for in a control message (only
 * this packet is stamped, not libnice's STUN on the same socket) and reads
 * the stamp back: the kernel queues it on the error queue during the send.
 * The socket reports software stamps without their packet, and none for
 * what it receives (its receive stamps stay SO_TIMESTAMPNS). */
static ssize_t mw_peer_send_stamped(mw_peer_t *p, const uint8_t *b, size_t n)
{
    if (p->tx_stamp_fd != p->tx_fd) {
        int fl = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY |
                 SOF_TIMESTAMPING_OPT_RX_FILTER;
        if (setsockopt(p->tx_fd, SOL_SOCKET, SO_TIMESTAMPING, &fl, sizeof(fl)) < 0) {
            VC_WARN("no kernel send stamps (%s)", strerror(errno));
            p->tx_stamps = 0;
        }
        p->tx_stamp_fd = p->tx_fd;
    }
    union {
        char b[CMSG_SPACE(sizeof(uint32_t))];
        struct cmsghdr align;
    } ctl = {0};
    struct iovec iov = {.iov_base = (void *)b, .iov_len = n};
    struct msghdr h = {.msg_name = &p->tx_addr,
                       .msg_namelen = p->tx_addrlen,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.b,
                       .msg_controllen = sizeof(ctl.b)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&h);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SO_TIMESTAMPING;
    cm->cmsg_len = CMSG_LEN(sizeof(uint32_t));
    uint32_t gen = SOF_TIMESTAMPING_TX_SOFTWARE;
    memcpy(CMSG_DATA(cm), &gen, sizeof(gen));
    ssize_t r;
    do
        r = sendmsg(p->tx_fd, &h, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    p->tx_stamp_ns = 0;
    for (;;) {
        union {
            char b[512];
            struct cmsghdr align;
        } eb;
        struct msghdr e = {.msg_control = eb.b, .msg_controllen = sizeof(eb.b)};
        if (recvmsg(p->tx_fd, &e, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            break;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&e); c != NULL; c = CMSG_NXTHDR(&e, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
                c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof(ts)); /* ts[0]: software */
                p->tx_stamp_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
            }
        }
    }
    return r;
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
    if (p->tx_fd >= 0 && p->tx_stamps && !rtcp) {
        ssize_t r = mw_peer_send_stamped(p, b, n);
        sent = r < 0 ? -1 : (gint)r;
    } else if (p->tx_fd >= 0) {
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

/* Media flows (the first RTP packet from or to p): its join work is done. */
void mw_peer_work_close(mw_peer_t *p)
{
    p->work_open = 0;
    p->work_ns += mw_shard_cpu_ns(p->ice) - p->work_shard0;
    mw_shard_meter(p->ice, 0);
    p->cb->on_first_media(p, p->work_ns, p->user);
}

/* Protects a copy of pkt and sends it (or queues it when batching): the
 * common part of RTP and RTCP. */
static int mw_peer_send_srtp(mw_peer_t *p, const uint8_t *pkt, size_t len, int rtcp)
{
    if (p->state != MW_PEER_CONNECTED || !pkt || len > MW_PEER_PKT_MAX) {
        p->stats.dropped++;
        return -1;
    }
    if (G_UNLIKELY(p->work_open) && !rtcp)
        mw_peer_work_close(p);
    if (mw_tx.on && p->tx_fd >= 0) {
        uint16_t slot = mw_peer_tx_slot();
        memcpy(mw_tx.buf[slot], pkt, len);
        return mw_peer_tx_queue_slot(p, slot, len, rtcp);
    }
    memcpy(p->tx, pkt, len);
    return mw_peer_send_now(p, p->tx, len, rtcp);
}

void mw_peer_prefetch(const mw_peer_t *p, int stage)
{
    if (stage == 0) {
        __builtin_prefetch(&p->state);
        __builtin_prefetch(&p->srtp);
        __builtin_prefetch(&p->tx_fd);
        __builtin_prefetch(&p->txq);
        __builtin_prefetch(&p->n_txq);
        __builtin_prefetch(&p->stats);
    } else {
        mw_srtp_prefetch(&p->srtp, stage - 1);
    }
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
    if (G_UNLIKELY(p->work_open))
        mw_peer_work_close(p);
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
