/* bench_altsvc: what the alternative-service race costs and what it buys
 * (issue 7, Performance), measured side by side in one run against a real
 * Caddy (h1/h2/h3) on loopback, through the public API.
 *
 * The path has a round trip you can see: TCP goes through tcp_delay_proxy
 * and QUIC through udp_fault_proxy, each holding data DELAY_MS each way
 * (default 25 ms: a 50 ms RTT). The origin is https://localhost:<TCP proxy>;
 * Caddy advertises `h3=":<UDP proxy>"` on every path but /noalt/, so the
 * alternative service goes through the UDP proxy, which can swallow
 * everything (UDP_FAULT_DROP, the blackhole).
 *
 *  A. Cost of a blackholed QUIC path. First request of a fresh engine whose
 *     QUIC hint points at the blackholed proxy (the race runs, the main job
 *     must not wait: QUIC is not known to work) against the first request of
 *     a fresh engine with nothing known (/noalt/). Then, once the
 *     alternative is marked broken, later requests (QUIC skipped: no
 *     datagram may reach the proxy) against later requests with no Alt-Svc.
 *     Time = request start to on_succeeded (monotonic clock).
 *  A'. The first request of an engine restarted on storage where QUIC had
 *     worked, with UDP now blackholed (0-RTT binds the request to QUIC at
 *     once); a failed request is counted and printed as FAILED.
 *  B. Time to first byte (metrics: response_start - request_start). The
 *     first request of a fresh engine (h2, cold) against the first request
 *     of that engine that comes back over h3 (after Alt-Svc was learned and
 *     the raced QUIC session confirmed); and the first request of an engine
 *     restarted on a storage path where QUIC worked (h3, 0-RTT) against the
 *     fresh engine's first.
 * A and B are interleaved per repetition; medians of REPS are printed with
 * their ratios, and times also as round trips (time / RTT).
 *
 * usage: bench_altsvc [REPS (7)] [DELAY_MS (25)]
 * Needs /usr/bin/caddy; exits 1 if the setup or a request outside A' fails.
 * Diagnosis: BENCH_ALTSVC_DEBUG=1 prints every request to stderr;
 * BENCH_ALTSVC_NETLOG=<dir> writes one NetLog per engine there (e<n>.json).
 *
 * Caddy adds its own `Alt-Svc: h3=":<its port>"` to every response once h3
 * is on; /noalt/ deletes it, or the baseline would learn a QUIC path that
 * bypasses the delay proxy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "cronc/cronc.h"
#include "support/caddy_server.h"
#include "support/tcp_delay_proxy.h"
#include "support/udp_fault_proxy.h"

#define MAX_REPS      51
#define LATER_PER_REP 5
#define WAIT_MS       30000
#define BODY_BYTES    1024
/* A blackholed QUIC handshake gives up after this (Cronet's QUIC option),
 * so the alternative is marked broken quickly. */
#define BENCH_QUIC_JSON "{\"QUIC\":{\"max_time_before_crypto_handshake_seconds\":1}}"

/* ---- one blocking request ------------------------------------------------ */

typedef struct result {
  int error;
  int status;
  char protocol[16];
  bool zero_rtt;
  bool quic_broken;
  cronc_job_winner winner;
  double ttfb_ms;  /* metrics: response_start - request_start */
  double total_ms; /* cronc_request_start() to the terminal callback */
} result;

typedef struct call {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  result res;
  uint8_t buf[16384];
} call;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void note(call *c, const cronc_response_info *i) {
  if (!i)
    return;
  c->res.status = i->http_status;
  snprintf(c->res.protocol, sizeof c->res.protocol, "%s", i->negotiated_protocol);
  c->res.zero_rtt = i->zero_rtt;
  c->res.quic_broken = i->quic_broken;
  c->res.winner = i->job_winner;
  const cronc_metrics *m = i->metrics;
  if (m->request_start_us >= 0 && m->response_start_us >= 0)
    c->res.ttfb_ms = (double)(m->response_start_us - m->request_start_us) / 1e3;
}

