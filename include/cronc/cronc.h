/* cronc: a Cronet-class HTTP network stack in C.
 *
 * This is the umbrella public header. Everything declared here is prefixed
 * cronc_ / CRONC_; everything under src/ is internal and never installed.
 * Errors are Chromium's net error codes (negative ints, 0 = OK); see
 * cronc_error_name(). Thread-safety is stated per function. */
#ifndef CRONC_CRONC_H
#define CRONC_CRONC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CRONC_BUILDING_LIBRARY)
#define CRONC_EXPORT __attribute__((visibility("default")))
#else
#define CRONC_EXPORT
#endif

#define CRONC_VERSION_MAJOR  0
#define CRONC_VERSION_MINOR  1
#define CRONC_VERSION_PATCH  0
#define CRONC_VERSION_STRING "0.1.0"

/* Chromium's net error codes: CRONC_OK = 0, CRONC_ERR_IO_PENDING = -1, ... */
typedef enum cronc_error {
  CRONC_OK = 0,
#define NET_ERROR(name, value) CRONC_ERR_##name = (value),
#include "cronc/net_error_list.h"
#undef NET_ERROR
} cronc_error;

/* The runtime library version, e.g. "0.1.0". Any thread. */
CRONC_EXPORT const char *cronc_version(void);

/* Chromium's name for an error code without the "net::" prefix, e.g.
 * cronc_error_name(-105) == "ERR_NAME_NOT_RESOLVED", cronc_error_name(0) ==
 * "OK". Unknown codes give "ERR_UNKNOWN". The string is static. Any thread. */
CRONC_EXPORT const char *cronc_error_name(int error);

/* ========================================================================
 * Threads, ownership and callback order (read this first)
 *
 * - An engine owns one network thread (or runs on a libuv loop the
 *   application owns, see cronc_engine_params.uv_loop). Every network
 *   object lives there; API calls from other threads post tasks to it and
 *   never wait for the application.
 * - Every cronc_* function may be called from any thread unless its comment
 *   says otherwise, including from inside callbacks. No function calls back
 *   into the application before it returns: callbacks always come later.
 * - Callbacks run on the executor the application supplies for the request
 *   (cronc_executor), or, with none, directly on the network thread (they
 *   must then not block). One request's callbacks never overlap.
 * - Strings and structs given to a *_new() function are copied; pointers in
 *   callbacks (response info, error info) are valid during the callback
 *   only, unless stated.
 * - Objects created by cronc_*_new() are freed by the matching *_free().
 * ======================================================================== */

/* ---- Executors -----------------------------------------------------------
 * An executor runs cronc's callbacks where the application wants them
 * (Cronet's Executor): cronc calls execute(executor_data, task), normally
 * from the network thread; the application queues the task and later calls
 * cronc_task_run(task) on its own thread (or cronc_task_drop(task) if it is
 * shutting down). execute must not block. A task must be run or dropped
 * exactly once. Running it inside execute makes a direct executor: the
 * callbacks then run on the network thread. */
typedef struct cronc_task cronc_task;
typedef struct cronc_executor {
  void (*execute)(void *executor_data, cronc_task *task);
  void *executor_data;
} cronc_executor;

/* Runs the task's callback and frees the task. Any thread. */
CRONC_EXPORT void cronc_task_run(cronc_task *task);
/* Frees the task without running it. A dropped request callback is lost:
 * drop only when nothing will run any more (application shutdown). */
CRONC_EXPORT void cronc_task_drop(cronc_task *task);

/* ========================================================================
 * Engine
 *
 * An engine is one network stack: its network thread, connection pools,
 * server properties (Alt-Svc knowledge) and, with a storage path, their
 * on-disk store. Create one per application (or per isolated profile).
 * ======================================================================== */

typedef struct cronc_engine cronc_engine;

/* A QUIC hint: https://host:port is known to speak HTTP/3 on
 * alternate_port (Cronet's QuicHint). Invalid hints (empty or
 * non-canonical host, a port outside 1..65535) are skipped with a NetLog
 * event, as Cronet does. */
typedef struct cronc_quic_hint {
  const char *host;
  int32_t port;
  int32_t alternate_port;
} cronc_quic_hint;

/* Public-key pins for a host (Cronet's PublicKeyPins): a connection to host
 * (and, with include_subdomains, to names under it) must have one of these
 * SHA-256 hashes of a SubjectPublicKeyInfo in its verified chain, or it
 * fails with CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN. */
