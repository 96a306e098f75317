/* http/h1_parser: see h1_parser.h for the decisions. Structure:
 *   - h1_headers: the arena. A field is stored as [u32 name_len][u32
 *     value_len][name][value], one after the other, after the reason phrase.
 *   - The head is read line by line: memchr finds the LF; a line that is not
 *     complete in this input is buffered in the arena's spare room just past
 *     the place its field will be stored ("scratch", ENTRY_HDR bytes ahead),
 *     so that storing it is a move to the left within one allocation.
 *   - The body is sliced out of the input; chunk framing is read byte by
 *     byte by a small state machine that keeps no buffer. */
#include "http/h1_parser.h"

#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"

#define ENTRY_HDR 8 /* two u32 lengths */

/* ------------------------------------------------------------------------ */
/* Character classes and small helpers */

static bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
static bool is_ows(uint8_t c) { return c == ' ' || c == '\t'; }

static int hex_value(uint8_t c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* RFC 9110 §5.6.2 tchar. */
static bool is_tchar(uint8_t c) {
  if (is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
    return true;
  switch (c) {
  case '!':
  case '#':
  case '$':
  case '%':
  case '&':
  case '\'':
  case '*':
  case '+':
  case '-':
  case '.':
  case '^':
  case '_':
  case '`':
  case '|':
  case '~':
    return true;
  default:
    return false;
  }
}

static uint8_t ascii_lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c | 0x20) : c; }

/* a[0..alen) equals the C string b, ignoring ASCII case. */
static bool ieq(const char *a, size_t alen, const char *b) {
  size_t i = 0;
  for (; i < alen; i++) {
    if (!b[i] || ascii_lower((uint8_t)a[i]) != ascii_lower((uint8_t)b[i]))
      return false;
  }
  return b[i] == '\0';
}

static uint32_t rd32(const uint8_t *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static void wr32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }

/* Next non-empty comma-separated element of v, trimmed of OWS. */
static bool next_element(const char *v, size_t vlen, size_t *pos, const char **e, size_t *elen) {
  while (*pos < vlen) {
    size_t start = *pos;
    const char *comma = memchr(v + start, ',', vlen - start);
    size_t end = comma ? (size_t)(comma - v) : vlen;
    *pos = comma ? end + 1 : vlen;
    while (start < end && is_ows((uint8_t)v[start]))
      start++;
    while (end > start && is_ows((uint8_t)v[end - 1]))
      end--;
    if (end > start) {
      *e = v + start;
      *elen = end - start;
      return true;
    }
  }
  return false;
}

/* ------------------------------------------------------------------------ */
/* h1_headers */

void h1_headers_init(h1_headers *h) { memset(h, 0, sizeof *h); }

void h1_headers_free(h1_headers *h) {
  free(h->buf);
  h1_headers_init(h);
}

void h1_headers_clear(h1_headers *h) {
  h->len = 0;
  h->first = 0;
  h->count = 0;
  h->last = 0;
  h->status = 0;
  h->http_minor = 0;
}

static bool arena_reserve(h1_headers *h, size_t need) {
  if (need <= h->cap)
    return true;
  if (need > SIZE_MAX / 2)
    return false;
  size_t cap = h->cap ? h->cap : 1024;
  while (cap < need)
    cap *= 2;
  uint8_t *nb = realloc(h->buf, cap);
  if (!nb)
    return false;
  h->buf = nb;
  h->cap = cap;
  return true;
}

const char *h1_headers_reason(const h1_headers *h, size_t *len_out) {
  if (len_out)
    *len_out = h->first;
  return h->buf ? (const char *)h->buf : "";
}

size_t h1_headers_count(const h1_headers *h) { return h->count; }

bool h1_headers_next(const h1_headers *h, size_t *iter, const char **name, size_t *name_len,
                     const char **value, size_t *value_len) {
  size_t off = h->first + *iter;
  if (!h->buf || off >= h->len || h->len - off < ENTRY_HDR)
    return false;
  uint32_t nl = rd32(h->buf + off);
  uint32_t vl = rd32(h->buf + off + 4);
  *name = (const char *)h->buf + off + ENTRY_HDR;
  *name_len = nl;
  *value = *name + nl;
  *value_len = vl;
  *iter += ENTRY_HDR + (size_t)nl + vl;
  return true;
}

