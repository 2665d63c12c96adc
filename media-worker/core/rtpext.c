#include "media-worker/core/rtpext.h"

#include <string.h>

const char *rtpext_err_str(rtpext_err_t e)
{
    switch (e) {
    case RTPEXT_OK:
        return "ok";
    case RTPEXT_ERR_PROFILE:
        return "unknown extension profile";
    case RTPEXT_ERR_SHORT:
        return "extension element runs past the data";
    case RTPEXT_ERR_TOO_MANY:
        return "too many extension elements";
    case RTPEXT_ERR_ARG:
        return "extension id or length not representable";
    }
    return "?";
}

/* RFC 8285 4.2 (one-byte) and 4.3 (two-byte). Padding bytes (id 0) may sit
 * between elements; in the one-byte form id 15 ends parsing. */
rtpext_err_t rtpext_parse(uint16_t profile, const uint8_t *data, size_t len, rtpext_list_t *out)
{
    rtpext_list_t l;
    memset(&l, 0, sizeof(l));
    if (profile == RTPEXT_PROFILE_ONE_BYTE)
        l.two_byte = 0;
    else if ((profile & 0xfff0) == RTPEXT_PROFILE_TWO_BYTE)
        l.two_byte = 1;
    else
        return RTPEXT_ERR_PROFILE;
    if (len > 0xffff)
        return RTPEXT_ERR_SHORT;
    size_t i = 0;
    while (i < len) {
        uint8_t b = data[i];
        if (b == 0) { /* padding */
            i++;
            continue;
        }
        uint8_t id, elen;
        if (!l.two_byte) {
            id = b >> 4;
            if (id == 15)
                break;
            elen = (uint8_t)((b & 0x0f) + 1);
            i += 1;
        } else {
            if (len - i < 2)
                return RTPEXT_ERR_SHORT;
            id = b;
            elen = data[i + 1];
            i += 2;
        }
        if (elen > len - i)
            return RTPEXT_ERR_SHORT;
        if (l.n == RTPEXT_MAX_ELEMS)
            return RTPEXT_ERR_TOO_MANY;
        l.e[l.n++] = (rtpext_elem_t){.id = id, .len = elen, .off = (uint16_t)i};
        i += elen;
    }
    *out = l;
    return RTPEXT_OK;
}

const rtpext_elem_t *rtpext_find(const rtpext_list_t *l, uint8_t id)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->e[i].id == id)
            return &l->e[i];
    return NULL;
}

const uint8_t *rtpext_get(const uint8_t *pkt, uint16_t profile, size_t ext_off, size_t ext_len,
                          uint8_t id, size_t *len)
{
    rtpext_list_t l;
    if (rtpext_parse(profile, pkt + ext_off, ext_len, &l) != RTPEXT_OK)
        return NULL;
    const rtpext_elem_t *e = rtpext_find(&l, id);
    if (!e)
        return NULL;
    *len = e->len;
    return pkt + ext_off + e->off;
}

size_t rtpext_write(uint8_t *buf, size_t cap, const rtpext_item_t *items, size_t n)
{
    int two = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].id == 0)
            return 0;
        if (items[i].id > 14 || items[i].len == 0 || items[i].len > 16)
            two = 1;
    }
    size_t need = 4;
    for (size_t i = 0; i < n; i++)
        need += (two ? 2u : 1u) + items[i].len;
    size_t padded = (need + 3) & ~(size_t)3;
    if (padded > cap || (padded - 4) / 4 > 0xffff)
        return 0;
    uint16_t profile = two ? RTPEXT_PROFILE_TWO_BYTE : RTPEXT_PROFILE_ONE_BYTE;
    buf[0] = (uint8_t)(profile >> 8);
    buf[1] = (uint8_t)profile;
    buf[2] = (uint8_t)(((padded - 4) / 4) >> 8);
    buf[3] = (uint8_t)((padded - 4) / 4);
    size_t o = 4;
    for (size_t i = 0; i < n; i++) {
        if (two) {
            buf[o++] = items[i].id;
            buf[o++] = items[i].len;
        } else {
            buf[o++] = (uint8_t)((items[i].id << 4) | (items[i].len - 1));
        }
        if (items[i].len)
            memcpy(buf + o, items[i].data, items[i].len);
        o += items[i].len;
    }
    memset(buf + o, 0, padded - o);
    return padded;
}

int rtpext_set(uint8_t *pkt, uint16_t profile, size_t ext_off, size_t ext_len, uint8_t id,
               const uint8_t *val, size_t len)
{
    rtpext_list_t l;
    if (rtpext_parse(profile, pkt + ext_off, ext_len, &l) != RTPEXT_OK)
        return -1;
    const rtpext_elem_t *e = rtpext_find(&l, id);
    if (!e || e->len != len)
        return -1;
    memcpy(pkt + ext_off + e->off, val, len);
    return 0;
}
