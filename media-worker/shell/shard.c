/* shard: a child main context seen by its owner as one source (shard.h). */
#include "media-worker/shell/shard.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>

#include "common/util.h"

struct mw_shard {
    GSource base;
    GMainContext *child;
    GPollFD epoll_pfd; /* the epoll set, polled by the owner */
    int epfd;
    GPollFD *fds, *reg; /* the child's fds from the last query / registered */
    gint nfds, nreg, cap, prio;
    gint64 deadline_us; /* -1: none */
    int prepared, ready;
    /* Sources created or freed: a closed fd left the epoll set by itself and
     * its number may be back as another socket, so re-register then. */
    uint64_t gen, reg_gen;
    int meters;      /* mw_shard_meter() holders */
    uint64_t cpu_ns; /* thread CPU in queries and dispatches while metered */
};

/* Asks the child what it waits for and mirrors its fds in the epoll set
 * (system calls only when that set changed). */
static void mw_shard_query(mw_shard_t *s)
{
    gint timeout;
    uint64_t t0 = vc_cpu_meter_begin(s->meters > 0);

    s->ready = g_main_context_prepare(s->child, &s->prio);
    for (;;) {
        gint n = g_main_context_query(s->child, s->prio, &timeout, s->fds, s->cap);
        if (n <= s->cap) {
            s->nfds = n;
            break;
        }
        s->cap = n * 2;
        s->fds = vc_realloc(s->fds, (size_t)s->cap * sizeof(GPollFD));
        s->reg = vc_realloc(s->reg, (size_t)s->cap * sizeof(GPollFD));
    }
    int same = s->nfds == s->nreg && s->gen == s->reg_gen;
    for (gint i = 0; same && i < s->nfds; i++)
        same = s->fds[i].fd == s->reg[i].fd && s->fds[i].events == s->reg[i].events;
    if (!same) {
        for (gint i = 0; i < s->nreg; i++)
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->reg[i].fd, NULL);
        for (gint i = 0; i < s->nfds; i++) {
            struct epoll_event ev = {.events = ((s->fds[i].events & G_IO_IN) ? EPOLLIN : 0) |
                                               ((s->fds[i].events & G_IO_OUT) ? EPOLLOUT : 0),
                                     .data.fd = s->fds[i].fd};
            if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->fds[i].fd, &ev) < 0 && errno == EEXIST)
                epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->fds[i].fd, &ev);
        }
        memcpy(s->reg, s->fds, (size_t)s->nfds * sizeof(GPollFD));
        s->nreg = s->nfds;
        s->reg_gen = s->gen;
    }
    s->deadline_us = timeout < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout * 1000;
    s->prepared = 1;
    vc_cpu_meter_end(&s->cpu_ns, t0);
}

static gboolean mw_shard_prepare(GSource *src, gint *timeout)
{
    mw_shard_t *s = (mw_shard_t *)src;

    if (!s->prepared)
        mw_shard_query(s);
    if (s->ready) {
        *timeout = 0;
        return TRUE;
    }
    if (s->deadline_us < 0) {
        *timeout = -1;
        return FALSE;
    }
    gint64 left = s->deadline_us - g_get_monotonic_time();
    *timeout = left <= 0 ? 0 : (gint)((left + 999) / 1000);
    return left <= 0;
}

static gboolean mw_shard_check(GSource *src)
{
    mw_shard_t *s = (mw_shard_t *)src;

    return s->ready || (s->epoll_pfd.revents & G_IO_IN) ||
           (s->deadline_us >= 0 && g_get_monotonic_time() >= s->deadline_us);
}

/* One child iteration: poll its fds once without waiting, check, dispatch. */
static gboolean mw_shard_dispatch(GSource *src, GSourceFunc cb, gpointer data)
{
    mw_shard_t *s = (mw_shard_t *)src;
    uint64_t t0 = vc_cpu_meter_begin(s->meters > 0);

    if (s->nfds > 0)
        g_poll(s->fds, (guint)s->nfds, 0);
    if (g_main_context_check(s->child, s->prio, s->fds, s->nfds))
        g_main_context_dispatch(s->child);
    s->prepared = 0;
    vc_cpu_meter_end(&s->cpu_ns, t0);
    return G_SOURCE_CONTINUE;
}

static void mw_shard_finalize(GSource *src)
{
    mw_shard_t *s = (mw_shard_t *)src;

    if (s->epfd >= 0)
        close(s->epfd);
    free(s->fds);
    free(s->reg);
    g_main_context_release(s->child);
    g_main_context_unref(s->child);
}

static GSourceFuncs mw_shard_funcs = {mw_shard_prepare,  mw_shard_check, mw_shard_dispatch,
                                      mw_shard_finalize, NULL,           NULL};

mw_shard_t *mw_shard_new(GMainContext *owner)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return NULL;
    mw_shard_t *s = (mw_shard_t *)g_source_new(&mw_shard_funcs, sizeof(mw_shard_t));
    /* Ownerless polling: a source added or removed from this very thread
     * (a new agent, a re-armed timer) signals the child's wake-up fd too,
     * which is in the epoll set, so the next query sees it. */
    s->child = g_main_context_new_with_flags(G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING);
    g_main_context_acquire(s->child);
    s->epfd = epfd;
    s->epoll_pfd = (GPollFD){.fd = epfd, .events = G_IO_IN};
    s->deadline_us = -1;
    g_source_add_poll(&s->base, &s->epoll_pfd);
    g_source_attach(&s->base, owner);
    return s;
}

GMainContext *mw_shard_context(mw_shard_t *s)
{
    return s->child;
}

void mw_shard_changed(mw_shard_t *s)
{
    if (s) {
        s->gen++;
        s->prepared = 0;
    }
}

void mw_shard_meter(mw_shard_t *s, int on)
{
    if (s)
        s->meters += on ? 1 : -1;
}

uint64_t mw_shard_cpu_ns(const mw_shard_t *s)
{
    return s ? s->cpu_ns : 0;
}

void mw_shard_free(mw_shard_t *s)
{
    if (!s)
        return;
    g_source_destroy(&s->base);
    g_source_unref(&s->base);
}

mw_shard_t *mw_shard_pick(mw_shard_t **pool, size_t n, unsigned *next, GMainContext *owner)
{
    size_t i = (*next)++ % n;
    if (!pool[i])
        pool[i] = mw_shard_new(owner);
    return pool[i];
}
