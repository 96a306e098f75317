/* bench_cache_api: N sequential requests for one URL through the public API
 * with the HTTP cache in memory, on disk, or off (every request a network
 * round trip), so that a cache hit can be set beside a round trip to a real
 * server (scripts/bench-cache runs it against Caddy on loopback). The first
 * request fills the cache and is not counted.
 *
 * usage: bench_cache_api URL CA_FILE off|memory|disk N [STORAGE_DIR] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cronc/cronc.h"

typedef struct one {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool done;
  int error;
  bool cached;
  uint8_t buf[65536];
} one;

static void finish(one *o, const cronc_response_info *info, int error) {
  pthread_mutex_lock(&o->mu);
  o->error = error;
  o->cached = info && info->was_cached;
  o->done = true;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
}
static void on_started(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)i;
  cronc_request_read(r, ((one *)ud)->buf, sizeof ((one *)ud)->buf);
}
static void on_read(cronc_request *r, void *ud, const cronc_response_info *i, uint8_t *b, size_t n) {
  (void)i;
  (void)b;
  (void)n;
  cronc_request_read(r, ((one *)ud)->buf, sizeof ((one *)ud)->buf);
}
static void on_ok(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)r;
  finish(ud, i, 0);
}
static void on_fail(cronc_request *r, void *ud, const cronc_response_info *i, int e) {
  (void)r;
  finish(ud, i, e);
}
static void on_cancel(cronc_request *r, void *ud, const cronc_response_info *i) {
  (void)r;
  finish(ud, i, CRONC_ERR_ABORTED);
}

static const cronc_request_callbacks cbs = {NULL, on_started, on_read, on_ok, on_fail, on_cancel};

static int fetch_one(cronc_engine *e, const char *url, bool *cached) {
  one o = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  cronc_request *r = NULL;
  if (cronc_request_new(e, url, NULL, &cbs, &o, &r) != CRONC_OK || cronc_request_start(r) != 0)
    return -1;
  pthread_mutex_lock(&o.mu);
  while (!o.done)
    pthread_cond_wait(&o.cv, &o.mu);
  pthread_mutex_unlock(&o.mu);
  cronc_request_free(r);
  *cached = o.cached;
  return o.error;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: bench_cache_api URL CA_FILE off|memory|disk N [STORAGE_DIR]\n");
    return 2;
  }
  cronc_engine_params p;
  cronc_engine_params_init(&p);
  p.extra_ca_file = argv[2];
  p.enable_quic = false;
  if (strcmp(argv[3], "memory") == 0)
    p.http_cache_mode = CRONC_HTTP_CACHE_IN_MEMORY;
  else if (strcmp(argv[3], "disk") == 0) {
    p.http_cache_mode = CRONC_HTTP_CACHE_DISK;
    p.storage_path = argc > 5 ? argv[5] : NULL;
  }
  int n = atoi(argv[4]);
  cronc_engine *e = NULL;
  if (cronc_engine_new(&p, &e) != CRONC_OK)
    return 1;
  bool cached;
  if (fetch_one(e, argv[1], &cached) != 0)
    return 1;
  int hits = 0;
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    if (fetch_one(e, argv[1], &cached) != 0)
      return 1;
    hits += cached;
  }
  double wall = now_s() - t0;
  printf("%s requests %d hits %d wall %.3f s req/s %.0f us/req %.2f\n", argv[3], n, hits, wall,
         n / wall, wall / n * 1e6);
  cronc_engine_free(e);
  return 0;
}