bool h1_headers_find(const h1_headers *h, const char *name, size_t *iter, const char **value,
                     size_t *value_len) {
  const char *n;
  size_t nl;
  while (h1_headers_next(h, iter, &n, &nl, value, value_len)) {
    if (ieq(n, nl, name))
      return true;
  }
  return false;
}

bool h1_headers_has(const h1_headers *h, const char *name) {
  size_t it = 0;
  const char *v;
  size_t vl;
  return h1_headers_find(h, name, &it, &v, &vl);
}

bool h1_headers_get_normalized(const h1_headers *h, const char *name, strbuf *out) {
  size_t it = 0;
  const char *v;
  size_t vl;
  bool found = false;
  while (h1_headers_find(h, name, &it, &v, &vl)) {
    if (found)
      strbuf_append(out, ", ", 2);
    strbuf_append(out, v, vl);
    found = true;
  }
  /* strbuf_append of 0 bytes may leave data NULL: make "" readable. */
  if (found && !out->data)
    strbuf_append_str(out, "");
  return found;
}

bool h1_headers_has_token(const h1_headers *h, const char *name, const char *token) {
  size_t it = 0;
  const char *v;
  size_t vl;
  while (h1_headers_find(h, name, &it, &v, &vl)) {
    size_t pos = 0;
    const char *e;
    size_t el;
    while (next_element(v, vl, &pos, &e, &el)) {
      if (ieq(e, el, token))
        return true;
    }
  }
  return false;
}

int h1_headers_add(h1_headers *h, const char *name, size_t name_len, const char *value,
                   size_t value_len) {
  if (name_len > UINT32_MAX || value_len > UINT32_MAX)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!arena_reserve(h, h->len + ENTRY_HDR + name_len + value_len))
    return CRONC_ERR_OUT_OF_MEMORY;
  uint8_t *e = h->buf + h->len;
  wr32(e, (uint32_t)name_len);
  wr32(e + 4, (uint32_t)value_len);
  if (name_len)
    memcpy(e + ENTRY_HDR, name, name_len);
  if (value_len)
    memcpy(e + ENTRY_HDR + name_len, value, value_len);
  h->last = h->len;
  h->len += ENTRY_HDR + name_len + value_len;
  h->count++;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* h1_parser */

typedef enum parser_state {
  ST_HEAD_START,       /* skipping CR/LF before the status line */
  ST_STATUS_LINE,      /* reading the status line */
  ST_HEADER_LINE,      /* reading field lines */
  ST_BODY_LENGTH,      /* Content-Length body, `remaining` left */
  ST_BODY_CLOSE,       /* body until end of input */
  ST_CHUNK_SIZE,       /* hex digits */
  ST_CHUNK_SIZE_SP,    /* SP after the digits */
  ST_CHUNK_SIZE_CR,    /* CR seen, LF expected */
  ST_CHUNK_EXT,        /* ";ext" until LF */
  ST_CHUNK_DATA,       /* `remaining` bytes of chunk data */
  ST_CHUNK_DATA_END,   /* CRLF after chunk data */
  ST_CHUNK_DATA_CR,    /* CR seen after chunk data, LF expected */
  ST_TRAILER_START,    /* start of a trailer line or of the final empty line */
  ST_TRAILER_CR,       /* CR at the start of a line */
  ST_TRAILER_LINE,     /* inside a trailer line (skipped) */
  ST_COMPLETE_PENDING, /* MESSAGE_COMPLETE is the next event */
  ST_DONE,
  ST_ERROR,
} parser_state;

struct h1_parser {
  h1_headers h;
  h1_method method;
  parser_state state;
  int error;
  const char *error_reason;
  size_t head_bytes; /* bytes of the current head so far, skipped CR/LF included */
  size_t slop;       /* CR/LF bytes skipped before the status line */
  size_t line_len;   /* bytes of an incomplete line held in the scratch */
  bool stale;        /* the headers are those of an interim head already reported */
  bool interim;
  bool upgraded;
  bool reusable;
  bool done;
  h1_body_kind body_kind;
  int64_t content_length;
  uint64_t remaining;  /* BODY_LENGTH: body bytes left; chunks: chunk bytes (or size) */
  uint64_t body_bytes; /* delivered */
  unsigned chunk_digits;
  size_t chunk_line; /* bytes of the current chunk-size or trailer line, LF excluded */
};

/* What a state handler tells the loop. */
#define STEP_AGAIN 0 /* progress made, run the loop again */
#define STEP_STOP  1 /* input exhausted (or done) */

