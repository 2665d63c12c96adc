/* srtp: libsrtp2 session pair per peer. See srtp.h. */
#include "media-worker/shell/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <srtp2/srtp.h>

/* RFC 3711 3.3.2: a replay window of 1024 instead of the default 128 keeps
 * late video packets (NACK retransmissions, reordering) from being dropped. */
#define MW_SRTP_WINDOW 1024

static pthread_once_t mw_srtp_once = PTHREAD_ONCE_INIT;
static int mw_srtp_init_ok;
static int mw_srtp_gcm_ok;

/* Fills one direction's crypto policies for the profile. */
static void mw_srtp_policy_crypto(srtp_policy_t *pol, mw_srtp_profile_t profile)
{
    if (profile == MW_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
    }
}

/* Creates one session; key is key || salt. Returns the session or NULL. */
static srtp_t mw_srtp_create(mw_srtp_profile_t profile, const uint8_t *key, int inbound)
{
    srtp_policy_t pol;
    srtp_t s = NULL;

    memset(&pol, 0, sizeof(pol));
    mw_srtp_policy_crypto(&pol, profile);
    pol.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    pol.key = (unsigned char *)key;
    pol.window_size = MW_SRTP_WINDOW;
    pol.allow_repeat_tx = 1;
    pol.next = NULL;
    if (srtp_create(&s, &pol) != srtp_err_status_ok)
        return NULL;
    return s;
}

/* pthread_once body: srtp_init, then probe whether AES-GCM is compiled in. */
static void mw_srtp_global_init_once(void)
{
    uint8_t key[MW_SRTP_MAX_KEY_SALT] = {0};
    srtp_t probe;

    if (srtp_init() != srtp_err_status_ok)
        return;
    mw_srtp_init_ok = 1;
    probe = mw_srtp_create(MW_SRTP_AEAD_AES_128_GCM, key, 1);
    if (probe) {
        mw_srtp_gcm_ok = 1;
        srtp_dealloc(probe);
    }
}

/* srtp_init() exactly once per process. Returns 0 or -1. */
int mw_srtp_global_init(void)
{
    pthread_once(&mw_srtp_once, mw_srtp_global_init_once);
    return mw_srtp_init_ok ? 0 : -1;
}

/* True if AES-GCM sessions can be created with this libsrtp2. */
int mw_srtp_gcm_supported(void)
{
    if (mw_srtp_global_init() < 0)
        return 0;
    return mw_srtp_gcm_ok;
}

/* RFC 5764 4.1.2 / RFC 7714 12: master key and salt lengths per profile. */
size_t mw_srtp_key_salt_len(mw_srtp_profile_t profile)
{
    return profile == MW_SRTP_AEAD_AES_128_GCM ? 16 + 12 : 16 + 14;
}

/* Creates inbound (remote keys) and outbound (local keys) sessions. */
int mw_srtp_init(mw_srtp_t *s, const mw_srtp_keys_t *keys)
{
    srtp_t in = NULL, out = NULL;

    memset(s, 0, sizeof(*s));
    if (mw_srtp_global_init() < 0)
        goto fail;
    if (keys->len != mw_srtp_key_salt_len(keys->profile))
        goto fail;
    if (keys->profile == MW_SRTP_AEAD_AES_128_GCM && !mw_srtp_gcm_ok)
        goto fail;
    in = mw_srtp_create(keys->profile, keys->remote, 1);
    if (!in)
        goto fail;
    out = mw_srtp_create(keys->profile, keys->local, 0);
    if (!out)
        goto fail;
    s->in = in;
    s->out = out;
    return 0;
fail:
    if (in)
        srtp_dealloc(in);
    return -1;
}

/* Frees both sessions and zeroes s. */
void mw_srtp_fini(mw_srtp_t *s)
{
    if (s->in)
        srtp_dealloc((srtp_t)s->in);
    if (s->out)
        srtp_dealloc((srtp_t)s->out);
    s->in = s->out = NULL;
}

/* Protects an RTP packet in place. */
int mw_srtp_protect_rtp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    int n;

    if (!s->out || *len < 12 || *len > INT_MAX - MW_SRTP_TRAILER_ROOM)
        return -1;
    n = (int)*len;
    if (srtp_protect((srtp_t)s->out, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

/* Protects an RTCP packet in place. */
int mw_srtp_protect_rtcp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    int n;

    if (!s->out || *len < 8 || *len > INT_MAX - MW_SRTP_TRAILER_ROOM)
        return -1;
    n = (int)*len;
    if (srtp_protect_rtcp((srtp_t)s->out, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

/* Verifies and decrypts an SRTP packet in place. */
int mw_srtp_unprotect_rtp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    int n;

    if (!s->in || *len < 12 || *len > INT_MAX)
        return -1;
    n = (int)*len;
    if (srtp_unprotect((srtp_t)s->in, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

/* Verifies and decrypts an SRTCP packet in place. */
int mw_srtp_unprotect_rtcp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    int n;

    if (!s->in || *len < 8 || *len > INT_MAX)
        return -1;
    n = (int)*len;
    if (srtp_unprotect_rtcp((srtp_t)s->in, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}
