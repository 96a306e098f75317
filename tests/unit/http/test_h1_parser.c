/* The HTTP/1.1 response parser: status lines, field lines, every framing
 * case and error code, the head limit at its boundary, keep-alive, header
 * lookup, pipelining, zero-copy bodies, and that any slicing of the input
 * (every split point, byte at a time) gives the same result as one slice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "http/h1_parser.h"

/* ------------------------------------------------------------------------ */
/* Harness: feeds `data` in pieces (cut at `cuts`, ascending), pulls every
 * event and writes a summary that does not depend on the slicing:
 *   H<status>[i|u] "<reason>" kind=<k> cl=<n> reuse=<0|1> {name=value;...}
 *   B"<whole body of that response>"  C (complete)  left=<n>
 *   E<error name> (execute error)  F<error name> (finish)
 * With `pipeline`, the parser is reset after each complete response and the
 * remaining bytes are parsed as the next one. With `eof`, finish() runs at
 * the end of input. Each piece is copied to an exact-size heap buffer so
 * ASan sees reads past it; body slices must point into the piece. */

typedef struct run_opts {
  h1_method method;
  bool pipeline;
  bool eof;
} run_opts;

static const char *kind_name(h1_body_kind k) {
  switch (k) {
  case H1_BODY_NONE:
    return "none";
  case H1_BODY_LENGTH:
    return "length";
  case H1_BODY_CHUNKED:
    return "chunked";
  case H1_BODY_CLOSE:
    return "close";
  }
  return "?";
}

static void dump_head(h1_parser *p, strbuf *sb) {
  const h1_headers *h = h1_parser_headers(p);
  size_t rl;
  const char *r = h1_headers_reason(h, &rl);
  strbuf_appendf(sb, "H%d%s%s \"%.*s\"", h1_parser_status(p), h1_parser_is_interim(p) ? "i" : "",
                 h1_parser_is_upgraded(p) ? "u" : "", (int)rl, r);
  if (!h1_parser_is_interim(p))
    strbuf_appendf(sb, " kind=%s cl=%lld reuse=%d", kind_name(h1_parser_body_kind(p)),
                   (long long)h1_parser_content_length(p), h1_parser_can_reuse(p) ? 1 : 0);
  strbuf_append_str(sb, " {");
  size_t it = 0;
  const char *n, *v;
  size_t nl, vl;
  while (h1_headers_next(h, &it, &n, &nl, &v, &vl))
    strbuf_appendf(sb, "%.*s=%.*s;", (int)nl, n, (int)vl, v);
  strbuf_append_str(sb, "} ");
}

static void flush_body(strbuf *body, strbuf *sb, bool *have_body) {
  if (*have_body) {
    strbuf_append_str(sb, "B\"");
    strbuf_append(sb, body->data, body->len);
    strbuf_append_str(sb, "\" ");
  }
  strbuf_reset(body);
  *have_body = false;
}

static char *run_cuts(const void *vdata, size_t len, const size_t *cuts, size_t ncuts, run_opts o) {
  const uint8_t *data = vdata;
  h1_parser *p = h1_parser_new();
  assert_non_null(p);
  h1_parser_reset(p, o.method);
  strbuf sb = STRBUF_INIT, body = STRBUF_INIT;
  bool have_body = false, stopped = false, completed_last = false;
  size_t start = 0, left = 0;
  for (size_t c = 0; c <= ncuts && !stopped; c++) {
    size_t end = c < ncuts ? cuts[c] : len;
    if (end < start)
      end = start;
    size_t plen = end - start;
    uint8_t *piece = malloc(plen ? plen : 1);
    assert_non_null(piece);
    memcpy(piece, data + start, plen);
    size_t off = 0;
    for (;;) {
      size_t n = 0;
      h1_event ev;
      int rv = h1_parser_execute(p, piece + off, plen - off, &n, &ev);
      assert_true(n <= plen - off);
      off += n;
      if (rv < 0) {
        flush_body(&body, &sb, &have_body);
        strbuf_appendf(&sb, "E%s ", cronc_error_name(rv));
        assert_int_equal(ev.type, H1_EVENT_NONE);
        stopped = true;
        break;
      }
      completed_last = false;
      if (ev.type == H1_EVENT_NONE) {
        assert_int_equal(off, plen);
        break;
      }
      if (ev.type == H1_EVENT_HEADERS) {
        dump_head(p, &sb);
      } else if (ev.type == H1_EVENT_BODY) {
        /* Zero copy: the slice lies inside this piece. */
        assert_true(ev.data >= piece && ev.data + ev.len <= piece + plen);
        assert_true(ev.len > 0);
        strbuf_append(&body, ev.data, ev.len);
        have_body = true;
      } else if (ev.type == H1_EVENT_MESSAGE_COMPLETE) {
        flush_body(&body, &sb, &have_body);
        strbuf_append_str(&sb, "C ");
        completed_last = true;
        if (!o.pipeline) {
          left = (plen - off) + (len - end);
          stopped = true;
          break;
        }
        h1_parser_reset(p, o.method);
      }
    }
    free(piece);
    start = end;
  }
  if (!stopped && o.eof && !(o.pipeline && completed_last)) {
    int rv = h1_parser_finish(p);
    flush_body(&body, &sb, &have_body);
    strbuf_appendf(&sb, "F%s ", cronc_error_name(rv));
  }
  flush_body(&body, &sb, &have_body);
  if (left)
    strbuf_appendf(&sb, "left=%zu", left);
  h1_parser_free(p);
  strbuf_free(&body);
  char *out = strbuf_detach(&sb, NULL);
  assert_non_null(out);
  return out;
}

static char *run_opt(const char *s, run_opts o) { return run_cuts(s, strlen(s), NULL, 0, o); }
static char *run(const char *s) { return run_opt(s, (run_opts){H1_METHOD_OTHER, false, false}); }
static char *run_eof(const char *s) { return run_opt(s, (run_opts){H1_METHOD_OTHER, false, true}); }