static void finish(call *c, const cronc_response_info *i, int error) {
  double t = now_ms();
  note(c, i);
  pthread_mutex_lock(&c->mu);
  c->res.total_ms = t - c->res.total_ms; /* held the start time until now */
  c->res.error = error;
  c->done = true;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

static void on_started(cronc_request *q, void *ud, const cronc_response_info *i) {
  call *c = ud;
  note(c, i);
  cronc_request_read(q, c->buf, sizeof c->buf);
}

static void on_read(cronc_request *q, void *ud, const cronc_response_info *i, uint8_t *b,
                    size_t n) {
  call *c = ud;
  cronc_request_read(q, c->buf, sizeof c->buf);
}

static void on_ok(cronc_request *q, void *ud, const cronc_response_info *i) { finish(ud, i, 0); }

static void on_fail(cronc_request *q, void *ud, const cronc_response_info *i, int e) {
  finish(ud, i, e);
}

static void on_cancel(cronc_request *q, void *ud, const cronc_response_info *i) {
  finish(ud, i, CRONC_ERR_ABORTED);
}

static const cronc_request_callbacks CBS = {NULL, on_started, on_read, on_ok, on_fail, on_cancel};

/* Waits for c->done, at most ms; true when done. */
static bool wait_done(call *c, unsigned ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&c->mu);
  int rc = 0;
  while (!c->done && rc == 0)
    rc = pthread_cond_timedwait(&c->cv, &c->mu, &until);
  bool done = c->done;
  pthread_mutex_unlock(&c->mu);
  return done;
}

/* Runs one GET to completion (canceled after WAIT_MS). */
static result fetch(cronc_engine *e, const char *url) {
  call *c = calloc(1, sizeof *c);
  result fail = {.error = CRONC_ERR_OUT_OF_MEMORY};
  if (!c)
    return fail;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->res.ttfb_ms = -1;
  cronc_request *q = NULL;
  int rc = cronc_request_new(e, url, NULL, &CBS, c, &q);
  if (rc == CRONC_OK) {
    c->res.total_ms = now_ms();
    rc = cronc_request_start(q);
  }
  if (rc != CRONC_OK) {
    cronc_request_free(q);
    free(c);
    fail.error = rc;
    return fail;
  }
  if (!wait_done(c, WAIT_MS)) {
    cronc_request_cancel(q);
    wait_done(c, WAIT_MS);
  }
  cronc_request_free(q);
  result r = c->res;
  pthread_cond_destroy(&c->cv);
  pthread_mutex_destroy(&c->mu);
  free(c);
  return r;
}

/* ---- setup --------------------------------------------------------------- */

typedef struct bench {
  caddy_server *caddy;
  udp_fault_proxy *udp; /* QUIC: the advertised alternative, -> Caddy's UDP port */
  tcp_delay_proxy *tcp; /* TCP: the origin's port, -> Caddy's TCP port */
  unsigned delay_ms;
  char tmp[256];
  char url_alt[128];   /* advertises h3 */
  char url_noalt[128]; /* no Alt-Svc header */
  int problems;        /* expectations that did not hold (flagged in the table) */
} bench;

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int bench_start(bench *b) {
  b->udp = udp_fault_proxy_new(9); /* aimed at Caddy once it runs */
  if (!b->udp)
    return -1;
  static char extra[256];
  snprintf(extra, sizeof extra,
           "@alt not path /noalt/*\n"
           "\theader @alt Alt-Svc `h3=\":%u\"; ma=86400`\n"
           "\theader /noalt/* -Alt-Svc",
           (unsigned)udp_fault_proxy_port(b->udp));
  caddy_options o;
  caddy_options_init(&o);
  o.protocols = CADDY_PROTO_H1 | CADDY_PROTO_H2 | CADDY_PROTO_H3;
  o.extra_site_config = extra;
  if (caddy_server_start(&o, &b->caddy) != 0)
    return -1;
  uint16_t port = caddy_server_port(b->caddy);
  if (udp_fault_proxy_set_target(b->udp, port) != 0)
    return -1;
  udp_fault_proxy_set_delay_ms(b->udp, b->delay_ms);
  b->tcp = tcp_delay_proxy_new(port, b->delay_ms);
  if (!b->tcp)
    return -1;
  static char body[BODY_BYTES];
  memset(body, 'x', sizeof body);
  char dir[600];
  snprintf(dir, sizeof dir, "%s/noalt", caddy_server_www_dir(b->caddy));
  mkdir(dir, 0755);
  if (caddy_server_put_file(b->caddy, "a.bin", body, sizeof body) != 0 ||
      caddy_server_put_file(b->caddy, "noalt/a.bin", body, sizeof body) != 0)
    return -1;
  unsigned origin = tcp_delay_proxy_port(b->tcp);
  snprintf(b->url_alt, sizeof b->url_alt, "https://localhost:%u/a.bin", origin);
  snprintf(b->url_noalt, sizeof b->url_noalt, "https://localhost:%u/noalt/a.bin", origin);
  snprintf(b->tmp, sizeof b->tmp, "/tmp/cronc-bench-altsvc-XXXXXX");
  return mkdtemp(b->tmp) ? 0 : -1;
}

