/* http/http_stream: one request/response exchange on a connection, the
 * interface the network transaction drives whatever the protocol
 * (Chromium's HttpStream: HttpBasicStream for HTTP/1.1, SpdyHttpStream for
 * HTTP/2, QuicHttpStream for HTTP/3), and the stream factory that hands
 * streams out (Chromium's HttpStreamFactory).
 *
 * Calls follow Chromium's completion style: a function returns a result
 * synchronously (>= 0 or a net error) or CRONC_ERR_IO_PENDING and later
 * calls its callback exactly once with the result. Callbacks never run
 * inside the call that started the operation. Everything runs on the
 * network thread. */
#ifndef CRONC_HTTP_HTTP_STREAM_H
#define CRONC_HTTP_HTTP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/netlog.h"
#include "http/alternative_service.h"
#include "http/h1_parser.h"
#include "url/url.h"

typedef void (*http_io_cb)(void *user_data, int result);

/* A request body produced while it is sent (Cronet's UploadDataProvider
 * behind it). length >= 0: exactly that many bytes (Content-Length);
 * -1: unknown, sent chunked over HTTP/1.1 and as DATA frames until the end
 * over HTTP/2 and HTTP/3. Owned by the request layer, which frees it after
 * the transaction. The bytes live in the body's own buffer, so a stream
 * that goes away while a read is pending leaves nothing dangling. */
typedef struct http_upload_body http_upload_body;
typedef struct http_upload_body_vtable {
  /* Makes the next bytes available: sets *data to them (valid until the
   * next read, rewind or cancel_read) and returns their count (> 0), 0 at
   * the end of the body, or a net error; synchronously, or
   * CRONC_ERR_IO_PENDING and cb(ud, result) later (then *data is set when
   * cb runs). */
  int (*read)(http_upload_body *b, const uint8_t **data, http_io_cb cb, void *ud);
  /* Drops a pending read: its callback will not run. The stream calls this
   * when it closes with a read outstanding. */
  void (*cancel_read)(http_upload_body *b);
  /* Back to the first byte, for a retry or a redirect that keeps the body:
   * OK, CRONC_ERR_IO_PENDING and cb later, or a net error (a body that
   * cannot rewind makes the retry fail with it). */
  int (*rewind)(http_upload_body *b, http_io_cb cb, void *ud);
} http_upload_body_vtable;
struct http_upload_body {
  const http_upload_body_vtable *vt;
  int64_t length;
};

/* Chromium's RequestPriority; 0 (HTTP_PRIORITY_DEFAULT) is MEDIUM. */
enum {
  HTTP_PRIORITY_DEFAULT = 0,
  HTTP_PRIORITY_THROTTLED = 1,
  HTTP_PRIORITY_IDLE = 2,
  HTTP_PRIORITY_LOWEST = 3,
  HTTP_PRIORITY_LOW = 4,
  HTTP_PRIORITY_MEDIUM = 5,
  HTTP_PRIORITY_HIGHEST = 6,
};

typedef struct http_request_info {
  const url *url;            /* the URL to fetch (scheme, host, port, path) */
  const char *method;        /* "GET", "POST", ... */
  const h1_headers *headers; /* extra request headers, in order (no Host) */
  const uint8_t *body;       /* upload body in memory, or NULL */
  size_t body_len;
  http_upload_body *upload;         /* a streamed body instead (body is then NULL) */
  int priority;                     /* HTTP_PRIORITY_* (Chromium's RequestPriority) */
  bool allow_http2;                 /* false: ALPN offers only http/1.1 */
  bool enable_alternative_services; /* false after a 421 / QUIC-error retry */
  int load_flags;                   /* HTTP_LOAD_* (http_transaction.h) */
  netlog_source source;             /* the URL_REQUEST this belongs to */
} http_request_info;

/* When the connection under a stream was made (Chromium's LoadTimingInfo
 * connect_timing). Monotonic ticks of the engine clock in µs; 0 = did not
 * happen for this request (a reused connection has none). */
typedef struct http_load_timing {
  int64_t dns_start, dns_end;
  int64_t connect_start, connect_end;
  int64_t ssl_start, ssl_end;
  bool socket_reused;
} http_load_timing;

typedef struct http_stream http_stream;

