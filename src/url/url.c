/* url/url: schemes and the URL parser (the WHATWG URL standard's basic URL
 * parser for special schemes, restricted to http, https, ws and wss, with no
 * base URL: url_resolve.c adds one). Host canonicalisation lives in
 * url_canon.c, origins in url_origin.c. Pure functions; any thread. */
#include "url/url.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"

typedef struct scheme_info {
  const char *name;
  size_t len;
  uint16_t port;
  bool secure;
} scheme_info;

static const scheme_info kSchemes[] = {
    [URL_SCHEME_INVALID] = {"", 0, 0, false},     [URL_SCHEME_HTTP] = {"http", 4, 80, false},
    [URL_SCHEME_HTTPS] = {"https", 5, 443, true}, [URL_SCHEME_WS] = {"ws", 2, 80, false},
    [URL_SCHEME_WSS] = {"wss", 3, 443, true},
};

#define SCHEME_COUNT (sizeof(kSchemes) / sizeof(kSchemes[0]))

static bool scheme_valid(url_scheme s) { return s > URL_SCHEME_INVALID && s < SCHEME_COUNT; }

const char *url_scheme_name(url_scheme s) { return scheme_valid(s) ? kSchemes[s].name : ""; }

url_scheme url_scheme_from_string(const char *s, size_t len) {
  if (!s)
    return URL_SCHEME_INVALID;
  for (size_t i = 1; i < SCHEME_COUNT; i++) {
    if (kSchemes[i].len != len)
      continue;
    size_t k = 0;
    while (k < len && (s[k] | 0x20) == kSchemes[i].name[k])
      k++;
    if (k == len)
      return (url_scheme)i;
  }
  return URL_SCHEME_INVALID;
}

uint16_t url_default_port(url_scheme s) { return scheme_valid(s) ? kSchemes[s].port : 0; }

bool url_scheme_is_secure(url_scheme s) { return scheme_valid(s) && kSchemes[s].secure; }

/* ---------------------------------------------------------------------- */
/* Percent-encoding (WHATWG percent-encode sets). */

enum { ENC_PATH, ENC_QUERY, ENC_USERINFO, ENC_FRAGMENT };

static bool needs_encoding(unsigned char c, int set) {
  if (c < 0x20 || c > 0x7e) /* C0 control percent-encode set */
    return true;
  switch (c) {
  case ' ':
  case '"':
  case '<':
  case '>':
    return true;
  case '#':
    return set != ENC_FRAGMENT;
  case '\'':
    return set == ENC_QUERY; /* special-query set */
  case '`':
    return set != ENC_QUERY;
  case '?':
  case '{':
  case '}':
    return set != ENC_QUERY && set != ENC_FRAGMENT;
  case '/':
  case ':':
  case ';':
  case '=':
  case '@':
  case '[':
  case '\\':
  case ']':
  case '^': /* in the path set too since 2024, but browsers keep it there */
  case '|':
    return set == ENC_USERINFO;
  default:
    return false;
  }
}

static void append_encoded(strbuf *sb, const char *p, size_t n, int set) {
  static const char hex[] = "0123456789ABCDEF";
  size_t run = 0; /* bytes that pass through, appended in one go */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (!needs_encoding(c, set)) {
      run++;
      continue;
    }
    strbuf_append(sb, p + i - run, run);
    run = 0;
    char esc[3] = {'%', hex[c >> 4], hex[c & 0xf]};
    strbuf_append(sb, esc, 3);
  }
  strbuf_append(sb, p + n - run, run);
}

static void sb_truncate(strbuf *sb, size_t len) {
  if (sb->data && len <= sb->len) {
    sb->len = len;
    sb->data[len] = '\0';
  }
}

/* ---------------------------------------------------------------------- */
/* Path: dot segments (including their percent-encoded spellings) resolved,
 * '\' as a separator, each segment percent-encoded. */

static bool is_pct_dot(const char *p) {
  return p[0] == '%' && p[1] == '2' && (p[2] == 'e' || p[2] == 'E');
}

static bool is_single_dot(const char *p, size_t n) {
  return (n == 1 && p[0] == '.') || (n == 3 && is_pct_dot(p));
}

static bool is_double_dot(const char *p, size_t n) {
  switch (n) {
  case 2:
    return p[0] == '.' && p[1] == '.';
  case 4:
    return (p[0] == '.' && is_pct_dot(p + 1)) || (is_pct_dot(p) && p[3] == '.');
  case 6:
    return is_pct_dot(p) && is_pct_dot(p + 3);
  default:
    return false;
  }
}

