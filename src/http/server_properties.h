/* http/server_properties: what cronc knows about servers, Chromium's
 * HttpServerProperties (CHROMIUM_ALTSVC.md §1.5-1.9, tables B and C).
 *
 * Per origin (scheme, host, port; ws/wss are stored as http/https) it keeps
 * the alternative services (h2 or QUIC, host, port, expiration, advertised
 * ALPNs), whether the server speaks HTTP/2 and its smoothed RTT, in one map
 * bounded at 500 origins in most-recently-used order: every read and write
 * of an origin moves it to the front; the 501st origin evicts the least
 * recently used. Beside the map it keeps the canonical-suffix mappings (an
 * https origin under e.g. ".googlevideo.com" borrows the alternatives of the
 * last origin that set some under that suffix), the broken alternative
 * services (a broken_altsvc it owns; brokenness is independent of the map:
 * clearing an origin's list does not clear a broken mark) and whether QUIC
 * worked on the current network.
 *
 * Time: alternative-service expirations are wall-clock (base_clock_now);
 * broken backoff runs on ticks inside broken_altsvc. Nothing here arms a
 * timer: the owner (engine) arms one at props_next_expiry() and calls
 * props_run_expiry(); every public entry point also runs due expiries first.
 * When a broken mark expires, that alternative is removed from every origin
 * (Chromium's OnExpireBrokenAlternativeService), so it must be advertised
 * again before it is used.
 *
 * Change notification: the on_changed callback runs after a public call
 * that changed something worth persisting has finished its mutation (never
 * from the middle of one), so the store can schedule a batched write. It may
 * call back into props.
 *
 * Ownership and threads: a props object belongs to its creator (the engine)
 * and lives on the network thread; not thread-safe. The clock and netlog
 * must outlive it. Origins passed in are copied; nothing returned points
 * into props. */
#ifndef CRONC_HTTP_SERVER_PROPERTIES_H
#define CRONC_HTTP_SERVER_PROPERTIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "http/altsvc_parse.h"
#include "http/alternative_service.h"
#include "http/broken_alternative_services.h"
#include "http/props_snapshot.h"
#include "url/url.h"

/* Chromium's kMaxServerInfoEntries. */
#define PROPS_MAX_SERVER_INFO_ENTRIES 500
/* At most this many alternatives (those that survive filtering, in header
 * order) are kept per origin. Chromium has no cap; cronc has one because a
 * 256 KiB header of `h3=":1",` entries would otherwise pin megabytes per
 * origin, times 500 origins. Real servers advertise one to three. */
#define PROPS_MAX_ALTERNATIVES_PER_ORIGIN 10
/* Longest canonical suffix accepted (longer ones are refused by props_new). */
#define PROPS_MAX_SUFFIX_LEN URL_MAX_HOST

typedef struct props props;

/* Something worth persisting changed. Runs on the network thread after the
 * public call that caused it has finished mutating props. */
typedef void (*props_changed_fn)(void *user_data);

typedef struct props_params {
  const base_clock *clock; /* NULL = base_clock_system() */
  netlog *nl;              /* may be NULL */
  /* Canonical suffixes, each starting with '.', matched case-insensitively
   * at the end of the host, first match wins. NULL = Chromium's list
   * (.ggpht.com .c.youtube.com .googlevideo.com .googleusercontent.com
   * .gvt1.com); a non-NULL array with n = 0 means none. Copied. */
  const char *const *canonical_suffixes;
  size_t n_canonical_suffixes;
  size_t max_server_entries;   /* 0 = PROPS_MAX_SERVER_INFO_ENTRIES */
  props_changed_fn on_changed; /* may be NULL */
  void *user_data;
} props_params;

/* Fills Chromium's defaults (system clock, no netlog, default suffixes, 500
 * entries, no callback). */
void props_params_init(props_params *params);

/* Returns NULL on allocation failure or invalid params (a suffix that is
 * empty or longer than PROPS_MAX_SUFFIX_LEN). params NULL = defaults. */
props *props_new(const props_params *params);
/* Frees everything; no callbacks. NULL is a no-op. */
void props_free(props *p);
/* Replaces the change callback (NULL = none). */
void props_set_change_callback(props *p, props_changed_fn fn, void *user_data);
/* The broken-service tracker props owns, for its tuning setters
 * (broken_altsvc_set_delay_params, _set_max_delay). Mark, confirm and
 * expire only through props, so that expiry removes alternatives. */
