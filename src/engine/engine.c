#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cache/http_cache.h"
#include "cronc/cronc.h"
#include "engine/quic_states.h"
#include "http/job_controller.h"
#include "http/network_transaction.h"
#include "http/quic_hints.h"
#include "quic/quic_session_pool.h"

struct engine {
  engine_params params;
  char *storage_path;
  const base_clock *clock;
  netlog *nl;
  netlog_file_writer *nl_file;
  netlog_source source;
  base_runner *runner;
  bool own_thread;

  char *extra_ca_file;
  char *host_rules;
  char *user_agent;

  /* Network-thread state. */
  dns_resolver *resolver;
  tls_context *tls;
  dns_host_mapping_rules *rules;
  stream_factory *factory;
  jc_factory *jc;              /* the job controllers requests go through */
  char **quic_allowlist;       /* copy of params.quic_host_allowlist */
  quic_pool *quic;             /* NULL when QUIC is off */
  engine_quic_states *qstates; /* 0-RTT state per server id */
  http_network_layer *network_layer;
  http_cache *cache;            /* NULL when the HTTP cache is off */
  engine_request_link requests; /* circular list head */
  props *props;
  store *store;
  base_timer write_timer;
  base_timer expiry_timer;
  bool timers_open;
  bool dirty;
  bool shut_down;
  int pending_closes; /* timers whose close callback has not run yet */
  bool free_requested;
  int start_error;
};

void engine_params_init(engine_params *p) {
  memset(p, 0, sizeof *p);
  p->enable_quic = true;
  p->enable_http2 = true;
  p->broken_exponential_backoff = true;
  p->pin_bypass_for_local_anchors = true;
  p->allow_remote_alt_svc = true;
  p->allow_remote_h2_alt_svc = true;
  p->retry_without_alt_svc_on_quic_errors = true;
}

static void arm_expiry_timer(engine *e);

static void write_timer_fired(base_timer *t, void *user_data) {
  (void)t;
  engine_flush_store(user_data);
}

static void expiry_timer_fired(base_timer *t, void *user_data) {
  (void)t;
  engine *e = user_data;
  props_run_expiry(e->props);
  arm_expiry_timer(e);
}

/* Arms the expiry timer for the soonest broken-service expiry (props also
 * expires lazily at every call, so the timer only matters for persistence
 * and for alternatives to be dropped while nobody asks). */
static void arm_expiry_timer(engine *e) {
  if (!e->timers_open || e->shut_down)
    return;
  int64_t next = props_next_expiry(e->props);
  if (next == INT64_MAX) {
    base_timer_stop(&e->expiry_timer);
    return;
  }
  int64_t delta_us = next - base_clock_ticks(e->clock);
  uint64_t delay_ms = delta_us <= 0 ? 0 : (uint64_t)((delta_us + 999) / 1000);
  base_timer_start(&e->expiry_timer, delay_ms, 0, expiry_timer_fired, e);
}

/* Server properties changed in a way worth persisting. */
/* Arms the batched write unless one is already pending. */
static void schedule_write(engine *e) {
  if (!e->timers_open || e->shut_down)
    return;
  if (e->store && store_is_writable(e->store) && !base_timer_is_running(&e->write_timer))
    base_timer_start(&e->write_timer, e->params.store_write_delay_ms, 0, write_timer_fired, e);
}

static void props_changed(void *user_data) {
  engine *e = user_data;
  e->dirty = true;
  schedule_write(e);
  arm_expiry_timer(e);
}

/* A QUIC session ticket arrived: written with the next batch, without
 * rewriting server properties that did not change. */
static void quic_states_changed(void *user_data) { schedule_write(user_data); }

int engine_flush_store(engine *e) {
  if (!e->store || !store_is_writable(e->store))
    return CRONC_OK;
  if (e->qstates) {
    int qrv = engine_quic_states_flush(e->qstates, e->store);
    if (qrv != CRONC_OK)
      netlog_add_net_error(e->nl, e->source, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, qrv);
  }
  if (!e->dirty)
    return CRONC_OK;
  props_snapshot snap;
  props_snapshot_init(&snap);
  int rv = props_take_snapshot(e->props, &snap);
  if (rv == CRONC_OK)
    rv = store_save_props(e->store, &snap);
  props_snapshot_free(&snap);
  if (rv == CRONC_OK)
    e->dirty = false;
  return rv;
}

