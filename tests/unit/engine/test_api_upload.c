/* Upload data providers through the public API (cronc_upload_provider)
 * with Cronet's sink rules, against a scripted HTTP/1.1 server that records
 * what it received: a fixed-length body (Content-Length) read in several
 * answers given from another thread, a chunked body ended by the final
 * chunk, a provider error and a provider that gives more than it announced
 * (both fail with callback_error), a 307 that resends the body after one
 * rewind, and close called once, after the response started, on the
 * upload executor. */
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
#include "support/raw_tcp_server.h"
#include "support/task_queue.h"

typedef enum mode { GIVE_OK, GIVE_ERROR, GIVE_TOO_MUCH } mode;

typedef struct provider {
  const char *data;
  size_t len;
  int64_t length; /* what get_length says */
  size_t chunk;   /* bytes per answer */
  mode mode;
  task_queue *answer_q; /* answers from this thread (NULL: inside read) */
  task_queue *upload_q; /* where calls must arrive (NULL: anywhere) */
  /* Seen. */
  size_t pos;
  int reads, rewinds, closes;
  bool wrong_thread;
  bool read_after_close;
  /* The pending answer. */
  cronc_upload_sink *sink;
  uint8_t *buf;
  size_t buf_len;
} provider;

static int64_t p_length(void *ud) { return ((provider *)ud)->length; }

static void answer_read(void *ud) {
  provider *p = ud;
  if (p->mode == GIVE_ERROR) {
    cronc_upload_sink_read_error(p->sink, "boom");
    return;
  }
  size_t n = p->len - p->pos;
  if (n > p->chunk)
    n = p->chunk;
  if (n > p->buf_len)
    n = p->buf_len;
  memcpy(p->buf, p->data + p->pos, n);
  p->pos += n;
  bool final = p->length < 0 && p->pos == p->len;
  cronc_upload_sink_read_succeeded(p->sink, n, final);
}

static void check_thread(provider *p) {
  if (p->upload_q && !task_queue_is_current(p->upload_q))
    p->wrong_thread = true;
}

static void p_read(void *ud, cronc_upload_sink *sink, uint8_t *buf, size_t len) {
  provider *p = ud;
  check_thread(p);
  if (p->closes)
    p->read_after_close = true;
  p->reads++;
  p->sink = sink;
  p->buf = buf;
  p->buf_len = len;
  if (p->mode == GIVE_TOO_MUCH) {
    memset(buf, 'x', len < 11 ? len : 11);
    cronc_upload_sink_read_succeeded(sink, len < 11 ? len : 11, false);
    return;
  }
  if (p->answer_q)
    task_queue_post(p->answer_q, answer_read, p);
  else
    answer_read(p);
}

static void p_rewind(void *ud, cronc_upload_sink *sink) {
  provider *p = ud;
  check_thread(p);
  p->rewinds++;
  p->pos = 0;
  cronc_upload_sink_rewind_succeeded(sink);
}

static void p_close(void *ud) {
  provider *p = ud;
  check_thread(p);
  p->closes++;
}

/* ---- The request side --------------------------------------------------------- */

typedef struct outcome {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int error; /* 0, a net error, or CRONC_ERR_ABORTED */
  int status;
  int redirects;
  cronc_error_info err;
  char msg[256];
  uint8_t buf[4096];
} outcome;

static void finish(outcome *o, int error) {
  pthread_mutex_lock(&o->mu);
  o->error = error;
  o->done = true;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
}

static void on_redirect(cronc_request *q, void *ud, const cronc_response_info *i, const char *l) {
  ((outcome *)ud)->redirects++;
  cronc_request_follow_redirect(q);
}
static void on_started(cronc_request *q, void *ud, const cronc_response_info *i) {
  outcome *o = ud;
  o->status = i->http_status;
  cronc_request_read(q, o->buf, sizeof o->buf);
}
static void on_read(cronc_request *q, void *ud, const cronc_response_info *i, uint8_t *b,
                    size_t n) {
  cronc_request_read(q, ((outcome *)ud)->buf, sizeof((outcome *)ud)->buf);
}
static void on_ok(cronc_request *q, void *ud, const cronc_response_info *i) { finish(ud, 0); }
static void on_failed(cronc_request *q, void *ud, const cronc_response_info *i, int e) {
  outcome *o = ud;
  if (cronc_request_get_error(q, &o->err))
    snprintf(o->msg, sizeof o->msg, "%s", o->err.message);
  finish(o, e);
}
static void on_canceled(cronc_request *q, void *ud, const cronc_response_info *i) {
  finish(ud, CRONC_ERR_ABORTED);
}
static const cronc_request_callbacks CBS = {on_redirect, on_started, on_read,
                                            on_ok,       on_failed,  on_canceled};

