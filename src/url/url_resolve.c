/* url/url_resolve: relative reference resolution against a base URL (the
 * WHATWG URL standard's "relative" states for special schemes; RFC 3986
 * section 5.2 with browsers' leniencies).
 *
 * Every base is special (http, https, ws, wss) and canonical, so a reference
 * resolves by textual splicing: the part of base's spec that the reference
 * keeps, followed by the reference, handed to url_parse(). The canonical
 * prefix parses back to itself (host, userinfo, path and query are fixed
 * points of the parser), and url_parse removes dot segments over the whole
 * path, which is exactly "merge then remove_dot_segments" (RFC 3986 5.2.2-4)
 * since a canonical base path holds no dot segment. One parser, one set of
 * rules. Pure functions; any thread. */
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "url/url.h"

static bool is_slash(char c) { return c == '/' || c == '\\'; }

static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

static bool is_scheme_char(unsigned char c) {
  return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

/* Length of the scheme when s starts with `scheme ":"`, else 0. */
static size_t scheme_length(const char *s, size_t n) {
  if (n == 0 || !is_alpha((unsigned char)s[0]))
    return 0;
  size_t i = 1;
  while (i < n && is_scheme_char((unsigned char)s[i]))
    i++;
  return i < n && s[i] == ':' ? i : 0;
}

/* s is stripped of surrounding spaces and free of tabs and newlines. */
static int resolve_clean(const url *base, const char *s, size_t n, url *out) {
  size_t scheme_len = scheme_length(s, n);
  if (scheme_len > 0) {
    url_scheme scheme = url_scheme_from_string(s, scheme_len);
    if (scheme == URL_SCHEME_INVALID)
      return CRONC_ERR_UNKNOWN_URL_SCHEME;
    /* Another scheme: an absolute URL ("https:h" included). Base's own
     * scheme without two slashes is relative to base (WHATWG "special
     * relative or authority state"); what follows the ':' then reads exactly
     * as a reference without scheme. */
    if (scheme != base->scheme ||
        (n >= scheme_len + 3 && is_slash(s[scheme_len + 1]) && is_slash(s[scheme_len + 2])))
      return url_parse(s, n, out);
    s += scheme_len + 1;
    n -= scheme_len + 1;
  }

  /* base spec = scheme "://" [userinfo "@"] host [":" port] path ["?" query];
   * neither path nor query can hold an unescaped '?' or '#'. */
  size_t spec_len = strlen(base->spec);
  size_t path_len = strlen(base->path);
  size_t query_len = base->query ? strlen(base->query) + 1 : 0;
  if (path_len + query_len >= spec_len)
    return CRONC_ERR_INVALID_URL;
  size_t authority_end = spec_len - path_len - query_len;

  strbuf sb = STRBUF_INIT;
  if (!strbuf_reserve(&sb, spec_len + n + 2))
    return CRONC_ERR_OUT_OF_MEMORY;
  if (n >= 2 && is_slash(s[0]) && is_slash(s[1])) {
    /* "//host/path": only the scheme is kept. */
    strbuf_append_str(&sb, url_scheme_name(base->scheme));
    strbuf_append_char(&sb, ':');
  } else if (n >= 1 && is_slash(s[0])) {
    strbuf_append(&sb, base->spec, authority_end); /* "/path" */
  } else if (n >= 1 && s[0] == '?') {
    strbuf_append(&sb, base->spec, authority_end + path_len); /* "?query" */
  } else if (n == 0 || s[0] == '#') {
    strbuf_append(&sb, base->spec, spec_len); /* "" or "#fragment" */
  } else {
    /* Relative path: merged with base's path minus its last segment. */
    const char *last_slash = strrchr(base->path, '/');
    size_t dir_len = last_slash ? (size_t)(last_slash - base->path) + 1 : 0;
    strbuf_append(&sb, base->spec, authority_end);
    if (dir_len == 0)
      strbuf_append_char(&sb, '/');
    strbuf_append(&sb, base->path, dir_len);
  }
  strbuf_append(&sb, s, n);
  int rv = strbuf_failed(&sb) ? CRONC_ERR_OUT_OF_MEMORY : url_parse(sb.data, sb.len, out);
  strbuf_free(&sb);
  return rv;
}

int url_resolve(const url *base, const char *ref, size_t len, url *out) {
  if (!out)
    return CRONC_ERR_INVALID_URL;
  memset(out, 0, sizeof(*out));
  if (!base || !base->spec || !base->path || !ref || len > URL_MAX_LENGTH ||
      url_default_port(base->scheme) == 0)
    return CRONC_ERR_INVALID_URL;
  /* The same input clean-up as url_parse, done first because it decides
   * which kind of reference this is ("\thttp:..." is absolute). */
  while (len > 0 && (unsigned char)ref[0] <= 0x20) {
    ref++;
    len--;
  }
  while (len > 0 && (unsigned char)ref[len - 1] <= 0x20)
    len--;
  size_t first = 0;
  while (first < len && ref[first] != '\t' && ref[first] != '\n' && ref[first] != '\r')
    first++;
  if (first == len)
    return resolve_clean(base, ref, len, out);
  char *clean = malloc(len);
  if (!clean)
    return CRONC_ERR_OUT_OF_MEMORY;
  size_t n = 0;
  for (size_t k = 0; k < len; k++)
    if (ref[k] != '\t' && ref[k] != '\n' && ref[k] != '\r')
      clean[n++] = ref[k];
  int rv = resolve_clean(base, clean, n, out);
  free(clean);
  return rv;
}