/* One-shot, byte at a time and every two-piece split all give `expect`. */
static void expect_all_splits_n(const char *s, size_t len, run_opts o, const char *expect) {
  char *one = run_cuts(s, len, NULL, 0, o);
  assert_string_equal(one, expect);
  free(one);
  size_t *cuts = malloc((len + 1) * sizeof *cuts);
  assert_non_null(cuts);
  for (size_t i = 0; i < len; i++)
    cuts[i] = i + 1;
  char *bytes = run_cuts(s, len, cuts, len, o);
  assert_string_equal(bytes, expect);
  free(bytes);
  for (size_t i = 0; i <= len; i++) {
    size_t cut = i;
    char *two = run_cuts(s, len, &cut, 1, o);
    if (strcmp(two, expect) != 0)
      fail_msg("split at %zu of %zu:\n got  %s\n want %s", i, len, two, expect);
    free(two);
  }
  free(cuts);
}

static void expect_all_splits(const char *s, run_opts o, const char *expect) {
  expect_all_splits_n(s, strlen(s), o, expect);
}

static const run_opts k_get = {H1_METHOD_OTHER, false, false};
static const run_opts k_get_eof = {H1_METHOD_OTHER, false, true};

#define EXPECT_RUN(input, expect)                                                                  \
  do {                                                                                             \
    char *got_ = run(input);                                                                       \
    assert_string_equal(got_, expect);                                                             \
    free(got_);                                                                                    \
  } while (0)

#define EXPECT_RUN_EOF(input, expect)                                                              \
  do {                                                                                             \
    char *got_ = run_eof(input);                                                                   \
    assert_string_equal(got_, expect);                                                             \
    free(got_);                                                                                    \
  } while (0)

/* Parses s in one slice and returns the execute/finish error (0 if none). */
static int error_of(const char *s, size_t len, bool eof) {
  h1_parser *p = h1_parser_new();
  assert_non_null(p);
  size_t off = 0;
  int rv = 0;
  for (;;) {
    size_t n;
    h1_event ev;
    rv = h1_parser_execute(p, (const uint8_t *)s + off, len - off, &n, &ev);
    off += n;
    if (rv < 0 || ev.type == H1_EVENT_NONE || ev.type == H1_EVENT_MESSAGE_COMPLETE)
      break;
  }
  if (rv == 0 && eof)
    rv = h1_parser_finish(p);
  h1_parser_free(p);
  return rv;
}

static int error_of_str(const char *s) { return error_of(s, strlen(s), false); }

/* ------------------------------------------------------------------------ */
/* Status line */

static void test_content_length_response_parses(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", k_get,
                    "H200 \"OK\" kind=length cl=5 reuse=1 {Content-Length=5;X-A=b;} "
                    "B\"hello\" C ");
}

static void test_http10_status_line_accepted(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
             "H200 \"OK\" kind=length cl=2 reuse=0 {Content-Length=2;} B\"hi\" C ");
}

static void test_http10_with_long_reason_keeps_version_when_split(void **state) {
  (void)state;
  /* Regression (found by fuzzing): a status line buffered across slices
   * lost its version when its long reason phrase was stored. */
  expect_all_splits("HTTP/1.0 200 A reason phrase long enough\r\nContent-Length: 0\r\n\r\n", k_get,
                    "H200 \"A reason phrase long enough\" kind=length cl=0 reuse=0 "
                    "{Content-Length=0;} C ");
}

static void test_missing_and_empty_reason_accepted(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n",
             "H404 \"\" kind=length cl=0 reuse=1 {Content-Length=0;} C ");
  EXPECT_RUN("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
             "H404 \"\" kind=length cl=0 reuse=1 {Content-Length=0;} C ");
  EXPECT_RUN("HTTP/1.1 500 Internal  Server\tError\r\nContent-Length: 0\r\n\r\n",
             "H500 \"Internal  Server\tError\" kind=length cl=0 reuse=1 {Content-Length=0;} C ");
}

static void test_later_http1_minor_counts_as_11(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n",
             "H200 \"OK\" kind=length cl=0 reuse=1 {Content-Length=0;} C ");
}

static void test_http09_and_bad_status_lines_rejected(void **state) {
  (void)state;
  static const char *const bad[] = {
      "<html>hello</html>\r\n",              /* HTTP/0.9 */
      "ICY 200 OK\r\n\r\n",                  /* Shoutcast */
      "http/1.1 200 OK\r\n\r\n",             /* case */
      "HTTP/2.0 200 OK\r\n\r\n",             /* not 1.x */
      "HTTP/1.1 20\r\n\r\n",                 /* 2 digits */
      "HTTP/1.1 2000 OK\r\n\r\n",            /* 4 digits */
      "HTTP/1.1  200 OK\r\n\r\n",            /* two SP */
      "HTTP/1.1 abc OK\r\n\r\n",             /* no code */
      "HTTP/1.1 099 Low\r\n\r\n",            /* below 100 */
      "HTTP/1.1\r\n\r\n",                    /* nothing */
      "HTTP/1.x 200 OK\r\n\r\n",             /* minor not a digit */
      "HTTP/1.1 200OK\r\n\r\n",              /* no SP before reason */
      "HTTP/1.1 200 O\rK\r\n\r\n",           /* bare CR */
      "\r\n\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", /* 6 bytes of slop */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rv = error_of_str(bad[i]);
    if (rv != CRONC_ERR_INVALID_HTTP_RESPONSE)
      fail_msg("case %zu: %s", i, cronc_error_name(rv));
  }
  static const char nul[] = "HTTP/1.1 200 O\0K\r\n\r\n";
  assert_int_equal(error_of(nul, sizeof nul - 1, false), CRONC_ERR_INVALID_HTTP_RESPONSE);
}

static void test_non_http_response_fails_before_line_end(void **state) {
  (void)state;
  /* A non-HTTP reply is refused from its first bytes, not after 256 KiB. */
  h1_parser *p = h1_parser_new();
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)"HTTP/1.", 7, &n, &ev), 0);
  assert_int_equal(n, 7);
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)"y", 1, &n, &ev),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
  assert_string_equal(h1_parser_error_reason(p), "malformed status line");
  h1_parser_free(p);
  assert_int_equal(error_of_str("SSH-2.0-OpenSSH"), CRONC_ERR_INVALID_HTTP_RESPONSE);
}

static void test_leading_crlf_skipped_up_to_four(void **state) {
  (void)state;
  expect_all_splits("\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", k_get,
                    "H204 \"No Content\" kind=none cl=-1 reuse=1 {} C ");
  EXPECT_RUN("\n\nHTTP/1.1 204 No Content\r\n\r\n",
             "H204 \"No Content\" kind=none cl=-1 reuse=1 {} C ");
  assert_int_equal(error_of_str("\r\n\r\n\nHTTP/1.1 204 No Content\r\n\r\n"),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
}

static void test_bare_lf_line_endings_accepted(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 200 OK\nContent-Length: 3\nA: b\n\nabc", k_get,
                    "H200 \"OK\" kind=length cl=3 reuse=1 {Content-Length=3;A=b;} B\"abc\" C ");
}

