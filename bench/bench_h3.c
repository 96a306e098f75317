/* HTTP/3 against HTTP/2 from the same server, one measurement per process so
 * that the client's own CPU (user + system) and peak RSS can be read by the
 * driver (scripts/bench-quic runs each mode under /usr/bin/time).
 *
 *   bench_h3 get  h3|h3api|h2 URL CA_FILE
 *       one download, body discarded (64 KB reads);
 *   bench_h3 many h3|h3api|h2 URL N INFLIGHT CA_FILE
 *       N requests with INFLIGHT outstanding over one connection.
 *
 * h3:    the quic/ session pool directly, on a libuv loop in this thread
 *        (what the QUIC layer itself costs);
 * h3api: the public API with http3_only (engine thread + callbacks);
 * h2:    the public API with QUIC disabled (stream factory + network layer).
 * Each prints one line: bytes, requests, failures, wall, cpu, cpu/request. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/thread.h"
#include "cronc/cronc.h"
#include "dns/host_resolver.h"
#include "quic/quic_session_pool.h"
#include "socket/tls_context.h"
#include "url/url.h"

#define READ_BUF 65536

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct result {
  int total, failed;
  long long bytes;
} result;

/* ---- h3 over the session pool --------------------------------------------------------- */

typedef struct pool_bench pool_bench;

typedef struct pslot {
  pool_bench *b;
  url u;
  h1_headers hdrs;
  http_request_info req;
  quic_pool_request *preq;
  http_stream *st;
  uint8_t *buf;
} pslot;

struct pool_bench {
  quic_pool *pool;
  const char *dest_host;
  uint16_t dest_port;
  int total, started, finished, failed;
  long long bytes;
};

static void pslot_launch(pslot *s);

static void pslot_done(pslot *s, int rv) {
  pool_bench *b = s->b;
  if (s->st) {
    s->st->vt->close(s->st, rv != 0);
    s->st = NULL;
  }
  b->finished++;
  if (rv != 0)
    b->failed++;
  if (b->started < b->total) {
    b->started++;
    pslot_launch(s);
  }
}

static void pslot_on_body(void *ud, int rv);

static void pslot_read(pslot *s) {
  for (;;) {
    int rv = s->st->vt->read_body(s->st, s->buf, READ_BUF, pslot_on_body, s);
    if (rv == CRONC_ERR_IO_PENDING)
      return;
    if (rv <= 0) {
      pslot_done(s, rv);
      return;
    }
    s->b->bytes += rv;
  }
}

static void pslot_on_body(void *ud, int rv) {
  pslot *s = ud;
  if (rv <= 0) {
    pslot_done(s, rv);
    return;
  }
  s->b->bytes += rv;
  pslot_read(s);
}

static void pslot_on_headers(void *ud, int rv) {
  pslot *s = ud;
  if (rv != 0) {
    pslot_done(s, rv);
    return;
  }
  if (s->st->vt->response_headers(s->st)->status != 200) {
    pslot_done(s, CRONC_ERR_FAILED);
    return;
  }
  pslot_read(s);
}

static void pslot_after_send(pslot *s) {
  int rv = s->st->vt->read_response_headers(s->st, pslot_on_headers, s);
  if (rv != CRONC_ERR_IO_PENDING)
    pslot_on_headers(s, rv);
}

static void pslot_on_sent(void *ud, int rv) {
  pslot *s = ud;
  if (rv != 0) {
    pslot_done(s, rv);
    return;
  }
  pslot_after_send(s);
}

static void pslot_on_stream(void *ud, int rv, http_stream *st) {
  pslot *s = ud;
  s->preq = NULL;
  if (rv != 0) {
    pslot_done(s, rv);
    return;
  }
  s->st = st;
  rv = st->vt->send_request(st, &s->req, pslot_on_sent, s);
  if (rv == CRONC_ERR_IO_PENDING)
    return;
  if (rv != 0) {
    pslot_done(s, rv);
    return;
  }
  pslot_after_send(s);
}

