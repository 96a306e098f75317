/* The network transaction's state machine, driven by a scripted stream
 * factory and scripted streams (no sockets): the happy path and its NetLog
 * states, a deferred start, failures at each step, retries of requests that
 * died on a reused connection before any response byte, the retry limit, and
 * connection reuse decided by reading the body to its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cronc/cronc.h"
#include "http/network_transaction.h"
#include "http/server_properties.h"

/* ---- A scripted stream ---------------------------------------------------- */

typedef struct fake_stream {
  http_stream base;
  bool reused;
  bool got_bytes;
  int send_rv;     /* result delivered for send_request */
  int headers_rv;  /* result delivered for read_response_headers */
  int body_chunks; /* body reads returning 4 bytes before 0 */
  h1_headers headers;
  /* the pending operation, fired by the test */
  http_io_cb cb;
  void *ud;
  int pending_rv;
  bool closed;
  bool closed_not_reusable;
  uint64_t quic_error;
} fake_stream;

static int fs_pend(fake_stream *s, http_io_cb cb, void *ud, int rv) {
  s->cb = cb;
  s->ud = ud;
  s->pending_rv = rv;
  return CRONC_ERR_IO_PENDING;
}

static int fs_send(http_stream *hs, const http_request_info *req, http_io_cb cb, void *ud) {
  (void)req;
  fake_stream *s = (fake_stream *)hs;
  return fs_pend(s, cb, ud, s->send_rv);
}

static int fs_read_headers(http_stream *hs, http_io_cb cb, void *ud) {
  fake_stream *s = (fake_stream *)hs;
  return fs_pend(s, cb, ud, s->headers_rv);
}

static const h1_headers *fs_headers(http_stream *hs) { return &((fake_stream *)hs)->headers; }

static int fs_read_body(http_stream *hs, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  fake_stream *s = (fake_stream *)hs;
  if (s->body_chunks == 0)
    return 0; /* synchronous end of body */
  s->body_chunks--;
  memset(buf, 'x', len < 4 ? len : 4);
  return fs_pend(s, cb, ud, len < 4 ? (int)len : 4);
}

static void fs_close(http_stream *hs, bool not_reusable) {
  fake_stream *s = (fake_stream *)hs;
  s->closed = true;
  s->closed_not_reusable = not_reusable;
}

static bool fs_reused(http_stream *hs) { return ((fake_stream *)hs)->reused; }
static bool fs_bytes(http_stream *hs) { return ((fake_stream *)hs)->got_bytes; }
static const char *fs_protocol(http_stream *hs) {
  (void)hs;
  return "http/1.1";
}

static void fs_timing(http_stream *hs, http_load_timing *out) {
  *out = (http_load_timing){
      .connect_start = 10, .connect_end = 20, .socket_reused = ((fake_stream *)hs)->reused};
}

static uint64_t fs_quic_error(http_stream *hs) { return ((fake_stream *)hs)->quic_error; }

static void fs_byte_counts(http_stream *hs, int64_t *sent, int64_t *received) {
  (void)hs;
  *sent = 100; /* every scripted exchange: 100 out, 200 in */
  *received = 200;
}

static const http_stream_vtable fake_stream_vt = {
    fs_send,  fs_read_headers, fs_headers, fs_read_body, fs_close,      fs_reused,
    fs_bytes, fs_protocol,     fs_timing,  NULL,         fs_quic_error, fs_byte_counts};

/* ---- A scripted factory --------------------------------------------------- */

#define MAX_STREAMS 4
typedef struct fake_factory {
  http_stream_factory base;
  fake_stream streams[MAX_STREAMS]; /* handed out in order */
  int create_rv[MAX_STREAMS];       /* per request: OK or an error */
  int requests;
  http_stream_request_report reports[MAX_STREAMS]; /* what each request reports */
  bool alt_enabled[MAX_STREAMS];                   /* enable_alternative_services of each request */
  http_stream_ready_cb cb;
  void *ud;
  bool cancelled;
} fake_factory;

