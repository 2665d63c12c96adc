#include "common/redis_url.h"

#include <stdio.h>
#include <string.h>

/* Host names and IPv4 literals: letters, digits, '.', '-', '_'. */
static int vc_redis_url_host_ok(const char *s, size_t len, int bracketed)
{
    if (len == 0 || len >= VC_REDIS_URL_MAX_HOST)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (bracketed)
            ok = ok || c == ':' || c == '.' || c == '%';
        else
            ok = ok || c == '.' || c == '-' || c == '_';
        if (!ok)
            return 0;
    }
    return 1;
}

/* Decimal 1..65535, no sign, no leading garbage; -1 if not. */
static int vc_redis_url_port(const char *s, size_t len)
{
    if (len == 0 || len > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return (v >= 1 && v <= 65535) ? v : -1;
}

/* Parses "host[:port]" in [s, s+len); port is required unless def_port > 0. */
static int vc_redis_url_hostport(const char *s, size_t len, int def_port, vc_redis_url_t *u,
                                 char *err, size_t errlen)
{
    const char *hs = s, *colon = NULL;
    size_t hlen;
    int bracketed = 0;
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (rb == NULL) {
            snprintf(err, errlen, "missing ']' after IPv6 address");
            return -1;
        }
        hs = s + 1;
        hlen = (size_t)(rb - hs);
        bracketed = 1;
        size_t rest = len - (size_t)(rb + 1 - s);
        if (rest > 0) {
            if (rb[1] != ':') {
                snprintf(err, errlen, "expected ':' after ']'");
                return -1;
            }
            colon = rb + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        hlen = colon ? (size_t)(colon - s) : len;
    }
    if (!vc_redis_url_host_ok(hs, hlen, bracketed)) {
        snprintf(err, errlen, "invalid host");
        return -1;
    }
    int port = def_port;
    if (colon != NULL) {
        port = vc_redis_url_port(colon + 1, len - (size_t)(colon + 1 - s));
        if (port < 0) {
            snprintf(err, errlen, "port must be a number in 1..65535");
            return -1;
        }
    } else if (def_port <= 0) {
        snprintf(err, errlen, "expected host:port");
        return -1;
    }
    memset(u, 0, sizeof(*u));
    memcpy(u->host, hs, hlen);
    u->host[hlen] = '\0';
    u->port = port;
    return 0;
}

/* Dispatches on the scheme; see redis_url.h for the accepted forms. */
int vc_redis_url_parse(const char *s, vc_redis_url_t *out, char *err, size_t errlen)
{
    vc_redis_url_t u;
    if (s == NULL || *s == '\0') {
        snprintf(err, errlen, "empty Redis URL");
        return -1;
    }
    size_t len = strlen(s);
    if (strncmp(s, "unix:", 5) == 0) {
        const char *p = s + 5;
        if (strncmp(p, "//", 2) == 0)
            p += 2;
        size_t plen = strlen(p);
        if (plen < 2 || p[0] != '/') {
            snprintf(err, errlen, "unix: needs an absolute socket path");
            return -1;
        }
        if (plen >= VC_REDIS_URL_MAX_PATH) {
            snprintf(err, errlen, "socket path longer than %d bytes", VC_REDIS_URL_MAX_PATH - 1);
            return -1;
        }
        memset(&u, 0, sizeof(u));
        u.is_unix = 1;
        memcpy(u.path, p, plen + 1);
        *out = u;
        return 0;
    }
    if (strncmp(s, "redis://", 8) == 0) {
        const char *p = s + 8;
        size_t plen = len - 8;
        if (plen > 0 && p[plen - 1] == '/')
            plen--;
        if (memchr(p, '@', plen) != NULL) {
            snprintf(err, errlen, "credentials in the URL are not supported");
            return -1;
        }
        if (memchr(p, '/', plen) != NULL) {
            snprintf(err, errlen, "database numbers are not supported");
            return -1;
        }
        if (vc_redis_url_hostport(p, plen, VC_REDIS_DEFAULT_PORT, &u, err, errlen) != 0)
            return -1;
        *out = u;
        return 0;
    }
    if (strstr(s, "://") != NULL) {
        snprintf(err, errlen, "unsupported scheme (use unix:/path or redis://host:port)");
        return -1;
    }
    if (vc_redis_url_hostport(s, len, 0, &u, err, errlen) != 0)
        return -1;
    *out = u;
    return 0;
}
