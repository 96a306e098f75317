/* The public API (include/cronc/cronc.h): engines and requests.
 *
 * A cronc_request lives on two sides: the application holds it through the
 * API from any thread; its network state (the transaction, redirects, the
 * response info) lives on the network thread. Every API call that touches
 * the network state posts a task there, so callbacks always run on the
 * network thread and never inside the API call that caused them (also when
 * that call is made from a callback). A reference count keeps the memory
 * until both the application (cronc_request_free) and every posted task are
 * done with it. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cronc/cronc.h"
#include "engine/api_internal.h"
#include "engine/engine.h"
#include "http/content_decoder.h"
#include "http/h1_request.h"
#include "http/http_transaction.h"
#include "http/redirect.h"
#include "http/server_properties.h"

struct cronc_engine {
  engine *e;
};

CRONC_EXPORT void cronc_engine_params_init(cronc_engine_params *p) {
  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->enable_http2 = true;
  p->enable_quic = true;
  p->pin_bypass_for_local_trust_anchors = true;
}

CRONC_EXPORT const char *cronc_default_user_agent(void) { return "cronc/" CRONC_VERSION_STRING; }

CRONC_EXPORT int cronc_engine_new(const cronc_engine_params *p, cronc_engine **out) {
  if (!p || !out || p->struct_size < sizeof(uint32_t))
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  cronc_engine *ce = calloc(1, sizeof *ce);
  engine_quic_hint *hints = p->n_quic_hints ? calloc(p->n_quic_hints, sizeof *hints) : NULL;
  if (!ce || (p->n_quic_hints && !hints)) {
    free(ce);
    free(hints);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < p->n_quic_hints; i++)
    hints[i] = (engine_quic_hint){p->quic_hints[i].host, p->quic_hints[i].port,
                                  p->quic_hints[i].alternate_port};
  /* Cronet validates pins up front (ILLEGAL_ARGUMENT_INVALID_PIN). */
  engine_pin *pins = p->n_public_key_pins ? calloc(p->n_public_key_pins, sizeof *pins) : NULL;
  if (p->n_public_key_pins && !pins) {
    free(ce);
    free(hints);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < p->n_public_key_pins; i++) {
    const cronc_public_key_pins *k = &p->public_key_pins[i];
    char canon[URL_MAX_HOST + 1];
    url_host_kind kind;
    if (!k->host || !k->sha256 || !k->n_sha256 ||
        url_canon_host(k->host, strlen(k->host), canon, sizeof canon, &kind) != CRONC_OK ||
        strcmp(canon, k->host) != 0 || k->expiration_ms < 0) {
      free(ce);
      free(hints);
      free(pins);
      return CRONC_ERR_INVALID_ARGUMENT;
    }
    pins[i] = (engine_pin){k->host, k->sha256, k->n_sha256, k->include_subdomains,
                           k->expiration_ms * 1000};
  }
  engine_params ep;
  engine_params_init(&ep);
  ep.pins = pins;
  ep.n_pins = p->n_public_key_pins;
  ep.pin_bypass_for_local_anchors = p->pin_bypass_for_local_trust_anchors;
  ep.storage_path = p->storage_path;
  ep.netlog_path = p->netlog_path;
  ep.enable_http2 = p->enable_http2;
  ep.enable_quic = p->enable_quic;
  ep.quic_hints = hints;
  ep.n_quic_hints = p->n_quic_hints;
  ep.extra_ca_file = p->extra_ca_file;
  ep.host_resolver_rules = p->host_resolver_rules;
  ep.user_agent = p->user_agent;
  int rv = engine_new(&ep, &ce->e);
  free(hints);
  free(pins);
  if (rv != CRONC_OK) {
    free(ce);
    return rv;
  }
  *out = ce;
  return CRONC_OK;
}

engine *cronc_engine_internal(cronc_engine *ce) { return ce->e; }

CRONC_EXPORT int cronc_engine_shutdown(cronc_engine *ce) {
  return ce ? engine_shutdown(ce->e) : CRONC_ERR_INVALID_ARGUMENT;
}

CRONC_EXPORT void cronc_engine_free(cronc_engine *ce) {
  if (!ce)
    return;
  engine_free(ce->e);
  free(ce);
}

/* ---- Requests ------------------------------------------------------------------ */

