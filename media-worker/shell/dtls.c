/* dtls: DTLS-SRTP endpoints over a memory datagram BIO (OpenSSL 3), and the
 * worker's certificate. See dtls.h. */
#include "media-worker/shell/dtls.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/util.h"

#define MW_DTLS_CERT_DAYS 30
#define MW_DTLS_READ_BUF 2048
/* RFC 5764 4.2: the exporter label for DTLS-SRTP. */
#define MW_DTLS_EXPORTER_LABEL "EXTRACTOR-dtls_srtp"
/* The size of OpenSSL's handshake message buffer: BUF_MEM_grow(init_buf,
 * SSL3_RT_MAX_PLAIN_LENGTH) allocates a third more than asked. */
#define MW_DTLS_INIT_BUF ((SSL3_RT_MAX_PLAIN_LENGTH + 3) / 3 * 4)

struct mw_dtls_identity {
    SSL_CTX *ctx;
    EVP_PKEY *key;
    X509 *cert;
    char fingerprint[3 * 32];
};

struct mw_dtls {
    SSL *ssl;
    int is_server;
    int started;
    int verify_failed; /* the leaf certificate did not match expect */
    mw_dtls_state_t state;
    mw_dtls_fp_t expect;
    mw_dtls_send_fn send;
    void *user;
    const uint8_t *in; /* the datagram being handled, NULL if none */
    size_t in_len;
    int busy; /* inside mw_dtls_handle: the read buffer may hold records */
    mw_srtp_keys_t keys;
    uint64_t app_dropped;
    mw_dtls_app_fn app; /* application data receiver, NULL: discard */
    void *app_user;
    void *init_buf; /* OpenSSL's handshake message buffer, until released */
    int init_seen;  /* init_buf was allocated (it is tracked once) */
    char error[160];
};

/* Memory: OpenSSL keeps a DTLS-over-UDP connection's handshake message
 * buffer (init_buf) for the connection's life, in case of retransmits
 * (tls_finish_handshake in statem_lib.c), and BUF_MEM_grow zeroed all 16 kB
 * of it: 21 kB resident per peer for nothing. Once the handshake is over its
 * contents are dead (a later handshake record is written into it before it
 * is read: a retransmitted Finished, refused renegotiation), so the worker
 * gives its pages back to the kernel with MADV_DONTNEED. OpenSSL still owns
 * the block and frees it; a rare later use faults in fresh zero pages. The
 * block is recognised by its size among the allocations made inside this
 * endpoint's handshake calls (mw_dtls_cur), through OpenSSL's allocation
 * hooks that mw_dtls_mem_hooks() installs, and is allocated on whole pages
 * of its own so that all of it can go; without the hooks nothing changes. */
static __thread mw_dtls_t *mw_dtls_cur;

static size_t mw_dtls_init_buf_span(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (MW_DTLS_INIT_BUF + page - 1) & ~(page - 1);
}

/* A new block of n bytes; the running handshake's init_buf (its first
 * block of that size: the state machine's first step allocates it) on
 * whole pages, remembered in its endpoint. */
static void *mw_dtls_mem_new(size_t n)
{
    mw_dtls_t *d = mw_dtls_cur;
    void *p = NULL;

    if (d == NULL || n != MW_DTLS_INIT_BUF || d->state != MW_DTLS_HANDSHAKING || d->init_seen)
        return malloc(n);
    d->init_seen = 1;
    if (posix_memalign(&p, (size_t)sysconf(_SC_PAGESIZE), mw_dtls_init_buf_span()) != 0)
        return NULL;
    d->init_buf = p;
    return p;
}

/* A block freed or moved by OpenSSL: no longer the one to release. */
static void mw_dtls_mem_gone(void *p)
{
    if (p != NULL && mw_dtls_cur != NULL && mw_dtls_cur->init_buf == p)
        mw_dtls_cur->init_buf = NULL;
}

static void *mw_dtls_mem_malloc(size_t n, const char *file, int line)
{
    return mw_dtls_mem_new(n);
}

/* realloc's own rules for NULL and 0, as CRYPTO_realloc expects of a hook
 * (BUF_MEM_grow allocates init_buf with realloc(NULL, n)). */
static void *mw_dtls_mem_realloc(void *old, size_t n, const char *file, int line)
{
    if (old == NULL)
        return mw_dtls_mem_new(n);
    void *p = realloc(old, n);
    if (p != NULL || n == 0)
        mw_dtls_mem_gone(old);
    return p;
}