static int ff_request(http_stream_factory *hf, const http_request_info *req,
                      http_stream_request_report *report, http_stream_ready_cb cb, void *ud,
                      http_stream_request **out) {
  fake_factory *f = (fake_factory *)hf;
  assert_true(f->requests < MAX_STREAMS);
  if (report)
    *report = f->reports[f->requests];
  f->alt_enabled[f->requests] = req->enable_alternative_services;
  f->requests++;
  f->cb = cb;
  f->ud = ud;
  *out = (http_stream_request *)f;
  return CRONC_ERR_IO_PENDING;
}

static void ff_cancel(http_stream_factory *hf, http_stream_request *r) {
  (void)r;
  fake_factory *f = (fake_factory *)hf;
  f->cancelled = true;
  f->cb = NULL;
}

static const http_stream_factory_vtable fake_factory_vt = {ff_request, ff_cancel};

/* ---- Fixture --------------------------------------------------------------- */

typedef struct fx {
  fake_factory f;
  netlog *nl;
  netlog_observer *obs;
  strbuf states; /* "STATE,STATE,..." from the NetLog */
  int restarts;
  url u;
  http_request_info req;
  network_transaction *t;
  int done_rv;
  int done_calls;
  bool defer;
} fx;

static void observe(const netlog_entry *e, void *ud) {
  fx *x = ud;
  if (e->type == NETLOG_TYPE_CRONC_HTTP_TRANSACTION_STATE) {
    const char *p = strstr(e->params, "\"state\":\"") + 9;
    strbuf_append(&x->states, p, (size_t)(strchr(p, '"') - p));
    strbuf_append_char(&x->states, ',');
  } else if (e->type == NETLOG_TYPE_HTTP_TRANSACTION_RESTART_AFTER_ERROR) {
    x->restarts++;
  }
}

static bool defer_cb(void *ud) { return ((fx *)ud)->defer; }

static int setup(void **state) {
  fx *x = calloc(1, sizeof *x);
  x->f.base.vt = &fake_factory_vt;
  for (int i = 0; i < MAX_STREAMS; i++) {
    x->f.streams[i].base.vt = &fake_stream_vt;
    h1_headers_init(&x->f.streams[i].headers);
    x->f.streams[i].headers.status = 200;
  }
  x->nl = netlog_new(NULL);
  x->obs = netlog_add_observer(x->nl, observe, x);
  strbuf_init(&x->states);
  const char *s = "https://example.com/";
  assert_int_equal(url_parse(s, strlen(s), &x->u), CRONC_OK);
  x->req.url = &x->u;
  x->req.method = "GET";
  x->req.source = netlog_source_new(x->nl, NETLOG_SOURCE_URL_REQUEST);
  ntx_delegate d = {defer_cb, x};
  x->t = ntx_new(&x->f.base, x->nl, &d);
  *state = x;
  return x->t ? 0 : -1;
}

static int teardown(void **state) {
  fx *x = *state;
  ntx_free(x->t);
  for (int i = 0; i < MAX_STREAMS; i++)
    h1_headers_free(&x->f.streams[i].headers);
  url_free(&x->u);
  strbuf_free(&x->states);
  netlog_free(x->nl);
  free(x);
  return 0;
}

static void on_done(void *ud, int rv) {
  fx *x = ud;
  x->done_rv = rv;
  x->done_calls++;
}

/* Hands the next scripted stream (or error) to the transaction. */
static void fire_factory(fx *x) {
  int i = x->f.requests - 1;
  http_stream_ready_cb cb = x->f.cb;
  assert_non_null(cb);
  x->f.cb = NULL;
  int rv = x->f.create_rv[i];
  cb(x->f.ud, rv, rv == CRONC_OK ? &x->f.streams[i].base : NULL);
}

/* Completes the pending operation of stream i. */
static void fire_stream(fx *x, int i) {
  fake_stream *s = &x->f.streams[i];
  http_io_cb cb = s->cb;
  assert_non_null(cb);
  s->cb = NULL;
  cb(s->ud, s->pending_rv);
}

