/* vc-physloop: the physical forwarding loop of this machine, without an SFU
 * around it: SRTP-protect a 1.2 kB packet for each of N destinations (one
 * SRTP context each, AES-CM-128/HMAC-SHA1-80 by default, with the tags of
 * two copies computed at once as the worker's fan-out does) and send it over
 * loopback, as fast as one core can, while a thread on another core drains
 * the receivers. It prints, per send shape, how many packets per second one
 * core of sending costs (sender thread CPU time, which on loopback includes
 * the kernel's delivery into the receivers' sockets, as the worker's does):
 *
 *   per-socket  one socket per destination, one sendmmsg() of one datagram
 *               each: the worker's flush without io_uring, with paced
 *               publishers (a subscriber rarely has two packets in one)
 *   shared      one socket for all destinations, one sendmmsg() carrying
 *               every destination's copy: what one shared UDP port per
 *               worker (ICE-lite style) would allow
 *   gso         one socket per destination, a UDP GSO train of 8 packets
 *               per destination: frame bursts (the receivers' kernel splits
 *               each train into datagrams, on the sender's core)
 *   gso-gro     the same with UDP_GRO on the receiving sockets: a train
 *               reaches its receiver as one message, as it would cost the
 *               sender one skb through a NIC with UDP segmentation offload
 *               (the load generator's subscribers, --rx-gro 1)
 *   raw         one IPPROTO_RAW socket (needs CAP_NET_RAW), one sendmmsg()
 *               with our own IPv4/UDP headers carrying each destination
 *               socket's port: the shared shape without a shared port
 *   uring-msg   one socket per destination, one io_uring_enter() with a
 *               sendmsg per destination
 *   uring       the same with a send carrying the address (no msghdr) on a
 *               registered (fixed) file: the worker's flush (io_uring = 1)
 *
 * The ceiling the worker's "forwarded pps per core" is held against. One
 * JSON line per shape on stdout; a table on stderr. */
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "media-worker/core/rtp.h"
#include "media-worker/shell/srtp.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

#define PL_MAX_DESTS 256
#define PL_PAYLOAD 1160 /* + 12 header + 10 tag: the generator's video packets */
#define PL_GSO_TRAIN 8
#define PL_BUF (12 + PL_PAYLOAD + MW_SRTP_TRAILER_ROOM)

typedef struct {
    int n, rx[PL_MAX_DESTS], tx[PL_MAX_DESTS], shared, raw;
    uint16_t tx_port[PL_MAX_DESTS];
    struct io_uring ring;
    int ring_ok;
    struct sockaddr_in to[PL_MAX_DESTS];
    mw_srtp_t srtp[PL_MAX_DESTS];
    volatile int stop;
    int rx_cpu;
    unsigned long long received;
} pl_t;

static uint64_t pl_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pl_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (cpu >= 0 && sched_setaffinity(0, sizeof(set), &set) != 0)
        fprintf(stderr, "physloop: cannot pin to core %d: %s\n", cpu, strerror(errno));
}

static int pl_udp(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int big = 4 << 20;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("physloop: socket");
        exit(2);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
    return fd;
}

/* The datagrams in a received message: more than one when UDP_GRO kept a
 * GSO train whole (its segment size in the control message). */
static unsigned long long pl_segments(struct mmsghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m->msg_hdr); c != NULL;
         c = CMSG_NXTHDR(&m->msg_hdr, c)) {
        int seg;
        if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO)
            continue;
        memcpy(&seg, CMSG_DATA(c), sizeof(seg));
        if (seg > 0)
            return (m->msg_len + (unsigned)seg - 1) / (unsigned)seg;
    }
    return 1;
}

