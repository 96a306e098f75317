/* http/broken_alternative_services: which alternative services are broken,
 * for how long, and which broke recently. Chromium:
 * net/http/broken_alternative_services.{h,cc} (CHROMIUM_ALTSVC.md §1.9, D1-D15).
 *
 * A service is in one of three states:
 *  - broken: skipped by selection until its expiry (monotonic ticks) passes.
 *    The k-th consecutive break (k >= 1) waits delay(k-1) (formula below):
 *    5, 10, 20, ... 2560 min, then 2880 min (2 days) with the defaults.
 *  - recently broken: in the recently-broken LRU (bounded at 200, the least
 *    recently marked is evicted) that holds the backoff count, or broken. It
 *    outlives the broken period and lasts until confirm(), a default-network
 *    change (for "until default network changes" entries only), LRU eviction
 *    or clear(). Recently broken QUIC does not delay TCP and gets no 0-RTT.
 *  - working.
 *
 * Pure logic: no I/O and no timer of its own. Time comes from a base_clock;
 * the owner (server properties) arms its own timer at
 * broken_altsvc_next_expiry() and calls broken_altsvc_expire(), which reports
 * each expired service through the on_expired callback (Chromium's
 * OnExpireBrokenAlternativeService: the owner then drops that service from
 * every origin so it must be re-advertised before it is used again).
 *
 * Keys are (protocol, host, port) with a non-empty host: callers substitute
 * the origin's host for an empty one. Network anonymization keys are not
 * modelled (partitioning is off in cronc, so Chromium uses an empty key).
 *
 * Ownership and threads: the object belongs to its creator (server
 * properties) and lives on the network thread; it is not thread-safe. The
 * clock and netlog must outlive it. No function calls back except
 * broken_altsvc_expire(). */
#ifndef CRONC_HTTP_BROKEN_ALTERNATIVE_SERVICES_H
#define CRONC_HTTP_BROKEN_ALTERNATIVE_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "http/alternative_service.h"
#include "http/props_snapshot.h"

/* Chromium's constants (kDefaultBrokenAlternativeProtocolDelay,
 * kMinBrokenAlternativeProtocolDelay, kMaxBrokenAlternativeProtocolDelay,
 * kBrokenDelayMaxShift, kMaxRecentlyBrokenAlternativeServiceEntries,
 * kMaxBrokenAlternativeServicesToPersist). */
#define BROKEN_ALTSVC_DEFAULT_INITIAL_DELAY_US (300 * BASE_US_PER_SEC)
#define BROKEN_ALTSVC_MIN_INITIAL_DELAY_US     (1 * BASE_US_PER_SEC)
#define BROKEN_ALTSVC_MAX_DELAY_US             (INT64_C(2) * 86400 * BASE_US_PER_SEC)
#define BROKEN_ALTSVC_MAX_SHIFT                18
#define BROKEN_ALTSVC_MAX_RECENTLY_BROKEN      200
#define BROKEN_ALTSVC_MAX_PERSISTED_BROKEN     200

typedef struct broken_altsvc broken_altsvc;

/* Called from broken_altsvc_expire() for each broken entry whose time ran
 * out, soonest expiry first. `service` is valid only during the call. The
 * callback may call broken_altsvc_is_broken() / _was_recently_broken() /
 * _broken_count() / _next_expiry(), but must not mark, confirm, clear,
 * import, expire or free. */
typedef void (*broken_altsvc_expired_fn)(const altsvc_service *service, void *user_data);

/* Creates an empty tracker with Chromium's defaults (initial delay 300 s,
 * exponential backoff on the initial delay, maximum delay 2 days).
 * clock: required (ticks drive expiry; wall time is used only by export and
 * import). nl: may be NULL; events go to a new HTTP_SERVER_PROPERTIES source.
 * on_expired: may be NULL. Returns NULL when clock is NULL or on allocation
 * failure. */
broken_altsvc *broken_altsvc_new(const base_clock *clock, netlog *nl,
                                 broken_altsvc_expired_fn on_expired, void *user_data);
/* Frees the tracker; no callbacks. NULL is a no-op. */
void broken_altsvc_free(broken_altsvc *b);

/* Chromium's SetDelayParams (Cronet's initial_delay_for_broken_alternative_
 * service_seconds and exponential_backoff_on_initial_delay). The initial
 * delay is clamped to [1 s, 300 s]. Defaults: 300 s, exponential = true.
 * Applies to marks made afterwards; existing expiries are kept. */
void broken_altsvc_set_delay_params(broken_altsvc *b, int64_t initial_delay_us,
                                    bool exponential_backoff_on_initial_delay);
/* The cap on any single delay (newer Chromium's kMaxDelayForBrokenAlternative
 * Service). Default 2 days. A negative value is taken as 0 (a mark then
 * makes the service only recently broken). */
void broken_altsvc_set_max_delay(broken_altsvc *b, int64_t max_delay_us);

/* Chromium's ComputeBrokenAlternativeServiceExpirationDelay, exposed for
 * tests and diagnostics: initial = clamp(initial, 1 s, 300 s); count 0 ->
 * initial; else count = min(count, 18) and delay = exponential ?
 * initial << count : 300 s << (count - 1); result min(delay, max_delay).
 * A negative broken_count is taken as 0. */
int64_t broken_altsvc_compute_delay(int broken_count, int64_t initial_delay_us,
                                    int64_t max_delay_us, bool exponential);

