/* Fuzzes the config file parser. */
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vc_config_t *c = vc_config_new();
    char err[256];
    if (vc_config_parse(c, (const char *)data, size, err, sizeof(err)) == 0) {
        long v;
        vc_config_str(c, "a", NULL);
        vc_config_int(c, "port", 0, 0, 65535, &v, err, sizeof(err));
        vc_config_unused(c);
    }
    vc_config_free(c);
    return 0;
}
