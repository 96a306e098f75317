/* http/stream_factory: finds or makes a connection for a request and hands
 * back an http_stream on it (Chromium's HttpStreamFactory with its main job,
 * the transport and SSL connect jobs, and the client socket pool).
 *
 * For a request it: applies the host mapping rules to the destination (the
 * origin still names the TLS server and the Host header), reuses an HTTP/2
 * connection to the origin when one is open, else an idle HTTP/1.1 socket of
 * the same group, else connects: DNS (dns/), TCP with Happy Eyeballs
 * (socket/tcp_connect), TLS with ALPN (socket/tls_socket). ALPN "h2" makes
 * the connection an HTTP/2 connection shared by every later request to that
 * origin; otherwise the socket carries one HTTP/1.1 exchange at a time and
 * returns to the idle pool when the response was read to its end.
 *
 * Limits (Chromium's ClientSocketPoolManager): 6 sockets per group (host,
 * port, destination) and 256 in all; requests past a limit wait in order
 * and an idle socket of another group is closed to make room. Idle sockets
 * that served a request are kept 5 minutes, unused ones 10 seconds,
 * checked by a cleanup timer every 10 seconds (Chromium's values).
 *
 * This is the connection part of a job (the main job, or an h2 alternative
 * job); http/job_controller races jobs and picks the winner. Network thread
 * only. */
#ifndef CRONC_HTTP_STREAM_FACTORY_H
#define CRONC_HTTP_STREAM_FACTORY_H

#include <stddef.h>
#include <stdint.h>

#include "base/thread.h"
#include "dns/host_mapping_rules.h"
#include "dns/host_resolver.h"
#include "http/http_stream.h"
#include "socket/tls_context.h"

#define STREAM_FACTORY_MAX_SOCKETS_PER_GROUP 6
#define STREAM_FACTORY_MAX_SOCKETS 256
#define STREAM_FACTORY_USED_IDLE_TIMEOUT_MS (5 * 60 * 1000)
#define STREAM_FACTORY_UNUSED_IDLE_TIMEOUT_MS (10 * 1000)
#define STREAM_FACTORY_CLEANUP_INTERVAL_MS (10 * 1000)

typedef struct stream_factory_params {
  base_runner *runner;
  const base_clock *clock; /* NULL = system */
  netlog *nl;
  dns_resolver *resolver;                /* required */
  tls_context *tls;                      /* required for https */
  const dns_host_mapping_rules *rules;   /* may be NULL */
  bool enable_http2;                     /* offer "h2" in ALPN */
  uint64_t connect_timeout_ms;           /* 0 = Chromium's 4 minutes */
  size_t max_sockets_per_group;          /* 0 = 6 */
  size_t max_sockets;                    /* 0 = 256 */
  /* Where HTTP/2 ALTSVC frames go (the same path as an Alt-Svc header),
   * after the checks: a stream-0 frame's origin must be covered by the
   * connection's certificate (Chromium's CanPool). May be NULL. */
  void (*on_alt_svc)(void *ud, const url_origin *origin, const char *value, size_t len);
  void *alt_svc_ud;
} stream_factory_params;

void stream_factory_params_init(stream_factory_params *p);

typedef struct stream_factory stream_factory;

/* Returns NULL on allocation failure or missing required params. */
stream_factory *stream_factory_new(const stream_factory_params *p);
/* Cancels waiting requests (no callbacks) and closes idle sockets and idle
 * HTTP/2 connections. Streams still out must have been closed first. */
void stream_factory_free(stream_factory *f);
/* The http_stream_factory interface the network transaction uses. */
http_stream_factory *stream_factory_base(stream_factory *f);

/* The main job's way in (and an h2 alternative job's): a stream for req
 * whose connection goes to alt_host:alt_port instead of the origin (NULL =
 * the origin). The origin still names the TLS server, the HTTP/2 pool key
 * and the Host header. As the vtable's request_stream otherwise. */
int stream_factory_request_stream_to(stream_factory *f, const http_request_info *req,
                                     const char *alt_host, uint16_t alt_port,
                                     http_stream_ready_cb cb, void *ud,
                                     http_stream_request **out);
void stream_factory_cancel(stream_factory *f, http_stream_request *r);
/* Chromium's preconnect over TCP: up to num_streams connections to req's
 * origin (fewer when an idle socket or an HTTP/2 connection is there);
 * HTTP/1.1 sockets wait in the idle pool, unused. Runs in the background.
 * Returns CRONC_OK or a net error (what was started keeps going). */
int stream_factory_preconnect(stream_factory *f, const http_request_info *req, int num_streams);
/* Whether a usable HTTP/2 connection to u's origin is open (the job
 * controller then does not delay the main job). */
bool stream_factory_has_h2_session(stream_factory *f, const url *u);

/* Diagnostics and tests. */
size_t stream_factory_idle_socket_count(const stream_factory *f);
size_t stream_factory_connects_started(const stream_factory *f);
size_t stream_factory_h2_connection_count(const stream_factory *f);
/* Closes every idle socket (e.g. after a network change). */
void stream_factory_close_idle(stream_factory *f);

#endif /* CRONC_HTTP_STREAM_FACTORY_H */
