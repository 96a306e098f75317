/* The public API's engines (include/cronc/cronc.h): parameters, start,
 * shutdown, NetLog files and request-finished listeners, on top of the
 * internal engine (engine/engine.h). See api_shared.h for the reference
 * counting that lets requests outlive cronc_engine_free() safely. */
#include <stdlib.h>
#include <string.h>

#include "cronc/cronc.h"
#include "engine/api_internal.h"
#include "engine/api_params.h"
#include "engine/api_shared.h"
#include "engine/engine.h"
#include "url/url.h"

CRONC_EXPORT void cronc_engine_params_init(cronc_engine_params *p) {
  memset(p, 0, sizeof *p);
  p->struct_size = sizeof *p;
  p->enable_http2 = true;
  p->enable_quic = true;
  p->pin_bypass_for_local_trust_anchors = true;
  p->enable_brotli = true;
  p->http_cache_mode = CRONC_HTTP_CACHE_DISABLED;
  /* Chromium's defaults for the alternative-service switches. */
  p->allow_remote_alt_svc = true;
  p->allow_remote_h2_alt_svc = true;
  p->retry_without_alt_svc_on_quic_errors = true;
}

CRONC_EXPORT const char *cronc_default_user_agent(void) { return "cronc/" CRONC_VERSION_STRING; }

/* Fields added after the first release are read only when the caller's
 * struct is big enough to hold them (struct_size from its _init). */
#define HAS_FIELD(p, f) ((p)->struct_size >= offsetof(cronc_engine_params, f) + sizeof((p)->f))

static int convert_pins(const cronc_engine_params *p, engine_pin **out) {
  *out = NULL;
  if (!p->n_public_key_pins)
    return CRONC_OK;
  engine_pin *pins = calloc(p->n_public_key_pins, sizeof *pins);
  if (!pins)
    return CRONC_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < p->n_public_key_pins; i++) {
    const cronc_public_key_pins *k = &p->public_key_pins[i];
    char canon[URL_MAX_HOST + 1];
    url_host_kind kind;
    /* Cronet validates pins up front (ILLEGAL_ARGUMENT_INVALID_PIN). */
    if (!k->host || !k->sha256 || !k->n_sha256 ||
        url_canon_host(k->host, strlen(k->host), canon, sizeof canon, &kind) != CRONC_OK ||
        strcmp(canon, k->host) != 0 || k->expiration_ms < 0) {
      free(pins);
      return CRONC_ERR_INVALID_ARGUMENT;
    }
    pins[i] = (engine_pin){k->host, k->sha256, k->n_sha256, k->include_subdomains,
                           k->expiration_ms * 1000};
  }
  *out = pins;
  return CRONC_OK;
}

void api_params_owned_free(api_params_owned *own) {
  free(own->hints);
  free(own->pins);
  free(own->quic_host_allowlist);
  api_json_owned_free(&own->json);
  memset(own, 0, sizeof *own);
}

