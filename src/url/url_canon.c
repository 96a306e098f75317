/* url/url_canon: host canonicalisation as the WHATWG URL standard's host
 * parser does it: IPv6 literals, percent-decoding, IDN (UTS#46 through
 * libidn2), forbidden code points, and IPv4 literals in every form browsers
 * accept. Pure functions; any thread. */
#include "url/url.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

/* Longer raw input cannot canonicalise to URL_MAX_HOST bytes except through
 * characters UTS#46 maps to nothing; refuse it early rather than hand
 * megabytes to libidn2. */
#define URL_CANON_MAX_INPUT 4096

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static unsigned char ascii_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* WHATWG "forbidden domain code point" (ASCII part). */
static bool is_forbidden_domain_byte(unsigned char c) {
  if (c <= 0x20 || c == 0x7f)
    return true;
  switch (c) {
  case '#':
  case '%':
  case '/':
  case ':':
  case '<':
  case '>':
  case '?':
  case '@':
  case '[':
  case '\\':
  case ']':
  case '^':
  case '|':
    return true;
  default:
    return false;
  }
}

/* ---------------------------------------------------------------------- */
/* IPv6 */

/* WHATWG IPv6 parser over [p, end). No zone ids ('%' is simply invalid). */
static bool parse_ipv6(const char *p, const char *end, uint16_t pieces[8]) {
  memset(pieces, 0, 8 * sizeof(pieces[0]));
  int idx = 0;
  int compress = -1;
  if (p < end && *p == ':') {
    if (p + 1 >= end || p[1] != ':')
      return false;
    p += 2;
    idx++;
    compress = idx;
  }
  while (p < end) {
    if (idx == 8)
      return false;
    if (*p == ':') {
      if (compress != -1)
        return false;
      p++;
      idx++;
      compress = idx;
      continue;
    }
    unsigned value = 0;
    int length = 0;
    while (length < 4 && p < end && hex_value((unsigned char)*p) >= 0) {
      value = value * 16 + (unsigned)hex_value((unsigned char)*p);
      p++;
      length++;
    }
    if (p < end && *p == '.') {
      /* An embedded IPv4 address fills the last two pieces. */
      if (length == 0)
        return false;
      p -= length;
      if (idx > 6)
        return false;
      int seen = 0;
      while (p < end) {
        int v4 = -1;
        if (seen > 0) {
          if (*p == '.' && seen < 4)
            p++;
          else
            return false;
        }
        if (p >= end || *p < '0' || *p > '9')
          return false;
        while (p < end && *p >= '0' && *p <= '9') {
          int digit = *p - '0';
          if (v4 == -1)
            v4 = digit;
          else if (v4 == 0)
            return false; /* no leading zeros */
          else
            v4 = v4 * 10 + digit;
          if (v4 > 255)
            return false;
          p++;
        }
        pieces[idx] = (uint16_t)(pieces[idx] * 0x100 + v4);
        seen++;
        if (seen == 2 || seen == 4)
          idx++;
      }
      if (seen != 4)
        return false;
      break;
    } else if (p < end && *p == ':') {
      p++;
      if (p >= end)
        return false;
    } else if (p < end) {
      return false;
    }
    pieces[idx] = (uint16_t)value;
    idx++;
  }
  if (compress != -1) {
    int swaps = idx - compress;
    idx = 7;
    while (idx != 0 && swaps > 0) {
      uint16_t t = pieces[idx];
      pieces[idx] = pieces[compress + swaps - 1];
      pieces[compress + swaps - 1] = t;
      idx--;
      swaps--;
    }
  } else if (idx != 8) {
    return false;
  }
  return true;
}

/* RFC 5952 text with brackets: lower-case hex, the first longest run of two
 * or more zero pieces compressed. Embedded IPv4 is written as hex, as
 * browsers do. out has room for 48 bytes. */
static size_t serialize_ipv6(const uint16_t pieces[8], char *out) {
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (pieces[i] != 0) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && pieces[j] == 0)
      j++;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  size_t n = 0;
  out[n++] = '[';
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      out[n++] = ':';
      if (i == 0)
        out[n++] = ':';
      i += best_len - 1;
      continue;
    }
    n += (size_t)snprintf(out + n, 8, "%x", pieces[i]);
    if (i != 7)
      out[n++] = ':';
  }
  out[n++] = ']';
  out[n] = '\0';
  return n;
}