static void add_quic_hints(engine *e) {
  for (size_t i = 0; i < e->params.n_quic_hints; i++) {
    const engine_quic_hint *h = &e->params.quic_hints[i];
    /* An invalid hint is logged (CRONC_QUIC_HINT_INVALID) and skipped, as
     * Cronet does; it never stops the engine. */
    props_add_quic_hint(e->props, h->host, h->port, h->alternate_port);
  }
}

/* A QUIC connection's outcome feeds the job controller's bookkeeping
 * (confirm or recently-broken, smoothed RTT, QUIC works here). */
static void quic_observer(void *ud, const quic_pool_event *ev) {
  engine *e = ud;
  if (!e->jc)
    return;
  jc_quic_outcome o = {ev->host,   ev->port,    ev->dest_host,    ev->dest_port,
                       ev->result, ev->srtt_us, ev->local_address};
  jc_factory_on_quic_session(e->jc, &o);
}

/* Recently broken QUIC gets no 0-RTT (Chromium requires confirmation). */
static bool quic_require_confirmation(void *ud, const char *dest_host, uint16_t dest_port) {
  engine *e = ud;
  altsvc_service alt = {.protocol = ALTSVC_PROTO_QUIC, .port = dest_port};
  snprintf(alt.host, sizeof alt.host, "%s", dest_host);
  return props_was_alternative_service_recently_broken(e->props, &alt);
}

/* A new QUIC connection starts from the server's recorded smoothed RTT. */
static int64_t quic_initial_rtt(void *ud, const char *host, uint16_t port) {
  engine *e = ud;
  url_origin o;
  int64_t srtt = 0;
  if (url_origin_init(&o, URL_SCHEME_HTTPS, host, strlen(host), port) != CRONC_OK ||
      !props_get_srtt(e->props, &o, &srtt))
    return 0;
  return srtt;
}

/* The job controller reaches QUIC through these (http/ sits below quic/). */
static int jc_quic_request(void *ud, const http_request_info *req, const char *dest_host,
                           uint16_t dest_port, http_stream_ready_cb cb, void *cb_ud,
                           void **handle) {
  engine *e = ud;
  quic_pool_request *qr = NULL;
  int rv = quic_pool_request_stream(e->quic, req, false, dest_host, dest_port, cb, cb_ud, &qr);
  *handle = qr;
  return rv;
}

static void jc_quic_cancel(void *ud, void *handle) {
  (void)ud;
  quic_pool_cancel(handle);
}

static bool jc_quic_can_use(void *ud, const char *host, uint16_t port, const char *dest_host,
                            uint16_t dest_port) {
  engine *e = ud;
  return quic_pool_can_use_existing_session(e->quic, host, port, false, dest_host, dest_port);
}

/* An HTTP/2 ALTSVC frame feeds the same path as an Alt-Svc header. */
static void h2_alt_svc(void *ud, const url_origin *origin, const char *value, size_t len) {
  engine *e = ud;
  props_process_alt_svc_header(e->props, origin, value, len, e->params.enable_http2,
                               e->params.enable_quic);
}

