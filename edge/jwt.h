/* jwt: host credentials as HS256 JSON Web Tokens (libjwt), signed with the
 * edge's secret; verification also accepts the previous secret (rotation).
 * Not a general JWT library: only the claims room, role, sub, iat, exp. */
#ifndef EDGE_JWT_H
#define EDGE_JWT_H

#include <stdint.h>

#include "proto/proto.h"

#define EDGE_JWT_TTL_S (24 * 3600)

/* Signs {room, role:"host", sub:<random>, iat:now_s, exp:now_s+ttl_s}. Returns
 * a new string (free()) or NULL if secret is empty. */
char *edge_jwt_sign(const char *secret, const char *room, int64_t now_s, int64_t ttl_s);

/* Signs {room, role, sub, iat:now_s, exp:now_s+ttl_s}; role is "host" or
 * "guest", sub an identity (a vc_proto_id_ok string). As edge_jwt_sign. */
char *edge_jwt_sign_role(const char *secret, const char *room, const char *role, const char *sub,
                         int64_t now_s, int64_t ttl_s);

/* Verifies token for room at wall time now_s with secret, or prev (may be NULL
 * or empty). VC_OK and role (copied into role, size rolelen) if valid;
 * VC_ERR_TOKEN_EXPIRED if valid but expired; VC_ERR_UNAUTHORIZED otherwise. */
vc_err_t edge_jwt_verify(const char *token, const char *secret, const char *prev, const char *room,
                         int64_t now_s, char *role, size_t rolelen);

/* As edge_jwt_verify, and also copies the identity claim "sub" into sub
 * (size sublen; "" if the token has none). A sub that is not a valid id
 * makes the token VC_ERR_UNAUTHORIZED. */
vc_err_t edge_jwt_verify_sub(const char *token, const char *secret, const char *prev,
                             const char *room, int64_t now_s, char *role, size_t rolelen, char *sub,
                             size_t sublen);

#endif
