#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(strbuf *sb) {
  sb->data = NULL;
  sb->len = 0;
  sb->cap = 0;
  sb->failed = false;
}

void strbuf_free(strbuf *sb) {
  free(sb->data);
  strbuf_init(sb);
}

void strbuf_reset(strbuf *sb) {
  sb->len = 0;
  if (sb->data)
    sb->data[0] = '\0';
}

bool strbuf_reserve(strbuf *sb, size_t extra) {
  if (sb->failed)
    return false;
  if (extra > SIZE_MAX - sb->len - 1) {
    sb->failed = true;
    return false;
  }
  size_t need = sb->len + extra + 1;
  if (need <= sb->cap)
    return true;
  size_t cap = sb->cap ? sb->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  char *p = realloc(sb->data, cap);
  if (!p) {
    sb->failed = true;
    return false;
  }
  sb->data = p;
  sb->cap = cap;
  return true;
}

void strbuf_append(strbuf *sb, const void *data, size_t len) {
  if (!strbuf_reserve(sb, len))
    return;
  if (len)
    memcpy(sb->data + sb->len, data, len);
  sb->len += len;
  sb->data[sb->len] = '\0';
}

void strbuf_append_str(strbuf *sb, const char *s) { strbuf_append(sb, s, strlen(s)); }

void strbuf_append_char(strbuf *sb, char c) { strbuf_append(sb, &c, 1); }

void strbuf_appendf(strbuf *sb, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
  va_end(ap);
  if (n < 0) {
    sb->failed = true;
    return;
  }
  if ((size_t)n < sizeof small) {
    strbuf_append(sb, small, (size_t)n);
    return;
  }
  if (!strbuf_reserve(sb, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb->len += (size_t)n;
}

char *strbuf_detach(strbuf *sb, size_t *len_out) {
  if (sb->failed) {
    strbuf_free(sb);
    return NULL;
  }
  if (!sb->data && !strbuf_reserve(sb, 0))
    return NULL;
  if (!sb->data)
    return NULL;
  sb->data[sb->len] = '\0';
  char *p = sb->data;
  if (len_out)
    *len_out = sb->len;
  strbuf_init(sb);
  return p;
}

void strbuf_json_string(strbuf *sb, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  if (!s)
    s = ""; /* an empty slice may come as (NULL, 0) */
  if (!strbuf_reserve(sb, len + 2))
    return;
  strbuf_append_char(sb, '"');
  size_t run = 0; /* bytes copied in bulk between escapes */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      continue;
    strbuf_append(sb, s + run, i - run);
    run = i + 1;
    switch (c) {
    case '"':
      strbuf_append(sb, "\\\"", 2);
      break;
    case '\\':
      strbuf_append(sb, "\\\\", 2);
      break;
    case '\n':
      strbuf_append(sb, "\\n", 2);
      break;
    case '\r':
      strbuf_append(sb, "\\r", 2);
      break;
    case '\t':
      strbuf_append(sb, "\\t", 2);
      break;
    default: {
      char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      strbuf_append(sb, esc, 6);
    }
    }
  }
  strbuf_append(sb, s + run, len - run);
  strbuf_append_char(sb, '"');
}