static void mw_dtls_mem_free(void *p, const char *file, int line)
{
    mw_dtls_mem_gone(p);
    free(p);
}

/* Installs the hooks; only before OpenSSL's first allocation (returns -1
 * after it: init_buf then simply stays resident). */
int mw_dtls_mem_hooks(void)
{
    return CRYPTO_set_mem_functions(mw_dtls_mem_malloc, mw_dtls_mem_realloc, mw_dtls_mem_free) ? 0
                                                                                               : -1;
}

/* Hands the finished handshake's init_buf (whole pages of its own) back. */
static void mw_dtls_release_init_buf(mw_dtls_t *d)
{
    (void)madvise(d->init_buf, mw_dtls_init_buf_span(), MADV_DONTNEED);
    d->init_buf = NULL;
}

/* Application data is read here and handed to the owner's callback at once;
 * mw_dtls_handle is never re-entered from that callback (it only writes), so
 * one buffer serves every endpoint of the thread instead of 2 kB each. */
static __thread uint8_t mw_dtls_rbuf[MW_DTLS_READ_BUF];

static pthread_once_t mw_dtls_bio_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *mw_dtls_bio_meth;

/* BIO write: every write of the DTLS layer is one datagram (one or more
 * records that fit the MTU), handed to the owner's send callback. */
static int mw_dtls_bio_write(BIO *b, const char *buf, int len)
{
    mw_dtls_t *d = BIO_get_data(b);

    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    if (d && d->send)
        d->send((const uint8_t *)buf, (size_t)len, d->user);
    return len;
}

/* BIO read: hands out the current datagram once, whole (truncated like a UDP
 * socket would if buf is smaller), then reports "would block". */
static int mw_dtls_bio_read(BIO *b, char *buf, int len)
{
    mw_dtls_t *d = BIO_get_data(b);
    size_t n;

    BIO_clear_retry_flags(b);
    if (!d || !d->in || len <= 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    n = d->in_len < (size_t)len ? d->in_len : (size_t)len;
    memcpy(buf, d->in, n);
    d->in = NULL;
    d->in_len = 0;
    return (int)n;
}

/* BIO ctrl: just enough of a datagram BIO for the DTLS layer. */
static long mw_dtls_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
        return MW_DTLS_MTU;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
        return 0;
    default:
        return 0;
    }
}

/* BIO create: marks the BIO usable; its data is set by mw_dtls_new. */
static int mw_dtls_bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    BIO_set_data(b, NULL);
    return 1;
}

/* BIO destroy: the mw_dtls_t is owned elsewhere. */
static int mw_dtls_bio_destroy(BIO *b)
{
    BIO_set_data(b, NULL);
    return 1;
}

/* Builds the BIO method table once per process. */
static void mw_dtls_bio_init_once(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mw_dtls");

    if (!m)
        return;
    BIO_meth_set_write(m, mw_dtls_bio_write);
    BIO_meth_set_read(m, mw_dtls_bio_read);
    BIO_meth_set_ctrl(m, mw_dtls_bio_ctrl);
    BIO_meth_set_create(m, mw_dtls_bio_create);
    BIO_meth_set_destroy(m, mw_dtls_bio_destroy);
    mw_dtls_bio_meth = m;
}

static int mw_dtls_cert_matches(const mw_dtls_t *d, X509 *cert);

/* RFC 5763 5: certificates are self-signed and authenticated by the SDP
 * fingerprint, not by a CA: chain errors are ignored. The leaf is compared
 * with the fingerprint here already, so a mismatch ends the handshake with a
 * bad_certificate alert the peer sees; it is checked again afterwards. */
static int mw_dtls_verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    mw_dtls_t *d = ssl ? SSL_get_app_data(ssl) : NULL;

    if (!d || X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    if (mw_dtls_cert_matches(d, X509_STORE_CTX_get_current_cert(store)) == 0)
        return 1;
    d->verify_failed = 1;
    return 0;
}

/* Writes the uppercase colon-separated SHA-256 fingerprint of cert. */
static int mw_dtls_identity_fp(X509 *cert, char *out, size_t cap)
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (!X509_digest(cert, EVP_sha256(), md, &n) || n * 3 > cap)
        return -1;
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 3 * i, cap - 3 * i, i + 1 < n ? "%02X:" : "%02X", md[i]);
    return 0;
}