/* Idempotent: also run at exit, so that a failed run leaves no Caddy. */
static void bench_stop(bench *b) {
  tcp_delay_proxy_free(b->tcp);
  b->tcp = NULL;
  caddy_server_stop(b->caddy);
  b->caddy = NULL;
  udp_fault_proxy_free(b->udp);
  b->udp = NULL;
  if (b->tmp[0] && strncmp(b->tmp, "/tmp/cronc-bench-altsvc-", 24) == 0) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->tmp);
    if (system(cmd) != 0)
      fprintf(stderr, "could not remove %s\n", b->tmp);
  }
  b->tmp[0] = '\0';
}

static bench g_bench;

static void stop_at_exit(void) { bench_stop(&g_bench); }

typedef struct engine_opts {
  const char *storage;
  bool hint; /* a QUIC hint for the origin, pointing at the UDP proxy */
} engine_opts;

static cronc_engine *new_engine(const bench *b, const engine_opts *eo) {
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = caddy_server_root_ca(b->caddy);
  p.storage_path = eo->storage;
  static int n_engines;
  char nl[400];
  const char *nl_dir = getenv("BENCH_ALTSVC_NETLOG");
  if (nl_dir && *nl_dir) {
    snprintf(nl, sizeof nl, "%s/e%d.json", nl_dir, n_engines++);
    p.netlog_path = nl;
  }
  p.experimental_options = BENCH_QUIC_JSON;
  cronc_quic_hint hint = {"localhost", tcp_delay_proxy_port(b->tcp), udp_fault_proxy_port(b->udp)};
  if (eo->hint) {
    p.quic_hints = &hint;
    p.n_quic_hints = 1;
  }
  cronc_engine *e = NULL;
  int rc = cronc_engine_new(&p, &e);
  if (rc != CRONC_OK) {
    fprintf(stderr, "bench_altsvc: cronc_engine_new: %s\n", cronc_error_name(rc));
    exit(1);
  }
  return e;
}

static void debug_print(const char *url, const result *r) {
  if (getenv("BENCH_ALTSVC_DEBUG"))
    fprintf(stderr, "%s: %s %s total %.1f ms ttfb %.1f ms winner %d quic_broken %d 0rtt %d\n", url,
            r->error ? cronc_error_name(r->error) : "ok", r->protocol, r->total_ms, r->ttfb_ms,
            (int)r->winner, r->quic_broken, r->zero_rtt);
}

/* A request that must succeed; exits otherwise (the numbers would lie). */
static result must_fetch(cronc_engine *e, const char *url) {
  result r = fetch(e, url);
  debug_print(url, &r);
  if (r.error != 0 || r.status != 200) {
    fprintf(stderr, "bench_altsvc: %s: error %s, status %d\n", url, cronc_error_name(r.error),
            r.status);
    exit(1);
  }
  return r;
}

static void expect(bench *b, bool ok, const char *what, int rep) {
  if (ok)
    return;
  b->problems++;
  fprintf(stderr, "bench_altsvc: rep %d: expected %s\n", rep, what);
}

