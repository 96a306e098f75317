/* Fuzz target for the HTTP/1.1 response parser (http/h1_parser).
 *
 * Input: byte 0 picks the request method (bits 0-1: other, HEAD, CONNECT)
 * and whether the stream ends with finish() (bit 2); the rest is what the
 * server sent. The bytes are parsed twice, pipelined (reset after every
 * complete response, up to 16): once in one slice, once cut into pieces
 * whose sizes come from a generator seeded by the input itself (runs of
 * single bytes, small and large pieces, empty slices). Both runs must give
 * the same summary (heads, bodies, completions, errors, leftover); every
 * body slice must lie inside its piece (zero copy) and every piece is an
 * exact-size heap copy so ASan sees any read past it. Invariants checked:
 * Content-Length bodies have exactly that length, the header iterator agrees
 * with the count, lookups and GetNormalizedHeader work on every field. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/h1_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RESPONSES 16

typedef struct splitter {
  uint64_t state;
  bool whole; /* one slice */
} splitter;

static uint64_t next_rand(splitter *s) {
  /* xorshift64*: deterministic from the seed. */
  s->state ^= s->state >> 12;
  s->state ^= s->state << 25;
  s->state ^= s->state >> 27;
  return s->state * 2685821657736338717ULL;
}

static size_t next_piece(splitter *s, size_t left) {
  if (s->whole)
    return left;
  uint64_t r = next_rand(s);
  size_t n;
  switch (r & 7) {
  case 0:
    n = 0; /* an empty slice must be harmless */
    break;
  case 1:
  case 2:
  case 3:
    n = 1;
    break;
  case 4:
  case 5:
    n = 2 + (size_t)((r >> 8) % 16);
    break;
  case 6:
    n = 1 + (size_t)((r >> 8) % 512);
    break;
  default:
    n = 1 + (size_t)((r >> 8) % 65536);
    break;
  }
  return n < left ? n : left;
}

static void check_head(h1_parser *p, strbuf *sum) {
  const h1_headers *h = h1_parser_headers(p);
  size_t rl;
  const char *reason = h1_headers_reason(h, &rl);
  int status = h1_parser_status(p);
  if (status < 100 || status > 999)
    abort();
  strbuf_appendf(sum, "H%d%s%s/%u \"", status, h1_parser_is_interim(p) ? "i" : "",
                 h1_parser_is_upgraded(p) ? "u" : "", (unsigned)h->http_minor);
  strbuf_append(sum, reason, rl);
  strbuf_appendf(sum, "\" k%d cl%lld r%d {", (int)h1_parser_body_kind(p),
                 (long long)h1_parser_content_length(p), h1_parser_can_reuse(p) ? 1 : 0);
  size_t it = 0, count = 0;
  const char *n, *v;
  size_t nl, vl;
  while (h1_headers_next(h, &it, &n, &nl, &v, &vl)) {
    if (nl == 0)
      abort();
    for (size_t i = 0; i < vl; i++) {
      if (v[i] == '\0' || v[i] == '\r' || v[i] == '\n')
        abort();
    }
    if (vl && (v[0] == ' ' || v[0] == '\t' || v[vl - 1] == ' ' || v[vl - 1] == '\t'))
      abort();
    strbuf_append(sum, n, nl);
    strbuf_append_char(sum, '=');
    strbuf_append(sum, v, vl);
    strbuf_append_char(sum, ';');
    count++;
  }
  if (count != h1_headers_count(h))
    abort();
  /* The first field's name finds a value, and normalising it works. */
  it = 0;
  if (h1_headers_next(h, &it, &n, &nl, &v, &vl) && nl < 64) {
    char name[64];
    memcpy(name, n, nl);
    name[nl] = '\0';
    if (!h1_headers_has(h, name))
      abort();
    strbuf norm = STRBUF_INIT;
    if (!h1_headers_get_normalized(h, name, &norm))
      abort();
    if (!strbuf_failed(&norm) && norm.len < vl)
      abort();
    strbuf_free(&norm);
  }
  strbuf_append_str(sum, "} ");
}

