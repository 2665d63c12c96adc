/* dcep: the Data Channel Establishment Protocol (RFC 8832) messages, parsed
 * and built in memory, and the WebRTC data channel PPIDs (RFC 8831 8).
 * Not SCTP and not channel state: the shell (shell/sctp.c) owns those. */
#ifndef MW_DCEP_H
#define MW_DCEP_H

#include <stddef.h>
#include <stdint.h>

/* RFC 8831 8: SCTP payload protocol identifiers. */
#define DCEP_PPID_CONTROL 50
#define DCEP_PPID_STRING 51
#define DCEP_PPID_BINARY_PARTIAL 52 /* deprecated */
#define DCEP_PPID_BINARY 53
#define DCEP_PPID_STRING_PARTIAL 54 /* deprecated */
#define DCEP_PPID_STRING_EMPTY 56
#define DCEP_PPID_BINARY_EMPTY 57

/* RFC 8832 8.2.1: message types. */
#define DCEP_MSG_ACK 0x02
#define DCEP_MSG_OPEN 0x03

/* RFC 8832 5.1: channel types; bit 0x80 = unordered. */
#define DCEP_CHANNEL_RELIABLE 0x00
#define DCEP_CHANNEL_PARTIAL_RELIABLE_REXMIT 0x01
#define DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED 0x02
#define DCEP_CHANNEL_UNORDERED 0x80

#define DCEP_OPEN_HEADER 12 /* fixed part of DATA_CHANNEL_OPEN */

typedef enum {
    DCEP_OK = 0,
    DCEP_ERR_SHORT,        /* shorter than its fixed part or its lengths say */
    DCEP_ERR_TYPE,         /* unknown message type */
    DCEP_ERR_CHANNEL_TYPE, /* unknown channel type */
    DCEP_ERR_TRAILING,     /* bytes after the message */
} dcep_err_t;

/* DATA_CHANNEL_OPEN. label and protocol point into the parsed buffer
 * (borrowed; not NUL-terminated; RFC 8832 5.1 says UTF-8, not checked). */
typedef struct {
    uint8_t channel_type;
    uint16_t priority;
    uint32_t reliability; /* retransmissions or milliseconds; 0 if reliable */
    const uint8_t *label;
    uint16_t label_len;
    const uint8_t *protocol;
    uint16_t protocol_len;
} dcep_open_t;

typedef struct {
    uint8_t type;     /* DCEP_MSG_OPEN or DCEP_MSG_ACK */
    dcep_open_t open; /* valid for DCEP_MSG_OPEN */
} dcep_msg_t;

/* Parses one DCEP message (the payload of a PPID 50 SCTP message). On
 * DCEP_OK *out is written; pointers in it borrow buf. */
dcep_err_t dcep_parse(const uint8_t *buf, size_t len, dcep_msg_t *out);

/* Writes DATA_CHANNEL_OPEN into buf. Returns its length, or 0 if it does
 * not fit in cap or the channel type is unknown. */
size_t dcep_build_open(const dcep_open_t *o, uint8_t *buf, size_t cap);
/* Writes DATA_CHANNEL_ACK (one byte). Returns 1, or 0 if cap is 0. */
size_t dcep_build_ack(uint8_t *buf, size_t cap);

/* 1 if the channel type delivers in order. */
int dcep_channel_ordered(uint8_t channel_type);
/* 1 if the channel type is one RFC 8832 5.1 defines. */
int dcep_channel_type_ok(uint8_t channel_type);
/* "bad_length", ... for logs. */
const char *dcep_err_str(dcep_err_t e);

#endif