typedef struct http_stream_vtable {
  /* Sends the request head and body. Result: OK or a net error. */
  int (*send_request)(http_stream *s, const http_request_info *req, http_io_cb cb, void *ud);
  /* Waits for the final response head (1xx are consumed). Result: OK or a
   * net error. */
  int (*read_response_headers)(http_stream *s, http_io_cb cb, void *ud);
  /* The response head, after read_response_headers succeeded. */
  const h1_headers *(*response_headers)(http_stream *s);
  /* Reads body bytes into buf. Result: bytes (> 0), 0 at the end of the
   * body, or a net error. */
  int (*read_body)(http_stream *s, uint8_t *buf, size_t len, http_io_cb cb, void *ud);
  /* Frees the stream. When the body was read to its end and the connection
   * allows it (and !not_reusable), the connection goes back to its pool. */
  void (*close)(http_stream *s, bool not_reusable);
  /* Whether the stream runs on a connection that served an earlier request
   * (Chromium's IsConnectionReused): then a close before any response byte
   * is retried on a fresh connection. */
  bool (*is_connection_reused)(http_stream *s);
  /* Whether any response byte was received. */
  bool (*received_any_response_bytes)(http_stream *s);
  /* "http/1.1", "h2", "h3". */
  const char *(*protocol)(http_stream *s);
  /* The connection's timing as seen by this stream. */
  void (*load_timing)(http_stream *s, http_load_timing *out);
  /* Optional (NULL = false): whether the request went out as TLS 1.3 / QUIC
   * early data (0-RTT) and was accepted. */
  bool (*used_zero_rtt)(http_stream *s);
  /* Optional (NULL = 0): the QUIC / HTTP/3 error code behind a failure
   * (Cronet's quic_detailed_error_code), 0 when none. */
  uint64_t (*quic_error)(http_stream *s);
  /* Optional (NULL = unknown): bytes this exchange put on and took off the
   * connection, framing included where the protocol frames per stream
   * (Chromium's GetTotalSentBytes / GetTotalReceivedBytes). */
  void (*byte_counts)(http_stream *s, int64_t *sent, int64_t *received);
} http_stream_vtable;

struct http_stream {
  const http_stream_vtable *vt;
};

/* ---- Stream factory ------------------------------------------------------
 * Finds or makes a connection for a request and hands back a stream on it.
 * A request for a stream is cancellable; after cancel its callback never
 * runs. */
typedef struct http_stream_factory http_stream_factory;
typedef struct http_stream_request http_stream_request;
typedef void (*http_stream_ready_cb)(void *user_data, int result, http_stream *stream);

/* Which job of a race served the request. */
typedef enum http_job_winner {
  HTTP_JOB_WINNER_NONE = 0, /* no race (no alternative service tried) */
  HTTP_JOB_WINNER_MAIN,
  HTTP_JOB_WINNER_ALTERNATIVE,
} http_job_winner;

/* What a stream request came to beyond the stream, filled by the factory
 * before its callback runs (the job controller's part of Chromium's
 * HttpStreamRequest: alternate protocol usage, OnQuicBroken). */
typedef struct http_stream_request_report {
  http_job_winner winner;
  bool quic_broken; /* every advertised QUIC alternative was broken */
  /* The alternative service raced, whether or not it won (protocol
   * ALTSVC_PROTO_UNKNOWN: none); its host is never empty. */
  altsvc_service alt;
  int alt_error; /* the alternative job's error when it failed before the result */
  /* The main job's wait: µs, or -1 when it was held until the alternative
   * job failed (an existing QUIC session or an h2 alternative). */
  int64_t main_wait_us;
} http_stream_request_report;

typedef struct http_stream_factory_vtable {
  /* Returns CRONC_ERR_IO_PENDING (cb later, *out set so it can be
   * cancelled) or a net error (then nothing was started). report (may be
   * NULL) is zeroed now and filled before cb runs. req and what it points
   * to (the URL) must stay valid until cb ran or the request was
   * cancelled. */
  int (*request_stream)(http_stream_factory *f, const http_request_info *req,
                        http_stream_request_report *report, http_stream_ready_cb cb, void *ud,
                        http_stream_request **out);
  void (*cancel)(http_stream_factory *f, http_stream_request *r);
} http_stream_factory_vtable;

struct http_stream_factory {
  const http_stream_factory_vtable *vt;
};

#endif /* CRONC_HTTP_HTTP_STREAM_H */
