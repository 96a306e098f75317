/* url/url: URL parsing for http, https, ws and wss; host canonicalisation;
 * origins (scheme, host, port) as Chromium's url::SchemeHostPort.
 *
 * Canonical hosts are lower case ASCII: IDN labels become punycode (libidn2,
 * UTS#46 non-transitional as browsers do), IPv4 literals in any form WHATWG
 * accepts become dotted decimal, IPv6 literals are normalised (RFC 5952) and
 * keep their brackets ("[2001:db8::1]"), as Chromium's GURL::host() does.
 * Pure functions; any thread. */
#ifndef CRONC_URL_URL_H
#define CRONC_URL_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define URL_MAX_HOST   255               /* canonical host length limit, brackets included */
#define URL_MAX_LENGTH (2 * 1024 * 1024) /* longer input is refused (Chromium's limit) */

typedef enum url_scheme {
  URL_SCHEME_INVALID = 0,
  URL_SCHEME_HTTP,
  URL_SCHEME_HTTPS,
  URL_SCHEME_WS,
  URL_SCHEME_WSS,
} url_scheme;

typedef enum url_host_kind {
  URL_HOST_NAME = 0,
  URL_HOST_IPV4,
  URL_HOST_IPV6,
} url_host_kind;

/* An origin. Fixed storage so origins are values: copied, compared and
 * hashed without allocation. */
typedef struct url_origin {
  url_scheme scheme;
  uint16_t port; /* always explicit (the default port filled in) */
  char host[URL_MAX_HOST + 1];
} url_origin;

/* A parsed URL. All strings are owned by the url and NUL-terminated. They
 * share one allocation (spec first): release them only with url_free(), and
 * never free or replace a field on its own. */
typedef struct url {
  url_scheme scheme;
  char *host; /* canonical */
  url_host_kind host_kind;
  uint16_t port;      /* effective port (the default if none was given) */
  bool port_explicit; /* a non-default port was written */
  char *path;         /* "/..." never empty */
  char *query;        /* without '?', NULL when absent */
  char *username;     /* NULL when absent */
  char *password;     /* NULL when absent */
  char *spec;         /* the canonical serialisation, without fragment */
  char *fragment;     /* without '#', percent-encoded; NULL when absent, "" for a bare '#' */
} url;

const char *url_scheme_name(url_scheme s);                    /* "https"; "" for invalid */
url_scheme url_scheme_from_string(const char *s, size_t len); /* case-insensitive */
uint16_t url_default_port(url_scheme s);
bool url_scheme_is_secure(url_scheme s); /* https, wss */

/* Parses an absolute URL (WHATWG rules for special schemes, no base URL):
 * leading/trailing C0 controls and spaces stripped, tabs and newlines
 * removed, a backslash read as '/', any number of slashes after "scheme:", userinfo
 * up to the last '@', an empty port meaning the default, dot segments
 * resolved, path and query percent-encoded as browsers do. Returns 0,
 * ERR_INVALID_URL, ERR_UNKNOWN_URL_SCHEME (a scheme other than the four) or
 * ERR_OUT_OF_MEMORY. On error *out is left zeroed and need not be freed. The
 * fragment is kept out of the spec and stored in `fragment`. Empty
 * username/password are stored as NULL. */
int url_parse(const char *s, size_t len, url *out);
void url_free(url *u);

/* Canonicalises a host (no port) into out (out_size >= URL_MAX_HOST + 1).
 * Accepts a bracketed IPv6 literal ("[::1]"; a bare "::1" is refused, as
 * Chromium refuses it). Names are percent-decoded, lower-cased and, when
 * non-ASCII, converted to punycode; punycode labels must be valid; a name
 * ending in a numeric label must be a valid IPv4 address (WHATWG). A
 * trailing dot is kept. Returns 0 or ERR_INVALID_URL. */
int url_canon_host(const char *host, size_t len, char *out, size_t out_size,
                   url_host_kind *kind_out);

/* Builds an origin, canonicalising the host. port 0 = the scheme's default.
 * ws/wss are kept as given; url_origin_normalize() maps them to http/https as
 * Chromium's server properties do. Returns 0 or ERR_INVALID_URL. */
int url_origin_init(url_origin *o, url_scheme scheme, const char *host, size_t host_len,
                    uint16_t port);
int url_origin_from_url(const url *u, url_origin *out);
void url_origin_normalize(url_origin *o); /* ws -> http, wss -> https */
bool url_origin_equal(const url_origin *a, const url_origin *b);
uint64_t url_origin_hash(const url_origin *o);
/* "https://example.com" / "https://example.com:8443" (default port omitted,
 * as Chromium serialises SchemeHostPort). Returns the length written, or -1
 * if it does not fit. */
int url_origin_to_string(const url_origin *o, char *buf, size_t size);
/* Parses the form url_origin_to_string() writes (a path "/" is tolerated). */
int url_origin_from_string(const char *s, size_t len, url_origin *out);

/* Resolves a reference (an HTTP Location value, a link) against base, as
 * the WHATWG URL standard does for special schemes (RFC 3986 section 5.2 with
 * browsers' leniencies): leading/trailing C0 controls and spaces stripped,
 * tabs and newlines removed, a backslash read as '/'. The reference may be
 *   - absolute with another scheme ("https://h/p", "https:h"): parsed alone;
 *   - absolute with base's scheme: "http://h/p" parsed alone, but "http:p",
 *     "http:/p" and "http:?q" are relative (WHATWG, RFC 3986 5.4.2);
 *   - scheme-relative "//host/path", absolute-path "/p", relative-path "p"
 *     (dot segments removed, never above the root), query-only "?q",
 *     fragment-only "#f", or empty (base without its fragment).
 * base's fragment is never inherited; the reference's own fragment is in
 * out->fragment (redirects copy the old fragment themselves). base must come
 * from url_parse/url_resolve. Returns 0, ERR_UNKNOWN_URL_SCHEME (a scheme
 * other than http, https, ws, wss: "ftp:", "data:", "g:h"), ERR_INVALID_URL
 * or ERR_OUT_OF_MEMORY; on error *out is zeroed and need not be freed. */
int url_resolve(const url *base, const char *ref, size_t len, url *out);

#endif /* CRONC_URL_URL_H */
