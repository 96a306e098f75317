/* Tests for HTTP/2 ALTSVC frame reception (RFC 7838 section 4) in
 * http/h2_connection and http/h2_session, against tests/support/h2_origin
 * over real TLS on loopback: which frames reach the owner's callback with
 * which origin (Chromium's SpdySession::OnAltSvc rules), which are ignored
 * with a NetLog reason, and that the connection keeps serving requests
 * after ignored or malformed frames. Also, on the same harness: requests
 * started in one task are written after it, together. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/netlog.h"
#include "base/thread.h"
#include "http/h2_connection.h"
#include "http/http_stream.h"
#include "socket/stream_socket.h"
#include "socket/tcp_connect.h"
#include "socket/tls_context.h"
#include "socket/tls_socket.h"
#include "support/h2_origin.h"
#include "support/net_test_util.h"
#include "url/url.h"

#define MAX_SEEN 8

typedef struct seen_altsvc {
  url_origin origin;
  bool on_stream_zero;
  char value[256];
  size_t len;
} seen_altsvc;

typedef struct seen_event {
  netlog_event_type type;
  char params[512];
} seen_event;

typedef struct fixture {
  uv_loop_t loop;
  base_runner *runner;
  netlog *nl;
  netlog_observer *obs;
  h2_origin *origin;
  tls_context *ctx;
  h2_conn *conn;
  bool unusable;
  /* callback records */
  seen_altsvc seen[MAX_SEEN];
  size_t n_seen;
  bool release_in_callback;
  /* NetLog records (ALTSVC events only) */
  seen_event events[MAX_SEEN];
  size_t n_events;
} fixture;

typedef struct io_result {
  bool done;
  int result;
  stream_socket *sock;
} io_result;

static void on_io(int result, void *ud) {
  io_result *r = ud;
  r->done = true;
  r->result = result;
}

static void on_http_io(void *ud, int result) { on_io(result, ud); }

static void on_connect(int result, stream_socket *sock, void *ud) {
  io_result *r = ud;
  r->done = true;
  r->result = result;
  r->sock = sock;
}

static void on_netlog(const netlog_entry *e, void *ud) {
  fixture *f = ud;
  if (e->type != NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC &&
      e->type != NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED)
    return;
  if (f->n_events == MAX_SEEN)
    return;
  seen_event *s = &f->events[f->n_events++];
  s->type = e->type;
  snprintf(s->params, sizeof s->params, "%s", e->params ? e->params : "");
}

static void on_unusable(void *ud, h2_conn *c) {
  fixture *f = ud;
  f->unusable = true;
  if (f->conn == c) {
    h2_conn_release(c);
    f->conn = NULL;
  }
}

