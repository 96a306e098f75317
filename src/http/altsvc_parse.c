/* http/altsvc_parse: see altsvc_parse.h for the accepted grammar and the
 * decisions taken where RFC 7838 leaves room.
 *
 * One forward pass over the bytes: each entry is decoded straight into its
 * slot of the (reused) entries array and committed by bumping the count, so
 * nothing is copied twice and nothing is allocated unless the array must
 * grow. Quoted strings are unescaped on the fly while they are interpreted. */
#include "http/altsvc_parse.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

enum { C_TCHAR = 1, C_DIGIT = 2, C_OWS = 4 };

/* RFC 9110 §5.6.2 tchar, DIGIT, and OWS (SP / HTAB). */
static const uint8_t k_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    4, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 20 */
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, /* 30 */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 50 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* b0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* c0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* d0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* e0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* f0 */
};

#define MAX_DELTA_SECONDS 4294967295u /* RFC 9111 §1.2.2: saturate here */

typedef const unsigned char *cursor;

static inline bool is_tchar(unsigned char c) { return k_class[c] & C_TCHAR; }
static inline bool is_digit(unsigned char c) { return k_class[c] & C_DIGIT; }

static inline cursor skip_ows(cursor p, cursor end) {
  while (p < end && (k_class[*p] & C_OWS))
    p++;
  return p;
}

static inline int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c |= 0x20; /* either case, as quiche */
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/* The parse state shared by the entry helpers. */
typedef struct parser {
  cursor p;
  cursor end;
  const char *reason;
} parser;

static inline bool fail(parser *ps, const char *reason) {
  ps->reason = reason;
  return false;
}

/* protocol-id: 1*tchar with %XX decoded, into e->protocol_id. */
static bool parse_protocol_id(parser *ps, altsvc_entry *e) {
  cursor p = ps->p, end = ps->end;
  size_t n = 0;
  while (p < end) {
    unsigned char c = *p;
    if (c == '%') {
      if (end - p < 3)
        return fail(ps, "bad percent-encoding in protocol-id");
      int hi = hex_value(p[1]), lo = hex_value(p[2]);
      if (hi < 0 || lo < 0)
        return fail(ps, "bad percent-encoding in protocol-id");
      c = (unsigned char)(hi << 4 | lo);
      if (c == 0)
        return fail(ps, "percent-encoded NUL in protocol-id");
      p += 3;
    } else if (is_tchar(c)) {
      p++;
    } else {
      break;
    }
    if (n == ALTSVC_MAX_PROTOCOL_ID)
      return fail(ps, "protocol-id too long");
    e->protocol_id[n++] = (char)c;
  }
  e->protocol_id[n] = '\0';
  if (n == 0)
    return fail(ps, p < end && *p == '=' ? "empty protocol-id" : "expected protocol-id");
  ps->p = p;
  return true;
}

/* Error path only: is there a ':' before the closing quote? Tells an
 * unbracketed IPv6 literal apart from a plain bad port. */
static bool rest_has_colon(cursor p, cursor end) {
  for (; p < end && *p != '"'; p++) {
    if (*p == '\\')
      p++;
    else if (*p == ':')
      return true;
  }
  return false;
}

/* alt-authority: a quoted-string holding [host] ":" port; ps->p is just past
 * the opening quote. Escapes are decoded first, then the text is split. */
static bool parse_authority(parser *ps, altsvc_entry *e) {
  cursor p = ps->p, end = ps->end;
  size_t hn = 0;
  int bracket = 0; /* 0 no IPv6 literal, 1 inside "[...", 2 after "]" */
  bool in_port = false;
  uint32_t port = 0;
  size_t digits = 0;
  for (;;) {
    if (p == end)
      return fail(ps, "unterminated quoted string");
    unsigned char c = *p++;
    if (c == '"')
      break;
    if (c == '\\') {
      if (p == end)
        return fail(ps, "unterminated quoted string");
      c = *p++;
    }
    if (in_port) {
      if (is_digit(c)) {
        port = port * 10 + (uint32_t)(c - '0');
        digits++;
        if (port > 65535)
          return fail(ps, "port out of range");
      } else if (bracket == 0 && (c == ':' || rest_has_colon(p, end))) {
        return fail(ps, "':' in host needs brackets (IPv6 literal)");
      } else {
        return fail(ps, "non-digit in port");
      }
      continue;
    }
    if (bracket != 1) {
      if (c == ':') {
        in_port = true;
        continue;
      }
      if (bracket == 2)
        return fail(ps, "junk after IPv6 literal");
      if (c == '[' && hn == 0)
        bracket = 1;
    } else if (c == ']') {
      bracket = 2;
    }
    if (c <= 0x20 || c == 0x7f)
      return fail(ps, "invalid character in host");
    if (hn == URL_MAX_HOST)
      return fail(ps, "host too long");
    e->host[hn++] = (char)c;
  }
  e->host[hn] = '\0';
  if (bracket == 1)
    return fail(ps, "unterminated IPv6 literal");
  if (!in_port || digits == 0)
    return fail(ps, "missing port");
  if (port == 0)
    return fail(ps, "port out of range");
  e->port = (uint16_t)port;
  ps->p = p;
  return true;
}