broken_altsvc *props_broken(props *p);
/* Number of origins in the map (for tests and diagnostics). */
size_t props_server_count(const props *p);
/* The netlog and source props logs with (NULL / id 0 without a netlog). */
netlog *props_netlog(const props *p);
netlog_source props_netlog_source(const props *p);

/* ---- Alternative services ------------------------------------------- */

/* Chromium's GetAlternativeServiceInfos: copies the origin's alternatives
 * into `out` (emptied first), in stored order, and moves the origin to the
 * front. For an origin with an entry of its own: entries that expired
 * (expiration < now) are erased from storage, an empty host comes back as
 * the origin's host, an h2 alternative equal to the origin's host and port
 * is left out (but kept), broken ones are included. Otherwise, for https
 * origins under a canonical suffix: the non-expired, non-broken alternatives
 * of the canonical server (the last origin under that suffix and port that
 * set a non-empty list), an empty host being checked for brokenness as the
 * canonical server's host and returned as the requesting host. Returns 0,
 * CRONC_ERR_INVALID_ARGUMENT (NULL or invalid origin) or
 * CRONC_ERR_OUT_OF_MEMORY (out then holds what fitted). */
int props_get_alternative_service_infos(props *p, const url_origin *origin, altsvc_info_list *out);

/* Chromium's SetAlternativeServices: replaces the origin's list wholesale
 * with infos[0..n) (header order kept) and moves the origin to the front;
 * an https origin under a canonical suffix becomes that suffix's canonical
 * server for its port. n = 0 removes the origin's alternatives and the
 * canonical mapping of its suffix and port (Chromium removes that mapping
 * whichever origin it points to), without touching recency.
 * Returns 1 when the change is worth persisting, 0 when not, or a negative
 * error (CRONC_ERR_INVALID_ARGUMENT: bad origin, or an info whose protocol is
 * neither h2 nor QUIC; CRONC_ERR_OUT_OF_MEMORY); on error nothing changed.
 * Not worth persisting: n = 0 and nothing was stored; or the old list has
 * the same length and at each index the same service, the same ALPNs and a
 * remaining time N (new) against R (old) with neither N > 2R nor 2N < R.
 * When worth persisting, on_changed runs before returning. */
int props_set_alternative_services(props *p, const url_origin *origin, const altsvc_info *infos,
                                   size_t n);

/* Chromium's net::ProcessAlternativeServices (§1.4): turns a parsed header
 * into infos appended to `out` (not emptied): "h2" -> HTTP2 (only if
 * enable_http2), "h3" -> QUIC with advertised ALPN "h3" (only if
 * enable_quic); anything else (h3-29, quic, hq, http/1.1, unknown) is
 * skipped. expiration = now_us + max_age seconds (saturating). A `clear`
 * header gives nothing. At most PROPS_MAX_ALTERNATIVES_PER_ORIGIN infos are
 * appended; the rest of the header is ignored. Returns 0 or CRONC_ERR_OUT_OF_MEMORY. */
int props_alt_svc_to_infos(const altsvc_header *h, int64_t now_us, bool enable_http2,
                           bool enable_quic, altsvc_info_list *out);

/* Chromium's HttpStreamFactory::ProcessAlternativeServices for one Alt-Svc
 * field value (several header lines already joined with ", "): only for
 * https origins (an http origin is ignored: returns 0). Parses; a value that
 * does not parse changes nothing, logs CRONC_ALT_SVC_HEADER_INVALID
 * {"origin","reason"} and returns CRONC_ERR_INVALID_RESPONSE. Otherwise the
 * surviving entries (props_alt_svc_to_infos) replace the origin's list; a
 * `clear` value or one where nothing survives erases it (B4-B6). Returns
 * what props_set_alternative_services returns (1 worth persisting, 0 not),
 * or a negative error. */
int props_process_alt_svc_header(props *p, const url_origin *origin, const char *value, size_t len,
                                 bool enable_http2, bool enable_quic);

/* Chromium's SetQuicAlternativeService: the origin's list becomes exactly
 * one QUIC alternative. alpns may be NULL with n_alpns 0 (then the first
 * supported version is used). Returns as props_set_alternative_services. */
