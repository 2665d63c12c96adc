/* Deterministic simulations of the media cores over netsim on a virtual
 * clock. Each scenario reports its measured figures and a verdict. */
#ifndef VC_SIM_H
#define VC_SIM_H

#include <stdint.h>
#include <stdio.h>

extern int sim_passed, sim_failed;

/* Records one scenario's verdict with its figures (printf-style). */
void sim_result(int ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void sim_bwe(void);
void sim_nack(void);
void sim_simulcast(void);
void sim_speaker(void);

#endif