/* What a parameter value looked like, enough for "ma" and "persist". */
typedef struct param_value {
  size_t len;      /* decoded bytes */
  bool all_digits; /* every byte a DIGIT */
  uint64_t number; /* decimal value, saturated at MAX_DELTA_SECONDS */
} param_value;

static inline void value_feed(param_value *v, unsigned char c) {
  v->len++;
  if (!v->all_digits)
    return;
  if (!is_digit(c)) {
    v->all_digits = false;
    return;
  }
  v->number = v->number * 10 + (uint64_t)(c - '0');
  if (v->number > MAX_DELTA_SECONDS)
    v->number = MAX_DELTA_SECONDS;
}

/* token / quoted-string after "name=" and OWS. */
static bool parse_param_value(parser *ps, param_value *v) {
  cursor p = ps->p, end = ps->end;
  v->len = 0;
  v->all_digits = true;
  v->number = 0;
  if (p < end && *p == '"') {
    p++;
    for (;;) {
      if (p == end)
        return fail(ps, "unterminated quoted string");
      unsigned char c = *p++;
      if (c == '"')
        break;
      if (c == '\\') {
        if (p == end)
          return fail(ps, "unterminated quoted string");
        c = *p++;
      }
      value_feed(v, c);
    }
  } else {
    while (p < end && is_tchar(*p))
      value_feed(v, *p++);
  }
  if (v->len == 0)
    return fail(ps, "empty parameter value");
  ps->p = p;
  return true;
}

static inline bool name_is(cursor name, size_t len, const char *lower, size_t lower_len) {
  if (len != lower_len)
    return false;
  for (size_t i = 0; i < len; i++) {
    if ((name[i] | 0x20) != (unsigned char)lower[i])
      return false;
  }
  return true;
}

/* *( OWS ";" OWS [ name OWS "=" OWS value ] ), up to "," or the end. */
static bool parse_params(parser *ps, altsvc_entry *e) {
  e->max_age = ALTSVC_DEFAULT_MAX_AGE;
  e->persist = false;
  for (;;) {
    cursor p = skip_ows(ps->p, ps->end);
    if (p == ps->end || *p == ',') {
      ps->p = p;
      return true;
    }
    if (*p != ';')
      return fail(ps, "expected ';' or ','");
    p = skip_ows(p + 1, ps->end);
    if (p == ps->end || *p == ',') { /* a trailing ';' is tolerated */
      ps->p = p;
      return true;
    }
    cursor name = p;
    while (p < ps->end && is_tchar(*p))
      p++;
    size_t name_len = (size_t)(p - name);
    if (name_len == 0)
      return fail(ps, "bad parameter name");
    p = skip_ows(p, ps->end);
    if (p == ps->end || *p == ';' || *p == ',')
      return fail(ps, "parameter without value");
    if (*p != '=')
      return fail(ps, "expected '=' after parameter name");
    ps->p = skip_ows(p + 1, ps->end);
    param_value v;
    if (!parse_param_value(ps, &v))
      return false;
    if (name_is(name, name_len, "ma", 2)) {
      if (!v.all_digits)
        return fail(ps, "ma is not delta-seconds");
      e->max_age = (uint32_t)v.number;
    } else if (name_is(name, name_len, "persist", 7)) {
      /* RFC 7838 §3.1: values other than "1" are ignored; a later one wins. */
      e->persist = v.len == 1 && v.number == 1;
    }
    /* Anything else (including gQUIC's "v" and "quic") is ignored. */
  }
}

