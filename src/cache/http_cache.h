/* cache/http_cache: the HTTP cache (Chromium's HttpCache and
 * HttpCache::Transaction), an http_transaction_factory that wraps another
 * one (the network layer) and serves, validates and stores responses in a
 * cache_backend (memory or disk) following RFC 9111 (cache_policy.h).
 *
 * A cache transaction is a do_loop() state machine with Chromium's state
 * names (GET_BACKEND, INIT_ENTRY, ADD_TO_ENTRY, OPEN_OR_CREATE_ENTRY,
 * CACHE_READ_RESPONSE, CACHE_DISPATCH_VALIDATION, SEND_REQUEST,
 * SUCCESSFUL_SEND_REQUEST, UPDATE_CACHED_RESPONSE, CACHE_WRITE_RESPONSE,
 * NETWORK_READ, CACHE_READ_DATA, CACHE_WRITE_DATA, FINISH_WRITE...); every
 * transition is a CRONC_HTTP_TRANSACTION_STATE NetLog event on the
 * request's source with params {"layer":"cache","state":...,"rv":...}.
 *
 * Behaviour:
 *  - The key is the URL without fragment (url.spec). GET is read and
 *    written; HEAD is answered from a stored GET (never stored itself; on a
 *    miss or a stale entry it goes to the network untouched). POST dooms
 *    the URL's entry before it is sent; PUT, DELETE and PATCH doom it after
 *    a 2xx/3xx response (Chromium). Other methods, requests that carry
 *    their own validators or a Range, and HTTP_LOAD_DISABLE_CACHE pass
 *    through.
 *  - Load flags (and the request headers Chromium maps to them:
 *    Cache-Control/Pragma no-cache = BYPASS, max-age=0 = VALIDATE):
 *    BYPASS_CACHE fetches and stores; VALIDATE_CACHE always validates;
 *    SKIP_CACHE_VALIDATION serves a stale entry as is (a Vary mismatch is
 *    still validated); ONLY_FROM_CACHE never touches the network
 *    (ERR_CACHE_MISS when absent or when it would need validation).
 *  - A fresh entry is served without the network. A stale one is validated
 *    with If-None-Match / If-Modified-Since: a 304 merges its fields into
 *    the stored head, which is rewritten, and the stored body is served
 *    (info.cache_validated); any other response replaces or dooms the
 *    entry. A Vary mismatch validates with the ETag only.
 *  - A response is stored while the caller reads it (write-through) and
 *    becomes visible only when the body ended cleanly; a read error, a
 *    body cut short, or a transaction freed early leaves nothing stored.
 *    206 and no-store responses are never stored.
 *  - The cache lock (Chromium's ActiveEntry queue): one transaction at a
 *    time per key may open, validate or write it. Others wait in FIFO
 *    order and, when the owner is done (the body stored, or the response
 *    found not storable, or the entry served), proceed one by one from the
 *    entry: two simultaneous identical requests cause one origin fetch.
 *    Wake-ups are posted to the runner, never run inside another
 *    transaction's call. Not yet: Chromium's cache lock timeout (a waiter
 *    behind a writer whose caller stopped reading waits until that
 *    transaction is freed).
 *  - Hits: response_headers() is the stored head, protocol() the stored
 *    protocol, connection_reused() false, timing all zero, and body bytes
 *    go from the backend straight into the caller's buffer (one copy).
 *
 * Threads: everything on the network thread (the runner's loop). Free every
 * transaction before http_cache_free. */
#ifndef CRONC_CACHE_HTTP_CACHE_H
#define CRONC_CACHE_HTTP_CACHE_H

#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "cache/cache_backend.h"
#include "http/http_transaction.h"

typedef struct http_cache_params {
  http_transaction_factory *network; /* required: where misses go (not owned) */
  cache_backend *backend;            /* required: owned, freed by http_cache_free */
  const base_clock *clock;           /* NULL = system; wall time for freshness */
  netlog *nl;                        /* cache-level events (may be NULL) */
  base_runner *runner;               /* required: lock wake-ups */
} http_cache_params;

typedef struct http_cache http_cache;

void http_cache_params_init(http_cache_params *p);

/* Returns 0 and *out, CRONC_ERR_INVALID_ARGUMENT (network, backend or runner
 * missing: the backend is then not taken) or CRONC_ERR_OUT_OF_MEMORY (the
 * backend is freed). */
int http_cache_new(const http_cache_params *p, http_cache **out);
/* Frees the cache and its backend. Every transaction must be freed first. */
void http_cache_free(http_cache *c);
/* The factory the engine hands to requests. */
http_transaction_factory *http_cache_base(http_cache *c);
cache_backend *http_cache_backend(http_cache *c);

/* The state name, for tests and logs. */
const char *http_cache_state_name(int state);

#endif /* CRONC_CACHE_HTTP_CACHE_H */
