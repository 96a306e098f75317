/* engine/engine: the object that owns a network stack instance (Chromium's
 * URLRequestContext plus Cronet's engine glue).
 *
 * An engine owns: the network thread (a base_runner: its own thread, or a
 * libuv loop the application runs), the NetLog (and its file writer when a
 * NetLog path is given), server properties, and the store under the storage
 * path. At start it opens the store, loads server properties from it and
 * adds the QUIC hints; while it runs, every change worth persisting marks the
 * properties dirty and arms a short write timer, so bursts of changes become
 * one write; broken-service expiry runs on a timer at the next expiry; at
 * shutdown a pending write is flushed.
 *
 * Threads: engine_new/engine_shutdown/engine_free are called from an
 * application thread (not the network thread) for an engine on its own
 * thread, and on the loop's thread for an engine on the application's loop.
 * Everything an engine owns lives on its network thread; reach it with
 * engine_post() or engine_run(). engine_props()/engine_netlog() return
 * objects to be used on the network thread only (the netlog itself is
 * thread-safe). */
#ifndef CRONC_ENGINE_ENGINE_H
#define CRONC_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "dns/host_mapping_rules.h"
#include "dns/host_resolver.h"
#include "http/server_properties.h"
#include "http/http_transaction.h"
#include "http/stream_factory.h"
#include "socket/tls_context.h"
#include "store/store.h"

/* Changes are written this long after the first one of a burst. Chromium
 * waits 60 s (plus Cronet's 10 s); cronc's writes are small SQLite
 * transactions, so a short delay keeps the disk current without writing per
 * change. */
#define ENGINE_DEFAULT_STORE_WRITE_DELAY_MS 2000

typedef struct engine_quic_hint {
  const char *host;
  int port;
  int alternate_port;
} engine_quic_hint;

typedef struct engine_pin {
  const char *host;
  const uint8_t (*sha256)[32];
  size_t n_sha256;
  bool include_subdomains;
  int64_t expiry_us; /* wall time; 0 = never */
} engine_pin;

/* Cronet's HTTP cache modes (same values). */
typedef enum engine_cache_mode {
  ENGINE_CACHE_DISABLED = 0,
  ENGINE_CACHE_IN_MEMORY = 1,
  ENGINE_CACHE_DISK_NO_HTTP = 2, /* the disk holds server properties, not responses */
  ENGINE_CACHE_DISK = 3,
} engine_cache_mode;

typedef struct engine_params {
  const char *storage_path; /* NULL or "" = nothing persisted */
  const char *netlog_path;  /* NULL = no NetLog file */
  bool enable_quic;         /* default true (Cronet) */
  bool enable_http2;        /* default true */
  const engine_quic_hint *quic_hints;
  size_t n_quic_hints;
  uint32_t store_write_delay_ms; /* 0 = ENGINE_DEFAULT_STORE_WRITE_DELAY_MS */
  /* Broken alternative service backoff (Cronet's experimental options
   * initial_delay_for_broken_alternative_service_seconds and
   * exponential_backoff_on_initial_delay). 0 = Chromium's 300 s. */
  int64_t broken_initial_delay_us;
  bool broken_exponential_backoff;
  const base_clock *clock; /* NULL = the system clock */
  uv_loop_t *loop;         /* NULL = the engine starts its own network thread */
  /* Transport. */
  const char *extra_ca_file;       /* PEM, added to the system trust store */
  const char *host_resolver_rules; /* Chromium's --host-resolver-rules */
  const char *user_agent;          /* NULL = cronc_default_user_agent() */
  uint64_t connect_timeout_ms;     /* 0 = Chromium's 4 minutes */
  const engine_pin *pins;          /* read during engine_new only */
  size_t n_pins;
  bool pin_bypass_for_local_anchors; /* default true (Cronet) */
  /* HTTP cache. Disk modes need storage_path (the cache lives in
   * <storage_path>/cache). */
  engine_cache_mode cache_mode;
  int64_t cache_max_bytes; /* 0 = 50 MB */
  /* QUIC. */
  bool http3_only;                    /* every https request over QUIC to the origin (diagnosis) */
  uint64_t quic_handshake_timeout_ms; /* 0 = 10 s */
  uint64_t quic_idle_timeout_ms;      /* 0 = 30 s */
  /* Alternative services: the switches Chromium's selection rules and job
   * controller read (HttpNetworkSessionParams / QuicParams; defaults are
   * Chromium's, set by engine_params_init). */
  bool enable_http2_alternative_service;     /* race h2 alternatives; default false */
  bool enable_user_alternate_protocol_ports; /* alt port >= 1024 for origin < 1024; false */
  bool allow_remote_alt_svc;                 /* QUIC alternative on another host; true */
  bool allow_remote_h2_alt_svc;              /* h2 alternative on another host; true */
  const char *const *quic_host_allowlist;    /* hosts QUIC may serve; empty = any (copied) */
  size_t n_quic_host_allowlist;
  bool quic_disable_bidirectional_streams;         /* default false */
  bool delay_main_job_with_available_spdy_session; /* default false */
  bool retry_without_alt_svc_on_quic_errors;       /* default true */
} engine_params;

