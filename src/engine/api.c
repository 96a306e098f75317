/* The public API's requests (include/cronc/cronc.h).
 *
 * A cronc_request lives on two sides: the application holds it through the
 * API from any thread; its network state (the transaction, redirects, the
 * response info) lives on the network thread. Every API call that touches
 * the network state posts a task there, so the state machine runs only on
 * the network thread and callbacks never run inside the API call that
 * caused them. Callbacks are then delivered through the request's executor
 * (a task per callback) or, without one, called directly on the network
 * thread, always as the last thing a network-thread path does.
 *
 * `state` is atomic because the API side moves it (READY -> READING,
 * REDIRECT_WAIT -> STARTING) while the network thread may end the request;
 * compare-and-swap makes a late read or follow fail cleanly instead of
 * racing. After cancel, non-terminal callbacks still queued are suppressed
 * (they check cancel_pending when they run), so on_canceled is the only
 * thing the application sees after cancelling (Cronet's rule).
 *
 * A reference count keeps the memory until the application
 * (cronc_request_free), every posted task, every queued callback and every
 * request-finished report are done with it. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cronc/cronc.h"
#include "base/alloc.h"
#include "engine/api_internal.h"
#include "engine/api_shared.h"
#include "engine/engine.h"
#include "http/content_decoder.h"
#include "http/h1_request.h"
#include "http/http_transaction.h"
#include "http/redirect.h"
#include "http/server_properties.h"

typedef enum rq_state {
  RQ_NEW = 0,
  RQ_STARTING,      /* start posted / transaction running */
  RQ_REDIRECT_WAIT, /* on_redirect_received delivered; waiting for follow/cancel */
  RQ_READY,         /* headers or a chunk delivered; waiting for read */
  RQ_READING,
  RQ_DONE, /* a terminal callback was produced */
} rq_state;

typedef enum cb_kind {
  CB_REDIRECT,
  CB_STARTED,
  CB_READ,
  CB_SUCCEEDED, /* terminal kinds from here on */
  CB_FAILED,
  CB_CANCELED,
} cb_kind;

struct cronc_request {
  atomic_int refs;
  cronc_engine *ce;
  engine *e;
  engine_request_link link; /* in the engine's list while running */
  cronc_request_callbacks cb;
  void *ud;
  cronc_executor ex;
  bool has_ex;

  /* What to fetch: the current URL, method, headers and body. */
  url url;
  char *method;
  h1_headers headers;
  uint8_t *body;
  size_t body_len;
  api_upload *upload;
  bool upload_attached; /* the current transaction sends the upload */
  bool allow_http2;
  int load_flags;
  int priority; /* HTTP_PRIORITY_* */
  cronc_idempotency idempotency;

  /* Network-thread state. */
  _Atomic int state;
  atomic_bool cancel_pending; /* set from any thread */
  atomic_bool done;           /* cronc_request_is_done() */
  http_transaction *txn;
  http_request_info info;
  unsigned redirects;
  redirect_info redirect;
  bool have_redirect;
  uint8_t *user_buf;
  size_t user_len;
  /* Content decoding: compressed bytes read from the transaction wait in
   * cbuf and are decoded straight into the caller's buffer. */
  content_decoder *dec;
  uint8_t *cbuf;
  size_t cin_off, cin_len;
  bool body_eof;
  /* Byte counts: earlier transactions (redirects) and the current one. */
  int64_t sent_prev, recv_prev, raw_cur;

  /* The response info handed to callbacks. */
  cronc_response_info ri;
  cronc_metrics metrics;
  int64_t start_ticks;
  cronc_header *ri_headers;
  char *alt_service;
  /* The protocol, copied: a cache transaction's string dies with it, and
   * the response info outlives the transaction (terminal callbacks). */
  char protocol[16];
  char **chain;
  size_t n_chain;
  /* The failure, for cronc_request_get_error (set before on_failed). */
  cronc_error_info err;
  char *err_msg; /* on failure: "net::ERR_..." or the upload's message */
  atomic_bool has_err;
};

static void rq_ref(void *arg) { atomic_fetch_add(&((cronc_request *)arg)->refs, 1); }

static void rq_unref(void *arg) {
  cronc_request *r = arg;
  if (atomic_fetch_sub(&r->refs, 1) != 1)
    return;
  url_free(&r->url);
  free(r->method);
  h1_headers_free(&r->headers);
  free(r->body);
  api_upload_free(r->upload);
  if (r->have_redirect)
    redirect_info_free(&r->redirect);
  content_decoder_free(r->dec);
  free(r->cbuf);
  free(r->ri_headers);
  free(r->alt_service);
  free(r->err_msg);
  for (size_t i = 0; i < r->n_chain; i++)
    free(r->chain[i]);
  free(r->chain);
  api_engine_unref(r->ce);
  free(r);
}