/* A fresh ECDSA P-256 self-signed certificate, valid for 30 days. */
static X509 *mw_dtls_identity_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    X509_NAME *name;
    uint64_t serial;

    if (!x)
        goto fail;
    if (RAND_bytes((unsigned char *)&serial, sizeof(serial)) != 1)
        goto fail;
    serial &= INT64_MAX; /* RFC 5280 4.1.2.2: positive */
    if (!X509_set_version(x, 2) || !ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial))
        goto fail;
    /* Backdated an hour against clock skew between us and the browser. */
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400L * MW_DTLS_CERT_DAYS))
        goto fail;
    name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"vc-worker",
                                    -1, -1, 0))
        goto fail;
    if (!X509_set_issuer_name(x, name) || !X509_set_pubkey(x, key))
        goto fail;
    if (!X509_sign(x, key, EVP_sha256()))
        goto fail;
    return x;
fail:
    X509_free(x);
    return NULL;
}

/* The shared SSL_CTX: DTLS 1.2+, our certificate, the SRTP profiles, peer
 * certificates requested and accepted (checked against the SDP later). */
static SSL_CTX *mw_dtls_identity_ctx(EVP_PKEY *key, X509 *cert)
{
    SSL_CTX *ctx = SSL_CTX_new(DTLS_method());
    const char *profiles = "SRTP_AES128_CM_SHA1_80";

    if (!ctx)
        goto fail;
    if (mw_srtp_gcm_supported())
        profiles = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
    if (!SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION))
        goto fail;
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    if (SSL_CTX_set_cipher_list(ctx, "HIGH:!aNULL:!eNULL:!MD5:!RC4:!PSK:!SRP:!kRSA") != 1)
        goto fail;
    if (SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1)
        goto fail;
    /* Returns 0 on success, unlike its neighbours. */
    if (SSL_CTX_set_tlsext_use_srtp(ctx, profiles) != 0)
        goto fail;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, mw_dtls_verify_cb);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* Generates the worker's key and certificate. NULL on failure (logged by
 * the caller). */
mw_dtls_identity_t *mw_dtls_identity_new(void)
{
    mw_dtls_identity_t *id = vc_calloc(1, sizeof(*id));

    (void)mw_srtp_global_init();
    id->key = EVP_EC_gen("P-256");
    if (!id->key)
        goto fail;
    id->cert = mw_dtls_identity_cert(id->key);
    if (!id->cert)
        goto fail;
    if (mw_dtls_identity_fp(id->cert, id->fingerprint, sizeof(id->fingerprint)) < 0)
        goto fail;
    id->ctx = mw_dtls_identity_ctx(id->key, id->cert);
    if (!id->ctx)
        goto fail;
    return id;
fail:
    ERR_clear_error();
    mw_dtls_identity_free(id);
    return NULL;
}

/* Frees the identity; peers using it must be freed first. */
void mw_dtls_identity_free(mw_dtls_identity_t *id)
{
    if (!id)
        return;
    SSL_CTX_free(id->ctx);
    X509_free(id->cert);
    EVP_PKEY_free(id->key);
    free(id);
}

/* "AB:CD:..." SHA-256 of our certificate. */
const char *mw_dtls_identity_fingerprint(const mw_dtls_identity_t *id)
{
    return id->fingerprint;
}

/* Value of one hex digit, or -1. */
static int mw_dtls_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* RFC 8122 5: hash-func names we accept and their digest sizes. */
int mw_dtls_fp_parse(const char *alg, const char *fp, mw_dtls_fp_t *out)
{
    static const struct {
        const char *name;
        mw_dtls_fp_alg_t alg;
        size_t len;
    } algs[] = {
        {"sha-1", MW_DTLS_FP_SHA1, 20},
        {"sha-256", MW_DTLS_FP_SHA256, 32},
        {"sha-384", MW_DTLS_FP_SHA384, 48},
        {"sha-512", MW_DTLS_FP_SHA512, 64},
    };
    mw_dtls_fp_t r;
    size_t i;

    if (!alg || !fp)
        return -1;
    for (i = 0; i < VC_ARRAY_LEN(algs); i++)
        if (strcasecmp(alg, algs[i].name) == 0)
            break;
    if (i == VC_ARRAY_LEN(algs) || strlen(fp) != algs[i].len * 3 - 1)
        return -1;
    memset(&r, 0, sizeof(r));
    r.alg = algs[i].alg;
    r.len = algs[i].len;
    for (size_t k = 0; k < r.len; k++) {
        int hi = mw_dtls_hexval(fp[3 * k]), lo = mw_dtls_hexval(fp[3 * k + 1]);
        if (hi < 0 || lo < 0 || (k + 1 < r.len && fp[3 * k + 2] != ':'))
            return -1;
        r.digest[k] = (uint8_t)(hi << 4 | lo);
    }
    *out = r;
    return 0;
}

