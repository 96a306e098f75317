#include "cache/cache_entry.h"

#include <string.h>

#include "cronc/cronc.h"

void cache_entry_meta_init(cache_entry_meta *m) {
  memset(m, 0, sizeof *m);
  h1_headers_init(&m->head);
  cache_vary_init(&m->vary);
}

void cache_entry_meta_free(cache_entry_meta *m) {
  h1_headers_free(&m->head);
  cache_vary_free(&m->vary);
  cache_entry_meta_init(m);
}

static uint32_t fnv1a(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 16777619u;
  }
  return h;
}

uint32_t cache_entry_checksum(const uint8_t *data, size_t len) { return fnv1a(data, len); }

/* ---- Encoding ------------------------------------------------------------ */

static void put_u8(strbuf *b, uint8_t v) { strbuf_append(b, &v, 1); }

static void put_u16(strbuf *b, uint16_t v) {
  uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  strbuf_append(b, x, 2);
}

static void put_u32(strbuf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  strbuf_append(b, x, 4);
}

static void put_u64(strbuf *b, uint64_t v) {
  put_u32(b, (uint32_t)v);
  put_u32(b, (uint32_t)(v >> 32));
}

static void put_bytes32(strbuf *b, const void *p, size_t n) {
  put_u32(b, (uint32_t)n);
  strbuf_append(b, p, n);
}

int cache_entry_encode(const cache_entry_meta *m, strbuf *out) {
  if (h1_headers_count(&m->head) > CACHE_ENTRY_MAX_FIELDS || m->vary.count > CACHE_ENTRY_MAX_FIELDS)
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  size_t start = out->len;
  strbuf_append(out, "CRCE", 4);
  put_u16(out, CACHE_ENTRY_VERSION);
  put_u16(out, 0);
  put_u64(out, (uint64_t)m->request_time_us);
  put_u64(out, (uint64_t)m->response_time_us);
  put_u64(out, m->body_size);
  put_u16(out, (uint16_t)m->head.status);
  put_u8(out, m->head.http_minor);
  size_t pl = strnlen(m->protocol, sizeof m->protocol - 1);
  put_u8(out, (uint8_t)pl);
  strbuf_append(out, m->protocol, pl);
  size_t rl;
  const char *r = h1_headers_reason(&m->head, &rl);
  put_bytes32(out, r, rl);
  put_u32(out, (uint32_t)h1_headers_count(&m->head));
  size_t it = 0;
  const char *n, *v;
  size_t nl, vl;
  while (h1_headers_next(&m->head, &it, &n, &nl, &v, &vl)) {
    put_bytes32(out, n, nl);
    put_bytes32(out, v, vl);
  }
  put_u8(out, m->vary.star ? 1 : 0);
  put_u32(out, (uint32_t)m->vary.count);
  for (size_t i = 0; i < m->vary.count; i++) {
    const cache_vary_field *f = &m->vary.fields[i];
    put_bytes32(out, f->name, strlen(f->name));
    put_u8(out, f->present ? 1 : 0);
    put_bytes32(out, f->value, f->value_len);
  }
  if (strbuf_failed(out))
    return CRONC_ERR_OUT_OF_MEMORY;
  put_u32(out, fnv1a((const uint8_t *)out->data + start, out->len - start));
  if (strbuf_failed(out))
    return CRONC_ERR_OUT_OF_MEMORY;
  if (out->len - start > CACHE_ENTRY_MAX_META) {
    out->len = start;
    return CRONC_ERR_CACHE_WRITE_FAILURE;
  }
  return CRONC_OK;
}

/* ---- Decoding ------------------------------------------------------------ */

typedef struct reader {
  const uint8_t *p;
  size_t left;
  bool bad;
} reader;

static const uint8_t *take(reader *r, size_t n) {
  if (r->bad || n > r->left) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *p = r->p;
  r->p += n;
  r->left -= n;
  return p;
}

static uint8_t get_u8(reader *r) {
  const uint8_t *p = take(r, 1);
  return p ? p[0] : 0;
}

static uint16_t get_u16(reader *r) {
  const uint8_t *p = take(r, 2);
  return p ? (uint16_t)(p[0] | p[1] << 8) : 0;
}

static uint32_t get_u32(reader *r) {
  const uint8_t *p = take(r, 4);
  return p ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;
}

static uint64_t get_u64(reader *r) {
  uint64_t lo = get_u32(r);
  uint64_t hi = get_u32(r);
  return lo | hi << 32;
}

