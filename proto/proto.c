#include "proto/proto.h"
#include "common/utf8.h"

#include <stdio.h>
#include <string.h>

typedef enum {
    F_ID,       /* vc_proto_id_ok string */
    F_NAME,     /* display name */
    F_STR,      /* string up to max bytes */
    F_STR_NULL, /* string up to max bytes, or null */
    F_BOOL,
    F_INT,
    F_KIND, /* "audio" or "video" */
    F_OBJ,
    F_ARR,
    F_ANY,
} vc_field_kind_t;

typedef struct {
    const char *name;
    vc_field_kind_t kind;
    int required;
    size_t max;
} vc_field_t;

#define VC_MAX_FIELDS 10

typedef struct {
    vc_channel_t ch;
    const char *type;
    vc_field_t fields[VC_MAX_FIELDS];
} vc_msg_spec_t;

#define REQ(n, k)                                                                                  \
    {                                                                                              \
        n, k, 1, 0                                                                                 \
    }
#define OPT(n, k)                                                                                  \
    {                                                                                              \
        n, k, 0, 0                                                                                 \
    }
#define REQS(n, max)                                                                               \
    {                                                                                              \
        n, F_STR, 1, max                                                                           \
    }
#define OPTS(n, max)                                                                               \
    {                                                                                              \
        n, F_STR, 0, max                                                                           \
    }