/* Posts fn(r) to the network thread, holding a reference for it. */
static int rq_post(cronc_request *r, void (*fn)(void *)) {
  rq_ref(r);
  int rv = api_engine_post(r->ce, fn, r);
  if (rv != CRONC_OK)
    rq_unref(r);
  return rv;
}

/* ---- Callback delivery ------------------------------------------------- */

typedef struct cb_task {
  cronc_request *r;
  cb_kind kind;
  size_t n;
  int err;
} cb_task;

static const cronc_response_info *info_or_null(cronc_request *r) {
  return r->ri.http_status ? &r->ri : NULL;
}

static void call_back(cronc_request *r, cb_kind kind, size_t n, int err) {
  /* After a cancel only on_canceled (or a terminal produced before it). */
  if (kind < CB_SUCCEEDED && atomic_load(&r->cancel_pending))
    return;
  const cronc_request_callbacks *c = &r->cb;
  switch (kind) {
  case CB_REDIRECT:
    if (c->on_redirect_received)
      c->on_redirect_received(r, r->ud, &r->ri, r->redirect.new_location);
    else
      cronc_request_cancel(r);
    break;
  case CB_STARTED:
    if (c->on_response_started)
      c->on_response_started(r, r->ud, &r->ri);
    break;
  case CB_READ:
    if (c->on_read_completed)
      c->on_read_completed(r, r->ud, &r->ri, r->user_buf, n);
    break;
  case CB_SUCCEEDED:
    if (c->on_succeeded)
      c->on_succeeded(r, r->ud, &r->ri);
    break;
  case CB_FAILED:
    if (c->on_failed)
      c->on_failed(r, r->ud, info_or_null(r), err);
    break;
  case CB_CANCELED:
    if (c->on_canceled)
      c->on_canceled(r, r->ud, info_or_null(r));
    break;
  }
}

static void cb_task_run(void *arg) {
  cb_task *t = arg;
  cronc_request *r = t->r;
  cb_kind kind = t->kind;
  size_t n = t->n;
  int err = t->err;
  free(t);
  call_back(r, kind, n, err);
  rq_unref(r);
}

static void cb_task_drop(void *arg) {
  cb_task *t = arg;
  rq_unref(t->r);
  free(t);
}

/* The last thing a network-thread path does. */
static void deliver(cronc_request *r, cb_kind kind, size_t n, int err) {
  if (!r->has_ex) {
    call_back(r, kind, n, err);
    return;
  }
  cb_task *t = malloc(sizeof *t);
  if (!t) {
    call_back(r, kind, n, err);
    return;
  }
  *t = (cb_task){r, kind, n, err};
  rq_ref(r);
  api_execute(&r->ex, cb_task_run, cb_task_drop, t);
}

/* ---- Response info ----------------------------------------------------- */

static int chain_push(cronc_request *r) {
  char **c = realloc(r->chain, (r->n_chain + 1) * sizeof *c);
  if (!c)
    return CRONC_ERR_OUT_OF_MEMORY;
  r->chain = c;
  c[r->n_chain] = strdup(r->url.spec);
  if (!c[r->n_chain])
    return CRONC_ERR_OUT_OF_MEMORY;
  r->n_chain++;
  r->ri.url_chain = (const char *const *)r->chain;
  r->ri.n_url_chain = r->n_chain;
  r->ri.url = r->chain[r->n_chain - 1];
  return CRONC_OK;
}

/* Ticks (µs, engine clock) to Unix µs given the clock's wall-minus-ticks
 * offset; 0 ticks = the step did not happen. */
static int64_t wall_us(int64_t offset, int64_t ticks) { return ticks > 0 ? ticks + offset : -1; }

static void fill_metrics(cronc_request *r) {
  http_transaction_timing t = {0};
  if (r->txn)
    r->txn->vt->get_timing(r->txn, &t);
  const base_clock *c = netlog_clock(engine_netlog(r->e));
  int64_t off = base_clock_now(c) - base_clock_ticks(c); /* read once per response */
  cronc_metrics *m = &r->metrics;
  m->request_start_us = wall_us(off, r->start_ticks);
  m->dns_start_us = wall_us(off, t.connect.dns_start);
  m->dns_end_us = wall_us(off, t.connect.dns_end);
  m->connect_start_us = wall_us(off, t.connect.connect_start);
  m->connect_end_us = wall_us(off, t.connect.connect_end);
  m->ssl_start_us = wall_us(off, t.connect.ssl_start);
  m->ssl_end_us = wall_us(off, t.connect.ssl_end);
  m->sending_start_us = wall_us(off, t.send_start);
  m->sending_end_us = wall_us(off, t.send_end);
  m->response_start_us = wall_us(off, t.receive_headers_end);
  m->socket_reused = t.connect.socket_reused;
}

