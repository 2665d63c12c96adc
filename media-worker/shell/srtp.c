/* srtp: libsrtp2 session pair per peer. See srtp.h. */
#include "media-worker/shell/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <srtp2/srtp.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "media-worker/shell/hmac_sha1.h"

/* RFC 3711 3.3.2: a replay window of 1024 instead of the default 128 keeps
 * late video packets (NACK retransmissions, reordering) from being dropped. */
#define MW_SRTP_WINDOW 1024

#define MW_SRTP_FAST_STREAMS 256 /* SSRCs per session with native state */
#define MW_SRTP_FAST_FIRST 16    /* sender slots at first; doubled as SSRCs come */
#define MW_SRTP_TAG 10           /* HMAC-SHA1-80 */

/* Per-SSRC sender state: the rollover counter (RFC 3711 3.3.1). */
typedef struct {
    uint32_t ssrc;
    uint32_t roc;
    uint16_t last_seq;
    uint8_t used;
} mw_srtp_fast_stream_t;

/* Per-SSRC receiver state (RFC 3711 3.3.1, 3.3.2): highest index seen and
 * the replay bitmap behind it (bit i: index highest - i was accepted). */
#define MW_SRTP_RX_STREAMS 8
typedef struct {
    uint32_t ssrc;
    int used;
    uint64_t highest; /* ROC << 16 | SEQ */
    uint64_t bits[MW_SRTP_WINDOW / 64];
} mw_srtp_rx_stream_t;

/* Per-SSRC SRTCP receiver state (RFC 3711 3.3.2 with the SRTCP index):
 * highest index accepted and the replay bitmap behind it. */
#define MW_SRTCP_WINDOW 128
typedef struct {
    uint32_t ssrc;
    int used;
    uint32_t highest;
    uint64_t bits[MW_SRTCP_WINDOW / 64];
} mw_srtcp_rx_stream_t;

/* Memory: a direction only carries the tables it uses, sized to what it
 * has seen. An outbound session has no receiver state; an inbound one no
 * sender slots; the sender table grows from 16 slots (two or three SSRCs a
 * subscription m-line), so a subscriber's pair is about 3 kB, not 11. */
struct mw_srtp_fast {
    mw_srtp_rx_stream_t *rx; /* inbound sessions only: MW_SRTP_RX_STREAMS */
    int gcm;                 /* RFC 7714 AEAD_AES_128_GCM, else AES-CM + HMAC-SHA1-80 */
    EVP_CIPHER_CTX *aes;     /* AES-128-CTR or -GCM keyed with the session key */
    mw_hmac_sha1_key_t auth; /* HMAC-SHA1 states after the ipad / opad block */
    uint8_t salt[14];
    /* SRTCP (RFC 3711 3.4, RFC 7714 9): its own session keys (labels 3-5) */
    EVP_CIPHER_CTX *c_aes;
    mw_hmac_sha1_key_t c_auth;
    uint8_t c_salt[14];
    uint32_t c_index;          /* outbound: the next SRTCP index (from 1, as libsrtp2) */
    mw_srtcp_rx_stream_t *crx; /* inbound sessions only: MW_SRTP_RX_STREAMS */
    mw_srtp_fast_stream_t *st; /* outbound: n_st slots (a power of 2), lazily */
    size_t n_st, used_st;
};

static int mw_srtp_native = 1;

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
static int mw_srtp_gcm_off;

int mw_srtp_gcm_supported(void)
{
    if (mw_srtp_global_init() < 0)
        return 0;
    return mw_srtp_gcm_ok && !mw_srtp_gcm_off;
}

/* Offer (and accept) AES-GCM or not: the load generator measures each
 * profile on its own. */
void mw_srtp_set_gcm_allowed(int on)
{
    mw_srtp_gcm_off = !on;
}

/* RFC 5764 4.1.2 / RFC 7714 12: master key and salt lengths per profile. */
size_t mw_srtp_key_salt_len(mw_srtp_profile_t profile)
{
    return profile == MW_SRTP_AEAD_AES_128_GCM ? 16 + 12 : 16 + 14;
}

void mw_srtp_set_native(int on)
{
    mw_srtp_native = on;
}

/* RFC 3711 4.3.1 (key_derivation_rate 0): AES-CM keystream of the master
 * key at IV = (master_salt XOR label << 48) || 0x0000, first n bytes. */
