/* dns/ares_loop: one c-ares channel driven by a runner's libuv loop
 * (internal to dns/).
 *
 * c-ares tells us which sockets it wants watched (ARES_OPT_SOCK_STATE_CB);
 * each gets a uv_poll_t. One base_timer follows ares_timeout() so retries
 * and timeouts happen without c-ares threads or blocking. After c-ares has
 * processed events (and so possibly run query callbacks), `after(ctx)` runs
 * with c-ares no longer on the stack: the owner delivers results there, so
 * user code never re-enters c-ares from inside its callbacks.
 *
 * Loop thread only. Destroy with dns_ares_destroy(); the memory is released
 * once libuv has closed every handle (on later loop iterations). */
#ifndef CRONC_DNS_ARES_LOOP_H
#define CRONC_DNS_ARES_LOOP_H

#include <ares.h>

#include "base/thread.h"

typedef struct dns_ares dns_ares;
typedef void (*dns_ares_fn)(void *ctx);

typedef struct dns_ares_options {
  const char *nameservers; /* NULL: resolv.conf; else c-ares CSV "ip[:port],..." */
  int timeout_ms;          /* 0: default */
  int tries;               /* 0: default */
} dns_ares_options;

/* Returns 0, CRONC_ERR_INVALID_ARGUMENT (bad nameservers), CRONC_ERR_OUT_OF_MEMORY
 * or CRONC_ERR_FAILED. */
int dns_ares_new(base_runner *r, const dns_ares_options *opts, dns_ares_fn after, void *ctx,
                 dns_ares **out);

ares_channel dns_ares_channel(dns_ares *a);

/* Re-arms the timeout timer from ares_timeout(); call after starting a query. */
void dns_ares_update_timer(dns_ares *a);

/* Closes the socket watchers, destroys the channel (pending query callbacks
 * run with ARES_EDESTRUCTION from inside this call), closes the timer and,
 * once libuv has released every handle, frees a and calls freed(ctx). */
void dns_ares_destroy(dns_ares *a, dns_ares_fn freed, void *ctx);

#endif /* CRONC_DNS_ARES_LOOP_H */