/* ------------------------------------------------------------------------ */
/* Field lines */

static void test_field_values_trimmed_of_ows(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 204 OK\r\nA:   x y \t\r\nB:\t\r\nC:z\r\n\r\n",
             "H204 \"OK\" kind=none cl=-1 reuse=1 {A=x y;B=;C=z;} C ");
}

static void test_obs_fold_joined_with_one_space(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 204 OK\r\nA: one\r\n  two \r\n\tthree\r\nB:\r\n x\r\n \r\n\r\n",
                    k_get, "H204 \"OK\" kind=none cl=-1 reuse=1 {A=one two three;B=x;} C ");
}

static void test_obs_fold_before_any_field_rejected(void **state) {
  (void)state;
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\n folded\r\n\r\n"),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
}

static void test_invalid_field_names_rejected(void **state) {
  (void)state;
  static const char *const bad[] = {
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA(b): x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA\"b: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\xc3\xa9t\xc3\xa9: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA\rB: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nA/B: x\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rv = error_of_str(bad[i]);
    if (rv != CRONC_ERR_INVALID_HTTP_RESPONSE)
      fail_msg("case %zu: %s", i, cronc_error_name(rv));
  }
}

static void test_field_line_without_colon_rejected(void **state) {
  (void)state;
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n"),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
}

static void test_nul_and_bare_cr_in_fields_rejected(void **state) {
  (void)state;
  static const char nul_value[] = "HTTP/1.1 200 OK\r\nA: x\0y\r\n\r\n";
  assert_int_equal(error_of(nul_value, sizeof nul_value - 1, false),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
  static const char nul_name[] = "HTTP/1.1 200 OK\r\nA\0: x\r\n\r\n";
  assert_int_equal(error_of(nul_name, sizeof nul_name - 1, false), CRONC_ERR_INVALID_HTTP_RESPONSE);
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nA: x\ry\r\n\r\n"),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nA: x\r\n \ry\r\n\r\n"),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
  /* CR CR LF: the first CR is bare. */
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nA: x\r\r\n\r\n"),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
}

static void test_space_before_colon_dropped(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 204 OK\r\nServer \t: cronc\r\n\r\n",
             "H204 \"OK\" kind=none cl=-1 reuse=1 {Server=cronc;} C ");
}

static void test_other_controls_in_values_kept(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 204 OK\r\nA: x\x01y\xff\r\n\r\n",
             "H204 \"OK\" kind=none cl=-1 reuse=1 {A=x\x01y\xff;} C ");
}

/* ------------------------------------------------------------------------ */
/* Header lookup */

static h1_parser *parse_head(const char *s) {
  h1_parser *p = h1_parser_new();
  assert_non_null(p);
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s, strlen(s), &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_HEADERS);
  return p;
}

static const char k_lookup_head[] = "HTTP/1.1 200 OK\r\n"
                                    "Alt-Svc: h3=\":443\"; ma=60\r\n"
                                    "Content-Length: 0\r\n"
                                    "alt-svc: h2=\":8443\"\r\n"
                                    "X-Empty:\r\n"
                                    "ALT-SVC:  clear \r\n"
                                    "Cache-Control: no-cache, no-store\r\n"
                                    "\r\n";

static void test_header_find_is_case_insensitive(void **state) {
  (void)state;
  h1_parser *p = parse_head(k_lookup_head);
  const h1_headers *h = h1_parser_headers(p);
  assert_int_equal(h1_headers_count(h), 6);
  size_t it = 0;
  const char *v;
  size_t vl;
  assert_true(h1_headers_find(h, "ALT-svc", &it, &v, &vl));
  assert_int_equal(vl, strlen("h3=\":443\"; ma=60"));
  assert_memory_equal(v, "h3=\":443\"; ma=60", vl);
  assert_true(h1_headers_find(h, "ALT-svc", &it, &v, &vl));
  assert_memory_equal(v, "h2=\":8443\"", vl);
  assert_true(h1_headers_find(h, "ALT-svc", &it, &v, &vl));
  assert_int_equal(vl, 5);
  assert_memory_equal(v, "clear", 5);
  assert_false(h1_headers_find(h, "ALT-svc", &it, &v, &vl));
  assert_true(h1_headers_has(h, "x-empty"));
  assert_false(h1_headers_has(h, "x-emp"));
  assert_false(h1_headers_has(h, "x-empty-not"));
  h1_parser_free(p);
}

static void test_get_normalized_joins_repeated_fields(void **state) {
  (void)state;
  h1_parser *p = parse_head(k_lookup_head);
  const h1_headers *h = h1_parser_headers(p);
  strbuf sb = STRBUF_INIT;
  assert_true(h1_headers_get_normalized(h, "alt-svc", &sb));
  assert_string_equal(strbuf_cstr(&sb), "h3=\":443\"; ma=60, h2=\":8443\", clear");
  strbuf_reset(&sb);
  assert_true(h1_headers_get_normalized(h, "x-empty", &sb));
  assert_non_null(sb.data);
  assert_string_equal(sb.data, "");
  strbuf_reset(&sb);
  assert_false(h1_headers_get_normalized(h, "location", &sb));
  assert_int_equal(sb.len, 0);
  strbuf_free(&sb);
  h1_parser_free(p);
}

static void test_has_token_splits_lists(void **state) {
  (void)state;
  h1_parser *p = parse_head(k_lookup_head);
  const h1_headers *h = h1_parser_headers(p);
  assert_true(h1_headers_has_token(h, "cache-control", "NO-STORE"));
  assert_true(h1_headers_has_token(h, "cache-control", "no-cache"));
  assert_false(h1_headers_has_token(h, "cache-control", "no"));
  assert_false(h1_headers_has_token(h, "pragma", "no-cache"));
  h1_parser_free(p);
}