static int mw_srtp_kdf(const uint8_t *key, const uint8_t *salt, uint8_t label, uint8_t *out,
                       size_t n)
{
    uint8_t iv[16] = {0}, zero[32] = {0};
    int len = 0, ok;
    memcpy(iv, salt, 14);
    iv[7] ^= label;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv) == 1 &&
         EVP_EncryptUpdate(c, out, &len, zero, (int)n) == 1 && (size_t)len == n;
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

static void mw_srtp_fast_free(mw_srtp_fast_t *f)
{
    if (!f)
        return;
    EVP_CIPHER_CTX_free(f->aes);
    EVP_CIPHER_CTX_free(f->c_aes);
    free(f->rx);
    free(f->crx);
    free(f->st);
    OPENSSL_cleanse(f, sizeof(*f));
    free(f);
}

/* One direction's session keys for labels base (encryption), base + 1
 * (authentication, AES-CM only) and base + 2 (salt): RFC 3711 4.3.2 (RTP
 * 0-2, RTCP 3-5), RFC 7714 11 for GCM (the 96-bit master salt zero-padded,
 * as libsrtp2 does; no auth key). */
static int mw_srtp_fast_keys(const uint8_t *master, int gcm, uint8_t base, EVP_CIPHER_CTX **aes,
                             mw_hmac_sha1_key_t *auth, uint8_t *salt_out)
{
    uint8_t k[16], a[20], salt[14] = {0};
    int rc = -1;
    if (gcm) {
        memcpy(salt, master + 16, 12);
        if (mw_srtp_kdf(master, salt, base, k, 16) < 0 ||
            mw_srtp_kdf(master, salt, (uint8_t)(base + 2), salt_out, 12) < 0)
            goto out;
        *aes = EVP_CIPHER_CTX_new();
        if (!*aes || EVP_EncryptInit_ex(*aes, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
            EVP_CIPHER_CTX_ctrl(*aes, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
            EVP_EncryptInit_ex(*aes, NULL, NULL, k, NULL) != 1)
            goto out;
        rc = 0;
        goto out;
    }
    if (mw_srtp_kdf(master, master + 16, base, k, 16) < 0 ||
        mw_srtp_kdf(master, master + 16, (uint8_t)(base + 1), a, 20) < 0 ||
        mw_srtp_kdf(master, master + 16, (uint8_t)(base + 2), salt_out, 14) < 0)
        goto out;
    *aes = EVP_CIPHER_CTX_new();
    if (!*aes || EVP_EncryptInit_ex(*aes, EVP_aes_128_ctr(), NULL, k, NULL) != 1)
        goto out;
    /* RFC 2104: H(K ^ opad, H(K ^ ipad, text)); the keyed first blocks once. */
    mw_hmac_sha1_key(auth, a, sizeof(a));
    rc = 0;
out:
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(a, sizeof(a));
    return rc;
}

/* One direction's SRTP and SRTCP session keys from master key || salt. */
static mw_srtp_fast_t *mw_srtp_fast_new(const uint8_t *master, int gcm, int inbound)
{
    mw_srtp_fast_t *f = vc_calloc(1, sizeof(*f));
    f->gcm = gcm;
    f->c_index = 1;
    if (inbound) {
        f->rx = vc_calloc(MW_SRTP_RX_STREAMS, sizeof(*f->rx));
        f->crx = vc_calloc(MW_SRTP_RX_STREAMS, sizeof(*f->crx));
    }
    if (mw_srtp_fast_keys(master, gcm, 0x00, &f->aes, &f->auth, f->salt) < 0 ||
        mw_srtp_fast_keys(master, gcm, 0x03, &f->c_aes, &f->c_auth, f->c_salt) < 0) {
        mw_srtp_fast_free(f);
        return NULL;
    }
    return f;
}

/* ssrc's slot in a table of n (a power of 2): its own, or the free one
 * where it goes; NULL when the table is full without it. */
static mw_srtp_fast_stream_t *mw_srtp_fast_slot(mw_srtp_fast_stream_t *st, size_t n, uint32_t ssrc)
{
    uint32_t h = (ssrc * 2654435761u) >> 24;
    for (size_t i = 0; i < n; i++) {
        mw_srtp_fast_stream_t *s = &st[(h + i) & (n - 1)];
        if (!s->used || s->ssrc == ssrc)
            return s;
    }
    return NULL;
}

/* Doubles the sender table (up to MW_SRTP_FAST_STREAMS), moving every
 * SSRC's state into the new one. */
static void mw_srtp_fast_grow(mw_srtp_fast_t *f)
{
    size_t n = f->n_st ? 2 * f->n_st : MW_SRTP_FAST_FIRST;
    mw_srtp_fast_stream_t *st = vc_calloc(n, sizeof(*st));
    for (size_t i = 0; i < f->n_st; i++)
        if (f->st[i].used)
            *mw_srtp_fast_slot(st, n, f->st[i].ssrc) = f->st[i];
    free(f->st);
    f->st = st;
    f->n_st = n;
}

/* The SSRC's slot (open addressing, never removed), or NULL when full. The
 * table grows at half full, so probes stay short. */
static mw_srtp_fast_stream_t *mw_srtp_fast_stream(mw_srtp_fast_t *f, uint32_t ssrc)
{
    mw_srtp_fast_stream_t *s = f->st ? mw_srtp_fast_slot(f->st, f->n_st, ssrc) : NULL;
    if (s && s->used)
        return s;
    if (2 * (f->used_st + 1) > f->n_st && f->n_st < MW_SRTP_FAST_STREAMS) {
        mw_srtp_fast_grow(f);
        s = mw_srtp_fast_slot(f->st, f->n_st, ssrc);
    }
    if (!s)
        return NULL;
    s->used = 1;
    s->ssrc = ssrc;
    f->used_st++;
    return s;
}

/* Header length with CSRCs and extension, or 0 if malformed. */
static size_t mw_srtp_rtp_header_len(const uint8_t *b, size_t len)
{
    size_t n = 12 + 4 * (size_t)(b[0] & 0x0f);
    if ((b[0] & 0xc0) != 0x80 || n > len)
        return 0;
    if (b[0] & 0x10) {
        if (n + 4 > len)
            return 0;
        n += 4 + 4 * (size_t)((b[n + 2] << 8) | b[n + 3]);
        if (n > len)
            return 0;
    }
    return n;
}

/* RFC 7714 8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt (12 bytes). */
static void mw_srtp_gcm_iv(const mw_srtp_fast_t *f, const uint8_t *b, uint32_t roc, uint8_t *iv)
{
    const uint8_t v[12] = {0,
                           0,
                           b[8],
                           b[9],
                           b[10],
                           b[11],
                           (uint8_t)(roc >> 24),
                           (uint8_t)(roc >> 16),
                           (uint8_t)(roc >> 8),
                           (uint8_t)roc,
                           b[2],
                           b[3]};
    for (size_t i = 0; i < 12; i++)
        iv[i] = v[i] ^ f->salt[i];
}

/* RFC 3711 4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16),
 * index = ROC || SEQ. */
static void mw_srtp_cm_iv(const mw_srtp_fast_t *f, const uint8_t *b, uint32_t roc, uint8_t *iv)
{
    memset(iv, 0, 16);
    memcpy(iv, f->salt, 14);
    iv[4] ^= b[8], iv[5] ^= b[9], iv[6] ^= b[10], iv[7] ^= b[11];
    iv[8] ^= (uint8_t)(roc >> 24), iv[9] ^= (uint8_t)(roc >> 16);
    iv[10] ^= (uint8_t)(roc >> 8), iv[11] ^= (uint8_t)roc;
    iv[12] ^= b[2], iv[13] ^= b[3];
}

/* RFC 7714 8.1, 9.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt, the
 * header is the AAD, the 16-byte tag follows the ciphertext. */
static int mw_srtp_gcm_seal(mw_srtp_fast_t *f, uint8_t *b, size_t *len, size_t hl, uint32_t roc)
{
    uint8_t iv[12];
    mw_srtp_gcm_iv(f, b, roc, iv);
    int out = 0, fin = 0;
    if (EVP_EncryptInit_ex(f->aes, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(f->aes, NULL, &out, b, (int)hl) != 1 ||
        EVP_EncryptUpdate(f->aes, b + hl, &out, b + hl, (int)(*len - hl)) != 1 ||
        EVP_EncryptFinal_ex(f->aes, b + hl + out, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(f->aes, EVP_CTRL_GCM_GET_TAG, 16, b + *len) != 1)
        return -1;
    *len += 16;
    return 0;
}

/* A tag left for the next one (mw_srtp_protect_rtp_defer): its key,
 * copied (the session may be gone by then), and the message, whose last 4
 * bytes (the ROC) the tag overwrites. One per thread. */
typedef struct {
    mw_hmac_sha1_key_t key;
    uint8_t *msg;
    size_t len;
} mw_srtp_pending_t;
static __thread mw_srtp_pending_t mw_srtp_pend;

/* RFC 3711 4.2: the 80-bit tag over b[0..n) (header, payload, ROC), in
 * place of the ROC at b + n - 4. Deferred, it waits for a second tag to
 * compute both at once (hmac_sha1.h). */
static void mw_srtp_tag_rtp(const mw_srtp_fast_t *f, uint8_t *b, size_t n, int defer)
{
    mw_srtp_pending_t *p = &mw_srtp_pend;
    if (!defer) {
        mw_hmac_sha1_job_t j = {&f->auth, b, n, b + n - 4};
        mw_hmac_sha1_run(&j, 1, MW_SRTP_TAG);
    } else if (p->msg == NULL) {
        p->key = f->auth, p->msg = b, p->len = n;
    } else {
        mw_hmac_sha1_job_t j[2] = {{&p->key, p->msg, p->len, p->msg + p->len - 4},
                                   {&f->auth, b, n, b + n - 4}};
        mw_hmac_sha1_run(j, 2, MW_SRTP_TAG);
        OPENSSL_cleanse(p, sizeof(*p));
    }
}

void mw_srtp_tags_finish(void)
{
    mw_srtp_pending_t *p = &mw_srtp_pend;
    if (p->msg != NULL) {
        mw_hmac_sha1_job_t j = {&p->key, p->msg, p->len, p->msg + p->len - 4};
        mw_hmac_sha1_run(&j, 1, MW_SRTP_TAG);
        OPENSSL_cleanse(p, sizeof(*p));
    }
}

/* RFC 3711 3.3 / 4.1.1 / 4.2: encrypt the payload with AES-CM, append the
 * 80-bit HMAC-SHA1 tag over header, payload and ROC (now, or deferred).
 * Returns 0, -1 on a malformed packet, 1 when the SSRC table is full
 * (caller falls back). */
static int mw_srtp_fast_protect(mw_srtp_fast_t *f, uint8_t *b, size_t *len, int defer)
{
    size_t hl = mw_srtp_rtp_header_len(b, *len);
    if (hl == 0)
        return -1;
    uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
    uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
    mw_srtp_fast_stream_t *s = mw_srtp_fast_stream(f, ssrc);
    if (!s)
        return 1;
    /* RFC 3711 3.3.1: the sender's ROC counts wraps of SEQ; a late packet
     * from before the last wrap keeps the previous ROC. */
    uint32_t roc = s->roc;
    if (s->used == 1) {
        s->used = 2;
        s->last_seq = seq;
    } else {
        int16_t d = (int16_t)(seq - s->last_seq);
        if (d > 0) {
            if (seq < s->last_seq)
                s->roc++;
            roc = s->roc;
            s->last_seq = seq;
        } else if (seq > s->last_seq && s->roc > 0) {
            roc = s->roc - 1;
        }
        /* As libsrtp2: a packet further back than the replay window is
         * refused (the receiver would drop it as replay_old anyway). */
        uint64_t cur = (uint64_t)s->roc << 16 | s->last_seq, idx = (uint64_t)roc << 16 | seq;
        if (idx < cur && cur - idx >= MW_SRTP_WINDOW)
            return -1;
    }
    if (f->gcm)
        return mw_srtp_gcm_seal(f, b, len, hl, roc);
    uint8_t iv[16];
    mw_srtp_cm_iv(f, b, roc, iv);
    int out = 0;
    if (EVP_EncryptInit_ex(f->aes, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(f->aes, b + hl, &out, b + hl, (int)(*len - hl)) != 1)
        return -1;
    /* The ROC goes after the packet (in the trailer room) and the tag over it. */
    uint8_t *r = b + *len;
    r[0] = (uint8_t)(roc >> 24), r[1] = (uint8_t)(roc >> 16), r[2] = (uint8_t)(roc >> 8);
    r[3] = (uint8_t)roc;
    mw_srtp_tag_rtp(f, b, *len + 4, defer);
    *len += MW_SRTP_TAG;
    return 0;
}

/* RFC 3711 3.3.2 replay window of nbits behind the highest index: 1 if
 * idx (not above highest) is too old or was accepted already. */
static int mw_srtp_replayed(const uint64_t *bits, size_t nbits, uint64_t highest, uint64_t idx)
{
    uint64_t d = highest - idx;
    return d >= nbits || (bits[d / 64] >> (d % 64) & 1);
}

/* Marks an authenticated idx in the window: shifts it when idx is the new
 * highest (*highest is updated), else sets idx's bit. */
static void mw_srtp_window_accept(uint64_t *bits, size_t nbits, uint64_t *highest, uint64_t idx)
{
    if (idx > *highest) {
        uint64_t sh = idx - *highest;
        if (sh >= nbits) {
            memset(bits, 0, nbits / 8);
        } else {
            size_t w = (size_t)(sh / 64), r = (size_t)(sh % 64), n = nbits / 64;
            for (size_t i = n; i-- > 0;) {
                uint64_t v = i >= w ? bits[i - w] << r : 0;
                if (r && i >= w + 1)
                    v |= bits[i - w - 1] >> (64 - r);
                bits[i] = v;
            }
        }
        bits[0] |= 1;
        *highest = idx;
    } else {
        uint64_t d = *highest - idx;
        bits[d / 64] |= 1ull << (d % 64);
    }
}

/* RFC 3711 3.3.1 / A: the index of seq given the highest index so far. */
static uint64_t mw_srtp_guess_index(uint64_t highest, uint16_t seq)
{
    uint32_t roc = (uint32_t)(highest >> 16), v = roc;
    uint16_t sl = (uint16_t)highest;
    if (sl < 32768) {
        if (seq > 32768u + sl && roc > 0)
            v = roc - 1;
    } else if ((uint32_t)sl - 32768u > seq) {
        v = roc + 1;
    }
    return (uint64_t)v << 16 | seq;
}

/* RFC 7714 9.1 / 8.1: AEAD_AES_128_GCM open in place; the tag is checked
 * by EVP_CipherFinal_ex (a failed packet's bytes are garbage, and dropped). */
static int mw_srtp_gcm_open(mw_srtp_fast_t *f, uint8_t *b, size_t plen, size_t hl, uint32_t roc)
{
    uint8_t iv[12];
    mw_srtp_gcm_iv(f, b, roc, iv);
    int out = 0, fin = 0;
    if (EVP_CipherInit_ex(f->aes, NULL, NULL, NULL, iv, 0) != 1 ||
        EVP_CipherUpdate(f->aes, NULL, &out, b, (int)hl) != 1 ||
        EVP_CipherUpdate(f->aes, b + hl, &out, b + hl, (int)(plen - hl)) != 1 ||
        EVP_CIPHER_CTX_ctrl(f->aes, EVP_CTRL_GCM_SET_TAG, 16, b + plen) != 1 ||
        EVP_CipherFinal_ex(f->aes, b + hl + out, &fin) != 1)
        return -1;
    return 0;
}

/* RFC 3711 3.3 / 3.3.2 / 4.2 (and RFC 7714 for GCM): verify, replay check
 * and decrypt in place, as mw_srtp_fast_protect's inverse. Returns 0, -1
 * (malformed, auth failure, replay), or 1 when the SSRC table is full
 * (caller falls back to libsrtp2). */
static int mw_srtp_fast_unprotect(mw_srtp_fast_t *f, uint8_t *b, size_t *len)
{
    size_t tag = f->gcm ? 16 : MW_SRTP_TAG;
    if (*len < 12 + tag)
        return -1;
    size_t plen = *len - tag, hl = mw_srtp_rtp_header_len(b, plen);
    if (hl == 0)
        return -1;
    uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
    uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
    mw_srtp_rx_stream_t *s = NULL;
    for (size_t i = 0; i < MW_SRTP_RX_STREAMS && !s; i++)
        if (f->rx[i].used && f->rx[i].ssrc == ssrc)
            s = &f->rx[i];
    uint64_t idx = seq; /* a new SSRC starts with ROC 0, as libsrtp2 */
    size_t fi = 0;
    if (s) {
        idx = mw_srtp_guess_index(s->highest, seq);
        if (idx <= s->highest) {
            if (mw_srtp_replayed(s->bits, MW_SRTP_WINDOW, s->highest, idx))
                return -1; /* RFC 3711 3.3.2: too old or a replay */
        }
    } else {
        while (fi < MW_SRTP_RX_STREAMS && f->rx[fi].used)
            fi++;
        if (fi == MW_SRTP_RX_STREAMS)
            return 1;
    }
    uint32_t roc = (uint32_t)(idx >> 16);
    if (f->gcm) {
        if (mw_srtp_gcm_open(f, b, plen, hl, roc) < 0)
            return -1;
        goto accepted;
    }
    uint8_t rocb[4] = {(uint8_t)(roc >> 24), (uint8_t)(roc >> 16), (uint8_t)(roc >> 8),
                       (uint8_t)roc};
    uint8_t md[20];
    mw_hmac_sha1_two(&f->auth, b, plen, rocb, 4, md);
    if (CRYPTO_memcmp(md, b + plen, MW_SRTP_TAG) != 0)
        return -1;
    uint8_t iv[16];
    mw_srtp_cm_iv(f, b, roc, iv);
    int out = 0;
    if (EVP_EncryptInit_ex(f->aes, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(f->aes, b + hl, &out, b + hl, (int)(plen - hl)) != 1)
        return -1;
accepted:
    /* Authenticated: only now does the packet move the window. */
    if (!s) {
        s = &f->rx[fi];
        memset(s, 0, sizeof(*s));
        s->used = 1;
        s->ssrc = ssrc;
        s->highest = idx;
        s->bits[0] = 1;
    } else {
        mw_srtp_window_accept(s->bits, MW_SRTP_WINDOW, &s->highest, idx);
    }
    *len = plen;
    return 0;
}

static uint32_t mw_srtp_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RFC 7714 9.1: IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR
 * salt (12 bytes). */
static void mw_srtcp_gcm_iv(const mw_srtp_fast_t *f, const uint8_t *b, uint32_t idx, uint8_t *iv)
{
    const uint8_t v[12] = {0,
                           0,
                           b[4],
                           b[5],
                           b[6],
                           b[7],
                           0,
                           0,
                           (uint8_t)(idx >> 24),
                           (uint8_t)(idx >> 16),
                           (uint8_t)(idx >> 8),
                           (uint8_t)idx};
    for (size_t i = 0; i < 12; i++)
        iv[i] = v[i] ^ f->c_salt[i];
}

/* RFC 3711 4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16),
 * with the 31-bit SRTCP index as the packet index. */
static void mw_srtcp_cm_iv(const mw_srtp_fast_t *f, const uint8_t *b, uint32_t idx, uint8_t *iv)
{
    memset(iv, 0, 16);
    memcpy(iv, f->c_salt, 14);
    iv[4] ^= b[4], iv[5] ^= b[5], iv[6] ^= b[6], iv[7] ^= b[7];
    iv[10] ^= (uint8_t)(idx >> 24), iv[11] ^= (uint8_t)(idx >> 16);
    iv[12] ^= (uint8_t)(idx >> 8), iv[13] ^= (uint8_t)idx;
}

/* HMAC-SHA1 of b[0..n) with the SRTCP auth key. */
static void mw_srtcp_hmac(const mw_srtp_fast_t *f, const uint8_t *b, size_t n, uint8_t *md)
{
    mw_hmac_sha1_two(&f->c_auth, b, n, NULL, 0, md);
}

/* RFC 3711 3.4 (AES-CM + HMAC-SHA1-80) and RFC 7714 9 (GCM): SRTCP in
 * place. Everything after the first 8 bytes is encrypted and the E flag
 * with a 31-bit SRTCP index follows: AES-CM appends index word then an
 * 80-bit HMAC over all of it; GCM appends the 16-byte tag (AAD: the first
 * 8 bytes and the index word) then the index word. One index counts for
 * every SSRC of the session (per SSRC it only has to grow). Returns 0 or
 * -1. */
static int mw_srtcp_fast_protect(mw_srtp_fast_t *f, uint8_t *b, size_t *len)
{
    size_t n = *len;
    if (n < 8 || f->c_index > 0x7fffffffu)
        return -1; /* RFC 3711 3.3.1: a session must be re-keyed first */
    uint32_t idx = f->c_index++;
    uint8_t w[4] = {(uint8_t)(0x80 | idx >> 24), (uint8_t)(idx >> 16), (uint8_t)(idx >> 8),
                    (uint8_t)idx};
    int out = 0, fin = 0;
    if (f->gcm) {
        uint8_t iv[12];
        mw_srtcp_gcm_iv(f, b, idx, iv);
        if (EVP_EncryptInit_ex(f->c_aes, NULL, NULL, NULL, iv) != 1 ||
            EVP_EncryptUpdate(f->c_aes, NULL, &out, b, 8) != 1 ||
            EVP_EncryptUpdate(f->c_aes, NULL, &out, w, 4) != 1 ||
            EVP_EncryptUpdate(f->c_aes, b + 8, &out, b + 8, (int)(n - 8)) != 1 ||
            EVP_EncryptFinal_ex(f->c_aes, b + 8 + out, &fin) != 1 ||
            EVP_CIPHER_CTX_ctrl(f->c_aes, EVP_CTRL_GCM_GET_TAG, 16, b + n) != 1)
            return -1;
        memcpy(b + n + 16, w, 4);
        *len = n + 20;
        return 0;
    }
    uint8_t iv[16], md[20];
    mw_srtcp_cm_iv(f, b, idx, iv);
    if (EVP_EncryptInit_ex(f->c_aes, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(f->c_aes, b + 8, &out, b + 8, (int)(n - 8)) != 1)
        return -1;
    memcpy(b + n, w, 4);
    mw_srtcp_hmac(f, b, n + 4, md);
    memcpy(b + n + 4, md, MW_SRTP_TAG);
    *len = n + 4 + MW_SRTP_TAG;
    return 0;
}

/* Verifies, replay-checks (RFC 3711 3.3.2, window MW_SRTCP_WINDOW per
 * SSRC) and decrypts an SRTCP packet in place: mw_srtcp_fast_protect's
 * inverse, also for E = 0 (authenticated only). Returns 0, -1 (malformed,
 * auth failure, replay), or 1 when the SSRC table is full (the caller falls
 * back to libsrtp2). */
static int mw_srtcp_fast_unprotect(mw_srtp_fast_t *f, uint8_t *b, size_t *len)
{
    size_t tag = f->gcm ? 16 : MW_SRTP_TAG, n = *len;
    if (n < 8 + 4 + tag)
        return -1;
    /* The index word: last for GCM, before the tag for AES-CM. */
    const uint8_t *w = f->gcm ? b + n - 4 : b + n - tag - 4;
    size_t body = n - tag - 4; /* header + (cipher)text */
    uint32_t word = mw_srtp_rd32(w), idx = word & 0x7fffffffu;
    int enc = (int)(word >> 31);
    uint32_t ssrc = mw_srtp_rd32(b + 4);
    mw_srtcp_rx_stream_t *s = NULL;
    size_t fi = 0;
    for (size_t i = 0; i < MW_SRTP_RX_STREAMS && !s; i++)
        if (f->crx[i].used && f->crx[i].ssrc == ssrc)
            s = &f->crx[i];
    if (s && idx <= s->highest) {
        if (mw_srtp_replayed(s->bits, MW_SRTCP_WINDOW, s->highest, idx))
            return -1;
    } else if (!s) {
        while (fi < MW_SRTP_RX_STREAMS && f->crx[fi].used)
            fi++;
        if (fi == MW_SRTP_RX_STREAMS)
            return 1;
    }
    int out = 0, fin = 0;
    if (f->gcm) {
        uint8_t iv[12], wc[4];
        memcpy(wc, w, 4);
        mw_srtcp_gcm_iv(f, b, idx, iv);
        size_t aad = enc ? 8 : body;
        if (EVP_CipherInit_ex(f->c_aes, NULL, NULL, NULL, iv, 0) != 1 ||
            EVP_CipherUpdate(f->c_aes, NULL, &out, b, (int)aad) != 1 ||
            EVP_CipherUpdate(f->c_aes, NULL, &out, wc, 4) != 1 ||
            (enc && EVP_CipherUpdate(f->c_aes, b + 8, &out, b + 8, (int)(body - 8)) != 1) ||
            EVP_CIPHER_CTX_ctrl(f->c_aes, EVP_CTRL_GCM_SET_TAG, 16, b + body) != 1 ||
            EVP_CipherFinal_ex(f->c_aes, b + body, &fin) != 1)
            return -1;
    } else {
        uint8_t md[20], iv[16];
        mw_srtcp_hmac(f, b, body + 4, md);
        if (CRYPTO_memcmp(md, b + body + 4, MW_SRTP_TAG) != 0)
            return -1;
        mw_srtcp_cm_iv(f, b, idx, iv);
        if (enc && (EVP_EncryptInit_ex(f->c_aes, NULL, NULL, NULL, iv) != 1 ||
                    EVP_EncryptUpdate(f->c_aes, b + 8, &out, b + 8, (int)(body - 8)) != 1))
            return -1;
    }
    /* Authenticated: only now does the packet move the window. */
    if (!s) {
        s = &f->crx[fi];
        memset(s, 0, sizeof(*s));
        s->used = 1;
        s->ssrc = ssrc;
        s->highest = idx;
        s->bits[0] = 1;
    } else {
        uint64_t hi = s->highest;
        mw_srtp_window_accept(s->bits, MW_SRTCP_WINDOW, &hi, idx);
        s->highest = (uint32_t)hi;
    }
    *len = body;
    return 0;
}

/* Creates both sessions; with the native transforms, libsrtp2's only when
 * first needed (an SSRC table full), not per peer up front. */
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
    if (mw_srtp_native) {
        int gcm = keys->profile == MW_SRTP_AEAD_AES_128_GCM;
        s->fast = mw_srtp_fast_new(keys->local, gcm, 0);
        s->fast_in = mw_srtp_fast_new(keys->remote, gcm, 1);
        if (s->fast && s->fast_in) {
            /* libsrtp2 (about 45 kB per peer through NSS) only on demand. */
            s->keys = *keys;
            s->ready = 1;
            return 0;
        }
        mw_srtp_fast_free(s->fast);
        mw_srtp_fast_free(s->fast_in);
        s->fast = s->fast_in = NULL;
    }
    in = mw_srtp_create(keys->profile, keys->remote, 1);
    if (!in)
        goto fail;
    out = mw_srtp_create(keys->profile, keys->local, 0);
    if (!out)
        goto fail;
    s->in = in;
    s->out = out;
    s->ready = 1;
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
    mw_srtp_fast_free(s->fast);
    mw_srtp_fast_free(s->fast_in);
    s->in = s->out = NULL;
    s->fast = s->fast_in = NULL;
    OPENSSL_cleanse(&s->keys, sizeof(s->keys));
    s->ready = 0;
}

/* The libsrtp2 session of a direction, created from the kept keys when the
 * native transforms first need it. NULL if it cannot be made. */
static srtp_t mw_srtp_lib(mw_srtp_t *s, int inbound)
{
    void **slot = inbound ? &s->in : &s->out;
    if (*slot == NULL && s->ready)
        *slot = mw_srtp_create(s->keys.profile, inbound ? s->keys.remote : s->keys.local, inbound);
    return *slot;
}

void mw_srtp_prefetch(const mw_srtp_t *s, int stage)
{
    const mw_srtp_fast_t *f = s->fast;
    if (f == NULL)
        return;
    if (stage == 0) {
        __builtin_prefetch(&f->aes);
        __builtin_prefetch(&f->auth);
        __builtin_prefetch(&f->st);
    } else {
        if (f->st != NULL)
            __builtin_prefetch(f->st);
        __builtin_prefetch(f->aes);
    }
}

/* Protects an RTP packet in place, its tag now or deferred. */
static int mw_srtp_protect(mw_srtp_t *s, uint8_t *buf, size_t *len, int defer)
{
    int n;

    if (!s->ready || *len < 12 || *len > INT_MAX - MW_SRTP_TRAILER_ROOM)
        return -1;
    if (s->fast) {
        int rv = mw_srtp_fast_protect(s->fast, buf, len, defer);
        if (rv <= 0)
            return rv;
    }
    n = (int)*len;
    if (!mw_srtp_lib(s, 0) || srtp_protect((srtp_t)s->out, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

int mw_srtp_protect_rtp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    return mw_srtp_protect(s, buf, len, 0);
}

int mw_srtp_protect_rtp_defer(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    return mw_srtp_protect(s, buf, len, 1);
}

/* Protects an RTCP packet in place. */
int mw_srtp_protect_rtcp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    int n;

    if (!s->ready || *len < 8 || *len > INT_MAX - MW_SRTP_TRAILER_ROOM)
        return -1;
    if (s->fast)
        return mw_srtcp_fast_protect(s->fast, buf, len);
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

    if (!s->ready || *len < 12 || *len > INT_MAX)
        return -1;
    if (s->fast_in) {
        int rv = mw_srtp_fast_unprotect(s->fast_in, buf, len);
        if (rv <= 0)
            return rv;
    }
    n = (int)*len;
    if (!mw_srtp_lib(s, 1) || srtp_unprotect((srtp_t)s->in, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}

/* Verifies and decrypts an SRTCP packet in place. */
int mw_srtp_unprotect_rtcp(mw_srtp_t *s, uint8_t *buf, size_t *len)
{
    int n;

    if (!s->ready || *len < 8 || *len > INT_MAX)
        return -1;
    if (s->fast_in) {
        int rv = mw_srtcp_fast_unprotect(s->fast_in, buf, len);
        if (rv <= 0)
            return rv;
    }
    n = (int)*len;
    if (!mw_srtp_lib(s, 1) || srtp_unprotect_rtcp((srtp_t)s->in, buf, &n) != srtp_err_status_ok)
        return -1;
    *len = (size_t)n;
    return 0;
}
