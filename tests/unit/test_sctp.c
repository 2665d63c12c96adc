/* Two data channel endpoints (shell/sctp.c over usrsctp) wired back to back
 * in memory: association setup by simultaneous connect, DCEP open/ACK,
 * messages both ways (string, binary, empty, large), channel close. No
 * sockets, no sleeps: packets are queued and usrsctp's timers are driven
 * by hand. With VC_SCTP_SEED_DIR set, every packet is also written there
 * (seeds for tests/fuzz/fuzz_sctp.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media-worker/shell/sctp.h"
#include "tests/unit/vctest.h"

typedef struct pkt {
    size_t len;
    struct pkt *next;
    uint8_t data[];
} pkt_t;

typedef struct {
    const char *name;
    mw_sctp_t *s;
    pkt_t *out, **out_tail; /* packets it sent, not yet delivered */
    int up, opens, closes, msgs;
    char label[MW_SCTP_MAX_LABEL + 1];
    uint16_t last_sid;
    int last_binary;
    size_t last_len;
    uint8_t last[300000];
} ep_t;

static int seed_n;

static void ep_send(const uint8_t *pkt, size_t len, void *user)
{
    ep_t *e = user;
    pkt_t *p = malloc(sizeof(*p) + len);
    p->len = len;
    p->next = NULL;
    memcpy(p->data, pkt, len);
    *e->out_tail = p;
    e->out_tail = &p->next;
    const char *dir = getenv("VC_SCTP_SEED_DIR");
    if (dir != NULL && seed_n < 64) {
        char path[512];
        snprintf(path, sizeof(path), "%s/pair-%02d-%s", dir, seed_n++, e->name);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(pkt, 1, len, f);
            fclose(f);
        }
    }
}

static void ep_state(mw_sctp_t *s, int up, void *user)
{
    ((ep_t *)user)->up = up;
}

static void ep_open(mw_sctp_t *s, uint16_t sid, const char *label, int full, void *user)
{
    ep_t *e = user;
    e->opens++;
    e->last_sid = sid;
    snprintf(e->label, sizeof(e->label), "%s", label);
}

static void ep_msg(mw_sctp_t *s, uint16_t sid, int binary, const uint8_t *d, size_t len, void *user)
{
    ep_t *e = user;
    e->msgs++;
    e->last_sid = sid;
    e->last_binary = binary;
    e->last_len = len;
    if (len <= sizeof(e->last))
        memcpy(e->last, d, len);
}

static void ep_close(mw_sctp_t *s, uint16_t sid, void *user)
{
    ((ep_t *)user)->closes++;
}

static const mw_sctp_callbacks_t cb = {
    .send = ep_send,
    .on_state = ep_state,
    .on_open = ep_open,
    .on_message = ep_msg,
    .on_close = ep_close,
};

static void ep_init(ep_t *e, const char *name)
{
    memset(e, 0, sizeof(*e));
    e->name = name;
    e->out_tail = &e->out;
    e->s = mw_sctp_new(MW_SCTP_PORT, MW_SCTP_PORT, &cb, e);
}

/* Moves queued packets from -> to; returns how many. */
static int deliver(ep_t *from, ep_t *to)
{
    int n = 0;
    pkt_t *p = from->out;
    from->out = NULL;
    from->out_tail = &from->out;
    while (p != NULL) {
        pkt_t *next = p->next;
        if (to->s != NULL)
            mw_sctp_input(to->s, p->data, p->len);
        free(p);
        p = next;
        n++;
    }
    return n;
}

/* Exchanges packets (advancing usrsctp's clock 10 ms per idle round) until
 * done() or about 5 s of virtual time passed. */
static int pump(ep_t *a, ep_t *b, int (*done)(ep_t *, ep_t *))
{
    for (int i = 0; i < 500; i++) {
        if (done(a, b))
            return 1;
        if (deliver(a, b) + deliver(b, a) == 0)
            mw_sctp_timers(10);
    }
    return done(a, b);
}

static int both_up(ep_t *a, ep_t *b)
{
    return a->up && b->up;
}
static int b_opened(ep_t *a, ep_t *b)
{
    return b->opens > 0 && a->opens > 0;
}
static int b_got_msg(ep_t *a, ep_t *b)
{
    return b->msgs > 0;
}
static int a_got_msg(ep_t *a, ep_t *b)
{
    return a->msgs > 0;
}
static int b_closed(ep_t *a, ep_t *b)
{
    return b->closes > 0;
}
static int quiet(ep_t *a, ep_t *b)
{
    return a->out == NULL && b->out == NULL;
}

static ep_t A, B;

