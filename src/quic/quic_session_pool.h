/* quic/quic_session_pool: QUIC sessions keyed by server id (Chromium's
 * QuicSessionPool, formerly QuicStreamFactory).
 *
 * A request names its server id (the request URL's host and port, plus
 * privacy mode) and the destination to connect to (host, port: the origin
 * itself or an alternative service). The pool answers with an http_stream
 * on:
 *   1. a live session for the server id, or a live session to the same
 *      destination whose certificate covers the origin host (Chromium's
 *      CanUseExistingSession / session aliasing);
 *   2. else the pending connection for the server id (concurrent requests
 *      share one handshake);
 *   3. else a new connection: the destination is resolved with dns_resolve
 *      and its addresses tried in order while they refuse (ICMP
 *      unreachable), resuming with a stored ticket when the ticket store
 *      has one (0-RTT: the stream is handed out at once and idempotent
 *      requests go as early data).
 * Streams are handed out after the handshake completed (or at once with
 * 0-RTT). Running out of stream credit queues requests on the same
 * connection; it never opens another.
 *
 * The observer hears once of each new connection's outcome: handshake
 * confirmed (with the smoothed RTT), or failed / lost before confirmation;
 * the job controller confirms or breaks alternative services from that.
 *
 * Ownership: the pool owns its sessions; quic_pool_free() cancels pending
 * requests (their callbacks never run) and closes sessions once their
 * streams are gone. Thread: the runner's loop thread only; callbacks run
 * there, never inside the call that started them. */
#ifndef CRONC_QUIC_QUIC_SESSION_POOL_H
#define CRONC_QUIC_QUIC_SESSION_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "dns/host_mapping_rules.h"
#include "dns/host_resolver.h"
#include "http/http_stream.h"
#include "socket/tls_context.h"

/* Where 0-RTT tickets live between connections (the lead implements it on
 * top of store/). Blobs are quic_ticket_encode()d; load hands back a
 * malloc'd copy the pool frees. Called on the loop thread. Any member may
 * be NULL (no persistence). */
typedef struct quic_ticket_store {
  bool (*load)(void *ud, const char *host, uint16_t port, bool privacy, uint8_t **blob,
               size_t *len);
  void (*save)(void *ud, const char *host, uint16_t port, bool privacy, const uint8_t *blob,
               size_t len);
  void *ud;
} quic_ticket_store;

/* What a connection's handshake came to. */
typedef struct quic_pool_event {
  const char *host; /* server id */
  uint16_t port;
  bool privacy;
  const char *dest_host; /* destination */
  uint16_t dest_port;
  int result;      /* CRONC_OK = handshake confirmed, else the failure */
  int64_t srtt_us; /* smoothed RTT on confirmation */
  bool resumed;    /* TLS resumption */
  bool zero_rtt;   /* early data accepted */
  /* The local IP the connection used ("" when unknown): recorded as the
   * address from which QUIC worked. */
  const char *local_address;
} quic_pool_event;

/* Whether a new connection to dest must wait for its handshake before
 * streams go out (no 0-RTT early data): Chromium requires confirmation when
 * QUIC to that alternative was recently broken. */
typedef bool (*quic_pool_require_confirmation_fn)(void *ud, const char *dest_host,
                                                   uint16_t dest_port);

typedef void (*quic_pool_observer_fn)(void *ud, const quic_pool_event *ev);

typedef struct quic_pool_params {
  base_runner *runner;
  const base_clock *clock; /* NULL: system */
  netlog *netlog;          /* may be NULL */
  tls_context *tls;
  dns_resolver *resolver;
  uint64_t handshake_timeout_ms;  /* 0: 10 s */
  uint64_t idle_timeout_ms;       /* 0: 30 s */
  quic_ticket_store tickets;      /* zeroed: none */
  quic_pool_observer_fn observer; /* may be NULL */
  void *observer_ud;
  /* Host mapping rules applied to a destination before it is resolved (the
   * session keeps the destination it was asked for). May be NULL. */
  const dns_host_mapping_rules *rules;
  quic_pool_require_confirmation_fn require_confirmation; /* may be NULL */
  void *require_confirmation_ud;
  /* The server's smoothed RTT from server properties, µs (0 = unknown), to
   * seed a new connection's RTT estimate. May be NULL. */
  int64_t (*initial_rtt_us)(void *ud, const char *host, uint16_t port);
  void *initial_rtt_ud;
} quic_pool_params;

void quic_pool_params_init(quic_pool_params *p);

typedef struct quic_pool quic_pool;
typedef struct quic_pool_request quic_pool_request;

/* 0 and *out, or CRONC_ERR_INVALID_ARGUMENT / CRONC_ERR_OUT_OF_MEMORY. */
int quic_pool_new(const quic_pool_params *p, quic_pool **out);
void quic_pool_free(quic_pool *pool);

/* Asks for a stream to req->url's server (host, port, privacy_mode) over
 * dest_host:dest_port. Returns CRONC_ERR_IO_PENDING (*out set, cb(ud,
 * result, stream) later, exactly once unless cancelled) or a net error
 * (nothing started). On success the caller owns the stream (close it with
 * its vtable). */
int quic_pool_request_stream(quic_pool *pool, const http_request_info *req, bool privacy_mode,
                             const char *dest_host, uint16_t dest_port, http_stream_ready_cb cb,
                             void *ud, quic_pool_request **out);
/* Cancels a pending request: its callback never runs. A connection it
 * started keeps going (a warm session for later). */
void quic_pool_cancel(quic_pool_request *r);

/* Chromium's QuicSessionPool::CanUseExistingSession. */
bool quic_pool_can_use_existing_session(quic_pool *pool, const char *host, uint16_t port,
                                        bool privacy_mode, const char *dest_host,
                                        uint16_t dest_port);

/* An http_stream_factory sending every request over QUIC straight to the
 * origin's host:port (`cronc --http3-only`). Owned by the pool. */
http_stream_factory *quic_pool_stream_factory(quic_pool *pool);

/* Counters for tests and diagnostics: live sessions; connections that
 * were ever handed streams (handshake completed, or 0-RTT). */
size_t quic_pool_session_count(const quic_pool *pool);
size_t quic_pool_connections_established(const quic_pool *pool);

#endif /* CRONC_QUIC_QUIC_SESSION_POOL_H */
