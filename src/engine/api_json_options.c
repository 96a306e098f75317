/* Cronet's experimental options (a JSON object) mapped onto engine
 * parameters. The text is first checked whole (base_json_is_object), so the
 * walker below only meets well-formed JSON and can stay small: it reads the
 * keys cronc maps and skips everything else, as Cronet ignores what it does
 * not know. A known key with a value of the wrong type is ignored too
 * (Cronet logs and drops it). Memory the mapped values need is held by an
 * api_json_owned (api_params.h). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_check.h"
#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "engine/api_params.h"
#include "engine/api_shared.h"

typedef struct jcur {
  const char *p, *end;
} jcur;

static void ws(jcur *c) {
  while (c->p < c->end && isspace((unsigned char)*c->p))
    c->p++;
}

static int hexv(char h) {
  if (h >= '0' && h <= '9')
    return h - '0';
  h = (char)tolower((unsigned char)h);
  return h >= 'a' && h <= 'f' ? h - 'a' + 10 : 0;
}

/* Reads a string at c->p (a '"') into out (unescaped, UTF-8). */
static void read_string(jcur *c, strbuf *out) {
  c->p++; /* opening quote */
  while (c->p < c->end && *c->p != '"') {
    char ch = *c->p++;
    if (ch != '\\') {
      strbuf_append_char(out, ch);
      continue;
    }
    char e = *c->p++;
    switch (e) {
    case 'n':
      strbuf_append_char(out, '\n');
      break;
    case 't':
      strbuf_append_char(out, '\t');
      break;
    case 'r':
      strbuf_append_char(out, '\r');
      break;
    case 'b':
      strbuf_append_char(out, '\b');
      break;
    case 'f':
      strbuf_append_char(out, '\f');
      break;
    case 'u': {
      unsigned v = 0;
      for (int i = 0; i < 4 && c->p < c->end; i++)
        v = v * 16 + (unsigned)hexv(*c->p++);
      /* Surrogates do not occur in the values cronc reads (host rules are
       * ASCII); a BMP code point is written as UTF-8. */
      if (v < 0x80) {
        strbuf_append_char(out, (char)v);
      } else if (v < 0x800) {
        strbuf_append_char(out, (char)(0xc0 | (v >> 6)));
        strbuf_append_char(out, (char)(0x80 | (v & 0x3f)));
      } else {
        strbuf_append_char(out, (char)(0xe0 | (v >> 12)));
        strbuf_append_char(out, (char)(0x80 | ((v >> 6) & 0x3f)));
        strbuf_append_char(out, (char)(0x80 | (v & 0x3f)));
      }
      break;
    }
    default:
      strbuf_append_char(out, e);
      break; /* \" \\ \/ */
    }
  }
  c->p++; /* closing quote */
}

static void skip_value(jcur *c) {
  ws(c);
  if (c->p >= c->end)
    return;
  if (*c->p == '"') {
    strbuf tmp = STRBUF_INIT;
    read_string(c, &tmp);
    strbuf_free(&tmp);
    return;
  }
  if (*c->p == '{' || *c->p == '[') {
    int depth = 0;
    while (c->p < c->end) {
      char ch = *c->p;
      if (ch == '"') {
        strbuf tmp = STRBUF_INIT;
        read_string(c, &tmp);
        strbuf_free(&tmp);
        continue;
      }
      c->p++;
      if (ch == '{' || ch == '[')
        depth++;
      else if ((ch == '}' || ch == ']') && --depth == 0)
        return;
    }
    return;
  }
  while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']' &&
         !isspace((unsigned char)*c->p))
    c->p++;
}

/* Iterates the members of the object at c->p: calls fn(key, c) with c at
 * the value; fn must consume the value (or leave it to skip_value by not
 * moving). */
