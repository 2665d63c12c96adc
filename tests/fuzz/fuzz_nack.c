/* Fuzzes NACK parsing (through rtcp_parse) and the RTX unwrap; the parsed
 * sequence numbers drive the generator and are rebuilt into a NACK. */
#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/nack.h"
#include "media-worker/core/rtcp.h"
#include "media-worker/core/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static nack_gen_t g;
    static uint64_t now;
    static int init;
    if (!init) {
        nack_gen_init(&g, 50000);
        init = 1;
    }
    rtp_header_t h;
    uint8_t out[2048];
    if (rtp_parse(data, size, &h) == RTP_OK) {
        size_t n = nack_rtx_unwrap(out, sizeof(out), data, &h, 96, 1);
        if (n && rtp_parse(out, n, &h) == RTP_OK)
            nack_gen_packet(&g, h.seq, now += 1000);
    }
    rtcp_compound_t c;
    if (rtcp_parse(data, size, &c) != RTCP_OK)
        return 0;
    for (size_t i = 0; i < c.n; i++) {
        uint16_t seqs[512];
        uint32_t media;
        size_t n;
        if (nack_parse(data + c.pkts[i].off, c.pkts[i].len, &media, seqs, 512, &n) != NACK_OK)
            continue;
        for (size_t k = 0; k < n; k++)
            nack_gen_packet(&g, seqs[k], now += 100);
        uint16_t polled[NACK_MAX_MISSING];
        size_t m = nack_gen_poll(&g, now += 10000, polled, NACK_MAX_MISSING);
        if (m && !nack_build(out, sizeof(out), 1, media, polled, m))
            __builtin_trap();
    }
    return 0;
}