static void test_header_iteration_keeps_order_and_case(void **state) {
  (void)state;
  h1_parser *p = parse_head(k_lookup_head);
  const h1_headers *h = h1_parser_headers(p);
  static const char *const names[] = {"Alt-Svc", "Content-Length", "alt-svc",
                                      "X-Empty", "ALT-SVC",        "Cache-Control"};
  size_t it = 0, i = 0;
  const char *n, *v;
  size_t nl, vl;
  while (h1_headers_next(h, &it, &n, &nl, &v, &vl)) {
    assert_true(i < 6);
    assert_int_equal(nl, strlen(names[i]));
    assert_memory_equal(n, names[i], nl);
    i++;
  }
  assert_int_equal(i, 6);
  size_t rl;
  assert_memory_equal(h1_headers_reason(h, &rl), "OK", 2);
  assert_int_equal(rl, 2);
  assert_int_equal(h->status, 200);
  assert_int_equal(h->http_minor, 1);
  h1_parser_free(p);
}

static void test_take_headers_moves_the_head_out(void **state) {
  (void)state;
  h1_parser *p = parse_head("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nA: b\r\n\r\n");
  h1_headers h = H1_HEADERS_INIT;
  assert_int_equal(h1_headers_add(&h, "Old", 3, "x", 1), 0);
  h1_parser_take_headers(p, &h);
  assert_int_equal(h.status, 200);
  assert_int_equal(h1_headers_count(&h), 2);
  assert_int_equal(h1_headers_count(h1_parser_headers(p)), 0);
  /* The body still parses: framing was decided already. */
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)"abc", 3, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_BODY);
  assert_int_equal(ev.len, 3);
  assert_int_equal(h1_parser_execute(p, NULL, 0, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_MESSAGE_COMPLETE);
  h1_parser_free(p);
  strbuf sb = STRBUF_INIT;
  assert_true(h1_headers_get_normalized(&h, "a", &sb));
  assert_string_equal(strbuf_cstr(&sb), "b");
  strbuf_free(&sb);
  h1_headers_free(&h);
}

static void test_headers_add_builds_a_head(void **state) {
  (void)state;
  h1_headers h;
  h1_headers_init(&h);
  for (int i = 0; i < 200; i++)
    assert_int_equal(h1_headers_add(&h, "Vary", 4, "accept-encoding", 15), 0);
  assert_int_equal(h1_headers_count(&h), 200);
  strbuf sb = STRBUF_INIT;
  assert_true(h1_headers_get_normalized(&h, "VARY", &sb));
  assert_int_equal(sb.len, 200 * 15 + 199 * 2);
  strbuf_free(&sb);
  h1_headers_clear(&h);
  assert_int_equal(h1_headers_count(&h), 0);
  assert_false(h1_headers_has(&h, "vary"));
  h1_headers_free(&h);
}

/* ------------------------------------------------------------------------ */
/* The 256 KiB head limit */

/* A head of exactly `total` bytes: status line, filler fields, the end. */
static char *make_head(size_t total, size_t *len_out) {
  static const char start[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n";
  char *s = malloc(total + 1);
  assert_non_null(s);
  size_t w = strlen(start);
  memcpy(s, start, w);
  /* Filler fields "X: aaaa...\r\n" of up to 1000 bytes; the last one sized
   * so that the head ends with "\r\n" exactly at total. */
  while (w < total - 2) {
    size_t room = total - 2 - w;
    size_t line = room > 1000 ? 1000 : room;
    if (room - line < 6 && room > 1000)
      line = room - 6; /* leave room for a minimal last line */
    assert_true(line >= 5);
    memcpy(s + w, "X: ", 3);
    memset(s + w + 3, 'a', line - 5);
    memcpy(s + w + line - 2, "\r\n", 2);
    w += line;
  }
  memcpy(s + w, "\r\n", 2);
  w += 2;
  assert_int_equal(w, total);
  s[w] = '\0';
  *len_out = w;
  return s;
}

static void test_head_of_exactly_256k_accepted(void **state) {
  (void)state;
  size_t len;
  char *s = make_head(H1_MAX_HEADER_BYTES, &len);
  assert_int_equal(error_of(s, len, false), 0);
  /* Sliced at 1000 bytes, too. */
  size_t cuts[300], nc = 0;
  for (size_t c = 1000; c < len && nc < 300; c += 1000)
    cuts[nc++] = c;
  char *got = run_cuts(s, len, cuts, nc, k_get);
  assert_non_null(strstr(got, "H200"));
  assert_non_null(strstr(got, " C "));
  free(got);
  free(s);
}

static void test_head_one_byte_over_256k_rejected(void **state) {
  (void)state;
  size_t len;
  char *s = make_head(H1_MAX_HEADER_BYTES + 1, &len);
  assert_int_equal(error_of(s, len, false), CRONC_ERR_RESPONSE_HEADERS_TOO_BIG);
  size_t cut = len - 1; /* the last LF alone */
  char *got = run_cuts(s, len, &cut, 1, k_get);
  assert_string_equal(got, "EERR_RESPONSE_HEADERS_TOO_BIG ");
  free(got);
  free(s);
}

static void test_endless_head_line_fails_at_the_limit(void **state) {
  (void)state;
  /* No LF at all: refused when byte 262145 arrives, not before. */
  size_t len = H1_MAX_HEADER_BYTES + 10;
  char *s = malloc(len);
  memcpy(s, "HTTP/1.1 200 OK\r\nX: ", 20);
  memset(s + 20, 'a', len - 20);
  h1_parser *p = h1_parser_new();
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s, H1_MAX_HEADER_BYTES, &n, &ev), 0);
  assert_int_equal(n, H1_MAX_HEADER_BYTES);
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s + n, 1, &n, &ev),
                   CRONC_ERR_RESPONSE_HEADERS_TOO_BIG);
  h1_parser_free(p);
  free(s);
}

static void test_head_limit_applies_to_each_head(void **state) {
  (void)state;
  /* A 100 Continue of 200 KiB, then a final head of 200 KiB: both fine. */
  size_t len1, len2;
  char *h1 = make_head(200 * 1024, &len1);
  char *h2 = make_head(200 * 1024, &len2);
  memcpy(h1, "HTTP/1.1 100 OK", 15);
  char *all = malloc(len1 + len2);
  memcpy(all, h1, len1);
  memcpy(all + len1, h2, len2);
  assert_int_equal(error_of(all, len1 + len2, false), 0);
  free(all);
  free(h1);
  free(h2);
}

/* ------------------------------------------------------------------------ */
/* Framing */

