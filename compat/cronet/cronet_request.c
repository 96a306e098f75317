/* Cronet_UrlRequest on a cronc request. cronc delivers its callbacks
 * through an adapter executor that wraps each one in a Cronet_Runnable for
 * the application's Cronet_Executor; there the callback refreshes the
 * request's Cronet_UrlResponseInfo (owned by the request, valid until
 * Destroy) and calls the application's Cronet_UrlRequestCallback.
 *
 * The flags that make the Cronet result codes (waiting_redirect,
 * waiting_read, done) are under the request's mutex because the
 * application may call Read/FollowRedirect/Cancel from any thread. Nothing
 * here waits for the network thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cronet_internal.h"

typedef struct request_impl {
  pthread_mutex_t mu;
  Cronet_UrlRequestPtr self;
  cronet_engine *engine;
  cronc_request *req;
  int init_error; /* a URL cronc refused: reported by OnFailed after Start */
  char *url;
  Cronet_UrlRequestCallbackPtr callback;
  Cronet_ExecutorPtr executor;
  cronc_executor cexec, cupload_exec;
  Cronet_UrlRequestParams params; /* copy: annotations, listener, provider */
  Cronet_UploadDataSinkPtr sink;
  Cronet_BufferPtr upload_buffer; /* wraps cronc's buffer of the current read */
  bool initialized, started, done, waiting_redirect, waiting_read;
  Cronet_BufferPtr read_buffer; /* held between Read and OnReadCompleted */
  Cronet_UrlResponseInfoPtr info;
  Cronet_ErrorPtr error;
} request_impl;

static void request_destroy(Cronet_UrlRequestPtr self) {
  request_impl *r = self->impl;
  if (!r)
    return;
  pthread_mutex_lock(&r->mu);
  bool running = r->started && !r->done;
  pthread_mutex_unlock(&r->mu);
  if (running) {
    /* Cronet crashes here; cronc cancels and keeps the memory (its
     * callbacks still point to it). */
    fprintf(stderr, "cronet: Cronet_UrlRequest_Destroy on a running request; leaking it\n");
    cronc_request_cancel(r->req);
    self->impl = NULL;
    return;
  }
  cronc_request_free(r->req);
  Cronet_Buffer_Destroy(r->read_buffer);
  Cronet_Buffer_Destroy(r->upload_buffer);
  Cronet_UploadDataSink_Destroy(r->sink);
  Cronet_UrlResponseInfo_Destroy(r->info);
  Cronet_Error_Destroy(r->error);
  cronet_UrlRequestParams_release(&r->params);
  free(r->url);
  pthread_mutex_destroy(&r->mu);
  free(r);
  self->impl = NULL;
}

bool cronet_impl_UrlRequest_init(Cronet_UrlRequestPtr self) {
  request_impl *r = calloc(1, sizeof *r);
  if (!r)
    return false;
  pthread_mutex_init(&r->mu, NULL);
  r->self = self;
  self->impl = r;
  self->impl_destroy = request_destroy;
  return true;
}

/* ---- Response info -------------------------------------------------------- */

static void fill_info(request_impl *r, const cronc_response_info *i) {
  if (!i)
    return;
  if (!r->info && !(r->info = Cronet_UrlResponseInfo_Create()))
    return;
  Cronet_UrlResponseInfoPtr o = r->info;
  Cronet_UrlResponseInfo_url_set(o, i->url);
  Cronet_UrlResponseInfo_url_chain_clear(o);
  for (size_t k = 0; k < i->n_url_chain; k++)
    Cronet_UrlResponseInfo_url_chain_add(o, i->url_chain[k]);
  Cronet_UrlResponseInfo_http_status_code_set(o, i->http_status);
  Cronet_UrlResponseInfo_http_status_text_set(o, i->http_status_text);
  Cronet_UrlResponseInfo_all_headers_list_clear(o);
  Cronet_HttpHeader h = {0};
  for (size_t k = 0; k < i->n_headers; k++) {
    h.name = (char *)i->headers[k].name;
    h.value = (char *)i->headers[k].value;
    Cronet_UrlResponseInfo_all_headers_list_add(o, &h); /* copies */
  }
  Cronet_UrlResponseInfo_was_cached_set(o, i->was_cached);
  /* Cronet says "unknown" for cleartext HTTP/1.x (no ALPN). */
  const char *proto = i->negotiated_protocol;
  if (!*proto || (strcmp(proto, "http/1.1") == 0 && strncmp(i->url, "http:", 5) == 0))
    proto = "unknown";
  Cronet_UrlResponseInfo_negotiated_protocol_set(o, proto);
  /* Cronet gives ":0" (an empty HostPortPair) for a direct connection. */
  Cronet_UrlResponseInfo_proxy_server_set(o, *i->proxy_server ? i->proxy_server : ":0");
  Cronet_UrlResponseInfo_received_byte_count_set(o, i->received_byte_count);
}

