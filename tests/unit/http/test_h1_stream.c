/* The HTTP/1.1 stream over a scripted socket: the request goes out in one
 * write, heads and bodies come back whatever the slicing (one byte at a
 * time, head and body together, body straight into the caller's buffer),
 * the connection is handed back reusable only when the response allows it
 * and was read to its end, and a connection that ends early gives Chromium's
 * errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/h1_stream.h"

typedef struct fake_sock {
  stream_socket base;
  const char *input; /* what the "server" sends */
  size_t input_len;
  size_t pos;
  size_t step; /* bytes per read (0 = as much as asked) */
  strbuf written;
  bool disconnected;
  /* release */
  bool released;
  bool reusable;
  /* stream_socket_expect: the promise in force, the largest seen, and
   * whether a read ever found it larger than what was left to send. */
  uint64_t promise, max_promise;
  bool broken_promise;
} fake_sock;

static void fk_expect(stream_socket *s, uint64_t bytes) {
  fake_sock *f = (fake_sock *)s;
  f->promise = bytes;
  if (bytes > f->max_promise)
    f->max_promise = bytes;
}

static int fk_read(stream_socket *s, uint8_t *buf, size_t len, socket_io_fn cb, void *ud) {
  (void)cb;
  (void)ud;
  fake_sock *f = (fake_sock *)s;
  size_t left = f->input_len - f->pos;
  if (f->promise > left)
    f->broken_promise = true;
  if (left == 0)
    return 0;
  size_t n = len < left ? len : left;
  if (f->step && n > f->step)
    n = f->step;
  memcpy(buf, f->input + f->pos, n);
  f->pos += n;
  f->promise = f->promise > n ? f->promise - n : 0;
  return (int)n;
}

static int fk_writev(stream_socket *s, const socket_iovec *iov, size_t n, socket_io_fn cb,
                     void *ud) {
  (void)cb;
  (void)ud;
  fake_sock *f = (fake_sock *)s;
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    strbuf_append(&f->written, iov[i].base, iov[i].len);
    total += iov[i].len;
  }
  return (int)total;
}

static void fk_disconnect(stream_socket *s) { ((fake_sock *)s)->disconnected = true; }

static const stream_socket_vtable fake_vt = {.name = "fake",
                                             .read = fk_read,
                                             .writev = fk_writev,
                                             .disconnect = fk_disconnect,
                                             .expect = fk_expect};

static void on_release(void *ud, stream_socket *sock, bool reusable) {
  (void)sock;
  fake_sock *f = ud;
  f->released = true;
  f->reusable = reusable;
}

static void never_called(void *ud, int rv) {
  (void)ud;
  (void)rv;
  fail_msg("callback on a synchronous socket");
}

typedef struct run {
  fake_sock sock;
  url u;
  http_request_info req;
  http_stream *st;
  strbuf body;
} run;

static void run_init(run *r, const char *response, size_t step, bool reused) {
  memset(r, 0, sizeof *r);
  r->sock.base.vt = &fake_vt;
  r->sock.input = response;
  r->sock.input_len = strlen(response);
  r->sock.step = step;
  strbuf_init(&r->sock.written);
  strbuf_init(&r->body);
  const char *s = "https://example.com:8443/a/b?x=1";
  assert_int_equal(url_parse(s, strlen(s), &r->u), CRONC_OK);
  r->req.url = &r->u;
  r->req.method = "GET";
  r->st = h1_stream_new(&r->sock.base, reused, on_release, &r->sock);
  assert_non_null(r->st);
}

static void run_free(run *r) {
  url_free(&r->u);
  strbuf_free(&r->sock.written);
  strbuf_free(&r->body);
}

/* Sends, reads the head and the whole body with buffers of `bufsize`.
 * Returns the first error, or OK. */
static int run_all(run *r, size_t bufsize) {
  int rv = r->st->vt->send_request(r->st, &r->req, never_called, NULL);
  if (rv != CRONC_OK)
    return rv;
  rv = r->st->vt->read_response_headers(r->st, never_called, NULL);
  if (rv != CRONC_OK)
    return rv;
  uint8_t *buf = malloc(bufsize);
  for (;;) {
    rv = r->st->vt->read_body(r->st, buf, bufsize, never_called, NULL);
    if (rv <= 0)
      break;
    assert_true((size_t)rv <= bufsize);
    strbuf_append(&r->body, buf, (size_t)rv);
  }
  free(buf);
  return rv;
}

static const char *CL_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
static const char *CHUNKED_RESPONSE = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";

