/* fuzz_dtls: bytes into a DTLS server endpoint (media-worker/shell/dtls.c)
 * as datagrams. Input framing: repeated [len_hi, len_lo, len bytes]; a
 * short last frame is taken as it is. Seeds: a real ClientHello. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "media-worker/shell/dtls.h"

static mw_dtls_identity_t *fd_id;
static mw_dtls_fp_t fd_fp;

/* Answers go nowhere. */
static void fd_send(const uint8_t *dgram, size_t len, void *user)
{
    (*(size_t *)user) += len;
}

/* Makes the identity once: key generation is too slow per input. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fd_id = mw_dtls_identity_new();
    /* Any well-formed expected fingerprint: no input can match it. */
    memset(&fd_fp, 0, sizeof(fd_fp));
    fd_fp.alg = MW_DTLS_FP_SHA256;
    fd_fp.len = 32;
    return fd_id ? 0 : 1;
}

/* One fresh server endpoint per input, fed the framed datagrams. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t out = 0;
    mw_dtls_t *d = mw_dtls_new(fd_id, 1, &fd_fp, fd_send, &out);

    if (!d)
        return 0;
    while (size > 0) {
        size_t n = size >= 2 ? (size_t)(data[0] << 8 | data[1]) : size;
        if (size >= 2) {
            data += 2;
            size -= 2;
        }
        if (n > size)
            n = size;
        mw_dtls_handle(d, data, n);
        (void)mw_dtls_timeout_ms(d);
        data += n;
        size -= n;
    }
    mw_dtls_handle_timeout(d);
    mw_dtls_close(d);
    mw_dtls_free(d);
    return 0;
}