/* ---------------------------------------------------------------------- */
/* IPv4 */

/* WHATWG "IPv4 number parser": decimal, 0x hex (may be empty), or octal with
 * a leading zero. Values above 2^32 saturate (they are rejected later). */
static bool parse_ipv4_number(const char *p, size_t len, uint64_t *out) {
  if (len == 0)
    return false;
  unsigned radix = 10;
  if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    len -= 2;
    radix = 16;
  } else if (len >= 2 && p[0] == '0') {
    p += 1;
    len -= 1;
    radix = 8;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    int d = hex_value((unsigned char)p[i]);
    if (d < 0 || (unsigned)d >= radix)
      return false;
    if (v <= 0xffffffffULL)
      v = v * radix + (unsigned)d;
  }
  *out = v;
  return true;
}

/* WHATWG "ends in a number": the last non-empty label is all digits or a
 * valid IPv4 number. Such a host must then be a valid IPv4 address. */
static bool ends_in_number(const char *h, size_t len) {
  if (len > 0 && h[len - 1] == '.')
    len--; /* one trailing dot is ignored */
  size_t start = len;
  while (start > 0 && h[start - 1] != '.')
    start--;
  const char *last = h + start;
  size_t n = len - start;
  if (n == 0)
    return false;
  bool digits = true;
  for (size_t i = 0; i < n; i++)
    if (last[i] < '0' || last[i] > '9')
      digits = false;
  if (digits)
    return true;
  uint64_t ignored;
  return parse_ipv4_number(last, n, &ignored);
}

static bool parse_ipv4(const char *h, size_t len, uint32_t *out) {
  if (len > 0 && h[len - 1] == '.' && len > 1)
    len--; /* a trailing dot is allowed */
  uint64_t nums[4];
  int count = 0;
  size_t i = 0;
  for (;;) {
    size_t j = i;
    while (j < len && h[j] != '.')
      j++;
    if (count == 4)
      return false;
    if (!parse_ipv4_number(h + i, j - i, &nums[count]))
      return false;
    count++;
    if (j >= len)
      break;
    i = j + 1;
  }
  for (int k = 0; k < count - 1; k++)
    if (nums[k] > 255)
      return false;
  uint64_t limit = 1ULL << (8 * (5 - count));
  if (nums[count - 1] >= limit)
    return false;
  uint64_t v = nums[count - 1];
  for (int k = 0; k < count - 1; k++)
    v += nums[k] << (8 * (3 - k));
  *out = (uint32_t)v;
  return true;
}

/* ---------------------------------------------------------------------- */

static int finish(const char *canon, size_t n, url_host_kind kind, char *out, size_t out_size,
                  url_host_kind *kind_out) {
  if (n == 0 || n > URL_MAX_HOST || n + 1 > out_size)
    return CRONC_ERR_INVALID_URL;
  memcpy(out, canon, n);
  out[n] = '\0';
  if (kind_out)
    *kind_out = kind;
  return CRONC_OK;
}

static int canon_ipv6(const char *p, const char *end, char *out, size_t out_size,
                      url_host_kind *kind_out) {
  uint16_t pieces[8];
  if (!parse_ipv6(p, end, pieces))
    return CRONC_ERR_INVALID_URL;
  char buf[48];
  size_t n = serialize_ipv6(pieces, buf);
  return finish(buf, n, URL_HOST_IPV6, out, out_size, kind_out);
}

/* Domain to ASCII for a host with non-ASCII bytes. Returns a string to free
 * with idn2_free(), or NULL. */
static char *idn_to_ascii(const char *utf8) {
  char *res = NULL;
  if (idn2_to_ascii_8z(utf8, &res, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) == IDN2_OK)
    return res;
  res = NULL;
  if (idn2_to_ascii_8z(utf8, &res, IDN2_TRANSITIONAL | IDN2_NFC_INPUT) == IDN2_OK)
    return res;
  return NULL;
}