static int start_job_controller(engine *e) {
  jc_params jp;
  jc_params_init(&jp);
  jp.runner = e->runner;
  jp.clock = e->clock;
  jp.nl = e->nl;
  jp.props = e->props;
  jp.tcp = e->factory;
  if (e->quic)
    jp.quic = (jc_quic_ops){jc_quic_request, jc_quic_cancel, jc_quic_can_use, e};
  jp.select.enable_quic = e->params.enable_quic;
  jp.select.enable_http2_alternative_service =
      e->params.enable_http2 && e->params.enable_http2_alternative_service;
  jp.select.enable_user_alternate_protocol_ports = e->params.enable_user_alternate_protocol_ports;
  jp.select.allow_remote_alt_svc = e->params.allow_remote_alt_svc;
  jp.select.disallow_remote_h2_alt_svc = !e->params.allow_remote_h2_alt_svc;
  jp.select.disable_bidirectional_streams = e->params.quic_disable_bidirectional_streams;
  jp.select.quic_host_allowlist = (const char *const *)e->quic_allowlist;
  jp.select.n_quic_host_allowlist = e->quic_allowlist ? e->params.n_quic_host_allowlist : 0;
  jp.delay_main_job_with_available_spdy_session =
      e->params.delay_main_job_with_available_spdy_session;
  return jc_factory_new(&jp, &e->jc);
}

/* The QUIC session pool, with the 0-RTT state loaded from the store. */
static int start_quic(engine *e) {
  e->qstates = engine_quic_states_new(e->clock, quic_states_changed, e);
  if (!e->qstates)
    return CRONC_ERR_OUT_OF_MEMORY;
  int rv = engine_quic_states_load(e->qstates, e->store);
  if (rv != CRONC_OK)
    netlog_add_net_error(e->nl, e->source, NETLOG_TYPE_FAILED, rv);
  quic_pool_params qp;
  quic_pool_params_init(&qp);
  qp.runner = e->runner;
  qp.clock = e->clock;
  qp.netlog = e->nl;
  qp.tls = e->tls;
  qp.resolver = e->resolver;
  qp.handshake_timeout_ms = e->params.quic_handshake_timeout_ms;
  qp.idle_timeout_ms = e->params.quic_idle_timeout_ms;
  qp.tickets = engine_quic_states_ticket_store(e->qstates);
  qp.observer = quic_observer;
  qp.observer_ud = e;
  qp.rules = e->rules;
  qp.require_confirmation = quic_require_confirmation;
  qp.require_confirmation_ud = e;
  qp.initial_rtt_us = quic_initial_rtt;
  qp.initial_rtt_ud = e;
  return quic_pool_new(&qp, &e->quic);
}

/* The HTTP cache in front of the network layer (DESIGN.md, step 1): in
 * memory, or on disk under <storage_path>/cache. */
static int start_cache(engine *e) {
  int64_t max = e->params.cache_max_bytes > 0 ? e->params.cache_max_bytes : 50 * 1024 * 1024;
  cache_backend *b = NULL;
  if (e->params.cache_mode == ENGINE_CACHE_IN_MEMORY) {
    b = cache_mem_backend_new(max);
    if (!b)
      return CRONC_ERR_OUT_OF_MEMORY;
  } else {
    if (!e->storage_path)
      return CRONC_ERR_INVALID_ARGUMENT; /* a disk cache needs a storage path */
    strbuf dir = STRBUF_INIT;
    strbuf_appendf(&dir, "%s/cache", e->storage_path);
    int rv = strbuf_failed(&dir) ? CRONC_ERR_OUT_OF_MEMORY
                                 : cache_disk_backend_new(strbuf_cstr(&dir), max, e->nl, &b);
    strbuf_free(&dir);
    if (rv != CRONC_OK)
      return rv;
  }
  http_cache_params cp;
  http_cache_params_init(&cp);
  cp.network = http_network_layer_base(e->network_layer);
  cp.backend = b;
  cp.clock = e->clock;
  cp.nl = e->nl;
  cp.runner = e->runner;
  return http_cache_new(&cp, &e->cache);
}

