/* registry: the worker's presence in Redis. hiredis async driven by a GSource
 * on the worker's GMainContext; see registry.h and docs/internals.md. */
#include "media-worker/shell/registry.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/redis_scripts.h"
#include "common/redis_url.h"
#include "common/util.h"

#define MW_REGISTRY_PERIOD_MS 1000
#define MW_REGISTRY_FREE_TIMEOUT_MS 500

/* Our GSource for one redisAsyncContext. Modelled on hiredis 0.14's
 * adapters/glib.h (which has no redisGlibAttach; one attaches its
 * redis_source_new() to a context by hand) but safe when hiredis frees the
 * context in the middle of a dispatch: that adapter calls
 * redisAsyncHandleRead() on a freed context when a failed connect reports
 * both POLLOUT and POLLIN, and ignores POLLERR/POLLHUP. */
typedef struct {
    GSource source;
    redisAsyncContext *ac; /* NULL once hiredis has cleaned up */
    GPollFD poll_fd;
} mw_registry_source_t;

struct mw_registry {
    GMainContext *ctx;
    vc_redis_url_t url;
    char *id, *region, *control_url, *host;
    int load;
    redisAsyncContext *ac; /* NULL while disconnected */
    mw_registry_source_t *src;
    GSource *timer;
    int up;
    int beat_pending; /* a heartbeat is queued behind a pending connect */
    int outage_logged;
    int freeing;
};

/* Changes the fd events we wait for and wakes the context to re-poll. */
static void mw_registry_source_events(void *data, gushort set, gushort clear)
{
    mw_registry_source_t *s = data;
    s->poll_fd.events = (gushort)((s->poll_fd.events | set) & ~clear);
    GMainContext *ctx = g_source_get_context(&s->source);
    if (ctx != NULL)
        g_main_context_wakeup(ctx);
}

/* hiredis event hooks: which fd events we wait for. */
static void mw_registry_add_read(void *data)
{
    mw_registry_source_events(data, G_IO_IN, 0);
}

/* hiredis event hook. */
static void mw_registry_del_read(void *data)
{
    mw_registry_source_events(data, 0, G_IO_IN);
}

/* hiredis event hook. */
static void mw_registry_add_write(void *data)
{
    mw_registry_source_events(data, G_IO_OUT, 0);
}

/* hiredis event hook. */
static void mw_registry_del_write(void *data)
{
    mw_registry_source_events(data, 0, G_IO_OUT);
}

/* hiredis is freeing the context: detach from it and leave the main context
 * (GLib keeps the source alive until a running dispatch returns). */
static void mw_registry_cleanup(void *data)
{
    mw_registry_source_t *s = data;
    s->ac = NULL;
    s->poll_fd.events = 0;
    g_source_destroy(&s->source);
}

/* GSource: never ready before polling; no timeout of our own. */
static gboolean mw_registry_prepare(GSource *source, gint *timeout)
{
    *timeout = -1;
    return FALSE;
}

/* GSource: ready when polled events (or an error/hang-up) came in. */
static gboolean mw_registry_check(GSource *source)
{
    mw_registry_source_t *s = (mw_registry_source_t *)source;
    gushort want = s->poll_fd.events | G_IO_ERR | G_IO_HUP;
    return s->ac != NULL && (s->poll_fd.revents & want) != 0;
}

/* GSource: lets hiredis write then read, re-checking that it did not free the
 * context in between. */
static gboolean mw_registry_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    mw_registry_source_t *s = (mw_registry_source_t *)source;
    gushort rev = s->poll_fd.revents;
    s->poll_fd.revents = 0;
    if (s->ac != NULL && (rev & G_IO_OUT))
        redisAsyncHandleWrite(s->ac);
    /* An error or hang-up surfaces through a read. */
    if (s->ac != NULL && (rev & (G_IO_IN | G_IO_ERR | G_IO_HUP)))
        redisAsyncHandleRead(s->ac);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs mw_registry_source_funcs = {
    .prepare = mw_registry_prepare,
    .check = mw_registry_check,
    .dispatch = mw_registry_dispatch,
};