static void request_head_is_written_once(void **state) {
  (void)state;
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  assert_int_equal(run_all(&r, 64), 0);
  assert_string_equal(strbuf_cstr(&r.sock.written),
                      "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com:8443\r\n\r\n");
  r.st->vt->close(r.st, false);
  run_free(&r);
}

static void content_length_body_any_slicing_any_buffer(void **state) {
  (void)state;
  size_t steps[] = {0, 1, 3, 7, 40};
  size_t bufs[] = {1, 2, 5, 64};
  for (size_t i = 0; i < 5; i++)
    for (size_t j = 0; j < 4; j++) {
      run r;
      run_init(&r, CL_RESPONSE, steps[i], false);
      assert_int_equal(run_all(&r, bufs[j]), 0);
      assert_string_equal(strbuf_cstr(&r.body), "hello world");
      assert_int_equal(r.st->vt->response_headers(r.st)->status, 200);
      r.st->vt->close(r.st, false);
      assert_true(r.sock.released);
      assert_true(r.sock.reusable);
      run_free(&r);
    }
}

/* Body reads promise the socket the rest of a Content-Length body (so TCP
 * may wait for more per wake-up), never more than the server will send. */
static void content_length_rest_is_promised_to_the_socket(void **state) {
  (void)state;
  const size_t body = 100000;
  const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
  char *resp = malloc(strlen(head) + body + 1);
  strcpy(resp, head);
  memset(resp + strlen(head), 'b', body);
  resp[strlen(head) + body] = 0;
  run r;
  run_init(&r, resp, 1000, false);
  assert_int_equal(run_all(&r, 4096), 0);
  assert_int_equal(r.body.len, body);
  assert_false(r.sock.broken_promise);
  assert_true(r.sock.max_promise >= body - 4096 && r.sock.max_promise <= body);
  r.st->vt->close(r.st, false);
  run_free(&r);
  free(resp);

  run_init(&r, CHUNKED_RESPONSE, 1, false);
  assert_int_equal(run_all(&r, 3), 0);
  assert_int_equal(r.sock.max_promise, 0); /* no length: no promise */
  r.st->vt->close(r.st, false);
  run_free(&r);
}

static void chunked_body_any_slicing_any_buffer(void **state) {
  (void)state;
  size_t steps[] = {0, 1, 2, 9};
  size_t bufs[] = {1, 3, 64};
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++) {
      run r;
      run_init(&r, CHUNKED_RESPONSE, steps[i], false);
      assert_int_equal(run_all(&r, bufs[j]), 0);
      assert_string_equal(strbuf_cstr(&r.body), "hello world");
      r.st->vt->close(r.st, false);
      assert_true(r.sock.reusable);
      run_free(&r);
    }
}

static void interim_100_continue_is_skipped(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
           0, false);
  assert_int_equal(run_all(&r, 16), 0);
  assert_int_equal(r.st->vt->response_headers(r.st)->status, 201);
  assert_string_equal(strbuf_cstr(&r.body), "ok");
  r.st->vt->close(r.st, false);
  run_free(&r);
}

static void no_content_has_no_body_and_stays_reusable(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 204 No Content\r\n\r\n", 0, false);
  assert_int_equal(run_all(&r, 16), 0);
  assert_int_equal(r.body.len, 0);
  r.st->vt->close(r.st, false);
  assert_true(r.sock.reusable);
  run_free(&r);
}

static void connection_close_is_not_reused(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0, false);
  assert_int_equal(run_all(&r, 16), 0);
  r.st->vt->close(r.st, false);
  assert_true(r.sock.released);
  assert_false(r.sock.reusable);
  assert_true(r.sock.disconnected);
  run_free(&r);
}

static void close_delimited_body_ends_at_eof(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 200 OK\r\n\r\nuntil the end", 4, false);
  assert_int_equal(run_all(&r, 5), 0);
  assert_string_equal(strbuf_cstr(&r.body), "until the end");
  r.st->vt->close(r.st, false);
  assert_false(r.sock.reusable);
  run_free(&r);
}

static void short_body_is_content_length_mismatch(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nshort", 0, false);
  assert_int_equal(run_all(&r, 64), CRONC_ERR_CONTENT_LENGTH_MISMATCH);
  r.st->vt->close(r.st, true);
  assert_false(r.sock.reusable);
  run_free(&r);
}

