/* lg_sdp: the load generator's side of docs/protocol.md's SDP: read the
 * worker's offer (ICE, fingerprint, candidates, m-lines with their mids,
 * directions and SSRCs) and write an answer that publishes on mids 0/1 and
 * receives everything offered sendonly. */
#include "tools/loadgen/lg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies the value after a prefix if the line starts with it. */
static int lg_take(const char *line, const char *prefix, char *dst, size_t cap)
{
    size_t n = strlen(prefix);
    if (strncmp(line, prefix, n) != 0)
        return 0;
    if (dst[0] == '\0')
        g_strlcpy(dst, line + n, cap);
    return 1;
}

const char *const lg_rids[3] = {"q", "h", "f"};

/* RFC 8853 sending side: the mid and rid extensions (which name a new
 * SSRC's m-line and layer, as Chrome sends them), one a=rid per layer and
 * a=simulcast in the same order (lowest first). */
static void lg_sdp_simulcast(GString *s, int mid_ext, int rid_ext)
{
    g_string_append_printf(s, "a=extmap:%d %s\r\n", mid_ext, LG_MID_URI);
    g_string_append_printf(s, "a=extmap:%d %s\r\n", rid_ext, LG_RID_URI);
    for (int i = 0; i < 3; i++)
        g_string_append_printf(s, "a=rid:%s send\r\n", lg_rids[i]);
    g_string_append_printf(s, "a=simulcast:send %s;%s;%s\r\n", lg_rids[0], lg_rids[1], lg_rids[2]);
}

int lg_sdp_parse_offer(const char *sdp, lg_offer_t *o)
{
    memset(o, 0, sizeof(*o));
    gchar **lines = g_strsplit(sdp, "\n", -1);
    lg_mline_t *m = NULL;
    for (gchar **l = lines; *l; l++) {
        char *s = *l;
        size_t n = strlen(s);
        if (n > 0 && s[n - 1] == '\r')
            s[n - 1] = '\0';
        if (strncmp(s, "m=", 2) == 0) {
            if (o->n_ml == LG_MAX_MLINES)
                goto fail;
            m = &o->ml[o->n_ml++];
            m->video = strncmp(s, "m=video", 7) == 0;
            m->app = !m->video && strncmp(s, "m=audio", 7) != 0;
            m->dir = LG_DIR_SENDRECV;
            m->pt = -1;
            const char *sp = strchr(s, ' ');
            sp = sp ? strchr(sp + 1, ' ') : NULL; /* port */
            sp = sp ? strchr(sp + 1, ' ') : NULL; /* proto */
            if (sp && sp[1] >= '0' && sp[1] <= '9')
                m->pt = atoi(sp + 1);
            continue;
        }
        if (lg_take(s, "a=ice-ufrag:", o->ufrag, sizeof(o->ufrag)) ||
            lg_take(s, "a=ice-pwd:", o->pwd, sizeof(o->pwd)) ||
            lg_take(s, "a=fingerprint:sha-256 ", o->fp, sizeof(o->fp)) ||
            lg_take(s, "a=setup:", o->setup, sizeof(o->setup)))
            continue;
        if (m != NULL && strncmp(s, "a=extmap:", 9) == 0) {
            const char *uri = strchr(s, ' ');
            if (uri != NULL && strcmp(uri + 1, LG_RID_URI) == 0)
                m->rid_ext = atoi(s + 9);
            else if (uri != NULL && strcmp(uri + 1, LG_MID_URI) == 0)
                m->mid_ext = atoi(s + 9);
            continue;
        }
        if (strncmp(s, "a=candidate:", 12) == 0) {
            int dup = 0;
            for (size_t i = 0; i < o->n_cands; i++)
                dup |= strcmp(o->cands[i], s + 2) == 0;
            if (!dup && o->n_cands < LG_MAX_CANDS)
                g_strlcpy(o->cands[o->n_cands++], s + 2, sizeof(o->cands[0]));
            continue;
        }
        if (!m)
            continue;
        if (strncmp(s, "a=mid:", 6) == 0)
            g_strlcpy(m->mid, s + 6, sizeof(m->mid));
        else if (strcmp(s, "a=sendonly") == 0)
            m->dir = LG_DIR_SENDONLY;
        else if (strcmp(s, "a=recvonly") == 0)
            m->dir = LG_DIR_RECVONLY;
        else if (strcmp(s, "a=inactive") == 0)
            m->dir = LG_DIR_INACTIVE;
        else if (strncmp(s, "a=ssrc:", 7) == 0 && m->ssrc == 0)
            m->ssrc = (uint32_t)strtoul(s + 7, NULL, 10);
    }
    g_strfreev(lines);
    return o->n_ml > 0 && o->ufrag[0] && o->pwd[0] && o->fp[0] ? 0 : -1;
fail:
    g_strfreev(lines);
    return -1;
}

