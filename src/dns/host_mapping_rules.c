/* Host mapping rules, parsed and applied as Chromium's HostMappingRules
 * (net/base/host_mapping_rules.cc) with the target parsed as
 * net::ParseHostAndPort does (url::ParseAuthority + url::ParsePort). */
#include "dns/host_mapping_rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "dns/host_util.h"
#include "url/url.h"

typedef struct map_rule {
  char *pattern; /* lower-cased */
  char *target;  /* host as written, IPv6 brackets stripped */
  int port;      /* -1: keep the original port */
} map_rule;

struct dns_host_mapping_rules {
  map_rule *maps;
  size_t nmaps, maps_cap;
  char **excludes; /* lower-cased patterns */
  size_t nexcludes, excludes_cap;
};

/* ---- base::MatchPattern ------------------------------------------------ */

static bool is_wildcard(char c) { return c == '*' || c == '?'; }

/* Chromium's SearchForChars: finds the literal run at the start of *p (up
 * to the next unescaped wildcard, or the end, which must then meet the end
 * of the string) in *s, at most max_dist characters further on (-1: any). */
static bool search_for_chars(const char **p, const char *pend, const char **s, const char *send,
                             int max_dist) {
  const char *pstart = *p;
  const char *sstart = *s;
  bool escape = false;
  for (;;) {
    if (*p == pend) {
      if (*s == send)
        return true;
    } else {
      if (!escape && is_wildcard(**p))
        return true;
      if (!escape && **p == '\\') {
        escape = true;
        (*p)++;
        continue;
      }
      escape = false;
      if (*s == send)
        return false;
      unsigned char pc = (unsigned char)**p;
      if (pc < 0x80 && pc == (unsigned char)**s) {
        (*p)++;
        (*s)++;
        continue;
      }
    }
    /* Mismatch: retry the run one character further on, if allowed. */
    if (max_dist == 0)
      return false;
    max_dist--;
    *p = pstart;
    sstart++;
    *s = sstart;
  }
}

/* Consumes a run of wildcards: the most characters it may match, or -1 when
 * it holds a '*'. */
static int eat_wildcards(const char **p, const char *pend) {
  int questions = 0;
  bool star = false;
  while (*p != pend && is_wildcard(**p)) {
    if (**p == '*')
      star = true;
    else
      questions++;
    (*p)++;
  }
  return star ? -1 : questions;
}

bool dns_match_pattern(const char *s, size_t slen, const char *pattern, size_t plen) {
  const char *send = s + slen, *pend = pattern + plen;
  do {
    int max = eat_wildcards(&pattern, pend);
    if (!search_for_chars(&pattern, pend, &s, send, max))
      return false;
  } while (pattern != pend);
  return true;
}

/* ---- parsing ------------------------------------------------------------ */

static bool is_ascii_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void trim_ws(const char **s, size_t *len) {
  while (*len > 0 && is_ascii_ws(**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len > 0 && is_ascii_ws((*s)[*len - 1]))
    (*len)--;
}

static bool ascii_ieq(const char *s, size_t len, const char *word) {
  size_t n = strlen(word);
  if (len != n)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != word[i])
      return false;
  }
  return true;
}

static char *dup_lower(const char *s, size_t len) {
  char *d = malloc(len + 1);
  if (!d)
    return NULL;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    d[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
  }
  d[len] = '\0';
  return d;
}

/* url::ParsePort: -1 when invalid; leading zeros skipped; at most 5 digits
 * after them; at most 65535. */