/* Fetches url until a response comes back over h3 (the raced QUIC session
 * is confirmed a little after the h2 response it lost to). */
static bool fetch_until_h3(cronc_engine *e, const char *url, result *out) {
  for (int i = 0; i < 60; i++) {
    *out = must_fetch(e, url);
    if (strcmp(out->protocol, "h3") == 0)
      return true;
    sleep_ms(20);
  }
  return false;
}

/* ---- the scenarios ------------------------------------------------------- */

typedef struct samples {
  double v[MAX_REPS * LATER_PER_REP];
  int n;
} samples;

static void add(samples *s, double v) {
  if (s->n < (int)(sizeof s->v / sizeof s->v[0]))
    s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const samples *s) {
  if (s->n == 0)
    return 0;
  double v[MAX_REPS * LATER_PER_REP];
  memcpy(v, s->v, sizeof(double) * (size_t)s->n);
  qsort(v, (size_t)s->n, sizeof v[0], cmp_double);
  return s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
}

typedef struct figures {
  samples a_none_first, a_bh_first, a_none_later, a_bh_later, a_bh_worked;
  samples b_h2_first, b_h3, b_restart;
  uint64_t a_later_datagrams; /* datagrams sent while QUIC was marked broken */
  int b_h3_request_no[MAX_REPS];
  int b_zero_rtt;        /* restarts whose first request went out as 0-RTT */
  int a_worked_failures; /* A' requests that failed */
  int a_worked_error;
} figures;

/* A: a blackholed alternative against no Alt-Svc, first and later requests. */
static void run_a(bench *b, figures *f, int rep) {
  engine_opts none = {0};
  cronc_engine *e = new_engine(b, &none);
  result r = must_fetch(e, b->url_noalt);
  expect(b, r.winner == CRONC_JOB_WINNER_NONE, "no race without Alt-Svc", rep);
  add(&f->a_none_first, r.total_ms);
  for (int i = 0; i < LATER_PER_REP; i++)
    add(&f->a_none_later, must_fetch(e, b->url_noalt).total_ms);
  cronc_engine_free(e);

  udp_fault_proxy_set_mode(b->udp, UDP_FAULT_DROP);
  engine_opts hinted = {.hint = true};
  e = new_engine(b, &hinted);
  r = must_fetch(e, b->url_alt);
  expect(b, r.winner == CRONC_JOB_WINNER_MAIN && strcmp(r.protocol, "h2") == 0,
         "the blackholed first request raced and h2 won", rep);
  add(&f->a_bh_first, r.total_ms);
  /* The orphaned QUIC job gives up after 1 s; then the alternative is
   * broken and requests say so. */
  bool broken = false;
  for (int i = 0; i < 50 && !broken; i++) {
    sleep_ms(100);
    broken = must_fetch(e, b->url_alt).quic_broken;
  }
  expect(b, broken, "the blackholed alternative marked broken", rep);
  uint64_t before = udp_fault_proxy_client_datagrams(b->udp);
  for (int i = 0; i < LATER_PER_REP; i++) {
    r = must_fetch(e, b->url_alt);
    expect(b, r.winner == CRONC_JOB_WINNER_NONE && r.quic_broken, "no race once broken", rep);
    add(&f->a_bh_later, r.total_ms);
  }
  f->a_later_datagrams += udp_fault_proxy_client_datagrams(b->udp) - before;
  cronc_engine_free(e);
  udp_fault_proxy_set_mode(b->udp, UDP_FAULT_FORWARD);
}

/* A': the first request of an engine restarted on storage where QUIC had
 * worked (a 0-RTT ticket, a stored SRTT), its UDP path now blackholed. With
 * 0-RTT the alternative job has a stream at once and the request binds to
 * it, so what it costs is the QUIC handshake timeout (1 s here, 10 s by
 * default) and whatever follows it (Chromium retries a request that failed
 * with ERR_QUIC_HANDSHAKE_FAILED). pristine is a copy of primed storage. */