static void run_task(void *t) { cronc_task_run(t); }
static void execute_on_queue(void *data, cronc_task *t) { task_queue_post(data, run_task, t); }

/* POSTs the provider's body to the server and waits for the end. */
static void post(raw_tcp_server *s, const char *path, provider *p, const cronc_executor *ex,
                 outcome *o) {
  memset(o, 0, sizeof *o);
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  cronc_engine_params ep;
  cronc_engine_params_init(&ep);
  ep.netlog_path = getenv("UPLOAD_NETLOG");
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&ep, &e), CRONC_OK);
  cronc_upload_provider up = {p_length, p_read, p_rewind, p_close, p};
  cronc_request_params rp;
  cronc_request_params_init(&rp);
  rp.upload = &up;
  rp.executor = ex;
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", raw_tcp_server_port(s), path);
  cronc_request *q = NULL;
  assert_int_equal(cronc_request_new(e, url, &rp, &CBS, o, &q), CRONC_OK);
  assert_int_equal(cronc_request_start(q), CRONC_OK);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&o->mu);
  int rc = 0;
  while (!o->done && rc == 0)
    rc = pthread_cond_timedwait(&o->cv, &o->mu, &until);
  pthread_mutex_unlock(&o->mu);
  if (!o->done)
    print_message("reads %d rewinds %d closes %d redirects %d\n", p->reads, p->rewinds, p->closes,
                  o->redirects);
  assert_true(o->done);
  cronc_request_free(q);
  cronc_engine_free(e); /* also drains the provider's pending close */
  pthread_cond_destroy(&o->cv);
  pthread_mutex_destroy(&o->mu);
}

#define OK_RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

static void test_fixed_length_body_is_sent_with_content_length(void **state) {
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0},
                         {RAW_READ_UNTIL, "hello world", 11, 0},
                         {RAW_WRITE, OK_RESPONSE, strlen(OK_RESPONSE), 0},
                         {RAW_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  task_queue *app = task_queue_start(), *cbq = task_queue_start();
  cronc_executor ex = {execute_on_queue, cbq};
  provider p = {"hello world", 11,    11,   4,    GIVE_OK, app, cbq, 0, 0, 0, 0,
                false,         false, NULL, NULL, 0};
  outcome o;
  post(s, "/up", &p, &ex, &o);
  task_queue_stop(app);
  task_queue_stop(cbq);
  assert_int_equal(o.error, 0);
  assert_int_equal(o.status, 200);
  assert_int_equal(raw_tcp_server_wait(s, 5000), 0);
  const char *got = raw_tcp_server_received(s, NULL);
  assert_non_null(strstr(got, "POST /up HTTP/1.1\r\n"));
  assert_non_null(strstr(got, "Content-Length: 11\r\n"));
  assert_non_null(strstr(got, "\r\n\r\nhello world"));
  assert_int_equal(p.reads, 3); /* 4 + 4 + 3 bytes */
  assert_int_equal(p.rewinds, 0);
  assert_int_equal(p.closes, 1);
  assert_false(p.wrong_thread);
  raw_tcp_server_free(s);
}

