/* An engine on a libuv loop the application owns (cronc_engine_params
 * .uv_loop): created, used and shut down on the loop's thread, with
 * callbacks run by the application's own uv_run(); and shutdown with a
 * request still running cancels it (on_canceled) inside the call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "cronc/cronc.h"
#include "support/net_test_util.h"
#include "support/raw_tcp_server.h"

typedef struct seen {
  char log[16];
  size_t n;
  bool done;
  uint8_t buf[256];
  int64_t bytes;
} seen;

static void add(seen *s, char c) {
  if (s->n + 1 < sizeof s->log)
    s->log[s->n++] = c;
  if (c == 'S' || c == 'F' || c == 'C')
    s->done = true;
}

static void on_redirect(cronc_request *q, void *ud, const cronc_response_info *i, const char *l) {
  add(ud, 'd');
}
static void on_started(cronc_request *q, void *ud, const cronc_response_info *i) {
  seen *s = ud;
  add(s, 's');
  if (strcmp(i->url + strlen(i->url) - 5, "/hold") != 0)
    cronc_request_read(q, s->buf, sizeof s->buf);
}
static void on_read(cronc_request *q, void *ud, const cronc_response_info *i, uint8_t *b,
                    size_t n) {
  seen *s = ud;
  s->bytes += (int64_t)n;
  add(s, 'r');
  cronc_request_read(q, s->buf, sizeof s->buf);
}
static void on_ok(cronc_request *q, void *ud, const cronc_response_info *i) { add(ud, 'S'); }
static void on_failed(cronc_request *q, void *ud, const cronc_response_info *i, int e) {
  add(ud, 'F');
}
static void on_canceled(cronc_request *q, void *ud, const cronc_response_info *i) { add(ud, 'C'); }
static const cronc_request_callbacks CBS = {on_redirect, on_started, on_read,
                                            on_ok,       on_failed,  on_canceled};

#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static void test_engine_runs_on_the_applications_loop(void **state) {
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0},
                         {RAW_READ_UNTIL, "\r\n\r\n", 4, 0},
                         {RAW_WRITE, RESPONSE, strlen(RESPONSE), 0},
                         {RAW_READ_UNTIL, "/hold", 5, 0},
                         {RAW_WRITE, RESPONSE, strlen(RESPONSE), 0},
                         {RAW_SLEEP_MS, NULL, 0, 1000}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 6);
  assert_non_null(srv);
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.uv_loop = &loop;
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  assert_true(cronc_engine_on_network_thread(e)); /* this thread runs the loop */
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/a", raw_tcp_server_port(srv));
  seen s = {0};
  cronc_request *q = NULL;
  assert_int_equal(cronc_request_new(e, url, NULL, &CBS, &s, &q), CRONC_OK);
  assert_int_equal(cronc_request_start(q), CRONC_OK);
  assert_string_equal(s.log, ""); /* nothing before the loop runs */
  assert_true(test_loop_run_until(&loop, &s.done, 5000));
  assert_string_equal(s.log, "srS");
  assert_int_equal(s.bytes, 5);
  cronc_request_free(q);
  /* A second request, on the kept-alive connection, left waiting for its
   * read: shutdown (on the loop's thread) cancels it. */
  seen h = {0};
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hold", raw_tcp_server_port(srv));
  assert_int_equal(cronc_request_new(e, url, NULL, &CBS, &h, &q), CRONC_OK);
  assert_int_equal(cronc_request_start(q), CRONC_OK);
  bool started = false;
  for (int i = 0; i < 500 && !started; i++) {
    uv_run(&loop, UV_RUN_NOWAIT);
    started = h.n > 0;
    if (!started)
      test_loop_run_for(&loop, 5);
  }
  assert_string_equal(h.log, "s");
  assert_int_equal(cronc_engine_shutdown(e), CRONC_OK);
  assert_string_equal(h.log, "sC");
  cronc_request_free(q);
  cronc_engine_free(e);
  bool never = false;
  test_loop_run_until(&loop, &never, 100); /* let closes finish */
  assert_int_equal(uv_loop_close(&loop), 0);
  raw_tcp_server_free(srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_engine_runs_on_the_applications_loop),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
