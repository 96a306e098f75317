/* End to end against the programmable h2 origin over real TLS: an HTTP/2
 * ALTSVC frame feeds server properties the way an Alt-Svc header does
 * (issue 7, "The HTTP/2 ALTSVC frame feeds the same path"; a stream-0 frame
 * for an origin the certificate does not cover changes nothing), and an h2
 * alternative service, when enabled, is raced through the TCP stream
 * factory to the alternative's host and port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cronc/cronc.h"
#include "engine/api_internal.h"
#include "engine/engine.h"
#include "http/server_properties.h"
#include "support/fetch_util.h"
#include "support/h2_origin.h"

typedef struct query {
  engine *e;
  url_origin origin;
  altsvc_info_list l;
} query;

static void get_alts(void *arg) {
  query *q = arg;
  props_get_alternative_service_infos(engine_props(q->e), &q->origin, &q->l);
}

static size_t alternatives_of(cronc_engine *ce, const char *host, uint16_t port,
                              uint16_t *alt_port) {
  query q = {.e = cronc_engine_internal(ce)};
  altsvc_info_list_init(&q.l);
  assert_int_equal(url_origin_init(&q.origin, URL_SCHEME_HTTPS, host, strlen(host), port), 0);
  assert_int_equal(engine_run(q.e, get_alts, &q), CRONC_OK);
  size_t n = q.l.count;
  if (n && alt_port)
    *alt_port = q.l.items[0].service.port;
  altsvc_info_list_free(&q.l);
  return n;
}

static cronc_engine *start_engine(h2_origin *o) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = h2_origin_ca_file(o);
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static void fetch_ok(cronc_engine *e, h2_origin *o, const char *path) {
  char u[128];
  snprintf(u, sizeof u, "https://localhost:%u%s", h2_origin_port(o), path);
  fetch_result *r = fetch_result_new();
  cronc_request *q = fetch_start(e, u, NULL, r);
  assert_true(fetch_wait(r, 20000));
  assert_int_equal(r->error, 0);
  assert_string_equal(r->protocol, "h2");
  cronc_request_free(q);
  fetch_result_free(r);
}

static void test_altsvc_frame_on_request_stream_sets_alternative(void **state) {
  (void)state;
  h2_origin_altsvc a = {.path = "/s", .value = "h3=\":4433\"; ma=600"};
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.altsvc = &a;
  opt.n_altsvc = 1;
  h2_origin *o = h2_origin_start(&opt);
  assert_non_null(o);
  cronc_engine *e = start_engine(o);
  assert_int_equal(alternatives_of(e, "localhost", h2_origin_port(o), NULL), 0);
  fetch_ok(e, o, "/s");
  uint16_t port = 0;
  assert_int_equal(alternatives_of(e, "localhost", h2_origin_port(o), &port), 1);
  assert_int_equal(port, 4433);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

static void test_altsvc_frame_on_stream_zero_needs_certificate_cover(void **state) {
  (void)state;
  char covered[64];
  h2_origin_altsvc a[2] = {
      {.path = "/z", .value = "h3=\":5544\"", .origin = NULL, .stream_zero = true},
      {.path = "/other",
       .value = "h3=\":6655\"",
       .origin = "https://not-covered.example",
       .stream_zero = true},
  };
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  opt.altsvc = a;
  opt.n_altsvc = 2;
  /* The covered origin is localhost on some port (the certificate names
   * localhost; ports do not matter to it). */
  snprintf(covered, sizeof covered, "https://localhost:8443");
  a[0].origin = covered;
  h2_origin *o = h2_origin_start(&opt);
  assert_non_null(o);
  cronc_engine *e = start_engine(o);
  fetch_ok(e, o, "/z");
  fetch_ok(e, o, "/other");
  uint16_t port = 0;
  assert_int_equal(alternatives_of(e, "localhost", 8443, &port), 1);
  assert_int_equal(port, 5544);
  assert_int_equal(alternatives_of(e, "not-covered.example", 443, NULL), 0);
  cronc_engine_free(e);
  h2_origin_stop(o);
}

typedef struct set_alt {
  engine *e;
  altsvc_info info;
} set_alt;

static void put_alternative(void *arg) {
  set_alt *a = arg;
  url_origin o;
  url_origin_init(&o, URL_SCHEME_HTTPS, "localhost", 9, 443);
  props_set_alternative_services(engine_props(a->e), &o, &a->info, 1);
}

/* https://localhost:443 has no server (its host rule leads nowhere), but an
 * h2 alternative on localhost:<origin port>: the alternative job serves the
 * request and the main job, held while the alternative runs, is cancelled. */
static void test_h2_alternative_serves_when_enabled(void **state) {
  (void)state;
  h2_origin_options opt;
  h2_origin_options_init(&opt);
  h2_origin *o = h2_origin_start(&opt);
  assert_non_null(o);
  for (int enabled = 0; enabled < 2; enabled++) {
    cronc_engine_params p;
    cronc_engine_params_init(&p);
    p.extra_ca_file = h2_origin_ca_file(o);
    p.host_resolver_rules = "MAP localhost:443 ~NOTFOUND";
    p.enable_http2_alternative_service = enabled == 1;
    p.enable_user_alternate_protocol_ports = true;
    cronc_engine *e = NULL;
    assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
    set_alt a = {.e = cronc_engine_internal(e)};
    a.info.service = (altsvc_service){.protocol = ALTSVC_PROTO_HTTP2, .port = h2_origin_port(o)};
    snprintf(a.info.service.host, sizeof a.info.service.host, "localhost");
    a.info.expiration_us = INT64_MAX;
    assert_int_equal(engine_run(a.e, put_alternative, &a), CRONC_OK);
    fetch_result *r = fetch_result_new();
    cronc_request *q = fetch_start(e, "https://localhost/h2alt", NULL, r);
    assert_true(fetch_wait(r, 20000));
    if (enabled) {
      assert_int_equal(r->error, 0);
      assert_string_equal(r->protocol, "h2");
      assert_int_equal(r->job_winner, CRONC_JOB_WINNER_ALTERNATIVE);
      char want[64];
      snprintf(want, sizeof want, "h2 localhost:%u", (unsigned)h2_origin_port(o));
      assert_string_equal(r->alternative_service, want);
    } else {
      /* h2 alternatives are off by default (Chromium): the main job alone. */
      assert_int_equal(r->error, CRONC_ERR_NAME_NOT_RESOLVED);
      assert_int_equal(r->job_winner, CRONC_JOB_WINNER_NONE);
    }
    cronc_request_free(q);
    fetch_result_free(r);
    cronc_engine_free(e);
  }
  h2_origin_stop(o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_altsvc_frame_on_request_stream_sets_alternative),
      cmocka_unit_test(test_altsvc_frame_on_stream_zero_needs_certificate_cover),
      cmocka_unit_test(test_h2_alternative_serves_when_enabled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