static void on_altsvc(void *ud, h2_conn *c, const url_origin *origin, bool on_stream_zero,
                      const char *value, size_t len) {
  fixture *f = ud;
  assert_ptr_equal(c, f->conn);
  assert_int_equal(value[len], '\0');
  if (f->n_seen < MAX_SEEN) {
    seen_altsvc *s = &f->seen[f->n_seen++];
    s->origin = *origin;
    s->on_stream_zero = on_stream_zero;
    s->len = len < sizeof s->value - 1 ? len : sizeof s->value - 1;
    memcpy(s->value, value, s->len);
    s->value[s->len] = '\0';
  }
  if (f->release_in_callback) {
    h2_conn_release(c); /* allowed: c stays valid until we return */
    f->conn = NULL;
  }
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(base_runner_new_on_loop(&f->loop, &f->runner), 0);
  f->nl = netlog_new(NULL);
  assert_non_null(f->nl);
  f->obs = netlog_add_observer(f->nl, on_netlog, f);
  assert_non_null(f->obs);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  if (f->conn)
    h2_conn_release(f->conn);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(base_runner_free(f->runner), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  tls_context_free(f->ctx);
  h2_origin_stop(f->origin);
  netlog_free(f->nl);
  free(f);
  return 0;
}

/* Starts the origin sending the given ALTSVC frames, answering their paths
 * with body_len bytes (other paths: 16), and connects an h2_conn to it (the
 * callback registered unless with_callback is false). */
static void start(fixture *f, const h2_origin_altsvc *altsvc, size_t n, size_t body_len,
                  bool with_callback) {
  h2_origin_rule rules[4];
  assert_true(n <= 4);
  for (size_t i = 0; i < n; i++)
    rules[i] = (h2_origin_rule){altsvc[i].path, H2_ORIGIN_RESPOND, body_len, 0, 0};
  h2_origin_options o;
  h2_origin_options_init(&o);
  o.rules = rules;
  o.n_rules = n;
  o.altsvc = altsvc;
  o.n_altsvc = n;
  f->origin = h2_origin_start(&o);
  assert_non_null(f->origin);
  tls_context_params tp;
  tls_context_params_init(&tp);
  tp.use_system_trust = false;
  tp.extra_ca_file = h2_origin_ca_file(f->origin);
  assert_int_equal(tls_context_new(&tp, &f->ctx), 0);

  struct sockaddr_storage a;
  uint16_t port = h2_origin_port(f->origin);
  test_sockaddr(&a, "127.0.0.1", port);
  io_result c = {0};
  tcp_connect_job *job;
  assert_int_equal(tcp_connect_start(f->runner, &a, 1, 0, NULL, on_connect, &c, &job), 0);
  assert_true(test_loop_run_until(&f->loop, &c.done, 5000));
  tcp_connect_job_free(job);
  assert_int_equal(c.result, 0);
  static const char *const alpn[] = {"h2"};
  tls_socket_params p = {.host = "localhost", .port = port, .alpn = alpn, .alpn_count = 1};
  stream_socket *s;
  assert_int_equal(tls_socket_new(f->ctx, c.sock, &p, &s), 0);
  io_result h = {0};
  int rc = tls_socket_connect(s, on_io, &h);
  if (rc == CRONC_ERR_IO_PENDING) {
    assert_true(test_loop_run_until(&f->loop, &h.done, 10000));
    rc = h.result;
  }
  assert_int_equal(rc, 0);
  f->conn = h2_conn_new(f->runner, s, f->nl, on_unusable, f);
  assert_non_null(f->conn);
  if (with_callback)
    h2_conn_set_altsvc_callback(f->conn, on_altsvc, f);
}

static int wait_io(fixture *f, int rc, io_result *r) {
  if (rc != CRONC_ERR_IO_PENDING)
    return rc;
  assert_true(test_loop_run_until(&f->loop, &r->done, 10000));
  return r->result;
}

/* One request on the connection (scheme "https" or "http"), read to the
 * end. Returns the body length read; asserts a 200. */
static size_t fetch_on(fixture *f, h2_conn *c, const char *scheme, const char *path) {
  char spec[256];
  snprintf(spec, sizeof spec, "%s://localhost:%u%s", scheme, h2_origin_port(f->origin), path);
  url u;
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  http_stream *hs = h2_conn_new_stream(c);
  assert_non_null(hs);
  http_request_info req = {.url = &u, .method = "GET", .allow_http2 = true};
  io_result r = {0};
  assert_int_equal(wait_io(f, hs->vt->send_request(hs, &req, on_http_io, &r), &r), 0);
  memset(&r, 0, sizeof r);
  assert_int_equal(wait_io(f, hs->vt->read_response_headers(hs, on_http_io, &r), &r), 0);
  assert_int_equal(hs->vt->response_headers(hs)->status, 200);
  size_t total = 0;
  uint8_t buf[4096];
  for (;;) {
    memset(&r, 0, sizeof r);
    int n = wait_io(f, hs->vt->read_body(hs, buf, sizeof buf, on_http_io, &r), &r);
    assert_true(n >= 0);
    if (n == 0)
      break;
    total += (size_t)n;
  }
  hs->vt->close(hs, false);
  url_free(&u);
  return total;
}

static size_t fetch(fixture *f, const char *path) { return fetch_on(f, f->conn, "https", path); }

static size_t count_events(const fixture *f, netlog_event_type t) {
  size_t n = 0;
  for (size_t i = 0; i < f->n_events; i++)
    n += f->events[i].type == t;
  return n;
}

static const seen_event *first_event(const fixture *f, netlog_event_type t) {
  for (size_t i = 0; i < f->n_events; i++)
    if (f->events[i].type == t)
      return &f->events[i];
  return NULL;
}

/* The frame was ignored for `reason`, nothing reached the callback, and the
 * same connection still serves a request. */
static void assert_ignored_and_still_serving(fixture *f, const char *reason) {
  assert_int_equal(f->n_seen, 0);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC), 1);
  const seen_event *e = first_event(f, NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED);
  assert_non_null(e);
  char want[128];
  snprintf(want, sizeof want, "\"reason\":\"%s\"", reason);
  if (!strstr(e->params, want))
    fail_msg("ignored event %s lacks %s", e->params, want);
  assert_non_null(f->conn);
  assert_true(h2_conn_is_usable(f->conn));
  assert_int_equal(fetch(f, "/after"), 16);
  assert_int_equal(h2_origin_connections(f->origin), 1);
  assert_int_equal(h2_origin_requests_on(f->origin, 0), 2);
  assert_false(f->unusable);
}