typedef void (*member_fn)(const char *key, jcur *c, void *ctx);
static void each_member(jcur *c, member_fn fn, void *ctx) {
  ws(c);
  if (c->p >= c->end || *c->p != '{') {
    skip_value(c);
    return;
  }
  c->p++;
  for (;;) {
    ws(c);
    if (c->p >= c->end || *c->p == '}') {
      c->p++;
      return;
    }
    if (*c->p == ',') {
      c->p++;
      continue;
    }
    strbuf key = STRBUF_INIT;
    read_string(c, &key);
    ws(c);
    c->p++; /* ':' */
    ws(c);
    const char *before = c->p;
    fn(strbuf_failed(&key) ? "" : strbuf_cstr(&key), c, ctx);
    if (c->p == before)
      skip_value(c);
    strbuf_free(&key);
  }
}

/* An integer value (JSON number without fraction), else false (value left). */
static bool read_int(jcur *c, int64_t *out) {
  const char *s = c->p;
  if (s >= c->end || !(*s == '-' || isdigit((unsigned char)*s)))
    return false;
  char *e;
  long long v = strtoll(s, &e, 10);
  if (e < c->end && (*e == '.' || *e == 'e' || *e == 'E'))
    return false;
  c->p = e;
  *out = v;
  return true;
}

static bool read_bool(jcur *c, bool *out) {
  if (c->end - c->p >= 4 && memcmp(c->p, "true", 4) == 0) {
    c->p += 4;
    *out = true;
    return true;
  }
  if (c->end - c->p >= 5 && memcmp(c->p, "false", 5) == 0) {
    c->p += 5;
    *out = false;
    return true;
  }
  return false;
}

typedef struct opts_ctx {
  engine_params *ep;
  api_json_owned *own;
  int err; /* CRONC_ERR_OUT_OF_MEMORY once an allocation failed */
} opts_ctx;

/* ---- Host lists (QUIC.host_whitelist, the allow-list field) ------------ */

/* base::TRIM_WHITESPACE on a std::string: ASCII whitespace. */
static bool is_ws(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

static void trim(const char **s, size_t *len) {
  while (*len && is_ws(**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len && is_ws((*s)[*len - 1]))
    (*len)--;
}

/* One allocation: n pointers, then the strings they point to, so that a
 * single free() releases the list (its owner never walks it to free). */
static char **block_new(size_t n, size_t bytes, char **cursor) {
  if (n > (SIZE_MAX - bytes) / sizeof(char *))
    return NULL;
  char **b = malloc(n * sizeof(char *) + bytes);
  if (b)
    *cursor = (char *)(b + n);
  return b;
}

/* Writes the trimmed, lower-cased host into the block at *cursor. */
static char *block_put(char **cursor, const char *s, size_t len) {
  trim(&s, &len);
  char *out = *cursor;
  for (size_t i = 0; i < len; i++)
    out[i] = (char)tolower((unsigned char)s[i]);
  out[len] = '\0';
  *cursor = out + len + 1;
  return out;
}

int api_host_list_split(const char *s, size_t len, char ***out, size_t *n) {
  *out = NULL;
  *n = 0;
  if (!len)
    return CRONC_OK; /* SplitString("") is empty: any host */
  size_t pieces = 1;
  for (size_t i = 0; i < len; i++)
    pieces += s[i] == ',';
  /* Each piece's bytes plus its NUL: at most len - (pieces - 1) + pieces. */
  char *cur;
  char **b = block_new(pieces, len + 1, &cur);
  if (!b)
    return CRONC_ERR_OUT_OF_MEMORY;
  size_t k = 0, start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || s[i] == ',') {
      b[k++] = block_put(&cur, s + start, i - start);
      start = i + 1;
    }
  }
  *out = b;
  *n = k;
  return CRONC_OK;
}

