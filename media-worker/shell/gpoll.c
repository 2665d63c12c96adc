/* gpoll: a GLib poll function backed by one persistent epoll set. See
 * gpoll.h. GLib hands the poll function the whole fd array every
 * iteration; poll(2) then costs the kernel a lookup and a driver poll per fd
 * (with one UDP socket per peer, most of a busy worker's system time).
 * Here the array is only compared with what is registered (user space, no
 * system call unless something changed) and epoll_wait() returns the ready
 * ones. */
#include "media-worker/shell/gpoll.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define MW_GPOLL_EVENTS 256 /* ready fds taken per epoll_wait */

/* Per fd number: what is registered, the iteration that last listed it, the
 * first GPollFD index for it in that iteration and the events wanted. */
typedef struct {
    uint32_t reg;  /* epoll events registered, 0: not registered */
    uint32_t want; /* events wanted this iteration */
    uint64_t gen;  /* iteration that listed this fd */
    int first;     /* first index in the GPollFD array */
    int reg_slot;  /* index in mw_gpoll.regs, -1 if none */
} mw_gpoll_fd_t;

static struct {
    int epfd;
    uint64_t gen;
    mw_gpoll_fd_t *fds; /* indexed by fd number */
    size_t n_fds;
    int *regs; /* registered fd numbers */
    size_t n_regs, cap_regs;
    int *next; /* next GPollFD index with the same fd, per index */
    size_t cap_next;
} mw_gpoll = {.epfd = -1};

/* GLib's G_IO_* bits to epoll's (ERR and HUP are always reported). */
static uint32_t mw_gpoll_to_epoll(gushort ev)
{
    uint32_t e = 0;
    if (ev & G_IO_IN)
        e |= EPOLLIN;
    if (ev & G_IO_OUT)
        e |= EPOLLOUT;
    if (ev & G_IO_PRI)
        e |= EPOLLPRI;
    return e;
}

static gushort mw_gpoll_from_epoll(uint32_t e)
{
    gushort ev = 0;
    if (e & EPOLLIN)
        ev |= G_IO_IN;
    if (e & EPOLLOUT)
        ev |= G_IO_OUT;
    if (e & EPOLLPRI)
        ev |= G_IO_PRI;
    if (e & EPOLLERR)
        ev |= G_IO_ERR;
    if (e & EPOLLHUP)
        ev |= G_IO_HUP;
    return ev;
}

/* Grows the per-fd table to hold fd. */
static void mw_gpoll_grow(int fd)
{
    if ((size_t)fd < mw_gpoll.n_fds)
        return;
    size_t n = mw_gpoll.n_fds ? mw_gpoll.n_fds : 256;
    while (n <= (size_t)fd)
        n *= 2;
    mw_gpoll.fds = vc_realloc(mw_gpoll.fds, n * sizeof(*mw_gpoll.fds));
    for (size_t i = mw_gpoll.n_fds; i < n; i++)
        mw_gpoll.fds[i] = (mw_gpoll_fd_t){.reg_slot = -1};
    mw_gpoll.n_fds = n;
}

/* Brings fd's registration to f->want (ADD, MOD or DEL). A closed fd left
 * the set by itself, and a reused number is a new file: ENOENT/EEXIST
 * switch between ADD and MOD. */