static const vc_msg_spec_t vc_specs[] = {
    /* browser -> edge */
    {VC_CH_CLIENT,
     "join",
     {REQ("room", F_ID), REQ("name", F_NAME), OPTS("token", VC_PROTO_MAX_TOKEN),
      OPTS("resume", VC_PROTO_MAX_TOKEN)}},
    {VC_CH_CLIENT, "answer", {REQS("sdp", VC_PROTO_MAX_SDP)}},
    {VC_CH_CLIENT,
     "candidate",
     {{"candidate", F_STR_NULL, 1, VC_PROTO_MAX_CANDIDATE},
      OPTS("sdpMid", 32),
      OPT("sdpMLineIndex", F_INT)}},
    {VC_CH_CLIENT, "leave", {{0}}},
    {VC_CH_CLIENT, "ping", {OPT("id", F_ANY)}},
    {VC_CH_CLIENT,
     "media_state",
     {REQ("audio", F_BOOL), REQ("video", F_BOOL), OPT("screen", F_BOOL)}},
    /* chat: also the message on the "chat" data channel (docs/protocol.md) */
    {VC_CH_CLIENT, "chat", {REQS("text", VC_PROTO_MAX_CHAT)}},
    {VC_CH_CLIENT,
     "video_size",
     {REQ("participant", F_ID), REQ("width", F_INT), REQ("height", F_INT)}},
    /* host actions (docs/protocol.md "Hosts"): checked by the room's worker */
    {VC_CH_CLIENT, "admit", {REQ("participant", F_ID)}},
    {VC_CH_CLIENT, "deny", {REQ("participant", F_ID)}},
    {VC_CH_CLIENT, "admit_all", {{0}}},
    {VC_CH_CLIENT, "set_lobby", {REQ("enabled", F_BOOL)}},
    {VC_CH_CLIENT, "mute", {REQ("participant", F_ID), REQ("kind", F_KIND)}},
    {VC_CH_CLIENT, "ask_unmute", {REQ("participant", F_ID), REQ("kind", F_KIND)}},
    {VC_CH_CLIENT, "remove", {REQ("participant", F_ID)}},
    {VC_CH_CLIENT, "promote", {REQ("participant", F_ID)}},
    {VC_CH_CLIENT, "end", {{0}}},
    /* edge -> browser */
    {VC_CH_SERVER,
     "joined",
     {REQ("session", F_ID), REQ("participant", F_ID), REQ("room", F_ID), REQS("role", 16),
      REQS("resume", VC_PROTO_MAX_TOKEN), REQ("participants", F_ARR), OPT("lobby_enabled", F_BOOL),
      OPT("lobby", F_ARR)}},
    {VC_CH_SERVER, "participant_joined", {REQ("participant", F_OBJ)}},
    {VC_CH_SERVER, "participant_updated", {REQ("participant", F_OBJ)}},
    {VC_CH_SERVER, "participant_left", {REQ("participant", F_ID)}},
    {VC_CH_SERVER, "offer", {REQS("sdp", VC_PROTO_MAX_SDP), REQ("tracks", F_ARR)}},
    {VC_CH_SERVER, "error", {REQ("code", F_INT), REQS("name", 64), REQS("message", 512)}},
    {VC_CH_SERVER, "pong", {OPT("id", F_ANY)}},
    {VC_CH_SERVER, "closed", {REQ("code", F_INT), REQS("reason", 512)}},
    {VC_CH_SERVER, "credential", {REQS("token", VC_PROTO_MAX_TOKEN)}},
    {VC_CH_SERVER,
     "lobby_waiting",
     {REQ("room", F_ID), OPT("session", F_ID), OPTS("resume", VC_PROTO_MAX_TOKEN)}},
    {VC_CH_SERVER, "lobby_denied", {{0}}},
    {VC_CH_SERVER, "lobby_request", {REQ("participant", F_OBJ)}},
    {VC_CH_SERVER, "lobby_left", {REQ("participant", F_ID), REQS("reason", 16)}},
    {VC_CH_SERVER, "room_updated", {REQ("lobby_enabled", F_BOOL)}},
    {VC_CH_SERVER, "muted", {REQ("kind", F_KIND), REQ("by", F_ID)}},
    {VC_CH_SERVER, "unmute_request", {REQ("kind", F_KIND), REQ("by", F_ID)}},
    {VC_CH_SERVER,
     "chat",
     {REQ("from", F_ID), REQ("name", F_NAME), REQS("text", VC_PROTO_MAX_CHAT), REQ("ts", F_INT)}},
    {VC_CH_SERVER, "active_speaker", {REQ("participant", F_ID)}},
    {VC_CH_SERVER, "layers", {REQ("active", F_ARR)}},
    /* edge -> router */
    {VC_CH_EDGE_ROUTER, "room_create", {OPTS("region", 64), OPT("lobby", F_BOOL)}},
    {VC_CH_EDGE_ROUTER, "room_get", {REQ("room", F_ID)}},
    {VC_CH_EDGE_ROUTER, "room_place", {REQ("room", F_ID), OPTS("region", 64)}},
    /* router -> edge */
    {VC_CH_ROUTER_EDGE, "room_created", {REQ("room", F_ID), REQ("lobby", F_BOOL)}},
    {VC_CH_ROUTER_EDGE, "room_info", {REQ("room", F_ID), REQ("lobby", F_BOOL)}},
    {VC_CH_ROUTER_EDGE,
     "room_placed",
     {REQ("room", F_ID), REQ("worker", F_ID), REQS("worker_url", VC_PROTO_MAX_URL),
      OPT("lobby", F_BOOL)}},
    {VC_CH_ROUTER_EDGE, "error", {REQ("code", F_INT), REQS("name", 64), REQS("message", 512)}},
    /* edge -> worker */
    {VC_CH_EDGE_WORKER,
     "join",
     {REQ("session", F_ID), REQ("edge", F_ID), REQS("edge_url", VC_PROTO_MAX_URL),
      REQ("room", F_ID), REQ("name", F_NAME), REQS("role", 16), OPT("resume", F_BOOL),
      OPT("identity", F_ID), OPT("lobby", F_BOOL)}},
    {VC_CH_EDGE_WORKER, "answer", {REQ("session", F_ID), REQS("sdp", VC_PROTO_MAX_SDP)}},
    {VC_CH_EDGE_WORKER,
     "candidate",
     {REQ("session", F_ID),
      {"candidate", F_STR_NULL, 1, VC_PROTO_MAX_CANDIDATE},
      OPTS("sdpMid", 32)}},
    {VC_CH_EDGE_WORKER, "leave", {REQ("session", F_ID)}},
    {VC_CH_EDGE_WORKER, "detach", {REQ("session", F_ID), OPT("edge", F_ID)}},
    {VC_CH_EDGE_WORKER,
     "media_state",
     {REQ("session", F_ID), REQ("audio", F_BOOL), REQ("video", F_BOOL), OPT("screen", F_BOOL)}},
    {VC_CH_EDGE_WORKER, "chat", {REQ("session", F_ID), REQS("text", VC_PROTO_MAX_CHAT)}},
    {VC_CH_EDGE_WORKER,
     "video_size",
     {REQ("session", F_ID), REQ("participant", F_ID), REQ("width", F_INT), REQ("height", F_INT)}},
    /* host actions: the client's fields plus the sender's session */
    {VC_CH_EDGE_WORKER, "admit", {REQ("session", F_ID), REQ("participant", F_ID)}},
    {VC_CH_EDGE_WORKER, "deny", {REQ("session", F_ID), REQ("participant", F_ID)}},
    {VC_CH_EDGE_WORKER, "admit_all", {REQ("session", F_ID)}},
    {VC_CH_EDGE_WORKER, "set_lobby", {REQ("session", F_ID), REQ("enabled", F_BOOL)}},
    {VC_CH_EDGE_WORKER,
     "mute",
     {REQ("session", F_ID), REQ("participant", F_ID), REQ("kind", F_KIND)}},
    {VC_CH_EDGE_WORKER,
     "ask_unmute",
     {REQ("session", F_ID), REQ("participant", F_ID), REQ("kind", F_KIND)}},
    {VC_CH_EDGE_WORKER, "remove", {REQ("session", F_ID), REQ("participant", F_ID)}},
    {VC_CH_EDGE_WORKER, "promote", {REQ("session", F_ID), REQ("participant", F_ID)}},
    {VC_CH_EDGE_WORKER, "end", {REQ("session", F_ID)}},
    {VC_CH_EDGE_WORKER, "edge_ping", {REQ("edge", F_ID), REQS("edge_url", VC_PROTO_MAX_URL)}},
    /* worker -> edge */
    {VC_CH_WORKER_EDGE, "deliver", {REQ("session", F_ID), REQ("msg", F_OBJ)}},
    {VC_CH_WORKER_EDGE, "close", {REQ("session", F_ID), OPT("msg", F_OBJ)}},
};

