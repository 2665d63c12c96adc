/* Fuzzes the transport-cc feedback parser and feeds what parses into the
 * estimator. */
#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/bwe.h"
#include "media-worker/core/twcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bwe_t b;
    static int init;
    static twcc_pkt_t pkts[512];
    if (!init) {
        bwe_cfg_t c = {0};
        bwe_init(&b, &c);
        for (uint16_t s = 0; s < 2000; s++)
            bwe_on_sent(&b, s, 1200, (uint64_t)s * 1000);
        init = 1;
    }
    twcc_fb_t h;
    size_t n;
    if (twcc_fb_parse(data, size, &h, pkts, 512, &n) != TWCC_OK)
        return 0;
    if (n > 512 || n > h.status_count)
        __builtin_trap();
    bwe_on_feedback(&b, pkts, n, 5000000);
    (void)bwe_estimate(&b);
    return 0;
}