static void test_head_response_has_no_body(void **state) {
  (void)state;
  run_opts head = {H1_METHOD_HEAD, false, false};
  expect_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1", head,
                    "H200 \"OK\" kind=none cl=-1 reuse=1 {Content-Length=1234;} C left=8");
  expect_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", head,
                    "H200 \"OK\" kind=none cl=-1 reuse=1 {Transfer-Encoding=chunked;} C ");
}

static void test_204_205_304_have_no_body(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nrest",
             "H204 \"No Content\" kind=none cl=-1 reuse=1 {Content-Length=10;} C left=4");
  EXPECT_RUN("HTTP/1.1 205 Reset Content\r\n\r\n",
             "H205 \"Reset Content\" kind=none cl=-1 reuse=1 {} C ");
  expect_all_splits("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\nETag: \"x\"\r\n\r\n", k_get,
                    "H304 \"Not Modified\" kind=none cl=-1 reuse=1 "
                    "{Content-Length=99;ETag=\"x\";} C ");
}

static void test_interim_1xx_then_final(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 100 Continue\r\n\r\n"
                    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                    k_get,
                    "H100i \"Continue\" {} H103i \"Early Hints\" {Link=</a.css>; rel=preload;} "
                    "H200 \"OK\" kind=length cl=2 reuse=1 {Content-Length=2;} B\"ok\" C ");
}

static void test_interim_headers_visible_until_next_call(void **state) {
  (void)state;
  static const char s[] = "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 204 OK\r\n\r\n";
  h1_parser *p = h1_parser_new();
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s, sizeof s - 1, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_HEADERS);
  assert_true(h1_parser_is_interim(p));
  assert_int_equal(h1_parser_status(p), 103);
  assert_true(h1_headers_has(h1_parser_headers(p), "link"));
  size_t off = n;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s + off, sizeof s - 1 - off, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_HEADERS);
  assert_false(h1_parser_is_interim(p));
  assert_int_equal(h1_parser_status(p), 204);
  assert_false(h1_headers_has(h1_parser_headers(p), "link"));
  h1_parser_free(p);
}

static void test_101_is_final_and_upgraded(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\n\r\n\x81\x05hello",
                    k_get,
                    "H101u \"Switching Protocols\" kind=none cl=-1 reuse=0 "
                    "{Upgrade=websocket;Connection=Upgrade;} C left=7");
}

static void test_connect_2xx_is_a_tunnel(void **state) {
  (void)state;
  run_opts connect = {H1_METHOD_CONNECT, false, false};
  expect_all_splits("HTTP/1.1 200 Connection Established\r\n\r\n\x16\x03\x01", connect,
                    "H200u \"Connection Established\" kind=none cl=-1 reuse=0 {} C left=3");
  static const char auth[] = "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 1\r\n\r\nx";
  char *got = run_cuts(auth, sizeof auth - 1, NULL, 0, connect);
  assert_string_equal(got, "H407 \"Proxy Auth\" kind=length cl=1 reuse=1 {Content-Length=1;} "
                           "B\"x\" C ");
  free(got);
}

static void test_chunked_body(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\n\r\nNEXT",
                    k_get,
                    "H200 \"OK\" kind=chunked cl=-1 reuse=1 {Transfer-Encoding=chunked;} "
                    "B\"hello 0123456789\" C left=4");
}

static void test_chunked_extensions_trailers_and_lf_only(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                    "3;name=value;x=\"q;\\\"\"\r\nabc\r\n"
                    "2  \r\nde\n"
                    "1  ;ext\nf\r\n"
                    "0;last\r\nTrailer-A: 1\r\nTrailer-B:\t2\r\n\r\n",
                    k_get,
                    "H200 \"OK\" kind=chunked cl=-1 reuse=1 {Transfer-Encoding=gzip, Chunked;} "
                    "B\"abcdef\" C ");
}

static void test_chunked_wins_over_content_length(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n"
             "Content-Length: 7\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
             "H200 \"OK\" kind=chunked cl=-1 reuse=1 "
             "{Content-Length=100;Transfer-Encoding=chunked;Content-Length=7;} B\"hi\" C ");
}

static void test_non_chunked_transfer_encoding_is_close_delimited(void **state) {
  (void)state;
  EXPECT_RUN_EOF("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n"
                 "Content-Length: 3\r\n\r\n3\r\nabc",
                 "H200 \"OK\" kind=close cl=-1 reuse=0 "
                 "{Transfer-Encoding=chunked, gzip;Content-Length=3;} B\"3\r\nabc\" FOK ");
}

static void test_identical_content_lengths_allowed(void **state) {
  (void)state;
  EXPECT_RUN("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
             "H200 \"OK\" kind=length cl=3 reuse=1 {Content-Length=3;Content-Length=3;} "
             "B\"abc\" C ");
  EXPECT_RUN("HTTP/1.1 200 OK\r\nContent-Length: 3, 3 ,3\r\n\r\nabc",
             "H200 \"OK\" kind=length cl=3 reuse=1 {Content-Length=3, 3 ,3;} B\"abc\" C ");
}

static void test_different_content_lengths_rejected(void **state) {
  (void)state;
  assert_int_equal(
      error_of_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc"),
      CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH);
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabc"),
                   CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH);
  /* "03" is a different string from "3" (Chromium compares strings). */
  assert_int_equal(
      error_of_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 03\r\n\r\nabc"),
      CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH);
  /* Checked even when the response has no body (Chromium). */
  assert_int_equal(
      error_of_str("HTTP/1.1 304 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
      CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_LENGTH);
  /* But not when Transfer-Encoding frames the body. */
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                   0);
}

static void test_invalid_content_length_means_close_delimited(void **state) {
  (void)state;
  static const char *const values[] = {"abc", "-1",  "+5", "5x", "9223372036854775808",
                                       "1 2", "0x10"};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    char resp[128];
    snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\nbody", values[i]);
    h1_parser *p = parse_head(resp);
    if (h1_parser_body_kind(p) != H1_BODY_CLOSE)
      fail_msg("value %s: kind %d", values[i], h1_parser_body_kind(p));
    assert_false(h1_parser_can_reuse(p));
    assert_int_equal(h1_parser_content_length(p), -1);
    h1_parser_free(p);
  }
  h1_parser *p = parse_head("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n");
  assert_int_equal(h1_parser_content_length(p), INT64_MAX);
  h1_parser_free(p);
}

