/* dns/host_resolver: the asynchronous host resolver (Chromium's
 * HostResolverManager with its DnsTask, here on c-ares).
 *
 * dns_resolve() answers, in Chromium's order:
 *   1. invalid names (not a compliant DNS name)  -> ERR_NAME_NOT_RESOLVED, sync
 *   2. IP literals (url_canon_host forms)        -> the address, sync
 *   3. "localhost", "*.localhost" (+ dot)        -> ::1, 127.0.0.1, sync
 *   4. the host cache (host, family)             -> sync
 *   5. the hosts file (/etc/hosts or override)   -> sync, not cached
 *   6. DNS through c-ares                        -> ERR_IO_PENDING, callback
 * Concurrent requests for the same (host, family) share one job and one
 * c-ares query (Chromium's job merging). Successful DNS answers are cached
 * for max(smallest record TTL, 60 s) (Chromium's kMinimumTTLSeconds);
 * failures are not cached (see host_cache.h). The hosts file is reread when
 * its mtime, size or inode changes, checked at most once per second of the
 * clock's ticks; a change clears the cache (Chromium drops the cache when
 * the DNS config, hosts included, changes).
 *
 * Errors handed to callers are squashed as Chromium's
 * HostResolver::SquashErrorCode does: every failure is ERR_NAME_NOT_RESOLVED
 * (NXDOMAIN, no address, server failure, timeout); the detail
 * (ERR_DNS_TIMED_OUT, ERR_DNS_SERVER_FAILED, ...) is in
 * dns_address_list.error_info and in the job's NetLog end event.
 *
 * Host mapping rules are not applied here: the caller maps the destination
 * first (dns/host_mapping_rules.h) and resolves what it gets.
 *
 * Threads: a resolver lives on its runner's loop thread; every function
 * must be called there and every callback runs there, never from inside
 * dns_resolve(). c-ares runs without threads: its sockets are watched with
 * uv_poll_t and its timeouts with a base_timer on the same loop. */
#ifndef CRONC_DNS_HOST_RESOLVER_H
#define CRONC_DNS_HOST_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "dns/address_list.h"

typedef struct dns_resolver dns_resolver;
typedef struct dns_request dns_request;

typedef struct dns_resolver_params {
  /* Cache expiry and hosts-file checks. NULL: base_clock_system(). */
  const base_clock *clock;
  /* Host cache entries; default DNS_HOST_CACHE_DEFAULT_SIZE (1000); 0
   * disables the cache. */
  size_t cache_size;
  /* NULL: the system's servers (/etc/resolv.conf). Otherwise a
   * comma-separated "host[:port]" list ("127.0.0.1:5353,[::1]:53"); the
   * search domains are then dropped too, so exactly the name asked is
   * queried (what tests with their own server want). */
  const char *nameservers;
  /* Consult a hosts file (default true). */
  bool use_hosts_file;
  /* NULL: /etc/hosts. */
  const char *hosts_file_path;
  /* Per-try timeout and number of tries per server; 0 = the system's
   * (resolv.conf, c-ares defaults 5 s x 4). */
  int timeout_ms;
  int tries;
} dns_resolver_params;

/* Fills the defaults above. */
void dns_resolver_params_init(dns_resolver_params *p);

/* Creates a resolver on r's loop (call on r's loop thread). params NULL:
 * defaults. nl may be NULL. Returns 0, CRONC_ERR_INVALID_ARGUMENT (bad
 * arguments, an unparsable nameservers list, not on the loop thread),
 * CRONC_ERR_OUT_OF_MEMORY or CRONC_ERR_FAILED (c-ares could not start). The
 * hosts file is read here for the first time (a read error leaves the table
 * empty, logged). On error *out is NULL. */
int dns_resolver_new(base_runner *r, const dns_resolver_params *params, netlog *nl,
                     dns_resolver **out);

/* Cancels every pending request (their callbacks never run), stops c-ares
 * and frees the resolver. Loop thread; may be called from inside a resolve
 * callback (the free then completes when the callback returns). libuv
 * handles close on a later loop iteration: keep running the loop until the
 * closes are done (a caller-owned loop: uv_run until it returns; an own
 * thread: base_runner_shutdown does it). NULL: no-op. */
void dns_resolver_free(dns_resolver *r);

/* Called once with the outcome. result is 0 or ERR_NAME_NOT_RESOLVED.
 * addresses is never NULL; on failure it is empty with error_info set. The
 * callee may keep the addresses without copying by moving them out
 * (copy the struct, then set addresses->addrs = NULL and count = 0);
 * whatever is left is freed after the callback returns. The request handle
 * is gone once the callback runs. The callback may call any resolver
 * function, including dns_resolver_free(). */
typedef void (*dns_resolve_cb)(int result, dns_address_list *addresses, void *user_data);

/* Resolves host (a URL host: name, IPv4, or IPv6 with or without brackets;
 * canonicalised here) for family, with port written into every address.
 * source: the caller's NetLog source for HOST_RESOLVER_MANAGER_REQUEST
 * events (id 0: none).
 *  - Answered locally: returns 0 with *results filled (free with
 *    dns_address_list_reset()), or ERR_NAME_NOT_RESOLVED (results empty,
 *    error_info set); cb never runs and *out_req is NULL.
 *  - Otherwise returns ERR_IO_PENDING, *out_req is the request (valid until
 *    its callback runs or it is cancelled) and cb(result, ...) runs later.
 *  - CRONC_ERR_INVALID_ARGUMENT (NULL arguments, off the loop thread, a
 *    resolver being freed) or CRONC_ERR_OUT_OF_MEMORY: nothing happens.
 * out_req may be NULL when the caller never cancels. */
int dns_resolve(dns_resolver *r, const char *host, size_t host_len, uint16_t port,
                dns_family family, netlog_source source, dns_resolve_cb cb, void *user_data,
                dns_address_list *results, dns_request **out_req);

/* Cancels a pending request: its callback will never run. The job (and its
 * c-ares query) keeps running for other requests, or alone to fill the
 * cache. Loop thread. NULL: no-op. */
void dns_request_cancel(dns_request *req);

/* For tests and diagnostics. */
size_t dns_resolver_cache_size(const dns_resolver *r);
size_t dns_resolver_job_count(const dns_resolver *r); /* jobs with a query in flight */
void dns_resolver_clear_cache(dns_resolver *r);

#endif /* CRONC_DNS_HOST_RESOLVER_H */
