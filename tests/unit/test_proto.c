#include "proto/proto.h"
#include "tests/unit/vctest.h"

static vc_err_t parse(vc_channel_t ch, const char *s, const char **type)
{
    json_t *m = NULL;
    char err[256];
    vc_err_t rc = vc_proto_parse(ch, s, strlen(s), &m, type, err, sizeof(err));
    json_decref(m);
    return rc;
}

static void t_join_ok(void)
{
    const char *type = NULL;
    VCT_CHECK_EQ_INT(
        parse(VC_CH_CLIENT, "{\"type\":\"join\",\"room\":\"abc-def\",\"name\":\"Ann\"}", &type),
        VC_OK);
    VCT_CHECK_EQ_STR(type, "join");
}

static void t_errors(void)
{
    static const struct {
        const char *in;
        vc_err_t want;
    } cases[] = {
        {"{", VC_ERR_BAD_JSON},
        {"[]", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"nope\"}", VC_ERR_UNKNOWN_TYPE},
        {"{\"v\":2,\"type\":\"leave\"}", VC_ERR_BAD_VERSION},
        {"{\"type\":\"join\",\"room\":\"a b\",\"name\":\"Ann\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"join\",\"room\":\"ab\",\"name\":\"\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"join\",\"room\":\"ab\",\"name\":\"a\\u0001\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"join\",\"room\":\"ab\",\"name\":\"a\\u0000b\"}",
         VC_ERR_BAD_JSON}, /* jansson refuses NUL */
        {"{\"type\":\"join\",\"room\":\"ab\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"answer\",\"sdp\":5}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"media_state\",\"audio\":1,\"video\":true}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"leave\",\"type\":\"leave\"}", VC_ERR_BAD_JSON},
        {"{\"type\":\"candidate\",\"candidate\":null}", VC_OK},
        {"{\"type\":\"ping\",\"id\":{}}", VC_OK},
        /* host actions: shape only; permission is the worker's to check */
        {"{\"type\":\"admit\",\"participant\":\"p1\"}", VC_OK},
        {"{\"type\":\"admit\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"admit\",\"participant\":\"../p\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"admit_all\"}", VC_OK},
        {"{\"type\":\"set_lobby\",\"enabled\":false}", VC_OK},
        {"{\"type\":\"set_lobby\",\"enabled\":\"no\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"mute\",\"participant\":\"p1\",\"kind\":\"audio\"}", VC_OK},
        {"{\"type\":\"mute\",\"participant\":\"p1\",\"kind\":\"screen\"}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"ask_unmute\",\"participant\":\"p1\",\"kind\":\"video\"}", VC_OK},
        {"{\"type\":\"remove\",\"participant\":5}", VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"promote\",\"participant\":\"p1\"}", VC_OK},
        {"{\"type\":\"end\"}", VC_OK},
        /* media quality: the tile size a subscriber shows a participant at */
        {"{\"type\":\"video_size\",\"participant\":\"p1\",\"width\":640,\"height\":360}", VC_OK},
        {"{\"type\":\"video_size\",\"participant\":\"p1\",\"width\":\"640\",\"height\":360}",
         VC_ERR_BAD_MESSAGE},
        {"{\"type\":\"video_size\",\"width\":640,\"height\":360}", VC_ERR_BAD_MESSAGE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *type;
        vc_err_t rc = parse(VC_CH_CLIENT, cases[i].in, &type);
        if (rc != cases[i].want)
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].in);
        VCT_CHECK_EQ_INT(rc, cases[i].want);
    }
}

static void t_too_large(void)
{
    static char big[VC_PROTO_MAX_WS_MSG + 10];
    memset(big, ' ', sizeof(big) - 1);
    big[0] = '{';
    big[sizeof(big) - 2] = '}';
    const char *type;
    VCT_CHECK_EQ_INT(parse(VC_CH_CLIENT, big, &type), VC_ERR_TOO_LARGE);
}

static void t_names(void)
{
    VCT_CHECK(vc_proto_name_ok("Zoë Ångström"));
    VCT_CHECK(!vc_proto_name_ok("   "));
    VCT_CHECK(!vc_proto_name_ok("\xc0\x80"));     /* overlong NUL */
    VCT_CHECK(!vc_proto_name_ok("\xed\xa0\x80")); /* surrogate */
    VCT_CHECK(!vc_proto_name_ok("\xe2\x82"));     /* truncated */
    VCT_CHECK(vc_proto_id_ok("abc-DEF_09"));
    VCT_CHECK(!vc_proto_id_ok("../x"));
}

static void t_error_msg(void)
{
    json_t *e = vc_proto_error(VC_ERR_ROOM_NOT_FOUND, NULL, "join");
    VCT_CHECK_EQ_INT(json_integer_value(json_object_get(e, "code")), 2000);
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(e, "name")), "room_not_found");
    VCT_CHECK_EQ_STR(json_string_value(json_object_get(e, "ref")), "join");
    const char *type;
    char err[100];
    VCT_CHECK_EQ_INT(vc_proto_validate(VC_CH_SERVER, e, &type, err, sizeof(err)), VC_OK);
    json_decref(e);
}

/* A detail quoting bytes that are not UTF-8 (a JSON parser's message on
 * garbage) still gives a valid error message, with '?' for those bytes. */
static void t_error_non_utf8(void)
{
    json_t *e = vc_proto_error(VC_ERR_BAD_MESSAGE, "invalid escape near 'ac\\\xcd'", NULL);
    const char *m = json_string_value(json_object_get(e, "message"));
    VCT_CHECK(m != NULL && strcmp(m, "invalid escape near 'ac\\?'") == 0);
    json_decref(e);
}

static const vct_case_t cases[] = {
    {"join_ok", t_join_ok}, {"errors", t_errors},       {"too_large", t_too_large},
    {"names", t_names},     {"error_msg", t_error_msg}, {"error_non_utf8", t_error_non_utf8},
};
VCT_MAIN("proto", cases)