static int fail(h1_parser *p, int error, const char *reason) {
  p->state = ST_ERROR;
  p->error = error;
  p->error_reason = reason;
  return error;
}

static void begin_head(h1_parser *p) {
  h1_headers_clear(&p->h);
  p->stale = false;
  p->interim = false;
  p->upgraded = false;
  p->reusable = false;
  p->line_len = 0;
}

void h1_parser_reset(h1_parser *p, h1_method method) {
  begin_head(p);
  p->method = method;
  p->state = ST_HEAD_START;
  p->error = 0;
  p->error_reason = "";
  p->head_bytes = 0;
  p->slop = 0;
  p->done = false;
  p->body_kind = H1_BODY_NONE;
  p->content_length = -1;
  p->remaining = 0;
  p->body_bytes = 0;
  p->chunk_digits = 0;
  p->chunk_line = 0;
}

h1_parser *h1_parser_new(void) {
  h1_parser *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  h1_headers_init(&p->h);
  h1_parser_reset(p, H1_METHOD_OTHER);
  return p;
}

void h1_parser_free(h1_parser *p) {
  if (!p)
    return;
  h1_headers_free(&p->h);
  free(p);
}

/* The status line must start "HTTP/1." DIGIT: checked on every piece so a
 * non-HTTP response fails at once instead of filling the head limit. `off`
 * is the position of s[0] in the line. */
static bool status_prefix_ok(const uint8_t *s, size_t n, size_t off) {
  static const char k_prefix[] = "HTTP/1.";
  for (size_t i = 0; i < n && off + i < 8; i++) {
    size_t at = off + i;
    if (at < 7 ? s[i] != (uint8_t)k_prefix[at] : !is_digit(s[i]))
      return false;
  }
  return true;
}

/* No NUL and no CR (the line's final CR is already gone). */
static bool clean_bytes(const uint8_t *s, size_t n) {
  return n == 0 || (!memchr(s, '\0', n) && !memchr(s, '\r', n));
}

static int parse_status_line(h1_parser *p, const uint8_t *line, size_t n) {
  if (n < 12 || !status_prefix_ok(line, 8, 0) || line[8] != ' ' || !is_digit(line[9]) ||
      !is_digit(line[10]) || !is_digit(line[11]) || (n > 12 && line[12] != ' '))
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "malformed status line");
  int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (status < 100)
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "status code below 100");
  const uint8_t *reason = n > 13 ? line + 13 : line;
  size_t rlen = n > 13 ? n - 13 : 0;
  if (!clean_bytes(reason, rlen))
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "NUL or CR in the status line");
  /* Read the version before the move: the line may sit in the scratch that
   * the reason is moved over. The head is empty: the reason goes first. */
  p->h.http_minor = line[7] == '0' ? 0 : 1;
  p->h.status = status;
  if (rlen)
    memmove(p->h.buf, reason, rlen);
  p->h.first = rlen;
  p->h.len = rlen;
  p->h.last = rlen;
  p->state = ST_HEADER_LINE;
  return 0;
}

/* A line starting with SP/HTAB: joined to the previous value with one SP. */
static int parse_folded_line(h1_parser *p, const uint8_t *line, size_t n) {
  if (p->h.count == 0)
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "folded line before any field");
  size_t s = 0, e = n;
  while (s < e && is_ows(line[s]))
    s++;
  while (e > s && is_ows(line[e - 1]))
    e--;
  if (!clean_bytes(line + s, e - s))
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "NUL or CR in a field value");
  if (e == s)
    return 0;
  uint8_t *end = p->h.buf + p->h.len;
  uint8_t *last = p->h.buf + p->h.last;
  uint32_t vl = rd32(last + 4);
  size_t add = e - s;
  /* The line lies at or past end + ENTRY_HDR: moving it left is safe. */
  if (vl) {
    memmove(end + 1, line + s, add);
    end[0] = ' ';
    add++;
  } else {
    memmove(end, line + s, add);
  }
  wr32(last + 4, vl + (uint32_t)add);
  p->h.len += add;
  return 0;
}

/* The value of every `name` field must be the same (field by field). */
static bool fields_differ(const h1_headers *h, const char *name) {
  size_t it = 0;
  const char *v, *first = NULL;
  size_t vl, first_len = 0;
  while (h1_headers_find(h, name, &it, &v, &vl)) {
    if (!first) {
      first = v;
      first_len = vl;
    } else if (vl != first_len || memcmp(v, first, vl) != 0) {
      return true;
    }
  }
  return false;
}