static void set_date(Cronet_MetricsPtr m, void (*set)(Cronet_MetricsPtr, const Cronet_DateTimePtr),
                     int64_t us) {
  if (us < 0)
    return;
  Cronet_DateTime d = {us / 1000};
  set(m, &d);
}

static void fill_metrics(Cronet_MetricsPtr m, const cronc_metrics *c) {
  set_date(m, Cronet_Metrics_request_start_set, c->request_start_us);
  set_date(m, Cronet_Metrics_dns_start_set, c->dns_start_us);
  set_date(m, Cronet_Metrics_dns_end_set, c->dns_end_us);
  set_date(m, Cronet_Metrics_connect_start_set, c->connect_start_us);
  set_date(m, Cronet_Metrics_connect_end_set, c->connect_end_us);
  set_date(m, Cronet_Metrics_ssl_start_set, c->ssl_start_us);
  set_date(m, Cronet_Metrics_ssl_end_set, c->ssl_end_us);
  set_date(m, Cronet_Metrics_sending_start_set, c->sending_start_us);
  set_date(m, Cronet_Metrics_sending_end_set, c->sending_end_us);
  set_date(m, Cronet_Metrics_push_start_set, c->push_start_us);
  set_date(m, Cronet_Metrics_push_end_set, c->push_end_us);
  set_date(m, Cronet_Metrics_response_start_set, c->response_start_us);
  set_date(m, Cronet_Metrics_request_end_set, c->request_end_us);
  Cronet_Metrics_socket_reused_set(m, c->socket_reused);
  Cronet_Metrics_sent_byte_count_set(m, c->sent_byte_count);
  Cronet_Metrics_received_byte_count_set(m, c->received_byte_count);
}

/* ---- Request-finished reports --------------------------------------------- */

/* One report shared by every listener of one request; copies, so it stays
 * valid whatever the application does with the request. */
typedef struct report {
  pthread_mutex_t mu;
  int refs;
  Cronet_RequestFinishedInfoPtr info;
  Cronet_UrlResponseInfoPtr response;
  Cronet_ErrorPtr error;
} report;

typedef struct report_call {
  report *rep;
  Cronet_RequestFinishedInfoListenerPtr listener;
} report_call;

static void report_unref(report *rep) {
  pthread_mutex_lock(&rep->mu);
  int left = --rep->refs;
  pthread_mutex_unlock(&rep->mu);
  if (left)
    return;
  Cronet_RequestFinishedInfo_Destroy(rep->info);
  Cronet_UrlResponseInfo_Destroy(rep->response);
  Cronet_Error_Destroy(rep->error);
  pthread_mutex_destroy(&rep->mu);
  free(rep);
}

static void report_run(void *arg) {
  report_call *c = arg;
  Cronet_RequestFinishedInfoListener_OnRequestFinished(c->listener, c->rep->info, c->rep->response,
                                                       c->rep->error);
  report_unref(c->rep);
  free(c);
}

static void report_drop(void *arg) {
  report_call *c = arg;
  report_unref(c->rep);
  free(c);
}

static void post_report(report *rep, Cronet_RequestFinishedInfoListenerPtr l,
                        Cronet_ExecutorPtr ex) {
  report_call *c = malloc(sizeof *c);
  if (!c)
    return;
  pthread_mutex_lock(&rep->mu);
  rep->refs++;
  pthread_mutex_unlock(&rep->mu);
  *c = (report_call){rep, l};
  cronet_post(ex, report_run, report_drop, c);
}