static void run_a_worked(bench *b, figures *f, const char *pristine, int rep) {
  char dir[320], cmd[1100];
  snprintf(dir, sizeof dir, "%.255s/worked", b->tmp);
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dir, pristine, dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_altsvc: %s failed\n", cmd);
    exit(1);
  }
  udp_fault_proxy_set_mode(b->udp, UDP_FAULT_DROP);
  engine_opts eo = {.storage = dir};
  cronc_engine *e = new_engine(b, &eo);
  result r = fetch(e, b->url_alt);
  debug_print(b->url_alt, &r);
  /* A failure here is a finding, not a broken setup: count it, and its
   * time (to the failure) is what the application waited. */
  if (r.error != 0) {
    f->a_worked_failures++;
    f->a_worked_error = r.error;
  } else {
    expect(b, r.winner == CRONC_JOB_WINNER_MAIN && strcmp(r.protocol, "h2") == 0,
           "the blackholed restart raced and h2 won", rep);
  }
  add(&f->a_bh_worked, r.total_ms);
  cronc_engine_free(e);
  udp_fault_proxy_set_mode(b->udp, UDP_FAULT_FORWARD);
}

/* B1: a fresh engine's first request (h2) and its first h3 request. */
static void run_b_fresh(bench *b, figures *f, int rep) {
  engine_opts none = {0};
  cronc_engine *e = new_engine(b, &none);
  result r = must_fetch(e, b->url_alt);
  expect(b, strcmp(r.protocol, "h2") == 0 && r.winner == CRONC_JOB_WINNER_NONE,
         "a fresh engine's first request on h2 without a race", rep);
  add(&f->b_h2_first, r.ttfb_ms);
  int n = 1;
  bool h3 = false;
  for (; n < 60 && !h3; n++) {
    r = must_fetch(e, b->url_alt);
    h3 = strcmp(r.protocol, "h3") == 0;
    if (!h3)
      sleep_ms(20);
  }
  expect(b, h3, "h3 after Alt-Svc was learned", rep);
  if (h3) {
    add(&f->b_h3, r.ttfb_ms);
    f->b_h3_request_no[rep] = n;
  }
  cronc_engine_free(e);
}

/* Makes QUIC work once on the storage path and ends with a few more
 * requests so the session ticket for 0-RTT has surely arrived. */
static bool prime_storage(bench *b, const char *dir) {
  engine_opts eo = {.storage = dir};
  cronc_engine *e = new_engine(b, &eo);
  result r;
  bool ok = fetch_until_h3(e, b->url_alt, &r);
  for (int i = 0; i < 3; i++)
    must_fetch(e, b->url_alt);
  cronc_engine_free(e);
  return ok;
}

/* B2: first request after a restart on storage where QUIC worked. */
static void run_b_restart(bench *b, figures *f, const char *dir, int rep) {
  engine_opts eo = {.storage = dir};
  cronc_engine *e = new_engine(b, &eo);
  result r = must_fetch(e, b->url_alt);
  expect(b, strcmp(r.protocol, "h3") == 0, "h3 on the first request after a restart", rep);
  if (r.zero_rtt)
    f->b_zero_rtt++;
  add(&f->b_restart, r.ttfb_ms);
  for (int i = 0; i < 3; i++) /* fresh tickets for the next restart */
    must_fetch(e, b->url_alt);
  cronc_engine_free(e);
}

/* ---- output -------------------------------------------------------------- */

static void row(const char *what, const samples *s, double rtt) {
  double m = median(s);
  if (rtt > 0)
    printf("  %-62s %8.1f ms  %5.2f RTT\n", what, m, m / rtt);
  else
    printf("  %-62s %8.2f ms\n", what, m);
}

static void ratio(const char *what, const samples *num, const samples *den, const char *goal) {
  double d = median(den);
  printf("  %-62s %7.2fx%s%s\n", what, d > 0 ? median(num) / d : 0.0, *goal ? "   " : "", goal);
}

