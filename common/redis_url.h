/* redis_url: parses the Redis addresses every process takes ("unix:/path",
 * "redis://host[:port]", "host:port"). Not a connection helper: callers pass
 * the result to hiredis themselves. */
#ifndef VC_REDIS_URL_H
#define VC_REDIS_URL_H

#include <stddef.h>

#define VC_REDIS_URL_MAX_PATH 108 /* sizeof(sockaddr_un.sun_path) */
#define VC_REDIS_URL_MAX_HOST 256
#define VC_REDIS_DEFAULT_PORT 6379

typedef struct {
    int is_unix;                      /* 1: path is set; 0: host and port are */
    char path[VC_REDIS_URL_MAX_PATH]; /* absolute socket path */
    char host[VC_REDIS_URL_MAX_HOST]; /* name, IPv4, or IPv6 without brackets */
    int port;                         /* 1..65535 */
} vc_redis_url_t;

/* Parses s. Accepted: "unix:/abs/path" (also "unix:///abs/path"),
 * "redis://host[:port][/]" (port defaults to 6379), "host:port", with IPv6
 * hosts in brackets ("[::1]:6379"). Returns 0 and fills *out, or -1 with err
 * saying why (out untouched). */
int vc_redis_url_parse(const char *s, vc_redis_url_t *out, char *err, size_t errlen);

#endif
