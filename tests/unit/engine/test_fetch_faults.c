/* Full-stack fault tests through the public API against a programmable
 * HTTP/2 origin of our own (support/h2_origin): RST_STREAM before and after
 * the response headers, GOAWAY with unprocessed streams, connections closed
 * while idle or on a request, and certificates that must be refused
 * (expired, wrong name, pin mismatch). Errors are checked by their exact net
 * error (the RST mappings through h2_map_rst_stream_error), retries by what
 * the origin really saw (requests per path, connections accepted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <gnutls/crypto.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cronc/cronc.h"
#include "http/h2_session.h"
#include "socket/tls_context.h"
#include "support/fetch_util.h"
#include "support/h2_origin.h"

#define WAIT_MS 8000 /* a hang fails the test instead of the whole binary */

/* ---- A blocking fetch over the asynchronous API (support/fetch_util) -------------- */

typedef fetch_result result;

/* Every body byte must be the origin's pattern at its offset. */
static bool body_is_pattern(const uint8_t *data, size_t n, int64_t offset) {
  uint8_t want[65536];
  for (size_t done = 0; done < n;) {
    size_t k = n - done < sizeof want ? n - done : sizeof want;
    h2_origin_body(want, (size_t)offset + done, k);
    if (memcmp(data + done, want, k) != 0)
      return false;
    done += k;
  }
  return true;
}

static result *result_new(void) {
  result *r = fetch_result_new();
  r->follow_redirects = false; /* the origin never redirects */
  r->check = body_is_pattern;
  return r;
}

static cronc_request *start(cronc_engine *e, const char *target, result *r) {
  return fetch_start(e, target, NULL, r);
}

/* Waits for the terminal callback, at most WAIT_MS. */
static bool result_wait(result *r) { return fetch_wait(r, WAIT_MS); }

static void result_free(result *r) { fetch_result_free(r); }

static result *fetch(cronc_engine *e, const char *target) {
  result *r = result_new();
  cronc_request *q = start(e, target, r);
  assert_true(result_wait(r));
  cronc_request_free(q);
  return r;
}

/* ---- Helpers ------------------------------------------------------------------------ */

static cronc_engine *engine_for(h2_origin *o) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = h2_origin_ca_file(o);
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static void url_of(char *buf, size_t n, h2_origin *o, const char *path) {
  snprintf(buf, n, "https://localhost:%u%s", h2_origin_port(o), path);
}

static h2_origin *origin(const h2_origin_options *opt) {
  h2_origin *o = h2_origin_start(opt);
  assert_non_null(o);
  return o;
}

/* Fetches path and checks a complete h2 200 of len pattern bytes. */
static void fetch_ok(cronc_engine *e, h2_origin *o, const char *path, size_t len) {
  char u[256];
  url_of(u, sizeof u, o, path);
  result *r = fetch(e, u);
  assert_int_equal(r->error, CRONC_OK);
  assert_int_equal(r->status, 200);
  assert_string_equal(r->protocol, "h2");
  assert_int_equal(r->bytes, (int64_t)len);
  assert_true(r->body_ok);
  result_free(r);
}

/* Fetches path; returns the error (also checked: no more body than sent). */
static int fetch_error(cronc_engine *e, h2_origin *o, const char *path, int *status,
                       int64_t *bytes) {
  char u[256];
  url_of(u, sizeof u, o, path);
  result *r = fetch(e, u);
  int err = r->error;
  assert_true(r->body_ok);
  if (status)
    *status = r->status;
  if (bytes)
    *bytes = r->bytes;
  result_free(r);
  return err;
}

/* ---- RST_STREAM ----------------------------------------------------------------------- */