static void print_table(const bench *b, const figures *f, int reps) {
  double rtt = 2.0 * b->delay_ms; /* 0: no delay proxy, no RTT column */
  printf("alternative-service race: Caddy h1/h2/h3 behind %u ms each way (RTT %.0f ms), "
         "medians of %d\n",
         b->delay_ms, 2.0 * b->delay_ms, reps);
  printf("ratios\n");
  ratio("A first request: QUIC blackholed / no Alt-Svc", &f->a_bh_first, &f->a_none_first,
        "(goal ~1)");
  ratio("A' first after restart, QUIC had worked, now blackholed / none", &f->a_bh_worked,
        &f->a_none_first, "(0-RTT binds at once: handshake timeout 1 s)");
  ratio("A later requests: QUIC broken / no Alt-Svc", &f->a_bh_later, &f->a_none_later,
        "(goal 1: QUIC skipped)");
  ratio("B TTFB: first h3 request (Alt-Svc) / first request (h2)", &f->b_h3, &f->b_h2_first, "");
  ratio("B TTFB: first after restart (h3 0-RTT) / fresh engine (h2)", &f->b_restart, &f->b_h2_first,
        "");
  printf("absolute medians (A: start to end of body; B: time to first byte)\n");
  row("A first request, no Alt-Svc known (h2)", &f->a_none_first, rtt);
  row("A first request, QUIC hint blackholed (race, h2 wins)", &f->a_bh_first, rtt);
  row("A' first after restart, QUIC had worked, now blackholed", &f->a_bh_worked, rtt);
  row("A later requests, no Alt-Svc (h2 reused)", &f->a_none_later, rtt);
  row("A later requests, alternative broken (h2 reused)", &f->a_bh_later, rtt);
  row("B first request, fresh engine (h2: TCP + TLS + request)", &f->b_h2_first, rtt);
  row("B first request served over h3 (QUIC session up)", &f->b_h3, rtt);
  row("B first request after restart (h3, 0-RTT)", &f->b_restart, rtt);
  samples nos = {0};
  for (int i = 0; i < reps; i++)
    if (f->b_h3_request_no[i] > 0)
      add(&nos, f->b_h3_request_no[i]);
  printf("checks: UDP datagrams while broken %llu (want 0); first h3 request is #%.0f "
         "(median); 0-RTT on %d/%d restarts; unexpected outcomes %d\n",
         (unsigned long long)f->a_later_datagrams, median(&nos), f->b_zero_rtt, reps, b->problems);
  if (f->a_worked_failures)
    printf("FAILED: A' (restart where QUIC had worked, UDP blackholed): %d/%d first requests "
           "failed with %s instead of falling back to TCP\n",
           f->a_worked_failures, reps, cronc_error_name(f->a_worked_error));
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 7;
  int delay = argc > 2 ? atoi(argv[2]) : 25;
  if (reps < 1 || reps > MAX_REPS || delay < 0 || delay > 1000) {
    fprintf(stderr, "usage: bench_altsvc [REPS 1..%d] [DELAY_MS 0..1000]\n", MAX_REPS);
    return 2;
  }
  if (!caddy_available()) {
    fprintf(stderr, "bench_altsvc: %s not found\n", CADDY_BINARY);
    return 1;
  }
  bench *b = &g_bench;
  static figures f;
  b->delay_ms = (unsigned)delay;
  atexit(stop_at_exit);
  if (bench_start(b) != 0) {
    fprintf(stderr, "bench_altsvc: setup failed\n");
    bench_stop(b);
    return 1;
  }
  char store[300];
  snprintf(store, sizeof store, "%.255s/store", b->tmp);
  if (!prime_storage(b, store)) {
    fprintf(stderr, "bench_altsvc: QUIC never worked through the proxy\n");
    bench_stop(b);
    return 1;
  }
  char pristine[320], cmd[700];
  snprintf(pristine, sizeof pristine, "%.255s/pristine", b->tmp);
  snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", store, pristine);
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_altsvc: %s failed\n", cmd);
    bench_stop(b);
    return 1;
  }
  for (int i = 0; i < reps; i++) {
    run_a(b, &f, i);
    run_a_worked(b, &f, pristine, i);
    run_b_fresh(b, &f, i);
    run_b_restart(b, &f, store, i);
  }
  print_table(b, &f, reps);
  bench_stop(b);
  return 0;
}