static void report_finished(request_impl *r, Cronet_RequestFinishedInfo_FINISHED_REASON reason,
                            const cronc_metrics *m) {
  size_t n = 0;
  cronet_listener *ls = cronet_engine_listeners(r->engine, &n);
  bool own = r->params.request_finished_listener && r->params.request_finished_executor;
  if (!n && !own) {
    free(ls);
    return;
  }
  report *rep = calloc(1, sizeof *rep);
  if (!rep || !(rep->info = Cronet_RequestFinishedInfo_Create())) {
    free(rep);
    free(ls);
    return;
  }
  pthread_mutex_init(&rep->mu, NULL);
  rep->refs = 1;
  Cronet_RequestFinishedInfo_finished_reason_set(rep->info, reason);
  for (uint32_t i = 0; i < r->params.n_annotations; i++)
    Cronet_RequestFinishedInfo_annotations_add(rep->info, r->params.annotations[i]);
  Cronet_MetricsPtr metrics = Cronet_Metrics_Create();
  if (metrics) {
    if (m)
      fill_metrics(metrics, m);
    Cronet_RequestFinishedInfo_metrics_set(rep->info, metrics);
    Cronet_Metrics_Destroy(metrics);
  }
  if (r->info && (rep->response = Cronet_UrlResponseInfo_Create()))
    cronet_UrlResponseInfo_copy(rep->response, r->info);
  if (reason == Cronet_RequestFinishedInfo_FINISHED_REASON_FAILED && r->error &&
      (rep->error = Cronet_Error_Create()))
    cronet_Error_copy(rep->error, r->error);
  for (size_t i = 0; i < n; i++)
    post_report(rep, ls[i].listener, ls[i].executor);
  if (own)
    post_report(rep, r->params.request_finished_listener, r->params.request_finished_executor);
  report_unref(rep);
  free(ls);
}

/* ---- cronc callbacks (on the application's executor) ---------------------- */

static void end(request_impl *r) {
  pthread_mutex_lock(&r->mu);
  r->done = true;
  r->waiting_read = r->waiting_redirect = false;
  Cronet_BufferPtr held = r->read_buffer;
  r->read_buffer = NULL;
  pthread_mutex_unlock(&r->mu);
  /* A buffer Cronet holds when the request ends is destroyed by Cronet. */
  Cronet_Buffer_Destroy(held);
}

static void on_redirect(cronc_request *q, void *ud, const cronc_response_info *i, const char *loc) {
  request_impl *r = ud;
  fill_info(r, i);
  pthread_mutex_lock(&r->mu);
  r->waiting_redirect = true;
  pthread_mutex_unlock(&r->mu);
  Cronet_UrlRequestCallback_OnRedirectReceived(r->callback, r->self, r->info, loc);
}

static void on_started(cronc_request *q, void *ud, const cronc_response_info *i) {
  request_impl *r = ud;
  fill_info(r, i);
  pthread_mutex_lock(&r->mu);
  r->waiting_read = true;
  pthread_mutex_unlock(&r->mu);
  Cronet_UrlRequestCallback_OnResponseStarted(r->callback, r->self, r->info);
}

static void on_read(cronc_request *q, void *ud, const cronc_response_info *i, uint8_t *b,
                    size_t n) {
  request_impl *r = ud;
  if (r->info)
    Cronet_UrlResponseInfo_received_byte_count_set(r->info, i->received_byte_count);
  pthread_mutex_lock(&r->mu);
  Cronet_BufferPtr buf = r->read_buffer;
  r->read_buffer = NULL;
  r->waiting_read = true;
  pthread_mutex_unlock(&r->mu);
  Cronet_UrlRequestCallback_OnReadCompleted(r->callback, r->self, r->info, buf, n);
}

static void on_succeeded(cronc_request *q, void *ud, const cronc_response_info *i) {
  request_impl *r = ud;
  fill_info(r, i);
  end(r);
  report_finished(r, Cronet_RequestFinishedInfo_FINISHED_REASON_SUCCEEDED, i->metrics);
  Cronet_UrlRequestCallback_OnSucceeded(r->callback, r->self, r->info); /* may Destroy */
}

static void set_error(request_impl *r, int net_error, const cronc_error_info *ei) {
  if (!r->error && !(r->error = Cronet_Error_Create()))
    return;
  if (ei && ei->callback_error) {
    Cronet_Error_error_code_set(r->error, Cronet_Error_ERROR_CODE_ERROR_CALLBACK);
    Cronet_Error_internal_error_code_set(r->error, 0);
    Cronet_Error_immediately_retryable_set(r->error, false);
  } else {
    Cronet_Error_error_code_set(r->error, cronet_error_code(net_error));
    Cronet_Error_internal_error_code_set(r->error, net_error);
    Cronet_Error_immediately_retryable_set(r->error, ei && ei->immediately_retryable);
  }
  Cronet_Error_quic_detailed_error_code_set(r->error, ei ? ei->quic_error : 0);
  char msg[64];
  snprintf(msg, sizeof msg, "net::%s", cronc_error_name(net_error));
  Cronet_Error_message_set(r->error, ei ? ei->message : msg);
}