static void pslot_launch(pslot *s) {
  pool_bench *b = s->b;
  int rv = quic_pool_request_stream(b->pool, &s->req, false, b->dest_host, b->dest_port,
                                    pslot_on_stream, s, &s->preq);
  if (rv != CRONC_ERR_IO_PENDING)
    pslot_done(s, rv);
}

static int run_pool(const char *spec, int total, int inflight, const char *ca, result *out) {
  uv_loop_t loop;
  base_runner *runner = NULL;
  tls_context *tls = NULL;
  dns_resolver *dns = NULL;
  if (uv_loop_init(&loop) != 0 || base_runner_new_on_loop(&loop, &runner) != 0)
    return 1;
  tls_context_params tp;
  tls_context_params_init(&tp);
  tp.extra_ca_file = ca;
  if (tls_context_new(&tp, &tls) != 0 || dns_resolver_new(runner, NULL, NULL, &dns) != 0)
    return 1;
  quic_pool_params p;
  quic_pool_params_init(&p);
  p.runner = runner;
  p.tls = tls;
  p.resolver = dns;
  pool_bench b = {.total = total};
  if (quic_pool_new(&p, &b.pool) != 0)
    return 1;
  pslot *slots = calloc((size_t)inflight, sizeof *slots);
  if (!slots)
    return 1;
  for (int i = 0; i < inflight; i++) {
    pslot *s = &slots[i];
    s->b = &b;
    if (url_parse(spec, strlen(spec), &s->u) != 0) {
      fprintf(stderr, "bench_h3: bad URL %s\n", spec);
      return 2;
    }
    h1_headers_init(&s->hdrs);
    s->req.url = &s->u;
    s->req.method = "GET";
    s->req.headers = &s->hdrs;
    s->buf = malloc(READ_BUF);
    if (!s->buf)
      return 1;
  }
  b.dest_host = slots[0].u.host;
  b.dest_port = slots[0].u.port;
  b.started = inflight < total ? inflight : total;
  for (int i = 0; i < b.started; i++)
    pslot_launch(&slots[i]);
  while (b.finished < b.total)
    uv_run(&loop, UV_RUN_ONCE);
  out->total = b.total;
  out->failed = b.failed;
  out->bytes = b.bytes;
  quic_pool_free(b.pool);
  for (int i = 0; i < 20; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  dns_resolver_free(dns);
  for (int i = 0; i < 20; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  base_runner_free(runner);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
  tls_context_free(tls);
  for (int i = 0; i < inflight; i++) {
    url_free(&slots[i].u);
    h1_headers_free(&slots[i].hdrs);
    free(slots[i].buf);
  }
  free(slots);
  return 0;
}

/* ---- h2 / h3api over the public API --------------------------------------------------- */

typedef struct api_bench {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  cronc_engine *engine;
  const char *url;
  int total, started, finished, failed;
  long long bytes;
} api_bench;

typedef struct aslot {
  api_bench *b;
  cronc_request *req;
  uint8_t *buf;
} aslot;

static void aslot_launch(aslot *s);

static void aslot_done(aslot *s, bool ok) {
  api_bench *b = s->b;
  pthread_mutex_lock(&b->mu);
  b->finished++;
  if (!ok)
    b->failed++;
  bool more = b->started < b->total;
  if (more)
    b->started++;
  if (b->finished == b->total)
    pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
  cronc_request_free(s->req);
  s->req = NULL;
  if (more)
    aslot_launch(s);
}

static void a_started(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)i;
  cronc_request_read(r, ((aslot *)ud)->buf, READ_BUF);
}
static void a_read(cronc_request *r, void *ud, const cronc_response_info *i, uint8_t *buf,
                   size_t n) {
  (void)i;
  (void)buf;
  aslot *s = ud;
  s->b->bytes += (long long)n; /* only the engine's thread calls back */
  cronc_request_read(r, s->buf, READ_BUF);
}
static void a_ok(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)r;
  (void)i;
  aslot_done(ud, true);
}
static void a_fail(cronc_request *r, void *ud, const cronc_response_info *i, int e) {
  (void)r;
  (void)i;
  fprintf(stderr, "bench_h3: request failed: %s\n", cronc_error_name(e));
  aslot_done(ud, false);
}
static void a_cancel(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)r;
  (void)i;
  aslot_done(ud, false);
}

