/* gpoll: makes a GLib main context wait with one persistent epoll set
 * instead of poll(2) over every fd each iteration, so an iteration's
 * system cost no longer grows with the number of peers (one libnice socket
 * each). One context per process (a GPollFunc takes no user data). */
#ifndef MW_GPOLL_H
#define MW_GPOLL_H

#include <glib.h>

/* Returns 0, or -1 if epoll is unavailable (ctx keeps GLib's poll). */
int mw_gpoll_attach(GMainContext *ctx);
/* Restores GLib's poll on ctx and frees the epoll set. */
void mw_gpoll_detach(GMainContext *ctx);

#endif