/* Connection / Proxy-Connection tokens, Chromium's IsKeepAlive. */
static bool keep_alive(const h1_headers *h) {
  static const char *const k_fields[] = {"connection", "proxy-connection"};
  for (size_t f = 0; f < 2; f++) {
    size_t it = 0;
    const char *v;
    size_t vl;
    while (h1_headers_find(h, k_fields[f], &it, &v, &vl)) {
      size_t pos = 0;
      const char *e;
      size_t el;
      while (next_element(v, vl, &pos, &e, &el)) {
        if (ieq(e, el, "keep-alive"))
          return true;
        if (ieq(e, el, "close"))
          return false;
      }
    }
  }
  return h->http_minor != 0;
}

int64_t h1_parse_content_length(const char *s, size_t n) {
  if (n == 0)
    return -1;
  int64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit((uint8_t)s[i]))
      return -1;
    int d = s[i] - '0';
    if (v > (INT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  return v;
}

/* The empty line: checks the head as a whole and decides the framing. */
static int end_of_head(h1_parser *p, h1_event *ev) {
  const h1_headers *h = &p->h;
  int status = h->status;
  p->head_bytes = 0;
  p->slop = 0;

  /* Transfer-Encoding: present when it has at least one coding. */
  bool te = false;
  const char *last_coding = NULL;
  size_t last_coding_len = 0;
  size_t it = 0;
  const char *v;
  size_t vl;
  while (h1_headers_find(h, "transfer-encoding", &it, &v, &vl)) {
    size_t pos = 0;
    while (next_element(v, vl, &pos, &last_coding, &last_coding_len))
      te = true;
    /* next_element leaves the outputs alone when it finds nothing more. */
  }

  int64_t content_length = -1;
  if (!te) {
    const char *first = NULL;
    size_t first_len = 0;
    it = 0;
    while (h1_headers_find(h, "content-length", &it, &v, &vl)) {
      size_t pos = 0;
      const char *e;
      size_t el;
      while (next_element(v, vl, &pos, &e, &el)) {
        if (!first) {
          first = e;
          first_len = el;
        } else if (el != first_len || memcmp(e, first, el) != 0) {
          return fail(p, CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH,
                      "different Content-Length values");
        }
      }
    }
    if (first)
      content_length = h1_parse_content_length(first, first_len);
  }
  if (fields_differ(h, "content-disposition"))
    return fail(p, CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION,
                "different Content-Disposition values");
  if (fields_differ(h, "location"))
    return fail(p, CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION, "different Location values");

  ev->type = H1_EVENT_HEADERS;
  if (status / 100 == 1 && status != 101) {
    /* Interim: report it, then read the next head (cleared lazily so the
     * caller can look at this one first). */
    p->interim = true;
    p->stale = true;
    p->state = ST_HEAD_START;
    return 0;
  }

  p->upgraded = status == 101 || (p->method == H1_METHOD_CONNECT && status / 100 == 2);
  bool no_body =
      p->upgraded || p->method == H1_METHOD_HEAD || status == 204 || status == 205 || status == 304;
  if (no_body) {
    p->body_kind = H1_BODY_NONE;
  } else if (te) {
    p->body_kind = ieq(last_coding, last_coding_len, "chunked") ? H1_BODY_CHUNKED : H1_BODY_CLOSE;
  } else if (content_length >= 0) {
    p->body_kind = H1_BODY_LENGTH;
    p->content_length = content_length;
  } else {
    p->body_kind = H1_BODY_CLOSE;
  }
  p->reusable =
      keep_alive(h) && p->body_kind != H1_BODY_CLOSE && !p->upgraded && !(te && h->http_minor == 0);

  switch (p->body_kind) {
  case H1_BODY_NONE:
    p->state = ST_COMPLETE_PENDING;
    break;
  case H1_BODY_LENGTH:
    p->remaining = (uint64_t)content_length;
    p->state = content_length == 0 ? ST_COMPLETE_PENDING : ST_BODY_LENGTH;
    break;
  case H1_BODY_CHUNKED:
    p->remaining = 0;
    p->chunk_digits = 0;
    p->chunk_line = 0;
    p->state = ST_CHUNK_SIZE;
    break;
  case H1_BODY_CLOSE:
    p->state = ST_BODY_CLOSE;
    break;
  }
  return 0;
}

static int parse_field_line(h1_parser *p, const uint8_t *line, size_t n, h1_event *ev) {
  if (n == 0)
    return end_of_head(p, ev);
  if (is_ows(line[0]))
    return parse_folded_line(p, line, n);
  const uint8_t *colon = memchr(line, ':', n);
  if (!colon)
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "field line without a colon");
  size_t name_len = (size_t)(colon - line);
  while (name_len > 0 && is_ows(line[name_len - 1]))
    name_len--;
  if (name_len == 0)
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "empty field name");
  for (size_t i = 0; i < name_len; i++) {
    if (!is_tchar(line[i]))
      return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "invalid character in a field name");
  }
  size_t vs = (size_t)(colon - line) + 1, ve = n;
  while (vs < ve && is_ows(line[vs]))
    vs++;
  while (ve > vs && is_ows(line[ve - 1]))
    ve--;
  if (!clean_bytes(line + vs, ve - vs))
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "NUL or CR in a field value");
  /* Store [lens][name][value] at the end of the arena. When the line sits in
   * the scratch, the name is already in place and the value moves left. */
  size_t off = p->h.len;
  uint8_t *dst = p->h.buf + off + ENTRY_HDR;
  if (dst != line)
    memmove(dst, line, name_len);
  memmove(dst + name_len, line + vs, ve - vs);
  wr32(p->h.buf + off, (uint32_t)name_len);
  wr32(p->h.buf + off + 4, (uint32_t)(ve - vs));
  p->h.last = off;
  p->h.len = off + ENTRY_HDR + name_len + (ve - vs);
  p->h.count++;
  return 0;
}

