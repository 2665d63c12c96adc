/* vc-sim: runs every deterministic media simulation and prints
 * "sim: N passed, M failed". */
#include "tests/sim/sim.h"

#include <stdarg.h>
#include <string.h>

int sim_passed, sim_failed;

void sim_result(int ok, const char *name, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printf("%s - sim/%s: %s\n", ok ? "ok" : "not ok", name, msg);
    if (ok)
        sim_passed++;
    else
        sim_failed++;
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    if (!only || !strcmp(only, "bwe"))
        sim_bwe();
    if (!only || !strcmp(only, "nack"))
        sim_nack();
    if (!only || !strcmp(only, "simulcast"))
        sim_simulcast();
    if (!only || !strcmp(only, "speaker"))
        sim_speaker();
    printf("sim: %d passed, %d failed\n", sim_passed, sim_failed);
    return sim_failed ? 1 : 0;
}
