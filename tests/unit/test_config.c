#include "common/config.h"
#include "tests/unit/vctest.h"

static void t_parse(void)
{
    vc_config_t *c = vc_config_new();
    char err[200];
    const char *txt = "# comment\n port = 8080 \nname = \"a b\"\n\nx.y=1\n";
    VCT_CHECK_EQ_INT(vc_config_parse(c, txt, strlen(txt), err, sizeof(err)), 0);
    long port;
    VCT_CHECK_EQ_INT(vc_config_int(c, "port", 1, 1, 65535, &port, err, sizeof(err)), 0);
    VCT_CHECK_EQ_INT(port, 8080);
    VCT_CHECK_EQ_STR(vc_config_str(c, "name", NULL), "a b");
    VCT_CHECK_EQ_STR(vc_config_unused(c), "x.y");
    vc_config_free(c);
}

static void t_bad(void)
{
    static const char *bad[] = {"novalue\n", "Bad Key = 1\n", "=1\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        vc_config_t *c = vc_config_new();
        char err[200];
        VCT_CHECK_EQ_INT(vc_config_parse(c, bad[i], strlen(bad[i]), err, sizeof(err)), -1);
        vc_config_free(c);
    }
    vc_config_t *c = vc_config_new();
    char err[200];
    vc_config_set(c, "port=99999", err, sizeof(err));
    long v;
    VCT_CHECK_EQ_INT(vc_config_int(c, "port", 1, 1, 65535, &v, err, sizeof(err)), -1);
    vc_config_free(c);
}

static void t_args(void)
{
    vc_config_t *c = vc_config_new();
    char err[200];
    char *argv[] = {"x", "--http-port", "9", "--set", "a=b", "--redis_url=unix:/x", NULL};
    VCT_CHECK_EQ_INT(vc_config_from_args(c, 6, argv, err, sizeof(err)), 0);
    VCT_CHECK_EQ_STR(vc_config_str(c, "http_port", NULL), "9");
    VCT_CHECK_EQ_STR(vc_config_str(c, "a", NULL), "b");
    VCT_CHECK_EQ_STR(vc_config_str(c, "redis_url", NULL), "unix:/x");
    vc_config_free(c);
}

static const vct_case_t cases[] = {{"parse", t_parse}, {"bad", t_bad}, {"args", t_args}};
VCT_MAIN("config", cases)
