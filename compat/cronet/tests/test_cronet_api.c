/* Programs written only against Cronet's C API (cronet_c.h), linked to
 * cronc's libcronet.so, against Caddy (h2, and h3 through a QUIC hint) and
 * scripted HTTP/1.1 servers: a GET with an application executor, a POST
 * with an UploadDataProvider, redirects followed and cancelled, failure
 * error codes, executor threading (shutdown from the network thread is
 * refused; shutdown with a request running succeeds and the request gets
 * exactly one OnCanceled), validation result codes, request-finished
 * listeners, buffer ownership, struct accessors, NetLog files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cronet_c.h"
#include "support/caddy_server.h"
#include "support/raw_tcp_server.h"
#include "support/task_queue.h"

static caddy_server *g_caddy;    /* h1 + h2 */
static caddy_server *g_caddy_h3; /* h1 + h2 + h3 */

/* ---- Executors -------------------------------------------------------------- */

static void run_and_destroy(void *arg) {
  Cronet_Runnable_Run(arg);
  Cronet_Runnable_Destroy(arg);
}

static void execute_on_queue(Cronet_ExecutorPtr self, Cronet_RunnablePtr command) {
  task_queue_post(Cronet_Executor_GetClientContext(self), run_and_destroy, command);
}

static void execute_inline(Cronet_ExecutorPtr self, Cronet_RunnablePtr command) {
  run_and_destroy(command); /* a direct executor: callbacks on the network thread */
}

static Cronet_ExecutorPtr queue_executor(task_queue *q) {
  Cronet_ExecutorPtr ex = Cronet_Executor_CreateWith(execute_on_queue);
  Cronet_Executor_SetClientContext(ex, q);
  return ex;
}

/* ---- A request's story -------------------------------------------------------- */

typedef struct story {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  task_queue *q;
  char log[64]; /* d redirect, s started, r read, S succeeded, F failed, C canceled */
  size_t n_log;
  char last; /* the last callback, also when log is full */
  int terminals;
  bool wrong_thread;
  bool follow;            /* at a redirect: follow (else cancel) */
  bool cancel_on_start;   /* cancel in OnResponseStarted instead of reading */
  bool shutdown_on_start; /* try Cronet_Engine_Shutdown in OnResponseStarted */
  Cronet_EnginePtr engine;
  Cronet_RESULT shutdown_rv;
  Cronet_RESULT follow_after_cancel;
  int64_t bytes;
  int status;
  char protocol[32];
  char new_location[256];
  uint32_t chain_at_redirect, chain_at_end, n_headers;
  int redirect_status;
  char proxy[32];
  Cronet_Error_ERROR_CODE error_code;
  int internal_error;
  char error_message[128];
  bool retryable;
  bool info_null_on_failure;
  Cronet_BufferPtr buffer; /* the read buffer, reused */
  bool buffer_came_back;
} story;

static void story_init(story *s, task_queue *q) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  s->q = q;
  s->follow = true;
}

static void story_free(story *s) {
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
}

