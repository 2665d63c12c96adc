/* sctppkt: a structural check of SCTP packets (RFC 9260 3) before they
 * reach usrsctp: chunk and parameter lengths must be sane. Not SCTP
 * processing: usrsctp does that; this only keeps malformed packets (which
 * made Debian's usrsctp 0.9.5 loop forever, see tests/fuzz/corpus/sctp)
 * away from it. */
#ifndef MW_SCTPPKT_H
#define MW_SCTPPKT_H

#include <stddef.h>
#include <stdint.h>

#define SCTP_PKT_HEADER 12 /* common header: ports, verification tag, CRC32c */

typedef enum {
    SCTP_PKT_OK = 0,
    SCTP_PKT_SHORT,     /* no room for the common header and one chunk */
    SCTP_PKT_CHUNK_LEN, /* a chunk length below 4 or past the packet */
    SCTP_PKT_PARAM_LEN, /* a parameter length below 4 or past its chunk */
    SCTP_PKT_FIXED_LEN, /* a chunk shorter than its fixed part */
} sctp_pkt_err_t;

/* Walks the chunks (and the parameters of INIT, INIT ACK, RE-CONFIG,
 * ASCONF and ASCONF ACK). The CRC is not checked (usrsctp does). */
sctp_pkt_err_t sctp_pkt_check(const uint8_t *pkt, size_t len);

#endif