typedef struct cronc_public_key_pins {
  const char *host;
  const uint8_t (*sha256)[32];
  size_t n_sha256;
  bool include_subdomains;
  int64_t expiration_ms; /* Unix time in ms after which the pins are ignored; 0 = never */
} cronc_public_key_pins;

/* HTTP cache modes (Cronet's HTTP_CACHE_MODE, same values). Disk modes
 * need storage_path; the cache lives in <storage_path>/cache. */
typedef enum cronc_http_cache_mode {
  CRONC_HTTP_CACHE_DISABLED = 0,
  CRONC_HTTP_CACHE_IN_MEMORY = 1,
  CRONC_HTTP_CACHE_DISK_NO_HTTP = 2, /* the disk holds server properties only */
  CRONC_HTTP_CACHE_DISK = 3,
} cronc_http_cache_mode;

/* Parameters. Fill with cronc_engine_params_init() and then set fields, so
 * that fields added later get their defaults. Strings and arrays are copied
 * by cronc_engine_new(). */
typedef struct cronc_engine_params {
  uint32_t struct_size;     /* set by cronc_engine_params_init() */
  const char *user_agent;   /* NULL = cronc_default_user_agent() */
  const char *storage_path; /* NULL = nothing persisted; created if missing */
  bool enable_http2;        /* default true */
  bool enable_quic;         /* default true */
  const cronc_quic_hint *quic_hints;
  size_t n_quic_hints;
  /* PEM file of extra trusted CAs, added to the system store. */
  const char *extra_ca_file;
  /* Chromium's --host-resolver-rules, e.g. "MAP example.com 127.0.0.1:8443".
   * Wins over HostResolverRules in experimental_options. */
  const char *host_resolver_rules;
  /* Write a NetLog (Chrome's netlog viewer format) to this file. */
  const char *netlog_path;
  const cronc_public_key_pins *public_key_pins;
  size_t n_public_key_pins;
  /* Cronet's enable_public_key_pinning_bypass_for_local_trust_anchors
   * (default true): pins are not enforced for chains ending at a trust
   * anchor added by extra_ca_file. */
  bool pin_bypass_for_local_trust_anchors;
  /* ---- added in 0.1: HTTP cache, options, loop ---- */
  cronc_http_cache_mode http_cache_mode; /* default DISABLED */
  int64_t http_cache_max_bytes;          /* 0 = 50 MB; advisory */
  /* Cronet's experimental options: a JSON object. The keys cronc maps (the
   * rest is ignored, as Cronet ignores keys it does not know):
   *   "QUIC": {"idle_connection_timeout_seconds": int,
   *            "max_time_before_crypto_handshake_seconds": int,
   *            "initial_delay_for_broken_alternative_service_seconds": int,
   *            "exponential_backoff_on_initial_delay": bool,
   *            "host_whitelist": "a.com, b.com" (quic_host_allowlist; split
   *              on commas as Cronet splits it: "" = any host, and an empty
   *              entry such as " " matches no host),
   *            "quic_disable_bidirectional_streams": bool,
   *            "retry_without_alt_svc_on_quic_errors": bool,
   *            "delay_main_job_with_available_spdy_session": bool}
   *   "HostResolverRules": {"host_resolver_rules": "MAP ..."}
   *   "cronc": {"extra_ca_file": "/path/ca.pem",
   *             "enable_http2_alternative_service": bool,
   *             "enable_user_alternate_protocol_ports": bool,
   *             "allow_remote_alt_svc": bool,
   *             "allow_remote_h2_alt_svc": bool}
   *            (cronc's own keys, for programs that only have Cronet's API:
   *            Chromium switches Cronet has no key for; the extra_ca_file
   *            field wins over the key, the switch keys win over the fields)
   * A key with a value of the wrong type is ignored, as Cronet ignores it.
   * Text that is not a JSON object makes cronc_engine_new() fail with
   * CRONC_ERR_INVALID_ARGUMENT. NULL or "" = {}. */
  const char *experimental_options;
  /* Added to requests without an Accept-Language header; NULL/"" = none. */
  const char *accept_language;
  bool enable_brotli; /* default true: "br" in Accept-Encoding over https */
  /* Every https request goes over QUIC to the origin, no TCP fallback
   * (diagnosis; the cronc command's --http3-only). Default false. */
  bool http3_only;
  /* Run on this libuv loop (a uv_loop_t *) instead of an own network
   * thread. The loop's thread is then the network thread: create, shut
   * down and free the engine on it, and keep running the loop. Block or
   * ignore SIGPIPE on that thread (cronc's own network thread blocks it):
   * a write to a socket the server closed must fail with EPIPE, not end
   * the process. */
  void *uv_loop;
  /* ---- added in 0.1: alternative-service switches ----
   * The switches Chromium's alternative-service selection and job
   * controller read (HttpNetworkSessionParams, QuicParams), with Chromium's
   * defaults. The same switch in experimental_options wins over the field
   * (Cronet applies experimental options last). */
  /* Use h2 alternative services, not only h3 (Chromium's
   * enable_http2_alternative_service). Default false. */
  bool enable_http2_alternative_service;
  /* Allow an alternative on a port >= 1024 for an origin on a port < 1024
   * (--enable-user-controlled-alternate-protocol-ports). Default false:
   * Chromium's guard against a user on a shared host hijacking an origin. */
  bool enable_user_alternate_protocol_ports;
  /* Allow a QUIC alternative on another host than the origin's
   * (QuicParams.allow_remote_alt_svc). Default true. */
  bool allow_remote_alt_svc;
  /* Allow an h2 alternative on another host than the origin's. Default
   * true. */
  bool allow_remote_h2_alt_svc;
  /* Hosts QUIC may be used for (Cronet's QUIC.host_whitelist); n = 0 = any
   * host. Copied, each entry trimmed and lower-cased (hosts are compared
   * lower-case); a NULL entry makes cronc_engine_new() fail with
   * CRONC_ERR_INVALID_ARGUMENT. */
  const char *const *quic_host_allowlist;
  size_t n_quic_host_allowlist;
  /* No QUIC for bidirectional streams (QuicParams.
   * disable_bidirectional_streams). Default false. */
  bool quic_disable_bidirectional_streams;
  /* Delay the TCP job behind an alternative job even when an HTTP/2 session
   * to the origin is available. Default false. */
  bool delay_main_job_with_available_spdy_session;
  /* After a QUIC protocol error on an alternative service, retry the
   * request without alternative services (and mark the alternative broken
   * when that retry succeeds). Default true. */
  bool retry_without_alt_svc_on_quic_errors;
} cronc_engine_params;