static void on_failed(cronc_request *q, void *ud, const cronc_response_info *i, int e) {
  request_impl *r = ud;
  cronc_error_info ei;
  bool have = cronc_request_get_error(q, &ei);
  fill_info(r, i);
  set_error(r, e, have ? &ei : NULL);
  end(r);
  const cronc_metrics *m = i ? i->metrics : NULL;
  report_finished(r, Cronet_RequestFinishedInfo_FINISHED_REASON_FAILED, m);
  Cronet_UrlRequestCallback_OnFailed(r->callback, r->self, i ? r->info : NULL, r->error);
}

static void on_canceled(cronc_request *q, void *ud, const cronc_response_info *i) {
  request_impl *r = ud;
  fill_info(r, i);
  end(r);
  report_finished(r, Cronet_RequestFinishedInfo_FINISHED_REASON_CANCELED, i ? i->metrics : NULL);
  Cronet_UrlRequestCallback_OnCanceled(r->callback, r->self, i ? r->info : NULL);
}

static const cronc_request_callbacks CALLBACKS = {on_redirect,  on_started, on_read,
                                                  on_succeeded, on_failed,  on_canceled};

/* ---- The upload provider behind cronc's (on the upload executor) ---------- */

static int64_t up_length(void *ud) {
  request_impl *r = ud;
  return Cronet_UploadDataProvider_GetLength(r->params.upload_data_provider);
}

static void up_read(void *ud, cronc_upload_sink *sink, uint8_t *buf, size_t len) {
  request_impl *r = ud;
  r->sink->impl = sink;
  /* A Cronet buffer over cronc's memory; its callback frees nothing. */
  Cronet_Buffer_Destroy(r->upload_buffer);
  r->upload_buffer = Cronet_Buffer_Create();
  if (!r->upload_buffer) {
    cronc_upload_sink_read_error(sink, "out of memory");
    return;
  }
  Cronet_Buffer_InitWithDataAndCallback(r->upload_buffer, buf, len, NULL);
  Cronet_UploadDataProvider_Read(r->params.upload_data_provider, r->sink, r->upload_buffer);
}

static void up_rewind(void *ud, cronc_upload_sink *sink) {
  request_impl *r = ud;
  r->sink->impl = sink;
  Cronet_UploadDataProvider_Rewind(r->params.upload_data_provider, r->sink);
}

static void up_close(void *ud) {
  request_impl *r = ud;
  Cronet_UploadDataProvider_Close(r->params.upload_data_provider);
}

/* ---- Cronet_UrlRequest methods -------------------------------------------- */

/* RFC 9110 token (a method, a header name). */
static bool is_token(const char *s) {
  if (!s || !*s)
    return false;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c <= 32 || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c))
      return false;
  }
  return true;
}

static bool valid_header_value(const char *s) {
  for (; *s; s++)
    if (*s == '\r' || *s == '\n')
      return false;
  return true;
}

static cronc_priority to_priority(Cronet_UrlRequestParams_REQUEST_PRIORITY p) {
  return p >= Cronet_UrlRequestParams_REQUEST_PRIORITY_REQUEST_PRIORITY_IDLE &&
                 p <= Cronet_UrlRequestParams_REQUEST_PRIORITY_REQUEST_PRIORITY_HIGHEST
             ? (cronc_priority)p
             : CRONC_PRIORITY_MEDIUM;
}