/* Parses input[0..len) sliced by `s`; writes the summary to `sum`. */
static void parse_all(const uint8_t *input, size_t len, h1_method method, bool eof, splitter *s,
                      strbuf *sum) {
  h1_parser *p = h1_parser_new();
  if (!p)
    abort();
  h1_parser_reset(p, method);
  strbuf body = STRBUF_INIT;
  size_t pos = 0, responses = 0;
  bool stopped = false;
  while (!stopped) {
    size_t plen = next_piece(s, len - pos);
    uint8_t *piece = malloc(plen ? plen : 1);
    if (!piece)
      abort();
    if (plen)
      memcpy(piece, input + pos, plen);
    size_t off = 0;
    for (;;) {
      size_t n = 0;
      h1_event ev;
      int rv = h1_parser_execute(p, piece + off, plen - off, &n, &ev);
      if (n > plen - off)
        abort();
      off += n;
      if (rv < 0) {
        if (rv != h1_parser_finish(p) || !h1_parser_error_reason(p)[0])
          abort();
        strbuf_appendf(sum, "B%zu E%d ", body.len, rv);
        stopped = true;
        break;
      }
      if (ev.type == H1_EVENT_NONE) {
        if (off != plen)
          abort();
        break;
      }
      if (ev.type == H1_EVENT_HEADERS) {
        check_head(p, sum);
      } else if (ev.type == H1_EVENT_BODY) {
        if (ev.len == 0 || ev.data < piece || ev.data + ev.len > piece + plen)
          abort();
        strbuf_append(&body, ev.data, ev.len);
      } else if (ev.type == H1_EVENT_MESSAGE_COMPLETE) {
        if (h1_parser_body_bytes(p) != body.len)
          abort();
        if (h1_parser_body_kind(p) == H1_BODY_LENGTH &&
            (int64_t)body.len != h1_parser_content_length(p))
          abort();
        strbuf_appendf(sum, "B%zu:", body.len);
        strbuf_append(sum, body.data, body.len);
        strbuf_append_str(sum, " C ");
        strbuf_reset(&body);
        if (++responses == MAX_RESPONSES || h1_parser_is_upgraded(p)) {
          strbuf_appendf(sum, "left%zu ", (plen - off) + (len - pos - plen));
          stopped = true;
          break;
        }
        h1_parser_reset(p, method);
      }
    }
    free(piece);
    pos += plen;
    if (pos == len && !stopped) {
      if (eof) {
        int rv = h1_parser_finish(p);
        strbuf_appendf(sum, "B%zu:", body.len);
        strbuf_append(sum, body.data, body.len);
        strbuf_appendf(sum, " F%d ", rv);
      } else {
        strbuf_appendf(sum, "B%zu:", body.len);
        strbuf_append(sum, body.data, body.len);
      }
      stopped = true;
    }
  }
  strbuf_free(&body);
  h1_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  h1_method method = (h1_method)(data[0] % 3);
  bool eof = (data[0] & 4) != 0;
  const uint8_t *input = data + 1;
  size_t len = size - 1;

  /* The seed: FNV-1a of the input, never 0 (xorshift needs a non-zero state). */
  uint64_t seed = 1469598103934665603ULL;
  for (size_t i = 0; i < size; i++)
    seed = (seed ^ data[i]) * 1099511628211ULL;
  if (seed == 0)
    seed = 1;

  strbuf one = STRBUF_INIT, split = STRBUF_INIT;
  splitter whole = {0, true};
  splitter cut = {seed, false};
  parse_all(input, len, method, eof, &whole, &one);
  parse_all(input, len, method, eof, &cut, &split);
  if (strbuf_failed(&one) || strbuf_failed(&split)) {
    strbuf_free(&one);
    strbuf_free(&split);
    return 0;
  }
  if (one.len != split.len || memcmp(one.data, split.data, one.len) != 0)
    abort();
  strbuf_free(&one);
  strbuf_free(&split);
  return 0;
}
