/* Router unit tests: Redis URL parsing, request decoding into operations or
 * error replies, and Redis answers into replies. No sockets, no Redis. */
#include <stdlib.h>

#include "common/redis_url.h"
#include "common/util.h"
#include "router/rtr_req.h"
#include "tests/unit/vctest.h"

static void t_url_good(void)
{
    static const struct {
        const char *in;
        int is_unix;
        const char *where; /* path or host */
        int port;
    } cases[] = {
        {"unix:/tmp/r.sock", 1, "/tmp/r.sock", 0},
        {"unix:///var/run/redis.sock", 1, "/var/run/redis.sock", 0},
        {"redis://localhost:6380", 0, "localhost", 6380},
        {"redis://127.0.0.1", 0, "127.0.0.1", 6379},
        {"redis://cache.example.com:1/", 0, "cache.example.com", 1},
        {"127.0.0.1:65535", 0, "127.0.0.1", 65535},
        {"[::1]:7000", 0, "::1", 7000},
        {"redis://[fe80::1%eth0]", 0, "fe80::1%eth0", 6379},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        vc_redis_url_t u;
        char err[200] = "";
        int rv = vc_redis_url_parse(cases[i].in, &u, err, sizeof(err));
        VCT_CHECK_EQ_INT(rv, 0);
        if (rv != 0) {
            fprintf(stderr, "  %s: %s\n", cases[i].in, err);
            continue;
        }
        VCT_CHECK_EQ_INT(u.is_unix, cases[i].is_unix);
        VCT_CHECK_EQ_STR(u.is_unix ? u.path : u.host, cases[i].where);
        if (!u.is_unix)
            VCT_CHECK_EQ_INT(u.port, cases[i].port);
    }
}

static void t_url_bad(void)
{
    static const char *bad[] = {
        "",
        "unix:",
        "unix:relative.sock",
        "unix:/",
        "localhost",
        "localhost:",
        ":6379",
        "host:0",
        "host:65536",
        "host:12a",
        "host:-1",
        "redis://",
        "redis://:6379",
        "redis://u:p@host:6379",
        "redis://host:6379/2",
        "http://host:80",
        "[::1",
        "[::1]x",
        "ho st:1",
        "::1:6379",
        "unix:/"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(bad); i++) {
        vc_redis_url_t u;
        char err[200] = "";
        int rv = vc_redis_url_parse(bad[i], &u, err, sizeof(err));
        if (rv != -1)
            fprintf(stderr, "  accepted: '%s'\n", bad[i]);
        VCT_CHECK_EQ_INT(rv, -1);
        VCT_CHECK(err[0] != '\0');
    }
}

/* Decodes s with default region "eu". */
static void rtr_test_decode(const char *s, rtr_req_t *req)
{
    rtr_req_decode(s, strlen(s), "eu", req);
}

static void t_decode_ok(void)
{
    static const struct {
        const char *in;
        rtr_op_t op;
        const char *room, *region;
        int lobby;
    } cases[] = {
        {"{\"type\":\"room_create\"}", RTR_OP_CREATE, "", "eu", 1},
        {"{\"v\":1,\"type\":\"room_create\",\"lobby\":false,\"region\":\"us\"}", RTR_OP_CREATE, "",
         "us", 0},
        {"{\"type\":\"room_get\",\"room\":\"abc-defg-hij\"}", RTR_OP_GET, "abc-defg-hij", "eu", 0},
        {"{\"type\":\"room_place\",\"room\":\"r1\",\"region\":\"ap-1\",\"extra\":[1]}",
         RTR_OP_PLACE, "r1", "ap-1", 0},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        rtr_req_t req;
        rtr_test_decode(cases[i].in, &req);
        VCT_CHECK_EQ_INT(req.op, cases[i].op);
        VCT_CHECK(req.reply == NULL);
        VCT_CHECK_EQ_STR(req.room, cases[i].room);
        VCT_CHECK_EQ_STR(req.region, cases[i].region);
        if (cases[i].op == RTR_OP_CREATE)
            VCT_CHECK_EQ_INT(req.lobby, cases[i].lobby);
        rtr_req_fini(&req);
    }
}

static void t_decode_errors(void)
{
    static const struct {
        const char *name;
        const char *in;
        vc_err_t code;
    } cases[] = {
        {"not json", "{nope", VC_ERR_BAD_JSON},
        {"empty", "", VC_ERR_BAD_JSON},
        {"array", "[1,2]", VC_ERR_BAD_MESSAGE},
        {"no type", "{\"room\":\"x\"}", VC_ERR_BAD_MESSAGE},
        {"unknown type", "{\"type\":\"room_delete\"}", VC_ERR_UNKNOWN_TYPE},
        {"client type", "{\"type\":\"join\",\"room\":\"a\",\"name\":\"b\"}", VC_ERR_UNKNOWN_TYPE},
        {"bad version", "{\"v\":2,\"type\":\"room_create\"}", VC_ERR_BAD_VERSION},
        {"missing room", "{\"type\":\"room_place\"}", VC_ERR_BAD_MESSAGE},
        {"bad room", "{\"type\":\"room_get\",\"room\":\"a b\"}", VC_ERR_BAD_MESSAGE},
        {"room not string", "{\"type\":\"room_get\",\"room\":5}", VC_ERR_BAD_MESSAGE},
        {"lobby not bool", "{\"type\":\"room_create\",\"lobby\":1}", VC_ERR_BAD_MESSAGE},
        {"bad region", "{\"type\":\"room_place\",\"room\":\"r\",\"region\":\"a:b\"}",
         VC_ERR_BAD_MESSAGE},
        {"empty region", "{\"type\":\"room_create\",\"region\":\"\"}", VC_ERR_BAD_MESSAGE},
        {"duplicate key", "{\"type\":\"room_get\",\"room\":\"a\",\"room\":\"b\"}", VC_ERR_BAD_JSON},
        {"nul in room", "{\"type\":\"room_get\",\"room\":\"a\\u0000b\"}", VC_ERR_BAD_JSON},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        rtr_req_t req;
        rtr_test_decode(cases[i].in, &req);
        VCT_CHECK_EQ_INT(req.op, RTR_OP_REPLY);
        json_t *code = json_object_get(req.reply, "code");
        if (json_integer_value(code) != cases[i].code)
            fprintf(stderr, "  case '%s'\n", cases[i].name);
        VCT_CHECK_EQ_INT(json_integer_value(code), cases[i].code);
        VCT_CHECK_EQ_INT(json_integer_value(json_object_get(req.reply, "v")), 1);
        VCT_CHECK_EQ_STR(json_string_value(json_object_get(req.reply, "type")), "error");
        const char *t = NULL;
        char err[100];
        VCT_CHECK_EQ_INT(vc_proto_validate(VC_CH_ROUTER_EDGE, req.reply, &t, err, sizeof(err)),
                         VC_OK);
        rtr_req_fini(&req);
    }
}