static void happy_path_runs_chromium_states_in_order(void **state) {
  fx *x = *state;
  assert_int_equal(ntx_start(x->t, &x->req, on_done, x), CRONC_ERR_IO_PENDING);
  fire_factory(x);   /* stream ready -> send */
  fire_stream(x, 0); /* sent -> read headers */
  assert_int_equal(x->done_calls, 0);
  fire_stream(x, 0); /* headers */
  assert_int_equal(x->done_calls, 1);
  assert_int_equal(x->done_rv, CRONC_OK);
  assert_int_equal(ntx_response_headers(x->t)->status, 200);
  assert_string_equal(ntx_protocol(x->t), "http/1.1");
  ntx_timing tm;
  ntx_get_timing(x->t, &tm);
  assert_int_equal(tm.connect.connect_start, 10); /* the stream's connection timing */
  assert_true(tm.send_start > 0 && tm.send_end >= tm.send_start);
  assert_true(tm.receive_headers_end >= tm.send_end);
  assert_string_equal(strbuf_cstr(&x->states),
                      "NOTIFY_BEFORE_CREATE_STREAM,CREATE_STREAM,CREATE_STREAM_COMPLETE,"
                      "INIT_STREAM,INIT_STREAM_COMPLETE,GENERATE_PROXY_AUTH_TOKEN,"
                      "GENERATE_PROXY_AUTH_TOKEN_COMPLETE,GENERATE_SERVER_AUTH_TOKEN,"
                      "GENERATE_SERVER_AUTH_TOKEN_COMPLETE,INIT_REQUEST_BODY,"
                      "INIT_REQUEST_BODY_COMPLETE,BUILD_REQUEST,BUILD_REQUEST_COMPLETE,"
                      "SEND_REQUEST,SEND_REQUEST_COMPLETE,READ_HEADERS,READ_HEADERS_COMPLETE,");
}

static void body_read_to_end_returns_connection_for_reuse(void **state) {
  fx *x = *state;
  x->f.streams[0].body_chunks = 2;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  uint8_t buf[16];
  assert_int_equal(ntx_read(x->t, buf, sizeof buf, on_done, x), CRONC_ERR_IO_PENDING);
  fire_stream(x, 0);
  assert_int_equal(x->done_rv, 4);
  assert_int_equal(ntx_read(x->t, buf, sizeof buf, on_done, x), CRONC_ERR_IO_PENDING);
  fire_stream(x, 0);
  assert_false(x->f.streams[0].closed);
  assert_int_equal(ntx_read(x->t, buf, sizeof buf, on_done, x), 0); /* sync end */
  assert_true(x->f.streams[0].closed);
  assert_false(x->f.streams[0].closed_not_reusable);
  assert_int_equal(ntx_read(x->t, buf, sizeof buf, on_done, x), 0); /* stays at the end */
}

static void free_mid_body_closes_stream_not_reusable(void **state) {
  fx *x = *state;
  x->f.streams[0].body_chunks = 5;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  uint8_t buf[16];
  ntx_read(x->t, buf, sizeof buf, on_done, x);
  int calls = x->done_calls;
  ntx_free(x->t);
  x->t = NULL;
  assert_true(x->f.streams[0].closed);
  assert_true(x->f.streams[0].closed_not_reusable);
  assert_int_equal(x->done_calls, calls);
}

static void deferred_start_waits_for_resume(void **state) {
  fx *x = *state;
  x->defer = true;
  assert_int_equal(ntx_start(x->t, &x->req, on_done, x), CRONC_ERR_IO_PENDING);
  assert_int_equal(x->f.requests, 0);
  ntx_resume_network_start(x->t);
  assert_int_equal(x->f.requests, 1);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  assert_int_equal(x->done_rv, CRONC_OK);
}

static void stream_creation_failure_is_reported(void **state) {
  fx *x = *state;
  x->f.create_rv[0] = CRONC_ERR_NAME_NOT_RESOLVED;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  assert_int_equal(x->done_calls, 1);
  assert_int_equal(x->done_rv, CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(x->f.requests, 1);
}

static void reused_connection_closed_before_response_is_retried(void **state) {
  fx *x = *state;
  x->f.streams[0].reused = true;
  x->f.streams[0].headers_rv = CRONC_ERR_CONNECTION_RESET;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0); /* reset: retried */
  assert_int_equal(x->done_calls, 0);
  assert_true(x->f.streams[0].closed_not_reusable);
  assert_int_equal(x->f.requests, 2);
  assert_int_equal(x->restarts, 1);
  fire_factory(x);
  fire_stream(x, 1);
  fire_stream(x, 1);
  assert_int_equal(x->done_rv, CRONC_OK);
}

