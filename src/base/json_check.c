#include "base/json_check.h"

#include <string.h>

typedef struct json_cursor {
  const unsigned char *p;
  const unsigned char *end;
} json_cursor;

static bool parse_value(json_cursor *c, int depth);

static void skip_ws(json_cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static bool is_hex(unsigned char ch) {
  return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* One UTF-8 sequence starting at c->p (a byte >= 0x80); rejects overlongs,
 * surrogates and code points above U+10FFFF (RFC 3629 table). */
static bool skip_utf8(json_cursor *c) {
  const unsigned char *p = c->p;
  size_t avail = (size_t)(c->end - p);
  unsigned char b0 = p[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0)
      lo = 0xa0;
    else if (b0 == 0xed)
      hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0)
      lo = 0x90;
    else if (b0 == 0xf4)
      hi = 0x8f;
  } else {
    return false;
  }
  if (avail < n || p[1] < lo || p[1] > hi)
    return false;
  for (size_t i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xbf)
      return false;
  c->p += n;
  return true;
}

static bool parse_string(json_cursor *c) {
  c->p++; /* opening quote */
  while (c->p < c->end) {
    unsigned char ch = *c->p;
    if (ch == '"') {
      c->p++;
      return true;
    }
    if (ch < 0x20)
      return false;
    if (ch == '\\') {
      c->p++;
      if (c->p >= c->end)
        return false;
      unsigned char e = *c->p++;
      if (e == 'u') {
        if (c->end - c->p < 4)
          return false;
        for (int i = 0; i < 4; i++)
          if (!is_hex(c->p[i]))
            return false;
        c->p += 4;
      } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
        return false;
      }
    } else if (ch >= 0x80) {
      if (!skip_utf8(c))
        return false;
    } else {
      c->p++;
    }
  }
  return false; /* unterminated */
}

static bool parse_number(json_cursor *c) {
  if (c->p < c->end && *c->p == '-')
    c->p++;
  if (c->p >= c->end)
    return false;
  if (*c->p == '0') {
    c->p++;
  } else if (is_digit(*c->p)) {
    while (c->p < c->end && is_digit(*c->p))
      c->p++;
  } else {
    return false;
  }
  if (c->p < c->end && *c->p == '.') {
    c->p++;
    if (c->p >= c->end || !is_digit(*c->p))
      return false;
    while (c->p < c->end && is_digit(*c->p))
      c->p++;
  }
  if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
    c->p++;
    if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
      c->p++;
    if (c->p >= c->end || !is_digit(*c->p))
      return false;
    while (c->p < c->end && is_digit(*c->p))
      c->p++;
  }
  return true;
}

static bool parse_literal(json_cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
    return false;
  c->p += n;
  return true;
}

/* Objects and arrays share the loop: `close` is '}' or ']'. */
static bool parse_container(json_cursor *c, int depth, unsigned char close) {
  if (depth >= BASE_JSON_MAX_DEPTH)
    return false;
  c->p++; /* '{' or '[' */
  skip_ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    return true;
  }
  for (;;) {
    if (close == '}') {
      if (c->p >= c->end || *c->p != '"' || !parse_string(c))
        return false;
      skip_ws(c);
      if (c->p >= c->end || *c->p != ':')
        return false;
      c->p++;
    }
    if (!parse_value(c, depth + 1))
      return false;
    skip_ws(c);
    if (c->p >= c->end)
      return false;
    if (*c->p == close) {
      c->p++;
      return true;
    }
    if (*c->p != ',')
      return false;
    c->p++;
    skip_ws(c);
  }
}

static bool parse_value(json_cursor *c, int depth) {
  skip_ws(c);
  if (c->p >= c->end)
    return false;
  switch (*c->p) {
  case '{':
    return parse_container(c, depth, '}');
  case '[':
    return parse_container(c, depth, ']');
  case '"':
    return parse_string(c);
  case 't':
    return parse_literal(c, "true");
  case 'f':
    return parse_literal(c, "false");
  case 'n':
    return parse_literal(c, "null");
  default:
    return parse_number(c);
  }
}

bool base_json_is_valid(const char *s, size_t len) {
  if (!s)
    return false;
  json_cursor c = {(const unsigned char *)s, (const unsigned char *)s + len};
  if (!parse_value(&c, 0))
    return false;
  skip_ws(&c);
  return c.p == c.end;
}

bool base_json_is_object(const char *s, size_t len) {
  if (!s)
    return false;
  size_t i = 0;
  while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
    i++;
  return i < len && s[i] == '{' && base_json_is_valid(s, len);
}
