/* http/network_transaction: one HTTP request over the network, Chromium's
 * HttpNetworkTransaction. A do_loop() state machine (DESIGN.md "State
 * machines"): notify before create stream (the delegate may defer the
 * start), create stream (ask the stream factory), init stream, generate
 * proxy / server auth tokens (pass-through until auth exists), init request
 * body, build request, send request, read headers, read body, drain body
 * for auth restart. Every state transition is a NetLog event
 * (CRONC_HTTP_TRANSACTION_STATE) on the request's source.
 *
 * A request whose stream ran on a reused connection and that fails before
 * any response byte arrived (the server closed an idle keep-alive
 * connection, an HTTP/2 GOAWAY left the stream unprocessed) is retried on a
 * new stream, as Chromium's ShouldResendRequest / HandleIOError do, at most
 * NTX_MAX_RETRY_ATTEMPTS times.
 *
 * After the response head, an https response's Alt-Svc header updates server
 * properties (Chromium's ProcessAlternativeServices). A 421 response is
 * retried once without alternative services; a QUIC protocol error on an
 * alternative service before the head is retried without them and, if that
 * works, the alternative is marked broken.
 *
 * Completion style as in http_stream.h. The callback is always the last
 * thing the transaction does, so the caller may free it from there. One
 * thread (the network thread). */
#ifndef CRONC_HTTP_NETWORK_TRANSACTION_H
#define CRONC_HTTP_NETWORK_TRANSACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/netlog.h"
#include "http/http_stream.h"
#include "http/http_transaction.h"

/* Chromium's kMaxRetryAttempts. */
#define NTX_MAX_RETRY_ATTEMPTS 2

typedef struct network_transaction network_transaction;

typedef struct ntx_delegate {
  /* Chromium's BeforeNetworkStart: return true to defer; the transaction
   * then waits for ntx_resume_network_start(). May be NULL. */
  bool (*before_create_stream)(void *user_data);
  void *user_data;
} ntx_delegate;

network_transaction *ntx_new(http_stream_factory *factory, netlog *nl, const ntx_delegate *d);

/* Where Alt-Svc headers go and the switches that filter them and drive the
 * retries without alternative services. props NULL: nothing learned. */
struct props;
typedef struct ntx_alt_svc_params {
  struct props *props;
  bool enable_http2;                         /* keep "h2" entries */
  bool enable_quic;                          /* keep "h3" entries */
  bool retry_without_alt_svc_on_quic_errors; /* Chromium's default: true */
} ntx_alt_svc_params;
void ntx_set_alt_svc(network_transaction *t, const ntx_alt_svc_params *p);
/* Frees the transaction, cancelling what runs (no callback after this). */
void ntx_free(network_transaction *t);

/* Starts the request. req must stay valid until ntx_free. Result (sync or
 * through cb): OK once the final response head is in, or a net error. */
int ntx_start(network_transaction *t, const http_request_info *req, http_io_cb cb, void *ud);
/* Continues a start the delegate deferred. */
void ntx_resume_network_start(network_transaction *t);

/* After a successful start. */
const h1_headers *ntx_response_headers(network_transaction *t);
const char *ntx_protocol(network_transaction *t); /* "" before a stream */
bool ntx_connection_reused(network_transaction *t);

/* Reads body bytes: > 0 bytes, 0 at the end, or a net error; sync or
 * through cb. At the end the stream is released (its connection may be
 * reused). */
int ntx_read(network_transaction *t, uint8_t *buf, size_t len, http_io_cb cb, void *ud);

/* Chromium's LoadTimingInfo for this transaction: the connection's timing
 * (from the stream that served the final response) plus when the request
 * was sent and the response head arrived. Ticks µs, 0 = did not happen. */
typedef http_transaction_timing ntx_timing;
void ntx_get_timing(network_transaction *t, ntx_timing *out);

/* The transaction behind the http_transaction interface (free through it
 * frees the network transaction). */
http_transaction *ntx_base(network_transaction *t);

/* The state name, for tests and logs. */
const char *ntx_state_name(int state);

#endif /* CRONC_HTTP_NETWORK_TRANSACTION_H */
