/* Unit tests for media-worker/core/room.c: subscription m-lines only for
 * published tracks (a receive-only join renegotiates nobody else), reuse of
 * inactive m-lines with a new msid/SSRC, the visible-track cap, one
 * outstanding offer with a dirty flag and its exact repetition, answer
 * validation, a room of 1 + 200 whose offers do not grow, forwarding
 * lookups, keyframe throttling, isolation between rooms, and moderation:
 * admission, permissions of every host action, targets confined to the
 * sender's room, bans, cohosts and host-held tracks. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "media-worker/core/room.h"
#include "proto/proto.h"
#include "tests/unit/vctest.h"

/* An answer accepting every m-line of p's outstanding offer: publish
 * m-lines sendonly with the given SSRCs (inactive for 0), subscriptions as
 * offered. */
static sdp_answer_t *t_answer(const room_part_t *p, uint32_t a_ssrc, uint32_t v_ssrc,
                              uint32_t v_rtx)
{
    sdp_answer_t *a = calloc(1, sizeof(*a));
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n = 0;
    room_offer_again((room_part_t *)p, ml, ROOM_MAX_MLINES, &n);
    a->n_mlines = p->n_offered;
    for (size_t i = 0; i < a->n_mlines; i++) {
        sdp_answer_mline_t *m = &a->mlines[i];
        m->kind = p->ml[i].kind;
        snprintf(m->mid, sizeof(m->mid), "%zu", i);
        memset(m->pts, 0xff, sizeof(m->pts));
        m->dir = i < n && ml[i].dir == SDP_DIR_SENDONLY ? SDP_DIR_RECVONLY : SDP_DIR_INACTIVE;
    }
    a->mlines[0].dir = a_ssrc ? SDP_DIR_SENDONLY : SDP_DIR_INACTIVE;
    if (a_ssrc) {
        a->mlines[0].ssrcs[0] = a_ssrc;
        a->mlines[0].n_ssrcs = 1;
    }
    a->mlines[1].dir = v_ssrc ? SDP_DIR_SENDONLY : SDP_DIR_INACTIVE;
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

/* Participants of r that wait for an offer. */
static int t_dirty(const room_t *r)
{
    int n = 0;
    for (const room_part_t *q = r->parts; q != NULL; q = q->next)
        n += q->dirty;
    return n;
}

/* Renders p's outstanding offer as the worker would (fixed transport). */
static size_t t_sdp_size(room_part_t *p)
{
    static const char *cands[] = {"candidate:1 1 UDP 2015363327 127.0.0.1 43000 typ host"};
    static char buf[65536];
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n, len = 0;
    if (!room_offer_again(p, ml, ROOM_MAX_MLINES, &n))
        return 0;
    sdp_offer_t o = {.session_id = 1,
                     .version = p->version,
                     .ice_ufrag = "abcd",
                     .ice_pwd = "0123456789abcdef012345",
                     .fingerprint = "AB:CD",
                     .candidates = cands,
                     .n_candidates = 1,
                     .mlines = ml,
                     .n_mlines = n,
                     .datachannel = 1};
    if (sdp_build_offer(&o, buf, sizeof(buf), &len) != 0)
        return 0;
    return len;
}

static void t_join_layout(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 2);
    VCT_CHECK_EQ_INT(t_negotiate(a, 10, 11, 12, ml), 2);
    VCT_CHECK(a->published[SDP_KIND_AUDIO] && a->published[SDP_KIND_VIDEO]);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    VCT_CHECK_EQ_INT(a->n_ml, 2); /* b publishes nothing yet */
    VCT_CHECK(!a->dirty);
    VCT_CHECK_EQ_INT(b->n_ml, 4);
    VCT_CHECK(b->ml[2].pub == a && b->ml[2].kind == SDP_KIND_AUDIO);
    VCT_CHECK(b->ml[3].pub == a && b->ml[3].kind == SDP_KIND_VIDEO);
    size_t n;
    VCT_CHECK_EQ_INT(room_offer_begin(b, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(n, 4);
    VCT_CHECK_EQ_INT(ml[0].dir, SDP_DIR_RECVONLY);
    VCT_CHECK(ml[1].simulcast);
    VCT_CHECK_EQ_INT(ml[2].dir, SDP_DIR_SENDONLY);
    VCT_CHECK_EQ_STR(ml[2].msid_stream, "pa");
    VCT_CHECK_EQ_STR(ml[3].msid_track, "pa-v");
    /* the worker's own SSRCs, known before any packet */
    VCT_CHECK(ml[3].ssrc == b->ml[3].out_ssrc && ml[3].ssrc != 0 && ml[3].ssrc != 11);
    VCT_CHECK(ml[3].rtx_ssrc == b->ml[3].out_rtx && ml[3].rtx_ssrc != 0);
    VCT_CHECK(ml[2].ssrc != 0 && ml[2].rtx_ssrc == 0);
    /* b answers with audio only: a gets one m-line, b's video stays unseen */
    sdp_answer_t *ans = t_answer(b, 20, 0, 0);
    char err[200];
    VCT_CHECK_EQ_INT(room_apply_answer(b, ans, err, sizeof(err)), ROOM_OK);
    free(ans);
    VCT_CHECK(a->dirty);
    VCT_CHECK_EQ_INT(a->n_ml, 3);
    VCT_CHECK(a->ml[2].pub == b && a->ml[2].kind == SDP_KIND_AUDIO);
    room_free(r);
}

/* A participant that publishes nothing changes nobody's layout: not when
 * it joins, not when it answers, not when it leaves. */
static void t_subscriber_join(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *pub = room_join(r, "pp", "Pub", "host", NULL);
    t_negotiate(pub, 1, 2, 3, ml);
    room_part_t *s1 = room_join(r, "s1", "S1", "guest", NULL);
    t_negotiate(s1, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(t_dirty(r), 0);
    uint64_t v_pub = pub->version, v_s1 = s1->version;
    room_part_t *s2 = room_join(r, "s2", "S2", "guest", NULL);
    VCT_CHECK_EQ_INT(t_dirty(r), 1);
    VCT_CHECK(s2->dirty);
    VCT_CHECK_EQ_INT(t_negotiate(s2, 0, 0, 0, ml), 4); /* the joiner: one offer */
    VCT_CHECK_EQ_INT(t_dirty(r), 0);
    VCT_CHECK(!s2->published[0] && !s2->published[1]);
    room_leave(r, s2);
    VCT_CHECK_EQ_INT(t_dirty(r), 0);
    VCT_CHECK_EQ_INT(pub->n_ml, 2);
    VCT_CHECK_EQ_INT(s1->n_ml, 4);
    VCT_CHECK(pub->version == v_pub && s1->version == v_s1);
    room_free(r);
}

static void t_one_offer(void)
{
    room_t *r = room_new("r1", NULL);
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    t_negotiate(b, 7, 8, 0, ml);
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(n, 4);
    room_part_t *c = room_join(r, "pc", "Cy", "guest", NULL);
    t_negotiate(c, 9, 0, 0, ml);
    /* a changed while its offer is out: no second offer, but dirty */
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 0);
    VCT_CHECK(a->dirty);
    sdp_answer_t *ans = t_answer(a, 0, 500, 0);
    char err[200];
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_OK);
    VCT_CHECK_EQ_INT(a->ssrc[SDP_KIND_VIDEO], 500);
    /* a second answer to the same offer: bad state */
    VCT_CHECK_EQ_INT(room_apply_answer(a, ans, err, sizeof(err)), ROOM_ERR_STATE);
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(n, 5);
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 0);
    free(ans);
    room_free(r);
}

