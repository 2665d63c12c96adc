/* chat: text rules and the rate limit. See chat.h. */
#include "media-worker/core/chat.h"
#include "common/utf8.h"

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

/* Valid UTF-8 without C0 controls (other than tab, LF, CR) or DEL;
 * *visible is set if anything but whitespace is there. */
static int chat_utf8_ok(const unsigned char *s, size_t len, int *visible)
{
    size_t i = 0;
    *visible = 0;
    while (i < len) {
        int32_t c = vc_utf8_next(s, len, &i);
        int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (c < 0 || (c < 0x20 && !space) || c == 0x7f)
            return 0;
        if (!space)
            *visible = 1;
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