/* Every service argument must have a non-empty host (callers substitute the
 * origin's host) and a known protocol; otherwise (or with NULL) the call
 * has no effect and the queries return false / 0. */

/* Marks `s` broken (Chromium's MarkBroken): the k-th consecutive mark waits
 * compute_delay(k - 1) from now, the count living in the recently-broken
 * LRU (which this refreshes). If `s` is already broken its expiry is kept
 * but the count still grows. Removes the "until default network changes"
 * status, so a later network change leaves `s` broken (D8). On allocation
 * failure nothing changes. */
void broken_altsvc_mark_broken(broken_altsvc *b, const altsvc_service *s);
/* As mark_broken, but `s` is also confirmed (cleared, count reset) by the
 * next broken_altsvc_on_default_network_changed(), even after its broken
 * period expired (D7, D9). Used when the alternative job failed on the
 * default network but worked on another one. */
void broken_altsvc_mark_broken_until_default_network_changes(broken_altsvc *b,
                                                             const altsvc_service *s);
/* Makes `s` recently broken without breaking it (Chromium's
 * MarkRecentlyBroken, e.g. a QUIC session lost before its handshake was
 * confirmed): adds it to the LRU with count 1 if absent, else only refreshes
 * its recency (the count is unchanged). */
void broken_altsvc_mark_recently_broken(broken_altsvc *b, const altsvc_service *s);

/* Broken now? An entry whose expiry (ticks) is <= now is NOT broken even
 * before broken_altsvc_expire() ran. On true, *expiry_ticks_out (may be NULL)
 * gets the expiry in clock ticks; on false it is left untouched. Never calls
 * callbacks. */
bool broken_altsvc_is_broken(const broken_altsvc *b, const altsvc_service *s,
                             int64_t *expiry_ticks_out);
/* In the recently-broken LRU, or broken now. Does not refresh recency
 * (Chromium's WasRecentlyBroken does; here only marks do). */
bool broken_altsvc_was_recently_broken(const broken_altsvc *b, const altsvc_service *s);
/* The backoff count held in the recently-broken LRU (how many times `s` was
 * marked since it entered it), 0 when absent. Added for tests/diagnostics. */
int broken_altsvc_broken_count(const broken_altsvc *b, const altsvc_service *s);

/* `s` works (Chromium's Confirm): removes it from the broken list, the
 * recently-broken LRU (resetting its backoff) and the "until default network
 * changes" set. No callback. */
void broken_altsvc_confirm(broken_altsvc *b, const altsvc_service *s);
/* Confirms every service marked "until default network changes" (and not
 * plainly re-marked since); other broken services stay broken. Returns
 * whether anything changed (the owner then schedules a write). */
bool broken_altsvc_on_default_network_changed(broken_altsvc *b);
/* Forgets everything (broken, recently broken, until-network-change) without
 * callbacks. Chromium's Clear() keeps the until-network-change set; dropping
 * it too only saves a spurious "changed" on the next network change. */
void broken_altsvc_clear(broken_altsvc *b);

/* Removes every broken entry whose expiry <= now, keeping its recently-broken
 * count, and calls on_expired for each in expiry order (ties: marking order).
 * Returns how many expired. See broken_altsvc_expired_fn for what the
 * callback may do. */
size_t broken_altsvc_expire(broken_altsvc *b);
/* Ticks of the soonest expiry (possibly already past: call expire() now), or
 * INT64_MAX when nothing is broken. For the owner's timer. */
int64_t broken_altsvc_next_expiry(const broken_altsvc *b);

/* Persistence (Chromium's HttpServerPropertiesManager broken list, §1.12).
 *
 * export: first the recently-broken LRU, least recent first, each with its
 * count; then broken entries that are not in the LRU (broken_count 0), in
 * expiry order. Only the 200 soonest-expiring currently-broken entries carry
 * is_broken, with broken_until_us = wall now + (expiry_ticks - ticks now);
 * other entries have is_broken false and broken_until_us 0. The "until default
 * network changes" status is not persisted (after reload it is plain broken).
 * Returns 0 or CRONC_ERR_OUT_OF_MEMORY (nothing returned) or
 * CRONC_ERR_INVALID_ARGUMENT (NULL pointer); *out is heap (free()), NULL when
 * *n_out is 0. */
int broken_altsvc_export(const broken_altsvc *b, props_snapshot_broken **out, size_t *n_out);
/* import (Chromium's SetBrokenAndRecentlyBrokenAlternativeServices): entries
 * with broken_count > 0 form the LRU in the given order (least recent first;
 * a later duplicate wins), overwriting in-memory counts; in-memory LRU
 * entries not loaded stay, as more recent than the loaded ones (the oldest
 * go beyond 200). An is_broken entry with a future broken_until becomes
 * broken until then (replacing an in-memory expiry) and, if it has no count
 * in the LRU, gets count 1; one whose broken_until is already past becomes
 * only recently broken (count 1 if it had none; no callback, in-memory
 * brokenness untouched). Entries with a negative count, an empty host or an
 * unknown protocol, and entries with count 0 that are not broken, are
 * skipped. Returns 0, CRONC_ERR_INVALID_ARGUMENT (NULL items with n > 0) or
 * CRONC_ERR_OUT_OF_MEMORY (then nothing changed). */
int broken_altsvc_import(broken_altsvc *b, const props_snapshot_broken *items, size_t n);

#endif /* CRONC_HTTP_BROKEN_ALTERNATIVE_SERVICES_H */
