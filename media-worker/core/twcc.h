/* twcc: transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01): a receiver that
 * records transport-wide sequence numbers with arrival times and builds
 * RTPFB FMT=15 feedback (toward publishers), and a feedback parser (from
 * subscribers). Not an estimator: bwe.c consumes the parsed feedback. */
#ifndef MW_TWCC_H
#define MW_TWCC_H

#include <stddef.h>
#include <stdint.h>

#define TWCC_FMT 15
#define TWCC_RX_WINDOW 2048 /* packets remembered by the receiver; power of 2 */
#define TWCC_DELTA_US 250   /* receive delta unit (draft 3.1.5) */
#define TWCC_REF_US 64000   /* reference time unit (draft 3.1) */

/* Extends a 16-bit sequence number to the 64-bit value nearest to ref (an
 * earlier extended value; ref < 0: none yet, the result is 0x10000 + seq). */
int64_t twcc_seq_unwrap(int64_t ref, uint16_t seq);

/* ---- receiver: records arrivals, builds feedback ---- */
typedef struct {
    uint32_t sender_ssrc, media_ssrc;
    uint8_t fb_count;
    int started;
    int64_t next_seq; /* first extended seq not yet reported */
    int64_t max_seq;  /* highest extended seq seen */
    /* Per slot (8 bytes, 16 kB per publisher): the low 32 bits of the
     * extended seq and of the arrival time (the high bits come from
     * last_arrival_us: unreported packets are at most seconds old). */
    uint32_t tag[TWCC_RX_WINDOW];
    uint32_t arrival_lo[TWCC_RX_WINDOW];
    uint64_t present[TWCC_RX_WINDOW / 64]; /* bit: the slot holds a packet */
    uint64_t last_arrival_us;
} twcc_rx_t;

void twcc_rx_init(twcc_rx_t *rx, uint32_t sender_ssrc, uint32_t media_ssrc);
/* Records one packet carrying transport-wide seq that arrived at now_us.
 * Packets older than what was already reported are ignored. */
void twcc_rx_packet(twcc_rx_t *rx, uint16_t seq, uint64_t now_us);
/* Packets waiting to be reported. */
size_t twcc_rx_pending(const twcc_rx_t *rx);
/* Builds one feedback packet (RTCP RTPFB FMT 15, header included) covering
 * the unreported packets, as many as fit in cap. Returns its length, or 0 if
 * there is nothing to report or nothing fits. Call every 50-100 ms (and
 * sooner when twcc_rx_pending grows past ~100). */
size_t twcc_rx_build(twcc_rx_t *rx, uint8_t *buf, size_t cap);

/* ---- feedback parser ---- */
typedef struct {
    uint32_t sender_ssrc, media_ssrc;
    uint16_t base_seq, status_count;
    int32_t ref_time; /* 24-bit, units of 64 ms */
    uint8_t fb_count;
} twcc_fb_t;

typedef struct {
    uint16_t seq;
    uint8_t received;
    int64_t arrival_us; /* ref_time * 64 ms + cumulative deltas (received only) */
} twcc_pkt_t;

typedef enum {
    TWCC_OK = 0,
    TWCC_ERR_SHORT,  /* chunks or deltas run past the packet */
    TWCC_ERR_HEADER, /* not an RTPFB FMT 15 packet */
    TWCC_ERR_STATUS, /* reserved status symbol */
} twcc_err_t;

/* Parses one feedback sub-packet (buf/len: its header included, e.g. as
 * located by rtcp_parse). Fills hdr and up to max entries of pkts in
 * sequence order (*n of them; status_count may be larger). Writes *hdr and
 * *n only on success (pkts may be partly written on failure). Never reads
 * beyond len. */
twcc_err_t twcc_fb_parse(const uint8_t *buf, size_t len, twcc_fb_t *hdr, twcc_pkt_t *pkts,
                         size_t max, size_t *n);
const char *twcc_err_str(twcc_err_t e);

#endif
