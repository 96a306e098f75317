/* http/job_controller: the race between the main job (a real stream_factory
 * to a real TLS HTTP/2 origin, tests/support/h2_origin, or to a closed port)
 * and the alternative job (a fake QUIC whose stream requests the test
 * completes from the loop with any result), on a real base_runner loop, with
 * a real props holding the QUIC alternative (CHROMIUM_ALTSVC.md §1.9-1.11,
 * table E).
 *
 * Checked: who serves the request and what the report says, cancelling and
 * orphaning of the loser, when the alternative is marked broken (and when
 * not), the error of a request whose jobs both failed, the main job's wait
 * time rules and that the main job really waits, QUIC session outcomes,
 * cancel and free with jobs alive, QUIC broken, preconnect, HTTP/2
 * alternatives, synchronous failures, several waiting main jobs on one
 * timer, and that every NetLog BEGIN of a controller or job has its END. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/netlog.h"
#include "base/thread.h"
#include "cronc/cronc.h"
#include "dns/host_mapping_rules.h"
#include "dns/host_resolver.h"
#include "http/job_controller.h"
#include "http/server_properties.h"
#include "http/stream_factory.h"
#include "socket/tls_context.h"
#include "support/h2_origin.h"
#include "support/net_test_util.h"
#include "url/url.h"

#define MAX_FAKE_REQS 8
#define MAX_EVENTS    64
#define WAIT_MS       10000

typedef struct fixture fixture;

/* ---- A fake QUIC: stream requests the test completes later ---------------- */

typedef struct fake_req {
  fixture *f;
  bool pending; /* asked and not yet completed or cancelled */
  bool cancelled;
  bool delivered;
  char url[256];
  char dest_host[256];
  uint16_t dest_port;
  http_stream_ready_cb cb;
  void *cb_ud;
  int complete_rv; /* the result a posted completion delivers */
} fake_req;

typedef struct fake_stream {
  http_stream base;
  fixture *f;
} fake_stream;

typedef struct captured_event {
  netlog_event_type type;
  char params[512];
} captured_event;

/* The request's one callback. */
typedef struct result {
  bool done;
  int calls;
  int rv;
  http_stream *stream;
} result;

struct fixture {
  uv_loop_t loop;
  base_runner *runner;
  netlog *nl;
  netlog_observer *obs;
  dns_resolver *dns;
  tls_context *tls;
  stream_factory *sf;
  props *props;
  jc_factory *jc;
  h2_origin *origin;
  uint16_t port;        /* the h2 origin's */
  uint16_t closed_port; /* nothing listens there */

  /* fake QUIC */
  fake_req reqs[MAX_FAKE_REQS];
  size_t n_reqs;
  size_t cancels;
  bool can_use_existing;
  size_t fake_streams_alive;
  size_t fake_closes;
  size_t fake_closes_not_reusable;

  captured_event events[MAX_EVENTS];
  size_t n_events;
  /* BEGINs without their END yet (HTTP_STREAM_JOB*, controller). */
  struct {
    uint32_t source;
    netlog_event_type type;
  } open[MAX_EVENTS];
  size_t n_open;
  size_t end_without_begin;

  result res;
  http_stream_request_report report;
  http_stream_request *handle;
};

static int fs_send(http_stream *s, const http_request_info *req, http_io_cb cb, void *ud) {
  (void)s, (void)req, (void)cb, (void)ud;
  return CRONC_ERR_NOT_IMPLEMENTED;
}
static int fs_read_headers(http_stream *s, http_io_cb cb, void *ud) {
  (void)s, (void)cb, (void)ud;
  return CRONC_ERR_NOT_IMPLEMENTED;
}
static const h1_headers *fs_headers(http_stream *s) {
  (void)s;
  return NULL;
}
static int fs_read_body(http_stream *s, uint8_t *buf, size_t len, http_io_cb cb, void *ud) {
  (void)s, (void)buf, (void)len, (void)cb, (void)ud;
  return CRONC_ERR_NOT_IMPLEMENTED;
}
static void fs_close(http_stream *s, bool not_reusable) {
  fake_stream *fs = (fake_stream *)s;
  fs->f->fake_closes++;
  fs->f->fake_closes_not_reusable += not_reusable;
  fs->f->fake_streams_alive--;
  free(fs);
}
static bool fs_false(http_stream *s) {
  (void)s;
  return false;
}
static const char *fs_protocol(http_stream *s) {
  (void)s;
  return "h3";
}
static void fs_timing(http_stream *s, http_load_timing *out) {
  (void)s;
  memset(out, 0, sizeof *out);
}
/* Designated: fields added to the vtable later stay NULL. */
static const http_stream_vtable fake_stream_vt = {
    .send_request = fs_send,
    .read_response_headers = fs_read_headers,
    .response_headers = fs_headers,
    .read_body = fs_read_body,
    .close = fs_close,
    .is_connection_reused = fs_false,
    .received_any_response_bytes = fs_false,
    .protocol = fs_protocol,
    .load_timing = fs_timing,
};

static int fq_request(void *ud, const http_request_info *req, const char *dest_host,
                      uint16_t dest_port, http_stream_ready_cb cb, void *cb_ud, void **handle) {
  fixture *f = ud;
  if (f->n_reqs == MAX_FAKE_REQS)
    return CRONC_ERR_INSUFFICIENT_RESOURCES;
  fake_req *q = &f->reqs[f->n_reqs++];
  memset(q, 0, sizeof *q);
  q->f = f;
  q->pending = true;
  snprintf(q->url, sizeof q->url, "%s", req->url->spec);
  snprintf(q->dest_host, sizeof q->dest_host, "%s", dest_host);
  q->dest_port = dest_port;
  q->cb = cb;
  q->cb_ud = cb_ud;
  *handle = q;
  return CRONC_ERR_IO_PENDING;
}

static void fq_cancel(void *ud, void *handle) {
  fixture *f = ud;
  fake_req *q = handle;
  f->cancels++;
  q->pending = false;
  q->cancelled = true;
}

static bool fq_can_use(void *ud, const char *host, uint16_t port, const char *dest_host,
                       uint16_t dest_port) {
  (void)host, (void)port, (void)dest_host, (void)dest_port;
  return ((fixture *)ud)->can_use_existing;
}

/* Runs on the loop: the QUIC request ends with q->complete_rv. */
static void fq_complete_task(void *arg) {
  fake_req *q = arg;
  q->delivered = true;
  if (!q->pending)
    return; /* cancelled meanwhile */
  q->pending = false;
  http_stream *st = NULL;
  if (q->complete_rv == CRONC_OK) {
    fake_stream *fs = calloc(1, sizeof *fs);
    assert_non_null(fs);
    fs->base.vt = &fake_stream_vt;
    fs->f = q->f;
    q->f->fake_streams_alive++;
    st = &fs->base;
  }
  q->cb(q->cb_ud, q->complete_rv, st);
}

/* Completes fake request i from the loop and runs the loop until it ran. */
static void fq_complete(fixture *f, size_t i, int rv) {
  assert_true(i < f->n_reqs);
  fake_req *q = &f->reqs[i];
  assert_true(q->pending);
  q->complete_rv = rv;
  q->delivered = false;
  assert_int_equal(base_runner_post(f->runner, fq_complete_task, q), 0);
  assert_true(test_loop_run_until(&f->loop, &q->delivered, WAIT_MS));
}

/* ---- Fixture ----------------------------------------------------------------- */

