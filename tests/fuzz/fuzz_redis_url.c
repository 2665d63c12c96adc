/* Fuzzes the Redis URL parser: any bytes either parse into a bounded,
 * NUL-terminated result or fail with a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/redis_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    vc_redis_url_t u;
    char err[128] = "";
    if (vc_redis_url_parse(s, &u, err, sizeof(err)) == 0) {
        if (u.is_unix) {
            if (u.path[0] != '/' || strlen(u.path) >= sizeof(u.path))
                abort();
        } else if (u.port < 1 || u.port > 65535 || u.host[0] == '\0') {
            abort();
        }
    } else if (err[0] == '\0') {
        abort();
    }
    free(s);
    return 0;
}