/* Byte counts of the current transaction added to the earlier ones. The
 * transport's count (heads included) when it has one, else the body bytes
 * read before decoding. */
static void current_bytes(cronc_request *r, int64_t *sent, int64_t *recv) {
  http_transaction_info ti = {0};
  if (r->txn)
    r->txn->vt->get_info(r->txn, &ti);
  *sent = ti.sent_bytes;
  *recv = ti.received_bytes > r->raw_cur ? ti.received_bytes : r->raw_cur;
}

static void update_bytes(cronc_request *r) {
  int64_t s, v;
  current_bytes(r, &s, &v);
  r->ri.received_byte_count = r->recv_prev + v;
  r->metrics.received_byte_count = r->ri.received_byte_count;
  r->metrics.sent_byte_count = r->sent_prev + s > 0 ? r->sent_prev + s : -1;
}

/* The current transaction is about to go: fold its counts in and free it. */
static void drop_txn(cronc_request *r) {
  if (!r->txn)
    return;
  update_bytes(r);
  int64_t s, v;
  current_bytes(r, &s, &v);
  r->sent_prev += s;
  r->recv_prev += v;
  r->raw_cur = 0;
  r->txn->vt->free(r->txn);
  r->txn = NULL;
  if (r->upload && r->upload_attached)
    api_upload_detach(r->upload);
}

/* Fills the response info from the transaction's head. */
static int fill_response_info(cronc_request *r) {
  const h1_headers *h = r->txn->vt->response_headers(r->txn);
  free(r->ri_headers);
  r->ri_headers = NULL;
  size_t n = h1_headers_count(h), bytes = 0, it = 0;
  const char *name, *value;
  size_t nl, vl, rl = 0;
  const char *reason = h1_headers_reason(h, &rl);
  while (h1_headers_next(h, &it, &name, &nl, &value, &vl))
    bytes += nl + vl + 2;
  /* One block: the header array, then the strings it points to. */
  r->ri_headers = malloc(n * sizeof *r->ri_headers + bytes + rl + 1);
  if (!r->ri_headers)
    return CRONC_ERR_OUT_OF_MEMORY;
  char *p = (char *)(r->ri_headers + n);
  memcpy(p, reason, rl);
  p[rl] = '\0';
  r->ri.http_status_text = p;
  p += rl + 1;
  it = 0;
  for (size_t i = 0; h1_headers_next(h, &it, &name, &nl, &value, &vl); i++) {
    memcpy(p, name, nl);
    p[nl] = '\0';
    r->ri_headers[i].name = p;
    p += nl + 1;
    memcpy(p, value, vl);
    p[vl] = '\0';
    r->ri_headers[i].value = p;
    p += vl + 1;
  }
  r->ri.headers = r->ri_headers;
  r->ri.n_headers = n;
  r->ri.http_status = h->status;
  snprintf(r->protocol, sizeof r->protocol, "%s", r->txn->vt->protocol(r->txn));
  r->ri.negotiated_protocol = r->protocol;
  http_transaction_info ti = {0};
  r->txn->vt->get_info(r->txn, &ti);
  r->ri.was_cached = ti.was_cached;
  r->ri.cache_validated = ti.cache_validated;
  r->ri.zero_rtt = ti.zero_rtt;
  r->ri.quic_broken = ti.quic_broken;
  r->ri.job_winner = (cronc_job_winner)ti.winner;
  free(r->alt_service);
  r->alt_service = NULL; /* most responses came without one: no copy */
  if (ti.alternative_service && ti.alternative_service[0])
    r->alt_service = strdup(ti.alternative_service);
  r->ri.alternative_service = r->alt_service ? r->alt_service : "";
  fill_metrics(r);
  update_bytes(r);
  return CRONC_OK;
}

/* A header's value as Chromium's GetNormalizedHeader gives it: the field's
 * own bytes when it appears once (no copy: the common case), the values
 * joined with ", " in scratch otherwise. */
static bool header_value(const h1_headers *h, const char *name, strbuf *scratch, const char **v,
                         size_t *len) {
  size_t it = 0;
  if (!h1_headers_find(h, name, &it, v, len))
    return false;
  const char *v2;
  size_t l2;
  size_t it2 = it;
  if (!h1_headers_find(h, name, &it2, &v2, &l2))
    return true;
  if (!h1_headers_get_normalized(h, name, scratch) || strbuf_failed(scratch))
    return false;
  *v = scratch->data;
  *len = scratch->len;
  return true;
}

/* Alt-Svc from an https response feeds server properties (Chromium's
 * ProcessAlternativeServices; the TLS layer already verified the
 * certificate, the condition Chromium checks). */