static int parse_port(const char *s, size_t len) {
  size_t i = 0;
  while (i < len && s[i] == '0')
    i++;
  if (i == len)
    return 0;
  if (len - i > 5)
    return -1;
  int v = 0;
  for (; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v > 65535 ? -1 : v;
}

/* net::ParseHostAndPort: "host[:port]" without userinfo; "[v6]" must be a
 * valid IPv6 literal and loses its brackets. Host is otherwise not checked
 * (Chromium checks it only when the rule is applied). */
static bool parse_host_and_port(const char *in, size_t len, const char **host, size_t *host_len,
                                int *port) {
  if (len == 0 || memchr(in, '@', len))
    return false;
  /* url::ParseServerInfo: a port follows the last ':' after the last ']'
   * (or after the start, unless the input opens with '['). */
  long term = in[0] == '[' ? (long)len : -1;
  long colon = -1;
  for (size_t i = 0; i < len; i++) {
    if (in[i] == ']')
      term = (long)i;
    else if (in[i] == ':')
      colon = (long)i;
  }
  size_t hlen = len;
  bool has_port = false;
  const char *pstr = NULL;
  size_t plen = 0;
  if (colon > term) {
    hlen = (size_t)colon;
    has_port = true;
    pstr = in + colon + 1;
    plen = len - (size_t)colon - 1;
  }
  if (hlen == 0)
    return false;
  int p = -1;
  if (has_port) {
    if (plen == 0)
      return false; /* "foo:" */
    p = parse_port(pstr, plen);
    if (p < 0)
      return false;
  }
  const char *h = in;
  if (h[0] == '[') {
    char canon[URL_MAX_HOST + 1];
    url_host_kind kind;
    if (h[hlen - 1] != ']' || url_canon_host(h, hlen, canon, sizeof(canon), &kind) != CRONC_OK ||
        kind != URL_HOST_IPV6)
      return false;
    h++;
    hlen -= 2;
  }
  *host = h;
  *host_len = hlen;
  *port = p;
  return true;
}

int dns_host_mapping_rules_new(dns_host_mapping_rules **out) {
  if (!out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = calloc(1, sizeof(**out));
  return *out ? CRONC_OK : CRONC_ERR_OUT_OF_MEMORY;
}

static void clear_rules(dns_host_mapping_rules *r) {
  for (size_t i = 0; i < r->nmaps; i++) {
    free(r->maps[i].pattern);
    free(r->maps[i].target);
  }
  for (size_t i = 0; i < r->nexcludes; i++)
    free(r->excludes[i]);
  r->nmaps = 0;
  r->nexcludes = 0;
}

void dns_host_mapping_rules_free(dns_host_mapping_rules *rules) {
  if (!rules)
    return;
  clear_rules(rules);
  free(rules->maps);
  free(rules->excludes);
  free(rules);
}

static bool grow(void **items, size_t *cap, size_t n, size_t elem) {
  if (n < *cap)
    return true;
  size_t ncap = *cap ? *cap * 2 : 4;
  void *p = realloc(*items, ncap * elem);
  if (!p)
    return false;
  *items = p;
  *cap = ncap;
  return true;
}

/* Splits on single spaces (Chromium: SplitStringPiece(" ", TRIM_WHITESPACE,
 * SPLIT_WANT_ALL)); at most 3 words are kept, *count says how many there
 * were (capped at 4). */
static void split_words(const char *s, size_t len, const char *w[3], size_t wl[3], size_t *count) {
  size_t n = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == ' ') {
      if (n < 3) {
        const char *p = s + start;
        size_t l = i - start;
        trim_ws(&p, &l);
        w[n] = p;
        wl[n] = l;
      }
      if (++n > 3)
        break;
      start = i + 1;
    }
  }
  *count = n;
}