/* ---- accepted frames ---------------------------------------------------------- */

static void test_stream_zero_frame_with_https_origin_reaches_callback(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a",
                        .value = "h3=\":443\"; ma=60",
                        .origin = "https://www.example.org",
                        .stream_zero = true};
  start(f, &r, 1, 100, true);
  assert_int_equal(fetch(f, "/a"), 100);
  assert_int_equal(f->n_seen, 1);
  assert_true(f->seen[0].on_stream_zero);
  assert_int_equal(f->seen[0].origin.scheme, URL_SCHEME_HTTPS);
  assert_string_equal(f->seen[0].origin.host, "www.example.org");
  assert_int_equal(f->seen[0].origin.port, 443);
  assert_string_equal(f->seen[0].value, "h3=\":443\"; ma=60");
  assert_int_equal(f->seen[0].len, strlen("h3=\":443\"; ma=60"));
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC), 1);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED), 0);
  const seen_event *e = first_event(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC);
  assert_non_null(strstr(e->params, "\"stream_id\":0"));
  assert_non_null(strstr(e->params, "\"origin\":\"https://www.example.org\""));
  assert_non_null(strstr(e->params, "\"alt_svc\":\"h3=\\\":443\\\"; ma=60\""));
}

static void test_stream_zero_origin_is_canonicalised_with_its_port(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a",
                        .value = "h2=\"alt.example:8443\"",
                        .origin = "https://WWW.Example.ORG:8443",
                        .stream_zero = true};
  start(f, &r, 1, 1, true);
  fetch(f, "/a");
  assert_int_equal(f->n_seen, 1);
  assert_string_equal(f->seen[0].origin.host, "www.example.org");
  assert_int_equal(f->seen[0].origin.port, 8443);
}

static void test_stream_frame_with_empty_origin_uses_request_origin(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/s", .value = "h3=\":4433\"; ma=3600"};
  start(f, &r, 1, 10, true);
  assert_int_equal(fetch(f, "/s"), 10);
  assert_int_equal(f->n_seen, 1);
  assert_false(f->seen[0].on_stream_zero);
  assert_int_equal(f->seen[0].origin.scheme, URL_SCHEME_HTTPS);
  assert_string_equal(f->seen[0].origin.host, "localhost");
  assert_int_equal(f->seen[0].origin.port, h2_origin_port(f->origin));
  assert_string_equal(f->seen[0].value, "h3=\":4433\"; ma=3600");
  const seen_event *e = first_event(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC);
  assert_non_null(e);
  assert_non_null(strstr(e->params, "\"stream_id\":1"));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED), 0);
}

static void test_frames_on_successive_requests_arrive_in_order(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r[2] = {
      {.path = "/1", .value = "h3=\":1\""},
      {.path = "/2", .value = "clear", .origin = "https://localhost", .stream_zero = true},
  };
  start(f, r, 2, 1, true);
  fetch(f, "/1");
  fetch(f, "/2");
  assert_int_equal(f->n_seen, 2);
  assert_string_equal(f->seen[0].value, "h3=\":1\"");
  assert_false(f->seen[0].on_stream_zero);
  assert_string_equal(f->seen[1].value, "clear");
  assert_true(f->seen[1].on_stream_zero);
  assert_int_equal(f->seen[1].origin.port, 443);
}

/* ---- ignored frames ------------------------------------------------------------ */

static void test_stream_zero_frame_without_origin_is_ignored(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a", .value = "h3=\":443\"", .stream_zero = true};
  start(f, &r, 1, 0, true);
  assert_int_equal(fetch(f, "/a"), 0);
  assert_ignored_and_still_serving(f, "stream 0 frame without origin");
}

static void test_stream_frame_with_origin_is_ignored(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a", .value = "h3=\":443\"", .origin = "https://localhost"};
  start(f, &r, 1, 5, true);
  assert_int_equal(fetch(f, "/a"), 5);
  assert_ignored_and_still_serving(f, "stream frame with an origin");
}