Cronet_RESULT cronet_impl_UrlRequest_InitWithParams(Cronet_UrlRequestPtr self,
                                                    Cronet_EnginePtr engine, Cronet_String url,
                                                    Cronet_UrlRequestParamsPtr params,
                                                    Cronet_UrlRequestCallbackPtr callback,
                                                    Cronet_ExecutorPtr executor) {
  request_impl *r = self->impl;
  cronet_engine *e = cronet_engine_of(engine);
  if (!e)
    return Cronet_RESULT_NULL_POINTER_ENGINE; /* Cronet crashes */
  Cronet_RESULT rv = Cronet_RESULT_SUCCESS;
  pthread_mutex_lock(&r->mu);
  if (!url || !*url)
    rv = Cronet_RESULT_NULL_POINTER_URL;
  else if (!params)
    rv = Cronet_RESULT_NULL_POINTER_PARAMS;
  else if (!callback)
    rv = Cronet_RESULT_NULL_POINTER_CALLBACK;
  else if (!executor)
    rv = Cronet_RESULT_NULL_POINTER_EXECUTOR;
  else if (r->initialized)
    rv = Cronet_RESULT_ILLEGAL_STATE_REQUEST_ALREADY_INITIALIZED;
  else if (params->request_finished_listener && !params->request_finished_executor)
    rv = Cronet_RESULT_NULL_POINTER_REQUEST_FINISHED_INFO_LISTENER_EXECUTOR;
  else if (params->http_method && *params->http_method && !is_token(params->http_method))
    rv = Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_HTTP_METHOD;
  for (uint32_t i = 0; rv == Cronet_RESULT_SUCCESS && i < params->n_request_headers; i++) {
    const Cronet_HttpHeader *h = &params->request_headers[i];
    if (!h->name || !*h->name)
      rv = Cronet_RESULT_NULL_POINTER_HEADER_NAME;
    else if (!h->value || !*h->value)
      rv = Cronet_RESULT_NULL_POINTER_HEADER_VALUE;
    else if (!is_token(h->name) || !valid_header_value(h->value))
      rv = Cronet_RESULT_ILLEGAL_ARGUMENT_INVALID_HTTP_HEADER;
  }
  if (rv != Cronet_RESULT_SUCCESS) {
    pthread_mutex_unlock(&r->mu);
    return cronet_check(e, rv, "Cronet_UrlRequest_InitWithParams");
  }
  r->initialized = true;
  r->engine = e;
  r->callback = callback;
  r->executor = executor;
  cronet_UrlRequestParams_copy(&r->params, params);
  r->url = strdup(url);
  r->cexec = cronet_executor_adapter(executor);
  r->cupload_exec = cronet_executor_adapter(
      params->upload_data_provider_executor ? params->upload_data_provider_executor : executor);
  cronc_header *hs = calloc(params->n_request_headers + 1, sizeof *hs);
  for (uint32_t i = 0; hs && i < params->n_request_headers; i++)
    hs[i] = (cronc_header){params->request_headers[i].name, params->request_headers[i].value};
  cronc_request_params p;
  cronc_request_params_init(&p);
  p.method = params->http_method && *params->http_method ? params->http_method : NULL;
  p.headers = hs;
  p.n_headers = hs ? params->n_request_headers : 0;
  p.disable_cache = params->disable_cache;
  p.priority = to_priority(params->priority);
  p.idempotency = (cronc_idempotency)params->idempotency;
  p.executor = &r->cexec;
  cronc_upload_provider up = {up_length, up_read, up_rewind, up_close, r};
  if (params->upload_data_provider) {
    r->sink = Cronet_UploadDataSink_Create();
    p.upload = &up;
    p.upload_executor = &r->cupload_exec;
  }
  pthread_mutex_unlock(&r->mu);
  /* GetLength runs here, on the caller's thread, as in Cronet. */
  int crv = cronc_request_new(e->ce, url, &p, &CALLBACKS, r, &r->req);
  free(hs);
  if (crv != CRONC_OK) {
    /* Cronet does not check the URL here: the request fails after Start. */
    r->init_error = crv;
  }
  return Cronet_RESULT_SUCCESS;
}

/* A request cronc refused at init fails after Start, through the executor. */
static void fail_early(void *arg) {
  request_impl *r = arg;
  set_error(r, r->init_error, NULL);
  end(r);
  report_finished(r, Cronet_RequestFinishedInfo_FINISHED_REASON_FAILED, NULL);
  Cronet_UrlRequestCallback_OnFailed(r->callback, r->self, NULL, r->error);
}

Cronet_RESULT cronet_impl_UrlRequest_Start(Cronet_UrlRequestPtr self) {
  request_impl *r = self->impl;
  pthread_mutex_lock(&r->mu);
  Cronet_RESULT rv = !r->initialized ? Cronet_RESULT_ILLEGAL_STATE_REQUEST_NOT_INITIALIZED
                     : r->started    ? Cronet_RESULT_ILLEGAL_STATE_REQUEST_ALREADY_STARTED
                                     : Cronet_RESULT_SUCCESS;
  if (rv == Cronet_RESULT_SUCCESS)
    r->started = true;
  pthread_mutex_unlock(&r->mu);
  if (rv != Cronet_RESULT_SUCCESS)
    return cronet_check(r->engine, rv, "Cronet_UrlRequest_Start");
  if (r->init_error || cronc_request_start(r->req) != CRONC_OK) {
    if (!r->init_error)
      r->init_error = CRONC_ERR_CONTEXT_SHUT_DOWN;
    cronet_post(r->executor, fail_early, NULL, r);
  }
  return Cronet_RESULT_SUCCESS;
}

