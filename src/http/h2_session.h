/* http/h2_session: an HTTP/2 client session on nghttp2 that does no I/O.
 *
 * Chromium counterparts: net/spdy/spdy_session.cc (session, settings, GOAWAY,
 * pending stream requests), spdy_stream.cc (per-stream state, flow control),
 * spdy_http_utils.cc (priorities). The session takes the bytes received from
 * the peer (h2_session_receive) and hands out the bytes to send
 * (h2_session_send_next) as slices; a thin adapter (written elsewhere)
 * connects it to a stream socket. Tests drive it with in-memory pipes.
 *
 * Ownership: the caller owns the session; the session owns its streams. A
 * stream handle is valid from h2_session_submit() until its on_close callback
 * returns or h2_stream_cancel() is called, whichever comes first.
 *
 * Callbacks run synchronously from inside h2_session_receive(),
 * h2_session_send_next(), h2_session_submit() (only on failure paths) and
 * h2_session_free() is never called from them. Data and header slices passed
 * to callbacks point into nghttp2's or the caller's input buffers (no copy)
 * and are valid only during the callback. From a callback, the caller may
 * submit streams, cancel other streams, cancel the stream the callback is
 * for (except from its on_close), consume bytes, resume bodies and ping; it
 * must not free the session.
 *
 * Thread: one thread (the network thread); nothing here locks. */
#ifndef CRONC_HTTP_H2_SESSION_H
#define CRONC_HTTP_H2_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/netlog.h"

typedef struct h2_session h2_session;
typedef struct h2_stream h2_stream;

/* A view of bytes (pointer + length); never NUL-terminated by contract. */
typedef struct h2_slice {
  const uint8_t *base;
  size_t len;
} h2_slice;

typedef struct h2_header {
  h2_slice name;
  h2_slice value;
} h2_header;

/* Chromium's RequestPriority (net/base/request_priority.h). */
typedef enum h2_priority {
  H2_PRIORITY_THROTTLED = 0,
  H2_PRIORITY_IDLE = 1,
  H2_PRIORITY_LOWEST = 2,
  H2_PRIORITY_LOW = 3,
  H2_PRIORITY_MEDIUM = 4,
  H2_PRIORITY_HIGHEST = 5,
} h2_priority;
#define H2_PRIORITY_COUNT 6

/* Chromium's values (net/http/http_network_session.cc, net/spdy/spdy_session.h). */
#define H2_SESSION_MAX_RECV_WINDOW_SIZE   (15 * 1024 * 1024) /* kSpdySessionMaxRecvWindowSize */
#define H2_STREAM_MAX_RECV_WINDOW_SIZE    (6 * 1024 * 1024)  /* kSpdyStreamMaxRecvWindowSize */
#define H2_MAX_HEADER_TABLE_SIZE          (64 * 1024)        /* kSpdyMaxHeaderTableSize */
#define H2_MAX_HEADER_LIST_SIZE           (256 * 1024)       /* kSpdyMaxHeaderListSize */
#define H2_INITIAL_MAX_CONCURRENT_STREAMS 100                /* kInitialMaxConcurrentStreams */
#define H2_MAX_CONCURRENT_STREAM_LIMIT    256                /* kMaxConcurrentStreamLimit */

#define H2_SETTINGS_VERSION 1

/* Session settings; fill with h2_settings_init() then change fields, so that
 * fields added later keep their defaults (ngtcp2_settings_default style). */
typedef struct h2_settings {
  int version; /* H2_SETTINGS_VERSION */
  /* Sent in the initial SETTINGS frame. Chromium (AddDefaultHttp2Settings in
   * http_network_session.cc) sends HEADER_TABLE_SIZE 65536, ENABLE_PUSH 0,
   * INITIAL_WINDOW_SIZE 6 MiB and MAX_HEADER_LIST_SIZE 256 KiB, and does NOT
   * advertise MAX_CONCURRENT_STREAMS (SendInitialData only sends values that
   * differ from the protocol default). */
  uint32_t header_table_size;
  uint32_t initial_window_size;    /* per-stream receive window */
  uint32_t max_header_list_size;   /* also enforced on received header blocks */
  uint32_t max_concurrent_streams; /* 0 = not advertised (Chromium) */
  /* The connection receive window, raised from 65535 by a WINDOW_UPDATE
   * right after SETTINGS (SpdySession::SendInitialData). */
  uint32_t session_max_recv_window_size;
  /* Streams open at once before the peer's SETTINGS arrive, and the cap on
   * the peer's MAX_CONCURRENT_STREAMS (SpdySession::HandleSetting). */
  uint32_t initial_max_concurrent_streams;
  uint32_t max_concurrent_streams_limit;
} h2_settings;