static void note(story *s, char c) {
  pthread_mutex_lock(&s->mu);
  if (s->q && !task_queue_is_current(s->q))
    s->wrong_thread = true;
  if (s->n_log + 1 < sizeof s->log)
    s->log[s->n_log++] = c;
  s->last = c;
  if (c == 'S' || c == 'F' || c == 'C')
    s->terminals++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static bool wait_log(story *s, char c) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  while (!memchr(s->log, c, s->n_log) && rc == 0)
    rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
  bool ok = memchr(s->log, c, s->n_log) != NULL;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

static bool wait_end(story *s) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 10;
  pthread_mutex_lock(&s->mu);
  int rc = 0;
  while (!s->terminals && rc == 0)
    rc = pthread_cond_timedwait(&s->cv, &s->mu, &until);
  bool ok = s->terminals > 0;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

static story *story_of(Cronet_UrlRequestCallbackPtr self) {
  return Cronet_UrlRequestCallback_GetClientContext(self);
}

static void cb_redirect(Cronet_UrlRequestCallbackPtr self, Cronet_UrlRequestPtr req,
                        Cronet_UrlResponseInfoPtr info, Cronet_String new_location) {
  story *s = story_of(self);
  snprintf(s->new_location, sizeof s->new_location, "%s", new_location);
  s->redirect_status = Cronet_UrlResponseInfo_http_status_code_get(info);
  s->chain_at_redirect = Cronet_UrlResponseInfo_url_chain_size(info);
  note(s, 'd');
  if (s->follow) {
    assert_int_equal(Cronet_UrlRequest_FollowRedirect(req), Cronet_RESULT_SUCCESS);
  } else {
    Cronet_UrlRequest_Cancel(req);
    assert_true(Cronet_UrlRequest_IsDone(req));
    s->follow_after_cancel = Cronet_UrlRequest_FollowRedirect(req);
  }
}

static void cb_started(Cronet_UrlRequestCallbackPtr self, Cronet_UrlRequestPtr req,
                       Cronet_UrlResponseInfoPtr info) {
  story *s = story_of(self);
  s->status = Cronet_UrlResponseInfo_http_status_code_get(info);
  snprintf(s->protocol, sizeof s->protocol, "%s",
           Cronet_UrlResponseInfo_negotiated_protocol_get(info));
  snprintf(s->proxy, sizeof s->proxy, "%s", Cronet_UrlResponseInfo_proxy_server_get(info));
  s->n_headers = Cronet_UrlResponseInfo_all_headers_list_size(info);
  if (s->shutdown_on_start)
    s->shutdown_rv = Cronet_Engine_Shutdown(s->engine);
  note(s, 's');
  if (s->cancel_on_start) {
    Cronet_UrlRequest_Cancel(req);
    return;
  }
  assert_int_equal(Cronet_UrlRequest_Read(req, s->buffer), Cronet_RESULT_SUCCESS);
  /* A second Read before OnReadCompleted is refused. */
  assert_int_equal(Cronet_UrlRequest_Read(req, s->buffer),
                   Cronet_RESULT_ILLEGAL_STATE_UNEXPECTED_READ);
}

static void cb_read(Cronet_UrlRequestCallbackPtr self, Cronet_UrlRequestPtr req,
                    Cronet_UrlResponseInfoPtr info, Cronet_BufferPtr buffer, uint64_t n) {
  story *s = story_of(self);
  s->buffer_came_back = buffer == s->buffer;
  assert_true(n > 0 && n <= Cronet_Buffer_GetSize(buffer));
  s->bytes += (int64_t)n;
  note(s, 'r');
  assert_int_equal(Cronet_UrlRequest_Read(req, buffer), Cronet_RESULT_SUCCESS);
}

static void cb_succeeded(Cronet_UrlRequestCallbackPtr self, Cronet_UrlRequestPtr req,
                         Cronet_UrlResponseInfoPtr info) {
  story *s = story_of(self);
  s->chain_at_end = Cronet_UrlResponseInfo_url_chain_size(info);
  s->buffer = NULL; /* Cronet destroyed it: the last Read found the end */
  note(s, 'S');
}

static void cb_failed(Cronet_UrlRequestCallbackPtr self, Cronet_UrlRequestPtr req,
                      Cronet_UrlResponseInfoPtr info, Cronet_ErrorPtr error) {
  story *s = story_of(self);
  s->info_null_on_failure = info == NULL;
  s->error_code = Cronet_Error_error_code_get(error);
  s->internal_error = Cronet_Error_internal_error_code_get(error);
  s->retryable = Cronet_Error_immediately_retryable_get(error);
  snprintf(s->error_message, sizeof s->error_message, "%s", Cronet_Error_message_get(error));
  note(s, 'F');
}

static void cb_canceled(Cronet_UrlRequestCallbackPtr self, Cronet_UrlRequestPtr req,
                        Cronet_UrlResponseInfoPtr info) {
  note(story_of(self), 'C');
}

static Cronet_UrlRequestCallbackPtr new_callback(story *s) {
  Cronet_UrlRequestCallbackPtr cb = Cronet_UrlRequestCallback_CreateWith(
      cb_redirect, cb_started, cb_read, cb_succeeded, cb_failed, cb_canceled);
  Cronet_UrlRequestCallback_SetClientContext(cb, s);
  return cb;
}

/* ---- Engines and requests ------------------------------------------------- */

static char g_ca_bundle[256]; /* both Caddy CAs */

/* Cronet's API has no extra-CA parameter: cronc reads one from its own
 * experimental-options key ("cronc"), which Cronet would ignore. */
static void engine_options(char *buf, size_t n, const char *more) {
  snprintf(buf, n, "{\"cronc\":{\"extra_ca_file\":\"%s\"}%s%s}", g_ca_bundle, more ? "," : "",
           more ? more : "");
}

static Cronet_EnginePtr start_engine(const char *more_options) {
  Cronet_EnginePtr e = Cronet_Engine_Create();
  Cronet_EngineParamsPtr p = Cronet_EngineParams_Create();
  Cronet_EngineParams_user_agent_set(p, "cronet-test/1");
  char opts[1024];
  engine_options(opts, sizeof opts, more_options);
  Cronet_EngineParams_experimental_options_set(p, opts);
  assert_int_equal(Cronet_Engine_StartWithParams(e, p), Cronet_RESULT_SUCCESS);
  Cronet_EngineParams_Destroy(p); /* copied */
  return e;
}

static Cronet_UrlRequestPtr start_request(Cronet_EnginePtr e, const char *url, story *s,
                                          Cronet_UrlRequestCallbackPtr cb, Cronet_ExecutorPtr ex,
                                          Cronet_UrlRequestParamsPtr params) {
  Cronet_UrlRequestPtr r = Cronet_UrlRequest_Create();
  Cronet_UrlRequestParamsPtr own = params ? NULL : Cronet_UrlRequestParams_Create();
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, url, params ? params : own, cb, ex),
                   Cronet_RESULT_SUCCESS);
  Cronet_UrlRequestParams_Destroy(own); /* copied by InitWithParams */
  if (!s->buffer) {
    s->buffer = Cronet_Buffer_Create();
    Cronet_Buffer_InitWithAlloc(s->buffer, 32768);
  }
  assert_int_equal(Cronet_UrlRequest_Start(r), Cronet_RESULT_SUCCESS);
  return r;
}

static void caddy_url(char *buf, size_t n, caddy_server *c, const char *path) {
  snprintf(buf, n, "https://localhost:%u%s", caddy_server_port(c), path);
}

static int setup(void **state) {
  if (!caddy_available())
    return 0;
  caddy_options o;
  caddy_options_init(&o);
  o.extra_site_config = "redir /old /small.txt 302\nrespond /post \"posted\" 200";
  assert_int_equal(caddy_server_start(&o, &g_caddy), 0);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2 | CADDY_PROTO_H3;
  assert_int_equal(caddy_server_start(&o, &g_caddy_h3), 0);
  caddy_server *both[2] = {g_caddy, g_caddy_h3};
  uint8_t *big = malloc(200000);
  memset(big, 'b', 200000);
  for (int i = 0; i < 2; i++) {
    caddy_server_put_file(both[i], "small.txt", "hello\n", 6);
    caddy_server_put_file(both[i], "big.bin", big, 200000);
  }
  free(big);
  snprintf(g_ca_bundle, sizeof g_ca_bundle, "/tmp/cronet_test_ca_%d.pem", (int)getpid());
  FILE *f = fopen(g_ca_bundle, "w");
  assert_non_null(f);
  for (int i = 0; i < 2; i++) {
    FILE *in = fopen(caddy_server_root_ca(both[i]), "r");
    assert_non_null(in);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
      fwrite(buf, 1, n, f);
    fclose(in);
  }
  fclose(f);
  return 0;
}

static int teardown(void **state) {
  if (g_ca_bundle[0])
    unlink(g_ca_bundle);
  caddy_server_stop(g_caddy);
  caddy_server_stop(g_caddy_h3);
  return 0;
}

#define NEED_CADDY()                                                                               \
  do {                                                                                             \
    if (!g_caddy)                                                                                  \
      skip();                                                                                      \
  } while (0)

/* ---- GET with an application executor ------------------------------------- */

static void get_with_executor(caddy_server *c, const char *options, bool expect_h3) {
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(options);
  story s;
  story_init(&s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  caddy_url(url, sizeof url, c, "/big.bin");
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, NULL);
  assert_true(wait_end(&s));
  assert_int_equal(s.last, 'S');
  assert_int_equal(s.log[0], 's');
  assert_false(s.wrong_thread);
  assert_int_equal(s.terminals, 1);
  assert_int_equal(s.status, 200);
  assert_int_equal(s.bytes, 200000);
  assert_true(s.buffer_came_back);
  assert_true(s.n_headers > 0);
  assert_string_equal(s.proxy, ":0");
  if (expect_h3)
    print_message("negotiated over the QUIC-hinted origin: %s\n", s.protocol);
  else
    assert_string_equal(s.protocol, "h2");
  assert_true(Cronet_UrlRequest_IsDone(r));
  /* Read after the end: the buffer is destroyed, SUCCESS. */
  Cronet_BufferPtr late = Cronet_Buffer_Create();
  Cronet_Buffer_InitWithAlloc(late, 16);
  assert_int_equal(Cronet_UrlRequest_Read(r, late), Cronet_RESULT_SUCCESS);
  Cronet_UrlRequest_Destroy(r);
  Cronet_UrlRequestCallback_Destroy(cb);
  assert_int_equal(Cronet_Engine_Shutdown(e), Cronet_RESULT_SUCCESS);
  Cronet_Engine_Destroy(e);
  task_queue_stop(q);
  Cronet_Executor_Destroy(ex);
  story_free(&s);
}

