/* http/h2_connection: an HTTP/2 connection, the adapter between an
 * I/O-free h2_session and a stream socket (the I/O half of Chromium's
 * SpdySession), and the http_stream for one request on it (SpdyHttpStream).
 *
 * The connection reads the socket for as long as the session wants to, feeds
 * h2_session_receive(), and writes what h2_session_send_next() hands out in
 * vectored writes. Body data arriving for a stream goes straight into the
 * caller's read buffer when a read is waiting, and is queued otherwise
 * (bounded by the stream's flow-control window, which is reopened only as
 * the caller really reads).
 *
 * Lifetime: the pool (stream factory) holds one reference, each open stream
 * another; the connection frees itself (closing the socket) when the last
 * one goes. on_unusable tells the pool to stop handing it out (GOAWAY,
 * error, the socket closed). Network thread only.
 *
 * ALTSVC frames (RFC 7838 section 4) are checked as Chromium's
 * SpdySession::OnAltSvc checks them, except for the certificate, and handed
 * to the owner's altsvc callback (h2_conn_set_altsvc_callback). Frames that
 * fail are ignored with a NetLog event on the HTTP2_SESSION source. */
#ifndef CRONC_HTTP_H2_CONNECTION_H
#define CRONC_HTTP_H2_CONNECTION_H

#include <stdbool.h>

#include "base/netlog.h"
#include "base/thread.h"
#include "http/http_stream.h"
#include "socket/stream_socket.h"
#include "url/url.h"

typedef struct h2_conn h2_conn;
typedef void (*h2_conn_unusable_fn)(void *user_data, h2_conn *c);

/* An accepted ALTSVC frame. origin: on stream 0, the frame's origin field,
 * parsed (always https; the callee must still check that the connection's
 * certificate covers origin->host before trusting it: tls_socket_covers_host
 * on h2_conn_socket(c), Chromium's CanPool); on a request's stream, that
 * request's origin (https). value: the Alt-Svc field value, value_len bytes,
 * NUL-terminated, same syntax as the Alt-Svc header (not yet parsed). Both
 * are valid during the call only.
 *
 * When: on the network thread, after the socket read that carried the frame
 * went through the session (never inside nghttp2). Response headers that
 * came in the same read may already have reached their stream (they are
 * delivered inside the receive); body reads of that read complete after
 * this callback. The callee may release the connection (h2_conn_release),
 * open or close streams; the connection stays valid until the callback
 * returns. */
typedef void (*h2_conn_altsvc_fn)(void *user_data, h2_conn *c, const url_origin *origin,
                                  bool on_stream_zero, const char *value, size_t value_len);

/* Takes ownership of sock (connected, ALPN h2). runner: where the read loop
 * yields to other tasks after a batch (Chromium's SpdySession read loop
 * yields too), so a reader's next read is waiting when more data comes. NULL on allocation failure
 * (sock is then still the caller's). */
h2_conn *h2_conn_new(base_runner *runner, stream_socket *sock, netlog *nl,
                     h2_conn_unusable_fn on_unusable, void *user_data);
/* The timing of the connection's setup, reported by its first stream. */
void h2_conn_set_load_timing(h2_conn *c, const http_load_timing *t);
/* True while new streams may be opened. */
bool h2_conn_is_usable(const h2_conn *c);
/* A new stream for one request; NULL if not usable or out of memory.
 * reused: the connection already carried a stream. */
http_stream *h2_conn_new_stream(h2_conn *c);
/* Sets (or, with NULL, clears) the ALTSVC callback. Without one, valid
 * frames are only logged. h2_conn_release() clears it. */
void h2_conn_set_altsvc_callback(h2_conn *c, h2_conn_altsvc_fn fn, void *user_data);
/* The pool's reference is dropped (no on_unusable or altsvc callback after
 * this: the pool's user_data may be gone). */
void h2_conn_release(h2_conn *c);
size_t h2_conn_open_streams(const h2_conn *c);
stream_socket *h2_conn_socket(h2_conn *c);

#endif /* CRONC_HTTP_H2_CONNECTION_H */
