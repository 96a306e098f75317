/* Cronet's experimental options (a JSON object) mapped onto engine
 * parameters. The text is first checked whole (base_json_is_object), so the
 * walker below only meets well-formed JSON and can stay small: it reads the
 * keys cronc maps and skips everything else, as Cronet ignores what it does
 * not know. A known key with a value of the wrong type is ignored too
 * (Cronet logs and drops it). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_check.h"
#include "base/strbuf.h"
#include "cronc/cronc.h"
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
  char **rules;
  char **ca_file;
} opts_ctx;

static void quic_member(const char *key, jcur *c, void *ctx) {
  engine_params *ep = ((opts_ctx *)ctx)->ep;
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
  }
}

/* A string member into *out (replacing what was there). */
static void string_member(jcur *c, char **out) {
  if (c->p >= c->end || *c->p != '"')
    return;
  strbuf s = STRBUF_INIT;
  read_string(c, &s);
  if (!strbuf_failed(&s)) {
    free(*out);
    *out = strdup(strbuf_cstr(&s));
  }
  strbuf_free(&s);
}

static void rules_member(const char *key, jcur *c, void *ctx) {
  if (strcmp(key, "host_resolver_rules") == 0)
    string_member(c, ((opts_ctx *)ctx)->rules);
}

/* cronc's own keys, for programs that only have Cronet's API (Cronet
 * ignores a key it does not know, so the same string works with both). */
static void cronc_member(const char *key, jcur *c, void *ctx) {
  if (strcmp(key, "extra_ca_file") == 0)
    string_member(c, ((opts_ctx *)ctx)->ca_file);
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

int api_json_options_apply(const char *json, engine_params *ep, char **rules_out, char **ca_out) {
  *rules_out = NULL;
  *ca_out = NULL;
  int rv = cronc_experimental_options_check(json);
  if (rv != CRONC_OK || !json || !*json)
    return rv;
  jcur c = {json, json + strlen(json)};
  opts_ctx ctx = {ep, rules_out, ca_out};
  each_member(&c, top_member, &ctx);
  return CRONC_OK;
}
