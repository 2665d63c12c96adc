#include "media-worker/core/sdp.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sdp_rids[SDP_MAX_RIDS] = {"q", "h", "f"};

/* ---- offer ---- */

typedef struct {
    char *buf;
    size_t cap, len;
    int overflow;
} sdp_out_t;

/* Appends one formatted fragment; remembers overflow instead of failing now. */
__attribute__((format(printf, 2, 3))) static void sdp_put(sdp_out_t *o, const char *fmt, ...)
{
    if (o->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = 1;
        return;
    }
    o->len += (size_t)n;
}

/* Names a direction attribute. */
static const char *sdp_dir_str(sdp_dir_t d)
{
    switch (d) {
    case SDP_DIR_SENDONLY:
        return "sendonly";
    case SDP_DIR_RECVONLY:
        return "recvonly";
    case SDP_DIR_INACTIVE:
        return "inactive";
    default:
        return "sendrecv";
    }
}

/* Codec lines: opus for audio; VP8 + rtx and H264 + rtx for video. */
static void sdp_put_codecs(sdp_out_t *o, sdp_kind_t kind)
{
    if (kind == SDP_KIND_AUDIO) {
        sdp_put(o, "a=rtpmap:%d opus/48000/2\r\n", SDP_PT_OPUS);
        sdp_put(o, "a=rtcp-fb:%d transport-cc\r\n", SDP_PT_OPUS);
        sdp_put(o, "a=fmtp:%d minptime=10;useinbandfec=1\r\n", SDP_PT_OPUS);
        return;
    }
    static const struct {
        int pt, rtx;
        const char *name, *fmtp;
    } vc[] = {
        {SDP_PT_VP8, SDP_PT_VP8_RTX, "VP8", NULL},
        {SDP_PT_H264, SDP_PT_H264_RTX, "H264",
         "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
    };
    for (size_t i = 0; i < sizeof(vc) / sizeof(vc[0]); i++) {
        sdp_put(o, "a=rtpmap:%d %s/90000\r\n", vc[i].pt, vc[i].name);
        sdp_put(o, "a=rtcp-fb:%d goog-remb\r\na=rtcp-fb:%d transport-cc\r\n", vc[i].pt, vc[i].pt);
        sdp_put(o, "a=rtcp-fb:%d ccm fir\r\n", vc[i].pt);
        sdp_put(o, "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n", vc[i].pt, vc[i].pt);
        if (vc[i].fmtp != NULL)
            sdp_put(o, "a=fmtp:%d %s\r\n", vc[i].pt, vc[i].fmtp);
        sdp_put(o, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%d\r\n", vc[i].rtx, vc[i].rtx, vc[i].pt);
    }
}

/* The a=msid line of a sendonly m-line (RFC 8830; its stream id is what
 * browsers group tracks by) and the SSRCs the worker sends with (cname
 * only: a=ssrc msid attributes are the legacy form of a=msid). */
static void sdp_put_ssrcs(sdp_out_t *o, const sdp_offer_mline_t *m)
{
    sdp_put(o, "a=msid:%s %s\r\n", m->msid_stream, m->msid_track);
    if (m->ssrc == 0)
        return;
    if (m->rtx_ssrc != 0)
        sdp_put(o, "a=ssrc-group:FID %u %u\r\n", m->ssrc, m->rtx_ssrc);
    uint32_t s[2] = {m->ssrc, m->rtx_ssrc};
    for (int i = 0; i < 2 && s[i] != 0; i++)
        sdp_put(o, "a=ssrc:%u cname:%s\r\n", s[i], m->msid_stream);
}

/* Header extensions (RFC 8285): audio level on audio, transport-wide seq
 * and mid everywhere, rid/repaired-rid where the worker receives video. */
static void sdp_put_extmaps(sdp_out_t *o, const sdp_offer_mline_t *m)
{
    if (m->kind == SDP_KIND_AUDIO)
        sdp_put(o, "a=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n",
                SDP_EXT_AUDIO_LEVEL);
    sdp_put(o,
            "a=extmap:%d http://www.ietf.org/id/"
            "draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n",
            SDP_EXT_TWCC);
    sdp_put(o, "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:mid\r\n", SDP_EXT_MID);
    if (m->kind == SDP_KIND_VIDEO && m->dir == SDP_DIR_RECVONLY) {
        sdp_put(o, "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n", SDP_EXT_RID);
        sdp_put(o, "a=extmap:%d urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n",
                SDP_EXT_RRID);
    }
}

/* RFC 8853 5.1: the layers a simulcast receiver accepts, lowest first. */
static void sdp_put_simulcast(sdp_out_t *o)
{
    for (size_t i = 0; i < SDP_MAX_RIDS; i++)
        sdp_put(o, "a=rid:%s recv\r\n", sdp_rids[i]);
    sdp_put(o, "a=simulcast:recv");
    for (size_t i = 0; i < SDP_MAX_RIDS; i++)
        sdp_put(o, "%s%s", i ? ";" : " ", sdp_rids[i]);
    sdp_put(o, "\r\n");
}

/* The candidates, once, in the first media section: every m-line is in
 * one BUNDLE group on one transport (RFC 8843 7.1.1 / 8839 4.1). */
static void sdp_put_candidates(sdp_out_t *o, const sdp_offer_t *of)
{
    for (size_t k = 0; k < of->n_candidates; k++)
        sdp_put(o, "a=%s\r\n", of->candidates[k]);
    sdp_put(o, "a=end-of-candidates\r\n");
}

/* One media section (RFC 8829 5.2.1 for what an offer carries). ICE and
 * DTLS attributes are at session level (the same for every m-line). */
static void sdp_put_mline(sdp_out_t *o, const sdp_offer_t *of, size_t i)
{
    const sdp_offer_mline_t *m = &of->mlines[i];
    if (m->kind == SDP_KIND_AUDIO)
        sdp_put(o, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", SDP_PT_OPUS);
    else
        sdp_put(o, "m=video 9 UDP/TLS/RTP/SAVPF %d %d %d %d\r\n", SDP_PT_VP8, SDP_PT_VP8_RTX,
                SDP_PT_H264, SDP_PT_H264_RTX);
    sdp_put(o, "c=IN IP4 0.0.0.0\r\n");
    sdp_put(o, "a=mid:%zu\r\n", i);
    sdp_put(o, "a=%s\r\n", sdp_dir_str(m->dir));
    sdp_put(o, "a=rtcp-mux\r\na=rtcp-rsize\r\n");
    sdp_put_extmaps(o, m);
    sdp_put_codecs(o, m->kind);
    if (m->simulcast && m->kind == SDP_KIND_VIDEO && m->dir == SDP_DIR_RECVONLY)
        sdp_put_simulcast(o);
    if (m->dir == SDP_DIR_SENDONLY && m->msid_stream != NULL && m->msid_track != NULL)
        sdp_put_ssrcs(o, m);
    if (i == 0)
        sdp_put_candidates(o, of);
}

/* RFC 8841 5: the data channel section (SCTP over DTLS, BUNDLEd). */
static void sdp_put_app(sdp_out_t *o)
{
    sdp_put(o, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n");
    sdp_put(o, "a=mid:%s\r\na=sctp-port:%d\r\na=max-message-size:%d\r\n", SDP_APP_MID,
            SDP_SCTP_PORT, SDP_MAX_MESSAGE_SIZE);
}

/* Builds the whole offer: session part (with the ICE and DTLS attributes
 * every m-line shares, RFC 8839 5.4 / RFC 8122 5), BUNDLE group, then each
 * m-line. */
int sdp_build_offer(const sdp_offer_t *of, char *buf, size_t cap, size_t *len)
{
    if (cap == 0 || of->n_mlines == 0 || of->ice_ufrag == NULL || of->ice_pwd == NULL ||
        of->fingerprint == NULL)
        return -1;
    sdp_out_t o = {.buf = buf, .cap = cap};
    buf[0] = '\0';
    sdp_put(&o, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
            (unsigned long long)of->session_id, (unsigned long long)of->version);
    sdp_put(&o, "a=group:BUNDLE");
    for (size_t i = 0; i < of->n_mlines; i++) {
        if (of->datachannel && i == SDP_APP_INDEX)
            sdp_put(&o, " %s", SDP_APP_MID);
        sdp_put(&o, " %zu", i);
    }
    if (of->datachannel && of->n_mlines <= SDP_APP_INDEX)
        sdp_put(&o, " %s", SDP_APP_MID);
    sdp_put(&o, "\r\na=msid-semantic: WMS *\r\n");
    sdp_put(&o, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", of->ice_ufrag, of->ice_pwd);
    sdp_put(&o, "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n", of->fingerprint);
    for (size_t i = 0; i < of->n_mlines; i++) {
        if (of->datachannel && i == SDP_APP_INDEX)
            sdp_put_app(&o);
        sdp_put_mline(&o, of, i);
    }
    if (of->datachannel && of->n_mlines <= SDP_APP_INDEX)
        sdp_put_app(&o);
    if (o.overflow)
        return -1;
    *len = o.len;
    return 0;
}

/* ---- answer ---- */

typedef struct {
    sdp_answer_t *a;
    sdp_answer_mline_t *m;     /* current media section, NULL at session level */
    sdp_answer_mline_t app_ml; /* scratch for the m=application section */
    int in_app;                /* ps->m is app_ml */
    char *err;
    size_t errlen;
    int lineno;
} sdp_ps_t;

/* Formats a parse error naming the line. */
__attribute__((format(printf, 2, 3))) static int sdp_fail(sdp_ps_t *ps, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->lineno > 0)
        snprintf(ps->err, ps->errlen, "line %d: %s", ps->lineno, msg);
    else
        snprintf(ps->err, ps->errlen, "%s", msg);
    return -1;
}

/* Copies a token of at most cap-1 bytes; 0 if too long or empty. */
static int sdp_copy(char *dst, size_t cap, const char *s, size_t n)
{
    if (n == 0 || n >= cap)
        return 0;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 1;
}

/* Parses a decimal uint32 from s[0..n); returns chars used, 0 if none. */
static size_t sdp_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && i < 11)
        v = v * 10 + (uint64_t)(s[i++] - '0');
    if (i == 0 || v > UINT32_MAX)
        return 0;
    *out = (uint32_t)v;
    return i;
}

/* RFC 8841 5: "m=application <port> UDP/DTLS/SCTP webrtc-datachannel";
 * recorded in a->app, not as a media m-line. */
static int sdp_parse_app_m(sdp_ps_t *ps, const char *v, size_t n)
{
    static const char *const protos[] = {"UDP/DTLS/SCTP webrtc-datachannel",
                                         "TCP/DTLS/SCTP webrtc-datachannel"};
    uint32_t port;
    size_t used;

    if (ps->a->app.present)
        return sdp_fail(ps, "more than one m=application");
    memset(&ps->app_ml, 0, sizeof(ps->app_ml));
    ps->app_ml.kind = SDP_KIND_OTHER;
    ps->m = &ps->app_ml;
    ps->in_app = 1;
    ps->a->app.present = 1;
    ps->a->app.sctp_port = SDP_SCTP_PORT;
    ps->a->app.max_message_size = 65536;
    v += 12, n -= 12; /* "application " */
    used = sdp_u32(v, n, &port);
    if (used == 0 || port > 65535)
        return sdp_fail(ps, "malformed m= port");
    ps->app_ml.rejected = port == 0;
    v += used, n -= used;
    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
        if (n == strlen(protos[i]) + 1 && v[0] == ' ' && memcmp(v + 1, protos[i], n - 1) == 0)
            ps->a->app.accepted = port != 0;
    return 0;
}

/* "a=sctp-port:<port>" and "a=max-message-size:<bytes>" (RFC 8841 5, 6). */
static int sdp_parse_app_attr(sdp_ps_t *ps, int port, const char *v, size_t n)
{
    uint32_t x;

    if (sdp_u32(v, n, &x) != n || (port && (x == 0 || x > 65535)))
        return sdp_fail(ps, "malformed a=%s", port ? "sctp-port" : "max-message-size");
    if (port)
        ps->a->app.sctp_port = (uint16_t)x;
    else
        ps->a->app.max_message_size = x;
    return 0;
}

/* "m=<media> <port> <proto> <fmt>..." */
static int sdp_parse_m(sdp_ps_t *ps, const char *v, size_t n)
{
    if (n >= 12 && memcmp(v, "application ", 12) == 0)
        return sdp_parse_app_m(ps, v, n);
    ps->in_app = 0;
    if (ps->a->n_mlines == SDP_MAX_MLINES)
        return sdp_fail(ps, "more than %d m-lines", SDP_MAX_MLINES);
    sdp_answer_mline_t *m = &ps->a->mlines[ps->a->n_mlines++];
    memset(m, 0, sizeof(*m));
    ps->m = m;
    const char *sp = memchr(v, ' ', n);
    if (sp == NULL)
        return sdp_fail(ps, "malformed m= line");
    size_t kl = (size_t)(sp - v);
    m->kind = (kl == 5 && memcmp(v, "audio", 5) == 0)   ? SDP_KIND_AUDIO
              : (kl == 5 && memcmp(v, "video", 5) == 0) ? SDP_KIND_VIDEO
                                                        : SDP_KIND_OTHER;
    const char *p = sp + 1, *end = v + n;
    uint32_t port;
    size_t used = sdp_u32(p, (size_t)(end - p), &port);
    if (used == 0 || port > 65535)
        return sdp_fail(ps, "malformed m= port");
    m->rejected = port == 0;
    p += used;
    while (p < end && *p != ' ')
        p++; /* "/<count>" */
    if (p < end)
        p++;
    while (p < end && *p != ' ')
        p++; /* proto */
    while (p < end) {
        p++;
        uint32_t pt;
        used = sdp_u32(p, (size_t)(end - p), &pt);
        if (used == 0) { /* non-numeric format (e.g. application): skip it */
            while (p < end && *p != ' ')
                p++;
            continue;
        }
        if (pt < 128)
            m->pts[pt >> 3] |= (uint8_t)(1u << (pt & 7));
        p += used;
    }
    return 0;
}

/* "a=ssrc:<ssrc> <attr>" and "a=ssrc-group:FID <a> <b>" */
static int sdp_parse_ssrc(sdp_ps_t *ps, const char *v, size_t n, int group)
{
    sdp_answer_mline_t *m = ps->m;
    if (m == NULL)
        return 0; /* session-level ssrc: ignored */
    if (group) {
        if (n < 4 || memcmp(v, "FID ", 4) != 0)
            return 0;
        uint32_t a, b;
        size_t u1 = sdp_u32(v + 4, n - 4, &a);
        if (u1 == 0 || 4 + u1 + 1 >= n || sdp_u32(v + 5 + u1, n - 5 - u1, &b) == 0)
            return sdp_fail(ps, "malformed a=ssrc-group:FID");
        m->fid_ssrc = a;
        m->fid_rtx = b;
        return 0;
    }
    uint32_t s;
    if (sdp_u32(v, n, &s) == 0)
        return sdp_fail(ps, "malformed a=ssrc");
    for (size_t i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i] == s)
            return 0;
    if (m->n_ssrcs == SDP_MAX_SSRCS)
        return sdp_fail(ps, "more than %d SSRCs in one m-line", SDP_MAX_SSRCS);
    m->ssrcs[m->n_ssrcs++] = s;
    return 0;
}

/* "a=fingerprint:<alg> <hex:hex...>" */
static int sdp_parse_fp(sdp_ps_t *ps, const char *v, size_t n)
{
    if (ps->a->fp[0] != '\0')
        return 0; /* first one wins (Firefox may list several) */
    const char *sp = memchr(v, ' ', n);
    if (sp == NULL || !sdp_copy(ps->a->fp_alg, sizeof(ps->a->fp_alg), v, (size_t)(sp - v)) ||
        !sdp_copy(ps->a->fp, sizeof(ps->a->fp), sp + 1, n - (size_t)(sp - v) - 1))
        return sdp_fail(ps, "malformed a=fingerprint");
    for (char *c = ps->a->fp_alg; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return 0;
}

/* "a=setup:active|passive|actpass" */
static int sdp_parse_setup(sdp_ps_t *ps, const char *v, size_t n)
{
    sdp_setup_t s;
    if (n == 6 && memcmp(v, "active", 6) == 0)
        s = SDP_SETUP_ACTIVE;
    else if (n == 7 && memcmp(v, "passive", 7) == 0)
        s = SDP_SETUP_PASSIVE;
    else if (n == 7 && memcmp(v, "actpass", 7) == 0)
        s = SDP_SETUP_ACTPASS;
    else
        return sdp_fail(ps, "unknown a=setup value");
    if (ps->a->setup == SDP_SETUP_NONE)
        ps->a->setup = s;
    return 0;
}

/* "a=candidate:..." kept verbatim (without "a="), once: with BUNDLE the
 * same candidates repeat in every m-line. */
static int sdp_parse_cand(sdp_ps_t *ps, const char *line, size_t n)
{
    sdp_answer_t *a = ps->a;
    for (size_t i = 0; i < a->n_candidates; i++)
        if (strncmp(a->candidates[i], line, n) == 0 && a->candidates[i][n] == '\0')
            return 0;
    if (a->n_candidates == SDP_MAX_CANDIDATES)
        return 0; /* enough to connect; the rest are ignored */
    if (!sdp_copy(a->candidates[a->n_candidates], SDP_MAX_CANDIDATE, line, n))
        return sdp_fail(ps, "candidate too long");
    a->n_candidates++;
    return 0;
}

/* Stores ice-ufrag / ice-pwd the first time they appear. */
static int sdp_parse_ice(sdp_ps_t *ps, char *dst, const char *v, size_t n, const char *what)
{
    if (dst[0] != '\0')
        return 0;
    if (!sdp_copy(dst, SDP_MAX_ICE, v, n))
        return sdp_fail(ps, "malformed a=%s", what);
    return 0;
}

/* "a=extmap:<id>[/<dir>] <uri> ...": remembers the ids of the extensions
 * the worker uses. Unknown URIs are ignored. */
static int sdp_parse_extmap(sdp_ps_t *ps, const char *v, size_t n)
{
    uint32_t id;
    size_t used = sdp_u32(v, n, &id);
    if (used == 0 || id == 0 || id > 255)
        return sdp_fail(ps, "malformed a=extmap");
    const char *sp = memchr(v, ' ', n);
    if (sp == NULL)
        return sdp_fail(ps, "malformed a=extmap");
    const char *uri = sp + 1;
    size_t ul = n - (size_t)(uri - v);
    const char *usp = memchr(uri, ' ', ul);
    if (usp != NULL)
        ul = (size_t)(usp - uri);
    static const struct {
        const char *uri;
        size_t off;
    } known[] = {
        {"urn:ietf:params:rtp-hdrext:ssrc-audio-level",
         offsetof(sdp_answer_mline_t, ext_audio_level)},
        {"http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
         offsetof(sdp_answer_mline_t, ext_twcc)},
        {"urn:ietf:params:rtp-hdrext:sdes:mid", offsetof(sdp_answer_mline_t, ext_mid)},
        {"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", offsetof(sdp_answer_mline_t, ext_rid)},
        {"urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
         offsetof(sdp_answer_mline_t, ext_rrid)},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].uri) == ul && memcmp(known[i].uri, uri, ul) == 0)
            *((uint8_t *)ps->m + known[i].off) = (uint8_t)id;
    return 0;
}