static const struct {
    vc_err_t code;
    const char *name;
    const char *message;
} vc_errs[] = {
    {VC_OK, "ok", "ok"},
    {VC_ERR_BAD_JSON, "bad_json", "The message is not valid JSON."},
    {VC_ERR_BAD_MESSAGE, "bad_message", "The message is missing a field or has a wrong one."},
    {VC_ERR_UNKNOWN_TYPE, "unknown_type", "The message type is unknown."},
    {VC_ERR_TOO_LARGE, "too_large", "The message is too large."},
    {VC_ERR_BAD_VERSION, "bad_version", "The protocol version is not supported."},
    {VC_ERR_NOT_JOINED, "not_joined", "Join a meeting first."},
    {VC_ERR_ALREADY_JOINED, "already_joined", "This connection has already joined."},
    {VC_ERR_BAD_SDP, "bad_sdp", "The session description is invalid."},
    {VC_ERR_BAD_CANDIDATE, "bad_candidate", "The ICE candidate is invalid."},
    {VC_ERR_BAD_STATE, "bad_state", "The message does not fit the session's state."},
    {VC_ERR_BAD_HTTP, "bad_http", "The HTTP request is invalid."},
    {VC_ERR_BAD_WEBSOCKET, "bad_websocket", "The WebSocket frame is invalid."},
    {VC_ERR_RATE_LIMITED, "rate_limited", "Too many messages; slow down."},
    {VC_ERR_ROOM_NOT_FOUND, "room_not_found", "This meeting does not exist."},
    {VC_ERR_ROOM_LOST, "room_lost", "The server hosting this meeting stopped."},
    {VC_ERR_SESSION_NOT_FOUND, "session_not_found", "The session to resume is gone."},
    {VC_ERR_PARTICIPANT_NOT_FOUND, "participant_not_found", "No such participant."},
    {VC_ERR_ROOM_ENDED, "room_ended", "The meeting has ended."},
    {VC_ERR_ROOM_FULL, "room_full", "The meeting is full."},
    {VC_ERR_UNAUTHORIZED, "unauthorized", "The credential is not valid for this meeting."},
    {VC_ERR_FORBIDDEN, "forbidden", "You are not allowed to do that."},
    {VC_ERR_TOKEN_EXPIRED, "token_expired", "The credential has expired."},
    {VC_ERR_REMOVED, "removed", "A host removed you from this meeting."},
    {VC_ERR_INTERNAL, "internal", "Internal server error."},
    {VC_ERR_UNAVAILABLE, "unavailable", "The service is unavailable; try again."},
    {VC_ERR_NO_WORKER, "no_worker", "No media server is available."},
    {VC_ERR_TIMEOUT, "timeout", "The request timed out."},
};