static void test_close_delimited_body_ends_at_finish(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of\r\nthis", k_get_eof,
                    "H200 \"OK\" kind=close cl=-1 reuse=0 {Server=x;} B\"all of\r\nthis\" FOK ");
  EXPECT_RUN_EOF("HTTP/1.0 200 OK\r\n\r\n", "H200 \"OK\" kind=close cl=-1 reuse=0 {} FOK ");
}

static void test_different_location_or_disposition_rejected(void **state) {
  (void)state;
  assert_int_equal(error_of_str("HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\n\r\n"),
                   CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_LOCATION);
  assert_int_equal(error_of_str("HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /a\r\n"
                                "Content-Length: 0\r\n\r\n"),
                   0);
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nContent-Disposition: attachment\r\n"
                                "Content-Disposition: inline\r\n\r\n"),
                   CRONC_ERR_RESPONSE_HEADERS_MULTIPLE_CONTENT_DISPOSITION);
}

/* ------------------------------------------------------------------------ */
/* Chunked errors */

static void test_bad_chunk_syntax_rejected(void **state) {
  (void)state;
  static const char *const bodies[] = {
      "x\r\n",            /* not hex */
      "\r\n",             /* missing size */
      ";ext\r\n",         /* missing size */
      "0x5\r\nhello\r\n", /* 0x prefix */
      " 5\r\nhello\r\n",  /* leading SP */
      "+5\r\nhello\r\n",  /* sign */
      "5\t\r\nhello\r\n", /* HTAB after size (Chromium strips SP only) */
      "5 x\r\nhello\r\n", /* junk after SP */
      "5\r\r\nhello\r\n", /* CR CR LF */
      "5\rx",             /* CR without LF */
      "5\r\nhelloXX",     /* data not followed by CRLF */
      "5\r\nhello\rX",    /* CR without LF after data */
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    char resp[256];
    snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
             bodies[i]);
    int rv = error_of_str(resp);
    if (rv != CRONC_ERR_INVALID_CHUNKED_ENCODING)
      fail_msg("case %zu: %s", i, cronc_error_name(rv));
  }
}

static void test_chunk_size_overflow_rejected(void **state) {
  (void)state;
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "8000000000000000\r\n"),
                   CRONC_ERR_INVALID_CHUNKED_ENCODING);
  assert_int_equal(error_of_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "1000000000000000000000\r\n"),
                   CRONC_ERR_INVALID_CHUNKED_ENCODING);
  /* INT64_MAX itself is a size (the body then never ends here); leading
   * zeros do not count against it. */
  h1_parser *p = parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  static const char big[] = "00000000000000000007fffffffffffffff\r\nabc";
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)big, sizeof big - 1, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_BODY);
  assert_int_equal(ev.len, 3);
  assert_int_equal(h1_parser_finish(p), CRONC_ERR_INCOMPLETE_CHUNKED_ENCODING);
  h1_parser_free(p);
}

static void test_chunk_line_length_limited(void **state) {
  (void)state;
  static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  size_t hl = sizeof head - 1;
  /* "1;" + extension filling the line to exactly 16384 bytes: accepted. */
  size_t len = hl + H1_MAX_CHUNK_LINE + 2 + 3 + 5;
  char *s = malloc(len + 2);
  memcpy(s, head, hl);
  memcpy(s + hl, "1;", 2);
  memset(s + hl + 2, 'e', H1_MAX_CHUNK_LINE - 2);
  memcpy(s + hl + H1_MAX_CHUNK_LINE, "\r\nx\r\n0\r\n\r\n", 10);
  assert_int_equal(error_of(s, hl + H1_MAX_CHUNK_LINE + 10, false), 0);
  /* One byte more: refused. */
  memcpy(s + hl, "1;", 2);
  memset(s + hl + 2, 'e', H1_MAX_CHUNK_LINE - 1);
  memcpy(s + hl + H1_MAX_CHUNK_LINE + 1, "\r\nx\r\n0\r\n\r\n", 10);
  assert_int_equal(error_of(s, hl + H1_MAX_CHUNK_LINE + 11, false),
                   CRONC_ERR_INVALID_CHUNKED_ENCODING);
  free(s);
  (void)len;
}

/* ------------------------------------------------------------------------ */
/* End of input */

static void test_finish_without_bytes_is_empty_response(void **state) {
  (void)state;
  h1_parser *p = h1_parser_new();
  assert_int_equal(h1_parser_finish(p), CRONC_ERR_EMPTY_RESPONSE);
  assert_int_equal(h1_parser_finish(p), CRONC_ERR_EMPTY_RESPONSE); /* sticky */
  h1_parser_free(p);
  EXPECT_RUN_EOF("", "FERR_EMPTY_RESPONSE ");
  /* After a 1xx, nothing of the final head: empty as well. */
  EXPECT_RUN_EOF("HTTP/1.1 100 Continue\r\n\r\n", "H100i \"Continue\" {} FERR_EMPTY_RESPONSE ");
}

static void test_finish_inside_head_is_truncated(void **state) {
  (void)state;
  EXPECT_RUN_EOF("HTTP/1.1 200 OK\r\nContent-Le", "FERR_RESPONSE_HEADERS_TRUNCATED ");
  EXPECT_RUN_EOF("HTT", "FERR_RESPONSE_HEADERS_TRUNCATED ");
  EXPECT_RUN_EOF("\r\n", "FERR_RESPONSE_HEADERS_TRUNCATED ");
  EXPECT_RUN_EOF("HTTP/1.1 200 OK\r\n\r", "FERR_RESPONSE_HEADERS_TRUNCATED ");
}

static void test_finish_short_content_length_is_mismatch(void **state) {
  (void)state;
  expect_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", k_get_eof,
                    "H200 \"OK\" kind=length cl=10 reuse=1 {Content-Length=10;} B\"short\" "
                    "FERR_CONTENT_LENGTH_MISMATCH ");
}

static void test_finish_inside_chunked_is_incomplete(void **state) {
  (void)state;
  static const char *const cut[] = {
      "",
      "5",
      "5\r",
      "5\r\nhel",
      "5\r\nhello",
      "5\r\nhello\r",
      "5\r\nhello\r\n0",
      "5\r\nhello\r\n0\r\n",
      "5\r\nhello\r\n0\r\nTrailer: x\r\n",
  };
  for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
    char resp[256];
    snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s", cut[i]);
    int rv = error_of(resp, strlen(resp), true);
    if (rv != CRONC_ERR_INCOMPLETE_CHUNKED_ENCODING)
      fail_msg("case %zu: %s", i, cronc_error_name(rv));
  }
}

