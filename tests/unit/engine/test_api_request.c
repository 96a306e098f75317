/* The public request API's contract (include/cronc/cronc.h) against a real
 * Caddy (h1/h2) and scripted TCP servers: callbacks on the caller's
 * executor, exactly one terminal callback, cancel from another thread,
 * shutdown with a request running and from the network thread, failure
 * details, request-finished listeners, load states, engine parameters that
 * show on the wire (Accept-Language, brotli off, experimental options). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cronc/cronc.h"
#include "support/caddy_server.h"
#include "support/raw_tcp_server.h"
#include "support/task_queue.h"

#define BIG (1 << 20)

static caddy_server *g_caddy;

/* ---- A recorder of what the callbacks saw --------------------------------- */

typedef struct rec {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  task_queue *q; /* the executor's thread (NULL: direct) */
  char log[256]; /* one letter per callback: d redirect, s started, r read, S ok, F, C */
  size_t n_log;
  int terminals;
  int error;
  bool wrong_thread;
  bool read_on_start; /* read the body (else wait in started) */
  bool follow;
  int64_t bytes;
  int status;
  cronc_error_info err;
  bool have_err;
  char err_msg[128];
  int shutdown_rv;      /* from a shutdown attempt inside on_response_started */
  bool try_shutdown;    /* ... made when set */
  bool on_net_thread;   /* cronc_engine_on_network_thread() there */
  cronc_engine *engine; /* for the shutdown attempt */
  int64_t received_byte_count;
  cronc_metrics metrics;
  char proxy[16];
  uint8_t buf[32768];
} rec;

static void rec_init(rec *r, task_queue *q) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  r->q = q;
  r->read_on_start = true;
  r->follow = true;
}

static void rec_free(rec *r) {
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
}

static void note(rec *r, char c) {
  pthread_mutex_lock(&r->mu);
  if (r->q && !task_queue_is_current(r->q))
    r->wrong_thread = true;
  if (r->n_log + 1 < sizeof r->log)
    r->log[r->n_log++] = c;
  if (c == 'S' || c == 'F' || c == 'C')
    r->terminals++;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
}

/* Waits until the log holds c (true) or 10 s passed. */
static bool wait_for(rec *r, char c) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&r->mu);
  int rc = 0;
  while (!memchr(r->log, c, r->n_log) && rc == 0)
    rc = pthread_cond_timedwait(&r->cv, &r->mu, &until);
  bool ok = memchr(r->log, c, r->n_log) != NULL;
  pthread_mutex_unlock(&r->mu);
  return ok;
}

static bool wait_terminal(rec *r) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&r->mu);
  int rc = 0;
  while (r->terminals == 0 && rc == 0)
    rc = pthread_cond_timedwait(&r->cv, &r->mu, &until);
  bool ok = r->terminals > 0;
  pthread_mutex_unlock(&r->mu);
  return ok;
}

static void cb_redirect(cronc_request *q, void *ud, const cronc_response_info *i, const char *l) {
  rec *r = ud;
  note(r, 'd');
  if (r->follow)
    assert_int_equal(cronc_request_follow_redirect(q), CRONC_OK);
  else
    cronc_request_cancel(q);
}

static void cb_started(cronc_request *q, void *ud, const cronc_response_info *i) {
  rec *r = ud;
  r->status = i->http_status;
  snprintf(r->proxy, sizeof r->proxy, "%s", i->proxy_server);
  if (r->try_shutdown) {
    r->on_net_thread = cronc_engine_on_network_thread(r->engine);
    r->shutdown_rv = cronc_engine_shutdown(r->engine);
  }
  note(r, 's');
  if (r->read_on_start)
    assert_int_equal(cronc_request_read(q, r->buf, sizeof r->buf), CRONC_OK);
}

static void cb_read(cronc_request *q, void *ud, const cronc_response_info *i, uint8_t *b,
                    size_t n) {
  rec *r = ud;
  assert_ptr_equal(b, r->buf);
  r->bytes += (int64_t)n;
  note(r, 'r');
  cronc_request_read(q, r->buf, sizeof r->buf);
}

static void cb_ok(cronc_request *q, void *ud, const cronc_response_info *i) {
  rec *r = ud;
  r->received_byte_count = i->received_byte_count;
  r->metrics = *i->metrics;
  note(r, 'S');
}