/* BEGIN/END pairing of the controller's and jobs' spans. */
static void track_pairing(fixture *f, const netlog_entry *e) {
  switch (e->type) {
  case NETLOG_TYPE_HTTP_STREAM_JOB_CONTROLLER:
  case NETLOG_TYPE_HTTP_STREAM_JOB:
  case NETLOG_TYPE_HTTP_STREAM_JOB_WAITING:
    break;
  default:
    return;
  }
  if (e->phase == NETLOG_PHASE_BEGIN && f->n_open < MAX_EVENTS) {
    f->open[f->n_open].source = e->source.id;
    f->open[f->n_open].type = e->type;
    f->n_open++;
  } else if (e->phase == NETLOG_PHASE_END) {
    for (size_t i = 0; i < f->n_open; i++)
      if (f->open[i].source == e->source.id && f->open[i].type == e->type) {
        f->open[i] = f->open[--f->n_open];
        return;
      }
    f->end_without_begin++;
  }
}

static void observe(const netlog_entry *e, void *ud) {
  fixture *f = ud;
  track_pairing(f, e);
  if (f->n_events == MAX_EVENTS)
    return;
  switch (e->type) {
  case NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN:
  case NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN:
  case NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_PRECONNECT:
  case NETLOG_TYPE_HTTP_STREAM_JOB_ORPHANED:
  case NETLOG_TYPE_HTTP_STREAM_JOB_WAITING:
  case NETLOG_TYPE_HTTP_STREAM_JOB_RESUMED:
    break;
  default:
    return;
  }
  captured_event *c = &f->events[f->n_events++];
  c->type = e->type;
  snprintf(c->params, sizeof c->params, "%s", e->params ? e->params : "");
}

static size_t count_events(const fixture *f, netlog_event_type t) {
  size_t n = 0;
  for (size_t i = 0; i < f->n_events; i++)
    n += f->events[i].type == t;
  return n;
}

static const captured_event *find_event(const fixture *f, netlog_event_type t) {
  for (size_t i = 0; i < f->n_events; i++)
    if (f->events[i].type == t)
      return &f->events[i];
  return NULL;
}

/* A factory on sf with the fake QUIC (or none), optionally delaying the
 * main job despite an HTTP/2 session, optionally with h2 alternatives. */
static void make_jc_on(fixture *f, stream_factory *sf, bool with_quic, bool delay_with_spdy,
                       bool h2_alternatives, jc_factory **out) {
  jc_params p;
  jc_params_init(&p);
  p.runner = f->runner;
  p.nl = f->nl;
  p.props = f->props;
  p.tcp = sf;
  p.delay_main_job_with_available_spdy_session = delay_with_spdy;
  p.select.enable_http2_alternative_service = h2_alternatives;
  if (with_quic) {
    p.quic.request_stream = fq_request;
    p.quic.cancel = fq_cancel;
    p.quic.can_use_existing_session = fq_can_use;
    p.quic.ud = f;
  }
  assert_int_equal(jc_factory_new(&p, out), 0);
}

static void make_jc(fixture *f, bool with_quic, bool delay_with_spdy, jc_factory **out) {
  make_jc_on(f, f->sf, with_quic, delay_with_spdy, false, out);
}

/* A stream factory like the fixture's, with host mapping rules. */
static stream_factory *make_sf_with_rules(fixture *f, const dns_host_mapping_rules *rules) {
  stream_factory_params sp;
  stream_factory_params_init(&sp);
  sp.runner = f->runner;
  sp.resolver = f->dns;
  sp.tls = f->tls;
  sp.nl = f->nl;
  sp.rules = rules;
  stream_factory *sf = stream_factory_new(&sp);
  assert_non_null(sf);
  return sf;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  h2_origin_options o;
  h2_origin_options_init(&o);
  f->origin = h2_origin_start(&o);
  assert_non_null(f->origin);
  f->port = h2_origin_port(f->origin);
  f->closed_port = test_free_port("127.0.0.1", false);
  assert_int_not_equal(f->closed_port, 0);

  assert_int_equal(uv_loop_init(&f->loop), 0);
  assert_int_equal(base_runner_new_on_loop(&f->loop, &f->runner), 0);
  f->nl = netlog_new(NULL);
  assert_non_null(f->nl);
  f->obs = netlog_add_observer(f->nl, observe, f);
  assert_non_null(f->obs);
  assert_int_equal(dns_resolver_new(f->runner, NULL, NULL, &f->dns), 0);
  tls_context_params tp;
  tls_context_params_init(&tp);
  tp.use_system_trust = false;
  tp.extra_ca_file = h2_origin_ca_file(f->origin);
  assert_int_equal(tls_context_new(&tp, &f->tls), 0);
  stream_factory_params sp;
  stream_factory_params_init(&sp);
  sp.runner = f->runner;
  sp.resolver = f->dns;
  sp.tls = f->tls;
  sp.nl = f->nl;
  f->sf = stream_factory_new(&sp);
  assert_non_null(f->sf);
  f->props = props_new(NULL);
  assert_non_null(f->props);
  make_jc(f, true, false, &f->jc);
  *state = f;
  return 0;
}

static void free_urls(void);

static int teardown(void **state) {
  fixture *f = *state;
  if (f->res.stream)
    f->res.stream->vt->close(f->res.stream, false);
  jc_factory_free(f->jc);
  stream_factory_free(f->sf);
  test_loop_run_for(&f->loop, 20);
  dns_resolver_free(f->dns);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(base_runner_free(f->runner), 0);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(uv_loop_close(&f->loop), 0);
  tls_context_free(f->tls);
  props_free(f->props);
  netlog_remove_observer(f->nl, f->obs);
  netlog_free(f->nl);
  h2_origin_stop(f->origin);
  /* Every stream the fake handed out was closed by someone. */
  assert_int_equal(f->fake_streams_alive, 0);
  free(f);
  free_urls();
  return 0;
}

/* ---- Helpers ------------------------------------------------------------------- */

static void origin_of(const char *host, uint16_t port, url_origin *o) {
  assert_int_equal(url_origin_init(o, URL_SCHEME_HTTPS, host, strlen(host), port), 0);
}

static altsvc_service quic_alt(const char *host, uint16_t port) {
  altsvc_service s = {.protocol = ALTSVC_PROTO_QUIC, .port = port};
  snprintf(s.host, sizeof s.host, "%s", host);
  return s;
}

/* The origin host:port advertises QUIC at alt_host:alt_port (a day). */
static altsvc_service set_alt(fixture *f, const char *host, uint16_t port, const char *alt_host,
                              uint16_t alt_port) {
  url_origin o;
  origin_of(host, port, &o);
  altsvc_service s = quic_alt(alt_host, alt_port);
  int64_t exp = base_clock_now(base_clock_system()) + INT64_C(86400) * BASE_US_PER_SEC;
  assert_true(props_set_quic_alternative_service(f->props, &o, &s, exp, NULL, 0) >= 0);
  return s;
}

static void on_ready(void *ud, int rv, http_stream *stream) {
  fixture *f = ud;
  f->res.calls++;
  f->res.done = true;
  f->res.rv = rv;
  f->res.stream = stream;
}

/* Starts a request for url on the fixture's jc; returns what request_stream
 * returned. */
/* A request's URL must stay valid until its callback ran or it was
 * cancelled (http_stream.h): the test's URLs live until teardown. */
static url g_urls[64];
static size_t g_n_urls;

static url *keep_url(const char *spec) {
  assert_true(g_n_urls < sizeof g_urls / sizeof g_urls[0]);
  url *u = &g_urls[g_n_urls];
  assert_int_equal(url_parse(spec, strlen(spec), u), 0);
  g_n_urls++;
  return u;
}

static void free_urls(void) {
  for (size_t i = 0; i < g_n_urls; i++)
    url_free(&g_urls[i]);
  g_n_urls = 0;
}