typedef struct engine engine;

void engine_params_init(engine_params *p);

/* Creates and starts an engine. Returns 0, or CRONC_ERR_INVALID_ARGUMENT,
 * CRONC_ERR_OUT_OF_MEMORY, CRONC_ERR_INSUFFICIENT_RESOURCES, or the store's
 * error (e.g. CRONC_ERR_ACCESS_DENIED when another engine holds the storage
 * path). A damaged store is not an error: it is moved aside and the engine
 * starts empty (see store.h). Invalid QUIC hints are skipped with a NetLog
 * event. */
int engine_new(const engine_params *params, engine **out);

/* Runs fn(arg) on the network thread and waits for it (own thread), or runs
 * it at once (application's loop, called on that loop's thread). Refused
 * with CRONC_ERR_INVALID_ARGUMENT on the own network thread. */
int engine_run(engine *e, base_task_fn fn, void *arg);
/* Queues fn(arg) on the network thread. Any thread. */
int engine_post(engine *e, base_task_fn fn, void *arg);

/* Network-thread objects. */
props *engine_props(engine *e);
netlog *engine_netlog(engine *e);
base_runner *engine_runner(engine *e);
bool engine_enable_quic(const engine *e);
http_stream_factory *engine_stream_factory(engine *e);
stream_factory *engine_stream_factory_impl(engine *e);
/* Where requests get their transactions: the HTTP cache when one is
 * configured, else the network layer (DESIGN.md, step 1). NULL after
 * shutdown. */
http_transaction_factory *engine_transaction_factory(engine *e);
/* The QUIC session pool (NULL when QUIC is off). */
struct quic_pool;
struct quic_pool *engine_quic_pool(engine *e);
const char *engine_user_agent(const engine *e);
/* Requests register so shutdown can cancel them (network thread). */
typedef struct engine_request_link {
  struct engine_request_link *prev, *next;
  void (*cancel)(struct engine_request_link *link); /* must unlink itself */
} engine_request_link;
void engine_add_request(engine *e, engine_request_link *link);
void engine_remove_request(engine *e, engine_request_link *link);
bool engine_enable_http2(const engine *e);

/* Writes pending server-property changes now. Network thread. Returns 0 or
 * the store's error (nothing to write, or no store: 0). */
int engine_flush_store(engine *e);

/* Opens up to num_streams connections or sessions to the origin of `url`
 * ahead of requests (Chromium's HttpStreamFactory::PreconnectStreams),
 * racing alternative services as a request would. Network thread. Returns
 * 0 (started; it completes in the background), CRONC_ERR_INVALID_URL /
 * CRONC_ERR_INVALID_ARGUMENT, or CRONC_ERR_OUT_OF_MEMORY. */
int engine_preconnect(engine *e, const char *url_spec, int num_streams);

/* The default network changed (the application says so; cronc has no
 * network-change notifier of its own): broken-until-network-change marks
 * are confirmed, QUIC is no longer known to work here (no main-job delay
 * until a handshake succeeds again), idle sockets are closed. Network
 * thread. */
void engine_on_network_changed(engine *e);

/* The job controllers' factory (network thread; for tests and tools). */
struct jc_factory;
struct jc_factory *engine_job_controller(engine *e);

/* Stops the engine: flushes pending writes, closes timers, stops the
 * network thread (running the tasks already posted), closes the store and
 * finishes the NetLog file. Refused with CRONC_ERR_INVALID_ARGUMENT when
 * called on the own network thread (Cronet's
 * ILLEGAL_STATE_CANNOT_SHUTDOWN_ENGINE_FROM_NETWORK_THREAD). Idempotent. */
int engine_shutdown(engine *e);

/* engine_shutdown() if needed, then frees. For an engine on the
 * application's loop, memory is released once libuv has closed the engine's
 * handles (keep running the loop). */
void engine_free(engine *e);

#endif /* CRONC_ENGINE_ENGINE_H */