static void cut_chunked_body_is_incomplete_chunked_encoding(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 0, false);
  assert_int_equal(run_all(&r, 64), CRONC_ERR_INCOMPLETE_CHUNKED_ENCODING);
  r.st->vt->close(r.st, true);
  run_free(&r);
}

static void empty_reply_on_reused_connection_is_connection_closed(void **state) {
  (void)state;
  run r;
  run_init(&r, "", 0, true);
  assert_int_equal(run_all(&r, 64), CRONC_ERR_CONNECTION_CLOSED);
  assert_false(r.st->vt->received_any_response_bytes(r.st));
  assert_true(r.st->vt->is_connection_reused(r.st));
  r.st->vt->close(r.st, true);
  run_free(&r);
  run_init(&r, "", 0, false);
  assert_int_equal(run_all(&r, 64), CRONC_ERR_EMPTY_RESPONSE);
  r.st->vt->close(r.st, true);
  run_free(&r);
}

static void malformed_status_line_is_invalid_http_response(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTX/1.1 200 OK\r\n\r\n", 0, false);
  assert_int_equal(run_all(&r, 64), CRONC_ERR_INVALID_HTTP_RESPONSE);
  r.st->vt->close(r.st, true);
  run_free(&r);
}

static void bytes_after_the_response_prevent_reuse(void **state) {
  (void)state;
  run r;
  run_init(&r, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", 0, false);
  assert_int_equal(run_all(&r, 64), 0);
  assert_string_equal(strbuf_cstr(&r.body), "ok");
  r.st->vt->close(r.st, false);
  assert_false(r.sock.reusable);
  run_free(&r);
}

static void unread_body_is_not_reused(void **state) {
  (void)state;
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  assert_int_equal(r.st->vt->send_request(r.st, &r.req, never_called, NULL), 0);
  assert_int_equal(r.st->vt->read_response_headers(r.st, never_called, NULL), 0);
  r.st->vt->close(r.st, false);
  assert_false(r.sock.reusable);
  run_free(&r);
}

static void post_body_follows_head_in_the_same_write(void **state) {
  (void)state;
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  r.req.method = "POST";
  r.req.body = (const uint8_t *)"a=1";
  r.req.body_len = 3;
  assert_int_equal(run_all(&r, 64), 0);
  assert_string_equal(strbuf_cstr(&r.sock.written), "POST /a/b?x=1 HTTP/1.1\r\nHost: "
                                                    "example.com:8443\r\nContent-Length: "
                                                    "3\r\n\r\na=1");
  r.st->vt->close(r.st, false);
  run_free(&r);
}

/* ---- Streamed uploads ----------------------------------------------------------------- */

typedef struct fake_upload {
  http_upload_body base;
  const char *const *pieces; /* NULL-terminated */
  size_t next;
  bool async; /* every read pends until fu_complete() */
  http_io_cb cb;
  void *cb_ud;
  const uint8_t **data_out;
  bool cancelled;
} fake_upload;

static int fu_piece(fake_upload *u, const uint8_t **data) {
  const char *p = u->pieces[u->next];
  if (!p)
    return 0;
  u->next++;
  *data = (const uint8_t *)p;
  return (int)strlen(p);
}

static int fu_read(http_upload_body *b, const uint8_t **data, http_io_cb cb, void *ud) {
  fake_upload *u = (fake_upload *)b;
  if (!u->async)
    return fu_piece(u, data);
  u->cb = cb;
  u->cb_ud = ud;
  u->data_out = data;
  return CRONC_ERR_IO_PENDING;
}
static void fu_cancel(http_upload_body *b) {
  fake_upload *u = (fake_upload *)b;
  u->cb = NULL;
  u->cancelled = true;
}
static int fu_rewind(http_upload_body *b, http_io_cb cb, void *ud) {
  (void)cb;
  (void)ud;
  ((fake_upload *)b)->next = 0;
  return CRONC_OK;
}
static const http_upload_body_vtable fu_vt = {fu_read, fu_cancel, fu_rewind};

/* Completes the pending read with the next piece. */
static void fu_complete(fake_upload *u) {
  assert_non_null(u->cb);
  http_io_cb cb = u->cb;
  u->cb = NULL;
  cb(u->cb_ud, fu_piece(u, u->data_out));
}

typedef struct sent {
  int calls;
  int rv;
} sent;
static void on_sent(void *ud, int rv) {
  sent *s = ud;
  s->calls++;
  s->rv = rv;
}

static void chunked_upload_is_framed_as_chunks(void **state) {
  (void)state;
  static const char *const pieces[] = {"hello", " ", "world", NULL};
  fake_upload up = {{&fu_vt, -1}, pieces, 0, false, NULL, NULL, NULL, false};
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  r.req.method = "POST";
  r.req.upload = &up.base;
  assert_int_equal(run_all(&r, 64), 0);
  assert_string_equal(strbuf_cstr(&r.sock.written), "POST /a/b?x=1 HTTP/1.1\r\nHost: "
                                                    "example.com:8443\r\nTransfer-Encoding: "
                                                    "chunked\r\n\r\n5\r\nhello\r\n1\r\n "
                                                    "\r\n5\r\nworld\r\n0\r\n\r\n");
  r.st->vt->close(r.st, false);
  run_free(&r);
}

static void streamed_upload_waits_for_the_provider_and_uses_content_length(void **state) {
  (void)state;
  static const char *const pieces[] = {"ab", "cd", NULL};
  fake_upload up = {{&fu_vt, 4}, pieces, 0, true, NULL, NULL, NULL, false};
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  r.req.method = "PUT";
  r.req.upload = &up.base;
  sent sn = {0, 1};
  assert_int_equal(r.st->vt->send_request(r.st, &r.req, on_sent, &sn), CRONC_ERR_IO_PENDING);
  fu_complete(&up); /* "ab" */
  assert_int_equal(sn.calls, 0);
  fu_complete(&up); /* "cd" */
  assert_int_equal(sn.calls, 0);
  fu_complete(&up); /* end */
  assert_int_equal(sn.calls, 1);
  assert_int_equal(sn.rv, CRONC_OK);
  assert_string_equal(strbuf_cstr(&r.sock.written), "PUT /a/b?x=1 HTTP/1.1\r\nHost: "
                                                    "example.com:8443\r\nContent-Length: "
                                                    "4\r\n\r\nabcd");
  r.st->vt->close(r.st, true);
  run_free(&r);
}

static void upload_longer_than_its_length_fails(void **state) {
  (void)state;
  static const char *const pieces[] = {"abc", "def", NULL};
  fake_upload up = {{&fu_vt, 4}, pieces, 0, false, NULL, NULL, NULL, false};
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  r.req.method = "POST";
  r.req.upload = &up.base;
  assert_int_equal(run_all(&r, 64), CRONC_ERR_UPLOAD_FILE_CHANGED);
  r.st->vt->close(r.st, true);
  run_free(&r);
}

static void closing_with_a_pending_upload_read_cancels_it(void **state) {
  (void)state;
  static const char *const pieces[] = {"ab", NULL};
  fake_upload up = {{&fu_vt, -1}, pieces, 0, true, NULL, NULL, NULL, false};
  run r;
  run_init(&r, CL_RESPONSE, 0, false);
  r.req.method = "POST";
  r.req.upload = &up.base;
  sent sn = {0, 1};
  assert_int_equal(r.st->vt->send_request(r.st, &r.req, on_sent, &sn), CRONC_ERR_IO_PENDING);
  r.st->vt->close(r.st, true);
  assert_true(up.cancelled);
  assert_null(up.cb);
  assert_int_equal(sn.calls, 0);
  run_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(request_head_is_written_once),
      cmocka_unit_test(content_length_body_any_slicing_any_buffer),
      cmocka_unit_test(chunked_body_any_slicing_any_buffer),
      cmocka_unit_test(content_length_rest_is_promised_to_the_socket),
      cmocka_unit_test(interim_100_continue_is_skipped),
      cmocka_unit_test(no_content_has_no_body_and_stays_reusable),
      cmocka_unit_test(connection_close_is_not_reused),
      cmocka_unit_test(close_delimited_body_ends_at_eof),
      cmocka_unit_test(short_body_is_content_length_mismatch),
      cmocka_unit_test(cut_chunked_body_is_incomplete_chunked_encoding),
      cmocka_unit_test(empty_reply_on_reused_connection_is_connection_closed),
      cmocka_unit_test(malformed_status_line_is_invalid_http_response),
      cmocka_unit_test(bytes_after_the_response_prevent_reuse),
      cmocka_unit_test(unread_body_is_not_reused),
      cmocka_unit_test(post_body_follows_head_in_the_same_write),
      cmocka_unit_test(chunked_upload_is_framed_as_chunks),
      cmocka_unit_test(streamed_upload_waits_for_the_provider_and_uses_content_length),
      cmocka_unit_test(upload_longer_than_its_length_fails),
      cmocka_unit_test(closing_with_a_pending_upload_read_cancels_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
