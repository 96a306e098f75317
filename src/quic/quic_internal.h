/* quic/quic_internal: the connection and stream structs shared by the three
 * files that implement one connection (quic_connection.c: transport, TLS,
 * I/O and timers; h3_session.c: nghttp3 glue; quic_http_stream.c: the
 * http_stream). Not for other modules.
 *
 * Re-entrancy rule: ngtcp2 and nghttp3 callbacks only record what happened
 * (flags on streams and on the connection); owner and stream callbacks run
 * from quic_conn_dispatch(), which is called after every read batch, timer
 * and posted task, outside any library call. Writes requested while inside
 * a library call are deferred the same way (write_pending). */
#ifndef CRONC_QUIC_QUIC_INTERNAL_H
#define CRONC_QUIC_QUIC_INTERNAL_H

#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include "http/body_queue.h"
#include "quic/quic_connection.h"
#include "quic/udp_socket.h"
#include "url/url.h"

#define QUIC_TX_BUF (UDP_MAX_GSO_SEGMENTS * 1500)

typedef struct quic_stream quic_stream;

struct quic_stream {
  http_stream base;
  quic_conn *conn;
  quic_stream *next;  /* conn->streams */
  quic_stream *qnext; /* conn's queue of streams waiting to be submitted */
  int64_t id;         /* -1 until opened */
  const http_request_info *req;
  bool queued;       /* in the submit queue */
  bool submitted;    /* handed to nghttp3 */
  bool sent_early;   /* submitted before the handshake completed */
  bool headers_done; /* final response head received */
  bool any_bytes;    /* any response byte (head or body) arrived */
  bool fin;          /* the response ended cleanly */
  bool closed;       /* no more data will come (fin, reset or connection) */
  bool reused;
  int close_error;
  uint64_t app_error; /* the HTTP/3 error code that closed or reset it, 0 = none */
  /* HTTP/3 frame bytes on this QUIC stream: received, and sent (counted as
   * the peer acknowledges them). */
  int64_t bytes_sent, bytes_received;
  h1_headers headers;
  h1_headers interim;         /* head being received */
  http_body_queue body_queue; /* body that arrived while no read waited */
  uint64_t unconsumed;        /* queued body bytes not yet credited to the peer */
  /* pending operations */
  http_io_cb send_cb;
  void *send_ud;
  int send_result; /* result for a queued send (set when it completes) */
  bool send_done;
  http_io_cb hdr_cb;
  void *hdr_ud;
  http_io_cb body_cb;
  void *body_ud;
  uint8_t *body_buf;
  size_t body_len, body_got;
  /* upload */
  size_t upload_off;
  http_load_timing timing;
};

struct quic_conn {
  base_runner *runner;
  const base_clock *clock;
  netlog *netlog;
  netlog_source source;
  tls_context *tls;
  char host[URL_MAX_HOST + 1];
  uint16_t port;
  bool host_is_ip;
  quic_conn_callbacks cbs;
  void *ud;

  udp_socket *udp;
  ngtcp2_conn *conn;
  ngtcp2_crypto_conn_ref conn_ref;
  gnutls_session_t session;
  nghttp3_conn *h3;
  base_timer timer;
  bool timer_open;
  ngtcp2_path path;
  ngtcp2_connection_close_error ccerr;

  /* lifetime */
  bool owner_ref;
  int in_io;        /* depth of library calls / dispatch on the stack */
  bool task_posted; /* a dispatch task is queued */
  bool dead;        /* closed: no I/O any more */
  bool freed_udp;
  int error;
  /* The QUIC error code the connection ended with (the peer's
   * CONNECTION_CLOSE, else ours), 0 for a clean close: Cronet's
   * quic_detailed_error_code. */
  uint64_t quic_error;

