/* Fuzzes the compound RTCP parser and every accessor on what it accepts. */
#include <stddef.h>
#include <stdint.h>

#include "media-worker/core/rtcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtcp_compound_t c;
    if (rtcp_parse(data, size, &c) != RTCP_OK)
        return 0;
    uint8_t out[2048];
    for (size_t i = 0; i < c.n; i++) {
        const rtcp_packet_t *p = &c.pkts[i];
        if (p->off + p->len > size)
            __builtin_trap();
        if (p->pt == RTCP_SR) {
            rtcp_sr_t sr;
            rtcp_sr_info(data, p, &sr);
            rtcp_copy_sr_only(out, sizeof(out), data, p);
        }
        if (p->pt == RTCP_SR || p->pt == RTCP_RR)
            for (size_t k = 0; k < p->count; k++) {
                rtcp_report_block_t b;
                rtcp_report_block(data, p, k, &b);
            }
        uint64_t bps;
        uint32_t ss[8];
        size_t n;
        rtcp_remb_parse(data, p, &bps, ss, 8, &n);
        for (size_t k = 0; k < rtcp_nack_count(p); k++) {
            uint16_t pid, blp;
            rtcp_nack_entry(data, p, k, &pid, &blp);
        }
        for (size_t k = 0; k < rtcp_fir_count(p); k++)
            (void)rtcp_fir_ssrc(data, p, k);
        if (p->len >= 8)
            rtcp_copy_as(out, sizeof(out), data, p, 1);
    }
    return 0;
}