static const cronc_request_callbacks ACBS = {NULL, a_started, a_read, a_ok, a_fail, a_cancel};

static void aslot_launch(aslot *s) {
  if (cronc_request_new(s->b->engine, s->b->url, NULL, &ACBS, s, &s->req) != CRONC_OK ||
      cronc_request_start(s->req) != CRONC_OK) {
    fprintf(stderr, "bench_h3: cannot start a request\n");
    exit(1);
  }
}

static int run_api(bool h3, const char *spec, int total, int inflight, const char *ca,
                   result *out) {
  api_bench b = {.url = spec, .total = total};
  pthread_mutex_init(&b.mu, NULL);
  pthread_cond_init(&b.cv, NULL);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = ca;
  p.enable_quic = h3;
  p.http3_only = h3;
  if (cronc_engine_new(&p, &b.engine) != CRONC_OK)
    return 1;
  aslot *slots = calloc((size_t)inflight, sizeof *slots);
  if (!slots)
    return 1;
  pthread_mutex_lock(&b.mu);
  b.started = inflight < total ? inflight : total;
  int n = b.started;
  pthread_mutex_unlock(&b.mu);
  for (int i = 0; i < n; i++) {
    slots[i].b = &b;
    slots[i].buf = malloc(READ_BUF);
    if (!slots[i].buf)
      return 1;
    aslot_launch(&slots[i]);
  }
  pthread_mutex_lock(&b.mu);
  while (b.finished < b.total)
    pthread_cond_wait(&b.cv, &b.mu);
  pthread_mutex_unlock(&b.mu);
  out->total = b.total;
  out->failed = b.failed;
  out->bytes = b.bytes;
  cronc_engine_free(b.engine);
  for (int i = 0; i < inflight; i++)
    free(slots[i].buf);
  free(slots);
  return 0;
}

int main(int argc, char **argv) {
  bool get = argc == 5 && strcmp(argv[1], "get") == 0;
  bool many = argc == 7 && strcmp(argv[1], "many") == 0;
  if (!get && !many) {
    fprintf(stderr, "usage: bench_h3 get h3|h3api|h2 URL CA_FILE\n"
                    "       bench_h3 many h3|h3api|h2 URL N INFLIGHT CA_FILE\n");
    return 2;
  }
  const char *proto = argv[2], *spec = argv[3], *ca = argv[get ? 4 : 6];
  int total = get ? 1 : atoi(argv[4]);
  int inflight = get ? 1 : atoi(argv[5]);
  if (total <= 0 || inflight <= 0)
    return 2;
  result r = {0};
  double t0 = now_s(), c0 = cpu_s();
  int rv;
  if (strcmp(proto, "h3") == 0)
    rv = run_pool(spec, total, inflight, ca, &r);
  else if (strcmp(proto, "h3api") == 0)
    rv = run_api(true, spec, total, inflight, ca, &r);
  else if (strcmp(proto, "h2") == 0)
    rv = run_api(false, spec, total, inflight, ca, &r);
  else
    return 2;
  if (rv != 0) {
    fprintf(stderr, "bench_h3: setup failed\n");
    return rv;
  }
  double wall = now_s() - t0, cpu = cpu_s() - c0;
  printf("%s %s requests %d failed %d bytes %lld wall %.3f s req/s %.0f cpu %.3f s cpu/req "
         "%.1f us\n",
         argv[1], proto, r.total, r.failed, r.bytes, wall, r.total / wall, cpu,
         cpu / r.total * 1e6);
  return r.failed ? 1 : 0;
}
