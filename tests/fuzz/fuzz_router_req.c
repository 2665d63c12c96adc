/* Fuzzes the router's request handling without Redis or NNG: decode the
 * bytes, then feed the decoded request each kind of Redis answer. Every
 * reply must be a valid router->edge message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "router/rtr_req.h"

/* Aborts unless reply is a valid router->edge message; frees it. */
static void fuzz_rtr_check(json_t *reply)
{
    const char *t;
    char err[128];
    if (reply == NULL || vc_proto_validate(VC_CH_ROUTER_EDGE, reply, &t, err, sizeof(err)) != 0)
        abort();
    json_decref(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtr_req_t req;
    rtr_req_decode((const char *)data, size, "local", &req);
    char lost[VC_PROTO_MAX_ID + 1];
    redisReply e[3] = {
        {.type = REDIS_REPLY_STRING, .str = "placed", .len = 6},
        {.type = REDIS_REPLY_STRING, .str = "w1", .len = 2},
        {.type = REDIS_REPLY_STRING, .str = "ipc:///w1", .len = 9},
    };
    redisReply *ep[3] = {&e[0], &e[1], &e[2]};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 3, .element = ep};
    redisReply one = {.type = REDIS_REPLY_INTEGER, .integer = 1};
    switch (req.op) {
    case RTR_OP_REPLY:
        fuzz_rtr_check(json_incref(req.reply));
        break;
    case RTR_OP_CREATE:
        rtr_req_new_room(&req);
        fuzz_rtr_check(rtr_req_on_create(&req, &one));
        break;
    case RTR_OP_GET:
        arr.elements = 1;
        e[0] = (redisReply){.type = REDIS_REPLY_STRING, .str = "1", .len = 1};
        fuzz_rtr_check(rtr_req_on_get(&req, &arr));
        break;
    case RTR_OP_PLACE:
        fuzz_rtr_check(rtr_req_on_place(&req, &arr, lost));
        break;
    }
    fuzz_rtr_check(rtr_req_on_place(&req, NULL, lost));
    rtr_req_fini(&req);
    return 0;
}
