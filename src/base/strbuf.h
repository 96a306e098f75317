/* base/strbuf: a growable byte buffer, always NUL-terminated, with helpers
 * for writing JSON (the NetLog, `cronc ... --json` output, store dumps).
 *
 * Allocation failure is sticky: after the first failed growth every append
 * is a no-op and strbuf_failed() is true, so writers check once at the end
 * instead of after every call. */
#ifndef CRONC_BASE_STRBUF_H
#define CRONC_BASE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct strbuf {
  char *data; /* NUL-terminated when len > 0 or after any append */
  size_t len;
  size_t cap;
  bool failed;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0, false}

void strbuf_init(strbuf *sb);
void strbuf_free(strbuf *sb);
/* Empties the buffer but keeps its memory. */
void strbuf_reset(strbuf *sb);
/* Makes room for `extra` more bytes; false on allocation failure. */
bool strbuf_reserve(strbuf *sb, size_t extra);
void strbuf_append(strbuf *sb, const void *data, size_t len);
void strbuf_append_str(strbuf *sb, const char *s);
void strbuf_append_char(strbuf *sb, char c);
void strbuf_appendf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (free() it); the strbuf is left empty.
 * Returns NULL if an allocation failed. Never NULL on success ("" if empty). */
char *strbuf_detach(strbuf *sb, size_t *len_out);
static inline const char *strbuf_cstr(const strbuf *sb) { return sb->data ? sb->data : ""; }
static inline bool strbuf_failed(const strbuf *sb) { return sb->failed; }

/* JSON: a quoted, escaped string. Only printable ASCII passes through; every
 * other byte becomes \u00XX, so the output is valid JSON (and ASCII) whatever
 * bytes a server sent. cronc's hosts are ASCII (IDN is punycode). */
void strbuf_json_string(strbuf *sb, const char *s, size_t len);
static inline void strbuf_json_cstr(strbuf *sb, const char *s) {
  size_t n = 0;
  while (s && s[n])
    n++;
  strbuf_json_string(sb, s ? s : "", n);
}

#endif /* CRONC_BASE_STRBUF_H */
