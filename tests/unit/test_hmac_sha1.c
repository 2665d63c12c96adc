/* test_hmac_sha1: the interleaved HMAC-SHA1 (media-worker/shell/hmac_sha1.c)
 * against RFC 2202's vectors and against OpenSSL's HMAC on random keys and
 * messages of every length class, in pairs of unequal lengths, with the
 * SHA-extensions path and the portable one. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media-worker/shell/hmac_sha1.h"
#include "tests/unit/vctest.h"

static int th_hex(const char *h, uint8_t *out)
{
    int n = 0;
    for (; h[0] && h[1]; h += 2)
        out[n++] = (uint8_t)strtol((char[]){h[0], h[1], 0}, NULL, 16);
    return n;
}

/* RFC 2202 section 3, cases 1-5 (keys of at most 64 bytes). */
static void th_rfc2202(void)
{
    static const struct {
        const char *key, *data, *digest;
    } v[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b617318655057264e28bc0b6fb378c8ef146be00"},
        {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
         "dddddddddddddddddddddd",
         "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
        {"0102030405060708090a0b0c0d0e0f10111213141516171819",
         "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
         "cdcdcdcdcdcdcdcdcdcdcd",
         "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
        {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "546573742057697468205472756e636174696f6e",
         "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
    };
    for (int portable = 0; portable < 2; portable++) {
        mw_hmac_sha1_force_portable(portable);
        mw_hmac_sha1_key_t k[5];
        mw_hmac_sha1_job_t jobs[5];
        uint8_t key[5][64], data[5][128], want[5][20], tag[5][20];
        for (int i = 0; i < 5; i++) {
            int kl = th_hex(v[i].key, key[i]), dl = th_hex(v[i].data, data[i]);
            th_hex(v[i].digest, want[i]);
            mw_hmac_sha1_key(&k[i], key[i], (size_t)kl);
            jobs[i] = (mw_hmac_sha1_job_t){&k[i], data[i], (size_t)dl, tag[i]};
        }
        mw_hmac_sha1_run(jobs, 5, 20);
        for (int i = 0; i < 5; i++)
            VCT_CHECK(memcmp(tag[i], want[i], 20) == 0);
        /* One at a time gives the same. */
        for (int i = 0; i < 5; i++) {
            memset(tag[i], 0, 20);
            mw_hmac_sha1_run(&jobs[i], 1, 20);
            VCT_CHECK(memcmp(tag[i], want[i], 20) == 0);
        }
    }
    mw_hmac_sha1_force_portable(0);
}

/* xorshift64*: deterministic bytes. */
static uint64_t th_rng = 0x9e3779b97f4a7c15ull;
static uint8_t th_byte(void)
{
    th_rng ^= th_rng >> 12, th_rng ^= th_rng << 25, th_rng ^= th_rng >> 27;
    return (uint8_t)((th_rng * 2685821657736338717ull) >> 56);
}

/* Every length from 0 to 300 and random ones up to 1500, in batches of 1
 * to 7 jobs (odd counts leave one single), keys of 1 to 64 bytes, against
 * OpenSSL's HMAC; tags of 10 bytes (SRTP's) and 20. */
static void th_random(void)
{
    enum { N = 7, MAX = 1500 };
    static uint8_t msg[N][MAX + 20];
    uint8_t key[N][64], want[N][20], tag[N][20];
    size_t klen[N], mlen[N];
    mw_hmac_sha1_key_t k[N];
    mw_hmac_sha1_job_t jobs[N];
    int bad = 0, runs = 0;

    for (int portable = 0; portable < 2; portable++) {
        mw_hmac_sha1_force_portable(portable);
        for (int round = 0; round < 600; round++) {
            size_t n = 1 + (size_t)round % N, tl = round % 3 ? 10 : 20;
            for (size_t i = 0; i < n; i++) {
                klen[i] = 1 + th_byte() % 64;
                mlen[i] = round < 301 ? (size_t)round + i * (th_byte() % 3)
                                      : (size_t)((th_byte() << 8 | th_byte()) % (MAX + 1));
                if (mlen[i] > MAX)
                    mlen[i] = MAX;
                for (size_t b = 0; b < klen[i]; b++)
                    key[i][b] = th_byte();
                for (size_t b = 0; b < mlen[i]; b++)
                    msg[i][b] = th_byte();
                unsigned wl = 0;
                HMAC(EVP_sha1(), key[i], (int)klen[i], msg[i], mlen[i], want[i], &wl);
                mw_hmac_sha1_key(&k[i], key[i], klen[i]);
                /* The tag lands right after the message, as SRTP's does. */
                jobs[i] = (mw_hmac_sha1_job_t){&k[i], msg[i], mlen[i], msg[i] + mlen[i]};
            }
            mw_hmac_sha1_run(jobs, n, tl);
            for (size_t i = 0; i < n; i++) {
                memcpy(tag[i], msg[i] + mlen[i], tl);
                if (memcmp(tag[i], want[i], tl) != 0) {
                    if (bad++ < 5)
                        fprintf(stderr, "  mismatch: portable %d, round %d, job %zu, len %zu\n",
                                portable, round, i, mlen[i]);
                }
                runs++;
            }
        }
    }
    mw_hmac_sha1_force_portable(0);
    VCT_CHECK_EQ_INT(bad, 0);
    VCT_CHECK(runs > 2000);
    printf("# %d tags checked; SHA extensions %s\n", runs,
           mw_hmac_sha1_accelerated() ? "used" : "absent (portable path only)");
}

static const vct_case_t cases[] = {
    {"rfc2202", th_rfc2202},
    {"random_against_openssl", th_random},
};

VCT_MAIN("hmac_sha1", cases)
