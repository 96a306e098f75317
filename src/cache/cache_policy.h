/* cache/cache_policy: the HTTP caching rules (RFC 9111) as pure functions,
 * the decisions Chromium takes in HttpResponseHeaders (GetFreshnessLifetimes,
 * GetCurrentAge, RequiresValidation, Update, HasStrongValidators) and in
 * HttpCache::Transaction (which responses are stored, how a request is made
 * conditional, HttpVaryData). No I/O, no state, no allocation except where an
 * output buffer is filled; any thread.
 *
 * Decisions:
 *  - cronc's cache is a private (single-user) cache, as Chromium's: s-maxage
 *    and "public"/"private" do not change freshness (Chromium's
 *    GetMaxAgeValue reads max-age only); "private" responses are stored.
 *  - Freshness (GetFreshnessLifetimes): Cache-Control no-cache / no-store or
 *    Pragma: no-cache -> 0. Else max-age (wins over Expires). Else Expires -
 *    (Date, or the response time without Date); an Expires in the past, or
 *    one that is not a valid HTTP-date ("0"), is 0 (RFC 9111 §5.3; Chromium
 *    falls through to the heuristic for an unparsable one). Else, for 200,
 *    203 and 206 without must-revalidate, 10% of Date - Last-Modified. Else
 *    300, 301, 308 and 410 are fresh for ever. Else 0.
 *    stale-while-revalidate is not implemented: stale means validate now.
 *  - Current age: RFC 9111 §4.2.3 exactly as GetCurrentAge.
 *  - Stored: GET responses with a final status other than 206 and 304, not
 *    "no-store", not "Vary: *", that are cacheable per RFC 9111 §3: explicit
 *    freshness (max-age, Expires, public, private) or a heuristically
 *    cacheable status (200 203 204 300 301 308 404 405 410 414 501).
 *  - Stored heads drop hop-by-hop fields, cookies, auth challenges and
 *    security state (Chromium's Persist with skip_transient_headers).
 *  - 304 merge: every field of the 304 replaces the stored fields of that
 *    name, except Chromium's kNonUpdatedHeaders (connection, etag,
 *    content-type, content-length, content-encoding, ...) and the prefixes
 *    x-content- and x-webkit-.
 *  - Vary: the stored request values of every field named by Vary must equal
 *    the new request's (a field absent then must be absent now); "Vary: *"
 *    never matches.
 * Times are wall-clock µs (base_clock_now). */
#ifndef CRONC_CACHE_CACHE_POLICY_H
#define CRONC_CACHE_CACHE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/h1_parser.h"

/* Parses an HTTP-date (IMF-fixdate, RFC 850, asctime; RFC 9110 §5.6.7) into
 * wall µs. false when it is not one. */
bool cache_parse_http_date(const char *s, size_t len, int64_t *out_us);
/* Writes an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for wall µs into
 * out (size >= 30). Returns the length. */
size_t cache_format_http_date(int64_t us, char *out, size_t size);

/* Whether any Cache-Control element (case-insensitive, before any '=') is
 * `directive`. */
bool cache_control_has(const h1_headers *h, const char *directive);
/* The delta-seconds of a Cache-Control directive ("max-age=60"): true and
 * *out_sec when present and a valid number (clamped to INT32_MAX). */
bool cache_control_seconds(const h1_headers *h, const char *directive, int64_t *out_sec);

/* Chromium's GetFreshnessLifetimes: µs, BASE_TIME_MAX for "for ever". */
int64_t cache_freshness_lifetime(const h1_headers *h, int64_t response_time_us);
/* RFC 9111 §4.2.3 current age in µs. */
int64_t cache_current_age(const h1_headers *h, int64_t request_time_us, int64_t response_time_us,
                          int64_t now_us);
/* Chromium's RequiresValidation: true when the stored response is stale (or
 * has no freshness at all) at now_us. */
bool cache_requires_validation(const h1_headers *h, int64_t request_time_us,
                               int64_t response_time_us, int64_t now_us);

/* Whether the response to a GET may be stored (see the decisions above). */
bool cache_response_is_storable(const h1_headers *h);
/* Whether a stored field of this name is kept (not hop-by-hop, cookie,
 * challenge or security state). */
bool cache_header_is_persisted(const char *name, size_t name_len);
/* Copies the persisted fields of src (status, version, reason too) into
 * *out (initialised by the caller; cleared first). 0 or ERR_OUT_OF_MEMORY. */
int cache_copy_persisted_headers(const h1_headers *src, h1_headers *out);
/* Sets the reason phrase of an empty head (count == 0). 0 or an error. */
int cache_headers_set_reason(h1_headers *h, const char *reason, size_t len);

/* Chromium's ShouldUpdateHeader. */
bool cache_header_is_updated_by_304(const char *name, size_t name_len);
/* Chromium's HttpResponseHeaders::Update: the stored head merged with a
 * 304's fields into *out (initialised by the caller). 0 or an error. */
int cache_merge_304(const h1_headers *stored, const h1_headers *not_modified, h1_headers *out);

/* The validators of a stored response, for a conditional request
 * (Chromium's ConditionalizeRequest): the ETag (HTTP/1.1 responses only)
 * and the Last-Modified value; slices into h, NULL/0 when absent. Returns
 * false when the response cannot be validated (no validator, or a status
 * other than 200/203). With etag_only (a Vary mismatch), Last-Modified is
 * not used. */
typedef struct cache_validators {
  const char *etag;
  size_t etag_len;
  const char *last_modified;
  size_t last_modified_len;
} cache_validators;
bool cache_get_validators(const h1_headers *h, bool etag_only, cache_validators *out);

/* Whether the request carries its own validators or a range (then the cache
 * passes it through: Chromium's external validation). */
bool cache_request_is_conditional(const h1_headers *req_headers);
/* Load flags implied by request headers (Chromium's kSpecialHeaders):
 * Cache-Control/Pragma no-cache -> BYPASS_CACHE, Cache-Control max-age=0 ->
 * VALIDATE_CACHE. */
int cache_load_flags_from_request(const h1_headers *req_headers);

/* ---- Vary ----------------------------------------------------------------
 * The request values a stored response varies on: a list of (name,
 * present, value) in the order of the Vary fields. */
typedef struct cache_vary_field {
  char *name; /* lower case, NUL-terminated */
  char *value;
  size_t value_len;
  bool present;
} cache_vary_field;

typedef struct cache_vary {
  cache_vary_field *fields;
  size_t count;
  bool star; /* "Vary: *": never matches */
} cache_vary;

void cache_vary_init(cache_vary *v);
void cache_vary_free(cache_vary *v);
/* Appends a field (copies). 0 or ERR_OUT_OF_MEMORY. */
int cache_vary_add(cache_vary *v, const char *name, size_t name_len, bool present,
                   const char *value, size_t value_len);
/* Records the request's values for the response's Vary fields into *out
 * (initialised by the caller). 0 or ERR_OUT_OF_MEMORY. */
int cache_vary_from_request(const h1_headers *response, const h1_headers *req_headers,
                            cache_vary *out);
/* Whether the stored vary data matches a new request. */
bool cache_vary_matches(const cache_vary *v, const h1_headers *req_headers);

#endif /* CRONC_CACHE_CACHE_POLICY_H */