static void test_get_with_an_application_executor_over_h2(void **state) {
  NEED_CADDY();
  get_with_executor(g_caddy, NULL, false);
}

static void test_get_with_a_quic_hint_over_h3_origin(void **state) {
  NEED_CADDY();
  /* The hint makes the engine try HTTP/3 first (if the QUIC layer cannot,
   * the TCP job serves the request: success either way). */
  Cronet_EnginePtr e = Cronet_Engine_Create();
  Cronet_EngineParamsPtr p = Cronet_EngineParams_Create();
  Cronet_QuicHintPtr h = Cronet_QuicHint_Create();
  Cronet_QuicHint_host_set(h, "localhost");
  Cronet_QuicHint_port_set(h, caddy_server_port(g_caddy_h3));
  Cronet_QuicHint_alternate_port_set(h, caddy_server_port(g_caddy_h3));
  Cronet_EngineParams_quic_hints_add(p, h);
  Cronet_QuicHint_Destroy(h); /* copied by _add */
  assert_int_equal(Cronet_EngineParams_quic_hints_size(p), 1);
  assert_string_equal(Cronet_QuicHint_host_get(Cronet_EngineParams_quic_hints_at(p, 0)),
                      "localhost");
  char opts[512];
  engine_options(opts, sizeof opts, NULL);
  Cronet_EngineParams_experimental_options_set(p, opts);
  assert_int_equal(Cronet_Engine_StartWithParams(e, p), Cronet_RESULT_SUCCESS);
  Cronet_EngineParams_Destroy(p);
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  story s;
  story_init(&s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  caddy_url(url, sizeof url, g_caddy_h3, "/small.txt");
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, NULL);
  assert_true(wait_end(&s));
  print_message("h3 origin answered over %s (%s)\n", s.protocol, s.log);
  assert_int_equal(s.last, 'S');
  assert_int_equal(s.bytes, 6);
  Cronet_UrlRequest_Destroy(r);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Engine_Destroy(e); /* Destroy shuts down */
  task_queue_stop(q);
  Cronet_Executor_Destroy(ex);
  story_free(&s);
}

/* ---- POST with an UploadDataProvider -------------------------------------- */

typedef struct upload {
  const char *data;
  size_t pos;
  int reads, rewinds, closes;
  task_queue *q;
  bool wrong_thread;
} upload;

static int64_t up_length(Cronet_UploadDataProviderPtr self) {
  return (int64_t)strlen(((upload *)Cronet_UploadDataProvider_GetClientContext(self))->data);
}

static void up_read(Cronet_UploadDataProviderPtr self, Cronet_UploadDataSinkPtr sink,
                    Cronet_BufferPtr buffer) {
  upload *u = Cronet_UploadDataProvider_GetClientContext(self);
  if (u->q && !task_queue_is_current(u->q))
    u->wrong_thread = true;
  u->reads++;
  size_t n = strlen(u->data) - u->pos;
  if (n > 4)
    n = 4; /* several reads */
  if (n > Cronet_Buffer_GetSize(buffer))
    n = Cronet_Buffer_GetSize(buffer);
  memcpy(Cronet_Buffer_GetData(buffer), u->data + u->pos, n);
  u->pos += n;
  Cronet_UploadDataSink_OnReadSucceeded(sink, n, false);
}

static void up_rewind(Cronet_UploadDataProviderPtr self, Cronet_UploadDataSinkPtr sink) {
  upload *u = Cronet_UploadDataProvider_GetClientContext(self);
  u->rewinds++;
  u->pos = 0;
  Cronet_UploadDataSink_OnRewindSucceeded(sink);
}

static void up_close(Cronet_UploadDataProviderPtr self) {
  ((upload *)Cronet_UploadDataProvider_GetClientContext(self))->closes++;
}

static void test_post_with_an_upload_data_provider(void **state) {
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0},
                         {RAW_READ_UNTIL, "cronet body", 11, 0},
                         {RAW_WRITE, ok, strlen(ok), 0},
                         {RAW_CLOSE, NULL, 0, 0}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 4);
  task_queue *q = task_queue_start(), *uq = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q), uex = queue_executor(uq);
  Cronet_EnginePtr e = start_engine(NULL);
  upload u = {"cronet body", 0, 0, 0, 0, uq, false};
  Cronet_UploadDataProviderPtr prov =
      Cronet_UploadDataProvider_CreateWith(up_length, up_read, up_rewind, up_close);
  Cronet_UploadDataProvider_SetClientContext(prov, &u);
  Cronet_UrlRequestParamsPtr p = Cronet_UrlRequestParams_Create();
  Cronet_UrlRequestParams_upload_data_provider_set(p, prov);
  Cronet_UrlRequestParams_upload_data_provider_executor_set(p, uex);
  Cronet_HttpHeaderPtr h = Cronet_HttpHeader_Create();
  Cronet_HttpHeader_name_set(h, "Content-Type");
  Cronet_HttpHeader_value_set(h, "text/plain");
  Cronet_UrlRequestParams_request_headers_add(p, h);
  Cronet_HttpHeader_Destroy(h);
  story s;
  story_init(&s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/post", raw_tcp_server_port(srv));
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, p);
  Cronet_UrlRequestParams_Destroy(p);
  assert_true(wait_end(&s));
  assert_string_equal(s.log, "srS");
  assert_string_equal(s.protocol, "unknown"); /* cleartext HTTP/1.1, as Cronet says */
  assert_int_equal(raw_tcp_server_wait(srv, 5000), 0);
  const char *got = raw_tcp_server_received(srv, NULL);
  assert_non_null(strstr(got, "POST /post HTTP/1.1\r\n")); /* POST: a provider is set */
  assert_non_null(strstr(got, "Content-Length: 11\r\n"));
  assert_non_null(strstr(got, "Content-Type: text/plain\r\n"));
  assert_non_null(strstr(got, "\r\n\r\ncronet body"));
  Cronet_UrlRequest_Destroy(r);
  Cronet_Engine_Destroy(e);
  task_queue_stop(q);
  task_queue_stop(uq);
  assert_int_equal(u.reads, 3);
  assert_int_equal(u.rewinds, 0);
  assert_int_equal(u.closes, 1);
  assert_false(u.wrong_thread);
  Cronet_UploadDataProvider_Destroy(prov);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Executor_Destroy(ex);
  Cronet_Executor_Destroy(uex);
  raw_tcp_server_free(srv);
  story_free(&s);
}