CRONC_EXPORT void cronc_engine_params_init(cronc_engine_params *params);

/* Checks an experimental options string as cronc_engine_new() would:
 * CRONC_OK for NULL, "" or a JSON object, CRONC_ERR_INVALID_ARGUMENT
 * otherwise. Any thread. */
CRONC_EXPORT int cronc_experimental_options_check(const char *json);

/* Creates and starts an engine with its own network thread. Returns
 * CRONC_OK, or CRONC_ERR_INVALID_ARGUMENT (also for an invalid pin: empty or
 * non-canonical host, no hashes; or bad experimental options),
 * CRONC_ERR_ACCESS_DENIED (another engine uses the storage path),
 * CRONC_ERR_OUT_OF_MEMORY, ... Any thread (on the loop's thread for an
 * engine on the application's loop). */
CRONC_EXPORT int cronc_engine_new(const cronc_engine_params *params, cronc_engine **out);

/* True when called on the engine's network thread (inside a callback run
 * by a direct executor, or on the application's loop). Any thread. */
CRONC_EXPORT bool cronc_engine_on_network_thread(const cronc_engine *engine);

/* Cancels running requests first (each gets its on_canceled, through its
 * executor), flushes the store, stops the NetLog and the network thread.
 * Blocks until done. Refused with CRONC_ERR_INVALID_ARGUMENT when called on
 * the engine's own network thread (check cronc_engine_on_network_thread():
 * Cronet's ILLEGAL_STATE_CANNOT_SHUTDOWN_ENGINE_FROM_NETWORK_THREAD); for an
 * engine on the application's loop it must be called on that loop's
 * thread. Idempotent. After it, requests can only be freed. */
CRONC_EXPORT int cronc_engine_shutdown(cronc_engine *engine);
/* Shuts down if needed and frees. Not on the own network thread (then it
 * does nothing). */
