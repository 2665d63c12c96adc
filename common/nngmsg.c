#include "common/nngmsg.h"

#include <stdio.h>
#include <string.h>

#include "proto/proto.h"

int vc_nng_send_json(nng_socket s, const json_t *msg)
{
    char *buf = json_dumps(msg, JSON_COMPACT);
    if (buf == NULL)
        return NNG_EINVAL;
    int rv = nng_send(s, buf, strlen(buf), NNG_FLAG_NONBLOCK);
    free(buf);
    return rv;
}

int vc_nng_recv_json(nng_socket s, json_t **out, char *err, size_t errlen)
{
    nng_msg *m;
    int rv = nng_recvmsg(s, &m, NNG_FLAG_NONBLOCK);
    if (rv != 0)
        return rv;
    size_t len = nng_msg_len(m);
    if (len > VC_PROTO_MAX_NNG_MSG) {
        snprintf(err, errlen, "message of %zu bytes exceeds %d", len, VC_PROTO_MAX_NNG_MSG);
        nng_msg_free(m);
        return NNG_EINVAL;
    }
    json_error_t je;
    json_t *j = json_loadb(nng_msg_body(m), len, JSON_REJECT_DUPLICATES, &je);
    nng_msg_free(m);
    if (j == NULL || !json_is_object(j)) {
        snprintf(err, errlen, "not a JSON object: %s", j ? "wrong type" : je.text);
        json_decref(j);
        return NNG_EINVAL;
    }
    *out = j;
    return 0;
}

int vc_nng_recv_fd(nng_socket s)
{
    int fd = -1;
    if (nng_socket_get_int(s, NNG_OPT_RECVFD, &fd) != 0)
        return -1;
    return fd;
}