/* ---- Redirects ---------------------------------------------------------------- */

static void test_redirects_are_followed_or_cancelled(void **state) {
  NEED_CADDY();
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(NULL);
  char url[128], target[128];
  caddy_url(url, sizeof url, g_caddy, "/old");
  caddy_url(target, sizeof target, g_caddy, "/small.txt");
  story s;
  story_init(&s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, NULL);
  assert_true(wait_end(&s));
  assert_string_equal(s.log, "dsrS");
  assert_int_equal(s.redirect_status, 302);
  assert_string_equal(s.new_location, target);
  assert_int_equal(s.chain_at_redirect, 1);
  assert_int_equal(s.chain_at_end, 2);
  Cronet_UrlRequest_Destroy(r);
  /* Cancelled at the redirect: OnCanceled only; a late follow is refused. */
  story c;
  story_init(&c, q);
  c.follow = false;
  Cronet_UrlRequestCallbackPtr cb2 = new_callback(&c);
  r = start_request(e, url, &c, cb2, ex, NULL);
  assert_true(wait_end(&c));
  Cronet_Engine_Destroy(e);
  task_queue_stop(q);
  assert_string_equal(c.log, "dC");
  assert_int_equal(c.follow_after_cancel, Cronet_RESULT_ILLEGAL_STATE_UNEXPECTED_REDIRECT);
  Cronet_Buffer_Destroy(c.buffer); /* never given to Read */
  Cronet_UrlRequest_Destroy(r);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_UrlRequestCallback_Destroy(cb2);
  Cronet_Executor_Destroy(ex);
  story_free(&s);
  story_free(&c);
}

/* ---- Failures -------------------------------------------------------------------- */

static void fail_story(Cronet_EnginePtr e, Cronet_ExecutorPtr ex, task_queue *q, const char *url,
                       story *s) {
  story_init(s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(s);
  Cronet_UrlRequestPtr r = start_request(e, url, s, cb, ex, NULL);
  assert_true(wait_end(s));
  Cronet_UrlRequest_Destroy(r);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Buffer_Destroy(s->buffer);
}

static void test_failures_map_to_cronet_error_codes(void **state) {
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, NULL, 0);
  uint16_t closed = raw_tcp_server_port(srv);
  raw_tcp_server_free(srv); /* nobody listens there any more */
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(NULL);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/", closed);
  story s;
  fail_story(e, ex, q, url, &s);
  assert_string_equal(s.log, "F");
  assert_int_equal(s.error_code, Cronet_Error_ERROR_CODE_ERROR_CONNECTION_REFUSED);
  assert_int_equal(s.internal_error, -102);
  assert_string_equal(s.error_message, "net::ERR_CONNECTION_REFUSED");
  assert_false(s.retryable);
  assert_true(s.info_null_on_failure);
  story_free(&s);
  /* A URL Cronet does not check at init fails after Start (sample_test). */
  fail_story(e, ex, q, "http://localhost:99999", &s);
  assert_string_equal(s.log, "F");
  assert_int_equal(s.error_code, Cronet_Error_ERROR_CODE_ERROR_OTHER);
  assert_string_equal(s.error_message, "net::ERR_INVALID_URL");
  story_free(&s);
  Cronet_Engine_Destroy(e);
  task_queue_stop(q);
  Cronet_Executor_Destroy(ex);
}

/* ---- Threads and shutdown ------------------------------------------------------ */

static void test_shutdown_from_the_network_thread_is_refused(void **state) {
  NEED_CADDY();
  Cronet_ExecutorPtr direct = Cronet_Executor_CreateWith(execute_inline);
  Cronet_EnginePtr e = start_engine(NULL);
  story s;
  story_init(&s, NULL);
  s.shutdown_on_start = true;
  s.engine = e;
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  caddy_url(url, sizeof url, g_caddy, "/small.txt");
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, direct, NULL);
  assert_true(wait_end(&s));
  assert_int_equal(s.shutdown_rv,
                   Cronet_RESULT_ILLEGAL_STATE_CANNOT_SHUTDOWN_ENGINE_FROM_NETWORK_THREAD);
  assert_string_equal(s.log, "srS");
  Cronet_UrlRequest_Destroy(r);
  assert_int_equal(Cronet_Engine_Shutdown(e), Cronet_RESULT_SUCCESS);
  Cronet_Engine_Destroy(e);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Executor_Destroy(direct);
  story_free(&s);
}

static void test_shutdown_with_a_running_request_succeeds(void **state) {
  static const raw_action script[] = {
      {RAW_ACCEPT, NULL, 0, 0}, {RAW_READ_UNTIL, "\r\n\r\n", 4, 0}, {RAW_SLEEP_MS, NULL, 0, 2000}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 3);
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(NULL);
  story s;
  story_init(&s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/hang", raw_tcp_server_port(srv));
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, NULL);
  for (int i = 0; i < 500 && raw_tcp_server_accepted(srv) == 0; i++)
    nanosleep(&(struct timespec){0, 10000000}, NULL);
  assert_int_equal(Cronet_Engine_Shutdown(e), Cronet_RESULT_SUCCESS);
  assert_true(wait_end(&s));
  task_queue_stop(q);
  assert_string_equal(s.log, "C");
  assert_true(Cronet_UrlRequest_IsDone(r));
  Cronet_Buffer_Destroy(s.buffer);
  Cronet_UrlRequest_Destroy(r);
  Cronet_Engine_Destroy(e);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Executor_Destroy(ex);
  raw_tcp_server_free(srv);
  story_free(&s);
}

/* ---- Validation ------------------------------------------------------------------ */

static Cronet_RESULT start_with_pin(const char *host, const char *pin) {
  Cronet_EnginePtr e = Cronet_Engine_Create();
  Cronet_EngineParamsPtr p = Cronet_EngineParams_Create();
  Cronet_EngineParams_enable_check_result_set(p, false);
  Cronet_PublicKeyPinsPtr k = Cronet_PublicKeyPins_Create();
  Cronet_PublicKeyPins_host_set(k, host);
  if (pin)
    Cronet_PublicKeyPins_pins_sha256_add(k, pin);
  Cronet_PublicKeyPins_expiration_date_set(k, 4102444800000LL);
  Cronet_EngineParams_public_key_pins_add(p, k);
  Cronet_PublicKeyPins_Destroy(k);
  Cronet_RESULT rv = Cronet_Engine_StartWithParams(e, p);
  Cronet_EngineParams_Destroy(p);
  Cronet_Engine_Destroy(e);
  return rv;
}