/* The receiving host: drains every destination socket on its own core. */
static void *pl_drain(void *arg)
{
    pl_t *pl = arg;
    uint8_t buf[16][PL_GSO_TRAIN * PL_BUF];
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl[16];
    struct iovec iov[16];
    struct mmsghdr m[16];
    struct epoll_event ev[64];
    int ep = epoll_create1(EPOLL_CLOEXEC);

    pl_pin(pl->rx_cpu);
    for (int i = 0; i < pl->n; i++) {
        struct epoll_event e = {.events = EPOLLIN, .data.fd = pl->rx[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, pl->rx[i], &e);
    }
    while (!pl->stop) {
        int n = epoll_wait(ep, ev, 64, 50);
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 16; k++) {
                iov[k] = (struct iovec){buf[k], sizeof(buf[k])};
                m[k].msg_hdr = (struct msghdr){.msg_iov = &iov[k],
                                               .msg_iovlen = 1,
                                               .msg_control = ctl[k].b,
                                               .msg_controllen = sizeof(ctl[k].b)};
            }
            int got = recvmmsg(ev[i].data.fd, m, 16, MSG_DONTWAIT, NULL);
            unsigned long long dgrams = 0;
            for (int k = 0; k < got; k++)
                dgrams += pl_segments(&m[k]);
            __atomic_fetch_add(&pl->received, dgrams, __ATOMIC_RELAXED);
        }
    }
    close(ep);
    return NULL;
}

static size_t pl_packet(uint8_t *b, uint32_t ssrc, uint16_t seq)
{
    memset(b, 0, 12);
    b[0] = 0x80;
    b[1] = 96;
    rtp_wr16(b + 2, seq);
    rtp_wr32(b + 8, ssrc);
    memset(b + 12, 0x5a, PL_PAYLOAD);
    return 12 + PL_PAYLOAD;
}

/* One round: every destination gets its copy (a train in gso). Returns the
 * datagrams handed to the kernel. */
/* raw: IPv4 + UDP headers in front of the packet, for one IPPROTO_RAW
 * socket that sends every destination's copy from its own socket's port. */
static size_t pl_udp_ip(uint8_t *h, const pl_t *pl, int d, size_t len)
{
    size_t tot = 28 + len;
    memset(h, 0, 28);
    h[0] = 0x45;
    rtp_wr16(h + 2, (uint16_t)tot);
    h[6] = 0x40; /* DF */
    h[8] = 64;
    h[9] = IPPROTO_UDP;
    memcpy(h + 12, &pl->to[d].sin_addr, 4);
    memcpy(h + 16, &pl->to[d].sin_addr, 4);
    rtp_wr16(h + 20, pl->tx_port[d]);
    memcpy(h + 22, &pl->to[d].sin_port, 2);
    rtp_wr16(h + 24, (uint16_t)(len + 8)); /* UDP checksum 0: none (IPv4) */
    return tot;
}

