/* Fuzzes browser->edge (and every other channel's) message validation. */
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int ch = VC_CH_CLIENT; ch <= VC_CH_WORKER_EDGE; ch++) {
        json_t *m = NULL;
        const char *type;
        char err[256];
        if (vc_proto_parse((vc_channel_t)ch, (const char *)data, size, &m, &type, err,
                           sizeof(err)) == VC_OK)
            json_decref(m);
    }
    return 0;
}