static void fresh_connection_failure_is_not_retried(void **state) {
  fx *x = *state;
  x->f.streams[0].headers_rv = CRONC_ERR_CONNECTION_RESET;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  assert_int_equal(x->done_rv, CRONC_ERR_CONNECTION_RESET);
  assert_int_equal(x->f.requests, 1);
}

static void failure_after_response_bytes_is_not_retried(void **state) {
  fx *x = *state;
  x->f.streams[0].reused = true;
  x->f.streams[0].got_bytes = true;
  x->f.streams[0].headers_rv = CRONC_ERR_CONNECTION_CLOSED;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  assert_int_equal(x->done_rv, CRONC_ERR_CONNECTION_CLOSED);
}

static void retries_stop_at_the_limit(void **state) {
  fx *x = *state;
  for (int i = 0; i < MAX_STREAMS; i++) {
    x->f.streams[i].reused = true;
    x->f.streams[i].send_rv = CRONC_ERR_CONNECTION_ABORTED;
  }
  ntx_start(x->t, &x->req, on_done, x);
  for (int i = 0; i <= NTX_MAX_RETRY_ATTEMPTS; i++) {
    fire_factory(x);
    fire_stream(x, i);
  }
  assert_int_equal(x->done_calls, 1);
  assert_int_equal(x->done_rv, CRONC_ERR_CONNECTION_ABORTED);
  assert_int_equal(x->f.requests, NTX_MAX_RETRY_ATTEMPTS + 1);
  assert_int_equal(x->restarts, NTX_MAX_RETRY_ATTEMPTS);
}

static void refused_stream_is_retried_even_on_new_connection(void **state) {
  fx *x = *state;
  x->f.streams[0].headers_rv = CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  assert_int_equal(x->f.requests, 2);
  fire_factory(x);
  fire_stream(x, 1);
  fire_stream(x, 1);
  assert_int_equal(x->done_rv, CRONC_OK);
}

static void free_while_waiting_for_stream_cancels_request(void **state) {
  fx *x = *state;
  ntx_start(x->t, &x->req, on_done, x);
  ntx_free(x->t);
  x->t = NULL;
  assert_true(x->f.cancelled);
  assert_int_equal(x->done_calls, 0);
}

static void bad_arguments_are_refused(void **state) {
  fx *x = *state;
  uint8_t buf[4];
  assert_int_equal(ntx_read(x->t, buf, sizeof buf, on_done, x), CRONC_ERR_INVALID_ARGUMENT);
  http_request_info bad = x->req;
  bad.method = NULL;
  assert_int_equal(ntx_start(x->t, &bad, on_done, x), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(ntx_start(x->t, &x->req, on_done, x), CRONC_ERR_IO_PENDING);
  assert_int_equal(ntx_start(x->t, &x->req, on_done, x), CRONC_ERR_INVALID_ARGUMENT);
}

/* ---- Retries without alternative services --------------------------------- */

static const altsvc_service kQuicAlt = {ALTSVC_PROTO_QUIC, 443, "alt.example"};

static props *use_alt_svc(fx *x, bool retry_on_quic_errors) {
  props *p = props_new(NULL);
  assert_non_null(p);
  ntx_alt_svc_params ap = {p, true, true, retry_on_quic_errors};
  ntx_set_alt_svc(x->t, &ap);
  x->req.enable_alternative_services = true;
  x->f.reports[0].winner = HTTP_JOB_WINNER_ALTERNATIVE;
  x->f.reports[0].alt = kQuicAlt;
  return p;
}

static void
quic_protocol_error_on_alternative_retries_without_it_and_marks_it_broken(void **state) {
  fx *x = *state;
  props *p = use_alt_svc(x, true);
  x->f.streams[0].headers_rv = CRONC_ERR_QUIC_PROTOCOL_ERROR;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0); /* sent */
  fire_stream(x, 0); /* QUIC protocol error before the head */
  assert_int_equal(x->f.requests, 2);
  assert_true(x->f.alt_enabled[0]);
  assert_false(x->f.alt_enabled[1]); /* the retry goes without alternatives */
  assert_false(props_is_alternative_service_broken(p, &kQuicAlt));
  fire_factory(x);
  fire_stream(x, 1);
  fire_stream(x, 1);
  assert_int_equal(x->done_calls, 1);
  assert_int_equal(x->done_rv, CRONC_OK);
  /* The retry worked: the alternative is what failed. */
  assert_true(props_is_alternative_service_broken(p, &kQuicAlt));
  ntx_free(x->t);
  x->t = NULL;
  props_free(p);
}

