/* Unit tests of the edge's host credentials: sign, verify, expiry, wrong
 * room, wrong secret, key rotation, tampering and alg "none". */
#include <stdlib.h>

#include "common/util.h"
#include "edge/jwt.h"
#include "tests/unit/vctest.h"

#define T_NOW 1700000000

/* Verifies with (secret, prev) at now; returns the code and fills role. */
static vc_err_t t_verify(const char *tok, const char *secret, const char *prev, const char *room,
                         long now, char *role)
{
    return edge_jwt_verify(tok, secret, prev, room, now, role, 16);
}

static void t_sign_verify(void)
{
    char *t = edge_jwt_sign("s3cret", "abc-defg-hij", T_NOW, EDGE_JWT_TTL_S);
    char role[16] = "";
    VCT_CHECK(t != NULL);
    VCT_CHECK_EQ_INT(t_verify(t, "s3cret", NULL, "abc-defg-hij", T_NOW + 10, role), VC_OK);
    VCT_CHECK_EQ_STR(role, "host");
    free(t);
}

static void t_cases(void)
{
    char *t = edge_jwt_sign("s3cret", "room-a", T_NOW, EDGE_JWT_TTL_S);
    static const struct {
        const char *name, *secret, *prev, *room;
        long now;
        vc_err_t want;
    } cases[] = {
        {"valid", "s3cret", NULL, "room-a", T_NOW, VC_OK},
        {"expired", "s3cret", NULL, "room-a", T_NOW + EDGE_JWT_TTL_S + 1, VC_ERR_TOKEN_EXPIRED},
        {"at expiry", "s3cret", NULL, "room-a", T_NOW + EDGE_JWT_TTL_S, VC_ERR_TOKEN_EXPIRED},
        {"wrong room", "s3cret", NULL, "room-b", T_NOW, VC_ERR_UNAUTHORIZED},
        {"wrong secret", "other", NULL, "room-a", T_NOW, VC_ERR_UNAUTHORIZED},
        {"rotated", "new-secret", "s3cret", "room-a", T_NOW, VC_OK},
        {"rotated expired", "new-secret", "s3cret", "room-a", T_NOW + 2 * EDGE_JWT_TTL_S,
         VC_ERR_TOKEN_EXPIRED},
        {"neither secret", "new-secret", "older", "room-a", T_NOW, VC_ERR_UNAUTHORIZED},
        {"empty prev", "other", "", "room-a", T_NOW, VC_ERR_UNAUTHORIZED},
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        char role[16] = "";
        vc_err_t rc =
            t_verify(t, cases[i].secret, cases[i].prev, cases[i].room, cases[i].now, role);
        if (rc != cases[i].want)
            fprintf(stderr, "  case %s\n", cases[i].name);
        VCT_CHECK_EQ_INT(rc, cases[i].want);
    }
    free(t);
}

static void t_garbage(void)
{
    static const char *toks[] = {
        "",
        "x",
        "x.y.z",
        "...",
        "a.b",
        "eyJhbGciOiJIUzI1NiJ9..",
        /* alg none with the right claims */
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
        "eyJyb29tIjoicm9vbS1hIiwicm9sZSI6Imhvc3QiLCJleHAiOjk5OTk5OTk5OTl9.",
    };
    for (size_t i = 0; i < VC_ARRAY_LEN(toks); i++) {
        char role[16] = "";
        VCT_CHECK_EQ_INT(t_verify(toks[i], "s3cret", NULL, "room-a", T_NOW, role),
                         VC_ERR_UNAUTHORIZED);
    }
}

static void t_tampered(void)
{
    char *t = edge_jwt_sign("s3cret", "room-a", T_NOW, EDGE_JWT_TTL_S);
    char role[16];
    char *dot = strchr(t, '.');
    dot[3] = dot[3] == 'A' ? 'B' : 'A'; /* change the payload */
    VCT_CHECK_EQ_INT(t_verify(t, "s3cret", NULL, "room-a", T_NOW, role), VC_ERR_UNAUTHORIZED);
    free(t);
    VCT_CHECK(edge_jwt_sign("", "room-a", T_NOW, 10) == NULL);
}

/* Guest credentials carry their identity; verify hands it back. */
static void t_identity(void)
{
    char role[16] = "", sub[65] = "";
    char *g = edge_jwt_sign_role("s3cret", "room-a", "guest", "abc123", T_NOW, EDGE_JWT_TTL_S);
    VCT_CHECK(g != NULL);
    VCT_CHECK_EQ_INT(edge_jwt_verify_sub(g, "s3cret", NULL, "room-a", T_NOW, role, sizeof(role),
                                         sub, sizeof(sub)),
                     VC_OK);
    VCT_CHECK_EQ_STR(role, "guest");
    VCT_CHECK_EQ_STR(sub, "abc123");
    VCT_CHECK_EQ_INT(edge_jwt_verify_sub(g, "s3cret", NULL, "room-b", T_NOW, role, sizeof(role),
                                         sub, sizeof(sub)),
                     VC_ERR_UNAUTHORIZED);
    free(g);
    char *h = edge_jwt_sign("s3cret", "room-a", T_NOW, EDGE_JWT_TTL_S);
    VCT_CHECK_EQ_INT(edge_jwt_verify_sub(h, "s3cret", NULL, "room-a", T_NOW, role, sizeof(role),
                                         sub, sizeof(sub)),
                     VC_OK);
    VCT_CHECK_EQ_INT(strlen(sub), 32);
    free(h);
    /* an identity that is not an id, or a role we never issue */
    char *bad = edge_jwt_sign_role("s3cret", "room-a", "guest", "a b", T_NOW, 60);
    VCT_CHECK_EQ_INT(edge_jwt_verify_sub(bad, "s3cret", NULL, "room-a", T_NOW, role, sizeof(role),
                                         sub, sizeof(sub)),
                     VC_ERR_UNAUTHORIZED);
    free(bad);
    char *adm = edge_jwt_sign_role("s3cret", "room-a", "admin", "x", T_NOW, 60);
    VCT_CHECK_EQ_INT(t_verify(adm, "s3cret", NULL, "room-a", T_NOW, role), VC_ERR_UNAUTHORIZED);
    free(adm);
}

static const vct_case_t cases[] = {
    {"sign_verify", t_sign_verify}, {"identity", t_identity}, {"cases", t_cases},
    {"garbage", t_garbage},         {"tampered", t_tampered},
};

VCT_MAIN("edge-jwt", cases)