static void test_stream_zero_http_origin_is_ignored(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a",
                        .value = "h3=\":443\"",
                        .origin = "http://www.example.org",
                        .stream_zero = true};
  start(f, &r, 1, 5, true);
  fetch(f, "/a");
  assert_ignored_and_still_serving(f, "origin not https");
}

static void test_stream_zero_invalid_origin_is_ignored(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {
      .path = "/a", .value = "h3=\":443\"", .origin = "https://", .stream_zero = true};
  start(f, &r, 1, 5, true);
  fetch(f, "/a");
  assert_ignored_and_still_serving(f, "invalid origin");
}

/* Chromium parses the field as a GURL and keeps its SchemeHostPort. */
static void test_stream_zero_origin_with_path_keeps_scheme_host_port(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a",
                        .value = "h3=\":443\"",
                        .origin = "https://www.example.org:444/index.html?q",
                        .stream_zero = true};
  start(f, &r, 1, 5, true);
  fetch(f, "/a");
  assert_int_equal(f->n_seen, 1);
  assert_string_equal(f->seen[0].origin.host, "www.example.org");
  assert_int_equal(f->seen[0].origin.port, 444);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED), 0);
}

static void test_stream_frame_for_http_request_is_ignored(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/plain", .value = "h3=\":443\""};
  start(f, &r, 1, 3, true);
  assert_int_equal(fetch_on(f, f->conn, "http", "/plain"), 3);
  assert_ignored_and_still_serving(f, "request not https");
}

static void test_frame_with_empty_value_is_ignored(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {
      .path = "/a", .value = "", .origin = "https://localhost", .stream_zero = true};
  start(f, &r, 1, 5, true);
  fetch(f, "/a");
  assert_ignored_and_still_serving(f, "empty value");
}

/* A frame whose origin length runs past its payload is a framing error (a
 * FRAME_SIZE_ERROR in nghttp2 as in Chromium's quiche decoder), which fails
 * the connection like any malformed frame; the callback is not called. */
static void test_malformed_frame_is_a_framing_error(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a",
                        .value = "h3=\":443\"",
                        .origin = "https://localhost",
                        .stream_zero = true,
                        .malformed = true};
  start(f, &r, 1, 7, true);
  char spec[64];
  snprintf(spec, sizeof spec, "https://localhost:%u/a", h2_origin_port(f->origin));
  url u;
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  http_stream *hs = h2_conn_new_stream(f->conn);
  assert_non_null(hs);
  http_request_info req = {.url = &u, .method = "GET", .allow_http2 = true};
  io_result io = {0};
  assert_int_equal(wait_io(f, hs->vt->send_request(hs, &req, on_http_io, &io), &io), 0);
  memset(&io, 0, sizeof io);
  assert_int_equal(wait_io(f, hs->vt->read_response_headers(hs, on_http_io, &io), &io),
                   CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  hs->vt->close(hs, true);
  url_free(&u);
  assert_int_equal(f->n_seen, 0);
  assert_true(f->unusable);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC), 0);
}

/* ---- the callback's contract ----------------------------------------------------- */

static void test_valid_frame_without_callback_is_only_logged(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a", .value = "h3=\":443\""};
  start(f, &r, 1, 4, false);
  assert_int_equal(fetch(f, "/a"), 4);
  assert_int_equal(f->n_seen, 0);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC), 1);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP2_ALTSVC_IGNORED), 0);
}

static void test_callback_may_release_the_connection(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {
      .path = "/a", .value = "h3=\":443\"", .origin = "https://localhost", .stream_zero = true};
  start(f, &r, 1, 20000, true);
  f->release_in_callback = true;
  h2_conn *c = f->conn;
  /* The stream keeps the connection alive after the pool let go. */
  assert_int_equal(fetch_on(f, c, "https", "/a"), 20000);
  assert_int_equal(f->n_seen, 1);
  assert_null(f->conn);
  /* Freed with its last stream: the origin sees the socket close. */
  uint64_t until = test_now_ms() + 5000;
  while (h2_origin_connections_closed(f->origin) < 1 && test_now_ms() < until)
    test_loop_run_for(&f->loop, 10);
  assert_int_equal(h2_origin_connections_closed(f->origin), 1);
}

