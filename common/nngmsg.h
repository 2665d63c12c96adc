/* nngmsg: JSON messages over NNG sockets without threads: sockets are used
 * non-blocking and their NNG_OPT_RECVFD is polled by the caller's event loop
 * (libevent in edge/router, GLib in the worker). Not a protocol definition:
 * message shapes live in proto/. */
#ifndef VC_NNGMSG_H
#define VC_NNGMSG_H

#include <jansson.h>
#include <nng/nng.h>

/* Serializes msg (borrowed) and sends it without blocking.
 * Returns 0 or an NNG error (NNG_EAGAIN when the send buffer is full). */
int vc_nng_send_json(nng_socket s, const json_t *msg);

/* Receives one message without blocking and parses it. On success *out holds
 * a new reference (an object). Returns 0, NNG_EAGAIN when nothing is queued,
 * or NNG_EINVAL when a message arrived but was not a JSON object no larger than
 * VC_PROTO_MAX_NNG_MSG (it is dropped; err describes why). */
int vc_nng_recv_json(nng_socket s, json_t **out, char *err, size_t errlen);

/* The pollable fd that is readable while messages are queued on s. */
int vc_nng_recv_fd(nng_socket s);

#endif
