/* libFuzzer: DCEP messages (core/dcep.c, RFC 8832): parse, and an OPEN that
 * parses rebuilds to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media-worker/core/dcep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcep_msg_t m;
    static uint8_t buf[DCEP_OPEN_HEADER + 2 * 65536];

    if (dcep_parse(data, size, &m) != DCEP_OK)
        return 0;
    if (m.type == DCEP_MSG_OPEN) {
        size_t n = dcep_build_open(&m.open, buf, sizeof(buf));
        /* The reliability parameter of a reliable channel is zeroed. */
        if (n != size)
            abort();
        if ((m.open.channel_type & 0x7f) != DCEP_CHANNEL_RELIABLE && memcmp(buf, data, n) != 0)
            abort();
        (void)dcep_channel_ordered(m.open.channel_type);
    } else if (dcep_build_ack(buf, sizeof(buf)) != size) {
        abort();
    }
    return 0;
}
