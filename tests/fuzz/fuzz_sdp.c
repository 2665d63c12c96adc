/* Fuzzes the SDP answer parser and the accessors callers use on its result. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "media-worker/core/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sdp_answer_t a;
    char err[256];
    if (sdp_parse_answer((const char *)data, size, &a, err, sizeof(err)) != 0)
        return 0;
    for (size_t i = 0; i < a.n_mlines; i++) {
        uint32_t rtx;
        volatile uint32_t s = sdp_mline_media_ssrc(&a.mlines[i], &rtx);
        volatile int has = sdp_mline_has_pt(&a.mlines[i], 96);
        (void)s;
        (void)has;
    }
    return 0;
}