/* Creates one endpoint with its own SSL on the identity's context. */
mw_dtls_t *mw_dtls_new(mw_dtls_identity_t *id, int is_server, const mw_dtls_fp_t *expect,
                       mw_dtls_send_fn send, void *user)
{
    mw_dtls_t *d = vc_calloc(1, sizeof(*d));
    BIO *bio = NULL;

    pthread_once(&mw_dtls_bio_once, mw_dtls_bio_init_once);
    d->is_server = is_server;
    d->expect = *expect;
    d->send = send;
    d->user = user;
    d->state = MW_DTLS_HANDSHAKING;
    if (!mw_dtls_bio_meth || !id || !id->ctx)
        goto fail;
    d->ssl = SSL_new(id->ctx);
    bio = BIO_new(mw_dtls_bio_meth);
    if (!d->ssl || !bio)
        goto fail;
    BIO_set_data(bio, d);
    SSL_set_app_data(d->ssl, d);
    SSL_set_bio(d->ssl, bio, bio); /* one reference, taken by the SSL */
    bio = NULL;
    SSL_set_mtu(d->ssl, MW_DTLS_MTU);
    DTLS_set_link_mtu(d->ssl, MW_DTLS_MTU);
    if (is_server)
        SSL_set_accept_state(d->ssl);
    else
        SSL_set_connect_state(d->ssl);
    return d;
fail:
    BIO_free(bio);
    ERR_clear_error();
    mw_dtls_free(d);
    return NULL;
}

/* Memory: once connected, OpenSSL's DTLS record buffers (about 17 kB read
 * plus 17 kB write per endpoint) would stay allocated for the life of the
 * session, yet they carry only the rare SCTP record and alerts. They are
 * allocated before every SSL call on a connected endpoint and released after
 * it. SSL_MODE_RELEASE_BUFFERS does not do this for DTLS in OpenSSL 3.0, and
 * its DTLS write path does not allocate lazily (it crashes on a freed write
 * buffer): hence the explicit SSL_alloc_buffers. */
static int mw_dtls_buffers_get(mw_dtls_t *d)
{
    return SSL_alloc_buffers(d->ssl) == 1 ? 0 : -1;
}

/* Releases the record buffers of a connected endpoint; refused (harmless)
 * while a record is pending. Not inside mw_dtls_handle, whose read loop may
 * still have records of the current datagram in the read buffer. Then the
 * handshake buffer: only the record buffers were as large, and they are
 * gone now. */
static void mw_dtls_buffers_put(mw_dtls_t *d)
{
    if (d->ssl && d->state == MW_DTLS_CONNECTED && !d->busy && SSL_free_buffers(d->ssl) == 1 &&
        d->init_buf != NULL)
        mw_dtls_release_init_buf(d);
}

/* Frees the endpoint without sending anything. */
void mw_dtls_free(mw_dtls_t *d)
{
    if (!d)
        return;
    if (d->ssl) {
        /* No callbacks from here on. */
        BIO_set_data(SSL_get_rbio(d->ssl), NULL);
        SSL_free(d->ssl);
    }
    OPENSSL_cleanse(&d->keys, sizeof(d->keys));
    free(d);
}

/* Records why the endpoint failed, from the OpenSSL error queue if any. */
static mw_dtls_state_t mw_dtls_fail(mw_dtls_t *d, const char *why)
{
    unsigned long e = ERR_peek_last_error();

    if (!why && d->verify_failed)
        why = "certificate fingerprint mismatch";
    if (e && !why)
        ERR_error_string_n(e, d->error, sizeof(d->error));
    else
        snprintf(d->error, sizeof(d->error), "%s", why ? why : "handshake failed");
    ERR_clear_error();
    d->in = NULL;
    d->state = MW_DTLS_FAILED;
    return d->state;
}

