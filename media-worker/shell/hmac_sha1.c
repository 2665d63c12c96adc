/* hmac_sha1: HMAC-SHA1 over many messages, two SHA-1 streams interleaved
 * with the SHA extensions. See hmac_sha1.h. */
#include "media-worker/shell/hmac_sha1.h"

#include <string.h>

/* The SHA_CTX fields (to read and resume a keyed state) are OpenSSL's
 * low-level SHA-1: deprecated in OpenSSL 3 but kept. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define MW_HS_X86 1
#endif

#define MW_HS_BLOCK 64

static int mw_hs_portable;

void mw_hmac_sha1_force_portable(int on)
{
    __atomic_store_n(&mw_hs_portable, on, __ATOMIC_RELAXED);
}

#ifdef MW_HS_X86
#define MW_HS_TARGET __attribute__((target("sha,ssse3,sse4.1")))

/* CPUID leaf 7: EBX bit 29 is the SHA extensions; leaf 1: SSSE3 (ECX 9)
 * and SSE4.1 (ECX 19). */
static int mw_hs_cpu_has_sha(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 29) & 1;
}

/* Four rounds (group g of 20, round function f) for each of K streams.
 * w[j] holds the last four message words groups in a ring: W(g) replaces
 * W(g - 4) in slot g & 3 (FIPS 180-4 6.1.2: W(t) = ROTL1(W(t-3) ^ W(t-8)
 * ^ W(t-14) ^ W(t-16)), as SHA1MSG1 / XOR / SHA1MSG2). E for a group is
 * ROTL30 of A four rounds back, which SHA1NEXTE adds to the group's first
 * word; the first group adds the block's E directly. */
#define MW_HS_GROUP(g, f)                                                                          \
    for (int j = 0; j < K; j++) {                                                                  \
        if ((g) < 4)                                                                               \
            w[j][(g)&3] =                                                                          \
                _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p[j] + 16 * ((g)&3))), bswap);  \
        else                                                                                       \
            w[j][(g)&3] = _mm_sha1msg2_epu32(                                                      \
                _mm_xor_si128(_mm_sha1msg1_epu32(w[j][(g)&3], w[j][((g) + 1) & 3]),                \
                              w[j][((g) + 2) & 3]),                                                \
                w[j][((g) + 3) & 3]);                                                              \
        __m128i x =                                                                                \
            (g) == 0 ? _mm_add_epi32(e[j], w[j][0]) : _mm_sha1nexte_epu32(prev[j], w[j][(g)&3]);   \
        prev[j] = abcd[j];                                                                         \
        abcd[j] = _mm_sha1rnds4_epu32(abcd[j], x, (f));                                            \
    }

/* nblk blocks of each of K streams: st[j] (A..E) over p[j]. The streams'
 * rounds are independent, so the core overlaps them. */
static inline __attribute__((always_inline)) MW_HS_TARGET void
mw_hs_blocks_ni(const int K, uint32_t *const st[], const uint8_t *const src[], size_t nblk)
{
    const __m128i bswap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m128i abcd[2], e[2], prev[2], w[2][4], abcd0[2], e0[2];
    const uint8_t *p[2];

    for (int j = 0; j < K; j++) {
        /* A in the high lane, D in the low one; E in the high lane. */
        abcd[j] = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st[j]), 0x1b);
        e[j] = _mm_set_epi32((int)st[j][4], 0, 0, 0);
        p[j] = src[j];
    }
    for (size_t b = 0; b < nblk; b++) {
        for (int j = 0; j < K; j++)
            abcd0[j] = abcd[j], e0[j] = e[j];
        MW_HS_GROUP(0, 0)
        MW_HS_GROUP(1, 0)
        MW_HS_GROUP(2, 0)
        MW_HS_GROUP(3, 0)
        MW_HS_GROUP(4, 0)
        MW_HS_GROUP(5, 1)
        MW_HS_GROUP(6, 1)
        MW_HS_GROUP(7, 1)
        MW_HS_GROUP(8, 1)
        MW_HS_GROUP(9, 1)
        MW_HS_GROUP(10, 2)
        MW_HS_GROUP(11, 2)
        MW_HS_GROUP(12, 2)
        MW_HS_GROUP(13, 2)
        MW_HS_GROUP(14, 2)
        MW_HS_GROUP(15, 3)
        MW_HS_GROUP(16, 3)
        MW_HS_GROUP(17, 3)
        MW_HS_GROUP(18, 3)
        MW_HS_GROUP(19, 3)
        for (int j = 0; j < K; j++) {
            /* E after 80 rounds is ROTL30 of A before the last group. */
            e[j] = _mm_sha1nexte_epu32(prev[j], e0[j]);
            abcd[j] = _mm_add_epi32(abcd[j], abcd0[j]);
            p[j] += MW_HS_BLOCK;
        }
    }
    for (int j = 0; j < K; j++) {
        _mm_storeu_si128((__m128i *)st[j], _mm_shuffle_epi32(abcd[j], 0x1b));
        st[j][4] = (uint32_t)_mm_extract_epi32(e[j], 3);
    }
}