static int start_on(fixture *f, jc_factory *jc, const char *spec) {
  url *u = keep_url(spec);
  http_request_info req = {
      .url = u,
      .method = "GET",
      .allow_http2 = true,
      .enable_alternative_services = true,
  };
  memset(&f->res, 0, sizeof f->res);
  f->handle = NULL;
  http_stream_factory *b = jc_factory_base(jc);
  int rv = b->vt->request_stream(b, &req, &f->report, on_ready, f, &f->handle);
  return rv;
}

/* A second request alongside the fixture's. */
typedef struct extra_req {
  result res;
  http_stream_request_report report;
  http_stream_request *handle;
} extra_req;

static void on_ready_extra(void *ud, int rv, http_stream *stream) {
  extra_req *x = ud;
  x->res.calls++;
  x->res.done = true;
  x->res.rv = rv;
  x->res.stream = stream;
}

static int start_extra(fixture *f, const char *spec, extra_req *x) {
  url *u = keep_url(spec);
  http_request_info req = {
      .url = u,
      .method = "GET",
      .allow_http2 = true,
      .enable_alternative_services = true,
  };
  memset(x, 0, sizeof *x);
  http_stream_factory *b = jc_factory_base(f->jc);
  int rv = b->vt->request_stream(b, &req, &x->report, on_ready_extra, x, &x->handle);
  return rv;
}

static void wait_result(fixture *f) {
  assert_true(test_loop_run_until(&f->loop, &f->res.done, WAIT_MS));
}

static void close_result_stream(fixture *f) {
  assert_non_null(f->res.stream);
  f->res.stream->vt->close(f->res.stream, false);
  f->res.stream = NULL;
}

static const char *origin_url(fixture *f, char *buf, size_t size) {
  snprintf(buf, size, "https://localhost:%u/", f->port);
  return buf;
}

static const char *closed_url(fixture *f, char *buf, size_t size) {
  snprintf(buf, size, "https://127.0.0.1:%u/", f->closed_port);
  return buf;
}

typedef bool (*pred_fn)(fixture *f);

static bool run_until_pred(fixture *f, pred_fn pred, uint64_t timeout_ms) {
  uint64_t until = test_now_ms() + timeout_ms;
  while (!pred(f) && test_now_ms() < until)
    test_loop_run_for(&f->loop, 5);
  return pred(f);
}

static bool no_controllers(fixture *f) { return jc_factory_controller_count(f->jc) == 0; }
static bool one_connect(fixture *f) { return stream_factory_connects_started(f->sf) >= 1; }
static bool h2_ready(fixture *f) { return stream_factory_h2_connection_count(f->sf) >= 1; }

/* QUIC known to work on this network with the persisted record. */
static void quic_known_to_work(fixture *f) {
  props_set_last_local_address_when_quic_worked(f->props, "127.0.0.1");
  assert_true(jc_factory_quic_known_to_work(f->jc));
}

static bool is_broken(fixture *f, const altsvc_service *s) {
  return props_is_alternative_service_broken(f->props, s);
}

static bool recently_broken(fixture *f, const altsvc_service *s) {
  return props_was_alternative_service_recently_broken(f->props, s);
}

/* ---- 1. No alternative ------------------------------------------------------ */

static void test_without_alternative_only_the_main_job_runs(void **state) {
  fixture *f = *state;
  char u[128];
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_non_null(f->handle);
  assert_int_equal(jc_factory_controller_count(f->jc), 1);
  assert_false(f->res.done); /* never inside request_stream */
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_non_null(f->res.stream);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h2");
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_NONE);
  assert_int_equal(f->report.alt.protocol, ALTSVC_PROTO_UNKNOWN);
  assert_false(f->report.quic_broken);
  assert_int_equal(f->n_reqs, 0);
  assert_int_equal(stream_factory_connects_started(f->sf), 1);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  close_result_stream(f);
  test_loop_run_for(&f->loop, 20);
  assert_int_equal(f->res.calls, 1);
}

static void test_http_origin_never_gets_an_alternative_job(void **state) {
  fixture *f = *state;
  char u[128];
  /* E1: an http origin with a stored alternative: https only. The port is
   * closed, so the main job fails with the connection error. */
  set_alt(f, "127.0.0.1", f->closed_port, "127.0.0.1", f->closed_port);
  snprintf(u, sizeof u, "http://127.0.0.1:%u/", f->closed_port);
  assert_int_equal(start_on(f, f->jc, u), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_ERR_CONNECTION_REFUSED);
  assert_null(f->res.stream);
  assert_int_equal(f->n_reqs, 0);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_NONE);
}

/* ---- 2. The alternative job wins ---------------------------------------------- */

static void test_alt_wins_while_main_waits_and_main_never_connects(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f); /* main job waits 300 ms */
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_int_equal(f->n_reqs, 1);
  assert_string_equal(f->reqs[0].dest_host, "localhost");
  assert_int_equal(f->reqs[0].dest_port, f->port);
  assert_string_equal(f->reqs[0].url, u);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);

  fq_complete(f, 0, CRONC_OK);
  assert_true(f->res.done);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h3");
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_ALTERNATIVE);
  assert_int_equal(f->report.alt.protocol, ALTSVC_PROTO_QUIC);
  assert_string_equal(f->report.alt.host, "localhost");
  assert_int_equal(f->report.alt.port, f->port);
  assert_int_equal(f->report.main_wait_us, JC_DEFAULT_RTT_US);
  assert_int_equal(f->report.alt_error, 0);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);

  /* The main job was cancelled: past its wait it still never connects. */
  test_loop_run_for(&f->loop, 400);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
  assert_int_equal(f->res.calls, 1);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP_STREAM_JOB_RESUMED), 0);
  close_result_stream(f);
  assert_int_equal(f->fake_closes, 1);
  assert_false(is_broken(f, &alt));
}

static void test_alt_wins_while_main_connects_and_main_is_cancelled(void **state) {
  fixture *f = *state;
  char u[128];
  /* QUIC not known to work: no wait, the main job connects at once. */
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_int_equal(f->n_reqs, 1);
  assert_true(run_until_pred(f, one_connect, WAIT_MS));

  fq_complete(f, 0, CRONC_OK);
  assert_true(f->res.done);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h3");
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_ALTERNATIVE);
  assert_int_equal(f->report.main_wait_us, 0);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);

  /* No stream and no second callback from the cancelled main job. */
  test_loop_run_for(&f->loop, 300);
  assert_int_equal(f->res.calls, 1);
  assert_int_equal(h2_origin_requests(f->origin), 0);
  close_result_stream(f);
  assert_false(is_broken(f, &alt));
}

/* ---- 3. The main job wins; the orphaned alternative job -------------------------- */

/* Main wins while the alternative job is pending; returns the alternative. */
static altsvc_service main_wins_alt_pending(fixture *f, const char *alt_host) {
  char u[128];
  altsvc_service alt = set_alt(f, "localhost", f->port, alt_host, f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_int_equal(f->n_reqs, 1);
  assert_string_equal(f->reqs[0].dest_host, alt_host);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h2");
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.alt.protocol, ALTSVC_PROTO_QUIC);
  assert_string_equal(f->report.alt.host, alt_host);
  /* The alternative job lives on as an orphan. */
  assert_true(f->reqs[0].pending);
  assert_int_equal(jc_factory_controller_count(f->jc), 1);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP_STREAM_JOB_ORPHANED), 1);
  close_result_stream(f);
  return alt;
}

static void test_main_wins_then_orphaned_alt_succeeds_and_its_stream_is_closed(void **state) {
  fixture *f = *state;
  altsvc_service alt = main_wins_alt_pending(f, "localhost");
  fq_complete(f, 0, CRONC_OK);
  assert_int_equal(f->fake_closes, 1);
  assert_int_equal(f->fake_closes_not_reusable, 0); /* its session stays for later */
  assert_int_equal(f->fake_streams_alive, 0);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_int_equal(f->res.calls, 1);
  assert_false(is_broken(f, &alt));
  assert_false(recently_broken(f, &alt));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN), 0);
}