#define GOOD_PIN "sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void test_engine_start_validates_like_cronet(void **state) {
  assert_int_equal(start_with_pin("", GOOD_PIN), Cronet_RESULT_NULL_POINTER_HOSTNAME);
  assert_int_equal(start_with_pin("host:1", GOOD_PIN),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_HOSTNAME);
  assert_int_equal(start_with_pin("example.com", NULL), Cronet_RESULT_NULL_POINTER_SHA256_PINS);
  assert_int_equal(start_with_pin("example.com", "sha256/short="),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_PIN);
  assert_int_equal(start_with_pin("example.com", "sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_PIN);
  assert_int_equal(start_with_pin("Example.COM", GOOD_PIN), Cronet_RESULT_SUCCESS);

  Cronet_EnginePtr e = Cronet_Engine_Create();
  Cronet_EngineParamsPtr p = Cronet_EngineParams_Create();
  Cronet_EngineParams_enable_check_result_set(p, false);
  Cronet_EngineParams_http_cache_mode_set(p, Cronet_EngineParams_HTTP_CACHE_MODE_DISK);
  assert_int_equal(Cronet_Engine_StartWithParams(e, p),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_STORAGE_PATH_MUST_EXIST);
  Cronet_EngineParams_storage_path_set(p, "/dev/null/cronet"); /* cannot exist */
  assert_int_equal(Cronet_Engine_StartWithParams(e, p),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_STORAGE_PATH_MUST_EXIST);
  Cronet_EngineParams_http_cache_mode_set(p, Cronet_EngineParams_HTTP_CACHE_MODE_DISABLED);
  Cronet_EngineParams_storage_path_set(p, "");
  Cronet_EngineParams_proxy_rules_set(p, "http=proxy:8080");
  assert_string_equal(Cronet_EngineParams_proxy_rules_get(p), "http=proxy:8080");
  assert_int_equal(Cronet_Engine_StartWithParams(e, p), Cronet_RESULT_ILLEGAL_ARGUMENT);
  Cronet_EngineParams_proxy_rules_set(p, "");
  /* Not JSON: logged and ignored, as Cronet's release builds do. An
   * invalid QUIC hint is skipped at start, not an error. */
  Cronet_EngineParams_experimental_options_set(p, "{not json");
  Cronet_QuicHintPtr h = Cronet_QuicHint_Create();
  Cronet_QuicHint_host_set(h, "bad/host");
  Cronet_QuicHint_port_set(h, 443);
  Cronet_QuicHint_alternate_port_set(h, 70000);
  Cronet_EngineParams_quic_hints_add(p, h);
  Cronet_QuicHint_Destroy(h);
  assert_int_equal(Cronet_Engine_StartWithParams(e, p), Cronet_RESULT_SUCCESS);
  assert_int_equal(Cronet_Engine_StartWithParams(e, p),
                   Cronet_RESULT_ILLEGAL_STATE_ENGINE_ALREADY_STARTED);
  Cronet_EngineParams_Destroy(p);

  /* UrlRequest_InitWithParams checks, in Cronet's order. */
  Cronet_ExecutorPtr ex = Cronet_Executor_CreateWith(execute_inline);
  story s;
  story_init(&s, NULL);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  Cronet_UrlRequestParamsPtr rp = Cronet_UrlRequestParams_Create();
  Cronet_UrlRequestPtr r = Cronet_UrlRequest_Create();
  assert_int_equal(Cronet_UrlRequest_Start(r), Cronet_RESULT_ILLEGAL_STATE_REQUEST_NOT_INITIALIZED);
  const char *u = "http://127.0.0.1:1/";
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, NULL, rp, cb, ex),
                   Cronet_RESULT_NULL_POINTER_URL);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, "", rp, cb, ex),
                   Cronet_RESULT_NULL_POINTER_URL);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, NULL, cb, ex),
                   Cronet_RESULT_NULL_POINTER_PARAMS);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, NULL, ex),
                   Cronet_RESULT_NULL_POINTER_CALLBACK);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, NULL),
                   Cronet_RESULT_NULL_POINTER_EXECUTOR);
  Cronet_UrlRequestParams_http_method_set(rp, "GET /");
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_HTTP_METHOD);
  Cronet_UrlRequestParams_http_method_set(rp, "PROPFIND"); /* any token */
  Cronet_HttpHeaderPtr hh = Cronet_HttpHeader_Create();
  Cronet_HttpHeader_value_set(hh, "v");
  Cronet_UrlRequestParams_request_headers_add(rp, hh);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex),
                   Cronet_RESULT_NULL_POINTER_HEADER_NAME);
  Cronet_UrlRequestParams_request_headers_clear(rp);
  Cronet_HttpHeader_name_set(hh, "X-Empty");
  Cronet_HttpHeader_value_set(hh, "");
  Cronet_UrlRequestParams_request_headers_add(rp, hh);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex),
                   Cronet_RESULT_NULL_POINTER_HEADER_VALUE);
  Cronet_UrlRequestParams_request_headers_clear(rp);
  Cronet_HttpHeader_name_set(hh, "Bad Name");
  Cronet_HttpHeader_value_set(hh, "v");
  Cronet_UrlRequestParams_request_headers_add(rp, hh);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex),
                   Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_HTTP_HEADER);
  Cronet_UrlRequestParams_request_headers_clear(rp);
  Cronet_HttpHeader_Destroy(hh);
  Cronet_RequestFinishedInfoListenerPtr l = Cronet_RequestFinishedInfoListener_CreateWith(NULL);
  Cronet_UrlRequestParams_request_finished_listener_set(rp, l);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex),
                   Cronet_RESULT_NULL_POINTER_REQUEST_FINISHED_INFO_LISTENER_EXECUTOR);
  Cronet_UrlRequestParams_request_finished_listener_set(rp, NULL);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex), Cronet_RESULT_SUCCESS);
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, u, rp, cb, ex),
                   Cronet_RESULT_ILLEGAL_STATE_REQUEST_ALREADY_INITIALIZED);
  assert_int_equal(Cronet_UrlRequest_FollowRedirect(r),
                   Cronet_RESULT_ILLEGAL_STATE_UNEXPECTED_REDIRECT);
  Cronet_BufferPtr b = Cronet_Buffer_Create();
  Cronet_Buffer_InitWithAlloc(b, 8);
  assert_int_equal(Cronet_UrlRequest_Read(r, b), Cronet_RESULT_ILLEGAL_STATE_UNEXPECTED_READ);
  Cronet_Buffer_Destroy(b);
  assert_false(Cronet_UrlRequest_IsDone(r));
  Cronet_UrlRequest_Cancel(r); /* not started: nothing happens */
  assert_false(Cronet_UrlRequest_IsDone(r));
  Cronet_UrlRequest_Destroy(r); /* allowed before Start */
  Cronet_UrlRequestParams_Destroy(rp);
  Cronet_RequestFinishedInfoListener_Destroy(l);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Engine_Destroy(e);
  Cronet_Executor_Destroy(ex);
  assert_string_equal(s.log, "");
  story_free(&s);
}