/* Compares a certificate's digest with the SDP fingerprint: 0 if equal. */
static int mw_dtls_cert_matches(const mw_dtls_t *d, X509 *cert)
{
    const EVP_MD *md;
    uint8_t dig[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    switch (d->expect.alg) {
    case MW_DTLS_FP_SHA1:
        md = EVP_sha1();
        break;
    case MW_DTLS_FP_SHA384:
        md = EVP_sha384();
        break;
    case MW_DTLS_FP_SHA512:
        md = EVP_sha512();
        break;
    default:
        md = EVP_sha256();
        break;
    }
    if (!cert || !X509_digest(cert, md, dig, &n) || n != d->expect.len)
        return -1;
    return CRYPTO_memcmp(dig, d->expect.digest, n) == 0 ? 0 : -1;
}

/* Compares the peer certificate of the finished handshake. */
static int mw_dtls_check_fp(mw_dtls_t *d)
{
    return mw_dtls_cert_matches(d, SSL_get0_peer_certificate(d->ssl));
}

/* RFC 5764 4.2: export and split the keying material:
 * client key | server key | client salt | server salt. */
static int mw_dtls_export_keys(mw_dtls_t *d)
{
    const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(d->ssl);
    uint8_t m[2 * MW_SRTP_MAX_KEY_SALT];
    mw_srtp_profile_t p;
    size_t klen = 16, slen;
    const uint8_t *ck, *sk, *cs, *ss;

    if (!prof)
        return -1;
    if (prof->id == SRTP_AES128_CM_SHA1_80)
        p = MW_SRTP_AES128_CM_SHA1_80;
    else if (prof->id == SRTP_AEAD_AES_128_GCM)
        p = MW_SRTP_AEAD_AES_128_GCM;
    else
        return -1;
    slen = mw_srtp_key_salt_len(p) - klen;
    if (SSL_export_keying_material(d->ssl, m, 2 * (klen + slen), MW_DTLS_EXPORTER_LABEL,
                                   strlen(MW_DTLS_EXPORTER_LABEL), NULL, 0, 0) != 1)
        return -1;
    ck = m;
    sk = m + klen;
    cs = m + 2 * klen;
    ss = m + 2 * klen + slen;
    d->keys.profile = p;
    d->keys.len = klen + slen;
    memcpy(d->keys.local, d->is_server ? sk : ck, klen);
    memcpy(d->keys.local + klen, d->is_server ? ss : cs, slen);
    memcpy(d->keys.remote, d->is_server ? ck : sk, klen);
    memcpy(d->keys.remote + klen, d->is_server ? cs : ss, slen);
    OPENSSL_cleanse(m, sizeof(m));
    return 0;
}

/* Advances the handshake; on completion verifies and exports. */
static mw_dtls_state_t mw_dtls_step_handshake(mw_dtls_t *d)
{
    int r = SSL_do_handshake(d->ssl);

    if (r != 1) {
        int e = SSL_get_error(d->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return d->state;
        if (e == SSL_ERROR_ZERO_RETURN) {
            d->state = MW_DTLS_CLOSED;
            return d->state;
        }
        return mw_dtls_fail(d, NULL);
    }
    if (mw_dtls_check_fp(d) < 0) {
        SSL_shutdown(d->ssl); /* tells the peer at once */
        return mw_dtls_fail(d, "certificate fingerprint mismatch");
    }
    if (mw_dtls_export_keys(d) < 0)
        return mw_dtls_fail(d, "no DTLS-SRTP profile negotiated");
    d->state = MW_DTLS_CONNECTED;
    return d->state;
}

/* After the handshake: reads records until none is left (alerts, close_notify,
 * retransmitted handshake flights; application data goes to d->app). */
static mw_dtls_state_t mw_dtls_step_connected(mw_dtls_t *d)
{
    if (mw_dtls_buffers_get(d) < 0)
        return mw_dtls_fail(d, "out of memory for DTLS buffers");
    for (;;) {
        int r = SSL_read(d->ssl, mw_dtls_rbuf, sizeof(mw_dtls_rbuf));
        int e;

        if (r > 0) {
            if (d->app)
                d->app(mw_dtls_rbuf, (size_t)r, d->app_user);
            else
                d->app_dropped++;
            continue;
        }
        e = SSL_get_error(d->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return d->state;
        if (e == SSL_ERROR_ZERO_RETURN) {
            ERR_clear_error();
            d->state = MW_DTLS_CLOSED;
            return d->state;
        }
        return mw_dtls_fail(d, NULL);
    }
}

/* Starts the handshake once. */
mw_dtls_state_t mw_dtls_start(mw_dtls_t *d)
{
    if (d->started || d->state != MW_DTLS_HANDSHAKING)
        return d->state;
    d->started = 1;
    mw_dtls_t *prev = mw_dtls_cur;
    mw_dtls_cur = d;
    mw_dtls_step_handshake(d);
    mw_dtls_cur = prev;
    return d->state;
}

/* One incoming datagram. */
mw_dtls_state_t mw_dtls_handle(mw_dtls_t *d, const uint8_t *dgram, size_t len)
{
    if (d->state == MW_DTLS_FAILED || d->state == MW_DTLS_CLOSED || len == 0)
        return d->state;
    if (!d->started && !d->is_server)
        return d->state; /* a client speaks first; nothing to answer yet */
    d->started = 1;
    d->in = dgram;
    d->in_len = len;
    d->busy = 1;
    mw_dtls_t *prev = mw_dtls_cur;
    mw_dtls_cur = d;
    if (d->state == MW_DTLS_HANDSHAKING)
        mw_dtls_step_handshake(d);
    /* The last handshake datagram may carry more records after Finished. */
    if (d->state == MW_DTLS_CONNECTED)
        mw_dtls_step_connected(d);
    d->busy = 0;
    d->in = NULL;
    d->in_len = 0;
    mw_dtls_buffers_put(d);
    mw_dtls_cur = prev;
    return d->state;
}

/* Time left on OpenSSL's retransmission timer, rounded up. */
int mw_dtls_timeout_ms(mw_dtls_t *d)
{
    struct timeval tv;
    long ms;

    if (d->state == MW_DTLS_FAILED || d->state == MW_DTLS_CLOSED || !d->started)
        return -1;
    if (DTLSv1_get_timeout(d->ssl, &tv) != 1)
        return -1;
    ms = (long)tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Retransmits if due; too many retransmissions fail the handshake. */
mw_dtls_state_t mw_dtls_handle_timeout(mw_dtls_t *d)
{
    if (d->state == MW_DTLS_FAILED || d->state == MW_DTLS_CLOSED || !d->started)
        return d->state;
    if (d->state == MW_DTLS_CONNECTED && mw_dtls_buffers_get(d) < 0)
        return mw_dtls_fail(d, "out of memory for DTLS buffers");
    mw_dtls_t *prev = mw_dtls_cur;
    mw_dtls_cur = d;
    int r = DTLSv1_handle_timeout(d->ssl);
    mw_dtls_cur = prev;
    if (r < 0)
        return mw_dtls_fail(d, "handshake timed out");
    mw_dtls_buffers_put(d);
    return d->state;
}

/* Current state. */
mw_dtls_state_t mw_dtls_state(const mw_dtls_t *d)
{
    return d->state;
}

/* The failure reason, or "". */
const char *mw_dtls_error(const mw_dtls_t *d)
{
    return d->error;
}

/* True for the DTLS server role. */
int mw_dtls_is_server(const mw_dtls_t *d)
{
    return d->is_server;
}

/* Copies the exported keys. */
int mw_dtls_srtp_keys(const mw_dtls_t *d, mw_srtp_keys_t *out)
{
    if (d->state != MW_DTLS_CONNECTED)
        return -1;
    *out = d->keys;
    return 0;
}

/* Sends close_notify (RFC 5246 7.2.1) once, if a session exists. */
void mw_dtls_close(mw_dtls_t *d)
{
    if (d->state == MW_DTLS_CONNECTED && mw_dtls_buffers_get(d) == 0)
        SSL_shutdown(d->ssl);
    ERR_clear_error();
    if (d->state != MW_DTLS_FAILED)
        d->state = MW_DTLS_CLOSED;
}

/* Sets the application data receiver. */
void mw_dtls_set_app_cb(mw_dtls_t *d, mw_dtls_app_fn fn, void *user)
{
    d->app = fn;
    d->app_user = user;
}

/* RFC 8261 5: one SCTP packet per DTLS record; SSL_write makes one record
 * (and so one datagram through the BIO) per call. */
int mw_dtls_write(mw_dtls_t *d, const uint8_t *data, size_t len)
{
    int r;

    if (d->state != MW_DTLS_CONNECTED || len == 0 || len > MW_DTLS_MTU)
        return -1;
    if (mw_dtls_buffers_get(d) < 0) {
        ERR_clear_error();
        return -1;
    }
    r = SSL_write(d->ssl, data, (int)len);
    mw_dtls_buffers_put(d);
    if (r != (int)len) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}
