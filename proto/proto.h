/* proto: every message that crosses a process boundary, defined once: the
 * version, size limits, numbered error codes, and the validation of each
 * message's fields. Not transport: framing is WebSocket (browser<->edge) and
 * NNG (between processes); docs/protocol.md is the reader's document. */
#ifndef VC_PROTO_H
#define VC_PROTO_H

#include <jansson.h>
#include <stddef.h>

#define VC_PROTO_VERSION 1

/* Limits every process enforces on input. */
#define VC_PROTO_MAX_WS_MSG (64 * 1024)   /* one WebSocket message */
#define VC_PROTO_MAX_NNG_MSG (256 * 1024) /* one NNG message */
#define VC_PROTO_MAX_SDP (48 * 1024)
#define VC_PROTO_MAX_NAME 64       /* display name, bytes of UTF-8 */
#define VC_PROTO_MAX_ID 64         /* room, session, participant, worker ids */
#define VC_PROTO_MAX_TOKEN 2048    /* credentials */
#define VC_PROTO_MAX_CANDIDATE 512 /* one ICE candidate line */
#define VC_PROTO_MAX_URL 256
#define VC_PROTO_MAX_CHAT 2000 /* chat text, bytes of UTF-8 */

/* Numbered error codes. 1xxx: the request is malformed; 2xxx: it names
 * something that does not exist (any more); 3xxx: not allowed; 5xxx: the
 * cluster could not serve it (retry may help). */
typedef enum {
    VC_OK = 0,
    VC_ERR_BAD_JSON = 1000,
    VC_ERR_BAD_MESSAGE = 1001,
    VC_ERR_UNKNOWN_TYPE = 1002,
    VC_ERR_TOO_LARGE = 1003,
    VC_ERR_BAD_VERSION = 1004,
    VC_ERR_NOT_JOINED = 1005,
    VC_ERR_ALREADY_JOINED = 1006,
    VC_ERR_BAD_SDP = 1010,
    VC_ERR_BAD_CANDIDATE = 1011,
    VC_ERR_BAD_STATE = 1012,
    VC_ERR_BAD_HTTP = 1020,
    VC_ERR_BAD_WEBSOCKET = 1021,
    VC_ERR_RATE_LIMITED = 1030,
    VC_ERR_ROOM_NOT_FOUND = 2000,
    VC_ERR_ROOM_LOST = 2001,
    VC_ERR_SESSION_NOT_FOUND = 2002,
    VC_ERR_PARTICIPANT_NOT_FOUND = 2003,
    VC_ERR_ROOM_ENDED = 2004,
    VC_ERR_ROOM_FULL = 2005,
    VC_ERR_UNAUTHORIZED = 3000,
    VC_ERR_FORBIDDEN = 3001,
    VC_ERR_TOKEN_EXPIRED = 3002,
    VC_ERR_REMOVED = 3003,
    VC_ERR_INTERNAL = 5000,
    VC_ERR_UNAVAILABLE = 5001,
    VC_ERR_NO_WORKER = 5002,
    VC_ERR_TIMEOUT = 5003,
} vc_err_t;

/* "bad_json", "room_not_found", ... (stable, for programs); "unknown" if not a code. */
const char *vc_err_name(vc_err_t code);
/* A sentence for people. */
const char *vc_err_message(vc_err_t code);

/* The channel a message travels on; each has its own set of message types. */
typedef enum {
    VC_CH_CLIENT,      /* browser -> edge (WebSocket) */
    VC_CH_SERVER,      /* edge -> browser (WebSocket) */
    VC_CH_EDGE_ROUTER, /* edge -> router (NNG req) */
    VC_CH_ROUTER_EDGE, /* router -> edge (NNG rep) */
    VC_CH_EDGE_WORKER, /* edge -> worker (NNG push) */
    VC_CH_WORKER_EDGE, /* worker -> edge (NNG push) */
} vc_channel_t;

/* Checks that msg is an object whose "type" is known on ch, whose "v" (if
 * present) is VC_PROTO_VERSION, and whose fields have the right JSON types and
 * lengths. Unknown extra fields are allowed (forward compatibility). On
 * success *type points into msg (borrowed). On failure err names the field. */
vc_err_t vc_proto_validate(vc_channel_t ch, const json_t *msg, const char **type, char *err,
                           size_t errlen);

/* Parses and validates one message from bytes (e.g. a WebSocket text frame).
 * On success *out is a new reference. */
vc_err_t vc_proto_parse(vc_channel_t ch, const char *buf, size_t len, json_t **out,
                        const char **type, char *err, size_t errlen);

/* {"v":1,"type":"error","code":N,"name":"...","message":"...","ref":ref}.
 * detail (may be NULL) replaces the default message; ref (may be NULL) names
 * the request type the error answers. Returns a new reference. */
json_t *vc_proto_error(vc_err_t code, const char *detail, const char *ref);

/* A new {"v":1,"type":type} object. */
json_t *vc_proto_msg(const char *type);

/* Validates a display name: 1..VC_PROTO_MAX_NAME bytes of valid UTF-8 without
 * control characters. */
int vc_proto_name_ok(const char *s);
/* Ids (room, session, participant, worker, edge): [A-Za-z0-9_-], 1..VC_PROTO_MAX_ID. */
int vc_proto_id_ok(const char *s);

#endif
