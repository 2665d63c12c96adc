/* chat: the room chat's rules, sans-IO: what text a message may carry and
 * how many messages a participant may send (a token bucket on the caller's
 * clock). Not transport: the shell reads messages from data channels or the
 * WebSocket and relays them. */
#ifndef MW_CHAT_H
#define MW_CHAT_H

#include <stddef.h>
#include <stdint.h>

#define CHAT_MAX_TEXT 2000 /* bytes of UTF-8 */
#define CHAT_RATE_PER_S 5  /* sustained messages per second */
#define CHAT_RATE_BURST 10 /* messages allowed at once */

/* A per-participant token bucket; zero-initialised = full. */
typedef struct {
    uint32_t milli;   /* tokens * 1000 */
    uint64_t last_ms; /* when milli was last refilled */
    int started;
} chat_rate_t;

/* Takes one token at now_ms: 1 if the message may go, 0 if rate limited. */
int chat_rate_take(chat_rate_t *r, uint64_t now_ms);

typedef enum {
    CHAT_TEXT_OK = 0,
    CHAT_TEXT_EMPTY,    /* empty or only white space */
    CHAT_TEXT_TOO_LONG, /* more than CHAT_MAX_TEXT bytes */
    CHAT_TEXT_BAD,      /* invalid UTF-8, NUL or a control character other than \t \n \r */
} chat_text_t;

/* Checks len bytes of text (need not be NUL-terminated). */
chat_text_t chat_text_check(const char *text, size_t len);

#endif
