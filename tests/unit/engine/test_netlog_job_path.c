/* The NetLog file of a real run (issue 5): requests race an HTTP/3
 * alternative against TCP on a real Caddy (h1/h2/h3 with Alt-Svc), the
 * engine writes a NetLog, and after shutdown the file is read back and
 * checked the way a person reading it in Chrome's netlog viewer would use
 * it: it parses, events are ordered in time, every BEGIN has its END on the
 * same source, and a request's path can be followed by source ids:
 *   URL_REQUEST --HTTP_STREAM_JOB_CONTROLLER_BOUND--> controller
 *   controller <--source_dependency-- HTTP_STREAM_JOB (main, alternative)
 *   winner --HTTP_STREAM_JOB_BOUND_TO_REQUEST--> controller
 *   URL_REQUEST: CRONC_HTTP_TRANSACTION_STATE ... after the stream was bound.
 * A blackholed alternative shows why it was marked broken and, later, that
 * QUIC was broken for the request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json_check.h"
#include "cronc/cronc.h"
#include "support/caddy_server.h"
#include "support/fetch_util.h"
#include "support/json_walk.h"
#include "support/net_test_util.h"
#include "support/udp_blackhole.h"

#define WAIT_MS  20000
#define MAX_URLS 40

static caddy_server *g_caddy; /* h1/h2/h3, advertises its own h3 */
static char g_tmp[256];

static int group_setup(void **state) {
  (void)state;
  if (!caddy_available())
    return -1;
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2 | CADDY_PROTO_H3;
  if (caddy_server_start(&o, &g_caddy) != 0)
    return -1;
  for (int i = 0; i < MAX_URLS; i++) {
    char name[32];
    snprintf(name, sizeof name, "r%d.txt", i);
    caddy_server_put_file(g_caddy, name, "netlog job path\n", 16);
  }
  return test_make_temp_dir("cronc-netlog-path", g_tmp, sizeof g_tmp) ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  caddy_server_stop(g_caddy);
  test_remove_tree(g_tmp);
  return 0;
}

static cronc_engine *new_engine(const char *netlog_path, const char *experimental) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(g_caddy);
  p.netlog_path = netlog_path;
  p.experimental_options = experimental;
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);
  return e;
}

static fetch_result *fetch_url(cronc_engine *e, const char *u) {
  fetch_result *r = fetch_result_new();
  cronc_request *q = fetch_start(e, u, NULL, r);
  assert_non_null(q);
  assert_true(fetch_wait(r, WAIT_MS));
  cronc_request_free(q);
  assert_int_equal(r->error, 0);
  assert_int_equal(r->status, 200);
  return r;
}

/* ---- Reading the file ---------------------------------------------------- */

typedef struct netlog_doc {
  json_value *root;
  const json_value *events;
  const json_value *event_types;  /* name -> number */
  const json_value *source_types; /* name -> number */
} netlog_doc;

