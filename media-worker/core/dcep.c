/* dcep: RFC 8832 message parse/build. See dcep.h. */
#include "media-worker/core/dcep.h"

#include <string.h>

/* Big-endian readers and writers (RFC 8832 8: network byte order). */
static uint16_t dcep_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t dcep_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void dcep_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void dcep_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* RFC 8832 5.1: the six channel types. */
int dcep_channel_type_ok(uint8_t t)
{
    return (t & 0x7f) <= DCEP_CHANNEL_PARTIAL_RELIABLE_TIMED;
}

int dcep_channel_ordered(uint8_t t)
{
    return (t & DCEP_CHANNEL_UNORDERED) == 0;
}

/* RFC 8832 5.1 (OPEN) and 5.2 (ACK). */
dcep_err_t dcep_parse(const uint8_t *buf, size_t len, dcep_msg_t *out)
{
    dcep_msg_t m;

    if (buf == NULL || len < 1)
        return DCEP_ERR_SHORT;
    memset(&m, 0, sizeof(m));
    m.type = buf[0];
    if (m.type == DCEP_MSG_ACK) {
        /* RFC 8832 5.2: exactly the type byte. */
        if (len != 1)
            return DCEP_ERR_TRAILING;
        *out = m;
        return DCEP_OK;
    }
    if (m.type != DCEP_MSG_OPEN)
        return DCEP_ERR_TYPE;
    if (len < DCEP_OPEN_HEADER)
        return DCEP_ERR_SHORT;
    m.open.channel_type = buf[1];
    if (!dcep_channel_type_ok(m.open.channel_type))
        return DCEP_ERR_CHANNEL_TYPE;
    m.open.priority = dcep_rd16(buf + 2);
    m.open.reliability = dcep_rd32(buf + 4);
    m.open.label_len = dcep_rd16(buf + 8);
    m.open.protocol_len = dcep_rd16(buf + 10);
    size_t need = (size_t)DCEP_OPEN_HEADER + m.open.label_len + m.open.protocol_len;
    if (len < need)
        return DCEP_ERR_SHORT;
    if (len > need)
        return DCEP_ERR_TRAILING;
    m.open.label = buf + DCEP_OPEN_HEADER;
    m.open.protocol = m.open.label + m.open.label_len;
    *out = m;
    return DCEP_OK;
}

size_t dcep_build_open(const dcep_open_t *o, uint8_t *buf, size_t cap)
{
    size_t n = (size_t)DCEP_OPEN_HEADER + o->label_len + o->protocol_len;

    if (n > cap || !dcep_channel_type_ok(o->channel_type))
        return 0;
    if ((o->label_len && o->label == NULL) || (o->protocol_len && o->protocol == NULL))
        return 0;
    buf[0] = DCEP_MSG_OPEN;
    buf[1] = o->channel_type;
    dcep_wr16(buf + 2, o->priority);
    /* RFC 8832 5.1: the parameter is ignored (and 0) for reliable channels. */
    dcep_wr32(buf + 4, (o->channel_type & 0x7f) == DCEP_CHANNEL_RELIABLE ? 0 : o->reliability);
    dcep_wr16(buf + 8, o->label_len);
    dcep_wr16(buf + 10, o->protocol_len);
    if (o->label_len)
        memcpy(buf + DCEP_OPEN_HEADER, o->label, o->label_len);
    if (o->protocol_len)
        memcpy(buf + DCEP_OPEN_HEADER + o->label_len, o->protocol, o->protocol_len);
    return n;
}

size_t dcep_build_ack(uint8_t *buf, size_t cap)
{
    if (cap < 1)
        return 0;
    buf[0] = DCEP_MSG_ACK;
    return 1;
}

const char *dcep_err_str(dcep_err_t e)
{
    switch (e) {
    case DCEP_OK:
        return "ok";
    case DCEP_ERR_SHORT:
        return "truncated";
    case DCEP_ERR_TYPE:
        return "unknown message type";
    case DCEP_ERR_CHANNEL_TYPE:
        return "unknown channel type";
    case DCEP_ERR_TRAILING:
        return "trailing bytes";
    }
    return "?";
}