void h2_settings_init(h2_settings *settings);

typedef struct h2_session_callbacks {
  /* The peer sent GOAWAY: no new streams start on this session. error is 0
   * for a graceful GOAWAY (NO_ERROR), else the mapped net error. Streams with
   * an id <= last_stream_id continue. May be NULL. */
  void (*on_goaway)(h2_session *s, int error, int32_t last_stream_id, void *user_data);
  /* The session is dead (protocol error, HTTP_1_1_REQUIRED, ...): every
   * stream has been closed with an error before this is called. May be NULL. */
  void (*on_error)(h2_session *s, int error, void *user_data);
  /* A PING we sent was acknowledged. May be NULL. */
  void (*on_ping_ack)(h2_session *s, uint64_t opaque, void *user_data);
  /* An ALTSVC frame (RFC 7838 section 4) that passed the framing checks
   * (nghttp2's and ours): either on stream 0 with a non-empty origin (st is
   * NULL), or on one of our open streams with an empty origin (st is that
   * stream). value is the Alt-Svc field value (never empty). The slices are
   * valid during the call only. Return NULL to accept the frame, or a short
   * static reason, which the session logs (CRONC_HTTP2_ALTSVC_IGNORED). An
   * ALTSVC frame never affects the session (never a connection error).
   * Frames failing the framing checks are logged as ignored without a call:
   * stream 0 without an origin, a stream with an origin, an empty value, a
   * stream we do not know (nghttp2 drops frames for closed streams without
   * telling us; those leave no trace). Every frame seen is logged as
   * HTTP2_SESSION_RECV_ALTSVC first. May be NULL. */
  const char *(*on_altsvc)(h2_session *s, h2_stream *st, h2_slice origin, h2_slice value,
                           void *user_data);
} h2_session_callbacks;

/* Results of h2_stream_callbacks.read_body besides negative net errors. */
#define H2_BODY_OK       0
#define H2_BODY_DEFERRED 1

typedef struct h2_stream_callbacks {
  /* Response headers: status is the :status value; headers exclude pseudo
   * headers. interim is true for a 1xx response (more headers follow). */
  void (*on_headers)(h2_stream *st, int status, const h2_header *headers, size_t count,
                     bool interim, void *user_data);
  /* A chunk of the response body, without copy. Acknowledge it with
   * h2_stream_consumed() once it has really been used, which reopens the
   * flow-control windows (nothing is acknowledged automatically). */
  void (*on_data)(h2_stream *st, const uint8_t *data, size_t len, void *user_data);
  /* Trailers (headers after the body). May be NULL. */
  void (*on_trailers)(h2_stream *st, const h2_header *headers, size_t count, void *user_data);
  /* Last callback: error 0 = response complete, else a net error.
   * unprocessed: the server did not process the request (GOAWAY with a lower
   * last_stream_id, or never sent), so it may be retried on a new connection.
   * The handle is freed when this returns. */
  void (*on_close)(h2_stream *st, int error, bool unprocessed, void *user_data);
  /* Upload body (NULL = no body). Called when up to `max` bytes may be
   * sent: set *out to at most max bytes (without copy) and *eof when these
   * are the last. Return H2_BODY_OK, H2_BODY_DEFERRED (nothing now; call
   * h2_stream_resume_body() later) or a negative net error (the stream is
   * reset and closed with it). The bytes must stay valid until the session
   * calls read_body again for this stream or the stream closes: the session
   * calls it at most once per h2_session_send_next() batch, so a provider
   * may reuse one buffer. */
  int (*read_body)(h2_stream *st, size_t max, h2_slice *out, bool *eof, void *user_data);
} h2_stream_callbacks;

typedef struct h2_request {
  h2_slice method;
  h2_slice scheme;
  h2_slice authority;
  h2_slice path;
  const h2_header *headers; /* copied; names lowercased; connection-specific
                               headers (connection, host, keep-alive,
                               proxy-connection, transfer-encoding, upgrade)
                               dropped as Chromium does */
  size_t header_count;
  h2_priority priority;
} h2_request;