int api_params_build(const cronc_engine_params *p, engine_params *ep, api_params_owned *own) {
  memset(own, 0, sizeof *own);
  engine_params_init(ep);
  if (!p || p->struct_size < offsetof(cronc_engine_params, http_cache_mode))
    return CRONC_ERR_INVALID_ARGUMENT;
  if (p->n_quic_hints && !(own->hints = calloc(p->n_quic_hints, sizeof *own->hints)))
    return CRONC_ERR_OUT_OF_MEMORY;
  int rv = convert_pins(p, &own->pins);
  for (size_t i = 0; rv == CRONC_OK && i < p->n_quic_hints; i++)
    own->hints[i] = (engine_quic_hint){p->quic_hints[i].host, p->quic_hints[i].port,
                                       p->quic_hints[i].alternate_port};
  ep->pins = own->pins;
  ep->n_pins = own->pins ? p->n_public_key_pins : 0;
  ep->pin_bypass_for_local_anchors = p->pin_bypass_for_local_trust_anchors;
  ep->storage_path = p->storage_path;
  ep->netlog_path = p->netlog_path;
  ep->enable_http2 = p->enable_http2;
  ep->enable_quic = p->enable_quic;
  ep->quic_hints = own->hints;
  ep->n_quic_hints = own->hints ? p->n_quic_hints : 0;
  ep->user_agent = p->user_agent;
  if (HAS_FIELD(p, http_cache_max_bytes)) {
    ep->cache_mode = (engine_cache_mode)p->http_cache_mode;
    ep->cache_max_bytes = p->http_cache_max_bytes;
  }
  if (HAS_FIELD(p, http3_only))
    ep->http3_only = p->http3_only;
  if (HAS_FIELD(p, uv_loop))
    ep->loop = p->uv_loop;
  /* The switches before the experimental options, which win over them. */
  if (HAS_FIELD(p, retry_without_alt_svc_on_quic_errors)) {
    ep->enable_http2_alternative_service = p->enable_http2_alternative_service;
    ep->enable_user_alternate_protocol_ports = p->enable_user_alternate_protocol_ports;
    ep->allow_remote_alt_svc = p->allow_remote_alt_svc;
    ep->allow_remote_h2_alt_svc = p->allow_remote_h2_alt_svc;
    ep->quic_disable_bidirectional_streams = p->quic_disable_bidirectional_streams;
    ep->delay_main_job_with_available_spdy_session = p->delay_main_job_with_available_spdy_session;
    ep->retry_without_alt_svc_on_quic_errors = p->retry_without_alt_svc_on_quic_errors;
    if (rv == CRONC_OK)
      rv = api_host_list_copy(p->quic_host_allowlist, p->n_quic_host_allowlist,
                              &own->quic_host_allowlist);
    if (rv == CRONC_OK && own->quic_host_allowlist) {
      ep->quic_host_allowlist = (const char *const *)own->quic_host_allowlist;
      ep->n_quic_host_allowlist = p->n_quic_host_allowlist;
    }
  }
  if (rv == CRONC_OK && HAS_FIELD(p, experimental_options))
    rv = api_json_options_parse(p->experimental_options, ep, &own->json);
  if (rv != CRONC_OK) {
    api_params_owned_free(own);
    engine_params_init(ep); /* nothing left pointing at freed memory */
    return rv;
  }
  ep->extra_ca_file = p->extra_ca_file ? p->extra_ca_file : own->json.extra_ca_file;
  ep->host_resolver_rules =
      p->host_resolver_rules ? p->host_resolver_rules : own->json.host_resolver_rules;
  return CRONC_OK;
}

