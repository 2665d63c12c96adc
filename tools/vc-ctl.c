/* vc-ctl: sends one JSON message to a vc process over NNG, for operators and
 * tests. Not a validator: the bytes are sent as given (to test bad input).
 *   vc-ctl req  <url> '<json>'   req/rep; prints the reply; exit 0 if one came
 *                                 and it is not {"type":"error"}, else 1
 *   vc-ctl push <url> '<json>'   push; exit 0 once sent */
#include <jansson.h>
#include <nng/nng.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>
#include <stdio.h>
#include <string.h>

#define VCCTL_TIMEOUT_MS 3000

/* Prints how to call us; returns the usage exit code. */
static int vcctl_usage(void)
{
    fprintf(stderr, "usage: vc-ctl req|push <nng-url> '<json>'\n"
                    "  req:  sends a request, prints the reply (timeout 3 s)\n"
                    "  push: sends one message on a push socket\n");
    return 2;
}

/* Opens, dials (non-blocking: the send waits for the connection) and sends. */
static int vcctl_send(int req, const char *url, const char *body, nng_socket *out)
{
    nng_socket s;
    int rv = req ? nng_req0_open(&s) : nng_push0_open(&s);
    if (rv != 0)
        goto fail;
    nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, VCCTL_TIMEOUT_MS);
    nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, VCCTL_TIMEOUT_MS);
    nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, 16u << 20);
    if ((rv = nng_dial(s, url, NULL, NNG_FLAG_NONBLOCK)) != 0 ||
        (rv = nng_send(s, (void *)body, strlen(body), 0)) != 0) {
        nng_close(s);
        goto fail;
    }
    *out = s;
    return 0;
fail:
    fprintf(stderr, "vc-ctl: %s: %s\n", url, nng_strerror(rv));
    return -1;
}

/* vc-ctl req|push URL JSON. */
int main(int argc, char **argv)
{
    if (argc != 4)
        return vcctl_usage();
    int req = strcmp(argv[1], "req") == 0;
    if (!req && strcmp(argv[1], "push") != 0)
        return vcctl_usage();
    nng_socket s;
    if (vcctl_send(req, argv[2], argv[3], &s) != 0)
        return 1;
    int rc = 0;
    if (req) {
        char *buf = NULL;
        size_t len = 0;
        int rv = nng_recv(s, &buf, &len, NNG_FLAG_ALLOC);
        if (rv != 0) {
            fprintf(stderr, "vc-ctl: %s: %s\n", argv[2], nng_strerror(rv));
            rc = 1;
        } else {
            printf("%.*s\n", (int)len, buf);
            json_t *j = json_loadb(buf, len, 0, NULL);
            const char *type = json_string_value(json_object_get(j, "type"));
            if (type != NULL && strcmp(type, "error") == 0)
                rc = 1;
            json_decref(j);
            nng_free(buf, len);
        }
    } else {
        /* NNG has no linger: give the pipe a moment to flush before close. */
        nng_msleep(100);
    }
    nng_close(s);
    return rc;
}