CRONC_EXPORT void cronc_engine_free(cronc_engine *engine);
/* "cronc/0.1.0". Static. Any thread. */
CRONC_EXPORT const char *cronc_default_user_agent(void);

/* Chromium's limit on sockets per group (host, port, scheme): a preconnect
 * asking for more opens this many. */
#define CRONC_PRECONNECT_MAX_STREAMS 6

/* Opens connections to the origin of url (http or https) ahead of requests
 * (Chromium's HttpStreamFactory::PreconnectStreams): num_streams TCP (+TLS)
 * connections, or one HTTP/2 or QUIC session when the origin speaks it (a
 * session carries every stream), racing alternative services as a request
 * would. Later requests to the origin reuse them. num_streams above
 * CRONC_PRECONNECT_MAX_STREAMS is clamped. Returns CRONC_OK once queued
 * (the connections open in the background; a failure there is not reported
 * to the application: its requests simply connect anew), or
 * CRONC_ERR_INVALID_ARGUMENT (NULL engine or url, num_streams < 1),
 * CRONC_ERR_INVALID_URL, CRONC_ERR_UNKNOWN_URL_SCHEME or
 * CRONC_ERR_DISALLOWED_URL_SCHEME (not http/https),
 * CRONC_ERR_CONTEXT_SHUT_DOWN, CRONC_ERR_OUT_OF_MEMORY. Any thread; the work
 * runs on the network thread. */
CRONC_EXPORT int cronc_engine_preconnect(cronc_engine *engine, const char *url, int num_streams);

/* Tells the engine the device's default network changed (Chromium's
 * NetworkChangeNotifier; cronc has no notifier of its own, so the
 * application reports it): alternative services marked broken "until the
 * default network changes" are confirmed, QUIC is no longer known to work
 * (so TCP is not delayed behind QUIC until a QUIC handshake succeeds on the
 * new network), and idle sockets are closed. Any thread; returns CRONC_OK
 * once queued, CRONC_ERR_INVALID_ARGUMENT or CRONC_ERR_CONTEXT_SHUT_DOWN. */
CRONC_EXPORT int cronc_engine_notify_network_changed(cronc_engine *engine);

/* Starts writing a NetLog file (Chrome's netlog viewer JSON) now; the file
 * is truncated. CRONC_ERR_INVALID_ARGUMENT when one is already being
 * written (by this call or netlog_path) or the engine is shut down; the
 * file's open error otherwise (e.g. CRONC_ERR_FILE_NOT_FOUND). */
CRONC_EXPORT int cronc_engine_start_netlog(cronc_engine *engine, const char *path);
/* Ends the file started by cronc_engine_start_netlog() or netlog_path:
 * writes the closing and closes it. No-op when none is open. */
CRONC_EXPORT void cronc_engine_stop_netlog(cronc_engine *engine);

/* ========================================================================
 * Requests (Cronet's UrlRequest model)
 *
 * Callback order: zero or more on_redirect_received (each waits for
 * cronc_request_follow_redirect() or cronc_request_cancel()), then
 * on_response_started, then one on_read_completed per cronc_request_read(),
 * then exactly one terminal callback: on_succeeded (after the read that
 * found the end of the body), on_failed or on_canceled. A request that fails
 * before a response gets only on_failed. After cronc_request_cancel() no
 * other callback than on_canceled is delivered (unless a terminal callback
 * had already been produced). Callbacks run on the request's executor (or
 * the network thread), one at a time. After the terminal callback the
 * request may be freed, also from inside it.
 * ======================================================================== */

typedef struct cronc_request cronc_request;

typedef struct cronc_header {
  const char *name;
  const char *value;
} cronc_header;

/* When each step of a request happened (Cronet's Metrics, from Chromium's
 * LoadTimingInfo), in µs since the Unix epoch; -1 when the step did not
 * happen for this request (a reused connection has no DNS, connect or TLS
 * times; plain http has no TLS; a cache hit has no network step). The
 * connection steps are those of the connection that served the final
 * response. */
typedef struct cronc_metrics {
  int64_t request_start_us;
  int64_t dns_start_us, dns_end_us;
  int64_t connect_start_us, connect_end_us;
  int64_t ssl_start_us, ssl_end_us;
  int64_t sending_start_us, sending_end_us;
  int64_t response_start_us; /* the final response head arrived */
  int64_t request_end_us;    /* set for the terminal callback */
  bool socket_reused;
  /* ---- added in 0.1 ---- */
  int64_t push_start_us, push_end_us; /* always -1: cronc takes no pushes */
  int64_t sent_byte_count;            /* bytes sent for the whole request, -1 unknown */
  int64_t received_byte_count;        /* bytes received, heads included, -1 unknown */
} cronc_metrics;

