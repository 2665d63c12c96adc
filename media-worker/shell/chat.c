/* chat: the room chat over WebRTC data channels, with the WebSocket as the
 * fallback. Each session in the call gets one SCTP association (sctp.c)
 * inside its DTLS once DTLS is up; the browser opens a reliable, ordered
 * channel labelled "chat" (DCEP). Messages are the protocol's JSON:
 * chat{text} in, chat{from, name, text, ts} out to every other participant
 * of the same room (on its chat channel if open, else deliver{} on its
 * WebSocket), error{ref:"chat"} back to the sender on the path it used.
 * Text rules and the rate limit are core/chat.c. */
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "media-worker/core/chat.h"
#include "media-worker/shell/sctp.h"
#include "media-worker/shell/worker.h"

#define MW_CHAT_LABEL "chat"

static void mw_chat_sctp_send(const uint8_t *pkt, size_t len, void *user);
static void mw_chat_sctp_state(mw_sctp_t *sc, int up, void *user);
static void mw_chat_sctp_open(mw_sctp_t *sc, uint16_t sid, const char *label, int full, void *user);
static void mw_chat_sctp_msg(mw_sctp_t *sc, uint16_t sid, int binary, const uint8_t *data,
                             size_t len, void *user);
static void mw_chat_sctp_close(mw_sctp_t *sc, uint16_t sid, void *user);

static const mw_sctp_callbacks_t mw_chat_sctp_cb = {
    .send = mw_chat_sctp_send,
    .on_state = mw_chat_sctp_state,
    .on_open = mw_chat_sctp_open,
    .on_message = mw_chat_sctp_msg,
    .on_close = mw_chat_sctp_close,
};

/* GLib timeout: advances usrsctp's clock by the real time elapsed; stops
 * itself once no association is left. */
static gboolean mw_chat_timer(gpointer data)
{
    mw_worker_t *w = data;
    int64_t now = g_get_monotonic_time();
    int64_t ms = (now - w->sctp_last_us) / 1000;

    if (ms > 0) {
        w->sctp_last_us += ms * 1000;
        mw_sctp_timers((uint32_t)(ms > 60000 ? 60000 : ms));
    }
    if (mw_sctp_count() > 0)
        return G_SOURCE_CONTINUE;
    g_source_unref(w->sctp_src);
    w->sctp_src = NULL;
    return G_SOURCE_REMOVE;
}

/* Starts the timer source if associations exist and it is not running. */
static void mw_chat_timer_ensure(mw_worker_t *w)
{
    if (w->sctp_src != NULL || mw_sctp_count() == 0)
        return;
    w->sctp_last_us = g_get_monotonic_time();
    w->sctp_src = g_timeout_source_new(MW_SCTP_TICK_MS);
    g_source_set_callback(w->sctp_src, mw_chat_timer, w, NULL);
    g_source_attach(w->sctp_src, w->ctx);
}

/* Creates the association if the answer accepted data channels and DTLS
 * can carry it. */
static void mw_chat_start(mw_session_t *s)
{
    if (s->sctp != NULL || s->sctp_port == 0 || s->dead || s->peer == NULL)
        return;
    s->sctp = mw_sctp_new(MW_SCTP_PORT, s->sctp_port, &mw_chat_sctp_cb, s);
    if (s->sctp == NULL) {
        s->sctp_port = 0; /* chat falls back to the WebSocket */
        return;
    }
    mw_chat_timer_ensure(s->w);
}

void mw_chat_on_answer(mw_session_t *s, const sdp_answer_t *a)
{
    if (s->sctp_port != 0 || !a->app.accepted)
        return;
    s->sctp_port = a->app.sctp_port;
    if (s->connected)
        mw_chat_start(s);
}

void mw_chat_on_connected(mw_session_t *s)
{
    mw_chat_start(s);
}

void mw_chat_on_app_data(mw_peer_t *p, const uint8_t *data, size_t len, void *user)
{
    mw_session_t *s = user;

    if (s->dead)
        return;
    /* The browser's INIT may come right behind its last handshake flight,
     * before the peer reported the connection. */
    mw_chat_start(s);
    if (s->sctp != NULL)
        mw_sctp_input(s->sctp, data, len);
}

void mw_chat_session_fini(mw_session_t *s)
{
    if (s->sctp == NULL)
        return;
    mw_sctp_free(s->sctp);
    s->sctp = NULL;
    s->chat_open = 0;
    if (mw_sctp_count() == 0 && s->w->sctp_src != NULL) {
        g_source_destroy(s->w->sctp_src);
        g_source_unref(s->w->sctp_src);
        s->w->sctp_src = NULL;
    }
}

/* sctp send callback: one SCTP packet as a DTLS record. */
static void mw_chat_sctp_send(const uint8_t *pkt, size_t len, void *user)
{
    mw_session_t *s = user;

    if (s->peer != NULL)
        (void)mw_peer_send_app(s->peer, pkt, len);
}

