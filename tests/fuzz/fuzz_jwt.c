/* Fuzzes host credential verification: any bytes as a token, with and
 * without a previous secret. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *tok = malloc(size + 1);
    memcpy(tok, data, size);
    tok[size] = '\0';
    char role[16];
    edge_jwt_verify(tok, "fuzz-secret", NULL, "room-a", 1700000000, role, sizeof(role));
    edge_jwt_verify(tok, "other", "fuzz-secret", "room-a", 1700000000, role, sizeof(role));
    free(tok);
    return 0;
}