static void t_pair(void)
{
    mw_sctp_global_init();
    ep_init(&A, "a");
    ep_init(&B, "b");
    VCT_CHECK(A.s != NULL && B.s != NULL);
    if (A.s == NULL || B.s == NULL)
        return;
    VCT_CHECK_EQ_INT(mw_sctp_count(), 2);
    VCT_CHECK(pump(&A, &B, both_up));
    /* A is the DTLS client here: even stream ids (RFC 8832 6). */
    VCT_CHECK_EQ_INT(mw_sctp_open(A.s, 0, "chat"), 0);
    VCT_CHECK_EQ_INT(mw_sctp_open(A.s, 0, "again"), -1);
    VCT_CHECK(pump(&A, &B, b_opened));
    VCT_CHECK_EQ_STR(B.label, "chat");
    VCT_CHECK_EQ_INT(B.last_sid, 0);

    const char *hello = "{\"type\":\"chat\",\"text\":\"hi\"}";
    VCT_CHECK_EQ_INT(mw_sctp_send(A.s, 0, 0, (const uint8_t *)hello, strlen(hello)), 0);
    VCT_CHECK(pump(&A, &B, b_got_msg));
    VCT_CHECK_EQ_INT(B.last_binary, 0);
    VCT_CHECK(B.last_len == strlen(hello) && memcmp(B.last, hello, B.last_len) == 0);

    /* The other way, binary. */
    const uint8_t bin[3] = {0, 1, 2};
    VCT_CHECK_EQ_INT(mw_sctp_send(B.s, 0, 1, bin, 3), 0);
    VCT_CHECK(pump(&A, &B, a_got_msg));
    VCT_CHECK_EQ_INT(A.last_binary, 1);
    VCT_CHECK_EQ_INT(A.last_len, 3);

    /* Empty message (PPID 56). */
    B.msgs = 0;
    VCT_CHECK_EQ_INT(mw_sctp_send(A.s, 0, 0, NULL, 0), 0);
    VCT_CHECK(pump(&A, &B, b_got_msg));
    VCT_CHECK_EQ_INT(B.last_len, 0);

    /* A large message crosses in many packets and arrives whole. */
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    B.msgs = 0;
    VCT_CHECK_EQ_INT(mw_sctp_send(A.s, 0, 1, big, sizeof(big)), 0);
    VCT_CHECK(pump(&A, &B, b_got_msg));
    VCT_CHECK(B.last_len == sizeof(big) && memcmp(B.last, big, sizeof(big)) == 0);

    /* Unknown channel and oversize refused locally. */
    VCT_CHECK_EQ_INT(mw_sctp_send(A.s, 2, 0, bin, 1), -1);
    static uint8_t huge[MW_SCTP_MAX_MESSAGE + 1];
    VCT_CHECK_EQ_INT(mw_sctp_send(A.s, 0, 1, huge, sizeof(huge)), -1);

    /* Close: B sees the stream reset. */
    mw_sctp_close_channel(A.s, 0);
    VCT_CHECK(pump(&A, &B, b_closed));
    VCT_CHECK_EQ_INT(mw_sctp_send(B.s, 0, 0, bin, 1), -1);

    mw_sctp_stats_t st;
    mw_sctp_stats(B.s, &st);
    VCT_CHECK(st.msgs_in >= 3 && st.pkts_in > 0);

    /* Freeing A aborts: B learns the association is gone. */
    mw_sctp_free(A.s);
    A.s = NULL;
    VCT_CHECK(pump(&A, &B, quiet));
    VCT_CHECK_EQ_INT(B.up, 0);
    mw_sctp_free(B.s);
    B.s = NULL;
    VCT_CHECK_EQ_INT(mw_sctp_count(), 0);
    deliver(&A, &B);
    deliver(&B, &A);
}

/* Garbage and truncated packets into a live association change nothing. */
static void t_garbage(void)
{
    ep_init(&A, "a");
    ep_init(&B, "b");
    VCT_CHECK(pump(&A, &B, both_up));
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 1; n < sizeof(junk); n += 7)
        mw_sctp_input(B.s, junk, n);
    VCT_CHECK_EQ_INT(mw_sctp_open(A.s, 2, "x"), 0);
    VCT_CHECK(pump(&A, &B, b_opened));
    VCT_CHECK(B.up);
    mw_sctp_free(A.s);
    mw_sctp_free(B.s);
    A.s = B.s = NULL;
    deliver(&A, &B);
    deliver(&B, &A);
}

int main(void)
{
    static const vct_case_t cases[] = {
        {"pair", t_pair},
        {"garbage", t_garbage},
    };
    return vct_run("sctp", cases, sizeof(cases) / sizeof(cases[0]));
}