static void refused_stream_before_headers_is_retried_on_a_new_stream(void **state) {
  (void)state;
  const h2_origin_rule rules[] = {
      {"/refused", H2_ORIGIN_RST_BEFORE_HEADERS, 3000, NGHTTP2_REFUSED_STREAM, 1},
  };
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.rules = rules;
  opt.n_rules = 1;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/refused", 3000);
  assert_int_equal(h2_origin_requests_for(o, "/refused"), 2); /* refused, then served */
  assert_int_equal(h2_origin_connections(o), 1); /* REFUSED_STREAM keeps the connection */
  assert_int_equal(h2_origin_requests_on(o, 0), 2);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void refused_stream_every_time_gives_up_after_two_retries(void **state) {
  (void)state;
  const h2_origin_rule rules[] = {
      {"/always-refused", H2_ORIGIN_RST_BEFORE_HEADERS, 10, NGHTTP2_REFUSED_STREAM, 0},
  };
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.rules = rules;
  opt.n_rules = 1;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  assert_int_equal(fetch_error(e, o, "/always-refused", NULL, NULL),
                   CRONC_ERR_HTTP2_SERVER_REFUSED_STREAM);
  assert_int_equal(h2_origin_requests_for(o, "/always-refused"), 3); /* 1 + 2 retries */
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void rst_error_before_headers_fails_with_mapped_error_and_no_retry(void **state) {
  (void)state;
  const h2_origin_rule rules[] = {
      {"/protocol", H2_ORIGIN_RST_BEFORE_HEADERS, 10, NGHTTP2_PROTOCOL_ERROR, 0},
      {"/internal", H2_ORIGIN_RST_BEFORE_HEADERS, 10, NGHTTP2_INTERNAL_ERROR, 0},
      {"/no-error", H2_ORIGIN_RST_BEFORE_HEADERS, 10, NGHTTP2_NO_ERROR, 0},
  };
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.rules = rules;
  opt.n_rules = 3;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  /* Chromium's SpdySession::OnRstStream: any code but NO_ERROR,
   * REFUSED_STREAM and HTTP_1_1_REQUIRED is ERR_HTTP2_PROTOCOL_ERROR;
   * NO_ERROR before the headers too (SpdyStream::OnClose). */
  assert_int_equal(h2_map_rst_stream_error(NGHTTP2_PROTOCOL_ERROR, false),
                   CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(h2_map_rst_stream_error(NGHTTP2_INTERNAL_ERROR, false),
                   CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(h2_map_rst_stream_error(NGHTTP2_NO_ERROR, false),
                   CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  int status = -1;
  assert_int_equal(fetch_error(e, o, "/protocol", &status, NULL), CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(status, 0);
  assert_int_equal(fetch_error(e, o, "/internal", &status, NULL), CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(status, 0);
  assert_int_equal(fetch_error(e, o, "/no-error", &status, NULL), CRONC_ERR_HTTP2_PROTOCOL_ERROR);
  assert_int_equal(status, 0);
  /* Not retried: the server may have processed them. */
  assert_int_equal(h2_origin_requests_for(o, "/protocol"), 1);
  assert_int_equal(h2_origin_requests_for(o, "/internal"), 1);
  assert_int_equal(h2_origin_requests_for(o, "/no-error"), 1);
  /* A stream error leaves the connection serving. */
  fetch_ok(e, o, "/fine", opt.default_body_len);
  assert_int_equal(h2_origin_connections(o), 1);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void rst_after_headers_and_partial_body_fails_with_mapped_error(void **state) {
  (void)state;
  const h2_origin_rule rules[] = {
      {"/cut-small", H2_ORIGIN_RST_AFTER_BODY, 1000, NGHTTP2_INTERNAL_ERROR, 0},
      {"/cut-big", H2_ORIGIN_RST_AFTER_BODY, 300000, NGHTTP2_PROTOCOL_ERROR, 0},
      {"/cut-none", H2_ORIGIN_RST_AFTER_BODY, 0, NGHTTP2_CANCEL, 0},
  };
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.rules = rules;
  opt.n_rules = 3;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  const struct {
    const char *path;
    uint32_t code;
    int64_t sent;
  } cases[] = {{"/cut-small", NGHTTP2_INTERNAL_ERROR, 1000},
               {"/cut-big", NGHTTP2_PROTOCOL_ERROR, 300000},
               {"/cut-none", NGHTTP2_CANCEL, 0}};
  for (size_t i = 0; i < 3; i++) {
    int want = h2_map_rst_stream_error(cases[i].code, true);
    assert_int_equal(want, CRONC_ERR_HTTP2_PROTOCOL_ERROR);
    int status = -1;
    int64_t bytes = -1;
    assert_int_equal(fetch_error(e, o, cases[i].path, &status, &bytes), want);
    assert_int_equal(status, 200);                     /* the headers had arrived */
    assert_true(bytes >= 0 && bytes <= cases[i].sent); /* what came was the real body */
    assert_int_equal(h2_origin_requests_for(o, cases[i].path), 1);
  }
  fetch_ok(e, o, "/after", opt.default_body_len);
  assert_int_equal(h2_origin_connections(o), 1);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

/* ---- GOAWAY ---------------------------------------------------------------------------- */

#define N_CONCURRENT 10

/* Runs N_CONCURRENT requests at once on the warm connection; returns how
 * many succeeded with the whole body; *other (if given) counts those that
 * failed with anything but ERR_HTTP2_PROTOCOL_ERROR. */
static int fetch_concurrently(cronc_engine *e, h2_origin *o, size_t body_len, int *other) {
  char u[256];
  result *rs[N_CONCURRENT];
  cronc_request *qs[N_CONCURRENT];
  for (int i = 0; i < N_CONCURRENT; i++) {
    snprintf(u, sizeof u, "https://localhost:%u/c%d", h2_origin_port(o), i);
    rs[i] = result_new();
    qs[i] = start(e, u, rs[i]);
  }
  int ok = 0;
  for (int i = 0; i < N_CONCURRENT; i++) {
    assert_true(result_wait(rs[i]));
    if (rs[i]->error == CRONC_OK && rs[i]->bytes == (int64_t)body_len && rs[i]->body_ok &&
        rs[i]->status == 200)
      ok++;
    else if (other && rs[i]->error != CRONC_ERR_HTTP2_PROTOCOL_ERROR)
      ++*other;
    if (rs[i]->error != CRONC_OK)
      print_message("request %d: %s, %lld bytes\n", i, cronc_error_name(rs[i]->error),
                    (long long)rs[i]->bytes);
    cronc_request_free(qs[i]);
    result_free(rs[i]);
  }
  return ok;
}

static h2_origin *goaway_origin(uint32_t code) {
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.default_body_len = 5000;
  opt.fault = H2_ORIGIN_FAULT_GOAWAY;
  /* The warm-up request is stream 1; the ten are streams 3..21, the third
   * of them stream 7. GOAWAY goes out when all eleven have arrived. */
  opt.fault_after_requests = 1 + N_CONCURRENT;
  opt.goaway_last_stream_id = 7;
  opt.goaway_error_code = code;
  return origin(&opt);
}

static void goaway_below_in_flight_streams_retries_them_on_a_new_connection(void **state) {
  (void)state;
  h2_origin *o = goaway_origin(NGHTTP2_NO_ERROR);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/warm", 5000); /* so that the ten find the connection open */
  assert_int_equal(fetch_concurrently(e, o, 5000, NULL), N_CONCURRENT);
  assert_int_equal(h2_origin_requests_on(o, 0), 1 + N_CONCURRENT);
  assert_true(h2_origin_connections(o) >= 2);
  /* The seven unprocessed ones were sent again; nothing more. */
  assert_int_equal(h2_origin_requests(o), 1 + N_CONCURRENT + 7);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

/* BUG: the seven retried streams each open their own connection (the origin
 * sees 7 connections: the group's 6-socket limit, plus the first) instead of
 * waiting for one new HTTP/2 connection, as Chromium's SpdySessionPool
 * (RequestSession: one blocking request per key, the others wait for the
 * session) does for an origin known to speak h2. stream_factory.c job_try()
 * starts a new connect for every job that finds no usable h2_conn. Left out
 * of the test array. */
static void goaway_retries_share_one_new_connection(void **state) {
  (void)state;
  h2_origin *o = goaway_origin(NGHTTP2_NO_ERROR);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/warm", 5000);
  assert_int_equal(fetch_concurrently(e, o, 5000, NULL), N_CONCURRENT);
  unsigned conns = h2_origin_connections(o), on1 = h2_origin_requests_on(o, 1);
  cronc_engine_free(e);
  h2_origin_stop(o);
  assert_int_equal(conns, 2); /* today: 7 */
  assert_int_equal(on1, 7);
}

/* BUG (Chromium divergence): after a GOAWAY with an error code, h2_session
 * closes the streams above last_stream_id with ERR_HTTP2_PROTOCOL_ERROR (as
 * SpdySession::OnGoAway does) but h2_connection.c st_on_close() turns every
 * "unprocessed" close into ERR_HTTP2_SERVER_REFUSED_STREAM, so the
 * transaction retries them and all ten succeed. Chromium fails them with
 * ERR_HTTP2_PROTOCOL_ERROR. Left out of the test array. */
static void goaway_with_error_fails_unprocessed_streams_with_protocol_error(void **state) {
  (void)state;
  h2_origin *o = goaway_origin(NGHTTP2_INTERNAL_ERROR);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/warm", 5000);
  /* SpdySession::OnGoAway: after a GOAWAY with an error, the streams above
   * last_stream_id fail with ERR_HTTP2_PROTOCOL_ERROR (not retried); those
   * below complete. */
  int ok = fetch_concurrently(e, o, 5000, NULL);
  unsigned requests = h2_origin_requests(o);
  cronc_engine_free(e);
  h2_origin_stop(o);
  assert_int_equal(ok, 3); /* today: 10 */
  assert_int_equal(requests, 1 + N_CONCURRENT);
}

static void goaway_with_error_completes_processed_streams_without_hang(void **state) {
  (void)state;
  h2_origin *o = goaway_origin(NGHTTP2_INTERNAL_ERROR);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/warm", 5000);
  /* The three processed streams complete; each other one ends either way
   * (retried today, ERR_HTTP2_PROTOCOL_ERROR in Chromium: see the BUG above). */
  int other = 0;
  assert_true(fetch_concurrently(e, o, 5000, &other) >= 3);
  assert_int_equal(other, 0);
  assert_int_equal(h2_origin_requests_on(o, 0), 1 + N_CONCURRENT);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

/* ---- Connections closed by the server ------------------------------------------------ */

static void idle_connection_closed_by_server_is_replaced_for_next_request(void **state) {
  (void)state;
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.fault = H2_ORIGIN_FAULT_CLOSE_AFTER_ANSWER;
  opt.fault_after_requests = 1;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/one", opt.default_body_len);
  assert_true(h2_origin_wait_closed(o, 1, WAIT_MS)); /* closed while idle */
  fetch_ok(e, o, "/two", opt.default_body_len);
  assert_int_equal(h2_origin_connections(o), 2);
  assert_int_equal(h2_origin_requests_on(o, 0), 1);
  assert_int_equal(h2_origin_requests_on(o, 1), 1);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void connection_closed_right_after_response_races_next_request(void **state) {
  (void)state;
  /* Every connection closes after its first answer, and the next request
   * starts at once: it meets the connection either still pooled (closed
   * under it before any byte: retried) or already dropped (new one). */
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.fault = H2_ORIGIN_FAULT_CLOSE_AFTER_ANSWER;
  opt.fault_after_requests = 1;
  opt.fault_connections = 1000;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  for (int i = 0; i < 8; i++)
    fetch_ok(e, o, "/again", opt.default_body_len);
  assert_true(h2_origin_connections(o) >= 2);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void reused_connection_closed_on_request_is_retried_on_a_new_one(void **state) {
  (void)state;
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.fault = H2_ORIGIN_FAULT_CLOSE_ON_REQUEST;
  opt.fault_after_requests = 2;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/first", opt.default_body_len);
  fetch_ok(e, o, "/second", opt.default_body_len);
  assert_int_equal(h2_origin_requests_for(o, "/second"), 2);
  assert_int_equal(h2_origin_connections(o), 2);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void reused_connection_reset_on_request_is_retried_on_a_new_one(void **state) {
  (void)state;
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.fault = H2_ORIGIN_FAULT_CLOSE_ON_REQUEST;
  opt.fault_after_requests = 2;
  opt.close_with_reset = true;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  fetch_ok(e, o, "/first", opt.default_body_len);
  fetch_ok(e, o, "/second", opt.default_body_len);
  assert_int_equal(h2_origin_requests_for(o, "/second"), 2);
  assert_int_equal(h2_origin_connections(o), 2);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void fresh_connection_closed_on_request_fails_without_retry(void **state) {
  (void)state;
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.fault = H2_ORIGIN_FAULT_CLOSE_ON_REQUEST;
  opt.fault_after_requests = 1;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  /* Chromium retries a closed connection only when it was reused. */
  assert_int_equal(fetch_error(e, o, "/only", NULL, NULL), CRONC_ERR_CONNECTION_CLOSED);
  assert_int_equal(h2_origin_requests_for(o, "/only"), 1);
  assert_int_equal(h2_origin_connections(o), 1);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

/* ---- Certificates ---------------------------------------------------------------------- */

static int fetch_with_cert(h2_origin_cert cert) {
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.cert = cert;
  h2_origin *o = origin(&opt);
  cronc_engine *e = engine_for(o);
  int err = fetch_error(e, o, "/", NULL, NULL);
  assert_int_equal(h2_origin_requests(o), err == CRONC_OK ? 1 : 0); /* refused before HTTP */
  cronc_engine_free(e);
  h2_origin_stop(o);
  return err;
}

static void valid_certificate_from_own_ca_succeeds(void **state) {
  (void)state;
  assert_int_equal(fetch_with_cert(H2_ORIGIN_CERT_VALID), CRONC_OK);
}

static void expired_certificate_is_cert_date_invalid(void **state) {
  (void)state;
  assert_int_equal(fetch_with_cert(H2_ORIGIN_CERT_EXPIRED), CRONC_ERR_CERT_DATE_INVALID);
}

static void wrong_name_certificate_is_cert_common_name_invalid(void **state) {
  (void)state;
  assert_int_equal(fetch_with_cert(H2_ORIGIN_CERT_WRONG_NAME), CRONC_ERR_CERT_COMMON_NAME_INVALID);
}

static void pin_mismatch_is_refused_and_matching_pin_accepted(void **state) {
  (void)state;
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  h2_origin *o = origin(&opt);
  FILE *f = fopen(h2_origin_ca_file(o), "rb");
  assert_non_null(f);
  char pem[8192];
  size_t n = fread(pem, 1, sizeof pem, f);
  fclose(f);
  uint8_t pins[2][1][32];
  assert_int_equal(tls_spki_sha256_from_pem(pem, n, pins[0][0]), CRONC_OK); /* the CA's key */
  memset(pins[1][0], 0xa5, 32);
  const int want[2] = {CRONC_OK, CRONC_ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN};
  for (int i = 0; i < 2; i++) {
    cronc_public_key_pins pin = {"localhost", (const uint8_t(*)[32])pins[i], 1, false, 0};
    cronc_engine_params p;
    cronc_engine_params_init(&p);
    p.extra_ca_file = h2_origin_ca_file(o);
    p.public_key_pins = &pin;
    p.n_public_key_pins = 1;
    p.pin_bypass_for_local_trust_anchors = false; /* enforce against our local CA */
    cronc_engine *e = NULL;
    assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
    assert_int_equal(fetch_error(e, o, "/pinned", NULL, NULL), want[i]);
    cronc_engine_free(e);
  }
  assert_int_equal(h2_origin_requests_for(o, "/pinned"), 1); /* only the matching pin got there */
  h2_origin_stop(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(refused_stream_before_headers_is_retried_on_a_new_stream),
      cmocka_unit_test(refused_stream_every_time_gives_up_after_two_retries),
      cmocka_unit_test(rst_error_before_headers_fails_with_mapped_error_and_no_retry),
      cmocka_unit_test(rst_after_headers_and_partial_body_fails_with_mapped_error),
      cmocka_unit_test(goaway_below_in_flight_streams_retries_them_on_a_new_connection),
      cmocka_unit_test(goaway_retries_share_one_new_connection),
      cmocka_unit_test(goaway_with_error_fails_unprocessed_streams_with_protocol_error),
      cmocka_unit_test(goaway_with_error_completes_processed_streams_without_hang),
      cmocka_unit_test(idle_connection_closed_by_server_is_replaced_for_next_request),
      cmocka_unit_test(connection_closed_right_after_response_races_next_request),
      cmocka_unit_test(reused_connection_closed_on_request_is_retried_on_a_new_one),
      cmocka_unit_test(reused_connection_reset_on_request_is_retried_on_a_new_one),
      cmocka_unit_test(fresh_connection_closed_on_request_fails_without_retry),
      cmocka_unit_test(valid_certificate_from_own_ca_succeeds),
      cmocka_unit_test(expired_certificate_is_cert_date_invalid),
      cmocka_unit_test(wrong_name_certificate_is_cert_common_name_invalid),
      cmocka_unit_test(pin_mismatch_is_refused_and_matching_pin_accepted),
  };
  /* The BUG tests above, to reproduce them: CRONC_RUN_KNOWN_BUGS=1. */
  const struct CMUnitTest known_bugs[] = {
      cmocka_unit_test(goaway_retries_share_one_new_connection),
      cmocka_unit_test(goaway_with_error_fails_unprocessed_streams_with_protocol_error),
  };
  if (getenv("CRONC_RUN_KNOWN_BUGS"))
    return cmocka_run_group_tests_name("known_bugs", known_bugs, NULL, NULL);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