/* The outstanding offer is given again unchanged, whatever happened to the
 * bindings meanwhile; nothing is kept but the room's own state. */
static void t_offer_again(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES], again[ROOM_MAX_MLINES];
    size_t n, n2;
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    VCT_CHECK_EQ_INT(room_offer_again(a, again, ROOM_MAX_MLINES, &n2), 0);
    t_negotiate(b, 1, 2, 3, ml);
    VCT_CHECK_EQ_INT(room_offer_begin(a, 0, ml, ROOM_MAX_MLINES, &n), 1);
    size_t size = t_sdp_size(a);
    VCT_CHECK(size > 0);
    room_leave(r, b); /* b's m-lines go inactive, but the offer said sendonly */
    room_part_t *c = room_join(r, "pc", "Cy", "guest", NULL);
    t_negotiate(c, 4, 5, 0, ml);
    VCT_CHECK_EQ_INT(room_offer_again(a, again, ROOM_MAX_MLINES, &n2), 1);
    VCT_CHECK_EQ_INT(n2, 4);
    VCT_CHECK_EQ_INT(again[2].dir, SDP_DIR_SENDONLY);
    VCT_CHECK_EQ_STR(again[2].msid_stream, "pb");
    VCT_CHECK_EQ_STR(again[3].msid_track, "pb-v");
    VCT_CHECK_EQ_INT(t_sdp_size(a), size);
    room_free(r);
}

