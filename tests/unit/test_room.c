/* Unit tests for media-worker/core/room.c: m-line allocation and reuse,
 * one outstanding offer with a dirty flag, answer validation, forwarding
 * lookups, keyframe throttling, and isolation between rooms. */
#include <stdlib.h>

#include "media-worker/core/room.h"
#include "tests/unit/vctest.h"

/* An answer accepting every m-line of p's outstanding offer. */
static sdp_answer_t *t_answer(const room_part_t *p, uint32_t a_ssrc, uint32_t v_ssrc,
                              uint32_t v_rtx)
{
    sdp_answer_t *a = calloc(1, sizeof(*a));
    a->n_mlines = p->n_offered;
    for (size_t i = 0; i < a->n_mlines; i++) {
        sdp_answer_mline_t *m = &a->mlines[i];
        m->kind = p->ml[i].kind;
        snprintf(m->mid, sizeof(m->mid), "%zu", i);
        memset(m->pts, 0xff, sizeof(m->pts));
    }
    if (a_ssrc) {
        a->mlines[0].ssrcs[0] = a_ssrc;
        a->mlines[0].n_ssrcs = 1;
    }
    a->mlines[1].fid_ssrc = v_ssrc;
    a->mlines[1].fid_rtx = v_rtx;
    return a;
}

/* Begins p's offer and answers it at once; returns the offer's m-lines. */
static size_t t_negotiate(room_part_t *p, uint32_t a_ssrc, uint32_t v_ssrc, uint32_t v_rtx,
                          sdp_offer_mline_t *ml)
{
    size_t n = 0;
    if (!room_offer_begin(p, 0, ml, ROOM_MAX_MLINES, &n))
        return 0;
    sdp_answer_t *a = t_answer(p, a_ssrc, v_ssrc, v_rtx);
    char err[200];
    VCT_CHECK_EQ_INT(room_apply_answer(p, a, err, sizeof(err)), ROOM_OK);
    free(a);
    return n;
}

static void t_join_layout(void)
{
    room_t *r = room_new("r1", NULL);
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 2);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 4);
    VCT_CHECK_EQ_INT(b->n_ml, 4);
    VCT_CHECK(a->ml[2].pub == b && a->ml[2].kind == SDP_KIND_AUDIO);
    VCT_CHECK(a->ml[3].pub == b && a->ml[3].kind == SDP_KIND_VIDEO);
    VCT_CHECK_EQ_STR(a->ml[3].track, "pb-v");
    VCT_CHECK(a->dirty && b->dirty);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    VCT_CHECK_EQ_INT(room_offer_begin(b, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(n, 4);
    VCT_CHECK_EQ_INT(ml[0].dir, SDP_DIR_RECVONLY);
    VCT_CHECK_EQ_INT(ml[2].dir, SDP_DIR_SENDONLY);
    VCT_CHECK_EQ_STR(ml[2].msid_stream, "pa");
    VCT_CHECK_EQ_INT(ml[2].ssrc, 0); /* a has not published yet */
    room_free(r);
}

static void t_one_offer(void)
{
    room_t *r = room_new("r1", NULL);
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(n, 2);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    (void)b;
    /* a changed while its offer is out: no second offer, but dirty */
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 0);
    VCT_CHECK(a->dirty);
    sdp_answer_t *ans = calloc(1, sizeof(*ans));
    ans->n_mlines = 2;
    ans->mlines[0].kind = SDP_KIND_AUDIO;
    strcpy(ans->mlines[0].mid, "0");
    ans->mlines[1].kind = SDP_KIND_VIDEO;
    strcpy(ans->mlines[1].mid, "1");
    ans->mlines[1].ssrcs[0] = 500;
    ans->mlines[1].n_ssrcs = 1;
    char err[200];
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_OK);
    VCT_CHECK_EQ_INT(a->ssrc[SDP_KIND_VIDEO], 500);
    /* a second answer to the same offer: bad state */
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_ERR_STATE);
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(n, 4);
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 0);
    free(ans);
    room_free(r);
}

static void t_answer_mismatch(void)
{
    room_t *r = room_new("r1", NULL);
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_join(r, "pb", "Bob", "guest", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n);
    sdp_answer_t *ans = t_answer(a, 1, 2, 3);
    char err[200];
    ans->n_mlines = 3; /* missing one */
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_ERR_MISMATCH);
    ans->n_mlines = 4;
    strcpy(ans->mlines[2].mid, "7");
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_ERR_MISMATCH);
    strcpy(ans->mlines[2].mid, "2");
    ans->mlines[3].kind = SDP_KIND_AUDIO;
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_ERR_MISMATCH);
    VCT_CHECK_EQ_INT(a->ssrc[SDP_KIND_AUDIO], 0); /* nothing applied */
    VCT_CHECK(a->offer_out);
    ans->mlines[3].kind = SDP_KIND_VIDEO;
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_OK);
    VCT_CHECK_EQ_INT(a->ssrc[SDP_KIND_AUDIO], 1);
    VCT_CHECK_EQ_INT(a->rtx[SDP_KIND_VIDEO], 3);
    free(ans);
    room_free(r);
}