int props_set_quic_alternative_service(props *p, const url_origin *origin,
                                       const altsvc_service *alt, int64_t expiration_us,
                                       const char *const *alpns, size_t n_alpns);

/* ---- Broken alternative services (passthrough to broken_altsvc) ----- */
/* The service's host must be non-empty (substitute the origin's host);
 * otherwise the calls do nothing / return false. Marks and a confirm that
 * changed brokenness notify on_changed. */
void props_mark_alternative_service_broken(props *p, const altsvc_service *s);
void props_mark_alternative_service_broken_until_default_network_changes(props *p,
                                                                         const altsvc_service *s);
void props_mark_alternative_service_recently_broken(props *p, const altsvc_service *s);
bool props_is_alternative_service_broken(props *p, const altsvc_service *s);
bool props_was_alternative_service_recently_broken(props *p, const altsvc_service *s);
void props_confirm_alternative_service(props *p, const altsvc_service *s);
/* Forwards to broken_altsvc_on_default_network_changed (alternative
 * services themselves are kept across network changes, as Chromium does);
 * notifies when that changed something. */
void props_on_default_network_changed(props *p);
/* Ticks at which the next broken mark expires, INT64_MAX if none. */
int64_t props_next_expiry(props *p);
/* Processes due broken-mark expiries (removing those alternatives from every
 * origin). Returns how many marks expired. */
size_t props_run_expiry(props *p);

/* ---- HTTP/2 support and server network stats ------------------------ */
/* Chromium's SetSupportsSpdy: creates or refreshes the origin's entry;
 * notifies when the value changed (unset counts as false). */
void props_set_supports_spdy(props *p, const url_origin *origin, bool supports_spdy);
bool props_get_supports_spdy(props *p, const url_origin *origin);
/* Smoothed RTT in µs (Chromium's ServerNetworkStats.srtt). Set notifies when
 * it changed. Get returns false (and leaves *srtt_us) when none is stored. */
void props_set_srtt(props *p, const url_origin *origin, int64_t srtt_us);
bool props_get_srtt(props *p, const url_origin *origin, int64_t *srtt_us);
void props_clear_srtt(props *p, const url_origin *origin);
/* True if the server speaks HTTP/2 or has a QUIC alternative (Chromium's
 * SupportsRequestPriority). */
bool props_supports_request_priority(props *p, const url_origin *origin);

/* ---- QUIC worked on this network ------------------------------------ */
/* The local address from which QUIC last worked (Chromium's
 * LastLocalAddressWhenQuicWorked). NULL or "" clears it. Notifies when it
 * changed. */
void props_set_last_local_address_when_quic_worked(props *p, const char *address);
bool props_has_last_local_address_when_quic_worked(props *p);
bool props_was_last_local_address_when_quic_worked(props *p, const char *address);

/* ---- Persistence ----------------------------------------------------- */
/* Fills `out` (initialised by the caller with props_snapshot_init; freed with
 * props_snapshot_free): servers least recently used first, each with its
 * non-expired alternatives (broken ones included), supports_spdy and srtt;
 * for each canonical suffix only the most recently used server's
 * alternatives are written; servers with nothing to write are left out;
 * broken services from broken_altsvc_export; the QUIC-worked address.
 * Does not change recency. Returns 0 or CRONC_ERR_OUT_OF_MEMORY (out left
 * empty). */
int props_take_snapshot(props *p, props_snapshot *out);
/* Loads a snapshot (Chromium's OnServerInfoLoaded): servers in array order,
 * so the last one ends up the most recently used of the loaded ones;
 * in-memory origins not in the snapshot stay in front of them. Alternatives
 * are loaded only for https servers, expired and unknown-protocol ones
 * dropped. For an origin both in memory and in the snapshot the loaded
 * values win field by field (alternatives when any survive, supports_spdy
 * when true, srtt when non-zero). Capacity is respected (older entries are
 * evicted). Canonical mappings are rebuilt (each suffix and port maps to its
 * most recently used https server with alternatives). Broken services go to
 * broken_altsvc_import; a non-empty quic_worked_address is taken when
 * quic_worked. Returns 0, CRONC_ERR_INVALID_ARGUMENT or
 * CRONC_ERR_OUT_OF_MEMORY (what was loaded so far stays). */
int props_apply_snapshot(props *p, const props_snapshot *in);

#endif /* CRONC_HTTP_SERVER_PROPERTIES_H */