static void t_answer_mismatch(void)
{
    room_t *r = room_new("r1", NULL);
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    size_t n;
    t_negotiate(b, 5, 6, 0, ml);
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
    VCT_CHECK(!a->published[SDP_KIND_AUDIO]);
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
    size_t n = t_negotiate(b, 200, 201, 0, ml);
    VCT_CHECK_EQ_INT(n, 4);
    VCT_CHECK(b->ml[3].pub == a && ml[3].ssrc == b->ml[3].out_ssrc);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, 96, out, 8), 1);
    VCT_CHECK(out[0] == b);
    VCT_CHECK_EQ_INT(room_subscribers(a, SDP_KIND_VIDEO, ROOM_PT_ANY, out, 8), 1);
    int rtx;
    VCT_CHECK_EQ_INT(room_sub_mline_of(b, b->ml[3].out_rtx, &rtx), 3);
    VCT_CHECK_EQ_INT(rtx, 1);
    /* c declines H264 (102) on every m-line */
    sdp_offer_mline_t ml2[ROOM_MAX_MLINES];
    size_t n2;
    room_offer_begin(c, 0, ml2, ROOM_MAX_MLINES, &n2);
    VCT_CHECK_EQ_INT(n2, 6); /* a and b publish */
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
    VCT_CHECK(room_find_ssrc(r, 102, &k, &rtx) == a && k == SDP_KIND_VIDEO && rtx == 1);
    VCT_CHECK(room_find_ssrc(r, 300, &k, &rtx) == c && k == SDP_KIND_AUDIO && rtx == 0);
    VCT_CHECK(room_find_ssrc(r, 999, &k, &rtx) == NULL);
    VCT_CHECK(room_find_ssrc(r, 0, &k, &rtx) == NULL);
    room_free(r);
}

/* A publisher's first RTP packet (no SSRC in its answer, e.g. simulcast)
 * publishes too; a new SSRC later renegotiates nobody. */
