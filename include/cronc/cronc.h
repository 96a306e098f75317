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

#define CRONC_VERSION_MAJOR 0
#define CRONC_VERSION_MINOR 1
#define CRONC_VERSION_PATCH 0
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
 * Engine
 *
 * An engine is one network stack: its network thread, connection pools,
 * server properties (Alt-Svc knowledge) and, with a storage path, their
 * on-disk store. Create one per application (or per isolated profile).
 * ======================================================================== */

typedef struct cronc_engine cronc_engine;

/* A QUIC hint: https://host:port is known to speak HTTP/3 on
 * alternate_port (Cronet's QuicHint). */
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

/* Parameters. Fill with cronc_engine_params_init() and then set fields, so
 * that fields added later get their defaults. Strings are copied by
 * cronc_engine_new(). */
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
  /* Chromium's --host-resolver-rules, e.g. "MAP example.com 127.0.0.1:8443". */
  const char *host_resolver_rules;
  /* Write a NetLog (Chrome's netlog viewer format) to this file. */
  const char *netlog_path;
  const cronc_public_key_pins *public_key_pins;
  size_t n_public_key_pins;
  /* Cronet's enable_public_key_pinning_bypass_for_local_trust_anchors
   * (default true): pins are not enforced for chains ending at a trust
   * anchor added by extra_ca_file. */
  bool pin_bypass_for_local_trust_anchors;
} cronc_engine_params;

CRONC_EXPORT void cronc_engine_params_init(cronc_engine_params *params);

/* Creates and starts an engine with its own network thread. Returns
 * CRONC_OK, or CRONC_ERR_INVALID_ARGUMENT (also for an invalid pin: empty or
 * non-canonical host, no hashes), CRONC_ERR_ACCESS_DENIED (another
 * engine uses the storage path), CRONC_ERR_OUT_OF_MEMORY, ... Any thread. */
CRONC_EXPORT int cronc_engine_new(const cronc_engine_params *params, cronc_engine **out);

/* Cancels running requests (each gets on_canceled), flushes the store and
 * stops the network thread. Refused with CRONC_ERR_INVALID_ARGUMENT on the
 * network thread (i.e. from a callback run by a direct executor). */
CRONC_EXPORT int cronc_engine_shutdown(cronc_engine *engine);
/* Shuts down if needed and frees. Not on the network thread. */
CRONC_EXPORT void cronc_engine_free(cronc_engine *engine);
/* "cronc/0.1.0". */
CRONC_EXPORT const char *cronc_default_user_agent(void);

/* ========================================================================
 * Requests (Cronet's UrlRequest model)
 *
 * Callback order: zero or more on_redirect_received, then
 * on_response_started, then on_read_completed once per cronc_request_read(),
 * then exactly one terminal callback: on_succeeded, on_failed or
 * on_canceled. A request that fails before a response gets only on_failed.
 * Callbacks run on the network thread, one at a time, never re-entrantly
 * from inside a cronc_request_* call; a callback may call
 * cronc_request_read/follow_redirect/cancel. After the terminal callback
 * the request may be freed (also from inside it).
 * ======================================================================== */

typedef struct cronc_request cronc_request;

typedef struct cronc_header {
  const char *name;
  const char *value;
} cronc_header;

/* When each step of a request happened (Cronet's Metrics, from Chromium's
 * LoadTimingInfo), in µs since the Unix epoch; -1 when the step did not
 * happen for this request (a reused connection has no DNS, connect or TLS
 * times; plain http has no TLS). The connection steps are those of the
 * connection that served the final response. */
typedef struct cronc_metrics {
  int64_t request_start_us;
  int64_t dns_start_us, dns_end_us;
  int64_t connect_start_us, connect_end_us;
  int64_t ssl_start_us, ssl_end_us;
  int64_t sending_start_us, sending_end_us;
  int64_t response_start_us; /* the final response head arrived */
  int64_t request_end_us;    /* set for the terminal callback */
  bool socket_reused;
} cronc_metrics;

