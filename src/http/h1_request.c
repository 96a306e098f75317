/* http/h1_request: see h1_request.h. */
#include "http/h1_request.h"

#include <inttypes.h>
#include <string.h>

#include "cronc/cronc.h"

static bool is_tchar(uint8_t c) {
  if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
    return true;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool ieq(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  if (alen != blen)
    return false;
  for (size_t i = 0; i < alen; i++) {
    uint8_t x = (uint8_t)a[i], y = (uint8_t)b[i];
    if (x >= 'A' && x <= 'Z')
      x |= 0x20;
    if (y >= 'A' && y <= 'Z')
      y |= 0x20;
    if (x != y)
      return false;
  }
  return true;
}

bool h1_request_valid_field_name(const char *name, size_t len) {
  if (!name || len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (!is_tchar((uint8_t)name[i]))
      return false;
  }
  return true;
}

bool h1_request_valid_field_value(const char *value, size_t len) {
  if (len && !value)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = value[i];
    if (c == '\0' || c == '\r' || c == '\n')
      return false;
  }
  return true;
}

static bool valid_method(const char *m) {
  return m && m[0] && h1_request_valid_field_name(m, strlen(m));
}

/* 1*(VCHAR / obs-text). */
static bool valid_target(const char *t) {
  if (!t || !t[0])
    return false;
  for (const uint8_t *s = (const uint8_t *)t; *s; s++) {
    if (*s <= 0x20 || *s == 0x7f)
      return false;
  }
  return true;
}

static bool valid_host(const char *h) {
  if (!h || !h[0])
    return false;
  for (const uint8_t *s = (const uint8_t *)h; *s; s++) {
    if (*s <= 0x20 || *s == 0x7f || *s == '/' || *s == '?' || *s == '#' || *s == '@')
      return false;
  }
  return true;
}

static void append_field(strbuf *out, const char *name, size_t nl, const char *value, size_t vl) {
  strbuf_append(out, name, nl);
  strbuf_append(out, ": ", 2);
  strbuf_append(out, value, vl);
  strbuf_append(out, "\r\n", 2);
}

int h1_request_write_head(const h1_request_head *req, strbuf *out) {
  if (!req || !out || !valid_method(req->method) || !valid_target(req->target) ||
      !valid_host(req->host) || (req->field_count && !req->fields))
    return CRONC_ERR_INVALID_ARGUMENT;
  if (req->body != H1_REQUEST_BODY_NONE && req->body != H1_REQUEST_BODY_LENGTH &&
      req->body != H1_REQUEST_BODY_CHUNKED)
    return CRONC_ERR_INVALID_ARGUMENT;
  const h1_field *caller_host = NULL;
  for (size_t i = 0; i < req->field_count; i++) {
    const h1_field *f = &req->fields[i];
    if (!h1_request_valid_field_name(f->name, f->name_len) ||
        !h1_request_valid_field_value(f->value, f->value_len))
      return CRONC_ERR_INVALID_ARGUMENT;
    if (ieq(f->name, f->name_len, "content-length") ||
        ieq(f->name, f->name_len, "transfer-encoding"))
      return CRONC_ERR_INVALID_ARGUMENT;
    if (ieq(f->name, f->name_len, "host")) {
      if (caller_host)
        return CRONC_ERR_INVALID_ARGUMENT; /* two Host fields: RFC 9112 §3.2 */
      caller_host = f;
    }
  }

  size_t old_len = out->len;
  bool old_failed = out->failed;
  strbuf_append_str(out, req->method);
  strbuf_append_char(out, ' ');
  strbuf_append_str(out, req->target);
  strbuf_append(out, " HTTP/1.1\r\n", 11);
  if (caller_host) {
    append_field(out, caller_host->name, caller_host->name_len, caller_host->value,
                 caller_host->value_len);
  } else {
    strbuf_append(out, "Host: ", 6);
    strbuf_append_str(out, req->host);
    if (req->port != 0 && req->port != url_default_port(req->scheme))
      strbuf_appendf(out, ":%u", (unsigned)req->port);
    strbuf_append(out, "\r\n", 2);
  }
  for (size_t i = 0; i < req->field_count; i++) {
    const h1_field *f = &req->fields[i];
    if (f != caller_host)
      append_field(out, f->name, f->name_len, f->value, f->value_len);
  }
  if (req->body == H1_REQUEST_BODY_LENGTH)
    strbuf_appendf(out, "Content-Length: %" PRIu64 "\r\n", req->content_length);
  else if (req->body == H1_REQUEST_BODY_CHUNKED)
    strbuf_append(out, "Transfer-Encoding: chunked\r\n", 28);
  strbuf_append(out, "\r\n", 2);
  if (strbuf_failed(out) && !old_failed) {
    /* Undo: a failed growth left the old memory; give back the old state. */
    if (out->data && out->len >= old_len) {
      out->len = old_len;
      out->data[old_len] = '\0';
    }
    out->failed = false;
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  if (old_failed)
    return CRONC_ERR_OUT_OF_MEMORY;
  return 0;
}

size_t h1_chunk_header(uint64_t len, uint8_t out[H1_CHUNK_HEADER_MAX]) {
  static const char k_hex[] = "0123456789ABCDEF";
  if (len == 0)
    return 0;
  uint8_t digits[16];
  size_t n = 0;
  while (len) {
    digits[n++] = (uint8_t)k_hex[len & 0xf];
    len >>= 4;
  }
  size_t w = 0;
  while (n)
    out[w++] = digits[--n];
  out[w++] = '\r';
  out[w++] = '\n';
  return w;
}

size_t h1_chunk_frame(const uint8_t *payload, size_t len,
                      uint8_t header_storage[H1_CHUNK_HEADER_MAX], h1_iov iov[3]) {
  if (len == 0 || !payload)
    return 0;
  iov[0].base = header_storage;
  iov[0].len = h1_chunk_header(len, header_storage);
  iov[1].base = payload;
  iov[1].len = len;
  iov[2].base = (const uint8_t *)H1_CHUNK_CRLF;
  iov[2].len = 2;
  return 3;
}

h1_iov h1_chunk_last(void) {
  h1_iov v = {(const uint8_t *)H1_CHUNK_LAST, 5};
  return v;
}