static void doc_load(netlog_doc *d, const char *path) {
  /* The strict checker first (what the viewer's JSON.parse would say). */
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[8 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  assert_true(n > 0 && n < sizeof buf);
  assert_true(base_json_is_object(buf, n));
  d->root = json_walk_parse(buf, n);
  assert_non_null(d->root);
  d->events = json_get(d->root, "events");
  assert_non_null(d->events);
  assert_int_equal(d->events->kind, JSON_ARRAY);
  d->event_types = json_path(d->root, "constants.logEventTypes");
  d->source_types = json_path(d->root, "constants.logSourceType");
  assert_non_null(d->event_types);
  assert_non_null(d->source_types);
  assert_int_equal(json_int(json_path(d->root, "constants.logEventPhase.PHASE_BEGIN"), -1), 1);
  assert_int_equal(json_int(json_path(d->root, "constants.logEventPhase.PHASE_END"), -1), 2);
}

static int64_t event_type(const netlog_doc *d, const char *name) {
  int64_t t = json_int(json_get(d->event_types, name), -1);
  if (t < 0)
    fail_msg("event type %s missing from the constants", name);
  return t;
}

static int64_t source_type(const netlog_doc *d, const char *name) {
  int64_t t = json_int(json_get(d->source_types, name), -1);
  if (t < 0)
    fail_msg("source type %s missing from the constants", name);
  return t;
}

static const json_value *ev(const netlog_doc *d, size_t i) { return json_at(d->events, i); }
static int64_t ev_type(const json_value *e) { return json_int(json_get(e, "type"), -1); }
static int64_t ev_phase(const json_value *e) { return json_int(json_get(e, "phase"), -1); }
static int64_t ev_source(const json_value *e) { return json_int(json_path(e, "source.id"), -1); }
static int64_t ev_source_type(const json_value *e) {
  return json_int(json_path(e, "source.type"), -1);
}
static int64_t ev_dep(const json_value *e) {
  return json_int(json_path(e, "params.source_dependency.id"), -1);
}

/* Times never go back, and each event has the fields the viewer needs. */
static void check_ordered(const netlog_doc *d) {
  int64_t last = INT64_MIN;
  for (size_t i = 0; i < d->events->n; i++) {
    const json_value *e = ev(d, i);
    int64_t t = json_int(json_get(e, "time"), INT64_MIN);
    assert_true(t != INT64_MIN);
    assert_true(t >= last);
    last = t;
    assert_true(ev_type(e) >= 0);
    assert_true(ev_phase(e) >= 0 && ev_phase(e) <= 2);
    assert_true(ev_source_type(e) >= 0);
    assert_non_null(json_path(e, "source.start_time"));
  }
}

static const char *event_name(const netlog_doc *d, int64_t type) {
  for (size_t i = 0; i < d->event_types->n; i++)
    if (json_int(d->event_types->items[i], -1) == type)
      return d->event_types->keys[i];
  return "?";
}

/* Every END closes a BEGIN of the same type on the same source, and every
 * BEGIN is closed by the end of the file (the engine was shut down). All
 * offenders are listed in one failure message. */
static void check_paired(const netlog_doc *d) {
  typedef struct open_ev {
    int64_t source, type;
    int depth;
    bool end_without_begin;
  } open_ev;
  size_t cap = d->events->n + 1, used = 0;
  open_ev *open = calloc(cap, sizeof *open);
  assert_non_null(open);
  for (size_t i = 0; i < d->events->n; i++) {
    const json_value *e = ev(d, i);
    int64_t ph = ev_phase(e);
    if (ph == 0)
      continue;
    int64_t s = ev_source(e), t = ev_type(e);
    size_t k = 0;
    while (k < used && !(open[k].source == s && open[k].type == t))
      k++;
    if (k == used)
      open[used++] = (open_ev){s, t, 0, false};
    open[k].depth += ph == 1 ? 1 : -1;
    if (open[k].depth < 0) {
      open[k].end_without_begin = true;
      open[k].depth = 0;
    }
  }
  char msg[2048] = "";
  size_t bad = 0;
  for (size_t k = 0; k < used; k++) {
    if (open[k].depth == 0 && !open[k].end_without_begin)
      continue;
    bad++;
    size_t len = strlen(msg);
    if (len < sizeof msg - 100)
      snprintf(msg + len, sizeof msg - len, " %s%s@%lld",
               open[k].end_without_begin ? "END-without-BEGIN:" : "", event_name(d, open[k].type),
               (long long)open[k].source);
  }
  free(open);
  if (bad)
    fail_msg("%zu unpaired BEGIN/END (type@source):%s", bad, msg);
}

/* The path of one request, found from its URL by source ids. */
typedef struct request_path {
  int64_t request;    /* URL_REQUEST source id */
  int64_t controller; /* HTTP_STREAM_JOB_CONTROLLER source id */
  size_t controller_begin;
  int64_t jobs[4];
  char job_types[4][16];
  size_t n_jobs;
  int64_t bound_job; /* the job bound to the request, -1 none */
  size_t bound_at;   /* event index of HTTP_STREAM_JOB_BOUND_TO_REQUEST */
} request_path;

static int64_t job_end_error(const netlog_doc *d, int64_t job) {
  int64_t t = event_type(d, "HTTP_STREAM_JOB");
  for (size_t i = 0; i < d->events->n; i++) {
    const json_value *e = ev(d, i);
    /* The END; pairing is test_begin_end_paired_per_source's business, so
     * a result logged without a phase counts here too. */
    if (ev_source(e) == job && ev_type(e) == t &&
        (ev_phase(e) == 2 || (ev_phase(e) == 0 && json_path(e, "params.net_error"))))
      return json_int(json_path(e, "params.net_error"), 0);
  }
  fail_msg("job %lld never ended", (long long)job);
  return 0;
}

static bool source_has(const netlog_doc *d, int64_t source, const char *type) {
  int64_t t = event_type(d, type);
  for (size_t i = 0; i < d->events->n; i++)
    if (ev_source(ev(d, i)) == source && ev_type(ev(d, i)) == t)
      return true;
  return false;
}

static const json_value *source_event(const netlog_doc *d, int64_t source, const char *type) {
  int64_t t = event_type(d, type);
  for (size_t i = 0; i < d->events->n; i++)
    if (ev_source(ev(d, i)) == source && ev_type(ev(d, i)) == t)
      return ev(d, i);
  return NULL;
}

static void follow_path(const netlog_doc *d, const char *url, request_path *p) {
  memset(p, 0, sizeof *p);
  p->request = p->controller = p->bound_job = -1;
  int64_t t_ctl = event_type(d, "HTTP_STREAM_JOB_CONTROLLER");
  int64_t t_bound = event_type(d, "HTTP_STREAM_JOB_CONTROLLER_BOUND");
  int64_t t_job = event_type(d, "HTTP_STREAM_JOB");
  int64_t t_to_req = event_type(d, "HTTP_STREAM_JOB_BOUND_TO_REQUEST");
  int64_t st_req = source_type(d, "URL_REQUEST");
  int64_t st_ctl = source_type(d, "HTTP_STREAM_JOB_CONTROLLER");
  int64_t st_job = source_type(d, "HTTP_STREAM_JOB");
  /* The controller for url, and the request it depends on. */
  for (size_t i = 0; i < d->events->n && p->controller < 0; i++) {
    const json_value *e = ev(d, i);
    const char *u = json_str(json_path(e, "params.url"));
    if (ev_type(e) == t_ctl && ev_phase(e) == 1 && u && strcmp(u, url) == 0) {
      assert_int_equal(ev_source_type(e), st_ctl);
      p->controller = ev_source(e);
      p->controller_begin = i;
      p->request = ev_dep(e);
      assert_int_equal(json_int(json_path(e, "params.source_dependency.type"), -1), st_req);
    }
  }
  if (p->controller < 0)
    fail_msg("no HTTP_STREAM_JOB_CONTROLLER for %s", url);
  /* The request points at the controller. */
  bool bound = false;
  for (size_t i = 0; i < d->events->n; i++) {
    const json_value *e = ev(d, i);
    if (ev_source(e) == p->request && ev_type(e) == t_bound && ev_dep(e) == p->controller) {
      assert_int_equal(ev_source_type(e), st_req);
      bound = true;
    }
  }
  assert_true(bound);
  /* The jobs point at the controller; the winner is bound to it. */
  for (size_t i = 0; i < d->events->n; i++) {
    const json_value *e = ev(d, i);
    if (ev_type(e) == t_job && ev_phase(e) == 1 && ev_dep(e) == p->controller) {
      assert_int_equal(ev_source_type(e), st_job);
      assert_true(p->n_jobs < 4);
      const char *type = json_str(json_path(e, "params.type"));
      assert_non_null(type);
      snprintf(p->job_types[p->n_jobs], sizeof p->job_types[0], "%s", type);
      p->jobs[p->n_jobs++] = ev_source(e);
      assert_true(i > p->controller_begin);
    }
    if (ev_type(e) == t_to_req && ev_dep(e) == p->controller) {
      assert_int_equal(p->bound_job, -1); /* one winner */
      p->bound_job = ev_source(e);
      p->bound_at = i;
    }
  }
  assert_true(p->n_jobs >= 1);
  assert_true(p->bound_job >= 0);
}

static const char *bound_job_type(const request_path *p) {
  for (size_t i = 0; i < p->n_jobs; i++)
    if (p->jobs[i] == p->bound_job)
      return p->job_types[i];
  fail_msg("the bound job is not one of the controller's jobs");
  return NULL;
}

static int64_t job_of_type(const request_path *p, const char *type) {
  for (size_t i = 0; i < p->n_jobs; i++)
    if (strcmp(p->job_types[i], type) == 0)
      return p->jobs[i];
  return -1;
}

/* The transaction's states on the URL_REQUEST source: the stream request
 * before the controller exists, the stream after the winner was bound, then
 * send, headers and body in order. */
static void check_transaction_states(const netlog_doc *d, const request_path *p) {
  static const char *const want[] = {"CREATE_STREAM",     "CREATE_STREAM_COMPLETE", "SEND_REQUEST",
                                     "READ_HEADERS",      "READ_HEADERS_COMPLETE",  "READ_BODY",
                                     "READ_BODY_COMPLETE"};
  int64_t t_state = event_type(d, "CRONC_HTTP_TRANSACTION_STATE");
  size_t k = 0;
  for (size_t i = 0; i < d->events->n && k < sizeof want / sizeof *want; i++) {
    const json_value *e = ev(d, i);
    if (ev_source(e) != p->request || ev_type(e) != t_state)
      continue;
    const char *s = json_str(json_path(e, "params.state"));
    if (!s || strcmp(s, want[k]) != 0)
      continue;
    if (k == 0)
      assert_true(i < p->controller_begin);
    if (k == 1)
      assert_true(i > p->bound_at);
    k++;
  }
  if (k != sizeof want / sizeof *want)
    fail_msg("transaction state %s missing or out of order on request %lld", want[k],
             (long long)p->request);
}

/* ---- Tests --------------------------------------------------------------- */

/* A fresh engine: the first request (no alternative known) has one main
 * job; later ones race an alternative job to Caddy's h3. Each request's
 * path is followed through the file by source ids, and the winner in the
 * file is the winner the response info reported. */
/* Runs requests on a fresh engine writing a NetLog to path until one is
 * served by the alternative job: the first learns Alt-Svc over h2, the
 * next ones race. urls/winners get each request; returns how many. */
static size_t run_until_alternative_wins(const char *path, const char *tag, char urls[][128],
                                         cronc_job_winner *winners) {
  cronc_engine *e = new_engine(path, NULL);
  size_t n = 0;
  bool alt_won = false;
  while (n < MAX_URLS && !alt_won) {
    snprintf(urls[n], 128, "https://localhost:%u/r%zu.txt?%s", (unsigned)caddy_server_port(g_caddy),
             n, tag);
    fetch_result *r = fetch_url(e, urls[n]);
    winners[n] = r->job_winner;
    alt_won = r->job_winner == CRONC_JOB_WINNER_ALTERNATIVE;
    if (alt_won) {
      assert_string_equal(r->protocol, "h3");
      assert_true(strncmp(r->alternative_service, "h3 localhost:", 13) == 0);
    }
    fetch_result_free(r);
    n++;
    if (!alt_won)
      usleep(50 * 1000);
  }
  assert_true(alt_won);
  assert_int_equal(winners[0], CRONC_JOB_WINNER_NONE);
  cronc_engine_free(e); /* shutdown writes the closing */
  return n;
}

/* A fresh engine: the first request (no alternative known) has one main
 * job; later ones race an alternative job to Caddy's h3. Each request's
 * path is followed through the file by source ids, and the winner in the
 * file is the winner the response info reported. */
static void test_raced_request_path_is_followed_by_source_ids(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/race.json", g_tmp);
  static char urls[MAX_URLS][128];
  cronc_job_winner winners[MAX_URLS];
  size_t n = run_until_alternative_wins(path, "path", urls, winners);
  netlog_doc d;
  doc_load(&d, path);
  check_ordered(&d);
  size_t raced = 0;
  for (size_t i = 0; i < n; i++) {
    request_path p;
    follow_path(&d, urls[i], &p);
    check_transaction_states(&d, &p);
    const char *won = bound_job_type(&p);
    int64_t main = job_of_type(&p, "main"), alt = job_of_type(&p, "alternative");
    assert_true(main >= 0);
    if (winners[i] == CRONC_JOB_WINNER_NONE) {
      assert_int_equal(p.n_jobs, 1);
      assert_string_equal(won, "main");
      continue;
    }
    raced++;
    assert_int_equal(p.n_jobs, 2);
    assert_true(alt >= 0);
    const json_value *begin = source_event(&d, alt, "HTTP_STREAM_JOB");
    const char *svc = json_str(json_path(begin, "params.alternative_service"));
    assert_non_null(svc);
    assert_true(strncmp(svc, "quic localhost:", 15) == 0);
    assert_true(source_has(&d, p.controller, "HTTP_STREAM_JOB_CONTROLLER_ALT_SVC_FOUND"));
    if (winners[i] == CRONC_JOB_WINNER_ALTERNATIVE) {
      assert_string_equal(won, "alternative");
      assert_int_equal(job_end_error(&d, alt), 0);
      /* The main job was cancelled (or had not finished): not bound. */
      assert_int_equal(job_end_error(&d, main), CRONC_ERR_ABORTED);
    } else {
      assert_string_equal(won, "main");
      assert_int_equal(job_end_error(&d, main), 0);
      /* The alternative job ran on after the main job won. */
      assert_true(source_has(&d, alt, "HTTP_STREAM_JOB_ORPHANED"));
    }
  }
  assert_true(raced >= 1);
  json_walk_free(d.root);
}

/* Chromium's rule for the viewer: every BEGIN on a source has its END on
 * the same source (an END carries the net error), and by shutdown nothing is
 * left open, for a run with a race in it. */
static void test_begin_end_paired_per_source(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/paired.json", g_tmp);
  static char urls[MAX_URLS][128];
  cronc_job_winner winners[MAX_URLS];
  run_until_alternative_wins(path, "paired", urls, winners);
  netlog_doc d;
  doc_load(&d, path);
  check_ordered(&d);
  check_paired(&d);
  json_walk_free(d.root);
}

/* A NetLog started and stopped while the engine runs holds exactly the
 * requests in between, and stays valid and ordered; a later request does
 * not touch the closed file. */
static void test_netlog_started_mid_run_holds_only_its_window(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/window.json", g_tmp);
  cronc_engine *e = new_engine(NULL, NULL);
  char before[128], inside[128], after[128];
  unsigned port = caddy_server_port(g_caddy);
  snprintf(before, sizeof before, "https://localhost:%u/r1.txt", port);
  snprintf(inside, sizeof inside, "https://localhost:%u/r2.txt", port);
  snprintf(after, sizeof after, "https://localhost:%u/r3.txt", port);
  fetch_result_free(fetch_url(e, before));
  assert_int_equal(cronc_engine_start_netlog(e, path), CRONC_OK);
  fetch_result_free(fetch_url(e, inside));
  cronc_engine_stop_netlog(e);
  fetch_result_free(fetch_url(e, after));
  cronc_engine_free(e);

  netlog_doc d;
  doc_load(&d, path);
  check_ordered(&d);
  request_path p;
  follow_path(&d, inside, &p);
  check_transaction_states(&d, &p);
  int64_t t_ctl = event_type(&d, "HTTP_STREAM_JOB_CONTROLLER");
  for (size_t i = 0; i < d.events->n; i++) {
    const char *u = json_str(json_path(ev(&d, i), "params.url"));
    if (ev_type(ev(&d, i)) == t_ctl && u)
      assert_string_equal(u, inside);
  }
  json_walk_free(d.root);
}

/* Failure paths of the API: a file that cannot be created is an error code,
 * and a second NetLog while one is open is refused. */
static void test_start_netlog_errors(void **state) {
  (void)state;
  char path[512];
  snprintf(path, sizeof path, "%s/busy.json", g_tmp);
  cronc_engine *e = new_engine(NULL, NULL);
  int rv = cronc_engine_start_netlog(e, "/nonexistent-cronc-dir/x/netlog.json");
  assert_true(rv < 0);
  assert_int_equal(cronc_engine_start_netlog(e, path), CRONC_OK);
  assert_int_equal(cronc_engine_start_netlog(e, path), CRONC_ERR_INVALID_ARGUMENT);
  cronc_engine_stop_netlog(e);
  cronc_engine_stop_netlog(e); /* no-op */
  cronc_engine_free(e);
  netlog_doc d;
  doc_load(&d, path); /* valid even with (almost) no events */
  json_walk_free(d.root);
}

/* UDP to the alternative swallowed: the request that raced it is served by
 * the main job, the orphaned alternative job fails, the controller logs why
 * the service is marked broken, and a later request's controller logs that
 * QUIC is broken and runs its main job alone. */
static void test_blackholed_alternative_logs_broken_and_quic_broken(void **state) {
  (void)state;
  udp_blackhole *bh = udp_blackhole_new();
  assert_non_null(bh);
  unsigned bh_port = udp_blackhole_port(bh);
  char header[128];
  snprintf(header, sizeof header, "Alt-Svc: h3=\":%u\"; ma=86400", bh_port);
  const char *headers[] = {header, NULL};
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2;
  o.headers = headers;
  caddy_server *c = NULL;
  assert_int_equal(caddy_server_start(&o, &c), 0);
  for (int i = 0; i < MAX_URLS; i++) {
    char name[32];
    snprintf(name, sizeof name, "b%d.txt", i);
    caddy_server_put_file(c, name, "blackhole\n", 10);
  }
  char path[512];
  snprintf(path, sizeof path, "%s/broken.json", g_tmp);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(c);
  p.netlog_path = path;
  p.experimental_options = "{\"QUIC\":{\"max_time_before_crypto_handshake_seconds\":1}}";
  cronc_engine *e = NULL;
  assert_int_equal(cronc_engine_new(&p, &e), CRONC_OK);

  char urls[MAX_URLS][128];
  size_t n = 0, raced = SIZE_MAX, broken_at = SIZE_MAX;
  for (; n < MAX_URLS && broken_at == SIZE_MAX; n++) {
    snprintf(urls[n], sizeof urls[n], "https://localhost:%u/b%zu.txt",
             (unsigned)caddy_server_port(c), n);
    fetch_result *r = fetch_url(e, urls[n]);
    assert_string_equal(r->protocol, "h2");
    if (r->job_winner == CRONC_JOB_WINNER_MAIN && raced == SIZE_MAX)
      raced = n;
    if (r->quic_broken)
      broken_at = n;
    fetch_result_free(r);
    if (n >= 1)
      usleep(200 * 1000); /* the orphaned job gives up after 1 s */
  }
  assert_true(raced != SIZE_MAX);
  assert_true(broken_at != SIZE_MAX && broken_at > raced);
  cronc_engine_free(e);
  caddy_server_stop(c);
  udp_blackhole_free(bh);

  netlog_doc d;
  doc_load(&d, path);
  check_ordered(&d);
  request_path rp;
  follow_path(&d, urls[raced], &rp);
  assert_string_equal(bound_job_type(&rp), "main");
  int64_t alt = job_of_type(&rp, "alternative");
  assert_true(alt >= 0);
  assert_true(source_has(&d, alt, "HTTP_STREAM_JOB_ORPHANED"));
  assert_true(job_end_error(&d, alt) < 0);
  const json_value *why =
      source_event(&d, rp.controller, "CRONC_HTTP_STREAM_JOB_CONTROLLER_ALT_BROKEN");
  assert_non_null(why);
  char want[64];
  snprintf(want, sizeof want, "quic localhost:%u", bh_port);
  assert_string_equal(json_str(json_path(why, "params.alternative_service")), want);
  assert_non_null(strstr(json_str(json_path(why, "params.reason")), "main job succeeded"));

  follow_path(&d, urls[broken_at], &rp);
  assert_true(source_has(&d, rp.controller, "CRONC_HTTP_STREAM_JOB_CONTROLLER_QUIC_BROKEN"));
  assert_int_equal(rp.n_jobs, 1);
  assert_string_equal(bound_job_type(&rp), "main");
  check_transaction_states(&d, &rp);
  json_walk_free(d.root);
}

int main(void) {
  if (!caddy_available()) {
    printf("caddy not installed: skipped\n");
    return 0;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_raced_request_path_is_followed_by_source_ids),
      cmocka_unit_test(test_begin_end_paired_per_source),
      cmocka_unit_test(test_netlog_started_mid_run_holds_only_its_window),
      cmocka_unit_test(test_start_netlog_errors),
      cmocka_unit_test(test_blackholed_alternative_logs_broken_and_quic_broken),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