/* ---- Request-finished listeners and metrics ---------------------------------- */

typedef struct finished {
  pthread_mutex_t mu;
  int calls;
  Cronet_RequestFinishedInfo_FINISHED_REASON reason;
  uint32_t annotations;
  void *annotation;
  bool start, end, response;
  int64_t start_ms, end_ms, received;
} finished;

static void on_finished(Cronet_RequestFinishedInfoListenerPtr self,
                        Cronet_RequestFinishedInfoPtr info, Cronet_UrlResponseInfoPtr resp,
                        Cronet_ErrorPtr error) {
  finished *f = Cronet_RequestFinishedInfoListener_GetClientContext(self);
  pthread_mutex_lock(&f->mu);
  f->calls++;
  f->reason = Cronet_RequestFinishedInfo_finished_reason_get(info);
  f->annotations = Cronet_RequestFinishedInfo_annotations_size(info);
  f->annotation = f->annotations ? Cronet_RequestFinishedInfo_annotations_at(info, 0) : NULL;
  Cronet_MetricsPtr m = Cronet_RequestFinishedInfo_metrics_get(info);
  f->start = m && Cronet_Metrics_request_start_get(m);
  f->end = m && Cronet_Metrics_request_end_get(m);
  if (f->start && f->end) {
    f->start_ms = Cronet_DateTime_value_get(Cronet_Metrics_request_start_get(m));
    f->end_ms = Cronet_DateTime_value_get(Cronet_Metrics_request_end_get(m));
  }
  f->received = m ? Cronet_Metrics_received_byte_count_get(m) : -2;
  f->response = resp && Cronet_UrlResponseInfo_http_status_code_get(resp) == 200;
  pthread_mutex_unlock(&f->mu);
}

static void test_request_finished_listeners_get_metrics(void **state) {
  NEED_CADDY();
  task_queue *q = task_queue_start(), *lq = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q), lex = queue_executor(lq);
  Cronet_EnginePtr e = start_engine(NULL);
  finished fe = {0}, fr = {0};
  pthread_mutex_init(&fe.mu, NULL);
  pthread_mutex_init(&fr.mu, NULL);
  Cronet_RequestFinishedInfoListenerPtr le =
      Cronet_RequestFinishedInfoListener_CreateWith(on_finished);
  Cronet_RequestFinishedInfoListener_SetClientContext(le, &fe);
  Cronet_RequestFinishedInfoListenerPtr lr =
      Cronet_RequestFinishedInfoListener_CreateWith(on_finished);
  Cronet_RequestFinishedInfoListener_SetClientContext(lr, &fr);
  Cronet_Engine_AddRequestFinishedListener(e, le, lex);
  Cronet_UrlRequestParamsPtr p = Cronet_UrlRequestParams_Create();
  static int tag;
  Cronet_UrlRequestParams_annotations_add(p, &tag);
  Cronet_UrlRequestParams_request_finished_listener_set(p, lr);
  Cronet_UrlRequestParams_request_finished_executor_set(p, lex);
  story s;
  story_init(&s, q);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  caddy_url(url, sizeof url, g_caddy, "/small.txt");
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, p);
  Cronet_UrlRequestParams_Destroy(p);
  assert_true(wait_end(&s));
  Cronet_UrlRequest_Destroy(r); /* reports keep their own copies */
  Cronet_Engine_Destroy(e);
  task_queue_stop(q);
  task_queue_stop(lq);
  finished *both[2] = {&fe, &fr};
  for (int i = 0; i < 2; i++) {
    finished *f = both[i];
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->reason, Cronet_RequestFinishedInfo_FINISHED_REASON_SUCCEEDED);
    assert_int_equal(f->annotations, 1);
    assert_ptr_equal(f->annotation, &tag);
    assert_true(f->start && f->end);
    assert_true(f->end_ms >= f->start_ms && f->start_ms > 1600000000000LL);
    assert_true(f->received >= 6);
    assert_true(f->response);
    pthread_mutex_destroy(&f->mu);
  }
  Cronet_RequestFinishedInfoListener_Destroy(le);
  Cronet_RequestFinishedInfoListener_Destroy(lr);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Executor_Destroy(ex);
  Cronet_Executor_Destroy(lex);
  story_free(&s);
}

/* ---- Buffers ----------------------------------------------------------------------- */

static int g_buffer_destroyed;
static void on_buffer_destroy(Cronet_BufferCallbackPtr self, Cronet_BufferPtr buffer) {
  g_buffer_destroyed++;
  free(Cronet_Buffer_GetData(buffer));
}

static void test_buffers_go_back_through_their_callback(void **state) {
  Cronet_BufferCallbackPtr bc = Cronet_BufferCallback_CreateWith(on_buffer_destroy);
  Cronet_BufferPtr b = Cronet_Buffer_Create();
  Cronet_Buffer_SetClientContext(b, &g_buffer_destroyed);
  assert_ptr_equal(Cronet_Buffer_GetClientContext(b), &g_buffer_destroyed);
  Cronet_Buffer_InitWithDataAndCallback(b, malloc(100), 100, bc);
  assert_int_equal(Cronet_Buffer_GetSize(b), 100);
  Cronet_Buffer_Destroy(b);
  assert_int_equal(g_buffer_destroyed, 1);
  Cronet_BufferPtr a = Cronet_Buffer_Create();
  Cronet_Buffer_InitWithAlloc(a, 0);
  assert_int_equal(Cronet_Buffer_GetSize(a), 0);
  Cronet_Buffer_Destroy(a);
  NEED_CADDY();
  /* A buffer held by a request that gets cancelled is destroyed by it. */
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(NULL);
  story s;
  story_init(&s, q);
  s.buffer = Cronet_Buffer_Create();
  Cronet_Buffer_InitWithDataAndCallback(s.buffer, malloc(16), 16, bc);
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  char url[128];
  caddy_url(url, sizeof url, g_caddy, "/big.bin");
  Cronet_UrlRequestPtr r = start_request(e, url, &s, cb, ex, NULL);
  assert_true(wait_log(&s, 'r'));
  Cronet_UrlRequest_Cancel(r);
  assert_true(wait_end(&s));
  task_queue_stop(q);
  assert_int_equal(s.last, 'C'); /* many reads, then only OnCanceled */
  assert_int_equal(s.terminals, 1);
  assert_int_equal(g_buffer_destroyed, 2);
  Cronet_UrlRequest_Destroy(r);
  Cronet_Engine_Destroy(e);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_BufferCallback_Destroy(bc);
  Cronet_Executor_Destroy(ex);
  story_free(&s);
}