static void t_forwarding(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    room_part_t *c = room_join(r, "pc", "Cy", "guest", NULL);
    t_negotiate(a, 100, 101, 102, ml);
    room_part_t *out[8];
    /* b and c have not answered yet: nobody receives a */
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, 96, out, 8), 0);
    VCT_CHECK(b->dirty && c->dirty); /* a's SSRCs are new to them */
    size_t n = t_negotiate(b, 200, 201, 0, ml);
    VCT_CHECK_EQ_INT(n, 6);
    int saw = 0;
    for (size_t i = 2; i < n; i++)
        if (ml[i].ssrc == 101 && ml[i].rtx_ssrc == 102)
            saw = 1;
    VCT_CHECK(saw);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, 96, out, 8), 1);
    VCT_CHECK(out[0] == b);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, ROOM_PT_ANY, out, 8), 1);
    /* c declines H264 (102) on every m-line */
    sdp_offer_mline_t ml2[ROOM_MAX_MLINES];
    size_t n2;
    room_offer_begin(c, 0, ml2, ROOM_MAX_MLINES, &n2);
    sdp_answer_t *ans = t_answer(c, 300, 301, 0);
    for (size_t i = 0; i < n2; i++)
        ans->mlines[i].pts[102 >> 3] &= (uint8_t) ~(1u << (102 & 7));
    char err[200];
    VCT_CHECK_EQ_INT(room_apply_answer(c, ans, err, sizeof(err)), ROOM_OK);
    free(ans);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, 96, out, 8), 2);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, 102, out, 8), 1);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_AUDIO, 111, out, 8), 2);
    sdp_kind_t k;
    int rtx;
    VCT_CHECK(room_find_ssrc(r, 102, &k, &rtx) == a && k == SDP_KIND_VIDEO && rtx == 1);
    VCT_CHECK(room_find_ssrc(r, 300, &k, &rtx) == c && k == SDP_KIND_AUDIO && rtx == 0);
    VCT_CHECK(room_find_ssrc(r, 999, &k, &rtx) == NULL);
    VCT_CHECK(room_find_ssrc(r, 0, &k, &rtx) == NULL);
    room_free(r);
}

static void t_leave_reuse(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    t_negotiate(a, 1, 2, 0, ml);
    room_leave(r, b);
    VCT_CHECK(a->dirty);
    VCT_CHECK(a->ml[2].pub == NULL && a->ml[3].pub == NULL);
    /* before the inactive offer is answered, a newcomer gets new m-lines */
    room_part_t *c = room_join(r, "pc", "Cy", "guest", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 6);
    room_leave(r, c);
    size_t n = t_negotiate(a, 1, 2, 0, ml);
    VCT_CHECK_EQ_INT(n, 6);
    for (size_t i = 2; i < n; i++)
        VCT_CHECK_EQ_INT(ml[i].dir, SDP_DIR_INACTIVE);
    /* now they are confirmed inactive and get reused */
    room_part_t *d = room_join(r, "pd", "Di", "guest", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 6);
    VCT_CHECK(a->ml[2].pub == d || a->ml[4].pub == d);
    VCT_CHECK_EQ_INT(d->n_ml, 4);
    n = t_negotiate(a, 1, 2, 0, ml);
    int send = 0, inactive = 0;
    for (size_t i = 2; i < n; i++) {
        send += ml[i].dir == SDP_DIR_SENDONLY;
        inactive += ml[i].dir == SDP_DIR_INACTIVE;
    }
    VCT_CHECK_EQ_INT(send, 2);
    VCT_CHECK_EQ_INT(inactive, 2);
    room_free(r);
}

static void t_isolation(void)
{
    room_t *r1 = room_new("r1", NULL), *r2 = room_new("r2", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r1, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r2, "pb", "Bob", "host", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 2);
    VCT_CHECK_EQ_INT(b->n_ml, 2);
    t_negotiate(a, 10, 11, 0, ml);
    t_negotiate(b, 20, 21, 0, ml);
    sdp_kind_t k;
    int rtx;
    VCT_CHECK(room_find_ssrc(r2, 11, &k, &rtx) == NULL);
    VCT_CHECK(room_find_ssrc(r1, 21, &k, &rtx) == NULL);
    room_part_t *out[4];
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, 96, out, 4), 0);
    room_free(r1);
    room_free(r2);
}

static void t_pli_throttle(void)
{
    room_t *r = room_new("r1", NULL);
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    VCT_CHECK_EQ_INT(room_pli_allow(a, SDP_KIND_VIDEO, 1000), 1);
    VCT_CHECK_EQ_INT(room_pli_allow(a, SDP_KIND_VIDEO, 1200), 0);
    VCT_CHECK_EQ_INT(room_pli_allow(a, SDP_KIND_AUDIO, 1200), 1);
    VCT_CHECK_EQ_INT(room_pli_allow(a, SDP_KIND_VIDEO, 1500), 1);
    VCT_CHECK_EQ_INT(room_pli_allow(a, SDP_KIND_OTHER, 5000), 0);
    room_free(r);
}

static void t_full(void)
{
    room_t *r = room_new("r1", NULL);
    char id[16];
    size_t joined = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof(id), "p%d", i);
        if (room_join(r, id, "x", "guest", NULL) != NULL)
            joined++;
    }
    VCT_CHECK_EQ_INT(joined, (ROOM_MAX_MLINES - 2) / 2);
    VCT_CHECK_EQ_INT(r->n_parts, joined);
    room_free(r);
}

static const vct_case_t cases[] = {
    {"join_layout", t_join_layout}, {"one_offer", t_one_offer},
    {"answer_mismatch", t_answer_mismatch}, {"forwarding", t_forwarding},
    {"leave_reuse", t_leave_reuse}, {"isolation", t_isolation},
    {"pli_throttle", t_pli_throttle}, {"full", t_full},
};
VCT_MAIN("room", cases)
