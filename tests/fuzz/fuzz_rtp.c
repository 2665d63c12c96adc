/* Fuzzes the RTP header parser and the receive statistics fed from it. */
#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static rtp_rx_stats_t st;
    static uint64_t now = 1;
    rtp_header_t h;
    if (rtp_parse(data, size, &h) != RTP_OK)
        return 0;
    if (h.payload_off + h.payload_len > size || h.ext_off + h.ext_len > size)
        __builtin_trap();
    if (!st.clock_rate)
        rtp_rx_init(&st, 90000);
    now += 20000 + (h.seq & 0xff);
    rtp_rx_update(&st, h.seq, h.ts, now);
    if (h.marker) {
        rtp_rx_report_t r;
        rtp_rx_sr(&st, ((uint64_t)h.ts << 32) | h.ssrc, now);
        rtp_rx_report(&st, now + 1000, &r);
    }
    return 0;
}