/* "a=rid:<id> send [...]" (RFC 8851 10): the layers a publisher sends. */
static int sdp_parse_rid(sdp_ps_t *ps, const char *v, size_t n)
{
    sdp_answer_mline_t *m = ps->m;
    const char *sp = memchr(v, ' ', n);
    if (sp == NULL)
        return sdp_fail(ps, "malformed a=rid");
    size_t il = (size_t)(sp - v);
    if (n - il - 1 < 4 || memcmp(sp + 1, "send", 4) != 0 || m->n_rids == SDP_MAX_RIDS)
        return 0;
    if (!sdp_copy(m->rids[m->n_rids], SDP_MAX_RID, v, il))
        return sdp_fail(ps, "malformed a=rid");
    m->n_rids++;
    return 0;
}

/* Dispatches one a= attribute. */
static int sdp_parse_attr(sdp_ps_t *ps, const char *v, size_t n)
{
    const char *colon = memchr(v, ':', n);
    size_t kl = colon ? (size_t)(colon - v) : n;
    const char *val = colon ? colon + 1 : v + n;
    size_t vl = colon ? n - kl - 1 : 0;
#define SDP_IS(k) (kl == sizeof(k) - 1 && memcmp(v, k, kl) == 0)
    if (SDP_IS("ice-ufrag"))
        return sdp_parse_ice(ps, ps->a->ice_ufrag, val, vl, "ice-ufrag");
    if (SDP_IS("ice-pwd"))
        return sdp_parse_ice(ps, ps->a->ice_pwd, val, vl, "ice-pwd");
    if (SDP_IS("fingerprint"))
        return sdp_parse_fp(ps, val, vl);
    if (SDP_IS("setup"))
        return sdp_parse_setup(ps, val, vl);
    if (SDP_IS("candidate"))
        return sdp_parse_cand(ps, v, n);
    if (SDP_IS("ssrc"))
        return sdp_parse_ssrc(ps, val, vl, 0);
    if (SDP_IS("ssrc-group"))
        return sdp_parse_ssrc(ps, val, vl, 1);
    if (ps->m == NULL)
        return 0;
    if (SDP_IS("mid")) {
        if (!sdp_copy(ps->m->mid, SDP_MAX_MID, val, vl))
            return sdp_fail(ps, "malformed a=mid");
        return 0;
    }
    if (ps->in_app && SDP_IS("sctp-port"))
        return sdp_parse_app_attr(ps, 1, val, vl);
    if (ps->in_app && SDP_IS("max-message-size"))
        return sdp_parse_app_attr(ps, 0, val, vl);
    if (SDP_IS("extmap"))
        return sdp_parse_extmap(ps, val, vl);
    if (SDP_IS("rid"))
        return sdp_parse_rid(ps, val, vl);
    if (SDP_IS("sendrecv"))
        ps->m->dir = SDP_DIR_SENDRECV;
    else if (SDP_IS("sendonly"))
        ps->m->dir = SDP_DIR_SENDONLY;
    else if (SDP_IS("recvonly"))
        ps->m->dir = SDP_DIR_RECVONLY;
    else if (SDP_IS("inactive"))
        ps->m->dir = SDP_DIR_INACTIVE;
#undef SDP_IS
    return 0;
}