static void append_path(strbuf *sb, const char *p, size_t n) {
  size_t base = sb->len;
  if (n == 0) {
    strbuf_append_char(sb, '/');
    return;
  }
  /* p[0] is '/' or '\' (the authority ended there). */
  size_t i = 1;
  for (;;) {
    size_t j = i;
    while (j < n && p[j] != '/' && p[j] != '\\')
      j++;
    bool last = j >= n;
    const char *seg = p + i;
    size_t seg_len = j - i;
    if (is_double_dot(seg, seg_len)) {
      size_t k = sb->len;
      while (k > base && sb->data[k - 1] != '/')
        k--;
      if (k > base)
        sb_truncate(sb, k - 1); /* drop the last segment and its '/' */
      if (last)
        strbuf_append_char(sb, '/');
    } else if (is_single_dot(seg, seg_len)) {
      if (last)
        strbuf_append_char(sb, '/');
    } else {
      strbuf_append_char(sb, '/');
      append_encoded(sb, seg, seg_len, ENC_PATH);
    }
    if (last)
      break;
    i = j + 1;
  }
  if (sb->len == base)
    strbuf_append_char(sb, '/');
}

/* ---------------------------------------------------------------------- */

static bool is_scheme_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

typedef struct span {
  size_t off, len;
} span;

static int parse_clean(const char *s, size_t len, url *out) {
  /* scheme ":" */
  size_t i = 0;
  if (len == 0 || !is_alpha((unsigned char)s[0]))
    return CRONC_ERR_INVALID_URL;
  while (i < len && is_scheme_char((unsigned char)s[i]))
    i++;
  if (i >= len || s[i] != ':')
    return CRONC_ERR_INVALID_URL;
  url_scheme scheme = url_scheme_from_string(s, i);
  if (scheme == URL_SCHEME_INVALID)
    return CRONC_ERR_UNKNOWN_URL_SCHEME;
  i++;
  /* Special schemes ignore any number of slashes before the authority. */
  while (i < len && (s[i] == '/' || s[i] == '\\'))
    i++;

  /* authority = [userinfo "@"] host [":" port] */
  size_t auth = i;
  while (i < len && s[i] != '/' && s[i] != '\\' && s[i] != '?' && s[i] != '#')
    i++;
  size_t auth_end = i;
  const char *at = memrchr(s + auth, '@', auth_end - auth);
  bool has_userinfo = at != NULL;
  size_t ui = auth, ui_end = auth;
  size_t hp = auth;
  if (has_userinfo) {
    ui_end = (size_t)(at - s);
    hp = ui_end + 1;
  }
  size_t host_end = hp;
  bool in_brackets = false;
  while (host_end < auth_end) {
    char c = s[host_end];
    if (c == '[')
      in_brackets = true;
    else if (c == ']')
      in_brackets = false;
    else if (c == ':' && !in_brackets)
      break;
    host_end++;
  }
  if (host_end == hp)
    return CRONC_ERR_INVALID_URL;
  char host[URL_MAX_HOST + 1];
  url_host_kind kind;
  int rv = url_canon_host(s + hp, host_end - hp, host, sizeof(host), &kind);
  if (rv != CRONC_OK)
    return rv;

  uint16_t port = url_default_port(scheme);
  bool port_explicit = false;
  if (host_end < auth_end) {
    size_t p = host_end + 1;
    if (p < auth_end) {
      uint32_t v = 0;
      for (; p < auth_end; p++) {
        if (s[p] < '0' || s[p] > '9')
          return CRONC_ERR_INVALID_URL;
        v = v * 10 + (uint32_t)(s[p] - '0');
        if (v > 65535)
          return CRONC_ERR_INVALID_URL;
      }
      port = (uint16_t)v;
      port_explicit = port != url_default_port(scheme);
    }
  }

  /* The first '#' after the authority (which stops at one) starts the
   * fragment; path and query end there. */
  const char *hash = memchr(s + auth_end, '#', len - auth_end);
  size_t end = hash ? (size_t)(hash - s) : len;
  size_t path = auth_end, path_end = auth_end;
  while (path_end < end && s[path_end] != '?')
    path_end++;
  bool has_query = path_end < end;
  size_t q = path_end + 1, q_end = has_query ? end : path_end + 1;

  /* Write the spec, noting where each component sits in it. */
  strbuf sb = STRBUF_INIT;
  span user = {0, 0}, pass = {0, 0}, h = {0, 0}, pa = {0, 0}, qu = {0, 0};
  strbuf_append_str(&sb, url_scheme_name(scheme));
  strbuf_append(&sb, "://", 3);
  if (has_userinfo) {
    const char *colon = memchr(s + ui, ':', ui_end - ui);
    size_t user_end = colon ? (size_t)(colon - s) : ui_end;
    user.off = sb.len;
    append_encoded(&sb, s + ui, user_end - ui, ENC_USERINFO);
    user.len = sb.len - user.off;
    if (colon) {
      strbuf_append_char(&sb, ':');
      pass.off = sb.len;
      append_encoded(&sb, colon + 1, ui_end - user_end - 1, ENC_USERINFO);
      pass.len = sb.len - pass.off;
    }
    if (pass.len == 0)
      sb_truncate(&sb, user.off + user.len);
    if (user.len || pass.len)
      strbuf_append_char(&sb, '@');
  }
  h.off = sb.len;
  strbuf_append_str(&sb, host);
  h.len = sb.len - h.off;
  if (port_explicit)
    strbuf_appendf(&sb, ":%u", (unsigned)port);
  pa.off = sb.len;
  append_path(&sb, s + path, path_end - path);
  pa.len = sb.len - pa.off;
  if (has_query) {
    strbuf_append_char(&sb, '?');
    qu.off = sb.len;
    append_encoded(&sb, s + q, q_end - q, ENC_QUERY);
    qu.len = sb.len - qu.off;
  }

  /* The components follow the spec in the same allocation, each
   * NUL-terminated. Reserving first means the copies below never move the
   * buffer they read from. */
  span *parts[] = {&h, &pa, &qu, &user, &pass};
  bool present[] = {true, true, has_query, user.len > 0, pass.len > 0};
  size_t copies[5] = {0};
  size_t extra = 1;
  for (size_t k = 0; k < 5; k++)
    extra += present[k] ? parts[k]->len + 1 : 0;
  if (strbuf_reserve(&sb, extra)) {
    strbuf_append_char(&sb, '\0');
    for (size_t k = 0; k < 5; k++) {
      if (!present[k])
        continue;
      copies[k] = sb.len;
      strbuf_append(&sb, sb.data + parts[k]->off, parts[k]->len);
      strbuf_append_char(&sb, '\0');
    }
  }
  /* The fragment is not part of the spec: it goes last, encoded in place. */
  size_t frag = 0;
  if (hash) {
    frag = sb.len;
    append_encoded(&sb, hash + 1, len - end - 1, ENC_FRAGMENT);
    strbuf_append_char(&sb, '\0');
  }
  char *base = strbuf_detach(&sb, NULL);
  if (!base)
    return CRONC_ERR_OUT_OF_MEMORY;

  out->scheme = scheme;
  out->spec = base;
  out->host = base + copies[0];
  out->host_kind = kind;
  out->port = port;
  out->port_explicit = port_explicit;
  out->path = base + copies[1];
  out->query = has_query ? base + copies[2] : NULL;
  out->username = present[3] ? base + copies[3] : NULL;
  out->password = present[4] ? base + copies[4] : NULL;
  out->fragment = hash ? base + frag : NULL;
  return CRONC_OK;
}