static MW_HS_TARGET void mw_hs_blocks_ni1(uint32_t st[5], const uint8_t *p, size_t nblk)
{
    uint32_t *s[1] = {st};
    const uint8_t *q[1] = {p};
    mw_hs_blocks_ni(1, s, q, nblk);
}

static MW_HS_TARGET void mw_hs_blocks_ni2(uint32_t *a, const uint8_t *pa, uint32_t *b,
                                          const uint8_t *pb, size_t nblk)
{
    uint32_t *s[2] = {a, b};
    const uint8_t *q[2] = {pa, pb};
    mw_hs_blocks_ni(2, s, q, nblk);
}

/* One stream: a state and the blocks still to absorb, first from the
 * message itself, then from its padded tail. */
typedef struct {
    uint32_t st[5];
    const uint8_t *p; /* next block */
    size_t n;         /* blocks left at p */
    int in_tail;      /* p is in tail */
    size_t ntail;     /* tail blocks */
    uint8_t tail[2 * MW_HS_BLOCK];
} mw_hs_stream_t;

/* FIPS 180-4 5.1.1: the message's last partial block, 0x80, zeros and the
 * bit length (of everything hashed, prefix included) in the last 8 bytes. */
static void mw_hs_start(mw_hs_stream_t *s, const uint32_t st[5], const uint8_t *msg, size_t len,
                        uint64_t prefix)
{
    size_t full = len / MW_HS_BLOCK, rest = len % MW_HS_BLOCK;
    uint64_t bits = (prefix + len) * 8;

    memcpy(s->st, st, sizeof(s->st));
    s->ntail = rest + 9 > MW_HS_BLOCK ? 2 : 1;
    memset(s->tail, 0, s->ntail * MW_HS_BLOCK);
    if (rest)
        memcpy(s->tail, msg + full * MW_HS_BLOCK, rest);
    s->tail[rest] = 0x80;
    for (int i = 0; i < 8; i++)
        s->tail[s->ntail * MW_HS_BLOCK - 1 - i] = (uint8_t)(bits >> (8 * i));
    s->p = msg, s->n = full, s->in_tail = 0;
    if (s->n == 0)
        s->p = s->tail, s->n = s->ntail, s->in_tail = 1;
}

/* Moves past k blocks; 0 once the stream has none left. */
static int mw_hs_advance(mw_hs_stream_t *s, size_t k)
{
    s->p += k * MW_HS_BLOCK;
    s->n -= k;
    if (s->n == 0 && !s->in_tail)
        s->p = s->tail, s->n = s->ntail, s->in_tail = 1;
    return s->n > 0;
}

/* Absorbs the remaining blocks of two streams, interleaved while both
 * have some (copies of one packet differ by a few bytes at most). */
static void mw_hs_drain(mw_hs_stream_t *a, mw_hs_stream_t *b)
{
    int ma = 1, mb = 1;
    while (ma && mb) {
        size_t k = a->n < b->n ? a->n : b->n;
        mw_hs_blocks_ni2(a->st, a->p, b->st, b->p, k);
        ma = mw_hs_advance(a, k);
        mb = mw_hs_advance(b, k);
    }
    /* At most one has blocks left. */
    mw_hs_stream_t *s = ma ? a : b;
    for (int more = ma || mb; more; more = mw_hs_advance(s, s->n))
        mw_hs_blocks_ni1(s->st, s->p, s->n);
}

static void mw_hs_digest(const uint32_t st[5], uint8_t out[20])
{
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (uint8_t)(st[i] >> 24);
        out[4 * i + 1] = (uint8_t)(st[i] >> 16);
        out[4 * i + 2] = (uint8_t)(st[i] >> 8);
        out[4 * i + 3] = (uint8_t)st[i];
    }
}