/* What the application sees of a response. Valid during the callback; the
 * strings belong to the request. */
typedef struct cronc_response_info {
  const char *url;                 /* the URL that answered (after redirects) */
  int http_status;                 /* 0 when there was no response */
  const char *http_status_text;
  const cronc_header *headers;     /* in received order */
  size_t n_headers;
  const char *negotiated_protocol; /* "http/1.1", "h2", "h3" or "" */
  bool was_cached;
  int64_t received_byte_count;     /* body bytes after decoding */
  size_t n_url_chain;
  const char *const *url_chain;    /* first URL .. url */
  const cronc_metrics *metrics;    /* never NULL */
} cronc_response_info;

typedef struct cronc_request_callbacks {
  /* The response is a redirect to new_location: call
   * cronc_request_follow_redirect() or cronc_request_cancel(). */
  void (*on_redirect_received)(cronc_request *req, void *user_data,
                               const cronc_response_info *info, const char *new_location);
  /* Headers are in: call cronc_request_read() to get the body. */
  void (*on_response_started)(cronc_request *req, void *user_data,
                              const cronc_response_info *info);
  /* bytes_read bytes were written to the buffer given to cronc_request_read
   * (0 never: the end of the body is on_succeeded). */
  void (*on_read_completed)(cronc_request *req, void *user_data, const cronc_response_info *info,
                            uint8_t *buffer, size_t bytes_read);
  void (*on_succeeded)(cronc_request *req, void *user_data, const cronc_response_info *info);
  /* info is NULL when no response was received. */
  void (*on_failed)(cronc_request *req, void *user_data, const cronc_response_info *info,
                    int net_error);
  void (*on_canceled)(cronc_request *req, void *user_data, const cronc_response_info *info);
} cronc_request_callbacks;

typedef struct cronc_request_params {
  uint32_t struct_size;  /* set by cronc_request_params_init() */
  const char *method;    /* NULL = "GET" ("POST" when a body is given) */
  const cronc_header *headers;
  size_t n_headers;
  const uint8_t *body;   /* upload body, copied at cronc_request_new(); may be NULL */
  size_t body_len;
  bool disable_cache;
  bool allow_http2;      /* default true; false forces HTTP/1.1 (ALPN) */
} cronc_request_params;

CRONC_EXPORT void cronc_request_params_init(cronc_request_params *params);

/* Creates a request for url (absolute http/https). Nothing happens until
 * cronc_request_start(). Returns CRONC_ERR_INVALID_URL,
 * CRONC_ERR_UNKNOWN_URL_SCHEME, CRONC_ERR_INVALID_ARGUMENT (bad method or
 * header), CRONC_ERR_OUT_OF_MEMORY. Any thread. */
CRONC_EXPORT int cronc_request_new(cronc_engine *engine, const char *url,
                                   const cronc_request_params *params,
                                   const cronc_request_callbacks *callbacks, void *user_data,
                                   cronc_request **out);
CRONC_EXPORT int cronc_request_start(cronc_request *req);
/* Reads up to len body bytes into buffer (owned by the caller until
 * on_read_completed, on_succeeded, on_failed or on_canceled). Only after
 * on_response_started or on_read_completed. */
CRONC_EXPORT int cronc_request_read(cronc_request *req, uint8_t *buffer, size_t len);
CRONC_EXPORT int cronc_request_follow_redirect(cronc_request *req);
/* Any thread, any time; on_canceled follows unless a terminal callback
 * already ran. */
CRONC_EXPORT void cronc_request_cancel(cronc_request *req);
/* Frees a request that has not started or has had its terminal callback. */
CRONC_EXPORT void cronc_request_free(cronc_request *req);

#ifdef __cplusplus
}
#endif

#endif /* CRONC_CRONC_H */