static void test_finish_after_complete_is_ok(void **state) {
  (void)state;
  EXPECT_RUN_EOF("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
                 "H200 \"OK\" kind=length cl=2 reuse=1 {Content-Length=2;} B\"ok\" C ");
  h1_parser *p = parse_head("HTTP/1.1 204 OK\r\n\r\n");
  assert_int_equal(h1_parser_finish(p), 0); /* MESSAGE_COMPLETE was still pending */
  h1_parser_free(p);
}

/* ------------------------------------------------------------------------ */
/* Keep-alive */

static void test_keep_alive_decisions(void **state) {
  (void)state;
  static const struct {
    const char *head;
    bool reuse;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: Foo, CLOSE\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nProxy-Connection: close\r\n\r\n", false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive, close\r\n\r\n", true},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"HTTP/1.0 200 OK\r\nContent-Length: 0\r\nProxy-Connection: keep-alive\r\n\r\n", true},
      {"HTTP/1.1 200 OK\r\n\r\n", false},                              /* close-delimited */
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true}, /* chunked */
      {"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n",
       false}, /* TE on 1.0 */
      {"HTTP/1.1 304 Not Modified\r\n\r\n", true},
      {"HTTP/1.1 101 Switching\r\nConnection: upgrade\r\n\r\n", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    h1_parser *p = parse_head(cases[i].head);
    if (h1_parser_can_reuse(p) != cases[i].reuse)
      fail_msg("case %zu: reuse %d", i, h1_parser_can_reuse(p));
    h1_parser_free(p);
  }
}

/* ------------------------------------------------------------------------ */
/* Slicing, pipelining, zero copy, reuse */

static void test_every_split_gives_the_same_result(void **state) {
  (void)state;
  static const char *const responses[] = {
      "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/html\r\n"
      "Content-Length: 12\r\nAlt-Svc: h3=\":443\"; ma=86400\r\n\r\nHello world!",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;a=b\r\nWiki\r\n5\r\npedia\r\n"
      "E\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n",
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nLocation: /x\r\n"
      "Content-Length: 0\r\n\r\n",
      "HTTP/1.1 404 Not Found\r\nA: 1\r\n 2\r\n\t3\r\nContent-Length: 3\r\n\r\nabcEXTRA",
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "XTTP/1.1 200 OK\r\n\r\n",
  };
  for (size_t i = 0; i < sizeof responses / sizeof responses[0]; i++) {
    char *expect = run(responses[i]);
    expect_all_splits(responses[i], k_get, expect);
    free(expect);
    expect = run_eof(responses[i]);
    expect_all_splits(responses[i], k_get_eof, expect);
    free(expect);
  }
}

static void test_pipelined_responses_in_one_buffer(void **state) {
  (void)state;
  run_opts pipe = {H1_METHOD_OTHER, true, false};
  expect_all_splits("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n"
                    "HTTP/1.1 304 Not Modified\r\n\r\n",
                    pipe,
                    "H200 \"OK\" kind=length cl=3 reuse=1 {Content-Length=3;} B\"one\" C "
                    "H200 \"OK\" kind=chunked cl=-1 reuse=1 {Transfer-Encoding=chunked;} "
                    "B\"two\" C H304 \"Not Modified\" kind=none cl=-1 reuse=1 {} C ");
}

static void test_message_complete_stops_consuming(void **state) {
  (void)state;
  static const char s[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1";
  h1_parser *p = h1_parser_new();
  size_t n, off = 0;
  h1_event ev;
  do {
    assert_int_equal(h1_parser_execute(p, (const uint8_t *)s + off, sizeof s - 1 - off, &n, &ev),
                     0);
    off += n;
  } while (ev.type != H1_EVENT_MESSAGE_COMPLETE);
  assert_int_equal(sizeof s - 1 - off, 8);
  assert_true(h1_parser_is_done(p));
  /* Done: nothing more is taken until reset. */
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s + off, sizeof s - 1 - off, &n, &ev), 0);
  assert_int_equal(n, 0);
  assert_int_equal(ev.type, H1_EVENT_NONE);
  h1_parser_reset(p, H1_METHOD_OTHER);
  assert_false(h1_parser_is_done(p));
  assert_int_equal(h1_parser_status(p), 0);
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)s + off, sizeof s - 1 - off, &n, &ev), 0);
  assert_int_equal(n, 8);
  assert_int_equal(h1_parser_finish(p), CRONC_ERR_RESPONSE_HEADERS_TRUNCATED);
  h1_parser_free(p);
}

static void test_body_slices_point_into_input(void **state) {
  (void)state;
  /* Chunked: three chunks in one buffer, each BODY slice aliases the input. */
  static const char s[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n";
  const uint8_t *in = (const uint8_t *)s;
  h1_parser *p = h1_parser_new();
  size_t n, off = 0;
  h1_event ev;
  const uint8_t *expect_at[] = {(const uint8_t *)strstr(s, "abc"),
                                (const uint8_t *)strstr(s, "de")};
  size_t bodies = 0;
  do {
    assert_int_equal(h1_parser_execute(p, in + off, sizeof s - 1 - off, &n, &ev), 0);
    off += n;
    if (ev.type == H1_EVENT_BODY) {
      assert_true(bodies < 2);
      assert_ptr_equal(ev.data, expect_at[bodies]);
      assert_int_equal(ev.len, bodies == 0 ? 3 : 2);
      bodies++;
    }
  } while (ev.type != H1_EVENT_MESSAGE_COMPLETE);
  assert_int_equal(bodies, 2);
  assert_int_equal(h1_parser_body_bytes(p), 5);
  assert_int_equal(off, sizeof s - 1);
  h1_parser_free(p);
}

static void test_zero_length_execute_emits_pending_complete(void **state) {
  (void)state;
  h1_parser *p = parse_head("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  size_t n;
  h1_event ev;
  assert_int_equal(h1_parser_execute(p, NULL, 0, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_MESSAGE_COMPLETE);
  assert_int_equal(n, 0);
  assert_int_equal(h1_parser_execute(p, NULL, 0, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_NONE);
  h1_parser_free(p);
}

static void test_errors_are_sticky_until_reset(void **state) {
  (void)state;
  h1_parser *p = h1_parser_new();
  size_t n;
  h1_event ev;
  static const char bad[] = "HTTP/1.1 200 OK\r\nNo colon\r\n";
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)bad, sizeof bad - 1, &n, &ev),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
  assert_string_equal(h1_parser_error_reason(p), "field line without a colon");
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)"\r\n", 2, &n, &ev),
                   CRONC_ERR_INVALID_HTTP_RESPONSE);
  assert_int_equal(n, 0);
  assert_int_equal(h1_parser_finish(p), CRONC_ERR_INVALID_HTTP_RESPONSE);
  h1_parser_reset(p, H1_METHOD_OTHER);
  assert_string_equal(h1_parser_error_reason(p), "");
  static const char good[] = "HTTP/1.1 204 OK\r\n\r\n";
  assert_int_equal(h1_parser_execute(p, (const uint8_t *)good, sizeof good - 1, &n, &ev), 0);
  assert_int_equal(ev.type, H1_EVENT_HEADERS);
  h1_parser_free(p);
  h1_parser_free(NULL);
}