static void cb_failed(cronc_request *q, void *ud, const cronc_response_info *i, int e) {
  rec *r = ud;
  r->error = e;
  r->have_err = cronc_request_get_error(q, &r->err);
  if (r->have_err)
    snprintf(r->err_msg, sizeof r->err_msg, "%s", r->err.message);
  note(r, 'F');
}

static void cb_canceled(cronc_request *q, void *ud, const cronc_response_info *i) { note(ud, 'C'); }

static const cronc_request_callbacks CBS = {cb_redirect, cb_started, cb_read,
                                            cb_ok,       cb_failed,  cb_canceled};

static void run_task(void *t) { cronc_task_run(t); }
static void execute_on_queue(void *data, cronc_task *t) { task_queue_post(data, run_task, t); }

/* ---- Fixtures ------------------------------------------------------------------ */

static int setup(void **state) {
  if (!caddy_available())
    return 0;
  caddy_options o;
  caddy_options_init(&o);
  o.extra_site_config = "redir /old /small.txt 302";
  assert_int_equal(caddy_server_start(&o, &g_caddy), 0);
  uint8_t *big = malloc(BIG);
  for (size_t i = 0; i < BIG; i++)
    big[i] = (uint8_t)(i * 7);
  caddy_server_put_file(g_caddy, "big.bin", big, BIG);
  caddy_server_put_file(g_caddy, "small.txt", "hello\n", 6);
  free(big);
  return 0;
}

static int teardown(void **state) {
  caddy_server_stop(g_caddy);
  return 0;
}

static cronc_engine *new_engine(void) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = g_caddy ? caddy_server_root_ca(g_caddy) : NULL;
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static void caddy_url(char *buf, size_t n, const char *path) {
  snprintf(buf, n, "https://localhost:%u%s", caddy_server_port(g_caddy), path);
}

static cronc_request *start(cronc_engine *e, const char *url, rec *r, const cronc_executor *ex) {
  cronc_request_params p;
  cronc_request_params_init(&p);
  p.executor = ex;
  cronc_request *q = NULL;
  assert_int_equal(cronc_request_new(e, url, &p, &CBS, r, &q), CRONC_OK);
  assert_int_equal(cronc_request_start(q), CRONC_OK);
  return q;
}

#define NEED_CADDY()                                                                               \
  do {                                                                                             \
    if (!g_caddy)                                                                                  \
      skip();                                                                                      \
  } while (0)

/* ---- Tests ---------------------------------------------------------------------- */

static void test_callbacks_run_on_the_callers_executor_in_order(void **state) {
  NEED_CADDY();
  task_queue *tq = task_queue_start();
  cronc_executor ex = {execute_on_queue, tq};
  cronc_engine *e = new_engine();
  rec r;
  rec_init(&r, tq);
  char url[128];
  caddy_url(url, sizeof url, "/old");
  cronc_request *q = start(e, url, &r, &ex);
  assert_true(wait_terminal(&r));
  assert_false(r.wrong_thread);
  assert_string_equal(r.log, "dsrS"); /* redirect, started, one read, succeeded */
  assert_int_equal(r.bytes, 6);
  assert_int_equal(r.status, 200);
  assert_true(r.received_byte_count >= 6);
  assert_true(r.metrics.request_end_us >= r.metrics.request_start_us);
  assert_int_equal(r.metrics.push_start_us, -1);
  assert_string_equal(r.proxy, "");
  assert_true(cronc_request_is_done(q));
  assert_int_equal(cronc_request_load_state(q), CRONC_LOAD_STATE_INVALID);
  /* Nothing more may be asked of a finished request. */
  assert_int_equal(cronc_request_read(q, r.buf, sizeof r.buf), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_request_start(q), CRONC_ERR_INVALID_ARGUMENT);
  cronc_request_free(q);
  cronc_engine_free(e);
  task_queue_stop(tq);
  rec_free(&r);
}

