#include "common/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

typedef struct {
    char *key;
    char *value;
    int used;
} vc_config_entry_t;

struct vc_config {
    vc_config_entry_t *v;
    size_t n, cap;
};

vc_config_t *vc_config_new(void)
{
    return vc_calloc(1, sizeof(vc_config_t));
}

void vc_config_free(vc_config_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].key);
        free(c->v[i].value);
    }
    free(c->v);
    free(c);
}

static vc_config_entry_t *vc_config_find(vc_config_t *c, const char *key)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->v[i].key, key) == 0)
            return &c->v[i];
    return NULL;
}

static void vc_config_put(vc_config_t *c, const char *k, size_t klen, const char *v, size_t vlen)
{
    char *key = vc_strndup(k, klen);
    vc_config_entry_t *e = vc_config_find(c, key);
    if (e != NULL) {
        free(key);
        free(e->value);
        e->value = vc_strndup(v, vlen);
        return;
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = vc_realloc(c->v, c->cap * sizeof(*c->v));
    }
    c->v[c->n++] = (vc_config_entry_t){.key = key, .value = vc_strndup(v, vlen)};
}

static int vc_config_key_ok(const char *k, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = k[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.'))
            return 0;
    }
    return 1;
}

static void vc_trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t' || **s == '\r'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

int vc_config_parse(vc_config_t *c, const char *text, size_t len, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *s = p, *e = le;
        vc_trim(&s, &e);
        p = nl ? nl + 1 : end;
        if (s == e || *s == '#')
            continue;
        if (memchr(s, '\0', (size_t)(e - s)) != NULL) {
            snprintf(err, errlen, "line %d: NUL byte", lineno);
            return -1;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (eq == NULL) {
            snprintf(err, errlen, "line %d: expected 'key = value'", lineno);
            return -1;
        }
        const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
        vc_trim(&ks, &ke);
        vc_trim(&vs, &ve);
        if (!vc_config_key_ok(ks, (size_t)(ke - ks))) {
            snprintf(err, errlen, "line %d: invalid key (use [a-z0-9_.], at most 64)", lineno);
            return -1;
        }
        if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"') {
            vs++;
            ve--;
        }
        vc_config_put(c, ks, (size_t)(ke - ks), vs, (size_t)(ve - vs));
    }
    return 0;
}

int vc_config_load_file(vc_config_t *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            if (cap > (1u << 20)) {
                snprintf(err, errlen, "%s: larger than 1 MiB", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = vc_realloc(buf, cap);
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    char e2[200];
    int rv = vc_config_parse(c, buf, n, e2, sizeof(e2));
    if (rv != 0)
        snprintf(err, errlen, "%s: %s", path, e2);
    free(buf);
    return rv;
}

int vc_config_set(vc_config_t *c, const char *a, char *err, size_t errlen)
{
    return vc_config_parse(c, a, strlen(a), err, errlen);
}

const char *vc_config_str(vc_config_t *c, const char *key, const char *def)
{
    vc_config_entry_t *e = vc_config_find(c, key);
    if (e == NULL)
        return def;
    e->used = 1;
    return e->value;
}

int vc_config_int(vc_config_t *c, const char *key, long def, long min, long max, long *out,
                  char *err, size_t errlen)
{
    const char *s = vc_config_str(c, key, NULL);
    if (s == NULL) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        snprintf(err, errlen, "%s: '%s' is not an integer in [%ld, %ld]", key, s, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

const char *vc_config_unused(vc_config_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (!c->v[i].used)
            return c->v[i].key;
    return NULL;
}

int vc_config_from_args(vc_config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s'", a);
            return -1;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        char buf[1024];
        if (strcmp(a, "config") == 0 || strcmp(a, "set") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", a);
                return -1;
            }
            const char *v = argv[++i];
            if (strcmp(a, "config") == 0) {
                if (vc_config_load_file(c, v, err, errlen) != 0)
                    return -1;
                continue;
            }
            snprintf(buf, sizeof(buf), "%s", v);
        } else if (eq != NULL) {
            snprintf(buf, sizeof(buf), "%s", a);
        } else {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", a);
                return -1;
            }
            snprintf(buf, sizeof(buf), "%s=%s", a, argv[++i]);
        }
        for (char *p = buf; *p && *p != '='; p++)
            if (*p == '-')
                *p = '_';
        if (vc_config_set(c, buf, err, errlen) != 0)
            return -1;
    }
    return 0;
}
