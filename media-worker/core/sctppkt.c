/* sctppkt: SCTP packet structure check. See sctppkt.h. */
#include "media-worker/core/sctppkt.h"

/* RFC 9260 3.2 chunk types with TLV parameters, and where they start. */
#define SCTP_CHUNK_INIT 1
#define SCTP_CHUNK_INIT_ACK 2
#define SCTP_CHUNK_ASCONF_ACK 0x80
#define SCTP_CHUNK_RECONFIG 130
#define SCTP_CHUNK_ASCONF 0xc1

static uint16_t sctp_pkt_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Offset of the first parameter in a chunk of type t, 0 if it has none. */
static size_t sctp_pkt_params_at(uint8_t t)
{
    switch (t) {
    case SCTP_CHUNK_INIT:
    case SCTP_CHUNK_INIT_ACK:
        return 20; /* RFC 9260 3.3.2: header, tag, a_rwnd, streams, TSN */
    case SCTP_CHUNK_RECONFIG:
        return 4; /* RFC 6525 3.1 */
    case SCTP_CHUNK_ASCONF:
    case SCTP_CHUNK_ASCONF_ACK:
        return 8; /* RFC 5061 5.1: header and serial number */
    default:
        return 0;
    }
}

/* RFC 9260 3.2.1: each parameter is >= 4 bytes, padded to 4, inside its chunk. */
static sctp_pkt_err_t sctp_pkt_params(const uint8_t *c, size_t clen, size_t at)
{
    while (at < clen) {
        size_t plen;
        if (clen - at < 4)
            return SCTP_PKT_PARAM_LEN;
        plen = sctp_pkt_rd16(c + at + 2);
        if (plen < 4 || plen > clen - at)
            return SCTP_PKT_PARAM_LEN;
        at += (plen + 3) & ~(size_t)3;
    }
    return SCTP_PKT_OK;
}

sctp_pkt_err_t sctp_pkt_check(const uint8_t *pkt, size_t len)
{
    size_t at = SCTP_PKT_HEADER;

    if (pkt == 0 || len < SCTP_PKT_HEADER + 4)
        return SCTP_PKT_SHORT;
    while (at < len) {
        const uint8_t *c = pkt + at;
        size_t clen, first;
        sctp_pkt_err_t e;
        if (len - at < 4)
            return SCTP_PKT_CHUNK_LEN;
        clen = sctp_pkt_rd16(c + 2);
        if (clen < 4 || clen > len - at)
            return SCTP_PKT_CHUNK_LEN;
        first = sctp_pkt_params_at(c[0]);
        if (first != 0) {
            if (clen < first)
                return SCTP_PKT_FIXED_LEN;
            e = sctp_pkt_params(c, clen, first);
            if (e != SCTP_PKT_OK)
                return e;
        }
        /* RFC 9260 3.2: padding to 4 bytes is not counted in the length. */
        at += (clen + 3) & ~(size_t)3;
    }
    return SCTP_PKT_OK;
}
