/* quic/quic_connection: one client QUIC connection with its HTTP/3 session
 * (Chromium's QuicChromiumClientSession over a QuicConnection), on ngtcp2
 * 0.12 with its GnuTLS crypto helper and nghttp3 0.8.
 *
 * What it does:
 *  - QUIC v1, ALPN "h3", SNI = server host (none for an IP literal), the
 *    certificate verified as socket/tls_socket does (same ERR_CERT_* codes,
 *    pins enforced, host name checked against the server id's host);
 *  - ngtcp2's timers (loss recovery, ACK delay, idle and handshake timeouts,
 *    pacing) on one base_timer; reads and writes in batches over a GSO/GRO
 *    udp_socket;
 *  - HTTP/3: control and QPACK streams, request streams handed out as
 *    http_streams (quic_conn_new_stream), MAX_STREAMS honoured by queueing
 *    streams until the server gives credit, GOAWAY, resets;
 *  - 0-RTT: started with a ticket blob (quic_ticket.h) it resumes and lets
 *    idempotent requests go out as early data; a rejection replays them
 *    after the handshake. Fresh tickets are handed to the owner.
 *
 * Errors: a handshake that fails gives ERR_QUIC_HANDSHAKE_FAILED (or the
 * ERR_CERT_* / pin error of a refused certificate, ERR_TIMED_OUT when the
 * handshake timeout passes, ERR_CONNECTION_REFUSED when the kernel reports
 * the port unreachable); a connection that fails later gives its streams
 * ERR_QUIC_PROTOCOL_ERROR (peer or protocol errors), ERR_CONNECTION_CLOSED
 * (a clean close by the peer before a response ended) or ERR_TIMED_OUT
 * (idle timeout).
 *
 * NetLog (source QUIC_SESSION, quic_conn_source()): QUIC_SESSION begin
 * {host, port, dest, resumed_attempt} / end {net_error} (after
 * QUIC_SESSION_CLOSED), QUIC_SESSION_HANDSHAKE_CONFIRMED {srtt_us, zero_rtt,
 * resumed}, _ZERO_RTT_REJECTED, _GOAWAY_FRAME_RECEIVED {stream_id},
 * _CONNECTION_CLOSE_FRAME_RECEIVED {quic_error, application, frame_type},
 * HTTP3_STREAM_RESET {stream_id, error_code}. On the request's source
 * (http_request_info.source): QUIC_HTTP_STREAM_SEND_REQUEST_HEADERS
 * {stream_id, early_data, :method} and _READ_RESPONSE_HEADERS {stream_id,
 * :status}; the pool adds QUIC_SESSION_POOL_USE_EXISTING_SESSION.
 *
 * Ownership: the owner (the session pool) holds one reference, released
 * with quic_conn_release(); each http_stream holds the connection too. The
 * connection frees itself when both are gone. Owner callbacks run on the
 * loop, never inside an ngtcp2/nghttp3 call nor inside a quic_conn_* call
 * that the owner made. Thread: the runner's loop thread only. */
#ifndef CRONC_QUIC_QUIC_CONNECTION_H
#define CRONC_QUIC_QUIC_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "http/http_stream.h"
#include "socket/tls_context.h"

typedef struct quic_conn quic_conn;

typedef struct quic_conn_callbacks {
  /* The handshake finished (result OK: 1-RTT keys, streams may be made) or
   * failed (a net error; the connection is then dead). Runs once. */
  void (*on_handshake)(void *ud, quic_conn *c, int result);
  /* The server confirmed the handshake (HANDSHAKE_DONE): smoothed RTT in
   * µs. Optional. */
  void (*on_confirmed)(void *ud, quic_conn *c, int64_t srtt_us);
  /* A fresh resumption ticket blob (quic_ticket_encode format). Optional. */
  void (*on_ticket)(void *ud, quic_conn *c, const uint8_t *blob, size_t len);
  /* No new stream can go on this connection any more (GOAWAY, error,
   * close, idle timeout). Runs at most once, after on_handshake. */
  void (*on_unusable)(void *ud, quic_conn *c);
} quic_conn_callbacks;

typedef struct quic_conn_params {
  base_runner *runner;
  const base_clock *clock; /* NULL: system clock; ngtcp2 time = ticks */
  netlog *netlog;          /* may be NULL */
  tls_context *tls;
  const char *host; /* server id host: SNI and certificate name */
  uint16_t port;
  const struct sockaddr *peer; /* the destination address */
  socklen_t peer_len;
  uint64_t handshake_timeout_ms; /* 0: 10 s */
  uint64_t idle_timeout_ms;      /* 0: 30 s */
  int64_t initial_rtt_us;        /* a known smoothed RTT to start from; 0: RFC 9002's */
  const uint8_t *ticket;         /* resume with this blob (may be NULL) */
  size_t ticket_len;
  quic_conn_callbacks cbs;
  void *ud;
} quic_conn_params;

/* Creates the connection and sends its first flight. 0 and *out, or a net
 * error (nothing is left behind). A malformed ticket is ignored (full
 * handshake). */
int quic_conn_new(const quic_conn_params *p, quic_conn **out);

/* The owner lets go: no owner callback runs afterwards. The connection
 * closes (CONNECTION_CLOSE) once its streams are gone. */
void quic_conn_release(quic_conn *c);

/* Whether new streams may be made now: the handshake completed, or 0-RTT
 * keys are ready (early data), and no GOAWAY/error. */
bool quic_conn_is_usable(const quic_conn *c);
bool quic_conn_handshake_completed(const quic_conn *c);
/* True when the connection resumes with a ticket (early data possible). */
bool quic_conn_early_data_attempted(const quic_conn *c);

/* A new request stream (the request is sent by its send_request). NULL
 * when not usable or out of memory. */
http_stream *quic_conn_new_stream(quic_conn *c);

/* Whether the server's certificate is valid for host (for pooling a
 * different origin onto this connection). False before the handshake. */
bool quic_conn_cert_covers(const quic_conn *c, const char *host);

/* Smoothed RTT (µs) and counters for tests and diagnostics. */
int64_t quic_conn_smoothed_rtt_us(quic_conn *c);
size_t quic_conn_open_streams(const quic_conn *c);
bool quic_conn_resumed(const quic_conn *c);
bool quic_conn_early_data_accepted(const quic_conn *c);
netlog_source quic_conn_source(const quic_conn *c);
/* The local IP address of the connection's socket into buf ("" when there
 * is none). */
void quic_conn_local_address(const quic_conn *c, char *buf, size_t size);

#endif /* CRONC_QUIC_QUIC_CONNECTION_H */