int url_parse(const char *s, size_t len, url *out) {
  if (!out)
    return CRONC_ERR_INVALID_URL;
  memset(out, 0, sizeof(*out));
  if (!s || len > URL_MAX_LENGTH)
    return CRONC_ERR_INVALID_URL;
  /* Leading and trailing C0 controls and spaces are stripped. */
  while (len > 0 && (unsigned char)s[0] <= 0x20) {
    s++;
    len--;
  }
  while (len > 0 && (unsigned char)s[len - 1] <= 0x20)
    len--;
  /* Tabs and newlines anywhere are removed (WHATWG); copy only if needed. */
  size_t first = 0;
  while (first < len && s[first] != '\t' && s[first] != '\n' && s[first] != '\r')
    first++;
  if (first == len)
    return parse_clean(s, len, out);
  char *clean = malloc(len);
  if (!clean)
    return CRONC_ERR_OUT_OF_MEMORY;
  size_t n = 0;
  for (size_t k = 0; k < len; k++)
    if (s[k] != '\t' && s[k] != '\n' && s[k] != '\r')
      clean[n++] = s[k];
  int rv = parse_clean(clean, n, out);
  free(clean);
  return rv;
}

void url_free(url *u) {
  if (!u)
    return;
  free(u->spec); /* every string lives in this one allocation */
  memset(u, 0, sizeof(*u));
}