/* Runs on the network thread: everything that lives there is made here. */
static void start_on_network_thread(void *arg) {
  engine *e = arg;
  props_params pp;
  props_params_init(&pp);
  pp.clock = e->clock;
  pp.nl = e->nl;
  e->props = props_new(&pp);
  if (!e->props) {
    e->start_error = CRONC_ERR_OUT_OF_MEMORY;
    return;
  }
  if (e->params.broken_initial_delay_us > 0)
    broken_altsvc_set_delay_params(props_broken(e->props), e->params.broken_initial_delay_us,
                                   e->params.broken_exponential_backoff);

  if (e->storage_path) {
    int rv = store_open(e->storage_path, STORE_OPEN_READ_WRITE, e->nl, &e->store);
    if (rv != CRONC_OK) {
      e->start_error = rv;
      return;
    }
    props_snapshot snap;
    rv = store_load_props(e->store, &snap);
    if (rv == CRONC_OK)
      rv = props_apply_snapshot(e->props, &snap);
    props_snapshot_free(&snap);
    if (rv != CRONC_OK)
      netlog_add_net_error(e->nl, e->source, NETLOG_TYPE_FAILED, rv);
  }
  /* Transport: resolver, TLS context, host rules, stream factory. */
  int trv = dns_resolver_new(e->runner, NULL, e->nl, &e->resolver);
  if (trv == CRONC_OK) {
    tls_context_params tp;
    tls_context_params_init(&tp);
    tp.extra_ca_file = e->extra_ca_file;
    tp.clock = e->clock;
    tp.netlog = e->nl;
    tp.pin_bypass_for_local_anchors = e->params.pin_bypass_for_local_anchors;
    trv = tls_context_new(&tp, &e->tls);
  }
  for (size_t i = 0; trv == CRONC_OK && i < e->params.n_pins; i++) {
    const engine_pin *pin = &e->params.pins[i];
    trv = tls_context_add_pins(e->tls, pin->host, pin->include_subdomains, pin->sha256,
                               pin->n_sha256, pin->expiry_us);
  }
  if (trv == CRONC_OK && e->host_rules) {
    size_t rejected = 0;
    trv = dns_host_mapping_rules_parse(e->host_rules, strlen(e->host_rules), &e->rules, &rejected);
    if (trv == CRONC_OK && rejected)
      netlog_add_event(e->nl, e->source, NETLOG_TYPE_FAILED,
                       "{\"host_resolver_rules\":\"some rules were invalid and skipped\"}");
  }
  if (trv == CRONC_OK) {
    stream_factory_params sp;
    stream_factory_params_init(&sp);
    sp.runner = e->runner;
    sp.clock = e->clock;
    sp.nl = e->nl;
    sp.resolver = e->resolver;
    sp.tls = e->tls;
    sp.rules = e->rules;
    sp.enable_http2 = e->params.enable_http2;
    sp.connect_timeout_ms = e->params.connect_timeout_ms;
    sp.on_alt_svc = h2_alt_svc;
    sp.alt_svc_ud = e;
    e->factory = stream_factory_new(&sp);
    if (!e->factory)
      trv = CRONC_ERR_OUT_OF_MEMORY;
  }
  if (trv == CRONC_OK && e->params.enable_quic)
    trv = start_quic(e);
  if (trv == CRONC_OK)
    trv = start_job_controller(e);
  if (trv == CRONC_OK) {
    /* --http3-only: every request over QUIC to the origin itself. */
    http_stream_factory *streams =
        e->params.http3_only ? quic_pool_stream_factory(e->quic) : jc_factory_base(e->jc);
    e->network_layer = http_network_layer_new(streams);
    if (!e->network_layer) {
      trv = CRONC_ERR_OUT_OF_MEMORY;
    } else {
      ntx_alt_svc_params ap = {
          .props = e->props,
          .enable_http2 = e->params.enable_http2,
          .enable_quic = e->params.enable_quic,
          .retry_without_alt_svc_on_quic_errors = e->params.retry_without_alt_svc_on_quic_errors,
      };
      http_network_layer_set_alt_svc(e->network_layer, &ap);
    }
  }
  /* Disk without HTTP keeps server properties on disk but no responses. */
  if (trv == CRONC_OK &&
      (e->params.cache_mode == ENGINE_CACHE_IN_MEMORY || e->params.cache_mode == ENGINE_CACHE_DISK))
    trv = start_cache(e);

  if (trv != CRONC_OK) {
    e->start_error = trv;
    return;
  }
  e->requests.next = e->requests.prev = &e->requests;

  /* Hints are configuration, not learned state: added after the load so
   * they win, and not a reason to write. */
  add_quic_hints(e);
  e->dirty = false;

  if (base_timer_init(e->runner, &e->write_timer) != CRONC_OK ||
      base_timer_init(e->runner, &e->expiry_timer) != CRONC_OK) {
    e->start_error = CRONC_ERR_INSUFFICIENT_RESOURCES;
    return;
  }
  e->timers_open = true;
  props_set_change_callback(e->props, props_changed, e);
  arm_expiry_timer(e);
}