static void t_publish_by_rtp(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    t_negotiate(a, 0, 0, 0, ml);
    t_negotiate(b, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(t_dirty(r), 0);
    VCT_CHECK_EQ_INT(room_set_published(a, SDP_KIND_VIDEO, 4242, 0), 1);
    VCT_CHECK(a->published[SDP_KIND_VIDEO] && b->dirty && b->n_ml == 3);
    t_negotiate(b, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(room_set_published(a, SDP_KIND_VIDEO, 4343, 0), 1);
    VCT_CHECK(!b->dirty);
    VCT_CHECK_EQ_INT(room_set_published(a, SDP_KIND_OTHER, 1, 0), 0);
    room_free(r);
}

/* Unpublished or departed tracks: the m-line goes inactive, and once an
 * answer confirmed that, the next track of its kind reuses it with a new
 * msid and new SSRCs; the m-line count follows the tracks visible at once. */
static void t_leave_reuse(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    t_negotiate(b, 1, 2, 0, ml);
    t_negotiate(a, 0, 0, 0, ml);
    uint32_t b_video_ssrc = a->ml[3].out_ssrc;
    room_leave(r, b);
    VCT_CHECK(a->dirty);
    VCT_CHECK(a->ml[2].pub == NULL && a->ml[3].pub == NULL);
    /* before the inactive offer is answered, a newcomer gets new m-lines */
    room_part_t *c = room_join(r, "pc", "Cy", "guest", NULL);
    t_negotiate(c, 3, 4, 0, ml);
    VCT_CHECK_EQ_INT(a->n_ml, 6);
    room_leave(r, c);
    size_t n = t_negotiate(a, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(n, 6);
    for (size_t i = 2; i < n; i++)
        VCT_CHECK_EQ_INT(ml[i].dir, SDP_DIR_INACTIVE);
    /* now they are confirmed inactive and get reused */
    room_part_t *d = room_join(r, "pd", "Di", "guest", NULL);
    t_negotiate(d, 5, 6, 0, ml);
    VCT_CHECK_EQ_INT(a->n_ml, 6);
    VCT_CHECK(a->ml[2].pub == d && a->ml[3].pub == d);
    VCT_CHECK_EQ_INT(d->n_ml, 2); /* a publishes nothing */
    n = t_negotiate(a, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(ml[3].dir, SDP_DIR_SENDONLY);
    VCT_CHECK_EQ_STR(ml[3].msid_stream, "pd");
    VCT_CHECK(ml[3].ssrc != 0 && ml[3].ssrc != b_video_ssrc);
    int send = 0, inactive = 0;
    for (size_t i = 2; i < n; i++) {
        send += ml[i].dir == SDP_DIR_SENDONLY;
        inactive += ml[i].dir == SDP_DIR_INACTIVE;
    }
    VCT_CHECK_EQ_INT(send, 2);
    VCT_CHECK_EQ_INT(inactive, 2);
    room_free(r);
}

/* Unpublishing (an answer that turns a publish m-line inactive) frees the
 * subscribers' m-line for the next publication of that kind. */
static void t_unpublish_reuse(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *s = room_join(r, "ps", "Sub", "guest", NULL);
    room_part_t *p1 = room_join(r, "p1", "P1", "guest", NULL);
    room_part_t *p2 = room_join(r, "p2", "P2", "guest", NULL);
    t_negotiate(p1, 0, 10, 11, ml);
    t_negotiate(s, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(s->n_ml, 3);
    VCT_CHECK(s->ml[2].pub == p1 && s->ml[2].live);
    /* p1 stops its camera (renegotiated for an unrelated reason) */
    p1->dirty = 1;
    t_negotiate(p1, 0, 0, 0, ml);
    VCT_CHECK(!p1->published[SDP_KIND_VIDEO]);
    VCT_CHECK(s->dirty && s->ml[2].pub == NULL && !s->ml[2].live);
    room_part_t *out[4];
    VCT_CHECK_EQ_INT(room_subscribers(p1, SDP_KIND_VIDEO, ROOM_PT_ANY, out, 4), 0);
    t_negotiate(s, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(ml[2].dir, SDP_DIR_INACTIVE);
    /* p2's video takes mid 2 */
    t_negotiate(p2, 0, 20, 21, ml);
    VCT_CHECK_EQ_INT(s->n_ml, 3);
    VCT_CHECK(s->ml[2].pub == p2);
    t_negotiate(s, 0, 0, 0, ml);
    VCT_CHECK_EQ_STR(ml[2].msid_stream, "p2");
    VCT_CHECK(s->ml[2].live);
    VCT_CHECK_EQ_INT(room_subscribers(p2, SDP_KIND_VIDEO, ROOM_PT_ANY, out, 4), 1);
    room_free(r);
}

/* 1 publisher + 200 receive-only subscribers: every join renegotiates only
 * the joiner, and every subscriber's offer has the same size. */
static void t_room_1_200(void)
{
    room_t *r = room_new("big", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *pub = room_join(r, "pub", "Pub", "host", NULL);
    t_negotiate(pub, 1, 2, 3, ml);
    size_t first = 0;
    int others_dirty = 0, grew = 0;
    for (int i = 0; i < 200; i++) {
        char id[16];
        snprintf(id, sizeof(id), "s%03d", i);
        room_part_t *s = room_join(r, id, "S", "guest", NULL);
        VCT_CHECK(s != NULL);
        if (s == NULL)
            break;
        others_dirty += t_dirty(r) - 1;
        size_t n;
        VCT_CHECK_EQ_INT(room_offer_begin(s, 0, ml, ROOM_MAX_MLINES, &n), 1);
        size_t size = t_sdp_size(s);
        if (first == 0)
            first = size;
        /* equal but for the digits of the SSRCs (3 of up to 10 digits) */
        grew += size + 27 < first || size > first + 27 || n != 4;
        sdp_answer_t *a = t_answer(s, 0, 0, 0);
        char err[200];
        VCT_CHECK_EQ_INT(room_apply_answer(s, a, err, sizeof(err)), ROOM_OK);
        free(a);
        others_dirty += t_dirty(r);
    }
    VCT_CHECK_EQ_INT(r->n_parts, 201);
    VCT_CHECK_EQ_INT(others_dirty, 0);
    VCT_CHECK_EQ_INT(grew, 0);
    VCT_CHECK(first > 0 && first < 8000);
    VCT_CHECK_EQ_INT(pub->n_ml, 2);
    room_part_t *out[256];
    VCT_CHECK_EQ_INT(room_subscribers(pub, SDP_KIND_VIDEO, 96, out, 256), 200);
    fprintf(stderr, "  1+200: each subscriber's offer %zu bytes\n", first);
    room_free(r);
}

/* More published tracks than ROOM_MAX_VISIBLE: the newest are hidden and
 * counted; a departure frees m-lines that the hidden ones then take. */
static void t_visible_cap(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *s = room_join(r, "ps", "Sub", "guest", NULL);
    t_negotiate(s, 0, 0, 0, ml);
    int pubs = ROOM_MAX_VISIBLE / 2 + 3;
    room_part_t *first = NULL;
    for (int i = 0; i < pubs; i++) {
        char id[16];
        snprintf(id, sizeof(id), "p%02d", i);
        room_part_t *p = room_join(r, id, "P", "guest", NULL);
        t_negotiate(p, 100 + i, 200 + i, 0, ml);
        if (first == NULL)
            first = p;
    }
    VCT_CHECK_EQ_INT(s->n_ml, ROOM_MAX_MLINES);
    VCT_CHECK(s->overflow);
    size_t n = t_negotiate(s, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(n, ROOM_MAX_MLINES);
    VCT_CHECK_EQ_INT(s->n_hidden, 6);
    VCT_CHECK(t_sdp_size(s) == 0); /* answered: nothing outstanding */
    /* the oldest publisher leaves: its two m-lines go inactive, then the
     * next hidden participant's tracks take them */
    room_leave(r, first);
    n = t_negotiate(s, 0, 0, 0, ml);
    VCT_CHECK_EQ_INT(s->n_ml, ROOM_MAX_MLINES);
    VCT_CHECK(s->dirty);
    size_t before = s->version;
    VCT_CHECK_EQ_INT(room_offer_begin(s, 0, ml, ROOM_MAX_MLINES, &n), 1);
    VCT_CHECK_EQ_INT(s->version, before + 1);
    VCT_CHECK_EQ_INT(s->n_hidden, 4);
    VCT_CHECK(t_sdp_size(s) > 0 && t_sdp_size(s) < VC_PROTO_MAX_SDP);
    int send = 0;
    for (size_t i = 2; i < n; i++)
        send += ml[i].dir == SDP_DIR_SENDONLY;
    VCT_CHECK_EQ_INT(send, ROOM_MAX_VISIBLE);
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

/* Rooms are capped by participants (room_t.max_parts), not by m-lines. */
static void t_full(void)
{
    room_t *r = room_new("r1", NULL);
    VCT_CHECK_EQ_INT(r->max_parts, ROOM_MAX_PARTICIPANTS);
    char id[16];
    size_t joined = 0;
    for (int i = 0; i < ROOM_MAX_PARTICIPANTS + 10; i++) {
        snprintf(id, sizeof(id), "p%d", i);
        if (room_join(r, id, "x", "guest", NULL) != NULL)
            joined++;
    }
    VCT_CHECK_EQ_INT(joined, ROOM_MAX_PARTICIPANTS);
    VCT_CHECK_EQ_INT(r->n_parts, joined);
    room_free(r);
    r = room_new("r2", NULL);
    r->max_parts = 3;
    joined = 0;
    for (int i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "p%d", i);
        joined += room_join(r, id, "x", "guest", NULL) != NULL;
    }
    VCT_CHECK_EQ_INT(joined, 3);
    room_free(r);
}

/* Where joiners go: a table of named cases. */
static void t_admission(void)
{
    static const struct {
        const char *name;
        int lobby;
        const char *cred_role, *identity;
        room_admit_t want;
        const char *want_role;
        int want_removed;
    } cases[] = {
        {"host, lobby on", 1, "host", "h1", ROOM_ADMIT_ENTER, "host", 0},
        {"guest, lobby on", 1, "guest", "g1", ROOM_ADMIT_WAIT, "guest", 0},
        {"guest, lobby off", 0, "guest", "g1", ROOM_ADMIT_ENTER, "guest", 0},
        {"no identity, lobby on", 1, "guest", "", ROOM_ADMIT_WAIT, "guest", 0},
        {"cohost identity, lobby on", 1, "guest", "co", ROOM_ADMIT_ENTER, "cohost", 0},
        {"removed, lobby off", 0, "guest", "bad", ROOM_ADMIT_WAIT, "guest", 1},
        {"removed host credential", 0, "host", "badhost", ROOM_ADMIT_WAIT, "guest", 1},
        {"removed, lobby on", 1, "guest", "bad", ROOM_ADMIT_WAIT, "guest", 1},
    };
    room_t *r = room_new("r1", NULL);
    room_part_t *co = room_join_as(r, "pco", "Co", "guest", "co", NULL);
    room_promote(co);
    room_ban(r, "bad");
    room_ban(r, "badhost");
    room_ban(r, "");
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        r->lobby_enabled = cases[i].lobby;
        char role[16] = "";
        int removed = -1;
        room_admit_t got =
            room_admission(r, cases[i].cred_role, cases[i].identity, role, sizeof(role), &removed);
        if (got != cases[i].want || strcmp(role, cases[i].want_role) != 0 ||
            removed != cases[i].want_removed)
            fprintf(stderr, "  case %s\n", cases[i].name);
        VCT_CHECK_EQ_INT(got, cases[i].want);
        VCT_CHECK_EQ_STR(role, cases[i].want_role);
        VCT_CHECK_EQ_INT(removed, cases[i].want_removed);
    }
    room_free(r);
}

/* Every host action by every kind of sender, against targets in the
 * sender's room, in another room, and missing. */
static void t_permissions(void)
{
    room_t *r = room_new("ra", NULL), *rb = room_new("rb", NULL);
    room_part_t *host = room_join_as(r, "ph", "H", "host", "ih", NULL);
    room_part_t *co = room_join_as(r, "pc", "C", "guest", "ic", NULL);
    room_promote(co);
    room_part_t *guest = room_join_as(r, "pg", "G", "guest", "ig", NULL);
    room_waiter_t *wait = room_lobby_add(r, "pw", "W", "iw", 0, NULL);
    room_part_t *bpart = room_join_as(rb, "pb", "B", "guest", "ib", NULL);
    room_lobby_add(rb, "pbw", "BW", "ibw", 0, NULL);
    (void)bpart;
    static const struct {
        const char *name;
        int sender; /* 0 host, 1 cohost, 2 guest, 3 waiting (NULL) */
        room_act_t act;
        const char *target;
        room_mod_t want;
        int want_part, want_waiter;
    } cases[] = {
        {"host admits waiter", 0, ROOM_ACT_ADMIT, "pw", ROOM_MOD_OK, 0, 1},
        {"cohost admits waiter", 1, ROOM_ACT_ADMIT, "pw", ROOM_MOD_OK, 0, 1},
        {"guest admits", 2, ROOM_ACT_ADMIT, "pw", ROOM_MOD_FORBIDDEN, 0, 0},
        {"waiter admits itself", 3, ROOM_ACT_ADMIT, "pw", ROOM_MOD_FORBIDDEN, 0, 0},
        {"host admits a participant", 0, ROOM_ACT_ADMIT, "pg", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host admits other room's waiter", 0, ROOM_ACT_ADMIT, "pbw", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host denies waiter", 0, ROOM_ACT_DENY, "pw", ROOM_MOD_OK, 0, 1},
        {"guest denies", 2, ROOM_ACT_DENY, "pw", ROOM_MOD_FORBIDDEN, 0, 0},
        {"host denies other room's waiter", 0, ROOM_ACT_DENY, "pbw", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host admit_all", 0, ROOM_ACT_ADMIT_ALL, NULL, ROOM_MOD_OK, 0, 0},
        {"guest admit_all", 2, ROOM_ACT_ADMIT_ALL, NULL, ROOM_MOD_FORBIDDEN, 0, 0},
        {"cohost set_lobby", 1, ROOM_ACT_SET_LOBBY, NULL, ROOM_MOD_OK, 0, 0},
        {"guest set_lobby", 2, ROOM_ACT_SET_LOBBY, NULL, ROOM_MOD_FORBIDDEN, 0, 0},
        {"waiter set_lobby", 3, ROOM_ACT_SET_LOBBY, NULL, ROOM_MOD_FORBIDDEN, 0, 0},
        {"host mutes guest", 0, ROOM_ACT_MUTE, "pg", ROOM_MOD_OK, 1, 0},
        {"cohost mutes host", 1, ROOM_ACT_MUTE, "ph", ROOM_MOD_OK, 1, 0},
        {"guest mutes host", 2, ROOM_ACT_MUTE, "ph", ROOM_MOD_FORBIDDEN, 0, 0},
        {"host mutes waiter", 0, ROOM_ACT_MUTE, "pw", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host mutes other room", 0, ROOM_ACT_MUTE, "pb", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host mutes nobody", 0, ROOM_ACT_MUTE, NULL, ROOM_MOD_NOT_FOUND, 0, 0},
        {"host asks unmute", 0, ROOM_ACT_ASK_UNMUTE, "pg", ROOM_MOD_OK, 1, 0},
        {"guest asks unmute", 2, ROOM_ACT_ASK_UNMUTE, "ph", ROOM_MOD_FORBIDDEN, 0, 0},
        {"host asks other room", 0, ROOM_ACT_ASK_UNMUTE, "pb", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host removes guest", 0, ROOM_ACT_REMOVE, "pg", ROOM_MOD_OK, 1, 0},
        {"host removes waiter", 0, ROOM_ACT_REMOVE, "pw", ROOM_MOD_OK, 0, 1},
        {"guest removes host", 2, ROOM_ACT_REMOVE, "ph", ROOM_MOD_FORBIDDEN, 0, 0},
        {"host removes other room", 0, ROOM_ACT_REMOVE, "pb", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host removes other waiter", 0, ROOM_ACT_REMOVE, "pbw", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host promotes guest", 0, ROOM_ACT_PROMOTE, "pg", ROOM_MOD_OK, 1, 0},
        {"guest promotes self", 2, ROOM_ACT_PROMOTE, "pg", ROOM_MOD_FORBIDDEN, 0, 0},
        {"host promotes waiter", 0, ROOM_ACT_PROMOTE, "pw", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host promotes other room", 0, ROOM_ACT_PROMOTE, "pb", ROOM_MOD_NOT_FOUND, 0, 0},
        {"host ends", 0, ROOM_ACT_END, NULL, ROOM_MOD_OK, 0, 0},
        {"cohost ends", 1, ROOM_ACT_END, NULL, ROOM_MOD_OK, 0, 0},
        {"guest ends", 2, ROOM_ACT_END, NULL, ROOM_MOD_FORBIDDEN, 0, 0},
        {"waiter ends", 3, ROOM_ACT_END, NULL, ROOM_MOD_FORBIDDEN, 0, 0},
        {"not an action", 0, ROOM_ACT_NONE, NULL, ROOM_MOD_FORBIDDEN, 0, 0},
    };
    room_part_t *senders[] = {host, co, guest, NULL};
    for (size_t i = 0; i < VC_ARRAY_LEN(cases); i++) {
        room_part_t *p = NULL;
        room_waiter_t *w = NULL;
        room_mod_t got =
            room_mod_check(r, senders[cases[i].sender], cases[i].act, cases[i].target, &p, &w);
        if (got != cases[i].want || (p != NULL) != cases[i].want_part ||
            (w != NULL) != cases[i].want_waiter)
            fprintf(stderr, "  case %s\n", cases[i].name);
        VCT_CHECK_EQ_INT(got, cases[i].want);
        VCT_CHECK_EQ_INT(p != NULL, cases[i].want_part);
        VCT_CHECK_EQ_INT(w != NULL, cases[i].want_waiter);
        if (w != NULL)
            VCT_CHECK(w == wait);
    }
    /* a host of room A acting in room B's name is still refused there */
    VCT_CHECK_EQ_INT(room_mod_check(rb, host, ROOM_ACT_END, NULL, NULL, NULL), ROOM_MOD_FORBIDDEN);
    VCT_CHECK_EQ_INT(room_act_parse("admit_all"), ROOM_ACT_ADMIT_ALL);
    VCT_CHECK_EQ_INT(room_act_parse("media_state"), ROOM_ACT_NONE);
    room_free(r);
    room_free(rb);
}

/* Lobby order, bans and cohost memory. */
static void t_lobby_bans(void)
{
    room_t *r = room_new("r1", NULL);
    VCT_CHECK_EQ_INT(r->lobby_enabled, 1);
    VCT_CHECK(room_empty(r));
    room_waiter_t *a = room_lobby_add(r, "pa", "A", "ia", 0, NULL);
    room_lobby_add(r, "pb", "B", "ib", 1, NULL);
    VCT_CHECK(!room_empty(r));
    VCT_CHECK_EQ_INT(r->n_lobby, 2);
    VCT_CHECK(r->lobby == a && strcmp(r->lobby->next->id, "pb") == 0);
    VCT_CHECK(room_lobby_find(r, "pb") != NULL && room_lobby_find(r, "px") == NULL);
    room_lobby_remove(r, a);
    VCT_CHECK_EQ_INT(r->n_lobby, 1);
    room_part_t *p = room_join_as(r, "pc", "C", "guest", "ic", NULL);
    room_promote(p);
    VCT_CHECK_EQ_STR(p->role, "cohost");
    VCT_CHECK(room_is_cohost(r, "ic"));
    VCT_CHECK(room_part_privileged(p));
    room_ban(r, "ic"); /* removal also ends the promotion */
    VCT_CHECK(room_is_banned(r, "ic") && !room_is_cohost(r, "ic"));
    room_part_t *h = room_join_as(r, "ph", "H", "host", "ih", NULL);
    room_promote(h);
    VCT_CHECK_EQ_STR(h->role, "host");
    room_free(r); /* frees the remaining waiter and lists (ASan checks) */
}

/* A host-held track is not forwarded until its owner turns it on. */
static void t_hold(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    room_part_t *a = room_join(r, "pa", "Ann", "host", NULL);
    room_part_t *b = room_join(r, "pb", "Bob", "guest", NULL);
    t_negotiate(a, 100, 101, 0, ml);
    t_negotiate(b, 200, 201, 0, ml);
    t_negotiate(a, 100, 101, 0, ml);
    room_part_t *out[4];
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_AUDIO, 111, out, 4), 1);
    room_hold(b, SDP_KIND_AUDIO);
    VCT_CHECK_EQ_INT(b->audio, 0);
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_AUDIO, 111, out, 4), 0);
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_AUDIO, ROOM_PT_ANY, out, 4), 0);
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_VIDEO, 96, out, 4), 1);
    /* its own "audio off" keeps the hold; "video on" does not release audio */
    VCT_CHECK_EQ_INT(room_media_state(b, 0, 1), 0);
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_AUDIO, 111, out, 4), 0);
    VCT_CHECK_EQ_INT(room_media_state(b, 1, 1), 1u << SDP_KIND_AUDIO);
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_AUDIO, 111, out, 4), 1);
    room_hold(b, SDP_KIND_VIDEO);
    VCT_CHECK_EQ_INT(room_subscribers(b, SDP_KIND_VIDEO, 96, out, 4), 0);
    VCT_CHECK_EQ_INT(room_media_state(b, 1, 1), 1u << SDP_KIND_VIDEO);
    room_free(r);
}