static void check_orphan_failure_marks_broken(fixture *f, const char *alt_host, int err) {
  altsvc_service alt = main_wins_alt_pending(f, alt_host);
  assert_false(is_broken(f, &alt));
  fq_complete(f, 0, err);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_int_equal(f->res.calls, 1);
  assert_true(is_broken(f, &alt));
  const captured_event *e = find_event(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN);
  assert_non_null(e);
  assert_non_null(strstr(e->params, cronc_error_name(err)));
  assert_non_null(strstr(e->params, "main job succeeded"));
  char a[300];
  snprintf(a, sizeof a, "%s:%u", alt_host, f->port);
  assert_non_null(strstr(e->params, a));
}

static void test_main_wins_then_orphaned_alt_fails_and_is_marked_broken(void **state) {
  check_orphan_failure_marks_broken(*state, "localhost", CRONC_ERR_FAILED);
}

static void test_main_wins_then_alt_handshake_fails_and_is_marked_broken(void **state) {
  check_orphan_failure_marks_broken(*state, "localhost", CRONC_ERR_QUIC_HANDSHAKE_FAILED);
}

static void test_alt_fails_first_then_main_succeeds_and_alt_is_marked_broken(void **state) {
  fixture *f = *state;
  char u[128];
  /* E18: the alternative fails while the main job still connects. */
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  fq_complete(f, 0, CRONC_ERR_QUIC_PROTOCOL_ERROR);
  assert_false(f->res.done); /* the main job is still running */
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.alt_error, CRONC_ERR_QUIC_PROTOCOL_ERROR);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_true(is_broken(f, &alt));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN), 1);
}

/* ---- 4. Failures that do not count against the alternative (E21-E23) ------------- */

static void check_orphan_failure_not_broken(fixture *f, int err) {
  altsvc_service alt = main_wins_alt_pending(f, "localhost");
  fq_complete(f, 0, err);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_false(is_broken(f, &alt));
  assert_false(recently_broken(f, &alt));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN), 0);
}

static void test_alt_network_changed_is_not_marked_broken(void **state) {
  check_orphan_failure_not_broken(*state, CRONC_ERR_NETWORK_CHANGED);
}

static void test_alt_internet_disconnected_is_not_marked_broken(void **state) {
  check_orphan_failure_not_broken(*state, CRONC_ERR_INTERNET_DISCONNECTED);
}

static void test_alt_name_not_resolved_on_origin_host_is_not_marked_broken(void **state) {
  check_orphan_failure_not_broken(*state, CRONC_ERR_NAME_NOT_RESOLVED);
}

static void test_alt_name_not_resolved_on_other_host_is_marked_broken(void **state) {
  check_orphan_failure_marks_broken(*state, "alt.example", CRONC_ERR_NAME_NOT_RESOLVED);
}

/* ---- 5. Both jobs fail (E20) ----------------------------------------------------- */

static void test_both_fail_main_first_request_gets_alt_error(void **state) {
  fixture *f = *state;
  char u[128];
  altsvc_service alt = set_alt(f, "127.0.0.1", f->closed_port, "127.0.0.1", f->closed_port);
  assert_int_equal(start_on(f, f->jc, closed_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  /* The main job's refusal is swallowed while the alternative runs. */
  assert_true(run_until_pred(f, one_connect, WAIT_MS));
  test_loop_run_for(&f->loop, 300);
  assert_false(f->res.done);
  assert_int_equal(jc_factory_controller_count(f->jc), 1);
  fq_complete(f, 0, CRONC_ERR_QUIC_HANDSHAKE_FAILED);
  assert_true(f->res.done);
  assert_int_equal(f->res.rv, CRONC_ERR_QUIC_HANDSHAKE_FAILED);
  assert_null(f->res.stream);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_false(is_broken(f, &alt));
  assert_false(recently_broken(f, &alt));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN), 0);
}

static void test_both_fail_alt_first_request_gets_main_error(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f); /* the main job waits until the alternative fails */
  altsvc_service alt = set_alt(f, "127.0.0.1", f->closed_port, "127.0.0.1", f->closed_port);
  assert_int_equal(start_on(f, f->jc, closed_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
  fq_complete(f, 0, CRONC_ERR_QUIC_HANDSHAKE_FAILED);
  /* The failure resumed the main job at once (its refusal may already be
   * in: the loop ran); the alternative's error alone was not delivered. */
  assert_int_equal(stream_factory_connects_started(f->sf), 1);
  wait_result(f);
  assert_int_equal(f->res.calls, 1);
  assert_int_equal(f->res.rv, CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(f->report.alt_error, CRONC_ERR_QUIC_HANDSHAKE_FAILED);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_NONE);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_false(is_broken(f, &alt));
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN), 0);
}

/* ---- 6. Main fails, then the alternative serves (E24) ------------------------------ */

static void test_main_fails_first_then_alt_serves_and_is_not_broken(void **state) {
  fixture *f = *state;
  char u[128];
  altsvc_service alt = set_alt(f, "127.0.0.1", f->closed_port, "127.0.0.1", f->closed_port);
  assert_int_equal(start_on(f, f->jc, closed_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_true(run_until_pred(f, one_connect, WAIT_MS));
  test_loop_run_for(&f->loop, 300);
  assert_false(f->res.done);
  fq_complete(f, 0, CRONC_OK);
  assert_true(f->res.done);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h3");
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_ALTERNATIVE);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  close_result_stream(f);
  assert_false(is_broken(f, &alt));
  assert_false(recently_broken(f, &alt));
}

/* ---- 7. Wait time rules ------------------------------------------------------------- */

static int64_t wait_for(fixture *f, jc_factory *jc, const altsvc_service *alt) {
  char spec[128];
  url u;
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  int64_t w = jc_factory_main_job_wait_us(jc, &u, alt);
  url_free(&u);
  return w;
}

static void test_wait_is_zero_when_quic_not_known_to_work(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  assert_false(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), 0);
}