/* Creates a client session. settings NULL = defaults. The connection preface,
 * SETTINGS and WINDOW_UPDATE are queued for h2_session_send_next(). nl may be
 * NULL. Returns NULL on allocation failure. */
h2_session *h2_session_new(const h2_settings *settings, const h2_session_callbacks *callbacks,
                           void *user_data, netlog *nl);
/* Frees the session and its streams without calling callbacks. */
void h2_session_free(h2_session *s);

/* Feeds bytes received from the peer. Returns 0, or the session's net error
 * once it is dead (ERR_HTTP2_PROTOCOL_ERROR for garbage, ...). */
int h2_session_receive(h2_session *s, const uint8_t *data, size_t len);

/* Fills up to max slices (max >= 3) with the next bytes to send, in order, and
 * returns how many (0 = nothing to send now) or a negative net error. The
 * slices point into nghttp2's buffers, the session's, or the callers' upload
 * bodies; they stay valid until the next call of h2_session_send_next() or
 * h2_session_free(). The caller must write them all before calling again. */
int h2_session_send_next(h2_session *s, h2_slice *out, size_t max);

/* Whether the session has bytes to send / wants to read. Both false: close
 * the connection. */
bool h2_session_want_write(const h2_session *s);
bool h2_session_want_read(const h2_session *s);
/* Bytes the peer is certain to send without hearing from us: for every
 * active stream, once its body flows, the rest of its Content-Length within
 * the stream's receive window, capped by the connection's window. 0 when
 * any active stream has no such promise (awaiting headers, no length), so a
 * small reply is never held back. For stream_socket_expect(). */
uint64_t h2_session_expected_bytes(const h2_session *s);

/* Starts a request, or queues it while the peer's MAX_CONCURRENT_STREAMS is
 * reached (started in priority order as streams close, like Chromium's
 * pending stream requests). *out receives the handle. Errors:
 * ERR_INVALID_ARGUMENT, ERR_OUT_OF_MEMORY, ERR_CONNECTION_CLOSED (session
 * going away or dead). */
int h2_session_submit(h2_session *s, const h2_request *req, const h2_stream_callbacks *cb,
                      void *user_data, h2_stream **out);

/* Sends a PING with opaque data; on_ping_ack reports the reply. */
int h2_session_ping(h2_session *s, uint64_t opaque);

/* True after GOAWAY or a fatal error: no new stream may start. */
bool h2_session_is_going_away(const h2_session *s);
/* The fatal error, or 0 while the session is alive. */
int h2_session_error(const h2_session *s);
/* Streams started / waiting for a slot. */
size_t h2_session_active_streams(const h2_session *s);
size_t h2_session_pending_streams(const h2_session *s);
/* The peer's MAX_CONCURRENT_STREAMS as used (capped), for diagnostics. */
uint32_t h2_session_max_concurrent_streams(const h2_session *s);

/* The stream id (0 while queued). */
int32_t h2_stream_id(const h2_stream *st);
void *h2_stream_user_data(const h2_stream *st);
/* Acknowledges n bytes of body delivered by on_data as consumed. The session
 * sends WINDOW_UPDATE once half a window is consumed (Chromium). */
/* HEADERS and DATA frame bytes sent and received on the stream so far,
 * frame headers included. */
void h2_stream_byte_counts(const h2_stream *st, int64_t *sent, int64_t *received);
void h2_stream_consumed(h2_stream *st, size_t n);
/* Resumes an upload body after read_body returned H2_BODY_DEFERRED. */
int h2_stream_resume_body(h2_stream *st);
/* Cancels the stream (RST_STREAM CANCEL if started). No callback follows;
 * the handle is invalid on return. Bytes not consumed are given back to the
 * connection window. */
void h2_stream_cancel(h2_stream *st);

/* Mappings (exposed for tests and the HTTP/2 stream adapter). */
/* RST_STREAM error code received -> net error. headers_received: whether
 * response headers had arrived (RST NO_ERROR is OK after them, a protocol
 * error before: SpdyStream::OnClose). */
int h2_map_rst_stream_error(uint32_t error_code, bool headers_received);
/* Chromium's ConvertRequestPriorityToSpdyPriority + Spdy3PriorityToHttp2Weight. */
int h2_priority_to_weight(h2_priority p);

#endif /* CRONC_HTTP_H2_SESSION_H */