static void timer_closed(base_timer *t, void *user_data) {
  (void)t;
  engine *e = user_data;
  if (--e->pending_closes == 0 && e->free_requested)
    free(e);
}

/* Runs on the network thread: flush, then tear down what lives there. */
static void stop_on_network_thread(void *arg) {
  engine *e = arg;
  /* Running requests are cancelled first: each gets its canceled callback. */
  while (e->requests.next && e->requests.next != &e->requests)
    e->requests.next->cancel(e->requests.next);
  http_cache_free(e->cache);
  e->cache = NULL;
  http_network_layer_free(e->network_layer);
  e->network_layer = NULL;
  jc_factory_free(e->jc);
  e->jc = NULL;
  quic_pool_free(e->quic);
  e->quic = NULL;
  stream_factory_free(e->factory);
  e->factory = NULL;
  dns_host_mapping_rules_free(e->rules);
  e->rules = NULL;
  tls_context_free(e->tls);
  e->tls = NULL;
  dns_resolver_free(e->resolver);
  e->resolver = NULL;
  if (e->props) {
    props_set_change_callback(e->props, NULL, NULL);
    int rv = engine_flush_store(e);
    if (rv != CRONC_OK)
      netlog_add_net_error(e->nl, e->source, NETLOG_TYPE_CRONC_STORE_WRITE_FAILED, rv);
  }
  if (e->timers_open) {
    e->timers_open = false;
    if (e->own_thread) {
      /* The runner's shutdown closes what is still open before the join. */
      base_timer_close(&e->write_timer, NULL, NULL);
      base_timer_close(&e->expiry_timer, NULL, NULL);
    } else {
      e->pending_closes = 2;
      base_timer_close(&e->write_timer, timer_closed, e);
      base_timer_close(&e->expiry_timer, timer_closed, e);
    }
  }
  engine_quic_states_free(e->qstates);
  e->qstates = NULL;
  store_close(e->store);
  e->store = NULL;
  props_free(e->props);
  e->props = NULL;
}

static void noop_task(void *arg) { (void)arg; }

int engine_run(engine *e, base_task_fn fn, void *arg) {
  if (!e || !fn)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!e->own_thread) {
    if (!base_runner_is_current(e->runner))
      return CRONC_ERR_INVALID_ARGUMENT;
    fn(arg);
    return CRONC_OK;
  }
  return base_runner_post_and_wait(e->runner, fn, arg);
}

int engine_post(engine *e, base_task_fn fn, void *arg) {
  if (!e)
    return CRONC_ERR_INVALID_ARGUMENT;
  return base_runner_post(e->runner, fn, arg);
}

static void engine_destroy(engine *e) {
  if (e->quic_allowlist)
    for (size_t i = 0; i < e->params.n_quic_host_allowlist; i++)
      free(e->quic_allowlist[i]);
  free(e->quic_allowlist);
  e->quic_allowlist = NULL;
  free(e->extra_ca_file);
  free(e->host_rules);
  free(e->user_agent);
  e->extra_ca_file = e->host_rules = e->user_agent = NULL;
  netlog_file_writer_close(e->nl_file);
  netlog_free(e->nl);
  free(e->storage_path);
  e->storage_path = NULL;
  e->nl = NULL;
  e->nl_file = NULL;
}