static void test_wait_is_default_rtt_after_a_confirmed_quic_session(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  /* Another server's confirmed session, without srtt: QUIC works here. */
  jc_quic_outcome o = {.host = "other.example",
                       .port = 443,
                       .dest_host = "other.example",
                       .dest_port = 443,
                       .result = CRONC_OK};
  jc_factory_on_quic_session(f->jc, &o);
  assert_true(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
  assert_int_equal(JC_DEFAULT_RTT_US, 300 * 1000);
}

static void test_wait_is_default_rtt_with_persisted_quic_worked_address(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  props_set_last_local_address_when_quic_worked(f->props, "192.0.2.1");
  assert_true(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
  props_set_last_local_address_when_quic_worked(f->props, NULL);
  assert_false(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), 0);
}

static void test_wait_is_one_and_a_half_srtt(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  quic_known_to_work(f);
  url_origin o;
  origin_of("localhost", f->port, &o);
  props_set_srtt(f->props, &o, 100 * 1000);
  assert_int_equal(wait_for(f, f->jc, &alt), 150 * 1000);
  props_set_srtt(f->props, &o, 10);
  assert_int_equal(wait_for(f, f->jc, &alt), 15); /* E11 */
}

static void test_wait_is_capped_at_three_seconds(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  quic_known_to_work(f);
  url_origin o;
  origin_of("localhost", f->port, &o);
  props_set_srtt(f->props, &o, INT64_C(100) * BASE_US_PER_SEC); /* E12 */
  assert_int_equal(wait_for(f, f->jc, &alt), JC_MAX_MAIN_JOB_WAIT_US);
  assert_int_equal(JC_MAX_MAIN_JOB_WAIT_US, INT64_C(3) * BASE_US_PER_SEC);
  props_set_srtt(f->props, &o, 2 * BASE_US_PER_SEC); /* 1.5 x 2 s = 3 s exactly */
  assert_int_equal(wait_for(f, f->jc, &alt), JC_MAX_MAIN_JOB_WAIT_US);
}

static void test_wait_is_zero_when_recently_broken_and_back_after_confirm(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  quic_known_to_work(f);
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
  props_mark_alternative_service_recently_broken(f->props, &alt); /* E13 */
  assert_int_equal(wait_for(f, f->jc, &alt), 0);
  props_confirm_alternative_service(f->props, &alt); /* E14 */
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
  /* Another alternative's brokenness does not matter. */
  altsvc_service other = quic_alt("localhost", (uint16_t)(f->port + 1));
  props_mark_alternative_service_recently_broken(f->props, &other);
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
}

static void test_wait_is_zero_with_open_h2_session_unless_delay_requested(void **state) {
  fixture *f = *state;
  char u[128];
  altsvc_service alt = quic_alt("localhost", f->port);
  quic_known_to_work(f);
  /* An HTTP/2 session to the origin (a request without alternative). */
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  close_result_stream(f);
  assert_int_equal(stream_factory_h2_connection_count(f->sf), 1);
  assert_int_equal(wait_for(f, f->jc, &alt), 0); /* E15 */

  jc_factory *delaying = NULL;
  make_jc(f, true, true, &delaying);
  assert_int_equal(wait_for(f, delaying, &alt), JC_DEFAULT_RTT_US);
  jc_factory_free(delaying);
}

/* ---- 8. The main job really waits ------------------------------------------------ */

static void test_main_waits_until_alt_fails_then_connects_at_once(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  url_origin o;
  origin_of("localhost", f->port, &o);
  props_set_srtt(f->props, &o, INT64_C(10) * BASE_US_PER_SEC); /* wait: 3 s */
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  test_loop_run_for(&f->loop, 200);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
  assert_int_equal(h2_origin_connections(f->origin), 0);
  const captured_event *w = find_event(f, NETLOG_TYPE_HTTP_STREAM_JOB_WAITING);
  assert_non_null(w);
  assert_non_null(strstr(w->params, "\"delay_us\":3000000"));

  uint64_t t0 = test_now_ms();
  fq_complete(f, 0, CRONC_ERR_FAILED);
  assert_true(run_until_pred(f, one_connect, 1000));
  assert_true(test_now_ms() - t0 < 1000); /* not the 3 s */
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP_STREAM_JOB_RESUMED), 1);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.main_wait_us, JC_MAX_MAIN_JOB_WAIT_US);
  assert_int_equal(f->report.alt_error, CRONC_ERR_FAILED);
  assert_true(is_broken(f, &alt));
}

static void test_main_resumes_after_default_wait_while_alt_hangs(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  uint64_t t0 = test_now_ms();
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  test_loop_run_for(&f->loop, 100);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
  assert_true(run_until_pred(f, one_connect, 3000));
  assert_true(test_now_ms() - t0 >= 290);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.main_wait_us, JC_DEFAULT_RTT_US);
  close_result_stream(f);
  /* The alternative is still under way; it works after all. */
  assert_int_equal(jc_factory_controller_count(f->jc), 1);
  fq_complete(f, 0, CRONC_OK);
  assert_int_equal(f->fake_closes, 1);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_false(is_broken(f, &alt));
}

static void test_existing_quic_session_blocks_main_until_alt_fails(void **state) {
  fixture *f = *state;
  char u[128];
  /* QUIC not known to work, so an unblocked main job would not wait. */
  f->can_use_existing = true;
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_int_equal(f->n_reqs, 1);
  test_loop_run_for(&f->loop, 400);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
  const captured_event *w = find_event(f, NETLOG_TYPE_HTTP_STREAM_JOB_WAITING);
  assert_non_null(w);
  assert_non_null(strstr(w->params, "\"blocked\":true"));
  fq_complete(f, 0, CRONC_ERR_CONNECTION_CLOSED);
  assert_true(run_until_pred(f, one_connect, 1000));
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.main_wait_us, -1);
  assert_true(is_broken(f, &alt));
}

static void test_alt_failing_synchronously_lets_main_go_at_once(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  /* The fake QUIC refuses at once (its table is full): the alternative job
   * fails inside request_stream, E6-style. */
  f->n_reqs = MAX_FAKE_REQS; /* fq_request: ERR_INSUFFICIENT_RESOURCES */
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_false(f->res.done);
  assert_true(run_until_pred(f, one_connect, 200));
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.alt_error, CRONC_ERR_INSUFFICIENT_RESOURCES);
  assert_int_equal(f->report.main_wait_us, 0);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_true(is_broken(f, &alt));
  f->n_reqs = 0;
}

/* ---- 9. QUIC session outcomes -------------------------------------------------------- */

static void test_confirmed_quic_session_confirms_and_records_srtt_and_address(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  props_mark_alternative_service_broken(f->props, &alt);
  assert_true(is_broken(f, &alt));
  assert_false(jc_factory_quic_known_to_work(f->jc));
  jc_quic_outcome o = {.host = "localhost",
                       .port = f->port,
                       .dest_host = "localhost",
                       .dest_port = f->port,
                       .result = CRONC_OK,
                       .srtt_us = 40 * 1000,
                       .local_address = "127.0.0.1"};
  jc_factory_on_quic_session(f->jc, &o);
  assert_false(is_broken(f, &alt));
  assert_false(recently_broken(f, &alt));
  url_origin origin;
  origin_of("localhost", f->port, &origin);
  int64_t srtt = 0;
  assert_true(props_get_srtt(f->props, &origin, &srtt));
  assert_int_equal(srtt, 40 * 1000);
  assert_true(props_was_last_local_address_when_quic_worked(f->props, "127.0.0.1"));
  assert_true(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), 60 * 1000);
}

static void test_confirmed_quic_session_without_address_still_records_quic_worked(void **state) {
  fixture *f = *state;
  jc_quic_outcome o = {.host = "localhost",
                       .port = f->port,
                       .dest_host = "localhost",
                       .dest_port = f->port,
                       .result = CRONC_OK};
  jc_factory_on_quic_session(f->jc, &o);
  assert_true(props_has_last_local_address_when_quic_worked(f->props));
  url_origin origin;
  origin_of("localhost", f->port, &origin);
  int64_t srtt = 0;
  assert_false(props_get_srtt(f->props, &origin, &srtt)); /* no srtt given */
}

static void test_failed_quic_session_marks_recently_broken(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  quic_known_to_work(f);
  url_origin origin;
  url_origin_init(&origin, URL_SCHEME_HTTPS, "localhost", 9, f->port);
  props_set_srtt(f->props, &origin, 40000);
  jc_quic_outcome o = {.host = "localhost",
                       .port = f->port,
                       .dest_host = "localhost",
                       .dest_port = f->port,
                       .result = CRONC_ERR_QUIC_HANDSHAKE_FAILED};
  jc_factory_on_quic_session(f->jc, &o);
  assert_true(recently_broken(f, &alt));
  assert_false(is_broken(f, &alt));
  int64_t srtt = 0;
  assert_false(props_get_srtt(f->props, &origin, &srtt)); /* forgotten, as Chromium does */
  assert_int_equal(wait_for(f, f->jc, &alt), 0);
}

/* After a network change neither the persisted record nor an earlier
 * handshake makes QUIC "known to work": the main job is not delayed until
 * a QUIC handshake is confirmed on the new network. */
