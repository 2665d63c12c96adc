/* stun_known: the STUN attributes the worker's own ICE replies understand
 * (a request with a comprehension-required attribute outside the list is
 * refused), for the fast receive path's StunAgent and for its fuzz target,
 * so that the target parses with the worker's configuration. Include
 * <stun/stunagent.h> first. */
#ifndef MW_STUN_KNOWN_H
#define MW_STUN_KNOWN_H

/* An initializer for a 0-terminated uint16_t array. */
#define MW_STUN_KNOWN_ATTRIBUTES                                                                   \
    {                                                                                              \
        STUN_ATTRIBUTE_USERNAME, STUN_ATTRIBUTE_MESSAGE_INTEGRITY, STUN_ATTRIBUTE_ERROR_CODE,      \
            STUN_ATTRIBUTE_UNKNOWN_ATTRIBUTES, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS,                  \
            STUN_ATTRIBUTE_PRIORITY, STUN_ATTRIBUTE_USE_CANDIDATE, STUN_ATTRIBUTE_FINGERPRINT,     \
            STUN_ATTRIBUTE_ICE_CONTROLLED, STUN_ATTRIBUTE_ICE_CONTROLLING, 0                       \
    }

#endif