/* Which job served the request (Chromium's job controller). */
typedef enum cronc_job_winner {
  CRONC_JOB_WINNER_NONE = 0, /* no race: only the main job ran */
  CRONC_JOB_WINNER_MAIN = 1, /* TCP won over an alternative service */
  CRONC_JOB_WINNER_ALTERNATIVE = 2,
} cronc_job_winner;

/* What the application sees of a response. Valid during the callback; the
 * strings belong to the request. */
typedef struct cronc_response_info {
  const char *url; /* the URL that answered (after redirects) */
  int http_status; /* 0 when there was no response */
  const char *http_status_text;
  const cronc_header *headers; /* in received order, duplicates kept */
  size_t n_headers;
  const char *negotiated_protocol; /* "http/1.1", "h2", "h3" or "" (cache) */
  bool was_cached;
  /* Bytes received for this request so far, heads and earlier redirects
   * included, before content decoding (Cronet's received_byte_count). */
  int64_t received_byte_count;
  size_t n_url_chain;
  const char *const *url_chain; /* first URL .. url */
  const cronc_metrics *metrics; /* never NULL */
  /* ---- added in 0.1 ---- */
  const char *proxy_server; /* "" = direct (cronc has no proxy yet) */
  bool cache_validated;     /* a stored response confirmed by a 304 */
  bool zero_rtt;            /* the request went out as accepted 0-RTT data */
  bool quic_broken;         /* every advertised QUIC service was broken */
  cronc_job_winner job_winner;
  /* "h3 host:port" when an alternative service served the request, else "". */
  const char *alternative_service;
} cronc_response_info;

/* Details of a failure (Cronet's Error), for on_failed. */
typedef struct cronc_error_info {
  int net_error;              /* as passed to on_failed */
  int quic_error;             /* QUIC transport/application error code, 0 = none */
  bool immediately_retryable; /* Cronet's rule: network changed, timeouts, closed/reset */
  /* The upload data provider reported the failure (Cronet's
   * ERROR_CALLBACK); net_error is then CRONC_ERR_FAILED. */
  bool callback_error;
  const char *message; /* "net::ERR_..." or "Failure from UploadDataProvider: ..." */
} cronc_error_info;

typedef struct cronc_request_callbacks {
  /* The response is a redirect to new_location: call
   * cronc_request_follow_redirect() or cronc_request_cancel(). */
  void (*on_redirect_received)(cronc_request *req, void *user_data, const cronc_response_info *info,
                               const char *new_location);
  /* Headers are in: call cronc_request_read() to get the body. */
  void (*on_response_started)(cronc_request *req, void *user_data, const cronc_response_info *info);
  /* bytes_read bytes were written to the buffer given to cronc_request_read
   * (0 never: the end of the body is on_succeeded). */
  void (*on_read_completed)(cronc_request *req, void *user_data, const cronc_response_info *info,
                            uint8_t *buffer, size_t bytes_read);
  void (*on_succeeded)(cronc_request *req, void *user_data, const cronc_response_info *info);
  /* info is NULL when no response was received. Details:
   * cronc_request_get_error(). */
  void (*on_failed)(cronc_request *req, void *user_data, const cronc_response_info *info,
                    int net_error);
  void (*on_canceled)(cronc_request *req, void *user_data, const cronc_response_info *info);
} cronc_request_callbacks;

/* ---- Upload data providers (Cronet's UploadDataProvider) -----------------
 * A request body produced by the application while it is sent. cronc calls
 * read/rewind/close on the upload executor (the request's executor when
 * none is given; the network thread when neither is). Each read must be
 * answered exactly once, synchronously or later, from any thread, with
 * cronc_upload_sink_read_succeeded() or _read_error(); each rewind with
 * _rewind_succeeded() or _rewind_error(). The buffer of a read belongs to
 * cronc; write at most len bytes into it before answering. Rules
 * (Cronet's): bytes_read > 0 unless final_chunk; final_chunk only for a
 * chunked body (length -1); never more bytes than length. Breaking a rule
 * or answering with an error fails the request (cronc_error_info
 * .callback_error). rewind is asked only to resend the body (a redirect
 * that keeps it: 307/308, or a retry on a stale connection), never before
 * the first read. close is called once, when the response starts or the
 * request ends, never while a read or rewind is outstanding. */
