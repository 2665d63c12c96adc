/* utf8: strict UTF-8 decoding (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). Not a policy: callers decide which code points
 * (controls, whitespace) they accept. Pure; usable from the sans-IO cores. */
#ifndef VC_UTF8_H
#define VC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point starting at s[*i] (s holds len bytes) and advances
 * *i past it. Returns the code point, or -1 (and leaves *i) if the bytes there
 * are not valid UTF-8. */
int32_t vc_utf8_next(const unsigned char *s, size_t len, size_t *i);

/* True if all len bytes are valid UTF-8. */
int vc_utf8_valid(const unsigned char *s, size_t len);

#endif
