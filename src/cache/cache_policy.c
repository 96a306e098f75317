#include "cache/cache_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "cronc/cronc.h"
#include "http/http_transaction.h"

/* ---- Small string helpers ---------------------------------------------- */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

static bool ieq(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen)
    return false;
  for (size_t i = 0; i < alen; i++)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

static bool iprefix(const char *a, size_t alen, const char *prefix) {
  size_t plen = strlen(prefix);
  return alen >= plen && ieq(a, plen, prefix);
}

/* Splits a list value on commas outside quoted strings; elements trimmed.
 * Returns false when no element is left. */
static bool next_element(const char *v, size_t len, size_t *pos, const char **e, size_t *elen) {
  while (*pos < len) {
    size_t start = *pos;
    bool quoted = false;
    size_t i = start;
    for (; i < len; i++) {
      if (v[i] == '"')
        quoted = !quoted;
      else if (v[i] == '\\' && quoted && i + 1 < len)
        i++;
      else if (v[i] == ',' && !quoted)
        break;
    }
    *pos = i < len ? i + 1 : len;
    size_t end = i;
    while (start < end && is_ows(v[start]))
      start++;
    while (end > start && is_ows(v[end - 1]))
      end--;
    if (end > start) {
      *e = v + start;
      *elen = end - start;
      return true;
    }
  }
  return false;
}

/* Finds the Cache-Control (or other list field) element `directive`; its
 * argument (after '=', unquoted) goes to *arg (NULL when none). */
static bool find_directive(const h1_headers *h, const char *field, const char *directive,
                           const char **arg, size_t *arg_len) {
  size_t it = 0;
  const char *v;
  size_t vl;
  size_t dlen = strlen(directive);
  while (h1_headers_find(h, field, &it, &v, &vl)) {
    size_t pos = 0;
    const char *e;
    size_t el;
    while (next_element(v, vl, &pos, &e, &el)) {
      const char *eq = memchr(e, '=', el);
      size_t nl = eq ? (size_t)(eq - e) : el;
      while (nl > 0 && is_ows(e[nl - 1]))
        nl--;
      if (nl != dlen || !ieq(e, nl, directive))
        continue;
      if (arg) {
        *arg = NULL;
        *arg_len = 0;
        if (eq) {
          const char *a = eq + 1;
          size_t al = el - nl - 1;
          while (al > 0 && is_ows(*a)) {
            a++;
            al--;
          }
          if (al >= 2 && a[0] == '"' && a[al - 1] == '"') {
            a++;
            al -= 2;
          }
          *arg = a;
          *arg_len = al;
        }
      }
      return true;
    }
  }
  return false;
}

bool cache_control_has(const h1_headers *h, const char *directive) {
  return find_directive(h, "cache-control", directive, NULL, NULL);
}

static bool parse_seconds(const char *s, size_t len, int64_t *out) {
  if (len == 0)
    return false;
  int64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    if (v < INT32_MAX)
      v = v * 10 + (s[i] - '0');
  }
  /* RFC 9111 §1.2.2: a larger value is taken as 2^31 seconds. */
  *out = v > INT32_MAX ? INT32_MAX : v;
  return true;
}

bool cache_control_seconds(const h1_headers *h, const char *directive, int64_t *out_sec) {
  const char *a;
  size_t al;
  if (!find_directive(h, "cache-control", directive, &a, &al) || !a)
    return false;
  return parse_seconds(a, al, out_sec);
}