int dns_host_mapping_rules_add(dns_host_mapping_rules *rules, const char *rule, size_t len) {
  if (!rules || (!rule && len))
    return CRONC_ERR_INVALID_ARGUMENT;
  trim_ws(&rule, &len);
  const char *w[3] = {0};
  size_t wl[3] = {0};
  size_t n;
  split_words(rule ? rule : "", len, w, wl, &n);

  if (n == 2 && ascii_ieq(w[0], wl[0], "exclude")) {
    if (!grow((void **)&rules->excludes, &rules->excludes_cap, rules->nexcludes, sizeof(char *)))
      return CRONC_ERR_OUT_OF_MEMORY;
    char *pat = dup_lower(w[1], wl[1]);
    if (!pat)
      return CRONC_ERR_OUT_OF_MEMORY;
    rules->excludes[rules->nexcludes++] = pat;
    return CRONC_OK;
  }
  if (n == 3 && ascii_ieq(w[0], wl[0], "map")) {
    const char *host;
    size_t hlen;
    int port;
    if (!parse_host_and_port(w[2], wl[2], &host, &hlen, &port))
      return CRONC_ERR_INVALID_ARGUMENT;
    if (!grow((void **)&rules->maps, &rules->maps_cap, rules->nmaps, sizeof(map_rule)))
      return CRONC_ERR_OUT_OF_MEMORY;
    map_rule m = {dup_lower(w[1], wl[1]), malloc(hlen + 1), port};
    if (!m.pattern || !m.target) {
      free(m.pattern);
      free(m.target);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
    memcpy(m.target, host, hlen);
    m.target[hlen] = '\0';
    rules->maps[rules->nmaps++] = m;
    return CRONC_OK;
  }
  return CRONC_ERR_INVALID_ARGUMENT;
}

int dns_host_mapping_rules_set(dns_host_mapping_rules *rules, const char *s, size_t len,
                               size_t *rejected) {
  if (rejected)
    *rejected = 0;
  if (!rules || (!s && len))
    return CRONC_ERR_INVALID_ARGUMENT;
  clear_rules(rules);
  size_t start = 0, bad = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && s[i] != ',')
      continue;
    int rv = dns_host_mapping_rules_add(rules, s ? s + start : "", i - start);
    if (rv == CRONC_ERR_OUT_OF_MEMORY)
      return rv;
    if (rv != CRONC_OK)
      bad++;
    start = i + 1;
  }
  if (rejected)
    *rejected = bad;
  return CRONC_OK;
}

int dns_host_mapping_rules_parse(const char *s, size_t len, dns_host_mapping_rules **out,
                                 size_t *rejected) {
  if (rejected)
    *rejected = 0;
  int rv = dns_host_mapping_rules_new(out);
  if (rv != CRONC_OK)
    return rv;
  rv = dns_host_mapping_rules_set(*out, s, len, rejected);
  if (rv != CRONC_OK) {
    dns_host_mapping_rules_free(*out);
    *out = NULL;
  }
  return rv;
}

size_t dns_host_mapping_rules_count(const dns_host_mapping_rules *rules) {
  return rules ? rules->nmaps + rules->nexcludes : 0;
}

dns_mapping_result dns_host_mapping_rules_rewrite(const dns_host_mapping_rules *rules,
                                                  const char *host, size_t host_len, uint16_t port,
                                                  char *out_host, size_t out_host_size,
                                                  uint16_t *out_port) {
  if (!rules || !host || rules->nmaps == 0)
    return DNS_MAPPING_NO_MATCH;
  /* HostPortPair keeps IPv6 without brackets; ToString() adds them back. */
  const char *h = host;
  size_t hlen = host_len;
  if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
    h++;
    hlen -= 2;
  }
  if (hlen > URL_MAX_HOST)
    return DNS_MAPPING_NO_MATCH;
  char hp[URL_MAX_HOST + 16];
  size_t hplen = 0;
  bool v6 = memchr(h, ':', hlen) != NULL;
  if (v6)
    hp[hplen++] = '[';
  memcpy(hp + hplen, h, hlen);
  hplen += hlen;
  if (v6)
    hp[hplen++] = ']';
  int n = snprintf(hp + hplen, sizeof(hp) - hplen, ":%u", (unsigned)port);
  hplen += (size_t)n;

  for (size_t i = 0; i < rules->nmaps; i++) {
    const map_rule *m = &rules->maps[i];
    size_t plen = strlen(m->pattern);
    if (!dns_match_pattern(h, hlen, m->pattern, plen) &&
        !dns_match_pattern(hp, hplen, m->pattern, plen))
      continue;
    for (size_t j = 0; j < rules->nexcludes; j++) {
      if (dns_match_pattern(h, hlen, rules->excludes[j], strlen(rules->excludes[j])))
        return DNS_MAPPING_NO_MATCH;
    }
    char canon[URL_MAX_HOST + 1];
    if (!out_host || out_host_size < sizeof(canon) ||
        dns_canon_host(m->target, strlen(m->target), canon, NULL) != CRONC_OK)
      return DNS_MAPPING_INVALID;
    memcpy(out_host, canon, strlen(canon) + 1);
    if (out_port)
      *out_port = m->port >= 0 ? (uint16_t)m->port : port;
    return DNS_MAPPING_REWRITTEN;
  }
  return DNS_MAPPING_NO_MATCH;
}