/* RFC 2104 for two jobs at once: both inner hashes, then both outer. */
static void mw_hs_pair(const mw_hmac_sha1_job_t *j[2], size_t tag_len)
{
    mw_hs_stream_t s[2];
    uint8_t md[2][20];

    for (int i = 0; i < 2; i++)
        mw_hs_start(&s[i], j[i]->key->in, j[i]->msg, j[i]->len, MW_HS_BLOCK);
    mw_hs_drain(&s[0], &s[1]);
    for (int i = 0; i < 2; i++) {
        mw_hs_digest(s[i].st, md[i]);
        mw_hs_start(&s[i], j[i]->key->out, md[i], sizeof(md[i]), MW_HS_BLOCK);
    }
    mw_hs_drain(&s[0], &s[1]);
    for (int i = 0; i < 2; i++) {
        mw_hs_digest(s[i].st, md[i]);
        memcpy(j[i]->tag, md[i], tag_len);
    }
    OPENSSL_cleanse(s, sizeof(s));
    OPENSSL_cleanse(md, sizeof(md));
}
#endif

/* -1 not probed yet, 0 OpenSSL's SHA-1, 1 the SHA extensions. */
static int mw_hs_ni = -1;

int mw_hmac_sha1_accelerated(void)
{
    int ni = __atomic_load_n(&mw_hs_ni, __ATOMIC_RELAXED);
    if (ni < 0) {
#ifdef MW_HS_X86
        ni = mw_hs_cpu_has_sha();
#else
        ni = 0;
#endif
        __atomic_store_n(&mw_hs_ni, ni, __ATOMIC_RELAXED);
    }
    return ni && !__atomic_load_n(&mw_hs_portable, __ATOMIC_RELAXED);
}

/* OpenSSL's SHA-1 context resumed from a state after k 64-byte blocks. */
static void mw_hs_ctx(SHA_CTX *c, const uint32_t st[5], unsigned k)
{
    memset(c, 0, sizeof(*c));
    c->h0 = st[0], c->h1 = st[1], c->h2 = st[2], c->h3 = st[3], c->h4 = st[4];
    c->Nl = 512u * k;
}

void mw_hmac_sha1_two(const mw_hmac_sha1_key_t *k, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, uint8_t md[20])
{
    SHA_CTX c;
    mw_hs_ctx(&c, k->in, 1);
    SHA1_Update(&c, a, alen);
    if (blen)
        SHA1_Update(&c, b, blen);
    SHA1_Final(md, &c);
    mw_hs_ctx(&c, k->out, 1);
    SHA1_Update(&c, md, 20);
    SHA1_Final(md, &c);
    OPENSSL_cleanse(&c, sizeof(c));
}

void mw_hmac_sha1_run(const mw_hmac_sha1_job_t *jobs, size_t n, size_t tag_len)
{
    size_t i = 0;
    uint8_t md[20];

    if (tag_len > 20)
        tag_len = 20;
#ifdef MW_HS_X86
    if (mw_hmac_sha1_accelerated())
        for (; i + 1 < n; i += 2) {
            const mw_hmac_sha1_job_t *j[2] = {&jobs[i], &jobs[i + 1]};
            mw_hs_pair(j, tag_len);
        }
#endif
    /* Alone (or without the SHA extensions), OpenSSL's own SHA-1 is as
     * fast as one stream of ours. */
    for (; i < n; i++) {
        mw_hmac_sha1_two(jobs[i].key, jobs[i].msg, jobs[i].len, NULL, 0, md);
        memcpy(jobs[i].tag, md, tag_len);
    }
    OPENSSL_cleanse(md, sizeof(md));
}

/* RFC 2104: the SHA-1 state after the block key ^ fill (0x36 ipad, 0x5c
 * opad), the key zero-padded to a block. */
static void mw_hs_pad_state(uint32_t st[5], const uint8_t *key, size_t len, uint8_t fill)
{
    uint8_t pad[MW_HS_BLOCK];
    SHA_CTX c;

    memset(pad, fill, sizeof(pad));
    for (size_t i = 0; i < len; i++)
        pad[i] ^= key[i];
    SHA1_Init(&c);
    SHA1_Update(&c, pad, sizeof(pad));
    st[0] = c.h0, st[1] = c.h1, st[2] = c.h2, st[3] = c.h3, st[4] = c.h4;
    OPENSSL_cleanse(pad, sizeof(pad));
    OPENSSL_cleanse(&c, sizeof(c));
}

void mw_hmac_sha1_key(mw_hmac_sha1_key_t *k, const uint8_t *key, size_t len)
{
    if (len > MW_HS_BLOCK)
        len = MW_HS_BLOCK;
    mw_hs_pad_state(k->in, key, len, 0x36);
    mw_hs_pad_state(k->out, key, len, 0x5c);
}