static int pl_round(pl_t *pl, const char *shape, uint16_t *seq)
{
    static uint8_t buf[PL_MAX_DESTS * PL_GSO_TRAIN][28 + PL_BUF];
    int raw = strcmp(shape, "raw") == 0;
    struct iovec iov[PL_MAX_DESTS * PL_GSO_TRAIN];
    struct mmsghdr m[PL_MAX_DESTS];
    int train = strncmp(shape, "gso", 3) == 0 ? PL_GSO_TRAIN : 1, sent = 0;
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(uint16_t))];
    } ctl[PL_MAX_DESTS];

    for (int d = 0; d < pl->n; d++) {
        size_t seglen = 0;
        for (int t = 0; t < train; t++) {
            uint8_t *b = buf[d * train + t] + 28;
            size_t len = pl_packet(b, 0x1000u + (uint32_t)d, (uint16_t)(*seq + t));
            mw_srtp_protect_rtp_defer(&pl->srtp[d], b, &len);
            if (raw)
                len = pl_udp_ip(b -= 28, pl, d, len);
            iov[d * train + t] = (struct iovec){b, len};
            seglen = len;
        }
        m[d].msg_hdr = (struct msghdr){.msg_name = &pl->to[d],
                                       .msg_namelen = sizeof(pl->to[d]),
                                       .msg_iov = &iov[d * train],
                                       .msg_iovlen = (size_t)train};
        if (train > 1) {
            memset(&ctl[d], 0, sizeof(ctl[d]));
            m[d].msg_hdr.msg_control = ctl[d].b;
            m[d].msg_hdr.msg_controllen = sizeof(ctl[d].b);
            struct cmsghdr *c = CMSG_FIRSTHDR(&m[d].msg_hdr);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
            uint16_t seg = (uint16_t)seglen;
            memcpy(CMSG_DATA(c), &seg, sizeof(seg));
        }
    }
    /* Every copy protected first, then the sends, as in the worker. */
    mw_srtp_tags_finish();
    for (int d = 0; d < pl->n; d++) {
        if (strcmp(shape, "per-socket") == 0 || train > 1)
            if (sendmmsg(pl->tx[d], &m[d], 1, 0) == 1)
                sent += train;
    }
    if (strncmp(shape, "uring", 5) == 0) {
        int msg = strcmp(shape, "uring-msg") == 0;
        for (int d = 0; d < pl->n; d++) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&pl->ring);
            if (msg) {
                io_uring_prep_sendmsg(sqe, pl->tx[d], &m[d].msg_hdr, 0);
            } else { /* the worker's: a send with the address, a fixed file */
                io_uring_prep_send(sqe, d, iov[d].iov_base, iov[d].iov_len, 0);
                io_uring_prep_send_set_addr(sqe, (const struct sockaddr *)&pl->to[d],
                                            sizeof(pl->to[d]));
                sqe->flags |= IOSQE_FIXED_FILE;
            }
        }
        io_uring_submit(&pl->ring);
        struct io_uring_cqe *cqe;
        for (int d = 0; d < pl->n; d++) {
            if (io_uring_wait_cqe(&pl->ring, &cqe) != 0)
                break;
            sent += cqe->res > 0;
            io_uring_cqe_seen(&pl->ring, cqe);
        }
    }
    if (strcmp(shape, "shared") == 0 || raw) {
        int n = sendmmsg(raw ? pl->raw : pl->shared, m, (unsigned)pl->n, 0);
        sent += n > 0 ? n : 0;
    }
    *seq = (uint16_t)(*seq + train);
    return sent;
}