static void process_alt_svc(cronc_request *r) {
  if (r->url.scheme != URL_SCHEME_HTTPS)
    return;
  url_origin origin;
  /* Chromium's SetSupportsSpdy: remembered for the origin once HTTP/2 worked. */
  if (strcmp(r->txn->vt->protocol(r->txn), "h2") == 0 &&
      url_origin_from_url(&r->url, &origin) == CRONC_OK)
    props_set_supports_spdy(engine_props(r->e), &origin, true);
  strbuf v = STRBUF_INIT;
  if (h1_headers_get_normalized(r->txn->vt->response_headers(r->txn), "alt-svc", &v) &&
      !strbuf_failed(&v)) {
    url_origin o;
    if (url_origin_from_url(&r->url, &o) == CRONC_OK)
      props_process_alt_svc_header(engine_props(r->e), &o, v.data, v.len, engine_enable_http2(r->e),
                                   engine_enable_quic(r->e));
  }
  strbuf_free(&v);
}

/* ---- The end ----------------------------------------------------------- */

/* Cronet's IsCronetErrorImmediatelyRetryable. */
static bool retryable(int e) {
  return e == CRONC_ERR_NETWORK_CHANGED || e == CRONC_ERR_TIMED_OUT ||
         e == CRONC_ERR_CONNECTION_CLOSED || e == CRONC_ERR_CONNECTION_TIMED_OUT ||
         e == CRONC_ERR_CONNECTION_RESET;
}

static void finish(cronc_request *r, int rv) {
  if (atomic_load(&r->state) == RQ_DONE)
    return;
  atomic_store(&r->state, RQ_DONE);
  atomic_store(&r->done, true);
  if (r->txn)
    fill_metrics(r);
  drop_txn(r);
  const base_clock *c = netlog_clock(engine_netlog(r->e));
  r->metrics.request_end_us = base_clock_now(c);
  if (r->upload)
    api_upload_close(r->upload);
  engine_remove_request(r->e, &r->link);
  /* A cancel asked for before the end wins: the application was promised
   * on_canceled. */
  if (atomic_load(&r->cancel_pending))
    rv = CRONC_ERR_ABORTED;
  const char *upload_error = r->upload ? api_upload_error(r->upload) : NULL;
  if (rv != CRONC_OK && rv != CRONC_ERR_ABORTED) {
    free(r->err_msg);
    if (upload_error) {
      rv = CRONC_ERR_FAILED;
      r->err_msg = strdup(upload_error);
    } else if (asprintf(&r->err_msg, "net::%s", cronc_error_name(rv)) < 0) {
      r->err_msg = NULL;
    }
    http_transaction_info ti = {0};
    if (r->txn)
      r->txn->vt->get_info(r->txn, &ti);
    r->err = (cronc_error_info){rv, (int)ti.quic_error, upload_error ? false : retryable(rv),
                                upload_error != NULL, r->err_msg ? r->err_msg : "net::ERR_FAILED"};
    atomic_store(&r->has_err, true);
  }
  cronc_finished_reason reason = rv == CRONC_OK            ? CRONC_FINISHED_SUCCEEDED
                                 : rv == CRONC_ERR_ABORTED ? CRONC_FINISHED_CANCELED
                                                           : CRONC_FINISHED_FAILED;
  cronc_request_finished_info fi = {r,
                                    r->n_chain ? r->chain[0] : r->url.spec,
                                    reason,
                                    &r->metrics,
                                    info_or_null(r),
                                    reason == CRONC_FINISHED_FAILED ? &r->err : NULL};
  /* Reports go out before the terminal callback (Cronet posts them
   * first), so a listener removed after the terminal callback still gets
   * this request. */
  api_report_finished(r->ce, &fi, rq_ref, rq_unref, r);
  cb_kind k = reason == CRONC_FINISHED_SUCCEEDED  ? CB_SUCCEEDED
              : reason == CRONC_FINISHED_CANCELED ? CB_CANCELED
                                                  : CB_FAILED;
  deliver(r, k, 0, rv);
}

/* ---- The state machine (network thread) -------------------------------- */

static int start_transaction(cronc_request *r);