/* ---- HTTP-date ----------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static const char *const k_months[12] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};

static bool all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  return n > 0;
}

static int num(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

bool cache_parse_http_date(const char *s, size_t len, int64_t *out_us) {
  int day = -1, month = -1, hour = -1, min = -1, sec = -1;
  int64_t year = -1;
  size_t i = 0;
  while (i < len) {
    while (i < len && (s[i] == ' ' || s[i] == ',' || s[i] == '-' || s[i] == '\t'))
      i++;
    size_t start = i;
    while (i < len && s[i] != ' ' && s[i] != ',' && s[i] != '-' && s[i] != '\t')
      i++;
    const char *t = s + start;
    size_t tl = i - start;
    if (tl == 0)
      break;
    if (tl == 8 && t[2] == ':' && t[5] == ':' && all_digits(t, 2) && all_digits(t + 3, 2) &&
        all_digits(t + 6, 2)) {
      hour = num(t, 2);
      min = num(t + 3, 2);
      sec = num(t + 6, 2);
    } else if (all_digits(t, tl)) {
      if (tl <= 2 && day < 0)
        day = num(t, tl);
      else if ((tl == 2 || tl == 4) && year < 0)
        year = num(t, tl);
      else
        return false;
    } else if (tl >= 3) {
      bool found = false;
      for (int m = 0; m < 12; m++) {
        if (iprefix(t, tl, k_months[m]) && (tl == 3 || month < 0)) {
          if (tl == 3) {
            month = m + 1;
            found = true;
          }
          break;
        }
      }
      /* Week days and "GMT"/"UTC" are skipped; other words are junk. */
      if (!found && !ieq(t, tl, "gmt") && !ieq(t, tl, "utc") &&
          !(tl >= 3 && iprefix(t, 3, "mon")) && !iprefix(t, 3, "tue") && !iprefix(t, 3, "wed") &&
          !iprefix(t, 3, "thu") && !iprefix(t, 3, "fri") && !iprefix(t, 3, "sat") &&
          !iprefix(t, 3, "sun"))
        return false;
    } else {
      return false;
    }
  }
  if (day < 1 || day > 31 || month < 1 || year < 0 || hour < 0 || hour > 23 || min > 59 || sec > 60)
    return false;
  if (year < 100)
    year += year < 70 ? 2000 : 1900;
  if (sec == 60)
    sec = 59;
  int64_t days = days_from_civil(year, month, day);
  *out_us = ((days * 86400) + hour * 3600 + min * 60 + sec) * BASE_US_PER_SEC;
  return true;
}