int main(int argc, char **argv)
{
    static pl_t pl;
    int tx_cpu = 1, gcm = 0;
    double seconds = 2;
    static const struct option opts[] = {
        {"dests", 1, 0, 'n'},  {"seconds", 1, 0, 's'}, {"tx-cpu", 1, 0, 't'},
        {"rx-cpu", 1, 0, 'r'}, {"srtp", 1, 0, 'c'},    {0, 0, 0, 0},
    };
    pl.n = 20;
    pl.rx_cpu = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == 'n')
            pl.n = atoi(optarg);
        else if (c == 's')
            seconds = atof(optarg);
        else if (c == 't')
            tx_cpu = atoi(optarg);
        else if (c == 'r')
            pl.rx_cpu = atoi(optarg);
        else if (c == 'c')
            gcm = strcmp(optarg, "gcm") == 0;
        else {
            fprintf(stderr, "usage: vc-physloop [--dests N] [--seconds S] [--tx-cpu C] "
                            "[--rx-cpu C] [--srtp cm|gcm]\n");
            return 2;
        }
    }
    if (pl.n < 1 || pl.n > PL_MAX_DESTS || !(seconds >= 0.1 && seconds <= 3600)) {
        fprintf(stderr, "physloop: --dests 1..%d, --seconds 0.1..3600\n", PL_MAX_DESTS);
        return 2;
    }
    if (mw_srtp_global_init() != 0)
        return 2;
    mw_srtp_profile_t prof = gcm ? MW_SRTP_AEAD_AES_128_GCM : MW_SRTP_AES128_CM_SHA1_80;
    pl.shared = pl_udp();
    pl.raw = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW); /* -1 without CAP_NET_RAW */
    for (int d = 0; d < pl.n; d++) {
        mw_srtp_keys_t k = {.profile = prof, .len = mw_srtp_key_salt_len(prof)};
        socklen_t al = sizeof(pl.to[d]);
        vc_random_bytes(k.local, sizeof(k.local));
        vc_random_bytes(k.remote, sizeof(k.remote));
        if (mw_srtp_init(&pl.srtp[d], &k) != 0)
            return 2;
        pl.rx[d] = pl_udp();
        pl.tx[d] = pl_udp();
        getsockname(pl.rx[d], (struct sockaddr *)&pl.to[d], &al);
        struct sockaddr_in me;
        al = sizeof(me);
        getsockname(pl.tx[d], (struct sockaddr *)&me, &al);
        pl.tx_port[d] = ntohs(me.sin_port);
    }
    pthread_t th;
    pthread_create(&th, NULL, pl_drain, &pl);
    pl_pin(tx_cpu);

    static const char *shapes[] = {"per-socket", "shared",    "gso",  "gso-gro",
                                   "raw",        "uring-msg", "uring"};
    pl.ring_ok = io_uring_queue_init(PL_MAX_DESTS, &pl.ring, 0) == 0;
    int files_ok = pl.ring_ok && io_uring_register_files(&pl.ring, pl.tx, (unsigned)pl.n) == 0;
    fprintf(stderr, "physical loop: %d destinations, %s, 1.2 kB, sender on core %d\n", pl.n,
            gcm ? "AEAD_AES_128_GCM" : "AES-CM-128/HMAC-SHA1-80", tx_cpu);
    fprintf(stderr, "%-12s %12s %10s %10s\n", "shape", "pps/core", "us/pkt", "received");
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        uint16_t seq = 0;
        if ((strcmp(shapes[s], "raw") == 0 && pl.raw < 0) ||
            (strcmp(shapes[s], "uring-msg") == 0 && !pl.ring_ok) ||
            (strcmp(shapes[s], "uring") == 0 && !files_ok))
            continue;
        int gro = strcmp(shapes[s], "gso-gro") == 0;
        for (int d = 0; d < pl.n; d++)
            setsockopt(pl.rx[d], SOL_UDP, UDP_GRO, &gro, sizeof(gro));
        unsigned long long dgrams = 0, rx0 = __atomic_load_n(&pl.received, __ATOMIC_RELAXED);
        uint64_t end = pl_ns(CLOCK_MONOTONIC) + (uint64_t)(seconds * 1e9);
        uint64_t cpu0 = pl_ns(CLOCK_THREAD_CPUTIME_ID);
        while (pl_ns(CLOCK_MONOTONIC) < end)
            dgrams += (unsigned long long)pl_round(&pl, shapes[s], &seq);
        double cpu = (double)(pl_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0) / 1e9;
        double pps = cpu > 0 ? (double)dgrams / cpu : 0;
        double got = dgrams ? (double)(__atomic_load_n(&pl.received, __ATOMIC_RELAXED) - rx0) /
                                  (double)dgrams
                            : 0;
        fprintf(stderr, "%-12s %12.0f %10.2f %9.0f%%\n", shapes[s], pps, pps > 0 ? 1e6 / pps : 0,
                got * 100);
        printf("{\"scenario\":\"physloop\",\"shape\":\"%s\",\"dests\":%d,\"srtp\":\"%s\","
               "\"pps_per_core\":%.0f,\"us_per_pkt\":%.3f,\"received\":%.4f}\n",
               shapes[s], pl.n, gcm ? "gcm" : "cm", pps, pps > 0 ? 1e6 / pps : 0, got);
        fflush(stdout);
    }
    pl.stop = 1;
    pthread_join(th, NULL);
    for (int d = 0; d < pl.n; d++) {
        mw_srtp_fini(&pl.srtp[d]);
        close(pl.rx[d]);
        close(pl.tx[d]);
    }
    close(pl.shared);
    return 0;
}