static void test_network_change_forgets_that_quic_worked(void **state) {
  fixture *f = *state;
  altsvc_service alt = quic_alt("localhost", f->port);
  quic_known_to_work(f); /* the persisted record */
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
  jc_factory_on_network_changed(f->jc);
  assert_false(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), 0);
  jc_quic_outcome o = {.host = "localhost",
                       .port = f->port,
                       .dest_host = "localhost",
                       .dest_port = f->port,
                       .result = CRONC_OK,
                       .local_address = "127.0.0.1"};
  jc_factory_on_quic_session(f->jc, &o); /* works on the new network */
  assert_true(jc_factory_quic_known_to_work(f->jc));
  assert_int_equal(wait_for(f, f->jc, &alt), JC_DEFAULT_RTT_US);
}

static void test_quic_session_outcome_without_destination_is_ignored(void **state) {
  fixture *f = *state;
  jc_quic_outcome o = {.host = "localhost", .port = f->port, .result = CRONC_OK};
  jc_factory_on_quic_session(f->jc, &o);
  jc_factory_on_quic_session(f->jc, NULL);
  jc_factory_on_quic_session(NULL, &o);
  assert_false(jc_factory_quic_known_to_work(f->jc));
}

/* ---- 10. Cancel and free ------------------------------------------------------------- */

static void test_cancel_while_main_waits_cancels_both_without_callback(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  http_stream_factory *b = jc_factory_base(f->jc);
  b->vt->cancel(b, f->handle);
  assert_int_equal(f->cancels, 1);
  assert_true(f->reqs[0].cancelled);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  test_loop_run_for(&f->loop, 400); /* past the main job's wait */
  assert_int_equal(f->res.calls, 0);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
}

static void test_cancel_while_main_connects_cancels_both_without_callback(void **state) {
  fixture *f = *state;
  char u[128];
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_true(run_until_pred(f, one_connect, WAIT_MS));
  http_stream_factory *b = jc_factory_base(f->jc);
  b->vt->cancel(b, f->handle);
  assert_int_equal(f->cancels, 1);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  test_loop_run_for(&f->loop, 300);
  assert_int_equal(f->res.calls, 0);
  assert_int_equal(h2_origin_requests(f->origin), 0);
}

static void test_free_with_orphan_alive_cancels_it(void **state) {
  fixture *f = *state;
  main_wins_alt_pending(f, "localhost");
  assert_int_equal(f->cancels, 0);
  jc_factory_free(f->jc);
  f->jc = NULL;
  assert_int_equal(f->cancels, 1);
  assert_true(f->reqs[0].cancelled);
  test_loop_run_for(&f->loop, 20);
}

static void test_free_with_request_pending_runs_no_callback(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  jc_factory_free(f->jc);
  f->jc = NULL;
  assert_int_equal(f->cancels, 1);
  test_loop_run_for(&f->loop, 400);
  assert_int_equal(f->res.calls, 0);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
}

/* ---- 11. QUIC broken ----------------------------------------------------------------- */

static void test_every_quic_alternative_broken_reports_quic_broken(void **state) {
  fixture *f = *state;
  char u[128];
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  props_mark_alternative_service_broken(f->props, &alt);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h2");
  assert_true(f->report.quic_broken);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_NONE);
  assert_int_equal(f->n_reqs, 0);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN), 1);
}

static void test_non_broken_alternative_is_not_quic_broken(void **state) {
  fixture *f = *state;
  char u[128];
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  fq_complete(f, 0, CRONC_OK);
  assert_false(f->report.quic_broken);
  assert_int_equal(count_events(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN), 0);
}

/* ---- 12. Preconnect ------------------------------------------------------------------ */

static void test_preconnect_with_quic_alternative_asks_quic_not_tcp(void **state) {
  fixture *f = *state;
  char spec[128];
  url u;
  set_alt(f, "localhost", f->port, "localhost", f->port);
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  assert_int_equal(jc_factory_preconnect(f->jc, &u, 2, true), CRONC_OK);
  url_free(&u);
  assert_int_equal(f->n_reqs, 1);
  assert_string_equal(f->reqs[0].dest_host, "localhost");
  assert_int_equal(jc_factory_controller_count(f->jc), 1);
  test_loop_run_for(&f->loop, 200);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
  assert_int_equal(h2_origin_connections(f->origin), 0);
  const captured_event *e = find_event(f, NETLOG_TYPE_CRONC_HTTP_STREAM_JOB_CONTROLLER_PRECONNECT);
  assert_non_null(e);
  assert_non_null(strstr(e->params, "\"over\":\"QUIC\""));
  fq_complete(f, 0, CRONC_OK);
  assert_int_equal(f->fake_closes, 1);
  assert_int_equal(f->fake_closes_not_reusable, 0);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
}

static void test_preconnect_with_existing_quic_session_does_nothing(void **state) {
  fixture *f = *state;
  char spec[128];
  url u;
  f->can_use_existing = true;
  set_alt(f, "localhost", f->port, "localhost", f->port);
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  assert_int_equal(jc_factory_preconnect(f->jc, &u, 1, true), CRONC_OK);
  url_free(&u);
  assert_int_equal(f->n_reqs, 0);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  test_loop_run_for(&f->loop, 100);
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
}