CRONC_EXPORT int cronc_engine_new(const cronc_engine_params *p, cronc_engine **out) {
  if (!p || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  engine_params ep;
  api_params_owned own;
  int rv = api_params_build(p, &ep, &own);
  if (rv != CRONC_OK)
    return rv;
  cronc_engine *ce = calloc(1, sizeof *ce);
  if (!ce) {
    api_params_owned_free(&own);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  atomic_init(&ce->refs, 1);
  pthread_mutex_init(&ce->mu, NULL);
  ce->enable_brotli = true;
  if (HAS_FIELD(p, accept_language) && p->accept_language && *p->accept_language &&
      !(ce->accept_language = strdup(p->accept_language)))
    rv = CRONC_ERR_OUT_OF_MEMORY;
  if (HAS_FIELD(p, enable_brotli))
    ce->enable_brotli = p->enable_brotli;
  if (rv == CRONC_OK)
    rv = engine_new(&ep, &ce->e);
  api_params_owned_free(&own); /* the engine copied what it keeps */
  if (rv != CRONC_OK) {
    free(ce->accept_language);
    pthread_mutex_destroy(&ce->mu);
    free(ce);
    return rv;
  }
  ce->e_alive = true;
  *out = ce;
  return CRONC_OK;
}

/* ---- Preconnect -------------------------------------------------------- */

typedef struct preconnect_task {
  cronc_engine *ce;
  int num_streams;
  char url[]; /* canonical spec */
} preconnect_task;

static void preconnect_run(void *arg) {
  preconnect_task *t = arg;
  /* Network thread: the engine is alive until its thread stops, which runs
   * this task first. Errors have nobody to go to (see cronc.h). */
  (void)engine_preconnect(t->ce->e, t->url, t->num_streams);
  api_engine_unref(t->ce);
  free(t);
}

CRONC_EXPORT int cronc_engine_preconnect(cronc_engine *ce, const char *url_s, int num_streams) {
  if (!ce || !url_s || num_streams < 1)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (num_streams > CRONC_PRECONNECT_MAX_STREAMS)
    num_streams = CRONC_PRECONNECT_MAX_STREAMS;
  url u;
  int rv = url_parse(url_s, strlen(url_s), &u);
  if (rv != CRONC_OK)
    return rv;
  if (u.scheme != URL_SCHEME_HTTP && u.scheme != URL_SCHEME_HTTPS) {
    url_free(&u);
    return CRONC_ERR_DISALLOWED_URL_SCHEME;
  }
  size_t n = strlen(u.spec);
  preconnect_task *t = malloc(sizeof *t + n + 1);
  if (!t) {
    url_free(&u);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  memcpy(t->url, u.spec, n + 1);
  url_free(&u);
  t->ce = ce;
  t->num_streams = num_streams;
  pthread_mutex_lock(&ce->mu);
  bool alive = ce->e_alive && !ce->shut_down;
  pthread_mutex_unlock(&ce->mu);
  if (!alive) {
    free(t);
    return CRONC_ERR_CONTEXT_SHUT_DOWN;
  }
  api_engine_ref(ce);
  rv = api_engine_post(ce, preconnect_run, t);
  if (rv != CRONC_OK) {
    api_engine_unref(ce);
    free(t);
  }
  return rv;
}

static void network_changed_run(void *arg) {
  cronc_engine *ce = arg;
  engine_on_network_changed(ce->e);
  api_engine_unref(ce);
}

CRONC_EXPORT int cronc_engine_notify_network_changed(cronc_engine *ce) {
  if (!ce)
    return CRONC_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&ce->mu);
  bool alive = ce->e_alive && !ce->shut_down;
  pthread_mutex_unlock(&ce->mu);
  if (!alive)
    return CRONC_ERR_CONTEXT_SHUT_DOWN;
  api_engine_ref(ce);
  int rv = api_engine_post(ce, network_changed_run, ce);
  if (rv != CRONC_OK)
    api_engine_unref(ce);
  return rv;
}

engine *cronc_engine_internal(cronc_engine *ce) { return ce->e; }

void api_engine_ref(cronc_engine *ce) { atomic_fetch_add(&ce->refs, 1); }

void api_engine_unref(cronc_engine *ce) {
  if (atomic_fetch_sub(&ce->refs, 1) != 1)
    return;
  while (ce->listeners) {
    api_listener *l = ce->listeners;
    ce->listeners = l->next;
    free(l);
  }
  free(ce->accept_language);
  pthread_mutex_destroy(&ce->mu);
  free(ce);
}

int api_engine_post(cronc_engine *ce, void (*fn)(void *), void *arg) {
  pthread_mutex_lock(&ce->mu);
  int rv = ce->e_alive ? engine_post(ce->e, fn, arg) : CRONC_ERR_CONTEXT_SHUT_DOWN;
  pthread_mutex_unlock(&ce->mu);
  return rv;
}

CRONC_EXPORT bool cronc_engine_on_network_thread(const cronc_engine *ce) {
  if (!ce)
    return false;
  pthread_mutex_lock((pthread_mutex_t *)&ce->mu);
  bool on = ce->e_alive && base_runner_is_current(engine_runner(ce->e));
  pthread_mutex_unlock((pthread_mutex_t *)&ce->mu);
  return on;
}

CRONC_EXPORT int cronc_engine_shutdown(cronc_engine *ce) {
  if (!ce)
    return CRONC_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&ce->mu);
  bool done = ce->shut_down;
  pthread_mutex_unlock(&ce->mu);
  if (done)
    return CRONC_OK;
  /* Not under mu: the network thread's last tasks (cancelling requests,
   * reporting them to listeners) take it. */
  int rv = engine_shutdown(ce->e);
  if (rv != CRONC_OK)
    return rv;
  pthread_mutex_lock(&ce->mu);
  ce->shut_down = true;
  netlog_file_writer *w = ce->nl_writer;
  ce->nl_writer = NULL;
  pthread_mutex_unlock(&ce->mu);
  if (w)
    netlog_file_writer_close(w);
  return CRONC_OK;
}

CRONC_EXPORT void cronc_engine_free(cronc_engine *ce) {
  if (!ce || cronc_engine_shutdown(ce) != CRONC_OK)
    return; /* on the network thread: refusing beats a deadlock */
  pthread_mutex_lock(&ce->mu);
  engine *e = ce->e_alive ? ce->e : NULL;
  ce->e_alive = false;
  ce->e = NULL;
  pthread_mutex_unlock(&ce->mu);
  engine_free(e);
  api_engine_unref(ce);
}

CRONC_EXPORT int cronc_engine_start_netlog(cronc_engine *ce, const char *path) {
  if (!ce || !path || !*path)
    return CRONC_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&ce->mu);
  int rv = CRONC_ERR_INVALID_ARGUMENT;
  if (ce->e_alive && !ce->shut_down && !ce->nl_writer)
    rv = netlog_file_writer_open(engine_netlog(ce->e), path, &ce->nl_writer);
  pthread_mutex_unlock(&ce->mu);
  return rv;
}