static void mw_gpoll_sync(int fd, mw_gpoll_fd_t *f)
{
    struct epoll_event ev = {.events = f->want, .data.fd = fd};
    if (f->want == 0) {
        if (epoll_ctl(mw_gpoll.epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT &&
            errno != EBADF)
            VC_WARN("gpoll: epoll_ctl DEL %d: %s", fd, strerror(errno));
    } else if (f->reg == 0) {
        if (epoll_ctl(mw_gpoll.epfd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
            (errno != EEXIST || epoll_ctl(mw_gpoll.epfd, EPOLL_CTL_MOD, fd, &ev) < 0))
            VC_WARN("gpoll: epoll_ctl ADD %d: %s", fd, strerror(errno));
    } else {
        if (epoll_ctl(mw_gpoll.epfd, EPOLL_CTL_MOD, fd, &ev) < 0 &&
            (errno != ENOENT || epoll_ctl(mw_gpoll.epfd, EPOLL_CTL_ADD, fd, &ev) < 0))
            VC_WARN("gpoll: epoll_ctl MOD %d: %s", fd, strerror(errno));
    }
    if (f->want != 0 && f->reg_slot < 0) {
        if (mw_gpoll.n_regs == mw_gpoll.cap_regs) {
            mw_gpoll.cap_regs = mw_gpoll.cap_regs ? mw_gpoll.cap_regs * 2 : 256;
            mw_gpoll.regs = vc_realloc(mw_gpoll.regs, mw_gpoll.cap_regs * sizeof(int));
        }
        f->reg_slot = (int)mw_gpoll.n_regs;
        mw_gpoll.regs[mw_gpoll.n_regs++] = fd;
    } else if (f->want == 0 && f->reg_slot >= 0) {
        int last = mw_gpoll.regs[--mw_gpoll.n_regs];
        mw_gpoll.regs[f->reg_slot] = last;
        mw_gpoll.fds[last].reg_slot = f->reg_slot;
        f->reg_slot = -1;
    }
    f->reg = f->want;
}

/* The GPollFunc: same contract as g_poll(). */
static gint mw_gpoll_poll(GPollFD *ufds, guint nfds, gint timeout)
{
    struct epoll_event evs[MW_GPOLL_EVENTS];
    uint64_t gen = ++mw_gpoll.gen;

    if (nfds > mw_gpoll.cap_next) {
        mw_gpoll.cap_next = nfds * 2;
        mw_gpoll.next = vc_realloc(mw_gpoll.next, mw_gpoll.cap_next * sizeof(int));
    }
    /* What is wanted per fd this iteration (an fd may be listed twice). */
    for (guint i = 0; i < nfds; i++) {
        int fd = ufds[i].fd;
        ufds[i].revents = 0;
        mw_gpoll.next[i] = -1;
        if (fd < 0)
            continue;
        mw_gpoll_grow(fd);
        mw_gpoll_fd_t *f = &mw_gpoll.fds[fd];
        uint32_t want = mw_gpoll_to_epoll(ufds[i].events);
        if (f->gen != gen) {
            f->gen = gen;
            f->first = (int)i;
            f->want = want;
        } else {
            mw_gpoll.next[i] = f->first;
            f->first = (int)i;
            f->want |= want;
        }
    }
    /* Register changes; fds no longer listed leave the set. An fd listed
     * with no events stays registered for ERR/HUP only (EPOLLIN etc. off). */
    for (guint i = 0; i < nfds; i++) {
        int fd = ufds[i].fd;
        if (fd < 0)
            continue;
        mw_gpoll_fd_t *f = &mw_gpoll.fds[fd];
        if (f->first != (int)i)
            continue;
        if (f->want == 0)
            f->want = EPOLLERR; /* listed: keep it, report errors only */
        if (f->want != f->reg)
            mw_gpoll_sync(fd, f);
    }
    for (size_t k = 0; k < mw_gpoll.n_regs;) {
        int fd = mw_gpoll.regs[k];
        mw_gpoll_fd_t *f = &mw_gpoll.fds[fd];
        if (f->gen == gen) {
            k++;
            continue;
        }
        f->want = 0;
        mw_gpoll_sync(fd, f); /* moves the last registered fd into slot k */
    }

    int n;
    do
        n = epoll_wait(mw_gpoll.epfd, evs, MW_GPOLL_EVENTS, timeout);
    while (n < 0 && errno == EINTR && timeout < 0);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    gint ready = 0;
    for (int e = 0; e < n; e++) {
        int fd = evs[e].data.fd;
        if (fd < 0 || (size_t)fd >= mw_gpoll.n_fds || mw_gpoll.fds[fd].gen != gen)
            continue;
        gushort rev = mw_gpoll_from_epoll(evs[e].events);
        for (int i = mw_gpoll.fds[fd].first; i >= 0; i = mw_gpoll.next[i]) {
            gushort r = rev & (ufds[i].events | G_IO_ERR | G_IO_HUP | G_IO_NVAL);
            if (r && !ufds[i].revents)
                ready++;
            ufds[i].revents |= r;
        }
    }
    return ready;
}

/* Installs the epoll poll function on ctx. */
int mw_gpoll_attach(GMainContext *ctx)
{
    if (mw_gpoll.epfd < 0) {
        mw_gpoll.epfd = epoll_create1(EPOLL_CLOEXEC);
        if (mw_gpoll.epfd < 0) {
            VC_WARN("gpoll: epoll_create1: %s; GLib's poll() stays", strerror(errno));
            return -1;
        }
    }
    g_main_context_set_poll_func(ctx, mw_gpoll_poll);
    return 0;
}

/* Puts poll(2) back and releases the epoll set. */
void mw_gpoll_detach(GMainContext *ctx)
{
    g_main_context_set_poll_func(ctx, NULL);
    if (mw_gpoll.epfd >= 0)
        close(mw_gpoll.epfd);
    free(mw_gpoll.fds);
    free(mw_gpoll.regs);
    free(mw_gpoll.next);
    memset(&mw_gpoll, 0, sizeof(mw_gpoll));
    mw_gpoll.epfd = -1;
}
