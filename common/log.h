/* log: one line per event to stderr, prefixed with time, level and process.
 * Not a structured logger and not for the packet path (log once, where handled). */
#ifndef VC_LOG_H
#define VC_LOG_H

typedef enum {
    VC_LOG_DEBUG,
    VC_LOG_INFO,
    VC_LOG_WARN,
    VC_LOG_ERROR,
} vc_log_level_t;

/* Sets the prefix (e.g. "edge[1]") and the lowest level printed. The
 * VC_LOG_LEVEL environment variable (debug|info|warn|error) overrides min. */
void vc_log_init(const char *name, vc_log_level_t min);
void vc_log(vc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define VC_DEBUG(...) vc_log(VC_LOG_DEBUG, __VA_ARGS__)
#define VC_INFO(...) vc_log(VC_LOG_INFO, __VA_ARGS__)
#define VC_WARN(...) vc_log(VC_LOG_WARN, __VA_ARGS__)
#define VC_ERROR(...) vc_log(VC_LOG_ERROR, __VA_ARGS__)

#endif