static void quic_protocol_error_without_the_switch_fails_the_request(void **state) {
  fx *x = *state;
  props *p = use_alt_svc(x, false);
  x->f.streams[0].headers_rv = CRONC_ERR_QUIC_PROTOCOL_ERROR;
  x->f.streams[0].quic_error = 0x101; /* H3_GENERAL_PROTOCOL_ERROR */
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  assert_int_equal(x->f.requests, 1);
  assert_int_equal(x->done_rv, CRONC_ERR_QUIC_PROTOCOL_ERROR);
  http_transaction_info ti;
  ntx_base(x->t)->vt->get_info(ntx_base(x->t), &ti);
  assert_int_equal(ti.quic_error, 0x101); /* the detail reaches the error info */
  assert_false(props_is_alternative_service_broken(p, &kQuicAlt));
  ntx_free(x->t);
  x->t = NULL;
  props_free(p);
}

static void misdirected_421_retries_without_alternatives_and_marks_nothing(void **state) {
  fx *x = *state;
  props *p = use_alt_svc(x, true);
  x->f.streams[0].headers.status = 421;
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0); /* 421 */
  assert_int_equal(x->done_calls, 0);
  assert_int_equal(x->f.requests, 2);
  assert_false(x->f.alt_enabled[1]);
  assert_true(x->f.streams[0].closed);
  fire_factory(x);
  fire_stream(x, 1);
  fire_stream(x, 1);
  assert_int_equal(x->done_rv, CRONC_OK);
  assert_int_equal(ntx_response_headers(x->t)->status, 200);
  assert_false(props_is_alternative_service_broken(p, &kQuicAlt));
  /* Byte counts add up over both attempts, as Chromium's totals do. */
  http_transaction_info ti;
  ntx_base(x->t)->vt->get_info(ntx_base(x->t), &ti);
  assert_int_equal(ti.sent_bytes, 200);
  assert_int_equal(ti.received_bytes, 400);
  ntx_free(x->t);
  x->t = NULL;
  props_free(p);
}

static void alt_svc_header_on_https_response_is_learned(void **state) {
  fx *x = *state;
  props *p = use_alt_svc(x, true);
  h1_headers_add(&x->f.streams[0].headers, "Alt-Svc", 7, "h3=\":4433\"", 10);
  ntx_start(x->t, &x->req, on_done, x);
  fire_factory(x);
  fire_stream(x, 0);
  fire_stream(x, 0);
  assert_int_equal(x->done_rv, CRONC_OK);
  url_origin o;
  url_origin_init(&o, URL_SCHEME_HTTPS, "example.com", 11, 443);
  altsvc_info_list l;
  altsvc_info_list_init(&l);
  props_get_alternative_service_infos(p, &o, &l);
  assert_int_equal(l.count, 1);
  assert_int_equal(l.items[0].service.port, 4433);
  altsvc_info_list_free(&l);
  ntx_free(x->t);
  x->t = NULL;
  props_free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          quic_protocol_error_on_alternative_retries_without_it_and_marks_it_broken, setup,
          teardown),
      cmocka_unit_test_setup_teardown(quic_protocol_error_without_the_switch_fails_the_request,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          misdirected_421_retries_without_alternatives_and_marks_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(alt_svc_header_on_https_response_is_learned, setup, teardown),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
      T(happy_path_runs_chromium_states_in_order),
      T(body_read_to_end_returns_connection_for_reuse),
      T(free_mid_body_closes_stream_not_reusable),
      T(deferred_start_waits_for_resume),
      T(stream_creation_failure_is_reported),
      T(reused_connection_closed_before_response_is_retried),
      T(fresh_connection_failure_is_not_retried),
      T(failure_after_response_bytes_is_not_retried),
      T(retries_stop_at_the_limit),
      T(refused_stream_is_retried_even_on_new_connection),
      T(free_while_waiting_for_stream_cancels_request),
      T(bad_arguments_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
