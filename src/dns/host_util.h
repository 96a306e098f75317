/* dns/host_util: host canonicalisation shared by the dns/ modules.
 * Pure; any thread. */
#ifndef CRONC_DNS_HOST_UTIL_H
#define CRONC_DNS_HOST_UTIL_H

#include <stddef.h>

#include "url/url.h"

/* url_canon_host() into out (URL_MAX_HOST + 1 bytes), also for a bare IPv6
 * literal ("::1", as inet_ntop and hosts files write it), which is
 * bracketed first. kind may be NULL. Returns 0 or CRONC_ERR_INVALID_URL. */
int dns_canon_host(const char *host, size_t len, char *out, url_host_kind *kind);

#endif /* CRONC_DNS_HOST_UTIL_H */