/* ---- Structs, version, NetLog -------------------------------------------------- */

static void test_struct_defaults_and_accessors(void **state) {
  Cronet_EngineParamsPtr p = Cronet_EngineParams_Create();
  assert_true(Cronet_EngineParams_enable_check_result_get(p));
  assert_true(Cronet_EngineParams_enable_quic_get(p));
  assert_true(Cronet_EngineParams_enable_http2_get(p));
  assert_true(Cronet_EngineParams_enable_brotli_get(p));
  assert_true(Cronet_EngineParams_enable_public_key_pinning_bypass_for_local_trust_anchors_get(p));
  assert_true(isnan(Cronet_EngineParams_network_thread_priority_get(p)));
  assert_string_equal(Cronet_EngineParams_user_agent_get(p), "");
  char ua[16] = "agent";
  Cronet_EngineParams_user_agent_set(p, ua);
  ua[0] = 'X'; /* copied */
  assert_string_equal(Cronet_EngineParams_user_agent_get(p), "agent");
  assert_int_equal(Cronet_EngineParams_http_cache_mode_get(p),
                   Cronet_EngineParams_HTTP_CACHE_MODE_DISABLED);
  Cronet_EngineParams_Destroy(p);

  Cronet_UrlRequestParamsPtr rp = Cronet_UrlRequestParams_Create();
  assert_int_equal(Cronet_UrlRequestParams_priority_get(rp),
                   Cronet_UrlRequestParams_REQUEST_PRIORITY_REQUEST_PRIORITY_MEDIUM);
  assert_int_equal(Cronet_UrlRequestParams_idempotency_get(rp),
                   Cronet_UrlRequestParams_IDEMPOTENCY_DEFAULT_IDEMPOTENCY);
  assert_null(Cronet_UrlRequestParams_request_headers_at(rp, 0));
  Cronet_UrlRequestParams_Destroy(rp);

  Cronet_MetricsPtr m = Cronet_Metrics_Create();
  assert_null(Cronet_Metrics_dns_start_get(m));
  assert_int_equal(Cronet_Metrics_sent_byte_count_get(m), -1);
  assert_int_equal(Cronet_Metrics_received_byte_count_get(m), -1);
  Cronet_DateTimePtr d = Cronet_DateTime_Create();
  Cronet_DateTime_value_set(d, 42);
  Cronet_Metrics_dns_start_set(m, d);
  Cronet_DateTime_Destroy(d); /* copied */
  assert_int_equal(Cronet_DateTime_value_get(Cronet_Metrics_dns_start_get(m)), 42);
  Cronet_Metrics_dns_start_set(m, NULL);
  assert_null(Cronet_Metrics_dns_start_get(m));
  Cronet_Metrics_Destroy(m);

  Cronet_ErrorPtr err = Cronet_Error_Create();
  assert_int_equal(Cronet_Error_error_code_get(err), Cronet_Error_ERROR_CODE_ERROR_CALLBACK);
  assert_string_equal(Cronet_Error_message_get(err), "");
  Cronet_Error_Destroy(err);

  Cronet_UrlResponseInfoPtr ri = Cronet_UrlResponseInfo_Create();
  Cronet_UrlResponseInfo_url_chain_add(ri, "a");
  Cronet_UrlResponseInfo_url_chain_add(ri, "b");
  assert_int_equal(Cronet_UrlResponseInfo_url_chain_size(ri), 2);
  assert_string_equal(Cronet_UrlResponseInfo_url_chain_at(ri, 1), "b");
  Cronet_UrlResponseInfo_url_chain_clear(ri);
  assert_int_equal(Cronet_UrlResponseInfo_url_chain_size(ri), 0);
  Cronet_UrlResponseInfo_Destroy(ri);
  /* NULL and unknown objects are refused quietly. */
  Cronet_Engine_Destroy(NULL);
  assert_null(Cronet_Executor_GetClientContext(NULL));
  assert_int_equal(Cronet_UrlRequest_Start(NULL), Cronet_RESULT_NULL_POINTER);
}

static void test_version_user_agent_and_netlog(void **state) {
  Cronet_EnginePtr e = Cronet_Engine_Create();
  const char *v = Cronet_Engine_GetVersionString(e);
  assert_true(strlen(v) > 0);
  assert_non_null(strstr(Cronet_Engine_GetDefaultUserAgent(e), v));
  assert_false(Cronet_Engine_StartNetLogToFile(e, "/tmp/never.json", false)); /* not started */
  Cronet_Engine_StopNetLog(e);                                                /* no-op */
  assert_int_equal(Cronet_Engine_Shutdown(e), Cronet_RESULT_SUCCESS);         /* never started */
  Cronet_Engine_Destroy(e);
  e = start_engine(NULL);
  char path[64];
  snprintf(path, sizeof path, "/tmp/cronet_netlog_%d.json", (int)getpid());
  assert_false(Cronet_Engine_StartNetLogToFile(e, "bad/file/name", false));
  assert_true(Cronet_Engine_StartNetLogToFile(e, path, true));
  assert_false(Cronet_Engine_StartNetLogToFile(e, path, true)); /* already logging */
  Cronet_Engine_StopNetLog(e);
  Cronet_Engine_StopNetLog(e);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char head[32] = {0};
  assert_true(fread(head, 1, sizeof head - 1, f) > 0);
  fclose(f);
  assert_non_null(strstr(head, "constants"));
  unlink(path);
  Cronet_Engine_Destroy(e);
}

/* ---- More upload rules: chunked over HTTP/2, provider errors --------------------- */

typedef struct chunked {
  int reads, closes;
  bool fail;
} chunked;

static int64_t ch_length(Cronet_UploadDataProviderPtr self) { return -1; }