const char *vc_err_name(vc_err_t code)
{
    for (size_t i = 0; i < sizeof(vc_errs) / sizeof(vc_errs[0]); i++)
        if (vc_errs[i].code == code)
            return vc_errs[i].name;
    return "unknown";
}

const char *vc_err_message(vc_err_t code)
{
    for (size_t i = 0; i < sizeof(vc_errs) / sizeof(vc_errs[0]); i++)
        if (vc_errs[i].code == code)
            return vc_errs[i].message;
    return "Unknown error.";
}

/* Valid UTF-8 without C0 controls or DEL. */
static int vc_utf8_ok(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        int32_t c = vc_utf8_next(s, len, &i);
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

int vc_proto_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > VC_PROTO_MAX_NAME)
        return 0;
    /* Not only spaces. */
    size_t k = 0;
    while (k < len && s[k] == ' ')
        k++;
    return k < len && vc_utf8_ok((const unsigned char *)s, len);
}

int vc_proto_id_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > VC_PROTO_MAX_ID)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static vc_err_t vc_field_check(const vc_field_t *f, const json_t *v, char *err, size_t errlen)
{
    switch (f->kind) {
    case F_ID:
        if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)) ||
            !vc_proto_id_ok(json_string_value(v)))
            goto bad;
        return VC_OK;
    case F_NAME:
        if (!json_is_string(v) || json_string_length(v) != strlen(json_string_value(v)) ||
            !vc_proto_name_ok(json_string_value(v)))
            goto bad;
        return VC_OK;
    case F_STR_NULL:
        if (json_is_null(v))
            return VC_OK;
        /* fall through */
    case F_STR:
        if (!json_is_string(v) || json_string_length(v) > f->max ||
            json_string_length(v) != strlen(json_string_value(v)))
            goto bad;
        return VC_OK;
    case F_BOOL:
        if (!json_is_boolean(v))
            goto bad;
        return VC_OK;
    case F_INT:
        if (!json_is_integer(v))
            goto bad;
        return VC_OK;
    case F_KIND:
        if (!json_is_string(v) || json_string_length(v) != 5 ||
            (strcmp(json_string_value(v), "audio") != 0 &&
             strcmp(json_string_value(v), "video") != 0))
            goto bad;
        return VC_OK;
    case F_OBJ:
        if (!json_is_object(v))
            goto bad;
        return VC_OK;
    case F_ARR:
        if (!json_is_array(v))
            goto bad;
        return VC_OK;
    case F_ANY:
        return VC_OK;
    }
bad:
    snprintf(err, errlen, "field '%s' is invalid", f->name);
    return VC_ERR_BAD_MESSAGE;
}