static void test_preconnect_without_alternative_opens_one_h2_connection_reused_later(void **state) {
  fixture *f = *state;
  char spec[128];
  url u;
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  assert_int_equal(jc_factory_preconnect(f->jc, &u, 2, true), CRONC_OK);
  url_free(&u);
  assert_int_equal(f->n_reqs, 0);
  assert_true(run_until_pred(f, h2_ready, WAIT_MS));
  assert_true(run_until_pred(f, no_controllers, WAIT_MS));
  test_loop_run_for(&f->loop, 100);
  assert_int_equal(h2_origin_connections(f->origin), 1);
  size_t connects = stream_factory_connects_started(f->sf);

  assert_int_equal(start_on(f, f->jc, spec), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h2");
  assert_int_equal(stream_factory_connects_started(f->sf), connects);
  assert_int_equal(h2_origin_connections(f->origin), 1);
}

static void test_preconnect_refuses_bad_arguments(void **state) {
  fixture *f = *state;
  char spec[128];
  url u;
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  assert_int_equal(jc_factory_preconnect(f->jc, &u, 0, true), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(jc_factory_preconnect(f->jc, NULL, 1, true), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(jc_factory_preconnect(NULL, &u, 1, true), CRONC_ERR_INVALID_ARGUMENT);
  url_free(&u);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
}

/* ---- Arguments --------------------------------------------------------------------- */

static void test_factory_new_refuses_missing_params(void **state) {
  fixture *f = *state;
  jc_params p;
  jc_params_init(&p);
  jc_factory *jc = NULL;
  assert_int_equal(jc_factory_new(&p, &jc), CRONC_ERR_INVALID_ARGUMENT);
  p.runner = f->runner;
  p.props = f->props;
  assert_int_equal(jc_factory_new(&p, &jc), CRONC_ERR_INVALID_ARGUMENT); /* no tcp */
  p.tcp = f->sf;
  p.quic.request_stream = fq_request; /* without cancel */
  assert_int_equal(jc_factory_new(&p, &jc), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(jc);
  assert_int_equal(jc_factory_new(NULL, &jc), CRONC_ERR_INVALID_ARGUMENT);
}

static void test_request_refuses_missing_arguments(void **state) {
  fixture *f = *state;
  http_stream_factory *b = jc_factory_base(f->jc);
  http_stream_request *h = NULL;
  http_request_info req = {.method = "GET"};
  assert_int_equal(b->vt->request_stream(b, &req, &f->report, on_ready, f, &h),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(b->vt->request_stream(b, NULL, &f->report, on_ready, f, &h),
                   CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
}

static void test_factory_without_quic_runs_no_alternative_job(void **state) {
  fixture *f = *state;
  char u[128];
  jc_factory *noquic = NULL;
  make_jc(f, false, false, &noquic);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, noquic, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_NONE);
  assert_int_equal(f->n_reqs, 0);
  close_result_stream(f);
  assert_int_equal(jc_factory_controller_count(noquic), 0);
  jc_factory_free(noquic);
}

/* ---- Synchronous failures ------------------------------------------------------------ */

static void test_main_failing_synchronously_leaves_the_alt_to_serve(void **state) {
  fixture *f = *state;
  char u[128];
  dns_host_mapping_rules *rules = NULL;
  assert_int_equal(dns_host_mapping_rules_new(&rules), 0);
  const char *rule = "MAP localhost ^NOTFOUND";
  assert_int_equal(dns_host_mapping_rules_add(rules, rule, strlen(rule)), 0);
  stream_factory *sf = make_sf_with_rules(f, rules);
  jc_factory *jc = NULL;
  make_jc_on(f, sf, true, false, false, &jc);
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_false(f->res.done); /* the main job's error is not the last one */
  assert_int_equal(jc_factory_controller_count(jc), 1);
  fq_complete(f, 0, CRONC_OK);
  assert_true(f->res.done);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_ALTERNATIVE);
  assert_int_equal(jc_factory_controller_count(jc), 0);
  close_result_stream(f);
  assert_false(is_broken(f, &alt));
  jc_factory_free(jc);
  stream_factory_free(sf);
  dns_host_mapping_rules_free(rules);
}

static void test_both_failing_synchronously_return_the_error_without_callback(void **state) {
  fixture *f = *state;
  char u[128];
  dns_host_mapping_rules *rules = NULL;
  assert_int_equal(dns_host_mapping_rules_new(&rules), 0);
  const char *rule = "MAP localhost ^NOTFOUND";
  assert_int_equal(dns_host_mapping_rules_add(rules, rule, strlen(rule)), 0);
  stream_factory *sf = make_sf_with_rules(f, rules);
  jc_factory *jc = NULL;
  make_jc_on(f, sf, true, false, false, &jc);
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  f->n_reqs = MAX_FAKE_REQS; /* the fake QUIC refuses at once */
  assert_int_equal(start_on(f, jc, origin_url(f, u, sizeof u)), CRONC_ERR_NAME_NOT_RESOLVED);
  assert_int_equal(jc_factory_controller_count(jc), 0);
  assert_int_equal(f->report.alt_error, CRONC_ERR_INSUFFICIENT_RESOURCES);
  test_loop_run_for(&f->loop, 50);
  assert_int_equal(f->res.calls, 0);
  assert_false(is_broken(f, &alt));
  f->n_reqs = 0;
  jc_factory_free(jc);
  stream_factory_free(sf);
  dns_host_mapping_rules_free(rules);
}

static void test_request_without_alternative_services_runs_main_only(void **state) {
  fixture *f = *state;
  char spec[128];
  url u;
  set_alt(f, "localhost", f->port, "localhost", f->port);
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  http_request_info req = {.url = &u, .method = "GET", .allow_http2 = true};
  http_stream_factory *b = jc_factory_base(f->jc);
  assert_int_equal(b->vt->request_stream(b, &req, &f->report, on_ready, f, &f->handle),
                   CRONC_ERR_IO_PENDING);
  url_free(&u);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_NONE);
  assert_int_equal(f->n_reqs, 0);
}

/* ---- HTTP/2 alternatives -------------------------------------------------------------- */

static altsvc_service set_h2_alt(fixture *f, const char *alt_host, uint16_t alt_port) {
  url_origin o;
  origin_of("localhost", f->port, &o);
  altsvc_info info = {.service = {.protocol = ALTSVC_PROTO_HTTP2, .port = alt_port}};
  snprintf(info.service.host, sizeof info.service.host, "%s", alt_host);
  info.expiration_us = base_clock_now(base_clock_system()) + INT64_C(86400) * BASE_US_PER_SEC;
  assert_true(props_set_alternative_services(f->props, &o, &info, 1) >= 0);
  return info.service;
}

static void test_h2_alternative_wins_and_main_never_connects(void **state) {
  fixture *f = *state;
  char u[128];
  jc_factory *jc = NULL;
  make_jc_on(f, f->sf, true, false, true, &jc);
  /* The same server by its address: TLS still checks "localhost". */
  altsvc_service alt = set_h2_alt(f, "127.0.0.1", f->port);
  assert_int_equal(start_on(f, jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_string_equal(f->res.stream->vt->protocol(f->res.stream), "h2");
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_ALTERNATIVE);
  assert_int_equal(f->report.alt.protocol, ALTSVC_PROTO_HTTP2);
  assert_int_equal(f->report.main_wait_us, -1);
  assert_int_equal(f->n_reqs, 0);
  assert_int_equal(stream_factory_connects_started(f->sf), 1); /* the alternative's only */
  assert_int_equal(jc_factory_controller_count(jc), 0);
  close_result_stream(f);
  assert_false(is_broken(f, &alt));
  jc_factory_free(jc);
}

static void test_h2_alternative_failing_releases_main_and_is_marked_broken(void **state) {
  fixture *f = *state;
  char u[128];
  jc_factory *jc = NULL;
  make_jc_on(f, f->sf, true, false, true, &jc);
  altsvc_service alt = set_h2_alt(f, "127.0.0.1", f->closed_port);
  assert_int_equal(start_on(f, jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.alt_error, CRONC_ERR_CONNECTION_REFUSED);
  assert_int_equal(f->report.main_wait_us, -1);
  assert_int_equal(stream_factory_connects_started(f->sf), 2);
  assert_int_equal(jc_factory_controller_count(jc), 0);
  close_result_stream(f);
  assert_true(is_broken(f, &alt));
  jc_factory_free(jc);
}

static void test_preconnect_with_failing_quic_alternative_marks_nothing(void **state) {
  fixture *f = *state;
  char spec[128];
  url u;
  altsvc_service alt = set_alt(f, "localhost", f->port, "localhost", f->port);
  origin_url(f, spec, sizeof spec);
  assert_int_equal(url_parse(spec, strlen(spec), &u), 0);
  assert_int_equal(jc_factory_preconnect(f->jc, &u, 1, true), CRONC_OK);
  url_free(&u);
  fq_complete(f, 0, CRONC_ERR_QUIC_HANDSHAKE_FAILED);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_false(is_broken(f, &alt));
  assert_int_equal(stream_factory_connects_started(f->sf), 0);
}

/* ---- NetLog spans ----------------------------------------------------------------- */

static void assert_spans_closed(fixture *f) {
  for (size_t i = 0; i < f->n_open; i++)
    print_error("open: %s on source %u\n", netlog_event_type_name(f->open[i].type),
                (unsigned)f->open[i].source);
  assert_int_equal(f->n_open, 0);
  assert_int_equal(f->end_without_begin, 0);
}

static void test_netlog_spans_close_when_alt_wins_over_waiting_main(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  assert_int_equal(count_events(f, NETLOG_TYPE_HTTP_STREAM_JOB_WAITING), 1);
  fq_complete(f, 0, CRONC_OK);
  assert_true(f->res.done);
  close_result_stream(f);
  assert_spans_closed(f);
}

static void test_netlog_spans_close_when_main_wins_and_orphan_fails(void **state) {
  fixture *f = *state;
  main_wins_alt_pending(f, "localhost");
  fq_complete(f, 0, CRONC_ERR_FAILED);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
  assert_spans_closed(f);
}

static void test_netlog_spans_close_when_request_is_cancelled(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  http_stream_factory *b = jc_factory_base(f->jc);
  b->vt->cancel(b, f->handle);
  assert_spans_closed(f);
}

static void test_netlog_spans_close_when_factory_is_freed(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, u, sizeof u)), CRONC_ERR_IO_PENDING);
  jc_factory_free(f->jc);
  f->jc = NULL;
  assert_spans_closed(f);
}

/* ---- Several waiting main jobs ------------------------------------------------------- */

static bool two_connects(fixture *f) { return stream_factory_connects_started(f->sf) >= 2; }

static void test_waiting_main_jobs_resume_each_at_its_own_time(void **state) {
  fixture *f = *state;
  char ua[128], ub[128];
  quic_known_to_work(f);
  /* A: srtt 10 s, waits 3 s. B (a closed port): no srtt, waits 300 ms. */
  url_origin oa;
  origin_of("localhost", f->port, &oa);
  props_set_srtt(f->props, &oa, INT64_C(10) * BASE_US_PER_SEC);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  set_alt(f, "localhost", f->closed_port, "localhost", f->closed_port);
  snprintf(ub, sizeof ub, "https://localhost:%u/", f->closed_port);
  assert_int_equal(start_on(f, f->jc, origin_url(f, ua, sizeof ua)), CRONC_ERR_IO_PENDING);
  extra_req b;
  assert_int_equal(start_extra(f, ub, &b), CRONC_ERR_IO_PENDING);
  assert_int_equal(f->n_reqs, 2);
  assert_int_equal(jc_factory_controller_count(f->jc), 2);

  /* B's main job goes after 300 ms; A's keeps waiting. */
  uint64_t t0 = test_now_ms();
  assert_true(run_until_pred(f, one_connect, 2000));
  assert_true(test_now_ms() - t0 < 2000);
  test_loop_run_for(&f->loop, 300);
  assert_int_equal(stream_factory_connects_started(f->sf), 1);
  assert_false(b.res.done); /* its refusal waits for its alternative */
  assert_false(f->res.done);

  /* A's alternative fails: its main job goes at once and serves. */
  fq_complete(f, 0, CRONC_ERR_FAILED);
  assert_true(run_until_pred(f, two_connects, 1000));
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(f->report.main_wait_us, JC_MAX_MAIN_JOB_WAIT_US);

  /* B's alternative serves B. */
  fq_complete(f, 1, CRONC_OK);
  assert_true(b.res.done);
  assert_int_equal(b.res.rv, CRONC_OK);
  assert_int_equal(b.report.winner, HTTP_JOB_WINNER_ALTERNATIVE);
  assert_int_equal(b.report.main_wait_us, JC_DEFAULT_RTT_US);
  b.res.stream->vt->close(b.res.stream, false);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
}

static void test_cancelling_one_waiting_request_leaves_the_other_on_time(void **state) {
  fixture *f = *state;
  char u[128];
  quic_known_to_work(f);
  set_alt(f, "localhost", f->port, "localhost", f->port);
  origin_url(f, u, sizeof u);
  extra_req a;
  assert_int_equal(start_extra(f, u, &a), CRONC_ERR_IO_PENDING);
  uint64_t t0 = test_now_ms();
  assert_int_equal(start_on(f, f->jc, u), CRONC_ERR_IO_PENDING);
  http_stream_factory *b = jc_factory_base(f->jc);
  b->vt->cancel(b, a.handle);
  assert_int_equal(f->cancels, 1);
  assert_int_equal(jc_factory_controller_count(f->jc), 1);
  assert_true(run_until_pred(f, one_connect, 3000));
  assert_true(test_now_ms() - t0 >= 290);
  wait_result(f);
  assert_int_equal(f->res.rv, CRONC_OK);
  assert_int_equal(f->report.winner, HTTP_JOB_WINNER_MAIN);
  assert_int_equal(stream_factory_connects_started(f->sf), 1); /* the cancelled one never */
  assert_int_equal(a.res.calls, 0);
  close_result_stream(f);
  fq_complete(f, 1, CRONC_OK);
  assert_int_equal(jc_factory_controller_count(f->jc), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
  /* The loop runs on this thread: a write to a socket the peer closed
   * must fail with EPIPE, not kill the test (cronc's own network thread
   * blocks SIGPIPE; an application running the loop must do the same). */
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      T(test_without_alternative_only_the_main_job_runs),
      T(test_http_origin_never_gets_an_alternative_job),
      T(test_alt_wins_while_main_waits_and_main_never_connects),
      T(test_alt_wins_while_main_connects_and_main_is_cancelled),
      T(test_main_wins_then_orphaned_alt_succeeds_and_its_stream_is_closed),
      T(test_main_wins_then_orphaned_alt_fails_and_is_marked_broken),
      T(test_main_wins_then_alt_handshake_fails_and_is_marked_broken),
      T(test_alt_fails_first_then_main_succeeds_and_alt_is_marked_broken),
      T(test_alt_network_changed_is_not_marked_broken),
      T(test_alt_internet_disconnected_is_not_marked_broken),
      T(test_alt_name_not_resolved_on_origin_host_is_not_marked_broken),
      T(test_alt_name_not_resolved_on_other_host_is_marked_broken),
      T(test_both_fail_main_first_request_gets_alt_error),
      T(test_both_fail_alt_first_request_gets_main_error),
      T(test_main_fails_first_then_alt_serves_and_is_not_broken),
      T(test_wait_is_zero_when_quic_not_known_to_work),
      T(test_wait_is_default_rtt_after_a_confirmed_quic_session),
      T(test_wait_is_default_rtt_with_persisted_quic_worked_address),
      T(test_wait_is_one_and_a_half_srtt),
      T(test_wait_is_capped_at_three_seconds),
      T(test_wait_is_zero_when_recently_broken_and_back_after_confirm),
      T(test_wait_is_zero_with_open_h2_session_unless_delay_requested),
      T(test_main_waits_until_alt_fails_then_connects_at_once),
      T(test_main_resumes_after_default_wait_while_alt_hangs),
      T(test_existing_quic_session_blocks_main_until_alt_fails),
      T(test_alt_failing_synchronously_lets_main_go_at_once),
      T(test_confirmed_quic_session_confirms_and_records_srtt_and_address),
      T(test_confirmed_quic_session_without_address_still_records_quic_worked),
      T(test_failed_quic_session_marks_recently_broken),
      T(test_network_change_forgets_that_quic_worked),
      T(test_quic_session_outcome_without_destination_is_ignored),
      T(test_cancel_while_main_waits_cancels_both_without_callback),
      T(test_cancel_while_main_connects_cancels_both_without_callback),
      T(test_free_with_orphan_alive_cancels_it),
      T(test_free_with_request_pending_runs_no_callback),
      T(test_every_quic_alternative_broken_reports_quic_broken),
      T(test_non_broken_alternative_is_not_quic_broken),
      T(test_preconnect_with_quic_alternative_asks_quic_not_tcp),
      T(test_preconnect_with_existing_quic_session_does_nothing),
      T(test_preconnect_without_alternative_opens_one_h2_connection_reused_later),
      T(test_preconnect_refuses_bad_arguments),
      T(test_factory_new_refuses_missing_params),
      T(test_request_refuses_missing_arguments),
      T(test_factory_without_quic_runs_no_alternative_job),
      T(test_main_failing_synchronously_leaves_the_alt_to_serve),
      T(test_both_failing_synchronously_return_the_error_without_callback),
      T(test_request_without_alternative_services_runs_main_only),
      T(test_h2_alternative_wins_and_main_never_connects),
      T(test_h2_alternative_failing_releases_main_and_is_marked_broken),
      T(test_preconnect_with_failing_quic_alternative_marks_nothing),
      T(test_netlog_spans_close_when_alt_wins_over_waiting_main),
      T(test_netlog_spans_close_when_main_wins_and_orphan_fails),
      T(test_netlog_spans_close_when_request_is_cancelled),
      T(test_netlog_spans_close_when_factory_is_freed),
      T(test_waiting_main_jobs_resume_each_at_its_own_time),
      T(test_cancelling_one_waiting_request_leaves_the_other_on_time),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