static void on_headers(void *ud, int rv) {
  cronc_request *r = ud;
  if (rv != CRONC_OK) {
    finish(r, rv);
    return;
  }
  rv = fill_response_info(r);
  if (rv != CRONC_OK) {
    finish(r, rv);
    return;
  }
  /* A stored response says nothing about the server now (Chromium reads
   * Alt-Svc in the network transaction, under the cache). */
  if (!r->ri.was_cached)
    process_alt_svc(r);
  const h1_headers *h = r->txn->vt->response_headers(r->txn);
  const char *loc = NULL;
  size_t loc_len = 0, it = 0;
  h1_headers_find(h, "location", &it, &loc, &loc_len);
  if (r->have_redirect) {
    redirect_info_free(&r->redirect);
    r->have_redirect = false;
  }
  redirect_input in = {r->method, &r->url, h->status, loc, loc_len, r->redirects};
  rv = redirect_compute(&in, &r->redirect);
  r->have_redirect = true;
  if (rv != CRONC_OK) {
    finish(r, rv);
    return;
  }
  if (r->redirect.is_redirect) {
    /* Chromium does not read redirect bodies: the connection is dropped. */
    drop_txn(r);
    update_bytes(r);
    atomic_store(&r->state, RQ_REDIRECT_WAIT);
    deliver(r, CB_REDIRECT, 0, 0);
    return;
  }
  /* Cronet closes the upload provider once the response starts (here:
   * once the body is sent, if the server answered early). */
  if (r->upload)
    api_upload_response_started(r->upload);
  /* Content-Encoding: a decoder chain, or NULL to pass the body through
   * (no coding, or one cronc does not know: Chromium's behaviour). */
  strbuf ce = STRBUF_INIT;
  const char *cev;
  size_t celen;
  if (header_value(h, "content-encoding", &ce, &cev, &celen)) {
    rv = content_decoder_new_for_header(cev, celen, &r->dec);
    if (rv == CRONC_OK && r->dec && !(r->cbuf = malloc(CONTENT_DECODER_BUFFER_SIZE)))
      rv = CRONC_ERR_OUT_OF_MEMORY;
  }
  strbuf_free(&ce);
  if (rv != CRONC_OK) {
    finish(r, rv);
    return;
  }
  atomic_store(&r->state, RQ_READY);
  deliver(r, CB_STARTED, 0, 0);
}

static int start_transaction(cronc_request *r) {
  r->info = (http_request_info){
      .url = &r->url,
      .method = r->method,
      .headers = &r->headers,
      .body = r->body,
      .body_len = r->body_len,
      .upload = r->upload && r->upload_attached ? api_upload_body(r->upload) : NULL,
      .priority = r->priority,
      .allow_http2 = r->allow_http2,
      .enable_alternative_services = true,
      .load_flags = r->load_flags,
  };
  http_transaction_factory *f = engine_transaction_factory(r->e);
  if (!f)
    return CRONC_ERR_CONTEXT_SHUT_DOWN;
  int rv = f->vt->create_transaction(f, engine_netlog(r->e), &r->txn);
  if (rv != CRONC_OK)
    return rv;
  r->info.source = netlog_source_new(engine_netlog(r->e), NETLOG_SOURCE_URL_REQUEST);
  rv = r->txn->vt->start(r->txn, &r->info, on_headers, r);
  if (rv != CRONC_ERR_IO_PENDING)
    on_headers(r, rv);
  return CRONC_OK;
}

static void link_cancel(engine_request_link *link) {
  cronc_request *r = (cronc_request *)((char *)link - offsetof(cronc_request, link));
  atomic_store(&r->cancel_pending, true);
  finish(r, CRONC_ERR_ABORTED);
}

static void task_start(void *arg) {
  cronc_request *r = arg;
  if (atomic_load(&r->state) == RQ_STARTING) {
    if (atomic_load(&r->cancel_pending)) {
      finish(r, CRONC_ERR_ABORTED);
    } else {
      r->start_ticks = base_clock_ticks(netlog_clock(engine_netlog(r->e)));
      r->link.cancel = link_cancel;
      engine_add_request(r->e, &r->link);
      int rv = chain_push(r);
      if (rv == CRONC_OK)
        rv = start_transaction(r);
      if (rv != CRONC_OK)
        finish(r, rv);
    }
  }
  rq_unref(r);
}

static void on_read_done(void *ud, int rv) {
  cronc_request *r = ud;
  if (atomic_load(&r->state) != RQ_READING)
    return;
  if (rv < 0) {
    finish(r, rv);
  } else if (rv == 0) {
    finish(r, CRONC_OK);
  } else {
    update_bytes(r);
    atomic_store(&r->state, RQ_READY);
    deliver(r, CB_READ, (size_t)rv, 0);
  }
}

static void on_compressed_read(void *ud, int rv);

/* Decodes what is buffered into the caller's buffer, reading more from the
 * transaction as needed. Completes the read (on_read_done) unless waiting. */