/* Minimal hand-built hiredis replies. */
static redisReply rtr_test_str(const char *s)
{
    return (redisReply){.type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s)};
}

/* The error code of a reply, or 0 if it is not an error; frees it. */
static long long rtr_test_code(json_t *reply, const char *want_type)
{
    const char *t = NULL;
    char err[100];
    VCT_CHECK_EQ_INT(vc_proto_validate(VC_CH_ROUTER_EDGE, reply, &t, err, sizeof(err)), VC_OK);
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(reply, "type")), want_type);
    long long c = json_integer_value(json_object_get(reply, "code"));
    json_decref(reply);
    return c;
}

static void t_place_replies(void)
{
    rtr_req_t req;
    rtr_test_decode("{\"type\":\"room_place\",\"room\":\"r1\"}", &req);
    char lost[VC_PROTO_MAX_ID + 1];
    redisReply e[3] = {rtr_test_str("placed"), rtr_test_str("w1"), rtr_test_str("ipc:///w1")};
    redisReply *ep[3] = {&e[0], &e[1], &e[2]};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 3, .element = ep};
    json_t *out = rtr_req_on_place(&req, &arr, lost);
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(out, "worker")), "w1");
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(out, "worker_url")), "ipc:///w1");
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(out, "room")), "r1");
    VCT_CHECK_EQ_INT(rtr_test_code(out, "room_placed"), 0);
    VCT_CHECK_EQ_STR(lost, "");

    e[0] = rtr_test_str("lost");
    arr.elements = 2;
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, &arr, lost), "error"), 2001);
    VCT_CHECK_EQ_STR(lost, "w1");
    arr.elements = 1;
    e[0] = rtr_test_str("not_found");
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, &arr, lost), "error"), 2000);
    e[0] = rtr_test_str("no_worker");
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, &arr, lost), "error"), 5002);
    e[0] = rtr_test_str("placed"); /* too short */
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, &arr, lost), "error"), 5000);
    arr.elements = 3;
    e[1] = rtr_test_str("bad id!");
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, &arr, lost), "error"), 5000);
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, NULL, lost), "error"), 5001);
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = "ERR x", .len = 5};
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_place(&req, &err, lost), "error"), 5000);
    rtr_req_fini(&req);
}

static void t_create_get_replies(void)
{
    rtr_req_t req;
    rtr_test_decode("{\"type\":\"room_create\",\"lobby\":false}", &req);
    rtr_req_new_room(&req);
    VCT_CHECK(vc_proto_id_ok(req.room));
    redisReply one = {.type = REDIS_REPLY_INTEGER, .integer = 1};
    redisReply zero = {.type = REDIS_REPLY_INTEGER, .integer = 0};
    json_t *out = rtr_req_on_create(&req, &one);
    VCT_CHECK(json_is_false(json_object_get(out, "lobby")));
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(out, "room")), req.room);
    VCT_CHECK_EQ_INT(rtr_test_code(out, "room_created"), 0);
    VCT_CHECK(rtr_req_on_create(&req, &zero) == NULL);
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_create(&req, NULL), "error"), 5001);
    rtr_req_fini(&req);

    rtr_test_decode("{\"type\":\"room_get\",\"room\":\"r9\"}", &req);
    redisReply lobby = rtr_test_str("1");
    redisReply nil = {.type = REDIS_REPLY_NIL};
    redisReply *ep[1] = {&lobby};
    redisReply arr = {.type = REDIS_REPLY_ARRAY, .elements = 1, .element = ep};
    out = rtr_req_on_get(&req, &arr);
    VCT_CHECK(json_is_true(json_object_get(out, "lobby")));
    VCT_CHECK_EQ_INT(rtr_test_code(out, "room_info"), 0);
    ep[0] = &nil;
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_get(&req, &arr), "error"), 2000);
    VCT_CHECK_EQ_INT(rtr_test_code(rtr_req_on_get(&req, &one), "error"), 5000);
    rtr_req_fini(&req);
}

static const vct_case_t cases[] = {
    {"url_good", t_url_good},           {"url_bad", t_url_bad},
    {"decode_ok", t_decode_ok},         {"decode_errors", t_decode_errors},
    {"place_replies", t_place_replies}, {"create_get_replies", t_create_get_replies},
};
VCT_MAIN("router", cases)