/* Hooks ac into r's context. */
static void mw_registry_attach(mw_registry_t *r, redisAsyncContext *ac)
{
    mw_registry_source_t *s =
        (mw_registry_source_t *)g_source_new(&mw_registry_source_funcs, sizeof(*s));
    s->ac = ac;
    s->poll_fd.fd = ac->c.fd;
    g_source_add_poll(&s->source, &s->poll_fd);
    ac->ev.addRead = mw_registry_add_read;
    ac->ev.delRead = mw_registry_del_read;
    ac->ev.addWrite = mw_registry_add_write;
    ac->ev.delWrite = mw_registry_del_write;
    ac->ev.cleanup = mw_registry_cleanup;
    ac->ev.data = s;
    g_source_attach(&s->source, r->ctx);
    g_source_unref(&s->source); /* the context owns it */
    r->src = s;
}

/* The connection is gone (or never came): one warning per outage. */
static void mw_registry_down(mw_registry_t *r, const char *why)
{
    r->ac = NULL;
    r->src = NULL;
    r->up = 0;
    r->beat_pending = 0;
    if (!r->outage_logged && !r->freeing) {
        VC_WARN("registry: redis unavailable (%s); retrying every second", why);
        r->outage_logged = 1;
    }
}

/* hiredis: the connection attempt finished. */
static void mw_registry_on_connect(const redisAsyncContext *ac, int status)
{
    mw_registry_t *r = ac->data;
    if (status != REDIS_OK) {
        mw_registry_down(r, ac->errstr); /* hiredis frees ac after this */
        return;
    }
    r->up = 1;
    r->beat_pending = 0;
    if (r->outage_logged)
        VC_INFO("registry: redis connected again");
    r->outage_logged = 0;
}

/* hiredis: an established connection ended. */
static void mw_registry_on_disconnect(const redisAsyncContext *ac, int status)
{
    mw_registry_t *r = ac->data;
    if (r->ac == ac)
        mw_registry_down(r, status == REDIS_OK ? "closed" : ac->errstr);
}

/* Starts an asynchronous connection; hiredis reports it on the first write,
 * which the heartbeat that follows provides. */
static void mw_registry_connect(mw_registry_t *r)
{
    redisAsyncContext *ac = r->url.is_unix ? redisAsyncConnectUnix(r->url.path)
                                           : redisAsyncConnect(r->url.host, r->url.port);
    if (ac == NULL) {
        mw_registry_down(r, "out of memory");
        return;
    }
    if (ac->err) {
        char why[128];
        snprintf(why, sizeof(why), "%s", ac->errstr);
        redisAsyncFree(ac);
        mw_registry_down(r, why);
        return;
    }
    ac->data = r;
    r->ac = ac;
    mw_registry_attach(r, ac);
    redisAsyncSetConnectCallback(ac, mw_registry_on_connect);
    redisAsyncSetDisconnectCallback(ac, mw_registry_on_disconnect);
}

/* Logs a script error (e.g. a Redis without scripting); NULL replies mean
 * the connection dropped, reported by on_disconnect. */
static void mw_registry_on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
    mw_registry_t *r = ac->data;
    redisReply *rep = reply;
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR && !r->freeing)
        VC_ERROR("registry: %s failed: %.200s", (const char *)priv, rep->str);
}

/* One heartbeat: connect first if needed. */
static void mw_registry_beat(mw_registry_t *r)
{
    if (r->ac == NULL)
        mw_registry_connect(r);
    if (r->ac == NULL)
        return;
    /* While a connect is pending one queued heartbeat is enough. */
    if (!r->up && r->beat_pending)
        return;
    r->beat_pending = !r->up;
    char load[16], pid[16], ttl[16];
    snprintf(load, sizeof(load), "%d", r->load);
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    snprintf(ttl, sizeof(ttl), "%d", VC_REDIS_WORKER_TTL_S);
    redisAsyncCommand(r->ac, mw_registry_on_reply, "heartbeat",
                      "EVAL %s 2 " VC_REDIS_PREFIX "worker:%s " VC_REDIS_PREFIX
                      "workers:%s %s %s %s %s %s %s %s",
                      vc_redis_script_heartbeat, r->id, r->region, r->id, r->control_url, r->region,
                      r->host, load, pid, ttl);
}

/* Every second: heartbeat (and reconnect when down). */
static gboolean mw_registry_on_timer(gpointer data)
{
    mw_registry_beat(data);
    return G_SOURCE_CONTINUE;
}

