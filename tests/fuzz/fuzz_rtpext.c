/* Fuzzes the RFC 8285 header extension parser through rtp_parse, and the
 * writer on what it parsed (write then re-parse must agree). */
#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/rtp.h"
#include "media-worker/core/rtpext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtp_header_t h;
    rtpext_list_t l, l2;
    if (rtp_parse(data, size, &h) != RTP_OK || !h.extension)
        return 0;
    if (rtpext_parse(h.ext_profile, data + h.ext_off, h.ext_len, &l) != RTPEXT_OK)
        return 0;
    rtpext_item_t items[RTPEXT_MAX_ELEMS];
    for (size_t i = 0; i < l.n; i++) {
        if (l.e[i].off + l.e[i].len > h.ext_len)
            __builtin_trap();
        items[i] = (rtpext_item_t){l.e[i].id, l.e[i].len, data + h.ext_off + l.e[i].off};
    }
    uint8_t out[1200];
    size_t n = rtpext_write(out, sizeof(out), items, l.n);
    if (n) {
        uint16_t prof = (uint16_t)((out[0] << 8) | out[1]);
        if (rtpext_parse(prof, out + 4, n - 4, &l2) != RTPEXT_OK || l2.n != l.n)
            __builtin_trap();
    }
    return 0;
}