static void test_chunked_body_ends_with_the_final_chunk(void **state) {
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0},
                         {RAW_READ_UNTIL, "\r\n0\r\n\r\n", 7, 0},
                         {RAW_WRITE, OK_RESPONSE, strlen(OK_RESPONSE), 0},
                         {RAW_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  provider p = {"abcdefghij", 10,    -1,   6,    GIVE_OK, NULL, NULL, 0, 0, 0, 0,
                false,        false, NULL, NULL, 0};
  outcome o;
  post(s, "/chunked", &p, NULL, &o);
  assert_int_equal(o.error, 0);
  assert_int_equal(raw_tcp_server_wait(s, 5000), 0);
  const char *got = raw_tcp_server_received(s, NULL);
  assert_non_null(strstr(got, "Transfer-Encoding: chunked\r\n"));
  assert_null(strstr(got, "Content-Length"));
  assert_non_null(strstr(got, "abcdef"));
  assert_non_null(strstr(got, "ghij"));
  assert_int_equal(p.closes, 1);
  assert_false(p.read_after_close);
  raw_tcp_server_free(s);
}

static void test_provider_error_fails_with_callback_error(void **state) {
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0}, {RAW_WAIT_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 2);
  task_queue *app = task_queue_start();
  provider p = {"hello", 5, 5, 5, GIVE_ERROR, app, NULL, 0, 0, 0, 0, false, false, NULL, NULL, 0};
  outcome o;
  post(s, "/err", &p, NULL, &o);
  task_queue_stop(app);
  assert_int_equal(o.error, CRONC_ERR_FAILED);
  assert_true(o.err.callback_error);
  assert_false(o.err.immediately_retryable);
  assert_string_equal(o.msg, "Failure from UploadDataProvider: boom");
  assert_int_equal(p.closes, 1);
  raw_tcp_server_free(s);
}

static void test_more_bytes_than_announced_fails(void **state) {
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0}, {RAW_WAIT_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 2);
  provider p = {"abc", 3, 3, 3, GIVE_TOO_MUCH, NULL, NULL, 0, 0, 0, 0, false, false, NULL, NULL, 0};
  outcome o;
  post(s, "/much", &p, NULL, &o);
  assert_int_equal(o.error, CRONC_ERR_FAILED);
  assert_true(o.err.callback_error);
  assert_non_null(strstr(o.msg, "exceeds"));
  raw_tcp_server_free(s);
}

static void test_307_resends_the_body_after_one_rewind(void **state) {
  static const char redirect[] =
      "HTTP/1.1 307 Temporary Redirect\r\nLocation: /b\r\nContent-Length: 0\r\n"
      "Connection: close\r\n\r\n";
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0},
                         {RAW_READ_UNTIL, "\r\n\r\n12345", 9, 0},
                         {RAW_WRITE, redirect, strlen(redirect), 0},
                         {RAW_CLOSE, NULL, 0, 0},
                         {RAW_ACCEPT, NULL, 0, 0},
                         {RAW_READ_UNTIL, "\r\n\r\n12345", 9, 0},
                         {RAW_WRITE, OK_RESPONSE, strlen(OK_RESPONSE), 0},
                         {RAW_CLOSE, NULL, 0, 0}};
  raw_tcp_server *s = raw_tcp_server_start("127.0.0.1", 0, script, 8);
  provider p = {"12345", 5, 5, 5, GIVE_OK, NULL, NULL, 0, 0, 0, 0, false, false, NULL, NULL, 0};
  outcome o;
  post(s, "/a", &p, NULL, &o);
  assert_int_equal(o.error, 0);
  assert_int_equal(o.redirects, 1);
  assert_int_equal(raw_tcp_server_wait(s, 5000), 0);
  const char *got = raw_tcp_server_received(s, NULL);
  const char *second = strstr(got, "POST /b HTTP/1.1\r\n");
  assert_non_null(second);
  assert_non_null(strstr(second, "\r\n\r\n12345"));
  assert_int_equal(p.rewinds, 1);
  assert_int_equal(p.reads, 2);
  assert_int_equal(p.closes, 1);
  raw_tcp_server_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fixed_length_body_is_sent_with_content_length),
      cmocka_unit_test(test_chunked_body_ends_with_the_final_chunk),
      cmocka_unit_test(test_provider_error_fails_with_callback_error),
      cmocka_unit_test(test_more_bytes_than_announced_fails),
      cmocka_unit_test(test_307_resends_the_body_after_one_rewind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