typedef enum rq_state {
  RQ_NEW = 0,
  RQ_STARTING,      /* start posted / transaction running */
  RQ_REDIRECT_WAIT, /* on_redirect_received ran; waiting for follow/cancel */
  RQ_READY,         /* headers delivered; waiting for read */
  RQ_READING,
  RQ_DONE, /* a terminal callback ran (or will, in the running task) */
} rq_state;

struct cronc_request {
  atomic_int refs;
  engine *e;
  engine_request_link link; /* in the engine's list while running */
  cronc_request_callbacks cb;
  void *ud;

  /* What to fetch: the current URL, method, headers and body. */
  url url;
  char *method;
  h1_headers headers;
  uint8_t *body;
  size_t body_len;
  bool allow_http2;
  bool disable_cache;

  /* Network-thread state. */
  rq_state state;
  http_transaction *txn;
  http_request_info info;
  unsigned redirects;
  redirect_info redirect;
  bool have_redirect;
  uint8_t *user_buf;
  size_t user_len;
  atomic_bool cancel_pending; /* set from any thread */
  /* Content decoding: compressed bytes read from the transaction wait in
   * cbuf and are decoded straight into the caller's buffer. */
  content_decoder *dec;
  uint8_t *cbuf;
  size_t cin_off, cin_len;
  bool body_eof;

  /* The response info handed to callbacks. */
  cronc_response_info ri;
  cronc_metrics metrics;
  int64_t start_ticks;
  cronc_header *ri_headers;
  char *ri_arena;
  char **chain;
  size_t n_chain;
  int64_t received;
};

static void rq_unref(cronc_request *r) {
  if (atomic_fetch_sub(&r->refs, 1) != 1)
    return;
  url_free(&r->url);
  free(r->method);
  h1_headers_free(&r->headers);
  free(r->body);
  if (r->have_redirect)
    redirect_info_free(&r->redirect);
  content_decoder_free(r->dec);
  free(r->cbuf);
  free(r->ri_headers);
  free(r->ri_arena);
  for (size_t i = 0; i < r->n_chain; i++)
    free(r->chain[i]);
  free(r->chain);
  free(r);
}

/* Posts fn(r) to the network thread, holding a reference for it. */
static int rq_post(cronc_request *r, void (*fn)(void *)) {
  atomic_fetch_add(&r->refs, 1);
  int rv = engine_post(r->e, fn, r);
  if (rv != CRONC_OK)
    rq_unref(r);
  return rv;
}

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

static void fill_metrics(cronc_request *r);

/* Fills the response info from the transaction's head. */
static int fill_response_info(cronc_request *r) {
  const h1_headers *h = r->txn->vt->response_headers(r->txn);
  free(r->ri_headers);
  free(r->ri_arena);
  r->ri_headers = NULL;
  r->ri_arena = NULL;
  size_t n = h1_headers_count(h), bytes = 0, it = 0;
  const char *name, *value;
  size_t nl, vl, rl = 0;
  const char *reason = h1_headers_reason(h, &rl);
  while (h1_headers_next(h, &it, &name, &nl, &value, &vl))
    bytes += nl + vl + 2;
  r->ri_headers = calloc(n ? n : 1, sizeof *r->ri_headers);
  r->ri_arena = malloc(bytes + rl + 1);
  if (!r->ri_headers || !r->ri_arena)
    return CRONC_ERR_OUT_OF_MEMORY;
  char *p = r->ri_arena;
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
  r->ri.negotiated_protocol = r->txn->vt->protocol(r->txn);
  http_transaction_info ti;
  r->txn->vt->get_info(r->txn, &ti);
  r->ri.was_cached = ti.was_cached;
  fill_metrics(r);
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
  if (strcmp(r->txn->vt->protocol(r->txn), "h2") == 0 && url_origin_from_url(&r->url, &origin) == CRONC_OK)
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

static void finish(cronc_request *r, int rv) {
  if (r->state == RQ_DONE)
    return;
  r->state = RQ_DONE;
  const base_clock *c = netlog_clock(engine_netlog(r->e));
  r->metrics.request_end_us = base_clock_now(c);
  if (r->txn)
    r->txn->vt->free(r->txn);
  r->txn = NULL;
  engine_remove_request(r->e, &r->link);
  if (rv == CRONC_OK) {
    if (r->cb.on_succeeded)
      r->cb.on_succeeded(r, r->ud, &r->ri);
  } else if (rv == CRONC_ERR_ABORTED) {
    if (r->cb.on_canceled)
      r->cb.on_canceled(r, r->ud, r->ri.http_status ? &r->ri : NULL);
  } else if (r->cb.on_failed) {
    r->cb.on_failed(r, r->ud, r->ri.http_status ? &r->ri : NULL, rv);
  }
}

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
  /* Redirect? */
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
    r->state = RQ_REDIRECT_WAIT;
    /* Chromium does not read redirect bodies: the connection is dropped. */
    r->txn->vt->free(r->txn);
    r->txn = NULL;
    if (r->cb.on_redirect_received)
      r->cb.on_redirect_received(r, r->ud, &r->ri, r->redirect.new_location);
    else
      finish(r, CRONC_ERR_ABORTED);
    return;
  }
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
  r->state = RQ_READY;
  if (r->cb.on_response_started)
    r->cb.on_response_started(r, r->ud, &r->ri);
}

