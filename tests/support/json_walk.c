/* A recursive-descent JSON reader for tests (see json_walk.h). */
#include "support/json_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_WALK_MAX_DEPTH 128

typedef struct reader {
  const char *p, *end;
  int depth;
} reader;

static void skip_ws(reader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static bool push_item(json_value *v, json_value *item, char *key) {
  json_value **items = realloc(v->items, (v->n + 1) * sizeof *items);
  if (!items)
    return false;
  v->items = items;
  if (v->kind == JSON_OBJECT) {
    char **keys = realloc(v->keys, (v->n + 1) * sizeof *keys);
    if (!keys)
      return false;
    v->keys = keys;
    v->keys[v->n] = key;
  }
  v->items[v->n++] = item;
  return true;
}

static int hex4(const char *p) {
  int v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= c - '0';
    else if (c >= 'a' && c <= 'f')
      v |= c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v |= c - 'A' + 10;
    else
      return -1;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* At the opening quote; returns a malloc'd unescaped string or NULL. */
static char *read_string(reader *r) {
  if (r->p >= r->end || *r->p != '"')
    return NULL;
  r->p++;
  /* Unescaped text is never longer than the escaped text. */
  const char *start = r->p;
  while (r->p < r->end && *r->p != '"') {
    if (*r->p == '\\')
      r->p++;
    r->p++;
  }
  if (r->p >= r->end)
    return NULL;
  size_t cap = (size_t)(r->p - start) + 1;
  char *out = malloc(cap);
  if (!out)
    return NULL;
  size_t o = 0;
  for (const char *q = start; q < r->p; q++) {
    unsigned char c = (unsigned char)*q;
    if (c < 0x20)
      goto bad;
    if (c != '\\') {
      out[o++] = (char)c;
      continue;
    }
    q++;
    switch (*q) {
    case '"':
      out[o++] = '"';
      break;
    case '\\':
      out[o++] = '\\';
      break;
    case '/':
      out[o++] = '/';
      break;
    case 'b':
      out[o++] = '\b';
      break;
    case 'f':
      out[o++] = '\f';
      break;
    case 'n':
      out[o++] = '\n';
      break;
    case 'r':
      out[o++] = '\r';
      break;
    case 't':
      out[o++] = '\t';
      break;
    case 'u': {
      if (r->p - q < 5)
        goto bad;
      int cp = hex4(q + 1);
      if (cp < 0)
        goto bad;
      q += 4;
      unsigned u = (unsigned)cp;
      if (u >= 0xD800 && u < 0xDC00 && r->p - q >= 7 && q[1] == '\\' && q[2] == 'u') {
        int lo = hex4(q + 3);
        if (lo >= 0xDC00 && lo < 0xE000) {
          u = 0x10000 + ((u - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
          q += 6;
        }
      }
      /* \uXXXX (3 bytes max) and a pair (4 bytes for 12 escaped) both fit. */
      o += put_utf8(out + o, u);
      break;
    }
    default:
      goto bad;
    }
  }
  out[o] = '\0';
  r->p++; /* closing quote */
  return out;
bad:
  free(out);
  return NULL;
}

static json_value *read_value(reader *r);

static json_value *new_value(json_kind k) {
  json_value *v = calloc(1, sizeof *v);
  if (v)
    v->kind = k;
  return v;
}

static bool literal(reader *r, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
    return false;
  r->p += n;
  return true;
}

static json_value *read_container(reader *r, bool object) {
  if (++r->depth > JSON_WALK_MAX_DEPTH)
    return NULL;
  json_value *v = new_value(object ? JSON_OBJECT : JSON_ARRAY);
  if (!v)
    return NULL;
  r->p++; /* { or [ */
  skip_ws(r);
  char close = object ? '}' : ']';
  if (r->p < r->end && *r->p == close) {
    r->p++;
    r->depth--;
    return v;
  }
  for (;;) {
    char *key = NULL;
    skip_ws(r);
    if (object) {
      if (!(key = read_string(r)))
        goto bad;
      skip_ws(r);
      if (r->p >= r->end || *r->p != ':') {
        free(key);
        goto bad;
      }
      r->p++;
    }
    json_value *item = read_value(r);
    if (!item || !push_item(v, item, key)) {
      json_walk_free(item);
      free(key);
      goto bad;
    }
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') {
      r->p++;
      continue;
    }
    if (r->p < r->end && *r->p == close) {
      r->p++;
      r->depth--;
      return v;
    }
    goto bad;
  }
bad:
  json_walk_free(v);
  return NULL;
}

static json_value *read_number(reader *r) {
  const char *s = r->p;
  if (r->p < r->end && *r->p == '-')
    r->p++;
  if (r->p >= r->end || *r->p < '0' || *r->p > '9')
    return NULL;
  while (r->p < r->end && ((*r->p >= '0' && *r->p <= '9') || *r->p == '.' || *r->p == 'e' ||
                           *r->p == 'E' || *r->p == '+' || *r->p == '-'))
    r->p++;
  char buf[64];
  size_t n = (size_t)(r->p - s);
  if (n >= sizeof buf)
    return NULL;
  memcpy(buf, s, n);
  buf[n] = '\0';
  char *endp;
  double d = strtod(buf, &endp);
  if (*endp)
    return NULL;
  json_value *v = new_value(JSON_NUMBER);
  if (v)
    v->number = d;
  return v;
}

static json_value *read_value(reader *r) {
  skip_ws(r);
  if (r->p >= r->end)
    return NULL;
  switch (*r->p) {
  case '{':
    return read_container(r, true);
  case '[':
    return read_container(r, false);
  case '"': {
    char *s = read_string(r);
    json_value *v = s ? new_value(JSON_STRING) : NULL;
    if (!v) {
      free(s);
      return NULL;
    }
    v->string = s;
    return v;
  }
  case 't':
  case 'f': {
    bool b = *r->p == 't';
    if (!literal(r, b ? "true" : "false"))
      return NULL;
    json_value *v = new_value(JSON_BOOL);
    if (v)
      v->boolean = b;
    return v;
  }
  case 'n':
    return literal(r, "null") ? new_value(JSON_NULL) : NULL;
  default:
    return read_number(r);
  }
}

json_value *json_walk_parse(const char *text, size_t len) {
  if (!text)
    return NULL;
  reader r = {text, text + len, 0};
  json_value *v = read_value(&r);
  skip_ws(&r);
  if (v && r.p != r.end) {
    json_walk_free(v);
    return NULL;
  }
  return v;
}

json_value *json_walk_parse_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    if (n == 0)
      break;
    len += n;
  }
  fclose(f);
  json_value *v = json_walk_parse(buf, len);
  free(buf);
  return v;
}

void json_walk_free(json_value *v) {
  if (!v)
    return;
  for (size_t i = 0; i < v->n; i++) {
    json_walk_free(v->items[i]);
    if (v->keys)
      free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->string);
  free(v);
}

const json_value *json_get(const json_value *v, const char *key) {
  if (!v || v->kind != JSON_OBJECT || !key)
    return NULL;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0)
      return v->items[i];
  return NULL;
}

const json_value *json_at(const json_value *v, size_t i) {
  if (!v || v->kind != JSON_ARRAY || i >= v->n)
    return NULL;
  return v->items[i];
}

const json_value *json_path(const json_value *v, const char *dotted) {
  char name[128];
  const char *p = dotted;
  while (v && p && *p) {
    size_t n = strcspn(p, ".");
    if (n >= sizeof name)
      return NULL;
    memcpy(name, p, n);
    name[n] = '\0';
    v = json_get(v, name);
    p += n;
    if (*p == '.')
      p++;
  }
  return v;
}

const char *json_str(const json_value *v) { return v && v->kind == JSON_STRING ? v->string : NULL; }

int64_t json_int(const json_value *v, int64_t def) {
  if (!v)
    return def;
  if (v->kind == JSON_NUMBER)
    return (int64_t)v->number;
  if (v->kind == JSON_STRING && v->string[0]) {
    char *end;
    long long x = strtoll(v->string, &end, 10);
    return *end ? def : (int64_t)x;
  }
  return def;
}