static void decode_pump(cronc_request *r) {
  for (;;) {
    size_t used = 0, produced = 0;
    int rv = content_decoder_decode(r->dec, r->cbuf + r->cin_off, r->cin_len, &used, r->user_buf,
                                    r->user_len, &produced);
    if (rv != CRONC_OK) {
      on_read_done(r, rv);
      return;
    }
    r->cin_off += used;
    r->cin_len -= used;
    if (produced > 0) {
      on_read_done(r, (int)produced);
      return;
    }
    if (r->body_eof) {
      on_read_done(r, content_decoder_finish(r->dec)); /* 0: clean end */
      return;
    }
    r->cin_off = 0;
    rv = r->txn->vt->read(r->txn, r->cbuf, CONTENT_DECODER_BUFFER_SIZE, on_compressed_read, r);
    if (rv == CRONC_ERR_IO_PENDING)
      return;
    if (rv < 0) {
      on_read_done(r, rv);
      return;
    }
    if (rv == 0)
      r->body_eof = true;
    r->raw_cur += rv;
    r->cin_len = (size_t)rv;
  }
}

static void on_compressed_read(void *ud, int rv) {
  cronc_request *r = ud;
  if (atomic_load(&r->state) != RQ_READING)
    return;
  if (rv < 0) {
    on_read_done(r, rv);
    return;
  }
  if (rv == 0)
    r->body_eof = true;
  r->raw_cur += rv;
  r->cin_off = 0;
  r->cin_len = (size_t)rv;
  decode_pump(r);
}

static void on_plain_read(void *ud, int rv) {
  cronc_request *r = ud;
  if (rv > 0)
    r->raw_cur += rv;
  on_read_done(r, rv);
}

static void task_read(void *arg) {
  cronc_request *r = arg;
  if (atomic_load(&r->state) == RQ_READING) {
    if (atomic_load(&r->cancel_pending)) {
      finish(r, CRONC_ERR_ABORTED);
    } else if (r->dec) {
      decode_pump(r);
    } else {
      int rv = r->txn->vt->read(r->txn, r->user_buf, r->user_len, on_plain_read, r);
      if (rv != CRONC_ERR_IO_PENDING)
        on_plain_read(r, rv);
    }
  }
  rq_unref(r);
}

static void on_rewound(void *ud, int rv) {
  cronc_request *r = ud;
  if (atomic_load(&r->state) != RQ_STARTING)
    return;
  if (rv == CRONC_OK)
    rv = start_transaction(r);
  if (rv != CRONC_OK)
    finish(r, rv);
}

static void task_follow(void *arg) {
  cronc_request *r = arg;
  if (atomic_load(&r->state) == RQ_STARTING && r->have_redirect && r->redirect.is_redirect) {
    r->redirects++;
    url_free(&r->url);
    r->url = r->redirect.new_url; /* moved */
    memset(&r->redirect.new_url, 0, sizeof r->redirect.new_url);
    if (r->redirect.method_changed) {
      char *m = strdup(r->redirect.new_method);
      if (m) {
        free(r->method);
        r->method = m;
      }
    }
    if (!r->redirect.keep_body) {
      free(r->body);
      r->body = NULL;
      r->body_len = 0;
      if (r->upload && r->upload_attached) {
        r->upload_attached = false;
        api_upload_close(r->upload);
      }
    }
    if (r->redirect.strip_body_headers) {
      h1_headers kept;
      h1_headers_init(&kept);
      size_t it = 0, nl, vl;
      const char *name, *value;
      while (h1_headers_next(&r->headers, &it, &name, &nl, &value, &vl))
        if (!redirect_removes_header(&r->redirect, name, nl))
          h1_headers_add(&kept, name, nl, value, vl);
      h1_headers_free(&r->headers);
      r->headers = kept;
    }
    int rv = chain_push(r);
    if (rv == CRONC_OK && r->upload && r->upload_attached) {
      /* A 307/308 resends the body from its first byte. */
      http_upload_body *b = api_upload_body(r->upload);
      rv = b->vt->rewind(b, on_rewound, r);
      if (rv == CRONC_ERR_IO_PENDING) {
        rq_unref(r);
        return;
      }
    }
    if (rv == CRONC_OK)
      rv = start_transaction(r);
    if (rv != CRONC_OK)
      finish(r, rv);
  }
  rq_unref(r);
}

static void task_cancel(void *arg) {
  cronc_request *r = arg;
  int s = atomic_load(&r->state);
  if (s != RQ_NEW && s != RQ_DONE)
    finish(r, CRONC_ERR_ABORTED);
  rq_unref(r);
}

/* ---- API --------------------------------------------------------------- */

CRONC_EXPORT void cronc_request_params_init(cronc_request_params *p) {
  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->allow_http2 = true;
  p->priority = CRONC_PRIORITY_MEDIUM;
  p->idempotency = CRONC_IDEMPOTENCY_DEFAULT;
}

static bool valid_token(const char *s) {
  return s && *s && h1_request_valid_field_name(s, strlen(s));
}