static int start_transaction(cronc_request *r) {
  r->info = (http_request_info){
      .url = &r->url,
      .method = r->method,
      .headers = &r->headers,
      .body = r->body,
      .body_len = r->body_len,
      .allow_http2 = r->allow_http2,
      .enable_alternative_services = true,
      .load_flags = r->disable_cache ? HTTP_LOAD_DISABLE_CACHE : HTTP_LOAD_NORMAL,
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
  finish(r, CRONC_ERR_ABORTED);
}

static void task_start(void *arg) {
  cronc_request *r = arg;
  if (r->state == RQ_STARTING && !r->cancel_pending) {
    r->start_ticks = base_clock_ticks(netlog_clock(engine_netlog(r->e)));
    r->link.cancel = link_cancel;
    engine_add_request(r->e, &r->link);
    int rv = chain_push(r);
    if (rv == CRONC_OK)
      rv = start_transaction(r);
    if (rv != CRONC_OK)
      finish(r, rv);
  }
  rq_unref(r);
}

static void on_read_done(void *ud, int rv) {
  cronc_request *r = ud;
  if (r->state != RQ_READING)
    return;
  if (rv < 0) {
    finish(r, rv);
  } else if (rv == 0) {
    finish(r, CRONC_OK);
  } else {
    r->state = RQ_READY;
    r->received += rv;
    r->ri.received_byte_count = r->received;
    if (r->cb.on_read_completed)
      r->cb.on_read_completed(r, r->ud, &r->ri, r->user_buf, (size_t)rv);
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
    r->cin_len = (size_t)rv;
  }
}

static void on_compressed_read(void *ud, int rv) {
  cronc_request *r = ud;
  if (r->state != RQ_READING)
    return;
  if (rv < 0) {
    on_read_done(r, rv);
    return;
  }
  if (rv == 0)
    r->body_eof = true;
  r->cin_off = 0;
  r->cin_len = (size_t)rv;
  decode_pump(r);
}

static void task_read(void *arg) {
  cronc_request *r = arg;
  if (r->state == RQ_READING) {
    if (r->dec) {
      decode_pump(r);
    } else {
      int rv = r->txn->vt->read(r->txn, r->user_buf, r->user_len, on_read_done, r);
      if (rv != CRONC_ERR_IO_PENDING)
        on_read_done(r, rv);
    }
  }
  rq_unref(r);
}

static void task_follow(void *arg) {
  cronc_request *r = arg;
  if (r->state == RQ_STARTING && r->have_redirect && r->redirect.is_redirect) {
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
    if (rv == CRONC_OK)
      rv = start_transaction(r);
    if (rv != CRONC_OK)
      finish(r, rv);
  }
  rq_unref(r);
}

static void task_cancel(void *arg) {
  cronc_request *r = arg;
  if (r->state != RQ_NEW && r->state != RQ_DONE)
    finish(r, CRONC_ERR_ABORTED);
  rq_unref(r);
}

CRONC_EXPORT void cronc_request_params_init(cronc_request_params *p) {
  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->allow_http2 = true;
}

static bool valid_token(const char *s) {
  return s && *s && h1_request_valid_field_name(s, strlen(s));
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
  const char *method = p->method ? p->method : (p->body ? "POST" : "GET");
  if (!valid_token(method))
    return CRONC_ERR_INVALID_ARGUMENT;
  cronc_request *r = calloc(1, sizeof *r);
  if (!r)
    return CRONC_ERR_OUT_OF_MEMORY;
  atomic_init(&r->refs, 1);
  r->e = ce->e;
  r->ri.metrics = &r->metrics;
  memset(&r->metrics, 0xff, sizeof r->metrics); /* every time -1 until known */
  r->metrics.socket_reused = false;
  r->cb = *cb;
  r->ud = ud;
  r->allow_http2 = p->allow_http2;
  r->disable_cache = p->disable_cache;
  h1_headers_init(&r->headers);
  int rv = url_parse(url_s, strlen(url_s), &r->url);
  if (rv == CRONC_OK && r->url.scheme != URL_SCHEME_HTTP && r->url.scheme != URL_SCHEME_HTTPS)
    rv = CRONC_ERR_DISALLOWED_URL_SCHEME;
  if (rv == CRONC_OK && !(r->method = strdup(method)))
    rv = CRONC_ERR_OUT_OF_MEMORY;
  bool has_ua = false, has_ae = false;
  for (size_t i = 0; rv == CRONC_OK && i < p->n_headers; i++) {
    const cronc_header *h = &p->headers[i];
    if (!h->name || !h->value || !h1_request_valid_field_name(h->name, strlen(h->name)) ||
        !h1_request_valid_field_value(h->value, strlen(h->value))) {
      rv = CRONC_ERR_INVALID_ARGUMENT;
      break;
    }
    has_ua |= strcasecmp(h->name, "user-agent") == 0;
    has_ae |= strcasecmp(h->name, "accept-encoding") == 0;
    rv = h1_headers_add(&r->headers, h->name, strlen(h->name), h->value, strlen(h->value));
  }
  if (rv == CRONC_OK && !has_ua) {
    const char *ua = engine_user_agent(r->e);
    rv = h1_headers_add(&r->headers, "User-Agent", 10, ua, strlen(ua));
  }
  if (rv == CRONC_OK && !has_ae) {
    /* Chromium's value: br and zstd only where proxies cannot meddle. */
    bool secure = r->url.scheme == URL_SCHEME_HTTPS || strcmp(r->url.host, "localhost") == 0 ||
                  strcmp(r->url.host, "127.0.0.1") == 0 || strcmp(r->url.host, "[::1]") == 0;
    bool has_range = false;
    for (size_t i = 0; i < p->n_headers; i++)
      has_range |= strcasecmp(p->headers[i].name, "range") == 0;
    const char *ae = content_decoder_accept_encoding(secure, has_range);
    rv = h1_headers_add(&r->headers, "Accept-Encoding", 15, ae, strlen(ae));
  }
  if (rv == CRONC_OK && p->body_len) {
    r->body = malloc(p->body_len);
    if (!r->body)
      rv = CRONC_ERR_OUT_OF_MEMORY;
    else {
      memcpy(r->body, p->body, p->body_len);
      r->body_len = p->body_len;
    }
  }
  if (rv != CRONC_OK) {
    rq_unref(r);
    return rv;
  }
  *out = r;
  return CRONC_OK;
}

CRONC_EXPORT int cronc_request_start(cronc_request *r) {
  if (!r || r->state != RQ_NEW)
    return CRONC_ERR_INVALID_ARGUMENT;
  r->state = RQ_STARTING;
  return rq_post(r, task_start);
}

CRONC_EXPORT int cronc_request_read(cronc_request *r, uint8_t *buf, size_t len) {
  if (!r || !buf || !len || r->state != RQ_READY)
    return CRONC_ERR_INVALID_ARGUMENT;
  r->user_buf = buf;
  r->user_len = len;
  r->state = RQ_READING;
  return rq_post(r, task_read);
}

CRONC_EXPORT int cronc_request_follow_redirect(cronc_request *r) {
  if (!r || r->state != RQ_REDIRECT_WAIT)
    return CRONC_ERR_INVALID_ARGUMENT;
  r->state = RQ_STARTING;
  return rq_post(r, task_follow);
}

CRONC_EXPORT void cronc_request_cancel(cronc_request *r) {
  if (!r)
    return;
  r->cancel_pending = true;
  rq_post(r, task_cancel);
}

CRONC_EXPORT void cronc_request_free(cronc_request *r) {
  if (r)
    rq_unref(r);
}