int api_host_list_copy(const char *const *hosts, size_t n, char ***out) {
  *out = NULL;
  if (!n)
    return CRONC_OK;
  if (!hosts)
    return CRONC_ERR_INVALID_ARGUMENT;
  size_t bytes = 0;
  for (size_t i = 0; i < n; i++) {
    if (!hosts[i])
      return CRONC_ERR_INVALID_ARGUMENT;
    size_t l = strlen(hosts[i]);
    if (l >= SIZE_MAX - bytes - 1)
      return CRONC_ERR_OUT_OF_MEMORY;
    bytes += l + 1;
  }
  char *cur;
  char **b = block_new(n, bytes, &cur);
  if (!b)
    return CRONC_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < n; i++)
    b[i] = block_put(&cur, hosts[i], strlen(hosts[i]));
  *out = b;
  return CRONC_OK;
}

/* QUIC.host_whitelist: replaces the list (Cronet clears it first). */
static void allowlist_member(jcur *c, opts_ctx *x) {
  if (c->p >= c->end || *c->p != '"')
    return;
  strbuf s = STRBUF_INIT;
  read_string(c, &s);
  char **list = NULL;
  size_t n = 0;
  int rv = strbuf_failed(&s) ? CRONC_ERR_OUT_OF_MEMORY
                             : api_host_list_split(strbuf_cstr(&s), s.len, &list, &n);
  strbuf_free(&s);
  if (rv != CRONC_OK) {
    x->err = rv;
    return;
  }
  free(x->own->quic_host_allowlist);
  x->own->quic_host_allowlist = list;
  x->own->n_quic_host_allowlist = n;
  x->ep->quic_host_allowlist = (const char *const *)list;
  x->ep->n_quic_host_allowlist = n;
}

static void quic_member(const char *key, jcur *c, void *ctx) {
  opts_ctx *x = ctx;
  engine_params *ep = x->ep;
  int64_t v;
  bool b;
  if (strcmp(key, "idle_connection_timeout_seconds") == 0) {
    if (read_int(c, &v) && v > 0)
      ep->quic_idle_timeout_ms = (uint64_t)v * 1000;
  } else if (strcmp(key, "max_time_before_crypto_handshake_seconds") == 0) {
    if (read_int(c, &v) && v > 0)
      ep->quic_handshake_timeout_ms = (uint64_t)v * 1000;
  } else if (strcmp(key, "initial_delay_for_broken_alternative_service_seconds") == 0) {
    if (read_int(c, &v) && v > 0)
      ep->broken_initial_delay_us = v * 1000000;
  } else if (strcmp(key, "exponential_backoff_on_initial_delay") == 0) {
    if (read_bool(c, &b))
      ep->broken_exponential_backoff = b;
  } else if (strcmp(key, "host_whitelist") == 0) {
    allowlist_member(c, x);
  } else if (strcmp(key, "quic_disable_bidirectional_streams") == 0) {
    if (read_bool(c, &b))
      ep->quic_disable_bidirectional_streams = b;
  } else if (strcmp(key, "retry_without_alt_svc_on_quic_errors") == 0) {
    if (read_bool(c, &b))
      ep->retry_without_alt_svc_on_quic_errors = b;
  } else if (strcmp(key, "delay_main_job_with_available_spdy_session") == 0) {
    if (read_bool(c, &b))
      ep->delay_main_job_with_available_spdy_session = b;
  }
}

/* A string member into *out (replacing what was there). */
static void string_member(jcur *c, char **out, opts_ctx *x) {
  if (c->p >= c->end || *c->p != '"')
    return;
  strbuf s = STRBUF_INIT;
  read_string(c, &s);
  char *copy = strbuf_failed(&s) ? NULL : strdup(strbuf_cstr(&s));
  strbuf_free(&s);
  if (!copy) {
    x->err = CRONC_ERR_OUT_OF_MEMORY;
    return;
  }
  free(*out);
  *out = copy;
}

static void rules_member(const char *key, jcur *c, void *ctx) {
  opts_ctx *x = ctx;
  if (strcmp(key, "host_resolver_rules") == 0)
    string_member(c, &x->own->host_resolver_rules, x);
}