static int to_http_priority(cronc_priority p) {
  switch (p) {
  case CRONC_PRIORITY_IDLE:
    return HTTP_PRIORITY_IDLE;
  case CRONC_PRIORITY_LOWEST:
    return HTTP_PRIORITY_LOWEST;
  case CRONC_PRIORITY_LOW:
    return HTTP_PRIORITY_LOW;
  case CRONC_PRIORITY_HIGHEST:
    return HTTP_PRIORITY_HIGHEST;
  default:
    return HTTP_PRIORITY_MEDIUM;
  }
}

/* Chromium's Accept-Encoding, without "br" when brotli is disabled. */
static int add_accept_encoding(cronc_request *r, const cronc_request_params *p) {
  bool secure = r->url.scheme == URL_SCHEME_HTTPS || strcmp(r->url.host, "localhost") == 0 ||
                strcmp(r->url.host, "127.0.0.1") == 0 || strcmp(r->url.host, "[::1]") == 0;
  bool has_range = false;
  for (size_t i = 0; i < p->n_headers; i++)
    has_range |= strcasecmp(p->headers[i].name, "range") == 0;
  const char *ae = content_decoder_accept_encoding(secure, has_range);
  if (r->ce->enable_brotli)
    return h1_headers_add(&r->headers, "Accept-Encoding", 15, ae, strlen(ae));
  char out[128];
  size_t o = 0;
  for (const char *s = ae; *s;) {
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    while (n && *s == ' ')
      s++, n--;
    if (!(n == 2 && memcmp(s, "br", 2) == 0) && o + n + 2 < sizeof out) {
      if (o) {
        memcpy(out + o, ", ", 2);
        o += 2;
      }
      memcpy(out + o, s, n);
      o += n;
    }
    s += n;
    if (*s == ',')
      s++;
  }
  return h1_headers_add(&r->headers, "Accept-Encoding", 15, out, o);
}

CRONC_EXPORT int cronc_request_new(cronc_engine *ce, const char *url_s,
                                   const cronc_request_params *p, const cronc_request_callbacks *cb,
                                   void *ud, cronc_request **out) {
  if (!ce || !url_s || !cb || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  cronc_request_params defaults;
  if (!p) {
    cronc_request_params_init(&defaults);
    p = &defaults;
  }
  bool ext = p->struct_size >= sizeof *p; /* fields of 0.1 present */
  const cronc_upload_provider *upload = ext ? p->upload : NULL;
  const char *method = p->method ? p->method : ((p->body || upload) ? "POST" : "GET");
  if (!valid_token(method))
    return CRONC_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&ce->mu);
  bool alive = ce->e_alive && !ce->shut_down;
  engine *e = ce->e;
  pthread_mutex_unlock(&ce->mu);
  if (!alive)
    return CRONC_ERR_CONTEXT_SHUT_DOWN;
  _Static_assert(sizeof(cronc_request) <= BASE_TCACHE_MAX, "per-request object: see base/alloc.h");
  cronc_request *r = base_zalloc(sizeof *r);
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  atomic_init(&r->refs, 1);
  api_engine_ref(ce);
  r->ce = ce;
  r->e = e;
  r->ri.metrics = &r->metrics;
  r->ri.proxy_server = "";
  r->ri.alternative_service = "";
  r->ri.http_status_text = "";
  r->ri.negotiated_protocol = "";
  memset(&r->metrics, 0xff, sizeof r->metrics); /* every time and count -1 until known */
  r->metrics.socket_reused = false;
  r->cb = *cb;
  r->ud = ud;
  r->allow_http2 = p->allow_http2;
  r->load_flags = (p->disable_cache ? HTTP_LOAD_DISABLE_CACHE : 0) | (ext ? p->load_flags : 0);
  r->priority = to_http_priority(ext ? p->priority : CRONC_PRIORITY_MEDIUM);
  r->idempotency = ext ? p->idempotency : CRONC_IDEMPOTENCY_DEFAULT;
  if (ext && p->executor && p->executor->execute) {
    r->ex = *p->executor;
    r->has_ex = true;
  }
  h1_headers_init(&r->headers);
  int rv = url_parse(url_s, strlen(url_s), &r->url);
  if (rv == CRONC_OK && r->url.scheme != URL_SCHEME_HTTP && r->url.scheme != URL_SCHEME_HTTPS)
    rv = CRONC_ERR_DISALLOWED_URL_SCHEME;
  if (rv == CRONC_OK && !(r->method = strdup(method)))
    rv = CRONC_ERR_OUT_OF_MEMORY;
  bool has_ua = false, has_ae = false, has_al = false;
  for (size_t i = 0; rv == CRONC_OK && i < p->n_headers; i++) {
    const cronc_header *h = &p->headers[i];
    if (!h->name || !h->value || !h1_request_valid_field_name(h->name, strlen(h->name)) ||
        !h1_request_valid_field_value(h->value, strlen(h->value))) {
      rv = CRONC_ERR_INVALID_ARGUMENT;
      break;
    }
    has_ua |= strcasecmp(h->name, "user-agent") == 0;
    has_ae |= strcasecmp(h->name, "accept-encoding") == 0;
    has_al |= strcasecmp(h->name, "accept-language") == 0;
    rv = h1_headers_add(&r->headers, h->name, strlen(h->name), h->value, strlen(h->value));
  }
  if (rv == CRONC_OK && !has_ua) {
    const char *ua = engine_user_agent(r->e);
    rv = h1_headers_add(&r->headers, "User-Agent", 10, ua, strlen(ua));
  }
  if (rv == CRONC_OK && !has_ae)
    rv = add_accept_encoding(r, p);
  if (rv == CRONC_OK && !has_al && ce->accept_language)
    rv = h1_headers_add(&r->headers, "Accept-Language", 15, ce->accept_language,
                        strlen(ce->accept_language));
  if (rv == CRONC_OK && p->body_len && !upload) {
    r->body = malloc(p->body_len);
    if (!r->body)
      rv = CRONC_ERR_OUT_OF_MEMORY;
    else {
      memcpy(r->body, p->body, p->body_len);
      r->body_len = p->body_len;
    }
  }
  if (rv == CRONC_OK && upload) {
    const cronc_executor *uex = p->upload_executor ? p->upload_executor : p->executor;
    rv = api_upload_new(ce, upload, uex, rq_ref, rq_unref, r, &r->upload);
    r->upload_attached = rv == CRONC_OK;
  }
  if (rv != CRONC_OK) {
    rq_unref(r);
    return rv;
  }
  *out = r;
  return CRONC_OK;
}