static void test_large_body_counts_and_content_length_body_split(void **state) {
  (void)state;
  /* 1 MB Content-Length body fed in 4 KB pieces: the bytes add up. */
  size_t body = 1 << 20;
  static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";
  size_t len = sizeof head - 1 + body;
  uint8_t *s = malloc(len);
  memcpy(s, head, sizeof head - 1);
  memset(s + sizeof head - 1, 'z', body);
  h1_parser *p = h1_parser_new();
  size_t off = 0, got = 0;
  bool complete = false;
  while (!complete) {
    size_t piece_end = off + 4096 < len ? off + 4096 : len;
    for (;;) {
      size_t n;
      h1_event ev;
      assert_int_equal(h1_parser_execute(p, s + off, piece_end - off, &n, &ev), 0);
      off += n;
      if (ev.type == H1_EVENT_BODY)
        got += ev.len;
      if (ev.type == H1_EVENT_MESSAGE_COMPLETE)
        complete = true;
      if (ev.type == H1_EVENT_NONE || complete)
        break;
    }
  }
  assert_int_equal(got, body);
  assert_int_equal(h1_parser_body_bytes(p), body);
  assert_int_equal(off, len);
  h1_parser_free(p);
  free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_content_length_response_parses),
      cmocka_unit_test(test_http10_status_line_accepted),
      cmocka_unit_test(test_http10_with_long_reason_keeps_version_when_split),
      cmocka_unit_test(test_missing_and_empty_reason_accepted),
      cmocka_unit_test(test_later_http1_minor_counts_as_11),
      cmocka_unit_test(test_http09_and_bad_status_lines_rejected),
      cmocka_unit_test(test_non_http_response_fails_before_line_end),
      cmocka_unit_test(test_leading_crlf_skipped_up_to_four),
      cmocka_unit_test(test_bare_lf_line_endings_accepted),
      cmocka_unit_test(test_field_values_trimmed_of_ows),
      cmocka_unit_test(test_obs_fold_joined_with_one_space),
      cmocka_unit_test(test_obs_fold_before_any_field_rejected),
      cmocka_unit_test(test_invalid_field_names_rejected),
      cmocka_unit_test(test_field_line_without_colon_rejected),
      cmocka_unit_test(test_nul_and_bare_cr_in_fields_rejected),
      cmocka_unit_test(test_space_before_colon_dropped),
      cmocka_unit_test(test_other_controls_in_values_kept),
      cmocka_unit_test(test_header_find_is_case_insensitive),
      cmocka_unit_test(test_get_normalized_joins_repeated_fields),
      cmocka_unit_test(test_has_token_splits_lists),
      cmocka_unit_test(test_header_iteration_keeps_order_and_case),
      cmocka_unit_test(test_take_headers_moves_the_head_out),
      cmocka_unit_test(test_headers_add_builds_a_head),
      cmocka_unit_test(test_head_of_exactly_256k_accepted),
      cmocka_unit_test(test_head_one_byte_over_256k_rejected),
      cmocka_unit_test(test_endless_head_line_fails_at_the_limit),
      cmocka_unit_test(test_head_limit_applies_to_each_head),
      cmocka_unit_test(test_head_response_has_no_body),
      cmocka_unit_test(test_204_205_304_have_no_body),
      cmocka_unit_test(test_interim_1xx_then_final),
      cmocka_unit_test(test_interim_headers_visible_until_next_call),
      cmocka_unit_test(test_101_is_final_and_upgraded),
      cmocka_unit_test(test_connect_2xx_is_a_tunnel),
      cmocka_unit_test(test_chunked_body),
      cmocka_unit_test(test_chunked_extensions_trailers_and_lf_only),
      cmocka_unit_test(test_chunked_wins_over_content_length),
      cmocka_unit_test(test_non_chunked_transfer_encoding_is_close_delimited),
      cmocka_unit_test(test_identical_content_lengths_allowed),
      cmocka_unit_test(test_different_content_lengths_rejected),
      cmocka_unit_test(test_invalid_content_length_means_close_delimited),
      cmocka_unit_test(test_close_delimited_body_ends_at_finish),
      cmocka_unit_test(test_different_location_or_disposition_rejected),
      cmocka_unit_test(test_bad_chunk_syntax_rejected),
      cmocka_unit_test(test_chunk_size_overflow_rejected),
      cmocka_unit_test(test_chunk_line_length_limited),
      cmocka_unit_test(test_finish_without_bytes_is_empty_response),
      cmocka_unit_test(test_finish_inside_head_is_truncated),
      cmocka_unit_test(test_finish_short_content_length_is_mismatch),
      cmocka_unit_test(test_finish_inside_chunked_is_incomplete),
      cmocka_unit_test(test_finish_after_complete_is_ok),
      cmocka_unit_test(test_keep_alive_decisions),
      cmocka_unit_test(test_every_split_gives_the_same_result),
      cmocka_unit_test(test_pipelined_responses_in_one_buffer),
      cmocka_unit_test(test_message_complete_stops_consuming),
      cmocka_unit_test(test_body_slices_point_into_input),
      cmocka_unit_test(test_zero_length_execute_emits_pending_complete),
      cmocka_unit_test(test_errors_are_sticky_until_reset),
      cmocka_unit_test(test_large_body_counts_and_content_length_body_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