/* cronc's own keys, for programs that only have Cronet's API (Cronet
 * ignores a key it does not know, so the same string works with both):
 * the alternative-service switches Chromium has but Cronet gives no key. */
static void cronc_member(const char *key, jcur *c, void *ctx) {
  opts_ctx *x = ctx;
  engine_params *ep = x->ep;
  bool b;
  if (strcmp(key, "extra_ca_file") == 0) {
    string_member(c, &x->own->extra_ca_file, x);
  } else if (strcmp(key, "enable_http2_alternative_service") == 0) {
    if (read_bool(c, &b))
      ep->enable_http2_alternative_service = b;
  } else if (strcmp(key, "enable_user_alternate_protocol_ports") == 0) {
    if (read_bool(c, &b))
      ep->enable_user_alternate_protocol_ports = b;
  } else if (strcmp(key, "allow_remote_alt_svc") == 0) {
    if (read_bool(c, &b))
      ep->allow_remote_alt_svc = b;
  } else if (strcmp(key, "allow_remote_h2_alt_svc") == 0) {
    if (read_bool(c, &b))
      ep->allow_remote_h2_alt_svc = b;
  }
}

static void top_member(const char *key, jcur *c, void *ctx) {
  if (c->p >= c->end || *c->p != '{')
    return; /* both keys cronc maps hold objects */
  if (strcmp(key, "QUIC") == 0)
    each_member(c, quic_member, ctx);
  else if (strcmp(key, "HostResolverRules") == 0)
    each_member(c, rules_member, ctx);
  else if (strcmp(key, "cronc") == 0)
    each_member(c, cronc_member, ctx);
}

CRONC_EXPORT int cronc_experimental_options_check(const char *json) {
  if (!json || !*json)
    return CRONC_OK;
  return base_json_is_object(json, strlen(json)) ? CRONC_OK : CRONC_ERR_INVALID_ARGUMENT;
}

void api_json_owned_free(api_json_owned *own) {
  free(own->host_resolver_rules);
  free(own->extra_ca_file);
  free(own->quic_host_allowlist);
  memset(own, 0, sizeof *own);
}

int api_json_options_parse(const char *json, engine_params *ep, api_json_owned *own) {
  memset(own, 0, sizeof *own);
  int rv = cronc_experimental_options_check(json);
  if (rv != CRONC_OK || !json || !*json)
    return rv;
  const char *const *allow = ep->quic_host_allowlist;
  size_t n_allow = ep->n_quic_host_allowlist;
  jcur c = {json, json + strlen(json)};
  opts_ctx ctx = {ep, own, CRONC_OK};
  each_member(&c, top_member, &ctx);
  if (ctx.err != CRONC_OK) {
    /* A half-applied allow-list would widen QUIC to hosts the caller
     * excluded: fail the whole start instead. */
    api_json_owned_free(own);
    ep->quic_host_allowlist = allow;
    ep->n_quic_host_allowlist = n_allow;
    return ctx.err;
  }
  return CRONC_OK;
}

/* The older entry point (api_shared.h), kept for its callers (the fuzz
 * target): it has no place to hand the allow-list's memory back, so the
 * list is parsed and then dropped, and ep's own list is left as it was. */
int api_json_options_apply(const char *json, engine_params *ep, char **rules_out, char **ca_out) {
  *rules_out = NULL;
  *ca_out = NULL;
  const char *const *allow = ep->quic_host_allowlist;
  size_t n_allow = ep->n_quic_host_allowlist;
  api_json_owned own;
  int rv = api_json_options_parse(json, ep, &own);
  if (rv != CRONC_OK)
    return rv;
  *rules_out = own.host_resolver_rules;
  *ca_out = own.extra_ca_file;
  own.host_resolver_rules = NULL;
  own.extra_ca_file = NULL;
  api_json_owned_free(&own);
  ep->quic_host_allowlist = allow;
  ep->n_quic_host_allowlist = n_allow;
  return CRONC_OK;
}
