/* chat: text rules and the rate limit. See chat.h. */
#include "media-worker/core/chat.h"

int chat_rate_take(chat_rate_t *r, uint64_t now_ms)
{
    const uint32_t cap = CHAT_RATE_BURST * 1000u;

    if (!r->started) {
        r->started = 1;
        r->milli = cap;
        r->last_ms = now_ms;
    }
    if (now_ms > r->last_ms) {
        uint64_t add = (now_ms - r->last_ms) * CHAT_RATE_PER_S;
        r->milli = add >= cap - r->milli ? cap : r->milli + (uint32_t)add;
        r->last_ms = now_ms;
    }
    if (r->milli < 1000)
        return 0;
    r->milli -= 1000;
    return 1;
}

/* RFC 3629 UTF-8 (no overlongs, no surrogates); C0 controls other than
 * tab, LF and CR, and DEL, are refused. */
static int chat_utf8_ok(const unsigned char *s, size_t len, int *visible)
{
    size_t i = 0;

    *visible = 0;
    while (i < len) {
        unsigned c = s[i], min, n;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                return 0;
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                *visible = 1;
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            n = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0)
            n = 2, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0)
            n = 3, min = 0x10000, c &= 0x07;
        else
            return 0;
        if (len - i <= n)
            return 0;
        for (unsigned k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        *visible = 1;
        i += n + 1;
    }
    return 1;
}

chat_text_t chat_text_check(const char *text, size_t len)
{
    int visible;

    if (text == 0 || len == 0)
        return CHAT_TEXT_EMPTY;
    if (len > CHAT_MAX_TEXT)
        return CHAT_TEXT_TOO_LONG;
    if (!chat_utf8_ok((const unsigned char *)text, len, &visible))
        return CHAT_TEXT_BAD;
    return visible ? CHAT_TEXT_OK : CHAT_TEXT_EMPTY;
}