static const char *get_bytes32(reader *r, size_t *len) {
  uint32_t n = get_u32(r);
  const uint8_t *p = take(r, n);
  *len = p ? n : 0;
  return (const char *)p;
}

static bool is_tchar(uint8_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
    return true;
  return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool valid_name(const char *n, size_t len) {
  if (!n || len == 0)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!is_tchar((uint8_t)n[i]))
      return false;
  return true;
}

static bool valid_value(const char *v, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
      return false;
  return true;
}

static int decode(reader *r, cache_entry_meta *m) {
  const uint8_t *magic = take(r, 4);
  if (!magic || memcmp(magic, "CRCE", 4) != 0)
    return CRONC_ERR_CACHE_READ_FAILURE;
  if (get_u16(r) != CACHE_ENTRY_VERSION || get_u16(r) != 0)
    return CRONC_ERR_CACHE_READ_FAILURE;
  m->request_time_us = (int64_t)get_u64(r);
  m->response_time_us = (int64_t)get_u64(r);
  m->body_size = get_u64(r);
  int status = get_u16(r);
  uint8_t minor = get_u8(r);
  uint8_t pl = get_u8(r);
  const uint8_t *proto = take(r, pl);
  if (r->bad || status < 100 || status > 999 || minor > 1 || pl >= sizeof m->protocol ||
      m->body_size > INT64_MAX)
    return CRONC_ERR_CACHE_READ_FAILURE;
  for (size_t i = 0; i < pl; i++)
    if (proto[i] < 0x21 || proto[i] > 0x7e)
      return CRONC_ERR_CACHE_READ_FAILURE;
  memcpy(m->protocol, proto, pl);
  m->protocol[pl] = '\0';
  size_t rl;
  const char *reason = get_bytes32(r, &rl);
  if (r->bad || !valid_value(reason, rl))
    return CRONC_ERR_CACHE_READ_FAILURE;
  int rv = cache_headers_set_reason(&m->head, reason, rl);
  if (rv != CRONC_OK)
    return rv;
  m->head.status = status;
  m->head.http_minor = minor;
  uint32_t nf = get_u32(r);
  if (r->bad || nf > CACHE_ENTRY_MAX_FIELDS)
    return CRONC_ERR_CACHE_READ_FAILURE;
  for (uint32_t i = 0; i < nf; i++) {
    size_t nl, vl;
    const char *n = get_bytes32(r, &nl);
    const char *v = get_bytes32(r, &vl);
    if (r->bad || !valid_name(n, nl) || !valid_value(v, vl))
      return CRONC_ERR_CACHE_READ_FAILURE;
    if ((rv = h1_headers_add(&m->head, n, nl, v, vl)) != CRONC_OK)
      return rv;
  }
  uint8_t star = get_u8(r);
  uint32_t nv = get_u32(r);
  if (r->bad || star > 1 || nv > CACHE_ENTRY_MAX_FIELDS)
    return CRONC_ERR_CACHE_READ_FAILURE;
  m->vary.star = star == 1;
  for (uint32_t i = 0; i < nv; i++) {
    size_t nl, vl;
    const char *n = get_bytes32(r, &nl);
    uint8_t present = get_u8(r);
    const char *v = get_bytes32(r, &vl);
    if (r->bad || !valid_name(n, nl) || present > 1 || !valid_value(v, vl) || (!present && vl != 0))
      return CRONC_ERR_CACHE_READ_FAILURE;
    if ((rv = cache_vary_add(&m->vary, n, nl, present == 1, v ? v : "", vl)) != CRONC_OK)
      return rv;
  }
  return CRONC_OK;
}

int cache_entry_decode(const uint8_t *data, size_t len, cache_entry_meta *out) {
  cache_entry_meta_free(out);
  if (!data || len < 8 || len > CACHE_ENTRY_MAX_META)
    return CRONC_ERR_CACHE_READ_FAILURE;
  /* The checksum first: a damaged record is refused before it is parsed. */
  const uint8_t *c = data + len - 4;
  uint32_t sum = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
  if (fnv1a(data, len - 4) != sum)
    return CRONC_ERR_CACHE_READ_FAILURE;
  reader r = {data, len - 4, false};
  int rv = decode(&r, out);
  if (rv == CRONC_OK && (r.bad || r.left != 0))
    rv = CRONC_ERR_CACHE_READ_FAILURE;
  if (rv != CRONC_OK)
    cache_entry_meta_free(out);
  return rv;
}