vc_err_t vc_proto_validate(vc_channel_t ch, const json_t *msg, const char **type, char *err,
                           size_t errlen)
{
    if (!json_is_object(msg)) {
        snprintf(err, errlen, "message is not a JSON object");
        return VC_ERR_BAD_MESSAGE;
    }
    const json_t *v = json_object_get(msg, "v");
    if (v != NULL && (!json_is_integer(v) || json_integer_value(v) != VC_PROTO_VERSION)) {
        snprintf(err, errlen, "protocol version must be %d", VC_PROTO_VERSION);
        return VC_ERR_BAD_VERSION;
    }
    const json_t *t = json_object_get(msg, "type");
    if (!json_is_string(t)) {
        snprintf(err, errlen, "field 'type' is missing");
        return VC_ERR_BAD_MESSAGE;
    }
    const char *ts = json_string_value(t);
    for (size_t i = 0; i < sizeof(vc_specs) / sizeof(vc_specs[0]); i++) {
        const vc_msg_spec_t *s = &vc_specs[i];
        if (s->ch != ch || strcmp(s->type, ts) != 0)
            continue;
        for (int k = 0; k < VC_MAX_FIELDS && s->fields[k].name != NULL; k++) {
            const vc_field_t *f = &s->fields[k];
            const json_t *fv = json_object_get(msg, f->name);
            if (fv == NULL) {
                if (f->required) {
                    snprintf(err, errlen, "field '%s' is missing", f->name);
                    return VC_ERR_BAD_MESSAGE;
                }
                continue;
            }
            vc_err_t rc = vc_field_check(f, fv, err, errlen);
            if (rc != VC_OK)
                return rc;
        }
        *type = s->type;
        return VC_OK;
    }
    snprintf(err, errlen, "unknown message type '%.40s'", ts);
    return VC_ERR_UNKNOWN_TYPE;
}

vc_err_t vc_proto_parse(vc_channel_t ch, const char *buf, size_t len, json_t **out,
                        const char **type, char *err, size_t errlen)
{
    size_t max =
        (ch == VC_CH_CLIENT || ch == VC_CH_SERVER) ? VC_PROTO_MAX_WS_MSG : VC_PROTO_MAX_NNG_MSG;
    if (len > max) {
        snprintf(err, errlen, "message of %zu bytes exceeds %zu", len, max);
        return VC_ERR_TOO_LARGE;
    }
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL) {
        snprintf(err, errlen, "invalid JSON at %d:%d: %s", je.line, je.column, je.text);
        return VC_ERR_BAD_JSON;
    }
    vc_err_t rc = vc_proto_validate(ch, j, type, err, errlen);
    if (rc != VC_OK) {
        json_decref(j);
        return rc;
    }
    *out = j;
    return VC_OK;
}

json_t *vc_proto_msg(const char *type)
{
    return json_pack("{s:i, s:s}", "v", VC_PROTO_VERSION, "type", type);
}

json_t *vc_proto_error(vc_err_t code, const char *detail, const char *ref)
{
    /* A detail may quote the offending input (a JSON parser's message):
     * bytes that are not valid UTF-8 become '?', or the string would not be
     * representable in JSON and the error would go out without a message. */
    char clean[256];
    if (detail != NULL && !vc_utf8_valid((const unsigned char *)detail, strlen(detail))) {
        size_t n = 0;
        for (const char *c = detail; *c != '\0' && n + 1 < sizeof(clean); c++)
            clean[n++] = (unsigned char)*c < 0x80 ? *c : '?';
        clean[n] = '\0';
        detail = clean;
    }
    json_t *e = vc_proto_msg("error");
    json_object_set_new(e, "code", json_integer(code));
    json_object_set_new(e, "name", json_string(vc_err_name(code)));
    json_object_set_new(e, "message", json_string(detail ? detail : vc_err_message(code)));
    if (ref != NULL)
        json_object_set_new(e, "ref", json_string(ref));
    return e;
}