static void test_cancel_from_another_thread_gives_only_on_canceled(void **state) {
  NEED_CADDY();
  task_queue *tq = task_queue_start();
  cronc_executor ex = {execute_on_queue, tq};
  cronc_engine *e = new_engine();
  rec r;
  rec_init(&r, tq);
  r.read_on_start = false;
  char url[128];
  caddy_url(url, sizeof url, "/big.bin");
  cronc_request *q = start(e, url, &r, &ex);
  assert_true(wait_for(&r, 's'));
  assert_int_equal(cronc_request_load_state(q), CRONC_LOAD_STATE_IDLE);
  cronc_request_cancel(q); /* the test's thread, not the executor's */
  assert_true(cronc_request_is_done(q));
  assert_int_equal(cronc_request_read(q, r.buf, sizeof r.buf), CRONC_ERR_INVALID_ARGUMENT);
  cronc_request_cancel(q); /* twice: still one on_canceled */
  assert_true(wait_terminal(&r));
  cronc_engine_free(e);
  task_queue_stop(tq); /* everything queued has run */
  assert_string_equal(r.log, "sC");
  assert_int_equal(r.terminals, 1);
  cronc_request_free(q);
  rec_free(&r);
}

static void test_shutdown_cancels_a_running_request_first(void **state) {
  /* A server that takes the request and never answers. */
  static const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0}, {RAW_READ_UNTIL, "\r\n\r\n", 4, 0}, {RAW_SLEEP_MS, NULL, 0, 3000}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 3);
  assert_non_null(s);
  task_queue *tq = task_queue_start();
  cronc_executor ex = {execute_on_queue, tq};
  cronc_engine *e = new_engine();
  rec r;
  rec_init(&r, tq);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hang", raw_tcp_server_port(s));
  cronc_request *q = start(e, url, &r, &ex);
  for (int i = 0; i < 500 && raw_tcp_server_accepted(s) == 0; i++)
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  assert_int_equal(raw_tcp_server_accepted(s), 1);
  assert_int_equal(cronc_request_load_state(q), CRONC_LOAD_STATE_WAITING_FOR_RESPONSE);
  assert_int_equal(cronc_engine_shutdown(e), CRONC_OK);
  assert_int_equal(cronc_engine_shutdown(e), CRONC_OK); /* idempotent */
  assert_true(wait_terminal(&r));
  /* After shutdown nothing new starts. */
  cronc_request *q2 = NULL;
  assert_int_equal(cronc_request_new(e, url, NULL, &CBS, &r, &q2), CRONC_ERR_CONTEXT_SHUT_DOWN);
  cronc_engine_free(e);
  task_queue_stop(tq);
  assert_string_equal(r.log, "C");
  cronc_request_free(q);
  raw_tcp_server_free(s);
  rec_free(&r);
}

static void test_shutdown_from_the_network_thread_is_refused(void **state) {
  NEED_CADDY();
  cronc_engine *e = new_engine();
  assert_false(cronc_engine_on_network_thread(e));
  rec r;
  rec_init(&r, NULL);
  r.try_shutdown = true;
  r.engine = e;
  char url[128];
  caddy_url(url, sizeof url, "/small.txt");
  cronc_request *q = start(e, url, &r, NULL); /* direct: callbacks on the network thread */
  assert_true(wait_terminal(&r));
  assert_true(r.on_net_thread);
  assert_int_equal(r.shutdown_rv, CRONC_ERR_INVALID_ARGUMENT);
  assert_string_equal(r.log, "srS"); /* the engine kept working */
  cronc_request_free(q);
  assert_int_equal(cronc_engine_shutdown(e), CRONC_OK);
  cronc_engine_free(e);
  rec_free(&r);
}

static void test_failure_gives_cronet_error_details(void **state) {
  /* A port nobody listens on: the server is started and freed at once. */
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, NULL, 0);
  assert_non_null(s);
  uint16_t port = raw_tcp_server_port(s);
  raw_tcp_server_free(s);
  cronc_engine *e = new_engine();
  rec r;
  rec_init(&r, NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
  cronc_request *q = start(e, url, &r, NULL);
  assert_true(wait_terminal(&r));
  assert_string_equal(r.log, "F");
  assert_int_equal(r.error, CRONC_ERR_CONNECTION_REFUSED);
  assert_true(r.have_err);
  assert_int_equal(r.err.net_error, CRONC_ERR_CONNECTION_REFUSED);
  assert_false(r.err.immediately_retryable);
  assert_false(r.err.callback_error);
  assert_string_equal(r.err_msg, "net::ERR_CONNECTION_REFUSED");
  cronc_request_free(q);
  cronc_engine_free(e);
  rec_free(&r);
}

typedef struct finished_log {
  pthread_mutex_t mu;
  int calls;
  cronc_finished_reason reason;
  char url[128];
  bool had_response;
  bool had_error;
  int64_t start_us, end_us;
  task_queue *q;
  bool wrong_thread;
} finished_log;