/* One "<letter>=<value>" line. */
static int sdp_parse_line(sdp_ps_t *ps, const char *s, size_t n)
{
    if (n == 0)
        return 0;
    if (n < 2 || s[1] != '=')
        return sdp_fail(ps, "expected <type>=<value>");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
            return sdp_fail(ps, "control character");
    if (ps->lineno == 1 && s[0] != 'v')
        return sdp_fail(ps, "the first line must be v=0");
    switch (s[0]) {
    case 'v':
        if (n != 3 || s[2] != '0')
            return sdp_fail(ps, "unsupported SDP version");
        return 0;
    case 'm':
        return sdp_parse_m(ps, s + 2, n - 2);
    case 'a':
        return sdp_parse_attr(ps, s + 2, n - 2);
    default:
        return 0;
    }
}

/* Checks what every answer must carry once all lines are read. */
static int sdp_check_answer(sdp_ps_t *ps)
{
    sdp_answer_t *a = ps->a;
    ps->lineno = 0;
    if (a->n_mlines == 0)
        return sdp_fail(ps, "no m-lines");
    if (a->ice_ufrag[0] == '\0' || a->ice_pwd[0] == '\0')
        return sdp_fail(ps, "missing a=ice-ufrag or a=ice-pwd");
    if (a->fp[0] == '\0')
        return sdp_fail(ps, "missing a=fingerprint");
    if (a->setup != SDP_SETUP_ACTIVE && a->setup != SDP_SETUP_PASSIVE)
        return sdp_fail(ps, "a=setup must be active or passive in an answer");
    for (size_t i = 0; i < a->n_mlines; i++)
        if (a->mlines[i].mid[0] == '\0' && !a->mlines[i].rejected)
            return sdp_fail(ps, "m-line %zu has no a=mid", i);
    if (a->app.present) {
        memcpy(a->app.mid, ps->app_ml.mid, sizeof(a->app.mid));
        if (a->app.accepted && strcmp(a->app.mid, SDP_APP_MID) != 0)
            return sdp_fail(ps, "the m=application answer must have a=mid:%s", SDP_APP_MID);
    }
    return 0;
}

