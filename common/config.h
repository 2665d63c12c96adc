/* config: "key = value" files plus "--set key=value" overrides, shared by all
 * processes. Not a schema: each process looks up the keys it knows and reports
 * any key it does not (typos get a clear error, not silence). */
#ifndef VC_CONFIG_H
#define VC_CONFIG_H

#include <stddef.h>

typedef struct vc_config vc_config_t;

vc_config_t *vc_config_new(void);
void vc_config_free(vc_config_t *c);

/* Parses text ('#' comments, blank lines, "key = value"). Returns 0, or -1
 * with err naming the line. Later values replace earlier ones. */
int vc_config_parse(vc_config_t *c, const char *text, size_t len, char *err, size_t errlen);
int vc_config_load_file(vc_config_t *c, const char *path, char *err, size_t errlen);
/* One "key=value" assignment (from the command line). */
int vc_config_set(vc_config_t *c, const char *assignment, char *err, size_t errlen);

/* Lookups mark the key as used. Returned strings are borrowed from c. */
const char *vc_config_str(vc_config_t *c, const char *key, const char *def);
/* Returns 0 and *out, or -1 (err filled) if the value is not an integer in [min,max]. */
int vc_config_int(vc_config_t *c, const char *key, long def, long min, long max, long *out,
                  char *err, size_t errlen);

/* Returns the first key never looked up, or NULL. Call after all lookups. */
const char *vc_config_unused(vc_config_t *c);

/* Common command line: --config FILE, --set k=v (repeatable), and every
 * "--key value" / "--key=value" is taken as a --set. Returns 0 or -1 (err). */
int vc_config_from_args(vc_config_t *c, int argc, char **argv, char *err, size_t errlen);

#endif