/* protocol-id OWS "=" OWS alt-authority params */
static bool parse_entry(parser *ps, altsvc_entry *e) {
  if (!parse_protocol_id(ps, e))
    return false;
  cursor p = skip_ows(ps->p, ps->end);
  if (p == ps->end || *p != '=') {
    if (strcmp(e->protocol_id, "clear") == 0)
      return fail(ps, "'clear' must be the whole value");
    return fail(ps, "expected '=' after protocol-id");
  }
  p = skip_ows(p + 1, ps->end);
  if (p == ps->end || *p != '"')
    return fail(ps, "alt-authority is not a quoted string");
  ps->p = p + 1;
  if (!parse_authority(ps, e))
    return false;
  return parse_params(ps, e);
}

static bool grow(altsvc_header *h) {
  size_t cap = h->cap ? h->cap * 2 : 4;
  if (cap < h->cap || cap > SIZE_MAX / sizeof(altsvc_entry))
    return false;
  altsvc_entry *entries = realloc(h->entries, cap * sizeof(altsvc_entry));
  if (!entries)
    return false;
  h->entries = entries;
  h->cap = cap;
  return true;
}

void altsvc_header_init(altsvc_header *h) {
  h->clear = false;
  h->count = 0;
  h->entries = NULL;
  h->cap = 0;
}

void altsvc_header_free(altsvc_header *h) {
  free(h->entries);
  altsvc_header_init(h);
}

int altsvc_parse_header(const char *value, size_t len, altsvc_header *h, const char **reason) {
  const char *why = NULL;
  int rv = CRONC_ERR_INVALID_RESPONSE;
  h->clear = false;
  h->count = 0;
  if (!value) { /* no arithmetic on NULL */
    value = "";
    len = 0;
  }
  parser ps = {(cursor)value, (cursor)value + len, NULL};
  ps.p = skip_ows(ps.p, ps.end);
  while (ps.end > ps.p && (k_class[ps.end[-1]] & C_OWS))
    ps.end--;
  if (ps.p == ps.end) {
    why = "empty value";
    goto fail;
  }
  if (ps.end - ps.p == 5 && memcmp(ps.p, "clear", 5) == 0) {
    h->clear = true;
    goto ok;
  }
  for (;;) {
    /* Empty list elements and OWS between entries are skipped (RFC 9110
     * §5.6.1 asks recipients to accept them). */
    while (ps.p < ps.end && (*ps.p == ',' || (k_class[*ps.p] & C_OWS)))
      ps.p++;
    if (ps.p == ps.end)
      break;
    if (h->count == h->cap && !grow(h)) {
      why = "out of memory";
      rv = CRONC_ERR_OUT_OF_MEMORY;
      goto fail;
    }
    if (!parse_entry(&ps, &h->entries[h->count])) {
      why = ps.reason;
      goto fail;
    }
    h->count++;
  }
  if (h->count == 0) {
    why = "no alternatives";
    goto fail;
  }
ok:
  if (reason)
    *reason = NULL;
  return CRONC_OK;
fail:
  h->clear = false;
  h->count = 0;
  if (reason)
    *reason = why;
  return rv;
}

void altsvc_header_to_json(const altsvc_header *h, strbuf *out) {
  strbuf_append_str(out, h->clear ? "{\"clear\":true,\"services\":["
                                  : "{\"clear\":false,\"services\":[");
  for (size_t i = 0; i < h->count; i++) {
    const altsvc_entry *e = &h->entries[i];
    strbuf_append_str(out, i ? ",{\"protocol\":" : "{\"protocol\":");
    strbuf_json_cstr(out, e->protocol_id);
    strbuf_append_str(out, ",\"host\":");
    strbuf_json_cstr(out, e->host);
    strbuf_appendf(out, ",\"port\":%u,\"max_age\":%" PRIu32 ",\"persist\":%s}", (unsigned)e->port,
                   e->max_age, e->persist ? "true" : "false");
  }
  strbuf_append_str(out, "]}");
}

void altsvc_error_to_json(const char *reason, strbuf *out) {
  strbuf_append_str(out, "{\"error\":");
  strbuf_json_cstr(out, reason ? reason : "");
  strbuf_append_char(out, '}');
}
