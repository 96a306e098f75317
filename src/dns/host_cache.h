/* dns/host_cache: resolved addresses keyed by (host, family), with expiry
 * (Chromium's HostCache).
 *
 * An entry expires at a monotonic tick the caller computes (the resolver
 * uses now + max(TTL, 60 s), Chromium's kMinimumTTLSeconds for DnsTask
 * results). Failures are not cached: Chromium caches a negative DNS answer
 * only for the SOA TTL the response carries, which c-ares's getaddrinfo does
 * not report, so cronc caches none (Chromium's kNegativeCacheEntryTTLSeconds
 * is 0 as well). The cache is bounded: inserting into a full cache evicts the
 * least recently used entry (Chromium evicts by expiry; LRU keeps hot names).
 * A lookup that finds an expired entry removes it.
 *
 * Owned by the resolver, used on its loop thread only (no locking). */
#ifndef CRONC_DNS_HOST_CACHE_H
#define CRONC_DNS_HOST_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dns/address_list.h"

/* Chromium's default HostCache size. */
#define DNS_HOST_CACHE_DEFAULT_SIZE 1000

typedef struct dns_host_cache dns_host_cache;

typedef struct dns_host_cache_entry {
  const struct sockaddr_storage *addrs; /* port 0 */
  size_t count;
  int64_t expires_ticks_us;
  uint32_t ttl_sec; /* the answer's own TTL */
} dns_host_cache_entry;

/* max_entries 0: a cache that stores nothing. NULL on allocation failure. */
dns_host_cache *dns_host_cache_new(size_t max_entries);
void dns_host_cache_free(dns_host_cache *c); /* NULL: no-op */

/* A fresh entry for (host, family) at now_ticks_us, made most recently used;
 * NULL on a miss. The entry stays valid until the next call that changes
 * the cache. */
const dns_host_cache_entry *dns_host_cache_lookup(dns_host_cache *c, const char *host, size_t len,
                                                  dns_family family, int64_t now_ticks_us);

/* Stores (replacing any entry for the key) count addresses (copied, ports
 * cleared). Returns 0, or CRONC_ERR_OUT_OF_MEMORY (the cache is unchanged),
 * or CRONC_ERR_INVALID_ARGUMENT (count 0). A zero-size cache returns 0 and
 * stores nothing. */
int dns_host_cache_set(dns_host_cache *c, const char *host, size_t len, dns_family family,
                       const struct sockaddr_storage *addrs, size_t count, uint32_t ttl_sec,
                       int64_t expires_ticks_us);

void dns_host_cache_clear(dns_host_cache *c);
size_t dns_host_cache_size(const dns_host_cache *c);
size_t dns_host_cache_max_size(const dns_host_cache *c);

#endif /* CRONC_DNS_HOST_CACHE_H */
