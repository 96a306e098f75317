/* tests/support/h2_origin: a programmable HTTPS (HTTP/2) origin for fault tests.
 *
 * A TLS server on 127.0.0.1 (free port) with its own certificates, made at
 * start with GnuTLS: a fresh CA (its PEM written to a temp file, to be given
 * to the engine as extra_ca_file) and a leaf for "localhost" that is valid,
 * expired, or issued for another name. ALPN offers "h2" only; each connection
 * runs an nghttp2 server session that answers requests by a per-path script:
 * a 200 with N bytes of body, RST_STREAM before the headers or after the
 * headers and part of the body, or no answer at all, optionally preceded by
 * an ALTSVC frame (valid or not). Connection-level faults
 * (GOAWAY after K requests then close, close after K requests) apply to the
 * first `fault_connections` connections. Counters (connections accepted,
 * requests per connection and per path) let tests assert what the server
 * really saw; waits on them use a condition variable, never sleeps.
 *
 * Ownership: h2_origin_stop() joins the server thread, closes every
 * connection and frees everything, including the temp dir. The options (and
 * the rule paths) are copied at start.
 *
 * Thread: start/stop/getters on any one test thread; the server runs on its
 * own thread (blocking handshake, then non-blocking sockets and poll). */
#ifndef CRONC_TESTS_SUPPORT_H2_ORIGIN_H
#define CRONC_TESTS_SUPPORT_H2_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum h2_origin_action {
  H2_ORIGIN_RESPOND,            /* 200, content-length body_len, body_len bytes */
  H2_ORIGIN_RST_BEFORE_HEADERS, /* RST_STREAM(error_code), nothing else */
  H2_ORIGIN_RST_AFTER_BODY,     /* 200 headers (no content-length), body_len bytes without
                                   END_STREAM, then RST_STREAM(error_code) */
  H2_ORIGIN_HOLD,               /* never answer */
} h2_origin_action;

typedef struct h2_origin_rule {
  const char *path; /* exact :path (query included); NULL = any path */
  h2_origin_action action;
  size_t body_len;
  uint32_t error_code; /* an HTTP/2 error code (NGHTTP2_*) for the RST actions */
  /* The action applies to the first `times` requests the rule matches
   * (0 = all); later ones get a 200 with body_len bytes. */
  unsigned times;
} h2_origin_rule;

/* An ALTSVC frame (RFC 7838 section 4) sent just before the answer (the
 * rule's action) to every request for `path`. Frames nghttp2 accepts go out
 * with nghttp2_submit_altsvc; those it refuses to send (stream 0 without an
 * origin, a stream with an origin, an empty value) are written raw, so
 * clients can be tested against them. */
typedef struct h2_origin_altsvc {
  const char *path;   /* exact :path; NULL = any path */
  const char *value;  /* the Alt-Svc field value (may be "") */
  const char *origin; /* the frame's origin field; NULL = empty */
  bool stream_zero;   /* on stream 0, else on the request's stream */
  bool malformed;     /* raw, with an origin length past the payload's end */
} h2_origin_altsvc;

typedef enum h2_origin_cert {
  H2_ORIGIN_CERT_VALID,      /* "localhost", valid from 1 h ago for a day */
  H2_ORIGIN_CERT_EXPIRED,    /* "localhost", expired yesterday */
  H2_ORIGIN_CERT_WRONG_NAME, /* valid, but for "wrong.example" only */
} h2_origin_cert;

typedef enum h2_origin_conn_fault {
  H2_ORIGIN_FAULT_NONE,
  /* At the fault_after_requests-th request: send GOAWAY(goaway_last_stream_id,
   * goaway_error_code), keep answering streams <= last id, then close the
   * connection. Requests with a higher id are never answered (held) while
   * the fault is armed, so that they are unprocessed when GOAWAY goes out. */
  H2_ORIGIN_FAULT_GOAWAY,
  /* Answer the fault_after_requests-th request, then close the connection
   * once every stream is done (an idle close). */
  H2_ORIGIN_FAULT_CLOSE_AFTER_ANSWER,
  /* Close the connection on receiving the fault_after_requests-th request,
   * without answering it. */
  H2_ORIGIN_FAULT_CLOSE_ON_REQUEST,
} h2_origin_conn_fault;

typedef struct h2_origin_options {
  h2_origin_cert cert;
  const h2_origin_rule *rules; /* first match wins; no match: 200 with default_body_len */
  size_t n_rules;
  size_t default_body_len;
  h2_origin_conn_fault fault;
  unsigned fault_after_requests; /* K >= 1 */
  unsigned fault_connections;    /* how many first connections get the fault; 0 = 1 */
  int32_t goaway_last_stream_id;
  uint32_t goaway_error_code;
  /* Closes (of faults) send RST (SO_LINGER 0) instead of a FIN after a
   * lingering read. */
  bool close_with_reset;
  /* ALTSVC frames; the first entry matching a request's path applies. */
  const h2_origin_altsvc *altsvc;
  size_t n_altsvc;
} h2_origin_options;

/* Fills the defaults: valid certificate, no rules, 16-byte bodies, no fault. */
void h2_origin_options_init(h2_origin_options *o);

typedef struct h2_origin h2_origin;

/* Starts the origin. NULL on failure (message on stderr). */
h2_origin *h2_origin_start(const h2_origin_options *o);
uint16_t h2_origin_port(const h2_origin *s);
/* PEM file of the origin's CA (for cronc_engine_params.extra_ca_file). */
const char *h2_origin_ca_file(const h2_origin *s);
/* Stops the thread, closes everything, removes the temp dir. NULL: no-op. */
void h2_origin_stop(h2_origin *s);

/* TCP connections accepted so far, and those closed (by either side). */
unsigned h2_origin_connections(h2_origin *s);
unsigned h2_origin_connections_closed(h2_origin *s);
/* Complete requests received on connection `index` (0-based, in accept
 * order); 0 for an unknown index. */
unsigned h2_origin_requests_on(h2_origin *s, unsigned index);
/* All complete requests received / those for an exact :path. */
unsigned h2_origin_requests(h2_origin *s);
unsigned h2_origin_requests_for(h2_origin *s, const char *path);
/* Waits up to timeout_ms until at least n connections have been closed.
 * Returns whether they were. */
bool h2_origin_wait_closed(h2_origin *s, unsigned n, unsigned timeout_ms);

/* The body bytes the origin sends, from offset off (the same pattern for
 * every response), so tests can check what they received. */
void h2_origin_body(uint8_t *out, size_t off, size_t len);

#endif /* CRONC_TESTS_SUPPORT_H2_ORIGIN_H */