size_t cache_format_http_date(int64_t us, char *out, size_t size) {
  static const char *const wd[7] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char *const mn[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t secs = us / BASE_US_PER_SEC;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  /* civil_from_days */
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  y += m <= 2;
  int w = (int)(((days % 7) + 7) % 7);
  int n = snprintf(out, size, "%s, %02d %s %04lld %02d:%02d:%02d GMT", wd[w], d, mn[m - 1],
                   (long long)y, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
  return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static bool header_date(const h1_headers *h, const char *name, int64_t *out) {
  size_t it = 0;
  const char *v;
  size_t vl;
  if (!h1_headers_find(h, name, &it, &v, &vl))
    return false;
  return cache_parse_http_date(v, vl, out);
}

/* ---- Freshness ---------------------------------------------------------- */

int64_t cache_freshness_lifetime(const h1_headers *h, int64_t response_time_us) {
  if (cache_control_has(h, "no-cache") || cache_control_has(h, "no-store") ||
      h1_headers_has_token(h, "pragma", "no-cache"))
    return 0;
  bool must_revalidate = cache_control_has(h, "must-revalidate");
  int64_t max_age;
  if (cache_control_seconds(h, "max-age", &max_age))
    return max_age * BASE_US_PER_SEC;
  int64_t date;
  if (!header_date(h, "date", &date))
    date = response_time_us;
  if (h1_headers_has(h, "expires")) {
    int64_t expires;
    if (header_date(h, "expires", &expires) && expires > date)
      return expires - date;
    return 0; /* in the past, or not a date ("0"): already expired */
  }
  int status = h->status;
  if ((status == 200 || status == 203 || status == 206) && !must_revalidate) {
    int64_t lm;
    if (header_date(h, "last-modified", &lm) && lm <= date)
      return (date - lm) / 10;
  }
  if (status == 300 || status == 301 || status == 308 || status == 410)
    return BASE_TIME_MAX;
  return 0;
}

int64_t cache_current_age(const h1_headers *h, int64_t request_time_us, int64_t response_time_us,
                          int64_t now_us) {
  int64_t date;
  if (!header_date(h, "date", &date))
    date = response_time_us;
  int64_t age = 0;
  size_t it = 0;
  const char *v;
  size_t vl;
  if (h1_headers_find(h, "age", &it, &v, &vl)) {
    int64_t sec;
    if (parse_seconds(v, vl, &sec))
      age = sec * BASE_US_PER_SEC;
  }
  int64_t apparent_age = response_time_us - date > 0 ? response_time_us - date : 0;
  int64_t response_delay = response_time_us - request_time_us;
  int64_t corrected_age_value = age + response_delay;
  int64_t corrected_initial_age =
      apparent_age > corrected_age_value ? apparent_age : corrected_age_value;
  int64_t resident_time = now_us - response_time_us;
  return corrected_initial_age + resident_time;
}

bool cache_requires_validation(const h1_headers *h, int64_t request_time_us,
                               int64_t response_time_us, int64_t now_us) {
  int64_t fresh = cache_freshness_lifetime(h, response_time_us);
  if (fresh == 0)
    return true;
  if (fresh == BASE_TIME_MAX)
    return false;
  return fresh <= cache_current_age(h, request_time_us, response_time_us, now_us);
}

/* ---- What is stored ------------------------------------------------------ */

bool cache_response_is_storable(const h1_headers *h) {
  int s = h->status;
  if (s < 200 || s == 206 || s == 304)
    return false;
  if (cache_control_has(h, "no-store"))
    return false;
  if (h1_headers_has_token(h, "vary", "*"))
    return false;
  if (cache_control_has(h, "max-age") || h1_headers_has(h, "expires") ||
      cache_control_has(h, "public") || cache_control_has(h, "private"))
    return true;
  switch (s) {
  case 200:
  case 203:
  case 204:
  case 300:
  case 301:
  case 308:
  case 404:
  case 405:
  case 410:
  case 414:
  case 501:
    return true;
  default:
    return false;
  }
}

static const char *const k_not_persisted[] = {
    /* hop-by-hop */
    "connection", "proxy-connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
    /* cookies */
    "set-cookie", "set-cookie2", "clear-site-data",
    /* challenges */
    "www-authenticate", "proxy-authenticate",
    /* security state */
    "strict-transport-security", "public-key-pins"};

bool cache_header_is_persisted(const char *name, size_t name_len) {
  for (size_t i = 0; i < sizeof k_not_persisted / sizeof *k_not_persisted; i++)
    if (ieq(name, name_len, k_not_persisted[i]))
      return false;
  return true;
}

int cache_headers_set_reason(h1_headers *h, const char *reason, size_t len) {
  if (h->count != 0 || h->len != h->first)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (len > h->cap) {
    uint8_t *nb = realloc(h->buf, len < 64 ? 64 : len);
    if (!nb)
      return CRONC_ERR_OUT_OF_MEMORY;
    h->buf = nb;
    h->cap = len < 64 ? 64 : len;
  }
  if (len)
    memcpy(h->buf, reason, len);
  h->len = h->first = len;
  h->last = len;
  return CRONC_OK;
}

static int copy_head_start(const h1_headers *src, h1_headers *out) {
  h1_headers_clear(out);
  size_t rl;
  const char *r = h1_headers_reason(src, &rl);
  int rv = cache_headers_set_reason(out, r, rl);
  out->status = src->status;
  out->http_minor = src->http_minor;
  return rv;
}

int cache_copy_persisted_headers(const h1_headers *src, h1_headers *out) {
  int rv = copy_head_start(src, out);
  size_t it = 0;
  const char *n, *v;
  size_t nl, vl;
  while (rv == CRONC_OK && h1_headers_next(src, &it, &n, &nl, &v, &vl))
    if (cache_header_is_persisted(n, nl))
      rv = h1_headers_add(out, n, nl, v, vl);
  return rv;
}

/* ---- 304 ----------------------------------------------------------------- */

static const char *const k_non_updated[] = {"connection",
                                            "proxy-connection",
                                            "keep-alive",
                                            "www-authenticate",
                                            "proxy-authenticate",
                                            "proxy-authorization",
                                            "te",
                                            "trailer",
                                            "transfer-encoding",
                                            "upgrade",
                                            "content-location",
                                            "content-md5",
                                            "etag",
                                            "content-encoding",
                                            "content-range",
                                            "content-type",
                                            "content-length",
                                            "x-frame-options",
                                            "x-xss-protection"};

bool cache_header_is_updated_by_304(const char *name, size_t name_len) {
  for (size_t i = 0; i < sizeof k_non_updated / sizeof *k_non_updated; i++)
    if (ieq(name, name_len, k_non_updated[i]))
      return false;
  return !iprefix(name, name_len, "x-content-") && !iprefix(name, name_len, "x-webkit-");
}

static bool has_field(const h1_headers *h, const char *name, size_t name_len) {
  size_t it = 0;
  const char *n, *v;
  size_t nl, vl;
  while (h1_headers_next(h, &it, &n, &nl, &v, &vl))
    if (nl == name_len && strncasecmp(n, name, nl) == 0)
      return true;
  return false;
}

int cache_merge_304(const h1_headers *stored, const h1_headers *not_modified, h1_headers *out) {
  int rv = copy_head_start(stored, out);
  size_t it = 0;
  const char *n, *v;
  size_t nl, vl;
  /* The stored fields that the 304 does not replace, in their order... */
  while (rv == CRONC_OK && h1_headers_next(stored, &it, &n, &nl, &v, &vl)) {
    if (cache_header_is_updated_by_304(n, nl) && has_field(not_modified, n, nl))
      continue;
    rv = h1_headers_add(out, n, nl, v, vl);
  }
  /* ...then the 304's updating fields (persisted ones only). */
  it = 0;
  while (rv == CRONC_OK && h1_headers_next(not_modified, &it, &n, &nl, &v, &vl)) {
    if (cache_header_is_updated_by_304(n, nl) && cache_header_is_persisted(n, nl))
      rv = h1_headers_add(out, n, nl, v, vl);
  }
  return rv;
}

bool cache_get_validators(const h1_headers *h, bool etag_only, cache_validators *out) {
  memset(out, 0, sizeof *out);
  if (h->status != 200 && h->status != 203)
    return false;
  size_t it = 0;
  if (h->http_minor >= 1)
    h1_headers_find(h, "etag", &it, &out->etag, &out->etag_len);
  it = 0;
  if (!etag_only)
    h1_headers_find(h, "last-modified", &it, &out->last_modified, &out->last_modified_len);
  if (out->etag_len == 0)
    out->etag = NULL;
  if (out->last_modified_len == 0)
    out->last_modified = NULL;
  return out->etag || out->last_modified;
}

bool cache_request_is_conditional(const h1_headers *req) {
  if (!req)
    return false;
  return h1_headers_has(req, "if-none-match") || h1_headers_has(req, "if-modified-since") ||
         h1_headers_has(req, "if-match") || h1_headers_has(req, "if-unmodified-since") ||
         h1_headers_has(req, "if-range") || h1_headers_has(req, "range");
}

int cache_load_flags_from_request(const h1_headers *req) {
  if (!req)
    return 0;
  if (h1_headers_has_token(req, "pragma", "no-cache") || cache_control_has(req, "no-cache"))
    return HTTP_LOAD_BYPASS_CACHE;
  int64_t sec;
  if (cache_control_seconds(req, "max-age", &sec) && sec == 0)
    return HTTP_LOAD_VALIDATE_CACHE;
  return 0;
}

/* ---- Vary ---------------------------------------------------------------- */

void cache_vary_init(cache_vary *v) { memset(v, 0, sizeof *v); }

void cache_vary_free(cache_vary *v) {
  for (size_t i = 0; i < v->count; i++) {
    free(v->fields[i].name);
    free(v->fields[i].value);
  }
  free(v->fields);
  cache_vary_init(v);
}

int cache_vary_add(cache_vary *v, const char *name, size_t name_len, bool present,
                   const char *value, size_t value_len) {
  cache_vary_field *nf = realloc(v->fields, (v->count + 1) * sizeof *nf);
  if (!nf)
    return CRONC_ERR_OUT_OF_MEMORY;
  v->fields = nf;
  cache_vary_field *f = &nf[v->count];
  f->name = malloc(name_len + 1);
  f->value = malloc(value_len + 1);
  if (!f->name || !f->value) {
    free(f->name);
    free(f->value);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < name_len; i++)
    f->name[i] = lower(name[i]);
  f->name[name_len] = '\0';
  if (value_len)
    memcpy(f->value, value, value_len);
  f->value[value_len] = '\0';
  f->value_len = value_len;
  f->present = present;
  v->count++;
  return CRONC_OK;
}

/* The request's value for `name` (Chromium's GetNormalizedHeader: values
 * joined with ", "). */
static bool request_value(const h1_headers *req, const char *name, strbuf *out) {
  strbuf_reset(out);
  return req && h1_headers_get_normalized(req, name, out);
}

int cache_vary_from_request(const h1_headers *response, const h1_headers *req, cache_vary *out) {
  size_t it = 0;
  const char *v;
  size_t vl;
  strbuf val = STRBUF_INIT;
  int rv = CRONC_OK;
  while (rv == CRONC_OK && h1_headers_find(response, "vary", &it, &v, &vl)) {
    size_t pos = 0;
    const char *e;
    size_t el;
    while (rv == CRONC_OK && next_element(v, vl, &pos, &e, &el)) {
      if (el == 1 && e[0] == '*') {
        out->star = true;
        continue;
      }
      char name[128];
      if (el >= sizeof name)
        continue; /* no real field name is that long; it can never match */
      memcpy(name, e, el);
      name[el] = '\0';
      bool present = request_value(req, name, &val);
      if (strbuf_failed(&val))
        rv = CRONC_ERR_OUT_OF_MEMORY;
      else
        rv = cache_vary_add(out, e, el, present, val.data ? val.data : "", present ? val.len : 0);
    }
  }
  strbuf_free(&val);
  return rv;
}

bool cache_vary_matches(const cache_vary *v, const h1_headers *req) {
  if (v->star)
    return false;
  strbuf val = STRBUF_INIT;
  bool ok = true;
  for (size_t i = 0; ok && i < v->count; i++) {
    const cache_vary_field *f = &v->fields[i];
    bool present = request_value(req, f->name, &val);
    if (present != f->present)
      ok = false;
    else if (present &&
             (val.len != f->value_len || (val.len && memcmp(val.data, f->value, val.len) != 0)))
      ok = false;
  }
  strbuf_free(&val);
  return ok;
}