/* Status and field lines. */
static int step_head_line(h1_parser *p, const uint8_t *data, size_t len, size_t *pos,
                          h1_event *ev) {
  const uint8_t *in = data + *pos;
  size_t avail = len - *pos;
  if (avail == 0)
    return STEP_STOP;
  const uint8_t *nl = memchr(in, '\n', avail);
  size_t piece = nl ? (size_t)(nl - in) + 1 : avail;
  if (p->state == ST_STATUS_LINE && !status_prefix_ok(in, piece, p->line_len))
    return fail(p, CRONC_ERR_INVALID_HTTP_RESPONSE, "malformed status line");
  if (piece > H1_MAX_HEADER_BYTES - p->head_bytes)
    return fail(p, CRONC_ERR_RESPONSE_HEADERS_TOO_BIG, "response head over 256 KiB");
  p->head_bytes += piece;
  *pos += piece;
  size_t total = p->line_len + piece;
  /* Room for the line in the scratch, which also covers storing it. */
  if (!arena_reserve(&p->h, p->h.len + ENTRY_HDR + total))
    return fail(p, CRONC_ERR_OUT_OF_MEMORY, "out of memory");
  uint8_t *scratch = p->h.buf + p->h.len + ENTRY_HDR;
  if (!nl) {
    memcpy(scratch + p->line_len, in, piece);
    p->line_len = total;
    return STEP_STOP;
  }
  const uint8_t *line = in;
  if (p->line_len) {
    memcpy(scratch + p->line_len, in, piece);
    line = scratch;
  }
  p->line_len = 0;
  size_t n = total - 1; /* the LF */
  if (n && line[n - 1] == '\r')
    n--;
  int rv =
      p->state == ST_STATUS_LINE ? parse_status_line(p, line, n) : parse_field_line(p, line, n, ev);
  return rv < 0 ? rv : STEP_AGAIN;
}

/* Chunk-size lines, chunk terminators and trailers, byte by byte. Returns
 * STEP_AGAIN when it reached chunk data or the end of the body. */
