/* base/netlog_internal: the hook between netlog.c and the file writer in
 * netlog_file.c. Not for other modules. */
#ifndef CRONC_BASE_NETLOG_INTERNAL_H
#define CRONC_BASE_NETLOG_INTERNAL_H

#include "base/netlog.h"

/* Like netlog_add_observer(), and netlog_free() calls on_netlog_free(user_data)
 * (without the lock) for this observer if it is still registered, so the
 * owner can finish and free itself. The observer node is freed by netlog. */
netlog_observer *netlog_add_owned_observer(netlog *nl, netlog_observer_fn fn,
                                           void (*on_netlog_free)(void *user_data),
                                           void *user_data);

/* netlog_remove_observer() that says whether obs was registered and is now
 * removed and freed (false: NULL args, unknown obs, or called from inside an
 * observer callback of nl, where removal would deadlock). */
bool netlog_remove_owned_observer(netlog *nl, netlog_observer *obs);

#endif /* CRONC_BASE_NETLOG_INTERNAL_H */