int engine_new(const engine_params *params, engine **out) {
  if (!params || !out)
    return CRONC_ERR_INVALID_ARGUMENT;
  /* HTTP/3-only needs QUIC; a disk cache needs a place on disk. */
  if ((params->http3_only && !params->enable_quic) ||
      (params->cache_mode >= ENGINE_CACHE_DISK_NO_HTTP &&
       !(params->storage_path && params->storage_path[0])) ||
      params->cache_mode < ENGINE_CACHE_DISABLED || params->cache_mode > ENGINE_CACHE_DISK)
    return CRONC_ERR_INVALID_ARGUMENT;
  *out = NULL;
  engine *e = calloc(1, sizeof *e);
  if (!e)
    return CRONC_ERR_OUT_OF_MEMORY;
  e->params = *params;
  if (!e->params.store_write_delay_ms)
    e->params.store_write_delay_ms = ENGINE_DEFAULT_STORE_WRITE_DELAY_MS;
  e->clock = params->clock ? params->clock : base_clock_system();
  if (params->storage_path && params->storage_path[0]) {
    e->storage_path = strdup(params->storage_path);
    if (!e->storage_path) {
      free(e);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
  }
  e->params.storage_path = e->storage_path;
  if ((params->extra_ca_file && !(e->extra_ca_file = strdup(params->extra_ca_file))) ||
      (params->host_resolver_rules && !(e->host_rules = strdup(params->host_resolver_rules))) ||
      !(e->user_agent =
            strdup(params->user_agent ? params->user_agent : "cronc/" CRONC_VERSION_STRING))) {
    engine_destroy(e);
    free(e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  if (params->n_quic_host_allowlist && params->quic_host_allowlist) {
    e->quic_allowlist = calloc(params->n_quic_host_allowlist, sizeof(char *));
    bool ok = e->quic_allowlist != NULL;
    for (size_t i = 0; ok && i < params->n_quic_host_allowlist; i++) {
      const char *h = params->quic_host_allowlist[i] ? params->quic_host_allowlist[i] : "";
      e->quic_allowlist[i] = strdup(h);
      ok = e->quic_allowlist[i] != NULL;
      /* The selection compares lower-cased hosts. */
      for (char *c = ok ? e->quic_allowlist[i] : NULL; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
          *c = (char)(*c - 'A' + 'a');
    }
    if (!ok) {
      engine_destroy(e);
      free(e);
      return CRONC_ERR_OUT_OF_MEMORY;
    }
  } else {
    e->params.n_quic_host_allowlist = 0;
  }
  e->params.quic_host_allowlist = NULL; /* the copy is e->quic_allowlist */
  e->params.extra_ca_file = e->extra_ca_file;
  e->params.host_resolver_rules = e->host_rules;
  e->params.user_agent = e->user_agent;
  e->params.netlog_path = NULL; /* not kept; opened below */
  e->params.quic_hints = NULL;  /* used only during start (copied by props) */

  e->nl = netlog_new(e->clock);
  if (!e->nl) {
    engine_destroy(e);
    free(e);
    return CRONC_ERR_OUT_OF_MEMORY;
  }
  int rv = CRONC_OK;
  if (params->netlog_path && params->netlog_path[0])
    rv = netlog_file_writer_open(e->nl, params->netlog_path, &e->nl_file);
  if (rv != CRONC_OK) {
    engine_destroy(e);
    free(e);
    return rv;
  }
  e->source = netlog_source_new(e->nl, NETLOG_SOURCE_CRONC_ENGINE);
  netlog_add(e->nl, e->source, NETLOG_TYPE_CRONC_ENGINE_START, NETLOG_PHASE_BEGIN, NULL);

  e->own_thread = params->loop == NULL;
  rv = e->own_thread ? base_runner_new_thread(&e->runner)
                     : base_runner_new_on_loop(params->loop, &e->runner);
  if (rv != CRONC_OK) {
    engine_destroy(e);
    free(e);
    return rv;
  }
  /* Hints and pins are read during start only; keep the caller's arrays
   * until then. */
  e->params.quic_hints = params->quic_hints;
  e->params.pins = params->pins;
  rv = engine_run(e, start_on_network_thread, e);
  e->params.quic_hints = NULL;
  e->params.n_quic_hints = 0;
  e->params.pins = NULL;
  e->params.n_pins = 0;
  if (rv == CRONC_OK)
    rv = e->start_error;
  netlog_end_net_error(e->nl, e->source, NETLOG_TYPE_CRONC_ENGINE_START, rv);
  if (rv != CRONC_OK) {
    engine_shutdown(e);
    engine_free(e);
    return rv;
  }
  *out = e;
  return CRONC_OK;
}

props *engine_props(engine *e) { return e->props; }
netlog *engine_netlog(engine *e) { return e->nl; }
base_runner *engine_runner(engine *e) { return e->runner; }
bool engine_enable_quic(const engine *e) { return e->params.enable_quic; }
bool engine_enable_http2(const engine *e) { return e->params.enable_http2; }
http_stream_factory *engine_stream_factory(engine *e) {
  return e->factory ? stream_factory_base(e->factory) : NULL;
}
stream_factory *engine_stream_factory_impl(engine *e) { return e->factory; }
http_transaction_factory *engine_transaction_factory(engine *e) {
  if (e->cache)
    return http_cache_base(e->cache);
  return e->network_layer ? http_network_layer_base(e->network_layer) : NULL;
}
quic_pool *engine_quic_pool(engine *e) { return e->quic; }
const char *engine_user_agent(const engine *e) { return e->user_agent; }

void engine_add_request(engine *e, engine_request_link *link) {
  link->next = e->requests.next;
  link->prev = &e->requests;
  e->requests.next->prev = link;
  e->requests.next = link;
}

void engine_remove_request(engine *e, engine_request_link *link) {
  (void)e;
  if (!link->next)
    return;
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->next = link->prev = NULL;
}

int engine_shutdown(engine *e) {
  if (!e)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (e->shut_down)
    return CRONC_OK;
  if (e->own_thread && base_runner_is_current(e->runner))
    return CRONC_ERR_INVALID_ARGUMENT;
  int rv = engine_run(e, stop_on_network_thread, e);
  if (rv != CRONC_OK)
    return rv;
  /* Sockets, c-ares handles and timers closed above release their memory in
   * libuv close callbacks, which run in the loop's closing phase; two more
   * round trips through the loop let those (and closes they chain) finish
   * before the runner stops the loop. */
  if (e->own_thread) {
    engine_run(e, noop_task, NULL);
    engine_run(e, noop_task, NULL);
  }
  e->shut_down = true;
  rv = base_runner_shutdown(e->runner);
  netlog_add(e->nl, e->source, NETLOG_TYPE_CRONC_ENGINE_SHUTDOWN, NETLOG_PHASE_NONE, NULL);
  return rv;
}

void engine_free(engine *e) {
  if (!e)
    return;
  if (engine_shutdown(e) != CRONC_OK)
    return; /* called from the network thread: refusing beats a deadlock */
  base_runner_free(e->runner);
  e->runner = NULL;
  engine_destroy(e);
  if (e->pending_closes > 0)
    e->free_requested = true; /* timer_closed frees it */
  else
    free(e);
}

int engine_preconnect(engine *e, const char *url_spec, int num_streams) {
  if (!e || !url_spec || num_streams < 1)
    return CRONC_ERR_INVALID_ARGUMENT;
  if (!e->jc)
    return CRONC_ERR_INVALID_ARGUMENT; /* not started, or shut down */
  url u;
  int rv = url_parse(url_spec, strlen(url_spec), &u);
  if (rv != CRONC_OK)
    return rv;
  rv = jc_factory_preconnect(e->jc, &u, num_streams, e->params.enable_http2);
  url_free(&u);
  return rv;
}

jc_factory *engine_job_controller(engine *e) { return e->jc; }

void engine_on_network_changed(engine *e) {
  if (!e || !e->jc)
    return;
  netlog_add_event(e->nl, e->source, NETLOG_TYPE_CRONC_NETWORK_CHANGED, NULL);
  props_on_default_network_changed(e->props);
  jc_factory_on_network_changed(e->jc);
  stream_factory_close_idle(e->factory);
}
