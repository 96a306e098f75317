/* http/altsvc_parse: the Alt-Svc header field parser (RFC 7838 §3), the
 * counterpart of quiche's SpdyAltSvcWireFormat::ParseHeaderFieldValue used by
 * Chromium. It turns one (already joined and trimmed) Alt-Svc field value into
 * either "clear" or a list of entries, and does nothing else: it does not
 * filter protocols cronc does not speak, lower-case hosts, substitute the
 * origin's host for an empty host or compute expirations (its callers do).
 *
 * Ownership: the caller owns the altsvc_header and reuses it across calls; the
 * parser only grows its entries array. Pure functions on caller memory; any
 * thread, one thread per header at a time.
 *
 * Grammar as accepted (a malformed entry rejects the whole value, as in
 * Chromium; OWS = SP / HTAB):
 *   value     = OWS ( "clear" / list ) OWS        ; "clear" exact, case-sensitive
 *   list      = *( "," OWS ) entry *( OWS "," *( OWS "," ) OWS [ entry ] )
 *   entry     = protocol-id OWS "=" OWS authority *( OWS ";" OWS [ param ] )
 *   protocol-id = 1*( tchar / "%" HEXDIG HEXDIG ), percent-decoded, 1..63 bytes
 *   authority = quoted-string: [ host ] ":" 1*DIGIT  (after backslash decoding)
 *   param     = token OWS "=" OWS ( token / quoted-string )
 * Decisions where the RFC leaves room (quiche's unless the issue says not):
 *   - "ma" is delta-seconds: 0 allowed, values above 2^32-1 saturate, quoted
 *     values are fine (RFC 7838 §3); quiche rejects all three.
 *   - "v" (gQUIC versions) and "quic" are unknown parameters and ignored:
 *     cronc does not speak gQUIC (quiche validates "v" and fails on bad ones).
 *   - a parameter value may not be empty, quoted ("") or not; a quoted value
 *     of an unknown parameter may hold any byte but an unescaped '"'.
 *   - "persist" other than "1" is ignored; a later duplicate parameter wins.
 *   - a host keeps IPv6 brackets; it may not hold CTLs, SP or HTAB (uri-host
 *     never does; keeps C strings and logs sane); escapes are decoded before
 *     the authority is split, so "\:" is a separator (RFC 9110 §5.6.4).
 *   - a percent-encoded NUL in the protocol-id is rejected (ids are C strings).
 *   - there is no limit on the number of entries (as quiche); the header size
 *     limit of the HTTP layer bounds it. */
#ifndef CRONC_HTTP_ALTSVC_PARSE_H
#define CRONC_HTTP_ALTSVC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "url/url.h"

#define ALTSVC_MAX_PROTOCOL_ID 63     /* decoded bytes; longer -> "protocol-id too long" */
#define ALTSVC_DEFAULT_MAX_AGE 86400u /* RFC 7838 §3.1: 24 hours */

/* One alternative as written in the header. */
typedef struct altsvc_entry {
  char protocol_id[ALTSVC_MAX_PROTOCOL_ID + 1]; /* percent-decoded ALPN, e.g. "h3-29" */
  char host[URL_MAX_HOST + 1];                  /* "" = same host; "[2001:db8::1]" */
  uint16_t port;                                /* 1..65535 */
  uint32_t max_age;                             /* seconds, default 86400 */
  bool persist;                                 /* persist=1 */
} altsvc_entry;

/* The parsed field value. `clear` true means the value was "clear" (count 0). */
typedef struct altsvc_header {
  bool clear;
  size_t count;
  altsvc_entry *entries; /* heap, `cap` slots, reused across parses */
  size_t cap;
} altsvc_header;

/* Initialises an empty header (no allocation). */
void altsvc_header_init(altsvc_header *h);
/* Frees the entries array and leaves h empty and reusable. */
void altsvc_header_free(altsvc_header *h);

/* Parses the field value (value, len); value need not be NUL-terminated.
 * Returns 0, or CRONC_ERR_INVALID_RESPONSE with *reason set to a short static
 * English reason ("bad percent-encoding in protocol-id", "port out of range",
 * ...), or CRONC_ERR_OUT_OF_MEMORY (reason "out of memory") if the entries
 * array could not grow. On error the header is left empty (count 0, clear
 * false). On success *reason is set to NULL. `reason` may be NULL. Reuses h's
 * memory across calls: parsing into the same header again allocates only when
 * a value has more entries than any before. */
int altsvc_parse_header(const char *value, size_t len, altsvc_header *h, const char **reason);

/* Appends exactly
 *   {"clear":false,"services":[{"protocol":"h3","host":"","port":443,
 *    "max_age":86400,"persist":false}]}
 * (keys in that order, no spaces), or {"clear":true,"services":[]}, to out.
 * Bytes outside printable ASCII in protocol ids and hosts become \u00XX. */
void altsvc_header_to_json(const altsvc_header *h, strbuf *out);

/* Appends {"error":"<reason>"} to out (reason NULL -> ""). */
void altsvc_error_to_json(const char *reason, strbuf *out);

#endif /* CRONC_HTTP_ALTSVC_PARSE_H */