CRONC_EXPORT int cronc_request_start(cronc_request *r) {
  int expect = RQ_NEW;
  if (!r || !atomic_compare_exchange_strong(&r->state, &expect, RQ_STARTING))
    return CRONC_ERR_INVALID_ARGUMENT;
  int rv = rq_post(r, task_start);
  if (rv != CRONC_OK)
    atomic_store(&r->state, RQ_NEW);
  return rv;
}

CRONC_EXPORT int cronc_request_read(cronc_request *r, uint8_t *buf, size_t len) {
  if (!r || !buf || !len || atomic_load(&r->cancel_pending))
    return CRONC_ERR_INVALID_ARGUMENT;
  int expect = RQ_READY;
  if (!atomic_compare_exchange_strong(&r->state, &expect, RQ_READING))
    return CRONC_ERR_INVALID_ARGUMENT;
  /* Only the winner of the swap sets the buffer: a second read cannot
   * replace the buffer of one in progress. The network thread reads it in
   * task_read, after the post. */
  r->user_buf = buf;
  r->user_len = len;
  return rq_post(r, task_read);
}

CRONC_EXPORT int cronc_request_follow_redirect(cronc_request *r) {
  int expect = RQ_REDIRECT_WAIT;
  if (!r || atomic_load(&r->cancel_pending) ||
      !atomic_compare_exchange_strong(&r->state, &expect, RQ_STARTING))
    return CRONC_ERR_INVALID_ARGUMENT;
  return rq_post(r, task_follow);
}

CRONC_EXPORT void cronc_request_cancel(cronc_request *r) {
  if (!r)
    return;
  int s = atomic_load(&r->state);
  if (s == RQ_NEW || s == RQ_DONE || atomic_exchange(&r->cancel_pending, true))
    return;
  atomic_store(&r->done, true);
  rq_post(r, task_cancel);
}

CRONC_EXPORT bool cronc_request_is_done(const cronc_request *r) {
  return r && atomic_load(&((cronc_request *)r)->done);
}

CRONC_EXPORT bool cronc_request_get_error(const cronc_request *r, cronc_error_info *out) {
  if (!r || !out || !atomic_load(&((cronc_request *)r)->has_err))
    return false;
  *out = r->err;
  return true;
}

CRONC_EXPORT cronc_load_state cronc_request_load_state(const cronc_request *r) {
  if (!r || atomic_load(&((cronc_request *)r)->done))
    return CRONC_LOAD_STATE_INVALID;
  switch (atomic_load(&((cronc_request *)r)->state)) {
  case RQ_STARTING:
    return CRONC_LOAD_STATE_WAITING_FOR_RESPONSE;
  case RQ_REDIRECT_WAIT:
  case RQ_READY:
    return CRONC_LOAD_STATE_IDLE;
  case RQ_READING:
    return CRONC_LOAD_STATE_READING_RESPONSE;
  default:
    return CRONC_LOAD_STATE_INVALID;
  }
}

CRONC_EXPORT void cronc_request_free(cronc_request *r) {
  if (r)
    rq_unref(r);
}