static void ch_read(Cronet_UploadDataProviderPtr self, Cronet_UploadDataSinkPtr sink,
                    Cronet_BufferPtr buffer) {
  chunked *c = Cronet_UploadDataProvider_GetClientContext(self);
  if (c->fail) {
    Cronet_UploadDataSink_OnReadError(sink, "disk on fire");
    return;
  }
  c->reads++;
  memcpy(Cronet_Buffer_GetData(buffer), "chunk", 5);
  Cronet_UploadDataSink_OnReadSucceeded(sink, 5, c->reads == 3); /* 3 chunks, the last final */
}

static void ch_close(Cronet_UploadDataProviderPtr self) {
  ((chunked *)Cronet_UploadDataProvider_GetClientContext(self))->closes++;
}

static void post_chunked(const char *url, chunked *c, story *s, Cronet_EnginePtr e,
                         Cronet_ExecutorPtr ex) {
  Cronet_UploadDataProviderPtr prov =
      Cronet_UploadDataProvider_CreateWith(ch_length, ch_read, NULL, ch_close);
  Cronet_UploadDataProvider_SetClientContext(prov, c);
  Cronet_UrlRequestParamsPtr p = Cronet_UrlRequestParams_Create();
  Cronet_UrlRequestParams_upload_data_provider_set(p, prov);
  Cronet_UrlRequestCallbackPtr cb = new_callback(s);
  Cronet_UrlRequestPtr r = start_request(e, url, s, cb, ex, p);
  Cronet_UrlRequestParams_Destroy(p);
  assert_true(wait_end(s));
  Cronet_UrlRequest_Destroy(r);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_UploadDataProvider_Destroy(prov);
}

static void test_chunked_upload_over_h2_and_provider_errors(void **state) {
  NEED_CADDY();
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(NULL);
  char url[128];
  caddy_url(url, sizeof url, g_caddy, "/post");
  chunked ok = {0};
  story s;
  story_init(&s, q);
  post_chunked(url, &ok, &s, e, ex);
  print_message("chunked POST over %s: %s, %d reads %s\n", s.protocol, s.log, ok.reads,
                s.error_message);
  assert_string_equal(s.log, "srS");
  assert_string_equal(s.protocol, "h2");
  assert_int_equal(s.bytes, 6); /* "posted" */
  /* Caddy answers without reading the body: the provider is closed once
   * the response starts, so fewer reads may be asked. */
  assert_true(ok.reads >= 1 && ok.reads <= 3);
  story_free(&s);
  /* A provider error: ERROR_CALLBACK, internal code 0, Cronet's message.
   * (A server that waits for the body, so the error cannot lose the race
   * against an early response.) */
  static const raw_action script[] = {{RAW_ACCEPT, NULL, 0, 0}, {RAW_WAIT_CLOSE, NULL, 0, 0}};
  raw_tcp_server *srv = raw_tcp_server_start("127.0.0.1", 0, script, 2);
  snprintf(url, sizeof url, "http://127.0.0.1:%u/post", raw_tcp_server_port(srv));
  chunked bad = {.fail = true};
  story_init(&s, q);
  post_chunked(url, &bad, &s, e, ex);
  assert_string_equal(s.log, "F");
  assert_int_equal(s.error_code, Cronet_Error_ERROR_CODE_ERROR_CALLBACK);
  assert_int_equal(s.internal_error, 0);
  assert_string_equal(s.error_message, "Failure from UploadDataProvider: disk on fire");
  Cronet_Buffer_Destroy(s.buffer);
  story_free(&s);
  Cronet_Engine_Destroy(e);
  task_queue_stop(q);
  assert_int_equal(ok.closes, 1);
  assert_int_equal(bad.closes, 1);
  Cronet_Executor_Destroy(ex);
  raw_tcp_server_free(srv);
}

/* ---- Status listener --------------------------------------------------------- */

static int g_status = -100;
static void on_status(Cronet_UrlRequestStatusListenerPtr self,
                      Cronet_UrlRequestStatusListener_Status status) {
  g_status = status;
}

static void test_status_listener_reports_the_load_state(void **state) {
  NEED_CADDY();
  task_queue *q = task_queue_start();
  Cronet_ExecutorPtr ex = queue_executor(q);
  Cronet_EnginePtr e = start_engine(NULL);
  Cronet_UrlRequestStatusListenerPtr l = Cronet_UrlRequestStatusListener_CreateWith(on_status);
  story s;
  story_init(&s, q);
  s.cancel_on_start = false;
  Cronet_UrlRequestCallbackPtr cb = new_callback(&s);
  Cronet_UrlRequestPtr r = Cronet_UrlRequest_Create();
  Cronet_UrlRequestParamsPtr p = Cronet_UrlRequestParams_Create();
  char url[128];
  caddy_url(url, sizeof url, g_caddy, "/small.txt");
  assert_int_equal(Cronet_UrlRequest_InitWithParams(r, e, url, p, cb, ex), Cronet_RESULT_SUCCESS);
  Cronet_UrlRequestParams_Destroy(p);
  Cronet_UrlRequest_GetStatus(r, l); /* not started: INVALID, through the executor */
  task_queue_stop(q);
  assert_int_equal(g_status, Cronet_UrlRequestStatusListener_Status_INVALID);
  Cronet_UrlRequest_Destroy(r);
  Cronet_Engine_Destroy(e);
  Cronet_UrlRequestStatusListener_Destroy(l);
  Cronet_UrlRequestCallback_Destroy(cb);
  Cronet_Executor_Destroy(ex);
  story_free(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_with_an_application_executor_over_h2),
      cmocka_unit_test(test_get_with_a_quic_hint_over_h3_origin),
      cmocka_unit_test(test_post_with_an_upload_data_provider),
      cmocka_unit_test(test_redirects_are_followed_or_cancelled),
      cmocka_unit_test(test_failures_map_to_cronet_error_codes),
      cmocka_unit_test(test_shutdown_from_the_network_thread_is_refused),
      cmocka_unit_test(test_shutdown_with_a_running_request_succeeds),
      cmocka_unit_test(test_engine_start_validates_like_cronet),
      cmocka_unit_test(test_request_finished_listeners_get_metrics),
      cmocka_unit_test(test_buffers_go_back_through_their_callback),
      cmocka_unit_test(test_struct_defaults_and_accessors),
      cmocka_unit_test(test_version_user_agent_and_netlog),
      cmocka_unit_test(test_chunked_upload_over_h2_and_provider_errors),
      cmocka_unit_test(test_status_listener_reports_the_load_state),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