typedef struct cronc_upload_sink cronc_upload_sink;
typedef struct cronc_upload_provider {
  /* Called once, in cronc_request_new(), on the caller's thread. >= 0:
   * exactly that many bytes (Content-Length); -1: chunked. */
  int64_t (*get_length)(void *user_data);
  void (*read)(void *user_data, cronc_upload_sink *sink, uint8_t *buffer, size_t len);
  void (*rewind)(void *user_data, cronc_upload_sink *sink); /* NULL: cannot rewind */
  void (*close)(void *user_data);                           /* NULL: nothing to do */
  void *user_data;
} cronc_upload_provider;

CRONC_EXPORT void cronc_upload_sink_read_succeeded(cronc_upload_sink *sink, size_t bytes_read,
                                                   bool final_chunk);
CRONC_EXPORT void cronc_upload_sink_read_error(cronc_upload_sink *sink, const char *message);
CRONC_EXPORT void cronc_upload_sink_rewind_succeeded(cronc_upload_sink *sink);
CRONC_EXPORT void cronc_upload_sink_rewind_error(cronc_upload_sink *sink, const char *message);

/* Request priority (Cronet's REQUEST_PRIORITY values). */
typedef enum cronc_priority {
  CRONC_PRIORITY_IDLE = 0,
  CRONC_PRIORITY_LOWEST = 1,
  CRONC_PRIORITY_LOW = 2,
  CRONC_PRIORITY_MEDIUM = 3, /* default */
  CRONC_PRIORITY_HIGHEST = 4,
} cronc_priority;

/* Per-request cache behaviour (Chromium's load flags, same values). */
enum {
  CRONC_LOAD_NORMAL = 0,
  CRONC_LOAD_VALIDATE_CACHE = 1 << 0,        /* revalidate a stored entry even if fresh */
  CRONC_LOAD_BYPASS_CACHE = 1 << 1,          /* go to the network; the response may be stored */
  CRONC_LOAD_SKIP_CACHE_VALIDATION = 1 << 2, /* use a stale entry as it is */
  CRONC_LOAD_ONLY_FROM_CACHE = 1 << 3,       /* never the network: CRONC_ERR_CACHE_MISS */
  CRONC_LOAD_DISABLE_CACHE = 1 << 4,         /* neither read nor write the cache */
};

/* Whether the request may be sent as 0-RTT early data (Cronet's
 * IDEMPOTENCY): DEFAULT = only safe methods (GET, HEAD, OPTIONS, TRACE). */
typedef enum cronc_idempotency {
  CRONC_IDEMPOTENCY_DEFAULT = 0,
  CRONC_IDEMPOTENCY_IDEMPOTENT = 1,
  CRONC_IDEMPOTENCY_NOT_IDEMPOTENT = 2,
} cronc_idempotency;

typedef struct cronc_request_params {
  uint32_t struct_size; /* set by cronc_request_params_init() */
  const char *method;   /* NULL = "GET" ("POST" when a body is given) */
  const cronc_header *headers;
  size_t n_headers;
  const uint8_t *body; /* upload body, copied at cronc_request_new(); may be NULL */
  size_t body_len;
  bool disable_cache; /* = CRONC_LOAD_DISABLE_CACHE */
  bool allow_http2;   /* default true; false forces HTTP/1.1 (ALPN) */
  /* ---- added in 0.1 ---- */
  /* Where callbacks run; NULL = directly on the network thread. Copied. */
  const cronc_executor *executor;
  /* A streamed body instead of body (copied; user_data must outlive the
   * request). */
  const cronc_upload_provider *upload;
  const cronc_executor *upload_executor; /* NULL = executor */
  cronc_priority priority;               /* default MEDIUM */
  int load_flags;                        /* CRONC_LOAD_* */
  cronc_idempotency idempotency;
} cronc_request_params;

CRONC_EXPORT void cronc_request_params_init(cronc_request_params *params);

