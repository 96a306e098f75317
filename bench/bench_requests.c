/* Many small requests through the public API with a fixed number in
 * flight, like `h2load -n N -c 1 -m M`: one engine, one HTTP/2 connection.
 * Prints requests/s, and the process CPU time (user + system) per request so
 * it can be set beside h2load's in one run (scripts/bench-transport).
 *
 * usage: bench_requests URL N INFLIGHT CA_FILE */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cronc/cronc.h"

typedef struct bench {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  cronc_engine *engine;
  const char *url;
  int total, started, finished, failed;
  int64_t bytes;
} bench;

typedef struct slot {
  bench *b;
  cronc_request *req;
  uint8_t buf[16384];
} slot;

static void launch(slot *s);

static void finished(slot *s, bool ok) {
  bench *b = s->b;
  pthread_mutex_lock(&b->mu);
  b->finished++;
  if (!ok)
    b->failed++;
  bool more = b->started < b->total;
  if (more)
    b->started++;
  if (b->finished == b->total)
    pthread_cond_signal(&b->cv); /* wake the main thread once, at the end */
  pthread_mutex_unlock(&b->mu);
  cronc_request_free(s->req);
  s->req = NULL;
  if (more)
    launch(s);
}

static void on_started(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)i;
  cronc_request_read(r, ((slot *)ud)->buf, sizeof((slot *)ud)->buf);
}
static void on_read(cronc_request *r, void *ud, const cronc_response_info *i, uint8_t *buf,
                    size_t n) {
  (void)i;
  (void)buf;
  slot *s = ud;
  s->b->bytes += (int64_t)n;
  cronc_request_read(r, s->buf, sizeof s->buf);
}
static void on_ok(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)r;
  (void)i;
  finished(ud, true);
}
static void on_fail(cronc_request *r, void *ud, const cronc_response_info *i, int e) {
  (void)r;
  (void)i;
  (void)e;
  finished(ud, false);
}
static void on_cancel(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)r;
  (void)i;
  finished(ud, false);
}

static const cronc_request_callbacks CBS = {NULL, on_started, on_read, on_ok, on_fail, on_cancel};

static void launch(slot *s) {
  if (cronc_request_new(s->b->engine, s->b->url, NULL, &CBS, s, &s->req) != CRONC_OK ||
      cronc_request_start(s->req) != CRONC_OK) {
    fprintf(stderr, "bench_requests: cannot start a request\n");
    exit(1);
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: bench_requests URL N INFLIGHT CA_FILE\n");
    return 2;
  }
  bench b = {.url = argv[1], .total = atoi(argv[2])};
  int inflight = atoi(argv[3]);
  pthread_mutex_init(&b.mu, NULL);
  pthread_cond_init(&b.cv, NULL);
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = argv[4];
  /* This is the HTTP/2 side of the comparison with h2load: Caddy's Alt-Svc
   * would otherwise move the requests to HTTP/3 after the first one
   * (bench_h3 measures that). */
  p.enable_quic = false;
  if (cronc_engine_new(&p, &b.engine) != CRONC_OK)
    return 1;
  /* One request first, so the connection exists (h2load connects first too). */
  slot *slots = calloc((size_t)inflight, sizeof *slots);
  double t0 = now_s(), c0 = cpu_s();
  pthread_mutex_lock(&b.mu);
  b.started = inflight < b.total ? inflight : b.total;
  pthread_mutex_unlock(&b.mu);
  for (int i = 0; i < inflight && i < b.total; i++) {
    slots[i].b = &b;
    launch(&slots[i]);
  }
  pthread_mutex_lock(&b.mu);
  while (b.finished < b.total)
    pthread_cond_wait(&b.cv, &b.mu);
  pthread_mutex_unlock(&b.mu);
  double wall = now_s() - t0, cpu = cpu_s() - c0;
  printf("requests %d failed %d bytes %lld wall %.3f s req/s %.0f cpu %.3f s cpu/req %.1f us\n",
         b.total, b.failed, (long long)b.bytes, wall, b.total / wall, cpu, cpu / b.total * 1e6);
  cronc_engine_free(b.engine);
  free(slots);
  return b.failed ? 1 : 0;
}
