/* fuzz_stun: bytes into libnice's STUN parser the way its receive path uses
 * it for ICE connectivity checks: length check, validation with
 * short-term credentials and FINGERPRINT, attribute lookups, a reply to a
 * binding request. Input is one datagram. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <stun/stunagent.h>
#include <stun/usages/ice.h>

#include "media-worker/shell/stun_known.h"

/* The local credentials the seeds were made with. */
#define FS_UFRAG "abcd"
#define FS_PWD "0123456789abcdefghijkl"

static const uint16_t fs_known[] = MW_STUN_KNOWN_ATTRIBUTES; /* the worker's */

/* Gives the password for usernames "abcd:<anything>", as libnice's
 * conncheck validater does for its local ufrag. */
static bool fs_validater(StunAgent *agent, StunMessage *msg, uint8_t *username,
                         uint16_t username_len, uint8_t **password, size_t *password_len,
                         void *user)
{
    if (username_len < sizeof(FS_UFRAG) || memcmp(username, FS_UFRAG ":", sizeof(FS_UFRAG)) != 0)
        return false;
    *password = (uint8_t *)FS_PWD;
    *password_len = strlen(FS_PWD);
    return true;
}

/* Reads the attributes the ICE code reads from a request. */
static void fs_read_attributes(StunMessage *msg)
{
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);
    uint64_t tie;
    uint32_t prio;
    uint16_t len;
    int code;
    char name[514];

    (void)stun_message_find64(msg, STUN_ATTRIBUTE_ICE_CONTROLLING, &tie);
    (void)stun_message_find64(msg, STUN_ATTRIBUTE_ICE_CONTROLLED, &tie);
    (void)stun_message_find32(msg, STUN_ATTRIBUTE_PRIORITY, &prio);
    (void)stun_message_find_flag(msg, STUN_ATTRIBUTE_USE_CANDIDATE);
    (void)stun_message_find(msg, STUN_ATTRIBUTE_USERNAME, &len);
    (void)stun_message_find_string(msg, STUN_ATTRIBUTE_USERNAME, name, sizeof(name));
    (void)stun_message_find_xor_addr(msg, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &addr, &alen);
    alen = sizeof(addr);
    (void)stun_message_find_addr(msg, STUN_ATTRIBUTE_MAPPED_ADDRESS, &addr, &alen);
    (void)stun_message_find_error(msg, &code);
}

/* Answers a valid binding request like libnice's conncheck does. */
static void fs_reply(StunAgent *agent, StunMessage *req)
{
    uint8_t out[1024];
    size_t olen = sizeof(out);
    StunMessage reply;
    struct sockaddr_in src;
    bool control = true;

    memset(&src, 0, sizeof(src));
    src.sin_family = AF_INET;
    src.sin_port = htons(40000);
    src.sin_addr.s_addr = htonl(0x7f000001);
    (void)stun_usage_ice_conncheck_create_reply(
        agent, req, &reply, out, &olen, (const struct sockaddr_storage *)&src, sizeof(src),
        &control, 0x1234567890abcdefULL, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
}

/* One datagram through the receive path of an ICE agent. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    StunAgent agent;
    StunMessage msg;
    StunValidationStatus st;
    struct sockaddr_storage addr;
    socklen_t alen = sizeof(addr);

    if (stun_message_validate_buffer_length(data, size, true) <= 0)
        return 0;
    stun_agent_init(&agent, fs_known, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    st = stun_agent_validate(&agent, &msg, data, size, fs_validater, NULL);
    if (st == STUN_VALIDATION_UNKNOWN_REQUEST_ATTRIBUTE || st == STUN_VALIDATION_SUCCESS)
        fs_read_attributes(&msg);
    if (st != STUN_VALIDATION_SUCCESS)
        return 0;
    if (stun_message_get_class(&msg) == STUN_REQUEST &&
        stun_message_get_method(&msg) == STUN_BINDING)
        fs_reply(&agent, &msg);
    else
        (void)stun_usage_ice_conncheck_process(&msg, &addr, &alen,
                                               STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    return 0;
}