static void on_finished(void *ud, const cronc_request_finished_info *info) {
  finished_log *l = ud;
  pthread_mutex_lock(&l->mu);
  l->calls++;
  l->reason = info->reason;
  snprintf(l->url, sizeof l->url, "%s", info->url);
  l->had_response = info->response != NULL;
  l->had_error = info->error != NULL;
  l->start_us = info->metrics->request_start_us;
  l->end_us = info->metrics->request_end_us;
  if (l->q && !task_queue_is_current(l->q))
    l->wrong_thread = true;
  pthread_mutex_unlock(&l->mu);
}

static void test_request_finished_listener_reports_each_request(void **state) {
  NEED_CADDY();
  task_queue *tq = task_queue_start();
  cronc_executor ex = {execute_on_queue, tq};
  cronc_engine *e = new_engine();
  finished_log l = {.q = tq};
  pthread_mutex_init(&l.mu, NULL);
  assert_int_equal(cronc_engine_add_request_finished_listener(e, on_finished, &l, &ex), CRONC_OK);
  assert_int_equal(cronc_engine_add_request_finished_listener(e, on_finished, &l, &ex),
                   CRONC_ERR_INVALID_ARGUMENT);
  rec r;
  rec_init(&r, NULL);
  char url[128];
  caddy_url(url, sizeof url, "/small.txt");
  cronc_request *q = start(e, url, &r, NULL);
  assert_true(wait_terminal(&r));
  cronc_request_free(q); /* the report keeps what it needs */
  assert_int_equal(cronc_engine_remove_request_finished_listener(e, on_finished, &l), CRONC_OK);
  assert_int_equal(cronc_engine_remove_request_finished_listener(e, on_finished, &l),
                   CRONC_ERR_INVALID_ARGUMENT);
  cronc_engine_free(e);
  task_queue_stop(tq);
  assert_int_equal(l.calls, 1);
  assert_false(l.wrong_thread);
  assert_int_equal(l.reason, CRONC_FINISHED_SUCCEEDED);
  assert_string_equal(l.url, url);
  assert_true(l.had_response);
  assert_false(l.had_error);
  assert_true(l.start_us > 0 && l.end_us >= l.start_us);
  pthread_mutex_destroy(&l.mu);
  rec_free(&r);
}

static void test_engine_params_show_on_the_wire(void **state) {
  static const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_UNTIL, "\r\n\r\n", 4, 0},
      {RAW_WRITE, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, 0},
      {RAW_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(s);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.accept_language = "fr-CH, fr;q=0.9";
  p.enable_brotli = false;
  p.user_agent = "test-agent/1";
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  rec r;
  rec_init(&r, NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/x", raw_tcp_server_port(s));
  cronc_request *q = start(e, url, &r, NULL);
  assert_true(wait_terminal(&r));
  assert_string_equal(r.log, "srS");
  assert_int_equal(raw_tcp_server_wait(s, 5000), 0);
  const char *got = raw_tcp_server_received(s, NULL);
  assert_non_null(strstr(got, "Accept-Language: fr-CH, fr;q=0.9\r\n"));
  assert_non_null(strstr(got, "User-Agent: test-agent/1\r\n"));
  const char *ae = strstr(got, "Accept-Encoding: ");
  assert_non_null(ae);
  const char *eol = strstr(ae, "\r\n");
  assert_null(memmem(ae, (size_t)(eol - ae), "br", 2));
  cronc_request_free(q);
  cronc_engine_free(e);
  raw_tcp_server_free(s);
  rec_free(&r);
}

static void test_experimental_options_are_checked_and_mapped(void **state) {
  assert_int_equal(cronc_experimental_options_check(NULL), CRONC_OK);
  assert_int_equal(cronc_experimental_options_check(""), CRONC_OK);
  assert_int_equal(cronc_experimental_options_check("{\"QUIC\":{}}"), CRONC_OK);
  assert_int_equal(cronc_experimental_options_check("[1]"), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_experimental_options_check("{\"QUIC\":"), CRONC_ERR_INVALID_ARGUMENT);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.experimental_options = "not json";
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_ERR_INVALID_ARGUMENT);
  assert_null(e);
  /* HostResolverRules sends mapped.test to a server on 127.0.0.1; unknown
   * keys and wrong types are ignored, as Cronet does. */
  static const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0},
      {RAW_READ_UNTIL, "\r\n\r\n", 4, 0},
      {RAW_WRITE, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 40, 0},
      {RAW_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  assert_non_null(s);
  p.experimental_options =
      "{\"QUIC\":{\"idle_connection_timeout_seconds\":30,\"host_whitelist\":\"a,b\","
      "\"exponential_backoff_on_initial_delay\":\"no\"},\"Unknown\":[1,{\"x\":\"}\"}],"
      "\"HostResolverRules\":{\"host_resolver_rules\":\"MAP mapped.test 127.0.0.1\"},"
      "\"AsyncDNS\":{\"enable\":true}}";
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  rec r;
  rec_init(&r, NULL);
  char url[128];
  snprintf(url, sizeof url, "http://mapped.test:%u/x", raw_tcp_server_port(s));
  cronc_request *q = start(e, url, &r, NULL);
  assert_true(wait_terminal(&r));
  assert_string_equal(r.log, "srS");
  assert_int_equal(raw_tcp_server_wait(s, 5000), 0);
  assert_non_null(strstr(raw_tcp_server_received(s, NULL), "Host: mapped.test:"));
  cronc_request_free(q);
  cronc_engine_free(e);
  raw_tcp_server_free(s);
  rec_free(&r);
}