/* room_t.gen is what the worker's per-publisher receiver lists are kept
 * by: whenever room_subscribers() would answer differently, gen has moved.
 * Checked after every step of joins, answers, an unpublish, a republish
 * and leaves, for every participant and kind, against the answer cached
 * at the last gen. */
#define T_GEN_PARTS 5
static room_part_t *t_gen_parts[T_GEN_PARTS];
static struct {
    uint64_t gen;
    size_t n;
    room_part_t *out[T_GEN_PARTS];
} t_gen_cache[T_GEN_PARTS][2];

static void t_gen_check(room_t *r)
{
    for (int i = 0; i < T_GEN_PARTS; i++) {
        if (t_gen_parts[i] == NULL)
            continue;
        for (int k = 0; k < 2; k++) {
            room_part_t *out[T_GEN_PARTS];
            size_t n = room_subscribers(t_gen_parts[i], (sdp_kind_t)k, 96, out, T_GEN_PARTS);
            if (t_gen_cache[i][k].gen == r->gen) {
                VCT_CHECK_EQ_INT(n, t_gen_cache[i][k].n);
                for (size_t j = 0; j < n && j < t_gen_cache[i][k].n; j++)
                    VCT_CHECK(out[j] == t_gen_cache[i][k].out[j]);
            }
            t_gen_cache[i][k].gen = r->gen;
            t_gen_cache[i][k].n = n;
            memcpy(t_gen_cache[i][k].out, out, n * sizeof(out[0]));
        }
    }
}