static int step_chunk_framing(h1_parser *p, const uint8_t *data, size_t len, size_t *pos) {
  while (*pos < len) {
    uint8_t c = data[(*pos)++];
    if (c != '\n' && ++p->chunk_line > H1_MAX_CHUNK_LINE + 1) /* +1: the CR */
      return fail(p, CRONC_ERR_INVALID_CHUNKED_ENCODING, "chunk line too long");
    switch (p->state) {
    case ST_CHUNK_SIZE: {
      int d = hex_value(c);
      if (d >= 0) {
        if (p->remaining > (uint64_t)(INT64_MAX >> 4))
          return fail(p, CRONC_ERR_INVALID_CHUNKED_ENCODING, "chunk size overflows");
        p->remaining = (p->remaining << 4) | (uint64_t)d;
        p->chunk_digits++;
        break;
      }
      if (p->chunk_digits == 0)
        return fail(p, CRONC_ERR_INVALID_CHUNKED_ENCODING, "missing chunk size");
      /* Not a digit: what may follow the digits, below. */
    }
      /* fallthrough */
    case ST_CHUNK_SIZE_SP:
      if (c == ' ')
        p->state = ST_CHUNK_SIZE_SP;
      else if (c == ';')
        p->state = ST_CHUNK_EXT;
      else if (c == '\r')
        p->state = ST_CHUNK_SIZE_CR;
      else if (c == '\n')
        goto size_line_done;
      else
        return fail(p, CRONC_ERR_INVALID_CHUNKED_ENCODING, "bad character after chunk size");
      break;
    case ST_CHUNK_SIZE_CR:
      if (c != '\n')
        return fail(p, CRONC_ERR_INVALID_CHUNKED_ENCODING, "CR without LF after chunk size");
      goto size_line_done;
    case ST_CHUNK_EXT:
      if (c == '\n')
        goto size_line_done;
      break;
    case ST_CHUNK_DATA_END:
      if (c == '\r') {
        p->state = ST_CHUNK_DATA_CR;
        break;
      }
      /* fallthrough */
    case ST_CHUNK_DATA_CR:
      if (c != '\n')
        return fail(p, CRONC_ERR_INVALID_CHUNKED_ENCODING, "chunk data not followed by CRLF");
      p->state = ST_CHUNK_SIZE;
      p->chunk_line = 0;
      p->chunk_digits = 0;
      p->remaining = 0;
      break;
    case ST_TRAILER_START:
    case ST_TRAILER_CR:
      if (c == '\n') {
        p->state = ST_COMPLETE_PENDING;
        return STEP_AGAIN;
      }
      p->state = (c == '\r' && p->state == ST_TRAILER_START) ? ST_TRAILER_CR : ST_TRAILER_LINE;
      break;
    case ST_TRAILER_LINE:
      if (c == '\n') {
        p->state = ST_TRAILER_START;
        p->chunk_line = 0;
      }
      break;
    default:
      return fail(p, CRONC_ERR_UNEXPECTED, "bad chunk state");
    }
    continue;
  size_line_done:
    p->chunk_line = 0;
    p->chunk_digits = 0;
    p->state = p->remaining ? ST_CHUNK_DATA : ST_TRAILER_START;
    if (p->remaining)
      return STEP_AGAIN;
  }
  return STEP_STOP;
}

static void emit_body(h1_parser *p, const uint8_t *data, size_t len, size_t *pos, size_t n,
                      h1_event *ev) {
  ev->type = H1_EVENT_BODY;
  ev->data = data + *pos;
  ev->len = n;
  *pos += n;
  p->body_bytes += n;
}

