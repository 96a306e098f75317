/* http/altsvc_select: which alternative service a request should race
 * against the origin, Chromium's JobController::GetAlternativeServiceInfoFor
 * / GetAlternativeServiceInfoInternal (CHROMIUM_ALTSVC.md §1.10, table E).
 *
 * The job controller calls altsvc_select() once per stream request with the
 * session's parameters (altsvc_select_params, filled with Chromium's
 * defaults by altsvc_select_params_init) and the request's flags. The
 * function reads server properties (which refreshes the origin's recency)
 * and decides; it keeps no state. The result also classifies the choice
 * for metrics (Chromium's Net.AlternativeServiceTypeForRequest).
 *
 * Threads: the network thread, like the props it reads. The params' arrays
 * and the callback's user data must stay valid during the call only. */
#ifndef CRONC_HTTP_ALTSVC_SELECT_H
#define CRONC_HTTP_ALTSVC_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/alternative_service.h"
#include "http/server_properties.h"
#include "url/url.h"

/* Chromium's kUnrestrictedPort: ports below it are "restricted". */
#define ALTSVC_SELECT_UNRESTRICTED_PORT 1024

/* Can an existing QUIC session serve `origin` through `alt` (whose host is
 * never empty)? Provided by the QUIC session pool. Must not call props
 * functions that change alternative services. */
typedef bool (*altsvc_select_can_use_quic_session_fn)(void *user_data, const url_origin *origin,
                                                      const altsvc_service *alt);

/* Session parameters (HttpNetworkSessionParams / QuicParams). */
typedef struct altsvc_select_params {
  bool enable_quic;                          /* default true (Cronet) */
  bool enable_http2_alternative_service;     /* default false */
  bool enable_user_alternate_protocol_ports; /* default false */
  bool allow_remote_alt_svc;                 /* QUIC on another host; default true */
  bool disable_bidirectional_streams;        /* QUIC for bidi streams; default false */
  /* cronc's switch for h2 alternatives on another host (Chromium has none
   * and allows them); default false = allowed. */
  bool disallow_remote_h2_alt_svc;
  /* Hosts QUIC may be used for (lower case); empty = any. */
  const char *const *quic_host_allowlist;
  size_t n_quic_host_allowlist;
  /* Alternative ports on which QUIC is disabled; empty = none. */
  const uint16_t *quic_disabled_ports;
  size_t n_quic_disabled_ports;
  /* ALPNs of the QUIC versions cronc supports, preferred first. NULL =
   * {"h3"} (RFC v1, Chromium's default supported_versions). */
  const char *const *supported_quic_alpns;
  size_t n_supported_quic_alpns;
  altsvc_select_can_use_quic_session_fn can_use_existing_quic_session; /* NULL = never */
  void *quic_session_user_data;
} altsvc_select_params;

/* Per-request flags. */
typedef struct altsvc_select_request {
  url_origin origin;                /* the request URL's origin (not host-mapped) */
  bool enable_alternative_services; /* false after a 421 or a QUIC-error retry */
  bool is_bidirectional_stream;
} altsvc_select_request;

/* Chromium's AlternativeServiceType, for metrics. */
typedef enum altsvc_usage_type {
  ALTSVC_USAGE_NO_ALTERNATIVE_SERVICE = 0,
  ALTSVC_USAGE_QUIC_SAME_DESTINATION,
  ALTSVC_USAGE_QUIC_DIFFERENT_DESTINATION,
  ALTSVC_USAGE_NOT_QUIC_SAME_DESTINATION,
  ALTSVC_USAGE_NOT_QUIC_DIFFERENT_DESTINATION,
  ALTSVC_USAGE_TYPE_COUNT
} altsvc_usage_type;

typedef struct altsvc_select_result {
  bool found;
  altsvc_info info;                        /* when found; the host is never empty */
  char quic_alpn[ALTSVC_MAX_ALPN_LEN + 1]; /* QUIC: the ALPN (version) to use */
  bool uses_existing_quic_session;         /* chosen because a session can be reused */
  /* QUIC was advertised and every QUIC alternative was broken: the request
   * reports it (Chromium's OnQuicBroken -> NetErrorDetails.quic_broken). */
  bool quic_broken;
  altsvc_usage_type usage;
} altsvc_select_result;

/* Chromium's defaults (see the field comments). */
void altsvc_select_params_init(altsvc_select_params *params);
/* enable_alternative_services true, not bidirectional. */
void altsvc_select_request_init(altsvc_select_request *req, const url_origin *origin);

/* Picks the alternative for the request. Rules, in Chromium's order, walking
 * props_get_alternative_service_infos() in stored order:
 *  - nothing unless req->enable_alternative_services and the origin is https;
 *  - skip broken ones;
 *  - skip an alternative port >= 1024 for an origin port < 1024 unless
 *    enable_user_alternate_protocol_ports;
 *  - h2: only with enable_http2_alternative_service (and, on another host,
 *    without disallow_remote_h2_alt_svc); kept as the candidate if none yet;
 *  - QUIC (from here on it counts as "not broken"): skip unless QUIC is
 *    enabled, not a bidirectional stream with disable_bidirectional_streams,
 *    the alternative port is not QUIC-disabled, an advertised ALPN is
 *    supported (none advertised = the first supported), and (another host)
 *    allow_remote_alt_svc; return it at once if an existing QUIC session can
 *    be used; skip if the allowlist is non-empty and lacks the lower-cased
 *    alternative host; otherwise the candidate if none yet.
 * Fills *out (found false when nothing fits) and returns 0, or returns
 * CRONC_ERR_INVALID_ARGUMENT / CRONC_ERR_OUT_OF_MEMORY (out: not found). */
int altsvc_select(props *p, const altsvc_select_params *params, const altsvc_select_request *req,
                  altsvc_select_result *out);

/* The usage type of a choice: QUIC or not, and whether the alternative's
 * host equals the origin's host (ports are not compared, as Chromium). */
altsvc_usage_type altsvc_usage_classify(const url_origin *origin, const altsvc_info *chosen);
/* "NO_ALTERNATIVE_SERVICE", "QUIC_SAME_DESTINATION", ... */
const char *altsvc_usage_name(altsvc_usage_type t);

#endif /* CRONC_HTTP_ALTSVC_SELECT_H */
