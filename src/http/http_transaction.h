/* http/http_transaction: the interface of one HTTP request as the request
 * layer (engine/) drives it, and of the factory that makes transactions
 * (Chromium's HttpTransaction and HttpTransactionFactory). Two
 * implementations: the network layer (in network_transaction.c, each
 * transaction a network_transaction) and the HTTP cache (cache/), which
 * wraps the network layer. The engine picks the cache when one is
 * configured (DESIGN.md "The path of one request", step 1).
 *
 * Completion style as in http_stream.h: a result (>= 0 or a net error)
 * returned synchronously, or CRONC_ERR_IO_PENDING and the callback exactly
 * once later, never inside the call. The callback is the last thing a
 * transaction does, so the caller may free it from there. Network thread. */
#ifndef CRONC_HTTP_HTTP_TRANSACTION_H
#define CRONC_HTTP_HTTP_TRANSACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/netlog.h"
#include "http/http_stream.h"

/* Per-request load flags (Chromium's net/base/load_flags_list.h: names and
 * values), carried in http_request_info.load_flags. */
enum {
  HTTP_LOAD_NORMAL = 0,
  HTTP_LOAD_VALIDATE_CACHE = 1 << 0,        /* validate a stored entry even if fresh */
  HTTP_LOAD_BYPASS_CACHE = 1 << 1,          /* go to the network; the response may be stored */
  HTTP_LOAD_SKIP_CACHE_VALIDATION = 1 << 2, /* "prefer cache": use a stale entry as is */
  HTTP_LOAD_ONLY_FROM_CACHE = 1 << 3,       /* never the network: ERR_CACHE_MISS */
  HTTP_LOAD_DISABLE_CACHE = 1 << 4,         /* neither read nor write the cache */
};

/* When each step happened (Chromium's LoadTimingInfo): the connection's
 * timing (from the stream that served the final response) plus when the
 * request was sent and the response head arrived. Ticks µs, 0 = did not
 * happen (a cache hit has no network steps at all). */
typedef struct http_transaction_timing {
  http_load_timing connect;
  int64_t send_start, send_end;
  int64_t receive_headers_end;
} http_transaction_timing;

/* What a transaction says about its response beyond the head. */

typedef struct http_transaction_info {
  bool was_cached;      /* the response (head and body) came from the cache */
  bool cache_validated; /* ...after the server confirmed it with a 304 */
  bool zero_rtt;        /* the request went out as accepted early data */
  bool quic_broken;     /* every advertised QUIC alternative was broken */
  http_job_winner winner;
  /* "h3 localhost:8443" when an alternative service served the request,
   * else "" (owned by the transaction). */
  const char *alternative_service;
  uint64_t quic_error;    /* the QUIC error code behind a failure, 0 = none */
  int64_t sent_bytes;     /* bytes written to the network for this request */
  int64_t received_bytes; /* bytes read from the network (heads + body) */
} http_transaction_info;

typedef struct http_transaction http_transaction;

typedef struct http_transaction_vtable {
  /* Starts the request; req stays valid until free. Result: OK once the
   * final response head is in, or a net error. */
  int (*start)(http_transaction *t, const http_request_info *req, http_io_cb cb, void *ud);
  /* After a successful start. */
  const h1_headers *(*response_headers)(http_transaction *t);
  const char *(*protocol)(http_transaction *t); /* "" when none (cache hit) */
  bool (*connection_reused)(http_transaction *t);
  /* Body bytes: > 0, 0 at the end, or a net error. */
  int (*read)(http_transaction *t, uint8_t *buf, size_t len, http_io_cb cb, void *ud);
  void (*get_timing)(http_transaction *t, http_transaction_timing *out);
  void (*get_info)(http_transaction *t, http_transaction_info *out);
  /* Frees the transaction, cancelling what runs (no callback after this). */
  void (*free)(http_transaction *t);
} http_transaction_vtable;

struct http_transaction {
  const http_transaction_vtable *vt;
};

typedef struct http_transaction_factory http_transaction_factory;

typedef struct http_transaction_factory_vtable {
  /* A new transaction logging to nl (NULL = no log). Returns OK,
   * CRONC_ERR_OUT_OF_MEMORY or CRONC_ERR_NETWORK_IO_SUSPENDED. */
  int (*create_transaction)(http_transaction_factory *f, netlog *nl, http_transaction **out);
} http_transaction_factory_vtable;

struct http_transaction_factory {
  const http_transaction_factory_vtable *vt;
};

/* ---- The network layer: transactions straight over a stream factory --- */
typedef struct http_network_layer http_network_layer;

http_network_layer *http_network_layer_new(http_stream_factory *streams);
/* Alt-Svc learning and the alt-svc retries for the layer's transactions
 * (network_transaction.h). */
struct ntx_alt_svc_params;
void http_network_layer_set_alt_svc(http_network_layer *l, const struct ntx_alt_svc_params *p);
void http_network_layer_free(http_network_layer *l);
http_transaction_factory *http_network_layer_base(http_network_layer *l);

#endif /* CRONC_HTTP_HTTP_TRANSACTION_H */
