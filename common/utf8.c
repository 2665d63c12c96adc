#include "common/utf8.h"

int32_t vc_utf8_next(const unsigned char *s, size_t len, size_t *i)
{
    size_t at = *i;
    uint32_t c = s[at];
    if (c < 0x80) {
        *i = at + 1;
        return (int32_t)c;
    }
    size_t n;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) {
        n = 1, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 2, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 3, min = 0x10000, c &= 0x07;
    } else {
        return -1;
    }
    if (len - at <= n)
        return -1;
    for (size_t k = 1; k <= n; k++) {
        if ((s[at + k] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (s[at + k] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *i = at + n + 1;
    return (int32_t)c;
}

int vc_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len)
        if (vc_utf8_next(s, len, &i) < 0)
            return 0;
    return 1;
}