static void test_bad_arguments_are_refused(void **state) {
  cronc_engine *e = new_engine();
  cronc_request *q = NULL;
  rec r;
  rec_init(&r, NULL);
  assert_int_not_equal(cronc_request_new(e, "ftp://x/", NULL, &CBS, &r, &q), CRONC_OK);
  assert_null(q);
  assert_int_equal(cronc_request_new(e, "http://", NULL, &CBS, &r, &q), CRONC_ERR_INVALID_URL);
  cronc_request_params p;
  cronc_request_params_init(&p);
  assert_int_equal(p.priority, CRONC_PRIORITY_MEDIUM);
  p.method = "BAD METHOD";
  assert_int_equal(cronc_request_new(e, "http://a/", &p, &CBS, &r, &q), CRONC_ERR_INVALID_ARGUMENT);
  cronc_request_params_init(&p);
  cronc_header h = {"X-Bad", "a\r\nb"};
  p.headers = &h;
  p.n_headers = 1;
  assert_int_equal(cronc_request_new(e, "http://a/", &p, &CBS, &r, &q), CRONC_ERR_INVALID_ARGUMENT);
  cronc_upload_provider up = {NULL, NULL, NULL, NULL, NULL};
  cronc_request_params_init(&p);
  p.upload = &up; /* no read function */
  assert_int_equal(cronc_request_new(e, "http://a/", &p, &CBS, &r, &q), CRONC_ERR_INVALID_ARGUMENT);
  /* A request never started: cancel does nothing, free is fine. */
  assert_int_equal(cronc_request_new(e, "http://a/", NULL, &CBS, &r, &q), CRONC_OK);
  assert_int_equal(cronc_request_load_state(q), CRONC_LOAD_STATE_INVALID);
  cronc_request_cancel(q);
  assert_false(cronc_request_is_done(q));
  assert_false(cronc_request_get_error(q, &(cronc_error_info){0}));
  assert_int_equal(cronc_request_read(q, r.buf, 1), CRONC_ERR_INVALID_ARGUMENT);
  assert_int_equal(cronc_request_follow_redirect(q), CRONC_ERR_INVALID_ARGUMENT);
  cronc_request_free(q);
  cronc_engine_free(e);
  assert_string_equal(r.log, "");
  rec_free(&r);
}

static void test_version_and_default_user_agent(void **state) {
  assert_string_equal(cronc_version(), CRONC_VERSION_STRING);
  assert_string_equal(cronc_default_user_agent(), "cronc/" CRONC_VERSION_STRING);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_callbacks_run_on_the_callers_executor_in_order),
      cmocka_unit_test(test_cancel_from_another_thread_gives_only_on_canceled),
      cmocka_unit_test(test_shutdown_cancels_a_running_request_first),
      cmocka_unit_test(test_shutdown_from_the_network_thread_is_refused),
      cmocka_unit_test(test_failure_gives_cronet_error_details),
      cmocka_unit_test(test_request_finished_listener_reports_each_request),
      cmocka_unit_test(test_engine_params_show_on_the_wire),
      cmocka_unit_test(test_experimental_options_are_checked_and_mapped),
      cmocka_unit_test(test_bad_arguments_are_refused),
      cmocka_unit_test(test_version_and_default_user_agent),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