CRONC_EXPORT void cronc_engine_stop_netlog(cronc_engine *ce) {
  if (!ce)
    return;
  pthread_mutex_lock(&ce->mu);
  netlog_file_writer *w = ce->nl_writer;
  ce->nl_writer = NULL;
  pthread_mutex_unlock(&ce->mu);
  if (w)
    netlog_file_writer_close(w);
}

CRONC_EXPORT int cronc_engine_add_request_finished_listener(cronc_engine *ce,
                                                            cronc_request_finished_fn fn, void *ud,
                                                            const cronc_executor *ex) {
  if (!ce || !fn)
    return CRONC_ERR_INVALID_ARGUMENT;
  api_listener *n = calloc(1, sizeof *n);
  if (!n)
    return CRONC_ERR_OUT_OF_MEMORY;
  n->fn = fn;
  n->user_data = ud;
  if (ex) {
    n->executor = *ex;
    n->has_executor = true;
  }
  pthread_mutex_lock(&ce->mu);
  for (api_listener *l = ce->listeners; l; l = l->next) {
    if (l->fn == fn && l->user_data == ud) {
      pthread_mutex_unlock(&ce->mu);
      free(n);
      return CRONC_ERR_INVALID_ARGUMENT;
    }
  }
  n->next = ce->listeners;
  ce->listeners = n;
  pthread_mutex_unlock(&ce->mu);
  return CRONC_OK;
}

CRONC_EXPORT int cronc_engine_remove_request_finished_listener(cronc_engine *ce,
                                                               cronc_request_finished_fn fn,
                                                               void *ud) {
  if (!ce)
    return CRONC_ERR_INVALID_ARGUMENT;
  pthread_mutex_lock(&ce->mu);
  for (api_listener **pl = &ce->listeners; *pl; pl = &(*pl)->next) {
    api_listener *l = *pl;
    if (l->fn == fn && l->user_data == ud) {
      *pl = l->next;
      pthread_mutex_unlock(&ce->mu);
      free(l);
      return CRONC_OK;
    }
  }
  pthread_mutex_unlock(&ce->mu);
  return CRONC_ERR_INVALID_ARGUMENT;
}

/* One report on its way to one listener. */
typedef struct report_task {
  cronc_request_finished_fn fn;
  void *user_data;
  cronc_request_finished_info info; /* points into the owner */
  void (*release)(void *);
  void *owner;
} report_task;

static void report_run(void *arg) {
  report_task *t = arg;
  t->fn(t->user_data, &t->info);
  t->release(t->owner);
  free(t);
}

static void report_drop(void *arg) {
  report_task *t = arg;
  t->release(t->owner);
  free(t);
}

void api_report_finished(cronc_engine *ce, const cronc_request_finished_info *info,
                         void (*hold)(void *), void (*release)(void *), void *owner) {
  pthread_mutex_lock(&ce->mu);
  /* Copied out under the lock; executors are called without it, so a
   * listener may add or remove listeners. */
  size_t n = 0;
  for (api_listener *l = ce->listeners; l; l = l->next)
    n++;
  report_task **tasks = n ? calloc(n, sizeof *tasks) : NULL;
  cronc_executor *exs = n ? calloc(n, sizeof *exs) : NULL;
  bool *has = n ? calloc(n, sizeof *has) : NULL;
  size_t k = 0;
  for (api_listener *l = ce->listeners; l && tasks && exs && has; l = l->next) {
    report_task *t = malloc(sizeof *t);
    if (!t)
      break;
    *t = (report_task){l->fn, l->user_data, *info, release, owner};
    exs[k] = l->executor;
    has[k] = l->has_executor;
    tasks[k++] = t;
    hold(owner);
  }
  pthread_mutex_unlock(&ce->mu);
  for (size_t i = 0; i < k; i++)
    api_execute(has[i] ? &exs[i] : NULL, report_run, report_drop, tasks[i]);
  free(tasks);
  free(exs);
  free(has);
}