Cronet_RESULT cronet_impl_UrlRequest_FollowRedirect(Cronet_UrlRequestPtr self) {
  request_impl *r = self->impl;
  pthread_mutex_lock(&r->mu);
  bool ok = r->waiting_redirect && !r->done;
  r->waiting_redirect = false;
  pthread_mutex_unlock(&r->mu);
  if (!ok)
    return cronet_check(r->engine, Cronet_RESULT_ILLEGAL_STATE_UNEXPECTED_REDIRECT,
                        "Cronet_UrlRequest_FollowRedirect");
  cronc_request_follow_redirect(r->req); /* a cancel in between makes it a no-op */
  return Cronet_RESULT_SUCCESS;
}

Cronet_RESULT cronet_impl_UrlRequest_Read(Cronet_UrlRequestPtr self, Cronet_BufferPtr buffer) {
  request_impl *r = self->impl;
  pthread_mutex_lock(&r->mu);
  if (r->done) {
    pthread_mutex_unlock(&r->mu);
    Cronet_Buffer_Destroy(buffer);
    return Cronet_RESULT_SUCCESS;
  }
  if (!r->waiting_read) {
    pthread_mutex_unlock(&r->mu);
    return cronet_check(r->engine, Cronet_RESULT_ILLEGAL_STATE_UNEXPECTED_READ,
                        "Cronet_UrlRequest_Read");
  }
  void *data = Cronet_Buffer_GetData(buffer);
  uint64_t size = Cronet_Buffer_GetSize(buffer);
  if (!data || !size) {
    pthread_mutex_unlock(&r->mu);
    return cronet_check(r->engine, Cronet_RESULT_ILLEGAL_ARGUMENT, "Cronet_UrlRequest_Read");
  }
  r->waiting_read = false;
  r->read_buffer = buffer;
  pthread_mutex_unlock(&r->mu);
  if (cronc_request_read(r->req, data, (size_t)size) != CRONC_OK) {
    /* Cancelled or shut down meanwhile: the end destroys the buffer. */
    pthread_mutex_lock(&r->mu);
    bool done = r->done;
    pthread_mutex_unlock(&r->mu);
    if (!done && !cronc_request_is_done(r->req))
      return cronet_check(r->engine, Cronet_RESULT_ILLEGAL_STATE_READ_FAILED,
                          "Cronet_UrlRequest_Read");
  }
  return Cronet_RESULT_SUCCESS;
}

void cronet_impl_UrlRequest_Cancel(Cronet_UrlRequestPtr self) {
  request_impl *r = self->impl;
  pthread_mutex_lock(&r->mu);
  bool go = r->started && !r->done && r->req;
  if (go)
    r->done = true; /* IsDone is true at once */
  pthread_mutex_unlock(&r->mu);
  if (go)
    cronc_request_cancel(r->req);
}

bool cronet_impl_UrlRequest_IsDone(Cronet_UrlRequestPtr self) {
  request_impl *r = self->impl;
  pthread_mutex_lock(&r->mu);
  bool done = r->started && r->done;
  pthread_mutex_unlock(&r->mu);
  return done;
}

typedef struct status_call {
  Cronet_UrlRequestStatusListenerPtr listener;
  Cronet_UrlRequestStatusListener_Status status;
} status_call;

static void status_run(void *arg) {
  status_call *c = arg;
  Cronet_UrlRequestStatusListener_OnStatus(c->listener, c->status);
  free(c);
}

void cronet_impl_UrlRequest_GetStatus(Cronet_UrlRequestPtr self,
                                      Cronet_UrlRequestStatusListenerPtr listener) {
  request_impl *r = self->impl;
  if (!listener || !r->executor)
    return;
  status_call *c = malloc(sizeof *c);
  if (!c)
    return;
  pthread_mutex_lock(&r->mu);
  bool running = r->started && !r->done;
  pthread_mutex_unlock(&r->mu);
  c->listener = listener;
  c->status = running && r->req
                  ? (Cronet_UrlRequestStatusListener_Status)cronc_request_load_state(r->req)
                  : Cronet_UrlRequestStatusListener_Status_INVALID;
  cronet_post(r->executor, status_run, free, c);
}