static void t_gen(void)
{
    room_t *r = room_new("r1", NULL);
    sdp_offer_mline_t ml[ROOM_MAX_MLINES];
    static const char *ids[T_GEN_PARTS] = {"p0", "p1", "p2", "p3", "p4"};
    memset(t_gen_cache, 0, sizeof(t_gen_cache));
    for (int i = 0; i < T_GEN_PARTS; i++) {
        uint64_t g = r->gen;
        t_gen_parts[i] = room_join(r, ids[i], ids[i], "guest", NULL);
        VCT_CHECK(r->gen != g);
        t_gen_check(r);
        /* everyone publishes but p1 (receive only) */
        for (int j = 0; j <= i; j++) {
            t_negotiate(t_gen_parts[j], j == 1 ? 0 : 100u * (uint32_t)j + 1,
                        j == 1 ? 0 : 100u * (uint32_t)j + 2, 0, ml);
            t_gen_check(r);
        }
    }
    VCT_CHECK_EQ_INT(room_subscribers(t_gen_parts[0], SDP_KIND_VIDEO, 96, NULL, 0), 0);
    room_part_t *out[T_GEN_PARTS];
    VCT_CHECK_EQ_INT(room_subscribers(t_gen_parts[0], SDP_KIND_VIDEO, 96, out, T_GEN_PARTS), 4);
    /* p2 stops its video (everyone renegotiates), then sends again */
    for (int round = 0; round < 2; round++) {
        room_publish(t_gen_parts[2], SDP_KIND_VIDEO, round);
        t_gen_check(r);
        for (int j = 0; j < T_GEN_PARTS; j++) {
            uint32_t base = j == 1 ? 0 : 100u * (uint32_t)j;
            t_negotiate(t_gen_parts[j], base ? base + 1 : 0,
                        base && (j != 2 || round == 1) ? base + 2 : 0, 0, ml);
            t_gen_check(r);
        }
    }
    VCT_CHECK_EQ_INT(room_subscribers(t_gen_parts[2], SDP_KIND_VIDEO, 96, out, T_GEN_PARTS), 4);
    /* leaves: the first publisher, then the receive-only one */
    for (int i = 0; i < 2; i++) {
        uint64_t g = r->gen;
        room_leave(r, t_gen_parts[i]);
        t_gen_parts[i] = NULL;
        VCT_CHECK(r->gen != g);
        t_gen_check(r);
    }
    VCT_CHECK_EQ_INT(room_subscribers(t_gen_parts[2], SDP_KIND_VIDEO, 96, out, T_GEN_PARTS), 2);
    VCT_CHECK(out[0] == t_gen_parts[3] && out[1] == t_gen_parts[4]);
    room_free(r);
}

static const vct_case_t cases[] = {
    {"join_layout", t_join_layout},
    {"subscriber_join", t_subscriber_join},
    {"one_offer", t_one_offer},
    {"offer_again", t_offer_again},
    {"answer_mismatch", t_answer_mismatch},
    {"forwarding", t_forwarding},
    {"publish_by_rtp", t_publish_by_rtp},
    {"leave_reuse", t_leave_reuse},
    {"unpublish_reuse", t_unpublish_reuse},
    {"room_1_200", t_room_1_200},
    {"visible_cap", t_visible_cap},
    {"isolation", t_isolation},
    {"pli_throttle", t_pli_throttle},
    {"full", t_full},
    {"admission", t_admission},
    {"permissions", t_permissions},
    {"lobby_bans", t_lobby_bans},
    {"hold", t_hold},
    {"gen", t_gen},
};
VCT_MAIN("room", cases)