  /* state */
  bool handshake_done;
  bool hs_reported;
  bool confirmed;
  bool confirmed_reported;
  bool unusable;
  bool unusable_reported;
  bool goaway;
  int64_t goaway_id;
  bool early_attempted;
  bool early_rejected;
  bool early_accepted;
  bool resumed;
  bool h3_needs_setup; /* (re)create the HTTP/3 session at dispatch */
  bool write_pending;
  bool write_blocked; /* the socket buffer is full */
  int cert_error;     /* set by the verify callback */
  uint8_t *peer_cert; /* DER of the leaf certificate */
  size_t peer_cert_len;
  uint8_t *pending_ticket;
  size_t pending_ticket_len;
  size_t streams_made;
  http_load_timing timing;
  /* NetLog: QUIC_SESSION begun / ended, HANDSHAKE_CONFIRMED logged. */
  bool nl_begun;
  bool nl_ended;
  bool nl_confirmed;

  quic_stream *streams;
  quic_stream *q_head, *q_tail; /* waiting for stream credit / handshake */

  /* I/O buffers, allocated once */
  uint8_t *txbuf;
  size_t tx_len, tx_seg; /* a batch not yet taken by the kernel */
};

/* quic_connection.c */
uint64_t quic_conn_now_ns(quic_conn *c);
/* Adds a NONE-phase event with params built by printf (skipped, params
 * unformatted, when nobody captures). */
void quic_conn_log(quic_conn *c, netlog_source source, netlog_event_type type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Writes as much as congestion control, pacing and flow control allow (or
 * marks a write pending when called inside a library call). */
void quic_conn_write(quic_conn *c);
/* Fails the connection: every stream gets `error`. Safe anywhere. */
void quic_conn_fail(quic_conn *c, int error);
/* Submits queued streams that may go now (handshake or 0-RTT, stream
 * credit); a queued stream with a send callback gets send_done set. */
void quic_conn_submit_queued(quic_conn *c);
/* Runs owner and stream callbacks that became due. */
void quic_conn_dispatch(quic_conn *c);
/* Schedules a dispatch on the loop (from inside a user call). */
void quic_conn_post_dispatch(quic_conn *c);
/* Frees the connection when nothing refers to it any more. */
void quic_conn_maybe_free(quic_conn *c);
/* Gives flow-control credit for n consumed bytes of stream id. */
void quic_conn_consumed(quic_conn *c, int64_t id, uint64_t n);

/* h3_session.c */
int h3_setup(quic_conn *c);
void h3_teardown(quic_conn *c);
/* Opens and submits s. 0, 1 when out of stream credit (stays queued), or a
 * net error. */
int h3_submit(quic_conn *c, quic_stream *s);
/* Cancels s on the wire (RESET_STREAM / STOP_SENDING). */
void h3_cancel(quic_conn *c, quic_stream *s);
/* ngtcp2 stream events forwarded to nghttp3. Return 0 or
 * NGTCP2_ERR_CALLBACK_FAILURE. */
int h3_on_stream_data(quic_conn *c, uint32_t flags, int64_t id, const uint8_t *data, size_t len);
int h3_on_acked(quic_conn *c, int64_t id, uint64_t datalen);
int h3_on_stream_close(quic_conn *c, uint32_t flags, int64_t id, uint64_t app_error);
int h3_on_stream_reset(quic_conn *c, int64_t id, uint64_t app_error);
int h3_on_extend_max_stream_data(quic_conn *c, int64_t id);
/* Maps an HTTP/3 application error code of a stream reset to a net error. */
int h3_map_app_error(uint64_t code);

/* quic_http_stream.c */
quic_stream *quic_stream_new(quic_conn *c);
/* Called by dispatch: completes every due operation of s. Returns false
 * when a callback ran (the stream list may have changed). */
bool quic_stream_complete_due(quic_stream *s);
/* Marks s closed with error (0 = clean end). */
void quic_stream_set_closed(quic_stream *s, int error);
/* Appends body data (direct into a waiting buffer, else queued). */
int quic_stream_on_body(quic_stream *s, const uint8_t *data, size_t len);

#endif /* CRONC_QUIC_QUIC_INTERNAL_H */