/* Validates the URL, then starts the timer and the first heartbeat. */
mw_registry_t *mw_registry_new(GMainContext *ctx, const char *redis_url,
                               const mw_registry_info_t *info)
{
    vc_redis_url_t url;
    char err[200];
    if (vc_redis_url_parse(redis_url, &url, err, sizeof(err)) != 0) {
        VC_ERROR("registry: redis_url '%s': %s", redis_url, err);
        return NULL;
    }
    mw_registry_t *r = vc_calloc(1, sizeof(*r));
    r->ctx = g_main_context_ref(ctx);
    r->url = url;
    r->id = vc_strdup(info->id);
    r->region = vc_strdup(info->region ? info->region : "local");
    r->control_url = vc_strdup(info->control_url);
    r->host = vc_strdup(info->host ? info->host : "");
    r->timer = g_timeout_source_new(MW_REGISTRY_PERIOD_MS);
    g_source_set_callback(r->timer, mw_registry_on_timer, r, NULL);
    g_source_attach(r->timer, ctx);
    mw_registry_beat(r);
    return r;
}

/* Stored only; sent with the next heartbeat. */
void mw_registry_set_load(mw_registry_t *r, int load)
{
    r->load = load;
}

/* Best effort: when Redis is down the room keeps naming us until its TTL. */
void mw_registry_release_room(mw_registry_t *r, const char *room)
{
    if (r->ac == NULL || !r->up) {
        VC_WARN("registry: redis unavailable; room %s stays assigned until it expires", room);
        return;
    }
    redisAsyncCommand(r->ac, mw_registry_on_reply, "release",
                      "EVAL %s 2 " VC_REDIS_PREFIX "room:%s " VC_REDIS_PREFIX
                      "worker_rooms:%s %s %s",
                      vc_redis_script_release, room, r->id, r->id, room);
}

/* Best effort, like release: Redis down means the old value stays. */
void mw_registry_set_lobby(mw_registry_t *r, const char *room, int enabled)
{
    if (r->ac == NULL || !r->up) {
        VC_WARN("registry: redis unavailable; lobby of room %s not stored", room);
        return;
    }
    redisAsyncCommand(r->ac, mw_registry_on_reply, "set_lobby",
                      "EVAL %s 1 " VC_REDIS_PREFIX "room:%s %s", vc_redis_script_set_lobby, room,
                      enabled ? "1" : "0");
}

/* Best effort: when Redis is down the room key lives until its TTL. */
void mw_registry_end_room(mw_registry_t *r, const char *room)
{
    if (r->ac == NULL || !r->up) {
        VC_WARN("registry: redis unavailable; ended room %s stays until it expires", room);
        return;
    }
    redisAsyncCommand(r->ac, mw_registry_on_reply, "end",
                      "EVAL %s 2 " VC_REDIS_PREFIX "room:%s " VC_REDIS_PREFIX
                      "worker_rooms:%s %s %s",
                      vc_redis_script_end, room, r->id, r->id, room);
}

/* Removes our keys on a short blocking connection: the main context may
 * never turn again after free. */
static void mw_registry_unregister(mw_registry_t *r)
{
    struct timeval tv = {0, MW_REGISTRY_FREE_TIMEOUT_MS * 1000};
    redisContext *c = r->url.is_unix ? redisConnectUnixWithTimeout(r->url.path, tv)
                                     : redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (c == NULL || c->err)
        goto done;
    redisSetTimeout(c, tv);
    redisReply *rep = redisCommand(c, "DEL " VC_REDIS_PREFIX "worker:%s", r->id);
    if (rep != NULL)
        freeReplyObject(rep);
    rep = redisCommand(c, "ZREM " VC_REDIS_PREFIX "workers:%s %s", r->region, r->id);
    if (rep != NULL)
        freeReplyObject(rep);
done:
    if (c != NULL)
        redisFree(c);
}

/* Unregisters synchronously, then frees the async context (and its GSource). */
void mw_registry_free(mw_registry_t *r)
{
    if (r == NULL)
        return;
    r->freeing = 1;
    g_source_destroy(r->timer);
    g_source_unref(r->timer);
    mw_registry_unregister(r);
    if (r->ac != NULL) {
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        redisAsyncFree(ac); /* cleanup destroys the GSource */
    }
    g_main_context_unref(r->ctx);
    free(r->id);
    free(r->region);
    free(r->control_url);
    free(r->host);
    free(r);
}
