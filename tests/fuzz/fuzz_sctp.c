/* libFuzzer: SCTP packets into a live data channel association
 * (shell/sctp.c over usrsctp). Each run sets up two endpoints back to back
 * in memory, opens a "chat" channel, then feeds the input to one side as
 * packets: the input is a sequence of [len hi, len lo, flags, bytes...]
 * records. flags bit 0 set: the bytes are a whole packet (common header
 * included); clear: they are chunks behind the association's real common
 * header (ports and verification tag), so they reach chunk processing.
 * The CRC32c is always fixed up, or usrsctp would drop everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "media-worker/shell/sctp.h"

#define FZ_MAX_PKT 2048

typedef struct {
    mw_sctp_t *s;
    uint8_t q[64][FZ_MAX_PKT];
    size_t qlen[64];
    size_t n;
    uint8_t hdr[8]; /* first 8 bytes of the last packet it sent */
    int have_hdr, up;
} fz_ep_t;

static fz_ep_t fa, fb;

static void fz_send(const uint8_t *pkt, size_t len, void *user)
{
    fz_ep_t *e = user;
    if (len >= 8) {
        memcpy(e->hdr, pkt, 8);
        e->have_hdr = 1;
    }
    if (e->n < 64 && len <= FZ_MAX_PKT) {
        memcpy(e->q[e->n], pkt, len);
        e->qlen[e->n++] = len;
    }
}

static void fz_state(mw_sctp_t *s, int up, void *user)
{
    ((fz_ep_t *)user)->up = up;
}

static void fz_msg(mw_sctp_t *s, uint16_t sid, int binary, const uint8_t *d, size_t len, void *user)
{
    /* Echo, as the worker answers chat errors on the same channel. */
    if (len > 0 && len < 64)
        mw_sctp_send(s, sid, binary, d, len);
}

static const mw_sctp_callbacks_t fz_cb = {
    .send = fz_send, .on_state = fz_state, .on_message = fz_msg};

/* Delivers what from queued into to. */
static int fz_deliver(fz_ep_t *from, fz_ep_t *to)
{
    size_t n = from->n;
    static uint8_t tmp[64][FZ_MAX_PKT];
    static size_t tl[64];
    for (size_t i = 0; i < n; i++) {
        memcpy(tmp[i], from->q[i], from->qlen[i]);
        tl[i] = from->qlen[i];
    }
    from->n = 0;
    for (size_t i = 0; i < n; i++)
        if (to->s)
            mw_sctp_input(to->s, tmp[i], tl[i]);
    return (int)n;
}

static void fz_pump(int rounds)
{
    for (int i = 0; i < rounds; i++)
        if (fz_deliver(&fa, &fb) + fz_deliver(&fb, &fa) == 0)
            mw_sctp_timers(10);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t pkt[FZ_MAX_PKT + 12];

    mw_sctp_global_init();
    memset(&fa, 0, sizeof(fa));
    memset(&fb, 0, sizeof(fb));
    fa.s = mw_sctp_new(MW_SCTP_PORT, MW_SCTP_PORT, &fz_cb, &fa);
    fb.s = mw_sctp_new(MW_SCTP_PORT, MW_SCTP_PORT, &fz_cb, &fb);
    for (int i = 0; i < 50 && !(fa.up && fb.up); i++)
        fz_pump(1);
    if (fa.s)
        mw_sctp_open(fa.s, 0, "chat");
    fz_pump(4);
    fa.n = 0;
    while (size >= 3 && fb.s) {
        size_t len = (size_t)data[0] << 8 | data[1];
        int raw = data[2] & 1;
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        if (len > FZ_MAX_PKT)
            len = FZ_MAX_PKT;
        size_t n;
        if (raw) {
            if (len < 12) {
                mw_sctp_input(fb.s, data, len);
                data += len;
                size -= len;
                continue;
            }
            memcpy(pkt, data, len);
            n = len;
        } else {
            memcpy(pkt, fa.hdr, 8);
            memcpy(pkt + 12, data, len);
            n = len + 12;
        }
        memset(pkt + 8, 0, 4);
        uint32_t crc = usrsctp_crc32c(pkt, n);
        memcpy(pkt + 8, &crc, 4);
        mw_sctp_input(fb.s, pkt, n);
        data += len;
        size -= len;
        fb.n = 0;
        mw_sctp_timers(10);
    }
    mw_sctp_free(fa.s);
    mw_sctp_free(fb.s);
    fa.n = fb.n = 0;
    return 0;
}