/* Checks one punycode label ("xn--..."). UTS#46 validates A-labels even in
 * ASCII input, so unless the label is libidn2's own output it must convert.
 * libidn2's UTS#46 mode skips the Bidi rule (RFC 5893) that browsers apply
 * (CheckBidi), so the decoded label also goes through its IDNA2008 checks,
 * of which only a Bidi failure counts: IDNA2008 disallows some code points
 * UTS#46 allows. The Bidi rule is applied per label, not per domain. */
static bool a_label_valid(const char *p, size_t n, bool from_idn2) {
  char label[URL_CANON_MAX_INPUT + 1];
  memcpy(label, p, n);
  label[n] = '\0';
  if (!from_idn2) {
    char *res = idn_to_ascii(label);
    if (!res)
      return false;
    idn2_free(res);
  }
  char *ulabel = NULL;
  if (idn2_to_unicode_8z8z(label, &ulabel, 0) != IDN2_OK)
    return false;
  char *ignored = NULL;
  int rv = idn2_to_ascii_8z(ulabel, &ignored, IDN2_NO_TR46);
  idn2_free(ignored);
  idn2_free(ulabel);
  return rv != IDN2_BIDI;
}

/* h is lower case ASCII. */
static bool a_labels_valid(const char *h, size_t n, bool from_idn2) {
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j < n && h[j] != '.')
      j++;
    if (j - i >= 4 && memcmp(h + i, "xn--", 4) == 0 && !a_label_valid(h + i, j - i, from_idn2))
      return false;
    i = j + 1;
  }
  return true;
}

int url_canon_host(const char *host, size_t len, char *out, size_t out_size,
                   url_host_kind *kind_out) {
  if (!host || !out || len == 0 || len > URL_CANON_MAX_INPUT)
    return CRONC_ERR_INVALID_URL;
  if (host[0] == '[') {
    if (len < 2 || host[len - 1] != ']')
      return CRONC_ERR_INVALID_URL;
    return canon_ipv6(host + 1, host + len - 1, out, out_size, kind_out);
  }

  /* Percent-decode, then lower-case ASCII; note any non-ASCII byte. */
  char buf[URL_CANON_MAX_INPUT + 1];
  size_t n = 0;
  bool non_ascii = false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)host[i];
    if (c == '%' && i + 2 < len && hex_value((unsigned char)host[i + 1]) >= 0 &&
        hex_value((unsigned char)host[i + 2]) >= 0) {
      c = (unsigned char)(hex_value((unsigned char)host[i + 1]) * 16 +
                          hex_value((unsigned char)host[i + 2]));
      i += 2;
    }
    if (c >= 0x80)
      non_ascii = true;
    else if (is_forbidden_domain_byte(c))
      return CRONC_ERR_INVALID_URL; /* also keeps NULs away from libidn2 */
    buf[n++] = (char)ascii_lower(c);
  }
  buf[n] = '\0';

  const char *h = buf;
  char *idn = NULL;
  if (non_ascii) {
    idn = idn_to_ascii(buf);
    if (!idn)
      return CRONC_ERR_INVALID_URL;
    h = idn;
    n = strlen(idn);
    for (size_t i = 0; i < n; i++) {
      unsigned char c = (unsigned char)idn[i];
      if (c >= 0x80 || is_forbidden_domain_byte(c)) {
        idn2_free(idn);
        return CRONC_ERR_INVALID_URL;
      }
      idn[i] = (char)ascii_lower(c);
    }
  }

  int rv;
  if (!a_labels_valid(h, n, non_ascii)) {
    rv = CRONC_ERR_INVALID_URL;
  } else if (n == 0) {
    rv = CRONC_ERR_INVALID_URL;
  } else if (ends_in_number(h, n)) {
    uint32_t v4;
    if (!parse_ipv4(h, n, &v4)) {
      rv = CRONC_ERR_INVALID_URL;
    } else {
      char tmp[16];
      int m = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", (unsigned)(v4 >> 24),
                       (unsigned)((v4 >> 16) & 0xff), (unsigned)((v4 >> 8) & 0xff),
                       (unsigned)(v4 & 0xff));
      rv = finish(tmp, (size_t)m, URL_HOST_IPV4, out, out_size, kind_out);
    }
  } else {
    rv = finish(h, n, URL_HOST_NAME, out, out_size, kind_out);
  }
  if (idn)
    idn2_free(idn);
  return rv;
}