/* The direction we answer: publish slots sendonly when we publish that
 * kind, subscriptions recvonly, everything else inactive. */
static const char *lg_answer_dir(const lg_mline_t *m, size_t i, const lg_answer_params_t *a)
{
    if (m->app)
        return "inactive";
    if (a->recv_all)
        return m->dir == LG_DIR_SENDONLY || m->dir == LG_DIR_SENDRECV ? "recvonly" : "inactive";
    if (i < 2) {
        uint32_t ssrc = m->video ? a->video_ssrc : a->audio_ssrc;
        return ssrc && m->dir == LG_DIR_RECVONLY ? "sendonly" : "inactive";
    }
    return m->dir == LG_DIR_SENDONLY || m->dir == LG_DIR_SENDRECV ? "recvonly" : "inactive";
}

char *lg_sdp_answer(const lg_offer_t *o, const lg_answer_params_t *a)
{
    GString *s = g_string_sized_new(256 + o->n_ml * 300);
    g_string_append_printf(s, "v=0\r\no=- %u %llu IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
                           g_str_hash(a->label), (unsigned long long)a->version);
    g_string_append(s, "a=group:BUNDLE");
    for (size_t i = 0; i < o->n_ml; i++)
        g_string_append_printf(s, " %s", o->ml[i].mid);
    g_string_append_printf(s,
                           "\r\na=msid-semantic: WMS *\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                           "a=fingerprint:sha-256 %s\r\na=setup:active\r\n",
                           a->ufrag, a->pwd, a->fp);
    for (size_t i = 0; i < o->n_ml; i++) {
        const lg_mline_t *m = &o->ml[i];
        const char *dir = lg_answer_dir(m, i, a);
        int pt = m->pt >= 0 ? m->pt : m->video ? 96 : 111;
        if (m->app) {
            g_string_append_printf(s,
                                   "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                                   "c=IN IP4 0.0.0.0\r\na=mid:%s\r\n",
                                   m->mid);
            continue;
        }
        g_string_append_printf(s, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n", m->video ? "video" : "audio",
                               pt);
        g_string_append_printf(s, "c=IN IP4 0.0.0.0\r\na=mid:%s\r\na=%s\r\na=rtcp-mux\r\n", m->mid,
                               dir);
        if (m->video)
            g_string_append_printf(s,
                                   "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\n"
                                   "a=rtcp-fb:%d nack pli\r\n",
                                   pt, pt, pt);
        else
            g_string_append_printf(s, "a=rtpmap:%d opus/48000/2\r\n", pt);
        if (i < 2 && strcmp(dir, "sendonly") == 0) {
            uint32_t ssrc = m->video ? a->video_ssrc : a->audio_ssrc;
            g_string_append_printf(s, "a=msid:%s %s\r\n", a->label, m->video ? "v0" : "a0");
            if (m->video && a->simulcast && m->rid_ext > 0 && m->mid_ext > 0)
                lg_sdp_simulcast(s, m->mid_ext, m->rid_ext);
            else
                g_string_append_printf(s, "a=ssrc:%u cname:%s\r\n", ssrc, a->label);
        }
        if (i == 0) {
            for (size_t c = 0; c < a->n_cands; c++)
                g_string_append_printf(s, "a=%s\r\n", a->cands[c]);
            g_string_append(s, "a=end-of-candidates\r\n");
        }
    }
    return g_string_free(s, FALSE);
}

char *lg_sdp_offer(const lg_answer_params_t *a)
{
    GString *s = g_string_sized_new(2048);
    g_string_append_printf(s,
                           "v=0\r\no=- %u %llu IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                           "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS %s\r\n",
                           g_str_hash(a->label), (unsigned long long)a->version, a->label);
    for (int v = 0; v < 2; v++) {
        uint32_t ssrc = v ? a->video_ssrc : a->audio_ssrc;
        if (v)
            g_string_append(s, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n");
        else
            g_string_append(s, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
        g_string_append_printf(s,
                               "c=IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                               "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\na=mid:%d\r\n"
                               "a=sendonly\r\na=rtcp-mux\r\n",
                               a->ufrag, a->pwd, a->fp, v);
        if (v)
            g_string_append(s, "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
                               "a=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm fir\r\n");
        else
            g_string_append(s, "a=rtpmap:111 opus/48000/2\r\n");
        if (v && a->simulcast)
            lg_sdp_simulcast(s, LG_MID_EXT, LG_RID_EXT);
        else
            g_string_append_printf(s, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", ssrc,
                                   a->label, ssrc, a->label, v ? "v0" : "a0");
        g_string_append_printf(s, "a=msid:%s %s\r\n", a->label, v ? "v0" : "a0");
        for (size_t c = 0; c < a->n_cands; c++)
            g_string_append_printf(s, "a=%s\r\n", a->cands[c]);
        g_string_append(s, "a=end-of-candidates\r\n");
    }
    return g_string_free(s, FALSE);
}