static void mw_chat_sctp_state(mw_sctp_t *sc, int up, void *user)
{
    mw_session_t *s = user;

    VC_INFO("session %.8s: data channels %s", s->id, up ? "up" : "down");
    if (!up)
        s->chat_open = 0;
}

/* The browser opened a channel: the one labelled "chat" carries chat. */
static void mw_chat_sctp_open(mw_sctp_t *sc, uint16_t sid, const char *label, int full, void *user)
{
    mw_session_t *s = user;

    if (!full || strcmp(label, MW_CHAT_LABEL) != 0) {
        VC_DEBUG("session %.8s: data channel %u '%s' ignored", s->id, sid, label);
        return;
    }
    s->chat_sid = sid;
    s->chat_open = 1;
    VC_INFO("session %.8s: chat channel open (stream %u)", s->id, sid);
}

static void mw_chat_sctp_close(mw_sctp_t *sc, uint16_t sid, void *user)
{
    mw_session_t *s = user;

    if (s->chat_open && s->chat_sid == sid)
        s->chat_open = 0;
}

/* Sends msg (borrowed) on s's chat channel. 0, or -1 if it cannot. */
static int mw_chat_dc_send(mw_session_t *s, const json_t *msg)
{
    char *txt;
    int rv;

    if (s->dead || s->sctp == NULL || !s->chat_open)
        return -1;
    txt = json_dumps(msg, JSON_COMPACT);
    if (txt == NULL)
        return -1;
    rv = mw_sctp_send(s->sctp, s->chat_sid, 0, (const uint8_t *)txt, strlen(txt));
    free(txt);
    return rv;
}

/* An error for the sender, on the path its message came by. */
static void mw_chat_error(mw_session_t *s, int via_dc, vc_err_t code, const char *detail)
{
    if (via_dc) {
        json_t *e = vc_proto_error(code, detail, "chat");
        int rv = mw_chat_dc_send(s, e);
        json_decref(e);
        if (rv == 0)
            return;
    }
    mw_session_error(s, code, detail, "chat");
}

/* Checks one chat text from s and relays it to everyone else in its room. */
static void mw_chat_handle(mw_session_t *s, const char *text, size_t len, int via_dc,
                           uint64_t now_ms)
{
    json_t *m;

    if (s->part == NULL || s->room == NULL) {
        mw_chat_error(s, via_dc, VC_ERR_BAD_STATE, "not in the call");
        return;
    }
    switch (chat_text_check(text, len)) {
    case CHAT_TEXT_OK:
        break;
    case CHAT_TEXT_TOO_LONG:
        mw_chat_error(s, via_dc, VC_ERR_TOO_LARGE, "a chat message has at most 2000 bytes");
        return;
    default:
        mw_chat_error(s, via_dc, VC_ERR_BAD_MESSAGE, "the chat text is empty or invalid");
        return;
    }
    if (!chat_rate_take(&s->chat_rate, now_ms)) {
        mw_chat_error(s, via_dc, VC_ERR_RATE_LIMITED, "too many chat messages; slow down");
        return;
    }
    m = vc_proto_msg("chat");
    json_object_set_new(m, "from", json_string(s->part->id));
    json_object_set_new(m, "name", json_string(s->part->name));
    json_object_set_new(m, "text", json_stringn(text, len));
    json_object_set_new(m, "ts", json_integer(g_get_real_time() / 1000));
    for (room_part_t *q = s->room->parts; q != NULL; q = q->next) {
        mw_session_t *qs = q->user;
        if (q == s->part || qs == NULL || qs->dead)
            continue;
        if (mw_chat_dc_send(qs, m) != 0)
            mw_deliver(qs, json_incref(m));
    }
    json_decref(m);
}

/* One message on the chat channel: the same JSON as on the WebSocket. */
static void mw_chat_sctp_msg(mw_sctp_t *sc, uint16_t sid, int binary, const uint8_t *data,
                             size_t len, void *user)
{
    mw_session_t *s = user;
    json_t *m = NULL;
    const char *type;
    char err[160];
    vc_err_t rc;

    if (s->dead || !s->chat_open || sid != s->chat_sid)
        return;
    if (binary) {
        mw_chat_error(s, 1, VC_ERR_BAD_MESSAGE, "chat messages are text");
        return;
    }
    rc = vc_proto_parse(VC_CH_CLIENT, (const char *)data, len, &m, &type, err, sizeof(err));
    if (rc == VC_OK && strcmp(type, "chat") != 0) {
        rc = VC_ERR_UNKNOWN_TYPE;
        snprintf(err, sizeof(err), "only chat messages go on the chat channel");
    }
    if (rc != VC_OK) {
        mw_chat_error(s, 1, rc, err);
        json_decref(m);
        return;
    }
    const char *text = json_string_value(json_object_get(m, "text"));
    mw_chat_handle(s, text, json_string_length(json_object_get(m, "text")), 1, vc_now_ms());
    json_decref(m);
}

void mw_on_chat(mw_session_t *s, const json_t *m, uint64_t now_ms)
{
    const json_t *t = json_object_get(m, "text");

    mw_chat_handle(s, json_string_value(t), json_string_length(t), 0, now_ms);
}