/* Splits on LF (CRLF tolerated) and parses line by line. */
int sdp_parse_answer(const char *sdp, size_t len, sdp_answer_t *out, char *err, size_t errlen)
{
    sdp_answer_t *a = calloc(1, sizeof(*a));
    if (a == NULL)
        abort();
    sdp_ps_t ps = {.a = a, .err = err, .errlen = errlen};
    const char *p = sdp, *end = sdp + len;
    int rv = 0;
    if (len == 0)
        rv = sdp_fail(&ps, "empty SDP");
    while (rv == 0 && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n > 0 && p[n - 1] == '\r')
            n--;
        ps.lineno++;
        rv = sdp_parse_line(&ps, p, n);
        p = nl ? nl + 1 : end;
    }
    if (rv == 0)
        rv = sdp_check_answer(&ps);
    if (rv == 0)
        memcpy(out, a, sizeof(*a));
    free(a);
    return rv;
}

/* FID primary if grouped, else the first a=ssrc. */
uint32_t sdp_mline_media_ssrc(const sdp_answer_mline_t *m, uint32_t *rtx)
{
    *rtx = 0;
    if (m->fid_ssrc != 0) {
        *rtx = m->fid_rtx;
        return m->fid_ssrc;
    }
    return m->n_ssrcs > 0 ? m->ssrcs[0] : 0;
}