/* Creates a request for url (absolute http/https). Nothing happens until
 * cronc_request_start(). Returns CRONC_ERR_INVALID_URL,
 * CRONC_ERR_UNKNOWN_URL_SCHEME or CRONC_ERR_DISALLOWED_URL_SCHEME (not
 * http/https), CRONC_ERR_INVALID_ARGUMENT (bad method, header or provider),
 * CRONC_ERR_CONTEXT_SHUT_DOWN (the engine is shut down),
 * CRONC_ERR_OUT_OF_MEMORY. The provider's get_length is called here. Any
 * thread. */
CRONC_EXPORT int cronc_request_new(cronc_engine *engine, const char *url,
                                   const cronc_request_params *params,
                                   const cronc_request_callbacks *callbacks, void *user_data,
                                   cronc_request **out);
/* CRONC_ERR_INVALID_ARGUMENT when already started. */
CRONC_EXPORT int cronc_request_start(cronc_request *req);
/* Reads up to len body bytes into buffer (owned by the caller; cronc writes
 * into it until on_read_completed or the terminal callback). Only once per
 * on_response_started / on_read_completed, else CRONC_ERR_INVALID_ARGUMENT
 * (also when the request is done or canceled). */
CRONC_EXPORT int cronc_request_read(cronc_request *req, uint8_t *buffer, size_t len);
/* Only once per on_redirect_received, else CRONC_ERR_INVALID_ARGUMENT. */
CRONC_EXPORT int cronc_request_follow_redirect(cronc_request *req);
/* Any thread, any time; on_canceled follows unless the request had not
 * started or a terminal callback was already produced. */
CRONC_EXPORT void cronc_request_cancel(cronc_request *req);
/* True once a terminal callback has been produced or cancel was called on
 * a started request. */
CRONC_EXPORT bool cronc_request_is_done(const cronc_request *req);
/* Failure details; valid in and after on_failed (false before). */
CRONC_EXPORT bool cronc_request_get_error(const cronc_request *req, cronc_error_info *out);

/* Where a request is (Chromium's LoadState, Cronet's status values). */
typedef enum cronc_load_state {
  CRONC_LOAD_STATE_INVALID = -1, /* not started, or done */
  CRONC_LOAD_STATE_IDLE = 0,     /* waiting for the application (read, follow) */
  CRONC_LOAD_STATE_CONNECTING = 10,
  CRONC_LOAD_STATE_WAITING_FOR_RESPONSE = 13,
  CRONC_LOAD_STATE_READING_RESPONSE = 14,
} cronc_load_state;
CRONC_EXPORT cronc_load_state cronc_request_load_state(const cronc_request *req);

/* Frees a request that has not started or has had its terminal callback
 * (also from inside it). */
CRONC_EXPORT void cronc_request_free(cronc_request *req);

/* ---- Request-finished listeners (Cronet's RequestFinishedInfoListener) --- */
typedef enum cronc_finished_reason {
  CRONC_FINISHED_SUCCEEDED = 0,
  CRONC_FINISHED_FAILED = 1,
  CRONC_FINISHED_CANCELED = 2,
} cronc_finished_reason;

typedef struct cronc_request_finished_info {
  cronc_request *request; /* do not call it: may already be freed by the app */
  const char *url;        /* the request's first URL */
  cronc_finished_reason reason;
  const cronc_metrics *metrics;
  const cronc_response_info *response; /* NULL without a response */
  const cronc_error_info *error;       /* NULL unless FAILED */
} cronc_request_finished_info;

typedef void (*cronc_request_finished_fn)(void *user_data, const cronc_request_finished_info *info);

/* Calls fn(user_data, info) on executor (NULL = the network thread) after
 * every request of this engine that ends while it is registered; info is
 * valid during the call. Reports are queued before the request's terminal
 * callback (with an asynchronous executor they may run after it). The same fn+user_data pair once:
 * a second add gives CRONC_ERR_INVALID_ARGUMENT. */
CRONC_EXPORT int cronc_engine_add_request_finished_listener(cronc_engine *engine,
                                                            cronc_request_finished_fn fn,
                                                            void *user_data,
                                                            const cronc_executor *executor);
/* CRONC_ERR_INVALID_ARGUMENT if not registered. Reports already queued may
 * still arrive. */
CRONC_EXPORT int cronc_engine_remove_request_finished_listener(cronc_engine *engine,
                                                               cronc_request_finished_fn fn,
                                                               void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* CRONC_CRONC_H */
