#include "edge/jwt.h"

#include <errno.h>
#include <jwt.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

/* Signs a host credential for room, with a fresh identity. */
char *edge_jwt_sign(const char *secret, const char *room, int64_t now_s, int64_t ttl_s)
{
    char sub[33];
    vc_random_hex(sub, 16);
    return edge_jwt_sign_role(secret, room, "host", sub, now_s, ttl_s);
}

/* Signs a credential with the given role and identity. */
char *edge_jwt_sign_role(const char *secret, const char *room, const char *role, const char *sub,
                         int64_t now_s, int64_t ttl_s)
{
    jwt_t *j = NULL;
    char *out = NULL;
    if (secret == NULL || secret[0] == '\0' || jwt_new(&j) != 0)
        goto fail;
    if (jwt_add_grant(j, "room", room) != 0 || jwt_add_grant(j, "role", role) != 0 ||
        jwt_add_grant(j, "sub", sub) != 0 || jwt_add_grant_int(j, "iat", (long)now_s) != 0 ||
        jwt_add_grant_int(j, "exp", (long)(now_s + ttl_s)) != 0)
        goto fail;
    if (jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) != 0)
        goto fail;
    out = jwt_encode_str(j);
fail:
    jwt_free(j);
    return out;
}

/* Decodes and checks the signature with one secret; NULL if it does not
 * verify or is not HS256 (never "none"). */
static jwt_t *edge_jwt_decode(const char *token, const char *secret)
{
    jwt_t *j = NULL;
    if (secret == NULL || secret[0] == '\0')
        return NULL;
    if (jwt_decode(&j, token, (const unsigned char *)secret, (int)strlen(secret)) != 0)
        return NULL;
    if (jwt_get_alg(j) != JWT_ALG_HS256) {
        jwt_free(j);
        return NULL;
    }
    return j;
}

vc_err_t edge_jwt_verify(const char *token, const char *secret, const char *prev, const char *room,
                         int64_t now_s, char *role, size_t rolelen)
{
    char sub[VC_PROTO_MAX_ID + 1];
    return edge_jwt_verify_sub(token, secret, prev, room, now_s, role, rolelen, sub, sizeof(sub));
}

vc_err_t edge_jwt_verify_sub(const char *token, const char *secret, const char *prev,
                             const char *room, int64_t now_s, char *role, size_t rolelen, char *sub,
                             size_t sublen)
{
    vc_err_t rc = VC_ERR_UNAUTHORIZED;
    if (token == NULL || strlen(token) > VC_PROTO_MAX_TOKEN)
        return rc;
    jwt_t *j = edge_jwt_decode(token, secret);
    if (j == NULL)
        j = edge_jwt_decode(token, prev);
    if (j == NULL)
        goto fail;
    const char *r = jwt_get_grant(j, "room");
    const char *ro = jwt_get_grant(j, "role");
    const char *su = jwt_get_grant(j, "sub");
    errno = 0;
    long exp = jwt_get_grant_int(j, "exp");
    if (errno != 0 || r == NULL || ro == NULL || strcmp(r, room) != 0)
        goto fail;
    if (strcmp(ro, "host") != 0 && strcmp(ro, "guest") != 0)
        goto fail;
    if (su != NULL && !vc_proto_id_ok(su))
        goto fail;
    if ((int64_t)exp <= now_s) {
        rc = VC_ERR_TOKEN_EXPIRED;
        goto fail;
    }
    snprintf(role, rolelen, "%s", ro);
    snprintf(sub, sublen, "%s", su ? su : "");
    rc = VC_OK;
fail:
    jwt_free(j);
    return rc;
}
