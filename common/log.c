#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static char vc_log_name[64] = "vc";
static vc_log_level_t vc_log_min = VC_LOG_INFO;

void vc_log_init(const char *name, vc_log_level_t min)
{
    snprintf(vc_log_name, sizeof(vc_log_name), "%s", name);
    vc_log_min = min;
    const char *env = getenv("VC_LOG_LEVEL");
    if (env == NULL)
        return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(env, names[i]) == 0)
            vc_log_min = (vc_log_level_t)i;
}

void vc_log(vc_log_level_t level, const char *fmt, ...)
{
    static const char tags[] = "DIWE";
    if (level < vc_log_min)
        return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld %c %s: ", tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, tags[level], vc_log_name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}