int h1_parser_execute(h1_parser *p, const uint8_t *data, size_t len, size_t *consumed,
                      h1_event *ev) {
  ev->type = H1_EVENT_NONE;
  ev->data = NULL;
  ev->len = 0;
  *consumed = 0;
  if (p->state == ST_ERROR)
    return p->error;
  if (!data)
    len = 0;
  size_t pos = 0;
  int rv = STEP_AGAIN;
  while (rv == STEP_AGAIN && ev->type == H1_EVENT_NONE) {
    size_t avail = len - pos;
    switch (p->state) {
    case ST_HEAD_START:
      if (p->stale)
        begin_head(p);
      while (pos < len && p->slop < 4 && (data[pos] == '\r' || data[pos] == '\n')) {
        pos++;
        p->slop++;
        p->head_bytes++;
      }
      if (pos == len) {
        rv = STEP_STOP;
        break;
      }
      p->state = ST_STATUS_LINE;
      p->line_len = 0;
      break;
    case ST_STATUS_LINE:
    case ST_HEADER_LINE:
      rv = step_head_line(p, data, len, &pos, ev);
      break;
    case ST_BODY_LENGTH:
      if (avail == 0) {
        rv = STEP_STOP;
        break;
      }
      {
        size_t n = avail < p->remaining ? avail : (size_t)p->remaining;
        emit_body(p, data, len, &pos, n, ev);
        p->remaining -= n;
        if (p->remaining == 0)
          p->state = ST_COMPLETE_PENDING;
      }
      break;
    case ST_BODY_CLOSE:
      if (avail == 0)
        rv = STEP_STOP;
      else
        emit_body(p, data, len, &pos, avail, ev);
      break;
    case ST_CHUNK_DATA:
      if (avail == 0) {
        rv = STEP_STOP;
        break;
      }
      {
        size_t n = avail < p->remaining ? avail : (size_t)p->remaining;
        emit_body(p, data, len, &pos, n, ev);
        p->remaining -= n;
        if (p->remaining == 0) {
          p->state = ST_CHUNK_DATA_END;
          p->chunk_line = 0;
        }
      }
      break;
    case ST_CHUNK_SIZE:
    case ST_CHUNK_SIZE_SP:
    case ST_CHUNK_SIZE_CR:
    case ST_CHUNK_EXT:
    case ST_CHUNK_DATA_END:
    case ST_CHUNK_DATA_CR:
    case ST_TRAILER_START:
    case ST_TRAILER_CR:
    case ST_TRAILER_LINE:
      rv = step_chunk_framing(p, data, len, &pos);
      break;
    case ST_COMPLETE_PENDING:
      p->state = ST_DONE;
      p->done = true;
      ev->type = H1_EVENT_MESSAGE_COMPLETE;
      break;
    case ST_DONE:
      rv = STEP_STOP;
      break;
    case ST_ERROR:
      rv = p->error;
      break;
    }
  }
  *consumed = pos;
  if (rv < 0) {
    ev->type = H1_EVENT_NONE;
    ev->data = NULL;
    ev->len = 0;
    return rv;
  }
  return 0;
}

int h1_parser_finish(h1_parser *p) {
  switch (p->state) {
  case ST_ERROR:
    return p->error;
  case ST_DONE:
  case ST_COMPLETE_PENDING:
    return 0;
  case ST_BODY_CLOSE:
    p->state = ST_DONE;
    p->done = true;
    return 0;
  case ST_HEAD_START:
    if (p->head_bytes == 0)
      return fail(p, CRONC_ERR_EMPTY_RESPONSE, "connection closed before any response byte");
    /* fallthrough */
  case ST_STATUS_LINE:
  case ST_HEADER_LINE:
    return fail(p, CRONC_ERR_RESPONSE_HEADERS_TRUNCATED, "connection closed inside the head");
  case ST_BODY_LENGTH:
    return fail(p, CRONC_ERR_CONTENT_LENGTH_MISMATCH, "connection closed before Content-Length");
  case ST_CHUNK_SIZE:
  case ST_CHUNK_SIZE_SP:
  case ST_CHUNK_SIZE_CR:
  case ST_CHUNK_EXT:
  case ST_CHUNK_DATA:
  case ST_CHUNK_DATA_END:
  case ST_CHUNK_DATA_CR:
  case ST_TRAILER_START:
  case ST_TRAILER_CR:
  case ST_TRAILER_LINE:
    return fail(p, CRONC_ERR_INCOMPLETE_CHUNKED_ENCODING,
                "connection closed inside the chunked body");
  }
  return fail(p, CRONC_ERR_UNEXPECTED, "bad parser state");
}

const h1_headers *h1_parser_headers(const h1_parser *p) { return &p->h; }
int h1_parser_status(const h1_parser *p) { return p->h.status; }

void h1_parser_take_headers(h1_parser *p, h1_headers *out) {
  h1_headers_free(out);
  if (p->state == ST_STATUS_LINE || p->state == ST_HEADER_LINE)
    return; /* no complete head to give; the scratch stays with the parser */
  *out = p->h;
  h1_headers_init(&p->h);
}

bool h1_parser_is_interim(const h1_parser *p) { return p->interim; }
bool h1_parser_is_upgraded(const h1_parser *p) { return p->upgraded; }
h1_body_kind h1_parser_body_kind(const h1_parser *p) { return p->body_kind; }
int64_t h1_parser_content_length(const h1_parser *p) {
  return p->body_kind == H1_BODY_LENGTH ? p->content_length : -1;
}
uint64_t h1_parser_body_bytes(const h1_parser *p) { return p->body_bytes; }
bool h1_parser_can_reuse(const h1_parser *p) { return p->reusable; }
bool h1_parser_is_done(const h1_parser *p) { return p->done; }
const char *h1_parser_error_reason(const h1_parser *p) {
  return p->error_reason ? p->error_reason : "";
}