static void test_release_clears_the_callback(void **state) {
  fixture *f = *state;
  h2_origin_altsvc r = {.path = "/a", .value = "h3=\":443\""};
  start(f, &r, 1, 4, true);
  h2_conn *c = f->conn;
  http_stream *hs = h2_conn_new_stream(c);
  assert_non_null(hs);
  h2_conn_release(c); /* the stream holds the connection now */
  f->conn = NULL;
  char spec[64];
  snprintf(spec, sizeof spec, "https://localhost:%u/a", h2_origin_port(f->origin));
  url u;
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  http_request_info req = {.url = &u, .method = "GET", .allow_http2 = true};
  io_result io = {0};
  assert_int_equal(wait_io(f, hs->vt->send_request(hs, &req, on_http_io, &io), &io), 0);
  memset(&io, 0, sizeof io);
  assert_int_equal(wait_io(f, hs->vt->read_response_headers(hs, on_http_io, &io), &io), 0);
  uint8_t buf[64];
  memset(&io, 0, sizeof io);
  int n = wait_io(f, hs->vt->read_body(hs, buf, sizeof buf, on_http_io, &io), &io);
  assert_true(n >= 0);
  hs->vt->close(hs, false);
  url_free(&u);
  assert_int_equal(f->n_seen, 0);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP2_SESSION_RECV_ALTSVC), 1);
}

/* ---- writes ------------------------------------------------------------------- */

/* Chromium's SpdySession::MaybePostWriteLoop: a request's frames go out once
 * the running task is over, so requests started together leave together
 * instead of one write each. */
static void test_requests_started_together_are_written_after_the_task(void **state) {
  fixture *f = *state;
  start(f, NULL, 0, 0, false);
  test_loop_run_for(&f->loop, 50); /* preface and SETTINGS exchanged */
  enum { N = 10 };
  char spec[128];
  snprintf(spec, sizeof spec, "https://localhost:%u/w", h2_origin_port(f->origin));
  url u;
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  http_request_info req = {.url = &u, .method = "GET", .allow_http2 = true};
  http_stream *hs[N];
  io_result r = {0};
  for (int i = 0; i < N; i++) {
    hs[i] = h2_conn_new_stream(f->conn);
    assert_non_null(hs[i]);
    assert_int_equal(hs[i]->vt->send_request(hs[i], &req, on_http_io, &r), CRONC_OK);
  }
  int64_t sent, received;
  for (int i = 0; i < N; i++) {
    hs[i]->vt->byte_counts(hs[i], &sent, &received);
    assert_int_equal(sent, 0); /* nothing written inside the task */
  }
  uv_run(&f->loop, UV_RUN_NOWAIT); /* the task queue's next turn */
  for (int i = 0; i < N; i++) {
    hs[i]->vt->byte_counts(hs[i], &sent, &received);
    assert_true(sent > 0);
  }
  for (int i = 0; i < N; i++) {
    memset(&r, 0, sizeof r);
    assert_int_equal(wait_io(f, hs[i]->vt->read_response_headers(hs[i], on_http_io, &r), &r), 0);
    assert_int_equal(hs[i]->vt->response_headers(hs[i])->status, 200);
    hs[i]->vt->close(hs[i], false);
  }
  url_free(&u);
  assert_int_equal(h2_origin_connections(f->origin), 1);
  assert_int_equal(h2_origin_requests_on(f->origin, 0), N);
}

int main(void) {
  /* The loop runs on this thread: a write to a socket the peer closed
   * must fail with EPIPE, not kill the test (cronc's own network thread
   * blocks SIGPIPE; an application running the loop must do the same). */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stream_zero_frame_with_https_origin_reaches_callback,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_zero_origin_is_canonicalised_with_its_port, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream_frame_with_empty_origin_uses_request_origin,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_frames_on_successive_requests_arrive_in_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream_zero_frame_without_origin_is_ignored, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream_frame_with_origin_is_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_zero_http_origin_is_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_zero_invalid_origin_is_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_zero_origin_with_path_keeps_scheme_host_port,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream_frame_for_http_request_is_ignored, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_frame_with_empty_value_is_ignored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_frame_is_a_framing_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_valid_frame_without_callback_is_only_logged, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_callback_may_release_the_connection, setup, teardown),
      cmocka_unit_test_setup_teardown(test_release_clears_the_callback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_requests_started_together_are_written_after_the_task,
                                      setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
